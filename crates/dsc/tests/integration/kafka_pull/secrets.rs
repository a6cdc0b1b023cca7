// SPDX-License-Identifier: Apache-2.0
//! The secret scan of Kafka PULL: a transfer with the consumer's own client credentials in its EDR, read, suspended,
//! resumed (a new principal) and terminated, both connectors logging at trace level; then the admin password, the
//! OAuth initial access token, every client secret and every access and refresh token that passed through are
//! searched for in both logs and both databases. Any hit fails, naming the secret and the file; no JWT may appear
//! in a log.

use std::time::Duration;

use crate::kafka::*;

fn secrets_of(edr: &serde_json::Value, round: &str) -> Vec<(String, String)> {
    edr.as_object()
        .unwrap()
        .iter()
        .filter(|(key, _)| *key == "authorization" || key.ends_with("refreshToken") || key.ends_with("clientSecret"))
        .map(|(key, value)| (format!("the EDR's {key} ({round})"), value.as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn no_kafka_secret_reaches_a_log_or_a_database() {
    let Some(h) = harness() else { return };
    let topic = unique("secret-scan");
    h.create_topic(&topic).await;
    let mut pair = pair(&h, &h.provider_config(None, ""), "").await;
    for node in [&mut pair.provider, &mut pair.consumer] {
        node.crash();
        node.start_logging("trace").await;
    }
    h.offer_topic(&pair.provider, &topic, CONSUMER_BPN, true).await;
    let feed = h.feed(&[&topic], Duration::from_millis(100));
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;

    let first = edr(&pair.consumer, &transfer).await;
    let group = format!("{}scan", first["kafka.group.prefix"].as_str().unwrap());
    let source = TokenSource::edr(&pair.consumer, &transfer);
    let edr_for_reader = first.clone();
    let outcome = blocking(move || reader(&edr_for_reader, source, &group).poll(1, Duration::from_secs(20))).await;
    assert!(matches!(outcome, Outcome::Records(_)), "{outcome:?}");
    command(&pair.consumer, &transfer, "suspend").await;
    wait_for_transfer(&pair.consumer, &transfer, "SUSPENDED", Duration::from_secs(20)).await;
    command(&pair.consumer, &transfer, "resume").await;
    wait_for_transfer(&pair.consumer, &transfer, "STARTED", Duration::from_secs(20)).await;
    let second = loop {
        let current = edr(&pair.consumer, &transfer).await;
        if current["authorization"] != first["authorization"] {
            break current;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    command(&pair.consumer, &transfer, "terminate").await;
    wait_for_transfer(&pair.consumer, &transfer, "TERMINATED", Duration::from_secs(20)).await;
    feed.abort();

    let mut secrets = vec![
        ("the Kafka admin password".to_string(), h.admin_password.clone()),
        ("the OAuth initial access token".to_string(), h.initial_access_token.clone()),
    ];
    secrets.extend(secrets_of(&first, "first grant"));
    secrets.extend(secrets_of(&second, "after resume"));
    assert!(secrets.len() >= 6, "tokens and client secrets of both grants: {secrets:?}");
    for node in [&mut pair.provider, &mut pair.consumer] {
        node.crash();
    }

    let dirs = [pair.provider.config.parent().unwrap(), pair.consumer.config.parent().unwrap()];
    let (hits, scanned) = crate::support::secrets::scan(&dirs, &secrets, &[]);
    println!("Kafka secret scan: {} secrets looked for in {scanned} bytes of trace logs and databases", secrets.len());
    assert!(hits.is_empty(), "secrets found:\n{}", hits.join("\n"));
}
