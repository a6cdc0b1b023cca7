// SPDX-License-Identifier: Apache-2.0
//! The leased state-entity SQL, written once: negotiations and transfers differ only in the small descriptor
//! [`Leased`] on top of their [`Entity`] mapping.

use async_trait::async_trait;
use dsc_domain::{CallbackAddress, NegotiationRole};
use sqlx::Row;

use super::entities::Entity;
use super::filter::{Arg, SqlBuilder};
use super::negotiations::write_outbox;
use super::{Dialect, SqlStore};
use crate::{LeasedEntity, LeasedStore, StoreError};

/// What the generic leased SQL needs to know about an entity beyond its table mapping.
pub(crate) trait Leased: Entity + LeasedEntity {
    fn state_code(state: Self::State) -> i32;
    fn state_from_code(code: i32) -> Option<Self::State>;
    /// The outbox entries `(id, callback, body)` a change from `before` to the entity's state produces.
    fn deliveries(&self, before: Option<Self::State>) -> Vec<(String, CallbackAddress, String)>;
    /// Whether a save may write more than the entity's row; only then does it need a transaction.
    fn saves_more(&self) -> bool;
    /// A further statement a save from `before` writes in the same transaction (a negotiation's agreement).
    fn further_write(&self, _dialect: Dialect, _before: Option<Self::State>) -> Option<SqlBuilder> {
        None
    }
}

/// `(lease_holder IS NULL OR lease_holder = <holder> OR lease_expiry < <now>)`: the lease is free or ours.
fn push_lease_free(sql: &mut SqlBuilder, holder: &str, now: i64) {
    sql.push("(lease_holder IS NULL OR lease_holder = ");
    sql.bind(Arg::Text(holder.to_string()));
    sql.push(" OR lease_expiry < ");
    sql.bind(Arg::Int(now));
    sql.push(")");
}

/// `UPDATE <table> SET lease… WHERE id IN (SELECT id … WHERE <filter> AND <lease free> ORDER BY … LIMIT n)
/// RETURNING *`: the one claim statement behind every work queue (negotiations, transfers, callback events).
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
    fn leased_update_sql<E: Leased>(&self, entity: &E, holder: &str, now: i64) -> SqlBuilder {
        let mut update = SqlBuilder::new(self.dialect);
        update.push(&format!("UPDATE {} SET ", E::TABLE));
        for (name, value) in entity.columns() {
            update.push(&format!("{name} = "));
            update.bind(value);
            update.push(", ");
        }
        update.push("lease_holder = NULL, lease_expiry = NULL WHERE id = ");
        update.bind(Arg::Text(entity.id().to_string()));
        update.push(" AND ");
        push_lease_free(&mut update, holder, now);
        update
    }

    /// Why a write under a lease touched no row: the entity is gone, or someone else holds it.
    async fn lease_conflict<E: Leased>(&self, id: &str) -> StoreError {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT lease_holder FROM {} WHERE id = ", E::TABLE));
        sql.bind(Arg::Text(id.to_string()));
        match sql.fetch_optional(&self.pool).await {
            Ok(None) => StoreError::NotFound { entity: E::NAME, id: id.to_string() },
            Ok(Some(row)) => match row.try_get::<Option<String>, _>("lease_holder") {
                Ok(holder) => {
                    StoreError::LeaseHeld { entity: E::NAME, id: id.to_string(), holder: holder.unwrap_or_default() }
                }
                Err(error) => StoreError::from_sqlx(error),
            },
            Err(error) => StoreError::from_sqlx(error),
        }
    }
}

#[async_trait]
impl<E: Leased> LeasedStore<E> for SqlStore {
    async fn create_leased(&self, entity: &E) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        match self.insert_sql(entity).execute_in(&mut transaction).await {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(StoreError::AlreadyExists { entity: E::NAME, id: entity.id().to_string() });
            }
            other => other.map_err(StoreError::from_sqlx)?,
        };
        write_outbox(self.dialect, &mut transaction, entity.deliveries(None)).await?;
        transaction.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn save_leased(&self, entity: &E, holder: &str, now: i64) -> Result<(), StoreError> {
        let update = self.leased_update_sql(entity, holder, now);
        // Nothing else to write: one statement, no transaction (the common case without callbacks).
        if !entity.saves_more() {
            let updated = update.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
            if updated.rows_affected() == 0 {
                return Err(self.lease_conflict::<E>(entity.id()).await);
            }
            return Ok(());
        }
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
        // Lock the row and read the state it had, in one statement. Writing first matters on SQLite: a
        // transaction that reads and then writes fails at once (SQLITE_BUSY, no busy wait) when another writer
        // committed in between; a leading write takes the write lock, waiting politely. On PostgreSQL it locks
        // the row for the rest of the transaction.
        let mut lock = SqlBuilder::new(self.dialect);
        lock.push(&format!("UPDATE {} SET lease_holder = lease_holder WHERE id = ", E::TABLE));
        lock.bind(Arg::Text(entity.id().to_string()));
        lock.push(" RETURNING state");
        let before = lock
            .fetch_optional_in(&mut transaction)
            .await
            .map_err(StoreError::from_sqlx)?
            .and_then(|row| row.try_get::<i64, _>("state").ok())
            .and_then(|code| i32::try_from(code).ok())
            .and_then(E::state_from_code);
        let updated = update.execute_in(&mut transaction).await.map_err(StoreError::from_sqlx)?;
        if updated.rows_affected() == 0 {
            drop(transaction);
            return Err(self.lease_conflict::<E>(entity.id()).await);
        }
        write_outbox(self.dialect, &mut transaction, entity.deliveries(before)).await?;
        if let Some(further) = entity.further_write(self.dialect, before) {
            further.execute_in(&mut transaction).await.map_err(StoreError::from_sqlx)?;
        }
        transaction.commit().await.map_err(StoreError::from_sqlx)
    }

    async fn lease_one(&self, id: &str, holder: &str, lease_ms: i64, now: i64) -> Result<Option<E>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("UPDATE {} SET lease_holder = ", E::TABLE));
        sql.bind(Arg::Text(holder.to_string()));
        sql.push(", lease_expiry = ");
        sql.bind(Arg::Int(now + lease_ms));
        sql.push(" WHERE id = ");
        sql.bind(Arg::Text(id.to_string()));
        sql.push(" AND ");
        push_lease_free(&mut sql, holder, now);
        sql.push(" RETURNING *");
        match sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)? {
            Some(row) => E::from_row(&row).map(Some),
            None => match self.lease_conflict::<E>(id).await {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn claim_due(
        &self,
        role: NegotiationRole,
        states: &[E::State],
        limit: u32,
        holder: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<Vec<E>, StoreError> {
        if states.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let filter = |sql: &mut SqlBuilder| {
            sql.push("role = ");
            sql.bind(Arg::Text(role.name().to_string()));
            sql.push(" AND state IN (");
            for (index, state) in states.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.bind(Arg::Int(i64::from(E::state_code(*state))));
            }
            sql.push(") AND pending = 0 AND state_timestamp <= ");
            sql.bind(Arg::Int(now));
        };
        let sql = claim_sql(self.dialect, E::TABLE, holder, lease_ms, now, filter, "state_timestamp, id", limit);
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let timestamp: i64 = super::column(row, "state_timestamp")?;
            claimed.push((timestamp, E::from_row(row)?));
        }
        // RETURNING gives no order: restore the claim's.
        claimed.sort_by(|a, b| (a.0, a.1.id()).cmp(&(b.0, b.1.id())));
        Ok(claimed.into_iter().map(|(_, entity)| entity).collect())
    }

    async fn find_by_correlation(
        &self,
        role: NegotiationRole,
        counter_party_id: &str,
        correlation_id: &str,
    ) -> Result<Option<E>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM {} WHERE role = ", E::TABLE));
        sql.bind(Arg::Text(role.name().to_string()));
        sql.push(" AND counter_party_id = ");
        sql.bind(Arg::Text(counter_party_id.to_string()));
        sql.push(" AND correlation_id = ");
        sql.bind(Arg::Text(correlation_id.to_string()));
        let row = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?;
        row.map(|row| E::from_row(&row)).transpose()
    }
}
