// SPDX-License-Identifier: Apache-2.0
use serde_json::json;

use super::*;

/// The query as EDC 0.14 sends it (reference §1.2): `@type`, two contexts, Catena-X scopes.
const EDC_QUERY: &str = r#"{"@context":["https://identity.foundation/presentation-exchange/submission/v1","https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],
 "@type":"PresentationQueryMessage",
 "scope":["org.eclipse.tractusx.vc.type:MembershipCredential:read","org.eclipse.tractusx.vc.type:DataExchangeGovernanceCredential:read",
          "org.eclipse.tractusx.vc.type:BpnCredential:read"]}"#;

/// The spec's shape (reference §3.2).
const SPEC_QUERY: &str = r#"{"@context":["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],
 "type":"PresentationQueryMessage",
 "scope":["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read"]}"#;

/// The response example (reference §1.2).
const RESPONSE: &str = r#"{"@context":["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"],"type":"PresentationResponseMessage",
 "presentation":["eyJhbGciOiJFUzI1NiIsImtpZCI6ImRpZDp3ZWI6Y29uc3VtZXIuZXhhbXBsZSNrZXktMSJ9..."]}"#;

fn query_error(value: serde_json::Value) -> String {
    PresentationQueryMessage::parse(&value.to_string())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| "accepted".into())
}

#[test]
fn the_reference_queries_parse() {
    let edc = PresentationQueryMessage::parse(EDC_QUERY).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(edc.scope.as_ref().map(Vec::len), Some(3));
    assert_eq!(edc.message_type, "PresentationQueryMessage");
    let spec = PresentationQueryMessage::parse(SPEC_QUERY).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        spec,
        PresentationQueryMessage::for_scopes(vec!["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read".into()])
    );
    // Written in the schema's form: `type`, never `@type`, and no absent fields.
    let written = serde_json::to_value(&spec).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written, serde_json::from_str::<serde_json::Value>(SPEC_QUERY).unwrap_or_else(|e| panic!("{e}")));
    let definition = json!({"@context": [DCP_CONTEXT], "type": "https://w3id.org/dspace-dcp/v1.0/PresentationQueryMessage",
        "presentationDefinition": {"id": "pd-1", "input_descriptors": []}});
    assert_eq!(query_error(definition), "accepted", "an expanded type and a presentation definition are fine");
}

#[test]
fn invalid_queries_say_why() {
    let scope = json!(["org.eclipse.edc.vc.type:MembershipCredential:read"]);
    for (query, why) in [
        (
            json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": scope, "presentationDefinition": {"id": "x"}}),
            "scope and presentationDefinition are mutually exclusive",
        ),
        (
            json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage"}),
            "one of scope and presentationDefinition is required",
        ),
        (
            json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": []}),
            "scope must not be empty",
        ),
        (
            json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": [1]}),
            "scope must be an array of strings",
        ),
        (
            json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": "a:b:read"}),
            "scope must be an array of strings",
        ),
        (
            json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "presentationDefinition": {}}),
            "presentationDefinition must be a non-empty object",
        ),
        (
            json!({"@context": ["https://w3id.org/tractusx-trust/v0.8"], "type": "PresentationQueryMessage", "scope": scope}),
            "@context must contain the DCP context",
        ),
        (
            json!({"@context": DCP_CONTEXT, "type": "PresentationResponseMessage", "scope": scope}),
            "type must be PresentationQueryMessage",
        ),
        (json!({"@context": DCP_CONTEXT, "scope": scope}), "type must be PresentationQueryMessage"),
    ] {
        assert_eq!(query_error(query), format!("invalid presentation query: {why}"));
    }
    let text = PresentationQueryMessage::parse("{").err().map(|e| e.to_string());
    assert_eq!(text.as_deref(), Some("malformed presentation query: EOF while parsing an object at line 1 column 1"));
    let text = PresentationQueryMessage::parse("[]").err().map(|e| e.to_string());
    assert_eq!(text.as_deref(), Some("malformed presentation query: not a JSON object"));
}

#[test]
fn the_reference_response_parses_and_round_trips() {
    let response = PresentationResponseMessage::parse(RESPONSE).unwrap_or_else(|e| panic!("{e}"));
    let jwts = response.jwts().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(jwts, ["eyJhbGciOiJFUzI1NiIsImtpZCI6ImRpZDp3ZWI6Y29uc3VtZXIuZXhhbXBsZSNrZXktMSJ9..."]);
    let built = PresentationResponseMessage::with_jwts(jwts.iter().map(|j| j.to_string()).collect());
    assert_eq!(built, response);
    let written = serde_json::to_value(&built).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written, serde_json::from_str::<serde_json::Value>(RESPONSE).unwrap_or_else(|e| panic!("{e}")));
}

#[test]
fn invalid_responses_say_why() {
    let error = |value: serde_json::Value| {
        PresentationResponseMessage::parse(&value.to_string()).err().map(|e| e.to_string()).unwrap_or_default()
    };
    let base = |presentation: serde_json::Value| json!({"@context": [DCP_CONTEXT], "@type": "PresentationResponseMessage", "presentation": presentation});
    assert_eq!(error(base(json!([]))), "invalid presentation response: presentation must not be empty");
    assert_eq!(error(base(json!(null))), "invalid presentation response: presentation is required");
    assert_eq!(
        error(base(json!([1]))),
        "invalid presentation response: a presentation must be a JWT string or an object"
    );
    assert_eq!(
        error(json!({"@context": [DCP_CONTEXT], "type": "PresentationQueryMessage", "presentation": ["a"]})),
        "invalid presentation response: type must be PresentationResponseMessage"
    );
    assert_eq!(
        error(json!({"type": "PresentationResponseMessage", "presentation": ["a"]})),
        "invalid presentation response: @context must contain the DCP context"
    );
    let single = PresentationResponseMessage::parse(&base(json!("a.b.c")).to_string()).map(|r| r.presentation.len());
    assert_eq!(single, Ok(1), "a single presentation outside an array is accepted");
    let json_ld = PresentationResponseMessage::parse(&base(json!([{"type": "VerifiablePresentation"}])).to_string());
    let text = json_ld.and_then(|r| r.jwts().map(|_| ())).err().map(|e| e.to_string());
    assert_eq!(text.as_deref(), Some("invalid presentation response: JSON-LD presentations are not supported"));
}
