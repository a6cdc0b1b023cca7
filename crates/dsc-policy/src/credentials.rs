// SPDX-License-Identifier: Apache-2.0
//! Which verifiable credentials a policy needs: the Catena-X left operands mapped to the credential types that back
//! them (CX-0018 §2.4, the idea of EDC's scope extractors). The Decentralized Claims Protocol asks a participant's
//! credential service for exactly these types, never for everything.

use std::collections::BTreeSet;

use dsc_domain::namespaces;
use dsc_domain::odrl::{Constraint, Policy, Rule};
use serde_json::Value;

use crate::functions::CX_POLICY_NAMESPACES;

pub const MEMBERSHIP_CREDENTIAL: &str = "MembershipCredential";
pub const BPN_CREDENTIAL: &str = "BpnCredential";
pub const DISMANTLER_CREDENTIAL: &str = "DismantlerCredential";

/// The credential types (short names such as `MembershipCredential`) the constraints of `policy` are decided on.
pub fn required_credential_types(policy: &Policy) -> BTreeSet<String> {
    let mut types = BTreeSet::new();
    for rule in policy.permissions.iter().chain(&policy.prohibitions).chain(&policy.obligations) {
        collect_rule(rule, &mut types);
    }
    types
}

fn collect_rule(rule: &Rule, types: &mut BTreeSet<String>) {
    for constraint in rule.constraints.iter().chain(&rule.action.refinements) {
        collect(constraint, types);
    }
    for duty in &rule.duties {
        collect_rule(duty, types);
    }
}

fn collect(constraint: &Constraint, types: &mut BTreeSet<String>) {
    match constraint {
        Constraint::Logical { constraints, .. } => constraints.iter().for_each(|c| collect(c, types)),
        Constraint::Atomic { left_operand, right_operand, .. } => {
            if let Some(credential) = credential_for(left_operand, right_operand) {
                types.insert(credential);
            }
        }
    }
}

/// The credential backing one left operand (a full IRI), if a credential backs it.
fn credential_for(left_operand: &str, right: &Value) -> Option<String> {
    let local = CX_POLICY_NAMESPACES
        .iter()
        .chain(std::iter::once(&namespaces::TX))
        .find_map(|namespace| left_operand.strip_prefix(namespace))?;
    match local {
        "Membership" => Some(MEMBERSHIP_CREDENTIAL.into()),
        // The BPN and the groups assigned to it come from the BPN credential.
        "BusinessPartnerNumber" | "BusinessPartnerGroup" => Some(BPN_CREDENTIAL.into()),
        // The right operand names the framework: "DataExchangeGovernance:1.0" → DataExchangeGovernanceCredential.
        "FrameworkAgreement" => {
            let text = right.as_str().or_else(|| right.get("@value").and_then(Value::as_str))?;
            let name = text.split(':').next().map(str::trim).filter(|n| !n.is_empty())?;
            Some(format!("{}Credential", capitalised(name)))
        }
        // The legacy notation names the framework in the left operand: FrameworkAgreement.pcf → PcfCredential.
        other => match other.split_once('.') {
            Some(("FrameworkAgreement", framework)) if !framework.is_empty() => {
                Some(format!("{}Credential", capitalised(framework)))
            }
            _ if other == "Dismantler" || other.starts_with("Dismantler.") => Some(DISMANTLER_CREDENTIAL.into()),
            _ => None,
        },
    }
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use dsc_domain::odrl::{Action, ConstraintOperator, LogicalOperator, PolicyType};
    use serde_json::json;

    use super::*;

    fn atomic(local: &str, right: Value) -> Constraint {
        Constraint::Atomic {
            left_operand: format!("{}{local}", namespaces::CX_POLICY),
            operator: ConstraintOperator::Eq,
            right_operand: right,
        }
    }

    fn rule(constraints: Vec<Constraint>) -> Rule {
        Rule {
            action: Action {
                action_type: "http://www.w3.org/ns/odrl/2/use".into(),
                included_in: None,
                refinements: vec![],
            },
            constraints,
            duties: vec![],
        }
    }

    #[test]
    fn catena_x_operands_name_their_credentials() {
        let mut policy = Policy::new(PolicyType::Set);
        policy.permissions.push(rule(vec![
            atomic("Membership", json!("active")),
            Constraint::Logical {
                operator: LogicalOperator::Or,
                constraints: vec![
                    atomic("FrameworkAgreement", json!("DataExchangeGovernance:1.0")),
                    atomic("FrameworkAgreement.pcf", json!("active")),
                ],
            },
            atomic("UsagePurpose", json!("cx.core.industrycore:1")),
        ]));
        policy.obligations.push(rule(vec![atomic("BusinessPartnerGroup", json!(["gold"]))]));
        policy.prohibitions.push(rule(vec![atomic("Dismantler.activityType", json!(["vehicleDismantle"]))]));
        let types: Vec<String> = required_credential_types(&policy).into_iter().collect();
        assert_eq!(
            types,
            [
                "BpnCredential",
                "DataExchangeGovernanceCredential",
                "DismantlerCredential",
                "MembershipCredential",
                "PcfCredential"
            ]
        );
    }

    #[test]
    fn policies_without_credential_operands_need_none() {
        let mut policy = Policy::new(PolicyType::Offer);
        assert!(required_credential_types(&policy).is_empty());
        policy.permissions.push(rule(vec![
            atomic("UsagePurpose", json!("x")),
            Constraint::Atomic {
                left_operand: "https://example.com/Membership".into(),
                operator: ConstraintOperator::Eq,
                right_operand: json!("active"),
            },
            atomic("FrameworkAgreement", json!(":1.0")),
        ]));
        assert!(required_credential_types(&policy).is_empty());
    }
}
