// SPDX-License-Identifier: Apache-2.0
//! Transfer processes (with leases) and the data plane's flows in SQL.

use async_trait::async_trait;
use dsc_domain::transfer::{transfer_event_envelope, transfer_events};
use dsc_domain::{DataFlow, QuerySpec, TransferProcess, TransferRole, TransferState};
use sqlx::Row;

use super::entities::Entity;
use super::filter::{Arg, SqlBuilder};
use super::negotiations::{claim_sql, now_ms, push_lease_free, write_outbox};
use super::{Dialect, SqlStore};
use crate::{DataFlowStore, StoreError, TransferStore};

const TABLE: &str = "edc_transfer_process";

async fn enqueue_events(
    dialect: Dialect,
    connection: &mut sqlx::AnyConnection,
    transfer: &TransferProcess,
    before: Option<TransferState>,
) -> Result<(), StoreError> {
    let now = now_ms();
    let mut deliveries = Vec::new();
    for event in transfer_events(before, transfer.state, transfer.role) {
        for callback in transfer.callback_addresses.iter().filter(|c| c.wants(&event)) {
            let id = uuid::Uuid::new_v4().to_string();
            let body = transfer_event_envelope(transfer, &event, &id, now, None).to_string();
            deliveries.push((id, callback.clone(), body));
        }
    }
    write_outbox(dialect, connection, deliveries).await
}

impl SqlStore {
    fn transfer_update_sql(&self, transfer: &TransferProcess, holder: &str) -> SqlBuilder {
        let mut update = SqlBuilder::new(self.dialect);
        update.push(&format!("UPDATE {TABLE} SET "));
        for (name, value) in transfer.columns() {
            update.push(&format!("{name} = "));
            update.bind(value);
            update.push(", ");
        }
        update.push("lease_holder = NULL, lease_expiry = NULL WHERE id = ");
        update.bind(Arg::Text(transfer.id.clone()));
        update.push(" AND ");
        push_lease_free(&mut update, holder, now_ms());
        update
    }

    async fn transfer_lease_conflict(&self, id: &str) -> StoreError {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT lease_holder FROM {TABLE} WHERE id = "));
        sql.bind(Arg::Text(id.to_string()));
        match sql.fetch_optional(&self.pool).await {
            Ok(None) => StoreError::NotFound { entity: TransferProcess::NAME, id: id.to_string() },
            Ok(Some(row)) => StoreError::LeaseHeld {
                entity: TransferProcess::NAME,
                id: id.to_string(),
                holder: row.try_get::<Option<String>, _>("lease_holder").ok().flatten().unwrap_or_default(),
            },
            Err(error) => StoreError::from_sqlx(error),
        }
    }
}

#[async_trait]
impl TransferStore for SqlStore {
    async fn create_transfer(&self, transfer: &TransferProcess) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        match self.insert_sql(transfer).execute_in(&mut transaction).await {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::AlreadyExists { entity: TransferProcess::NAME, id: transfer.id.clone() });
            }
            other => other.map_err(StoreError::from_sqlx)?,
        };
        enqueue_events(self.dialect, &mut transaction, transfer, None).await?;
        transaction.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn save_transfer(&self, transfer: &TransferProcess, holder: &str) -> Result<(), StoreError> {
        let update = self.transfer_update_sql(transfer, holder);
        if transfer.callback_addresses.is_empty() {
            let updated = update.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
            if updated.rows_affected() == 0 {
                return Err(self.transfer_lease_conflict(&transfer.id).await);
            }
            return Ok(());
        }
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        // Lock the row and read its state in one statement (see the negotiation store for why the write comes first).
        let mut lock = SqlBuilder::new(self.dialect);
        lock.push(&format!("UPDATE {TABLE} SET lease_holder = lease_holder WHERE id = "));
        lock.bind(Arg::Text(transfer.id.clone()));
        lock.push(" RETURNING state");
        let before = lock
            .fetch_optional_in(&mut transaction)
            .await
            .map_err(StoreError::from_sqlx)?
            .and_then(|row| row.try_get::<i64, _>("state").ok())
            .and_then(|code| i32::try_from(code).ok())
            .and_then(TransferState::from_code);
        let updated = update.execute_in(&mut transaction).await.map_err(StoreError::from_sqlx)?;
        if updated.rows_affected() == 0 {
            drop(transaction);
            return Err(self.transfer_lease_conflict(&transfer.id).await);
        }
        enqueue_events(self.dialect, &mut transaction, transfer, before).await?;
        transaction.commit().await.map_err(StoreError::from_sqlx)
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
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM {TABLE} WHERE role = "));
        sql.bind(Arg::Text(role.name().to_string()));
        sql.push(" AND counter_party_id = ");
        sql.bind(Arg::Text(counter_party_id.to_string()));
        sql.push(" AND correlation_id = ");
        sql.bind(Arg::Text(correlation_id.to_string()));
        let row = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?;
        row.map(|row| TransferProcess::from_row(&row)).transpose()
    }

    async fn lease_transfer(
        &self,
        id: &str,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Option<TransferProcess>, StoreError> {
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
            Some(row) => TransferProcess::from_row(&row).map(Some),
            None => match self.transfer_lease_conflict(id).await {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn claim_transfers(
        &self,
        role: TransferRole,
        states: &[TransferState],
        limit: u32,
        holder: &str,
        lease_ms: i64,
    ) -> Result<Vec<TransferProcess>, StoreError> {
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
        let mut claimed = rows.iter().map(TransferProcess::from_row).collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by(|a, b| (a.state_timestamp, &a.id).cmp(&(b.state_timestamp, &b.id)));
        Ok(claimed)
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
