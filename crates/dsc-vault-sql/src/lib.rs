// SPDX-License-Identifier: Apache-2.0
//! The database vault: secrets in the connector's own database (SQLite or PostgreSQL), so every replica on that
//! database sees the same secrets, which a vault file cannot offer.
//!
//! The database holds ciphertexts only ([`dsc_vault::envelope`]: a data key per secret, wrapped by the vault key);
//! the vault key comes from configuration (a file or an environment variable, a Kubernetes secret in the chart), so
//! a database dump or backup holds nothing that opens without it.
//!
//! Rotation without downtime, in three rolling steps: (1) every replica gets the new key as a previous key (it can
//! open what the new key seals, still sealing with the old one); (2) the new key becomes the vault key and the old
//! one a previous key: each replica re-wraps, at start, the data keys the old key wrapped; (3) the old key is
//! removed. A start refuses to run while any secret is sealed with a key it was not given, naming the key id, and
//! a vault key that cannot open the secrets it claims to have sealed stops the start too: nothing is ever written
//! with a key that would strand the secrets already there.

use async_trait::async_trait;
use dsc_store::{Arg, PluginMigration, PluginMigrations, SqlStore, StoreError, column};
use dsc_vault::envelope::{KeyRing, SealedSecret};
use dsc_vault::{SecretString, Vault, VaultError, VaultKey, validate_secret_key};

/// The vault's table, as a plug-in of the store (its own migrations, recorded under this module's name).
pub const MIGRATIONS: PluginMigrations = PluginMigrations {
    module: "vault",
    migrations: &[PluginMigration {
        version: 1,
        description: "database vault",
        sqlite: include_str!("../migrations/sqlite/0001_vault.sql"),
        postgres: include_str!("../migrations/postgres/0001_vault.sql"),
    }],
};

pub struct DatabaseVault {
    store: SqlStore,
    ring: KeyRing,
}

/// What opening found: how many secrets there are, how many were re-wrapped from previous keys, and how many are
/// still sealed with another key than the vault key afterwards (a replica with an older configuration wrote them
/// meanwhile): only at 0 may the previous keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    pub secrets: usize,
    pub rewrapped: usize,
    pub on_previous_keys: usize,
}

fn unavailable(error: StoreError) -> VaultError {
    VaultError::Unavailable(error.to_string())
}

fn sealed_from(row: &dsc_store::AnyRow) -> Result<(String, SealedSecret), StoreError> {
    Ok((
        column(row, "name")?,
        SealedSecret {
            key_id: column(row, "key_id")?,
            wrapped_key: column(row, "wrapped_key")?,
            nonce: column(row, "nonce")?,
            ciphertext: column(row, "ciphertext")?,
        },
    ))
}

/// `INSERT ... VALUES (...)` of one sealed secret, for the caller to finish with its conflict rule.
fn insert(sql: &dsc_store::PluginSql<'_>, key: &str, sealed: &SealedSecret) -> dsc_store::SqlBuilder {
    let mut query = sql.builder();
    query.push("INSERT INTO dsc_vault_secret (name, key_id, wrapped_key, nonce, ciphertext, updated_at) VALUES (");
    for (index, value) in
        [key, &sealed.key_id, &sealed.wrapped_key, &sealed.nonce, &sealed.ciphertext].into_iter().enumerate()
    {
        query.push(if index == 0 { "" } else { ", " });
        query.bind(Arg::Text(value.to_string()));
    }
    query.push(", ");
    query.bind(Arg::Int(now_ms()));
    query.push(")");
    query
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

impl DatabaseVault {
    /// Creates the table if needed, checks that `key` and `previous` open every secret (one per key id), and
    /// re-wraps what previous keys wrapped with `key`.
    pub async fn open(store: SqlStore, key: &VaultKey, previous: &[VaultKey]) -> Result<(Self, Opened), VaultError> {
        store.apply_plugin_migrations(&MIGRATIONS).await.map_err(unavailable)?;
        let vault = DatabaseVault { store, ring: KeyRing::new(key, previous) };
        let all = vault.all().await?;
        let mut checked = std::collections::BTreeSet::new();
        for (name, sealed) in &all {
            if checked.insert(sealed.key_id.clone()) {
                // Fails with UnknownKey for a key this process lacks, Decrypt for a key that is not the one it claims.
                vault.ring.open(name, sealed)?;
            }
        }
        let mut rewrapped = 0;
        for (name, sealed) in all.iter().filter(|(_, sealed)| sealed.key_id != vault.ring.primary_id()) {
            if vault.replace_if_unchanged(name, sealed, &vault.ring.rewrap(name, sealed)?).await? {
                rewrapped += 1;
            }
        }
        if rewrapped > 0 {
            tracing::info!(rewrapped, "vault: data keys re-wrapped with the current vault key");
        }
        let on_previous_keys = vault.all().await?.iter().filter(|(_, s)| s.key_id != vault.ring.primary_id()).count();
        Ok((vault, Opened { secrets: all.len(), rewrapped, on_previous_keys }))
    }

    async fn all(&self) -> Result<Vec<(String, SealedSecret)>, VaultError> {
        let sql = self.store.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT name, key_id, wrapped_key, nonce, ciphertext FROM dsc_vault_secret ORDER BY name");
        let rows = sql.fetch_all(&query).await.map_err(unavailable)?;
        rows.iter().map(sealed_from).collect::<Result<_, _>>().map_err(unavailable)
    }

    /// Writes `next` only if the row still holds `current`: a secret another replica replaced meanwhile is kept.
    async fn replace_if_unchanged(
        &self,
        name: &str,
        current: &SealedSecret,
        next: &SealedSecret,
    ) -> Result<bool, VaultError> {
        let sql = self.store.plugin_sql();
        let mut query = sql.builder();
        query.push("UPDATE dsc_vault_secret SET key_id = ");
        query.bind(Arg::Text(next.key_id.clone()));
        query.push(", wrapped_key = ");
        query.bind(Arg::Text(next.wrapped_key.clone()));
        query.push(" WHERE name = ");
        query.bind(Arg::Text(name.to_string()));
        query.push(" AND key_id = ");
        query.bind(Arg::Text(current.key_id.clone()));
        query.push(" AND wrapped_key = ");
        query.bind(Arg::Text(current.wrapped_key.clone()));
        Ok(sql.execute(&query).await.map_err(unavailable)? == 1)
    }
}

#[async_trait]
impl Vault for DatabaseVault {
    async fn resolve(&self, key: &str) -> Result<Option<SecretString>, VaultError> {
        let sql = self.store.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT name, key_id, wrapped_key, nonce, ciphertext FROM dsc_vault_secret WHERE name = ");
        query.bind(Arg::Text(key.to_string()));
        let Some(row) = sql.fetch_optional(&query).await.map_err(unavailable)? else { return Ok(None) };
        let (name, sealed) = sealed_from(&row).map_err(unavailable)?;
        self.ring.open(&name, &sealed).map(Some)
    }

    async fn store(&self, key: &str, value: SecretString) -> Result<(), VaultError> {
        validate_secret_key(key)?;
        let sealed = self.ring.seal(key, &value)?;
        let sql = self.store.plugin_sql();
        let mut query = insert(&sql, key, &sealed);
        query.push(
            " ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, wrapped_key = excluded.wrapped_key, \
             nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
        );
        sql.execute(&query).await.map_err(unavailable)?;
        Ok(())
    }

    /// One atomic insert that leaves an existing secret alone, then whatever the table holds: of replicas generating
    /// the same secret at once, the first insert wins for all of them.
    async fn store_if_absent(&self, key: &str, value: SecretString) -> Result<SecretString, VaultError> {
        validate_secret_key(key)?;
        let sealed = self.ring.seal(key, &value)?;
        let sql = self.store.plugin_sql();
        let mut query = insert(&sql, key, &sealed);
        query.push(" ON CONFLICT (name) DO NOTHING");
        sql.execute(&query).await.map_err(unavailable)?;
        self.resolve(key).await?.ok_or_else(|| VaultError::Unavailable(format!("secret '{key}' vanished while stored")))
    }

    async fn delete(&self, key: &str) -> Result<bool, VaultError> {
        let sql = self.store.plugin_sql();
        let mut query = sql.builder();
        query.push("DELETE FROM dsc_vault_secret WHERE name = ");
        query.bind(Arg::Text(key.to_string()));
        Ok(sql.execute(&query).await.map_err(unavailable)? > 0)
    }

    async fn keys(&self) -> Result<Vec<String>, VaultError> {
        let sql = self.store.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT name FROM dsc_vault_secret ORDER BY name");
        let rows = sql.fetch_all(&query).await.map_err(unavailable)?;
        rows.iter().map(|row| column::<String>(row, "name")).collect::<Result<_, _>>().map_err(unavailable)
    }
}
