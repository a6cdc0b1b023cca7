// SPDX-License-Identifier: Apache-2.0
//! Registered data planes (DPS `PUT /dataplanes`), kept in the database so that every control-plane replica selects
//! the same data planes and a restart forgets none.

use sqlx::Row;

use super::SqlStore;
use super::filter::Arg;
use super::negotiations::now_ms;
use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataPlaneRecord {
    pub id: String,
    pub endpoint: String,
    pub transfer_types: Vec<String>,
}

impl SqlStore {
    /// Creates or replaces the registration with the record's id.
    pub async fn save_data_plane(&self, record: &DataPlaneRecord) -> Result<(), StoreError> {
        let types = serde_json::to_string(&record.transfer_types)
            .map_err(|e| StoreError::Database(format!("transfer types: {e}")))?;
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("INSERT INTO dsc_data_plane (id, endpoint, transfer_types, registered_at) VALUES (");
        query.bind(Arg::Text(record.id.clone()));
        query.push(", ");
        query.bind(Arg::Text(record.endpoint.clone()));
        query.push(", ");
        query.bind(Arg::Text(types));
        query.push(", ");
        query.bind(Arg::Int(now_ms()));
        query.push(
            ") ON CONFLICT (id) DO UPDATE SET endpoint = excluded.endpoint, transfer_types = excluded.transfer_types, \
             registered_at = excluded.registered_at",
        );
        sql.execute(&query).await?;
        Ok(())
    }

    /// Removes the registration; whether there was one.
    pub async fn delete_data_plane(&self, id: &str) -> Result<bool, StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("DELETE FROM dsc_data_plane WHERE id = ");
        query.bind(Arg::Text(id.to_string()));
        Ok(sql.execute(&query).await? > 0)
    }

    /// Every registration, newest first: a data plane that registered again (or anew) wins over one that stopped
    /// without unregistering.
    pub async fn data_planes(&self) -> Result<Vec<DataPlaneRecord>, StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT id, endpoint, transfer_types FROM dsc_data_plane ORDER BY registered_at DESC, id");
        let rows = sql.fetch_all(&query).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id").map_err(StoreError::from_sqlx)?;
                let types: String = row.try_get("transfer_types").map_err(StoreError::from_sqlx)?;
                let transfer_types = serde_json::from_str(&types).map_err(|e| StoreError::Corrupt {
                    entity: "DataPlane",
                    id: id.clone(),
                    reason: format!("transfer types: {e}"),
                })?;
                Ok(DataPlaneRecord {
                    endpoint: row.try_get("endpoint").map_err(StoreError::from_sqlx)?,
                    id,
                    transfer_types,
                })
            })
            .collect()
    }
}
