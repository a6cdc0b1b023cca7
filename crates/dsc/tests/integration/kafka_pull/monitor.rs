// SPDX-License-Identifier: Apache-2.0
//! The policy monitor on a Kafka transfer: a contract in force for three seconds after its agreement; a consumer
//! reading the topic is cut off when the monitor finds it expired, like on terminate, and the transfer ends
//! TERMINATED with the reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::kafka::{self, *};
use crate::support::process::post;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_policy_monitor_cuts_off_a_kafka_consumer_when_the_contract_expires() {
    let Some(h) = kafka::harness() else { return };
    let topic = unique("kafka-pull-monitor");
    h.create_topic(&topic).await;
    let feeder = h.feed(&[&topic], Duration::from_millis(50));
    let monitor = "\"edc.policy.monitor.state-machine.iteration-wait-millis\" = 200\n";
    let pair = pair(&h, &h.provider_config(None, monitor), "").await;
    let address = json!({ "type": "KafkaBroker", "topic": topic, "kafka.bootstrap.servers": h.oauth_bootstrap,
        "kafka.security.protocol": "SASL_PLAINTEXT", "kafka.sasl.mechanism": "OAUTHBEARER", "kafka.poll.duration": "PT0.5S" });
    let bodies = [
        (
            "/v3/assets",
            json!({ "@context": { "@vocab": EDC }, "@id": "asset-1", "properties": {}, "dataAddress": address }),
        ),
        (
            "/v3/policydefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "three-seconds", "policy": {
            "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use", "constraint": [
                { "leftOperand": "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber", "operator": "eq", "rightOperand": CONSUMER_BPN },
                { "leftOperand": "https://w3id.org/edc/v0.0.1/ns/inForceDate", "operator": "lteq", "rightOperand": "contractAgreement+3s" }] }] } }),
        ),
        (
            "/v3/contractdefinitions",
            json!({ "@context": { "@vocab": EDC }, "@id": "cd-1", "accessPolicyId": "three-seconds",
            "contractPolicyId": "three-seconds", "assetsSelector": [] }),
        ),
    ];
    for (path, body) in bodies {
        let reply = post(pair.provider.management_url(path), &body).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    let agreement = agreement(&pair).await;
    let transfer = started_transfer(&pair, &agreement, "KafkaBroker-PULL").await;
    let edr = edr(&pair.consumer, &transfer).await;
    let group = format!("{}app", edr["kafka.group.prefix"].as_str().unwrap());
    let received = Arc::new(AtomicUsize::new(0));
    let polling = {
        let (source, received) = (TokenSource::edr(&pair.consumer, &transfer), received.clone());
        tokio::task::spawn_blocking(move || {
            kafka::read_until_denied(&reader(&edr, source, &group), &received, Duration::from_secs(40))
        })
    };
    let flowing = Instant::now() + Duration::from_secs(20);
    while received.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < flowing, "the consumer never got records");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let denied = polling.await.unwrap();
    let (_, reason) = denied.unwrap_or_else(|| panic!("the consumer kept reading after the contract expired"));
    feeder.abort();
    let ended = wait_for_transfer(&pair.consumer, &transfer, "TERMINATED", Duration::from_secs(20)).await;
    let detail = ended["errorDetail"].as_str().unwrap_or_default();
    assert!(detail.contains("the contract no longer holds"), "{ended} (the broker said: {reason})");
}
