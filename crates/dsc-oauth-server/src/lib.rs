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
    /// Rotates the signing key when it is older than `max_age_seconds` (0: never): the vault gets the new ring
    /// first, then the server signs with the new key and keeps publishing the old one until its tokens expired.
    /// Returns whether it rotated.
    pub async fn rotate_if_due(&self, vault: &dyn dsc_vault::Vault, max_age_seconds: i64) -> Result<bool, ServerError> {
        let now = unix_now();
        let stored = load_keys(vault).await?;
        if !keys::rotation_due(&stored, max_age_seconds, now) {
            // Another replica sharing the (database) vault may have rotated: sign with what the vault holds now.
            let ring = keys::KeyRing::from_stored(&stored, now)?;
            if let Ok(mut keys) = self.keys.write() {
                *keys = ring;
            }
            return Ok(false);
        }
        let next = keys::rotated(&stored, self.access_token_seconds, now)?;
        save_keys(vault, &next).await?;
        let ring = keys::KeyRing::from_stored(&next, now)?;
        tracing::info!(kid = %ring.current.kid, "rotated the OAuth server's signing key; the old one stays published until its tokens expire");
        if let Ok(mut keys) = self.keys.write() {
            *keys = ring;
        }
        Ok(true)
    }
}
