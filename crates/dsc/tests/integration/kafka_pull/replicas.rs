// SPDX-License-Identifier: Apache-2.0
//! Three provider replicas on one PostgreSQL database, sharing the database vault, and a consumer: 300 negotiations
//! and 100 Kafka transfers spread over the replicas, suspended and terminated through either side and resumed, while
//! one replica is killed with SIGKILL and restarted. Afterwards:
//! - every negotiation is FINALIZED, each agreement exists once, the same on both sides;
//! - every transfer is in the state its commands asked for, the same on both sides;
//! - each STARTED transfer has its own principal, the broker's readers of the topic are exactly those, and each of
//!   them reads with its EDR;
//! - the metrics endpoint of every replica, parsed by the Prometheus project's parser, reports the database's
//!   figures (FINALIZED negotiations, STARTED transfers, ACTIVE grants), and exactly one replica reconciles.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::kafka::{self, *};
use crate::support;
use crate::support::process::*;

const NEGOTIATIONS: usize = 300;
const TRANSFERS: usize = 100;

/// The samples of a replica's `/metrics`, parsed by `prometheus_client.parser` (scripts/peers/python).
async fn scrape(node: &Node) -> Option<Vec<Value>> {
    let python = match std::env::var("TEST_PYTHON") {
        Ok(python) => python,
        Err(_) => {
            eprintln!("notice: TEST_PYTHON not set; the metrics are not parsed here (scripts/test.sh sets it)");
            return None;
        }
    };
    let response = support::client().get(format!("http://127.0.0.1:{}/api/metrics", node.health)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/peers/python/parse_metrics.py");
    let parsed = kafka::blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(python)
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "the Prometheus parser rejects /metrics: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    })
    .await;
    Some(serde_json::from_slice(&parsed).unwrap())
}

/// The value of the sample `name` whose labels include `labels`.
fn sample(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

async fn states(node: &Node) -> BTreeMap<String, Value> {
    all(node, "/v3/transferprocesses/request")
        .await
        .into_iter()
        .filter_map(|t| Some((t["@id"].as_str()?.to_string(), t)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_provider_replicas_share_negotiations_and_kafka_transfers_through_a_kill() {
    let Some(h) = kafka::harness() else { return };
    let Some(database) = support::fresh_postgres_database().await else { return };
    let topic = unique("kafka-pull-replicas");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(100));
    let shared = format!(
        "\"edc.datasource.default.url\" = \"{database}\"\n\"dsc.vault.type\" = \"database\"\n\
         \"dsc.vault.key\" = \"{key}\"\n\"dsc.kafka.reconciler.interval.seconds\" = 2\n\
         \"edc.transfer.send.retry.base-delay.ms\" = 200\n\"edc.negotiation.provider.send.retry.base-delay.ms\" = 200\n",
        key = dsc_vault::VaultKey::generate().to_base64()
    );
    let provider_config = h.provider_config(None, &shared);
    let pair = pair(&h, &provider_config, "\"edc.negotiation.consumer.send.retry.base-delay.ms\" = 200\n").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let Pair { consumer, provider: a, _dir: dir } = pair;
    // One after the other: the first start generated the participant's key into the shared vault.
    let mut b = Node::replica_of(dir.path(), "provider-b", &a, &provider_config);
    b.start().await;
    let mut c = Node::replica_of(dir.path(), "provider-c", &a, &provider_config);
    c.start().await;

    // Negotiations, a third through each replica's protocol address.
    let started = Instant::now();
    let mut creations = Vec::new();
    for replica in [&a, &b, &c] {
        let request = contract_request(&consumer, replica).await;
        creations.extend(start_negotiations(&consumer, &request, NEGOTIATIONS / 3));
    }
    for creation in creations {
        assert_eq!(creation.await.map(|r| r.status).unwrap_or_default(), 200);
    }
    let negotiations = wait_until_all_ended(&consumer, NEGOTIATIONS, &[&a, &b, &c], Duration::from_secs(240)).await;
    assert!(negotiations.iter().all(|n| n["state"] == "FINALIZED"), "{negotiations:?}");
    println!("replicas: {NEGOTIATIONS} negotiations FINALIZED in {} ms", started.elapsed().as_millis());
    let agreements: Vec<String> =
        negotiations.iter().filter_map(|n| n["contractAgreementId"].as_str().map(str::to_string)).collect();
    let provider_agreements: BTreeSet<String> = all(&b, "/v3/contractagreements/request")
        .await
        .iter()
        .filter_map(|a| a["@id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(provider_agreements.len(), NEGOTIATIONS, "exactly one agreement per negotiation");
    assert_eq!(provider_agreements, agreements.iter().cloned().collect::<BTreeSet<_>>());

    // Transfers, a third through each replica; replica C dies while they are being provisioned.
    let started = Instant::now();
    let replicas = [a.protocol_address(), b.protocol_address(), c.protocol_address()];
    let requests: Vec<_> = (0..TRANSFERS)
        .map(|index| {
            let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
                "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": replicas[index % 3],
                "contractId": agreements[index], "transferType": "KafkaBroker-PULL" });
            let url = consumer.management_url("/v3/transferprocesses");
            tokio::spawn(async move { post(url, &request).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.crash();
    let mut transfers = Vec::new();
    for request in requests {
        let reply = request.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        transfers.push(reply.body["@id"].as_str().unwrap_or_default().to_string());
    }
    let midway = scrape(&a).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.start().await;
    for id in &transfers {
        wait_for_transfer(&consumer, id, "STARTED", Duration::from_secs(180)).await;
    }
    println!(
        "replicas: {TRANSFERS} Kafka transfers STARTED in {} ms (replica C killed and restarted)",
        started.elapsed().as_millis()
    );
    if let Some(samples) = midway {
        assert!(samples.iter().any(|s| s["name"] == "dsc_http_requests_total"), "a scrape in the middle parses too");
    }

    // Commands through both sides (even through the consumer, odd through a provider replica): suspend the first
    // 30 and resume those the consumer suspended, terminate the next 20.
    let provider_ids: BTreeMap<String, String> = states(&a)
        .await
        .into_values()
        .filter_map(|t| Some((t["correlationId"].as_str()?.to_string(), t["@id"].as_str()?.to_string())))
        .collect();
    let nodes = [&a, &b, &c];
    let through = |index: usize| -> (&Node, String) {
        if index.is_multiple_of(2) {
            (&consumer, transfers[index].clone())
        } else {
            (nodes[index % 3], provider_ids[&transfers[index]].clone())
        }
    };
    let mut expected: BTreeMap<String, &str> = transfers.iter().map(|t| (t.clone(), "STARTED")).collect();
    for (index, transfer) in transfers.iter().enumerate().take(50) {
        let (node, id) = through(index);
        let (action, state) = if index < 30 { ("suspend", "SUSPENDED") } else { ("terminate", "TERMINATED") };
        command(node, &id, action).await;
        expected.insert(transfer.clone(), state);
    }
    for transfer in &transfers[..30] {
        wait_for_transfer(&consumer, transfer, "SUSPENDED", Duration::from_secs(60)).await;
    }
    // Resuming is the consumer's: it asks the provider to start again those it suspended itself.
    for transfer in transfers[..30].iter().step_by(2) {
        command(&consumer, transfer, "resume").await;
        expected.insert(transfer.clone(), "STARTED");
    }

    // Settled: both sides in the expected states.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (mine, theirs) = (states(&consumer).await, states(&b).await);
        let by_correlation: BTreeMap<&str, &str> =
            theirs.values().filter_map(|t| Some((t["correlationId"].as_str()?, t["state"].as_str()?))).collect();
        let wrong: Vec<String> = expected
            .iter()
            .filter(|(id, state)| {
                mine.get(*id).and_then(|t| t["state"].as_str()) != Some(**state)
                    || by_correlation.get(id.as_str()) != Some(*state)
            })
            .map(|(id, state)| {
                format!(
                    "{id}: want {state}, consumer {:?}, provider {:?}",
                    mine.get(id).map(|t| &t["state"]),
                    by_correlation.get(id.as_str())
                )
            })
            .collect();
        if wrong.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "not settled: {wrong:?}\n{}\n{}", c.log_tail(), a.log_tail());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let started_ids: Vec<&String> = expected.iter().filter(|(_, s)| **s == "STARTED").map(|(id, _)| id).collect();
    assert_eq!(started_ids.len(), TRANSFERS - 35);

    // Grants: one principal per STARTED transfer; the broker's readers are exactly those.
    let mut edrs = BTreeMap::new();
    for id in &started_ids {
        edrs.insert((*id).clone(), edr(&consumer, id).await);
    }
    let principals: BTreeSet<String> = edrs.values().map(|e| principal_of(e, &h.principal_claim)).collect();
    assert_eq!(principals.len(), started_ids.len(), "each STARTED transfer has a principal of its own");
    h.await_topic_readers(&topic, &principals, "three replicas").await;

    // Every STARTED transfer's consumer reads, eight at a time.
    let mut reading = Vec::new();
    for (id, edr) in &edrs {
        let (edr, source, group) = (
            edr.clone(),
            TokenSource::edr(&consumer, id),
            format!("{}app", edr["kafka.group.prefix"].as_str().unwrap_or_default()),
        );
        reading.push((id.clone(), move || reader(&edr, source, &group).poll(1, Duration::from_secs(30))));
    }
    while !reading.is_empty() {
        let batch: Vec<_> = reading.drain(..reading.len().min(8)).collect();
        let outcomes: Vec<_> = batch.into_iter().map(|(id, read)| (id, tokio::task::spawn_blocking(read))).collect();
        for (id, outcome) in outcomes {
            assert_eq!(outcome.await.unwrap(), Outcome::Records(1), "transfer {id} does not read");
        }
    }

    // Metrics of every replica agree with the database; one replica reconciles.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut leaders = 0.0;
    for replica in [&a, &b, &c] {
        let Some(samples) = scrape(replica).await else { break };
        let figure = |name: &str, labels: &[(&str, &str)]| sample(&samples, name, labels).unwrap_or(-1.0);
        assert_eq!(figure("dsc_negotiations", &[("role", "PROVIDER"), ("state", "FINALIZED")]), NEGOTIATIONS as f64);
        assert_eq!(
            figure("dsc_transfer_processes", &[("role", "PROVIDER"), ("state", "STARTED")]),
            started_ids.len() as f64
        );
        assert_eq!(figure("dsc_transfer_processes", &[("role", "PROVIDER"), ("state", "TERMINATED")]), 20.0);
        assert_eq!(figure("dsc_kafka_grants", &[("state", "ACTIVE")]), started_ids.len() as f64);
        assert!(figure("process_resident_memory_bytes", &[]) > 0.0);
        leaders += sample(&samples, "dsc_kafka_reconciler_leader", &[]).unwrap_or(0.0);
    }
    if std::env::var("TEST_PYTHON").is_ok() {
        assert_eq!(leaders, 1.0, "exactly one replica holds the reconciler's lease");
    }
    feeder.abort();
}
