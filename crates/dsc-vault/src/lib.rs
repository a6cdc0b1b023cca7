// SPDX-License-Identifier: Apache-2.0
//! Secrets, kept apart from everything else.
//!
//! Invariant: a secret value leaves the vault only through [`Vault::resolve`]; it is never logged (see
//! [`SecretString`]), never written to the database, never returned by an API. Other components hold the key
//! (the "reference") only.

pub mod envelope;
mod file;
mod secret;

use async_trait::async_trait;

pub use file::{EncryptedFileVault, VaultKey};
pub use secret::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault key is invalid: {0}")]
    InvalidKey(String),
    #[error("vault file {path} cannot be used: {reason}")]
    Storage { path: String, reason: String },
    /// The file was written with another key or has been tampered with.
    #[error("secret '{0}' cannot be decrypted with the configured vault key")]
    Decrypt(String),
    /// A secret sealed by a vault key this process was not given (a rotation step skipped, or the wrong key).
    #[error(
        "secret '{secret}' is sealed with vault key {key_id}, which is neither the vault key nor one of the previous keys"
    )]
    UnknownKey { secret: String, key_id: String },
    /// The vault's store (the database) cannot be reached just now.
    #[error("vault storage is unavailable: {0}")]
    Unavailable(String),
    #[error("secret key must be 1 to 256 characters of [A-Za-z0-9._:/-]; got '{0}'")]
    InvalidSecretKey(String),
}

#[async_trait]
pub trait Vault: Send + Sync {
    async fn resolve(&self, key: &str) -> Result<Option<SecretString>, VaultError>;
    /// Creates or replaces the secret.
    async fn store(&self, key: &str, value: SecretString) -> Result<(), VaultError>;
    /// Returns whether a secret was removed.
    async fn delete(&self, key: &str) -> Result<bool, VaultError>;
    /// The keys, sorted; never the values.
    async fn keys(&self) -> Result<Vec<String>, VaultError>;
    /// Stores `value` unless the key holds a secret already, and returns what the key holds afterwards. Secrets a
    /// connector generates once (its signing key, token secrets) go through this, so replicas starting together on
    /// a shared vault all end up with the same one. The default suits a vault one process owns.
    async fn store_if_absent(&self, key: &str, value: SecretString) -> Result<SecretString, VaultError> {
        if let Some(existing) = self.resolve(key).await? {
            return Ok(existing);
        }
        self.store(key, value.clone()).await?;
        Ok(value)
    }
}

/// Checks a secret key: keys end up in file names, URLs and logs, so they are plain identifiers.
pub fn validate_secret_key(key: &str) -> Result<(), VaultError> {
    let valid =
        !key.is_empty() && key.len() <= 256 && key.chars().all(|c| c.is_ascii_alphanumeric() || "._:/-".contains(c));
    if valid { Ok(()) } else { Err(VaultError::InvalidSecretKey(key.to_string())) }
}

#[cfg(test)]
mod contract_tests;
