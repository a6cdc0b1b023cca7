// SPDX-License-Identifier: Apache-2.0
//! Manual approval between two connectors: an asset whose private property `approval` names `negotiation` and
//! `transfer` makes the provider hold contract requests and transfer requests in REQUESTED until its operator
//! approves (or starts) them through the Management API, or rejects them with terminate; the consumer simply waits.
//! Every command in the wrong state or role is answered 409 naming the state.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::peers::{EDC, Participant, contract_request_for_first_offer, trusting_pair, wait_for_state};

async fn offer_with_approval(provider: &Participant, approval: &str) {
    let backend = support::edc::backend().await;
    let bodies = [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": "held", "properties": { "name": "On request" },
                    "privateProperties": { "approval": approval },
                    "dataAddress": { "type": "HttpData", "baseUrl": backend } }),
        ),
        (
            "/v3/policydefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "open", "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld",
                    "@type": "Set", "permission": [{ "action": "use" }] } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "cd-held", "accessPolicyId": "open", "contractPolicyId": "open",
                    "assetsSelector": [] }),
        ),
    ];
    for (path, body) in bodies {
        let reply = provider.connector.post(path, &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
}

/// The provider's only process of `kind` (`contractnegotiations` or `transferprocesses`) once it exists.
async fn provider_side(provider: &Participant, kind: &str, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply =
            provider.connector.post(&format!("/v3/{kind}/request"), &json!({ "@context": { "@vocab": EDC } })).await;
        let all = reply.body.as_array().cloned().unwrap_or_default();
        if all.len() == count {
            let mut newest = all;
            newest.sort_by_key(|p| p["createdAt"].as_i64());
            return newest.pop().unwrap();
        }
        assert!(Instant::now() < deadline, "the provider has {} {kind}: {}", all.len(), reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends `request` from the consumer; the consumer's negotiation id and the provider's (its `nth`, from 1).
async fn negotiate(consumer: &Participant, provider: &Participant, request: &Value, nth: usize) -> (String, String) {
    let created = consumer.connector.post("/v3/contractnegotiations", request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let negotiation = created.body["@id"].as_str().unwrap().to_string();
    let held = provider_side(provider, "contractnegotiations", nth).await;
    (negotiation, held["@id"].as_str().unwrap().to_string())
}

async fn transfer_state(participant: &Participant, id: &str) -> String {
    let reply = participant.connector.get(&format!("/v3/transferprocesses/{id}")).await;
    reply.body["state"].as_str().unwrap_or_default().to_string()
}

async fn wait_for_transfer(participant: &Participant, id: &str, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while transfer_state(participant, id).await != wanted {
        assert!(
            Instant::now() < deadline,
            "transfer {id} is {} (waiting for {wanted})",
            transfer_state(participant, id).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn message(reply: &support::Reply) -> String {
    reply.body[0]["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_provider_operator_approves_negotiations_and_starts_transfers_by_hand() {
    let (consumer, provider) = trusting_pair().await;
    offer_with_approval(&provider, "negotiation transfer").await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let negotiation = created.body["@id"].as_str().unwrap().to_string();

    // The request waits on the provider, marked pending, and the consumer waits in REQUESTED.
    let held = provider_side(&provider, "contractnegotiations", 1).await;
    let held_id = held["@id"].as_str().unwrap().to_string();
    assert_eq!((held["state"].as_str(), held["pending"].as_bool()), (Some("REQUESTED"), Some(true)), "{held}");
    wait_for_state(&consumer, &negotiation, &["REQUESTED"]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    wait_for_state(&consumer, &negotiation, &["REQUESTED"]).await;

    // Commands in the wrong role or for unknown processes are refused by name.
    let reply = consumer.connector.post(&format!("/v3/contractnegotiations/{negotiation}/approve"), &json!({})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(message(&reply), format!("ContractNegotiation {negotiation}: only the provider takes this decision"));
    let reply = provider.connector.post("/v3/contractnegotiations/unknown/approve", &json!({})).await;
    assert_eq!(reply.status, 404, "{}", reply.body);

    let reply = provider.connector.post(&format!("/v3/contractnegotiations/{held_id}/approve"), &json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let finalized = wait_for_state(&consumer, &negotiation, &["FINALIZED"]).await;
    let reply = provider.connector.post(&format!("/v3/contractnegotiations/{held_id}/approve"), &json!({})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        message(&reply),
        format!("ContractNegotiation {held_id}: it is FINALIZED and waits for no decision of its operator")
    );

    // The transfer waits for the provider's operator too.
    let agreement = finalized["contractAgreementId"].as_str().unwrap();
    let transfer_request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider.protocol,
        "contractId": agreement, "transferType": "HttpData-PULL" });
    let created = consumer.connector.post("/v3/transferprocesses", &transfer_request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let transfer = created.body["@id"].as_str().unwrap().to_string();
    let held = provider_side(&provider, "transferprocesses", 1).await;
    let held_transfer = held["@id"].as_str().unwrap().to_string();
    assert_eq!((held["state"].as_str(), held["pending"].as_bool()), (Some("REQUESTED"), Some(true)), "{held}");
    wait_for_transfer(&consumer, &transfer, "REQUESTED").await;

    let reply = provider.connector.post(&format!("/v3/transferprocesses/{held_transfer}/complete"), &json!({})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        message(&reply),
        format!("TransferProcess {held_transfer}: only a STARTED transfer can be completed (it is REQUESTED)")
    );
    let reply = consumer.connector.post(&format!("/v3/transferprocesses/{transfer}/start"), &json!({})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        message(&reply),
        format!("TransferProcess {transfer}: only the provider starts a transfer; a consumer asks for one")
    );
    let reply = provider.connector.post(&format!("/v3/transferprocesses/{held_transfer}/start"), &json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    wait_for_transfer(&consumer, &transfer, "STARTED").await;
    let reply = provider.connector.post(&format!("/v3/transferprocesses/{held_transfer}/start"), &json!({})).await;
    assert_eq!(message(&reply), format!("TransferProcess {held_transfer}: it is STARTED and waits for no start"));

    // The consumer ends it as done; the provider learns of it.
    let reply = consumer.connector.post(&format!("/v3/transferprocesses/{transfer}/complete"), &json!({})).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    wait_for_transfer(&consumer, &transfer, "COMPLETED").await;
    wait_for_transfer(&provider, &held_transfer, "COMPLETED").await;
}

#[tokio::test]
async fn the_provider_operator_rejects_a_request_with_a_reason_the_consumer_sees() {
    let (consumer, provider) = trusting_pair().await;
    offer_with_approval(&provider, "negotiation").await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let created = consumer.connector.post("/v3/contractnegotiations", &request).await;
    let negotiation = created.body["@id"].as_str().unwrap().to_string();
    let held = provider_side(&provider, "contractnegotiations", 1).await;
    let held_id = held["@id"].as_str().unwrap();
    let rejection =
        json!({ "@context": { "@vocab": EDC }, "@type": "TerminateNegotiation", "reason": "not a customer of ours" });
    let reply = provider.connector.post(&format!("/v3/contractnegotiations/{held_id}/terminate"), &rejection).await;
    assert_eq!(reply.status, 204, "{}", reply.body);
    let ended = wait_for_state(&consumer, &negotiation, &["TERMINATED"]).await;
    assert!(
        ended["errorDetail"].as_str().unwrap_or_default().contains("not a customer of ours"),
        "the consumer sees the provider's reason: {ended}"
    );
    let ended = provider.connector.get(&format!("/v3/contractnegotiations/{held_id}")).await;
    assert_eq!(ended.body["state"], "TERMINATED");
    assert!(ended.body.get("pending").is_none(), "no longer pending: {}", ended.body);
}

async fn stricter_policy(connector: &Participant) {
    let stricter = json!({ "@context": { "@vocab": EDC }, "@id": "stricter", "policy": {
        "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use", "constraint": [{
            "leftOperand": "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement", "operator": "eq",
            "rightOperand": "DataExchangeGovernance:1.0" }] }] } });
    let reply = connector.connector.post("/v3/policydefinitions", &stricter).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

async fn decide(participant: &Participant, negotiation: &str, decision: &str, body: Value) -> support::Reply {
    participant.connector.post(&format!("/v3/contractnegotiations/{negotiation}/{decision}"), &body).await
}

async fn wait_pending(participant: &Participant, negotiation: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = participant.connector.get(&format!("/v3/contractnegotiations/{negotiation}")).await;
        if reply.body["state"] == state && reply.body["pending"] == true {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "not pending in {state}: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_provider_offers_other_terms_and_the_consumer_operator_accepts_them() {
    let (consumer, provider) = trusting_pair().await;
    offer_with_approval(&provider, "negotiation").await;
    stricter_policy(&provider).await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let (negotiation, held_id) = negotiate(&consumer, &provider, &request, 1).await;

    let reply =
        decide(&provider, &held_id, "offer", json!({ "@context": { "@vocab": EDC }, "policyId": "nope" })).await;
    assert_eq!(reply.status, 400);
    assert_eq!(message(&reply), "policy definition 'nope' does not exist");
    let reply = decide(&consumer, &negotiation, "accept", json!({})).await;
    assert_eq!(reply.status, 409);
    assert_eq!(
        message(&reply),
        format!("ContractNegotiation {negotiation}: it is REQUESTED and waits for no decision of its operator")
    );
    let reply =
        decide(&provider, &held_id, "offer", json!({ "@context": { "@vocab": EDC }, "policyId": "stricter" })).await;
    assert_eq!(reply.status, 204, "{}", reply.body);

    // Other terms than asked for: the consumer's operator decides.
    wait_pending(&consumer, &negotiation, "OFFERED").await;
    let reply = decide(&provider, &held_id, "accept", json!({})).await;
    assert_eq!(message(&reply), format!("ContractNegotiation {held_id}: only the consumer takes this decision"));
    assert_eq!(decide(&consumer, &negotiation, "accept", json!({})).await.status, 204);
    // The provider's operator approves by hand on this asset, after the acceptance too.
    wait_pending(&provider, &held_id, "ACCEPTED").await;
    assert_eq!(decide(&provider, &held_id, "approve", json!({})).await.status, 204);
    let finalized = wait_for_state(&consumer, &negotiation, &["FINALIZED"]).await;
    let agreement = consumer.connector.get(&format!("/v3/contractnegotiations/{negotiation}/agreement")).await;
    assert!(
        agreement.body.to_string().contains("DataExchangeGovernance:1.0"),
        "the agreement has the offered terms: {}",
        agreement.body
    );
    assert!(finalized["contractAgreementId"].is_string());
}

#[tokio::test]
async fn an_offer_on_the_terms_asked_for_is_accepted_and_a_counter_request_waits_for_the_provider() {
    let (consumer, provider) = trusting_pair().await;
    offer_with_approval(&provider, "negotiation").await;
    stricter_policy(&provider).await;
    stricter_policy(&consumer).await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;

    // The same terms again: the consumer accepts by itself.
    let (negotiation, held_id) = negotiate(&consumer, &provider, &request, 1).await;
    assert_eq!(decide(&provider, &held_id, "offer", json!({})).await.status, 204);
    wait_pending(&provider, &held_id, "ACCEPTED").await;
    assert_eq!(decide(&provider, &held_id, "approve", json!({})).await.status, 204);
    wait_for_state(&consumer, &negotiation, &["FINALIZED"]).await;

    // Other terms: the consumer's operator counters with its own; the provider's operator refuses them.
    let (negotiation, held_id) = negotiate(&consumer, &provider, &request, 2).await;
    let body = json!({ "@context": { "@vocab": EDC }, "policyId": "stricter" });
    assert_eq!(decide(&provider, &held_id, "offer", body.clone()).await.status, 204);
    wait_pending(&consumer, &negotiation, "OFFERED").await;
    assert_eq!(decide(&consumer, &negotiation, "counter", json!({})).await.status, 204);
    wait_pending(&provider, &held_id, "REQUESTED").await;
    let rejection = json!({ "@context": { "@vocab": EDC }, "reason": "only on our terms" });
    assert_eq!(decide(&provider, &held_id, "terminate", rejection).await.status, 204);
    let ended = wait_for_state(&consumer, &negotiation, &["TERMINATED"]).await;
    assert!(ended["errorDetail"].as_str().unwrap_or_default().contains("only on our terms"), "{ended}");
}

#[tokio::test]
async fn operators_on_both_sides_take_every_decision_up_to_the_finalization() {
    use support::peers::{did, free_port, participant_configured};
    let (consumer_port, provider_port) = (free_port(), free_port());
    let consumer = participant_configured(consumer_port, &[(&did(provider_port), "BPNL000000000001")], |config| {
        config.offers_for_operator = true;
    })
    .await;
    let provider = participant_configured(provider_port, &[(&did(consumer_port), "BPNL000000000002")], |_| {}).await;
    offer_with_approval(&provider, "negotiation finalization").await;
    let request = contract_request_for_first_offer(&consumer, &provider).await;
    let (negotiation, held_id) = negotiate(&consumer, &provider, &request, 1).await;

    // Even an offer on the terms asked for waits for this consumer's operator.
    assert_eq!(decide(&provider, &held_id, "offer", json!({})).await.status, 204);
    wait_pending(&consumer, &negotiation, "OFFERED").await;
    assert_eq!(decide(&consumer, &negotiation, "accept", json!({})).await.status, 204);
    wait_pending(&provider, &held_id, "ACCEPTED").await;
    assert_eq!(decide(&provider, &held_id, "approve", json!({})).await.status, 204);
    // So does the agreement, and on the provider the finalization.
    wait_pending(&consumer, &negotiation, "AGREED").await;
    let reply = decide(&provider, &held_id, "verify", json!({})).await;
    assert_eq!(message(&reply), format!("ContractNegotiation {held_id}: only the consumer takes this decision"));
    assert_eq!(decide(&consumer, &negotiation, "verify", json!({})).await.status, 204);
    wait_pending(&provider, &held_id, "VERIFIED").await;
    assert_eq!(decide(&provider, &held_id, "approve", json!({})).await.status, 204);
    wait_for_state(&consumer, &negotiation, &["FINALIZED"]).await;
}

#[tokio::test]
async fn a_provider_starts_a_negotiation_with_an_offer_which_only_an_operator_consumer_takes() {
    use support::peers::{did, free_port, participant_configured};
    let (consumer_port, provider_port, plain_port) = (free_port(), free_port(), free_port());
    let provider_did = did(provider_port);
    let consumer = participant_configured(consumer_port, &[(&provider_did, "BPNL000000000001")], |config| {
        config.offers_for_operator = true;
    })
    .await;
    let plain = participant_configured(plain_port, &[(&provider_did, "BPNL000000000001")], |_| {}).await;
    let provider = participant_configured(
        provider_port,
        &[(&did(consumer_port), "BPNL000000000002"), (&did(plain_port), "BPNL000000000003")],
        |_| {},
    )
    .await;
    offer_with_approval(&provider, "").await;
    let offer = |to: &Participant, asset: &str, policy: &str| {
        json!({ "@context": { "@vocab": EDC }, "counterPartyAddress": to.protocol, "counterPartyId": to.did,
                "assetId": asset, "policyId": policy })
    };
    let reply = provider.connector.post("/v3/contractnegotiations/offers", &offer(&consumer, "nope", "open")).await;
    assert_eq!((reply.status, message(&reply)), (400, "asset 'nope' does not exist".to_string()));
    let reply =
        provider.connector.post("/v3/contractnegotiations/offers", &json!({ "@context": { "@vocab": EDC } })).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body.as_array().map(Vec::len), Some(4), "every missing field named: {}", reply.body);

    // A consumer whose operator decides on offers takes it and decides.
    let created = provider.connector.post("/v3/contractnegotiations/offers", &offer(&consumer, "held", "open")).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let ours = created.body["@id"].as_str().unwrap().to_string();
    let theirs = provider_side(&consumer, "contractnegotiations", 1).await;
    let theirs = theirs["@id"].as_str().unwrap().to_string();
    wait_pending(&consumer, &theirs, "OFFERED").await;
    assert_eq!(decide(&consumer, &theirs, "accept", json!({})).await.status, 204);
    wait_pending(&consumer, &theirs, "AGREED").await;
    assert_eq!(decide(&consumer, &theirs, "verify", json!({})).await.status, 204);
    wait_for_state(&consumer, &theirs, &["FINALIZED"]).await;
    wait_for_state(&provider, &ours, &["FINALIZED"]).await;

    // One that did not choose to decide on offers refuses it at once, and the provider learns why.
    let created = provider.connector.post("/v3/contractnegotiations/offers", &offer(&plain, "held", "open")).await;
    let refused = created.body["@id"].as_str().unwrap().to_string();
    let ended = wait_for_state(&provider, &refused, &["TERMINATED"]).await;
    assert!(
        ended["errorDetail"].as_str().unwrap_or_default().contains("takes no offers it did not ask for"),
        "{ended}"
    );
}

#[tokio::test]
async fn an_asset_with_an_unknown_approval_is_refused() {
    let (_consumer, provider) = trusting_pair().await;
    let asset = json!({ "@context": { "@vocab": EDC }, "@id": "x", "properties": {},
        "privateProperties": { "approval": "always" }, "dataAddress": { "type": "HttpData", "baseUrl": "http://b" } });
    let reply = provider.connector.post("/v3/assets", &asset).await;
    assert_eq!(reply.status, 400);
    assert_eq!(message(&reply), "approval 'always' is unknown: name 'negotiation', 'finalization' and/or 'transfer'");
    assert_eq!(reply.body[0]["path"], format!("{EDC}privateProperties/{EDC}approval"));
}
