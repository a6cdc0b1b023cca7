// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL latencies with two release `dsc` processes, the harness's Kafka and OAuth server and a real Kafka
//! client, each against a baseline measured in the same run:
//! - transfer request → first record at the consumer, against a client that already holds credentials
//!   (SASL/PLAIN) subscribing to the same topic;
//! - revocation: provider-side suspend → the polling consumer is refused, against deleting the principal's ACLs
//!   directly with the admin client;
//! - consumer throughput through the EDR path (`dsc-kafka-client`: OAUTHBEARER, tokens from the EDR API, offsets
//!   stored and committed), against a plain rdkafka consumer with a static SASL/PLAIN credential on the same broker
//!   with the same fetch setting (`dsc_kafka_client::FETCH_QUEUE_BACKOFF_MS`); a bare rdkafka consumer with the
//!   EDR's token and the static consumer with librdkafka's defaults for comparison, and the CPU time per record of
//!   each (see `kafka_pull/throughput.rs`).
//!
//! `cargo bench -p dsc --bench kafka_pull [-- --samples N] [--ways static,bare,library,defaults]` after
//! `scripts/harness.sh up oauth kafka` and its `env`.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/integration/support/kafka.rs"]
mod kafka;
#[path = "../tests/integration/support/mod.rs"]
mod support;
#[path = "kafka_pull/throughput.rs"]
mod throughput;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kafka::{CONSUMER_BPN, KafkaHarness, Outcome, TokenSource, edr, principal_of, reader, unique};
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples.get(index).copied().unwrap_or_default()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn report(label: &str, samples: &mut [Duration], baseline: &mut [Duration], baseline_label: &str) {
    let (p50, p99) = (percentile(samples, 0.5), percentile(samples, 0.99));
    let (b50, b99) = (percentile(baseline, 0.5), percentile(baseline, 0.99));
    println!(
        "{label:<34} p50 {:>7.1} ms  p99 {:>7.1} ms  ({:.2} x / {:.2} x {baseline_label}: p50 {:.1} ms, p99 {:.1} ms; {} samples)",
        ms(p50),
        ms(p99),
        p50.as_secs_f64() / b50.as_secs_f64().max(1e-9),
        p99.as_secs_f64() / b99.as_secs_f64().max(1e-9),
        ms(b50),
        ms(b99),
        samples.len()
    );
}

/// A consumer with the admin's SASL/PLAIN credentials in a new group, subscribed to `topic` from the start.
fn plain_consumer(h: &KafkaHarness, topic: &str, group: &str) -> BaseConsumer {
    plain_consumer_with(h, topic, group, &[])
}

/// `plain_consumer` with `extra` settings overriding the admin's (another user, fetch settings).
fn plain_consumer_with(h: &KafkaHarness, topic: &str, group: &str, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut config = h.admin_config();
    config.set("group.id", unique(group)).set("auto.offset.reset", "earliest");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer = config.create().unwrap();
    consumer.subscribe(&[topic]).unwrap();
    consumer
}

/// A client with the admin's SASL/PLAIN credentials: subscribe → first record.
fn plain_first_record(h: &KafkaHarness, topic: &str) -> Duration {
    let started = Instant::now();
    let consumer = plain_consumer(h, topic, "bench-baseline");
    let deadline = started + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100))
            && message.payload().is_some()
        {
            return started.elapsed();
        }
    }
    panic!("the baseline consumer got no record within 30 s");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo test --all-targets` builds and runs benches too, without `--bench`: compiling is the test there.
    if !args.iter().any(|a| a == "--bench") {
        println!("benchmark: run with cargo bench");
        return;
    }
    let samples: usize = args.windows(2).find(|w| w[0] == "--samples").and_then(|w| w[1].parse().ok()).unwrap_or(20);
    let ways = throughput::Way::chosen(&args);
    let Some(h) = kafka::harness() else { return };
    let h = Arc::new(h);
    let topic = unique("bench-kafka-pull");
    h.create_topic(&topic).await;
    // Records keep arriving, as on a shop floor; every consumer starts from the earliest offset.
    let feeder = h.feed(&[&topic], Duration::from_millis(10));
    let pair = kafka::pair(&h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = kafka::agreement(&pair).await;
    println!("kafka pull  {samples} samples per figure (release dsc, harness Kafka and oidc-provider)");

    let mut baseline = Vec::new();
    for _ in 0..samples {
        let (h, topic) = (h.clone(), topic.clone());
        baseline.push(kafka::blocking(move || plain_first_record(&h, &topic)).await);
    }
    let mut first_record = Vec::new();
    let mut transfers = Vec::new();
    for _ in 0..samples {
        let started = Instant::now();
        let id = kafka::started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
        let edr = edr(&pair.consumer, &id).await;
        let group = format!("{}app", edr["kafka.group.prefix"].as_str().unwrap_or_default());
        let source = TokenSource::edr(&pair.consumer, &id);
        let outcome = kafka::blocking(move || reader(&edr, source, &group).poll(1, Duration::from_secs(30))).await;
        assert_eq!(outcome, Outcome::Records(1), "transfer {id}");
        first_record.push(started.elapsed());
        transfers.push(id);
    }
    report("transfer request -> first record", &mut first_record, &mut baseline, "a client with credentials");

    // Revocation: half the transfers are suspended through the provider's Management API, the other half have
    // their ACLs deleted directly (the broker's own floor).
    let mut suspend = Vec::new();
    let mut direct = Vec::new();
    for (index, id) in transfers.iter().enumerate() {
        let edr = edr(&pair.consumer, id).await;
        let group = format!("{}cut", edr["kafka.group.prefix"].as_str().unwrap_or_default());
        let principal = principal_of(&edr, &h.principal_claim);
        let received = Arc::new(AtomicUsize::new(0));
        let polling = {
            let (edr, source, received) = (edr.clone(), TokenSource::edr(&pair.consumer, id), received.clone());
            tokio::task::spawn_blocking(move || {
                kafka::read_until_denied(&reader(&edr, source, &group), &received, Duration::from_secs(30))
            })
        };
        while received.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let started = Instant::now();
        if index % 2 == 0 {
            let provider_id = kafka::provider_transfer_of(&pair.provider, id).await;
            kafka::command(&pair.provider, &provider_id, "suspend").await;
        } else {
            h.acl_admin().revoke_principal(&principal).await.unwrap();
        }
        let (denied_at, _) =
            polling.await.unwrap().unwrap_or_else(|| panic!("transfer {id}: the consumer was not cut off"));
        let latency = denied_at.duration_since(started);
        if index % 2 == 0 { suspend.push(latency) } else { direct.push(latency) }
    }
    report("suspend -> consumer refused", &mut suspend, &mut direct, "deleting the ACLs directly");
    for id in &transfers {
        kafka::command(&pair.consumer, id, "terminate").await;
    }
    feeder.abort();
    throughput::run(&h, &pair, &agreement, &topic, &ways).await;
}
