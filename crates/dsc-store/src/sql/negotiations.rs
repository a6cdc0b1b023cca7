// SPDX-License-Identifier: Apache-2.0
//! Contract negotiations and agreements in SQL, with leases.

use async_trait::async_trait;
use dsc_domain::{ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState, QuerySpec};
use sqlx::Row;

use super::entities::Entity;
use super::filter::{Arg, SqlBuilder};
use super::{Dialect, SqlStore};
use crate::{NegotiationStore, StoreError};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

const TABLE: &str = "edc_contract_negotiation";

/// `(lease_holder IS NULL OR lease_holder = <holder> OR lease_expiry < <now>)`: the lease is free or ours.
fn push_lease_free(sql: &mut SqlBuilder, holder: &str, now: i64) {
    sql.push("(lease_holder IS NULL OR lease_holder = ");
    sql.bind(Arg::Text(holder.to_string()));
    sql.push(" OR lease_expiry < ");
    sql.bind(Arg::Int(now));
    sql.push(")");
}

impl SqlStore {
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
        self.insert(negotiation).await
    }

    async fn save_negotiation(&self, negotiation: &ContractNegotiation, holder: &str) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
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
        let updated = update.execute_in(&mut transaction).await.map_err(StoreError::from_sqlx)?;
        if updated.rows_affected() == 0 {
            drop(transaction);
            return Err(self.lease_conflict(&negotiation.id).await);
        }
        if let Some(agreement) = &negotiation.agreement {
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
            // An agreement is immutable: saving the negotiation again must not touch it.
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
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("UPDATE {TABLE} SET lease_holder = "));
        sql.bind(Arg::Text(holder.to_string()));
        sql.push(", lease_expiry = ");
        sql.bind(Arg::Int(now + lease_ms));
        sql.push(&format!(" WHERE id IN (SELECT id FROM {TABLE} WHERE role = "));
        sql.bind(Arg::Text(role.name().to_string()));
        sql.push(" AND state IN (");
        for (index, state) in states.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind(Arg::Int(i64::from(state.code())));
        }
        sql.push(") AND (lease_holder IS NULL OR lease_expiry < ");
        sql.bind(Arg::Int(now));
        sql.push(") AND state_timestamp <= ");
        sql.bind(Arg::Int(now));
        sql.push(" ORDER BY state_timestamp, id LIMIT ");
        sql.bind(Arg::Int(i64::from(limit)));
        // PostgreSQL: replicas skip rows another claimer has locked instead of waiting for them. SQLite
        // serialises writers, which gives the same exclusivity.
        if sql.dialect() == Dialect::Postgres {
            sql.push(" FOR UPDATE SKIP LOCKED");
        }
        sql.push(") RETURNING *");
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
