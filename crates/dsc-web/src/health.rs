// SPDX-License-Identifier: Apache-2.0
//! Health endpoints in EDC's shape: `/check/health`, `/check/liveness`, `/check/readiness`, `/check/startup`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

/// One component whose health readiness depends on (the database, the vault, ...).
#[async_trait]
pub trait HealthProbe: Send + Sync {
    fn component(&self) -> &str;
    async fn check(&self) -> Result<(), String>;
}

#[derive(Clone, Default)]
pub struct Health {
    probes: Vec<Arc<dyn HealthProbe>>,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

impl Health {
    pub fn new(probes: Vec<Arc<dyn HealthProbe>>) -> Self {
        Health { probes }
    }

    async fn report(&self) -> Response {
        let mut healthy = true;
        let mut results = Vec::new();
        for probe in &self.probes {
            let outcome = match tokio::time::timeout(PROBE_TIMEOUT, probe.check()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())),
            };
            healthy &= outcome.is_ok();
            results.push(json!({
                "component": probe.component(),
                "isHealthy": outcome.is_ok(),
                "failure": outcome.err().map(|message| json!({ "messages": [message] })),
            }));
        }
        let status = if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        (status, Json(json!({ "isSystemHealthy": healthy, "componentResults": results }))).into_response()
    }
}

pub fn router(health: Health) -> Router {
    async fn full(State(health): State<Health>) -> Response {
        health.report().await
    }
    async fn live() -> Response {
        Json(json!({ "isSystemHealthy": true, "componentResults": [] })).into_response()
    }
    Router::new()
        .route("/check/health", get(full))
        .route("/check/readiness", get(full))
        .route("/check/startup", get(full))
        .route("/check/liveness", get(live))
        .with_state(health)
}
