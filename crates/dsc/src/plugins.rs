// SPDX-License-Identifier: Apache-2.0
//! The transfer types compiled into this binary, registered at start: their names and aliases, the data address
//! validators the Management API consults, and their tables' migrations. The lower crates only see the
//! registries, so a new transfer type is added here and in its own crate.

use std::sync::Arc;

use dsc_domain::{DataAddressValidators, FlowType, TransferTypeDescriptor, TransferTypeRegistry};
use dsc_store::{SqlStore, StoreSettings, sql::redact_url};

use crate::runtime::StartError;

/// What the transfer types registered.
#[derive(Debug, Clone)]
pub struct Plugins {
    pub transfer_types: Arc<TransferTypeRegistry>,
    pub address_validators: Arc<DataAddressValidators>,
}

/// Every transfer type this binary has, whether or not its data plane side is enabled here: a control plane with a
/// remote data plane still answers aliases and validates assets for it.
pub fn plugins() -> Result<Plugins, StartError> {
    let mut transfer_types = TransferTypeRegistry::new();
    let mut address_validators = DataAddressValidators::new();
    let http = TransferTypeDescriptor::new(dsc_dataplane::HTTP_PULL, "HttpData", FlowType::Pull);
    transfer_types.register(http).map_err(|e| StartError::Plugin(e.to_string()))?;
    crate::kafka::register(&mut transfer_types, &mut address_validators)?;
    Ok(Plugins { transfer_types: Arc::new(transfer_types), address_validators: Arc::new(address_validators) })
}

/// Connects to the database and applies the core migrations, then every transfer type's own.
pub async fn open_store(url: &str, max_connections: u32) -> Result<SqlStore, StartError> {
    let failed = |e: dsc_store::StoreError| StartError::Database { url: redact_url(url), reason: e.to_string() };
    let mut settings = StoreSettings::new(url.to_string());
    settings.max_connections = max_connections;
    let store = SqlStore::connect(&settings).await.map_err(failed)?;
    for migrations in [&dsc_kafka_pull::MIGRATIONS, &dsc_dcp_service::MIGRATIONS] {
        let applied = store.apply_plugin_migrations(migrations).await.map_err(failed)?;
        if !applied.is_empty() {
            tracing::info!(module = migrations.module, versions = ?applied, "applied plug-in migrations");
        }
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_transfer_type_is_registered() {
        let plugins = plugins().unwrap();
        let names: Vec<&str> = plugins.transfer_types.descriptors().iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["HttpData-PULL", "KafkaBroker-PULL"]);
        assert_eq!(plugins.transfer_types.canonical("Kafka-PULL"), "KafkaBroker-PULL");
        assert_eq!(plugins.address_validators.address_types(), vec!["KafkaBroker"]);
    }
}
