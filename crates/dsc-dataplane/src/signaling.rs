// SPDX-License-Identifier: Apache-2.0
//! Data Plane Signaling 1.0, data plane side: `/dataflows/...`. Mounted behind the shared signaling key.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dsc_domain::{DataAddress, DataFlow};
use dsc_signaling::wire::{self, DataFlowStartMessage, DataFlowStatusMessage, DataFlowStatusResponseMessage};
use serde_json::json;

use crate::{DataPlane, FlowError};

/// DPS defines no error body; a short JSON reason helps operators.
fn failure(error: FlowError) -> Response {
    let status = match error {
        FlowError::NotFound(_) => StatusCode::NOT_FOUND,
        FlowError::Conflict(_) => StatusCode::CONFLICT,
        FlowError::Invalid(_) => StatusCode::BAD_REQUEST,
        FlowError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

fn status_message(flow: &DataFlow, address: Option<&DataAddress>) -> Json<DataFlowStatusMessage> {
    Json(DataFlowStatusMessage {
        message_id: wire::message_id(),
        data_flow_id: flow.id.clone(),
        state: flow.state.name().to_string(),
        data_address: address.map(dsc_signaling::address_to_wire),
        error: None,
    })
}

pub fn router(plane: Arc<DataPlane>) -> Router {
    Router::new()
        .route("/dataflows/prepare", post(prepare))
        .route("/dataflows/start", post(start))
        .route("/dataflows/{id}/suspend", post(suspend))
        .route("/dataflows/{id}/resume", post(resume))
        .route("/dataflows/{id}/terminate", post(terminate))
        .route("/dataflows/{id}/completed", post(completed))
        .route("/dataflows/{id}/started", post(started))
        .route("/dataflows/{id}/status", get(status))
        .with_state(plane)
}

async fn prepare() -> Response {
    failure(FlowError::Invalid(
        "this data plane serves provider-side pull flows; consumer-side prepare is not supported".into(),
    ))
}

async fn started(Path(_id): Path<String>) -> Response {
    failure(FlowError::Invalid(
        "this data plane serves provider-side pull flows; it receives no started notifications".into(),
    ))
}

async fn start(State(plane): State<Arc<DataPlane>>, body: axum::body::Bytes) -> Response {
    let message: DataFlowStartMessage = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(error) => return failure(FlowError::Invalid(format!("not a DataFlowStartMessage: {error}"))),
    };
    if dsc_domain::FlowType::is_pull(&message.profile) && message.data_address.is_some() {
        return failure(FlowError::Invalid("a pull flow's start message carries no dataAddress".into()));
    }
    let source = message
        .metadata
        .get("source")
        .and_then(|value| serde_json::from_value(value.clone()).ok())
        .map(|properties| DataAddress { properties })
        .unwrap_or(DataAddress { properties: Default::default() });
    match plane
        .start(
            &message.process_id,
            &message.profile,
            &message.counter_party_id,
            &message.agreement_id,
            &message.dataset_id,
            source,
        )
        .await
    {
        Ok((flow, address)) => status_message(&flow, Some(&address)).into_response(),
        Err(error) => failure(error),
    }
}

async fn suspend(State(plane): State<Arc<DataPlane>>, Path(id): Path<String>) -> Response {
    match plane.suspend(&id).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => failure(error),
    }
}

async fn terminate(State(plane): State<Arc<DataPlane>>, Path(id): Path<String>) -> Response {
    match plane.terminate(&id).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => failure(error),
    }
}

async fn completed(State(plane): State<Arc<DataPlane>>, Path(id): Path<String>) -> Response {
    match plane.complete(&id).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(error) => failure(error),
    }
}

async fn resume(State(plane): State<Arc<DataPlane>>, Path(id): Path<String>) -> Response {
    match plane.resume(&id).await {
        Ok((flow, address)) => status_message(&flow, Some(&address)).into_response(),
        Err(error) => failure(error),
    }
}

async fn status(State(plane): State<Arc<DataPlane>>, Path(id): Path<String>) -> Response {
    match plane.status(&id).await {
        Ok(flow) => Json(DataFlowStatusResponseMessage { data_flow_id: flow.id, state: flow.state.name().to_string() })
            .into_response(),
        Err(error) => failure(error),
    }
}
