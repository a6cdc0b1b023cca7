// SPDX-License-Identifier: Apache-2.0
//! Singleton roles among replicas: a named lease in the shared database that one holder at a time has, renews while
//! it works, and that expires when the holder dies. One atomic upsert takes or renews it, so two replicas asking at
//! once cannot both get it.

use super::SqlStore;
use super::filter::Arg;
use crate::StoreError;

impl SqlStore {
    /// Takes the named role for `holder` until `now + lease_ms`, or renews it if `holder` has it; `false` while
    /// another holder's lease runs.
    pub async fn hold_singleton(&self, name: &str, holder: &str, now: i64, lease_ms: i64) -> Result<bool, StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("INSERT INTO dsc_singleton_lease (name, holder, expires_at) VALUES (");
        query.bind(Arg::Text(name.to_string()));
        query.push(", ");
        query.bind(Arg::Text(holder.to_string()));
        query.push(", ");
        query.bind(Arg::Int(now.saturating_add(lease_ms)));
        query.push(
            ") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE dsc_singleton_lease.holder = excluded.holder OR dsc_singleton_lease.expires_at <= ",
        );
        query.bind(Arg::Int(now));
        Ok(sql.execute(&query).await? == 1)
    }

    /// Gives the role up at once (a graceful shutdown), so another replica need not wait for the lease to expire.
    pub async fn release_singleton(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("DELETE FROM dsc_singleton_lease WHERE name = ");
        query.bind(Arg::Text(name.to_string()));
        query.push(" AND holder = ");
        query.bind(Arg::Text(holder.to_string()));
        sql.execute(&query).await?;
        Ok(())
    }
}
