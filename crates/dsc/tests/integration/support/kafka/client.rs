// SPDX-License-Identifier: Apache-2.0
//! A real Kafka client (rdkafka) that reads with nothing but an EDR, and how its outcomes are judged.

use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::client::{ClientContext, OAuthToken};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use serde_json::Value;

use crate::support::process::Node;
use crate::support::{API_KEY, send};

use super::*;

/// Where a Kafka client gets its token from.
#[derive(Clone)]
pub enum TokenSource {
    /// A token given once (attack tests: lie about its lifetime so that only the broker decides).
    Fixed { token: String, lifetime_ms: i64 },
    /// The consumer connector's EDR API with `auto_refresh=true`, called whenever librdkafka wants a token.
    Edr { url: String, runtime: tokio::runtime::Handle, fetched: Arc<Mutex<Vec<String>>> },
}

impl TokenSource {
    pub fn edr(consumer: &Node, transfer: &str) -> Self {
        TokenSource::Edr {
            url: consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress?auto_refresh=true")),
            runtime: tokio::runtime::Handle::current(),
            fetched: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The tokens handed to librdkafka so far (EDR source).
    pub fn fetched(&self) -> Vec<String> {
        match self {
            TokenSource::Edr { fetched, .. } => fetched.lock().map(|f| f.clone()).unwrap_or_default(),
            TokenSource::Fixed { token, .. } => vec![token.clone()],
        }
    }

    fn token(&self) -> Result<(String, i64), String> {
        match self {
            TokenSource::Fixed { token, lifetime_ms } => Ok((token.clone(), *lifetime_ms)),
            TokenSource::Edr { url, runtime, fetched } => {
                let url = url.clone();
                let edr = runtime.block_on(async move {
                    let reply = send(reqwest::Method::GET, &url, Some(API_KEY), None).await;
                    if reply.status == 200 {
                        Ok(reply.body)
                    } else {
                        Err(format!("EDR API {}: {}", reply.status, reply.body))
                    }
                })?;
                let token = edr["authorization"].as_str().ok_or_else(|| format!("no token in the EDR: {edr}"))?;
                let expires = claims(token)["exp"].as_i64().ok_or("the token has no exp")?;
                if let Ok(mut fetched) = fetched.lock() {
                    fetched.push(token.to_string());
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                    .unwrap_or_default();
                Ok((token.to_string(), dsc_kafka_client::edr::reported_lifetime_ms(expires, now)))
            }
        }
    }
}

/// librdkafka's context: tokens from a [`TokenSource`], and every error the client reports, kept for asserts.
pub struct EdrContext {
    pub source: TokenSource,
    pub errors: Arc<Mutex<Vec<String>>>,
}

impl ClientContext for EdrContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        let (token, lifetime_ms) = self.source.token()?;
        let principal = claims(&token)["sub"].as_str().unwrap_or("unknown").to_string();
        Ok(OAuthToken { token, principal_name: principal, lifetime_ms })
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(format!("{error}: {reason}"));
        }
    }
}

impl ConsumerContext for EdrContext {}

#[derive(Debug, PartialEq)]
pub enum Outcome {
    Records(usize),
    Denied(String),
    Nothing,
}

pub struct Reader {
    pub consumer: BaseConsumer<EdrContext>,
    pub errors: Arc<Mutex<Vec<String>>>,
}

/// A consumer configured from the EDR's fields only (endpoint, security protocol, SASL mechanism), in `group`.
pub fn reader(edr: &Value, source: TokenSource, group: &str) -> Reader {
    reader_with(edr, source, group, &[])
}

/// `reader` with `extra` settings over librdkafka's defaults.
pub fn reader_with(edr: &Value, source: TokenSource, group: &str, extra: &[(&str, &str)]) -> Reader {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let text = |key: &str| edr[key].as_str().unwrap_or_else(|| panic!("EDR without {key}: {edr}")).to_string();
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", text("endpoint"))
        .set("security.protocol", text("kafka.security.protocol"))
        .set("sasl.mechanism", text("kafka.sasl.mechanism"))
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false");
    // `extra` comes last, so it may override the settings above.
    for (key, value) in extra {
        config.set(*key, *value);
    }
    let consumer: BaseConsumer<EdrContext> =
        config.create_with_context(EdrContext { source, errors: errors.clone() }).expect("consumer");
    consumer.subscribe(&[&text("topic")]).expect("subscribe");
    Reader { consumer, errors }
}

fn is_denial(code: Option<RDKafkaErrorCode>) -> bool {
    matches!(
        code,
        Some(
            RDKafkaErrorCode::TopicAuthorizationFailed
                | RDKafkaErrorCode::GroupAuthorizationFailed
                | RDKafkaErrorCode::ClusterAuthorizationFailed
                | RDKafkaErrorCode::Authentication
                | RDKafkaErrorCode::SaslAuthenticationFailed
        )
    )
}

impl Reader {
    /// Polls until `want` records arrived, an authorization or authentication error shows, or `timeout` passed.
    /// Blocking: call it from a blocking thread.
    pub fn poll(&self, want: usize, timeout: Duration) -> Outcome {
        let deadline = Instant::now() + timeout;
        let mut received = 0;
        while Instant::now() < deadline {
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    assert!(message.payload().is_some());
                    received += 1;
                    if received >= want {
                        return Outcome::Records(received);
                    }
                }
                Some(Err(error)) if is_denial(error.rdkafka_error_code()) => return Outcome::Denied(error.to_string()),
                _ => {}
            }
            if let Some(denial) = self.denial() {
                return Outcome::Denied(denial);
            }
        }
        if received > 0 { Outcome::Records(received) } else { Outcome::Nothing }
    }

    /// Polls for all of `window`, counting records and ignoring errors the client recovers from by itself (a
    /// re-authentication that raced a request, say); returns the count and the errors reported meanwhile.
    pub fn count(&self, window: Duration) -> (usize, Vec<String>) {
        self.clear_errors();
        let deadline = Instant::now() + window;
        let mut received = 0;
        while Instant::now() < deadline {
            if let Some(Ok(message)) = self.consumer.poll(Duration::from_millis(100)) {
                assert!(message.payload().is_some());
                received += 1;
            }
        }
        (received, self.errors.lock().map(|e| e.clone()).unwrap_or_default())
    }

    fn denial(&self) -> Option<String> {
        self.errors
            .lock()
            .ok()
            .and_then(|e| e.iter().find(|m| m.contains("uthoriz") || m.contains("uthenticat")).cloned())
    }

    pub fn clear_errors(&self) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.clear();
        }
    }
}

/// Reads until the broker denies access; returns when that happened and why, or `None` after `timeout`.
/// `received` counts records as they arrive, so the caller can wait for a flowing consumer before acting.
pub fn read_until_denied(
    reader: &Reader,
    received: &std::sync::atomic::AtomicUsize,
    timeout: Duration,
) -> Option<(Instant, String)> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match reader.poll(1, Duration::from_millis(50)) {
            Outcome::Records(n) => {
                received.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            }
            Outcome::Denied(reason) => return Some((Instant::now(), reason)),
            Outcome::Nothing => {}
        }
    }
    None
}

/// Runs a blocking Kafka client step off the async runtime.
pub async fn blocking<T: Send + 'static>(step: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(step).await.unwrap()
}

pub fn assert_denied(outcome: &Outcome, what: &str) {
    assert!(matches!(outcome, Outcome::Denied(_)), "{what}: expected a denial, got {outcome:?}");
}
