// SPDX-License-Identifier: Apache-2.0
//! Crash safety with real processes: 100 concurrent negotiations between two `dsc` processes while first the
//! provider and then the consumer are killed with SIGKILL and restarted on the same data. Every negotiation must
//! still reach FINALIZED, and each with exactly one agreement, the same on both sides.

use crate::support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use support::process::{Node, all, contract_request, free_port, provision};

const NEGOTIATIONS: usize = 100;

/// A pause of `base` plus up to 200 ms, different on every run, so the kills land at varying points.
fn jittered(base: u64) -> Duration {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    Duration::from_millis(base + u64::from(nanos % 200))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn negotiations_survive_kill_9_of_either_side() {
    let dir = tempfile::tempdir().unwrap();
    let (consumer_ports, provider_ports) =
        ((free_port(), free_port(), free_port(), free_port()), (free_port(), free_port(), free_port(), free_port()));
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer = Node::with_ports(
        dir.path(),
        "consumer",
        &[(provider_did.clone(), "BPNL000000000001".into())],
        "",
        consumer_ports,
    );
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did.clone(), "BPNL000000000002".into())],
        "",
        provider_ports,
    );
    consumer.start().await;
    provider.start().await;
    provision(&provider, "BPNL000000000002").await;
    let request = contract_request(&consumer, &provider).await;

    // Start all negotiations at once, and kill the provider while they are in flight.
    let creations = support::process::start_negotiations(&consumer, &request, NEGOTIATIONS);
    tokio::time::sleep(jittered(50)).await;
    provider.crash();
    let mut created = BTreeSet::new();
    for creation in creations {
        let reply = creation.await.unwrap();
        assert_eq!(reply.status, 200, "the consumer was up: {}", reply.body);
        created.insert(reply.body["@id"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(created.len(), NEGOTIATIONS);
    tokio::time::sleep(Duration::from_millis(300)).await;
    provider.start().await;
    // Now the consumer dies mid-flight.
    tokio::time::sleep(jittered(50)).await;
    consumer.crash();
    tokio::time::sleep(Duration::from_millis(300)).await;
    consumer.start().await;

    let negotiations =
        support::process::wait_until_all_ended(&consumer, NEGOTIATIONS, &[&provider], Duration::from_secs(150)).await;
    let failed: Vec<&Value> = negotiations.iter().filter(|n| n["state"] != "FINALIZED").collect();
    if !failed.is_empty() {
        let provider_side: Vec<Value> = all(&provider, "/v3/contractnegotiations/request")
            .await
            .into_iter()
            .filter(|n| n["state"] != "FINALIZED")
            .map(|n| serde_json::json!({ "id": n["@id"], "state": n["state"], "error": n["errorDetail"], "agreement": n["contractAgreementId"] }))
            .collect();
        panic!("not finalized on the consumer: {failed:?}\nprovider side: {provider_side:?}");
    }

    // Exactly one agreement per negotiation, the same set on both sides.
    let consumer_agreements: BTreeSet<String> =
        negotiations.iter().filter_map(|n| n["contractAgreementId"].as_str().map(str::to_string)).collect();
    assert_eq!(consumer_agreements.len(), NEGOTIATIONS, "agreement ids are unique");
    let provider_agreements: Vec<String> = all(&provider, "/v3/contractagreements/request")
        .await
        .iter()
        .filter_map(|a| a["@id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(provider_agreements.len(), NEGOTIATIONS, "no duplicate agreements on the provider");
    assert_eq!(provider_agreements.into_iter().collect::<BTreeSet<_>>(), consumer_agreements);
    let provider_negotiations = all(&provider, "/v3/contractnegotiations/request").await;
    assert_eq!(provider_negotiations.len(), NEGOTIATIONS, "repeated requests did not create extra negotiations");
    assert!(provider_negotiations.iter().all(|n| n["state"] == "FINALIZED"));
}
