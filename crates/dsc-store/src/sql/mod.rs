// SPDX-License-Identifier: Apache-2.0
//! The SQL store: one implementation, two backends.

mod data_planes;
mod entities;
mod filter;
mod leased;
mod negotiations;
mod oauth;
mod plugin;
mod singleton;
mod statistics;
mod transfers;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use dsc_domain::{Asset, ContractDefinition, PolicyDefinition, QuerySpec};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};

use crate::{ContractDefinitionStore, HealthCheck, Repository, StoreError};
use entities::Entity;

pub use data_planes::DataPlaneRecord;
pub use filter::{Arg, SqlBuilder};
pub use plugin::{PluginMigration, PluginMigrations, PluginSql, column};
pub use singleton::SingletonLease;
pub use statistics::{PoolUse, StateCount};

// Missing applied migrations are ignored: version 6 (a transfer type's table) moved to that plug-in's own
// migrations, and databases created before that still record it as applied.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate::Migrator { ignore_missing: true, ..sqlx::migrate!("./migrations/sqlite") };
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate::Migrator { ignore_missing: true, ..sqlx::migrate!("./migrations/postgres") };

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct StoreSettings {
    pub url: String,
    pub max_connections: u32,
    /// How long a call waits for a connection before it reports the database as unavailable.
    pub acquire_timeout: Duration,
}

impl StoreSettings {
    pub fn new(url: impl Into<String>) -> Self {
        StoreSettings { url: url.into(), max_connections: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
}

impl SqlStore {
    /// Connects, verifies the connection and applies pending migrations.
    pub async fn connect(settings: &StoreSettings) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = if settings.url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if settings.url.starts_with("postgres://") || settings.url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(StoreError::Database(format!(
                "unsupported database URL scheme in '{}': expected sqlite: or postgres://",
                redact_url(&settings.url)
            )));
        };
        if dialect == Dialect::Sqlite {
            create_sqlite_parent_dir(&settings.url)?;
        }
        let mut options =
            AnyPoolOptions::new().max_connections(settings.max_connections).acquire_timeout(settings.acquire_timeout);
        if dialect == Dialect::Sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move {
                    // WAL + FULL: a committed state change survives a crash or power cut; a busy timeout
                    // instead of immediate SQLITE_BUSY between pool connections; LIKE as case-sensitive as
                    // PostgreSQL's.
                    connection
                        .execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; \
                             PRAGMA foreign_keys = ON; PRAGMA case_sensitive_like = ON;",
                        )
                        .await?;
                    Ok(())
                })
            });
        }
        // One direct connection first: its error says why ("connection refused", "password authentication
        // failed"), where the pool would only report a timeout.
        let probe = tokio::time::timeout(
            settings.acquire_timeout,
            <sqlx::AnyConnection as sqlx::Connection>::connect(&settings.url),
        )
        .await
        .map_err(|_| StoreError::Unavailable(format!("no connection within {} s", settings.acquire_timeout.as_secs())))?
        .map_err(StoreError::from_sqlx)?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = options.connect(&settings.url).await.map_err(StoreError::from_sqlx)?;
        let migrator = match dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        Ok(SqlStore { pool, dialect })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn insert<E: Entity>(&self, entity: &E) -> Result<(), StoreError> {
        let sql = self.insert_sql(entity);
        match sql.execute(&self.pool).await {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::AlreadyExists { entity: E::NAME, id: entity.id().to_string() })
            }
            other => other.map(|_| ()).map_err(StoreError::from_sqlx),
        }
    }

    fn insert_sql<E: Entity>(&self, entity: &E) -> SqlBuilder {
        let columns = entity.columns();
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("INSERT INTO {} (id, created_at", E::TABLE));
        for (name, _) in &columns {
            sql.push(&format!(", {name}"));
        }
        sql.push(") VALUES (");
        sql.bind(Arg::Text(entity.id().to_string()));
        sql.push(", ");
        sql.bind(Arg::Int(entity.created_at()));
        for (_, value) in columns {
            sql.push(", ");
            sql.bind(value);
        }
        sql.push(")");
        sql
    }

    async fn replace<E: Entity>(&self, entity: &E) -> Result<(), StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("UPDATE {} SET ", E::TABLE));
        for (index, (name, value)) in entity.columns().into_iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.push(&format!("{name} = "));
            sql.bind(value);
        }
        sql.push(" WHERE id = ");
        sql.bind(Arg::Text(entity.id().to_string()));
        let result = sql.execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { entity: E::NAME, id: entity.id().to_string() });
        }
        Ok(())
    }

    async fn select_by_id<E: Entity>(&self, id: &str) -> Result<Option<E>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM {} WHERE id = ", E::TABLE));
        sql.bind(Arg::Text(id.to_string()));
        let row = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?;
        row.map(|row| E::from_row(&row)).transpose()
    }

    async fn remove<E: Entity>(&self, id: &str) -> Result<E, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("DELETE FROM {} WHERE id = ", E::TABLE));
        sql.bind(Arg::Text(id.to_string()));
        sql.push(" RETURNING *");
        let row = sql.fetch_optional(&self.pool).await.map_err(StoreError::from_sqlx)?;
        match row {
            Some(row) => E::from_row(&row),
            None => Err(StoreError::NotFound { entity: E::NAME, id: id.to_string() }),
        }
    }

    async fn select<E: Entity>(&self, spec: &QuerySpec) -> Result<Vec<E>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM {}", E::TABLE));
        filter::push_where(&mut sql, spec, E::field)?;
        filter::push_order_and_page(&mut sql, spec, E::field)?;
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        rows.iter().map(E::from_row).collect()
    }

    /// `SELECT * FROM (SELECT id, CASE WHEN <filter i> THEN 'y' ELSE 'n' END AS m<i> ... FROM t [WHERE id IN
    /// among]) WHERE 'y' IN (m0, m1, ...)`: every filter is evaluated on each row in one scan (SQLite parses a row's
    /// JSON once for all of them). Filters go in groups of [`MATCHING_GROUP`], below both databases' column limits;
    /// with one group the database also pages, with more the groups' answers are merged and paged here.
    async fn select_matching<E: Entity>(
        &self,
        filters: &[Vec<dsc_domain::Criterion>],
        among: Option<&[&str]>,
        page: Option<(u32, u32)>,
    ) -> Result<Vec<(String, Vec<usize>)>, StoreError> {
        let mut matched: std::collections::BTreeMap<String, Vec<usize>> = std::collections::BTreeMap::new();
        if among.is_some_and(<[&str]>::is_empty) || filters.is_empty() {
            return Ok(Vec::new());
        }
        let paged_here = filters.len() <= MATCHING_GROUP;
        for (group, chunk) in filters.chunks(MATCHING_GROUP).enumerate() {
            let mut sql = SqlBuilder::new(self.dialect);
            sql.push("SELECT * FROM (SELECT id");
            for (position, filter) in chunk.iter().enumerate() {
                sql.push(", CASE WHEN ");
                filter::push_conjunction(&mut sql, filter, E::field)?;
                sql.push(&format!(" THEN 'y' ELSE 'n' END AS m{position}"));
            }
            sql.push(&format!(" FROM {}", E::TABLE));
            if let Some(among) = among {
                let ids = dsc_domain::Criterion::new("id", dsc_domain::Operator::In, serde_json::json!(among));
                sql.push(" WHERE ");
                filter::push_conjunction(&mut sql, std::slice::from_ref(&ids), E::field)?;
            }
            let columns: Vec<String> = (0..chunk.len()).map(|position| format!("m{position}")).collect();
            sql.push(&format!(") matched WHERE 'y' IN ({}) ORDER BY id", columns.join(", ")));
            if let (true, Some((offset, limit))) = (paged_here, page) {
                sql.push(" LIMIT ");
                sql.bind(Arg::Int(i64::from(limit)));
                sql.push(" OFFSET ");
                sql.bind(Arg::Int(i64::from(offset)));
            }
            let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
            for row in &rows {
                let id: String = row.try_get("id").map_err(StoreError::from_sqlx)?;
                let entry = matched.entry(id).or_default();
                for (position, column) in columns.iter().enumerate() {
                    let flag: String = row.try_get(column.as_str()).map_err(StoreError::from_sqlx)?;
                    if flag == "y" {
                        entry.push(group * MATCHING_GROUP + position);
                    }
                }
            }
        }
        match (paged_here, page) {
            (false, Some((offset, limit))) => {
                Ok(matched.into_iter().skip(offset as usize).take(limit as usize).collect())
            }
            _ => Ok(matched.into_iter().collect()),
        }
    }

    async fn ids_where(&self, table: &str, condition: &str, args: Vec<Arg>) -> Result<Vec<String>, StoreError> {
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT id FROM {table} WHERE "));
        let mut parts = condition.split('?');
        if let Some(first) = parts.next() {
            sql.push(first);
        }
        for (part, arg) in parts.zip(args) {
            sql.bind(arg);
            sql.push(part);
        }
        sql.push(" ORDER BY id");
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        rows.iter().map(|row| row.try_get::<String, _>("id").map_err(StoreError::from_sqlx)).collect()
    }
}

fn create_sqlite_parent_dir(url: &str) -> Result<(), StoreError> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.starts_with(":memory:") {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Database(format!("cannot create database directory {}: {e}", parent.display())))?;
    }
    Ok(())
}

/// The URL with any password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let Some((credentials, host)) = rest.rsplit_once('@') else { return url.to_string() };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Filters evaluated per query by [`SqlStore::select_matching`]: result columns stay far below SQLite's 2,000 and
/// PostgreSQL's 1,664.
const MATCHING_GROUP: usize = 500;

macro_rules! repository {
    ($entity:ty) => {
        #[async_trait]
        impl Repository<$entity> for SqlStore {
            async fn create(&self, entity: &$entity) -> Result<(), StoreError> {
                self.insert(entity).await
            }
            async fn update(&self, entity: &$entity) -> Result<(), StoreError> {
                self.replace(entity).await
            }
            async fn find(&self, id: &str) -> Result<Option<$entity>, StoreError> {
                self.select_by_id(id).await
            }
            async fn delete(&self, id: &str) -> Result<$entity, StoreError> {
                self.remove(id).await
            }
            async fn query(&self, spec: &QuerySpec) -> Result<Vec<$entity>, StoreError> {
                self.select(spec).await
            }
            async fn matching(
                &self,
                filters: &[Vec<dsc_domain::Criterion>],
                among: Option<&[&str]>,
                page: Option<(u32, u32)>,
            ) -> Result<Vec<(String, Vec<usize>)>, StoreError> {
                self.select_matching::<$entity>(filters, among, page).await
            }
        }
    };
}

repository!(Asset);
repository!(PolicyDefinition);
repository!(ContractDefinition);

#[async_trait]
impl ContractDefinitionStore for SqlStore {
    async fn referencing_policy(&self, policy_id: &str) -> Result<Vec<String>, StoreError> {
        self.ids_where(
            <ContractDefinition as Entity>::TABLE,
            "access_policy_id = ? OR contract_policy_id = ?",
            vec![Arg::Text(policy_id.to_string()), Arg::Text(policy_id.to_string())],
        )
        .await
    }

    async fn naming_asset(&self, asset_id: &str) -> Result<Vec<String>, StoreError> {
        // Narrow in SQL by a substring match on the stored selector, then decide exactly in the domain.
        let mut sql = SqlBuilder::new(self.dialect);
        sql.push(&format!("SELECT * FROM {} WHERE assets_selector LIKE ", <ContractDefinition as Entity>::TABLE));
        let as_json = serde_json::to_string(asset_id).map_err(|e| StoreError::Database(e.to_string()))?;
        let inner = as_json.trim_matches('"');
        sql.bind(Arg::Text(format!("%{}%", filter::escape_like(inner))));
        sql.push(" ESCAPE '\\' ORDER BY id");
        let rows = sql.fetch_all(&self.pool).await.map_err(StoreError::from_sqlx)?;
        let mut ids = Vec::new();
        for row in &rows {
            let definition = <ContractDefinition as Entity>::from_row(row)?;
            if definition.names_asset(asset_id) {
                ids.push(definition.id);
            }
        }
        Ok(ids)
    }
}

#[async_trait]
impl HealthCheck for SqlStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query(AssertSqlSafe("SELECT 1")).execute(&self.pool).await.map_err(StoreError::from_sqlx)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(redact_url("postgres://dsc:s3cret@db:5432/dsc"), "postgres://dsc:***@db:5432/dsc");
        assert_eq!(redact_url("postgres://dsc@db/dsc"), "postgres://dsc@db/dsc");
        assert_eq!(redact_url("sqlite://data/dsc.db"), "sqlite://data/dsc.db");
    }
}
