// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL latencies with two release `dsc` processes, the harness's Kafka and OAuth server and a real Kafka
//! client, each against a baseline measured in the same run:
//! - transfer request → first record at the consumer, against a client that already holds credentials
//!   (SASL/PLAIN) subscribing to the same topic;
//! - revocation: provider-side suspend → the polling consumer is refused, against deleting the principal's ACLs
//!   directly with the admin client;
//! - consumer throughput through the EDR path (`dsc-kafka-client`: OAUTHBEARER, tokens from the EDR API, offsets
//!   stored per record), against a plain rdkafka consumer with a static SASL/PLAIN credential on the same broker.
//!
//! `cargo bench -p dsc --bench kafka_pull [-- --samples N]` after `scripts/harness.sh up oauth kafka` and its `env`.

#[path = "../tests/support/kafka.rs"]
mod kafka;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kafka::{CONSUMER_BPN, KafkaHarness, Outcome, TokenSource, edr, principal_of, reader, unique};
use rdkafka::Message;
use rdkafka::config::ClientConfig;
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
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &h.admin_bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", &h.admin_user)
        .set("sasl.password", &h.admin_password)
        .set("group.id", unique(group))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    consumer.subscribe(&[topic]).unwrap_or_else(|e| panic!("{e}"));
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
            h.acl_admin().revoke_principal(&principal).await.unwrap_or_else(|e| panic!("{e}"));
        }
        let (denied_at, _) = polling
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("transfer {id}: the consumer was not cut off"));
        let latency = denied_at.duration_since(started);
        if index % 2 == 0 { suspend.push(latency) } else { direct.push(latency) }
    }
    report("suspend -> consumer refused", &mut suspend, &mut direct, "deleting the ACLs directly");
    for id in &transfers {
        kafka::command(&pair.consumer, id, "terminate").await;
    }
    feeder.abort();
    throughput(&h, &pair, &agreement, &topic).await;
}

const THROUGHPUT_RECORDS: u64 = 500_000;

/// Adds records to the asset's topic, then reads its first records once with a static credential and once
/// through the EDR path.
async fn throughput(h: &Arc<KafkaHarness>, pair: &kafka::Pair, agreement: &str, topic: &str) {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &h.admin_bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", &h.admin_user)
        .set("sasl.password", &h.admin_password)
        .set("queue.buffering.max.messages", "1000000")
        .set("linger.ms", "20")
        .create()
        .unwrap_or_else(|e| panic!("{e}"));
    let payload = format!("{{\"catenaXId\":\"urn:uuid:{}\",\"value\":42.5}}", unique("part"));
    for _ in 0..THROUGHPUT_RECORDS {
        while producer.send(BaseRecord::<(), _>::to(topic).payload(&payload)).is_err() {
            producer.poll(Duration::from_millis(10));
        }
    }
    producer.flush(Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));

    let transfer = kafka::started_transfer(pair, agreement, "KafkaBroker-PULL").await;
    // The broker's page cache and fetch pacing move single runs by a factor of two or more, so the three ways of
    // reading take turns, three rounds each, and medians are compared. Every clock runs from creating the
    // consumer to the last record: connecting, logging in and joining the group are part of what an application
    // waits for.
    let (mut plain, mut bare, mut edr_path) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        plain.push(static_credential(h, topic).await);
        bare.push(edr_token_only(pair, &transfer, round).await);
        edr_path.push(library(pair, &transfer, round).await);
    }
    let rate = |runs: &mut Vec<Duration>| THROUGHPUT_RECORDS as f64 / percentile(runs, 0.5).as_secs_f64().max(1e-9);
    let (plain, bare, edr_path) = (rate(&mut plain), rate(&mut bare), rate(&mut edr_path));
    println!(
        "consumer throughput (EDR path)    {edr_path:>9.0} records/s = {:.2} x a static-credential rdkafka consumer ({plain:.0} records/s); a bare rdkafka consumer with the EDR's token: {bare:.0} records/s ({THROUGHPUT_RECORDS} records of {} bytes, medians of 3 alternating rounds, goal >= 0.95)",
        edr_path / plain,
        payload.len()
    );
}

/// librdkafka's defaults with the admin's SASL/PLAIN credential: offsets stored when a record is returned.
async fn static_credential(h: &Arc<KafkaHarness>, topic: &str) -> Duration {
    let (h, topic) = (h.clone(), topic.to_string());
    kafka::blocking(move || {
        let started = Instant::now();
        let consumer = plain_consumer(&h, &topic, "bench-static");
        let mut received = 0u64;
        while received < THROUGHPUT_RECORDS {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                std::hint::black_box(message.payload());
                received += 1;
            }
        }
        started.elapsed()
    })
    .await
}

/// The transfer's current token in a bare rdkafka consumer on the OAUTHBEARER listener.
async fn edr_token_only(pair: &kafka::Pair, transfer: &str, round: usize) -> Duration {
    let edr = edr(&pair.consumer, transfer).await;
    let token = edr["authorization"].as_str().unwrap_or_default().to_string();
    let group = format!("{}bare-{round}", edr["kafka.group.prefix"].as_str().unwrap_or_default());
    kafka::blocking(move || {
        let started = Instant::now();
        let lifetime_ms = kafka::claims(&token)["exp"].as_i64().unwrap_or_default() * 1000;
        let reader = reader(&edr, TokenSource::Fixed { token, lifetime_ms }, &group);
        let mut received = 0u64;
        while received < THROUGHPUT_RECORDS {
            assert!(started.elapsed() < Duration::from_secs(120), "the bare consumer got {received} records in 120 s");
            if let Some(Ok(message)) = reader.consumer.poll(Duration::from_millis(100)) {
                std::hint::black_box(message.payload());
                received += 1;
            }
        }
        started.elapsed()
    })
    .await
}

/// `dsc-kafka-client`: the EDR from the connector's API, tokens renewed through it, offsets committed.
async fn library(pair: &kafka::Pair, transfer: &str, round: usize) -> Duration {
    let api = dsc_kafka_client::ConnectorApi::new(&pair.consumer.management_url(""), support::API_KEY)
        .unwrap_or_else(|e| panic!("{e}"));
    let settings = dsc_kafka_client::StreamSettings {
        group: format!("bench-{round}"),
        from_beginning: true,
        max_records: Some(THROUGHPUT_RECORDS),
        idle_timeout: Some(Duration::from_secs(30)),
    };
    let started = Instant::now();
    let summary = dsc_kafka_client::consume(
        api,
        transfer,
        settings,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        |record| {
            std::hint::black_box(record);
        },
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.records, THROUGHPUT_RECORDS);
    started.elapsed()
}
