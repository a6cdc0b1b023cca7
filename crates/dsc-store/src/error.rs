// SPDX-License-Identifier: Apache-2.0

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{entity} with id '{id}' already exists")]
    AlreadyExists { entity: &'static str, id: String },
    #[error("{entity} with id '{id}' does not exist")]
    NotFound { entity: &'static str, id: String },
    /// The query cannot be expressed: `path` names the offending part of the QuerySpec.
    #[error("{message}")]
    InvalidQuery { message: String, path: String },
    /// The database cannot be reached right now; the call may succeed later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(String),
    /// Another holder processes the entity right now (its lease has not expired).
    #[error("{entity} '{id}' is being processed by {holder}")]
    LeaseHeld { entity: &'static str, id: String, holder: String },
    #[error("stored {entity} '{id}' cannot be read: {reason}")]
    Corrupt { entity: &'static str, id: String, reason: String },
}

impl StoreError {
    pub(crate) fn from_sqlx(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error.to_string()),
            sqlx::Error::Database(db) => {
                // PostgreSQL classes 08 (connection exception) and 57 (operator intervention, e.g. shutdown).
                let code = db.code().map(|c| c.to_string()).unwrap_or_default();
                if code.starts_with("08") || code.starts_with("57") {
                    StoreError::Unavailable(error.to_string())
                } else {
                    StoreError::Database(error.to_string())
                }
            }
            _ => StoreError::Database(error.to_string()),
        }
    }
}
