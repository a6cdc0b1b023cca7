// SPDX-License-Identifier: Apache-2.0
//! Transfers between two connectors over real HTTP: negotiate → transfer → EDR → data through the provider's
//! public API; suspend cuts access, only the suspending party may resume, resume issues a new EDR, terminate cuts
//! access; the policy monitor ends a transfer whose contract expires; 2-second tokens keep working for 30 s through
//! `auto_refresh`, and refresh is refused after terminate; one `POST /v3/edrs` negotiates and transfers.

use crate::support;

use std::time::{Duration, Instant};

use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use support::peers::{EDC, Participant, contract_request_for_first_offer, did, free_port, participant_configured};

/// A backend the provider's asset points at: echoes the path and query it was called with.
async fn backend() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/parts/{*rest}",
        axum::routing::get(|Path(rest): Path<String>, RawQuery(query): RawQuery, headers: HeaderMap| async move {
            let key = headers.get("x-backend-key").and_then(|v| v.to_str().ok()).map(str::to_string);
            axum::Json(json!({ "path": rest, "query": query, "serial": "SN-4711", "backendKey": key }))
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}/parts")
}

async fn provision(provider: &Participant, base_url: &str, contract_constraint: Value) {
    let connector = &provider.connector;
    // The backend's credential is a vault secret the asset names; it never leaves the provider.
    let secret = json!({ "@context": { "@vocab": EDC }, "@id": "backend-key", "value": "s3cr3t-backend-key" });
    assert_eq!(connector.post("/v3/secrets", &secret).await.status, 200);
    let asset = json!({ "@context": { "@vocab": EDC }, "@id": "asset-1",
        "properties": { "name": "Serial parts" },
        "dataAddress": { "type": "HttpData", "baseUrl": base_url, "proxyPath": "true", "proxyQueryParams": "true",
                         "authKey": "X-Backend-Key", "secretName": "backend-key" } });
    assert_eq!(connector.post("/v3/assets", &asset).await.status, 200);
    let open = json!({ "@context": { "@vocab": EDC }, "@id": "open",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use" }] } });
    assert_eq!(connector.post("/v3/policydefinitions", &open).await.status, 200);
    let usage = json!({ "@context": { "@vocab": EDC }, "@id": "usage",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use",
            "constraint": [contract_constraint] }] } });
    assert_eq!(connector.post("/v3/policydefinitions", &usage).await.status, 200);
    let definition = json!({ "@context": { "@vocab": EDC }, "@id": "cd-1", "accessPolicyId": "open", "contractPolicyId": "usage",
        "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": "asset-1" }] });
    assert_eq!(connector.post("/v3/contractdefinitions", &definition).await.status, 200);
}

fn framework() -> Value {
    json!({ "leftOperand": "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement", "operator": "eq",
            "rightOperand": "DataExchangeGovernance:1.0" })
}

async fn pair(provider_token_seconds: u64) -> (Participant, Participant) {
    let (consumer_port, provider_port) = (free_port(), free_port());
    let consumer = participant_configured(consumer_port, &[(&did(provider_port), "BPNL000000000001")], |_| {}).await;
    let provider = participant_configured(provider_port, &[(&did(consumer_port), "BPNL000000000002")], |config| {
        config.access_token_lifetime_seconds = provider_token_seconds;
    })
    .await;
    (consumer, provider)
}

async fn wait_for(participant: &Participant, path: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = participant.connector.get(path).await;
        if reply.body["state"].as_str() == Some(wanted) {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "{path} never became {wanted}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn agreement(consumer: &Participant, provider: &Participant) -> String {
    let request = contract_request_for_first_offer(consumer, provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = wait_for(consumer, &format!("/v3/contractnegotiations/{id}"), "FINALIZED").await;
    finalized["contractAgreementId"].as_str().unwrap_or_default().to_string()
}

async fn start_transfer(consumer: &Participant, provider: &Participant, agreement: &str) -> String {
    let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol,
        "contractId": agreement, "transferType": "HttpData-PULL", "dataDestination": { "type": "HttpProxy" } });
    let created = consumer.connector.post("/v3/transferprocesses", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    wait_for(consumer, &format!("/v3/transferprocesses/{id}"), "STARTED").await;
    id
}

async fn edr(consumer: &Participant, transfer: &str, refresh: bool) -> (String, String) {
    let reply = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress?auto_refresh={refresh}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let endpoint = reply.body["endpoint"].as_str().unwrap_or_else(|| panic!("no endpoint: {}", reply.body));
    let token = reply.body["authorization"].as_str().unwrap_or_else(|| panic!("no token: {}", reply.body));
    (endpoint.to_string(), token.to_string())
}

async fn fetch(endpoint: &str, token: &str) -> (u16, Value) {
    let response = support::client()
        .get(format!("{endpoint}/lot/7?batch=42"))
        .header("Authorization", token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls until the token is refused with `status` (revocation is asynchronous on the consumer's side, but must
/// take effect as soon as the provider's data plane has been told).
async fn until_refused(endpoint: &str, token: &str, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (got, body) = fetch(endpoint, token).await;
        if got == status {
            return;
        }
        assert!(Instant::now() < deadline, "the token still gets {got}: {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn provider_transfer(provider: &Participant) -> String {
    let query = json!({ "@context": { "@vocab": EDC }, "filterExpression": [] });
    let reply = provider.connector.post("/v3/transferprocesses/request", &query).await;
    reply.body[0]["@id"].as_str().unwrap_or_else(|| panic!("no provider transfer: {}", reply.body)).to_string()
}

#[tokio::test]
async fn pull_transfer_suspend_resume_terminate() {
    let (consumer, provider) = pair(300).await;
    provision(&provider, &backend().await, framework()).await;
    let agreement = agreement(&consumer, &provider).await;
    let transfer = start_transfer(&consumer, &provider, &agreement).await;

    let (endpoint, token) = edr(&consumer, &transfer, false).await;
    let (status, body) = fetch(&endpoint, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({ "path": "lot/7", "query": "batch=42", "serial": "SN-4711", "backendKey": "s3cr3t-backend-key" }),
        "path and query pass through; the backend credential comes from the vault"
    );
    let edr_text = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress")).await.body.to_string();
    assert!(!edr_text.contains("s3cr3t-backend-key"), "the backend credential is not in the EDR");
    let (status, body) = fetch(&endpoint, "not-a-token").await;
    assert_eq!((status, body["error"].as_str()), (401, Some("the token is missing, malformed, expired or unknown")));

    // The provider suspends: access stops, the consumer cannot resume, the provider can, with a new EDR.
    let provider_id = provider_transfer(&provider).await;
    let suspend = json!({ "@context": { "@vocab": EDC }, "reason": "maintenance" });
    let reply = provider.connector.post(&format!("/v3/transferprocesses/{provider_id}/suspend"), &suspend).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    until_refused(&endpoint, &token, 403).await;
    wait_for(&consumer, &format!("/v3/transferprocesses/{transfer}"), "SUSPENDED").await;
    let refused = consumer.connector.post(&format!("/v3/transferprocesses/{transfer}/resume"), &json!({})).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(
        support::only_error(&refused)["message"],
        format!("TransferProcess {transfer}: only the party that suspended a transfer may resume it")
    );
    let no_edr = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress")).await;
    assert_eq!(no_edr.status, 404, "a suspended transfer has no EDR: {}", no_edr.body);

    let resumed = provider.connector.post(&format!("/v3/transferprocesses/{provider_id}/resume"), &json!({})).await;
    assert_eq!(resumed.status, 204, "{}", resumed.body);
    wait_for(&consumer, &format!("/v3/transferprocesses/{transfer}"), "STARTED").await;
    let (_, new_token) = edr(&consumer, &transfer, false).await;
    assert_ne!(new_token, token, "resume issues new credentials");
    assert_eq!(fetch(&endpoint, &new_token).await.0, 200);
    assert_eq!(fetch(&endpoint, &token).await.0, 403, "the old token stays revoked");

    // The consumer terminates: access stops.
    let terminate = json!({ "@context": { "@vocab": EDC }, "reason": "done" });
    let reply = consumer.connector.post(&format!("/v3/transferprocesses/{transfer}/terminate"), &terminate).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    until_refused(&endpoint, &new_token, 403).await;
    let ended = wait_for(&provider, &format!("/v3/transferprocesses/{provider_id}"), "TERMINATED").await;
    assert_eq!(ended["errorDetail"], "terminated by the counter-party: done");
    let again = consumer.connector.post(&format!("/v3/transferprocesses/{transfer}/terminate"), &terminate).await;
    assert_eq!(again.status, 409, "{}", again.body);
}

#[tokio::test]
async fn the_policy_monitor_ends_a_transfer_when_the_contract_expires() {
    let (consumer, provider) = pair(300).await;
    let ends_soon = json!({ "leftOperand": "https://w3id.org/edc/v0.0.1/ns/inForceDate", "operator": "lteq",
        "rightOperand": "contractAgreement+3s" });
    provision(&provider, &backend().await, ends_soon).await;
    let agreement = agreement(&consumer, &provider).await;
    let transfer = start_transfer(&consumer, &provider, &agreement).await;
    let (endpoint, token) = edr(&consumer, &transfer, false).await;
    assert_eq!(fetch(&endpoint, &token).await.0, 200);
    until_refused(&endpoint, &token, 403).await;
    let ended = wait_for(&consumer, &format!("/v3/transferprocesses/{transfer}"), "TERMINATED").await;
    assert!(ended["errorDetail"].as_str().is_some_and(|d| d.contains("the contract no longer holds")), "{ended}");
}

#[tokio::test]
async fn short_lived_tokens_keep_working_through_auto_refresh() {
    let (consumer, provider) = pair(2).await;
    provision(&provider, &backend().await, framework()).await;
    let agreement = agreement(&consumer, &provider).await;
    let transfer = start_transfer(&consumer, &provider, &agreement).await;
    let (endpoint, first) = edr(&consumer, &transfer, true).await;
    let started = Instant::now();
    let mut tokens = vec![first];
    while started.elapsed() < Duration::from_secs(30) {
        let (_, token) = edr(&consumer, &transfer, true).await;
        let (status, body) = fetch(&endpoint, &token).await;
        assert_eq!(status, 200, "after {:?}: {body}", started.elapsed());
        if tokens.last() != Some(&token) {
            tokens.push(token);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(tokens.len() >= 3, "2-second tokens were refreshed while in use: {} tokens", tokens.len());

    // Direct refresh without client authentication is refused; after terminate there is no EDR to refresh, and
    // the last refresh token is refused even to its rightful owner.
    let last = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress")).await;
    let refresh_token = last.body["tx-auth:refreshToken"].as_str().unwrap_or_default().to_string();
    let direct = support::client()
        .post(format!("{endpoint}/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&refresh_token=anything")
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status().as_u16(), 401);
    let body: Value = direct.json().await.unwrap_or(Value::Null);
    assert_eq!(body["error"], "invalid_client");
    let terminate = json!({ "@context": { "@vocab": EDC } });
    assert_eq!(
        consumer.connector.post(&format!("/v3/transferprocesses/{transfer}/terminate"), &terminate).await.status,
        204
    );
    wait_for(&consumer, &format!("/v3/transferprocesses/{transfer}"), "TERMINATED").await;
    let gone = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress?auto_refresh=true")).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let identity = support::peers::RawPeer::of(&consumer).await.identity;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let after = support::client()
            .post(format!("{endpoint}/token"))
            .bearer_auth(identity.self_issued_token(&provider.did, Duration::from_secs(60)).unwrap_or_default())
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("grant_type=refresh_token&refresh_token={refresh_token}"))
            .send()
            .await
            .unwrap();
        let status = after.status().as_u16();
        let body: Value = after.json().await.unwrap_or(Value::Null);
        if status == 400 {
            assert_eq!(
                body,
                json!({ "error": "invalid_grant", "error_description": "the token is missing, malformed, expired or unknown" })
            );
            break;
        }
        assert!(Instant::now() < deadline, "refresh still works after terminate: {status} {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn one_edr_call_negotiates_and_starts_the_transfer() {
    let (consumer, provider) = pair(300).await;
    provision(&provider, &backend().await, framework()).await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/edrs", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let negotiation = created.body["@id"].as_str().unwrap_or_default().to_string();
    let query = json!({ "@context": { "@vocab": EDC }, "filterExpression": [] });
    let deadline = Instant::now() + Duration::from_secs(15);
    let entry = loop {
        let reply = consumer.connector.post("/v3/edrs/request", &query).await;
        if let Some(entry) = reply.body.as_array().and_then(|entries| entries.first()) {
            break entry.clone();
        }
        assert!(Instant::now() < deadline, "no EDR entry appeared: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(entry["@type"], "EndpointDataReferenceEntry");
    assert_eq!(entry["assetId"], "asset-1");
    let finalized = consumer.connector.get(&format!("/v3/contractnegotiations/{negotiation}")).await;
    assert_eq!(entry["agreementId"], finalized.body["contractAgreementId"]);
    let transfer = entry["transferProcessId"].as_str().unwrap_or_default();
    let (endpoint, token) = edr(&consumer, transfer, false).await;
    assert_eq!(fetch(&endpoint, &token).await.0, 200);
}
