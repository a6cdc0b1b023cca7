// SPDX-License-Identifier: Apache-2.0
//! Endpoint data references as the Tractus-X `/v3/edrs` API shows them: entries (one per started consumer
//! transfer) and the EDR's data address.

use dsc_domain::{DataAddress, TransferProcess, namespaces};
use serde_json::{Map, Value, json};

use crate::reader;

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

/// An `EndpointDataReferenceEntry`; the entry's id is the transfer's.
pub fn edr_entry_to_expanded(transfer: &TransferProcess) -> Value {
    json!([{
        "@id": transfer.id,
        "@type": [edc("EndpointDataReferenceEntry")],
        edc("transferProcessId"): reader::literal(transfer.id.clone()),
        edc("assetId"): reader::literal(transfer.asset_id.clone()),
        edc("agreementId"): reader::literal(transfer.agreement_id.clone()),
        edc("providerId"): reader::literal(transfer.counter_party_id.clone()),
        edc("createdAt"): reader::literal(transfer.created_at),
    }])
}

/// The EDR's data address (`GET /v3/edrs/{id}/dataaddress`).
pub fn edr_data_address_to_expanded(address: &DataAddress) -> Value {
    Value::Array(vec![literal_data_address_to_expanded(address)])
}

/// A data address node whose every property is a plain literal: clients read endpoints, tokens and URLs as the
/// strings they were given, which compaction would otherwise turn into compact IRIs or nested nodes.
pub fn literal_data_address_to_expanded(address: &DataAddress) -> Value {
    let mut node = Map::new();
    node.insert("@type".into(), json!([edc("DataAddress")]));
    for (key, value) in &address.properties {
        node.insert(key.clone(), json!([{ "@value": value }]));
    }
    Value::Object(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_jsonld::expanded;

    fn edr() -> DataAddress {
        let mut properties = dsc_domain::Properties::new();
        properties.insert(DataAddress::type_iri(), json!("https://w3id.org/idsa/v4.1/HTTP"));
        properties.insert(edc("endpoint"), json!("http://provider/public"));
        properties.insert(format!("{}refreshEndpoint", namespaces::TX_AUTH), json!("http://provider/public/token"));
        DataAddress { properties }
    }

    #[test]
    fn every_property_of_the_edr_is_a_literal() {
        let expanded = edr_data_address_to_expanded(&edr());
        let node = expanded::single_node(&expanded).cloned().unwrap_or_default();
        assert_eq!(expanded::types(&node), vec![edc("DataAddress")]);
        assert_eq!(node.len(), 4, "{node:?}");
        for (key, value) in &edr().properties {
            assert_eq!(node.get(key), Some(&json!([{ "@value": value }])), "{key}");
        }
    }

    #[test]
    fn an_entry_names_the_transfer_agreement_and_provider() {
        let transfer = TransferProcess {
            id: "t-1".into(),
            correlation_id: Some("p-1".into()),
            counter_party_id: "did:web:provider".into(),
            counter_party_address: "http://provider/api/v1/dsp".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role: dsc_domain::TransferRole::Consumer,
            state: dsc_domain::TransferState::Started,
            state_count: 1,
            pending: false,
            state_timestamp: 2,
            error_detail: None,
            agreement_id: "agreement-1".into(),
            asset_id: "asset-1".into(),
            transfer_type: "HttpData-PULL".into(),
            data_destination: None,
            data_address_key: Some("edr-key".into()),
            suspended_by: None,
            counter_party_informed: false,
            data_flow_started: true,
            callback_addresses: Vec::new(),
            trace_context: None,
            created_at: 1,
            updated_at: 2,
        };
        let expanded = edr_entry_to_expanded(&transfer);
        let node = expanded::single_node(&expanded).cloned().unwrap_or_default();
        assert_eq!(expanded::id(&node), Some("t-1"));
        assert_eq!(expanded::types(&node), vec![edc("EndpointDataReferenceEntry")]);
        for (local, value) in [
            ("transferProcessId", "t-1"),
            ("assetId", "asset-1"),
            ("agreementId", "agreement-1"),
            ("providerId", "did:web:provider"),
        ] {
            assert_eq!(expanded::first_str(&node, &edc(local)), Some(value), "{local}");
        }
        assert!(!expanded.to_string().contains("edr-key"), "the EDR itself is only in the vault");
    }
}
