// SPDX-License-Identifier: Apache-2.0
//! Connector-side steps of a Kafka PULL test: a provider/consumer pair, agreements, transfers and their EDRs.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::process::{Node, contract_request, post};
use crate::support::{self, API_KEY, send};

use super::*;

/// The EDR of a started consumer transfer.
pub async fn edr(consumer: &Node, transfer: &str) -> Value {
    let reply = send(
        reqwest::Method::GET,
        &consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress")),
        Some(API_KEY),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "EDR of {transfer}: {}", reply.body);
    reply.body
}

/// Waits until the transfer reaches `state` on `node`; returns the transfer.
pub async fn wait_for_transfer(node: &Node, id: &str, state: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let reply = send(
            reqwest::Method::GET,
            &node.management_url(&format!("/v3/transferprocesses/{id}")),
            Some(API_KEY),
            None,
        )
        .await;
        if reply.body["state"] == state {
            return reply.body;
        }
        assert!(
            Instant::now() < deadline,
            "transfer {id} is {} (waiting for {state}): {}\n{}",
            reply.body["state"],
            reply.body,
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The provider's id of the consumer's transfer (its correlation id is the consumer's id).
pub async fn provider_transfer_of(provider: &Node, consumer_transfer: &str) -> String {
    let reply = post(
        provider.management_url("/v3/transferprocesses/request"),
        &json!({ "@context": { "@vocab": EDC }, "limit": 10000 }),
    )
    .await;
    reply
        .body
        .as_array()
        .and_then(|all| all.iter().find(|t| t["correlationId"] == consumer_transfer))
        .and_then(|t| t["@id"].as_str())
        .unwrap_or_else(|| panic!("the provider has no transfer for {consumer_transfer}: {}", reply.body))
        .to_string()
}

/// A client-credentials token request with the transfer's own OAuth client (Mobility Data Space style EDR).
pub async fn client_credentials(h: &KafkaHarness, edr: &Value) -> (u16, Value) {
    let text = |key: &str| edr[key].as_str().unwrap_or_else(|| panic!("EDR without {key}: {edr}")).to_string();
    let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
    if let Some(resource) = &h.resource {
        form.push(("resource".into(), resource.clone()));
    }
    let response = crate::support::client()
        .post(text("tokenEndpoint"))
        .basic_auth(text("clientId"), Some(text("clientSecret")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            reqwest::Url::parse_with_params("http://form/", &form)
                .map(|url| url.query().unwrap_or_default().to_string())
                .unwrap_or_default(),
        )
        .send()
        .await
        .expect("token endpoint");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub const CONSUMER_BPN: &str = "BPNL000000000002";

pub struct Pair {
    pub consumer: Node,
    pub provider: Node,
    pub _dir: tempfile::TempDir,
}

/// A consumer and a provider trusting each other; the provider runs Kafka PULL with `provider_extra` settings.
pub async fn pair(h: &KafkaHarness, provider_extra: &str, consumer_extra: &str) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let (mut consumer, mut provider) = Node::trusting_pair(dir.path(), consumer_extra, provider_extra);
    consumer.start().await;
    provider.start().await;
    h.store_secrets(&provider).await;
    Pair { consumer, provider, _dir: dir }
}

pub async fn agreement(pair: &Pair) -> String {
    let request = contract_request(&pair.consumer, &pair.provider).await;
    let created = post(pair.consumer.management_url("/v3/contractnegotiations"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = support::send(
            reqwest::Method::GET,
            &pair.consumer.management_url(&format!("/v3/contractnegotiations/{id}")),
            Some(support::API_KEY),
            None,
        )
        .await;
        match reply.body["state"].as_str() {
            Some("FINALIZED") => return reply.body["contractAgreementId"].as_str().unwrap_or_default().to_string(),
            Some("TERMINATED") => panic!("negotiation terminated: {}\n{}", reply.body, pair.provider.log_tail()),
            _ => {}
        }
        assert!(Instant::now() < deadline, "negotiation did not end: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asks for a transfer; returns the consumer's transfer id (without waiting).
pub async fn request_transfer(pair: &Pair, agreement: &str, transfer_type: &str) -> String {
    let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": pair.provider.protocol_address(),
        "contractId": agreement, "transferType": transfer_type });
    let created = post(pair.consumer.management_url("/v3/transferprocesses"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    created.body["@id"].as_str().unwrap_or_default().to_string()
}

/// A new topic offered by a provider to the consumer of a new pair (default configuration), and a started
/// KafkaBroker-PULL transfer of it: (topic, pair, consumer-side transfer id).
pub async fn topic_transfer(h: &KafkaHarness, topic_prefix: &str) -> (String, Pair, String) {
    let topic = unique(topic_prefix);
    h.create_topic(&topic).await;
    let pair = pair(h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    (topic, pair, transfer)
}

pub async fn started_transfer(pair: &Pair, agreement: &str, transfer_type: &str) -> String {
    let id = request_transfer(pair, agreement, transfer_type).await;
    wait_for_transfer(&pair.consumer, &id, "STARTED", Duration::from_secs(30)).await;
    id
}

pub async fn command(node: &Node, transfer: &str, action: &str) {
    let body = json!({ "@context": { "@vocab": EDC }, "reason": format!("{action} by the test") });
    let reply = post(node.management_url(&format!("/v3/transferprocesses/{transfer}/{action}")), &body).await;
    assert_eq!(reply.status, 204, "{action}: {}", reply.body);
}
