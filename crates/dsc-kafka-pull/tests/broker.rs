// SPDX-License-Identifier: Apache-2.0
//! The Kafka PULL handler and reconciler against the harness's real broker and OAuth server (oidc-provider).
//! Skipped without TEST_KAFKA_ADMIN_BOOTSTRAP unless TEST_REQUIRE_KAFKA is set.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use dsc_dataplane::{FlowError, TransferTypeHandler};
use dsc_domain::{DataAddress, DataFlow, DataFlowState, namespaces};
use dsc_kafka_admin::{ConsumerGrant, KafkaAdmin};
use dsc_kafka_pull::{AdminMechanism, AdminTls, KafkaPull, KafkaPullSettings};
use dsc_kafka_pull::{KafkaGrant, KafkaGrantState, KafkaGrantStore};
use dsc_oauth::AudienceParameter;
use dsc_store::{DataFlowStore, SqlStore, StoreSettings};
use dsc_vault::{EncryptedFileVault, SecretString, Vault, VaultKey};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use serde_json::json;

struct Fixture {
    pull: Arc<KafkaPull>,
    store: Arc<SqlStore>,
    vault: Arc<EncryptedFileVault>,
    admin: KafkaAdmin,
    topic: String,
    _dir: tempfile::TempDir,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn create_topic(bootstrap: &str, user: &str, password: &str, topic: &str) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "PLAIN")
        .set("sasl.username", user)
        .set("sasl.password", password)
        .create()
        .expect("admin");
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
    for result in admin
        .create_topics(&[NewTopic::new(topic, 1, TopicReplication::Fixed(1))], &options)
        .await
        .expect("create topic")
    {
        result.unwrap_or_else(|(topic, code)| panic!("create {topic}: {code}"));
    }
}

async fn fixture_with_issuer(issuer: Option<String>) -> Option<Fixture> {
    fixture_with(issuer, |_| {}).await
}

async fn fixture_with(issuer: Option<String>, adjust: impl FnOnce(&mut KafkaPullSettings)) -> Option<Fixture> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let Some(bootstrap) = var("TEST_KAFKA_ADMIN_BOOTSTRAP") else {
        assert!(var("TEST_REQUIRE_KAFKA").is_none(), "TEST_REQUIRE_KAFKA is set but the harness is not");
        eprintln!("skipped: no Kafka (scripts/harness.sh up)");
        return None;
    };
    let user = var("TEST_KAFKA_ADMIN_USER").unwrap_or_else(|| "admin".into());
    let password = var("TEST_KAFKA_ADMIN_PASSWORD").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap());
    store.apply_plugin_migrations(&dsc_kafka_pull::MIGRATIONS).await.unwrap();
    let vault = Arc::new(EncryptedFileVault::open(dir.path().join("vault.json"), VaultKey::generate()).await.unwrap());
    let keep = |key: &'static str, value: String| {
        let vault = vault.clone();
        async move { vault.store(key, SecretString::new(value)).await.unwrap() }
    };
    keep("kafka-admin-password", password.clone()).await;
    keep("oauth-initial-token", var("TEST_OAUTH_INITIAL_ACCESS_TOKEN").unwrap_or_default()).await;
    keep("kafka-admin-client-secret", var("TEST_KAFKA_ADMIN_OAUTH_CLIENT_SECRET").unwrap_or_default()).await;
    let resource = var("TEST_OAUTH_RESOURCE");
    let settings = KafkaPullSettings {
        admin_bootstrap: bootstrap.clone(),
        admin_user: user.clone(),
        admin_password_alias: "kafka-admin-password".into(),
        admin_mechanism: AdminMechanism::Plain,
        admin_tls: None,
        oauth_issuer: issuer.unwrap_or_else(|| var("TEST_OAUTH_ISSUER").unwrap_or_default()),
        initial_access_token_alias: "oauth-initial-token".into(),
        audience: resource.clone().or_else(|| var("TEST_OAUTH_AUDIENCE")).unwrap_or_default(),
        audience_parameter: if resource.is_some() { AudienceParameter::Resource } else { AudienceParameter::None },
        principal_claim: var("TEST_KAFKA_PRINCIPAL_CLAIM").unwrap_or_else(|| "sub".into()),
        group_prefix: "dsc-".into(),
        reconcile_grace: Duration::from_millis(0),
        timeout: Duration::from_secs(5),
    };
    let mut settings = settings;
    adjust(&mut settings);
    let pull = Arc::new(KafkaPull::new(settings, store.clone(), store.clone(), vault.clone()));
    let topic = unique("pull-t");
    create_topic(&bootstrap, &user, &password, &topic).await;
    Some(Fixture { pull, store, vault, admin: KafkaAdmin::new(bootstrap, user, password), topic, _dir: dir })
}

async fn fixture() -> Option<Fixture> {
    fixture_with_issuer(None).await
}

fn flow(id: &str, topic: &str) -> DataFlow {
    let mut source = DataAddress { properties: Default::default() };
    for (key, value) in [
        ("type", "KafkaBroker"),
        ("topic", topic),
        ("kafka.bootstrap.servers", "127.0.0.1:29094"),
        ("kafka.security.protocol", "SASL_PLAINTEXT"),
        ("kafka.sasl.mechanism", "OAUTHBEARER"),
    ] {
        source.properties.insert(namespaces::edc(key), json!(value));
    }
    DataFlow {
        id: id.into(),
        state: DataFlowState::Started,
        profile: "KafkaBroker-PULL".into(),
        participant_id: "provider".into(),
        counter_party_id: "consumer".into(),
        agreement_id: "agreement".into(),
        dataset_id: "asset".into(),
        source,
        access_token_id: None,
        refresh_token_hash: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn prop(grant: &dsc_dataplane::AccessGrant, key: &str) -> String {
    grant.properties.get(&namespaces::edc(key)).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

async fn live(f: &Fixture, flow: &str) -> Vec<KafkaGrant> {
    f.store.live_grants_of_flow(flow).await.unwrap()
}

#[tokio::test]
async fn a_grant_creates_a_principal_with_exactly_its_acls_and_revocation_removes_everything() {
    let Some(f) = fixture().await else { return };
    let flow = flow(&unique("flow"), &f.topic);
    f.store.create_flow(&flow).await.unwrap();
    let granted = f.pull.grant(&flow).await.unwrap();
    assert_eq!(prop(&granted, "endpoint"), "127.0.0.1:29094");
    assert_eq!(prop(&granted, "topic"), f.topic);
    assert_eq!(prop(&granted, "kafka.group.prefix"), format!("dsc-{}.", flow.id));
    assert_eq!(prop(&granted, "kafka.sasl.mechanism"), "OAUTHBEARER");
    assert_eq!(prop(&granted, "kafka.poll.duration"), "PT1S");
    assert_eq!(prop(&granted, "clientSecret"), "", "client credentials are shared only when the asset asks");
    let token = granted.token.clone().unwrap_or_else(|| panic!("a Kafka token"));
    assert!(token.access_token.split('.').count() == 3 && token.expires_in > 0);

    let grants = live(&f, &flow.id).await;
    assert_eq!(grants.len(), 1);
    let grant = &grants[0];
    assert_eq!(grant.state, KafkaGrantState::Active);
    let principal = grant.principal.clone().unwrap_or_default();
    let acls = f.admin.acls_of(&principal).await.unwrap();
    let granted_acls = ConsumerGrant {
        principal: principal.clone(),
        topic: f.topic.clone(),
        group_prefix: format!("dsc-{}.", flow.id),
    };
    assert_eq!(acls, granted_acls.bindings());
    let secret_alias = grant.client_secret_alias.clone().unwrap_or_default();
    let secret = f.vault.resolve(&secret_alias).await.ok().flatten().unwrap_or_else(|| panic!("secret in the vault"));
    let client_id = grant.client_id.clone().unwrap_or_default();

    let renewed = f.pull.renew(&flow).await.unwrap().unwrap_or_else(|| panic!("a token"));
    assert_ne!(renewed.access_token, token.access_token, "renewal mints a new token");

    f.pull.revoke(&flow).await.unwrap();
    assert!(f.admin.acls_of(&principal).await.unwrap().is_empty(), "ACLs gone");
    assert!(live(&f, &flow.id).await.is_empty());
    assert!(f.vault.resolve(&secret_alias).await.ok().flatten().is_none(), "secret gone from the vault");
    let token_url = var("TEST_OAUTH_TOKEN_URL").unwrap_or_default();
    let answer = reqwest::Client::new()
        .post(&token_url)
        .basic_auth(&client_id, Some(secret.expose()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "the OAuth client is deleted");
    let after = f.pull.renew(&flow).await.err();
    assert!(
        matches!(&after, Some(FlowError::Conflict(m)) if m.contains("no active Kafka grant")),
        "no renewal after revocation: {after:?}"
    );
}

#[tokio::test]
async fn resuming_replaces_the_principal_and_keeps_the_group_prefix() {
    let Some(f) = fixture().await else { return };
    let flow = flow(&unique("flow"), &f.topic);
    f.store.create_flow(&flow).await.unwrap();
    f.pull.grant(&flow).await.unwrap();
    let first = live(&f, &flow.id).await.remove(0);
    f.pull.grant(&flow).await.unwrap();
    let grants = live(&f, &flow.id).await;
    assert_eq!(grants.len(), 1, "the first grant was revoked");
    assert_ne!(grants[0].principal, first.principal);
    assert_eq!(grants[0].group_prefix, first.group_prefix);
    let old = first.principal.unwrap_or_default();
    assert!(f.admin.acls_of(&old).await.unwrap().is_empty(), "old principal has no ACLs");
    f.pull.revoke(&flow).await.unwrap();
}

#[tokio::test]
async fn a_missing_topic_is_refused_by_name_and_nothing_is_created() {
    let Some(f) = fixture().await else { return };
    let flow = flow(&unique("flow"), "no-such-topic-here");
    let refused = f.pull.grant(&flow).await.err();
    let expected = format!(
        "topic 'no-such-topic-here' does not exist on the Kafka cluster at {}",
        var("TEST_KAFKA_ADMIN_BOOTSTRAP").unwrap_or_default()
    );
    assert!(matches!(&refused, Some(FlowError::Invalid(m)) if *m == expected), "{refused:?}");
    assert!(f.store.live_grants().await.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn an_unreachable_oauth_service_fails_the_grant_and_leaves_nothing_behind() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let Some(f) = fixture_with_issuer(Some(issuer.clone())).await else { return };
    let flow = flow(&unique("flow"), &f.topic);
    let failed = f.pull.grant(&flow).await.err();
    assert!(
        matches!(&failed, Some(FlowError::Unavailable(m)) if m.starts_with("OAuth service: authorization server unavailable at")),
        "{failed:?}"
    );
    assert!(f.store.live_grants().await.unwrap_or_default().is_empty(), "the grant was rolled back");
}

#[tokio::test]
async fn the_reconciler_restores_missing_acls_and_removes_what_no_started_flow_needs() {
    let Some(f) = fixture().await else { return };
    // A started flow whose ACLs someone deleted.
    let kept = flow(&unique("kept"), &f.topic);
    f.store.create_flow(&kept).await.unwrap();
    f.pull.grant(&kept).await.unwrap();
    let kept_principal = live(&f, &kept.id).await[0].principal.clone().unwrap_or_default();
    f.admin.revoke_principal(&kept_principal).await.unwrap();
    // A grant whose flow was never saved: the process died between the ACLs and the flow.
    let crashed = flow(&unique("crashed"), &f.topic);
    f.pull.grant(&crashed).await.unwrap();
    let crashed_principal = live(&f, &crashed.id).await[0].principal.clone().unwrap_or_default();
    // A suspended flow whose revocation never happened.
    let mut suspended = flow(&unique("suspended"), &f.topic);
    f.store.create_flow(&suspended).await.unwrap();
    f.pull.grant(&suspended).await.unwrap();
    suspended.state = DataFlowState::Suspended;
    f.store.save_flow(&suspended).await.unwrap();
    // Somebody else's ACLs on the same broker.
    let foreign = format!("User:{}", unique("foreign"));
    let foreign_grant = ConsumerGrant { principal: foreign.clone(), topic: f.topic.clone(), group_prefix: "x-".into() };
    f.admin.grant(&foreign_grant).await.unwrap();

    let report = f.pull.reconcile().await.unwrap();
    assert_eq!(report.grants_checked, 3);
    assert_eq!(report.acls_restored, 1, "{report:?}");
    assert_eq!(report.grants_revoked, 2, "{report:?}");
    let kept_grant = ConsumerGrant {
        principal: kept_principal.clone(),
        topic: f.topic.clone(),
        group_prefix: format!("dsc-{}.", kept.id),
    };
    assert_eq!(f.admin.acls_of(&kept_principal).await.unwrap_or_default(), kept_grant.bindings(), "restored");
    assert!(f.admin.acls_of(&crashed_principal).await.unwrap_or_default().is_empty());
    assert!(live(&f, &suspended.id).await.is_empty());
    assert_eq!(f.admin.acls_of(&foreign).await.unwrap_or_default(), foreign_grant.bindings(), "not ours, not touched");

    let again = f.pull.reconcile().await.unwrap();
    assert_eq!((again.acls_restored, again.grants_revoked, again.orphan_principals_removed), (0, 0, 0), "{again:?}");
    f.admin.revoke_principal(&foreign).await.unwrap();
    f.pull.revoke(&kept).await.unwrap();
}

/// One grant and its revocation, with the admin logged in as `adjust` says.
async fn grant_and_revoke_with(adjust: impl FnOnce(&mut KafkaPullSettings)) {
    let Some(f) = fixture_with(None, adjust).await else { return };
    let flow = flow(&unique("flow"), &f.topic);
    f.store.create_flow(&flow).await.unwrap();
    f.pull.grant(&flow).await.unwrap();
    let principal = live(&f, &flow.id).await[0].principal.clone().unwrap_or_default();
    let granted = ConsumerGrant {
        principal: principal.clone(),
        topic: f.topic.clone(),
        group_prefix: format!("dsc-{}.", flow.id),
    };
    assert_eq!(f.admin.acls_of(&principal).await.unwrap_or_default(), granted.bindings());
    f.pull.revoke(&flow).await.unwrap();
    assert!(f.admin.acls_of(&principal).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_data_plane_administers_the_broker_with_scram_over_tls() {
    let (Some(tls), Some(ca)) = (var("TEST_KAFKA_TLS_BOOTSTRAP"), var("TEST_KAFKA_TLS_CA_FILE")) else {
        assert!(var("TEST_REQUIRE_KAFKA").is_none(), "TEST_REQUIRE_KAFKA is set but the TLS listener is not");
        return;
    };
    grant_and_revoke_with(|settings| {
        settings.admin_bootstrap = tls;
        settings.admin_mechanism = AdminMechanism::ScramSha512;
        settings.admin_tls = Some(AdminTls { ca_file: Some(ca.into()) });
    })
    .await;
}

#[tokio::test]
async fn the_data_plane_administers_the_broker_with_its_own_oauth_client() {
    let (Some(client_id), Some(oauth_listener)) =
        (var("TEST_KAFKA_ADMIN_OAUTH_CLIENT_ID"), var("TEST_KAFKA_OAUTH_BOOTSTRAP"))
    else {
        eprintln!("notice: this OAuth server has no admin client; OAUTHBEARER admin login not tested against it");
        return;
    };
    grant_and_revoke_with(|settings| {
        settings.admin_bootstrap = oauth_listener;
        settings.admin_user = client_id;
        settings.admin_password_alias = "kafka-admin-client-secret".into();
        settings.admin_mechanism = AdminMechanism::OAuthBearer;
    })
    .await;
}
