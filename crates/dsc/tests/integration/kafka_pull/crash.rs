// SPDX-License-Identifier: Apache-2.0
//! kill -9 of the provider while it grants access.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::kafka::{self, *};
use crate::support;
use crate::support::process::*;

/// A TCP relay in front of the consumer's protocol port: the provider's DSP messages go through it, and the test
/// can close it (the consumer is unreachable for the provider, nothing else changes). Closing also cuts the
/// connections the provider keeps alive in its pool.
struct Relay {
    port: u16,
    open: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(target: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let (open, gate) = tokio::sync::watch::channel(true);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*gate.borrow() {
                    continue; // dropped: the connection is closed at once
                }
                let mut closing = gate.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = closing.wait_for(|open| !*open) => {}
                        }
                    }
                });
            }
        });
        Relay { port, open, task }
    }

    fn set_open(&self, open: bool) {
        let _ = self.open.send(open);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The principals holding the GROUP PREFIXED ACL of each provider transfer's group prefix.
async fn holders(h: &KafkaHarness, provider_transfers: &[String]) -> Vec<Vec<String>> {
    let acls = h.acl_admin().all_acls().await.unwrap();
    provider_transfers
        .iter()
        .map(|id| {
            let prefix = format!("dsc-{id}.");
            let mut principals: Vec<String> = acls
                .iter()
                .filter(|b| b.resource == "GROUP" && b.name == prefix)
                .map(|b| b.principal.clone())
                .collect();
            principals.sort();
            principals
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_killed_between_granting_access_and_the_start_message_is_consistent_after_restart() {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-c");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(100));
    let consumer_protocol = free_port();
    let relay = Relay::to(consumer_protocol).await;
    let dir = tempfile::tempdir().unwrap();
    let consumer_ports = (free_port(), free_port(), consumer_protocol, free_port());
    let provider_ports = (free_port(), free_port(), free_port(), free_port());
    let consumer_did = format!("did:web:127.0.0.1%3A{consumer_protocol}");
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer = Node::with_ports(
        dir.path(),
        "consumer",
        &[(provider_did, "BPNL000000000001".into())],
        &format!("\"edc.dsp.callback.address\" = \"http://127.0.0.1:{}/api/v1/dsp\"\n", relay.port),
        consumer_ports,
    );
    let provider_extra = h.provider_config(
        None,
        "\"edc.transfer.send.retry.base-delay.ms\" = 100\n\"dsc.kafka.reconciler.interval.seconds\" = 1\n\
         \"dsc.kafka.reconciler.grace.seconds\" = 1\n",
    );
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did, CONSUMER_BPN.into())],
        &provider_extra,
        provider_ports,
    );
    consumer.start().await;
    provider.start().await;
    h.store_secrets(&provider).await;
    h.offer_topic(&provider, &topic, CONSUMER_BPN, false).await;
    let pair = Pair { consumer, provider, _dir: dir };
    let agreement = agreement(&pair).await;

    // The consumer becomes unreachable for the provider: each start grants Kafka access, then the start message
    // cannot be delivered.
    relay.set_open(false);
    let mut transfers = Vec::new();
    for _ in 0..5 {
        transfers.push(request_transfer(&pair, &agreement, "KafkaBroker-PULL").await);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let provider_transfers = loop {
        let reply = post(
            pair.provider.management_url("/v3/transferprocesses/request"),
            &json!({ "@context": { "@vocab": EDC }, "limit": 100 }),
        )
        .await;
        let ids: Vec<String> =
            reply.body.as_array().into_iter().flatten().filter_map(|t| t["@id"].as_str().map(str::to_string)).collect();
        if ids.len() == transfers.len() && holders(&h, &ids).await.iter().all(|p| p.len() == 1) {
            break ids;
        }
        assert!(Instant::now() < deadline, "the provider did not grant access for every transfer: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let granted = holders(&h, &provider_transfers).await;
    for id in &transfers {
        let state = support::send(
            reqwest::Method::GET,
            &pair.consumer.management_url(&format!("/v3/transferprocesses/{id}")),
            Some(support::API_KEY),
            None,
        )
        .await;
        assert_ne!(state.body["state"], "STARTED", "the start message got through the closed relay");
    }

    // kill -9, then restart on the same database and vault, and let the consumer be reachable again.
    let mut pair = pair;
    pair.provider.crash();
    assert_eq!(holders(&h, &provider_transfers).await, granted, "a crash removes nothing");
    relay.set_open(true);
    pair.provider.start().await;
    for id in &transfers {
        wait_for_transfer(&pair.consumer, id, "STARTED", Duration::from_secs(60)).await;
    }

    // Each transfer has exactly one principal with exactly its three ACLs, and it is the one in the EDR.
    let after = holders(&h, &provider_transfers).await;
    let admin = h.acl_admin();
    for (index, id) in transfers.iter().enumerate() {
        let edr = edr(&pair.consumer, id).await;
        let principal = principal_of(&edr, &h.principal_claim);
        assert_eq!(after[index], vec![principal.clone()], "transfer {id}: the broker's principals");
        let acls = admin.acls_of(&principal).await.unwrap();
        assert_eq!(acls, acls_for(&edr, &h.principal_claim, &topic), "{principal}");
    }
    let (first_edr, source, group) = (
        edr(&pair.consumer, &transfers[0]).await,
        TokenSource::edr(&pair.consumer, &transfers[0]),
        format!("dsc-{}.app", provider_transfers[0]),
    );
    let outcome = blocking(move || reader(&first_edr, source, &group).poll(3, Duration::from_secs(30))).await;
    assert_eq!(outcome, Outcome::Records(3), "the EDR delivered after the restart reads");
    for id in &transfers {
        command(&pair.consumer, id, "terminate").await;
    }
    for id in &provider_transfers {
        wait_for_transfer(&pair.provider, id, "TERMINATED", Duration::from_secs(20)).await;
    }
    assert!(holders(&h, &provider_transfers).await.iter().all(Vec::is_empty), "terminated transfers left ACLs");

    // kill -9 in the middle of ten concurrent starts (some granted, some half-way, some not begun): after the
    // restart every transfer starts, and the broker holds exactly the ACLs of the EDRs the consumer got.
    let mut transfers = Vec::new();
    for _ in 0..10 {
        transfers.push(request_transfer(&pair, &agreement, "KafkaBroker-PULL").await);
    }
    let readers_of_topic = |acls: Vec<dsc_kafka_admin::AclBinding>| -> std::collections::BTreeSet<String> {
        acls.into_iter().filter(|b| b.resource == "TOPIC" && b.name == topic).map(|b| b.principal).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while readers_of_topic(h.acl_admin().all_acls().await.unwrap_or_default()).is_empty() {
        assert!(Instant::now() < deadline, "no grant was made");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pair.provider.crash();
    let at_crash = readers_of_topic(h.acl_admin().all_acls().await.unwrap_or_default()).len();
    pair.provider.start().await;
    for id in &transfers {
        wait_for_transfer(&pair.consumer, id, "STARTED", Duration::from_secs(60)).await;
    }
    // A start message delivered just before the crash is sent again after the restart, with a new grant (the
    // old one is revoked): the consumer's EDRs may change once more, so both sides are read until they agree.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut expected = std::collections::BTreeSet::new();
        for id in &transfers {
            expected.insert(principal_of(&edr(&pair.consumer, id).await, &h.principal_claim));
        }
        let readers = readers_of_topic(h.acl_admin().all_acls().await.unwrap_or_default());
        if readers == expected && expected.len() == transfers.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broker's readers of {topic} differ from the EDRs' principals:\n{readers:?}\n{expected:?}\n{}",
            pair.provider.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("killed with {at_crash} of 10 grants on the broker; after the restart all 10 started, ACLs consistent");
    feeder.abort();
}
