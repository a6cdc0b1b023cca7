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
//!   EDR's token and the static consumer with librdkafka's defaults are printed for comparison.
//!
//! `cargo bench -p dsc --bench kafka_pull [-- --samples N]` after `scripts/harness.sh up oauth kafka` and its `env`.

#[path = "../tests/support/kafka.rs"]
mod kafka;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kafka::{CONSUMER_BPN, KafkaHarness, Outcome, TokenSource, edr, principal_of, reader, reader_with, unique};
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
    plain_consumer_with(h, topic, group, &[])
}

/// `plain_consumer` with `extra` settings overriding the admin's (another user, fetch settings).
fn plain_consumer_with(h: &KafkaHarness, topic: &str, group: &str, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &h.admin_bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", &h.admin_user)
        .set("sasl.password", &h.admin_password)
        .set("group.id", unique(group))
        .set("auto.offset.reset", "earliest");
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer = config.create().unwrap_or_else(|e| panic!("{e}"));
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

const THROUGHPUT_RECORDS: u64 = 1_000_000;
/// Rounds of the throughput comparison; medians are compared.
const ROUNDS: usize = 8;

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
    // The broker's page cache and fetch pacing move single runs by a factor of two or more, so the ways of reading
    // take turns, ROUNDS rounds each, and medians are compared. Every clock runs from the first record to the last:
    // connecting, logging in and joining the group are start-up (measured above as transfer request -> first
    // record), not throughput.
    // The static credential of an application is no super user: the broker checks its ACLs like the EDR
    // principal's. The harness's `reader` user gets the same three ACLs a transfer gets.
    let reader_user = std::env::var("TEST_KAFKA_READER_USER").unwrap_or_else(|_| panic!("TEST_KAFKA_READER_USER"));
    let reader_password = std::env::var("TEST_KAFKA_READER_PASSWORD").unwrap_or_default();
    let grant = dsc_kafka_admin::ConsumerGrant {
        principal: format!("User:{reader_user}"),
        topic: topic.to_string(),
        group_prefix: "bench-static-".into(),
    };
    h.acl_admin().grant(&grant).await.unwrap_or_else(|e| panic!("reader ACLs: {e}"));
    let fetch = ("fetch.queue.backoff.ms", dsc_kafka_client::FETCH_QUEUE_BACKOFF_MS);
    let static_user: Vec<(&'static str, String)> =
        vec![("sasl.username", reader_user), ("sasl.password", reader_password), (fetch.0, fetch.1.to_string())];
    let super_user: Vec<(&'static str, String)> = vec![(fetch.0, fetch.1.to_string())];
    let (mut plain, mut admin, mut defaults) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bare, mut committing, mut edr_path) = (Vec::new(), Vec::new(), Vec::new());
    // Each round starts with another reader, so no reader always runs first (on a cold page cache) or last.
    for round in 0..ROUNDS {
        for turn in 0..5 {
            match (round + turn) % 5 {
                0 => plain.push(static_credential(h, topic, &static_user).await),
                1 => {
                    bare.push(edr_token_only(pair, &transfer, round, false).await);
                    committing.push(edr_token_only(pair, &transfer, round, true).await);
                }
                2 => edr_path.push(library(pair, &transfer, round).await),
                3 => admin.push(static_credential(h, topic, &super_user).await),
                _ => defaults.push(static_credential(h, topic, &static_user[..2]).await),
            }
        }
    }
    let rate = |runs: &mut Vec<Duration>| THROUGHPUT_RECORDS as f64 / percentile(runs, 0.5).as_secs_f64().max(1e-9);
    let (plain, admin, defaults) = (rate(&mut plain), rate(&mut admin), rate(&mut defaults));
    let (bare, committing, edr_path) = (rate(&mut bare), rate(&mut committing), rate(&mut edr_path));
    println!(
        "consumer throughput (EDR path)    {edr_path:>9.0} records/s = {:.2} x a static-credential rdkafka consumer with the same ACLs and fetch setting ({plain:.0} records/s; goal >= 0.95) = {:.2} x a bare rdkafka consumer with the EDR's token ({bare:.0} records/s); for comparison: the static consumer with librdkafka's defaults {defaults:.0} records/s, the broker's super user {admin:.0} records/s, the bare consumer committing like the library (every second, 10 s session) {committing:.0} records/s ({THROUGHPUT_RECORDS} records of {} bytes, medians of {ROUNDS} rounds in rotating order)",
        edr_path / plain,
        edr_path / bare,
        payload.len()
    );
}

/// A static SASL/PLAIN credential (the admin's unless `extra` names another user) with `extra` settings over
/// librdkafka's defaults: offsets stored when a record is returned.
async fn static_credential(h: &Arc<KafkaHarness>, topic: &str, extra: &[(&'static str, String)]) -> Duration {
    let (h, topic, extra) = (h.clone(), topic.to_string(), extra.to_vec());
    kafka::blocking(move || {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(key, value)| (*key, value.as_str())).collect();
        let consumer = plain_consumer_with(&h, &topic, "bench-static", &extra);
        let mut first = None;
        let mut received = 0u64;
        while received < THROUGHPUT_RECORDS {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                first.get_or_insert_with(Instant::now);
                std::hint::black_box(message.payload());
                received += 1;
            }
        }
        first.map(|first| first.elapsed()).unwrap_or_default()
    })
    .await
}

/// The transfer's current token in a bare rdkafka consumer on the OAUTHBEARER listener; `committing` adds the
/// library's group settings (offsets committed every second, 10 s session), telling their cost from the loop's.
async fn edr_token_only(pair: &kafka::Pair, transfer: &str, round: usize, committing: bool) -> Duration {
    let edr = edr(&pair.consumer, transfer).await;
    let token = edr["authorization"].as_str().unwrap_or_default().to_string();
    let group = format!("{}bare-{round}-{committing}", edr["kafka.group.prefix"].as_str().unwrap_or_default());
    kafka::blocking(move || {
        let started = Instant::now();
        let mut first = None;
        let lifetime_ms = kafka::claims(&token)["exp"].as_i64().unwrap_or_default() * 1000;
        let mut tuned = vec![("fetch.queue.backoff.ms", dsc_kafka_client::FETCH_QUEUE_BACKOFF_MS)];
        if committing {
            tuned.extend([
                ("enable.auto.commit", "true"),
                ("auto.commit.interval.ms", "1000"),
                ("session.timeout.ms", dsc_kafka_client::SESSION_TIMEOUT_MS),
            ]);
        }
        let reader = reader_with(&edr, TokenSource::Fixed { token, lifetime_ms }, &group, &tuned);
        let mut received = 0u64;
        while received < THROUGHPUT_RECORDS {
            assert!(started.elapsed() < Duration::from_secs(120), "the bare consumer got {received} records in 120 s");
            if let Some(Ok(message)) = reader.consumer.poll(Duration::from_millis(100)) {
                first.get_or_insert_with(Instant::now);
                std::hint::black_box(message.payload());
                received += 1;
            }
        }
        first.map(|first| first.elapsed()).unwrap_or_default()
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
    let (first, last) = (Arc::new(std::sync::OnceLock::new()), Arc::new(std::sync::OnceLock::new()));
    let (first_seen, last_seen) = (first.clone(), last.clone());
    let mut received = 0u64;
    let summary = dsc_kafka_client::consume(
        api,
        transfer,
        settings,
        Arc::new(std::sync::atomic::AtomicBool::new(false)),
        move |record| {
            std::hint::black_box(record);
            received += 1;
            if received == 1 {
                first_seen.get_or_init(Instant::now);
            }
            if received == THROUGHPUT_RECORDS {
                last_seen.get_or_init(Instant::now);
            }
        },
        |_| {},
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.records, THROUGHPUT_RECORDS);
    match (first.get(), last.get()) {
        (Some(first), Some(last)) => last.duration_since(*first),
        _ => panic!("the EDR path did not deliver {THROUGHPUT_RECORDS} records"),
    }
}
