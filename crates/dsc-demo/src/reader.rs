// SPDX-License-Identifier: Apache-2.0
//! The consumers' side: one `dsc-kafka-client` stream per transfer, reading through the consumer connector's EDR
//! (token refreshed by the connector), feeding the live view and validating CX-0127 part records on the way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dsc_kafka_client::{ConnectorApi, ConsumeError, StreamSettings, Summary};
use serde_json::Value;

use crate::plant::Topic;
use crate::view::View;

/// Offsets a reader has seen in its current run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Track {
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub count: u64,
}

pub struct Reader {
    pub topic: Topic,
    pub transfer: String,
    pub track: Arc<Mutex<Track>>,
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Result<Summary, ConsumeError>>,
}

/// The aspect model a part topic carries.
fn validator(topic: Topic) -> Option<dsc_aspects::Validator> {
    let name = match topic {
        Topic::SerialParts => "SerialPart:3.0.0",
        Topic::Batches => "Batch:3.0.0",
        _ => return None,
    };
    dsc_aspects::Aspect::resolve(name).ok().and_then(|aspect| dsc_aspects::Validator::new(aspect).ok())
}

impl Reader {
    /// Starts reading `transfer` under the consumer group `<EDR prefix>demo` (from the beginning for a new group,
    /// from the committed offset after a restart).
    pub fn spawn(api: ConnectorApi, transfer: &str, topic: Topic, view: Arc<Mutex<View>>) -> Reader {
        let stop = Arc::new(AtomicBool::new(false));
        let track = Arc::new(Mutex::new(Track::default()));
        let settings =
            StreamSettings { group: "demo".into(), from_beginning: true, max_records: None, idle_timeout: None };
        let (id, seen, flag) = (transfer.to_string(), track.clone(), stop.clone());
        let validator = validator(topic);
        let handle = tokio::spawn(async move {
            let on_record = move |record: &dsc_kafka_client::Record<'_>| {
                let value: Value = record.value.and_then(|v| serde_json::from_slice(v).ok()).unwrap_or(Value::Null);
                let valid = validator.as_ref().map(|v| v.is_valid(&value));
                if let Ok(mut view) = view.lock() {
                    view.record(topic, &value, valid);
                }
                if let Ok(mut track) = seen.lock() {
                    track.first.get_or_insert(record.offset);
                    track.last = Some(record.offset);
                    track.count += 1;
                }
            };
            dsc_kafka_client::consume(api, &id, settings, flag, on_record, |_| {}).await
        });
        Reader { topic, transfer: transfer.to_string(), track, stop, handle }
    }

    pub fn track(&self) -> Track {
        self.track.lock().map(|t| *t).unwrap_or_default()
    }

    pub fn is_running(&self) -> bool {
        !self.handle.is_finished()
    }

    /// How the stream ended, or `None` if it is still running after `timeout`.
    pub async fn ending(&mut self, timeout: Duration) -> Option<Result<Summary, ConsumeError>> {
        match tokio::time::timeout(timeout, &mut self.handle).await {
            Ok(Ok(outcome)) => Some(outcome),
            Ok(Err(panicked)) => Some(Err(ConsumeError::Kafka(format!("the reader failed: {panicked}")))),
            Err(_) => None,
        }
    }

    /// Stops a running stream (offsets are committed) and waits for it.
    pub async fn stop(mut self) -> Option<Result<Summary, ConsumeError>> {
        self.stop.store(true, Ordering::Relaxed);
        self.ending(Duration::from_secs(10)).await
    }
}
