// SPDX-License-Identifier: Apache-2.0
//! Contract definitions.

use dsc_domain::validation::join_path;
use dsc_domain::{ContractDefinition, namespaces};
use dsc_jsonld::expanded::{self, Node};
use dsc_jsonld::simplified;
use serde_json::{Map, Value};

use crate::query::{criterion_from_expanded, criterion_to_expanded};
use crate::reader::{self, Violations};

pub fn contract_definition_from_expanded(node: &Node) -> Result<ContractDefinition, Violations> {
    let mut violations = Vec::new();
    reader::check_type(node, &namespaces::edc("ContractDefinition"), "", &mut violations);
    let id = reader::id_or_new(node, "", &mut violations);
    let access_policy_id = reader::mandatory_str(node, "accessPolicyId", "", &mut violations);
    let contract_policy_id = reader::mandatory_str(node, "contractPolicyId", "", &mut violations);
    let selector_iri = namespaces::edc("assetsSelector");
    let assets_selector = expanded::nodes(node, &selector_iri)
        .enumerate()
        .filter_map(|(index, criterion)| {
            criterion_from_expanded(criterion, &format!("{}[{index}]", join_path("", &selector_iri)), &mut violations)
        })
        .collect();
    let private_properties = reader::property_map(node, "privateProperties");
    if violations.is_empty() {
        Ok(ContractDefinition {
            id,
            created_at: 0,
            access_policy_id,
            contract_policy_id,
            assets_selector,
            private_properties,
        })
    } else {
        Err(violations)
    }
}

pub fn contract_definition_to_expanded(definition: &ContractDefinition) -> Value {
    let mut node = Map::new();
    node.insert("@id".into(), Value::String(definition.id.clone()));
    node.insert("@type".into(), Value::Array(vec![Value::String(namespaces::edc("ContractDefinition"))]));
    node.insert(namespaces::edc("accessPolicyId"), reader::literal(definition.access_policy_id.clone()));
    node.insert(namespaces::edc("contractPolicyId"), reader::literal(definition.contract_policy_id.clone()));
    node.insert(
        namespaces::edc("assetsSelector"),
        Value::Array(definition.assets_selector.iter().map(criterion_to_expanded).collect()),
    );
    if !definition.private_properties.is_empty() {
        node.insert(
            namespaces::edc("privateProperties"),
            Value::Array(vec![Value::Object(simplified::node_to_expanded(&definition.private_properties))]),
        );
    }
    node.insert(namespaces::edc("createdAt"), reader::literal(definition.created_at));
    Value::Array(vec![Value::Object(node)])
}
