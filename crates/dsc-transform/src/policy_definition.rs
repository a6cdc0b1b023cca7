// SPDX-License-Identifier: Apache-2.0
//! Policy definitions.

use dsc_domain::odrl::{Policy, PolicyType};
use dsc_domain::{PolicyDefinition, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use dsc_jsonld::simplified;
use serde_json::{Map, Value};

use crate::policy::{policy_from_expanded, policy_to_expanded};
use crate::reader::{self, Violations};

pub fn policy_definition_from_expanded(node: &Node) -> Result<PolicyDefinition, Violations> {
    let mut violations = Vec::new();
    reader::check_type(node, &namespaces::edc("PolicyDefinition"), "", &mut violations);
    let id = reader::id_or_new(node, "", &mut violations);
    let policy_iri = namespaces::edc("policy");
    let policy = match expanded::first_node(node, &policy_iri) {
        Some(policy) => match policy_from_expanded(policy, &policy_iri) {
            Ok(policy) => policy,
            Err(mut more) => {
                violations.append(&mut more);
                Policy::new(PolicyType::Set)
            }
        },
        None => {
            violations.push(Violation::mandatory_object(&policy_iri));
            Policy::new(PolicyType::Set)
        }
    };
    let private_properties = reader::property_map(node, "privateProperties");
    if violations.is_empty() {
        Ok(PolicyDefinition { id, created_at: 0, policy, private_properties })
    } else {
        Err(violations)
    }
}

pub fn policy_definition_to_expanded(definition: &PolicyDefinition) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(definition.id.clone()));
    node.insert("@type".into(), Value::Array(vec![Value::String(namespaces::edc("PolicyDefinition"))]));
    node.insert(namespaces::edc("policy"), Value::Array(vec![policy_to_expanded(&definition.policy)]));
    if !definition.private_properties.is_empty() {
        node.insert(
            namespaces::edc("privateProperties"),
            Value::Array(vec![Value::Object(simplified::node_to_expanded(&definition.private_properties))]),
        );
    }
    node.insert(namespaces::edc("createdAt"), reader::literal(definition.created_at));
    Value::Array(vec![Value::Object(node)])
}
