// SPDX-License-Identifier: Apache-2.0
//! Data Plane Signaling 1.0, control plane side: `/transfers/{transferId}/dataflow/{started|completed|errored|
//! prepared}`, called by data planes. Mounted on the control context behind the shared signaling key.
//!
//! DPS answers are bare status codes (200 or 4xx); a short JSON reason is added for operators.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use dsc_controlplane::ServiceError;
use dsc_controlplane::transfer::TransferService;
use dsc_signaling::wire::DataFlowStatusMessage;
use serde_json::json;

pub fn router(transfers: Arc<TransferService>) -> Router {
    Router::new()
        .route("/transfers/{id}/dataflow/started", post(started))
        .route("/transfers/{id}/dataflow/completed", post(completed))
        .route("/transfers/{id}/dataflow/errored", post(errored))
        .route("/transfers/{id}/dataflow/prepared", post(prepared))
        .with_state(transfers)
}

fn failure(status: StatusCode, reason: impl Into<String>) -> Response {
    (status, Json(json!({ "error": reason.into() }))).into_response()
}

fn answer(result: Result<(), ServiceError>) -> Response {
    match result {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error @ ServiceError::NotFound { .. }) => failure(StatusCode::NOT_FOUND, error.to_string()),
        Err(ServiceError::AlreadyExists { id, .. }) => failure(StatusCode::CONFLICT, format!("transfer {id}")),
        Err(error) => failure(StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    }
}

fn status_message(body: &Bytes) -> Result<DataFlowStatusMessage, String> {
    serde_json::from_slice(body).map_err(|e| format!("not a DataFlowStatusMessage: {e}"))
}

async fn started(State(transfers): State<Arc<TransferService>>, Path(id): Path<String>, body: Bytes) -> Response {
    let message = match status_message(&body) {
        Ok(message) => message,
        Err(reason) => return failure(StatusCode::BAD_REQUEST, reason),
    };
    let address = message.data_address.as_ref().map(dsc_signaling::address_from_wire);
    answer(transfers.flow_started(&id, address).await)
}

async fn completed(State(transfers): State<Arc<TransferService>>, Path(id): Path<String>) -> Response {
    answer(transfers.flow_completed(&id).await)
}

async fn errored(State(transfers): State<Arc<TransferService>>, Path(id): Path<String>, body: Bytes) -> Response {
    let message = match status_message(&body) {
        Ok(message) => message,
        Err(reason) => return failure(StatusCode::BAD_REQUEST, reason),
    };
    let error = message.error.unwrap_or_else(|| "no detail given".into());
    answer(transfers.flow_errored(&id, &error).await)
}

/// Consumer-side preparation is not used: this connector's consumer keeps EDRs itself.
async fn prepared(Path(_id): Path<String>) -> Response {
    failure(StatusCode::BAD_REQUEST, "this control plane does not prepare consumer data flows")
}
