// SPDX-License-Identifier: Apache-2.0
//! What a plug-in (a transfer type's crate) needs to keep its own tables in the connector's database: its
//! migrations, applied at start and recorded per module, and SQL on the shared pool in the connected dialect.
//!
//! The core migrations know nothing of plug-in tables, so a new transfer type adds storage without a core migration.
//! Plug-in migrations are recorded in `dsc_plugin_migrations` (module, version), not in sqlx's table: the two
//! numberings are independent, and a module's history survives core migrations being added.

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::filter::SqlBuilder;
use super::{Dialect, SqlStore};
use crate::StoreError;

/// One step of a plug-in's schema, written for each backend.
#[derive(Debug, Clone, Copy)]
pub struct PluginMigration {
    /// Increasing within the module; never renumbered once released.
    pub version: i64,
    pub description: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// A plug-in's migrations under its module name (`kafka-pull`).
#[derive(Debug, Clone, Copy)]
pub struct PluginMigrations {
    pub module: &'static str,
    pub migrations: &'static [PluginMigration],
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS dsc_plugin_migrations (\
    module TEXT NOT NULL, version BIGINT NOT NULL, description TEXT NOT NULL, applied_at BIGINT NOT NULL, \
    PRIMARY KEY (module, version))";

/// An arbitrary constant naming the advisory lock replicas take while migrating plug-ins on PostgreSQL.
const POSTGRES_LOCK_KEY: i64 = 0x6473_635f_706c_7567;

/// SQL on the store's pool for plug-ins, with errors mapped as for the core stores (connection loss →
/// [`StoreError::Unavailable`]).
pub struct PluginSql<'a> {
    store: &'a SqlStore,
}

impl PluginSql<'_> {
    pub fn dialect(&self) -> Dialect {
        self.store.dialect
    }

    /// An empty statement for the connected backend.
    pub fn builder(&self) -> SqlBuilder {
        SqlBuilder::new(self.store.dialect)
    }

    /// Runs an INSERT; a unique violation becomes [`StoreError::AlreadyExists`] for `entity` `id`.
    pub async fn insert(&self, sql: &SqlBuilder, entity: &'static str, id: &str) -> Result<(), StoreError> {
        match sql.execute(&self.store.pool).await {
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(StoreError::AlreadyExists { entity, id: id.to_string() })
            }
            other => other.map(|_| ()).map_err(StoreError::from_sqlx),
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&self, sql: &SqlBuilder) -> Result<u64, StoreError> {
        sql.execute(&self.store.pool).await.map(|done| done.rows_affected()).map_err(StoreError::from_sqlx)
    }

    pub async fn fetch_all(&self, sql: &SqlBuilder) -> Result<Vec<AnyRow>, StoreError> {
        sql.fetch_all(&self.store.pool).await.map_err(StoreError::from_sqlx)
    }

    pub async fn fetch_optional(&self, sql: &SqlBuilder) -> Result<Option<AnyRow>, StoreError> {
        sql.fetch_optional(&self.store.pool).await.map_err(StoreError::from_sqlx)
    }
}

/// A column of a fetched row.
pub fn column<T>(row: &AnyRow, name: &str) -> Result<T, StoreError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get::<T, _>(name).map_err(StoreError::from_sqlx)
}

impl SqlStore {
    /// SQL access for plug-ins.
    pub fn plugin_sql(&self) -> PluginSql<'_> {
        PluginSql { store: self }
    }

    /// Applies the module's migrations that are not recorded yet, each in its own transaction with its record;
    /// returns the versions applied now. Replicas starting together on PostgreSQL take turns (advisory lock).
    pub async fn apply_plugin_migrations(&self, plugin: &PluginMigrations) -> Result<Vec<i64>, StoreError> {
        let failed =
            |e: sqlx::Error| StoreError::Database(format!("migration of module {} failed: {e}", plugin.module));
        let mut applied_now = Vec::new();
        for migration in plugin.migrations {
            let mut tx = self.pool.begin().await.map_err(StoreError::from_sqlx)?;
            if self.dialect == Dialect::Postgres {
                sqlx::query(AssertSqlSafe(format!("SELECT pg_advisory_xact_lock({POSTGRES_LOCK_KEY})")))
                    .execute(&mut *tx)
                    .await
                    .map_err(StoreError::from_sqlx)?;
            }
            // Under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL.
            sqlx::query(AssertSqlSafe(CREATE_TABLE)).execute(&mut *tx).await.map_err(StoreError::from_sqlx)?;
            let mut recorded = SqlBuilder::new(self.dialect);
            recorded.push("SELECT version FROM dsc_plugin_migrations WHERE module = ");
            recorded.bind(super::filter::Arg::Text(plugin.module.to_string()));
            recorded.push(" AND version = ");
            recorded.bind(super::filter::Arg::Int(migration.version));
            if recorded.fetch_optional_in(&mut tx).await.map_err(StoreError::from_sqlx)?.is_some() {
                continue;
            }
            let script = match self.dialect {
                Dialect::Sqlite => migration.sqlite,
                Dialect::Postgres => migration.postgres,
            };
            sqlx::raw_sql(AssertSqlSafe(script)).execute(&mut *tx).await.map_err(failed)?;
            let mut record = SqlBuilder::new(self.dialect);
            record.push("INSERT INTO dsc_plugin_migrations (module, version, description, applied_at) VALUES (");
            record.bind(super::filter::Arg::Text(plugin.module.to_string()));
            record.push(", ");
            record.bind(super::filter::Arg::Int(migration.version));
            record.push(", ");
            record.bind(super::filter::Arg::Text(migration.description.to_string()));
            record.push(", ");
            record.bind(super::filter::Arg::Int(dsc_domain::clock::system_now_millis()));
            record.push(")");
            record.execute_in(&mut tx).await.map_err(failed)?;
            tx.commit().await.map_err(StoreError::from_sqlx)?;
            applied_now.push(migration.version);
        }
        Ok(applied_now)
    }
}
