// SPDX-License-Identifier: Apache-2.0
//! Data Plane Signaling 1.0, control plane side: `/transfers/{transferId}/dataflow/{started|completed|errored|
//! prepared}` called by data planes, and data plane registration (`PUT /dataplanes`). Mounted on the control
//! context behind the shared signaling key.
//!
//! DPS answers are bare status codes (200 or 4xx); a short JSON reason is added for operators.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post, put};
use dsc_controlplane::ServiceError;
use dsc_controlplane::transfer::DataFlowCallbackService;
use dsc_signaling::wire::{DataFlowStatusMessage, DataPlaneRegistrationMessage};
use dsc_signaling::{DataPlaneEntry, DataPlaneRegistry};
use serde_json::json;

#[derive(Clone)]
struct ControlState {
    transfers: Arc<DataFlowCallbackService>,
    registry: Arc<DataPlaneRegistry>,
    /// The shared signaling key: registered data planes are signaled with it.
    signaling_key: Arc<str>,
}

/// `PUT /dataplanes` and `DELETE /dataplanes/{id}` register data planes; registrations replace by id.
pub fn router(
    transfers: Arc<DataFlowCallbackService>,
    registry: Arc<DataPlaneRegistry>,
    signaling_key: &str,
) -> Router {
    Router::new()
        .route("/transfers/{id}/dataflow/started", post(started))
        .route("/transfers/{id}/dataflow/completed", post(completed))
        .route("/transfers/{id}/dataflow/errored", post(errored))
        .route("/transfers/{id}/dataflow/prepared", post(prepared))
        .route("/dataplanes", put(register))
        .route("/dataplanes/{id}", delete(unregister))
        .with_state(ControlState { transfers, registry, signaling_key: Arc::from(signaling_key) })
}

async fn register(State(state): State<ControlState>, body: Bytes) -> Response {
    let message: DataPlaneRegistrationMessage = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(error) => return failure(StatusCode::BAD_REQUEST, format!("not a DataPlaneRegistrationMessage: {error}")),
    };
    if !(message.endpoint.starts_with("http://") || message.endpoint.starts_with("https://")) {
        return failure(StatusCode::BAD_REQUEST, "endpoint must be an http(s) URL");
    }
    if message.profiles.is_empty() {
        return failure(StatusCode::BAD_REQUEST, "profiles must name at least one transfer type");
    }
    let entry = DataPlaneEntry {
        id: message.dataplane_id,
        endpoint: message.endpoint.trim_end_matches('/').trim_end_matches("/dataflows").to_string(),
        transfer_types: message.profiles,
        auth_key: state.signaling_key.to_string(),
    };
    let (id, endpoint) = (entry.id.clone(), entry.endpoint.clone());
    match state.registry.register_saved(entry).await {
        Ok(()) => {
            tracing::info!(data_plane = %id, %endpoint, "data plane registered");
            StatusCode::OK.into_response()
        }
        Err(reason) => failure(StatusCode::SERVICE_UNAVAILABLE, format!("the registration cannot be saved: {reason}")),
    }
}

async fn unregister(State(state): State<ControlState>, Path(id): Path<String>) -> Response {
    match state.registry.unregister_saved(&id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => failure(StatusCode::NOT_FOUND, format!("data plane '{id}' is not registered")),
        Err(reason) => {
            failure(StatusCode::SERVICE_UNAVAILABLE, format!("the registration cannot be removed: {reason}"))
        }
    }
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

async fn started(State(state): State<ControlState>, Path(id): Path<String>, body: Bytes) -> Response {
    let transfers = state.transfers;
    let message = match status_message(&body) {
        Ok(message) => message,
        Err(reason) => return failure(StatusCode::BAD_REQUEST, reason),
    };
    let address = message.data_address.as_ref().map(dsc_signaling::address_from_wire);
    answer(transfers.flow_started(&id, address).await)
}

async fn completed(State(state): State<ControlState>, Path(id): Path<String>) -> Response {
    answer(state.transfers.flow_completed(&id).await)
}

async fn errored(State(state): State<ControlState>, Path(id): Path<String>, body: Bytes) -> Response {
    let transfers = state.transfers;
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
