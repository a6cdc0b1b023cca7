// SPDX-License-Identifier: Apache-2.0
//! JSON lines as the tools exchange them: bare payloads, or `dsc consume` lines that carry the payload in `value`.

use serde_json::Value;

/// The payload of a line: the `value` of a `dsc consume` line (recognised by its `partition` and `offset`), the
/// line itself otherwise.
pub fn payload_of(line: &Value) -> &Value {
    match line.get("value") {
        Some(inner) if line.get("offset").is_some() && line.get("partition").is_some() => inner,
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consume_lines_are_read_by_their_value() {
        let line = serde_json::json!({"topic": "t", "partition": 0, "offset": 3, "value": {"catenaXId": "x"}});
        assert_eq!(payload_of(&line), &serde_json::json!({"catenaXId": "x"}));
        let payload = serde_json::json!({"value": 1});
        assert_eq!(payload_of(&payload), &payload);
    }
}
