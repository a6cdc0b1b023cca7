// SPDX-License-Identifier: Apache-2.0
//! Many concurrent transfers.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::kafka::{self, *};
use crate::support::process::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_transfers_each_get_their_own_identity_and_ending_one_disturbs_no_other() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TRANSFERS: usize = 100;
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-many");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(50));
    let pair = pair(&h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let started = Instant::now();
    let requests: Vec<_> = (0..TRANSFERS)
        .map(|_| {
            let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
                "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": pair.provider.protocol_address(),
                "contractId": agreement, "transferType": "KafkaBroker-PULL" });
            let url = pair.consumer.management_url("/v3/transferprocesses");
            tokio::spawn(async move { post(url, &request).await })
        })
        .collect();
    let mut transfers = Vec::new();
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        transfers.push(reply.body["@id"].as_str().unwrap_or_default().to_string());
    }
    for id in &transfers {
        wait_for_transfer(&pair.consumer, id, "STARTED", Duration::from_secs(120)).await;
    }
    println!("{TRANSFERS} concurrent Kafka transfers STARTED in {} ms", started.elapsed().as_millis());

    let mut edrs = Vec::new();
    for id in &transfers {
        edrs.push(edr(&pair.consumer, id).await);
    }
    let principals: std::collections::BTreeSet<String> =
        edrs.iter().map(|e| principal_of(e, &h.principal_claim)).collect();
    let prefixes: std::collections::BTreeSet<String> =
        edrs.iter().map(|e| e["kafka.group.prefix"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!((principals.len(), prefixes.len()), (TRANSFERS, TRANSFERS), "one principal and prefix per transfer");
    let acls = h.acl_admin().all_acls().await.unwrap();
    for edr in &edrs {
        let principal = principal_of(edr, &h.principal_claim);
        let own: Vec<_> = acls.iter().filter(|b| b.principal == principal).cloned().collect();
        assert_eq!(own, acls_for(edr, &h.principal_claim, &topic), "{principal}");
    }

    // A consumer of transfer 1 keeps reading while transfer 0 ends; only transfer 0's ACLs go.
    let received = Arc::new(AtomicUsize::new(0));
    let polling = {
        let (edr, source, group, received) = (
            edrs[1].clone(),
            TokenSource::edr(&pair.consumer, &transfers[1]),
            format!("{}app", edrs[1]["kafka.group.prefix"].as_str().unwrap_or_default()),
            received.clone(),
        );
        tokio::task::spawn_blocking(move || {
            kafka::read_until_denied(&reader(&edr, source, &group), &received, Duration::from_secs(15))
        })
    };
    while received.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    command(&pair.consumer, &transfers[0], "terminate").await;
    let provider_0 = provider_transfer_of(&pair.provider, &transfers[0]).await;
    wait_for_transfer(&pair.provider, &provider_0, "TERMINATED", Duration::from_secs(20)).await;
    let at_termination = received.load(Ordering::SeqCst);
    assert_eq!(polling.await.unwrap(), None, "transfer 1 was cut off");
    assert!(received.load(Ordering::SeqCst) > at_termination, "transfer 1 kept reading");
    let after = h.acl_admin().all_acls().await.unwrap();
    let first = principal_of(&edrs[0], &h.principal_claim);
    assert!(!after.iter().any(|b| b.principal == first), "transfer 0's ACLs are gone");
    for edr in &edrs[1..] {
        let principal = principal_of(edr, &h.principal_claim);
        assert_eq!(after.iter().filter(|b| b.principal == principal).count(), 3, "{principal} lost ACLs");
    }

    let ending = Instant::now();
    for id in &transfers[1..] {
        command(&pair.consumer, id, "terminate").await;
    }
    for id in &transfers[1..] {
        wait_for_transfer(&pair.consumer, id, "TERMINATED", Duration::from_secs(60)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = h.acl_admin().all_acls().await.unwrap();
        let remaining = left.iter().filter(|b| principals.contains(&b.principal)).count();
        if remaining == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{remaining} ACLs of terminated transfers left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("{} transfers terminated and their ACLs removed in {} ms", TRANSFERS - 1, ending.elapsed().as_millis());
    feeder.abort();
}
