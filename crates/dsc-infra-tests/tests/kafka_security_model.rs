// SPDX-License-Identifier: Apache-2.0
//! Proves, with a real Kafka client (rdkafka) against the harness's real broker and OAuth server, the security
//! model the Kafka PULL transfer relies on:
//! - a JWT for a freshly registered client (RFC 7591) reads topic T only after an ACL grants its principal READ on
//!   T and on its group prefix;
//! - the same token cannot read topic U, cannot produce, cannot use another group;
//! - deleting the ACL cuts an already running consumer off at its next fetch (the delay is printed);
//! - an expired token cannot connect.
//!
//! Needs `scripts/harness.sh up` and its `env`; `TEST_REQUIRE_KAFKA=1` (set by scripts/test.sh) turns a missing
//! harness into a failure instead of a notice.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::error::Error;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rdkafka::Message;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext, OAuthToken};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;

struct Harness {
    /// `resource` parameter for token requests (RFC 8707), when the server uses resource indicators.
    resource: Option<String>,
    /// Resource whose tokens live only seconds; servers without one skip the expiry test.
    short_lived_resource: Option<String>,
    /// The claim the broker takes the principal from (`sub`, or `azp` with Keycloak).
    principal_claim: String,
    registration_url: String,
    token_url: String,
    initial_access_token: String,
    audience: String,
    admin_bootstrap: String,
    admin_user: String,
    admin_password: String,
    oauth_bootstrap: String,
    acl_command: String,
}

fn harness() -> Option<Harness> {
    let var = |name: &str| std::env::var(name).ok();
    let found = (|| {
        Some(Harness {
            resource: var("TEST_OAUTH_RESOURCE").filter(|r| !r.is_empty()),
            short_lived_resource: var("TEST_OAUTH_SHORT_LIVED_RESOURCE").filter(|r| !r.is_empty()),
            principal_claim: var("TEST_KAFKA_PRINCIPAL_CLAIM").unwrap_or_else(|| "sub".into()),
            registration_url: var("TEST_OAUTH_REGISTRATION_URL")?,
            token_url: var("TEST_OAUTH_TOKEN_URL")?,
            initial_access_token: var("TEST_OAUTH_INITIAL_ACCESS_TOKEN")?,
            audience: var("TEST_OAUTH_AUDIENCE")?,
            admin_bootstrap: var("TEST_KAFKA_ADMIN_BOOTSTRAP")?,
            admin_user: var("TEST_KAFKA_ADMIN_USER")?,
            admin_password: var("TEST_KAFKA_ADMIN_PASSWORD")?,
            oauth_bootstrap: var("TEST_KAFKA_OAUTH_BOOTSTRAP")?,
            acl_command: var("TEST_KAFKA_ACL_COMMAND")?,
        })
    })();
    if found.is_none() {
        assert!(
            var("TEST_REQUIRE_KAFKA").as_deref() != Some("1"),
            "TEST_REQUIRE_KAFKA=1 but the harness environment is missing (eval \"$(scripts/harness.sh env)\")"
        );
        eprintln!(
            "notice: Kafka harness not configured; Kafka security smoke test not run here (scripts/test.sh runs it)"
        );
    }
    found
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{prefix}-{nanos:x}")
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// RFC 7591 dynamic registration with the initial access token; returns (client_id, client_secret).
async fn register_client(h: &Harness) -> (String, String) {
    let response = http()
        .post(&h.registration_url)
        .bearer_auth(&h.initial_access_token)
        .json(&serde_json::json!({
            "grant_types": ["client_credentials"], "response_types": [], "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic"
        }))
        .send()
        .await
        .expect("registration");
    assert_eq!(response.status().as_u16(), 201, "registration must succeed");
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let id = body["client_id"].as_str().unwrap_or_default().to_string();
    let secret = body["client_secret"].as_str().unwrap_or_default().to_string();
    assert!(!id.is_empty() && !secret.is_empty(), "registration answer: {body}");
    (id, secret)
}

/// client_credentials token (for `resource`, when given); returns (JWT, exp in epoch seconds).
async fn token(h: &Harness, client: &(String, String), resource: Option<&str>) -> (String, i64) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(resource) = resource {
        form.push(("resource", resource));
    }
    let response =
        http().post(&h.token_url).basic_auth(&client.0, Some(&client.1)).form(&form).send().await.expect("token");
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let jwt = body["access_token"].as_str().unwrap_or_else(|| panic!("no access token: {body}")).to_string();
    let claims = jwt.split('.').nth(1).unwrap_or_default();
    let claims: serde_json::Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    assert_eq!(claims[h.principal_claim.as_str()], client.0.as_str(), "the principal claim names the client");
    let audience_ok = match &claims["aud"] {
        serde_json::Value::String(aud) => aud == &h.audience,
        serde_json::Value::Array(list) => list.iter().any(|a| a.as_str() == Some(h.audience.as_str())),
        _ => false,
    };
    assert!(audience_ok, "aud must name the broker: {claims}");
    (jwt, claims["exp"].as_i64().unwrap_or_default())
}

fn acl(h: &Harness, action: &str, principal: &str, topic: &str, group_prefix: &str) {
    let mut parts = h.acl_command.split_whitespace();
    let program = parts.next().unwrap_or_default();
    let status = Command::new(program)
        .args(parts)
        .args([action, principal, topic, group_prefix])
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", h.acl_command));
    assert!(status.success(), "ACL {action} failed");
}

/// Hands librdkafka the token we were given (no refresh) and records the errors the client reports.
struct TokenContext {
    token: String,
    principal: String,
    lifetime_ms: i64,
    errors: Arc<Mutex<Vec<String>>>,
}

impl ClientContext for TokenContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        Ok(OAuthToken {
            token: self.token.clone(),
            principal_name: self.principal.clone(),
            lifetime_ms: self.lifetime_ms,
        })
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(format!("{error}: {reason}"));
        }
    }
}

impl ConsumerContext for TokenContext {}

fn oauth_config(h: &Harness) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &h.oauth_bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "OAUTHBEARER");
    config
}

fn admin_config(h: &Harness) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &h.admin_bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", &h.admin_user)
        .set("sasl.password", &h.admin_password);
    config
}

fn consumer(
    h: &Harness,
    client_id: &str,
    token: &(String, i64),
    group: &str,
    topic: &str,
) -> (BaseConsumer<TokenContext>, Arc<Mutex<Vec<String>>>) {
    let errors = Arc::new(Mutex::new(Vec::new()));
    let context = TokenContext {
        token: token.0.clone(),
        principal: client_id.to_string(),
        lifetime_ms: token.1 * 1000,
        errors: errors.clone(),
    };
    let consumer: BaseConsumer<TokenContext> = oauth_config(h)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create_with_context(context)
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    (consumer, errors)
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Records(usize),
    Denied(String),
    Nothing,
}

/// Polls until `want` records arrived, an authorization/authentication error shows, or `timeout` passed.
fn poll(
    consumer: &BaseConsumer<TokenContext>,
    errors: &Arc<Mutex<Vec<String>>>,
    want: usize,
    timeout: Duration,
) -> Outcome {
    let deadline = Instant::now() + timeout;
    let mut received = 0;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                assert!(message.payload().is_some());
                received += 1;
                if received >= want {
                    return Outcome::Records(received);
                }
            }
            Some(Err(error)) => {
                let code = error.rdkafka_error_code();
                if matches!(
                    code,
                    Some(
                        RDKafkaErrorCode::TopicAuthorizationFailed
                            | RDKafkaErrorCode::GroupAuthorizationFailed
                            | RDKafkaErrorCode::Authentication
                            | RDKafkaErrorCode::SaslAuthenticationFailed
                    )
                ) {
                    return Outcome::Denied(error.to_string());
                }
            }
            None => {}
        }
        if let Some(denial) = errors
            .lock()
            .ok()
            .and_then(|e| e.iter().find(|m| m.contains("uthoriz") || m.contains("uthenticat")).cloned())
        {
            return Outcome::Denied(denial);
        }
    }
    if received > 0 { Outcome::Records(received) } else { Outcome::Nothing }
}

async fn create_topics_with_records(h: &Harness, topics: &[&str], records: usize) {
    let admin: AdminClient<DefaultClientContext> = admin_config(h).create().expect("admin");
    let new: Vec<NewTopic> = topics.iter().map(|t| NewTopic::new(t, 1, TopicReplication::Fixed(1))).collect();
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
    for result in admin.create_topics(&new, &options).await.expect("create topics") {
        result.unwrap_or_else(|(topic, code)| panic!("create {topic}: {code}"));
    }
    let producer: FutureProducer = admin_config(h).create().expect("producer");
    for topic in topics {
        for index in 0..records {
            let payload = format!("{{\"record\":{index}}}");
            producer
                .send(FutureRecord::<(), _>::to(topic).payload(&payload), Duration::from_secs(10))
                .await
                .unwrap_or_else(|(e, _)| panic!("produce to {topic}: {e}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_plus_acl_grants_exactly_one_topic_and_group_prefix_and_acl_deletion_cuts_off_a_running_consumer() {
    let Some(h) = harness() else { return };
    let (topic, other_topic) = (unique("smoke-t"), unique("smoke-u"));
    create_topics_with_records(&h, &[&topic, &other_topic], 5).await;
    let client = register_client(&h).await;
    let token = token(&h, &client, h.resource.as_deref()).await;
    let principal = client.0.clone();
    let group_prefix = format!("{principal}-");
    let granted_group = format!("{group_prefix}g1");

    // Without an ACL nothing is readable.
    let (before, errors) = consumer(&h, &principal, &token, &granted_group, &topic);
    let outcome = poll(&before, &errors, 1, Duration::from_secs(20));
    assert!(matches!(outcome, Outcome::Denied(_)), "read without ACL: {outcome:?}");
    drop(before);

    acl(&h, "grant", &principal, &topic, &group_prefix);
    let (reader, errors) = consumer(&h, &principal, &token, &granted_group, &topic);
    assert_eq!(poll(&reader, &errors, 5, Duration::from_secs(30)), Outcome::Records(5), "read with ACL");

    // Another topic, another group, producing: all refused for the same token.
    let (wrong_topic, errors_u) = consumer(&h, &principal, &token, &format!("{group_prefix}g2"), &other_topic);
    let outcome = poll(&wrong_topic, &errors_u, 1, Duration::from_secs(20));
    assert!(matches!(outcome, Outcome::Denied(_)), "read of another topic: {outcome:?}");
    drop(wrong_topic);
    let (wrong_group, errors_g) = consumer(&h, &principal, &token, "someone-elses-group", &topic);
    let outcome = poll(&wrong_group, &errors_g, 1, Duration::from_secs(20));
    assert!(matches!(outcome, Outcome::Denied(_)), "read with another group: {outcome:?}");
    drop(wrong_group);
    let producer_context = TokenContext {
        token: token.0.clone(),
        principal: principal.clone(),
        lifetime_ms: token.1 * 1000,
        errors: Arc::new(Mutex::new(Vec::new())),
    };
    let producer: FutureProducer<TokenContext> =
        oauth_config(&h).set("message.timeout.ms", "10000").create_with_context(producer_context).expect("producer");
    let produced = producer.send(FutureRecord::<(), _>::to(&topic).payload("forbidden"), Duration::from_secs(10)).await;
    match produced {
        Err((error, _)) => assert_eq!(error.rdkafka_error_code(), Some(RDKafkaErrorCode::TopicAuthorizationFailed)),
        Ok(delivery) => panic!("a read-only token produced a record: {delivery:?}"),
    }
    let _ = producer.flush(Duration::from_secs(1));

    // The running reader is cut off at its next fetch once the ACL is gone. The revocation runs beside the
    // polling consumer, so the delay is measured from the moment the ACL command returned.
    let admin_producer: FutureProducer = admin_config(&h).create().expect("producer");
    if let Ok(mut seen) = errors.lock() {
        seen.clear();
    }
    let revoked_at: Arc<Mutex<Option<Instant>>> = Arc::new(Mutex::new(None));
    let revocation_started = Instant::now();
    let revoker = {
        let (command, principal, topic, group_prefix, revoked_at) =
            (h.acl_command.clone(), principal.clone(), topic.clone(), group_prefix.clone(), revoked_at.clone());
        std::thread::spawn(move || {
            let h = Harness { acl_command: command, ..harness_stub() };
            acl(&h, "revoke", &principal, &topic, &group_prefix);
            if let Ok(mut at) = revoked_at.lock() {
                *at = Some(Instant::now());
            }
        })
    };
    let feeder = {
        let topic = topic.clone();
        tokio::spawn(async move {
            for index in 0..100 {
                let _ = admin_producer
                    .send(FutureRecord::<(), _>::to(&topic).payload(&format!("{index}")), Duration::from_secs(5))
                    .await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (outcome, denied_at) = tokio::task::block_in_place(|| {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            match poll(&reader, &errors, usize::MAX, Duration::from_millis(100)) {
                Outcome::Denied(reason) => return (Outcome::Denied(reason), Instant::now()),
                _ if Instant::now() > deadline => return (Outcome::Nothing, Instant::now()),
                _ => {}
            }
        }
    });
    feeder.abort();
    let _ = revoker.join();
    assert!(matches!(outcome, Outcome::Denied(_)), "running consumer after ACL deletion: {outcome:?}");
    let revoked_at = revoked_at.lock().ok().and_then(|at| *at).unwrap_or_else(|| panic!("revocation did not finish"));
    // The ACL command is two JVM runs (topic ACL, then group ACL); the cut-off usually lands before it returns.
    println!(
        "ACL deletion cut off the running consumer {} ms after the revocation started; the ACL command took {} ms ({outcome:?})",
        denied_at.duration_since(revocation_started).as_millis(),
        revoked_at.duration_since(revocation_started).as_millis()
    );
}

fn harness_stub() -> Harness {
    Harness {
        resource: None,
        short_lived_resource: None,
        principal_claim: String::new(),
        registration_url: String::new(),
        token_url: String::new(),
        initial_access_token: String::new(),
        audience: String::new(),
        admin_bootstrap: String::new(),
        admin_user: String::new(),
        admin_password: String::new(),
        oauth_bootstrap: String::new(),
        acl_command: String::new(),
    }
}

#[tokio::test]
async fn an_expired_token_cannot_connect() {
    let Some(h) = harness() else { return };
    let Some(short_lived) = h.short_lived_resource.clone() else {
        eprintln!("notice: this OAuth server issues no short-lived tokens; expiry test not run against it");
        return;
    };
    let topic = unique("smoke-expired");
    create_topics_with_records(&h, &[&topic], 1).await;
    let client = register_client(&h).await;
    let group_prefix = format!("{}-", client.0);
    acl(&h, "grant", &client.0, &topic, &group_prefix);
    let short = token(&h, &client, Some(&short_lived)).await;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default();
    assert!(short.1 - now <= 3, "a short-lived token");
    // Past its expiry plus the clock skew the broker tolerates.
    let skew: i64 = std::env::var("TEST_KAFKA_CLOCK_SKEW_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    tokio::time::sleep(Duration::from_secs((short.1 - now + skew + 1).max(1) as u64)).await;
    // Tell the client the token is still valid, so it is the broker that refuses it.
    let lying = (short.0.clone(), now + 600);
    let (consumer, errors) = consumer(&h, &client.0, &lying, &format!("{group_prefix}g"), &topic);
    let errors_seen = errors.clone();
    let outcome = tokio::task::spawn_blocking(move || poll(&consumer, &errors, 1, Duration::from_secs(20)))
        .await
        .unwrap_or(Outcome::Nothing);
    match outcome {
        Outcome::Denied(reason) => {
            assert!(reason.contains("uthenticat"), "expected an authentication failure: {reason}")
        }
        other => panic!("an expired token connected: {other:?}; client errors: {:?}", errors_seen),
    }
    acl(&h, "revoke", &client.0, &topic, &group_prefix);
}
