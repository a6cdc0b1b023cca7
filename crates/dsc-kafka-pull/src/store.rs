// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL grants in SQL: the grant store and its table, kept in the connector's database through dsc-store's
//! plug-in access (shared pool, the connected dialect, migrations recorded under [`MIGRATIONS`]'s module name).

use async_trait::async_trait;
use dsc_store::{Arg, PluginMigration, PluginMigrations, SqlBuilder, SqlStore, StoreError, column};

use crate::grant::{KafkaGrant, KafkaGrantState};

/// The grants of the Kafka PULL handler.
#[async_trait]
pub trait KafkaGrantStore: Send + Sync {
    /// Fails with [`StoreError::AlreadyExists`] when a grant with the id exists.
    async fn create_grant(&self, grant: &KafkaGrant) -> Result<(), StoreError>;
    /// [`StoreError::NotFound`] when absent.
    async fn save_grant(&self, grant: &KafkaGrant) -> Result<(), StoreError>;
    /// The flow's grants that are not REVOKED, oldest first.
    async fn live_grants_of_flow(&self, flow_id: &str) -> Result<Vec<KafkaGrant>, StoreError>;
    /// Every grant that is not REVOKED, oldest first.
    async fn live_grants(&self) -> Result<Vec<KafkaGrant>, StoreError>;
    /// Every principal any grant ever had: ACLs of other principals are not this connector's to touch.
    async fn grant_principals(&self) -> Result<Vec<String>, StoreError>;
    /// How many grants are in each state (for the metrics endpoint).
    async fn grant_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;
}

/// The grant table. Version 1 creates it only if absent: databases from before this plug-in had it from core
/// migration 6.
pub const MIGRATIONS: PluginMigrations = PluginMigrations {
    module: "kafka-pull",
    migrations: &[PluginMigration {
        version: 1,
        description: "kafka grants",
        sqlite: include_str!("../migrations/sqlite/0001_kafka_grants.sql"),
        postgres: include_str!("../migrations/postgres/0001_kafka_grants.sql"),
    }],
};

const ENTITY: &str = "KafkaGrant";
const COLUMNS: [&str; 13] = [
    "id",
    "created_at",
    "updated_at",
    "flow_id",
    "state",
    "topic",
    "group_prefix",
    "principal",
    "client_id",
    "client_secret_alias",
    "registration_token_alias",
    "registration_client_uri",
    "error_detail",
];

/// Values in the order of [`COLUMNS`].
fn values(grant: &KafkaGrant) -> [Arg; 13] {
    [
        Arg::Text(grant.id.clone()),
        Arg::Int(grant.created_at),
        Arg::Int(grant.updated_at),
        Arg::Text(grant.flow_id.clone()),
        Arg::Text(grant.state.name().to_string()),
        Arg::Text(grant.topic.clone()),
        Arg::Text(grant.group_prefix.clone()),
        Arg::OptText(grant.principal.clone()),
        Arg::OptText(grant.client_id.clone()),
        Arg::OptText(grant.client_secret_alias.clone()),
        Arg::OptText(grant.registration_token_alias.clone()),
        Arg::OptText(grant.registration_client_uri.clone()),
        Arg::OptText(grant.error_detail.clone()),
    ]
}

fn from_row(row: &dsc_store::AnyRow) -> Result<KafkaGrant, StoreError> {
    let id: String = column(row, "id")?;
    let state: String = column(row, "state")?;
    Ok(KafkaGrant {
        state: KafkaGrantState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            entity: ENTITY,
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

async fn live_where(store: &SqlStore, flow_id: Option<&str>) -> Result<Vec<KafkaGrant>, StoreError> {
    let sql = store.plugin_sql();
    let mut query = sql.builder();
    query.push("SELECT * FROM dsc_kafka_grant WHERE state <> 'REVOKED'");
    if let Some(flow_id) = flow_id {
        query.push(" AND flow_id = ");
        query.bind(Arg::Text(flow_id.to_string()));
    }
    query.push(" ORDER BY created_at, id");
    sql.fetch_all(&query).await?.iter().map(from_row).collect()
}

fn push_list(query: &mut SqlBuilder, items: impl IntoIterator<Item = String>) {
    for (index, item) in items.into_iter().enumerate() {
        query.push(if index == 0 { "" } else { ", " });
        query.push(&item);
    }
}

#[async_trait]
impl KafkaGrantStore for SqlStore {
    async fn create_grant(&self, grant: &KafkaGrant) -> Result<(), StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("INSERT INTO dsc_kafka_grant (");
        push_list(&mut query, COLUMNS.iter().map(|c| c.to_string()));
        query.push(") VALUES (");
        for (index, value) in values(grant).into_iter().enumerate() {
            query.push(if index == 0 { "" } else { ", " });
            query.bind(value);
        }
        query.push(")");
        sql.insert(&query, ENTITY, &grant.id).await
    }

    async fn save_grant(&self, grant: &KafkaGrant) -> Result<(), StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("UPDATE dsc_kafka_grant SET ");
        // id and created_at never change.
        for (index, (name, value)) in COLUMNS.iter().zip(values(grant)).skip(2).enumerate() {
            query.push(&format!("{}{name} = ", if index == 0 { "" } else { ", " }));
            query.bind(value);
        }
        query.push(" WHERE id = ");
        query.bind(Arg::Text(grant.id.clone()));
        match sql.execute(&query).await? {
            0 => Err(StoreError::NotFound { entity: ENTITY, id: grant.id.clone() }),
            _ => Ok(()),
        }
    }

    async fn live_grants_of_flow(&self, flow_id: &str) -> Result<Vec<KafkaGrant>, StoreError> {
        live_where(self, Some(flow_id)).await
    }

    async fn live_grants(&self) -> Result<Vec<KafkaGrant>, StoreError> {
        live_where(self, None).await
    }

    async fn grant_principals(&self) -> Result<Vec<String>, StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT DISTINCT principal FROM dsc_kafka_grant WHERE principal IS NOT NULL ORDER BY principal");
        sql.fetch_all(&query).await?.iter().map(|row| column::<String>(row, "principal")).collect()
    }

    async fn grant_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = self.plugin_sql();
        let mut query = sql.builder();
        query.push("SELECT state, COUNT(*) AS n FROM dsc_kafka_grant GROUP BY state ORDER BY state");
        sql.fetch_all(&query).await?.iter().map(|row| Ok((column(row, "state")?, column(row, "n")?))).collect()
    }
}
