// SPDX-License-Identifier: Apache-2.0
//! Parts that negotiation and transfer request bodies share: mandatory text fields, callback addresses and the
//! reason of a terminate or suspend request.

use dsc_domain::{CallbackAddress, Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use serde_json::{Map, Value, json};

use crate::reader::{self, Violations};

fn edc(local: &str) -> String {
    namespaces::edc(local)
}

/// A mandatory EDC-namespace text field, trimmed: peers and scripts send addresses and ids with stray blanks.
pub(crate) fn mandatory_trimmed(node: &Node, local: &str, violations: &mut Violations) -> Option<String> {
    let iri = edc(local);
    match expanded::first_str(node, &iri).map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => Some(value.to_string()),
        None => {
            violations.push(Violation::mandatory_value(&iri));
            None
        }
    }
}

/// An optional EDC-namespace text field.
pub(crate) fn optional(node: &Node, local: &str) -> Option<String> {
    expanded::first_str(node, &edc(local)).map(str::to_string)
}

/// `callbackAddresses` of a request: where to send the process's events. Only valid entries are returned; each
/// problem is recorded with the entry's index in its path.
pub fn callback_addresses_from_expanded(node: &Node, violations: &mut Violations) -> Vec<CallbackAddress> {
    let list_iri = edc("callbackAddresses");
    expanded::nodes(node, &list_iri)
        .enumerate()
        .filter_map(|(index, callback)| {
            let path = |local: &str| format!("{list_iri}[{index}]/{}", edc(local));
            let text = |local: &str| expanded::first_str(callback, &edc(local)).map(str::to_string);
            let uri = text("uri").filter(|u| u.starts_with("http://") || u.starts_with("https://"));
            let events: Vec<String> = expanded::values(callback, &edc("events"))
                .iter()
                .filter_map(|v| expanded::value_str(v).map(str::to_string))
                .collect();
            let transactional = expanded::values(callback, &edc("transactional"))
                .first()
                .and_then(expanded::literal)
                .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true"));
            let (auth_key, auth_code_id) = (text("authKey"), text("authCodeId"));
            let before = violations.len();
            if uri.is_none() {
                violations.push(Violation::new("uri must be an http(s) URL", path("uri")));
            }
            if events.is_empty() {
                violations.push(Violation::mandatory_value(&path("events")));
            }
            if transactional {
                violations.push(Violation::new(
                    "transactional callbacks are not supported: events are delivered after the state change is saved",
                    path("transactional"),
                ));
            }
            if auth_key.is_some() && auth_code_id.is_none() {
                violations.push(Violation::new(
                    "authKey needs authCodeId (the vault key of the header value)",
                    path("authCodeId"),
                ));
            }
            (violations.len() == before).then(|| CallbackAddress {
                uri: uri.unwrap_or_default(),
                events,
                transactional,
                auth_key,
                auth_code_id,
            })
        })
        .collect()
}

/// The value of a `callbackAddresses` property. `authCodeId` names a vault key, so no secret leaves this way.
pub fn callback_addresses_to_expanded(callbacks: &[CallbackAddress]) -> Value {
    Value::Array(
        callbacks
            .iter()
            .map(|c| {
                let mut callback = Map::new();
                callback.insert("@type".into(), json!([edc("CallbackAddress")]));
                callback.insert(edc("uri"), reader::literal(c.uri.clone()));
                callback.insert(edc("events"), Value::Array(c.events.iter().map(|e| json!({ "@value": e })).collect()));
                callback.insert(edc("transactional"), reader::literal(c.transactional));
                if let Some(key) = &c.auth_key {
                    callback.insert(edc("authKey"), reader::literal(key.clone()));
                }
                if let Some(code) = &c.auth_code_id {
                    callback.insert(edc("authCodeId"), reader::literal(code.clone()));
                }
                Value::Object(callback)
            })
            .collect(),
    )
}

/// The `reason` of a terminate or suspend request; `default` when the body (which is optional) gives none.
pub fn reason_from_expanded(node: Option<&Node>, default: &str) -> String {
    node.and_then(|node| expanded::first_str(node, &edc("reason"))).unwrap_or(default).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(value: Value) -> Node {
        value.as_object().cloned().unwrap_or_default()
    }

    fn with_callbacks(callbacks: Value) -> Node {
        node(json!({ edc("callbackAddresses"): callbacks }))
    }

    fn path(index: usize, local: &str) -> String {
        format!("{}[{index}]/{}", edc("callbackAddresses"), edc(local))
    }

    #[test]
    fn every_bad_callback_is_reported_with_its_index() {
        let mut violations = Vec::new();
        let read = callback_addresses_from_expanded(
            &with_callbacks(json!([
                { edc("uri"): [{"@value": "ftp://hooks"}], edc("events"): [{"@value": "contract.negotiation"}] },
                { edc("uri"): [{"@value": "https://hooks"}], edc("transactional"): [{"@value": true}],
                  edc("authKey"): [{"@value": "X-Key"}] },
                { edc("uri"): [{"@value": "https://hooks"}], edc("events"): [{"@value": "transfer.process"}] }
            ])),
            &mut violations,
        );
        let found: Vec<_> =
            violations.iter().map(|v| (v.message.as_str(), v.path.clone().unwrap_or_default())).collect();
        assert_eq!(
            found,
            vec![
                ("uri must be an http(s) URL", path(0, "uri")),
                (
                    format!("mandatory value '{}' is missing or it is blank", path(1, "events")).as_str(),
                    path(1, "events")
                ),
                (
                    "transactional callbacks are not supported: events are delivered after the state change is saved",
                    path(1, "transactional")
                ),
                ("authKey needs authCodeId (the vault key of the header value)", path(1, "authCodeId")),
            ]
        );
        assert_eq!(read.len(), 1, "the valid entry is still read");
        assert_eq!(read[0].events, vec!["transfer.process".to_string()]);
    }

    #[test]
    fn callbacks_round_trip() {
        let callbacks = vec![
            CallbackAddress {
                uri: "https://hooks.example/a".into(),
                events: vec!["contract.negotiation".into(), "transfer.process.started".into()],
                transactional: false,
                auth_key: Some("X-Hook-Key".into()),
                auth_code_id: Some("hook-secret".into()),
            },
            CallbackAddress {
                uri: "http://hooks.example/b".into(),
                events: vec!["transfer.process".into()],
                transactional: false,
                auth_key: None,
                auth_code_id: None,
            },
        ];
        let mut violations = Vec::new();
        let again = callback_addresses_from_expanded(
            &with_callbacks(callback_addresses_to_expanded(&callbacks)),
            &mut violations,
        );
        assert_eq!(violations, Vec::new());
        assert_eq!(again, callbacks);
    }

    #[test]
    fn the_reason_defaults_when_absent() {
        assert_eq!(reason_from_expanded(None, "by default"), "by default");
        assert_eq!(reason_from_expanded(Some(&Node::new()), "by default"), "by default");
        let given = node(json!({ edc("reason"): [{"@value": "maintenance"}] }));
        assert_eq!(reason_from_expanded(Some(&given), "by default"), "maintenance");
    }

    #[test]
    fn mandatory_text_is_trimmed_and_blank_is_missing() {
        let mut violations = Vec::new();
        let given = node(json!({ edc("protocol"): [{"@value": " dsp "}], edc("contractId"): [{"@value": "  "}] }));
        assert_eq!(mandatory_trimmed(&given, "protocol", &mut violations).as_deref(), Some("dsp"));
        assert_eq!(mandatory_trimmed(&given, "contractId", &mut violations), None);
        assert_eq!(violations, vec![Violation::mandatory_value(&edc("contractId"))]);
    }
}
