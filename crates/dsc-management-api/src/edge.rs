// SPDX-License-Identifier: Apache-2.0
//! The JSON-LD edge: bodies in (expanded), entities out (compacted), errors in EDC's shape.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::ServiceError;
use dsc_domain::namespaces;
use dsc_jsonld::JsonLdError;
use dsc_jsonld::expanded::Node;
use dsc_web::ApiError;
use serde_json::{Value, json};

use crate::ManagementState;

/// Expands a request body. `None` (no body) stays `None`; a body that expands to nothing is an empty node.
pub(crate) fn expand(state: &ManagementState, body: Option<Value>) -> Result<Option<Node>, ApiError> {
    let Some(mut body) = body else { return Ok(None) };
    if !body.is_object() {
        return Err(ApiError::invalid_request("request body must be a JSON object"));
    }
    dsc_jsonld::inject_vocab(&mut body, namespaces::EDC);
    let expanded = state.jsonld.expand(body).map_err(|error| match error {
        JsonLdError::UnknownContext(ref url) => {
            let url = url.clone();
            let mut api = ApiError::invalid_request(error.to_string()).with_path("@context");
            if let Some(detail) = api.details.first_mut() {
                detail.invalid_value = Some(Value::String(url));
            }
            api
        }
        other => ApiError::invalid_request(other.to_string()),
    })?;
    match expanded {
        Value::Array(items) if items.is_empty() => Ok(Some(Node::new())),
        Value::Array(mut items) if items.len() == 1 => match items.pop() {
            Some(Value::Object(node)) => Ok(Some(node)),
            _ => Err(ApiError::invalid_request("request body must describe one JSON-LD node")),
        },
        _ => Err(ApiError::invalid_request("request body must describe one JSON-LD node")),
    }
}

/// Expands a body that must be present.
pub(crate) fn expand_required(state: &ManagementState, body: Option<Value>) -> Result<Node, ApiError> {
    expand(state, body)?.ok_or_else(|| ApiError::invalid_request("request body is missing"))
}

pub(crate) fn compact(state: &ManagementState, expanded: Value) -> Result<Value, ApiError> {
    state.jsonld.compact(expanded, &state.response_context).map_err(ApiError::internal)
}

pub(crate) fn ok_json(value: Value) -> Response {
    (StatusCode::OK, Json(value)).into_response()
}

/// EDC's IdResponse.
pub(crate) fn id_response(state: &ManagementState, id: &str, created_at: i64) -> Result<Response, ApiError> {
    let expanded = json!([{
        "@id": id,
        "@type": [namespaces::edc("IdResponse")],
        namespaces::edc("createdAt"): [{ "@value": created_at }],
    }]);
    Ok(ok_json(compact(state, expanded)?))
}

pub(crate) fn service_error(error: ServiceError) -> ApiError {
    match error {
        ServiceError::NotFound { .. } => ApiError::not_found(error.to_string()),
        ServiceError::AlreadyExists { .. } | ServiceError::Referenced { .. } => ApiError::conflict(error.to_string()),
        ServiceError::InvalidQuery { message, path } => {
            ApiError::validation(vec![dsc_domain::Violation::new(message, path)])
        }
        ServiceError::Unavailable(reason) => {
            tracing::warn!("database unavailable: {reason}");
            ApiError::unavailable("the database is unavailable; try again later")
        }
        ServiceError::Internal(reason) => ApiError::internal(reason),
    }
}

/// The protocol a request names, if this connector speaks it.
pub(crate) fn supported_protocol(protocol: String) -> Result<String, ApiError> {
    if protocol == dsc_controlplane::protocol::DSP_2025_1 {
        return Ok(protocol);
    }
    Err(ApiError::validation(vec![
        dsc_domain::Violation::new(
            format!("protocol '{protocol}' is not supported; use '{}'", dsc_controlplane::protocol::DSP_2025_1),
            namespaces::edc("protocol"),
        )
        .with_value(Value::String(protocol)),
    ]))
}
