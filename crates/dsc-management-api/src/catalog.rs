// SPDX-License-Identifier: Apache-2.0
//! `/v3/catalog/request` and `/v3/catalog/dataset/request`: ask another connector for its catalog. The answer
//! is the peer's message, byte for byte, as EDC's Management API returns it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dsc_controlplane::protocol::{Counterparty, DispatchError, RemoteResponse};
use dsc_domain::{QuerySpec, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use dsc_web::{ApiError, ErrorKind, JsonBody};
use serde_json::Value;

use crate::ManagementState;
use crate::edge::expand_required;

fn counterparty(node: &Node) -> Result<Counterparty, ApiError> {
    let mut violations = Vec::new();
    let mut read = |local: &str| {
        let iri = namespaces::edc(local);
        match expanded::first_str(node, &iri).map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) => value.to_string(),
            None => {
                violations.push(Violation::mandatory_value(&iri));
                String::new()
            }
        }
    };
    let peer =
        Counterparty { address: read("counterPartyAddress"), id: read("counterPartyId"), protocol: read("protocol") };
    if violations.is_empty() { Ok(peer) } else { Err(ApiError::validation(violations)) }
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
    let peer = counterparty(&node)?;
    let query = match expanded::first_node(&node, &namespaces::edc("querySpec")) {
        Some(spec) => dsc_transform::query::query_spec_from_expanded(Some(spec)).map_err(ApiError::validation)?,
        None => QuerySpec::default(),
    };
    relay(state.protocol.request_catalog(&peer, &query).await.map_err(dispatch_error)?)
}

pub(crate) async fn request_dataset(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let peer = counterparty(&node)?;
    let dataset = expanded::id(&node)
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| ApiError::validation(vec![Violation::mandatory_value("@id")]))?;
    relay(state.protocol.request_dataset(&peer, dataset).await.map_err(dispatch_error)?)
}
