// SPDX-License-Identifier: Apache-2.0
//! What the metrics endpoint reports about the database: processes per kind, role and state, counted in the
//! database at each scrape (so every replica reports the same figures the Management API shows), and the use of
//! this replica's connection pool.

use sqlx::{AssertSqlSafe, Row};

use super::SqlStore;
use crate::StoreError;

/// How many processes of one kind are in one state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    /// `negotiation`, `transfer` or `data_flow`.
    pub kind: &'static str,
    /// `PROVIDER`/`CONSUMER`; empty for data flows (only providers have them).
    pub role: String,
    pub state: String,
    pub count: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

// Grouped by the integer state, which the work index (role, state, state_timestamp) covers; the name comes along.
const COUNTED: [(&str, &str); 3] = [
    (
        "negotiation",
        "SELECT role, MIN(state_name) AS state, COUNT(*) AS n FROM edc_contract_negotiation GROUP BY role, state",
    ),
    ("transfer", "SELECT role, MIN(state_name) AS state, COUNT(*) AS n FROM edc_transfer_process GROUP BY role, state"),
    ("data_flow", "SELECT '' AS role, state, COUNT(*) AS n FROM dsc_data_flow GROUP BY state"),
];

impl SqlStore {
    /// Negotiations, transfers and data flows per role and state.
    pub async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError> {
        let mut counts = Vec::new();
        for (kind, sql) in COUNTED {
            for row in sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)? {
                counts.push(StateCount {
                    kind,
                    role: row.try_get("role").map_err(StoreError::from_sqlx)?,
                    state: row.try_get("state").map_err(StoreError::from_sqlx)?,
                    count: row.try_get("n").map_err(StoreError::from_sqlx)?,
                });
            }
        }
        Ok(counts)
    }

    /// Callback deliveries waiting in the outbox (a growing figure means a receiver is down).
    pub async fn outbox_backlog(&self) -> Result<i64, StoreError> {
        let row = sqlx::query(AssertSqlSafe("SELECT COUNT(*) AS n FROM edc_callback_outbox"))
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::from_sqlx)?;
        row.try_get("n").map_err(StoreError::from_sqlx)
    }

    /// This replica's connections: open, idle, and the configured maximum.
    pub fn pool_use(&self) -> PoolUse {
        let open = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        PoolUse { open, idle, max: self.pool.options().get_max_connections() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract_tests::negotiation;
    use crate::{NegotiationStore, StoreSettings};
    use dsc_domain::{NegotiationRole, NegotiationState};

    #[tokio::test]
    async fn counts_processes_per_role_and_state_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
        let store = SqlStore::connect(&StoreSettings::new(url)).await.unwrap();
        assert!(store.state_counts().await.unwrap().is_empty());
        let states = [NegotiationState::Requested, NegotiationState::Requested, NegotiationState::Finalized];
        for (index, state) in states.into_iter().enumerate() {
            let created = negotiation(&format!("n-{index}"), NegotiationRole::Provider, state, 1_000);
            store.create_negotiation(&created).await.unwrap();
        }
        let mut counts = store.state_counts().await.unwrap();
        counts.sort_by(|a, b| a.state.cmp(&b.state));
        assert_eq!(
            counts,
            vec![
                StateCount { kind: "negotiation", role: "PROVIDER".into(), state: "FINALIZED".into(), count: 1 },
                StateCount { kind: "negotiation", role: "PROVIDER".into(), state: "REQUESTED".into(), count: 2 },
            ]
        );
        assert_eq!(store.outbox_backlog().await.unwrap(), 0);
        let pool = store.pool_use();
        assert_eq!(pool.max, 10);
        assert!(pool.idle <= pool.open);
    }
}
