// SPDX-License-Identifier: Apache-2.0
//! Runs the store contract suite against SQLite (a fresh file per test) and PostgreSQL (a fresh database per
//! test, on the server named by `TEST_POSTGRES_URL`, which the project's test command starts).
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_store::contract_tests as contract;
use dsc_store::{SqlStore, StoreSettings};

async fn sqlite() -> (SqlStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
    let store = SqlStore::connect(&StoreSettings::new(url)).await.expect("sqlite");
    (store, dir)
}

/// A fresh database on the test server, or `None` (with a notice) when no server is configured and none is
/// required. `TEST_REQUIRE_POSTGRES=1` (set by the test command and CI) turns a missing server into a failure.
async fn postgres() -> Option<SqlStore> {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("TEST_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set");
        }
        eprintln!(
            "notice: TEST_POSTGRES_URL not set; PostgreSQL contract tests not run here (scripts/test.sh runs them)"
        );
        return None;
    };
    let name = format!("dsc_test_{}", uuid_like());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("cannot reach PostgreSQL at TEST_POSTGRES_URL");
    sqlx::Executor::execute(&mut admin, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base.to_string()).unwrap_or(admin_url);
    let store = SqlStore::connect(&StoreSettings::new(format!("{base}/{name}"))).await.expect("postgres");
    Some(store)
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{nanos:x}_{}", std::process::id())
}

macro_rules! contract_suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite_backend {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let (store, _dir) = sqlite().await;
                    contract::$case(&store).await;
                }
            )*
        }
        mod postgres_backend {
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(store) = postgres().await {
                        contract::$case(&store).await;
                    }
                }
            )*
        }
    };
}

contract_suite!(
    asset_lifecycle,
    policy_definition_lifecycle,
    contract_definition_lifecycle_and_references,
    asset_queries_filter_in_the_database,
    asset_queries_sort_and_page,
    negotiation_lifecycle_with_agreement,
    transfer_lifecycle_leases_and_events,
    data_flows_round_trip,
    leases_give_one_holder_at_a_time,
    claims_take_oldest_work_once,
    state_changes_queue_their_events_atomically,
    pending_processes_are_not_claimed,
    singleton_roles_have_one_holder_at_a_time,
    data_plane_registrations_round_trip,
);

#[tokio::test]
async fn sqlite_data_survives_reopening_the_file() {
    let (store, dir) = sqlite().await;
    dsc_store::Repository::create(&store, &contract::asset("kept", 1, &[])).await.unwrap();
    store.close().await;
    let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
    let reopened = SqlStore::connect(&StoreSettings::new(url)).await.unwrap();
    let found: Option<dsc_domain::Asset> = dsc_store::Repository::find(&reopened, "kept").await.unwrap_or_default();
    assert!(found.is_some());
}

#[tokio::test]
async fn unsupported_url_scheme_is_refused_with_the_url_redacted() {
    let error =
        SqlStore::connect(&StoreSettings::new("mysql://root:pw@localhost/db")).await.err().map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some(
            "database error: unsupported database URL scheme in 'mysql://root:***@localhost/db': expected sqlite: or postgres://"
        )
    );
}

#[tokio::test]
async fn unreachable_postgres_is_reported_as_unavailable() {
    let mut settings = StoreSettings::new("postgres://dsc@127.0.0.1:1/dsc");
    settings.acquire_timeout = std::time::Duration::from_secs(2);
    let error = SqlStore::connect(&settings).await.err();
    assert!(matches!(error, Some(dsc_store::StoreError::Unavailable(_))), "{error:?}");
}
