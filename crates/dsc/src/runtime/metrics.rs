// SPDX-License-Identifier: Apache-2.0
//! `GET /metrics` on the default context (beside the health checks), in the Prometheus text format.
//!
//! The libraries record through the `metrics` facade (requests, state-machine steps, revocations, tokens,
//! reconciler passes); this module installs the one recorder of the process and, at each scrape, adds what the
//! database knows: processes per kind, role and state, Kafka grants per state, the callback outbox, and this
//! replica's connection pool. Counting in the database at scrape time means every replica reports the figures the
//! Management API shows, whoever did the work. Labels are kinds, states, routes and outcomes only: no id, no
//! participant, no token ever becomes a label value.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dsc_kafka_pull::store::KafkaGrantStore;
use dsc_store::SqlStore;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets from a millisecond (a state-machine step, a revocation on loopback) to ten seconds.
const SECONDS_BUCKETS: [f64; 13] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's recorder: installed by the first plane that starts (tests run several in one process).
fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
                .map_err(|e| tracing::warn!("metrics buckets: {e}"))
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(e) => {
                    tracing::warn!("metrics are not recorded: another recorder is installed ({e})");
                    None
                }
            }
        })
        .as_ref()
}

struct Scrape {
    store: SqlStore,
    kafka: bool,
    /// Label sets reported before: one whose processes all moved on is reported as 0, not left at its last value.
    seen: Mutex<BTreeSet<(&'static str, String, String)>>,
}

/// The metrics route, for the default context. `kafka`: the Kafka PULL grant table exists in this database;
/// `key`: the bearer key a scrape must present (`dsc.metrics.auth.key`), if any.
pub(super) fn router(store: SqlStore, kafka: bool, key: Option<&str>) -> Router {
    let _ = recorder();
    let scrape = Arc::new(Scrape { store, kafka, seen: Mutex::new(BTreeSet::new()) });
    let route = Router::new().route("/metrics", axum::routing::get(metrics)).with_state(scrape);
    match key {
        Some(key) => route
            .route_layer(axum::middleware::from_fn_with_state(dsc_web::ApiKey::new(key), dsc_web::require_bearer_key)),
        None => route,
    }
}

async fn metrics(State(scrape): State<Arc<Scrape>>) -> Response {
    let Some(handle) = recorder() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are not recorded in this process").into_response();
    };
    // A database that cannot be read leaves the database figures at their last values and says so in a figure of
    // its own; the recorded figures are still served.
    let readable = scrape.database_figures().await.map_err(|e| tracing::warn!("metrics: database figures: {e}"));
    metrics::gauge!("dsc_database_readable").set(if readable.is_ok() { 1.0 } else { 0.0 });
    let pool = scrape.store.pool_use();
    metrics::gauge!("dsc_database_connections", "use" => "open").set(f64::from(pool.open));
    metrics::gauge!("dsc_database_connections", "use" => "idle").set(f64::from(pool.idle));
    metrics::gauge!("dsc_database_connections", "use" => "max").set(f64::from(pool.max));
    if let Some(bytes) = resident_bytes() {
        metrics::gauge!("process_resident_memory_bytes").set(bytes as f64);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

impl Scrape {
    async fn database_figures(&self) -> Result<(), dsc_store::StoreError> {
        metrics::gauge!("dsc_callback_outbox_backlog").set(self.store.outbox_backlog().await? as f64);
        let mut current = BTreeSet::new();
        for count in self.store.state_counts().await? {
            let gauge = match count.kind {
                "negotiation" => "dsc_negotiations",
                "transfer" => "dsc_transfer_processes",
                _ => "dsc_data_flows",
            };
            state_gauge(gauge, &count.role, &count.state).set(count.count as f64);
            current.insert((gauge, count.role, count.state));
        }
        if self.kafka {
            for (state, count) in self.store.grant_counts().await? {
                state_gauge("dsc_kafka_grants", "", &state).set(count as f64);
                current.insert(("dsc_kafka_grants", String::new(), state));
            }
        }
        let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (gauge, role, state) in seen.difference(&current) {
            state_gauge(gauge, role, state).set(0.0);
        }
        seen.extend(current);
        Ok(())
    }
}

/// A per-state gauge; the role label only where there is a role (Kafka grants and data flows have none).
fn state_gauge(name: &'static str, role: &str, state: &str) -> metrics::Gauge {
    if role.is_empty() {
        metrics::gauge!(name, "state" => state.to_string())
    } else {
        metrics::gauge!(name, "role" => role.to_string(), "state" => state.to_string())
    }
}

/// Resident set size from `/proc/self/status` (Linux; absent elsewhere), in bytes whatever the page size.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
