// SPDX-License-Identifier: Apache-2.0
//! A database that drops while the connector runs: affected calls answer 503, readiness says why, and
//! everything recovers when the database is back. The outage is a real network cut between the connector
//! and PostgreSQL, made by a TCP relay the test controls.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use support::{TestConnector, fresh_postgres_database, only_error, send};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<JoinSet<()>>>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let up = Arc::new(AtomicBool::new(true));
        let connections = Arc::new(Mutex::new(JoinSet::new()));
        let (flag, tasks) = (up.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !flag.load(Ordering::SeqCst) {
                    drop(inbound); // the database is "down": refuse by closing at once
                    continue;
                }
                let target = target.clone();
                tasks.lock().await.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Relay { port, up, connections }
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.connections.lock().await.abort_all();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn database_outage_gives_503_and_recovers() {
    let Some(url) = fresh_postgres_database().await else { return };
    let (scheme_user, rest) = url.split_once('@').unwrap_or_else(|| panic!("url without user: {url}"));
    let (host_port, database) = rest.split_once('/').unwrap_or_else(|| panic!("url without db: {url}"));
    let relay = Relay::start(host_port.to_string()).await;
    let relayed = format!("{scheme_user}@127.0.0.1:{}/{database}", relay.port);

    let dir = tempfile::tempdir().unwrap();
    let mut config = support::config(dir.path(), &[("edc.datasource.default.url", &relayed)]);
    config.database_max_connections = 2;
    let connector = TestConnector::start_config(config, dir).await;
    let asset = |id: &str| {
        json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@id": id, "properties": {},
                "dataAddress": { "type": "HttpData" } })
    };
    assert_eq!(connector.post("/v3/assets", &asset("before")).await.status, 200);

    relay.cut().await;
    let during = connector.post("/v3/assets", &asset("during")).await;
    assert_eq!(during.status, 503, "{}", during.body);
    assert_eq!(only_error(&during)["type"], "ServiceUnavailable");
    assert_eq!(only_error(&during)["message"], "the database is unavailable; try again later");
    let readiness = send(reqwest::Method::GET, &format!("{}/check/readiness", connector.default), None, None).await;
    assert_eq!(readiness.status, 503);
    assert_eq!(readiness.body["componentResults"][0]["isHealthy"], false);

    relay.restore();
    let mut recovered = 0;
    for _ in 0..20 {
        recovered = connector.post("/v3/assets", &asset("after")).await.status;
        if recovered == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(recovered, 200, "the connector recovers once the database is back");
    let all = connector.post_raw("/v3/assets/request", "").await;
    assert_eq!(all.body.as_array().map(Vec::len), Some(2), "nothing from the outage was half-written");
    connector.stop().await;
}
