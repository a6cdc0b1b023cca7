// SPDX-License-Identifier: Apache-2.0
//! `/v3/transferprocesses` and the Tractus-X style `/v3/edrs` views of consumer transfers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::protocol::Counterparty;
use dsc_controlplane::transfer::TransferRequest;
use dsc_domain::{Criterion, DataAddress, Operator, TransferProcess, TransferState, Violation, namespaces};
use dsc_jsonld::expanded;
use dsc_web::{ApiError, JsonBody};
use serde_json::{Map, Value, json};

use crate::ManagementState;
use crate::edge::{compact, expand, expand_required, id_response, ok_json, service_error};

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

fn literal(value: impl Into<Value>) -> Value {
    json!([{ "@value": value.into() }])
}

fn transfer_to_expanded(transfer: &TransferProcess) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(transfer.id.clone()));
    node.insert("@type".into(), json!([edc("TransferProcess")]));
    node.insert(edc("type"), literal(transfer.role.name()));
    node.insert(edc("state"), literal(transfer.state.name()));
    node.insert(edc("stateTimestamp"), literal(transfer.state_timestamp));
    node.insert(edc("protocol"), literal(transfer.protocol.clone()));
    node.insert(edc("counterPartyId"), literal(transfer.counter_party_id.clone()));
    node.insert(edc("counterPartyAddress"), literal(transfer.counter_party_address.clone()));
    node.insert(edc("assetId"), literal(transfer.asset_id.clone()));
    node.insert(edc("contractId"), literal(transfer.agreement_id.clone()));
    node.insert(edc("transferType"), literal(transfer.transfer_type.clone()));
    node.insert(edc("createdAt"), literal(transfer.created_at));
    if let Some(correlation) = &transfer.correlation_id {
        node.insert(edc("correlationId"), literal(correlation.clone()));
    }
    if let Some(error) = &transfer.error_detail {
        node.insert(edc("errorDetail"), literal(error.clone()));
    }
    if let Some(destination) = &transfer.data_destination {
        node.insert(edc("dataDestination"), json!([address_node(destination)]));
    }
    Value::Array(vec![Value::Object(node)])
}

fn address_node(address: &DataAddress) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), json!([edc("DataAddress")]));
    for (key, value) in &address.properties {
        node.insert(key.clone(), json!([{ "@value": value }]));
    }
    Value::Object(node)
}

pub(crate) async fn initiate(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let mut violations = Vec::new();
    let mut read = |local: &str| crate::edge::mandatory(&node, local, &mut violations);
    let address = read("counterPartyAddress");
    let protocol = read("protocol");
    let contract = read("contractId");
    let transfer_type = read("transferType");
    let destination = expanded::first_node(&node, &edc("dataDestination")).map(|destination| DataAddress {
        properties: dsc_jsonld::simplified::simplify_node(destination)
            .into_iter()
            .filter(|(key, _)| !key.starts_with('@'))
            .collect(),
    });
    let counter_party_id = expanded::first_str(&node, &edc("counterPartyId")).map(str::to_string);
    let callback_addresses = crate::negotiations::callbacks(&node, &mut violations);
    if let Some(transfer_type) = &transfer_type
        && dsc_domain::FlowType::of(transfer_type).is_none()
    {
        violations.push(
            Violation::new("transferType must be <destination type>-PULL or -PUSH", edc("transferType"))
                .with_value(Value::String(transfer_type.clone())),
        );
    }
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let (Some(address), Some(protocol), Some(contract), Some(transfer_type)) =
        (address, protocol, contract, transfer_type)
    else {
        return Err(ApiError::validation(vec![Violation::mandatory_value(&edc("contractId"))]));
    };
    let protocol = crate::edge::supported_protocol(protocol)?;
    // The provider is the agreement's assigner unless the request names it.
    let agreement = state.negotiations.agreement(&contract).await.map_err(service_error)?;
    let provider = Counterparty { address, id: counter_party_id.unwrap_or(agreement.provider_id.clone()), protocol };
    let transfer = state
        .transfers
        .initiate(TransferRequest {
            provider,
            agreement_id: contract,
            transfer_type,
            data_destination: destination.filter(|d| d.address_type() != Some("HttpProxy")),
            callback_addresses,
        })
        .await
        .map_err(|error| match error {
            dsc_controlplane::ServiceError::InvalidQuery { message, path } => {
                ApiError::validation(vec![Violation::new(message, edc(&path))])
            }
            other => service_error(other),
        })?;
    id_response(&state, &transfer.id, transfer.created_at)
}

pub(crate) async fn get(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let transfer = state.transfers.find(&id).await.map_err(service_error)?;
    Ok(ok_json(compact(&state, transfer_to_expanded(&transfer))?))
}

pub(crate) async fn get_state(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let transfer = state.transfers.find(&id).await.map_err(service_error)?;
    let expanded = json!([{ "@type": [edc("TransferState")], edc("state"): literal(transfer.state.name()) }]);
    Ok(ok_json(compact(&state, expanded)?))
}

pub(crate) async fn query(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?;
    let spec = dsc_transform::query::query_spec_from_expanded(node.as_ref()).map_err(ApiError::validation)?;
    let found = state.transfers.query(&spec).await.map_err(service_error)?;
    let items = found.iter().map(|t| compact(&state, transfer_to_expanded(t))).collect::<Result<Vec<_>, _>>()?;
    Ok(ok_json(Value::Array(items)))
}

fn reason(state: &ManagementState, body: Option<Value>, default: &str) -> Result<String, ApiError> {
    let node = expand(state, body)?.unwrap_or_default();
    Ok(expanded::first_str(&node, &edc("reason")).unwrap_or(default).to_string())
}

fn conflict(id: &str) -> impl Fn(dsc_controlplane::ServiceError) -> ApiError + '_ {
    move |error| match error {
        dsc_controlplane::ServiceError::AlreadyExists { id: detail, .. } => ApiError::conflict(format!(
            "TransferProcess {}",
            detail.strip_prefix(&format!("{id}: ")).map_or(detail.clone(), |d| format!("{id}: {d}"))
        )),
        other => service_error(other),
    }
}

pub(crate) async fn suspend(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let reason = reason(&state, body, "suspended through the Management API")?;
    state.transfers.suspend(&id, &reason).await.map_err(conflict(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn resume(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.transfers.resume(&id).await.map_err(conflict(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn terminate(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let reason = reason(&state, body, "terminated through the Management API")?;
    state.transfers.terminate(&id, &reason).await.map_err(conflict(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Pull transfers provision nothing, so there is nothing to deprovision; the call is accepted for ended ones.
pub(crate) async fn deprovision(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let transfer = state.transfers.find(&id).await.map_err(service_error)?;
    if !transfer.state.is_terminal() {
        return Err(ApiError::conflict(format!(
            "TransferProcess {id} is {}; terminate or complete it first",
            transfer.state.name()
        )));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn edr_entry(transfer: &TransferProcess) -> Value {
    json!([{
        "@id": transfer.id,
        "@type": [edc("EndpointDataReferenceEntry")],
        edc("transferProcessId"): literal(transfer.id.clone()),
        edc("assetId"): literal(transfer.asset_id.clone()),
        edc("agreementId"): literal(transfer.agreement_id.clone()),
        edc("providerId"): literal(transfer.counter_party_id.clone()),
        edc("createdAt"): literal(transfer.created_at),
    }])
}

/// EDR entries: started consumer transfers, further filtered by the request's QuerySpec.
pub(crate) async fn query_edrs(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?;
    let mut spec = dsc_transform::query::query_spec_from_expanded(node.as_ref()).map_err(ApiError::validation)?;
    spec.filter_expression.push(Criterion::new("type", Operator::Eq, "CONSUMER".into()));
    spec.filter_expression.push(Criterion::new("state", Operator::Eq, TransferState::Started.name().into()));
    let found = state.transfers.query(&spec).await.map_err(service_error)?;
    let items = found.iter().map(|t| compact(&state, edr_entry(t))).collect::<Result<Vec<_>, _>>()?;
    Ok(ok_json(Value::Array(items)))
}

#[derive(serde::Deserialize)]
pub(crate) struct DataAddressQuery {
    auto_refresh: Option<bool>,
}

/// The EDR of a started consumer transfer, as Tractus-X returns it.
pub(crate) async fn edr_data_address(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    Query(options): Query<DataAddressQuery>,
) -> Result<Response, ApiError> {
    let mut address = state.transfers.data_address(&id).await.map_err(service_error)?.ok_or_else(|| {
        ApiError::not_found(format!("no EDR for TransferProcess {id} (it is not a started consumer transfer)"))
    })?;
    if options.auto_refresh.unwrap_or(false)
        && let Some(refreshed) = state.edr_refresher.refresh_if_due(&address).await.map_err(ApiError::unavailable)?
    {
        state.transfers.replace_data_address(&id, &refreshed).await.map_err(service_error)?;
        address = refreshed;
    }
    let mut node = address_node(&address);
    if let Value::Object(object) = &mut node {
        object.insert("@type".into(), json!([edc("DataAddress")]));
    }
    Ok(ok_json(compact(&state, Value::Array(vec![node]))?))
}

/// Forgets the EDR by terminating the transfer, as removing a Tractus-X EDR entry ends access too.
pub(crate) async fn delete_edr(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.transfers.terminate(&id, "EDR deleted through the Management API").await.map_err(conflict(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
