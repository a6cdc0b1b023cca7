// SPDX-License-Identifier: Apache-2.0
//! Verified credentials → the participant agent the policy engine evaluates: the same claims the configured trust
//! list (`dsc-identity` `TrustList`) fills today, now backed by credentials, plus every credential generically.
//!
//! Business partner groups stay unset: they are the provider's own assignment of a BPN, not something a
//! credential states.

use std::collections::BTreeSet;

use dsc_domain::ParticipantAgent;
use dsc_domain::participant::claims;
use serde_json::{Map, Value, json};

use crate::credential::Credential;

/// Claim holding every credential by type: `{"<Type>": [<subject fields>, ...]}`, for constraints on credentials
/// this module has no dedicated claim for (a `DismantlerCredential`'s `activityType`, say).
pub const CREDENTIALS: &str = "credentials";

pub const MEMBERSHIP: &str = "MembershipCredential";
pub const BPN: &str = "BpnCredential";
pub const DATA_EXCHANGE_GOVERNANCE: &str = "DataExchangeGovernanceCredential";

/// `group` of Catena-X framework agreement credentials (CX-0050).
const FRAMEWORK_GROUP: &str = "UseCaseFramework";

/// The participant `holder` (its DID) with the claims its verified `credentials` establish.
pub fn participant_agent(holder: &str, credentials: &[Credential]) -> ParticipantAgent {
    let mut agent = ParticipantAgent::new(holder);
    let subject_field = |credential: &Credential, name: &str| -> Option<String> {
        credential.subjects.iter().find_map(|s| s.get(name).and_then(Value::as_str)).map(str::to_string)
    };
    let mut bpn_from_membership = None;
    let mut bpn = None;
    let mut agreements = BTreeSet::new();
    let mut by_type: Map<String, Value> = Map::new();
    for credential in credentials {
        if credential.has_type(MEMBERSHIP) {
            agent = agent.with_claim(claims::MEMBERSHIP, json!("active"));
            bpn_from_membership = bpn_from_membership.or_else(|| subject_field(credential, "holderIdentifier"));
        }
        if credential.has_type(BPN) {
            bpn = bpn
                .or_else(|| subject_field(credential, "bpn").or_else(|| subject_field(credential, "holderIdentifier")));
        }
        for agreement in framework_agreements(credential) {
            agreements.insert(agreement);
        }
        for credential_type in credential.specific_types() {
            let entry = by_type.entry(credential_type.to_string()).or_insert_with(|| json!([]));
            if let Value::Array(subjects) = entry {
                subjects.extend(credential.subjects.iter().cloned().map(Value::Object));
            }
        }
    }
    // The BpnCredential is the BPN source since Tractus-X 0.13; before, the membership's holderIdentifier was.
    if let Some(bpn) = bpn.or(bpn_from_membership) {
        agent = agent.with_claim(claims::BPN, json!(bpn));
    }
    agent.with_claim(claims::FRAMEWORK_AGREEMENTS, json!(agreements)).with_claim(CREDENTIALS, Value::Object(by_type))
}

/// `Name:version` for a framework agreement credential (`DataExchangeGovernanceCredential` with
/// `contractVersion` 1.0 → `DataExchangeGovernance:1.0`), as the policy's `FrameworkAgreement` right operand reads.
fn framework_agreements(credential: &Credential) -> Vec<String> {
    let is_framework = credential.has_type(DATA_EXCHANGE_GOVERNANCE)
        || credential.subjects.iter().any(|s| s.get("group").and_then(Value::as_str) == Some(FRAMEWORK_GROUP));
    if !is_framework {
        return Vec::new();
    }
    let names: Vec<&str> = credential.specific_types().filter_map(|t| t.strip_suffix("Credential")).collect();
    let version = credential.subjects.iter().find_map(|s| s.get("contractVersion").and_then(Value::as_str));
    names
        .into_iter()
        .map(|name| match version {
            Some(version) => format!("{name}:{version}"),
            None => name.to_string(),
        })
        .collect()
}

/// The requested credential types that none of `credentials` has: what a verifier reports when a credential
/// service returned fewer credentials than the policy needs.
pub fn missing_types(requested: &BTreeSet<String>, credentials: &[Credential]) -> Vec<String> {
    requested.iter().filter(|t| !credentials.iter().any(|c| c.has_type(t))).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::Profile;

    fn credential(types: &[&str], subject: Value) -> Credential {
        Credential {
            id: None,
            types: std::iter::once("VerifiableCredential").chain(types.iter().copied()).map(str::to_string).collect(),
            issuer: "did:web:issuer.example".into(),
            subjects: subject.as_object().cloned().into_iter().collect(),
            valid_from: None,
            valid_until: None,
            status: Vec::new(),
            schemas: Vec::new(),
            profile: Profile::Vc11Sl2021Jwt,
        }
    }

    const HOLDER: &str = "did:web:consumer.example";

    #[test]
    fn catena_x_credentials_fill_the_trust_list_claims() {
        let credentials = [
            credential(
                &["MembershipCredential"],
                json!({"id": HOLDER, "holderIdentifier": "BPNL000000000001", "memberOf": "Catena-X"}),
            ),
            credential(
                &["https://w3id.org/catenax/credentials/BpnCredential"],
                json!({"id": HOLDER, "bpn": "BPNL000000000009"}),
            ),
            credential(
                &["DataExchangeGovernanceCredential"],
                json!({"id": HOLDER, "holderIdentifier": "BPNL000000000001", "group": "UseCaseFramework",
                       "useCase": "DataExchangeGovernance", "contractVersion": "1.0"}),
            ),
        ];
        let agent = participant_agent(HOLDER, &credentials);
        assert_eq!(agent.id, HOLDER);
        assert_eq!(agent.claim_str(claims::MEMBERSHIP), Some("active"));
        assert_eq!(
            agent.claim_str(claims::BPN),
            Some("BPNL000000000009"),
            "the BpnCredential wins over the membership"
        );
        assert_eq!(agent.claim_strings(claims::FRAMEWORK_AGREEMENTS), ["DataExchangeGovernance:1.0"]);
        assert_eq!(agent.claims.get(claims::GROUPS), None);
        let by_type = &agent.claims[CREDENTIALS];
        assert_eq!(by_type["BpnCredential"][0]["bpn"], json!("BPNL000000000009"));
        assert_eq!(by_type["MembershipCredential"][0]["memberOf"], json!("Catena-X"));
    }

    #[test]
    fn the_membership_supplies_the_bpn_without_a_bpn_credential_and_other_types_are_kept_generically() {
        let credentials = [
            credential(&["MembershipCredential"], json!({"id": HOLDER, "holderIdentifier": "BPNL000000000001"})),
            credential(
                &["DismantlerCredential"],
                json!({"id": HOLDER, "activityType": "vehicleDismantle", "allowedVehicleBrands": ["A"]}),
            ),
            credential(&["PcfCredential"], json!({"id": HOLDER, "group": "UseCaseFramework"})),
        ];
        let agent = participant_agent(HOLDER, &credentials);
        assert_eq!(agent.claim_str(claims::BPN), Some("BPNL000000000001"));
        assert_eq!(
            agent.claim_strings(claims::FRAMEWORK_AGREEMENTS),
            ["Pcf"],
            "a framework credential without version"
        );
        assert_eq!(agent.claims[CREDENTIALS]["DismantlerCredential"][0]["allowedVehicleBrands"], json!(["A"]));
    }

    #[test]
    fn no_credentials_establish_nothing() {
        let agent = participant_agent(HOLDER, &[]);
        assert_eq!((agent.claim_str(claims::MEMBERSHIP), agent.claim_str(claims::BPN)), (None, None));
        assert!(agent.claim_strings(claims::FRAMEWORK_AGREEMENTS).is_empty());
    }

    #[test]
    fn missing_types_name_what_was_requested_but_not_presented() {
        let requested: BTreeSet<String> =
            ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"].map(String::from).into();
        let presented = [credential(&["MembershipCredential"], json!({"id": HOLDER}))];
        assert_eq!(missing_types(&requested, &presented), ["BpnCredential", "DataExchangeGovernanceCredential"]);
        let everything =
            [credential(&["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"], json!({}))];
        assert!(missing_types(&requested, &everything).is_empty());
    }
}
