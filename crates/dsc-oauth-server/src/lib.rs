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
pub use keys::{KeyRing, SigningKey};

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
    /// The signing key and the rotated keys still published (see [`OAuthServer::rotate_if_due`]).
    pub keys: std::sync::RwLock<keys::KeyRing>,
    pub store: Arc<dyn OAuthServerStore>,
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Reads the key ring from the vault, creating it (or adopting a key kept before rotation existed) when missing.
pub async fn load_keys(vault: &dyn dsc_vault::Vault) -> Result<keys::StoredKeys, ServerError> {
    let read = |e: dsc_vault::VaultError| ServerError::Key(format!("vault: {e}"));
    if let Some(text) = vault.resolve(keys::KEYS_VAULT_KEY).await.map_err(read)? {
        return serde_json::from_str(text.expose()).map_err(|e| ServerError::Key(format!("stored key ring: {e}")));
    }
    let pem = match vault.resolve(keys::LEGACY_VAULT_KEY).await.map_err(read)? {
        Some(pem) => pem.expose().to_string(),
        None => keys::generate_pem()?,
    };
    let stored = keys::StoredKeys {
        current: keys::StoredKey { pem, created_at: unix_now(), retire_at: None },
        previous: vec![],
        next: None,
    };
    // Replicas starting together on a shared vault keep whichever ring was stored first.
    let text = serde_json::to_string(&stored).map_err(|e| ServerError::Key(e.to_string()))?;
    let kept = vault.store_if_absent(keys::KEYS_VAULT_KEY, dsc_vault::SecretString::new(text)).await.map_err(read)?;
    serde_json::from_str(kept.expose()).map_err(|e| ServerError::Key(format!("stored key ring: {e}")))
}

async fn save_keys(vault: &dyn dsc_vault::Vault, stored: &keys::StoredKeys) -> Result<(), ServerError> {
    let text = serde_json::to_string(stored).map_err(|e| ServerError::Key(e.to_string()))?;
    vault
        .store(keys::KEYS_VAULT_KEY, dsc_vault::SecretString::new(text))
        .await
        .map_err(|e| ServerError::Key(format!("vault: {e}")))
}

impl OAuthServer {
    /// One rotation check with keys at most `max_age_seconds` old (0: never rotate), in two phases (see
    /// [`keys::rotation_step`]): the next key is published `publish_ahead_seconds` before it signs; once it signs,
    /// the old key stays published until its tokens expired. The vault gets each new ring before this server uses
    /// it, and a check that changes nothing still takes up the ring the vault holds (another replica's rotation).
    /// Returns whether the signing key changed.
    pub async fn rotate_if_due(
        &self,
        vault: &dyn dsc_vault::Vault,
        max_age_seconds: i64,
        publish_ahead_seconds: i64,
    ) -> Result<bool, ServerError> {
        let now = unix_now();
        let mut stored = load_keys(vault).await?;
        let mut promoted = false;
        // At most both phases in one check (when nothing needs to be published ahead).
        for _ in 0..2 {
            match keys::rotation_step(&stored, max_age_seconds, publish_ahead_seconds, now) {
                keys::RotationStep::Nothing => break,
                keys::RotationStep::PublishNext => {
                    stored = keys::with_next(&stored, now)?;
                    save_keys(vault, &stored).await?;
                    tracing::info!(
                        "published the OAuth server's next signing key; it signs in {publish_ahead_seconds} s at the earliest"
                    );
                }
                keys::RotationStep::Promote => {
                    stored = keys::rotated(&stored, self.access_token_seconds, now)?;
                    save_keys(vault, &stored).await?;
                    promoted = true;
                    break;
                }
            }
        }
        let ring = keys::KeyRing::from_stored(&stored, now)?;
        if promoted {
            tracing::info!(kid = %ring.current.kid, "rotated the OAuth server's signing key; the old one stays published until its tokens expire");
        }
        if let Ok(mut keys) = self.keys.write() {
            *keys = ring;
        }
        Ok(promoted)
    }
}
