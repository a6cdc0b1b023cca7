// SPDX-License-Identifier: Apache-2.0
//! The embedded vault: one JSON file of ChaCha20-Poly1305 ciphertexts.
//!
//! Each secret has its own random nonce and is bound to its key name as associated data, so ciphertexts cannot
//! be swapped between names. The encryption key comes from configuration (a file or an environment variable),
//! never from the database. Writes go to a temporary file that is synced and renamed over the old one, so a
//! crash leaves either the old or the new vault, never a torn one. Ciphertexts stay encrypted in memory until
//! a secret is resolved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use crate::{SecretString, Vault, VaultError, validate_secret_key};

/// The 256-bit vault key.
#[derive(Clone)]
pub struct VaultKey([u8; 32]);

impl std::fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKey(***)")
    }
}

impl VaultKey {
    /// A key given as base64 text (44 characters for 32 bytes).
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        let bytes = BASE64.decode(text.trim()).map_err(|e| VaultError::InvalidKey(format!("not base64: {e}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| VaultError::InvalidKey(format!("expected 32 bytes, got {}", b.len())))?;
        Ok(VaultKey(bytes))
    }

    /// Reads a key file (base64 text). When the file does not exist and `create` is set, a new random key is
    /// written there, readable by the owner only.
    pub fn from_file(path: &Path, create: bool) -> Result<Self, VaultError> {
        let storage = |reason: String| VaultError::Storage { path: path.display().to_string(), reason };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let key = Self::generate();
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| storage(e.to_string()))?;
                }
                write_private(path, BASE64.encode(key.0).as_bytes()).map_err(|e| storage(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(storage(e.to_string())),
        }
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        VaultKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Sealed {
    nonce: String,
    ciphertext: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct VaultFile {
    version: u32,
    secrets: BTreeMap<String, Sealed>,
}

pub struct EncryptedFileVault {
    path: PathBuf,
    cipher: ChaCha20Poly1305,
    secrets: Arc<Mutex<BTreeMap<String, Sealed>>>,
}

impl EncryptedFileVault {
    /// Opens (or starts) the vault file and checks that every stored secret decrypts with `key`, so a wrong key
    /// fails at start rather than at first use.
    pub async fn open(path: impl Into<PathBuf>, key: VaultKey) -> Result<Self, VaultError> {
        let path = path.into();
        let storage = |reason: String| VaultError::Storage { path: path.display().to_string(), reason };
        let file: VaultFile = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| storage(format!("not a vault file: {e}")))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => VaultFile { version: 1, ..Default::default() },
            Err(e) => return Err(storage(e.to_string())),
        };
        let vault = EncryptedFileVault {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key.0)),
            path,
            secrets: Arc::new(Mutex::new(file.secrets)),
        };
        let secrets = vault.secrets.lock().await;
        for (name, sealed) in secrets.iter() {
            vault.open_sealed(name, sealed)?;
        }
        drop(secrets);
        Ok(vault)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn seal(&self, name: &str, value: &SecretString) -> Result<Sealed, VaultError> {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: value.expose().as_bytes(), aad: name.as_bytes() })
            .map_err(|_| VaultError::Decrypt(name.to_string()))?;
        Ok(Sealed { nonce: BASE64.encode(nonce), ciphertext: BASE64.encode(ciphertext) })
    }

    fn open_sealed(&self, name: &str, sealed: &Sealed) -> Result<SecretString, VaultError> {
        let fail = || VaultError::Decrypt(name.to_string());
        let nonce = BASE64.decode(&sealed.nonce).map_err(|_| fail())?;
        if nonce.len() != 12 {
            return Err(fail());
        }
        let ciphertext = BASE64.decode(&sealed.ciphertext).map_err(|_| fail())?;
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad: name.as_bytes() })
            .map_err(|_| fail())?;
        String::from_utf8(plain).map(SecretString::new).map_err(|_| fail())
    }

    async fn persist(&self, secrets: &BTreeMap<String, Sealed>) -> Result<(), VaultError> {
        let storage = |reason: String| VaultError::Storage { path: self.path.display().to_string(), reason };
        let file = VaultFile { version: 1, secrets: secrets.clone() };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| storage(e.to_string()))?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || atomic_write(&path, &bytes))
            .await
            .map_err(|e| storage(e.to_string()))?
            .map_err(|e| storage(e.to_string()))
    }
}

fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let temporary = path.with_extension("tmp");
    let _ = std::fs::remove_file(&temporary);
    {
        #[cfg(unix)]
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temporary)?
        };
        #[cfg(not(unix))]
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    std::fs::File::open(parent)?.sync_all()
}

#[async_trait]
impl Vault for EncryptedFileVault {
    async fn resolve(&self, key: &str) -> Result<Option<SecretString>, VaultError> {
        let secrets = self.secrets.lock().await;
        secrets.get(key).map(|sealed| self.open_sealed(key, sealed)).transpose()
    }

    async fn store(&self, key: &str, value: SecretString) -> Result<(), VaultError> {
        validate_secret_key(key)?;
        let sealed = self.seal(key, &value)?;
        let mut secrets = self.secrets.lock().await;
        let mut next = secrets.clone();
        next.insert(key.to_string(), sealed);
        self.persist(&next).await?;
        *secrets = next;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<bool, VaultError> {
        let mut secrets = self.secrets.lock().await;
        if !secrets.contains_key(key) {
            return Ok(false);
        }
        let mut next = secrets.clone();
        next.remove(key);
        self.persist(&next).await?;
        *secrets = next;
        Ok(true)
    }

    async fn keys(&self) -> Result<Vec<String>, VaultError> {
        Ok(self.secrets.lock().await.keys().cloned().collect())
    }
}
