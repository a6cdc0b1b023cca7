// SPDX-License-Identifier: Apache-2.0
//! `/v3/contractnegotiations` and `/v3/contractagreements`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::protocol::Counterparty;
use dsc_domain::odrl::PolicyType;
use dsc_domain::{ContractAgreement, ContractNegotiation, ContractOfferId, Offer, Violation, namespaces};
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

pub(crate) fn negotiation_to_expanded(negotiation: &ContractNegotiation) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(negotiation.id.clone()));
    node.insert("@type".into(), json!([edc("ContractNegotiation")]));
    node.insert(edc("type"), literal(negotiation.role.name()));
    node.insert(edc("protocol"), literal(negotiation.protocol.clone()));
    node.insert(edc("state"), literal(negotiation.state.name()));
    node.insert(edc("counterPartyId"), literal(negotiation.counter_party_id.clone()));
    node.insert(edc("counterPartyAddress"), literal(negotiation.counter_party_address.clone()));
    node.insert(
        edc("callbackAddresses"),
        Value::Array(
            negotiation
                .callback_addresses
                .iter()
                .map(|c| {
                    let mut callback = Map::new();
                    callback.insert("@type".into(), json!([edc("CallbackAddress")]));
                    callback.insert(edc("uri"), literal(c.uri.clone()));
                    callback
                        .insert(edc("events"), Value::Array(c.events.iter().map(|e| json!({ "@value": e })).collect()));
                    callback.insert(edc("transactional"), literal(c.transactional));
                    if let Some(key) = &c.auth_key {
                        callback.insert(edc("authKey"), literal(key.clone()));
                    }
                    if let Some(code) = &c.auth_code_id {
                        callback.insert(edc("authCodeId"), literal(code.clone()));
                    }
                    Value::Object(callback)
                })
                .collect(),
        ),
    );
    node.insert(edc("createdAt"), literal(negotiation.created_at));
    if let Some(correlation) = &negotiation.correlation_id {
        node.insert(edc("correlationId"), literal(correlation.clone()));
    }
    if let Some(agreement) = &negotiation.agreement {
        node.insert(edc("contractAgreementId"), literal(agreement.id.clone()));
    }
    if let Some(offer) = negotiation.last_offer() {
        node.insert(edc("assetId"), literal(offer.id.asset_id.clone()));
    }
    if let Some(error) = &negotiation.error_detail {
        node.insert(edc("errorDetail"), literal(error.clone()));
    }
    Value::Array(vec![Value::Object(node)])
}

pub(crate) fn agreement_to_expanded(agreement: &ContractAgreement) -> Value {
    let mut policy = agreement.policy.clone();
    policy.policy_type = PolicyType::Agreement;
    json!([{
        "@id": agreement.id,
        "@type": [edc("ContractAgreement")],
        edc("assetId"): literal(agreement.asset_id.clone()),
        edc("policy"): [dsc_transform::policy::policy_to_expanded(&policy)],
        edc("contractSigningDate"): literal(agreement.contract_signing_date),
        edc("consumerId"): literal(agreement.consumer_id.clone()),
        edc("providerId"): literal(agreement.provider_id.clone()),
    }])
}

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
    let mut violations = Vec::new();
    let mut read = |local: &str| crate::edge::mandatory(&node, local, &mut violations);
    let address = read("counterPartyAddress");
    let protocol = read("protocol");
    let policy_iri = edc("policy");
    let policy = match expanded::first_node(&node, &policy_iri) {
        Some(policy) => match dsc_transform::policy::policy_from_expanded(policy, &policy_iri) {
            Ok(policy) => Some(policy),
            Err(more) => {
                violations.extend(more);
                None
            }
        },
        None => {
            violations.push(Violation::mandatory_object(&policy_iri));
            None
        }
    };
    let mut offer_id = None;
    if let Some(policy) = &policy {
        if policy.policy_type != PolicyType::Offer {
            violations.push(Violation::new(
                format!("the policy must be an ODRL Offer ('{}')", PolicyType::Offer.iri()),
                format!("{policy_iri}/@type"),
            ));
        }
        // A provider's offer id is opaque to the consumer: EDC's form is read, any other is kept as it is.
        let uid = policy.uid.as_deref().filter(|uid| !uid.trim().is_empty());
        match (uid, uid.and_then(ContractOfferId::parse), policy.target.as_deref()) {
            (_, Some(id), _) => offer_id = Some(id),
            (Some(uid), None, Some(target)) => offer_id = Some(ContractOfferId::opaque(uid, target)),
            _ => violations.push(
                Violation::new("the policy's @id must be the offer id from the catalog", format!("{policy_iri}/@id"))
                    .with_value(policy.uid.clone().map(Value::String).unwrap_or(Value::Null)),
            ),
        }
        for (local, value) in [("assigner", &policy.assigner), ("target", &policy.target)] {
            if value.is_none() {
                violations.push(Violation::mandatory_value(&format!("{policy_iri}/{}", namespaces::odrl(local))));
            }
        }
    }
    let mut callback_addresses = callbacks(&node, &mut violations);
    callback_addresses.extend(internal_callback);
    // The counter-party id defaults to the offer's assigner, as in EDC.
    let counter_party_id = expanded::first_str(&node, &edc("counterPartyId"))
        .map(str::to_string)
        .or_else(|| policy.as_ref().and_then(|p| p.assigner.clone()));
    if !violations.is_empty() {
        return Err(ApiError::validation(violations));
    }
    let (Some(address), Some(protocol), Some(policy), Some(offer_id), Some(counter_party_id)) =
        (address, protocol, policy, offer_id, counter_party_id)
    else {
        return Err(ApiError::validation(vec![Violation::mandatory_value(&edc("counterPartyId"))]));
    };
    let protocol = crate::edge::supported_protocol(protocol)?;
    let peer = Counterparty { address, id: counter_party_id, protocol };
    let negotiation = state
        .negotiations
        .initiate(peer, Offer { id: offer_id, policy }, callback_addresses)
        .await
        .map_err(service_error)?;
    id_response(&state, &negotiation.id, negotiation.created_at)
}

/// `callbackAddresses`: where to send the negotiation's events.
pub(crate) fn callbacks(node: &expanded::Node, violations: &mut Vec<Violation>) -> Vec<dsc_domain::CallbackAddress> {
    let list_iri = edc("callbackAddresses");
    expanded::nodes(node, &list_iri)
        .enumerate()
        .filter_map(|(index, callback)| {
            let path = |local: &str| format!("{list_iri}[{index}]/{}", edc(local));
            let text = |local: &str| expanded::first_str(callback, &edc(local)).map(str::to_string);
            let uri = text("uri").filter(|u| u.starts_with("http://") || u.starts_with("https://"));
            let events: Vec<String> = expanded::values(callback, &edc("events"))
                .iter()
                .filter_map(|v| expanded::value_str(v).map(str::to_string))
                .collect();
            let transactional = expanded::values(callback, &edc("transactional"))
                .first()
                .and_then(expanded::literal)
                .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true"));
            let (auth_key, auth_code_id) = (text("authKey"), text("authCodeId"));
            let before = violations.len();
            if uri.is_none() {
                violations.push(Violation::new("uri must be an http(s) URL", path("uri")));
            }
            if events.is_empty() {
                violations.push(Violation::mandatory_value(&path("events")));
            }
            if transactional {
                violations.push(Violation::new(
                    "transactional callbacks are not supported: events are delivered after the state change is saved",
                    path("transactional"),
                ));
            }
            if auth_key.is_some() && auth_code_id.is_none() {
                violations.push(Violation::new(
                    "authKey needs authCodeId (the vault key of the header value)",
                    path("authCodeId"),
                ));
            }
            (violations.len() == before).then(|| dsc_domain::CallbackAddress {
                uri: uri.unwrap_or_default(),
                events,
                transactional,
                auth_key,
                auth_code_id,
            })
        })
        .collect()
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
    let expanded = json!([{ "@type": [edc("NegotiationState")], edc("state"): literal(negotiation.state.name()) }]);
    Ok(ok_json(compact(&state, expanded)?))
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

pub(crate) async fn terminate(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?.unwrap_or_default();
    let reason = expanded::first_str(&node, &edc("reason")).unwrap_or("terminated by the consumer").to_string();
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
