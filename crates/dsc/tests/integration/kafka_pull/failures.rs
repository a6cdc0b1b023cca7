// SPDX-License-Identifier: Apache-2.0
//! The OAuth service or the broker unreachable during a start.

use std::time::Duration;

use crate::kafka::{self, *};
use crate::support::process::*;

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
        let acls = h.acl_admin().all_acls().await.unwrap();
        let prefix = format!("dsc-{provider_id}.");
        assert!(!acls.iter().any(|b| b.name == prefix), "a failed start left ACLs");
    }
}
