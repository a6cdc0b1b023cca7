// SPDX-License-Identifier: Apache-2.0
//! The Dataspace Protocol TCK against this connector: prints a pass/fail table per test id and fails on any
//! failure that `scripts/peers/dsp-tck/expected-failures.txt` does not list with a reason, and on any listed
//! test that now passes (so the list only shrinks).
//!
//! The connector under test is a provider with one offer and, for the consumer-role tests, a small webhook that
//! turns the TCK's "start a negotiation/transfer" calls into Management API calls. Identity is EDC's mock identity,
//! which the TCK speaks. Agreements for the transfer tests are negotiated beforehand by a second connector that
//! presents itself with the TCK's participant id.
//!
//! Needs `scripts/harness.sh up dsp-tck` (skipped otherwise, unless TEST_REQUIRE_DSP_TCK is set).
//! `DSP_TCK_DEBUG=<file>` writes the TCK's own output there and logs refused webhook calls.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use support::peers::{EDC, Participant, free_port, participant_configured};

/// The participant id the TCK uses for itself (its mock identity header must name the same).
const TCK_ID: &str = "TCK_PARTICIPANT";

async fn webhook(consumer_management: String) -> String {
    #[derive(Clone)]
    struct Target(String);
    async fn forward(target: &Target, path: &str, body: Value) -> Json<Value> {
        let reply = support::send(
            reqwest::Method::POST,
            &format!("{}{path}", target.0),
            Some(support::API_KEY),
            Some(body.to_string()),
        )
        .await;
        if reply.status != 200 && std::env::var("DSP_TCK_DEBUG").is_ok() {
            eprintln!("webhook {path}: {} {}", reply.status, reply.body);
        }
        Json(reply.body)
    }
    async fn negotiate(State(target): State<Target>, Json(request): Json<Value>) -> Json<Value> {
        let body = json!({ "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }], "@type": "ContractRequest",
            "counterPartyAddress": request["connectorAddress"], "counterPartyId": request["providerId"],
            "protocol": "dataspace-protocol-http:2025-1",
            "policy": { "@id": request["offerId"], "@type": "Offer", "assigner": request["providerId"],
                        "target": request["datasetId"], "permission": [{ "action": "use" }] } });
        forward(&target, "/v3/contractnegotiations", body).await
    }
    async fn transfer(State(target): State<Target>, Json(request): Json<Value>) -> Json<Value> {
        let body = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
            "counterPartyAddress": request["connectorAddress"], "counterPartyId": request["providerId"],
            "protocol": "dataspace-protocol-http:2025-1", "contractId": request["agreementId"],
            "transferType": request["format"] });
        forward(&target, "/v3/transferprocesses", body).await
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/negotiations", axum::routing::post(negotiate))
        .route("/transfers", axum::routing::post(transfer))
        .fallback(|request: axum::extract::Request| async move {
            eprintln!("webhook: unexpected {} {}", request.method(), request.uri());
            axum::http::StatusCode::NOT_FOUND
        })
        .with_state(Target(consumer_management));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{address}")
}

async fn provision(provider: &Participant) {
    let bodies = [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": "tck-asset", "properties": { "name": "TCK" },
            "dataAddress": { "type": "HttpData", "baseUrl": "http://127.0.0.1:9/unused" } }),
        ),
        (
            "/v3/policydefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": {
            "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use" }] } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "cd-tck", "accessPolicyId": "open",
            "contractPolicyId": "open", "assetsSelector": [] }),
        ),
    ];
    for (path, body) in bodies {
        assert_eq!(provider.connector.post(path, &body).await.status, 200, "{path}");
    }
}

/// An agreement between the provider and the TCK's participant id, negotiated by a stand-in connector.
async fn tck_agreement(provider: &Participant) -> String {
    let stand_in = participant_configured(free_port(), &[], |config| {
        config.mock_identity = true;
        config.participant_id = TCK_ID.into();
    })
    .await;
    let request = support::peers::contract_request_for_first_offer(&stand_in, provider).await;
    let created = stand_in.connector.post("/v3/contractnegotiations", &request).await;
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let finalized = support::peers::wait_for_state(&stand_in, &id, &["FINALIZED"]).await;
    finalized["contractAgreementId"].as_str().unwrap_or_default().to_string()
}

fn offer_id(definition: &str, asset: &str) -> String {
    dsc_domain::ContractOfferId::new(definition, asset, "tck").to_string()
}

fn expected_failures() -> BTreeMap<String, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers/dsp-tck/expected-failures.txt");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('|').map(|(id, reason)| (id.trim().to_string(), reason.trim().to_string())))
        .collect()
}

#[tokio::test]
async fn dsp_tck_table() {
    let Ok(classpath) = std::env::var("TEST_DSP_TCK_CLASSPATH") else {
        assert!(
            std::env::var("TEST_REQUIRE_DSP_TCK").is_err(),
            "TEST_REQUIRE_DSP_TCK is set but the TCK is not assembled"
        );
        eprintln!("skipped: no DSP TCK (scripts/harness.sh up dsp-tck)");
        return;
    };
    let provider = participant_configured(free_port(), &[], |config| config.mock_identity = true).await;
    provision(&provider).await;
    let agreement = tck_agreement(&provider).await;
    let hooks = webhook(provider.connector.management.clone()).await;

    let tck_port = free_port();
    let offer = offer_id("cd-tck", "tck-asset");
    let mut properties = vec![
        "dataspacetck.debug=false".to_string(),
        "dataspacetck.dsp.local.connector=false".into(),
        "dataspacetck.host=127.0.0.1".into(),
        format!("dataspacetck.port={tck_port}"),
        format!("dataspacetck.callback.address=http://127.0.0.1:{tck_port}"),
        format!("dataspacetck.dsp.connector.agent.id={}", provider.did),
        format!("dataspacetck.dsp.connector.http.url={}", provider.protocol),
        format!("dataspacetck.dsp.connector.http.base.url={}", provider.protocol.trim_end_matches("/2025-1")),
        format!(
            r#"dataspacetck.dsp.connector.http.headers.authorization={{"clientId":"{TCK_ID}","audience":"any","region":"any"}}"#
        ),
        format!("dataspacetck.dsp.connector.negotiation.initiate.url={hooks}/negotiations"),
        format!("dataspacetck.dsp.connector.transfer.initiate.url={hooks}/transfers"),
        "dataspacetck.dsp.default.wait=3".into(),
        "CAT_01_01_DATASETID=tck-asset".into(),
        "CAT_01_02_DATASETID=tck-asset".into(),
    ];
    for (group, count) in [("01", 4), ("02", 7), ("03", 4)] {
        for index in 1..=count {
            properties.push(format!("CN_{group}_{index:02}_DATASETID=tck-asset"));
            properties.push(format!("CN_{group}_{index:02}_OFFERID={offer}"));
        }
    }
    for (group, count) in [("01", 5), ("02", 5), ("03", 6)] {
        for index in 1..=count {
            properties.push(format!("TP_{group}_{index:02}_AGREEMENTID={agreement}"));
            properties.push(format!("TP_{group}_{index:02}_FORMAT=HttpData-PULL"));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tck.properties");
    std::fs::write(&config, properties.join("\n") + "\n").unwrap();
    let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers/dsp-tck/RunDspTck.java");
    let started = Instant::now();
    let output = tokio::process::Command::new("java")
        .args(["-cp", &classpath, launcher, &config.to_string_lossy()])
        .output()
        .await
        .expect("cannot run java");
    let stdout = String::from_utf8_lossy(&output.stdout);
    if let Ok(path) = std::env::var("DSP_TCK_DEBUG") {
        let _ = std::fs::write(&path, format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr)));
    }
    let rows: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("PASS ") || l.starts_with("FAIL ") || l.starts_with("SKIP ")).collect();
    assert!(!rows.is_empty(), "the TCK printed no results:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));

    if std::env::var("DSP_TCK_DEBUG").is_ok() {
        let query = json!({ "@context": { "@vocab": EDC }, "filterExpression": [] });
        for kind in ["contractnegotiations", "transferprocesses"] {
            let rows = provider.connector.post(&format!("/v3/{kind}/request"), &query).await;
            for row in rows.body.as_array().into_iter().flatten().filter(|r| r["type"] == "CONSUMER") {
                eprintln!("{kind}: {} {} {}", row["state"], row["counterPartyAddress"], row["errorDetail"]);
            }
        }
    }
    let expected = expected_failures();
    let mut unexpected = Vec::new();
    println!("DSP TCK 1.0.0-RC6 ({} tests in {:.0?})", rows.len(), started.elapsed());
    println!("test       result detail");
    for row in &rows {
        let (outcome, rest) = row.split_at(4);
        let id = rest.trim().split(':').take(2).collect::<Vec<_>>().join(":");
        let detail = rest.split_once(" | ").map(|(_, d)| d).unwrap_or("");
        let listed = expected.get(&id);
        let verdict = match (outcome, listed) {
            ("FAIL", Some(reason)) => format!("expected: {reason}"),
            ("FAIL", None) => {
                unexpected.push(format!("{id} failed: {detail}"));
                format!("UNEXPECTED: {detail}")
            }
            ("PASS", Some(_)) => {
                unexpected.push(format!("{id} passes now: remove it from expected-failures.txt"));
                "passes, but is listed as expected to fail".into()
            }
            _ => detail.to_string(),
        };
        println!("{id:<10} {outcome:<6} {verdict}");
    }
    assert!(unexpected.is_empty(), "DSP TCK:\n{}", unexpected.join("\n"));
}
