// SPDX-License-Identifier: Apache-2.0
//! The Dataspace Protocol TCK against this connector: prints a pass/fail table per test id and fails on any
//! failure that `scripts/peers/dsp-tck/expected-failures.txt` does not list with a reason, and on any listed
//! test that now passes (so the list only shrinks).
//!
//! The connector under test is a provider with a few offers and, for the consumer-role tests, a small webhook that
//! turns the TCK's "start a negotiation/transfer" calls into Management API calls. Identity is EDC's mock identity,
//! which the TCK speaks. Agreements are negotiated beforehand through the Management API with a second connector
//! that presents itself with the TCK's participant id: as consumer for the provider tests, as provider for the
//! consumer tests (the TCK's provider accepts any agreement id). The TCK sends no cues in remote mode, so each test
//! that needs the connector to act on its own gets its own asset or agreement, and `operator` plays the connector's
//! operator through the Management API for it (terminate, suspend, resume, complete, approve; assets with the
//! `approval` property keep the provider waiting for it). Nothing of this is in the product.
//!
//! Needs `scripts/harness.sh up dsp-tck` (skipped otherwise, unless TEST_REQUIRE_DSP_TCK is set).
//! `DSP_TCK_DEBUG=<file>` writes the TCK's own output there and logs refused webhook calls.

use crate::support;

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

/// Assets the provider under test offers: `tck-asset` for the tests where it behaves as it always does, and one
/// per test where its operator acts (the driver below), with the approval that makes the provider wait for it.
const OPERATED_ASSETS: &[(&str, &str)] = &[
    ("ACN0101", "negotiation"),
    ("ACN0102", "negotiation"),
    ("ACN0103", "negotiation"),
    ("ACN0201", "negotiation"),
    ("ACN0204", "negotiation"),
    ("ACN0205", "negotiation"),
    ("ACN0206", "negotiation"),
    ("ACN0207", "finalization"),
    ("ACN0302", "negotiation"),
    ("ACN0303", "negotiation"),
    ("ACN0304", "negotiation"),
    ("ATP-HELD", "transfer"),
    ("ATP0101", ""),
    ("ATP0102", ""),
    ("ATP0103", ""),
    ("ATP0104", ""),
];

async fn provision(provider: &Participant) {
    for (asset, approval) in OPERATED_ASSETS {
        let body = json!({ "@context": { "@vocab": EDC }, "@id": asset, "properties": { "name": asset },
            "privateProperties": if approval.is_empty() { json!({}) } else { json!({ "approval": approval }) },
            "dataAddress": { "type": "HttpData", "baseUrl": "http://127.0.0.1:9/unused" } });
        assert_eq!(provider.connector.post("/v3/assets", &body).await.status, 200, "{asset}");
    }
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

/// The stand-in's offer to the connector under test: its agreements are the ones the TP_C tests name.
async fn provision_stand_in_provider(stand_in: &Participant) {
    let bodies = [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": "tck-provided", "properties": { "name": "TCK provider" },
            "dataAddress": { "type": "HttpData", "baseUrl": "http://127.0.0.1:9/unused" } }),
        ),
        (
            "/v3/policydefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": {
            "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use" }] } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "cd-tck-provider", "accessPolicyId": "open",
            "contractPolicyId": "open", "assetsSelector": [] }),
        ),
    ];
    for (path, body) in bodies {
        assert_eq!(stand_in.connector.post(path, &body).await.status, 200, "{path}");
    }
}

/// A connector that presents itself with the TCK's participant id (mock identity).
async fn tck_stand_in() -> Participant {
    participant_configured(free_port(), &[], |config| {
        config.mock_identity = true;
        config.participant_id = TCK_ID.into();
    })
    .await
}

/// An agreement on `provider`'s `asset` negotiated by `consumer` through its Management API.
async fn agreement_on(consumer: &Participant, provider: &Participant, provider_id: &str, asset: &str) -> String {
    let request = json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }], "@type": "ContractRequest",
        "counterPartyAddress": provider.protocol, "counterPartyId": provider_id,
        "protocol": "dataspace-protocol-http:2025-1",
        "policy": { "@id": offer_id(if provider_id == TCK_ID { "cd-tck-provider" } else { "cd-tck" }, asset),
                    "@type": "Offer", "assigner": provider_id, "target": asset, "permission": [{ "action": "use" }] } });
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let reached = support::peers::wait_for_state(consumer, &id, &["FINALIZED", "AGREED"]).await;
    if reached["state"] == "AGREED" {
        // The connector under test leaves agreements to its operator (see `dsp_tck_table`).
        let verified = consumer.connector.post(&format!("/v3/contractnegotiations/{id}/verify"), &json!({})).await;
        assert_eq!(verified.status, 204, "{}", verified.body);
    }
    let finalized = support::peers::wait_for_state(consumer, &id, &["FINALIZED"]).await;
    finalized["contractAgreementId"].as_str().unwrap_or_default().to_string()
}

/// What the operator of the connector under test does in one test: when its process reaches `state`, wait (the
/// TCK registers its handler for our next message only after it has seen the previous one), then call the
/// Management API. Steps run in order, each once.
struct Script {
    kind: &'static str,
    /// The process's agreement id (transfers) or asset id (negotiations).
    key: String,
    steps: Vec<(&'static str, &'static str)>,
}

/// Plays the operator through the public Management API only: it watches the processes and acts on its scripts.
fn operator(management: String, scripts: Vec<Script>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut progress: BTreeMap<String, usize> = BTreeMap::new();
        loop {
            for kind in ["contractnegotiations", "transferprocesses"] {
                let query = json!({ "@context": { "@vocab": EDC }, "limit": 1000 });
                let url = format!("{management}/v3/{kind}/request");
                let reply =
                    support::send(reqwest::Method::POST, &url, Some(support::API_KEY), Some(query.to_string())).await;
                for process in reply.body.as_array().into_iter().flatten() {
                    let key_field = if kind == "transferprocesses" { "contractId" } else { "assetId" };
                    let Some(script) = scripts.iter().find(|s| s.kind == kind && process[key_field] == s.key.as_str())
                    else {
                        continue;
                    };
                    let id = process["@id"].as_str().unwrap_or_default().to_string();
                    let done = progress.entry(id.clone()).or_default();
                    let Some((state, action)) = script.steps.get(*done) else { continue };
                    if process["state"] != *state {
                        if std::env::var("DSP_TCK_DEBUG").is_ok() {
                            eprintln!(
                                "operator: {kind} {id} for {} is {} (waiting for {state})",
                                script.key, process["state"]
                            );
                        }
                        continue;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    let body = json!({ "@context": { "@vocab": EDC }, "reason": "the TCK's script" });
                    let url = format!("{management}/v3/{kind}/{id}/{action}");
                    let reply =
                        support::send(reqwest::Method::POST, &url, Some(support::API_KEY), Some(body.to_string()))
                            .await;
                    if std::env::var("DSP_TCK_DEBUG").is_ok() {
                        eprintln!("operator: {kind} {id} {state} -> {action}: {}", reply.status);
                    }
                    *done += 1;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
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
    // Every offer and agreement the TCK makes to the connector as consumer waits for the operator (below), who
    // decides per test.
    let provider = participant_configured(free_port(), &[], |config| {
        config.mock_identity = true;
        config.offers_for_operator = true;
    })
    .await;
    provision(&provider).await;
    // Provider tests: agreements the TCK's participant holds with the connector under test.
    let stand_in = tck_stand_in().await;
    let agreement = agreement_on(&stand_in, &provider, &provider.did, "tck-asset").await;
    let mut provider_agreements = BTreeMap::new();
    for asset in ["ATP0101", "ATP0102", "ATP0103", "ATP0104", "ATP-HELD"] {
        provider_agreements.insert(asset, agreement_on(&stand_in, &provider, &provider.did, asset).await);
    }
    // Consumer tests: agreements the connector under test holds as consumer with the TCK's participant id,
    // negotiated with the stand-in as provider (the TCK's provider accepts any agreement id).
    provision_stand_in_provider(&stand_in).await;
    let mut consumer_agreements = BTreeMap::new();
    for test in ["shared", "02_01", "02_02", "02_03", "02_05"] {
        consumer_agreements.insert(test, agreement_on(&provider, &stand_in, TCK_ID, "tck-provided").await);
    }
    let hooks = webhook(provider.connector.management.clone()).await;
    let script =
        |kind, key: &str, steps: Vec<(&'static str, &'static str)>| Script { kind, key: key.to_string(), steps };
    let (negotiations, transfers) = ("contractnegotiations", "transferprocesses");
    let _operator = operator(
        provider.connector.management.clone(),
        vec![
            script(negotiations, "ACN0101", vec![("REQUESTED", "offer")]),
            script(negotiations, "ACN0102", vec![("REQUESTED", "offer"), ("REQUESTED", "terminate")]),
            script(negotiations, "ACN0103", vec![("REQUESTED", "offer"), ("ACCEPTED", "approve")]),
            script(negotiations, "ACN0201", vec![("REQUESTED", "terminate")]),
            script(negotiations, "ACN0204", vec![("REQUESTED", "offer")]),
            script(negotiations, "ACN0205", vec![("REQUESTED", "offer"), ("OFFERED", "terminate")]),
            script(negotiations, "ACN0206", vec![("REQUESTED", "offer"), ("ACCEPTED", "terminate")]),
            script(negotiations, "ACN0207", vec![("VERIFIED", "terminate")]),
            script(negotiations, "ACN0302", vec![("REQUESTED", "offer")]),
            script(negotiations, "ACN0303", vec![("REQUESTED", "offer")]),
            script(negotiations, "ACN0304", vec![("REQUESTED", "offer")]),
            script(negotiations, "ACNC0101", vec![("OFFERED", "accept"), ("AGREED", "verify")]),
            script(negotiations, "ACNC0102", vec![("OFFERED", "counter")]),
            script(negotiations, "ACNC0103", vec![("OFFERED", "terminate")]),
            script(negotiations, "ACNC0104", vec![("AGREED", "verify")]),
            script(negotiations, "ACNC0202", vec![("REQUESTED", "terminate")]),
            script(negotiations, "ACNC0203", vec![("AGREED", "terminate")]),
            script(negotiations, "ACNC0206", vec![("AGREED", "verify")]),
            script(negotiations, "ACNC0205", vec![("OFFERED", "accept")]),
            script(negotiations, "ACNC0304", vec![("OFFERED", "accept")]),
            script(negotiations, "ACNC0305", vec![("OFFERED", "accept")]),
            script(negotiations, "ACNC0306", vec![("OFFERED", "accept")]),
            script(transfers, &provider_agreements["ATP0101"], vec![("STARTED", "terminate")]),
            script(transfers, &provider_agreements["ATP0102"], vec![("STARTED", "complete")]),
            script(
                transfers,
                &provider_agreements["ATP0103"],
                vec![("STARTED", "suspend"), ("SUSPENDED", "terminate")],
            ),
            script(
                transfers,
                &provider_agreements["ATP0104"],
                vec![("STARTED", "suspend"), ("SUSPENDED", "resume"), ("STARTED", "complete")],
            ),
            script(transfers, &consumer_agreements["02_01"], vec![("STARTED", "terminate")]),
            script(transfers, &consumer_agreements["02_02"], vec![("STARTED", "complete")]),
            script(transfers, &consumer_agreements["02_03"], vec![("STARTED", "suspend"), ("SUSPENDED", "terminate")]),
            script(transfers, &consumer_agreements["02_05"], vec![("REQUESTED", "terminate")]),
        ],
    );

    let tck_port = free_port();
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
            let operated = format!("ACN{group}{index:02}");
            let dataset =
                if OPERATED_ASSETS.iter().any(|(a, _)| *a == operated) { operated } else { "tck-asset".into() };
            properties.push(format!("CN_{group}_{index:02}_OFFERID={}", offer_id("cd-tck", &dataset)));
            properties.push(format!("CN_{group}_{index:02}_DATASETID={dataset}"));
        }
    }
    for (group, count) in [("01", 6), ("02", 6), ("03", 6)] {
        for index in 1..=count {
            properties.push(format!("CN_C_{group}_{index:02}_DATASETID=ACNC{group}{index:02}"));
        }
    }
    for (group, count) in [("01", 5), ("02", 5), ("03", 6)] {
        for index in 1..=count {
            let test = format!("{group}{index:02}");
            let agreement = match test.as_str() {
                "0101" | "0102" | "0103" | "0104" => &provider_agreements[format!("ATP{test}").as_str()],
                "0205" | "0301" | "0302" => &provider_agreements["ATP-HELD"],
                _ => &agreement,
            };
            properties.push(format!("TP_{group}_{index:02}_AGREEMENTID={agreement}"));
            properties.push(format!("TP_{group}_{index:02}_FORMAT=HttpData-PULL"));
            let agreement = consumer_agreements
                .get(format!("{group}_{index:02}").as_str())
                .unwrap_or(&consumer_agreements["shared"]);
            properties.push(format!("TP_C_{group}_{index:02}_AGREEMENTID={agreement}"));
            properties.push(format!("TP_C_{group}_{index:02}_FORMAT=HttpData-PULL"));
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
            for row in rows.body.as_array().into_iter().flatten() {
                eprintln!(
                    "{kind}: {} {} {} {} {}",
                    row["type"], row["assetId"], row["state"], row["counterPartyAddress"], row["errorDetail"]
                );
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
    let count = |outcome: &str| rows.iter().filter(|row| row.starts_with(outcome)).count();
    println!(
        "DSP TCK: {} passed, {} failed (listed with their reasons), {} skipped by the TCK",
        count("PASS"),
        count("FAIL"),
        count("SKIP")
    );
    assert!(unexpected.is_empty(), "DSP TCK:\n{}", unexpected.join("\n"));
}
