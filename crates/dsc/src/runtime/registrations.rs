// SPDX-License-Identifier: Apache-2.0
//! Data plane registrations in the connector's database, so that every control-plane replica selects the data
//! planes that registered with any of them, and a restart forgets none.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_signaling::{DataPlaneEntry, DataPlaneRegistry, RegistrationStore};
use dsc_store::{DataPlaneRecord, SqlStore};

/// How often a replica reads the registrations again for its catalog (a transfer whose type has no data plane
/// here reads them at once).
const RELOAD_EVERY: Duration = Duration::from_secs(10);

pub(super) struct StoredRegistrations(pub SqlStore);

#[async_trait]
impl RegistrationStore for StoredRegistrations {
    async fn save(&self, entry: &DataPlaneEntry) -> Result<(), String> {
        let record = DataPlaneRecord {
            id: entry.id.clone(),
            endpoint: entry.endpoint.clone(),
            transfer_types: entry.transfer_types.clone(),
        };
        self.0.save_data_plane(&record).await.map_err(|e| e.to_string())
    }

    async fn delete(&self, id: &str) -> Result<bool, String> {
        self.0.delete_data_plane(id).await.map_err(|e| e.to_string())
    }

    async fn load(&self) -> Result<Vec<(String, String, Vec<String>)>, String> {
        let records = self.0.data_planes().await.map_err(|e| e.to_string())?;
        Ok(records.into_iter().map(|r| (r.id, r.endpoint, r.transfer_types)).collect())
    }
}

/// Reads the registrations every [`RELOAD_EVERY`] until `stop`.
pub(super) async fn keep_reloading(registry: Arc<DataPlaneRegistry>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(RELOAD_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => return,
        }
        if let Err(error) = registry.reload().await {
            tracing::warn!("cannot read the registered data planes: {error}");
        }
    }
}
