// SPDX-License-Identifier: Apache-2.0
//! Shared helpers for reading expanded nodes while collecting violations.

use dsc_domain::Violation;
use dsc_domain::namespaces;
use dsc_domain::validation::join_path;
use dsc_jsonld::expanded::{self, Node};
use serde_json::Value;

pub type Violations = Vec<Violation>;

/// Checks `@type` when present: it must contain `expected` (a full IRI).
pub(crate) fn check_type(node: &Node, expected: &str, path: &str, violations: &mut Violations) {
    let types = expanded::types(node);
    if !types.is_empty() && !types.contains(&expected) {
        violations.push(
            Violation::new(
                format!("@type was expected to be '{expected}' but was {types:?}"),
                join_path(path, "@type"),
            )
            .with_value(Value::from(types)),
        );
    }
}

/// The entity id: `@id` when given (must not be blank), otherwise a new UUID.
pub(crate) fn id_or_new(node: &Node, path: &str, violations: &mut Violations) -> String {
    match node.get("@id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(other) => {
            violations.push(Violation::new("@id must not be blank", join_path(path, "@id")).with_value(other.clone()));
            String::new()
        }
        None => uuid::Uuid::new_v4().to_string(),
    }
}

/// A mandatory string property in the EDC namespace.
pub(crate) fn mandatory_str(node: &Node, local: &str, path: &str, violations: &mut Violations) -> String {
    let iri = namespaces::edc(local);
    match expanded::first_str(node, &iri) {
        Some(value) if !value.trim().is_empty() => value.to_string(),
        _ => {
            violations.push(Violation::mandatory_value(&join_path(path, &iri)));
            String::new()
        }
    }
}

/// An optional nested node in the EDC namespace whose properties are kept as a simplified map.
pub(crate) fn property_map(node: &Node, local: &str) -> dsc_domain::Properties {
    expanded::first_node(node, &namespaces::edc(local)).map(dsc_jsonld::simplified::simplify_node).unwrap_or_default()
}

/// An expanded value object with the given literal.
pub(crate) fn literal(value: impl Into<Value>) -> Value {
    Value::Array(vec![serde_json::json!({ "@value": value.into() })])
}

/// An expanded node reference.
pub(crate) fn reference(iri: &str) -> Value {
    Value::Array(vec![serde_json::json!({ "@id": iri })])
}
