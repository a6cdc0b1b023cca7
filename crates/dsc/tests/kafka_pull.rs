// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL end to end: provider and consumer as two `dsc` processes, the harness's real Apache Kafka (SASL/PLAIN
//! admin listener, SASL/OAUTHBEARER listener validating JWTs) and OAuth server, and a real Kafka client (rdkafka)
//! that reads with nothing but the EDR.
//!
//! Needs `scripts/harness.sh up postgres oauth kafka` and its `env`; `TEST_REQUIRE_KAFKA=1` (scripts/test.sh) turns a
//! missing harness into a failure instead of a notice.

#[path = "support/kafka.rs"]
mod kafka;
mod support;

use std::time::{Duration, Instant};

use kafka::{KafkaHarness, Outcome, TokenSource, claims, edr, provider_transfer_of, reader, unique, wait_for_transfer};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use support::process::{Node, contract_request, free_port, post};

const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
const CONSUMER_BPN: &str = "BPNL000000000002";
/// Token lifetime of the refresh test: a few seconds, so 60 s of reading needs many renewals.
const TOKEN_SECONDS: u64 = 5;

struct Pair {
    consumer: Node,
    provider: Node,
    _dir: tempfile::TempDir,
}

/// A consumer and a provider trusting each other; the provider runs Kafka PULL with `provider_extra` settings.
async fn pair(h: &KafkaHarness, provider_extra: &str, consumer_extra: &str) -> Pair {
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

async fn agreement(pair: &Pair) -> String {
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
async fn request_transfer(pair: &Pair, agreement: &str, transfer_type: &str) -> String {
    let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
        "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": pair.provider.protocol_address(),
        "contractId": agreement, "transferType": transfer_type });
    let created = post(pair.consumer.management_url("/v3/transferprocesses"), &request).await;
    assert_eq!(created.status, 200, "{}", created.body);
    created.body["@id"].as_str().unwrap_or_default().to_string()
}

async fn started_transfer(pair: &Pair, agreement: &str, transfer_type: &str) -> String {
    let id = request_transfer(pair, agreement, transfer_type).await;
    wait_for_transfer(&pair.consumer, &id, "STARTED", Duration::from_secs(30)).await;
    id
}

async fn command(node: &Node, transfer: &str, action: &str) {
    let body = json!({ "@context": { "@vocab": EDC }, "reason": format!("{action} by the test") });
    let reply = post(node.management_url(&format!("/v3/transferprocesses/{transfer}/{action}")), &body).await;
    assert_eq!(reply.status, 204, "{action}: {}", reply.body);
}

/// Runs a blocking Kafka client step off the async runtime.
async fn blocking<T: Send + 'static>(step: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(step).await.unwrap_or_else(|e| panic!("{e}"))
}

fn assert_denied(outcome: &Outcome, what: &str) {
    assert!(matches!(outcome, Outcome::Denied(_)), "{what}: expected a denial, got {outcome:?}");
}

fn principal_of(edr: &Value, claim: &str) -> String {
    let token = edr["authorization"].as_str().unwrap_or_default();
    format!("User:{}", claims(token)[claim].as_str().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_consumer_reads_through_token_refresh_and_the_broker_denies_everything_else() {
    let Some(h) = kafka::harness() else { return };
    let (topic, other_topic) = (unique("kafka-pull-t"), unique("kafka-pull-u"));
    h.create_topic(&topic).await;
    h.create_topic(&other_topic).await;
    let feeder = h.feed(&[&topic, &other_topic], Duration::from_millis(100));
    let pair = pair(&h, &h.provider_config(Some(TOKEN_SECONDS), ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let a = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    // Mobility Data Space peers name the type Kafka-PULL.
    let b = started_transfer(&pair, &agreement, "Kafka-PULL").await;

    // The EDR says everything a Kafka client needs, and no client secret unless the asset asks for it.
    let edr_a = edr(&pair.consumer, &a).await;
    let provider_a = provider_transfer_of(&pair.provider, &a).await;
    assert_eq!(edr_a["endpointType"], "https://w3id.org/idsa/v4.1/Kafka", "{edr_a}");
    assert_eq!(edr_a["endpoint"], h.oauth_bootstrap.as_str());
    assert_eq!(edr_a["topic"], topic.as_str());
    assert_eq!(edr_a["kafka.security.protocol"], "SASL_PLAINTEXT");
    assert_eq!(edr_a["kafka.sasl.mechanism"], "OAUTHBEARER");
    assert_eq!(edr_a["kafka.poll.duration"], "PT0.5S");
    assert_eq!(edr_a["kafka.group.prefix"], format!("dsc-{provider_a}."));
    assert!(edr_a.get("clientSecret").is_none(), "{edr_a}");
    for key in ["authorization", "tx-auth:refreshToken", "tx-auth:refreshEndpoint", "tx-auth:expiresIn"] {
        assert!(edr_a[key].is_string() || edr_a[key].is_number(), "EDR without {key}: {edr_a}");
    }
    let edr_b = edr(&pair.consumer, &b).await;
    assert_ne!(principal_of(&edr_a, &h.principal_claim), principal_of(&edr_b, &h.principal_claim));
    assert_ne!(edr_a["kafka.group.prefix"], edr_b["kafka.group.prefix"]);
    let prefix_a = edr_a["kafka.group.prefix"].as_str().unwrap_or_default().to_string();

    let refreshed = support::send(
        reqwest::Method::GET,
        &pair.consumer.management_url(&format!("/v3/edrs/{a}/dataaddress?auto_refresh=true")),
        Some(support::API_KEY),
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "refresh: {}\n{}", refreshed.body, pair.provider.log_tail());

    // Read for 60 s with short-lived tokens: librdkafka asks for a token before each expires, the consumer
    // connector refreshes the EDR at the provider, and the records keep coming.
    let source = TokenSource::edr(&pair.consumer, &a);
    let (edr_for_reader, group, tokens) = (edr_a.clone(), format!("{prefix_a}app"), source.clone());
    let (windows, client_errors) = blocking(move || {
        let reader = reader(&edr_for_reader, source, &group);
        let windows = (0..6).map(|_| reader.poll(usize::MAX, Duration::from_secs(10))).collect::<Vec<_>>();
        (windows, reader.errors.lock().map(|e| e.clone()).unwrap_or_default())
    })
    .await;
    let distinct: std::collections::BTreeSet<String> = tokens.fetched().into_iter().collect();
    println!("60 s of reading through refresh: per 10 s {windows:?}, {} distinct tokens", distinct.len());
    for (index, window) in windows.iter().enumerate() {
        assert!(
            matches!(window, Outcome::Records(n) if *n > 10),
            "10 s window {index}: {window:?}; client errors: {client_errors:?}"
        );
    }
    if h.short_tokens() {
        let renewals = 60 / TOKEN_SECONDS as usize;
        assert!(
            distinct.len() >= renewals,
            "{TOKEN_SECONDS}-second tokens must have been renewed: {} tokens",
            distinct.len()
        );
    }

    // The attack matrix: every attempt outside the grant is refused by the broker.
    let attack = |edr: Value, source: TokenSource, group: String| {
        blocking(move || reader(&edr, source, &group).poll(1, Duration::from_secs(20)))
    };
    let mut other_topic_edr = edr_a.clone();
    other_topic_edr["topic"] = json!(other_topic);
    let outcome = attack(other_topic_edr, TokenSource::edr(&pair.consumer, &a), format!("{prefix_a}u")).await;
    assert_denied(&outcome, "reading another topic");
    let outcome = attack(edr_a.clone(), TokenSource::edr(&pair.consumer, &a), "someone-elses-group".into()).await;
    assert_denied(&outcome, "reading with a group outside the prefix");
    let outcome = attack(edr_a.clone(), TokenSource::edr(&pair.consumer, &b), format!("{prefix_a}stolen")).await;
    assert_denied(&outcome, "another transfer's token in this transfer's group");

    let producer: FutureProducer<kafka::EdrContext> = h
        .oauth_client_config()
        .set("message.timeout.ms", "10000")
        .create_with_context(kafka::EdrContext {
            source: TokenSource::edr(&pair.consumer, &a),
            errors: Default::default(),
        })
        .unwrap_or_else(|e| panic!("producer: {e}"));
    let produced = producer.send(FutureRecord::<(), _>::to(&topic).payload("forged"), Duration::from_secs(10)).await;
    match produced {
        Err((error, _)) => assert_eq!(
            error.rdkafka_error_code(),
            Some(rdkafka::types::RDKafkaErrorCode::TopicAuthorizationFailed),
            "producing: {error}"
        ),
        Ok(delivery) => panic!("a read-only transfer produced a record: {delivery:?}"),
    }
    let admin: AdminClient<kafka::EdrContext> = h
        .oauth_client_config()
        .create_with_context(kafka::EdrContext {
            source: TokenSource::edr(&pair.consumer, &a),
            errors: Default::default(),
        })
        .unwrap_or_else(|e| panic!("admin: {e}"));
    let created = admin
        .create_topics(
            &[NewTopic::new(&unique("kafka-pull-new"), 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().request_timeout(Some(Duration::from_secs(20))),
        )
        .await;
    let refused = match &created {
        Ok(results) => results.iter().all(|r| r.is_err()),
        Err(_) => true,
    };
    assert!(refused, "a transfer's token created a topic: {created:?}");

    let token = edr(&pair.consumer, &a).await["authorization"].as_str().unwrap_or_default().to_string();
    let principal = principal_of(&edr(&pair.consumer, &a).await, &h.principal_claim);
    let escalation = dsc_kafka_admin::ConsumerGrant {
        principal: principal.clone(),
        topic: other_topic.clone(),
        group_prefix: "everything".into(),
    };
    let altered = dsc_kafka_admin::KafkaAdmin::with_bearer_token(&h.oauth_bootstrap, &token).grant(&escalation).await;
    assert!(
        matches!(altered, Err(dsc_kafka_admin::AdminError::Refused { code: 31, .. })),
        "creating ACLs with a transfer's token: {altered:?}"
    );
    let acls = h.acl_admin().acls_of(&principal).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(acls.len(), 3, "the grant is unchanged: {acls:?}");

    // An expired token: the broker refuses it even when the client claims it is still valid.
    if h.short_tokens() {
        let expires = claims(&token)["exp"].as_i64().unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let wait = (expires - now).max(0) as u64 + h.clock_skew.as_secs() + 1;
        tokio::time::sleep(Duration::from_secs(wait)).await;
        let lying = TokenSource::Fixed { token, lifetime_ms: (now + 600) * 1000 };
        let outcome = attack(edr_a.clone(), lying, format!("{prefix_a}late")).await;
        match outcome {
            Outcome::Denied(reason) => assert!(reason.contains("uthenticat"), "expired token: {reason}"),
            other => panic!("an expired token was accepted: {other:?}"),
        }
    }

    // An asset whose topic does not exist: the transfer ends with the reason, on both sides.
    let moved = json!({ "@context": { "@vocab": EDC }, "@id": "asset-1", "properties": {},
        "dataAddress": { "type": "KafkaBroker", "topic": "no-such-topic", "kafka.bootstrap.servers": h.oauth_bootstrap,
            "kafka.security.protocol": "SASL_PLAINTEXT" } });
    let updated = support::send(
        reqwest::Method::PUT,
        &pair.provider.management_url("/v3/assets"),
        Some(support::API_KEY),
        Some(moved.to_string()),
    )
    .await;
    assert_eq!(updated.status, 204, "{}", updated.body);
    let missing = request_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let ended = wait_for_transfer(&pair.consumer, &missing, "TERMINATED", Duration::from_secs(30)).await;
    let reason = ended["errorDetail"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("topic 'no-such-topic' does not exist on the Kafka cluster at {}", h.admin_bootstrap)),
        "{ended}"
    );
    feeder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn suspend_cuts_a_polling_consumer_off_resume_grants_anew_and_terminate_leaves_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-s");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(50));
    let pair = pair(&h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, true).await;
    let agreement = agreement(&pair).await;
    let a = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let b = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let (edr_a, edr_b) = (edr(&pair.consumer, &a).await, edr(&pair.consumer, &b).await);
    let (prefix_a, prefix_b) = (
        edr_a["kafka.group.prefix"].as_str().unwrap_or_default().to_string(),
        edr_b["kafka.group.prefix"].as_str().unwrap_or_default().to_string(),
    );
    let provider_a = provider_transfer_of(&pair.provider, &a).await;
    let first_principal = principal_of(&edr_a, &h.principal_claim);

    // The EDR carries the transfer's own OAuth client when the asset asks for it; it gets tokens by itself.
    let (status, body) = kafka::client_credentials(&h, &edr_a).await;
    assert_eq!(status, 200, "client credentials of a started transfer: {body}");

    // Two consumers polling: A's is cut off by the suspension, B's is not disturbed.
    let (received_a, received_b) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let polling_a = {
        let (edr, source, group, received) =
            (edr_a.clone(), TokenSource::edr(&pair.consumer, &a), format!("{prefix_a}app"), received_a.clone());
        tokio::task::spawn_blocking(move || {
            kafka::read_until_denied(&reader(&edr, source, &group), &received, Duration::from_secs(60))
        })
    };
    let polling_b = {
        let (edr, source, group, received) =
            (edr_b.clone(), TokenSource::edr(&pair.consumer, &b), format!("{prefix_b}app"), received_b.clone());
        tokio::task::spawn_blocking(move || {
            kafka::read_until_denied(&reader(&edr, source, &group), &received, Duration::from_secs(20))
        })
    };
    let flowing = Instant::now() + Duration::from_secs(30);
    while received_a.load(Ordering::SeqCst) < 5 || received_b.load(Ordering::SeqCst) < 5 {
        assert!(Instant::now() < flowing, "the consumers never got records");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let suspended_at = Instant::now();
    command(&pair.provider, &provider_a, "suspend").await;
    let acked = suspended_at.elapsed();
    let denied = polling_a.await.unwrap_or_else(|e| panic!("{e}"));
    let (denied_at, reason) = denied.unwrap_or_else(|| panic!("the suspended consumer kept reading"));
    println!(
        "suspend cut the polling consumer off {} ms after the request (the Management API answered in {} ms): {reason}",
        denied_at.duration_since(suspended_at).as_millis(),
        acked.as_millis()
    );
    wait_for_transfer(&pair.consumer, &a, "SUSPENDED", Duration::from_secs(10)).await;
    assert!(h.acl_admin().acls_of(&first_principal).await.unwrap_or_else(|e| panic!("{e}")).is_empty());
    let before = received_b.load(Ordering::SeqCst);
    assert_eq!(polling_b.await.unwrap_or_else(|e| panic!("{e}")), None, "B was cut off too");
    assert!(received_b.load(Ordering::SeqCst) > before, "B kept reading while A was suspended");
    let (status, body) = kafka::client_credentials(&h, &edr_a).await;
    assert_eq!(status, 401, "the suspended transfer's OAuth client is deleted: {body}");

    // Resume: a new identity and EDR work; the old token does not.
    command(&pair.provider, &provider_a, "resume").await;
    wait_for_transfer(&pair.consumer, &a, "STARTED", Duration::from_secs(30)).await;
    let resumed = edr(&pair.consumer, &a).await;
    let second_principal = principal_of(&resumed, &h.principal_claim);
    assert_ne!(first_principal, second_principal, "resume registers a new client");
    assert_eq!(resumed["kafka.group.prefix"], prefix_a.as_str(), "the group prefix belongs to the transfer");
    let old_token = edr_a["authorization"].as_str().unwrap_or_default().to_string();
    let (edr, group) = (resumed.clone(), format!("{prefix_a}old"));
    let old = blocking(move || {
        reader(&edr, TokenSource::Fixed { token: old_token, lifetime_ms: i64::MAX / 4 }, &group)
            .poll(1, Duration::from_secs(20))
    })
    .await;
    assert_denied(&old, "the token of before the suspension");
    let (edr, source, group) = (resumed.clone(), TokenSource::edr(&pair.consumer, &a), format!("{prefix_a}new"));
    let new = blocking(move || reader(&edr, source, &group).poll(3, Duration::from_secs(30))).await;
    assert_eq!(new, Outcome::Records(3), "the resumed EDR reads");

    // Terminate: cut off, and nothing left at the broker or the OAuth service.
    let (edr, source, group, received) = (
        resumed.clone(),
        TokenSource::edr(&pair.consumer, &a),
        format!("{prefix_a}app2"),
        Arc::new(AtomicUsize::new(0)),
    );
    let counter = received.clone();
    let polling = tokio::task::spawn_blocking(move || {
        kafka::read_until_denied(&reader(&edr, source, &group), &counter, Duration::from_secs(60))
    });
    while received.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let terminated_at = Instant::now();
    command(&pair.consumer, &a, "terminate").await;
    let (denied_at, _) = polling.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("still reading"));
    println!(
        "terminate (sent by the consumer) cut the consumer off after {} ms",
        denied_at.duration_since(terminated_at).as_millis()
    );
    wait_for_transfer(&pair.provider, &provider_a, "TERMINATED", Duration::from_secs(10)).await;
    let admin = h.acl_admin();
    for principal in [&first_principal, &second_principal] {
        assert!(admin.acls_of(principal).await.unwrap_or_else(|e| panic!("{e}")).is_empty(), "{principal} has ACLs");
    }
    let (status, body) = kafka::client_credentials(&h, &resumed).await;
    assert_eq!(status, 401, "the terminated transfer's OAuth client is deleted: {body}");
    let refresh = support::send(
        reqwest::Method::GET,
        &pair.consumer.management_url(&format!("/v3/edrs/{a}/dataaddress?auto_refresh=true")),
        Some(support::API_KEY),
        None,
    )
    .await;
    assert_eq!(refresh.status, 404, "no EDR for a terminated transfer: {}", refresh.body);

    // B is untouched by all of it.
    let principal_b = principal_of(&edr_b, &h.principal_claim);
    assert_eq!(admin.acls_of(&principal_b).await.unwrap_or_else(|e| panic!("{e}")).len(), 3);
    let (edr, source, group) = (edr_b.clone(), TokenSource::edr(&pair.consumer, &b), format!("{prefix_b}again"));
    let still = blocking(move || reader(&edr, source, &group).poll(3, Duration::from_secs(30))).await;
    assert_eq!(still, Outcome::Records(3), "B still reads");
    feeder.abort();
}

/// A TCP relay in front of the consumer's protocol port: the provider's DSP messages go through it, and the test
/// can close it (the consumer is unreachable for the provider, nothing else changes). Closing also cuts the
/// connections the provider keeps alive in its pool.
struct Relay {
    port: u16,
    open: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(target: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        let (open, gate) = tokio::sync::watch::channel(true);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*gate.borrow() {
                    continue; // dropped: the connection is closed at once
                }
                let mut closing = gate.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = closing.wait_for(|open| !*open) => {}
                        }
                    }
                });
            }
        });
        Relay { port, open, task }
    }

    fn set_open(&self, open: bool) {
        let _ = self.open.send(open);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The principals holding the GROUP PREFIXED ACL of each provider transfer's group prefix.
async fn holders(h: &KafkaHarness, provider_transfers: &[String]) -> Vec<Vec<String>> {
    let acls = h.acl_admin().all_acls().await.unwrap_or_else(|e| panic!("{e}"));
    provider_transfers
        .iter()
        .map(|id| {
            let prefix = format!("dsc-{id}.");
            let mut principals: Vec<String> = acls
                .iter()
                .filter(|b| b.resource == "GROUP" && b.name == prefix)
                .map(|b| b.principal.clone())
                .collect();
            principals.sort();
            principals
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_provider_killed_between_granting_access_and_the_start_message_is_consistent_after_restart() {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-c");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(100));
    let consumer_protocol = free_port();
    let relay = Relay::to(consumer_protocol).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let consumer_ports = (free_port(), free_port(), consumer_protocol, free_port());
    let provider_ports = (free_port(), free_port(), free_port(), free_port());
    let consumer_did = format!("did:web:127.0.0.1%3A{consumer_protocol}");
    let provider_did = format!("did:web:127.0.0.1%3A{}", provider_ports.2);
    let mut consumer = Node::with_ports(
        dir.path(),
        "consumer",
        &[(provider_did, "BPNL000000000001".into())],
        &format!("\"edc.dsp.callback.address\" = \"http://127.0.0.1:{}/api/v1/dsp\"\n", relay.port),
        consumer_ports,
    );
    let provider_extra = h.provider_config(
        None,
        "\"edc.transfer.send.retry.base-delay.ms\" = 100\n\"dsc.kafka.reconciler.interval.seconds\" = 1\n\
         \"dsc.kafka.reconciler.grace.seconds\" = 1\n",
    );
    let mut provider = Node::with_ports(
        dir.path(),
        "provider",
        &[(consumer_did, CONSUMER_BPN.into())],
        &provider_extra,
        provider_ports,
    );
    consumer.start().await;
    provider.start().await;
    h.store_secrets(&provider).await;
    h.offer_topic(&provider, &topic, CONSUMER_BPN, false).await;
    let pair = Pair { consumer, provider, _dir: dir };
    let agreement = agreement(&pair).await;

    // The consumer becomes unreachable for the provider: each start grants Kafka access, then the start message
    // cannot be delivered.
    relay.set_open(false);
    let mut transfers = Vec::new();
    for _ in 0..5 {
        transfers.push(request_transfer(&pair, &agreement, "KafkaBroker-PULL").await);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let provider_transfers = loop {
        let reply = post(
            pair.provider.management_url("/v3/transferprocesses/request"),
            &json!({ "@context": { "@vocab": EDC }, "limit": 100 }),
        )
        .await;
        let ids: Vec<String> =
            reply.body.as_array().into_iter().flatten().filter_map(|t| t["@id"].as_str().map(str::to_string)).collect();
        if ids.len() == transfers.len() && holders(&h, &ids).await.iter().all(|p| p.len() == 1) {
            break ids;
        }
        assert!(Instant::now() < deadline, "the provider did not grant access for every transfer: {}", reply.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let granted = holders(&h, &provider_transfers).await;
    for id in &transfers {
        let state = support::send(
            reqwest::Method::GET,
            &pair.consumer.management_url(&format!("/v3/transferprocesses/{id}")),
            Some(support::API_KEY),
            None,
        )
        .await;
        assert_ne!(state.body["state"], "STARTED", "the start message got through the closed relay");
    }

    // kill -9, then restart on the same database and vault, and let the consumer be reachable again.
    let mut pair = pair;
    pair.provider.crash();
    assert_eq!(holders(&h, &provider_transfers).await, granted, "a crash removes nothing");
    relay.set_open(true);
    pair.provider.start().await;
    for id in &transfers {
        wait_for_transfer(&pair.consumer, id, "STARTED", Duration::from_secs(60)).await;
    }

    // Each transfer has exactly one principal with exactly its three ACLs, and it is the one in the EDR.
    let after = holders(&h, &provider_transfers).await;
    let admin = h.acl_admin();
    for (index, id) in transfers.iter().enumerate() {
        let edr = edr(&pair.consumer, id).await;
        let principal = principal_of(&edr, &h.principal_claim);
        assert_eq!(after[index], vec![principal.clone()], "transfer {id}: the broker's principals");
        let acls = admin.acls_of(&principal).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(acls.len(), 3, "{principal}: {acls:?}");
    }
    let (first_edr, source, group) = (
        edr(&pair.consumer, &transfers[0]).await,
        TokenSource::edr(&pair.consumer, &transfers[0]),
        format!("dsc-{}.app", provider_transfers[0]),
    );
    let outcome = blocking(move || reader(&first_edr, source, &group).poll(3, Duration::from_secs(30))).await;
    assert_eq!(outcome, Outcome::Records(3), "the EDR delivered after the restart reads");
    for id in &transfers {
        command(&pair.consumer, id, "terminate").await;
    }
    for id in &provider_transfers {
        wait_for_transfer(&pair.provider, id, "TERMINATED", Duration::from_secs(20)).await;
    }
    assert!(holders(&h, &provider_transfers).await.iter().all(Vec::is_empty), "terminated transfers left ACLs");

    // kill -9 in the middle of ten concurrent starts (some granted, some half-way, some not begun): after the
    // restart every transfer starts, and the broker holds exactly the ACLs of the EDRs the consumer got.
    let mut transfers = Vec::new();
    for _ in 0..10 {
        transfers.push(request_transfer(&pair, &agreement, "KafkaBroker-PULL").await);
    }
    let readers_of_topic = |acls: Vec<dsc_kafka_admin::AclBinding>| -> std::collections::BTreeSet<String> {
        acls.into_iter().filter(|b| b.resource == "TOPIC" && b.name == topic).map(|b| b.principal).collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while readers_of_topic(h.acl_admin().all_acls().await.unwrap_or_default()).is_empty() {
        assert!(Instant::now() < deadline, "no grant was made");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    pair.provider.crash();
    let at_crash = readers_of_topic(h.acl_admin().all_acls().await.unwrap_or_default()).len();
    pair.provider.start().await;
    let mut expected = std::collections::BTreeSet::new();
    for id in &transfers {
        wait_for_transfer(&pair.consumer, id, "STARTED", Duration::from_secs(60)).await;
        expected.insert(principal_of(&edr(&pair.consumer, id).await, &h.principal_claim));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let readers = readers_of_topic(h.acl_admin().all_acls().await.unwrap_or_default());
        if readers == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broker's readers of {topic} differ from the EDRs' principals:\n{readers:?}\n{expected:?}\n{}",
            pair.provider.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("killed with {at_crash} of 10 grants on the broker; after the restart all 10 started, ACLs consistent");
    feeder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_transfers_each_get_their_own_identity_and_ending_one_disturbs_no_other() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const TRANSFERS: usize = 100;
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-many");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(50));
    let pair = pair(&h, &h.provider_config(None, ""), "").await;
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
    let agreement = agreement(&pair).await;
    let started = Instant::now();
    let requests: Vec<_> = (0..TRANSFERS)
        .map(|_| {
            let request = json!({ "@context": { "@vocab": EDC }, "@type": "TransferRequest",
                "protocol": "dataspace-protocol-http:2025-1", "counterPartyAddress": pair.provider.protocol_address(),
                "contractId": agreement, "transferType": "KafkaBroker-PULL" });
            let url = pair.consumer.management_url("/v3/transferprocesses");
            tokio::spawn(async move { post(url, &request).await })
        })
        .collect();
    let mut transfers = Vec::new();
    for request in requests {
        let reply = request.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        transfers.push(reply.body["@id"].as_str().unwrap_or_default().to_string());
    }
    for id in &transfers {
        wait_for_transfer(&pair.consumer, id, "STARTED", Duration::from_secs(120)).await;
    }
    println!("{TRANSFERS} concurrent Kafka transfers STARTED in {} ms", started.elapsed().as_millis());

    let mut edrs = Vec::new();
    for id in &transfers {
        edrs.push(edr(&pair.consumer, id).await);
    }
    let principals: std::collections::BTreeSet<String> =
        edrs.iter().map(|e| principal_of(e, &h.principal_claim)).collect();
    let prefixes: std::collections::BTreeSet<String> =
        edrs.iter().map(|e| e["kafka.group.prefix"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!((principals.len(), prefixes.len()), (TRANSFERS, TRANSFERS), "one principal and prefix per transfer");
    let acls = h.acl_admin().all_acls().await.unwrap_or_else(|e| panic!("{e}"));
    for edr in &edrs {
        let principal = principal_of(edr, &h.principal_claim);
        let mut own: Vec<(String, String)> =
            acls.iter().filter(|b| b.principal == principal).map(|b| (b.name.clone(), b.operation.clone())).collect();
        own.sort();
        let prefix = edr["kafka.group.prefix"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            own,
            vec![(prefix, "READ".into()), (topic.clone(), "DESCRIBE".into()), (topic.clone(), "READ".into())],
            "{principal}"
        );
    }

    // A consumer of transfer 1 keeps reading while transfer 0 ends; only transfer 0's ACLs go.
    let received = Arc::new(AtomicUsize::new(0));
    let polling = {
        let (edr, source, group, received) = (
            edrs[1].clone(),
            TokenSource::edr(&pair.consumer, &transfers[1]),
            format!("{}app", edrs[1]["kafka.group.prefix"].as_str().unwrap_or_default()),
            received.clone(),
        );
        tokio::task::spawn_blocking(move || {
            kafka::read_until_denied(&reader(&edr, source, &group), &received, Duration::from_secs(15))
        })
    };
    while received.load(Ordering::SeqCst) < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    command(&pair.consumer, &transfers[0], "terminate").await;
    let provider_0 = provider_transfer_of(&pair.provider, &transfers[0]).await;
    wait_for_transfer(&pair.provider, &provider_0, "TERMINATED", Duration::from_secs(20)).await;
    let at_termination = received.load(Ordering::SeqCst);
    assert_eq!(polling.await.unwrap_or_else(|e| panic!("{e}")), None, "transfer 1 was cut off");
    assert!(received.load(Ordering::SeqCst) > at_termination, "transfer 1 kept reading");
    let after = h.acl_admin().all_acls().await.unwrap_or_else(|e| panic!("{e}"));
    let first = principal_of(&edrs[0], &h.principal_claim);
    assert!(!after.iter().any(|b| b.principal == first), "transfer 0's ACLs are gone");
    for edr in &edrs[1..] {
        let principal = principal_of(edr, &h.principal_claim);
        assert_eq!(after.iter().filter(|b| b.principal == principal).count(), 3, "{principal} lost ACLs");
    }

    let ending = Instant::now();
    for id in &transfers[1..] {
        command(&pair.consumer, id, "terminate").await;
    }
    for id in &transfers[1..] {
        wait_for_transfer(&pair.consumer, id, "TERMINATED", Duration::from_secs(60)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = h.acl_admin().all_acls().await.unwrap_or_else(|e| panic!("{e}"));
        let remaining = left.iter().filter(|b| principals.contains(&b.principal)).count();
        if remaining == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{remaining} ACLs of terminated transfers left");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("{} transfers terminated and their ACLs removed in {} ms", TRANSFERS - 1, ending.elapsed().as_millis());
    feeder.abort();
}

#[tokio::test]
async fn an_unreachable_oauth_service_or_broker_ends_the_start_with_the_reason_and_leaves_nothing() {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-down");
    h.create_topic(&topic).await;
    let retries = "\"edc.transfer.send.retry.limit\" = 2\n\"edc.transfer.send.retry.base-delay.ms\" = 50\n\
                   \"dsc.kafka.timeout.seconds\" = 2\n";
    let dead = format!("127.0.0.1:{}", free_port());
    let cases = [
        (h.provider_config(None, retries).replace(&h.issuer, &format!("http://{dead}")), "OAuth service: ".to_string()),
        (
            h.provider_config(None, retries).replace(&h.admin_bootstrap, &dead),
            format!("cannot reach the Kafka admin listener {dead}"),
        ),
    ];
    for (config, expected) in cases {
        let pair = pair(&h, &config, "").await;
        h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, false).await;
        let agreement = agreement(&pair).await;
        let id = request_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
        let ended = wait_for_transfer(&pair.consumer, &id, "TERMINATED", Duration::from_secs(60)).await;
        let reason = ended["errorDetail"].as_str().unwrap_or_default();
        println!("start refused: {reason}");
        assert!(reason.contains(&expected), "expected '{expected}' in: {ended}\n{}", pair.provider.log_tail());
        let provider_id = provider_transfer_of(&pair.provider, &id).await;
        let acls = h.acl_admin().all_acls().await.unwrap_or_else(|e| panic!("{e}"));
        let prefix = format!("dsc-{provider_id}.");
        assert!(!acls.iter().any(|b| b.name == prefix), "a failed start left ACLs");
    }
}
