// SPDX-License-Identifier: Apache-2.0
//! ODRL policies.

use dsc_domain::namespaces::{self, ODRL};
use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, LogicalOperator, Policy, PolicyType, Rule};
use dsc_domain::validation::join_path;
use dsc_domain::{Properties, Violation};
use dsc_jsonld::expanded::{self, Node};
use dsc_jsonld::simplified;
use serde_json::{Map, Value};

use crate::reader::{self, Violations};

const RDF_VALUE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value";

fn odrl(local: &str) -> String {
    namespaces::odrl(local)
}

/// Keys of a policy node that the typed model covers; everything else is kept as extensible properties.
fn known_policy_keys() -> [String; 8] {
    [
        odrl("permission"),
        odrl("prohibition"),
        odrl("obligation"),
        odrl("assigner"),
        odrl("assignee"),
        odrl("target"),
        odrl("profile"),
        odrl("uid"),
    ]
}

/// Reads a policy node. A missing `@type` means `Set` (EDC's default for stored policies).
pub fn policy_from_expanded(node: &Node, path: &str) -> Result<Policy, Violations> {
    let mut violations = Vec::new();
    let types = expanded::types(node);
    let policy_type = if types.is_empty() {
        PolicyType::Set
    } else if let Some(kind) = types.iter().find_map(|t| PolicyType::from_iri(t)) {
        kind
    } else {
        violations.push(
            Violation::new(
                format!(
                    "policy @type must be one of ['{}', '{}', '{}'] but was {types:?}",
                    PolicyType::Set.iri(),
                    PolicyType::Offer.iri(),
                    PolicyType::Agreement.iri()
                ),
                join_path(path, "@type"),
            )
            .with_value(Value::from(types.clone())),
        );
        PolicyType::Set
    };
    let mut policy = Policy::new(policy_type);
    policy.uid = expanded::id(node).map(str::to_string);
    policy.permissions = rules(node, "permission", "duty", path, &mut violations);
    policy.prohibitions = rules(node, "prohibition", "remedy", path, &mut violations);
    policy.obligations = rules(node, "obligation", "consequence", path, &mut violations);
    policy.assigner = expanded::first_str(node, &odrl("assigner")).map(str::to_string);
    policy.assignee = expanded::first_str(node, &odrl("assignee")).map(str::to_string);
    policy.target = expanded::first_str(node, &odrl("target")).map(str::to_string);
    policy.profiles =
        expanded::values(node, &odrl("profile")).iter().filter_map(expanded::value_str).map(str::to_string).collect();
    let known = known_policy_keys();
    policy.extensible_properties =
        simplified::simplify_node(node).into_iter().filter(|(key, _)| !known.contains(key)).collect::<Properties>();
    if violations.is_empty() { Ok(policy) } else { Err(violations) }
}

fn rules(node: &Node, kind: &str, nested: &str, path: &str, violations: &mut Violations) -> Vec<Rule> {
    let iri = odrl(kind);
    expanded::nodes(node, &iri)
        .enumerate()
        .map(|(index, rule)| rule_from(rule, nested, &format!("{}[{index}]", join_path(path, &iri)), violations))
        .collect()
}

fn rule_from(node: &Node, nested: &str, path: &str, violations: &mut Violations) -> Rule {
    let action_iri = odrl("action");
    let action = match expanded::values(node, &action_iri).first() {
        Some(value) => action_from(value, &join_path(path, &action_iri), violations),
        None => {
            violations.push(Violation::mandatory_value(&join_path(path, &action_iri)));
            Action { action_type: String::new(), included_in: None, refinements: Vec::new() }
        }
    };
    let constraints = constraints(node, "constraint", path, violations);
    let nested_iri = odrl(nested);
    let duties = expanded::nodes(node, &nested_iri)
        .enumerate()
        .map(|(index, duty)| {
            rule_from(duty, "consequence", &format!("{}[{index}]", join_path(path, &nested_iri)), violations)
        })
        .collect();
    Rule { action, constraints, duties }
}

fn action_from(value: &Value, path: &str, violations: &mut Violations) -> Action {
    if let Some(name) = expanded::value_str(value) {
        return Action { action_type: odrl_term(name), included_in: None, refinements: Vec::new() };
    }
    let Some(node) = value.as_object() else {
        violations.push(Violation::new("action must be an IRI or an action object", path).with_value(value.clone()));
        return Action { action_type: String::new(), included_in: None, refinements: Vec::new() };
    };
    let action_type = [RDF_VALUE.to_string(), odrl("action"), namespaces::edc("type")]
        .iter()
        .find_map(|key| expanded::first_str(node, key))
        .map(odrl_term);
    let Some(action_type) = action_type else {
        violations.push(Violation::mandatory_value(&join_path(path, RDF_VALUE)));
        return Action { action_type: String::new(), included_in: None, refinements: Vec::new() };
    };
    Action {
        action_type,
        included_in: expanded::first_str(node, &odrl("includedIn")).map(odrl_term),
        refinements: constraints(node, "refinement", path, violations),
    }
}

/// Bare ODRL terms (`use`, `eq`) that reached us as plain literals mean the ODRL IRI; anything with a scheme or
/// prefix is already an IRI.
fn odrl_term(name: &str) -> String {
    if name.contains(':') { name.to_string() } else { format!("{ODRL}{name}") }
}

fn constraints(node: &Node, kind: &str, path: &str, violations: &mut Violations) -> Vec<Constraint> {
    let iri = odrl(kind);
    list_members(expanded::values(node, &iri))
        .enumerate()
        .map(|(index, constraint)| {
            constraint_from(constraint, &format!("{}[{index}]", join_path(path, &iri)), violations)
        })
        .collect()
}

/// Members of a property that may be given as a plain set or as an `@list`.
fn list_members(values: &[Value]) -> impl Iterator<Item = &Node> {
    values
        .iter()
        .flat_map(|value| match value.get("@list") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            _ => vec![value],
        })
        .filter_map(Value::as_object)
}

fn constraint_from(node: &Node, path: &str, violations: &mut Violations) -> Constraint {
    for operator in LogicalOperator::ALL {
        let iri = operator.iri();
        if node.contains_key(&iri) {
            let constraints = list_members(expanded::values(node, &iri))
                .enumerate()
                .map(|(index, member)| {
                    constraint_from(member, &format!("{}[{index}]", join_path(path, &iri)), violations)
                })
                .collect();
            return Constraint::Logical { operator, constraints };
        }
    }
    let left_iri = odrl("leftOperand");
    let left_operand = match expanded::first_str(node, &left_iri) {
        Some(left) if !left.trim().is_empty() => left.to_string(),
        _ => {
            violations.push(Violation::mandatory_value(&join_path(path, &left_iri)));
            String::new()
        }
    };
    let operator_iri = odrl("operator");
    let operator = match expanded::first_str(node, &operator_iri) {
        Some(name) => match ConstraintOperator::from_iri(&odrl_term(name.strip_prefix("odrl:").unwrap_or(name))) {
            Some(operator) => operator,
            None => {
                let accepted: Vec<_> = ConstraintOperator::ALL.iter().map(|op| op.local_name()).collect();
                violations.push(
                    Violation::new(
                        format!("'{name}' is not an ODRL operator; expected one of {}", accepted.join(", ")),
                        join_path(path, &operator_iri),
                    )
                    .with_value(Value::String(name.to_string())),
                );
                ConstraintOperator::Eq
            }
        },
        None => {
            violations.push(Violation::mandatory_value(&join_path(path, &operator_iri)));
            ConstraintOperator::Eq
        }
    };
    let right_iri = odrl("rightOperand");
    let right_values = expanded::values(node, &right_iri);
    if right_values.is_empty() {
        violations.push(Violation::mandatory_value(&join_path(path, &right_iri)));
    }
    Constraint::Atomic { left_operand, operator, right_operand: simplified::simplify(right_values) }
}

pub fn policy_to_expanded(policy: &Policy) -> Value {
    let mut node = simplified::node_to_expanded(&policy.extensible_properties);
    if let Some(uid) = &policy.uid {
        node.insert("@id".into(), Value::String(uid.clone()));
    }
    node.insert("@type".into(), Value::Array(vec![Value::String(policy.policy_type.iri())]));
    insert_rules(&mut node, "permission", "duty", &policy.permissions);
    insert_rules(&mut node, "prohibition", "remedy", &policy.prohibitions);
    insert_rules(&mut node, "obligation", "consequence", &policy.obligations);
    for (key, value) in [("assigner", &policy.assigner), ("assignee", &policy.assignee), ("target", &policy.target)] {
        if let Some(iri) = value {
            node.insert(odrl(key), reader::reference(iri));
        }
    }
    if !policy.profiles.is_empty() {
        node.insert(
            odrl("profile"),
            Value::Array(policy.profiles.iter().map(|p| serde_json::json!({ "@id": p })).collect()),
        );
    }
    Value::Object(node)
}

fn insert_rules(node: &mut Map<String, Value>, kind: &str, nested: &str, rules: &[Rule]) {
    if rules.is_empty() {
        return;
    }
    node.insert(odrl(kind), Value::Array(rules.iter().map(|rule| rule_to_expanded(rule, nested)).collect()));
}

fn rule_to_expanded(rule: &Rule, nested: &str) -> Value {
    let mut node = Map::new();
    let action = if rule.action.included_in.is_none() && rule.action.refinements.is_empty() {
        reader::reference(&rule.action.action_type)
    } else {
        let mut action = Map::new();
        action.insert(RDF_VALUE.into(), reader::reference(&rule.action.action_type));
        if let Some(included_in) = &rule.action.included_in {
            action.insert(odrl("includedIn"), reader::reference(included_in));
        }
        if !rule.action.refinements.is_empty() {
            action
                .insert(odrl("refinement"), Value::Array(rule.action.refinements.iter().map(constraint_to).collect()));
        }
        Value::Array(vec![Value::Object(action)])
    };
    node.insert(odrl("action"), action);
    if !rule.constraints.is_empty() {
        node.insert(odrl("constraint"), Value::Array(rule.constraints.iter().map(constraint_to).collect()));
    }
    insert_rules(&mut node, nested, "consequence", &rule.duties);
    Value::Object(node)
}

fn constraint_to(constraint: &Constraint) -> Value {
    let mut node = Map::new();
    match constraint {
        Constraint::Atomic { left_operand, operator, right_operand } => {
            node.insert(odrl("leftOperand"), reader::reference(left_operand));
            node.insert(odrl("operator"), reader::reference(&operator.iri()));
            node.insert(odrl("rightOperand"), Value::Array(simplified::to_expanded(right_operand)));
        }
        Constraint::Logical { operator, constraints } => {
            let members: Vec<Value> = constraints.iter().map(constraint_to).collect();
            node.insert(operator.iri(), Value::Array(vec![serde_json::json!({ "@list": members })]));
        }
    }
    Value::Object(node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    fn catena_policy() -> Node {
        node(json!({
            "@id": "p-1",
            "@type": [odrl("Set")],
            odrl("permission"): [{
                odrl("action"): [{"@id": odrl("use")}],
                odrl("constraint"): [{
                    odrl("and"): [{"@list": [
                        { odrl("leftOperand"): [{"@id": "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement"}],
                          odrl("operator"): [{"@id": odrl("eq")}],
                          odrl("rightOperand"): [{"@value": "DataExchangeGovernance:1.0"}] },
                        { odrl("leftOperand"): [{"@id": "https://w3id.org/catenax/2025/9/policy/UsagePurpose"}],
                          odrl("operator"): [{"@id": odrl("isAnyOf")}],
                          odrl("rightOperand"): [{"@value": "cx.core.industrycore:1"}, {"@value": "cx.pcf.base:1"}] }
                    ]}]
                }]
            }],
            "https://example.com/ext": [{"@value": "kept"}]
        }))
    }

    #[test]
    fn reads_logical_and_atomic_constraints() {
        let policy = policy_from_expanded(&catena_policy(), "").unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(policy.policy_type, PolicyType::Set);
        assert_eq!(policy.permissions[0].action.action_type, odrl("use"));
        let Constraint::Logical { operator, constraints } = &policy.permissions[0].constraints[0] else {
            panic!("expected a logical constraint")
        };
        assert_eq!(*operator, LogicalOperator::And);
        assert_eq!(
            constraints[1],
            Constraint::Atomic {
                left_operand: "https://w3id.org/catenax/2025/9/policy/UsagePurpose".into(),
                operator: ConstraintOperator::IsAnyOf,
                right_operand: json!(["cx.core.industrycore:1", "cx.pcf.base:1"]),
            }
        );
        assert_eq!(policy.extensible_properties.get("https://example.com/ext"), Some(&json!("kept")));
    }

    #[test]
    fn round_trips() {
        let policy = policy_from_expanded(&catena_policy(), "").unwrap_or_else(|v| panic!("{v:?}"));
        let again = policy_from_expanded(&node(policy_to_expanded(&policy)), "").unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(again, policy);
    }

    #[test]
    fn rejects_non_policy_types_unknown_operators_and_missing_parts() {
        let violations = policy_from_expanded(
            &node(json!({
                "@type": [namespaces::edc("Asset")],
                odrl("permission"): [{
                    odrl("constraint"): [{ odrl("leftOperand"): [{"@id": "x:y"}], odrl("operator"): [{"@id": odrl("equals")}] }]
                }]
            })),
            "p",
        )
        .err()
        .unwrap_or_default();
        let paths: Vec<_> = violations.iter().filter_map(|v| v.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                "p/@type".to_string(),
                format!("p/{}[0]/{}", odrl("permission"), odrl("action")),
                format!("p/{}[0]/{}[0]/{}", odrl("permission"), odrl("constraint"), odrl("operator")),
                format!("p/{}[0]/{}[0]/{}", odrl("permission"), odrl("constraint"), odrl("rightOperand")),
            ]
        );
        assert!(violations[2].message.starts_with("'http://www.w3.org/ns/odrl/2/equals' is not an ODRL operator"));
    }

    #[test]
    fn literal_terms_mean_odrl_iris() {
        let policy = policy_from_expanded(
            &node(json!({
                odrl("permission"): [{ odrl("action"): [{"@value": "use"}],
                   odrl("constraint"): [{ odrl("leftOperand"): [{"@value": "https://w3id.org/edc/v0.0.1/ns/inForceDate"}],
                                           odrl("operator"): [{"@value": "gteq"}], odrl("rightOperand"): [{"@value": "contractAgreement+0s"}] }] }]
            })),
            "",
        )
        .unwrap_or_else(|v| panic!("{v:?}"));
        assert_eq!(policy.permissions[0].action.action_type, odrl("use"));
        assert!(matches!(
            policy.permissions[0].constraints[0],
            Constraint::Atomic { operator: ConstraintOperator::Gteq, .. }
        ));
    }
}
