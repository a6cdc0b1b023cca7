// SPDX-License-Identifier: Apache-2.0
//! Transfer processes: the Management API's `TransferProcess` and `TransferState`, and the `TransferRequest`
//! body that starts a transfer (`POST /v3/transferprocesses`).

use dsc_domain::{CallbackAddress, DataAddress, TransferProcess, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use serde_json::{Map, Value, json};

use crate::edr::literal_data_address_to_expanded;
use crate::process::{self, callback_addresses_from_expanded};
use crate::reader::{self, Violations};

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

pub fn transfer_to_expanded(transfer: &TransferProcess) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(transfer.id.clone()));
    node.insert("@type".into(), json!([edc("TransferProcess")]));
    node.insert(edc("type"), reader::literal(transfer.role.name()));
    node.insert(edc("state"), reader::literal(transfer.state.name()));
    node.insert(edc("stateTimestamp"), reader::literal(transfer.state_timestamp));
    node.insert(edc("protocol"), reader::literal(transfer.protocol.clone()));
    node.insert(edc("counterPartyId"), reader::literal(transfer.counter_party_id.clone()));
    node.insert(edc("counterPartyAddress"), reader::literal(transfer.counter_party_address.clone()));
    node.insert(edc("assetId"), reader::literal(transfer.asset_id.clone()));
    node.insert(edc("contractId"), reader::literal(transfer.agreement_id.clone()));
    node.insert(edc("transferType"), reader::literal(transfer.transfer_type.clone()));
    node.insert(edc("createdAt"), reader::literal(transfer.created_at));
    if let Some(correlation) = &transfer.correlation_id {
        node.insert(edc("correlationId"), reader::literal(correlation.clone()));
    }
    if let Some(error) = &transfer.error_detail {
        node.insert(edc("errorDetail"), reader::literal(error.clone()));
    }
    // Shown only while it waits for its operator (manual approval, a start on command).
    if transfer.pending {
        node.insert(edc("pending"), reader::literal(true));
    }
    if let Some(destination) = &transfer.data_destination {
        node.insert(edc("dataDestination"), json!([literal_data_address_to_expanded(destination)]));
    }
    Value::Array(vec![Value::Object(node)])
}

/// `GET /v3/transferprocesses/{id}/state`.
pub fn transfer_state_to_expanded(transfer: &TransferProcess) -> Value {
    json!([{ "@type": [edc("TransferState")], edc("state"): reader::literal(transfer.state.name()) }])
}

/// A validated `TransferRequest`: under which agreement to ask which provider for what kind of transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRequest {
    pub counter_party_address: String,
    pub protocol: String,
    /// The agreement id.
    pub contract_id: String,
    pub transfer_type: String,
    /// `None` unless given: the service decides what a destination means for the transfer type.
    pub data_destination: Option<DataAddress>,
    /// `None` means the agreement's provider.
    pub counter_party_id: Option<String>,
    pub callback_addresses: Vec<CallbackAddress>,
}

pub fn transfer_request_from_expanded(node: &Node) -> Result<TransferRequest, Violations> {
    let mut violations = Vec::new();
    let mut read = |local: &str| process::mandatory_trimmed(node, local, &mut violations);
    let address = read("counterPartyAddress");
    let protocol = read("protocol");
    let contract = read("contractId");
    let transfer_type = read("transferType");
    let destination = expanded::first_node(node, &edc("dataDestination")).map(|destination| DataAddress {
        properties: dsc_jsonld::simplified::simplify_node(destination)
            .into_iter()
            .filter(|(key, _)| !key.starts_with('@'))
            .collect(),
    });
    let counter_party_id = process::optional(node, "counterPartyId");
    let callback_addresses = callback_addresses_from_expanded(node, &mut violations);
    if let Some(transfer_type) = &transfer_type
        && dsc_domain::FlowType::of(transfer_type).is_none()
    {
        violations.push(
            Violation::new("transferType must be <destination type>-PULL or -PUSH", edc("transferType"))
                .with_value(Value::String(transfer_type.clone())),
        );
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    match (address, protocol, contract, transfer_type) {
        (Some(counter_party_address), Some(protocol), Some(contract_id), Some(transfer_type)) => Ok(TransferRequest {
            counter_party_address,
            protocol,
            contract_id,
            transfer_type,
            data_destination: destination,
            counter_party_id,
            callback_addresses,
        }),
        _ => Err(vec![Violation::mandatory_value(&edc("contractId"))]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::{TransferRole, TransferState};

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    fn request(transfer_type: &str) -> Node {
        node(json!({
            edc("counterPartyAddress"): [{"@value": "http://provider/api/v1/dsp"}],
            edc("protocol"): [{"@value": "dataspace-protocol-http:2025-1"}],
            edc("contractId"): [{"@value": "agreement-1"}],
            edc("transferType"): [{"@value": transfer_type}],
            edc("dataDestination"): [{ "@type": [edc("DataAddress")], edc("type"): [{"@value": "HttpProxy"}] }],
        }))
    }

    #[test]
    fn reads_a_transfer_request() {
        let read = transfer_request_from_expanded(&request("HttpData-PULL")).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.counter_party_address, "http://provider/api/v1/dsp");
        assert_eq!(read.contract_id, "agreement-1");
        assert_eq!(read.transfer_type, "HttpData-PULL");
        assert_eq!(read.counter_party_id, None);
        let destination = read.data_destination.unwrap_or_else(|| panic!("a destination"));
        assert_eq!(destination.address_type(), Some("HttpProxy"));
        assert!(destination.properties.keys().all(|key| !key.starts_with('@')), "{destination:?}");
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let mut body = Node::new();
        body.insert(edc("transferType"), json!([{"@value": "HttpData"}]));
        body.insert(edc("callbackAddresses"), json!([{ edc("uri"): [{"@value": "https://hooks"}] }]));
        let violations = transfer_request_from_expanded(&body).err().unwrap_or_default();
        let found: Vec<_> =
            violations.iter().map(|v| (v.message.clone(), v.path.clone().unwrap_or_default())).collect();
        let mandatory = |path: String| (format!("mandatory value '{path}' is missing or it is blank"), path);
        assert_eq!(
            found,
            vec![
                mandatory(edc("counterPartyAddress")),
                mandatory(edc("protocol")),
                mandatory(edc("contractId")),
                mandatory(format!("{}[0]/{}", edc("callbackAddresses"), edc("events"))),
                ("transferType must be <destination type>-PULL or -PUSH".to_string(), edc("transferType")),
            ]
        );
        assert_eq!(violations[4].invalid_value, Some(json!("HttpData")));
    }

    #[test]
    fn a_transfer_shows_its_state_and_destination() {
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!("HttpData"));
        properties.insert(edc("baseUrl"), json!("http://sink"));
        let transfer = TransferProcess {
            id: "t-1".into(),
            correlation_id: Some("p-1".into()),
            counter_party_id: "did:web:provider".into(),
            counter_party_address: "http://provider/api/v1/dsp".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role: TransferRole::Consumer,
            state: TransferState::Started,
            state_count: 1,
            pending: false,
            state_timestamp: 9,
            error_detail: None,
            agreement_id: "agreement-1".into(),
            asset_id: "asset-1".into(),
            transfer_type: "HttpData-PUSH".into(),
            data_destination: Some(DataAddress { properties }),
            data_address_key: Some("edr-key".into()),
            suspended_by: None,
            counter_party_informed: false,
            data_flow_started: false,
            callback_addresses: Vec::new(),
            trace_context: None,
            created_at: 3,
            updated_at: 9,
        };
        let expanded = transfer_to_expanded(&transfer);
        let read = expanded::single_node(&expanded).cloned().unwrap_or_default();
        for (local, value) in [
            ("type", "CONSUMER"),
            ("state", "STARTED"),
            ("contractId", "agreement-1"),
            ("transferType", "HttpData-PUSH"),
            ("correlationId", "p-1"),
        ] {
            assert_eq!(expanded::first_str(&read, &edc(local)), Some(value), "{local}");
        }
        assert!(!read.contains_key(&edc("errorDetail")));
        assert!(!expanded.to_string().contains("edr-key"), "the vault key of the EDR stays inside");
        let destination = expanded::first_node(&read, &edc("dataDestination")).cloned().unwrap_or_default();
        assert_eq!(expanded::first_str(&destination, &edc("baseUrl")), Some("http://sink"));

        let state = transfer_state_to_expanded(&transfer);
        let state = expanded::single_node(&state).cloned().unwrap_or_default();
        assert_eq!(expanded::types(&state), vec![edc("TransferState")]);
        assert_eq!(expanded::first_str(&state, &edc("state")), Some("STARTED"));
    }
}
