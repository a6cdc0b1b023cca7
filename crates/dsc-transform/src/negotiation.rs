// SPDX-License-Identifier: Apache-2.0
//! Contract negotiations as the Management API shows them: `ContractNegotiation` and `NegotiationState`.

use dsc_domain::{ContractNegotiation, namespaces};
use serde_json::{Map, Value, json};

use crate::process::callback_addresses_to_expanded;
use crate::reader;

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

pub fn negotiation_to_expanded(negotiation: &ContractNegotiation) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(negotiation.id.clone()));
    node.insert("@type".into(), json!([edc("ContractNegotiation")]));
    node.insert(edc("type"), reader::literal(negotiation.role.name()));
    node.insert(edc("protocol"), reader::literal(negotiation.protocol.clone()));
    node.insert(edc("state"), reader::literal(negotiation.state.name()));
    node.insert(edc("counterPartyId"), reader::literal(negotiation.counter_party_id.clone()));
    node.insert(edc("counterPartyAddress"), reader::literal(negotiation.counter_party_address.clone()));
    node.insert(edc("callbackAddresses"), callback_addresses_to_expanded(&negotiation.callback_addresses));
    node.insert(edc("createdAt"), reader::literal(negotiation.created_at));
    if let Some(correlation) = &negotiation.correlation_id {
        node.insert(edc("correlationId"), reader::literal(correlation.clone()));
    }
    if let Some(agreement) = &negotiation.agreement {
        node.insert(edc("contractAgreementId"), reader::literal(agreement.id.clone()));
    }
    if let Some(offer) = negotiation.last_offer() {
        node.insert(edc("assetId"), reader::literal(offer.id.asset_id.clone()));
    }
    if let Some(error) = &negotiation.error_detail {
        node.insert(edc("errorDetail"), reader::literal(error.clone()));
    }
    // Shown only while it waits for its operator (manual approval, a start on command).
    if negotiation.pending {
        node.insert(edc("pending"), reader::literal(true));
    }
    Value::Array(vec![Value::Object(node)])
}

/// `GET /v3/contractnegotiations/{id}/state`.
pub fn negotiation_state_to_expanded(negotiation: &ContractNegotiation) -> Value {
    json!([{ "@type": [edc("NegotiationState")], edc("state"): reader::literal(negotiation.state.name()) }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::odrl::{Policy, PolicyType};
    use dsc_domain::{CallbackAddress, ContractAgreement, ContractOfferId, NegotiationRole, NegotiationState, Offer};
    use dsc_jsonld::expanded;

    use crate::process::callback_addresses_from_expanded;

    fn negotiation() -> ContractNegotiation {
        let id = ContractOfferId::new("cd-1", "asset-1", "n");
        ContractNegotiation {
            id: "n-1".into(),
            correlation_id: Some("p-1".into()),
            counter_party_id: "did:web:provider".into(),
            counter_party_address: "http://provider/api/v1/dsp".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role: NegotiationRole::Consumer,
            state: NegotiationState::Finalized,
            state_count: 1,
            pending: false,
            state_timestamp: 7,
            error_detail: Some("none really".into()),
            offers: vec![Offer { id, policy: Policy::new(PolicyType::Offer) }],
            agreement: Some(ContractAgreement {
                id: "agreement-1".into(),
                provider_id: "did:web:provider".into(),
                consumer_id: "did:web:consumer".into(),
                contract_signing_date: 1,
                asset_id: "asset-1".into(),
                policy: Policy::new(PolicyType::Agreement),
            }),
            callback_addresses: vec![CallbackAddress {
                uri: "https://hooks".into(),
                events: vec!["contract.negotiation".into()],
                transactional: false,
                auth_key: None,
                auth_code_id: None,
            }],
            trace_context: None,
            created_at: 5,
            updated_at: 7,
        }
    }

    #[test]
    fn a_negotiation_shows_its_offer_agreement_and_callbacks() {
        let expanded = negotiation_to_expanded(&negotiation());
        let read = expanded::single_node(&expanded).cloned().unwrap_or_default();
        assert_eq!(expanded::id(&read), Some("n-1"));
        assert_eq!(expanded::types(&read), vec![edc("ContractNegotiation")]);
        for (local, value) in [
            ("type", "CONSUMER"),
            ("state", "FINALIZED"),
            ("counterPartyId", "did:web:provider"),
            ("correlationId", "p-1"),
            ("contractAgreementId", "agreement-1"),
            ("assetId", "asset-1"),
            ("errorDetail", "none really"),
        ] {
            assert_eq!(expanded::first_str(&read, &edc(local)), Some(value), "{local}");
        }
        let mut violations = Vec::new();
        let callbacks = callback_addresses_from_expanded(&read, &mut violations);
        assert_eq!(callbacks, negotiation().callback_addresses);

        let state = negotiation_state_to_expanded(&negotiation());
        let state = expanded::single_node(&state).cloned().unwrap_or_default();
        assert_eq!(expanded::types(&state), vec![edc("NegotiationState")]);
        assert_eq!(expanded::first_str(&state, &edc("state")), Some("FINALIZED"));
    }
}
