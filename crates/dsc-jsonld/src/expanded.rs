// SPDX-License-Identifier: Apache-2.0
//! Read access to expanded JSON-LD nodes.
//!
//! After expansion every property value is an array of value objects (`{"@value": ..}`), node references
//! (`{"@id": ..}`), nested nodes or lists; `@type` is an array of IRIs. These helpers hide that shape.

use serde_json::{Map, Value};

pub type Node = Map<String, Value>;

/// The single top-level node of an expanded document, if there is exactly one.
pub fn single_node(expanded: &Value) -> Option<&Node> {
    match expanded {
        Value::Array(items) if items.len() == 1 => items[0].as_object(),
        Value::Object(object) => Some(object),
        _ => None,
    }
}

pub fn id(node: &Node) -> Option<&str> {
    node.get("@id").and_then(Value::as_str)
}

pub fn types(node: &Node) -> Vec<&str> {
    match node.get("@type") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(single)) => vec![single.as_str()],
        _ => Vec::new(),
    }
}

/// All values of a property (empty when absent).
pub fn values<'a>(node: &'a Node, iri: &str) -> &'a [Value] {
    match node.get(iri) {
        Some(Value::Array(items)) => items.as_slice(),
        Some(single) => std::slice::from_ref(single),
        None => &[],
    }
}

/// The first value of a property as a string: the literal of a value object or the IRI of a node reference.
pub fn first_str<'a>(node: &'a Node, iri: &str) -> Option<&'a str> {
    values(node, iri).first().and_then(value_str)
}

/// The first nested node of a property.
pub fn first_node<'a>(node: &'a Node, iri: &str) -> Option<&'a Node> {
    values(node, iri).first().and_then(Value::as_object)
}

/// Every value of a property that is a node object (value objects are skipped).
pub fn nodes<'a>(node: &'a Node, iri: &str) -> impl Iterator<Item = &'a Node> {
    values(node, iri).iter().filter_map(|v| v.as_object()).filter(|o| !o.contains_key("@value"))
}

/// A value object's literal or a node reference's IRI, as a string.
pub fn value_str(value: &Value) -> Option<&str> {
    let object = value.as_object()?;
    match object.get("@value") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => None,
        None => object.get("@id").and_then(Value::as_str),
    }
}

/// A value object's literal, whatever its JSON type.
pub fn literal(value: &Value) -> Option<&Value> {
    value.as_object()?.get("@value")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_values_and_references() {
        let doc = json!([{ "@id": "a", "@type": ["T"], "p": [{"@value": "x"}], "r": [{"@id": "i"}], "n": [{"q": [{"@value": 1}]}] }]);
        let node = single_node(&doc).unwrap_or_else(|| panic!("one node"));
        assert_eq!(id(node), Some("a"));
        assert_eq!(types(node), vec!["T"]);
        assert_eq!(first_str(node, "p"), Some("x"));
        assert_eq!(first_str(node, "r"), Some("i"));
        assert_eq!(first_str(node, "missing"), None);
        assert_eq!(nodes(node, "n").count(), 1);
        assert_eq!(nodes(node, "p").count(), 0);
        assert_eq!(literal(&values(first_node(node, "n").unwrap_or_else(|| panic!()), "q")[0]), Some(&json!(1)));
    }
}
