// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL grants in SQL.

use async_trait::async_trait;
use dsc_domain::kafka::{KafkaGrant, KafkaGrantState};
use dsc_domain::query::PropertyPath;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::entities::Entity;
use super::filter::{Arg, Field, SqlBuilder};
use super::{SqlStore, column};
use crate::{KafkaGrantStore, StoreError};

impl Entity for KafkaGrant {
    const TABLE: &'static str = "dsc_kafka_grant";
    const NAME: &'static str = "KafkaGrant";

    fn id(&self) -> &str {
        &self.id
    }

    fn created_at(&self) -> i64 {
        self.created_at
    }

    fn columns(&self) -> Vec<(&'static str, Arg)> {
        vec![
            ("updated_at", Arg::Int(self.updated_at)),
            ("flow_id", Arg::Text(self.flow_id.clone())),
            ("state", Arg::Text(self.state.name().to_string())),
            ("topic", Arg::Text(self.topic.clone())),
            ("group_prefix", Arg::Text(self.group_prefix.clone())),
            ("principal", Arg::OptText(self.principal.clone())),
            ("client_id", Arg::OptText(self.client_id.clone())),
            ("client_secret_alias", Arg::OptText(self.client_secret_alias.clone())),
            ("registration_token_alias", Arg::OptText(self.registration_token_alias.clone())),
            ("registration_client_uri", Arg::OptText(self.registration_client_uri.clone())),
            ("error_detail", Arg::OptText(self.error_detail.clone())),
        ]
    }

    fn from_row(row: &AnyRow) -> Result<Self, StoreError> {
        let id: String = column(row, "id")?;
        let state: String = column(row, "state")?;
        Ok(KafkaGrant {
            state: KafkaGrantState::parse(&state).ok_or_else(|| StoreError::Corrupt {
                entity: Self::NAME,
                id: id.clone(),
                reason: format!("unknown state {state}"),
            })?,
            flow_id: column(row, "flow_id")?,
            topic: column(row, "topic")?,
            group_prefix: column(row, "group_prefix")?,
            principal: column(row, "principal")?,
            client_id: column(row, "client_id")?,
            client_secret_alias: column(row, "client_secret_alias")?,
            registration_token_alias: column(row, "registration_token_alias")?,
            registration_client_uri: column(row, "registration_client_uri")?,
            error_detail: column(row, "error_detail")?,
            created_at: column(row, "created_at")?,
            updated_at: column(row, "updated_at")?,
            id,
        })
    }

    fn field(path: &PropertyPath) -> Option<Field> {
        let [single] = path.0.as_slice() else { return None };
        (single == "id").then_some(Field::Column("id"))
    }
}

impl SqlStore {
    async fn grants_where(&self, condition: &str, arg: Option<Arg>) -> Result<Vec<KafkaGrant>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM dsc_kafka_grant WHERE state <> 'REVOKED'{condition}"));
        if let Some(arg) = arg {
            sql.bind(arg);
        }
        sql.push(" ORDER BY created_at, id");
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        rows.iter().map(KafkaGrant::from_row).collect()
    }
}

#[async_trait]
impl KafkaGrantStore for SqlStore {
    async fn create_grant(&self, grant: &KafkaGrant) -> Result<(), StoreError> {
        self.insert(grant).await
    }

    async fn save_grant(&self, grant: &KafkaGrant) -> Result<(), StoreError> {
        self.replace(grant).await
    }

    async fn live_grants_of_flow(&self, flow_id: &str) -> Result<Vec<KafkaGrant>, StoreError> {
        self.grants_where(" AND flow_id = ", Some(Arg::Text(flow_id.to_string()))).await
    }

    async fn live_grants(&self) -> Result<Vec<KafkaGrant>, StoreError> {
        self.grants_where("", None).await
    }

    async fn grant_principals(&self) -> Result<Vec<String>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push("SELECT DISTINCT principal FROM dsc_kafka_grant WHERE principal IS NOT NULL ORDER BY principal");
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        rows.iter().map(|row| row.try_get::<String, _>("principal").map_err(StoreError::from_sqlx)).collect()
    }
}
