// SPDX-License-Identifier: Apache-2.0
//! Two provider replicas on one PostgreSQL database share the work of 200 concurrent negotiations. Leases make
//! sure no negotiation is processed twice: checked in the stores, not the logs — one agreement per negotiation,
//! the same agreements on both sides, every negotiation FINALIZED.

use crate::support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use support::process::{Node, all, contract_request, free_port, provision};

const NEGOTIATIONS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_provider_replicas_never_process_a_negotiation_twice() {
    let Some(database) = support::fresh_postgres_database().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let ports = || (free_port(), free_port(), free_port(), free_port());
    let (consumer_ports, provider_ports) = (ports(), ports());
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let shared_database = format!("\"edc.datasource.default.url\" = \"{database}\"\n");
    let mut consumer = Node::with_ports(
        dir.path(),
        "consumer",
        &[(provider_did.clone(), "BPNL000000000001".into())],
        "",
        consumer_ports,
    );
    let mut replica_a = Node::with_ports(
        dir.path(),
        "provider-a",
        &[(consumer_did, "BPNL000000000002".into())],
        &shared_database,
        provider_ports,
    );
    consumer.start().await;
    replica_a.start().await;
    let mut replica_b = Node::replica_of(dir.path(), "provider-b", &replica_a, &shared_database);
    replica_b.start().await;
    provision(&replica_a, "BPNL000000000002").await;

    let request = contract_request(&consumer, &replica_a).await;
    let creations = support::process::start_negotiations(&consumer, &request, NEGOTIATIONS);
    for creation in creations {
        assert_eq!(creation.await.map(|r| r.status).unwrap_or_default(), 200);
    }

    let negotiations = support::process::wait_until_all_ended(
        &consumer,
        NEGOTIATIONS,
        &[&replica_a, &replica_b],
        Duration::from_secs(120),
    )
    .await;
    let not_final: Vec<&Value> = negotiations.iter().filter(|n| n["state"] != "FINALIZED").collect();
    assert!(not_final.is_empty(), "{not_final:?}");

    let provider_negotiations = all(&replica_b, "/v3/contractnegotiations/request").await;
    assert_eq!(provider_negotiations.len(), NEGOTIATIONS);
    assert!(provider_negotiations.iter().all(|n| n["state"] == "FINALIZED"));
    let provider_agreements: Vec<String> = all(&replica_a, "/v3/contractagreements/request")
        .await
        .iter()
        .filter_map(|a| a["@id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(provider_agreements.len(), NEGOTIATIONS, "exactly one agreement per negotiation");
    let consumer_agreements: BTreeSet<String> =
        negotiations.iter().filter_map(|n| n["contractAgreementId"].as_str().map(str::to_string)).collect();
    assert_eq!(provider_agreements.into_iter().collect::<BTreeSet<_>>(), consumer_agreements);
}
