// SPDX-License-Identifier: Apache-2.0
//! The chaos campaign: a provider and a consumer, each a `dsc` process on its own PostgreSQL database, run mixed
//! negotiations and HTTP and Kafka transfers with suspend, resume and terminate, while one or the other is killed
//! with SIGKILL at random moments and restarted. Afterwards, once the state machines have settled:
//! - every negotiation and transfer is in a final or resting state, the same on both sides;
//! - each agreement exists once on each side, and both sides hold the same ones;
//! - the broker's ACLs on the campaign's topic are exactly those of the STARTED Kafka transfers' EDRs.
//!
//! Small in the test command (`DSC_CHAOS_SECONDS`, 30 by default; `DSC_CHAOS_SEED` repeats a run), longer by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::kafka::{self, *};
use crate::support::process::*;
use crate::support::{self, API_KEY};

const KAFKA_ASSET: &str = "asset-1";
const HTTP_ASSET: &str = "asset-2";
/// States no state machine moves on from by itself.
const RESTING: &[&str] = &["STARTED", "SUSPENDED", "TERMINATED", "COMPLETED"];

/// A request that may meet a node that is down: the status and body, or `None` without an answer.
async fn try_send(method: reqwest::Method, url: &str, body: Option<&Value>) -> Option<(u16, Value)> {
    let mut request = support::client()
        .request(method, url)
        .header("X-Api-Key", API_KEY)
        .header("content-type", "application/json")
        .timeout(Duration::from_secs(10));
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// The contract request for `asset` from the provider's catalog, as the consumer sees it.
async fn request_for(consumer: &Node, provider: &Node, asset: &str) -> Value {
    let catalog = post(
        consumer.management_url("/v3/catalog/request"),
        &json!({ "@context": { "@vocab": EDC }, "counterPartyAddress": provider.protocol_address(),
                 "counterPartyId": provider.did, "protocol": "dataspace-protocol-http:2025-1" }),
    )
    .await;
    let datasets = match &catalog.body["dataset"] {
        Value::Array(all) => all.clone(),
        one => vec![one.clone()],
    };
    let dataset =
        datasets.into_iter().find(|d| d["@id"] == asset).unwrap_or_else(|| panic!("{asset}: {}", catalog.body));
    let counter_party = dsc_kafka_client::Provider { address: provider.protocol_address(), id: provider.did.clone() };
    dsc_kafka_client::contract_request(&dataset, asset, &counter_party).unwrap()
}

/// Every entity of `kind` on `node` (`/v3/<kind>/request`), by id.
async fn everything(node: &Node, kind: &str) -> BTreeMap<String, Value> {
    all(node, &format!("/v3/{kind}/request"))
        .await
        .into_iter()
        .filter_map(|e| e["@id"].as_str().map(|id| (id.to_string(), e.clone())))
        .collect()
}

#[derive(Default, Debug)]
struct Counts {
    negotiations: usize,
    transfers: BTreeMap<&'static str, usize>,
    commands: BTreeMap<&'static str, usize>,
    unanswered: usize,
    kills: BTreeMap<&'static str, usize>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_provider_and_consumer_at_random_leaves_every_entity_consistent() {
    let Some(h) = kafka::harness() else { return };
    let Some(provider_db) = support::fresh_postgres_database().await else { return };
    let Some(consumer_db) = support::fresh_postgres_database().await else { return };
    let seconds: u64 = std::env::var("DSC_CHAOS_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let seed: u64 = std::env::var("DSC_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    println!("chaos: seed {seed} (DSC_CHAOS_SEED repeats this run), {seconds} s of kills");
    let mut random = StdRng::seed_from_u64(seed);

    let topic = unique("kafka-pull-chaos");
    h.create_topic(&topic).await;
    let backend = support::edc::backend().await;
    let database = |url: &str| format!("\"edc.datasource.default.url\" = \"{url}\"\n");
    let quick = "\"edc.transfer.send.retry.base-delay.ms\" = 200\n\"edc.negotiation.consumer.send.retry.base-delay.ms\" = 200\n\
                 \"edc.negotiation.provider.send.retry.base-delay.ms\" = 200\n\"dsc.kafka.reconciler.interval.seconds\" = 1\n\
                 \"dsc.kafka.reconciler.grace.seconds\" = 2\n";
    let pair = pair(
        &h,
        &h.provider_config(None, &format!("{}{quick}", database(&provider_db))),
        &format!("{}{quick}", database(&consumer_db)),
    )
    .await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    for (path, body) in [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": HTTP_ASSET, "properties": {},
                               "dataAddress": { "type": "HttpData", "baseUrl": backend } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "cd-2", "accessPolicyId": "bpn",
                               "contractPolicyId": "bpn", "assetsSelector": [{ "operandLeft": format!("{EDC}id"),
                               "operator": "=", "operandRight": HTTP_ASSET }] }),
        ),
    ] {
        assert_eq!(post(pair.provider.management_url(path), &body).await.status, 200, "{path}");
    }
    let requests = [
        (KAFKA_ASSET, request_for(&pair.consumer, &pair.provider, KAFKA_ASSET).await),
        (HTTP_ASSET, request_for(&pair.consumer, &pair.provider, HTTP_ASSET).await),
    ];
    let (consumer_url, provider_address) = (pair.consumer.management_url(""), pair.provider.protocol_address());
    let Pair { consumer, provider, _dir } = pair;
    let nodes = [("consumer", Arc::new(Mutex::new(consumer))), ("provider", Arc::new(Mutex::new(provider)))];

    // The killer: every 1-4 s one of the two dies without warning and comes back on the same database and vault.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let killer = {
        let (nodes, stop) = (nodes.clone(), stop.clone());
        let mut random = StdRng::seed_from_u64(seed ^ 0x5eed);
        tokio::spawn(async move {
            let mut kills: BTreeMap<&'static str, usize> = BTreeMap::new();
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(random.random_range(1000..4000))).await;
                let (name, node) = &nodes[random.random_range(0..2)];
                let mut node = node.lock().await;
                node.crash();
                *kills.entry(*name).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(random.random_range(0..500))).await;
                node.start().await;
            }
            kills
        })
    };

    // The driver: negotiations, transfers on their agreements, and commands on the transfers, picked at random.
    let mut counts = Counts::default();
    let mut agreements: Vec<(&'static str, String)> = Vec::new();
    let mut negotiations: Vec<(&'static str, String)> = Vec::new();
    let mut transfers: Vec<(&'static str, String)> = Vec::new();
    let chaos_ends = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < chaos_ends {
        let roll = random.random_range(0..10);
        if roll < 3 || agreements.is_empty() {
            let (asset, request) = &requests[random.random_range(0..2)];
            match try_send(reqwest::Method::POST, &format!("{consumer_url}/v3/contractnegotiations"), Some(request))
                .await
            {
                Some((200, body)) => {
                    counts.negotiations += 1;
                    negotiations.push((asset, body["@id"].as_str().unwrap_or_default().to_string()));
                }
                _ => counts.unanswered += 1,
            }
        } else if roll < 6 {
            let (asset, agreement) = &agreements[random.random_range(0..agreements.len())];
            let transfer_type = if *asset == KAFKA_ASSET { "KafkaBroker-PULL" } else { "HttpData-PULL" };
            let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
                "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": provider_address,
                "contractId": agreement, "transferType": transfer_type });
            match try_send(reqwest::Method::POST, &format!("{consumer_url}/v3/transferprocesses"), Some(&request)).await
            {
                Some((200, body)) => {
                    *counts.transfers.entry(transfer_type).or_default() += 1;
                    transfers.push((asset, body["@id"].as_str().unwrap_or_default().to_string()));
                }
                _ => counts.unanswered += 1,
            }
        } else if !transfers.is_empty() {
            let (_, transfer) = &transfers[random.random_range(0..transfers.len())];
            let action = ["suspend", "resume", "terminate", "suspend", "resume"][random.random_range(0..5)];
            let body = json!({ "@context": { "@vocab": EDC }, "reason": "chaos" });
            let url = format!("{consumer_url}/v3/transferprocesses/{transfer}/{action}");
            match try_send(reqwest::Method::POST, &url, Some(&body)).await {
                Some((204, _)) => *counts.commands.entry(action).or_default() += 1,
                Some(_) => {} // not allowed in the transfer's state just now
                None => counts.unanswered += 1,
            }
        }
        // Agreements as they come: a transfer needs a FINALIZED negotiation.
        if agreements.len() < negotiations.len() && random.random_range(0..3) == 0 {
            for (asset, id) in &negotiations {
                let url = format!("{consumer_url}/v3/contractnegotiations/{id}");
                if let Some((200, body)) = try_send(reqwest::Method::GET, &url, None).await
                    && body["state"] == "FINALIZED"
                    && let Some(agreement) = body["contractAgreementId"].as_str()
                    && !agreements.iter().any(|(_, known)| known == agreement)
                {
                    agreements.push((asset, agreement.to_string()));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(random.random_range(20..120))).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    counts.kills = killer.await.unwrap();
    let [(_, consumer), (_, provider)] = nodes;
    let (consumer, provider) = (consumer.lock().await, provider.lock().await);
    println!("chaos: {counts:?}");

    // Settling: leases of the killed processes expire (30 s), retries run out or succeed.
    let deadline = Instant::now() + Duration::from_secs(180);
    let (consumer_negotiations, provider_negotiations, consumer_transfers, provider_transfers) = loop {
        let snapshot = (
            everything(&consumer, "contractnegotiations").await,
            everything(&provider, "contractnegotiations").await,
            everything(&consumer, "transferprocesses").await,
            everything(&provider, "transferprocesses").await,
        );
        let negotiations_ended = |all: &BTreeMap<String, Value>| {
            all.values().all(|n| matches!(n["state"].as_str(), Some("FINALIZED" | "TERMINATED")))
        };
        let transfers_rest =
            |all: &BTreeMap<String, Value>| all.values().all(|t| RESTING.contains(&t["state"].as_str().unwrap_or("")));
        let by_correlation: BTreeMap<&str, &str> =
            snapshot.3.values().filter_map(|t| Some((t["correlationId"].as_str()?, t["state"].as_str()?))).collect();
        let sides_agree = snapshot.2.iter().all(|(id, t)| {
            let state = t["state"].as_str().unwrap_or("");
            by_correlation.get(id.as_str()).map_or(state == "TERMINATED", |other| *other == state)
        });
        let settled = negotiations_ended(&snapshot.0)
            && negotiations_ended(&snapshot.1)
            && transfers_rest(&snapshot.2)
            && transfers_rest(&snapshot.3)
            && sides_agree
            && negotiations.iter().all(|(_, id)| snapshot.0.contains_key(id));
        if settled {
            break snapshot;
        }
        if Instant::now() > deadline {
            let open = |all: &BTreeMap<String, Value>| -> Vec<String> {
                all.values()
                    .filter(|e| {
                        !matches!(
                            e["state"].as_str(),
                            Some("FINALIZED" | "TERMINATED" | "STARTED" | "SUSPENDED" | "COMPLETED")
                        )
                    })
                    .map(|e| format!("{} {} {}", e["@id"], e["state"], e["errorDetail"]))
                    .collect()
            };
            let disagreeing: Vec<String> = snapshot
                .2
                .iter()
                .filter(|(id, t)| {
                    by_correlation.get(id.as_str()).is_some_and(|other| Some(*other) != t["state"].as_str())
                })
                .map(|(id, t)| format!("{id}: consumer {} provider {}", t["state"], by_correlation[id.as_str()]))
                .collect();
            panic!(
                "not settled after 180 s (seed {seed}):\nconsumer negotiations {} (of {} asked) open {:?}\nprovider negotiations open {:?}\n\
                 consumer transfers open {:?}\nprovider transfers open {:?}\nsides disagree: {disagreeing:?}\n{}\n{}",
                snapshot.0.len(),
                counts.negotiations,
                open(&snapshot.0),
                open(&snapshot.1),
                open(&snapshot.2),
                open(&snapshot.3),
                consumer.log_tail(),
                provider.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // Agreements: one per FINALIZED negotiation on each side, the same on both.
    let agreement_ids = |all: &BTreeMap<String, Value>| -> Vec<String> {
        all.values()
            .filter(|n| n["state"] == "FINALIZED")
            .filter_map(|n| n["contractAgreementId"].as_str().map(str::to_string))
            .collect()
    };
    let consumer_agreements: BTreeSet<String> = agreement_ids(&consumer_negotiations).into_iter().collect();
    let provider_agreements = everything(&provider, "contractagreements").await;
    let stored_on_consumer = everything(&consumer, "contractagreements").await;
    assert_eq!(consumer_agreements.len(), agreement_ids(&consumer_negotiations).len(), "an agreement named twice");
    assert_eq!(provider_agreements.keys().cloned().collect::<BTreeSet<_>>(), consumer_agreements, "agreements differ");
    assert_eq!(stored_on_consumer.keys().cloned().collect::<BTreeSet<_>>(), consumer_agreements);
    assert_eq!(agreement_ids(&provider_negotiations).len(), provider_agreements.len(), "duplicated agreements");

    // Kafka: the topic's readers are exactly the principals of the STARTED Kafka transfers' EDRs.
    let started_kafka: Vec<&String> = consumer_transfers
        .iter()
        .filter(|(_, t)| t["state"] == "STARTED" && t["transferType"] == "KafkaBroker-PULL")
        .map(|(id, _)| id)
        .collect();
    let mut expected = BTreeSet::new();
    for id in &started_kafka {
        expected.insert(principal_of(&edr(&consumer, id).await, &h.principal_claim));
    }
    h.await_topic_readers(&topic, &expected, &format!("chaos seed {seed}")).await;
    let states = |all: &BTreeMap<String, Value>| -> BTreeMap<String, usize> {
        let mut states = BTreeMap::new();
        for entity in all.values() {
            *states.entry(entity["state"].as_str().unwrap_or("?").to_string()).or_default() += 1;
        }
        states
    };
    println!(
        "chaos: settled; negotiations {:?}, transfers {:?}, {} agreements on each side, {} Kafka readers = STARTED Kafka transfers",
        states(&consumer_negotiations),
        states(&consumer_transfers),
        consumer_agreements.len(),
        started_kafka.len()
    );
    let lost: Vec<&String> =
        transfers.iter().map(|(_, id)| id).filter(|id| !consumer_transfers.contains_key(*id)).collect();
    assert!(lost.is_empty(), "transfers the consumer accepted and lost: {lost:?}");
    assert!(provider_transfers.len() <= consumer_transfers.len(), "the provider holds transfers nobody asked for");
}
