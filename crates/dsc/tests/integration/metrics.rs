// SPDX-License-Identifier: Apache-2.0
//! The metrics endpoint of an in-process connector: requests by route template and status, the database's figures,
//! and nothing that identifies an entity or carries a secret. (The system test `kafka_pull::replicas` parses it with
//! the Prometheus project's parser on three replicas.)

use crate::support::{self, API_KEY, TestConnector, send};

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_report_the_database() {
    let connector = TestConnector::start().await;
    let secret = serde_json::json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@type": "Secret",
        "@id": "metrics-test-secret", "value": "do-not-show-this-value" });
    assert_eq!(connector.post("/v3/secrets", &secret).await.status, 200);
    for id in ["missing-asset-1", "missing-asset-2"] {
        assert_eq!(connector.get(&format!("/v3/assets/{id}")).await.status, 404);
    }
    let reply = support::client().get(format!("{}/metrics", connector.default)).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = reply.text().await.unwrap();
    let line = |prefix: &str| text.lines().find(|l| l.starts_with(prefix)).map(str::to_string);
    let requests = text
        .lines()
        .find(|l| {
            l.starts_with("dsc_http_requests_total{")
                && l.contains("context=\"management\"")
                && l.contains("method=\"GET\"")
                && l.contains("route=\"/management/v3/assets/{id}\"")
                && l.contains("status=\"404\"")
        })
        .unwrap_or_else(|| panic!("no request count for the asset route:\n{text}"));
    // Other tests in this process may use the same route; this one made two requests at least.
    let count: f64 = requests.rsplit(' ').next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    assert!(count >= 2.0, "{requests}");
    // The recorder is the process's, shared with the other in-process connectors of this test binary, so only the
    // presence of the database figures is checked here; their values are in `kafka_pull::replicas` (one process each).
    assert!(line("dsc_database_readable ").is_some(), "{text}");
    assert!(line("dsc_database_connections{use=\"max\"} ").is_some(), "{text}");
    assert!(line("dsc_callback_outbox_backlog ").is_some(), "{text}");
    assert!(line("process_resident_memory_bytes ").is_some(), "{text}");
    assert!(line("dsc_http_request_duration_seconds_bucket{").is_some(), "durations are histograms: {text}");
    for leak in ["missing-asset-1", "metrics-test-secret", "do-not-show-this-value", API_KEY] {
        assert!(!text.contains(leak), "{leak} in the metrics");
    }
    // The metrics endpoint is beside the health checks, not on the Management API.
    let wrong = send(reqwest::Method::GET, &format!("{}/metrics", connector.management), Some(API_KEY), None).await;
    assert_eq!(wrong.status, 404);
    connector.stop().await;
}

/// Every metric the shipped Grafana dashboard queries is one the connector records (named in some crate's sources),
/// so a renamed metric cannot leave a dashboard panel silently empty.
#[test]
fn the_grafana_dashboard_queries_only_metrics_the_connector_records() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dashboard = std::fs::read_to_string(root.join("deploy/grafana/dsc-dashboard.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
    let mut sources = String::new();
    for crate_dir in std::fs::read_dir(root.join("crates")).unwrap().flatten() {
        let mut pending = vec![crate_dir.path().join("src")];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    sources.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
    }
    let mut checked = 0;
    for panel in parsed["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !(word.starts_with("dsc_") || word.starts_with("process_")) {
                    continue;
                }
                let name = word.trim_end_matches("_bucket");
                assert!(
                    sources.contains(&format!("\"{name}\"")),
                    "panel '{}' queries {name}, which nothing records",
                    panel["title"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "{checked}");
}

/// With `dsc.metrics.auth.key`, a scrape needs the bearer key; the health checks beside it stay open for probes.
#[tokio::test]
async fn a_metrics_key_guards_the_scrape_but_not_the_health_checks() {
    let connector = TestConnector::start_with(&[("dsc.metrics.auth.key", "scrape-key")]).await;
    let url = format!("{}/metrics", connector.default);
    let scrape = |header: Option<&'static str>| {
        let url = url.clone();
        async move {
            let mut request = support::client().get(url);
            if let Some(value) = header {
                request = request.header("Authorization", value);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap_or_default())
        }
    };
    for refused in [None, Some("Bearer wrong-key"), Some("scrape-key")] {
        let (status, body) = scrape(refused).await;
        assert_eq!(status, 401, "{refused:?}");
        assert_eq!(
            body,
            r#"[{"message":"Request could not be authenticated","type":"AuthenticationFailed","path":null,"invalidValue":null}]"#,
            "{refused:?}"
        );
    }
    let (status, body) = scrape(Some("Bearer scrape-key")).await;
    assert_eq!(status, 200);
    assert!(body.contains("dsc_http_requests_total"), "{body}");
    let health = send(reqwest::Method::GET, &format!("{}/check/readiness", connector.default), None, None).await;
    assert_eq!(health.status, 200);
    connector.stop().await;
}
