// SPDX-License-Identifier: Apache-2.0
//! Outbound negotiation messages written directly in their compact 2025-1 form.
//!
//! JSON-LD compaction costs about a millisecond per message; these messages have a fixed shape, so they are
//! written straight against the fixed `@context`. A unit test checks that each one expands to exactly what the
//! general path (`message_to_expanded` + compaction) produces. Policies with parts this writer does not cover
//! (extension properties, profiles, refined actions) return `None` and take the general path.

use dsc_controlplane::protocol::NegotiationMessage;
use dsc_domain::namespaces::ODRL;
use dsc_domain::odrl::{Constraint, Policy, PolicyType, Rule};
use serde_json::{Map, Value, json};

use crate::DSP_CONTEXT;

/// Actions the DSP ODRL profile defines as terms; any other action is written as its full IRI.
fn action_term(iri: &str) -> String {
    match iri.strip_prefix(ODRL) {
        Some("use") => "use".to_string(),
        _ => iri.to_string(),
    }
}

fn constraint(constraint: &Constraint) -> Value {
    match constraint {
        Constraint::Atomic { left_operand, operator, right_operand } => json!({
            "leftOperand": left_operand,
            "operator": operator.local_name(),
            "rightOperand": right_operand,
        }),
        Constraint::Logical { operator, constraints } => {
            json!({ operator.local_name(): constraints.iter().map(self::constraint).collect::<Vec<_>>() })
        }
    }
}

fn rule(rule: &Rule, nested: &str) -> Option<Value> {
    if rule.action.included_in.is_some() || !rule.action.refinements.is_empty() {
        return None;
    }
    let mut node = Map::new();
    node.insert("action".into(), Value::String(action_term(&rule.action.action_type)));
    if !rule.constraints.is_empty() {
        node.insert("constraint".into(), Value::Array(rule.constraints.iter().map(constraint).collect()));
    }
    if !rule.duties.is_empty() {
        let duties = rule.duties.iter().map(|d| self::rule(d, "consequence")).collect::<Option<Vec<_>>>()?;
        node.insert(nested.into(), Value::Array(duties));
    }
    Some(Value::Object(node))
}

/// The policy as an `offer`/`agreement` value, or `None` when it needs the general path.
pub(crate) fn policy(policy: &Policy) -> Option<Value> {
    if !policy.extensible_properties.is_empty() || !policy.profiles.is_empty() {
        return None;
    }
    let mut node = Map::new();
    if let Some(uid) = &policy.uid {
        node.insert("@id".into(), Value::String(uid.clone()));
    }
    let kind = match policy.policy_type {
        PolicyType::Set => "Set",
        PolicyType::Offer => "Offer",
        PolicyType::Agreement => "Agreement",
    };
    node.insert("@type".into(), Value::String(kind.into()));
    for (key, value) in [("target", &policy.target), ("assigner", &policy.assigner), ("assignee", &policy.assignee)] {
        if let Some(value) = value {
            node.insert(key.into(), Value::String(value.clone()));
        }
    }
    for (key, nested, rules) in [
        ("permission", "duty", &policy.permissions),
        ("prohibition", "remedy", &policy.prohibitions),
        ("obligation", "consequence", &policy.obligations),
    ] {
        if !rules.is_empty() {
            let rules = rules.iter().map(|r| rule(r, nested)).collect::<Option<Vec<_>>>()?;
            node.insert(key.into(), Value::Array(rules));
        }
    }
    Some(Value::Object(node))
}

/// The message in compact form with `id` as its `@id`, or `None` when it needs the general path.
pub(crate) fn message(message: &NegotiationMessage, id: &str) -> Option<Value> {
    let mut node = Map::new();
    node.insert("@context".into(), json!([DSP_CONTEXT]));
    node.insert("@id".into(), Value::String(id.to_string()));
    let pids = |node: &mut Map<String, Value>, consumer: &str, provider: &str| {
        node.insert("consumerPid".into(), Value::String(consumer.into()));
        node.insert("providerPid".into(), Value::String(provider.into()));
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
            node.insert("@type".into(), "ContractRequestMessage".into());
            node.insert("consumerPid".into(), Value::String(consumer_pid.clone()));
            if let Some(provider_pid) = provider_pid {
                node.insert("providerPid".into(), Value::String(provider_pid.clone()));
            }
            if let Some(callback) = callback_address {
                node.insert("callbackAddress".into(), Value::String(callback.clone()));
            }
            let policy = dsc_transform::contract_request::offer_policy(offer, target, assigner);
            node.insert("offer".into(), self::policy(&policy)?);
        }
        NegotiationMessage::Agreement { provider_pid, consumer_pid, agreement } => {
            node.insert("@type".into(), "ContractAgreementMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            let mut value = self::policy(&dsc_transform::agreement::agreement_policy(agreement))?;
            if let Value::Object(object) = &mut value {
                object.insert(
                    "timestamp".into(),
                    Value::String(crate::negotiation::rfc3339(agreement.contract_signing_date)),
                );
            }
            node.insert("agreement".into(), value);
        }
        NegotiationMessage::Offer { provider_pid, consumer_pid, callback_address, offer, target, assigner } => {
            // An offer within a negotiation names the consumer's process; one that starts a negotiation carries
            // the provider's callback address instead.
            node.insert("@type".into(), "ContractOfferMessage".into());
            node.insert("providerPid".into(), Value::String(provider_pid.clone()));
            if let Some(consumer_pid) = consumer_pid {
                node.insert("consumerPid".into(), Value::String(consumer_pid.clone()));
            }
            if let Some(callback) = callback_address {
                node.insert("callbackAddress".into(), Value::String(callback.clone()));
            }
            let policy = dsc_transform::contract_request::offer_policy(offer, target, assigner);
            node.insert("offer".into(), self::policy(&policy)?);
        }
        NegotiationMessage::Verification { provider_pid, consumer_pid } => {
            node.insert("@type".into(), "ContractAgreementVerificationMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
        }
        NegotiationMessage::Event { provider_pid, consumer_pid, event_type } => {
            node.insert("@type".into(), "ContractNegotiationEventMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            node.insert("eventType".into(), Value::String(event_type.clone()));
        }
        NegotiationMessage::Termination { provider_pid, consumer_pid, code, reason, .. } => {
            node.insert("@type".into(), "ContractNegotiationTerminationMessage".into());
            pids(&mut node, consumer_pid, provider_pid);
            if let Some(code) = code {
                node.insert("code".into(), Value::String(code.clone()));
            }
            if let Some(reason) = reason {
                node.insert("reason".into(), json!([reason]));
            }
        }
    }
    Some(Value::Object(node))
}

/// The ContractNegotiation acknowledgement in compact form.
pub(crate) fn acknowledgement(negotiation: &dsc_domain::ContractNegotiation) -> Value {
    let other = negotiation.correlation_id.clone().unwrap_or_default();
    let (consumer, provider) = match negotiation.role {
        dsc_domain::NegotiationRole::Consumer => (negotiation.id.clone(), other),
        dsc_domain::NegotiationRole::Provider => (other, negotiation.id.clone()),
    };
    json!({
        "@context": [DSP_CONTEXT],
        "@id": negotiation.id,
        "@type": "ContractNegotiation",
        "consumerPid": consumer,
        "providerPid": provider,
        "state": negotiation.state.protocol_state(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::odrl::{Action, ConstraintOperator, LogicalOperator};
    use dsc_domain::{ContractAgreement, ContractOfferId, Offer};

    fn sample_policy() -> Policy {
        let mut policy = Policy::new(PolicyType::Set);
        policy.permissions.push(Rule {
            action: Action { action_type: format!("{ODRL}use"), included_in: None, refinements: vec![] },
            constraints: vec![Constraint::Logical {
                operator: LogicalOperator::And,
                constraints: vec![
                    Constraint::Atomic {
                        left_operand: "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement".into(),
                        operator: ConstraintOperator::Eq,
                        right_operand: json!("DataExchangeGovernance:1.0"),
                    },
                    Constraint::Atomic {
                        left_operand: "https://w3id.org/catenax/2025/9/policy/UsagePurpose".into(),
                        operator: ConstraintOperator::IsAnyOf,
                        right_operand: json!(["cx.core.industrycore:1", "cx.pcf.base:1"]),
                    },
                ],
            }],
            duties: vec![],
        });
        policy.prohibitions.push(Rule {
            action: Action { action_type: format!("{ODRL}distribute"), included_in: None, refinements: vec![] },
            constraints: vec![],
            duties: vec![],
        });
        policy
    }

    fn messages() -> Vec<NegotiationMessage> {
        let offer = Offer { id: ContractOfferId::new("cd-1", "asset-1", "n"), policy: sample_policy() };
        let agreement = ContractAgreement {
            id: "agreement-1".into(),
            provider_id: "did:web:p".into(),
            consumer_id: "did:web:c".into(),
            contract_signing_date: 1_727_770_530,
            asset_id: "asset-1".into(),
            policy: sample_policy(),
        };
        vec![
            NegotiationMessage::ContractRequest {
                consumer_pid: "c-1".into(),
                provider_pid: None,
                callback_address: Some("http://consumer/api/v1/dsp/2025-1".into()),
                offer,
                target: "asset-1".into(),
                assigner: "did:web:p".into(),
            },
            NegotiationMessage::Agreement { provider_pid: "p-1".into(), consumer_pid: "c-1".into(), agreement },
            NegotiationMessage::Verification { provider_pid: "p-1".into(), consumer_pid: "c-1".into() },
            NegotiationMessage::Event {
                provider_pid: "p-1".into(),
                consumer_pid: "c-1".into(),
                event_type: "FINALIZED".into(),
            },
            NegotiationMessage::Termination {
                provider_pid: "p-1".into(),
                consumer_pid: "c-1".into(),
                code: Some("99".into()),
                reason: Some("no longer needed".into()),
                to_provider: true,
            },
        ]
    }

    /// Logical constraint members are a list on the general path and a set here; both read the same.
    fn without_lists(value: Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(items.into_iter().map(without_lists).collect()),
            Value::Object(object) => {
                if let (1, Some(Value::Array(items))) = (object.len(), object.get("@list")) {
                    return Value::Array(items.iter().cloned().map(without_lists).collect());
                }
                Value::Object(
                    object
                        .into_iter()
                        .map(|(k, v)| {
                            let v = without_lists(v);
                            // `[[a, b]]` (a list inside a value array) reads as `[a, b]`.
                            let v = match v {
                                Value::Array(items) if items.len() == 1 && items[0].is_array() => items[0].clone(),
                                other => other,
                            };
                            (k, v)
                        })
                        .collect(),
                )
            }
            other => other,
        }
    }

    #[test]
    fn direct_messages_mean_exactly_what_the_general_path_produces() {
        let jsonld = dsc_jsonld::JsonLd::new().unwrap();
        let context = crate::message_context().unwrap();
        for message in messages() {
            let general = crate::negotiation::message_to_expanded_with_id(&message, "urn:uuid:fixed");
            let general = jsonld.compact(general, &context).unwrap();
            let general = jsonld.expand(general).unwrap();
            let direct =
                self::message(&message, "urn:uuid:fixed").unwrap_or_else(|| panic!("no direct form for {message:?}"));
            let direct = jsonld.expand(direct).unwrap();
            assert_eq!(without_lists(direct), without_lists(general), "{message:?}");
        }
    }

    #[test]
    fn the_direct_acknowledgement_means_what_the_general_path_produces() {
        let jsonld = dsc_jsonld::JsonLd::new().unwrap();
        let context = crate::message_context().unwrap();
        let mut negotiation = dsc_store_free_negotiation();
        for state in [dsc_domain::NegotiationState::Agreeing, dsc_domain::NegotiationState::Finalized] {
            negotiation.state = state;
            let general = jsonld.compact(crate::negotiation::negotiation_ack(&negotiation), &context).unwrap();
            assert_eq!(jsonld.expand(acknowledgement(&negotiation)).unwrap(), jsonld.expand(general).unwrap());
        }
    }

    fn dsc_store_free_negotiation() -> dsc_domain::ContractNegotiation {
        dsc_domain::ContractNegotiation {
            id: "p-1".into(),
            correlation_id: Some("c-1".into()),
            counter_party_id: "did:web:c".into(),
            counter_party_address: "http://c".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role: dsc_domain::NegotiationRole::Provider,
            state: dsc_domain::NegotiationState::Requested,
            state_count: 1,
            pending: false,
            state_timestamp: 0,
            error_detail: None,
            offers: vec![],
            agreement: None,
            callback_addresses: vec![],
            trace_context: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn policies_with_extensions_take_the_general_path() {
        let mut policy = sample_policy();
        policy.extensible_properties.insert("https://example.com/x".into(), json!("y"));
        assert!(self::policy(&policy).is_none());
    }
}
