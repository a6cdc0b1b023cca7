// SPDX-License-Identifier: Apache-2.0
//! Singleton roles among replicas: a named lease in the shared database that one holder at a time has, renews while
//! it works, and that expires when the holder dies. One atomic upsert takes or renews it, so two replicas asking at
//! once cannot both get it.

use super::SqlStore;
use super::filter::Arg;
use crate::StoreError;

/// One replica's claim to a singleton role, held for a run of periodic work: taken or renewed at each round for
/// three rounds' time, so a holder that dies hands the role over within three rounds, and one that stops (`release`)
/// at once.
pub struct SingletonLease {
    store: SqlStore,
    role: &'static str,
    holder: String,
    lease_ms: i64,
}

impl SingletonLease {
    /// `holder` must be unique per process: a restarted replica is a new holder and waits like any other.
    pub fn new(store: SqlStore, role: &'static str, holder: String, round: std::time::Duration) -> Self {
        let lease_ms = i64::try_from(round.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
        SingletonLease { store, role, holder, lease_ms }
    }

    /// Whether this replica has the role for the coming round (taking or renewing it).
    pub async fn hold(&self, now: i64) -> Result<bool, StoreError> {
        self.store.hold_singleton(self.role, &self.holder, now, self.lease_ms).await
    }

    /// Gives the role up at once; after an error it simply expires.
    pub async fn release(&self) -> Result<(), StoreError> {
        self.store.release_singleton(self.role, &self.holder).await
    }
}

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
