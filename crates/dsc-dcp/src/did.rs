// SPDX-License-Identifier: Apache-2.0
//! Reading keys out of DID documents the caller resolved: which verification method a `kid` names, and whether
//! the document lists that method under a verification relationship.

use std::collections::HashMap;

use serde_json::Value;

use crate::jws::JwsFailure;

/// DID documents the caller resolved beforehand. Verification here is synchronous and does no I/O, so the caller
/// resolves the DIDs that [`crate::token::issuer_of`] and [`crate::presentation::dids_to_resolve`] name first.
pub trait DidDocuments {
    fn document(&self, did: &str) -> Option<&Value>;
}

impl DidDocuments for HashMap<String, Value> {
    fn document(&self, did: &str) -> Option<&Value> {
        self.get(did)
    }
}

/// The verification relationships DCP asks for: `capabilityInvocation` for self-issued tokens (DCP issue #152),
/// `authentication` for presentations, `assertionMethod` for credential issuers.
pub mod relationship {
    pub const CAPABILITY_INVOCATION: &str = "capabilityInvocation";
    pub const AUTHENTICATION: &str = "authentication";
    pub const ASSERTION_METHOD: &str = "assertionMethod";
}

/// The `serviceEndpoint` of the first service of `service_type` (`CredentialService`, `IssuerService`, ...) in a
/// DID document: where DCP finds a participant's credential service.
pub fn service_endpoint<'a>(document: &'a Value, service_type: &str) -> Option<&'a str> {
    document.get("service")?.as_array()?.iter().find_map(|service| {
        let matches = match service.get("type") {
            Some(Value::String(t)) => t == service_type,
            Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(service_type)),
            _ => false,
        };
        if matches { service.get("serviceEndpoint").and_then(Value::as_str) } else { None }
    })
}

/// The DID document of `did`; one that names another DID is not its document (DCP: `sub` = the document's `id`).
pub(crate) fn document<'a>(documents: &'a dyn DidDocuments, did: &str) -> Result<&'a Value, JwsFailure> {
    let document = documents.document(did).ok_or(JwsFailure::UnknownDid)?;
    if document.get("id").and_then(Value::as_str).is_some_and(|id| id != did) {
        return Err(JwsFailure::UnknownDid);
    }
    Ok(document)
}

/// The verification method `kid` names, by full DID URL, relative `#fragment` or bare fragment (all three occur).
pub(crate) fn method<'a>(document: &'a Value, did: &str, kid: Option<&str>) -> Result<&'a Value, JwsFailure> {
    let methods: Vec<&Value> =
        document.get("verificationMethod").and_then(Value::as_array).map(|m| m.iter().collect()).unwrap_or_default();
    match kid {
        Some(kid) => {
            let fragment = kid.strip_prefix(did).filter(|f| f.starts_with('#'));
            let Some(fragment) = fragment else { return Err(JwsFailure::KidNotOfSigner(kid.to_string())) };
            methods
                .into_iter()
                .find(|m| same_method(m.get("id").and_then(Value::as_str).unwrap_or_default(), did, fragment))
                .ok_or_else(|| JwsFailure::UnknownKey(kid.to_string()))
        }
        // DCP allows leaving out the kid only when the document has exactly one method.
        None if methods.len() == 1 => Ok(methods[0]),
        None => Err(JwsFailure::MissingKid),
    }
}

/// Whether `method` is listed under `relationship`, by reference or embedded.
pub(crate) fn is_listed_under(document: &Value, relationship: &str, did: &str, method: &Value) -> bool {
    let Some(id) = method.get("id").and_then(Value::as_str) else { return false };
    let fragment = id.strip_prefix(did).unwrap_or(id);
    let fragment = if fragment.starts_with('#') { fragment.to_string() } else { format!("#{fragment}") };
    let entries = document.get(relationship).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    entries.iter().any(|entry| {
        let entry_id = entry.as_str().or_else(|| entry.get("id").and_then(Value::as_str)).unwrap_or_default();
        same_method(entry_id, did, &fragment)
    })
}

/// Whether a method id (full, relative or bare) denotes `#fragment` of `did`.
fn same_method(id: &str, did: &str, fragment: &str) -> bool {
    id.strip_prefix(did).unwrap_or(id) == fragment || Some(id) == fragment.strip_prefix('#')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DID: &str = "did:web:a.example";

    #[test]
    fn methods_are_found_by_full_relative_or_bare_id() {
        for id in ["did:web:a.example#k", "#k", "k"] {
            let document = json!({"verificationMethod": [{"id": id}]});
            assert!(method(&document, DID, Some("did:web:a.example#k")).is_ok(), "{id}");
            assert_eq!(
                method(&document, DID, Some("did:web:a.example#other")).err(),
                Some(JwsFailure::UnknownKey("did:web:a.example#other".into()))
            );
        }
        let two = json!({"verificationMethod": [{"id": "#a"}, {"id": "#b"}]});
        assert_eq!(method(&two, DID, None).err(), Some(JwsFailure::MissingKid));
        assert!(method(&json!({"verificationMethod": [{"id": "#a"}]}), DID, None).is_ok());
        let foreign = method(&two, DID, Some("did:web:b.example#a")).err();
        assert_eq!(foreign, Some(JwsFailure::KidNotOfSigner("did:web:b.example#a".into())));
        // A kid that merely starts with the DID string is not a DID URL of it.
        let longer = method(&two, DID, Some("did:web:a.example.evil#a")).err();
        assert_eq!(longer, Some(JwsFailure::KidNotOfSigner("did:web:a.example.evil#a".into())));
    }

    #[test]
    fn relationships_list_methods_by_reference_or_embedded() {
        let key = json!({"id": "did:web:a.example#k"});
        for listed in [json!(["did:web:a.example#k"]), json!(["#k"]), json!([{"id": "did:web:a.example#k"}])] {
            let document = json!({"authentication": listed});
            assert!(is_listed_under(&document, relationship::AUTHENTICATION, DID, &key), "{listed}");
            assert!(!is_listed_under(&document, relationship::CAPABILITY_INVOCATION, DID, &key), "{listed}");
        }
        let document = json!({"authentication": ["did:web:a.example#k2"]});
        assert!(!is_listed_under(&document, relationship::AUTHENTICATION, DID, &key));
    }
}
