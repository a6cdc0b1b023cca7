// SPDX-License-Identifier: Apache-2.0
//! Eight consumers of one transfer in one group, reading for a minute through short-lived tokens: each asks the
//! consumer connector for its token whenever librdkafka wants one, so their renewals overlap all the time. Every
//! renewal must succeed (no token or authorization error at any consumer) and every record produced must be read.
//!
//! With 10-second tokens this holds (in the test command). Shorter tokens meet a limit of librdkafka and the broker,
//! not of the connector (reproduced with plain confluent-kafka consumers fetching their own tokens from the OAuth
//! server): the broker ends a session when its token expires and refuses a re-authentication less than a second
//! after the previous one (ILLEGAL_SASL_STATE, "Request not valid in current SASL state"), while librdkafka
//! re-authenticates at 90 % of the session and fetches a new token only at 80 % of the lifetime it was told,
//! checking once a second. With 2-second tokens connections, the group coordinator's included, drop about every two
//! seconds and the group can stall. Our clients tell librdkafka the expiry 2.5 s early
//! (`dsc_kafka_client::edr::reported_lifetime_ms`), which keeps 4-7-second tokens clean; 2 seconds stays out of
//! reach, kept as an ignored test (`cargo test -p dsc --test integration kafka_pull::group -- --ignored`). docs/kafka-pull-profile.md
//! recommends tokens of 10 s or more.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::consumer::Consumer;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::kafka::{self, *};

const CONSUMERS: usize = 8;
const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_consumers_in_one_group_read_through_ten_second_tokens_for_a_minute() {
    read_as_a_group(10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a librdkafka/broker limit with 2-second tokens, reproduced without the connector (see the module doc)"]
async fn eight_consumers_in_one_group_read_through_two_second_tokens_for_a_minute() {
    read_as_a_group(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "by hand: the shortest tokens the early expiry keeps clean (see the module doc)"]
async fn eight_consumers_in_one_group_read_through_five_second_tokens_for_a_minute() {
    read_as_a_group(5).await;
}

async fn read_as_a_group(token_seconds: u64) {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-group");
    let admin: AdminClient<DefaultClientContext> = h.admin_config().create().expect("admin");
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
    for result in admin
        .create_topics(&[NewTopic::new(&topic, CONSUMERS as i32, TopicReplication::Fixed(1))], &options)
        .await
        .unwrap()
    {
        result.unwrap();
    }
    let pair = pair(&h, &h.provider_config(Some(token_seconds), ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let edr = edr(&pair.consumer, &transfer).await;
    let group = format!("{}shared", edr["kafka.group.prefix"].as_str().unwrap());

    // Records keyed over all partitions for a minute, remembered as the broker acknowledges them.
    let produced = Arc::new(Mutex::new(BTreeSet::new()));
    let producing = {
        let (producer, topic, produced): (FutureProducer, String, Arc<Mutex<BTreeSet<u64>>>) =
            (h.admin_config().create().expect("producer"), topic.clone(), produced.clone());
        tokio::spawn(async move {
            let until = tokio::time::Instant::now() + MINUTE;
            let mut index = 0u64;
            while tokio::time::Instant::now() < until {
                let (key, payload) = (index.to_string(), format!("{{\"record\":{index}}}"));
                if producer
                    .send(FutureRecord::to(&topic).key(&key).payload(&payload), Duration::from_secs(5))
                    .await
                    .is_ok()
                {
                    produced.lock().unwrap().insert(index);
                }
                index += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let sources: Vec<TokenSource> = (0..CONSUMERS).map(|_| TokenSource::edr(&pair.consumer, &transfer)).collect();
    let readers: Vec<_> = sources
        .iter()
        .map(|source| {
            let (edr, source, group) = (edr.clone(), source.clone(), group.clone());
            tokio::task::spawn_blocking(move || {
                // The record indices this member read, and the errors its client reported.
                let reader = reader(&edr, source, &group);
                let deadline = Instant::now() + MINUTE + Duration::from_secs(40);
                let mut seen = BTreeSet::new();
                while Instant::now() < deadline {
                    if let Some(Ok(message)) = reader.consumer.poll(Duration::from_millis(100)) {
                        let payload: serde_json::Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
                        seen.insert(payload["record"].as_u64().unwrap());
                    }
                }
                reader.consumer.unsubscribe();
                (seen, reader.errors.lock().map(|e| e.clone()).unwrap_or_default())
            })
        })
        .collect();
    producing.await.unwrap();
    let mut read = BTreeSet::new();
    let mut failures = Vec::new();
    let mut handshake_races = 0;
    for (index, reader) in readers.into_iter().enumerate() {
        let (records, errors) = reader.await.unwrap();
        read.extend(records);
        for error in errors {
            // librdkafka re-authenticating while another request is in flight gets "Request not valid in current
            // SASL state" and retries by itself (the records keep coming): the client's race, not a renewal.
            if error.contains("Request not valid in current SASL state") || error.contains("state DOWN") {
                handshake_races += 1;
            } else if error.contains("OAUTHBEARER token")
                || error.contains("uthorization")
                || error.contains("uthentication")
            {
                failures.push(format!("consumer {index}: {error}"));
            }
        }
    }
    let tokens: std::collections::BTreeSet<String> = sources.iter().flat_map(TokenSource::fetched).collect();
    let produced = produced.lock().unwrap().clone();
    println!(
        "{CONSUMERS} consumers, one group, {token_seconds}-second tokens, 60 s: {} records produced, {} distinct read, {} distinct tokens, {handshake_races} client re-authentication races (retried by librdkafka)",
        produced.len(),
        read.len(),
        tokens.len()
    );
    assert!(failures.is_empty(), "renewals failed:\n{}", failures.join("\n"));
    let missing: Vec<&u64> = produced.difference(&read).collect();
    assert!(
        !produced.is_empty() && missing.is_empty(),
        "every record read; missing {} of {}: {missing:?}",
        missing.len(),
        produced.len()
    );
    if h.short_tokens() {
        assert!(tokens.len() >= 60 / token_seconds as usize / 2, "tokens were renewed: {} distinct", tokens.len());
    }
}
