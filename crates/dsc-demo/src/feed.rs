// SPDX-License-Identifier: Apache-2.0
//! Supplier A's side of the stream: the topics, created with its admin login, and the plant's records produced
//! into them with its own producer credentials (never a consumer's).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

use crate::DemoError;
use crate::plant::{Plant, Topic};
use crate::stack::{KAFKA_ADMIN_PASSWORD, KAFKA_ADMIN_USER, Ports};

/// Line 3 completes a cycle every 200 ms; the presses report every 500 ms (the real plant: 40 s and 1 s).
const LINE_TICK: Duration = Duration::from_millis(200);
const PRESS_EVERY: u64 = 5;

fn provider_client(ports: Ports) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", format!("127.0.0.1:{}", ports.kafka_internal()))
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", KAFKA_ADMIN_USER)
        .set("sasl.password", KAFKA_ADMIN_PASSWORD);
    config
}

/// Creates the five topics (one partition each, so one offset sequence per topic).
pub async fn create_topics(ports: Ports) -> Result<(), DemoError> {
    let step = "create topics";
    let admin: AdminClient<DefaultClientContext> =
        provider_client(ports).create().map_err(|e| DemoError::step(step, e.to_string()))?;
    let topics: Vec<NewTopic<'_>> =
        Topic::ALL.iter().map(|t| NewTopic::new(t.name(), 1, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
    let results = admin.create_topics(&topics, &options).await.map_err(|e| DemoError::step(step, e.to_string()))?;
    for result in results {
        result.map_err(|(topic, code)| DemoError::step(step, format!("{topic}: {code}")))?;
    }
    Ok(())
}

/// Records produced so far, per topic.
pub type Produced = Arc<Mutex<HashMap<Topic, u64>>>;

pub fn produced(counts: &Produced, topic: Topic) -> u64 {
    counts.lock().map(|c| c.get(&topic).copied().unwrap_or_default()).unwrap_or_default()
}

/// Runs the plant until `stop` is set; an error ends it and is returned.
pub fn start(
    ports: Ports,
    stop: Arc<AtomicBool>,
    counts: Produced,
) -> Result<tokio::task::JoinHandle<Result<(), DemoError>>, DemoError> {
    let step = "produce";
    let producer: FutureProducer = provider_client(ports)
        .set("client.id", "supplier-a-plant")
        .set("linger.ms", "5")
        .set("message.timeout.ms", "15000")
        .create()
        .map_err(|e| DemoError::step(step, e.to_string()))?;
    Ok(tokio::spawn(async move {
        let mut plant = Plant::new(2026);
        let mut ticker = tokio::time::interval(LINE_TICK);
        let mut tick = 0u64;
        while !stop.load(Ordering::Relaxed) {
            ticker.tick().await;
            tick += 1;
            let now = chrono::Utc::now();
            let mut records = plant.line_tick(now);
            if tick.is_multiple_of(PRESS_EVERY) {
                records.extend(plant.press_tick(now));
            }
            let sends = records.iter().map(|record| {
                let text = record.value.to_string();
                let producer = producer.clone();
                async move {
                    let sent = producer
                        .send(
                            FutureRecord::to(record.topic.name()).key(&record.key).payload(&text),
                            Duration::from_secs(15),
                        )
                        .await;
                    sent.map(|_| record.topic)
                        .map_err(|(error, _)| DemoError::step(step, format!("{}: {error}", record.topic.name())))
                }
            });
            // Sent together, so the producer batches one tick's records into one request.
            for sent in futures::future::join_all(sends).await {
                let topic = sent?;
                if let Ok(mut counts) = counts.lock() {
                    *counts.entry(topic).or_default() += 1;
                }
            }
        }
        Ok(())
    }))
}
