// SPDX-License-Identifier: Apache-2.0
//! The ACL admin client against the harness's real Kafka (SASL/PLAIN admin listener). Skipped without
//! TEST_KAFKA_ADMIN_BOOTSTRAP unless TEST_REQUIRE_KAFKA is set.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dsc_kafka_admin::scram::ScramMechanism;
use dsc_kafka_admin::{AdminError, ConsumerGrant, Credentials, KafkaAdmin};

fn admin() -> Option<KafkaAdmin> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(bootstrap) = var("TEST_KAFKA_ADMIN_BOOTSTRAP") else {
        assert!(var("TEST_REQUIRE_KAFKA").is_none(), "TEST_REQUIRE_KAFKA is set but the harness is not");
        eprintln!("skipped: no Kafka (scripts/harness.sh up kafka)");
        return None;
    };
    Some(KafkaAdmin::new(
        bootstrap,
        var("TEST_KAFKA_ADMIN_USER").unwrap_or_else(|| "admin".into()),
        var("TEST_KAFKA_ADMIN_PASSWORD").unwrap_or_default(),
    ))
}

#[tokio::test]
async fn grants_are_created_listed_and_revoked() {
    let Some(admin) = admin() else { return };
    let principal = format!("User:dsc-admin-test-{}", std::process::id());
    let grant =
        ConsumerGrant { principal: principal.clone(), topic: "parts.telemetry".into(), group_prefix: "dsc-t1-".into() };
    admin.grant(&grant).await.unwrap();
    admin.grant(&grant).await.expect("granting twice is harmless");
    let acls = admin.acls_of(&principal).await.unwrap();
    assert_eq!(acls, grant.bindings());
    assert_eq!(admin.revoke_principal(&principal).await.unwrap(), 3);
    assert!(admin.acls_of(&principal).await.unwrap().is_empty());
    assert_eq!(admin.revoke_principal(&principal).await.unwrap(), 0, "nothing left");
}

#[tokio::test]
async fn many_grants_are_created_and_revoked_in_batches_each_principal_counted_apart() {
    let Some(admin) = admin() else { return };
    // More than one request's worth, so the chunking is crossed.
    let count = dsc_kafka_admin::GRANTS_PER_REQUEST + 5;
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let run = format!("{}-{}", std::process::id(), since_epoch.as_nanos());
    let grants: Vec<ConsumerGrant> = (0..count)
        .map(|i| ConsumerGrant {
            principal: format!("User:dsc-batch-{run}-{i}"),
            topic: "parts.telemetry".into(),
            group_prefix: format!("dsc-batch-{run}-{i}."),
        })
        .collect();
    admin.grant_all(&grants).await.unwrap();
    // KRaft answers CreateAcls once the controller committed them; the broker that answers DescribeAcls applies
    // them a moment later (seen once under load: the last chunk not listed yet), so the listing is awaited.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let all = admin.all_acls().await.unwrap();
        let listed = |grant: &ConsumerGrant| {
            all.iter().filter(|b| b.principal == grant.principal).cloned().collect::<Vec<_>>() == grant.bindings()
        };
        if listed(&grants[0]) && listed(&grants[count - 1]) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the granted ACLs are not listed after 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut principals: Vec<String> = grants[1..].iter().map(|g| g.principal.clone()).collect();
    principals.push("User:dsc-batch-never-granted".into());
    let removed = admin.revoke_principals(&principals).await.unwrap();
    assert_eq!(removed.len(), principals.len(), "one count per principal, in order");
    assert!(removed[..count - 1].iter().all(|&n| n == 3), "{removed:?}");
    assert_eq!(removed[count - 1], 0, "a principal without ACLs lost none");
    assert_eq!(
        admin.acls_of(&grants[0].principal).await.unwrap(),
        grants[0].bindings(),
        "the one left out keeps its ACLs"
    );
    // Deletions reach the listing a moment later too.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !admin.acls_of(&grants[1].principal).await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "revoked ACLs are still listed after 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(admin.revoke_principal(&grants[0].principal).await.unwrap(), 3);
    assert_eq!(admin.revoke_principals(&[]).await.unwrap(), Vec::<usize>::new());
}

#[tokio::test]
async fn wrong_credentials_and_unreachable_brokers_are_reported() {
    let Some(admin) = admin() else { return };
    let address = std::env::var("TEST_KAFKA_ADMIN_BOOTSTRAP").unwrap_or_default();
    let wrong = KafkaAdmin::new(address, "admin", "not-the-password");
    let refused = wrong.acls_of("User:x").await.err();
    assert!(matches!(refused, Some(AdminError::Authentication(_))), "{refused:?}");
    drop(admin);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    drop(listener);
    let unreachable = KafkaAdmin::new(closed.clone(), "admin", "x").acls_of("User:x").await.err();
    assert!(
        matches!(&unreachable, Some(AdminError::Unreachable { address, .. }) if *address == closed),
        "{unreachable:?}"
    );
}

#[tokio::test]
async fn topic_existence_is_checked_without_creating_the_topic() {
    let Some(admin) = admin() else { return };
    let missing = format!("dsc-missing-{}", std::process::id());
    assert!(!admin.topic_exists(&missing).await.unwrap());
    assert!(!admin.topic_exists(&missing).await.unwrap(), "asking did not create it");
}

#[tokio::test]
async fn all_acls_lists_every_principal() {
    let Some(admin) = admin() else { return };
    let principal = format!("User:dsc-all-acls-{}", std::process::id());
    let grant = ConsumerGrant { principal: principal.clone(), topic: "t.all".into(), group_prefix: "dsc-all-".into() };
    admin.grant(&grant).await.unwrap();
    let all = admin.all_acls().await.unwrap();
    assert_eq!(all.iter().filter(|b| b.principal == principal).count(), 3, "{all:?}");
    admin.revoke_principal(&principal).await.unwrap();
}

#[tokio::test]
async fn a_bearer_token_the_broker_does_not_trust_is_refused_at_login() {
    let Some(_) = admin() else { return };
    let Some(oauth_listener) = std::env::var("TEST_KAFKA_OAUTH_BOOTSTRAP").ok() else { return };
    let forged = KafkaAdmin::with_bearer_token(oauth_listener, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    let refused = forged.acls_of("User:x").await.err();
    assert!(
        matches!(&refused, Some(AdminError::Authentication(reason)) if reason.contains("invalid_token")),
        "{refused:?}"
    );
}

fn harness_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set (scripts/harness.sh env)"))
}

fn scram(address: String, password: &str) -> KafkaAdmin {
    KafkaAdmin::with_credentials(
        address,
        Credentials::Scram {
            mechanism: ScramMechanism::Sha512,
            user: harness_var("TEST_KAFKA_ADMIN_USER"),
            password: password.into(),
        },
    )
}

#[tokio::test]
async fn the_admin_logs_in_with_scram_and_over_tls() {
    let Some(_) = admin() else { return };
    let password = harness_var("TEST_KAFKA_ADMIN_PASSWORD");
    let plain_listener = harness_var("TEST_KAFKA_ADMIN_BOOTSTRAP");
    let principal = format!("User:dsc-admin-login-{}", std::process::id());
    let listed = scram(plain_listener.clone(), &password).acls_of(&principal).await;
    assert_eq!(listed, Ok(vec![]), "SCRAM-SHA-512 on the SASL_PLAINTEXT listener");
    let refused = scram(plain_listener, "not-the-password").acls_of(&principal).await.err();
    assert!(matches!(refused, Some(AdminError::Authentication(_))), "{refused:?}");

    let tls_listener = harness_var("TEST_KAFKA_TLS_BOOTSTRAP");
    let ca = std::path::PathBuf::from(harness_var("TEST_KAFKA_TLS_CA_FILE"));
    let over_tls = scram(tls_listener.clone(), &password).with_tls(Some(&ca)).unwrap();
    let grant = ConsumerGrant { principal: principal.clone(), topic: "tls.topic".into(), group_prefix: "g-".into() };
    over_tls.grant(&grant).await.expect("SCRAM over TLS");
    let plain_over_tls = KafkaAdmin::new(tls_listener.clone(), harness_var("TEST_KAFKA_ADMIN_USER"), password.clone())
        .with_tls(Some(&ca))
        .unwrap();
    assert_eq!(plain_over_tls.revoke_principal(&principal).await, Ok(3), "PLAIN over TLS");

    // A broker whose certificate does not chain to the trusted roots is refused before any credential is sent.
    let untrusted = scram(tls_listener, &password).with_tls(None).unwrap();
    let refused = untrusted.acls_of(&principal).await.err();
    assert!(matches!(&refused, Some(AdminError::Tls(reason)) if reason.contains("UnknownIssuer")), "{refused:?}");
    let missing =
        KafkaAdmin::new("127.0.0.1:1", "a", "b").with_tls(Some(std::path::Path::new("/no/such/ca.pem"))).err();
    assert!(
        matches!(&missing, Some(AdminError::Tls(reason)) if reason.starts_with("cannot read CA file /no/such/ca.pem")),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_admin_logs_in_with_an_oauth_client_credentials_token() {
    let Some(_) = admin() else { return };
    let Ok(client_id) = std::env::var("TEST_KAFKA_ADMIN_OAUTH_CLIENT_ID") else {
        eprintln!("notice: this OAuth server has no admin client; OAUTHBEARER admin login not tested against it");
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut form = "grant_type=client_credentials".to_string();
    if let Ok(resource) = std::env::var("TEST_OAUTH_RESOURCE") {
        form.push_str(&format!("&resource={}", resource.replace(':', "%3A")));
    }
    let answer: serde_json::Value = reqwest::Client::new()
        .post(harness_var("TEST_OAUTH_TOKEN_URL"))
        .basic_auth(client_id, Some(harness_var("TEST_KAFKA_ADMIN_OAUTH_CLIENT_SECRET")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    let token = answer["access_token"].as_str().unwrap_or_else(|| panic!("no token: {answer}"));
    let admin = KafkaAdmin::with_bearer_token(harness_var("TEST_KAFKA_OAUTH_BOOTSTRAP"), token);
    assert_eq!(admin.acls_of("User:nobody-at-all").await, Ok(vec![]), "a super user's token may describe ACLs");
}
