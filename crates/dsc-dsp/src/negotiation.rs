// SPDX-License-Identifier: Apache-2.0
//! Contract negotiation protocol: the endpoints of both roles, and the wire form of every negotiation message.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::ProcessIds;
use dsc_controlplane::negotiation::ProtocolError;
use dsc_controlplane::negotiation::messages::{
    ContractAgreementMessage, ContractAgreementVerificationMessage, ContractNegotiationAcceptedMessage,
    ContractNegotiationFinalizedMessage, ContractNegotiationTerminationMessage, ContractRequestMessage,
    CounterOfferMessage,
};
use dsc_controlplane::protocol::NegotiationMessage;
#[cfg(test)]
use dsc_domain::NegotiationRole;
use dsc_domain::namespaces::DSPACE_2025_1 as DSP;
use dsc_domain::{ContractAgreement, ParticipantAgent};
use dsc_jsonld::expanded::{self, Node};
use serde_json::{Value, json};

use crate::catalog::read_message;
use crate::{DspError, DspState, ErrorType};

fn dsp(local: &str) -> String {
    format!("{DSP}{local}")
}

fn id_value(value: &str) -> Value {
    json!([{ "@id": value }])
}

fn protocol_error(error: ProtocolError) -> DspError {
    let status = match error {
        ProtocolError::NotFound(_) => StatusCode::NOT_FOUND,
        ProtocolError::InvalidState(_) | ProtocolError::Refused(_) => StatusCode::BAD_REQUEST,
        ProtocolError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    DspError::new(ErrorType::ContractNegotiation, status, error.to_string())
}

fn bad(reason: impl Into<String>) -> DspError {
    DspError::new(ErrorType::ContractNegotiation, StatusCode::BAD_REQUEST, reason)
}

fn required<'a>(node: &'a Node, local: &str) -> Result<&'a str, DspError> {
    expanded::first_str(node, &dsp(local))
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| bad(format!("{local} is missing")))
}

/// The process ids a message names.
fn pids(node: &Node) -> Result<ProcessIds, DspError> {
    Ok(ProcessIds::new(required(node, "consumerPid")?, required(node, "providerPid")?))
}

fn check_path(path_id: &str, own: &str) -> Result<(), DspError> {
    if path_id == own {
        Ok(())
    } else {
        Err(bad(format!("the path names process '{path_id}' but the message '{own}'")))
    }
}

/// The ContractNegotiation acknowledgement in expanded form: the reference the direct form is tested against.
#[cfg(test)]
pub(crate) fn negotiation_ack(negotiation: &dsc_domain::ContractNegotiation) -> Value {
    let other = negotiation.correlation_id.clone().unwrap_or_default();
    let (consumer, provider) = match negotiation.role {
        NegotiationRole::Consumer => (negotiation.id.clone(), other),
        NegotiationRole::Provider => (other, negotiation.id.clone()),
    };
    json!([{
        "@id": negotiation.id,
        "@type": [dsp("ContractNegotiation")],
        dsp("consumerPid"): id_value(&consumer),
        dsp("providerPid"): id_value(&provider),
        dsp("state"): id_value(&dsp(negotiation.state.protocol_state())),
    }])
}

pub(crate) async fn get_negotiation(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
) -> Result<Response, DspError> {
    let negotiation = state.negotiations.for_peer(&peer, &id).await.map_err(protocol_error)?;
    Ok((StatusCode::OK, Json(crate::compact::acknowledgement(&negotiation))).into_response())
}

/// Provider: the initial ContractRequestMessage.
pub(crate) async fn initial_request(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractRequestMessage")?;
    let consumer_pid = required(&message, "consumerPid")?;
    if expanded::first_str(&message, &dsp("providerPid")).is_some() {
        return Err(bad(
            "an initial request carries no providerPid; send counter-requests to /negotiations/{providerPid}/request",
        ));
    }
    let callback = required(&message, "callbackAddress")?;
    let offer = expanded::first_node(&message, &dsp("offer")).ok_or_else(|| bad("offer is missing"))?;
    let offer_id = expanded::id(offer).ok_or_else(|| bad("the offer has no @id"))?;
    let request = ContractRequestMessage {
        consumer_pid: consumer_pid.to_string(),
        callback_address: callback.to_string(),
        offer_id: offer_id.to_string(),
        protocol: dsc_controlplane::protocol::DSP_2025_1.to_string(),
    };
    let negotiation = state.negotiations.requested(&peer, request).await.map_err(protocol_error)?;
    Ok((StatusCode::CREATED, Json(crate::compact::acknowledgement(&negotiation))).into_response())
}

/// The offer a ContractOfferMessage or a counter-request carries: its `@id`, its `target` and its terms.
fn counter_offer(message: &Node, process: ProcessIds) -> Result<CounterOfferMessage, DspError> {
    let offer = expanded::first_node(message, &dsp("offer")).ok_or_else(|| bad("offer is missing"))?;
    let offer_id = expanded::id(offer).ok_or_else(|| bad("the offer has no @id"))?.to_string();
    let policy = dsc_transform::policy::policy_from_expanded(offer, "offer").map_err(|violations| DspError {
        kind: ErrorType::ContractNegotiation,
        status: StatusCode::BAD_REQUEST,
        reasons: violations.into_iter().map(|violation| violation.message).collect(),
    })?;
    let target = policy.target.clone().unwrap_or_default();
    Ok(CounterOfferMessage { process, offer_id, target, policy })
}

/// Our negotiation as acknowledged to the counter-party after a message changed it.
async fn acknowledged(state: &DspState, peer: &ParticipantAgent, id: &str) -> Result<Response, DspError> {
    let negotiation = state.negotiations.for_peer(peer, id).await.map_err(protocol_error)?;
    Ok((StatusCode::OK, Json(crate::compact::acknowledgement(&negotiation))).into_response())
}

/// Provider: the consumer answers our offer with a counter-request (its own terms).
pub(crate) async fn counter_request(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractRequestMessage")?;
    let process = pids(&message)?;
    check_path(&id, &process.provider_pid)?;
    let counter = counter_offer(&message, process)?;
    state.negotiations.counter_requested(&peer, counter).await.map_err(protocol_error)?;
    acknowledged(&state, &peer, &id).await
}

/// Consumer: a provider starts a negotiation with an offer.
pub(crate) async fn initial_offer(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractOfferMessage")?;
    let provider_pid = required(&message, "providerPid")?;
    if expanded::first_str(&message, &dsp("consumerPid")).is_some() {
        return Err(bad(
            "an offer that starts a negotiation carries no consumerPid; send offers in one to /negotiations/{consumerPid}/offers",
        ));
    }
    let callback = required(&message, "callbackAddress")?;
    let offer = counter_offer(&message, ProcessIds::new("", provider_pid))?;
    let negotiation = state
        .negotiations
        .offered_first(&peer, provider_pid, callback, &offer.offer_id, &offer.target, offer.policy)
        .await
        .map_err(protocol_error)?;
    Ok((StatusCode::CREATED, Json(crate::compact::acknowledgement(&negotiation))).into_response())
}

/// Consumer: the provider offers terms of its own in a negotiation we started.
pub(crate) async fn offers(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractOfferMessage")?;
    let process = pids(&message)?;
    check_path(&id, &process.consumer_pid)?;
    let offer = counter_offer(&message, process)?;
    state.negotiations.offered(&peer, offer).await.map_err(protocol_error)?;
    acknowledged(&state, &peer, &id).await
}

pub(crate) async fn verification(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractAgreementVerificationMessage")?;
    let process = pids(&message)?;
    check_path(&id, &process.provider_pid)?;
    let verification = ContractAgreementVerificationMessage { process };
    state.negotiations.verified(&peer, verification).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn agreement(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractAgreementMessage")?;
    let process = pids(&message)?;
    check_path(&id, &process.consumer_pid)?;
    let node = expanded::first_node(&message, &dsp("agreement")).ok_or_else(|| bad("agreement is missing"))?;
    let agreement = agreement_from(node)?;
    state.negotiations.agreed(&peer, ContractAgreementMessage { process, agreement }).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

/// The agreement of a ContractAgreementMessage: the ODRL Agreement as dsc-transform reads it, signed at the
/// message's `timestamp` (the DSP's own field). Every problem is a reason of its own, not just the first.
fn agreement_from(node: &Node) -> Result<ContractAgreement, DspError> {
    let signed = signing_date(node);
    let agreement = dsc_transform::agreement::agreement_from_policy(node, "agreement", *signed.as_ref().unwrap_or(&0));
    match (agreement, signed) {
        (Ok(mut agreement), Ok(_)) => {
            // The timestamp is the message's, not a term of the policy.
            agreement.policy.extensible_properties.remove(&dsp("timestamp"));
            Ok(agreement)
        }
        (agreement, signed) => {
            let mut reasons: Vec<String> =
                agreement.err().unwrap_or_default().into_iter().map(|violation| violation.message).collect();
            reasons.extend(signed.err());
            Err(DspError { kind: ErrorType::ContractNegotiation, status: StatusCode::BAD_REQUEST, reasons })
        }
    }
}

fn signing_date(node: &Node) -> Result<i64, String> {
    let timestamp = expanded::values(node, &dsp("timestamp"))
        .first()
        .and_then(expanded::literal)
        .and_then(Value::as_str)
        .ok_or_else(|| "the agreement has no timestamp".to_string())?;
    chrono_seconds(timestamp).ok_or_else(|| format!("'{timestamp}' is not an xsd:dateTime"))
}

/// Epoch seconds of an RFC 3339 date-time.
fn chrono_seconds(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|instant| instant.timestamp())
}

/// RFC 3339 (UTC) of epoch seconds.
pub(crate) fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|instant| instant.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

pub(crate) async fn events(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractNegotiationEventMessage")?;
    let process = pids(&message)?;
    let event = required(&message, "eventType")?;
    match event.strip_prefix(DSP).unwrap_or(event) {
        "FINALIZED" => {
            check_path(&id, &process.consumer_pid)?;
            let finalized = ContractNegotiationFinalizedMessage { process };
            state.negotiations.finalized(&peer, finalized).await.map_err(protocol_error)?;
        }
        "ACCEPTED" => {
            check_path(&id, &process.provider_pid)?;
            let accepted = ContractNegotiationAcceptedMessage { process };
            state.negotiations.accepted(&peer, accepted).await.map_err(protocol_error)?;
        }
        other => return Err(bad(format!("unknown event type '{other}'"))),
    }
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn termination(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::ContractNegotiation, "ContractNegotiationTerminationMessage")?;
    let process = pids(&message)?;
    let negotiation = state.negotiations.for_peer(&peer, &id).await.map_err(protocol_error)?;
    check_path(&id, process.own(negotiation.role))?;
    let reasons: Vec<String> = expanded::values(&message, &dsp("reason"))
        .iter()
        .filter_map(|v| expanded::literal(v).and_then(Value::as_str).map(str::to_string))
        .collect();
    let reason = (!reasons.is_empty()).then(|| format!("terminated by the counter-party: {}", reasons.join("; ")));
    let termination = ContractNegotiationTerminationMessage { process, reason };
    state.negotiations.terminated(&peer, negotiation.role, termination).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

/// The expanded form of an outbound message, to be compacted with the DSP context.
pub(crate) fn message_to_expanded(message: &NegotiationMessage) -> Value {
    message_to_expanded_with_id(message, &format!("urn:uuid:{}", uuid::Uuid::new_v4()))
}

pub(crate) fn message_to_expanded_with_id(message: &NegotiationMessage, id: &str) -> Value {
    let mut node = serde_json::Map::new();
    node.insert("@id".into(), Value::String(id.to_string()));
    let pair = |node: &mut serde_json::Map<String, Value>, consumer: &str, provider: &str| {
        node.insert(dsp("consumerPid"), id_value(consumer));
        node.insert(dsp("providerPid"), id_value(provider));
    };
    match message {
        NegotiationMessage::ContractRequest {
            consumer_pid,
            provider_pid,
            callback_address,
            offer,
            target,
            assigner,
        } => {
            node.insert("@type".into(), json!([dsp("ContractRequestMessage")]));
            node.insert(dsp("consumerPid"), id_value(consumer_pid));
            if let Some(provider_pid) = provider_pid {
                node.insert(dsp("providerPid"), id_value(provider_pid));
            }
            if let Some(callback) = callback_address {
                node.insert(dsp("callbackAddress"), json!([{ "@value": callback }]));
            }
            let policy = dsc_transform::contract_request::offer_policy(offer, target, assigner);
            node.insert(dsp("offer"), json!([dsc_transform::policy::policy_to_expanded(&policy)]));
        }
        NegotiationMessage::Agreement { provider_pid, consumer_pid, agreement } => {
            node.insert("@type".into(), json!([dsp("ContractAgreementMessage")]));
            pair(&mut node, consumer_pid, provider_pid);
            let policy = dsc_transform::agreement::agreement_policy(agreement);
            let mut agreement_node = dsc_transform::policy::policy_to_expanded(&policy);
            if let Value::Object(object) = &mut agreement_node {
                object.insert(dsp("timestamp"), json!([{ "@value": rfc3339(agreement.contract_signing_date) }]));
            }
            node.insert(dsp("agreement"), json!([agreement_node]));
        }
        NegotiationMessage::Offer { provider_pid, consumer_pid, callback_address, offer, target, assigner } => {
            node.insert("@type".into(), json!([dsp("ContractOfferMessage")]));
            node.insert(dsp("providerPid"), id_value(provider_pid));
            if let Some(consumer_pid) = consumer_pid {
                node.insert(dsp("consumerPid"), id_value(consumer_pid));
            }
            if let Some(callback) = callback_address {
                node.insert(dsp("callbackAddress"), json!([{ "@value": callback }]));
            }
            let policy = dsc_transform::contract_request::offer_policy(offer, target, assigner);
            node.insert(dsp("offer"), json!([dsc_transform::policy::policy_to_expanded(&policy)]));
        }
        NegotiationMessage::Verification { provider_pid, consumer_pid } => {
            node.insert("@type".into(), json!([dsp("ContractAgreementVerificationMessage")]));
            pair(&mut node, consumer_pid, provider_pid);
        }
        NegotiationMessage::Event { provider_pid, consumer_pid, event_type } => {
            node.insert("@type".into(), json!([dsp("ContractNegotiationEventMessage")]));
            pair(&mut node, consumer_pid, provider_pid);
            node.insert(dsp("eventType"), id_value(&dsp(event_type)));
        }
        NegotiationMessage::Termination { provider_pid, consumer_pid, code, reason, .. } => {
            node.insert("@type".into(), json!([dsp("ContractNegotiationTerminationMessage")]));
            pair(&mut node, consumer_pid, provider_pid);
            if let Some(code) = code {
                node.insert(dsp("code"), json!([{ "@value": code }]));
            }
            if let Some(reason) = reason {
                node.insert(dsp("reason"), json!([{ "@value": reason }]));
            }
        }
    }
    Value::Array(vec![Value::Object(node)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::odrl::{Action, Policy, PolicyType, Rule};

    fn agreement() -> ContractAgreement {
        let mut policy = Policy::new(PolicyType::Agreement);
        policy.permissions.push(Rule {
            action: Action {
                action_type: format!("{}use", dsc_domain::namespaces::ODRL),
                included_in: None,
                refinements: Vec::new(),
            },
            constraints: Vec::new(),
            duties: Vec::new(),
        });
        let agreement = ContractAgreement {
            id: "urn:uuid:agreement-1".into(),
            provider_id: "did:web:provider".into(),
            consumer_id: "did:web:consumer".into(),
            contract_signing_date: 1_727_770_530,
            asset_id: "asset-1".into(),
            policy,
        };
        ContractAgreement { policy: dsc_transform::agreement::agreement_policy(&agreement), ..agreement }
    }

    fn agreement_node(message: &NegotiationMessage) -> Node {
        let expanded = message_to_expanded_with_id(message, "urn:uuid:m");
        let message = expanded::single_node(&expanded).cloned().unwrap_or_default();
        expanded::first_node(&message, &dsp("agreement")).cloned().unwrap_or_default()
    }

    #[test]
    fn an_agreement_survives_the_agreement_message() {
        let message = NegotiationMessage::Agreement {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            agreement: agreement(),
        };
        let read = agreement_from(&agreement_node(&message)).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(read, agreement());
    }

    #[test]
    fn every_problem_of_an_agreement_is_named() {
        let message = NegotiationMessage::Agreement {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            agreement: agreement(),
        };
        let mut node = agreement_node(&message);
        node.remove(&format!("{}assignee", dsc_domain::namespaces::ODRL));
        node.insert(dsp("timestamp"), json!([{ "@value": "yesterday" }]));
        let error = agreement_from(&node).err().unwrap_or_else(|| panic!("refused"));
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.reasons, vec!["the agreement has no assignee", "'yesterday' is not an xsd:dateTime"]);
        node.remove(&dsp("timestamp"));
        let error = agreement_from(&node).err().unwrap_or_else(|| panic!("refused"));
        assert_eq!(error.reasons, vec!["the agreement has no assignee", "the agreement has no timestamp"]);
    }

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_727_770_530), "2024-10-01T08:15:30Z");
        assert_eq!(chrono_seconds("2024-10-01T08:15:30Z"), Some(1_727_770_530));
        assert_eq!(chrono_seconds("2025-10-01T08:15:30.123Z"), chrono_seconds("2025-10-01T08:15:30Z"));
        assert_eq!(chrono_seconds("yesterday"), None);
    }
}
