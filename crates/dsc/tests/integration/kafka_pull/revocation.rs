// SPDX-License-Identifier: Apache-2.0
//! Suspend, resume and terminate against a polling consumer.

use std::time::{Duration, Instant};

use crate::kafka::{self, *};
use crate::support;

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
    let denied = polling_a.await.unwrap();
    let (denied_at, reason) = denied.unwrap_or_else(|| panic!("the suspended consumer kept reading"));
    println!(
        "suspend cut the polling consumer off {} ms after the request (the Management API answered in {} ms): {reason}",
        denied_at.duration_since(suspended_at).as_millis(),
        acked.as_millis()
    );
    wait_for_transfer(&pair.consumer, &a, "SUSPENDED", Duration::from_secs(10)).await;
    assert!(h.acl_admin().acls_of(&first_principal).await.unwrap().is_empty());
    let before = received_b.load(Ordering::SeqCst);
    assert_eq!(polling_b.await.unwrap(), None, "B was cut off too");
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
    let (denied_at, _) = polling.await.unwrap().unwrap_or_else(|| panic!("still reading"));
    println!(
        "terminate (sent by the consumer) cut the consumer off after {} ms",
        denied_at.duration_since(terminated_at).as_millis()
    );
    wait_for_transfer(&pair.provider, &provider_a, "TERMINATED", Duration::from_secs(10)).await;
    let admin = h.acl_admin();
    for principal in [&first_principal, &second_principal] {
        assert!(admin.acls_of(principal).await.unwrap().is_empty(), "{principal} has ACLs");
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
    let acls_b = admin.acls_of(&principal_b).await.unwrap();
    assert_eq!(acls_b, acls_for(&edr_b, &h.principal_claim, &topic));
    let (edr, source, group) = (edr_b.clone(), TokenSource::edr(&pair.consumer, &b), format!("{prefix_b}again"));
    let still = blocking(move || reader(&edr, source, &group).poll(3, Duration::from_secs(30))).await;
    assert_eq!(still, Outcome::Records(3), "B still reads");
    feeder.abort();
}
