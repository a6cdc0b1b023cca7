// SPDX-License-Identifier: Apache-2.0
//! `/v3/contractnegotiations` and `/v3/contractagreements`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::protocol::Counterparty;
use dsc_domain::Offer;
use dsc_transform::agreement::agreement_to_expanded;
use dsc_transform::negotiation::{negotiation_state_to_expanded, negotiation_to_expanded};
use dsc_web::{ApiError, JsonBody};
use serde_json::Value;

use crate::ManagementState;
use crate::edge::{compact, expand, expand_required, id_response, ok_json, service_error};

pub(crate) async fn initiate(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    initiate_with(state, body, None).await
}

/// `POST /v3/edrs`: a contract negotiation that starts an HTTP pull transfer once FINALIZED (Tractus-X EDR API).
pub(crate) async fn initiate_edr(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    initiate_with(state, body, Some(dsc_controlplane::edr::edr_callback())).await
}

async fn initiate_with(
    state: ManagementState,
    body: Option<Value>,
    internal_callback: Option<dsc_domain::CallbackAddress>,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let dsc_transform::contract_request::ContractRequest {
        counter_party_address: address,
        protocol,
        counter_party_id,
        policy,
        offer_id,
        mut callback_addresses,
    } = dsc_transform::contract_request::contract_request_from_expanded(&node).map_err(ApiError::validation)?;
    callback_addresses.extend(internal_callback);
    let protocol = crate::edge::supported_protocol(protocol)?;
    let peer = Counterparty { address, id: counter_party_id, protocol };
    let negotiation = state
        .negotiations
        .initiate(peer, Offer { id: offer_id, policy }, callback_addresses)
        .await
        .map_err(service_error)?;
    id_response(&state, &negotiation.id, negotiation.created_at)
}

/// Provider: start a negotiation with an offer of one of our assets on one of our policies to a consumer.
pub(crate) async fn offer_first(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let edc = dsc_domain::namespaces::edc;
    let text = |local: &str| dsc_jsonld::expanded::first_str(&node, &edc(local)).map(str::to_string);
    let mut violations = Vec::new();
    let mut mandatory = |local: &str| {
        let value = text(local).filter(|v| !v.trim().is_empty());
        if value.is_none() {
            violations.push(dsc_domain::Violation::mandatory_value(&edc(local)));
        }
        value.unwrap_or_default()
    };
    let (address, counter_party_id) = (mandatory("counterPartyAddress"), mandatory("counterPartyId"));
    let (asset, policy_id) = (mandatory("assetId"), mandatory("policyId"));
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let protocol = crate::edge::supported_protocol(
        text("protocol").unwrap_or_else(|| dsc_controlplane::protocol::DSP_2025_1.to_string()),
    )?;
    let unknown = |what: &str, local: &str, id: &str| {
        ApiError::validation(vec![
            dsc_domain::Violation::new(format!("{what} '{id}' does not exist"), edc(local))
                .with_value(Value::String(id.to_string())),
        ])
    };
    match state.assets.find(&asset).await {
        Ok(_) => {}
        Err(dsc_controlplane::ServiceError::NotFound { .. }) => return Err(unknown("asset", "assetId", &asset)),
        Err(other) => return Err(service_error(other)),
    }
    let policy = match state.policy_definitions.find(&policy_id).await {
        Ok(definition) => definition.policy,
        Err(dsc_controlplane::ServiceError::NotFound { .. }) => {
            return Err(unknown("policy definition", "policyId", &policy_id));
        }
        Err(other) => return Err(service_error(other)),
    };
    let peer = Counterparty { address, id: counter_party_id, protocol };
    let negotiation = state.negotiations.offer_first(peer, &asset, policy).await.map_err(service_error)?;
    id_response(&state, &negotiation.id, negotiation.created_at)
}

pub(crate) async fn get(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let negotiation = state.negotiations.find(&id).await.map_err(service_error)?;
    Ok(ok_json(compact(&state, negotiation_to_expanded(&negotiation))?))
}

pub(crate) async fn get_state(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let negotiation = state.negotiations.find(&id).await.map_err(service_error)?;
    Ok(ok_json(compact(&state, negotiation_state_to_expanded(&negotiation))?))
}

pub(crate) async fn get_agreement(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let negotiation = state.negotiations.find(&id).await.map_err(service_error)?;
    let agreement = negotiation.agreement.ok_or_else(|| {
        ApiError::not_found(format!("ContractNegotiation {id} has no agreement (state {})", negotiation.state.name()))
    })?;
    Ok(ok_json(compact(&state, agreement_to_expanded(&agreement))?))
}

fn decision_error(error: dsc_controlplane::ServiceError) -> ApiError {
    match error {
        dsc_controlplane::ServiceError::AlreadyExists { id: detail, .. } => {
            ApiError::conflict(format!("ContractNegotiation {detail}"))
        }
        other => service_error(other),
    }
}

/// The terms an operator names in a decision's body (`policyId`, one of this connector's policy definitions), or
/// `None` without a body or id.
async fn named_terms(
    state: &ManagementState,
    body: Option<Value>,
) -> Result<Option<dsc_domain::odrl::Policy>, ApiError> {
    let node = expand(state, body)?;
    let Some(policy_id) =
        node.as_ref().and_then(|n| dsc_jsonld::expanded::first_str(n, &dsc_domain::namespaces::edc("policyId")))
    else {
        return Ok(None);
    };
    match state.policy_definitions.find(policy_id).await {
        Ok(definition) => Ok(Some(definition.policy)),
        Err(dsc_controlplane::ServiceError::NotFound { .. }) => Err(ApiError::validation(vec![
            dsc_domain::Violation::new(
                format!("policy definition '{policy_id}' does not exist"),
                dsc_domain::namespaces::edc("policyId"),
            )
            .with_value(Value::String(policy_id.to_string())),
        ])),
        Err(other) => Err(service_error(other)),
    }
}

pub(crate) async fn approve(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.negotiations.approve(&id).await.map_err(decision_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Provider: answer a waiting request with an offer (on the terms of `policyId`, or the current ones).
pub(crate) async fn offer(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let terms = named_terms(&state, body).await?;
    state.negotiations.offer(&id, terms).await.map_err(decision_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Consumer: accept the provider's offer that waits for the operator.
pub(crate) async fn accept(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.negotiations.accept(&id).await.map_err(decision_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Consumer: verify an agreement that waits for the operator.
pub(crate) async fn verify(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    state.negotiations.verify(&id).await.map_err(decision_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Consumer: answer the provider's offer with a counter-request (on the terms of `policyId`, or the first ones).
pub(crate) async fn counter(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let terms = named_terms(&state, body).await?;
    state.negotiations.counter(&id, terms).await.map_err(decision_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn terminate(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?;
    let reason = dsc_transform::process::reason_from_expanded(node.as_ref(), "terminated by the consumer");
    state.negotiations.terminate(&id, &reason).await.map_err(|error| match error {
        dsc_controlplane::ServiceError::AlreadyExists { .. } => {
            ApiError::conflict(format!("ContractNegotiation {id} has already ended"))
        }
        other => service_error(other),
    })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn query(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?;
    let spec = dsc_transform::query::query_spec_from_expanded(node.as_ref()).map_err(ApiError::validation)?;
    let found = state.negotiations.query(&spec).await.map_err(service_error)?;
    let items = found.iter().map(|n| compact(&state, negotiation_to_expanded(n))).collect::<Result<Vec<_>, _>>()?;
    Ok(ok_json(Value::Array(items)))
}

pub(crate) async fn get_contract_agreement(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let agreement = state.negotiations.agreement(&id).await.map_err(service_error)?;
    Ok(ok_json(compact(&state, agreement_to_expanded(&agreement))?))
}

pub(crate) async fn query_agreements(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?;
    let spec = dsc_transform::query::query_spec_from_expanded(node.as_ref()).map_err(ApiError::validation)?;
    let found = state.negotiations.query_agreements(&spec).await.map_err(service_error)?;
    let items = found.iter().map(|a| compact(&state, agreement_to_expanded(a))).collect::<Result<Vec<_>, _>>()?;
    Ok(ok_json(Value::Array(items)))
}

pub(crate) async fn negotiation_of_agreement(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let negotiation = state.negotiations.negotiation_of_agreement(&id).await.map_err(service_error)?;
    Ok(ok_json(compact(&state, negotiation_to_expanded(&negotiation))?))
}
