// SPDX-License-Identifier: Apache-2.0
//! Shared test helpers: an in-process connector on free ports and a small HTTP client.

#![allow(dead_code)]

use std::net::SocketAddr;

use dsc::runtime::Connector;
use dsc_config::{ConnectorConfig, RawConfig};
use serde_json::Value;

pub const API_KEY: &str = "test-api-key";

pub struct TestConnector {
    pub management: String,
    pub default: String,
    pub config: ConnectorConfig,
    pub _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn config(dir: &std::path::Path, extra: &[(&str, &str)]) -> ConnectorConfig {
    let mut toml = format!(
        "\"edc.participant.id\" = \"BPNL000000000001\"\n\"edc.api.auth.key\" = \"{API_KEY}\"\n\"dsc.data.dir\" = \"{}\"\n\"dsc.http.bind.address\" = \"127.0.0.1\"\n",
        dir.display()
    );
    for (key, value) in extra {
        toml.push_str(&format!("\"{key}\" = \"{value}\"\n"));
    }
    let registry = dsc::settings::registry().unwrap();
    let raw = RawConfig::from_toml_with(&registry, &toml, "test").unwrap();
    let mut config = ConnectorConfig::from_raw(&raw).unwrap();
    for context in [
        &mut config.default_context,
        &mut config.management_context,
        &mut config.protocol_context,
        &mut config.control_context,
        &mut config.public_context,
    ] {
        context.port = 0;
    }
    config
}

impl TestConnector {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), extra);
        Self::start_config(config, dir).await
    }

    pub async fn start_config(config: ConnectorConfig, dir: tempfile::TempDir) -> Self {
        let connector = Connector::start(&config).await.expect("start");
        let address =
            |name| -> SocketAddr { connector.address_of(name).unwrap_or_else(|| panic!("no {name} context")) };
        let management = format!("http://{}{}", address("management"), config.management_context.path);
        let default = format!("http://{}{}", address("default"), config.default_context.path);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(connector.run(async move {
            let _ = stopped.await;
        }));
        TestConnector { management, default, config, _dir: dir, stop: Some(stop), task: Some(task) }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

pub async fn send(method: reqwest::Method, url: &str, key: Option<&str>, body: Option<String>) -> Reply {
    let mut request = client().request(method, url).header("content-type", "application/json");
    if let Some(key) = key {
        request = request.header("X-Api-Key", key);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Reply { status, body }
}

impl TestConnector {
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        send(reqwest::Method::POST, &format!("{}{path}", self.management), Some(API_KEY), Some(body.to_string())).await
    }
    pub async fn post_raw(&self, path: &str, body: &str) -> Reply {
        send(reqwest::Method::POST, &format!("{}{path}", self.management), Some(API_KEY), Some(body.to_string())).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        send(reqwest::Method::PUT, &format!("{}{path}", self.management), Some(API_KEY), Some(body.to_string())).await
    }
    pub async fn get(&self, path: &str) -> Reply {
        send(reqwest::Method::GET, &format!("{}{path}", self.management), Some(API_KEY), None).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        send(reqwest::Method::DELETE, &format!("{}{path}", self.management), Some(API_KEY), None).await
    }
}

/// The single error of an EDC error body, or a panic that shows the body.
pub fn only_error(reply: &Reply) -> &Value {
    match reply.body.as_array() {
        Some(errors) if errors.len() == 1 => &errors[0],
        _ => panic!("expected one error, got {}: {}", reply.status, reply.body),
    }
}

/// A fresh database on the test PostgreSQL server (`TEST_POSTGRES_URL`), as a URL; `None` with a notice when no
/// server is configured and none is required (`TEST_REQUIRE_POSTGRES=1` makes that a failure).
pub async fn fresh_postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("TEST_POSTGRES_URL") else {
        if std::env::var("TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("TEST_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set");
        }
        eprintln!("notice: TEST_POSTGRES_URL not set; PostgreSQL test not run here (scripts/test.sh runs it)");
        return None;
    };
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let name = format!("dsc_it_{nanos:x}_{}", std::process::id());
    let status = std::process::Command::new("psql")
        .args([admin_url.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql");
    assert!(status.success(), "CREATE DATABASE failed");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base.to_string()).unwrap_or(admin_url);
    Some(format!("{base}/{name}"))
}

pub mod dcp;
pub mod edc;
pub mod ih;
pub mod insomnia;
pub mod peers;
pub mod process;
pub mod secrets;
