// SPDX-License-Identifier: Apache-2.0
//! Two connectors in-process, each with its own did:web identity served on its protocol port: the consumer asks
//! the provider for its catalog through its Management API; the provider authenticates the self-issued token,
//! resolves the consumer's DID document over HTTP, maps it to claims through its trust list and evaluates the
//! access policies.

use crate::support;

use serde_json::json;
use support::peers::*;
use support::{only_error, send};

#[tokio::test]
async fn a_trusted_consumer_sees_the_offer_an_untrusted_or_unqualified_one_does_not() {
    // Trust matters inbound only: the provider must know the consumers, not the other way round.
    let consumer = participant(&[]).await;
    let other = participant(&[]).await;
    let provider = participant(&[(&consumer.did, "BPNL000000000002"), (&other.did, "BPNL000000000003")]).await;
    provision_provider(&provider.connector, "BPNL000000000002").await;

    let reply = consumer.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let catalog = &reply.body;
    assert_eq!(catalog["@type"], "Catalog");
    assert_eq!(catalog["participantId"], provider.did.as_str());
    // The DSP context alone: every 2025-1 implementation (and the DSP TCK) resolves it.
    assert_eq!(as_list(&catalog["@context"]), vec![json!("https://w3id.org/dspace/2025/1/context.jsonld")]);
    let datasets = as_list(&catalog["dataset"]);
    assert_eq!(datasets.len(), 1, "{catalog}");
    let dataset = &datasets[0];
    assert_eq!(dataset["@id"], "asset-1");
    assert!(!dataset.to_string().contains("backend.internal"), "the data address stays private");
    assert!(!dataset.to_string().contains("not for the catalog"), "private properties stay private");
    let offers = as_list(&dataset["hasPolicy"]);
    assert_eq!(offers.len(), 1);
    let offer_id = offers[0]["@id"].as_str().unwrap_or_default();
    let parsed = dsc_domain::ContractOfferId::parse(offer_id).unwrap_or_else(|| panic!("offer id {offer_id}"));
    assert_eq!((parsed.definition_id.as_str(), parsed.asset_id.as_str()), ("cd-1", "asset-1"));
    assert_eq!(offers[0]["@type"], "Offer");
    assert!(offers[0].get("target").is_none(), "catalog offers carry no target");
    let distributions = as_list(&dataset["distribution"]);
    assert_eq!(distributions[0]["format"], "HttpData-PULL");

    // Trusted but with another BPN: the access policy hides the offer.
    let reply = other.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(as_list(&reply.body["dataset"]).is_empty(), "{}", reply.body);

    // Not in the provider's trust list at all: 401, relayed as a bad gateway.
    let stranger = participant(&[]).await;
    let reply = stranger.connector.post("/v3/catalog/request", &catalog_request(&provider)).await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    let message = only_error(&reply)["message"].as_str().unwrap_or_default().to_string();
    assert!(message.starts_with("the counter-party answered HTTP 401"), "{message}");
    assert!(message.contains(&format!("the participant '{}' is not trusted", stranger.did)), "{message}");

    // A single dataset, and one that does not exist.
    let mut request = catalog_request(&provider);
    request["@id"] = json!("asset-1");
    let reply = consumer.connector.post("/v3/catalog/dataset/request", &request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["@type"], "Dataset");
    request["@id"] = json!("nope");
    let reply = consumer.connector.post("/v3/catalog/dataset/request", &request).await;
    assert_eq!(reply.status, 502);
    assert!(only_error(&reply)["message"].as_str().unwrap_or_default().contains("HTTP 404"), "{}", reply.body);
}

#[tokio::test]
async fn protocol_endpoints_need_a_token_and_metadata_is_public() {
    let provider = participant(&[]).await;
    let base = provider.protocol.trim_end_matches("/2025-1").to_string();
    let root = base.trim_end_matches("/api/v1/dsp").to_string();

    let reply =
        send(reqwest::Method::POST, &format!("{}/catalog/request", provider.protocol), None, Some("{}".into())).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["@type"], "CatalogError");
    assert_eq!(reply.body["code"], "401");
    assert_eq!(reply.body["reason"], json!(["Unauthorized.", "no Authorization token"]));
    let reply = send(reqwest::Method::GET, &format!("{}/catalog/datasets/x", provider.protocol), Some("x"), None).await;
    assert_eq!(reply.status, 401);

    for url in [format!("{root}/.well-known/dspace-version"), format!("{base}/.well-known/dspace-version")] {
        let reply = send(reqwest::Method::GET, &url, None, None).await;
        assert_eq!(reply.status, 200, "{url}");
        assert_eq!(reply.body["protocolVersions"][0]["version"], "2025-1");
        assert_eq!(reply.body["protocolVersions"][0]["path"], "/2025-1");
        assert_eq!(reply.body["protocolVersions"][0]["binding"], "HTTPS");
    }
    let document = send(reqwest::Method::GET, &format!("{root}/.well-known/did.json"), None, None).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.body["id"], provider.did.as_str());
    assert_eq!(document.body["verificationMethod"][0]["publicKeyJwk"]["crv"], "P-256");
    assert!(document.body["verificationMethod"][0]["publicKeyJwk"].get("d").is_none());
}

#[tokio::test]
async fn bad_catalog_requests_are_refused_with_the_offending_field() {
    let consumer = participant(&[]).await;
    let request = json!({ "@context": { "@vocab": EDC }, "counterPartyAddress": "http://127.0.0.1:1/api/v1/dsp/2025-1",
                          "counterPartyId": "did:web:x", "protocol": "dataspace-protocol-http" });
    let reply = consumer.connector.post("/v3/catalog/request", &request).await;
    assert_eq!(reply.status, 400);
    assert_eq!(only_error(&reply)["path"], format!("{EDC}protocol"));
    assert_eq!(
        only_error(&reply)["message"],
        "protocol 'dataspace-protocol-http' is not supported; use 'dataspace-protocol-http:2025-1'"
    );
    let mut missing = request.clone();
    missing.as_object_mut().map(|o| o.remove("counterPartyId"));
    let reply = consumer.connector.post("/v3/catalog/request", &missing).await;
    assert_eq!(only_error(&reply)["path"], format!("{EDC}counterPartyId"));
    let mut unreachable = request.clone();
    unreachable["protocol"] = json!("dataspace-protocol-http:2025-1");
    let reply = consumer.connector.post("/v3/catalog/request", &unreachable).await;
    assert_eq!(reply.status, 502);
    assert_eq!(only_error(&reply)["type"], "BadGateway");
    assert!(
        only_error(&reply)["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("cannot reach http://127.0.0.1:1/api/v1/dsp/2025-1")
    );
}
