// SPDX-License-Identifier: Apache-2.0
//! What every plane needs at start: the vault, an HTTP client, the trust list and the health probes.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_config::{ConnectorConfig, VaultBackend, VaultKeySource};
use dsc_identity::TrustList;
use dsc_store::{HealthCheck, SqlStore};
use dsc_vault::{EncryptedFileVault, Vault, VaultKey};
use dsc_vault_sql::DatabaseVault;
use dsc_web::health::{Health, HealthProbe};

use super::StartError;

struct DatabaseProbe(SqlStore);

#[async_trait]
impl HealthProbe for DatabaseProbe {
    fn component(&self) -> &str {
        "database"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

struct VaultProbe(Arc<dyn Vault>);

#[async_trait]
impl HealthProbe for VaultProbe {
    fn component(&self) -> &str {
        "vault"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.keys().await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// The configured vault: the file vault, or the database vault on `store` (shared by replicas).
pub(super) async fn open_vault(config: &ConnectorConfig, store: &SqlStore) -> Result<Arc<dyn Vault>, StartError> {
    let key = vault_key(config)?;
    if config.vault_backend == VaultBackend::Database {
        let previous = previous_vault_keys(config)?;
        let (vault, opened) = DatabaseVault::open(store.clone(), &key, &previous).await?;
        tracing::info!(secrets = opened.secrets, rewrapped = opened.rewrapped, "vault: in the database");
        match (previous.is_empty(), opened.on_previous_keys) {
            (true, _) => {}
            (false, 0) => {
                tracing::info!(
                    "vault: no secret is sealed with a previous key any more; once every replica runs \
                                with this vault key, dsc.vault.key.previous can go"
                )
            }
            (false, left) => tracing::warn!(
                secrets = left,
                "vault: secrets are still sealed with another key (a replica with the previous vault key wrote them); \
                 restart this replica once every replica runs with the new key"
            ),
        }
        return Ok(Arc::new(vault));
    }
    if config.vault_previous_keys.is_some() {
        tracing::warn!(
            "dsc.vault.key.previous is ignored: only the database vault (dsc.vault.type = database) rotates keys"
        );
    }
    Ok(Arc::new(EncryptedFileVault::open(&config.vault_file, key).await?))
}

/// Earlier vault keys: base64 keys separated by commas or line breaks, from the setting or its file.
fn previous_vault_keys(config: &ConnectorConfig) -> Result<Vec<VaultKey>, StartError> {
    let text = match &config.vault_previous_keys {
        None => return Ok(Vec::new()),
        Some(VaultKeySource::Value(text)) => text.clone(),
        Some(VaultKeySource::File { path, .. }) => std::fs::read_to_string(path)
            .map_err(|e| dsc_vault::VaultError::Storage { path: path.display().to_string(), reason: e.to_string() })?,
    };
    let keys = text.split([',', '\n']).map(str::trim).filter(|k| !k.is_empty()).map(VaultKey::from_base64);
    Ok(keys.collect::<Result<_, _>>()?)
}

fn vault_key(config: &ConnectorConfig) -> Result<VaultKey, StartError> {
    Ok(match &config.vault_key {
        VaultKeySource::Value(text) => VaultKey::from_base64(text)?,
        VaultKeySource::File { path, create } => {
            let existed = path.exists();
            let key = VaultKey::from_file(path, *create)?;
            if !existed {
                tracing::warn!(
                    path = %path.display(),
                    "generated a new vault key; in production keep the key apart from the vault (dsc.vault.key.file or DSC_VAULT_KEY)"
                );
            }
            key
        }
    })
}

/// Readiness: the database and the vault.
pub(super) fn health(store: &SqlStore, vault: Arc<dyn Vault>) -> Health {
    Health::new(vec![Arc::new(DatabaseProbe(store.clone())), Arc::new(VaultProbe(vault))])
}

/// The HTTP client for everything this process sends (peers, data planes, OAuth, callbacks).
pub(super) fn http_client() -> Result<reqwest::Client, StartError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| StartError::Identity(dsc_identity::IdentityError::Key(e.to_string())))
}

/// The configured trust list (`dsc.iam.trust.file`), empty when none is configured.
pub(super) fn trust_list(config: &ConnectorConfig) -> Result<TrustList, StartError> {
    match &config.trust_file {
        Some(path) => Ok(TrustList::from_file(path)?),
        None => Ok(TrustList::default()),
    }
}

/// The path under which the DID document must be served for `did` (the host part is ours by configuration).
pub(super) fn did_document_path(did: &str) -> Option<String> {
    let url = dsc_identity::did_document_url(did, false).ok()?;
    reqwest::Url::parse(&url).ok().map(|u| u.path().to_string())
}
