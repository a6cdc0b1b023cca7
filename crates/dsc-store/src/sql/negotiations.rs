// SPDX-License-Identifier: Apache-2.0
//! Contract negotiations and agreements in SQL, with leases.

use async_trait::async_trait;
use dsc_domain::negotiation::{negotiation_event_envelope, negotiation_events};
use dsc_domain::{ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState, QuerySpec};
use sqlx::Row;

use super::entities::Entity;
use super::filter::{Arg, SqlBuilder};
use super::{Dialect, SqlStore};
use crate::{CallbackOutbox, NegotiationStore, OutboxEntry, StoreError};

const OUTBOX: &str = "edc_callback_outbox";

/// Writes the events a change from `before` to the negotiation's state produces, for every callback that wants
/// them, inside the caller's transaction.
async fn enqueue_events(
    dialect: Dialect,
    connection: &mut sqlx::AnyConnection,
    negotiation: &ContractNegotiation,
    before: Option<NegotiationState>,
) -> Result<(), StoreError> {
    let now = now_ms();
    let events = negotiation_events(before, negotiation.state, negotiation.role);
    let mut deliveries = Vec::new();
    for event in &events {
        for callback in negotiation.callback_addresses.iter().filter(|c| c.wants(event)) {
            let id = uuid::Uuid::new_v4().to_string();
            let body = negotiation_event_envelope(negotiation, event, &id, now).to_string();
            deliveries.push((id, callback.clone(), body));
        }
    }
    write_outbox(dialect, connection, deliveries).await
}

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

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

const TABLE: &str = "edc_contract_negotiation";

/// `(lease_holder IS NULL OR lease_holder = <holder> OR lease_expiry < <now>)`: the lease is free or ours.
pub(crate) fn push_lease_free(sql: &mut SqlBuilder, holder: &str, now: i64) {
    sql.push("(lease_holder IS NULL OR lease_holder = ");
    sql.bind(Arg::Text(holder.to_string()));
    sql.push(" OR lease_expiry < ");
    sql.bind(Arg::Int(now));
    sql.push(")");
}

/// `UPDATE <table> SET lease… WHERE id IN (SELECT id … WHERE <filter> AND <lease free> ORDER BY … LIMIT n)
/// RETURNING *`: the one claim statement behind every work queue (negotiations, callback events).
#[allow(clippy::too_many_arguments)]
pub(crate) fn claim_sql(
    dialect: Dialect,
    table: &str,
    holder: &str,
    lease_ms: i64,
    now: i64,
    filter: impl FnOnce(&mut SqlBuilder),
    order_by: &str,
    limit: u32,
) -> SqlBuilder {
    let mut sql = SqlBuilder::new(dialect);
    sql.push(&format!("UPDATE {table} SET lease_holder = "));
    sql.bind(Arg::Text(holder.to_string()));
    sql.push(", lease_expiry = ");
    sql.bind(Arg::Int(now + lease_ms));
    sql.push(&format!(" WHERE id IN (SELECT id FROM {table} WHERE "));
    filter(&mut sql);
    sql.push(" AND (lease_holder IS NULL OR lease_expiry < ");
    sql.bind(Arg::Int(now));
    sql.push(&format!(") ORDER BY {order_by} LIMIT "));
    sql.bind(Arg::Int(i64::from(limit)));
    // PostgreSQL: replicas skip rows another claimer has locked instead of waiting for them. SQLite serialises
    // writers, which gives the same exclusivity.
    if dialect == Dialect::Postgres {
        sql.push(" FOR UPDATE SKIP LOCKED");
    }
    sql.push(") RETURNING *");
    sql
}

impl SqlStore {
    /// Writes every column and releases the lease, provided `holder` holds it or nobody does.
    fn update_sql(&self, negotiation: &ContractNegotiation, holder: &str) -> SqlBuilder {
        let mut update = SqlBuilder::new(self.dialect);
        update.push(&format!("UPDATE {TABLE} SET "));
        for (name, value) in negotiation.columns() {
            update.push(&format!("{name} = "));
            update.bind(value);
            update.push(", ");
        }
        update.push("lease_holder = NULL, lease_expiry = NULL WHERE id = ");
        update.bind(Arg::Text(negotiation.id.clone()));
        update.push(" AND ");
        push_lease_free(&mut update, holder, now_ms());
        update
    }

    async fn lease_holder_of(&self, id: &str) -> Result<Option<Option<String>>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT lease_holder FROM {TABLE} WHERE id = "));
        sql.bind(Arg::Text(id.to_string()));
        let row = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?;
        row.map(|row| row.try_get::<Option<String>, _>("lease_holder").map_err(StoreError::from_sqlx)).transpose()
    }

    async fn lease_conflict(&self, id: &str) -> StoreError {
        match self.lease_holder_of(id).await {
            Ok(None) => StoreError::NotFound { entity: ContractNegotiation::NAME, id: id.to_string() },
            Ok(Some(holder)) => StoreError::LeaseHeld {
                entity: ContractNegotiation::NAME,
                id: id.to_string(),
                holder: holder.unwrap_or_default(),
            },
            Err(error) => error,
        }
    }
}

#[async_trait]
impl NegotiationStore for SqlStore {
    async fn create_negotiation(&self, negotiation: &ContractNegotiation) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        match self.insert_sql(negotiation).execute_in(&mut transaction).await {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::AlreadyExists {
                    entity: ContractNegotiation::NAME,
                    id: negotiation.id.clone(),
                });
            }
            other => other.map_err(StoreError::from_sqlx)?,
        };
        enqueue_events(self.dialect, &mut transaction, negotiation, None).await?;
        transaction.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn save_negotiation(&self, negotiation: &ContractNegotiation, holder: &str) -> Result<(), StoreError> {
        let update = self.update_sql(negotiation, holder);
        // Nothing else to write: one statement, no transaction (the common case without callbacks).
        if negotiation.callback_addresses.is_empty() && negotiation.agreement.is_none() {
            let updated = update.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
            if updated.rows_affected() == 0 {
                return Err(self.lease_conflict(&negotiation.id).await);
            }
            return Ok(());
        }
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        // Lock the row and read the state it had, in one statement. Writing first matters on SQLite: a
        // transaction that reads and then writes fails at once (SQLITE_BUSY, no busy wait) when another writer
        // committed in between; a leading write takes the write lock, waiting politely. On PostgreSQL it locks
        // the row for the rest of the transaction.
        let mut lock = SqlBuilder::new(self.dialect);
        lock.push(&format!("UPDATE {TABLE} SET lease_holder = lease_holder WHERE id = "));
        lock.bind(Arg::Text(negotiation.id.clone()));
        lock.push(" RETURNING state");
        let before = lock
            .fetch_optional_in(&mut transaction)
            .await
            .map_err(StoreError::from_sqlx)?
            .and_then(|row| row.try_get::<i64, _>("state").ok())
            .and_then(|code| i32::try_from(code).ok())
            .and_then(NegotiationState::from_code);
        let updated = update.execute_in(&mut transaction).await.map_err(StoreError::from_sqlx)?;
        if updated.rows_affected() == 0 {
            drop(transaction);
            return Err(self.lease_conflict(&negotiation.id).await);
        }
        enqueue_events(self.dialect, &mut transaction, negotiation, before).await?;
        // An agreement is written by the save that leaves the states without one, and never touched again.
        let agreement_is_new = before.is_none_or(|state| state.code() < NegotiationState::Agreeing.code());
        if let Some(agreement) = negotiation.agreement.as_ref().filter(|_| agreement_is_new) {
            let mut insert = SqlBuilder::new(self.dialect);
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
            insert.bind(Arg::Text(negotiation.id.clone()));
            for (_, value) in columns {
                insert.push(", ");
                insert.bind(value);
            }
            insert.push(") ON CONFLICT (id) DO NOTHING");
            insert.execute_in(&mut transaction).await.map_err(StoreError::from_sqlx)?;
        }
        transaction.commit().await.map_err(StoreError::from_sqlx)
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
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM {TABLE} WHERE role = "));
        sql.bind(Arg::Text(role.name().to_string()));
        sql.push(" AND counter_party_id = ");
        sql.bind(Arg::Text(counter_party_id.to_string()));
        sql.push(" AND correlation_id = ");
        sql.bind(Arg::Text(correlation_id.to_string()));
        let row = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?;
        row.map(|row| ContractNegotiation::from_row(&row)).transpose()
    }

    async fn lease_negotiation(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<ContractNegotiation>, StoreError> {
        let now = now_ms();
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("UPDATE {TABLE} SET lease_holder = "));
        sql.bind(Arg::Text(holder.to_string()));
        sql.push(", lease_expiry = ");
        sql.bind(Arg::Int(now + lease_ms));
        sql.push(" WHERE id = ");
        sql.bind(Arg::Text(id.to_string()));
        sql.push(" AND ");
        push_lease_free(&mut sql, holder, now);
        sql.push(" RETURNING *");
        match sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)? {
            Some(row) => ContractNegotiation::from_row(&row).map(Some),
            None => match self.lease_conflict(id).await {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn claim_negotiations(
        &self,
        role: NegotiationRole,
        states: &[NegotiationState],
        limit: u32,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Vec<ContractNegotiation>, StoreError> {
        if states.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = now_ms();
        let filter = |sql: &mut SqlBuilder| {
            sql.push("role = ");
            sql.bind(Arg::Text(role.name().to_string()));
            sql.push(" AND state IN (");
            for (index, state) in states.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.bind(Arg::Int(i64::from(state.code())));
            }
            sql.push(") AND state_timestamp <= ");
            sql.bind(Arg::Int(now));
        };
        let sql = claim_sql(self.dialect, TABLE, holder, lease_ms, now, filter, "state_timestamp, id", limit);
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        let mut claimed = rows.iter().map(ContractNegotiation::from_row).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by(|a, b| (a.state_timestamp, &a.id).cmp(&(b.state_timestamp, &b.id)));
        Ok(claimed)
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
