// SPDX-License-Identifier: Apache-2.0
//! The bundled contexts and the processor against the wire examples of the protocol reference: DSP 2025-1
//! messages, the older prefix dialect, and Management API bodies.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_jsonld::expanded::{self, single_node};
use dsc_jsonld::{CompactionContext, JsonLd, JsonLdError};
use serde_json::{Value, json};

const DSP: &str = "https://w3id.org/dspace/2025/1/";
const ODRL: &str = "http://www.w3.org/ns/odrl/2/";
const CX: &str = "https://w3id.org/catenax/2025/9/policy/";

fn processor() -> JsonLd {
    JsonLd::new().expect("bundled contexts must load")
}

fn expand(document: Value) -> Value {
    processor().expand(document).expect("expansion failed")
}

fn contract_request_2025() -> Value {
    json!({
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld", "https://w3id.org/catenax/2025/9/policy/context.jsonld"],
        "@id": "urn:uuid:0d9d8e1e-1d0a-4a6b-9f0e-3c7a2f1e9b11",
        "@type": "ContractRequestMessage",
        "consumerPid": "urn:uuid:7c1e2a44-5b4e-4b7e-8f5e-2f8d8f0c1a22",
        "callbackAddress": "https://consumer.example/api/v1/dsp/2025-1",
        "offer": { "@id": "Y2QtZ29sZA==:YXNzZXQtMQ==:ZjFj", "@type": "Offer", "target": "asset-1",
                   "assigner": "did:web:provider.example",
                   "permission": [{ "action": "use", "constraint": [
                       { "leftOperand": "FrameworkAgreement", "operator": "eq", "rightOperand": "DataExchangeGovernance:1.0" }] }] }
    })
}

#[test]
fn dsp_2025_contract_request_expands_to_full_iris() {
    let expanded = expand(contract_request_2025());
    let node = single_node(&expanded).unwrap_or_else(|| panic!("one node"));
    assert_eq!(expanded::types(node), vec![format!("{DSP}ContractRequestMessage")]);
    assert_eq!(
        expanded::first_str(node, &format!("{DSP}consumerPid")),
        Some("urn:uuid:7c1e2a44-5b4e-4b7e-8f5e-2f8d8f0c1a22")
    );
    assert_eq!(
        expanded::first_str(node, &format!("{DSP}callbackAddress")),
        Some("https://consumer.example/api/v1/dsp/2025-1")
    );
    let offer = expanded::first_node(node, &format!("{ODRL}hasPolicy"))
        .or_else(|| expanded::first_node(node, &format!("{DSP}offer")))
        .unwrap_or_else(|| panic!("offer missing: {expanded}"));
    assert_eq!(expanded::types(offer), vec![format!("{ODRL}Offer")]);
    assert_eq!(expanded::first_str(offer, &format!("{ODRL}target")), Some("asset-1"));
    assert_eq!(expanded::first_str(offer, &format!("{ODRL}assigner")), Some("did:web:provider.example"));
    let permission = expanded::first_node(offer, &format!("{ODRL}permission")).unwrap_or_else(|| panic!("permission"));
    assert_eq!(expanded::first_str(permission, &format!("{ODRL}action")), Some(format!("{ODRL}use").as_str()));
    let constraint =
        expanded::first_node(permission, &format!("{ODRL}constraint")).unwrap_or_else(|| panic!("constraint"));
    assert_eq!(
        expanded::first_str(constraint, &format!("{ODRL}leftOperand")),
        Some(format!("{CX}FrameworkAgreement").as_str())
    );
    assert_eq!(expanded::first_str(constraint, &format!("{ODRL}operator")), Some(format!("{ODRL}eq").as_str()));
    assert_eq!(expanded::first_str(constraint, &format!("{ODRL}rightOperand")), Some("DataExchangeGovernance:1.0"));
}

#[test]
fn enum_values_expand_into_the_dsp_namespace() {
    let expanded = expand(json!({
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@type": "ContractNegotiationEventMessage", "providerPid": "p", "consumerPid": "c", "eventType": "FINALIZED"
    }));
    let node = single_node(&expanded).unwrap_or_else(|| panic!("one node"));
    assert_eq!(expanded::first_str(node, &format!("{DSP}eventType")), Some(format!("{DSP}FINALIZED").as_str()));
}

#[test]
fn the_prefix_dialect_and_the_2025_dialect_mean_the_same_policy() {
    let dialect_08 = json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/", "odrl": ODRL, "cx-policy": CX },
        "@type": "odrl:Offer", "@id": "offer-1",
        "odrl:permission": { "odrl:action": { "@id": "odrl:use" },
            "odrl:constraint": { "odrl:leftOperand": { "@id": "cx-policy:FrameworkAgreement" },
                                 "odrl:operator": { "@id": "odrl:eq" }, "odrl:rightOperand": "DataExchangeGovernance:1.0" } }
    });
    // Outside a message, ODRL terms need the DSP ODRL profile next to the DSP context.
    let dialect_2025 = json!({
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld", "https://w3id.org/dspace/2025/1/odrl-profile.jsonld",
                     "https://w3id.org/catenax/2025/9/policy/context.jsonld"],
        "@type": "Offer", "@id": "offer-1",
        "permission": [{ "action": "use", "constraint": [
            { "leftOperand": "FrameworkAgreement", "operator": "eq", "rightOperand": "DataExchangeGovernance:1.0" }] }]
    });
    assert_eq!(expand(dialect_08), expand(dialect_2025));
}

#[test]
fn management_policy_with_the_w3c_odrl_context() {
    let expanded = expand(json!({
        "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@type": "PolicyDefinition", "@id": "p",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set",
                    "permission": [{ "action": "use", "constraint": [{ "leftOperand": "https://w3id.org/edc/v0.0.1/ns/inForceDate",
                                                                       "operator": "gteq", "rightOperand": "contractAgreement+0s" }] }] }
    }));
    let node = single_node(&expanded).unwrap_or_else(|| panic!("one node"));
    let policy =
        expanded::first_node(node, "https://w3id.org/edc/v0.0.1/ns/policy").unwrap_or_else(|| panic!("policy"));
    assert_eq!(expanded::types(policy), vec![format!("{ODRL}Set")]);
    let permission = expanded::first_node(policy, &format!("{ODRL}permission")).unwrap_or_else(|| panic!("permission"));
    let constraint =
        expanded::first_node(permission, &format!("{ODRL}constraint")).unwrap_or_else(|| panic!("constraint"));
    assert_eq!(expanded::first_str(constraint, &format!("{ODRL}operator")), Some(format!("{ODRL}gteq").as_str()));
}

#[test]
fn compaction_writes_the_context_as_named() {
    let jsonld = processor();
    let expanded = expand(contract_request_2025());
    let context = CompactionContext::remote("dsp-2025-1", &["https://w3id.org/dspace/2025/1/context.jsonld"]).unwrap();
    let compacted = jsonld.compact(expanded, &context).unwrap();
    assert_eq!(compacted["@context"], json!(["https://w3id.org/dspace/2025/1/context.jsonld"]));
    assert_eq!(compacted["@type"], "ContractRequestMessage");
    assert_eq!(compacted["consumerPid"], "urn:uuid:7c1e2a44-5b4e-4b7e-8f5e-2f8d8f0c1a22");
    assert_eq!(compacted["offer"]["permission"][0]["action"], "use");
}

#[test]
fn unknown_contexts_are_refused_wherever_they_appear() {
    let jsonld = processor();
    for document in [
        json!({ "@context": "https://example.com/ctx.jsonld", "a": 1 }),
        json!({ "@context": [{ "@import": "https://example.com/ctx.jsonld" }], "a": 1 }),
        json!({ "@context": { "@vocab": "https://e/" }, "n": { "@context": ["https://example.com/ctx.jsonld"], "b": 2 } }),
    ] {
        assert_eq!(jsonld.expand(document), Err(JsonLdError::UnknownContext("https://example.com/ctx.jsonld".into())));
    }
}

#[test]
fn every_bundled_context_is_usable() {
    let jsonld = processor();
    for (url, _) in dsc_jsonld::contexts::BUNDLED {
        let result = jsonld.expand(json!({ "@context": url, "@id": "urn:x", "@type": "https://example.com/T" }));
        assert!(result.is_ok(), "{url}: {result:?}");
    }
}
