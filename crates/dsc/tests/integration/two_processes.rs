// SPDX-License-Identifier: Apache-2.0
//! Provider and consumer as two real `dsc` processes: catalog, negotiation to FINALIZED with the same agreement
//! on both sides, and TERMINATED with the reason when the consumer does not satisfy the contract policy — on
//! SQLite and on PostgreSQL.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::process::{Node, contract_request, free_port, post, provision};

async fn state_of(node: &Node, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = support::send(
            reqwest::Method::GET,
            &node.management_url(&format!("/v3/contractnegotiations/{id}")),
            Some(support::API_KEY),
            None,
        )
        .await;
        if matches!(reply.body["state"].as_str(), Some("FINALIZED" | "TERMINATED")) {
            return reply.body;
        }
        assert!(Instant::now() < deadline, "negotiation {id} did not end: {}\n{}", reply.body, node.log_tail());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn scenario(databases: Option<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let ports = || (free_port(), free_port(), free_port(), free_port());
    let (consumer_ports, provider_ports) = (ports(), ports());
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let extra =
        |url: Option<&String>| url.map(|u| format!("\"edc.datasource.default.url\" = \"{u}\"\n")).unwrap_or_default();
    let mut consumer = Node::with_ports(
        dir.path(),
        "consumer",
        &[(provider_did.clone(), "BPNL000000000001".into())],
        &extra(databases.as_ref().map(|d| &d.0)),
        consumer_ports,
    );
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did, "BPNL000000000002".into())],
        &extra(databases.as_ref().map(|d| &d.1)),
        provider_ports,
    );
    consumer.start().await;
    provider.start().await;
    provision(&provider, "BPNL000000000002").await;

    let request = contract_request(&consumer, &provider).await;
    let created = post(consumer.management_url("/v3/contractnegotiations"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let finalized = state_of(&consumer, created.body["@id"].as_str().unwrap_or_default()).await;
    assert_eq!(finalized["state"], "FINALIZED", "{finalized}\n{}", provider.log_tail());
    let agreement_id = finalized["contractAgreementId"].as_str().unwrap_or_default().to_string();
    let on_provider = support::send(
        reqwest::Method::GET,
        &provider.management_url(&format!("/v3/contractagreements/{agreement_id}")),
        Some(support::API_KEY),
        None,
    )
    .await;
    assert_eq!(on_provider.status, 200, "the provider has the same agreement");
    assert_eq!(on_provider.body["consumerId"], consumer.did.as_str());

    // Tighten the contract policy to another business partner: the next negotiation is refused.
    let strict = json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@id": "strict",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use",
            "constraint": [{ "leftOperand": "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber", "operator": "eq", "rightOperand": "BPNL000000000099" }] }] } });
    assert_eq!(post(provider.management_url("/v3/policydefinitions"), &strict).await.status, 200);
    let definition = json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" }, "@id": "cd-1", "accessPolicyId": "bpn", "contractPolicyId": "strict",
        "assetsSelector": [{ "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id", "operator": "=", "operandRight": "asset-1" }] });
    let updated = support::send(
        reqwest::Method::PUT,
        &provider.management_url("/v3/contractdefinitions"),
        Some(support::API_KEY),
        Some(definition.to_string()),
    )
    .await;
    assert_eq!(updated.status, 204);
    let request = contract_request(&consumer, &provider).await;
    let created = post(consumer.management_url("/v3/contractnegotiations"), &request).await;
    let terminated = state_of(&consumer, created.body["@id"].as_str().unwrap_or_default()).await;
    assert_eq!(terminated["state"], "TERMINATED", "{terminated}");
    let reason = terminated["errorDetail"].as_str().unwrap_or_default();
    assert!(reason.contains("'BusinessPartnerNumber eq \"BPNL000000000099\"' is not satisfied"), "{reason}");
}

#[tokio::test]
async fn two_processes_negotiate_on_sqlite() {
    scenario(None).await;
}

#[tokio::test]
async fn two_processes_negotiate_on_postgresql() {
    let (Some(consumer), Some(provider)) =
        (support::fresh_postgres_database().await, support::fresh_postgres_database().await)
    else {
        return;
    };
    scenario(Some((consumer, provider))).await;
}
