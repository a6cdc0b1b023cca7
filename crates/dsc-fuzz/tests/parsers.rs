// SPDX-License-Identifier: Apache-2.0
//! Every parser an outsider reaches, driven by generated inputs: random JSON shaped like what each one reads (full
//! IRIs of the EDC, ODRL and DSP vocabularies, JSON-LD keywords, DIDs, JWT-looking strings), and valid artifacts
//! mutated byte by byte. The property is the same everywhere: an answer (accepted or refused), never a panic.
//! `DSC_FUZZ_CASES` sets the inputs per target (default 1000); each target prints how many it tried.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dsc_dcp::credential::{CredentialDraft, CredentialIssuer, CredentialVerifier, Profile, TrustedIssuers};
use dsc_dcp::presentation::{PresentationBuilder, PresentationVerifier, dids_to_resolve};
use dsc_dcp::query::{PresentationQueryMessage, PresentationResponseMessage};
use dsc_dcp::status::{StatusList, decode_bitstring};
use dsc_dcp::token::{InMemoryJtiCache, TokenBuilder, TokenVerifier};
use dsc_dcp::{SigningKey, credential::Credential};
use dsc_domain::clock::{Clock, SystemClock};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
const DSPACE: &str = "https://w3id.org/dspace/2025/1/";

fn cases() -> u32 {
    std::env::var("DSC_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1000)
}

/// Runs `property` on `cases()` inputs of `strategy`; a panic inside fails the test with the shrunk input.
fn fuzz<S: Strategy>(target: &str, strategy: S, property: impl Fn(S::Value))
where
    S::Value: std::fmt::Debug,
{
    let config = Config { cases: cases(), failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        property(input);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{target}: {error}");
    }
    println!("fuzz {target}: {} inputs, no panic", cases());
}

/// Strings a parser would look at twice.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("@id".to_string()),
        Just("did:web:a.example".to_string()),
        Just("did:web:127.0.0.1%3A1:x".to_string()),
        Just("eyJhbGciOiJFUzI1NiJ9.e30.c2ln".to_string()),
        Just("urn:uuid:1".to_string()),
        Just("BPNL000000000001".to_string()),
        Just("-1".to_string()),
        Just("2026-13-45T99:99:99Z".to_string()),
        Just("PT0.5S".to_string()),
        Just("\u{0}\u{ffff}".to_string()),
        Just(format!("{EDC}id")),
        Just(format!("{ODRL}use")),
        "[ -~]{0,24}",
        "\\PC{0,12}",
        // Percent-escapes, valid UTF-8 or not: the JSON-LD library once panicked on `%80` in an IRI.
        "[a-z:]{0,6}(%[0-9A-F]{2}){1,3}",
    ]
}

/// Keys: JSON-LD keywords and the IRIs the transforms read.
fn interesting_key() -> impl Strategy<Value = String> {
    let iris: Vec<String> = ["@id", "@type", "@value", "@context", "@list", "@graph", "@vocab", "@language"]
        .iter()
        .map(|k| k.to_string())
        .chain(
            [
                "properties",
                "privateProperties",
                "dataAddress",
                "type",
                "baseUrl",
                "policy",
                "accessPolicyId",
                "contractPolicyId",
                "assetsSelector",
                "operandLeft",
                "operator",
                "operandRight",
                "counterPartyAddress",
                "counterPartyId",
                "protocol",
                "contractId",
                "transferType",
                "dataDestination",
                "callbackAddresses",
                "offset",
                "limit",
                "sortField",
                "sortOrder",
                "filterExpression",
                "topic",
                "kafka.bootstrap.servers",
                "kafka.security.protocol",
                "kafka.sasl.mechanism",
                "kafka.poll.duration",
                "uri",
                "events",
            ]
            .iter()
            .map(|k| format!("{EDC}{k}")),
        )
        .chain(
            [
                "permission",
                "prohibition",
                "obligation",
                "constraint",
                "leftOperand",
                "rightOperand",
                "operator",
                "action",
                "target",
                "assigner",
                "and",
                "or",
                "xone",
                "duty",
            ]
            .iter()
            .map(|k| format!("{ODRL}{k}")),
        )
        .chain(
            ["consumerPid", "providerPid", "agreementId", "format", "callbackAddress", "offer"]
                .iter()
                .map(|k| format!("{DSPACE}{k}")),
        )
        .collect();
    prop_oneof![4 => proptest::sample::select(iris), 1 => "[a-z@:/.]{0,12}", 1 => "[a-z]{0,4}(%[0-9A-F]{2}){1,2}"]
}

fn json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
        interesting_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((interesting_key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A byte-level mutation of a valid text: replace, insert or delete at random places, or truncate.
fn mutated(valid: String) -> impl Strategy<Value = String> {
    let len = valid.len().max(1);
    proptest::collection::vec((0..len, any::<u8>(), 0u8..4), 1..6).prop_map(move |edits| {
        let mut bytes = valid.clone().into_bytes();
        for (at, byte, kind) in edits {
            let at = at.min(bytes.len());
            match kind {
                0 if at < bytes.len() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                2 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ => bytes.truncate(at),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn expanded_node() -> impl Strategy<Value = Map<String, Value>> {
    json(4).prop_map(|value| match value {
        Value::Object(map) => map,
        other => Map::from_iter([(format!("{EDC}properties"), json!([other]))]),
    })
}

#[test]
fn management_and_protocol_bodies_after_expansion() {
    let validators = {
        let mut validators = dsc_domain::DataAddressValidators::new();
        validators.register(Arc::new(dsc_kafka_pull::KafkaBrokerValidator)).unwrap();
        validators
    };
    fuzz("transforms of expanded nodes", expanded_node(), |node| {
        let _ = dsc_transform::asset::asset_from_expanded(&node, &validators);
        let _ = dsc_transform::policy_definition::policy_definition_from_expanded(&node);
        let _ = dsc_transform::policy::policy_from_expanded(&node, "policy");
        let _ = dsc_transform::contract_definition::contract_definition_from_expanded(&node);
        let _ = dsc_transform::contract_request::contract_request_from_expanded(&node);
        let _ = dsc_transform::catalog::catalog_request_from_expanded(&node);
        let _ = dsc_transform::catalog::dataset_request_from_expanded(&node);
        let _ = dsc_transform::query::query_spec_from_expanded(Some(&node));
        let _ = dsc_transform::transfer::transfer_request_from_expanded(&node);
    });
}

#[test]
fn json_ld_expansion_of_any_document() {
    let jsonld = dsc_jsonld::JsonLd::new().unwrap();
    let contexts = prop_oneof![
        Just(json!({ "@vocab": EDC })),
        Just(json!("https://w3id.org/dspace/2025/1/context.jsonld")),
        Just(json!(["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }])),
        Just(json!("https://unknown.example/context.jsonld")),
        json(2),
    ];
    fuzz("JSON-LD expansion", (contexts, json(4)), |(context, body)| {
        let mut document = match body {
            Value::Object(map) => Value::Object(map),
            other => json!({ "value": other }),
        };
        document["@context"] = context;
        if let Ok(expanded) = jsonld.expand(document) {
            let _ = dsc_jsonld::expanded::single_node(&expanded);
        }
    });
}

struct Party {
    did: String,
    key: SigningKey,
    document: Value,
}

fn party(name: &str) -> Party {
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let did = format!("did:web:{name}.example");
    let secret = p256::SecretKey::from_bytes(&[7u8; 32].into()).unwrap();
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let kid = format!("{did}#key-1");
    let key = SigningKey::es256_from_pem(&did, &kid, pem.as_bytes()).unwrap();
    let jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
    let document = json!({ "id": did, "verificationMethod": [{ "id": kid, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk }] });
    Party { did, key, document }
}

/// A compact JWS whose payload is `payload` (signature not valid): what a parser sees before verification.
fn unsigned_jwt(payload: &Value) -> String {
    format!(
        "eyJhbGciOiJFUzI1NiIsImtpZCI6ImRpZDp3ZWI6YS5leGFtcGxlI2tleS0xIn0.{}.c2ln",
        URL_SAFE_NO_PAD.encode(payload.to_string())
    )
}

#[test]
fn dcp_tokens_presentations_and_credentials() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (holder, issuer, verifier) = (party("holder"), party("issuer"), party("verifier"));
    let documents: HashMap<String, Value> =
        [&holder, &issuer, &verifier].iter().map(|p| (p.did.clone(), p.document.clone())).collect();
    let now = clock.now_seconds();
    let draft = CredentialDraft {
        id: "urn:uuid:m".into(),
        types: vec!["MembershipCredential".into()],
        holder: holder.did.clone(),
        subject: Map::new(),
        valid_from: now - 10,
        valid_until: now + 3600,
        status: Some(json!({"type": "StatusList2021Entry", "statusPurpose": "revocation", "statusListIndex": "3",
            "statusListCredential": "http://issuer.example/status"})),
        contexts: vec![],
    };
    let credential = CredentialIssuer::new(issuer.key.clone()).issue(Profile::Vc11Sl2021Jwt, &draft).unwrap();
    let presentation = PresentationBuilder::new(holder.key.clone(), clock.clone())
        .build(Profile::Vc11Sl2021Jwt, &verifier.did, std::slice::from_ref(&credential))
        .unwrap();
    let token = TokenBuilder::new(holder.key.clone(), clock.clone()).build(&verifier.did, Some("access")).unwrap();

    let tokens = TokenVerifier::new(&verifier.did, clock.clone(), Arc::new(InMemoryJtiCache::default()));
    let presentations = PresentationVerifier::new(
        &verifier.did,
        CredentialVerifier::new(TrustedIssuers::default().trust_all_types(&issuer.did), clock.clone()),
        clock.clone(),
    );
    let jwt_like = prop_oneof![
        mutated(token.clone()),
        mutated(presentation.clone()),
        mutated(credential.clone()),
        json(4).prop_map(|payload| unsigned_jwt(&payload)),
        json(3).prop_map(|vc| unsigned_jwt(&json!({ "iss": "did:web:a.example", "vc": vc }))),
        json(3).prop_map(|vp| unsigned_jwt(&json!({ "iss": "did:web:a.example", "vp": vp }))),
        interesting_string(),
    ];
    fuzz("DCP tokens, presentations, credentials", jwt_like, |text| {
        let _ = tokens.verify(&text, &documents);
        let _ = dsc_dcp::token::issuer_of(&text);
        let _ = presentations.verify(&text, &holder.did, &documents);
        let _ = dids_to_resolve(&text);
        let _ = Credential::from_jwt(&text, "#0");
    });
}

#[test]
fn dcp_messages_and_status_lists() {
    let valid_query =
        json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationQueryMessage",
        "scope": ["org.eclipse.edc.vc.type:MembershipCredential:read"]})
        .to_string();
    let valid_list = json!({"credentialSubject": {"statusPurpose": "revocation",
        "encodedList": "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"}})
    .to_string();
    let text = prop_oneof![
        mutated(valid_query),
        mutated(valid_list),
        json(4).prop_map(|v| v.to_string()),
        json(3).prop_map(|v| json!({"@context": ["https://w3id.org/dspace-dcp/v1.0/dcp.jsonld"], "type": "PresentationResponseMessage", "presentation": v}).to_string()),
        json(3).prop_map(|v| json!({"credentialSubject": v}).to_string()),
        interesting_string(),
    ];
    fuzz("DCP query and response messages, status lists", text, |text| {
        let _ = PresentationQueryMessage::parse(&text);
        if let Ok(response) = PresentationResponseMessage::parse(&text) {
            let _ = response.jwts();
        }
        let _ = StatusList::parse(&text);
        let _ = decode_bitstring(&text);
        let _ = dsc_dcp::scope::Scope::parse(&text);
    });
}

/// The harness itself: a property that panics on some input fails the target (else the targets above prove nothing).
#[test]
#[should_panic(expected = "a parser that panics")]
fn a_panicking_parser_fails_its_target() {
    fuzz("a parser that panics", json(2), |value| {
        if value.is_array() {
            panic!("arrays are not handled");
        }
    });
}
