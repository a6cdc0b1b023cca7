// SPDX-License-Identifier: Apache-2.0
//! `/v3/catalog/request` and `/v3/catalog/dataset/request`: ask another connector for its catalog. The answer
//! is the peer's message, byte for byte, as EDC's Management API returns it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dsc_controlplane::protocol::{Counterparty, DispatchError, RemoteResponse};
use dsc_domain::{Violation, namespaces};
use dsc_transform::catalog::{CatalogPeer, catalog_request_from_expanded, dataset_request_from_expanded};
use dsc_web::{ApiError, ErrorKind, JsonBody};
use serde_json::Value;

use crate::ManagementState;
use crate::edge::expand_required;

fn counterparty(peer: CatalogPeer) -> Counterparty {
    Counterparty { address: peer.counter_party_address, id: peer.counter_party_id, protocol: peer.protocol }
}

fn dispatch_error(error: DispatchError) -> ApiError {
    match error {
        DispatchError::UnsupportedProtocol(protocol) => ApiError::validation(vec![
            Violation::new(
                DispatchError::UnsupportedProtocol(protocol.clone()).to_string(),
                namespaces::edc("protocol"),
            )
            .with_value(Value::String(protocol)),
        ]),
        DispatchError::Unreachable { .. } => {
            ApiError::new(StatusCode::BAD_GATEWAY, ErrorKind::BadGateway, error.to_string())
        }
        DispatchError::NoIdentity(_) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::InternalError, error.to_string())
        }
    }
}

fn relay(response: RemoteResponse) -> Result<Response, ApiError> {
    if (200..300).contains(&response.status) {
        return Ok((StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], response.body).into_response());
    }
    let excerpt: String = String::from_utf8_lossy(&response.body).chars().take(500).collect();
    Err(ApiError::new(
        StatusCode::BAD_GATEWAY,
        ErrorKind::BadGateway,
        format!("the counter-party answered HTTP {}: {excerpt}", response.status),
    ))
}

pub(crate) async fn request_catalog(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let request = catalog_request_from_expanded(&node).map_err(ApiError::validation)?;
    let peer = counterparty(request.peer);
    relay(state.protocol.request_catalog(&peer, &request.query).await.map_err(dispatch_error)?)
}

pub(crate) async fn request_dataset(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let request = dataset_request_from_expanded(&node).map_err(ApiError::validation)?;
    let peer = counterparty(request.peer);
    relay(state.protocol.request_dataset(&peer, &request.dataset_id).await.map_err(dispatch_error)?)
}
