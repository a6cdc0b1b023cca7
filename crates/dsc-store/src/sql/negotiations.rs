// SPDX-License-Identifier: Apache-2.0
//! Contract negotiations and agreements in SQL (their leased operations are in `leased.rs`), and the callback
//! outbox their saves write to.

use async_trait::async_trait;
use dsc_domain::negotiation::{negotiation_event_envelope, negotiation_events};
use dsc_domain::{
    CallbackAddress, ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState, QuerySpec,
};

use super::entities::Entity;
use super::filter::{Arg, SqlBuilder};
use super::leased::{Leased, claim_sql};
use super::{Dialect, SqlStore};
use crate::{CallbackOutbox, LeasedStore, NegotiationStore, OutboxEntry, StoreError};

const OUTBOX: &str = "edc_callback_outbox";

/// Inserts outbox entries `(id, callback, body)` inside the caller's transaction, in order.
pub(crate) async fn write_outbox(
    dialect: Dialect,
    connection: &mut sqlx::AnyConnection,
    deliveries: Vec<(String, dsc_domain::CallbackAddress, String)>,
) -> Result<(), StoreError> {
    let now = now_ms();
    // Delivery follows this column: microseconds plus the position in this save, so the events of one save keep
    // their order and later saves of the same process (under its lease, never within one microsecond) come after.
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2))
        .unwrap_or_default();
    for (position, (id, callback, body)) in deliveries.into_iter().enumerate() {
        let mut sql = SqlBuilder::new(dialect);
        sql.push(&format!(
            "INSERT INTO {OUTBOX} (id, created_at, uri, auth_key, auth_code_id, body, attempts, next_attempt_at) VALUES ("
        ));
        for (index, arg) in [
            Arg::Text(id),
            Arg::Int(micros + position as i64 + 1),
            Arg::Text(callback.uri.clone()),
            Arg::OptText(callback.auth_key.clone()),
            Arg::OptText(callback.auth_code_id.clone()),
            Arg::Text(body),
            Arg::Int(0),
            Arg::Int(now),
        ]
        .into_iter()
        .enumerate()
        {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind(arg);
        }
        sql.push(")");
        sql.execute_in(connection).await.map_err(StoreError::from_sqlx)?;
    }
    Ok(())
}

/// Epoch milliseconds now, from the one system clock (`dsc_domain::clock`).
pub(crate) fn now_ms() -> i64 {
    dsc_domain::clock::system_now_millis()
}

impl Leased for ContractNegotiation {
    fn state_code(state: NegotiationState) -> i32 {
        state.code()
    }

    fn state_from_code(code: i32) -> Option<NegotiationState> {
        NegotiationState::from_code(code)
    }

    fn deliveries(&self, before: Option<NegotiationState>) -> Vec<(String, CallbackAddress, String)> {
        let now = now_ms();
        let mut deliveries = Vec::new();
        for event in &negotiation_events(before, self.state, self.role) {
            for callback in self.callback_addresses.iter().filter(|c| c.wants(event)) {
                let id = uuid::Uuid::new_v4().to_string();
                let body = negotiation_event_envelope(self, event, &id, now).to_string();
                deliveries.push((id, callback.clone(), body));
            }
        }
        deliveries
    }

    fn saves_more(&self) -> bool {
        !self.callback_addresses.is_empty() || self.agreement.is_some()
    }

    /// An agreement is written by the save that leaves the states without one, and never touched again.
    fn further_write(&self, dialect: Dialect, before: Option<NegotiationState>) -> Option<SqlBuilder> {
        let agreement_is_new = before.is_none_or(|state| state.code() < NegotiationState::Agreeing.code());
        let agreement = self.agreement.as_ref().filter(|_| agreement_is_new)?;
        let mut insert = SqlBuilder::new(dialect);
        insert.push(&format!("INSERT INTO {} (id, created_at, negotiation_id", ContractAgreement::TABLE));
        let columns = agreement.columns();
        for (name, _) in &columns {
            insert.push(&format!(", {name}"));
        }
        insert.push(") VALUES (");
        insert.bind(Arg::Text(agreement.id.clone()));
        insert.push(", ");
        insert.bind(Arg::Int(now_ms()));
        insert.push(", ");
        insert.bind(Arg::Text(self.id.clone()));
        for (_, value) in columns {
            insert.push(", ");
            insert.bind(value);
        }
        insert.push(") ON CONFLICT (id) DO NOTHING");
        Some(insert)
    }
}

#[async_trait]
impl NegotiationStore for SqlStore {
    async fn create_negotiation(&self, negotiation: &ContractNegotiation) -> Result<(), StoreError> {
        self.create_leased(negotiation).await
    }

    async fn save_negotiation(&self, negotiation: &ContractNegotiation, holder: &str) -> Result<(), StoreError> {
        self.save_leased(negotiation, holder, now_ms()).await
    }

    async fn find_negotiation(&self, id: &str) -> Result<Option<ContractNegotiation>, StoreError> {
        self.select_by_id(id).await
    }

    async fn find_negotiation_by_correlation(
        &self,
        role: NegotiationRole,
        counter_party_id: &str,
        correlation_id: &str,
    ) -> Result<Option<ContractNegotiation>, StoreError> {
        self.find_by_correlation(role, counter_party_id, correlation_id).await
    }

    async fn lease_negotiation(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<ContractNegotiation>, StoreError> {
        self.lease_one(id, holder, lease_ms, now_ms()).await
    }

    async fn claim_negotiations(
        &self,
        role: NegotiationRole,
        states: &[NegotiationState],
        limit: u32,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Vec<ContractNegotiation>, StoreError> {
        self.claim_due(role, states, limit, holder, lease_ms, now_ms()).await
    }

    async fn query_negotiations(&self, spec: &QuerySpec) -> Result<Vec<ContractNegotiation>, StoreError> {
        self.select(spec).await
    }

    async fn find_agreement(&self, id: &str) -> Result<Option<ContractAgreement>, StoreError> {
        self.select_by_id(id).await
    }

    async fn query_agreements(&self, spec: &QuerySpec) -> Result<Vec<ContractAgreement>, StoreError> {
        self.select(spec).await
    }
}

#[async_trait]
impl CallbackOutbox for SqlStore {
    async fn claim_callbacks(&self, limit: u32, holder: &str, lease_ms: i64) -> Result<Vec<OutboxEntry>, StoreError> {
        let now = now_ms();
        let filter = |sql: &mut SqlBuilder| {
            sql.push("next_attempt_at <= ");
            sql.bind(Arg::Int(now));
        };
        let sql = claim_sql(self.dialect, OUTBOX, holder, lease_ms, now, filter, "created_at, id", limit);
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        let mut entries = Vec::new();
        for row in rows {
            let attempts: i64 = super::column(&row, "attempts")?;
            let created: i64 = super::column(&row, "created_at")?;
            entries.push((
                created,
                OutboxEntry {
                    id: super::column(&row, "id")?,
                    uri: super::column(&row, "uri")?,
                    auth_key: super::column(&row, "auth_key")?,
                    auth_code_id: super::column(&row, "auth_code_id")?,
                    body: super::column(&row, "body")?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                },
            ));
        }
        entries.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        Ok(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    async fn callback_delivered(&self, id: &str) -> Result<(), StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("DELETE FROM {OUTBOX} WHERE id = "));
        sql.bind(Arg::Text(id.to_string()));
        sql.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }

    async fn callback_failed(&self, id: &str, attempts: u32, next_attempt_at: i64) -> Result<(), StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("UPDATE {OUTBOX} SET attempts = "));
        sql.bind(Arg::Int(i64::from(attempts)));
        sql.push(", next_attempt_at = ");
        sql.bind(Arg::Int(next_attempt_at));
        sql.push(", lease_holder = NULL, lease_expiry = NULL WHERE id = ");
        sql.bind(Arg::Text(id.to_string()));
        sql.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}
