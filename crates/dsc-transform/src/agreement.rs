// SPDX-License-Identifier: Apache-2.0
//! Contract agreements: the Management API's `ContractAgreement` and the ODRL `Agreement` policy that carries an
//! agreement between connectors (the DSP binding adds only its wire specifics, such as the signing timestamp).

use dsc_domain::odrl::{Policy, PolicyType};
use dsc_domain::validation::join_path;
use dsc_domain::{ContractAgreement, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use serde_json::{Value, json};

use crate::policy::{policy_from_expanded, policy_to_expanded};
use crate::reader::{self, Violations};

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

/// The Management API's `ContractAgreement`.
pub fn agreement_to_expanded(agreement: &ContractAgreement) -> Value {
    let mut policy = agreement.policy.clone();
    policy.policy_type = PolicyType::Agreement;
    json!([{
        "@id": agreement.id,
        "@type": [edc("ContractAgreement")],
        edc("assetId"): reader::literal(agreement.asset_id.clone()),
        edc("policy"): [policy_to_expanded(&policy)],
        edc("contractSigningDate"): reader::literal(agreement.contract_signing_date),
        edc("consumerId"): reader::literal(agreement.consumer_id.clone()),
        edc("providerId"): reader::literal(agreement.provider_id.clone()),
    }])
}

/// The agreement as the ODRL `Agreement` policy that names it: `@id` is the agreement id, `target` the asset,
/// `assigner` the provider and `assignee` the consumer.
pub fn agreement_policy(agreement: &ContractAgreement) -> Policy {
    let mut policy = agreement.policy.clone();
    policy.policy_type = PolicyType::Agreement;
    policy.uid = Some(agreement.id.clone());
    policy.target = Some(agreement.asset_id.clone());
    policy.assigner = Some(agreement.provider_id.clone());
    policy.assignee = Some(agreement.consumer_id.clone());
    policy
}

/// Reads an ODRL `Agreement` policy node (the inverse of [`agreement_policy`]). The signing date is not part of
/// the ODRL model: the caller reads it from its wire form.
pub fn agreement_from_policy(
    node: &Node,
    path: &str,
    contract_signing_date: i64,
) -> Result<ContractAgreement, Violations> {
    let (policy, mut violations) = match policy_from_expanded(node, path) {
        Ok(policy) => (Some(policy), Vec::new()),
        Err(violations) => (None, violations),
    };
    if let Some(policy) = &policy
        && policy.policy_type != PolicyType::Agreement
    {
        violations.push(
            Violation::new("the agreement's @type must be Agreement", join_path(path, "@type"))
                .with_value(Value::from(expanded::types(node))),
        );
    }
    let id = expanded::id(node).filter(|id| !id.trim().is_empty()).map(str::to_string);
    if id.is_none() {
        violations.push(Violation::new("the agreement has no @id", join_path(path, "@id")));
    }
    let mut party = |local: &str| {
        let iri = namespaces::odrl(local);
        let value = expanded::first_str(node, &iri).map(str::to_string);
        if value.is_none() {
            violations.push(Violation::new(format!("the agreement has no {local}"), join_path(path, &iri)));
        }
        value
    };
    let (provider_id, consumer_id, asset_id) = (party("assigner"), party("assignee"), party("target"));
    match (policy, id, provider_id, consumer_id, asset_id) {
        (Some(policy), Some(id), Some(provider_id), Some(consumer_id), Some(asset_id)) if violations.is_empty() => {
            Ok(ContractAgreement { id, provider_id, consumer_id, contract_signing_date, asset_id, policy })
        }
        _ => Err(violations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::odrl::{Action, Rule};

    fn odrl(local: &str) -> String {
        namespaces::odrl(local)
    }

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    fn agreement() -> ContractAgreement {
        let mut policy = Policy::new(PolicyType::Set);
        policy.permissions.push(Rule {
            action: Action { action_type: odrl("use"), included_in: None, refinements: Vec::new() },
            constraints: Vec::new(),
            duties: Vec::new(),
        });
        let agreement = ContractAgreement {
            id: "agreement-1".into(),
            provider_id: "did:web:provider".into(),
            consumer_id: "did:web:consumer".into(),
            contract_signing_date: 1_727_770_530,
            asset_id: "asset-1".into(),
            policy,
        };
        // What a stored agreement holds: the policy that names it.
        ContractAgreement { policy: agreement_policy(&agreement), ..agreement }
    }

    #[test]
    fn round_trips_through_the_odrl_agreement() {
        let agreement = agreement();
        let expanded = policy_to_expanded(&agreement_policy(&agreement));
        let again = agreement_from_policy(&node(expanded), "agreement", agreement.contract_signing_date);
        assert_eq!(again, Ok(agreement));
    }

    #[test]
    fn every_missing_part_is_reported_with_its_path() {
        let violations = agreement_from_policy(
            &node(
                json!({ "@type": [odrl("Offer")], odrl("permission"): [{ odrl("action"): [{"@id": odrl("use")}] }] }),
            ),
            "agreement",
            0,
        )
        .err()
        .unwrap_or_default();
        let found: Vec<_> =
            violations.iter().map(|v| (v.message.as_str(), v.path.clone().unwrap_or_default())).collect();
        assert_eq!(
            found,
            vec![
                ("the agreement's @type must be Agreement", "agreement/@type".to_string()),
                ("the agreement has no @id", "agreement/@id".to_string()),
                ("the agreement has no assigner", format!("agreement/{}", odrl("assigner"))),
                ("the agreement has no assignee", format!("agreement/{}", odrl("assignee"))),
                ("the agreement has no target", format!("agreement/{}", odrl("target"))),
            ]
        );
        assert_eq!(violations[0].invalid_value, Some(json!([odrl("Offer")])));
    }

    #[test]
    fn policy_violations_come_with_the_others() {
        let mut expanded = policy_to_expanded(&agreement_policy(&agreement()));
        if let Value::Object(object) = &mut expanded {
            object.insert(odrl("permission"), json!([{}]));
            object.remove(odrl("assignee").as_str());
        }
        let violations = agreement_from_policy(&node(expanded), "agreement", 0).err().unwrap_or_default();
        let paths: Vec<_> = violations.iter().filter_map(|v| v.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                format!("agreement/{}[0]/{}", odrl("permission"), odrl("action")),
                format!("agreement/{}", odrl("assignee"))
            ]
        );
    }

    #[test]
    fn the_management_view_shows_the_policy_as_an_agreement() {
        let mut agreement = agreement();
        agreement.policy.policy_type = PolicyType::Set;
        let expanded = agreement_to_expanded(&agreement);
        let read = expanded::single_node(&expanded).cloned().unwrap_or_default();
        assert_eq!(expanded::types(&read), vec![edc("ContractAgreement")]);
        assert_eq!(expanded::first_str(&read, &edc("assetId")), Some("asset-1"));
        assert_eq!(expanded::first_str(&read, &edc("providerId")), Some("did:web:provider"));
        assert_eq!(expanded::first_str(&read, &edc("consumerId")), Some("did:web:consumer"));
        let signed = expanded::values(&read, &edc("contractSigningDate")).first().and_then(expanded::literal);
        assert_eq!(signed, Some(&json!(1_727_770_530)));
        let policy = expanded::first_node(&read, &edc("policy")).cloned().unwrap_or_default();
        assert_eq!(expanded::types(&policy), vec![odrl("Agreement")]);
    }
}
