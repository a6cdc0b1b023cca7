// SPDX-License-Identifier: Apache-2.0
//! The database vault on SQLite (a fresh file per test) and PostgreSQL (a fresh database per test on the server
//! named by `TEST_POSTGRES_URL`; `TEST_REQUIRE_POSTGRES=1` makes its absence a failure): the vault contract,
//! replicas sharing secrets, ciphertext only at rest, the key rotation, and the starts that must be refused.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_store::{SqlStore, StoreSettings};
use dsc_vault::envelope::key_id;
use dsc_vault::{SecretString, Vault, VaultKey};
use dsc_vault_sql::{DatabaseVault, Opened};

/// A fresh database: SQLite in `dir`, or a new PostgreSQL database when `postgres` (None: not available here).
async fn database(dir: &tempfile::TempDir, postgres: bool) -> Option<String> {
    if !postgres {
        return Some(format!("sqlite://{}/store.db?mode=rwc", dir.path().display()));
    }
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("TEST_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set");
        }
        eprintln!("notice: TEST_POSTGRES_URL not set; PostgreSQL vault tests not run here");
        return None;
    };
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let next = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let name = format!("dsc_test_vault_{}_{nanos}_{next}", std::process::id());
    let status = std::process::Command::new("psql")
        .args([admin_url.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql");
    assert!(status.success(), "CREATE DATABASE {name} failed");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base.to_string()).unwrap_or(admin_url);
    Some(format!("{base}/{name}"))
}

async fn store(url: &str) -> SqlStore {
    SqlStore::connect(&StoreSettings::new(url)).await.unwrap()
}

async fn open(url: &str, key: &VaultKey, previous: &[VaultKey]) -> Result<(DatabaseVault, Opened), String> {
    DatabaseVault::open(store(url).await, key, previous).await.map_err(|e| e.to_string())
}

fn secret(value: &str) -> SecretString {
    SecretString::new(value)
}

async fn replicas_share_secrets_and_keep_only_ciphertext(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database(&dir, postgres).await else { return };
    let key = VaultKey::generate();
    let (a, opened) = open(&url, &key, &[]).await.unwrap();
    assert_eq!(opened, Opened { secrets: 0, rewrapped: 0, on_previous_keys: 0 });
    let (b, _) = open(&url, &key, &[]).await.unwrap();
    a.store("broker-admin-password", secret("plain-text-password-42")).await.unwrap();
    assert_eq!(
        b.resolve("broker-admin-password").await.unwrap().map(|s| s.expose().to_string()).as_deref(),
        Some("plain-text-password-42")
    );
    b.store("broker-admin-password", secret("replaced")).await.unwrap();
    b.store("oauth-token", secret("t")).await.unwrap();
    assert_eq!(
        a.resolve("broker-admin-password").await.unwrap().map(|s| s.expose().to_string()).as_deref(),
        Some("replaced")
    );
    assert_eq!(a.keys().await.unwrap(), vec!["broker-admin-password", "oauth-token"]);
    assert!(a.delete("oauth-token").await.unwrap());
    assert!(!b.delete("oauth-token").await.unwrap());
    assert_eq!(b.resolve("oauth-token").await.unwrap().map(|s| s.expose().to_string()), None);
    assert_eq!(
        a.store("no spaces", secret("x")).await.err().map(|e| e.to_string()).as_deref(),
        Some("secret key must be 1 to 256 characters of [A-Za-z0-9._:/-]; got 'no spaces'")
    );

    // What the database holds: names, a key fingerprint and ciphertext, never the value or the key.
    let sql = a_store_dump(&url).await;
    assert!(!sql.contains("replaced") && !sql.contains("plain-text-password-42"), "{sql}");
    assert!(!sql.contains(&key.to_base64()), "{sql}");
    assert!(sql.contains(&key_id(&key)), "{sql}");
}

/// Every column of every vault row, as text.
async fn a_store_dump(url: &str) -> String {
    let store = store(url).await;
    let sql = store.plugin_sql();
    let mut query = sql.builder();
    query.push("SELECT name, key_id, wrapped_key, nonce, ciphertext FROM dsc_vault_secret");
    let rows = sql.fetch_all(&query).await.unwrap();
    let mut text = String::new();
    for row in &rows {
        for column in ["name", "key_id", "wrapped_key", "nonce", "ciphertext"] {
            text.push_str(&dsc_store::column::<String>(row, column).unwrap());
            text.push(' ');
        }
    }
    text
}

async fn rotation_in_three_rolling_steps(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database(&dir, postgres).await else { return };
    let (old, new) = (VaultKey::generate(), VaultKey::generate());
    let (before, _) = open(&url, &old, &[]).await.unwrap();
    before.store("a", secret("1")).await.unwrap();
    before.store("b", secret("2")).await.unwrap();

    // Step 1: replicas learn the new key; they still seal with the old one, nothing is re-wrapped.
    let (step1, opened) = open(&url, &old, std::slice::from_ref(&new)).await.unwrap();
    assert_eq!(opened, Opened { secrets: 2, rewrapped: 0, on_previous_keys: 0 });
    // Step 2: the new key seals; a replica starting re-wraps; a replica still at step 1 reads everything.
    let (step2, opened) = open(&url, &new, std::slice::from_ref(&old)).await.unwrap();
    assert_eq!(opened, Opened { secrets: 2, rewrapped: 2, on_previous_keys: 0 });
    step2.store("c", secret("3")).await.unwrap();
    for name in ["a", "b", "c"] {
        assert!(step1.resolve(name).await.unwrap().is_some(), "{name}");
    }
    step1.store("d", secret("4")).await.unwrap();
    // Step 3: the old key is gone. A secret a step-1 replica sealed meanwhile stops the start, naming the key...
    assert_eq!(
        open(&url, &new, &[]).await.err(),
        Some(format!(
            "secret 'd' is sealed with vault key {}, which is neither the vault key nor one of the previous keys",
            key_id(&old)
        ))
    );
    // ...until a restart at step 2 has re-wrapped it.
    assert_eq!(
        open(&url, &new, std::slice::from_ref(&old)).await.unwrap().1,
        Opened { secrets: 4, rewrapped: 1, on_previous_keys: 0 }
    );
    let (after, _) = open(&url, &new, &[]).await.unwrap();
    for (name, value) in [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")] {
        assert_eq!(after.resolve(name).await.unwrap().map(|s| s.expose().to_string()).as_deref(), Some(value));
    }
}

async fn a_wrong_key_stops_the_start_and_changes_nothing(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database(&dir, postgres).await else { return };
    let key = VaultKey::generate();
    let (vault, _) = open(&url, &key, &[]).await.unwrap();
    vault.store("a", secret("1")).await.unwrap();
    let before = a_store_dump(&url).await;
    let stranger = VaultKey::generate();
    assert_eq!(
        open(&url, &stranger, &[]).await.err(),
        Some(format!(
            "secret 'a' is sealed with vault key {}, which is neither the vault key nor one of the previous keys",
            key_id(&key)
        ))
    );
    // A previous key that is not the real one cannot pass for it: the fingerprint differs.
    assert!(open(&url, &stranger, std::slice::from_ref(&VaultKey::generate())).await.is_err());
    assert_eq!(a_store_dump(&url).await, before, "a refused start writes nothing");
}

/// Replicas starting together each generate "their" signing key: all of them keep the one stored first.
async fn replicas_generating_at_once_keep_one_secret(postgres: bool) {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = database(&dir, postgres).await else { return };
    let key = VaultKey::generate();
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(std::sync::Arc::new(open(&url, &key, &[]).await.unwrap().0));
    }
    let attempts: Vec<_> = replicas
        .iter()
        .enumerate()
        .map(|(index, vault)| {
            let vault = vault.clone();
            tokio::spawn(async move { vault.store_if_absent("signing-key", secret(&format!("key-{index}"))).await })
        })
        .collect();
    let mut kept = std::collections::BTreeSet::new();
    for attempt in attempts {
        kept.insert(attempt.await.unwrap().unwrap().expose().to_string());
    }
    assert_eq!(kept.len(), 1, "{kept:?}");
    let stored = replicas[0].resolve("signing-key").await.unwrap().unwrap();
    assert!(kept.contains(stored.expose()));
    assert_eq!(
        replicas[1].store_if_absent("signing-key", secret("later")).await.unwrap(),
        stored,
        "kept, not replaced"
    );
}

#[tokio::test]
async fn sqlite_replicas_generating_at_once_keep_one_secret() {
    replicas_generating_at_once_keep_one_secret(false).await;
}

#[tokio::test]
async fn postgres_replicas_generating_at_once_keep_one_secret() {
    replicas_generating_at_once_keep_one_secret(true).await;
}

#[tokio::test]
async fn sqlite_replicas_share_secrets_and_keep_only_ciphertext() {
    replicas_share_secrets_and_keep_only_ciphertext(false).await;
}

#[tokio::test]
async fn postgres_replicas_share_secrets_and_keep_only_ciphertext() {
    replicas_share_secrets_and_keep_only_ciphertext(true).await;
}

#[tokio::test]
async fn sqlite_rotation_in_three_rolling_steps() {
    rotation_in_three_rolling_steps(false).await;
}

#[tokio::test]
async fn postgres_rotation_in_three_rolling_steps() {
    rotation_in_three_rolling_steps(true).await;
}

#[tokio::test]
async fn sqlite_a_wrong_key_stops_the_start_and_changes_nothing() {
    a_wrong_key_stops_the_start_and_changes_nothing(false).await;
}

#[tokio::test]
async fn postgres_a_wrong_key_stops_the_start_and_changes_nothing() {
    a_wrong_key_stops_the_start_and_changes_nothing(true).await;
}
