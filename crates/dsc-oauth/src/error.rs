// SPDX-License-Identifier: Apache-2.0

/// Why an OAuth call failed. `Refused` carries the standard error code the server answered with
/// (`invalid_client`, `invalid_grant`, `invalid_token`, ...), so callers can tell a revoked credential from an
/// outage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// The server cannot be reached, timed out or answered 5xx, after every retry.
    #[error("authorization server unavailable at {endpoint}: {reason}")]
    Unavailable { endpoint: String, reason: String },
    /// The server refused the request (4xx).
    #[error("authorization server refused ({status} {code}){}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused { status: u16, code: String, description: Option<String> },
    /// The server answered something that is not what the standard prescribes.
    #[error("authorization server answered unexpectedly: {0}")]
    Malformed(String),
}

impl OAuthError {
    /// The OAuth error code of a refusal (`invalid_client`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            OAuthError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}
