// SPDX-License-Identifier: Apache-2.0
//! Conversion between expanded JSON-LD property values and the "simplified expanded" form the domain stores
//! (see `dsc_domain::property`). `to_expanded(simplify(x))` gives back `x` up to array collapsing, which JSON-LD
//! compaction does anyway.

use serde_json::{Map, Value};

/// Simplifies the values of one property.
pub fn simplify(values: &[Value]) -> Value {
    match values {
        [single] => simplify_one(single),
        many => Value::Array(many.iter().map(simplify_one).collect()),
    }
}

fn simplify_one(value: &Value) -> Value {
    let Value::Object(object) = value else { return value.clone() };
    if let Some(literal) = object.get("@value") {
        let plain = object.keys().all(|k| k == "@value");
        return if plain { literal.clone() } else { value.clone() };
    }
    if let Some(Value::Array(items)) = object.get("@list") {
        return Value::Array(items.iter().map(simplify_one).collect());
    }
    let mut out = Map::new();
    for (key, child) in object {
        let simplified = match (key.as_str(), child) {
            ("@id", _) | ("@type", _) => child.clone(),
            (_, Value::Array(items)) => simplify(items),
            _ => simplify_one(child),
        };
        out.insert(key.clone(), simplified);
    }
    Value::Object(out)
}

/// Simplifies every property of a node, skipping JSON-LD keywords.
pub fn simplify_node(node: &Map<String, Value>) -> Map<String, Value> {
    node.iter()
        .filter(|(key, _)| !key.starts_with('@'))
        .map(|(key, value)| {
            let values = match value {
                Value::Array(items) => items.as_slice(),
                single => std::slice::from_ref(single),
            };
            (key.clone(), simplify(values))
        })
        .collect()
}

/// Turns a simplified value back into expanded property values.
pub fn to_expanded(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.iter().flat_map(to_expanded).collect(),
        Value::Object(object) if object.contains_key("@value") => vec![value.clone()],
        Value::Object(object) => {
            let mut node = Map::new();
            for (key, child) in object {
                match key.as_str() {
                    "@id" | "@type" => {
                        node.insert(key.clone(), child.clone());
                    }
                    _ => {
                        node.insert(key.clone(), Value::Array(to_expanded(child)));
                    }
                }
            }
            vec![Value::Object(node)]
        }
        Value::Null => Vec::new(),
        literal => vec![serde_json::json!({ "@value": literal })],
    }
}

/// Turns a simplified property map back into the properties of an expanded node.
pub fn node_to_expanded(properties: &Map<String, Value>) -> Map<String, Value> {
    properties.iter().map(|(key, value)| (key.clone(), Value::Array(to_expanded(value)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literals_references_and_nested_nodes_simplify() {
        assert_eq!(simplify(&[json!({"@value": "x"})]), json!("x"));
        assert_eq!(simplify(&[json!({"@value": 3})]), json!(3));
        assert_eq!(simplify(&[json!({"@id": "urn:a"})]), json!({"@id": "urn:a"}));
        assert_eq!(simplify(&[json!({"@value": "x"}), json!({"@value": "y"})]), json!(["x", "y"]));
        assert_eq!(
            simplify(&[json!({"@value": "2024-01-01", "@type": "xsd:date"})]),
            json!({"@value": "2024-01-01", "@type": "xsd:date"})
        );
        assert_eq!(simplify(&[json!({"k": [{"@value": true}]})]), json!({"k": true}));
        assert_eq!(simplify(&[json!({"@list": [{"@value": 1}, {"@value": 2}]})]), json!([1, 2]));
    }

    #[test]
    fn expanded_form_round_trips() {
        let expanded = json!({
            "https://e/p": [{"@value": "x"}],
            "https://e/r": [{"@id": "urn:a"}],
            "https://e/n": [{"@type": ["https://e/T"], "https://e/k": [{"@value": 1}, {"@value": 2}]}]
        });
        let node = expanded.as_object().cloned().unwrap_or_default();
        let simplified = simplify_node(&node);
        assert_eq!(Value::Object(node_to_expanded(&simplified)), expanded);
    }
}
