// SPDX-License-Identifier: Apache-2.0
//! The vault contract, run against the embedded vault.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{EncryptedFileVault, SecretString, Vault, VaultError, VaultKey};

async fn fresh() -> (EncryptedFileVault, VaultKey, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let key = VaultKey::generate();
    let vault = EncryptedFileVault::open(dir.path().join("vault.json"), key.clone()).await.unwrap();
    (vault, key, dir)
}

#[tokio::test]
async fn stores_resolves_replaces_and_deletes() {
    let (vault, _, _dir) = fresh().await;
    assert_eq!(vault.resolve("a").await.ok().flatten(), None);
    vault.store("a", SecretString::new("one")).await.unwrap();
    vault.store("b", SecretString::new("two")).await.unwrap();
    vault.store("a", SecretString::new("three")).await.unwrap();
    assert_eq!(vault.resolve("a").await.ok().flatten(), Some(SecretString::new("three")));
    assert_eq!(vault.keys().await.unwrap_or_default(), vec!["a", "b"]);
    assert!(vault.delete("a").await.unwrap_or(false));
    assert!(!vault.delete("a").await.unwrap_or(true));
    assert_eq!(vault.resolve("a").await.ok().flatten(), None);
}

#[tokio::test]
async fn secrets_are_encrypted_at_rest_and_survive_reopening() {
    let (vault, key, dir) = fresh().await;
    vault.store("db-password", SecretString::new("correct horse battery staple")).await.unwrap();
    let on_disk = std::fs::read(dir.path().join("vault.json")).unwrap_or_default();
    assert!(!on_disk.is_empty());
    assert!(!String::from_utf8_lossy(&on_disk).contains("correct horse"));
    drop(vault);
    let reopened = EncryptedFileVault::open(dir.path().join("vault.json"), key).await.unwrap();
    assert_eq!(
        reopened.resolve("db-password").await.ok().flatten().map(|s| s.expose().to_string()),
        Some("correct horse battery staple".to_string())
    );
}

#[tokio::test]
async fn a_wrong_key_fails_at_open_naming_the_secret() {
    let (vault, _, dir) = fresh().await;
    vault.store("token", SecretString::new("x")).await.unwrap();
    let error = EncryptedFileVault::open(dir.path().join("vault.json"), VaultKey::generate()).await.err();
    assert_eq!(
        error.map(|e| e.to_string()),
        Some("secret 'token' cannot be decrypted with the configured vault key".into())
    );
}

#[tokio::test]
async fn ciphertexts_are_bound_to_their_names() {
    let (vault, key, dir) = fresh().await;
    vault.store("a", SecretString::new("alpha")).await.unwrap();
    vault.store("b", SecretString::new("beta")).await.unwrap();
    let path = dir.path().join("vault.json");
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_default()).unwrap_or_default();
    let a = file["secrets"]["a"].clone();
    file["secrets"]["b"] = a;
    std::fs::write(&path, serde_json::to_vec(&file).unwrap_or_default()).unwrap();
    let error = EncryptedFileVault::open(&path, key).await.err();
    assert!(matches!(error, Some(VaultError::Decrypt(ref name)) if name == "b"), "{error:?}");
}

#[tokio::test]
async fn invalid_names_and_keys_are_refused() {
    let (vault, _, _dir) = fresh().await;
    let error = vault.store("bad name", SecretString::new("x")).await.err().map(|e| e.to_string());
    assert_eq!(error.as_deref(), Some("secret key must be 1 to 256 characters of [A-Za-z0-9._:/-]; got 'bad name'"));
    assert_eq!(
        VaultKey::from_base64("c2hvcnQ=").err().map(|e| e.to_string()).as_deref(),
        Some("vault key is invalid: expected 32 bytes, got 5")
    );
    assert!(VaultKey::from_base64("%%%").is_err());
}

#[tokio::test]
async fn key_files_are_created_private_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/vault.key");
    let created = VaultKey::from_file(&path, true).unwrap();
    let read = VaultKey::from_file(&path, false).unwrap();
    assert_eq!(created.to_base64(), read.to_base64());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or_default();
        assert_eq!(mode, 0o600);
    }
    assert!(VaultKey::from_file(&dir.path().join("missing"), false).is_err());
}
