// SPDX-License-Identifier: Apache-2.0
//! Catalog protocol, provider side: `POST /catalog/request` and `GET /catalog/datasets/{id}`.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_domain::namespaces::{DCAT, DCT, DSPACE_2025_1};
use dsc_domain::{Catalog, Dataset, ParticipantAgent, QuerySpec};
use dsc_jsonld::expanded::{self, Node};
use dsc_jsonld::simplified;
use serde_json::{Map, Value, json};

use crate::{DspError, DspState, ErrorType};

fn bad_request(reason: impl Into<String>) -> DspError {
    DspError::new(ErrorType::Catalog, StatusCode::BAD_REQUEST, reason)
}

/// Parses and expands a DSP message, checking its type.
pub(crate) fn read_message(
    state: &DspState,
    body: &Bytes,
    kind: ErrorType,
    expected_type: &str,
) -> Result<Node, DspError> {
    let bad = |reason: String| DspError::new(kind, StatusCode::BAD_REQUEST, reason);
    let document: Value = serde_json::from_slice(body).map_err(|e| bad(format!("malformed JSON: {e}")))?;
    let expanded = state.jsonld.expand(document).map_err(|e| bad(e.to_string()))?;
    let node = expanded::single_node(&expanded).cloned().unwrap_or_default();
    let wanted = format!("{DSPACE_2025_1}{expected_type}");
    if !expanded::types(&node).contains(&wanted.as_str()) {
        return Err(bad(format!("expected a {expected_type}")));
    }
    Ok(node)
}

pub(crate) async fn request_catalog(
    State(state): State<DspState>,
    Extension(participant): Extension<ParticipantAgent>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::Catalog, "CatalogRequestMessage")?;
    // EDC consumers send their QuerySpec as the filter; offset and limit are honoured, a filter we cannot read is
    // ignored rather than refused.
    let spec = expanded::first_node(&message, &format!("{DSPACE_2025_1}filter"))
        .and_then(|filter| dsc_transform::query::query_spec_from_expanded(Some(filter)).ok())
        .map(|spec| QuerySpec { filter_expression: Vec::new(), ..spec })
        .unwrap_or_default();
    let catalog = state.catalog.catalog(&participant, &spec).await.map_err(|e| {
        tracing::error!("catalog for {} failed: {e}", participant.id);
        DspError::new(ErrorType::Catalog, StatusCode::INTERNAL_SERVER_ERROR, "the catalog cannot be built right now")
    })?;
    let compacted = state
        .jsonld
        .compact(catalog_to_expanded(&catalog, &state.protocol_address), &state.message_context)
        .map_err(|e| DspError::new(ErrorType::Catalog, StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok((StatusCode::OK, Json(compacted)).into_response())
}

pub(crate) async fn get_dataset(
    State(state): State<DspState>,
    Extension(participant): Extension<ParticipantAgent>,
    Path(id): Path<String>,
) -> Result<Response, DspError> {
    let dataset = state
        .catalog
        .dataset(&participant, &id)
        .await
        .map_err(|e| {
            tracing::error!("dataset {id} for {} failed: {e}", participant.id);
            DspError::new(ErrorType::Catalog, StatusCode::INTERNAL_SERVER_ERROR, "the dataset cannot be read right now")
        })?
        .ok_or_else(|| DspError::new(ErrorType::Catalog, StatusCode::NOT_FOUND, format!("dataset '{id}' not found")))?;
    let service = data_service(&state.protocol_address);
    let expanded = Value::Array(vec![dataset_to_expanded(&dataset, &service)]);
    let compacted = state.jsonld.compact(expanded, &state.message_context).map_err(|e| bad_request(e.to_string()))?;
    Ok((StatusCode::OK, Json(compacted)).into_response())
}

fn data_service(address: &str) -> Value {
    json!({
        "@id": format!("{address}#dsp"),
        "@type": [format!("{DCAT}DataService")],
        format!("{DCAT}endpointDescription"): [{ "@value": "dspace:connector" }],
        format!("{DCAT}endpointURL"): [{ "@value": address }],
    })
}

fn dataset_to_expanded(dataset: &Dataset, service: &Value) -> Value {
    let mut node: Map<String, Value> = simplified::node_to_expanded(&dataset.properties);
    node.insert("@id".into(), Value::String(dataset.asset_id.clone()));
    node.insert("@type".into(), json!([format!("{DCAT}Dataset")]));
    node.insert(
        format!("{}hasPolicy", dsc_domain::namespaces::ODRL),
        Value::Array(
            dataset.offers.iter().map(|offer| dsc_transform::policy::policy_to_expanded(&offer.policy)).collect(),
        ),
    );
    node.insert(
        format!("{DCAT}distribution"),
        Value::Array(
            dataset
                .distributions
                .iter()
                .map(|format| {
                    json!({
                        "@type": [format!("{DCAT}Distribution")],
                        format!("{DCT}format"): [{ "@id": format }],
                        format!("{DCAT}accessService"): [service],
                    })
                })
                .collect(),
        ),
    );
    Value::Object(node)
}

fn catalog_to_expanded(catalog: &Catalog, address: &str) -> Value {
    let service = data_service(address);
    json!([{
        "@id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "@type": [format!("{DCAT}Catalog")],
        format!("{DSPACE_2025_1}participantId"): [{ "@id": catalog.participant_id }],
        format!("{DCAT}service"): [service],
        format!("{DCAT}dataset"): catalog.datasets.iter().map(|d| dataset_to_expanded(d, &service)).collect::<Vec<_>>(),
    }])
}
