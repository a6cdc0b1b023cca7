// SPDX-License-Identifier: Apache-2.0

use dsc_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("Object of type {kind} with ID={id} was not found")]
    NotFound { kind: &'static str, id: String },
    #[error("Object of type {kind} with ID={id} already exists")]
    AlreadyExists { kind: &'static str, id: String },
    /// The entity cannot be removed while others refer to it.
    #[error("{kind} {id} cannot be deleted as it is referenced by {referrers}")]
    Referenced { kind: &'static str, id: String, referrers: String },
    #[error("{message}")]
    InvalidQuery { message: String, path: String },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::AlreadyExists { entity, id } => ServiceError::AlreadyExists { kind: entity, id },
            StoreError::NotFound { entity, id } => ServiceError::NotFound { kind: entity, id },
            StoreError::InvalidQuery { message, path } => ServiceError::InvalidQuery { message, path },
            StoreError::Unavailable(reason) => ServiceError::Unavailable(reason),
            // A held lease reaching a service means two writers raced; retrying later is the answer.
            other @ StoreError::LeaseHeld { .. } => ServiceError::Unavailable(other.to_string()),
            other @ (StoreError::Database(_) | StoreError::Corrupt { .. }) => ServiceError::Internal(other.to_string()),
        }
    }
}
