// SPDX-License-Identifier: Apache-2.0
//! The grant store on SQLite (a fresh file per test) and PostgreSQL (a fresh database per test on the server named
//! by `TEST_POSTGRES_URL`), and the upgrade of a database the connector created while the grant table was still a
//! core migration.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_kafka_pull::{KafkaGrant, KafkaGrantState, KafkaGrantStore, MIGRATIONS};
use dsc_store::{SqlStore, StoreError, StoreSettings};

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/store.db?mode=rwc", dir.path().display())
}

/// A fresh, empty database on the test server, or `None` (with a notice) when no server is configured and none is
/// required. `TEST_REQUIRE_POSTGRES=1` (set by the test command and CI) turns a missing server into a failure.
async fn postgres_url() -> Option<String> {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("TEST_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set");
        }
        eprintln!("notice: TEST_POSTGRES_URL not set; PostgreSQL grant store tests not run here");
        return None;
    };
    let name = format!("dsc_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("cannot reach PostgreSQL at TEST_POSTGRES_URL");
    sqlx::Executor::execute(&mut admin, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base.to_string()).unwrap_or(admin_url);
    Some(format!("{base}/{name}"))
}

/// Connects as the binary does: core migrations, then the plug-in's.
async fn open(url: &str) -> SqlStore {
    let store = SqlStore::connect(&StoreSettings::new(url)).await.unwrap();
    store.apply_plugin_migrations(&MIGRATIONS).await.unwrap();
    store
}

#[tokio::test]
async fn sqlite_grants_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    kafka_grants_round_trip(&open(&sqlite_url(&dir)).await).await;
}

#[tokio::test]
async fn postgres_grants_round_trip() {
    if let Some(url) = postgres_url().await {
        kafka_grants_round_trip(&open(&url).await).await;
    }
}

#[tokio::test]
async fn sqlite_database_of_the_old_layout_keeps_its_grants() {
    let dir = tempfile::tempdir().unwrap();
    old_database_keeps_its_grants(&sqlite_url(&dir), "sqlite").await;
}

#[tokio::test]
async fn postgres_database_of_the_old_layout_keeps_its_grants() {
    if let Some(url) = postgres_url().await {
        old_database_keeps_its_grants(&url, "postgres").await;
    }
}

/// The old connector's migrations create the database and a grant is stored; the current code then starts on it:
/// the core migrator must accept the applied version 6 it no longer has, the plug-in's first migration must leave
/// the table and its rows alone, and a second start must apply nothing.
async fn old_database_keeps_its_grants(url: &str, backend: &str) {
    sqlx::any::install_default_drivers();
    let old_layout = old_core_migrations(backend);
    let old = sqlx::migrate::Migrator::new(old_layout.path()).await.unwrap();
    {
        let pool = sqlx::AnyPool::connect(url).await.unwrap();
        old.run(&pool).await.expect("old migrations");
        sqlx::query(sqlx::AssertSqlSafe(
            "INSERT INTO dsc_kafka_grant (id, created_at, updated_at, flow_id, state, topic, group_prefix, principal) \
             VALUES ('kept', 1, 2, 'flow-old', 'ACTIVE', 'parts', 'consumer.flow-old.', 'User:old-client')",
        ))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let store = SqlStore::connect(&StoreSettings::new(url)).await.expect("core migrations");
    let applied = store.apply_plugin_migrations(&MIGRATIONS).await.unwrap();
    assert_eq!(applied, vec![1], "recorded for the module although the table existed");
    let live = store.live_grants_of_flow("flow-old").await.unwrap();
    assert_eq!(
        live.iter().map(|g| (g.id.as_str(), g.state)).collect::<Vec<_>>(),
        vec![("kept", KafkaGrantState::Active)]
    );
    assert_eq!(store.grant_principals().await.unwrap_or_default(), vec!["User:old-client"]);
    store.close().await;

    let again = open(url).await;
    let applied = again.apply_plugin_migrations(&MIGRATIONS).await.unwrap();
    assert!(applied.is_empty(), "nothing left to apply: {applied:?}");
    assert_eq!(again.live_grants().await.unwrap_or_default().len(), 1);
}

/// Replicas starting together: each migration is applied by exactly one of them.
#[tokio::test]
async fn postgres_replicas_starting_together_apply_each_migration_once() {
    let Some(url) = postgres_url().await else { return };
    let connect = || async { SqlStore::connect(&StoreSettings::new(url.clone())).await.unwrap() };
    let (first, second) = (connect().await, connect().await);
    let (a, b) = tokio::join!(first.apply_plugin_migrations(&MIGRATIONS), second.apply_plugin_migrations(&MIGRATIONS));
    let mut applied = [a.unwrap(), b.unwrap()].concat();
    applied.sort();
    assert_eq!(applied, vec![1]);
}

#[tokio::test]
async fn a_fresh_database_gets_the_table_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::connect(&StoreSettings::new(sqlite_url(&dir))).await.unwrap();
    let before = store.live_grants().await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(before.contains("dsc_kafka_grant"), "the core migrations no longer create the grant table: {before}");
    assert_eq!(store.apply_plugin_migrations(&MIGRATIONS).await.unwrap(), vec![1]);
    assert!(store.apply_plugin_migrations(&MIGRATIONS).await.unwrap().is_empty());
    assert!(store.live_grants().await.unwrap().is_empty());
}

async fn kafka_grants_round_trip(store: &SqlStore) {
    let grant = |id: &str, flow: &str, created_at: i64| KafkaGrant {
        id: id.into(),
        flow_id: flow.into(),
        state: KafkaGrantState::Provisioning,
        topic: "parts".into(),
        group_prefix: format!("consumer.{flow}."),
        principal: None,
        client_id: None,
        client_secret_alias: None,
        registration_token_alias: None,
        registration_client_uri: None,
        error_detail: None,
        created_at,
        updated_at: created_at,
    };
    let mut first = grant("g1", "flow-a", 1);
    store.create_grant(&first).await.unwrap();
    assert!(matches!(store.create_grant(&first).await, Err(StoreError::AlreadyExists { .. })));
    store.create_grant(&grant("g2", "flow-b", 2)).await.unwrap();
    first.state = KafkaGrantState::Active;
    first.principal = Some("User:client-1".into());
    first.client_id = Some("client-1".into());
    first.client_secret_alias = Some("kafka-grant-g1-secret".into());
    first.updated_at = 5;
    store.save_grant(&first).await.unwrap();
    assert_eq!(store.live_grants_of_flow("flow-a").await.unwrap_or_default(), vec![first.clone()]);
    let live: Vec<String> = store.live_grants().await.unwrap_or_default().into_iter().map(|g| g.id).collect();
    assert_eq!(live, vec!["g1", "g2"], "oldest first");

    first.state = KafkaGrantState::Revoked;
    store.save_grant(&first).await.unwrap();
    assert!(store.live_grants_of_flow("flow-a").await.unwrap_or_default().is_empty(), "revoked grants are not live");
    assert_eq!(
        store.grant_principals().await.unwrap_or_default(),
        vec!["User:client-1"],
        "but their principal is known"
    );
    assert_eq!(
        store.grant_counts().await.unwrap(),
        vec![("PROVISIONING".to_string(), 1), ("REVOKED".to_string(), 1)],
        "the metrics endpoint's figures"
    );
    let missing = grant("missing", "flow-x", 3);
    assert!(matches!(store.save_grant(&missing).await, Err(StoreError::NotFound { .. })));
}

/// The core migrations as the old connector had them: today's 1-5 (sqlx refuses to start on a database whose
/// applied migrations changed, so those files never change) and the grant table as core migration 6, the only
/// file kept in `tests/old_core_migrations`.
fn old_core_migrations(backend: &str) -> tempfile::TempDir {
    let layout = tempfile::tempdir().unwrap();
    let core = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../dsc-store/migrations").join(backend);
    let old_sixth = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/old_core_migrations").join(backend);
    // Today's core migrations after 5 came later; the old connector knew only 1-5 and its own 6.
    let old_core =
        |name: &std::ffi::OsStr| name.to_string_lossy().as_bytes().get(..4).is_some_and(|v| v <= b"0005".as_slice());
    for file in std::fs::read_dir(&core).unwrap().chain(std::fs::read_dir(&old_sixth).unwrap()) {
        let file = file.unwrap();
        if file.path().starts_with(&core) && !old_core(&file.file_name()) {
            continue;
        }
        std::fs::copy(file.path(), layout.path().join(file.file_name())).unwrap();
    }
    let mut names: Vec<_> = std::fs::read_dir(layout.path()).unwrap().map(|f| f.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names.len(), 6, "core 1-5 and the old 6: {names:?}");
    layout
}
