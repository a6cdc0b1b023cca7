// SPDX-License-Identifier: Apache-2.0
//! Publishing records with the provider's own credentials: the other end of a Kafka PULL transfer, for demos
//! and tests (`dsc produce`).

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::ConsumeError;

/// Where and how to log in (the provider's own producer or admin identity, never a consumer's).
#[derive(Debug, Clone)]
pub struct ProducerSettings {
    pub bootstrap: String,
    pub topic: String,
    pub user: String,
    pub password: String,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    /// `SASL_PLAINTEXT` or `SASL_SSL`.
    pub security_protocol: String,
    pub ca_file: Option<String>,
    /// Records per second at most; `None` as fast as the broker takes them.
    pub rate: Option<f64>,
}

pub struct RecordProducer {
    producer: FutureProducer,
    settings: ProducerSettings,
    started: Instant,
    sent: u64,
}

impl RecordProducer {
    pub fn new(settings: ProducerSettings) -> Result<Self, ConsumeError> {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &settings.bootstrap)
            .set("security.protocol", &settings.security_protocol)
            .set("sasl.mechanism", &settings.mechanism)
            .set("sasl.username", &settings.user)
            .set("sasl.password", &settings.password)
            .set("client.id", "dsc-produce")
            .set("message.timeout.ms", "15000");
        if let Some(ca) = &settings.ca_file {
            config.set("ssl.ca.location", ca);
        }
        let producer = config.create().map_err(|e| ConsumeError::Kafka(e.to_string()))?;
        Ok(RecordProducer { producer, settings, started: Instant::now(), sent: 0 })
    }

    /// Sends one record and waits for the broker's acknowledgement, keeping to the rate.
    pub async fn send(&mut self, key: Option<&str>, value: &str) -> Result<(i32, i64), ConsumeError> {
        if let Some(rate) = self.settings.rate.filter(|r| *r > 0.0) {
            let due = self.started + Duration::from_secs_f64(self.sent as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let mut record = FutureRecord::to(&self.settings.topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        let delivered = self
            .producer
            .send(record, Duration::from_secs(15))
            .await
            .map_err(|(error, _)| ConsumeError::Kafka(format!("producing to {}: {error}", self.settings.topic)))?;
        self.sent += 1;
        Ok((delivered.partition, delivered.offset))
    }

    pub fn flush(&self) {
        let _ = self.producer.flush(Duration::from_secs(10));
    }
}
