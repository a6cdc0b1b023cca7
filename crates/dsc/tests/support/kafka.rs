// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL system-test helpers (included with `#[path]` by the Kafka tests only, so that other test binaries
//! do not link librdkafka): the harness's broker and OAuth server, a provider configured for them, and a
//! real Kafka client (rdkafka) that reads with nothing but an EDR — taking each token from the consumer
//! connector's `/v3/edrs/{id}/dataaddress?auto_refresh=true`, as a Kafka application would.

#![allow(dead_code)]

use std::error::Error;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext, OAuthToken};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;
use serde_json::{Value, json};

use crate::support::process::{Node, contract_request, free_port, post};
use crate::support::{self, API_KEY, send};

pub const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

pub struct KafkaHarness {
    pub admin_bootstrap: String,
    pub admin_user: String,
    pub admin_password: String,
    pub oauth_bootstrap: String,
    pub issuer: String,
    pub initial_access_token: String,
    /// RFC 8707 resource for normal tokens; `None` when the server adds the audience itself (Keycloak).
    pub resource: Option<String>,
    /// Resource whose tokens live 2 s (oidc-provider in the harness).
    pub short_lived_resource: Option<String>,
    /// `<prefix><seconds>` is a resource whose tokens live that long (oidc-provider in the harness).
    pub ttl_resource_prefix: Option<String>,
    pub audience: String,
    pub principal_claim: String,
    /// How long after `exp` the broker still accepts a token.
    pub clock_skew: Duration,
}

/// The harness, or `None` (with a notice) when it is not up; `TEST_REQUIRE_KAFKA=1` makes that a failure.
pub fn harness() -> Option<KafkaHarness> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let found = (|| {
        Some(KafkaHarness {
            admin_bootstrap: var("TEST_KAFKA_ADMIN_BOOTSTRAP")?,
            admin_user: var("TEST_KAFKA_ADMIN_USER")?,
            admin_password: var("TEST_KAFKA_ADMIN_PASSWORD")?,
            oauth_bootstrap: var("TEST_KAFKA_OAUTH_BOOTSTRAP")?,
            issuer: var("TEST_OAUTH_ISSUER")?,
            initial_access_token: var("TEST_OAUTH_INITIAL_ACCESS_TOKEN")?,
            resource: var("TEST_OAUTH_RESOURCE"),
            short_lived_resource: var("TEST_OAUTH_SHORT_LIVED_RESOURCE"),
            ttl_resource_prefix: var("TEST_OAUTH_TTL_RESOURCE_PREFIX"),
            audience: var("TEST_OAUTH_AUDIENCE")?,
            principal_claim: var("TEST_KAFKA_PRINCIPAL_CLAIM").unwrap_or_else(|| "sub".into()),
            clock_skew: Duration::from_secs(
                var("TEST_KAFKA_CLOCK_SKEW_SECONDS").and_then(|s| s.parse().ok()).unwrap_or(30),
            ),
        })
    })();
    if found.is_none() {
        assert!(
            var("TEST_REQUIRE_KAFKA").as_deref() != Some("1"),
            "TEST_REQUIRE_KAFKA=1 but the Kafka/OAuth harness environment is missing (eval \"$(scripts/harness.sh env)\")"
        );
        eprintln!(
            "notice: Kafka harness not configured; Kafka PULL system test not run here (scripts/test.sh runs it)"
        );
    }
    found
}

pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{prefix}-{nanos:x}")
}

impl KafkaHarness {
    /// Provider configuration lines for Kafka PULL; `token_seconds` asks for tokens of that lifetime where the
    /// OAuth server can issue them (see [`KafkaHarness::short_tokens`]).
    pub fn provider_config(&self, token_seconds: Option<u64>, extra: &str) -> String {
        let resource = match (token_seconds, &self.ttl_resource_prefix) {
            (Some(seconds), Some(prefix)) => Some(format!("{prefix}{seconds}")),
            _ => self.resource.clone(),
        };
        let (audience, parameter) = match &resource {
            Some(resource) => (resource.as_str(), "resource"),
            None => (self.audience.as_str(), "none"),
        };
        format!(
            "\"dsc.kafka.admin.bootstrap.servers\" = \"{admin}\"\n\"dsc.kafka.admin.username\" = \"{user}\"\n\
             \"dsc.kafka.oauth.issuer\" = \"{issuer}\"\n\"dsc.kafka.oauth.initial.access.token.alias\" = \"kafka-registration\"\n\
             \"dsc.kafka.oauth.audience\" = \"{audience}\"\n\"dsc.kafka.oauth.audience.parameter\" = \"{parameter}\"\n\
             \"dsc.kafka.oauth.principal.claim\" = \"{claim}\"\n{extra}",
            admin = self.admin_bootstrap,
            user = self.admin_user,
            issuer = self.issuer,
            claim = self.principal_claim,
        )
    }

    /// Whether the OAuth server issues tokens of a chosen lifetime.
    pub fn short_tokens(&self) -> bool {
        self.ttl_resource_prefix.is_some()
    }

    /// Puts the admin password and the registration token into the provider's vault.
    pub async fn store_secrets(&self, provider: &Node) {
        for (id, value) in
            [("dsc-kafka-admin-password", &self.admin_password), ("kafka-registration", &self.initial_access_token)]
        {
            let secret = json!({ "@context": { "@vocab": EDC }, "@type": "Secret", "@id": id, "value": value });
            let reply = post(provider.management_url("/v3/secrets"), &secret).await;
            assert_eq!(reply.status, 200, "secret {id}: {}", reply.body);
        }
    }

    /// The provider's asset `asset-1` on `topic`, offered to `consumer_bpn`.
    pub async fn offer_topic(&self, provider: &Node, topic: &str, consumer_bpn: &str, share_credentials: bool) {
        self.offer_topic_with(provider, topic, consumer_bpn, share_credentials, json!({})).await;
    }

    /// Arguments of `dsc produce` publishing to `topic` with the admin's credentials, then `rest`.
    pub fn produce_args(&self, topic: &str, rest: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "produce".into(),
            "--bootstrap".into(),
            self.admin_bootstrap.clone(),
            "--topic".into(),
            topic.into(),
            "--user".into(),
            self.admin_user.clone(),
            "--password".into(),
            self.admin_password.clone(),
        ];
        args.extend(rest.iter().map(|a| a.to_string()));
        args
    }

    /// `offer_topic` with asset properties, e.g. the semantic id of the aspect model the topic carries.
    pub async fn offer_topic_with(
        &self,
        provider: &Node,
        topic: &str,
        consumer_bpn: &str,
        share_credentials: bool,
        properties: serde_json::Value,
    ) {
        let address = json!({ "type": "KafkaBroker", "topic": topic, "kafka.bootstrap.servers": self.oauth_bootstrap,
            "kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanism": "OAUTHBEARER",
            "kafka.poll.duration": "PT0.5S", "kafka.share.client.credentials": share_credentials.to_string() });
        crate::support::process::provision_asset(provider, consumer_bpn, address, properties).await;
    }

    pub fn admin_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.admin_bootstrap)
            .set("security.protocol", "SASL_PLAINTEXT")
            .set("sasl.mechanism", "PLAIN")
            .set("sasl.username", &self.admin_user)
            .set("sasl.password", &self.admin_password);
        config
    }

    pub fn acl_admin(&self) -> dsc_kafka_admin::KafkaAdmin {
        dsc_kafka_admin::KafkaAdmin::new(&self.admin_bootstrap, &self.admin_user, &self.admin_password)
    }

    pub async fn delete_topic(&self, topic: &str) {
        let admin: AdminClient<DefaultClientContext> =
            self.admin_config().create().unwrap_or_else(|e| panic!("admin: {e}"));
        let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
        for result in admin.delete_topics(&[topic], &options).await.unwrap_or_else(|e| panic!("delete topic: {e}")) {
            result.unwrap_or_else(|(name, code)| panic!("delete topic {name}: {code}"));
        }
    }

    pub async fn create_topic(&self, topic: &str) {
        let admin: AdminClient<DefaultClientContext> =
            self.admin_config().create().unwrap_or_else(|e| panic!("admin: {e}"));
        let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
        for result in admin
            .create_topics(&[NewTopic::new(topic, 1, TopicReplication::Fixed(1))], &options)
            .await
            .unwrap_or_else(|e| panic!("create topic: {e}"))
        {
            result.unwrap_or_else(|(topic, code)| panic!("create {topic}: {code}"));
        }
    }

    /// Produces one record every `every` to each topic until the returned handle is aborted.
    pub fn feed(&self, topics: &[&str], every: Duration) -> tokio::task::JoinHandle<()> {
        let producer: FutureProducer = self.admin_config().create().unwrap_or_else(|e| panic!("producer: {e}"));
        let topics: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        tokio::spawn(async move {
            for index in 0u64.. {
                for topic in &topics {
                    let payload = format!("{{\"record\":{index}}}");
                    let _ =
                        producer.send(FutureRecord::<(), _>::to(topic).payload(&payload), Duration::from_secs(5)).await;
                }
                tokio::time::sleep(every).await;
            }
        })
    }

    pub fn oauth_client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.oauth_bootstrap)
            .set("security.protocol", "SASL_PLAINTEXT")
            .set("sasl.mechanism", "OAUTHBEARER");
        config
    }
}

/// The claims of a JWT, read without verification.
pub fn claims(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|part| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

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
                Ok((token.to_string(), expires * 1000))
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
    let consumer: BaseConsumer<EdrContext> = config
        .create_with_context(EdrContext { source, errors: errors.clone() })
        .unwrap_or_else(|e| panic!("consumer: {e}"));
    consumer.subscribe(&[&text("topic")]).unwrap_or_else(|e| panic!("subscribe: {e}"));
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

/// The EDR of a started consumer transfer.
pub async fn edr(consumer: &Node, transfer: &str) -> Value {
    let reply = send(
        reqwest::Method::GET,
        &consumer.management_url(&format!("/v3/edrs/{transfer}/dataaddress")),
        Some(API_KEY),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "EDR of {transfer}: {}", reply.body);
    reply.body
}

/// Waits until the transfer reaches `state` on `node`; returns the transfer.
pub async fn wait_for_transfer(node: &Node, id: &str, state: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        let reply = send(
            reqwest::Method::GET,
            &node.management_url(&format!("/v3/transferprocesses/{id}")),
            Some(API_KEY),
            None,
        )
        .await;
        if reply.body["state"] == state {
            return reply.body;
        }
        assert!(
            Instant::now() < deadline,
            "transfer {id} is {} (waiting for {state}): {}\n{}",
            reply.body["state"],
            reply.body,
            node.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The provider's id of the consumer's transfer (its correlation id is the consumer's id).
pub async fn provider_transfer_of(provider: &Node, consumer_transfer: &str) -> String {
    let reply = post(
        provider.management_url("/v3/transferprocesses/request"),
        &json!({ "@context": { "@vocab": EDC }, "limit": 10000 }),
    )
    .await;
    reply
        .body
        .as_array()
        .and_then(|all| all.iter().find(|t| t["correlationId"] == consumer_transfer))
        .and_then(|t| t["@id"].as_str())
        .unwrap_or_else(|| panic!("the provider has no transfer for {consumer_transfer}: {}", reply.body))
        .to_string()
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

/// A client-credentials token request with the transfer's own OAuth client (Mobility Data Space style EDR).
pub async fn client_credentials(h: &KafkaHarness, edr: &Value) -> (u16, Value) {
    let text = |key: &str| edr[key].as_str().unwrap_or_else(|| panic!("EDR without {key}: {edr}")).to_string();
    let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
    if let Some(resource) = &h.resource {
        form.push(("resource".into(), resource.clone()));
    }
    let response = crate::support::client()
        .post(text("tokenEndpoint"))
        .basic_auth(text("clientId"), Some(text("clientSecret")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            reqwest::Url::parse_with_params("http://form/", &form)
                .map(|url| url.query().unwrap_or_default().to_string())
                .unwrap_or_default(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("token endpoint: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub const CONSUMER_BPN: &str = "BPNL000000000002";

pub struct Pair {
    pub consumer: Node,
    pub provider: Node,
    pub _dir: tempfile::TempDir,
}

/// A consumer and a provider trusting each other; the provider runs Kafka PULL with `provider_extra` settings.
pub async fn pair(h: &KafkaHarness, provider_extra: &str, consumer_extra: &str) -> Pair {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ports = || (free_port(), free_port(), free_port(), free_port());
    let (consumer_ports, provider_ports) = (ports(), ports());
    let consumer_did = format!("did:web:127.0.0.1%3A{}", consumer_ports.2);
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer = Node::with_ports(
        dir.path(),
        "consumer",
        &[(provider_did, "BPNL000000000001".into())],
        consumer_extra,
        consumer_ports,
    );
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did, CONSUMER_BPN.into())],
        provider_extra,
        provider_ports,
    );
    consumer.start().await;
    provider.start().await;
    h.store_secrets(&provider).await;
    Pair { consumer, provider, _dir: dir }
}

pub async fn agreement(pair: &Pair) -> String {
    let request = contract_request(&pair.consumer, &pair.provider).await;
    let created = post(pair.consumer.management_url("/v3/contractnegotiations"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.body["@id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = support::send(
            reqwest::Method::GET,
            &pair.consumer.management_url(&format!("/v3/contractnegotiations/{id}")),
            Some(support::API_KEY),
            None,
        )
        .await;
        match reply.body["state"].as_str() {
            Some("FINALIZED") => return reply.body["contractAgreementId"].as_str().unwrap_or_default().to_string(),
            Some("TERMINATED") => panic!("negotiation terminated: {}\n{}", reply.body, pair.provider.log_tail()),
            _ => {}
        }
        assert!(Instant::now() < deadline, "negotiation did not end: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asks for a transfer; returns the consumer's transfer id (without waiting).
pub async fn request_transfer(pair: &Pair, agreement: &str, transfer_type: &str) -> String {
    let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": pair.provider.protocol_address(),
        "contractId": agreement, "transferType": transfer_type });
    let created = post(pair.consumer.management_url("/v3/transferprocesses"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    created.body["@id"].as_str().unwrap_or_default().to_string()
}

/// A new topic offered by a provider to the consumer of a new pair (default configuration), and a started
/// KafkaBroker-PULL transfer of it: (topic, pair, consumer-side transfer id).
pub async fn topic_transfer(h: &KafkaHarness, topic_prefix: &str) -> (String, Pair, String) {
    let topic = unique(topic_prefix);
    h.create_topic(&topic).await;
    let pair = pair(h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    (topic, pair, transfer)
}

pub async fn started_transfer(pair: &Pair, agreement: &str, transfer_type: &str) -> String {
    let id = request_transfer(pair, agreement, transfer_type).await;
    wait_for_transfer(&pair.consumer, &id, "STARTED", Duration::from_secs(30)).await;
    id
}

pub async fn command(node: &Node, transfer: &str, action: &str) {
    let body = json!({ "@context": { "@vocab": EDC }, "reason": format!("{action} by the test") });
    let reply = post(node.management_url(&format!("/v3/transferprocesses/{transfer}/{action}")), &body).await;
    assert_eq!(reply.status, 204, "{action}: {}", reply.body);
}

/// Runs a blocking Kafka client step off the async runtime.
pub async fn blocking<T: Send + 'static>(step: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(step).await.unwrap_or_else(|e| panic!("{e}"))
}

pub fn assert_denied(outcome: &Outcome, what: &str) {
    assert!(matches!(outcome, Outcome::Denied(_)), "{what}: expected a denial, got {outcome:?}");
}

pub fn principal_of(edr: &Value, claim: &str) -> String {
    let token = edr["authorization"].as_str().unwrap_or_default();
    format!("User:{}", claims(token)[claim].as_str().unwrap_or_default())
}
