// SPDX-License-Identifier: Apache-2.0
//! The `ContractRequest` body that starts a negotiation (`POST /v3/contractnegotiations`, `POST /v3/edrs`), and
//! the offer as the ODRL `Offer` policy such a request (and the DSP's ContractRequestMessage) carries.

use dsc_domain::odrl::{Policy, PolicyType};
use dsc_domain::{CallbackAddress, ContractOfferId, Offer, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use serde_json::Value;

use crate::policy::policy_from_expanded;
use crate::process::{self, callback_addresses_from_expanded};
use crate::reader::Violations;

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

/// A validated `ContractRequest`: whom to ask, for which catalog offer, and whom to tell about the progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRequest {
    pub counter_party_address: String,
    pub protocol: String,
    /// The request's `counterPartyId`, or else the offer's assigner (as in EDC).
    pub counter_party_id: String,
    /// The offer's policy as sent, an ODRL `Offer`.
    pub policy: Policy,
    pub offer_id: ContractOfferId,
    pub callback_addresses: Vec<CallbackAddress>,
}

pub fn contract_request_from_expanded(node: &Node) -> Result<ContractRequest, Violations> {
    let mut violations = Vec::new();
    let address = process::mandatory_trimmed(node, "counterPartyAddress", &mut violations);
    let protocol = process::mandatory_trimmed(node, "protocol", &mut violations);
    let policy_iri = edc("policy");
    let policy = match expanded::first_node(node, &policy_iri) {
        Some(policy) => match policy_from_expanded(policy, &policy_iri) {
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
    let offer_id = policy.as_ref().and_then(|policy| offer_of(policy, &policy_iri, &mut violations));
    let callback_addresses = callback_addresses_from_expanded(node, &mut violations);
    let counter_party_id =
        process::optional(node, "counterPartyId").or_else(|| policy.as_ref().and_then(|p| p.assigner.clone()));
    if !violations.is_empty() {
        return Err(violations);
    }
    match (address, protocol, policy, offer_id, counter_party_id) {
        (Some(counter_party_address), Some(protocol), Some(policy), Some(offer_id), Some(counter_party_id)) => {
            Ok(ContractRequest {
                counter_party_address,
                protocol,
                counter_party_id,
                policy,
                offer_id,
                callback_addresses,
            })
        }
        _ => Err(vec![Violation::mandatory_value(&edc("counterPartyId"))]),
    }
}

/// The offer as the ODRL `Offer` policy a consumer sends back: `@id` is the offer id, `target` the asset and
/// `assigner` the provider (the inverse of what [`contract_request_from_expanded`] reads from a policy).
pub fn offer_policy(offer: &Offer, target: &str, assigner: &str) -> Policy {
    let mut policy = offer.policy.clone();
    policy.policy_type = PolicyType::Offer;
    policy.uid = Some(offer.id.to_string());
    policy.target = Some(target.to_string());
    policy.assigner = Some(assigner.to_string());
    policy
}

/// The catalog offer a contract request's policy names; the policy must be the offer as the catalog showed it.
fn offer_of(policy: &Policy, policy_iri: &str, violations: &mut Violations) -> Option<ContractOfferId> {
    if policy.policy_type != PolicyType::Offer {
        violations.push(Violation::new(
            format!("the policy must be an ODRL Offer ('{}')", PolicyType::Offer.iri()),
            format!("{policy_iri}/@type"),
        ));
    }
    // A provider's offer id is opaque to the consumer: EDC's form is read, any other is kept as it is.
    let uid = policy.uid.as_deref().filter(|uid| !uid.trim().is_empty());
    let offer_id = match (uid, uid.and_then(ContractOfferId::parse), policy.target.as_deref()) {
        (_, Some(id), _) => Some(id),
        (Some(uid), None, Some(target)) => Some(ContractOfferId::opaque(uid, target)),
        _ => {
            violations.push(
                Violation::new("the policy's @id must be the offer id from the catalog", format!("{policy_iri}/@id"))
                    .with_value(policy.uid.clone().map(Value::String).unwrap_or(Value::Null)),
            );
            None
        }
    };
    for (local, value) in [("assigner", &policy.assigner), ("target", &policy.target)] {
        if value.is_none() {
            violations.push(Violation::mandatory_value(&format!("{policy_iri}/{}", namespaces::odrl(local))));
        }
    }
    offer_id
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn odrl(local: &str) -> String {
        namespaces::odrl(local)
    }

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    fn offer_id() -> String {
        ContractOfferId::new("cd-1", "asset-1", "n").to_string()
    }

    fn request(policy: Value) -> Node {
        node(json!({
            edc("counterPartyAddress"): [{"@value": " http://provider/api/v1/dsp "}],
            edc("protocol"): [{"@value": "dataspace-protocol-http:2025-1"}],
            edc("policy"): [policy],
        }))
    }

    fn offer() -> Value {
        json!({ "@id": offer_id(), "@type": [odrl("Offer")], odrl("assigner"): [{"@id": "did:web:provider"}],
                odrl("target"): [{"@id": "asset-1"}], odrl("permission"): [{ odrl("action"): [{"@id": odrl("use")}] }] })
    }

    fn found(violations: &[Violation]) -> Vec<(String, String)> {
        violations.iter().map(|v| (v.message.clone(), v.path.clone().unwrap_or_default())).collect()
    }

    #[test]
    fn reads_a_contract_request_and_defaults_the_counter_party_to_the_assigner() {
        let read = contract_request_from_expanded(&request(offer())).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.counter_party_address, "http://provider/api/v1/dsp");
        assert_eq!(read.protocol, "dataspace-protocol-http:2025-1");
        assert_eq!(read.counter_party_id, "did:web:provider");
        assert_eq!(read.offer_id, ContractOfferId::new("cd-1", "asset-1", "n"));
        assert_eq!(read.policy.policy_type, PolicyType::Offer);
        assert!(read.callback_addresses.is_empty());

        let mut named = request(offer());
        named.insert(edc("counterPartyId"), json!([{"@value": "BPNL000000000001"}]));
        let read = contract_request_from_expanded(&named).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.counter_party_id, "BPNL000000000001");
    }

    #[test]
    fn an_offer_round_trips_through_a_contract_request() {
        let policy = crate::policy::policy_from_expanded(&node(offer()), "").unwrap_or_else(|v| panic!("{v:?}"));
        let offer = Offer { id: ContractOfferId::new("cd-1", "asset-1", "n2"), policy };
        let sent = offer_policy(&offer, "asset-1", "did:web:provider");
        let read = contract_request_from_expanded(&request(crate::policy::policy_to_expanded(&sent)))
            .unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.offer_id, offer.id);
        assert_eq!(read.policy, sent);
        assert_eq!(read.counter_party_id, "did:web:provider");
    }

    #[test]
    fn an_offer_id_of_another_form_is_kept_for_its_target() {
        let mut policy = offer();
        policy["@id"] = json!("offer-42");
        let read = contract_request_from_expanded(&request(policy)).unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(read.offer_id, ContractOfferId::opaque("offer-42", "asset-1"));
        assert_eq!(read.offer_id.to_string(), "offer-42");
    }

    #[test]
    fn missing_parts_are_reported_together() {
        let violations = contract_request_from_expanded(&Node::new()).err().unwrap_or_default();
        let expected =
            [("value", "counterPartyAddress"), ("value", "protocol"), ("object", "policy")].map(|(kind, local)| {
                match kind {
                    "value" => (format!("mandatory value '{}' is missing or it is blank", edc(local)), edc(local)),
                    _ => (format!("mandatory object '{}' is missing", edc(local)), edc(local)),
                }
            });
        assert_eq!(found(&violations), expected.to_vec());
    }

    #[test]
    fn the_policy_must_be_the_catalog_offer() {
        let policy =
            json!({ "@type": [odrl("Set")], odrl("permission"): [{ odrl("action"): [{"@id": odrl("use")}] }] });
        let mut body = request(policy);
        body.insert(
            edc("callbackAddresses"),
            json!([{ edc("uri"): [{"@value": "mailto:x"}], edc("events"): [{"@value": "e"}] }]),
        );
        let violations = contract_request_from_expanded(&body).err().unwrap_or_default();
        let policy_iri = edc("policy");
        assert_eq!(
            found(&violations),
            vec![
                (
                    "the policy must be an ODRL Offer ('http://www.w3.org/ns/odrl/2/Offer')".to_string(),
                    format!("{policy_iri}/@type")
                ),
                ("the policy's @id must be the offer id from the catalog".to_string(), format!("{policy_iri}/@id")),
                (
                    format!("mandatory value '{policy_iri}/{}' is missing or it is blank", odrl("assigner")),
                    format!("{policy_iri}/{}", odrl("assigner"))
                ),
                (
                    format!("mandatory value '{policy_iri}/{}' is missing or it is blank", odrl("target")),
                    format!("{policy_iri}/{}", odrl("target"))
                ),
                ("uri must be an http(s) URL".to_string(), format!("{}[0]/{}", edc("callbackAddresses"), edc("uri"))),
            ]
        );
        assert_eq!(violations[1].invalid_value, Some(Value::Null));
    }

    #[test]
    fn policy_violations_carry_the_policy_path() {
        let violations =
            contract_request_from_expanded(&request(json!({ "@type": [edc("Asset")] }))).err().unwrap_or_default();
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].path.as_deref(), Some(format!("{}/@type", edc("policy")).as_str()));
    }
}
