// SPDX-License-Identifier: Apache-2.0
//! Transfer bad-input paths, each with the exact answer the caller sees: unknown agreements, transfer types no
//! data plane serves, Data Plane Signaling without or with wrong credentials and duplicate starts, and a refresh
//! token presented by another participant.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::peers::{EDC, Participant, contract_request_for_first_offer, did, free_port, participant_configured};

const SIGNALING_KEY: &str = "test-signaling-key";

async fn pair(also_trusted: Option<&str>) -> (Participant, Participant, u16) {
    let (consumer_port, provider_port, control_port) = (free_port(), free_port(), free_port());
    let consumer = participant_configured(consumer_port, &[(&did(provider_port), "BPNL000000000001")], |_| {}).await;
    let consumer_did = did(consumer_port);
    let mut trusted = vec![(consumer_did.as_str(), "BPNL000000000002")];
    if let Some(other) = also_trusted {
        trusted.push((other, "BPNL000000000003"));
    }
    let provider = participant_configured(provider_port, &trusted, |config| {
        config.control_context.port = control_port;
        config.signaling_key = Some(SIGNALING_KEY.into());
    })
    .await;
    support::peers::provision_provider(&provider.connector, "BPNL000000000002").await;
    (consumer, provider, control_port)
}

async fn agreement(consumer: &Participant, provider: &Participant) -> String {
    let request = contract_request_for_first_offer(consumer, provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default();
    support::peers::wait_for_state(consumer, id, &["FINALIZED"]).await["contractAgreementId"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn transfer_request(provider: &Participant, contract: &str, transfer_type: &str) -> Value {
    json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol,
        "contractId": contract, "transferType": transfer_type, "dataDestination": { "type": "HttpProxy" } })
}

async fn ended(consumer: &Participant, transfer: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = consumer.connector.get(&format!("/v3/transferprocesses/{transfer}")).await;
        if reply.body["state"] == "TERMINATED" {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "transfer did not end: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn transfer_requests_are_checked_on_both_sides() {
    let (consumer, provider, _) = pair(None).await;
    let unknown = consumer
        .connector
        .post("/v3/transferprocesses", &transfer_request(&provider, "no-such", "HttpData-PULL"))
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        support::only_error(&unknown)["message"],
        "Object of type ContractAgreement with ID=no-such was not found"
    );

    let contract = agreement(&consumer, &provider).await;
    let malformed =
        consumer.connector.post("/v3/transferprocesses", &transfer_request(&provider, &contract, "HttpData")).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(support::only_error(&malformed)["message"], "transferType must be <destination type>-PULL or -PUSH");

    // A type no provider data plane serves: the provider refuses, the consumer's transfer ends with the reason.
    let created = consumer
        .connector
        .post("/v3/transferprocesses", &transfer_request(&provider, &contract, "AmazonS3-PUSH"))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let body = ended(&consumer, created.body["@id"].as_str().unwrap_or_default()).await;
    assert_eq!(
        body["errorDetail"],
        "the counter-party refused (400): transfer type 'AmazonS3-PUSH' is not supported; supported: HttpData-PULL"
    );

    // The asset's data now lives in Kafka: an HTTP pull no longer fits it.
    let moved = json!({ "@context": { "@vocab": EDC }, "@id": "asset-1", "properties": {},
        "dataAddress": { "type": "KafkaBroker", "topic": "parts", "kafka.bootstrap.servers": "127.0.0.1:9092",
            "kafka.security.protocol": "SASL_PLAINTEXT" } });
    assert_eq!(provider.connector.put("/v3/assets", &moved).await.status, 204);
    let created = consumer
        .connector
        .post("/v3/transferprocesses", &transfer_request(&provider, &contract, "HttpData-PULL"))
        .await;
    let body = ended(&consumer, created.body["@id"].as_str().unwrap_or_default()).await;
    assert_eq!(
        body["errorDetail"],
        "the counter-party refused (400): transfer type 'HttpData-PULL' does not fit asset 'asset-1' (data address type 'KafkaBroker')"
    );

    // The provider cannot request a transfer under an agreement where it is not the consumer.
    let foreign = provider
        .connector
        .post("/v3/transferprocesses", &transfer_request(&consumer, &contract, "HttpData-PULL"))
        .await;
    assert_eq!(foreign.status, 400, "{}", foreign.body);
    assert_eq!(
        support::only_error(&foreign)["message"],
        format!("this connector is not the consumer of agreement {contract}")
    );
}

#[tokio::test]
async fn signaling_needs_the_shared_key_and_refuses_duplicates() {
    let (_consumer, _provider, control_port) = pair(None).await;
    let url = |path: &str| format!("http://127.0.0.1:{control_port}/control/dataflows{path}");
    let start = json!({ "messageId": "m1", "participantId": "did:web:p", "counterPartyId": "did:web:c",
        "dataspaceContext": "dsp-2025-1", "processId": "flow-1", "agreementId": "a", "datasetId": "asset-1",
        "profile": "HttpData-PULL", "claims": {} });
    let client = support::client();
    let post = |path: &str, key: Option<&str>, body: &Value| {
        let mut request = client.post(url(path)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(post("/start", None, &start).await.map(status).unwrap_or_default(), 401, "no credentials");
    assert_eq!(post("/start", Some("wrong"), &start).await.map(status).unwrap_or_default(), 401, "wrong key");

    let first = post("/start", Some(SIGNALING_KEY), &start).await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let answer: Value = first.json().await.unwrap_or(Value::Null);
    assert_eq!((answer["dataFlowId"].as_str(), answer["state"].as_str()), (Some("flow-1"), Some("STARTED")));
    assert_eq!(answer["dataAddress"]["endpointType"], "https://w3id.org/idsa/v4.1/HTTP");

    let duplicate = post("/start", Some(SIGNALING_KEY), &start).await.unwrap();
    assert_eq!(duplicate.status().as_u16(), 409);
    assert_eq!(duplicate.json::<Value>().await.unwrap_or(Value::Null)["error"], "data flow 'flow-1' already exists");

    let mut kafka = start.clone();
    kafka["processId"] = json!("flow-2");
    kafka["profile"] = json!("KafkaBroker-PULL");
    let unsupported = post("/start", Some(SIGNALING_KEY), &kafka).await.unwrap();
    assert_eq!(unsupported.status().as_u16(), 400);
    assert_eq!(
        unsupported.json::<Value>().await.unwrap_or(Value::Null)["error"],
        "transfer type 'KafkaBroker-PULL' is not supported"
    );

    let missing = post("/unknown/suspend", Some(SIGNALING_KEY), &json!({})).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    assert_eq!(post("/flow-1/suspend", Some(SIGNALING_KEY), &json!({})).await.map(status).unwrap_or_default(), 200);
    assert_eq!(
        post("/flow-1/suspend", Some(SIGNALING_KEY), &json!({})).await.map(status).unwrap_or_default(),
        200,
        "suspend is idempotent"
    );
    let flow_status = client.get(url("/flow-1/status")).bearer_auth(SIGNALING_KEY).send().await.unwrap();
    assert_eq!(
        flow_status.json::<Value>().await.unwrap_or(Value::Null),
        json!({ "dataFlowId": "flow-1", "state": "SUSPENDED" })
    );
    assert_eq!(post("/flow-1/terminate", Some(SIGNALING_KEY), &json!({})).await.map(status).unwrap_or_default(), 200);
    let resume = post("/flow-1/resume", Some(SIGNALING_KEY), &json!({})).await.unwrap();
    assert_eq!(resume.status().as_u16(), 409);
    assert_eq!(
        resume.json::<Value>().await.unwrap_or(Value::Null)["error"],
        "only a SUSPENDED flow can be resumed (it is TERMINATED)"
    );
}

/// Serves a DID document for a key this test holds: a participant the provider trusts, but not the consumer.
async fn third_party() -> (dsc_identity::SigningIdentity, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let did = did(port);
    let (identity, _) = dsc_identity::SigningIdentity::generate(&did).unwrap();
    let document = identity.did_document();
    let app = axum::Router::new()
        .route("/.well-known/did.json", axum::routing::get(move || async move { axum::Json(document.clone()) }));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (identity, did)
}

#[tokio::test]
async fn a_refresh_token_only_works_for_the_participant_it_was_issued_to() {
    let (thief, thief_did) = third_party().await;
    let (consumer, provider, _) = pair(Some(&thief_did)).await;
    let contract = agreement(&consumer, &provider).await;
    let created = consumer
        .connector
        .post("/v3/transferprocesses", &transfer_request(&provider, &contract, "HttpData-PULL"))
        .await;
    let transfer = created.body["@id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(15);
    let edr = loop {
        let reply = consumer.connector.get(&format!("/v3/edrs/{transfer}/dataaddress")).await;
        if reply.status == 200 {
            break reply.body;
        }
        assert!(Instant::now() < deadline, "no EDR: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let refresh_token = edr["tx-auth:refreshToken"].as_str().unwrap_or_else(|| panic!("no refresh token: {edr}"));
    let endpoint = edr["tx-auth:refreshEndpoint"].as_str().unwrap_or_default();
    let audience = edr["tx-auth:refreshAudience"].as_str().unwrap_or_default();
    assert_eq!(audience, provider.did);

    let client_token = thief.self_issued_token(audience, Duration::from_secs(60)).unwrap();
    let stolen = support::client()
        .post(format!("{endpoint}?grant_type=refresh_token&refresh_token={refresh_token}"))
        .bearer_auth(client_token)
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status().as_u16(), 400);
    assert_eq!(
        stolen.json::<Value>().await.unwrap_or(Value::Null),
        json!({ "error": "invalid_grant", "error_description": "the refresh token was issued to another participant" })
    );
    let unsupported = support::client()
        .post(endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status().as_u16(), 400);
    assert_eq!(unsupported.json::<Value>().await.unwrap_or(Value::Null)["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn an_unreachable_data_plane_is_retried_then_the_transfer_ends_on_both_sides() {
    let (consumer_port, provider_port, closed) = (free_port(), free_port(), free_port());
    let consumer = participant_configured(consumer_port, &[(&did(provider_port), "BPNL000000000001")], |_| {}).await;
    let provider = participant_configured(provider_port, &[(&did(consumer_port), "BPNL000000000002")], |config| {
        config.embedded_data_plane = false;
        config.remote_data_plane = Some((format!("http://127.0.0.1:{closed}/control"), vec!["HttpData-PULL".into()]));
        config.signaling_key = Some(SIGNALING_KEY.into());
        config.transfer_retry_limit = 3;
        config.transfer_retry_base_ms = 50;
    })
    .await;
    support::peers::provision_provider(&provider.connector, "BPNL000000000002").await;
    let contract = agreement(&consumer, &provider).await;
    let created = consumer
        .connector
        .post("/v3/transferprocesses", &transfer_request(&provider, &contract, "HttpData-PULL"))
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let body = ended(&consumer, created.body["@id"].as_str().unwrap_or_default()).await;
    assert_eq!(
        body["errorDetail"],
        format!(
            "terminated by the counter-party: data plane unreachable: data plane remote: error sending request for url (http://127.0.0.1:{closed}/control/dataflows/start)"
        ),
        "the consumer learns why"
    );
    let query = json!({ "@context": { "@vocab": EDC }, "filterExpression": [] });
    let on_provider = provider.connector.post("/v3/transferprocesses/request", &query).await;
    assert_eq!(on_provider.body[0]["state"], "TERMINATED", "{}", on_provider.body);
}

async fn state_of(participant: &Participant, path: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = participant.connector.get(path).await;
        if reply.body["state"] == wanted {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "{path} never became {wanted}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn data_plane_callbacks_record_errors_and_complete_transfers() {
    let (consumer, provider, control_port) = pair(None).await;
    let contract = agreement(&consumer, &provider).await;
    let created = consumer
        .connector
        .post("/v3/transferprocesses", &transfer_request(&provider, &contract, "HttpData-PULL"))
        .await;
    let transfer = created.body["@id"].as_str().unwrap_or_default().to_string();
    state_of(&consumer, &format!("/v3/transferprocesses/{transfer}"), "STARTED").await;
    let query = json!({ "@context": { "@vocab": EDC }, "filterExpression": [] });
    let provider_id = provider.connector.post("/v3/transferprocesses/request", &query).await.body[0]["@id"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let client = support::client();
    let callback = |id: &str, what: &str, key: Option<&str>, body: Value| {
        let mut request =
            client.post(format!("http://127.0.0.1:{control_port}/control/transfers/{id}/dataflow/{what}")).json(&body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        request.send()
    };
    let status_message = |error: Option<&str>| json!({ "messageId": "m", "dataFlowId": provider_id, "state": "STARTED", "error": error });
    let unauthenticated = callback(&provider_id, "completed", None, json!({})).await.unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    let unknown = callback("nope", "completed", Some(SIGNALING_KEY), json!({})).await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap_or(Value::Null)["error"],
        "Object of type TransferProcess with ID=nope was not found"
    );

    let errored = callback(&provider_id, "errored", Some(SIGNALING_KEY), status_message(Some("backend timed out")))
        .await
        .unwrap();
    assert_eq!(errored.status().as_u16(), 200);
    let after = provider.connector.get(&format!("/v3/transferprocesses/{provider_id}")).await;
    assert_eq!(
        (after.body["state"].as_str(), after.body["errorDetail"].as_str()),
        (Some("STARTED"), Some("data plane: backend timed out"))
    );

    let late_start = callback(&provider_id, "started", Some(SIGNALING_KEY), status_message(None)).await.unwrap();
    assert_eq!(late_start.status().as_u16(), 409, "no start is pending");

    let completed = callback(&provider_id, "completed", Some(SIGNALING_KEY), json!({})).await.unwrap();
    assert_eq!(completed.status().as_u16(), 200);
    state_of(&provider, &format!("/v3/transferprocesses/{provider_id}"), "COMPLETED").await;
    state_of(&consumer, &format!("/v3/transferprocesses/{transfer}"), "COMPLETED").await;
}

#[tokio::test]
async fn data_planes_register_and_unregister_with_the_shared_key() {
    let (_consumer, _provider, control_port) = pair(None).await;
    let client = support::client();
    let url = |path: &str| format!("http://127.0.0.1:{control_port}/control/dataplanes{path}");
    let registration = json!({ "dataplaneId": "kafka-dp", "endpoint": "http://127.0.0.1:1/control/dataflows",
        "transferTypes": ["KafkaBroker-PULL"] });
    let unauthenticated = client.put(url("")).json(&registration).send().await.unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
    let mut bad = registration.clone();
    bad["endpoint"] = json!("ftp://dp.example");
    let refused = client.put(url("")).bearer_auth(SIGNALING_KEY).json(&bad).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap_or(Value::Null)["error"], "endpoint must be an http(s) URL");
    let registered = client.put(url("")).bearer_auth(SIGNALING_KEY).json(&registration).send().await.unwrap();
    assert_eq!(registered.status().as_u16(), 200);
    let removed = client.delete(url("/kafka-dp")).bearer_auth(SIGNALING_KEY).send().await.unwrap();
    assert_eq!(removed.status().as_u16(), 204);
    let again = client.delete(url("/kafka-dp")).bearer_auth(SIGNALING_KEY).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 404);
    assert_eq!(again.json::<Value>().await.unwrap_or(Value::Null)["error"], "data plane 'kafka-dp' is not registered");
}
