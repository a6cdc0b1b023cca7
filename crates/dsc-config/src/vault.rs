// SPDX-License-Identifier: Apache-2.0
//! The vault's settings: where secrets are kept, the key, and earlier keys during a rotation.

use std::path::{Path, PathBuf};

use crate::loader::{ConfigError, RawConfig};

/// Where secrets are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultBackend {
    /// One encrypted file per process (`dsc.vault.file`): the embedded default.
    File,
    /// The connector's database, under envelope encryption: shared by every replica on that database.
    Database,
}

#[derive(Clone, PartialEq, Eq)]
pub enum VaultKeySource {
    /// Base64 text given directly (usually through `DSC_VAULT_KEY`).
    Value(String),
    /// A key file; `create` when the file is the default one and may be generated.
    File { path: PathBuf, create: bool },
}

impl std::fmt::Debug for VaultKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VaultKeySource::Value(_) => f.write_str("Value(***)"),
            VaultKeySource::File { path, create } => write!(f, "File({}, create: {create})", path.display()),
        }
    }
}

/// `dsc.vault.key[.file]`, `dsc.vault.type` and `dsc.vault.key.previous[.file]`. The database vault is shared by
/// replicas, so its key must come from configuration: a key generated into one data directory is refused.
pub(crate) fn read(
    raw: &RawConfig,
    data_dir: &Path,
) -> Result<(VaultKeySource, VaultBackend, Option<VaultKeySource>), ConfigError> {
    let vault_key = match (raw.get("dsc.vault.key"), raw.get("dsc.vault.key.file")) {
        (Some(value), _) => VaultKeySource::Value(value.to_string()),
        (None, Some(path)) => VaultKeySource::File { path: PathBuf::from(path), create: false },
        (None, None) => VaultKeySource::File { path: data_dir.join("vault.key"), create: true },
    };
    let vault_backend = match raw.get("dsc.vault.type") {
        Some("database") => VaultBackend::Database,
        _ => VaultBackend::File,
    };
    if vault_backend == VaultBackend::Database && matches!(vault_key, VaultKeySource::File { create: true, .. }) {
        return Err(ConfigError::Missing {
            key: "dsc.vault.key".into(),
            env: crate::env_name("dsc.vault.key"),
            hint: "dsc.vault.type = database needs the vault key from configuration (DSC_VAULT_KEY or \
               dsc.vault.key.file): a key generated in one replica's data directory cannot open what another \
               replica sealed"
                .into(),
        });
    }
    let vault_previous_keys = match (raw.get("dsc.vault.key.previous"), raw.get("dsc.vault.key.previous.file")) {
        (Some(value), _) => Some(VaultKeySource::Value(value.to_string())),
        (None, Some(path)) => Some(VaultKeySource::File { path: PathBuf::from(path), create: false }),
        (None, None) => None,
    };
    Ok((vault_key, vault_backend, vault_previous_keys))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(settings: &[(&str, &str)]) -> RawConfig {
        let env = settings.iter().map(|(k, v)| (crate::env_name(k), v.to_string()));
        RawConfig::load(None, env).unwrap()
    }

    #[test]
    fn the_database_vault_needs_its_key_from_configuration() {
        let refused = read(&raw(&[("dsc.vault.type", "database")]), Path::new("data")).err().map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some(
                "missing setting 'dsc.vault.key' (or environment variable DSC_VAULT_KEY): dsc.vault.type = database \
                 needs the vault key from configuration (DSC_VAULT_KEY or dsc.vault.key.file): a key generated in one \
                 replica's data directory cannot open what another replica sealed"
            )
        );
        let (key, backend, previous) = read(
            &raw(&[("dsc.vault.type", "database"), ("dsc.vault.key.file", "/run/secrets/vault-key")]),
            Path::new("data"),
        )
        .unwrap();
        assert_eq!(backend, VaultBackend::Database);
        assert_eq!(key, VaultKeySource::File { path: PathBuf::from("/run/secrets/vault-key"), create: false });
        assert_eq!(previous, None);
    }

    #[test]
    fn previous_keys_come_from_the_setting_or_its_file() {
        let (_, backend, previous) = read(&raw(&[("dsc.vault.key.previous", "a,b")]), Path::new("data")).unwrap();
        assert_eq!((backend, previous), (VaultBackend::File, Some(VaultKeySource::Value("a,b".into()))));
        let (key, _, previous) = read(&raw(&[("dsc.vault.key.previous.file", "/k")]), Path::new("data")).unwrap();
        assert_eq!(key, VaultKeySource::File { path: PathBuf::from("data/vault.key"), create: true });
        assert_eq!(previous, Some(VaultKeySource::File { path: PathBuf::from("/k"), create: false }));
    }
}
