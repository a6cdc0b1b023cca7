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
use dsc_jsonld::{CompactionContext, JsonLd, simplified};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

use crate::{DSP_CONTEXT, DspError, DspState, ErrorType};

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
    let compacted = compact_catalog(&state.jsonld, &state.message_context, &catalog, &state.protocol_address)
        .map_err(|e| DspError::new(ErrorType::Catalog, StatusCode::INTERNAL_SERVER_ERROR, e))?;
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

/// The catalog in compact form. Its shape is fixed (catalog, service, datasets, offers, distributions) and written
/// directly; only the assets' own properties, where any vocabulary may appear, go through JSON-LD compaction, in
/// one call for the whole page. General compaction of a whole catalog costs about 2 ms per dataset. A catalog the
/// direct form cannot express the same (a policy with extensions, a property on an IRI of the
/// fixed shape) takes the general path; a test checks that both mean the same.
fn compact_catalog(
    jsonld: &JsonLd,
    context: &CompactionContext,
    catalog: &Catalog,
    address: &str,
) -> Result<Value, String> {
    let general = || jsonld.compact(catalog_to_expanded(catalog, address), context).map_err(|e| e.to_string());
    let fixed = [format!("{DCAT}distribution"), format!("{}hasPolicy", dsc_domain::namespaces::ODRL)];
    let clashes = |dataset: &Dataset| {
        dataset.properties.keys().any(|key| key.starts_with('@') || fixed.iter().any(|iri| iri == key))
    };
    if catalog.datasets.iter().any(clashes) {
        return general();
    }
    let Some(mut properties) = compact_properties(jsonld, context, &catalog.datasets)? else { return general() };
    let service = json!({
        "@id": format!("{address}#dsp"),
        "@type": "DataService",
        "endpointDescription": "dspace:connector",
        "endpointURL": address,
    });
    let mut datasets = Vec::with_capacity(catalog.datasets.len());
    for dataset in &catalog.datasets {
        let Some(offers) =
            dataset.offers.iter().map(|offer| crate::compact::policy(&offer.policy)).collect::<Option<Vec<_>>>()
        else {
            return general();
        };
        let mut node = match properties.remove(&dataset.asset_id) {
            Some(node) => node,
            None if dataset.properties.is_empty() => Map::new(),
            None => return general(),
        };
        node.insert("@id".into(), Value::String(dataset.asset_id.clone()));
        node.insert("@type".into(), Value::String("Dataset".into()));
        node.insert("hasPolicy".into(), Value::Array(offers));
        let distributions = dataset
            .distributions
            .iter()
            .map(|format| json!({ "@type": "Distribution", "format": format, "accessService": service }))
            .collect();
        node.insert("distribution".into(), Value::Array(distributions));
        datasets.push(Value::Object(node));
    }
    Ok(json!({
        "@context": [DSP_CONTEXT],
        "@id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "@type": "Catalog",
        "participantId": catalog.participant_id,
        "service": [service],
        "dataset": datasets,
    }))
}

/// Compacted properties (without `@id`) by asset id.
type PropertiesById = HashMap<String, Map<String, Value>>;

/// Each dataset's properties compacted against the message context, by asset id; `None` when the compaction
/// answers in a form this cannot take apart (then the caller takes the general path).
fn compact_properties(
    jsonld: &JsonLd,
    context: &CompactionContext,
    datasets: &[Dataset],
) -> Result<Option<PropertiesById>, String> {
    let nodes: Vec<Value> = datasets
        .iter()
        .filter(|dataset| !dataset.properties.is_empty())
        .map(|dataset| {
            let mut node = simplified::node_to_expanded(&dataset.properties);
            node.insert("@id".into(), Value::String(dataset.asset_id.clone()));
            Value::Object(node)
        })
        .collect();
    let mut found = HashMap::new();
    if nodes.is_empty() {
        return Ok(Some(found));
    }
    let compacted = jsonld.compact(Value::Array(nodes), context).map_err(|e| e.to_string())?;
    let Value::Object(mut document) = compacted else { return Ok(None) };
    document.remove("@context");
    let nodes = match document.remove("@graph") {
        Some(Value::Array(nodes)) if document.is_empty() => nodes,
        Some(_) => return Ok(None),
        None => vec![Value::Object(document)],
    };
    for node in nodes {
        let Value::Object(mut node) = node else { return Ok(None) };
        let Some(Value::String(id)) = node.remove("@id") else { return Ok(None) };
        found.insert(id, node);
    }
    Ok(Some(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, Policy, PolicyType, Rule};
    use dsc_domain::{ContractOfferId, Offer, Properties};

    fn offer(asset: &str, definition: &str, bpn: &str) -> Offer {
        let id = ContractOfferId::new(definition, asset, "fixed");
        let mut policy = Policy::new(PolicyType::Offer);
        policy.uid = Some(id.to_string());
        policy.permissions.push(Rule {
            action: Action { action_type: dsc_domain::namespaces::odrl("use"), included_in: None, refinements: vec![] },
            constraints: vec![Constraint::Atomic {
                left_operand: "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber".into(),
                operator: ConstraintOperator::Eq,
                right_operand: json!(bpn),
            }],
            duties: vec![],
        });
        Offer { id, policy }
    }

    fn dataset(asset: &str, properties: Value, offers: Vec<Offer>, distributions: &[&str]) -> Dataset {
        let properties: Properties = serde_json::from_value(properties).unwrap();
        Dataset {
            asset_id: asset.into(),
            properties,
            offers,
            distributions: distributions.iter().map(|d| d.to_string()).collect(),
        }
    }

    fn catalogs() -> Vec<Catalog> {
        let edc = |local: &str| format!("https://w3id.org/edc/v0.0.1/ns/{local}");
        let rich = json!({
            edc("name"): "part 1",
            "http://purl.org/dc/terms/title": "Title",
            edc("nested"): { edc("k"): 5, edc("flag"): true },
            "http://www.w3.org/ns/dcat#keyword": ["a", "b"],
            edc("link"): { "@id": "urn:part:1" },
        });
        vec![
            Catalog { participant_id: "did:web:p".into(), datasets: vec![] },
            Catalog {
                participant_id: "did:web:p".into(),
                datasets: vec![dataset("a1", rich.clone(), vec![offer("a1", "cd-1", "BPNL1")], &["HttpData-PULL"])],
            },
            Catalog {
                participant_id: "did:web:p".into(),
                datasets: vec![
                    dataset(
                        "a1",
                        rich,
                        vec![offer("a1", "cd-1", "BPNL1"), offer("a1", "cd-2", "BPNL2")],
                        &["HttpData-PULL", "Stream-PULL"],
                    ),
                    dataset("urn:asset:2", json!({}), vec![offer("urn:asset:2", "cd-1", "BPNL1")], &[]),
                    dataset("a3", json!({ edc("line"): "L3" }), vec![offer("a3", "cd-3", "BPNL1")], &["HttpData-PULL"]),
                ],
            },
        ]
    }

    /// Both forms expanded, with the catalog's random id made the same.
    fn both(catalog: &Catalog) -> (Value, Value) {
        let jsonld = JsonLd::new().unwrap();
        let context = crate::message_context().unwrap();
        let mut direct = compact_catalog(&jsonld, &context, catalog, "http://provider/dsp").unwrap();
        let general = jsonld.compact(catalog_to_expanded(catalog, "http://provider/dsp"), &context).unwrap();
        direct["@id"] = general["@id"].clone();
        (jsonld.expand(direct).unwrap(), jsonld.expand(general).unwrap())
    }

    #[test]
    fn the_direct_catalog_means_exactly_what_general_compaction_produces() {
        for catalog in catalogs() {
            let (direct, general) = both(&catalog);
            assert_eq!(direct, general, "{catalog:?}");
        }
    }

    #[test]
    fn a_property_on_a_key_of_the_fixed_shape_takes_the_general_path() {
        let clash = dataset(
            "a1",
            json!({ "http://www.w3.org/ns/dcat#distribution": "not a distribution" }),
            vec![offer("a1", "cd-1", "BPNL1")],
            &["HttpData-PULL"],
        );
        let catalog = Catalog { participant_id: "did:web:p".into(), datasets: vec![clash] };
        let (direct, general) = both(&catalog);
        assert_eq!(direct, general);
    }
}
