// SPDX-License-Identifier: Apache-2.0
//! Contract negotiation between two in-process connectors: the happy path, policy violations, retries, callbacks,
//! and every malformed or out-of-order message a peer could send.

use crate::support;

use serde_json::{Value, json};
use support::only_error;
use support::peers::*;

#[tokio::test]
async fn consumer_and_provider_negotiate_to_the_same_agreement() {
    let (consumer, provider) = trusting_pair().await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let started = std::time::Instant::now();
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_for_state(&consumer, &id, &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}");
    eprintln!("negotiation finalized in {} ms", started.elapsed().as_millis());
    assert_eq!(finalized["type"], "CONSUMER");
    assert_eq!(finalized["assetId"], "asset-1");
    let agreement_id = finalized["contractAgreementId"].as_str().unwrap_or_default().to_string();

    let agreement = consumer.connector.get(&format!("/v3/contractnegotiations/{id}/agreement")).await;
    assert_eq!(agreement.status, 200);
    assert_eq!(agreement.body["@id"], agreement_id.as_str());
    assert_eq!(agreement.body["providerId"], provider.did.as_str());
    assert_eq!(agreement.body["consumerId"], consumer.did.as_str());
    assert_eq!(agreement.body["policy"]["@type"], "odrl:Agreement");

    // The provider holds the same agreement, reached through its own negotiation.
    let providers_view = provider.connector.get(&format!("/v3/contractagreements/{agreement_id}")).await;
    assert_eq!(providers_view.status, 200, "{}", providers_view.body);
    assert_eq!(providers_view.body["assetId"], "asset-1");
    let provider_negotiation =
        provider.connector.get(&format!("/v3/contractagreements/{agreement_id}/negotiation")).await;
    assert_eq!(provider_negotiation.body["type"], "PROVIDER");
    let provider_negotiation =
        wait_for_state(&provider, provider_negotiation.body["@id"].as_str().unwrap_or_default(), &["FINALIZED"]).await;
    assert_eq!(provider_negotiation["correlationId"], id.as_str());
    let state = consumer.connector.get(&format!("/v3/contractnegotiations/{id}/state")).await;
    assert_eq!(state.body["state"], "FINALIZED");
    let agreements = consumer.connector.post_raw("/v3/contractagreements/request", "").await;
    assert_eq!(agreements.body.as_array().map(Vec::len), Some(1));
    // A finished negotiation cannot be terminated.
    let late = consumer
        .connector
        .post(&format!("/v3/contractnegotiations/{id}/terminate"), &json!({ "reason": "too late" }))
        .await;
    assert_eq!(late.status, 409, "{}", late.body);
}

#[tokio::test]
async fn a_contract_policy_the_consumer_does_not_satisfy_ends_in_terminated_with_the_reason() {
    let (consumer, provider) = trusting_pair().await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    // The contract policy now wants another business partner: the catalog still shows the offer (the access
    // policy holds), the negotiation fails.
    let usage = json!({ "@context": { "@vocab": EDC }, "@id": "usage-framework",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use",
            "constraint": [{ "leftOperand": "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber", "operator": "eq", "rightOperand": "BPNL000000000099" }] }] } });
    assert_eq!(provider.connector.put("/v3/policydefinitions/usage-framework", &usage).await.status, 204);
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let terminated = wait_for_state(&consumer, &id, &["TERMINATED", "FINALIZED"]).await;
    assert_eq!(terminated["state"], "TERMINATED", "{terminated}");
    let detail = terminated["errorDetail"].as_str().unwrap_or_default();
    assert!(detail.contains("the counter-party refused (400)"), "{detail}");
    assert!(detail.contains("BusinessPartnerNumber eq \"BPNL000000000099\"' is not satisfied"), "{detail}");
    let none = provider.connector.post_raw("/v3/contractagreements/request", "").await;
    assert_eq!(none.body.as_array().map(Vec::len), Some(0), "no agreement on the provider");
}

#[tokio::test]
async fn invalid_contract_requests_are_refused_before_anything_is_sent() {
    let consumer = participant(&[]).await;
    let request = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }],
        "counterPartyAddress": "http://127.0.0.1:1/api/v1/dsp/2025-1", "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": "not-an-offer-id", "@type": "Set", "permission": [{ "action": "use" }] } });
    let reply = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    let paths: Vec<String> = reply
        .body
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["path"].as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert_eq!(
        paths,
        vec![
            format!("{EDC}policy/@type"),
            format!("{EDC}policy/@id"),
            format!("{EDC}policy/http://www.w3.org/ns/odrl/2/assigner"),
            format!("{EDC}policy/http://www.w3.org/ns/odrl/2/target"),
        ]
    );
    assert_eq!(consumer.connector.get("/v3/contractnegotiations/unknown").await.status, 404);
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_then_given_up() {
    let consumer = participant(&[]).await;
    let offer_id = dsc_domain::ContractOfferId::new("cd-1", "asset-1", "n").to_string();
    let request = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }],
        "counterPartyAddress": "http://127.0.0.1:1/api/v1/dsp/2025-1", "counterPartyId": "did:web:gone",
        "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": offer_id, "@type": "Offer", "assigner": "did:web:gone", "target": "asset-1", "permission": [{ "action": "use" }] } });
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    // The first attempts fail fast and are scheduled again; the negotiation stays REQUESTING meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let pending = consumer.connector.get(&format!("/v3/contractnegotiations/{id}")).await;
    assert_eq!(pending.body["state"], "REQUESTING", "{}", pending.body);
    let terminate = consumer
        .connector
        .post(&format!("/v3/contractnegotiations/{id}/terminate"), &json!({ "reason": "provider gone" }))
        .await;
    assert_eq!(terminate.status, 204);
    let ended = wait_for_state(&consumer, &id, &["TERMINATED"]).await;
    assert_eq!(ended["errorDetail"], "provider gone");
}

#[tokio::test]
async fn the_negotiation_also_runs_on_postgresql() {
    let (Some(consumer_db), Some(provider_db)) =
        (support::fresh_postgres_database().await, support::fresh_postgres_database().await)
    else {
        return;
    };
    let (consumer_port, provider_port) = (free_port(), free_port());
    let consumer =
        participant_with_database(consumer_port, &[(&did(provider_port), "BPNL000000000001")], Some(consumer_db)).await;
    let provider =
        participant_with_database(provider_port, &[(&did(consumer_port), "BPNL000000000002")], Some(provider_db)).await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_for_state(&consumer, &id, &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}");
    let agreement_id = finalized["contractAgreementId"].as_str().unwrap_or_default();
    assert_eq!(provider.connector.get(&format!("/v3/contractagreements/{agreement_id}")).await.status, 200);
}

const DSP_CTX: &str = "https://w3id.org/dspace/2025/1/context.jsonld";

fn request_message(consumer_pid: &str, offer_id: &str, callback: &str) -> Value {
    json!({ "@context": [DSP_CTX], "@type": "ContractRequestMessage", "consumerPid": consumer_pid, "callbackAddress": callback,
            "offer": { "@id": offer_id, "@type": "Offer", "target": "asset-1", "permission": [{ "action": "use" }] } })
}

fn assert_negotiation_error(reply: &support::Reply, status: u16, reason: &str) {
    assert_dsp_error(reply, "ContractNegotiationError", status, reason);
}

#[tokio::test]
async fn malformed_and_out_of_order_negotiation_messages_are_refused() {
    let (consumer, provider) = trusting_pair().await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    let peer = RawPeer::of(&consumer).await;
    let base = provider.protocol.clone();
    let send = |path: &str, body: Value| {
        let url = format!("{base}{path}");
        let (peer, audience) = (&peer, provider.did.clone());
        async move { peer.send(&audience, reqwest::Method::POST, &url, Some(body)).await }
    };

    let reply = send(
        "/negotiations/request",
        json!({ "@context": [DSP_CTX], "@type": "ContractAgreementVerificationMessage" }),
    )
    .await;
    assert_negotiation_error(&reply, 400, "expected a ContractRequestMessage");
    let reply = peer.send(&provider.did, reqwest::Method::POST, &format!("{base}/negotiations/request"), None).await;
    assert_negotiation_error(&reply, 400, "malformed JSON");
    let reply =
        send("/negotiations/request", request_message("c-1", "Y2Q=:YXNzZXQtMQ==:bg==", "http://127.0.0.1:1/dsp")).await;
    assert_eq!(reply.status, 400);
    let unknown = dsc_domain::ContractOfferId::new("no-such-definition", "asset-1", "n").to_string();
    let reply = send("/negotiations/request", request_message("c-1", &unknown, "http://127.0.0.1:1/dsp")).await;
    assert_negotiation_error(&reply, 400, &format!("offer '{unknown}' does not match any contract definition"));
    let mut no_callback = request_message("c-1", &unknown, "x");
    no_callback.as_object_mut().map(|o| o.remove("callbackAddress"));
    assert_negotiation_error(&send("/negotiations/request", no_callback).await, 400, "callbackAddress is missing");

    // A valid request: accepted (201), and a repeated one names the same process.
    let offer = dsc_domain::ContractOfferId::new("cd-1", "asset-1", "n").to_string();
    let first =
        send("/negotiations/request", request_message("c-2", &offer, "http://127.0.0.1:1/api/v1/dsp/2025-1")).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["@type"], "ContractNegotiation");
    assert_eq!(first.body["consumerPid"], "c-2");
    let provider_pid = first.body["providerPid"].as_str().unwrap_or_default().to_string();
    let again =
        send("/negotiations/request", request_message("c-2", &offer, "http://127.0.0.1:1/api/v1/dsp/2025-1")).await;
    assert_eq!(again.body["providerPid"], provider_pid.as_str(), "a repeated request names the same process");
    let verification = json!({ "@context": [DSP_CTX], "@type": "ContractAgreementVerificationMessage", "consumerPid": "c-2", "providerPid": provider_pid });

    // Out of order: FINALIZED for a consumer negotiation that has not even reached its provider.
    let offer_request = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }],
        "counterPartyAddress": "http://127.0.0.1:1/api/v1/dsp/2025-1", "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": offer, "@type": "Offer", "assigner": provider.did, "target": "asset-1", "permission": [{ "action": "use" }] } });
    let pending = consumer.connector.post("/v3/contractnegotiations", &offer_request).await;
    let consumer_pid = pending.body["@id"].as_str().unwrap_or_default().to_string();
    let as_provider = RawPeer::of(&provider).await;
    let finalized = json!({ "@context": [DSP_CTX], "@type": "ContractNegotiationEventMessage", "consumerPid": consumer_pid,
                            "providerPid": "p-1", "eventType": "FINALIZED" });
    let url = format!("{}/negotiations/{consumer_pid}/events", consumer.protocol);
    let mut reply = as_provider.send(&consumer.did, reqwest::Method::POST, &url, Some(finalized.clone())).await;
    for _ in 0..20 {
        if reply.status != 503 {
            break;
        }
        // The state machine held the lease for a moment; the protocol says try again.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        reply = as_provider.send(&consumer.did, reqwest::Method::POST, &url, Some(finalized.clone())).await;
    }
    assert_negotiation_error(
        &reply,
        400,
        "FINALIZED is only accepted after the verification (negotiation is REQUESTING)",
    );

    let mismatch = send("/negotiations/other-id/agreement/verification", verification.clone()).await;
    assert_negotiation_error(&mismatch, 400, "the path names process 'other-id'");
    let wrong_pid = json!({ "@context": [DSP_CTX], "@type": "ContractAgreementVerificationMessage", "consumerPid": "c-999", "providerPid": provider_pid });
    let reply = send(&format!("/negotiations/{provider_pid}/agreement/verification"), wrong_pid).await;
    assert_eq!(reply.status, 400, "{}", reply.body);

    // An agreement for a negotiation this consumer never requested.
    let agreement = json!({ "@context": [DSP_CTX], "@type": "ContractAgreementMessage", "consumerPid": "never", "providerPid": "p",
        "agreement": { "@id": "a", "@type": "Agreement", "target": "asset-1", "assigner": provider.did, "assignee": consumer.did,
                       "timestamp": "2026-01-01T00:00:00Z", "permission": [{ "action": "use" }] } });
    let consumer_peer = RawPeer::of(&provider).await;
    let reply = consumer_peer
        .send(
            &consumer.did,
            reqwest::Method::POST,
            &format!("{}/negotiations/never/agreement", consumer.protocol),
            Some(agreement),
        )
        .await;
    assert_negotiation_error(&reply, 404, "negotiation 'never' not found");

    // Only the counter-party may look at a negotiation.
    let reply =
        peer.send(&provider.did, reqwest::Method::GET, &format!("{base}/negotiations/{provider_pid}"), None).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["state"], "REQUESTED", "AGREEING shows as the protocol's REQUESTED");
    let stranger = RawPeer::of(&provider).await;
    let reply =
        stranger.send(&provider.did, reqwest::Method::GET, &format!("{base}/negotiations/{provider_pid}"), None).await;
    assert_eq!(reply.status, 401, "the provider itself is not in its own trust list");

    // Tokens for another audience are refused.
    let reply = peer
        .send("did:web:someone-else", reqwest::Method::GET, &format!("{base}/negotiations/{provider_pid}"), None)
        .await;
    assert_negotiation_error(&reply, 401, "the token is not meant for this participant");
}

/// What the webhook received: the X-Hook-Key header and the body, per call.
type Received = std::sync::Arc<tokio::sync::Mutex<Vec<(Option<String>, Value)>>>;

/// A webhook that records what it receives.
async fn webhook() -> (String, Received) {
    let received: Received = Received::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                let key = headers.get("x-hook-key").and_then(|v| v.to_str().ok()).map(str::to_string);
                store.lock().await.push((key, serde_json::from_slice(&body).unwrap_or_default()));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://127.0.0.1:{port}/hooks"), received)
}

#[tokio::test]
async fn negotiation_events_reach_callback_addresses_with_the_vault_secret() {
    let (consumer, provider) = trusting_pair().await;
    provision_provider(&provider.connector, "BPNL000000000002").await;
    let (hook, received) = webhook().await;
    let secret =
        json!({ "@context": { "@vocab": EDC }, "@type": "Secret", "@id": "hook-secret", "value": "h00k-value" });
    assert_eq!(consumer.connector.post("/v3/secrets", &secret).await.status, 200);
    let mut request = contract_request_for_first_offer(&consumer, &provider).await;
    request["callbackAddresses"] = json!([{ "uri": hook, "events": ["contract.negotiation"], "transactional": false,
                                             "authKey": "X-Hook-Key", "authCodeId": "hook-secret" }]);
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_for_state(&consumer, &id, &["FINALIZED", "TERMINATED"]).await;
    assert_eq!(finalized["state"], "FINALIZED");
    assert_eq!(finalized["callbackAddresses"]["uri"], hook.as_str());

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let events = loop {
        let events = received.lock().await.clone();
        if events.len() >= 5 || std::time::Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let types: Vec<&str> = events.iter().map(|(_, e)| e["type"].as_str().unwrap_or_default()).collect();
    assert_eq!(
        types,
        vec![
            "ContractNegotiationInitiated",
            "ContractNegotiationRequested",
            "ContractNegotiationAgreed",
            "ContractNegotiationVerified",
            "ContractNegotiationFinalized",
        ]
    );
    assert!(events.iter().all(|(key, _)| key.as_deref() == Some("h00k-value")), "the header carries the vault secret");
    let last = &events[4].1;
    assert_eq!(last["payload"]["contractNegotiationId"], id.as_str());
    assert_eq!(last["payload"]["contractAgreement"]["id"], finalized["contractAgreementId"]);
    assert!(last["at"].as_i64().unwrap_or_default() > 1_700_000_000_000);

    // A transactional callback is refused up front.
    request["callbackAddresses"][0]["transactional"] = json!(true);
    let refused = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(refused.status, 400);
    assert_eq!(only_error(&refused)["path"], format!("{EDC}callbackAddresses[0]/{EDC}transactional"));
}
