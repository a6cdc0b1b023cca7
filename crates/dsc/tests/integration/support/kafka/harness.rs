// SPDX-License-Identifier: Apache-2.0
//! The harness's broker and OAuth server, and a provider configured for them.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::json;

use crate::support::process::{Node, post};

use super::*;

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

    /// Waits up to 30 s until the principals with ACLs on `topic` are exactly `expected`; panics with both sets and
    /// `context` otherwise.
    pub async fn await_topic_readers(&self, topic: &str, expected: &std::collections::BTreeSet<String>, context: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let readers: std::collections::BTreeSet<String> = self
                .acl_admin()
                .all_acls()
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|binding| binding.resource == "TOPIC" && binding.name == topic)
                .map(|binding| binding.principal)
                .collect();
            if &readers == expected {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the readers of {topic} differ from the STARTED transfers' principals ({context}):\n{readers:?}\n{expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn delete_topic(&self, topic: &str) {
        let admin: AdminClient<DefaultClientContext> = self.admin_config().create().expect("admin");
        let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
        for result in admin.delete_topics(&[topic], &options).await.expect("delete topic") {
            result.unwrap_or_else(|(name, code)| panic!("delete topic {name}: {code}"));
        }
    }

    pub async fn create_topic(&self, topic: &str) {
        let admin: AdminClient<DefaultClientContext> = self.admin_config().create().expect("admin");
        let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(20)));
        for result in admin
            .create_topics(&[NewTopic::new(topic, 1, TopicReplication::Fixed(1))], &options)
            .await
            .expect("create topic")
        {
            result.unwrap_or_else(|(topic, code)| panic!("create {topic}: {code}"));
        }
    }

    /// Produces one record every `every` to each topic until the returned handle is aborted.
    pub fn feed(&self, topics: &[&str], every: Duration) -> tokio::task::JoinHandle<()> {
        let producer: FutureProducer = self.admin_config().create().expect("producer");
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
