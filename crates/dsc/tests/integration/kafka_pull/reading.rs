// SPDX-License-Identifier: Apache-2.0
//! Reading through refresh, the EDR, and everything the broker must refuse.

use std::time::Duration;

use serde_json::json;

use crate::kafka::{self, *};
use crate::support;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;

/// Token lifetime of the refresh test: a few seconds, so 60 s of reading needs several renewals. Not shorter: the
/// broker ends a SASL session when its token expires (KIP-368), and librdkafka re-authenticates at 90 % of the
/// session; below about 10 s that margin is shorter than a fetch in flight and re-authentication races it.
const TOKEN_SECONDS: u64 = 10;

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
    let windows = blocking(move || {
        let reader = reader(&edr_for_reader, source, &group);
        (0..6).map(|_| reader.count(Duration::from_secs(10))).collect::<Vec<_>>()
    })
    .await;
    let distinct: std::collections::BTreeSet<String> = tokens.fetched().into_iter().collect();
    let counts: Vec<usize> = windows.iter().map(|(n, _)| *n).collect();
    println!("60 s of reading through refresh: records per 10 s {counts:?}, {} distinct tokens", distinct.len());
    for (index, (records, errors)) in windows.iter().enumerate() {
        assert!(*records > 10, "10 s window {index}: {records} records; client errors: {errors:?}");
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
        .expect("producer");
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
        .expect("admin");
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
    let acls = h.acl_admin().acls_of(&principal).await.unwrap();
    let unchanged = acls_for(&edr(&pair.consumer, &a).await, &h.principal_claim, &topic);
    assert_eq!(acls, unchanged, "the grant is unchanged");

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
