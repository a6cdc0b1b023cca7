// SPDX-License-Identifier: Apache-2.0
//! The built-in OAuth 2.0 authorization server, so that one binary can issue the Kafka credentials of its
//! transfers without an external IdP.
//!
//! - RFC 8414 metadata (`/.well-known/oauth-authorization-server`, also under the OpenID name) and a JWKS.
//! - RFC 7591 registration behind an initial access token, RFC 7592 read and delete with the registration token.
//! - `/token`: `client_credentials` and `refresh_token` (rotation; a rotated token used again revokes its whole
//!   family), client authentication by `client_secret_basic` or `client_secret_post`.
//! - RFC 7009 revocation and RFC 7662 introspection.
//!
//! Access tokens are ES256 JWTs (`iss`, `sub` = the client id, which is the principal the broker sees, `aud`,
//! `exp`, `iat`, `jti`, `scope`, `client_id`, header `kid`). Client secrets, registration and refresh tokens are
//! stored as SHA-256 hashes only.

mod endpoints;
pub mod keys;

use std::sync::Arc;

use dsc_store::OAuthServerStore;

pub use endpoints::router;
pub use keys::SigningKey;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("signing key: {0}")]
    Key(String),
}

/// The RFC 7591 initial access token: a fixed value (tests) or a vault key.
pub enum InitialAccessToken {
    Fixed(String),
    Vault { vault: Arc<dyn dsc_vault::Vault>, key: String },
}

impl InitialAccessToken {
    /// The current value; `None` when it cannot be read (registration is then refused).
    pub async fn current(&self) -> Option<String> {
        match self {
            InitialAccessToken::Fixed(value) => Some(value.clone()),
            InitialAccessToken::Vault { vault, key } => match vault.resolve(key).await {
                Ok(secret) => secret.map(|s| s.expose().to_string()),
                Err(error) => {
                    tracing::warn!(vault_key = %key, "cannot read the initial access token: {error}");
                    None
                }
            },
        }
    }
}

/// Settings and state of the server; cheap to share.
pub struct OAuthServer {
    /// The issuer URL, as clients and the broker reach the server.
    pub issuer: String,
    /// The audience of every access token (the Kafka broker).
    pub audience: String,
    pub scope: String,
    pub access_token_seconds: i64,
    pub refresh_token_seconds: i64,
    /// Where the RFC 7591 initial access token lives: read at every registration, so replacing the secret in the
    /// vault (`PUT /v3/secrets`) rotates it without a restart.
    pub initial_access_token: InitialAccessToken,
    pub key: SigningKey,
    pub store: Arc<dyn OAuthServerStore>,
}
