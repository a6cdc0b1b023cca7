// SPDX-License-Identifier: Apache-2.0
//! Transfer processes (their leased operations are in `leased.rs`) and the data plane's flows in SQL.

use async_trait::async_trait;
use dsc_domain::transfer::{transfer_event_envelope, transfer_events};
use dsc_domain::{CallbackAddress, DataFlow, QuerySpec, TransferProcess, TransferRole, TransferState};

use super::SqlStore;
use super::entities::Entity;
use super::filter::{Arg, SqlBuilder};
use super::leased::Leased;
use super::negotiations::now_ms;
use crate::{DataFlowStore, LeasedStore, StoreError, TransferStore};

impl Leased for TransferProcess {
    fn state_code(state: TransferState) -> i32 {
        state.code()
    }

    fn state_from_code(code: i32) -> Option<TransferState> {
        TransferState::from_code(code)
    }

    fn deliveries(&self, before: Option<TransferState>) -> Vec<(String, CallbackAddress, String)> {
        let now = now_ms();
        let mut deliveries = Vec::new();
        for event in transfer_events(before, self.state, self.role) {
            for callback in self.callback_addresses.iter().filter(|c| c.wants(&event)) {
                let id = uuid::Uuid::new_v4().to_string();
                let body = transfer_event_envelope(self, &event, &id, now, None).to_string();
                deliveries.push((id, callback.clone(), body));
            }
        }
        deliveries
    }

    fn saves_more(&self) -> bool {
        !self.callback_addresses.is_empty()
    }
}

#[async_trait]
impl TransferStore for SqlStore {
    async fn create_transfer(&self, transfer: &TransferProcess) -> Result<(), StoreError> {
        self.create_leased(transfer).await
    }

    async fn save_transfer(&self, transfer: &TransferProcess, holder: &str) -> Result<(), StoreError> {
        self.save_leased(transfer, holder, now_ms()).await
    }

    async fn find_transfer(&self, id: &str) -> Result<Option<TransferProcess>, StoreError> {
        self.select_by_id(id).await
    }

    async fn find_transfer_by_correlation(
        &self,
        role: TransferRole,
        counter_party_id: &str,
        correlation_id: &str,
    ) -> Result<Option<TransferProcess>, StoreError> {
        self.find_by_correlation(role, counter_party_id, correlation_id).await
    }

    async fn lease_transfer(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<TransferProcess>, StoreError> {
        self.lease_one(id, holder, lease_ms, now_ms()).await
    }

    async fn claim_transfers(
        &self,
        role: TransferRole,
        states: &[TransferState],
        limit: u32,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Vec<TransferProcess>, StoreError> {
        self.claim_due(role, states, limit, holder, lease_ms, now_ms()).await
    }

    async fn query_transfers(&self, spec: &QuerySpec) -> Result<Vec<TransferProcess>, StoreError> {
        self.select(spec).await
    }
}

#[async_trait]
impl DataFlowStore for SqlStore {
    async fn create_flow(&self, flow: &DataFlow) -> Result<(), StoreError> {
        self.insert(flow).await
    }

    async fn save_flow(&self, flow: &DataFlow) -> Result<(), StoreError> {
        self.replace(flow).await
    }

    async fn find_flow(&self, id: &str) -> Result<Option<DataFlow>, StoreError> {
        self.select_by_id(id).await
    }

    async fn save_refreshed_flow(&self, flow: &DataFlow, expected_refresh_hash: &str) -> Result<bool, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("UPDATE {} SET ", DataFlow::TABLE));
        for (index, (name, value)) in flow.columns().into_iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.push(&format!("{name} = "));
            sql.bind(value);
        }
        sql.push(" WHERE id = ");
        sql.bind(Arg::Text(flow.id.clone()));
        sql.push(" AND state = ");
        sql.bind(Arg::Text(dsc_domain::DataFlowState::Started.name().to_string()));
        sql.push(" AND refresh_token_hash = ");
        sql.bind(Arg::Text(expected_refresh_hash.to_string()));
        let result = sql.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(result.rows_affected() == 1)
    }
}
