// SPDX-License-Identifier: Apache-2.0
//! Property maps in "simplified expanded" form.
//!
//! Keys are full IRIs. A value is the JSON-LD expanded value reduced to what a query can compare:
//! `[{"@value": "x"}]` becomes `"x"`, `[{"@id": "i"}]` stays `{"@id": "i"}`, a nested node becomes an object whose
//! keys are again full IRIs, several values become an array. Typed or language-tagged literals keep their
//! `{"@value": .., "@type"/"@language": ..}` object so that nothing is lost on the way back out.

use serde_json::{Map, Value};

pub type Properties = Map<String, Value>;

/// Reads a property as a string when it is a plain string literal.
pub fn str_value<'a>(properties: &'a Properties, key: &str) -> Option<&'a str> {
    match properties.get(key)? {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("@value").and_then(Value::as_str),
        _ => None,
    }
}

/// Follows a path of keys into nested objects.
pub fn lookup<'a>(properties: &'a Properties, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut current = properties.get(first)?;
    for key in rest {
        current = current.as_object()?.get(key)?;
    }
    Some(current)
}
