// SPDX-License-Identifier: Apache-2.0
//! Transfer process protocol: the endpoints of both roles and the wire form of every transfer message.
//!
//! Outbound messages are written directly in compact 2025-1 form (as negotiation messages are); a unit test
//! reads each one back through JSON-LD expansion and the inbound parsers.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::ProcessIds;
use dsc_controlplane::negotiation::ProtocolError;
use dsc_controlplane::protocol::TransferMessage;
use dsc_controlplane::transfer::messages::{
    TransferCompletionMessage, TransferRequestMessage, TransferStartMessage, TransferSuspensionMessage,
    TransferTerminationMessage,
};
use dsc_domain::namespaces::{DCT, DSPACE_2025_1 as DSP};
use dsc_domain::{DataAddress, NegotiationRole, ParticipantAgent, TransferProcess};
use dsc_jsonld::expanded::{self, Node};
use dsc_signaling::wire::{EndpointProperty, WireDataAddress};
use serde_json::{Map, Value, json};

use crate::catalog::read_message;
use crate::{DSP_CONTEXT, DspError, DspState, ErrorType};

fn dsp(local: &str) -> String {
    format!("{DSP}{local}")
}

fn bad(reason: impl Into<String>) -> DspError {
    DspError::new(ErrorType::Transfer, StatusCode::BAD_REQUEST, reason)
}

fn protocol_error(error: ProtocolError) -> DspError {
    let status = match error {
        ProtocolError::NotFound(_) => StatusCode::NOT_FOUND,
        ProtocolError::InvalidState(_) | ProtocolError::Refused(_) => StatusCode::BAD_REQUEST,
        ProtocolError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    DspError::new(ErrorType::Transfer, status, error.to_string())
}

fn required<'a>(node: &'a Node, iri: &str, name: &str) -> Result<&'a str, DspError> {
    expanded::first_str(node, iri)
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| bad(format!("{name} is missing")))
}

fn pids(node: &Node) -> Result<ProcessIds, DspError> {
    Ok(ProcessIds::new(
        required(node, &dsp("consumerPid"), "consumerPid")?,
        required(node, &dsp("providerPid"), "providerPid")?,
    ))
}

/// The DSP `dataAddress` of a message, if any.
pub(crate) fn data_address_from(node: &Node) -> Result<Option<DataAddress>, DspError> {
    let Some(address) = expanded::first_node(node, &dsp("dataAddress")) else { return Ok(None) };
    let endpoint_type = required(address, &dsp("endpointType"), "dataAddress.endpointType")?.to_string();
    let endpoint = expanded::first_str(address, &dsp("endpoint")).map(str::to_string);
    let mut endpoint_properties = Vec::new();
    for property in expanded::nodes(address, &dsp("endpointProperties")) {
        let name = required(property, &dsp("name"), "endpointProperties.name")?.to_string();
        let value = expanded::values(property, &dsp("value"))
            .first()
            .and_then(expanded::literal)
            .cloned()
            .unwrap_or(Value::Null);
        endpoint_properties.push(EndpointProperty { kind: "EndpointProperty".into(), name, value });
    }
    let wire = WireDataAddress { kind: "DataAddress".into(), endpoint_type, endpoint, endpoint_properties };
    Ok(Some(dsc_signaling::address_from_wire(&wire)))
}

/// The role of the process this connector holds under `id`, and the message's process ids, ours equal to `id`.
async fn own_and_other(
    state: &DspState,
    peer: &ParticipantAgent,
    id: &str,
    message: &Node,
) -> Result<(NegotiationRole, ProcessIds), DspError> {
    let process = pids(message)?;
    let transfer = state.transfers.for_peer(peer, id).await.map_err(protocol_error)?;
    let own = process.own(transfer.role);
    if own != id {
        return Err(bad(format!("the path names process '{id}' but the message '{own}'")));
    }
    Ok((transfer.role, process))
}

fn reason_of(message: &Node) -> Option<String> {
    let reasons: Vec<String> = expanded::values(message, &dsp("reason"))
        .iter()
        .filter_map(|v| expanded::literal(v).and_then(Value::as_str).map(str::to_string))
        .collect();
    (!reasons.is_empty()).then(|| format!("by the counter-party: {}", reasons.join("; ")))
}

pub(crate) async fn get_transfer(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
) -> Result<Response, DspError> {
    let transfer = state.transfers.for_peer(&peer, &id).await.map_err(protocol_error)?;
    Ok((StatusCode::OK, Json(acknowledgement(&transfer))).into_response())
}

/// Provider: the TransferRequestMessage.
pub(crate) async fn request(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::Transfer, "TransferRequestMessage")?;
    let consumer_pid = required(&message, &dsp("consumerPid"), "consumerPid")?;
    let agreement_id = required(&message, &dsp("agreementId"), "agreementId")?;
    let format = required(&message, &format!("{DCT}format"), "format")?;
    // EDC's context maps bare values into its own namespace.
    let format = format.strip_prefix(dsc_domain::namespaces::EDC).unwrap_or(format);
    let callback = required(&message, &dsp("callbackAddress"), "callbackAddress")?;
    if dsc_domain::FlowType::is_pull(format) && data_address_from(&message)?.is_some() {
        return Err(bad("a pull transfer request carries no dataAddress"));
    }
    let request = TransferRequestMessage {
        consumer_pid: consumer_pid.to_string(),
        agreement_id: agreement_id.to_string(),
        transfer_type: format.to_string(),
        callback_address: callback.to_string(),
        protocol: dsc_controlplane::protocol::DSP_2025_1.to_string(),
    };
    let transfer = state.transfers.requested(&peer, request).await.map_err(protocol_error)?;
    Ok((StatusCode::CREATED, Json(acknowledgement(&transfer))).into_response())
}

pub(crate) async fn start(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::Transfer, "TransferStartMessage")?;
    let (role, process) = own_and_other(&state, &peer, &id, &message).await?;
    let data_address = data_address_from(&message)?;
    let start = TransferStartMessage { process, data_address };
    state.transfers.started(&peer, role, start).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn suspension(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::Transfer, "TransferSuspensionMessage")?;
    let (role, process) = own_and_other(&state, &peer, &id, &message).await?;
    let reason = reason_of(&message).map(|r| format!("suspended {r}"));
    let suspension = TransferSuspensionMessage { process, reason };
    state.transfers.suspended(&peer, role, suspension).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn completion(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::Transfer, "TransferCompletionMessage")?;
    let (role, process) = own_and_other(&state, &peer, &id, &message).await?;
    state.transfers.completed(&peer, role, TransferCompletionMessage { process }).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

pub(crate) async fn termination(
    State(state): State<DspState>,
    Extension(peer): Extension<ParticipantAgent>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, DspError> {
    let message = read_message(&state, &body, ErrorType::Transfer, "TransferTerminationMessage")?;
    let (role, process) = own_and_other(&state, &peer, &id, &message).await?;
    let reason = reason_of(&message).map(|r| format!("terminated {r}"));
    let termination = TransferTerminationMessage { process, reason };
    state.transfers.terminated(&peer, role, termination).await.map_err(protocol_error)?;
    Ok(StatusCode::OK.into_response())
}

/// The TransferProcess acknowledgement in compact form.
pub(crate) fn acknowledgement(transfer: &TransferProcess) -> Value {
    let (consumer, provider) = transfer.pids();
    json!({
        "@context": [DSP_CONTEXT],
        "@id": transfer.id,
        "@type": "TransferProcess",
        "consumerPid": consumer,
        "providerPid": provider,
        "state": transfer.state.protocol_state(),
    })
}

fn data_address_value(address: &DataAddress) -> Value {
    let wire = dsc_signaling::address_to_wire(address);
    let mut node = Map::new();
    node.insert("@type".into(), "DataAddress".into());
    node.insert("endpointType".into(), Value::String(wire.endpoint_type));
    if let Some(endpoint) = wire.endpoint {
        node.insert("endpoint".into(), Value::String(endpoint));
    }
    node.insert(
        "endpointProperties".into(),
        Value::Array(
            wire.endpoint_properties
                .into_iter()
                .map(|p| json!({ "@type": "EndpointProperty", "name": p.name, "value": p.value }))
                .collect(),
        ),
    );
    Value::Object(node)
}

/// The message in compact 2025-1 form, and the path segments it is posted to under the peer's address.
pub(crate) fn message(message: &TransferMessage, id: &str) -> (Value, Vec<String>) {
    let mut node = Map::new();
    node.insert("@context".into(), json!([DSP_CONTEXT]));
    node.insert("@id".into(), Value::String(id.to_string()));
    let pids = |node: &mut Map<String, Value>, consumer: &str, provider: &str| {
        node.insert("consumerPid".into(), Value::String(consumer.into()));
        node.insert("providerPid".into(), Value::String(provider.into()));
    };
    let target = |consumer: &str, provider: &str, to_provider: bool, last: &str| {
        vec!["transfers".to_string(), if to_provider { provider } else { consumer }.to_string(), last.to_string()]
    };
    let reason_value = |reason: &Option<String>| reason.as_ref().map(|r| json!([r]));
    let path = match message {
        TransferMessage::Request { consumer_pid, agreement_id, transfer_type, callback_address, data_address } => {
            node.insert("@type".into(), "TransferRequestMessage".into());
            node.insert("consumerPid".into(), Value::String(consumer_pid.clone()));
            node.insert("agreementId".into(), Value::String(agreement_id.clone()));
            node.insert("format".into(), Value::String(transfer_type.clone()));
            node.insert("callbackAddress".into(), Value::String(callback_address.clone()));
            if let Some(address) = data_address {
                node.insert("dataAddress".into(), data_address_value(address));
            }
            vec!["transfers".to_string(), "request".to_string()]
        }
        TransferMessage::Start { provider_pid, consumer_pid, data_address, to_provider } => {
            node.insert("@type".into(), "TransferStartMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            if let Some(address) = data_address {
                node.insert("dataAddress".into(), data_address_value(address));
            }
            target(consumer_pid, provider_pid, *to_provider, "start")
        }
        TransferMessage::Suspension { provider_pid, consumer_pid, reason, to_provider } => {
            node.insert("@type".into(), "TransferSuspensionMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            if let Some(reason) = reason_value(reason) {
                node.insert("reason".into(), reason);
            }
            target(consumer_pid, provider_pid, *to_provider, "suspension")
        }
        TransferMessage::Completion { provider_pid, consumer_pid, to_provider } => {
            node.insert("@type".into(), "TransferCompletionMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            target(consumer_pid, provider_pid, *to_provider, "completion")
        }
        TransferMessage::Termination { provider_pid, consumer_pid, reason, to_provider } => {
            node.insert("@type".into(), "TransferTerminationMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            if let Some(reason) = reason_value(reason) {
                node.insert("reason".into(), reason);
            }
            target(consumer_pid, provider_pid, *to_provider, "termination")
        }
    };
    (Value::Object(node), path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::namespaces;

    fn expand(value: Value) -> Node {
        let jsonld = dsc_jsonld::JsonLd::new().unwrap();
        let expanded = jsonld.expand(value).unwrap();
        expanded::single_node(&expanded).cloned().unwrap_or_else(|| panic!("one node"))
    }

    fn edr() -> DataAddress {
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!("https://w3id.org/idsa/v4.1/HTTP"));
        properties.insert(namespaces::edc("endpointType"), json!("https://w3id.org/idsa/v4.1/HTTP"));
        properties.insert(namespaces::edc("endpoint"), json!("http://provider/public"));
        properties.insert(namespaces::edc("authorization"), json!("eyJ.token"));
        properties.insert(format!("{}refreshEndpoint", namespaces::TX_AUTH), json!("http://provider/public/token"));
        DataAddress { properties }
    }

    #[test]
    fn messages_written_directly_read_back_through_json_ld() {
        let request = TransferMessage::Request {
            consumer_pid: "urn:uuid:c".into(),
            agreement_id: "agreement-1".into(),
            transfer_type: "HttpData-PULL".into(),
            callback_address: "http://consumer/api/v1/dsp/2025-1".into(),
            data_address: None,
        };
        let (body, path) = message(&request, "urn:uuid:m1");
        assert_eq!(path, vec!["transfers", "request"]);
        let node = expand(body);
        assert_eq!(expanded::types(&node), vec![dsp("TransferRequestMessage")]);
        assert_eq!(expanded::first_str(&node, &dsp("agreementId")), Some("agreement-1"));
        assert_eq!(expanded::first_str(&node, &format!("{DCT}format")), Some("HttpData-PULL"));
        assert_eq!(expanded::first_str(&node, &dsp("callbackAddress")), Some("http://consumer/api/v1/dsp/2025-1"));

        let start = TransferMessage::Start {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            data_address: Some(edr()),
            to_provider: false,
        };
        let (body, path) = message(&start, "urn:uuid:m2");
        assert_eq!(path, vec!["transfers", "c", "start"]);
        let node = expand(body);
        assert_eq!(pids(&node).ok(), Some(ProcessIds::new("c", "p")));
        let read = data_address_from(&node).ok().flatten().unwrap_or_else(|| panic!("address"));
        assert_eq!(read, edr(), "the EDR survives the wire unchanged");

        let terminate = TransferMessage::Termination {
            provider_pid: "p".into(),
            consumer_pid: "c".into(),
            reason: Some("contract ended".into()),
            to_provider: true,
        };
        let (body, path) = message(&terminate, "urn:uuid:m3");
        assert_eq!(path, vec!["transfers", "p", "termination"]);
        assert_eq!(reason_of(&expand(body)).as_deref(), Some("by the counter-party: contract ended"));
    }

    #[test]
    fn an_edc_style_start_message_is_understood() {
        let body = json!({
            "@context": ["https://w3id.org/dspace/2025/1/context.jsonld", "https://w3id.org/edc/dspace/v0.0.1"],
            "@type": "TransferStartMessage", "providerPid": "p", "consumerPid": "c",
            "dataAddress": { "@type": "DataAddress", "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
                "endpointProperties": [
                    { "@type": "EndpointProperty", "name": "https://w3id.org/edc/v0.0.1/ns/endpoint", "value": "https://dp/api/public" },
                    { "@type": "EndpointProperty", "name": "https://w3id.org/edc/v0.0.1/ns/authorization", "value": "tok" } ] }
        });
        let address = data_address_from(&expand(body)).ok().flatten().unwrap_or_else(|| panic!("address"));
        assert_eq!(address.edc_property("endpoint"), Some("https://dp/api/public"));
        assert_eq!(address.edc_property("authorization"), Some("tok"));
        assert_eq!(address.address_type(), Some("https://w3id.org/idsa/v4.1/HTTP"));
    }
}
