// SPDX-License-Identifier: Apache-2.0
//! `/v3/transferprocesses` and the Tractus-X style `/v3/edrs` views of consumer transfers.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::protocol::Counterparty;
use dsc_controlplane::transfer::TransferRequest;
use dsc_domain::{Criterion, Operator, TransferState, Violation, namespaces};
use dsc_transform::edr::{edr_data_address_to_expanded, edr_entry_to_expanded};
use dsc_transform::transfer::{transfer_state_to_expanded, transfer_to_expanded};
use dsc_web::{ApiError, ErrorKind, JsonBody};
use serde_json::Value;

use crate::ManagementState;
use crate::edge::{compact, expand, expand_required, id_response, ok_json, service_error};

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

pub(crate) async fn initiate(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let dsc_transform::transfer::TransferRequest {
        counter_party_address: address,
        protocol,
        contract_id: contract,
        transfer_type,
        data_destination: destination,
        counter_party_id,
        callback_addresses,
    } = dsc_transform::transfer::transfer_request_from_expanded(&node).map_err(ApiError::validation)?;
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
    Ok(ok_json(compact(&state, transfer_state_to_expanded(&transfer))?))
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
    let node = expand(state, body)?;
    Ok(dsc_transform::process::reason_from_expanded(node.as_ref(), default))
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

pub(crate) async fn start(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.transfers.start(&id).await.map_err(conflict(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn complete(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.transfers.complete(&id).await.map_err(conflict(&id))?;
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
    let items = found.iter().map(|t| compact(&state, edr_entry_to_expanded(t))).collect::<Result<Vec<_>, _>>()?;
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
    options: Result<Query<DataAddressQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(options) = options.map_err(|rejection| {
        ApiError::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidRequest, rejection.body_text())
    })?;
    let auto_refresh = options.auto_refresh.unwrap_or(false);
    let address = state.edrs.data_address(&id, auto_refresh).await.map_err(edr_error)?.ok_or_else(|| {
        ApiError::not_found(format!("no EDR for TransferProcess {id} (it is not a started consumer transfer)"))
    })?;
    Ok(ok_json(compact(&state, edr_data_address_to_expanded(&address))?))
}

fn edr_error(error: dsc_controlplane::edr::EdrError) -> ApiError {
    match error {
        dsc_controlplane::edr::EdrError::Service(error) => service_error(error),
        dsc_controlplane::edr::EdrError::Refresh(reason) => ApiError::unavailable(reason),
    }
}

/// Forgets the EDR by terminating the transfer, as removing a Tractus-X EDR entry ends access too.
pub(crate) async fn delete_edr(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.transfers.terminate(&id, "EDR deleted through the Management API").await.map_err(conflict(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
