// SPDX-License-Identifier: Apache-2.0
//! The consuming loop: a blocking rdkafka consumer on its own thread, its tokens taken from the EDR API.

use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use rdkafka::client::{ClientContext, OAuthToken};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};

use crate::{ConnectorApi, ConsumeError};

/// How to consume.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// Appended to the EDR's group prefix: the consumer group, whose committed offsets a restart continues from.
    pub group: String,
    /// Start a new group at the earliest offset instead of the latest.
    pub from_beginning: bool,
    pub max_records: Option<u64>,
    /// Stop when no record arrived for this long.
    pub idle_timeout: Option<Duration>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings { group: "dsc-consume".into(), from_beginning: false, max_records: None, idle_timeout: None }
    }
}

/// Why consuming stopped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    MaxRecords,
    IdleTimeout,
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub ending: Ending,
    pub records: u64,
    pub bytes: u64,
}

/// Progress for a status line: records and bytes so far, and the current token's expiry.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub token_expires_at: Option<i64>,
}

/// One record, borrowed from the client's buffer for the time of the callback: nothing is copied unless the
/// callback copies it (at two million records a second, one allocation per record is a tenth of the budget).
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    headers: HeaderSource<'a>,
}

#[derive(Debug, Clone)]
enum HeaderSource<'a> {
    /// Read from the client only when asked for: librdkafka parses a consumed record's headers anew on every
    /// request, with two allocations even when the record has none, which cost the loop a tenth of its rate.
    Client(&'a BorrowedMessage<'a>),
    Given(Vec<(&'a str, Option<&'a [u8]>)>),
}

fn text_or_json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_string()),
        Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    })
}

impl<'a> Record<'a> {
    /// A record built by hand, e.g. to test an application's callback without a broker: no key, timestamp or
    /// headers until set (`key` and `timestamp` are fields, headers come with [`Record::with_headers`]).
    pub fn new(topic: &'a str, partition: i32, offset: i64, value: Option<&'a [u8]>) -> Record<'a> {
        Record { topic, partition, offset, timestamp: None, key: None, value, headers: HeaderSource::Given(Vec::new()) }
    }

    pub fn with_headers(mut self, headers: Vec<(&'a str, Option<&'a [u8]>)>) -> Record<'a> {
        self.headers = HeaderSource::Given(headers);
        self
    }

    /// The record's headers in their order; empty when it has none.
    pub fn headers(&self) -> Vec<(&'a str, Option<&'a [u8]>)> {
        match &self.headers {
            HeaderSource::Client(message) => message
                .headers()
                .map(|headers| headers.iter().map(|header| (header.key, header.value)).collect())
                .unwrap_or_default(),
            HeaderSource::Given(headers) => headers.clone(),
        }
    }

    /// A JSON line: the value as JSON when it parses, as text otherwise (base64 when not UTF-8).
    pub fn to_json(&self) -> Value {
        let as_text = |bytes: &[u8]| match std::str::from_utf8(bytes) {
            Ok(text) => Value::String(text.to_string()),
            Err(_) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) }),
        };
        let headers: serde_json::Map<String, Value> = self
            .headers()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value.map_or(Value::Null, as_text)))
            .collect();
        json!({
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp,
            "key": self.key.map(as_text),
            "headers": headers,
            "value": self.value.map_or(Value::Null, text_or_json),
        })
    }

    /// `topic` is the one subscribed topic: asking librdkafka for each record's topic name costs a C string
    /// scan and a UTF-8 check per record.
    fn from_message(message: &'a BorrowedMessage<'a>, topic: &'a str) -> Record<'a> {
        Record {
            topic,
            partition: message.partition(),
            offset: message.offset(),
            timestamp: message.timestamp().to_millis(),
            key: message.key(),
            value: message.payload(),
            headers: HeaderSource::Client(message),
        }
    }
}

/// librdkafka's context: each token comes from the EDR API (refreshed there when due); failures and client errors
/// are kept for the loop to judge.
struct EdrTokens {
    api: ConnectorApi,
    transfer: String,
    runtime: tokio::runtime::Handle,
    token_failure: Mutex<Option<ConsumeError>>,
    token_expires_at: Mutex<Option<i64>>,
    client_errors: Mutex<Vec<String>>,
}

impl ClientContext for EdrTokens {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        match self.runtime.block_on(self.api.edr(&self.transfer, true)) {
            Ok(edr) => {
                if let Ok(mut expires) = self.token_expires_at.lock() {
                    *expires = edr.expires_at;
                }
                if let Ok(mut failure) = self.token_failure.lock() {
                    *failure = None;
                }
                // librdkafka wants a lifetime; a token without `exp` is asked for again in a minute.
                let now = now_millis();
                let lifetime_ms =
                    edr.expires_at.map_or_else(|| now + 60_000, |exp| crate::edr::reported_lifetime_ms(exp, now));
                Ok(OAuthToken { token: edr.token, principal_name: edr.principal, lifetime_ms })
            }
            Err(error) => {
                let message = error.to_string();
                if let Ok(mut failure) = self.token_failure.lock() {
                    *failure = Some(error);
                }
                Err(message.into())
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Ok(mut errors) = self.client_errors.lock() {
            errors.push(format!("{error}: {reason}"));
        }
    }
}

impl ConsumerContext for EdrTokens {}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// What an error from the client means for the loop.
enum Signal {
    /// The broker refused an operation: revoked (if the transfer ended) or denied.
    Authorization(String),
    /// The broker refused the login: revoked if the transfer ended, otherwise possibly transient.
    Authentication(String),
    /// The broker does not know the topic (any more), or a metadata refresh has not seen it yet.
    UnknownTopic,
}

fn classify(code: Option<RDKafkaErrorCode>, text: &str) -> Option<Signal> {
    match code {
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::GroupAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed,
        ) => Some(Signal::Authorization(text.to_string())),
        Some(RDKafkaErrorCode::SaslAuthenticationFailed | RDKafkaErrorCode::Authentication) => {
            Some(Signal::Authentication(text.to_string()))
        }
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => Some(Signal::UnknownTopic),
        _ if text.contains("uthorization failed") => Some(Signal::Authorization(text.to_string())),
        _ if text.contains("nknown topic") => Some(Signal::UnknownTopic),
        _ if text.contains("uthenticat") => Some(Signal::Authentication(text.to_string())),
        _ => None,
    }
}

/// librdkafka pauses fetching a partition for `fetch.queue.backoff.ms` (default 1 s) once its local queue holds
/// `queued.min.messages`; a reader that drains the queue in a fraction of that then waits for the rest, which held
/// the benchmark's reader to a fifth of its rate whatever the broker could deliver. A short pause keeps the queue
/// filled.
pub const FETCH_QUEUE_BACKOFF_MS: &str = "10";

/// The consumer group session timeout (see where it is set).
pub const SESSION_TIMEOUT_MS: &str = "10000";

/// Records between two readings of the clock (progress, idle timeout, storing offsets).
const CLOCK_EVERY: u32 = 1_024;

/// How long authentication may keep failing while the transfer is STARTED before it counts as a denial.
const AUTHENTICATION_PATIENCE: Duration = Duration::from_secs(30);
/// How often a consumer that receives nothing asks the broker whether its topic still exists.
const TOPIC_CHECK_EVERY: Duration = Duration::from_secs(3);
/// How long to wait for the broker's answer when checking whether the topic still exists.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the consumer connector to learn that the provider ended the transfer.
const STATE_PATIENCE: Duration = Duration::from_secs(2);

/// The last offset handed over per partition of the one subscribed topic; a consumer reads few partitions, so a
/// short list beats hashing per record.
type Processed = Vec<(i32, i64)>;

fn note_processed(processed: &mut Processed, record: &Record<'_>) {
    match processed.iter_mut().find(|(partition, _)| *partition == record.partition) {
        Some(entry) => entry.1 = record.offset,
        None => processed.push((record.partition, record.offset)),
    }
}

struct Loop {
    consumer: BaseConsumer<EdrTokens>,
    /// The EDR's topic, the only one subscribed (a literal name: the provider validated it).
    topic: String,
    settings: StreamSettings,
    stop: Arc<AtomicBool>,
}

impl Loop {
    fn context(&self) -> &EdrTokens {
        self.consumer.context()
    }

    /// Revoked when the transfer is (or within a moment becomes) anything but STARTED.
    fn ended_transfer(&self) -> Option<ConsumeError> {
        let context = self.context();
        let deadline = Instant::now() + STATE_PATIENCE;
        loop {
            match context.runtime.block_on(context.api.transfer_state(&context.transfer)) {
                Ok(state) if state != "STARTED" => {
                    return Some(ConsumeError::Revoked { transfer: context.transfer.clone(), state });
                }
                Err(error @ ConsumeError::UnknownTransfer(_)) => return Some(error),
                _ if Instant::now() > deadline => return None,
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Whether the broker, asked directly, says the topic does not exist: a client's report of an unknown topic can
    /// also come from metadata that is merely stale.
    fn topic_gone(&self) -> bool {
        match self.consumer.fetch_metadata(Some(&self.topic), METADATA_TIMEOUT) {
            Ok(metadata) => metadata.topics().iter().any(|topic| {
                topic.name() == self.topic
                    && matches!(
                        topic.error().map(RDKafkaErrorCode::from),
                        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic)
                    )
            }),
            Err(_) => false,
        }
    }

    /// Stores the next offset to read after each processed record, for the next (auto) commit.
    fn store(&self, processed: &mut Processed) -> Result<(), ConsumeError> {
        if processed.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for (partition, offset) in processed.drain(..) {
            offsets
                .add_partition_offset(&self.topic, partition, Offset::Offset(offset + 1))
                .map_err(|e| ConsumeError::Kafka(format!("storing offsets: {e}")))?;
        }
        self.consumer.store_offsets(&offsets).map_err(|e| ConsumeError::Kafka(format!("storing offsets: {e}")))
    }

    /// Generic over the callbacks, so the application's record callback is inlined into the loop.
    fn run(
        &self,
        on_record: &mut impl FnMut(&Record<'_>),
        on_progress: &mut impl FnMut(&Progress),
    ) -> Result<Summary, ConsumeError> {
        let started = Instant::now();
        let (mut records, mut bytes) = (0u64, 0u64);
        let mut last_record = Instant::now();
        let mut last_progress = Instant::now();
        let mut last_topic_check = Instant::now();
        let mut failing_since: Option<Instant> = None;
        // Records since the clock was last read: reading it per record costs more than the rest of the loop on
        // machines without a fast clock source, so it is read every CLOCK_EVERY records or when no record came.
        let mut unclocked = 0u32;
        let mut processed: Processed = Vec::new();
        let summary = |ending, records, bytes, processed: &mut Processed| {
            self.store(processed)?;
            Ok(Summary { ending, records, bytes })
        };
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return summary(Ending::Interrupted, records, bytes, &mut processed);
            }
            let mut signals = Vec::new();
            let polled = self.consumer.poll(Duration::from_millis(100));
            let idle_poll = polled.is_none();
            match polled {
                Some(Ok(message)) => {
                    let record = Record::from_message(&message, &self.topic);
                    bytes += record.value.map_or(0, <[u8]>::len) as u64;
                    on_record(&record);
                    // At least once: only offsets of records handed over are stored (and then committed). Storing
                    // is batched: one store per record costs more than the rest of the loop together.
                    note_processed(&mut processed, &record);
                    records += 1;
                    unclocked += 1;
                    failing_since = None;
                    if self.settings.max_records.is_some_and(|max| records >= max) {
                        return summary(Ending::MaxRecords, records, bytes, &mut processed);
                    }
                    // Errors the client reported in the background are looked at with the clock: a broker that
                    // refuses a consumer delivers no more records, so the next idle poll sees them at once.
                    if unclocked < CLOCK_EVERY {
                        continue;
                    }
                }
                Some(Err(error)) => signals.extend(classify(error.rdkafka_error_code(), &error.to_string())),
                None => {}
            }
            if let Ok(mut errors) = self.context().client_errors.lock() {
                signals.extend(errors.drain(..).filter_map(|text| classify(None, &text)));
            }
            // Kept until a renewal succeeds (the callback clears it), so the loop ends as soon as the token expires.
            let token_failure = self.context().token_failure.lock().ok().and_then(|failure| failure.clone());
            match token_failure {
                Some(error @ (ConsumeError::Revoked { .. } | ConsumeError::UnknownTransfer(_))) => return Err(error),
                Some(error) => {
                    // The connector cannot renew the token: fine while the current one lasts.
                    let expired = self
                        .context()
                        .token_expires_at
                        .lock()
                        .ok()
                        .and_then(|at| *at)
                        .is_none_or(|exp| exp * 1000 <= now_millis());
                    if expired {
                        return Err(error);
                    }
                }
                None => {}
            }
            for signal in signals {
                match signal {
                    Signal::Authorization(reason) => {
                        return Err(self.ended_transfer().unwrap_or(ConsumeError::Denied { reason }));
                    }
                    Signal::Authentication(reason) => {
                        if let Some(revoked) = self.ended_transfer() {
                            return Err(revoked);
                        }
                        let since = *failing_since.get_or_insert_with(Instant::now);
                        if since.elapsed() > AUTHENTICATION_PATIENCE {
                            return Err(ConsumeError::Denied { reason });
                        }
                    }
                    Signal::UnknownTopic => {
                        if self.topic_gone() {
                            return Err(self
                                .ended_transfer()
                                .unwrap_or(ConsumeError::TopicGone { topic: self.topic.clone() }));
                        }
                    }
                }
            }
            if !idle_poll && unclocked < CLOCK_EVERY {
                continue;
            }
            let now = Instant::now();
            if unclocked > 0 {
                last_record = now;
                unclocked = 0;
                self.store(&mut processed)?;
            }
            if self.settings.idle_timeout.is_some_and(|idle| now.duration_since(last_record) >= idle) {
                return summary(Ending::IdleTimeout, records, bytes, &mut processed);
            }
            // librdkafka reports a deleted topic only after its metadata propagation time (30 s) if at all, so a
            // consumer without records asks the broker itself now and then.
            if now.duration_since(last_record) >= TOPIC_CHECK_EVERY
                && now.duration_since(last_topic_check) >= TOPIC_CHECK_EVERY
            {
                last_topic_check = now;
                if self.topic_gone() {
                    self.store(&mut processed)?;
                    return Err(self.ended_transfer().unwrap_or(ConsumeError::TopicGone { topic: self.topic.clone() }));
                }
            }
            if now.duration_since(last_progress) >= Duration::from_secs(1) {
                last_progress = now;
                self.store(&mut processed)?;
                let token_expires_at = self.context().token_expires_at.lock().ok().and_then(|at| *at);
                on_progress(&Progress { records, bytes, elapsed: started.elapsed(), token_expires_at });
            }
        }
    }
}

/// Consumes the transfer's topic until `settings` say stop, `stop` is set, or access ends. Records go to
/// `on_record` one by one; their offsets are committed to the transfer's group afterwards (at least once; a clean
/// stop commits everything handed over, so a restart continues exactly after it).
pub async fn consume(
    api: ConnectorApi,
    transfer: &str,
    settings: StreamSettings,
    stop: Arc<AtomicBool>,
    mut on_record: impl FnMut(&Record<'_>) + Send + 'static,
    mut on_progress: impl FnMut(&Progress) + Send + 'static,
) -> Result<Summary, ConsumeError> {
    let edr = api.edr(transfer, true).await?;
    let context = EdrTokens {
        api,
        transfer: transfer.to_string(),
        runtime: tokio::runtime::Handle::current(),
        token_failure: Mutex::new(None),
        token_expires_at: Mutex::new(edr.expires_at),
        client_errors: Mutex::new(Vec::new()),
    };
    let consumer: BaseConsumer<EdrTokens> = ClientConfig::new()
        .set("bootstrap.servers", &edr.endpoint)
        .set("security.protocol", &edr.security_protocol)
        .set("sasl.mechanism", &edr.sasl_mechanism)
        .set("group.id", format!("{}{}", edr.group_prefix, settings.group))
        .set("client.id", "dsc-consume")
        .set("auto.offset.reset", if settings.from_beginning { "earliest" } else { "latest" })
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("fetch.queue.backoff.ms", FETCH_QUEUE_BACKOFF_MS)
        // A revoked consumer cannot leave its group (the broker refuses it), so after resume the new consumer
        // waits until the old membership times out before it gets the partitions: 10 s instead of the default 45.
        .set("session.timeout.ms", SESSION_TIMEOUT_MS)
        // Nor can it commit on its way out: committing every second bounds what a resumed consumer reads again.
        .set("auto.commit.interval.ms", "1000")
        .create_with_context(context)
        .map_err(|e| ConsumeError::Kafka(e.to_string()))?;
    consumer.subscribe(&[&edr.topic]).map_err(|e| ConsumeError::Kafka(e.to_string()))?;
    let worker = Loop { consumer, topic: edr.topic.clone(), settings, stop };
    tokio::task::spawn_blocking(move || {
        let outcome = worker.run(&mut on_record, &mut on_progress);
        // Whatever ended the loop, what was handed over is committed (a revoked consumer cannot, and need not).
        if outcome.is_ok() {
            match worker.consumer.commit_consumer_state(CommitMode::Sync) {
                Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
                Err(error) => return Err(ConsumeError::Kafka(format!("committing offsets: {error}"))),
            }
        }
        outcome
    })
    .await
    .map_err(|e| ConsumeError::Kafka(format!("the consumer thread failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_json_lines_with_json_values_where_they_parse() {
        let mut record = Record::new("t", 0, 7, Some(br#"{"catenaXId":"urn:uuid:1"}"#))
            .with_headers(vec![("source", Some(b"line-3")), ("empty", None)]);
        record.timestamp = Some(1_700_000_000_000);
        record.key = Some(b"part-1");
        assert_eq!(
            record.to_json(),
            json!({ "topic": "t", "partition": 0, "offset": 7, "timestamp": 1_700_000_000_000i64, "key": "part-1",
                    "headers": { "source": "line-3", "empty": null }, "value": { "catenaXId": "urn:uuid:1" } })
        );
        let text = Record { value: Some(b"not json"), ..record.clone() };
        assert_eq!(text.to_json()["value"], "not json");
        let binary = Record { value: Some(&[0xff, 0x00]), ..record };
        assert_eq!(binary.to_json()["value"], json!({ "base64": "/wA=" }));
        assert_eq!(
            Record::new("t", 1, 8, None).to_json(),
            json!({ "topic": "t", "partition": 1, "offset": 8, "timestamp": null, "key": null, "headers": {},
                    "value": null })
        );
    }

    #[test]
    fn broker_refusals_are_told_apart_from_other_errors() {
        assert!(matches!(
            classify(Some(RDKafkaErrorCode::TopicAuthorizationFailed), "x"),
            Some(Signal::Authorization(_))
        ));
        assert!(matches!(classify(None, "SASL authentication error: invalid token"), Some(Signal::Authentication(_))));
        assert!(classify(Some(RDKafkaErrorCode::BrokerTransportFailure), "connection refused").is_none());
        assert!(matches!(classify(Some(RDKafkaErrorCode::UnknownTopicOrPartition), "x"), Some(Signal::UnknownTopic)));
        assert!(matches!(
            classify(None, "Subscribed topic not available: t: Broker: Unknown topic or partition"),
            Some(Signal::UnknownTopic)
        ));
    }
}
