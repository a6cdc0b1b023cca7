// SPDX-License-Identifier: Apache-2.0
//! The Kafka PULL transfer type's settings, registered next to the connector's core ones by the binary
//! (`SettingsRegistry::register::<KafkaPullConfig>()`).

use dsc_config::settings::{Kind, Setting, setting};
use dsc_config::{ConfigError, ConnectorConfig, RawConfig, Section};

/// How the data plane manages per-transfer Kafka access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaPullConfig {
    pub admin_bootstrap: String,
    pub admin_user: String,
    pub admin_password_alias: String,
    /// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`.
    pub admin_mechanism: String,
    /// `Some` for SASL_SSL, with the CA file when one is configured.
    pub admin_tls: Option<Option<std::path::PathBuf>>,
    pub oauth_issuer: String,
    pub initial_access_token_alias: String,
    pub audience: String,
    /// `resource`, `audience` or `none`.
    pub audience_parameter: String,
    pub principal_claim: String,
    pub group_prefix: String,
    pub reconcile_interval_seconds: u64,
    pub reconcile_grace_seconds: u64,
    pub timeout_seconds: u64,
}

impl Section for KafkaPullConfig {
    const SETTINGS: &'static [Setting] = SETTINGS;
    /// The built-in OAuth server exists to issue the credentials of Kafka transfers, so its tokens are meant for the
    /// broker unless configured otherwise.
    const CORE_DEFAULTS: &'static [(&'static str, &'static str)] = &[("dsc.oauth.server.audience", DEFAULT_AUDIENCE)];

    /// The Kafka PULL settings, when an admin bootstrap is set; the OAuth ones default to the built-in server's
    /// when it runs.
    fn read(raw: &RawConfig, core: &ConnectorConfig) -> Result<Option<Self>, ConfigError> {
        let built_in = core.oauth_server.as_ref();
        let Some(bootstrap) = raw.get("dsc.kafka.admin.bootstrap.servers") else { return Ok(None) };
        let text = |key: &str| raw.get(key).map(str::to_string);
        let oauth_issuer = match (text("dsc.kafka.oauth.issuer"), built_in) {
            (Some(issuer), _) => issuer.trim_end_matches('/').to_string(),
            (None, Some(server)) => server.issuer.clone(),
            (None, None) => {
                return Err(ConfigError::Missing {
                    key: "dsc.kafka.oauth.issuer".into(),
                    env: dsc_config::env_name("dsc.kafka.oauth.issuer"),
                    hint:
                        "Kafka PULL registers a client per transfer at the OAuth service the broker trusts; name its \
                           issuer or enable the built-in one (dsc.oauth.server.enabled=true)"
                            .into(),
                });
            }
        };
        Ok(Some(KafkaPullConfig {
            admin_bootstrap: bootstrap.to_string(),
            admin_user: text("dsc.kafka.admin.username").unwrap_or_default(),
            admin_password_alias: text("dsc.kafka.admin.password.alias").unwrap_or_default(),
            admin_mechanism: text("dsc.kafka.admin.sasl.mechanism").unwrap_or_default(),
            admin_tls: (raw.get("dsc.kafka.admin.security.protocol") == Some("SASL_SSL"))
                .then(|| raw.get("dsc.kafka.admin.ssl.ca.file").map(std::path::PathBuf::from)),
            oauth_issuer,
            initial_access_token_alias: text("dsc.kafka.oauth.initial.access.token.alias")
                .or_else(|| built_in.map(|s| s.initial_access_token_alias.clone()))
                .unwrap_or_else(|| "dsc-kafka-oauth-initial-access-token".into()),
            audience: text("dsc.kafka.oauth.audience")
                .or_else(|| built_in.map(|s| s.audience.clone()))
                .unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
            audience_parameter: text("dsc.kafka.oauth.audience.parameter")
                .unwrap_or_else(|| if built_in.is_some() { "none".into() } else { "resource".into() }),
            principal_claim: text("dsc.kafka.oauth.principal.claim").unwrap_or_default(),
            group_prefix: text("dsc.kafka.group.prefix").unwrap_or_default(),
            reconcile_interval_seconds: raw.number("dsc.kafka.reconciler.interval.seconds")?,
            reconcile_grace_seconds: raw.number("dsc.kafka.reconciler.grace.seconds")?,
            timeout_seconds: raw.number("dsc.kafka.timeout.seconds")?,
        }))
    }
}

/// The audience brokers are commonly configured to expect (`sasl.oauthbearer.expected.audience`).
const DEFAULT_AUDIENCE: &str = "urn:kafka:broker";

const SETTINGS: &[Setting] = &[
    setting(
        "dsc.kafka.admin.bootstrap.servers",
        Kind::Text,
        None,
        "host:port of the Kafka listener where the data plane logs in as admin (SASL/PLAIN) to manage per-transfer ACLs. Setting it enables the KafkaBroker-PULL transfer type.",
    ),
    setting(
        "dsc.kafka.admin.username",
        Kind::Text,
        Some("admin"),
        "The Kafka admin's SASL user name; with OAUTHBEARER, the admin's OAuth client id (its principal must be a super user).",
    ),
    setting(
        "dsc.kafka.admin.password.alias",
        Kind::Text,
        Some("dsc-kafka-admin-password"),
        "Vault key of the Kafka admin's password, or OAuth client secret with OAUTHBEARER (read at each use, so PUT /v3/secrets rotates it).",
    ),
    setting(
        "dsc.kafka.admin.sasl.mechanism",
        Kind::OneOf(&["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]),
        Some("PLAIN"),
        "How the data plane logs in to the admin listener; OAUTHBEARER takes client-credentials tokens from dsc.kafka.oauth.issuer.",
    ),
    setting(
        "dsc.kafka.admin.security.protocol",
        Kind::OneOf(&["SASL_PLAINTEXT", "SASL_SSL"]),
        Some("SASL_PLAINTEXT"),
        "SASL_SSL speaks TLS to the admin listener.",
    ),
    setting(
        "dsc.kafka.admin.ssl.ca.file",
        Kind::FilePath,
        None,
        "PEM file of the CA certificates the admin listener's certificate must chain to (SASL_SSL). Default: the Mozilla root certificates.",
    ),
    setting(
        "dsc.kafka.oauth.issuer",
        Kind::HttpUrl,
        None,
        "Issuer of the OAuth service the Kafka broker trusts (endpoints are discovered). Default: the built-in server's issuer when dsc.oauth.server.enabled.",
    ),
    setting(
        "dsc.kafka.oauth.initial.access.token.alias",
        Kind::Text,
        None,
        "Vault key of the RFC 7591 initial access token for registering per-transfer clients. Default: the built-in server's alias, else dsc-kafka-oauth-initial-access-token.",
    ),
    setting(
        "dsc.kafka.oauth.audience",
        Kind::Text,
        None,
        "The audience the broker expects in tokens. Default: the built-in server's audience, else urn:kafka:broker.",
    ),
    setting(
        "dsc.kafka.oauth.audience.parameter",
        Kind::OneOf(&["resource", "audience", "none"]),
        None,
        "How token requests ask for the audience: RFC 8707 resource, audience, or none (the server adds it). Default: none with the built-in server, else resource.",
    ),
    setting(
        "dsc.kafka.oauth.principal.claim",
        Kind::Text,
        Some("sub"),
        "The token claim the broker takes the principal from (its sasl.oauthbearer.sub.claim.name).",
    ),
    setting(
        "dsc.kafka.group.prefix",
        Kind::Text,
        Some("dsc-"),
        "Start of every transfer's consumer-group prefix; the transfer id and a dot follow.",
    ),
    setting(
        "dsc.kafka.reconciler.interval.seconds",
        Kind::Number { min: 1, max: 86_400 },
        Some("60"),
        "How often the data plane compares the broker's ACLs with its grants and repairs the difference.",
    ),
    setting(
        "dsc.kafka.reconciler.grace.seconds",
        Kind::Number { min: 0, max: 3_600 },
        Some("60"),
        "Grants touched more recently than this are left alone by the reconciler (a start may be under way); never less than 4 x dsc.kafka.timeout.seconds.",
    ),
    setting(
        "dsc.kafka.timeout.seconds",
        Kind::Number { min: 1, max: 300 },
        Some("10"),
        "Time limit of each call to the Kafka broker or the OAuth service.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_config::SettingsRegistry;

    fn load(text: &str) -> Result<ConnectorConfig, ConfigError> {
        let registry = SettingsRegistry::default().register::<KafkaPullConfig>()?;
        ConnectorConfig::from_raw(&RawConfig::from_toml_with(&registry, text, "test.toml")?)
    }

    fn kafka(config: ConnectorConfig) -> Option<KafkaPullConfig> {
        config.section::<KafkaPullConfig>().cloned()
    }

    const MINIMAL: &str = "\"edc.participant.id\" = \"A\"\n\"edc.api.auth.key\" = \"k\"\n";

    #[test]
    fn kafka_pull_is_off_until_an_admin_bootstrap_is_set() {
        assert_eq!(load(MINIMAL).map(kafka), Ok(None));
    }

    #[test]
    fn kafka_pull_needs_an_oauth_issuer() {
        let error = load(&format!("{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9092\"\n"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "missing setting 'dsc.kafka.oauth.issuer' (or environment variable DSC_KAFKA_OAUTH_ISSUER): Kafka PULL \
                 registers a client per transfer at the OAuth service the broker trusts; name its issuer or enable the \
                 built-in one (dsc.oauth.server.enabled=true)"
            )
        );
    }

    #[test]
    fn kafka_pull_follows_the_built_in_oauth_server() {
        let text = format!(
            "{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9092\"\n\"dsc.oauth.server.enabled\" = \"true\"\n\
             \"dsc.oauth.server.issuer\" = \"http://cp:19292/oauth/\"\n\"dsc.oauth.server.audience\" = \"urn:k\"\n"
        );
        let kafka = load(&text).ok().and_then(kafka);
        assert_eq!(
            kafka,
            Some(KafkaPullConfig {
                admin_bootstrap: "kafka:9092".into(),
                admin_user: "admin".into(),
                admin_password_alias: "dsc-kafka-admin-password".into(),
                admin_mechanism: "PLAIN".into(),
                admin_tls: None,
                oauth_issuer: "http://cp:19292/oauth".into(),
                initial_access_token_alias: "dsc-oauth-initial-access-token".into(),
                audience: "urn:k".into(),
                audience_parameter: "none".into(),
                principal_claim: "sub".into(),
                group_prefix: "dsc-".into(),
                reconcile_interval_seconds: 60,
                reconcile_grace_seconds: 60,
                timeout_seconds: 10,
            })
        );
    }

    #[test]
    fn the_built_in_oauth_server_issues_tokens_for_the_broker_by_default() {
        let text = format!(
            "{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9092\"\n\"dsc.oauth.server.enabled\" = \"true\"\n"
        );
        let config = load(&text).unwrap();
        assert_eq!(config.oauth_server.as_ref().map(|s| s.audience.as_str()), Some("urn:kafka:broker"));
        assert_eq!(kafka(config).map(|k| k.audience), Some("urn:kafka:broker".into()));
    }

    #[test]
    fn an_external_oauth_service_gets_the_resource_parameter() {
        let text = format!(
            "{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9092\"\n\
             \"dsc.kafka.oauth.issuer\" = \"https://idp.example\"\n"
        );
        let kafka = load(&text).ok().and_then(kafka);
        assert_eq!(kafka.as_ref().map(|k| k.audience_parameter.as_str()), Some("resource"));
        assert_eq!(kafka.as_ref().map(|k| k.audience.as_str()), Some("urn:kafka:broker"));
        assert_eq!(
            kafka.as_ref().map(|k| k.initial_access_token_alias.as_str()),
            Some("dsc-kafka-oauth-initial-access-token")
        );
    }

    #[test]
    fn the_admin_may_log_in_with_scram_over_tls() {
        let text = format!(
            "{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9093\"\n\
             \"dsc.kafka.oauth.issuer\" = \"https://idp.example\"\n\"dsc.kafka.admin.sasl.mechanism\" = \"SCRAM-SHA-512\"\n\
             \"dsc.kafka.admin.security.protocol\" = \"SASL_SSL\"\n\"dsc.kafka.admin.ssl.ca.file\" = \"/etc/kafka/ca.pem\"\n"
        );
        let kafka = load(&text).ok().and_then(kafka);
        assert_eq!(kafka.as_ref().map(|k| k.admin_mechanism.as_str()), Some("SCRAM-SHA-512"));
        assert_eq!(kafka.and_then(|k| k.admin_tls), Some(Some(std::path::PathBuf::from("/etc/kafka/ca.pem"))));
        let error = load(&text.replace("SCRAM-SHA-512", "GSSAPI")).err().map(|e| e.to_string());
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.ends_with("expected one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER")),
            "{error:?}"
        );
    }

    #[test]
    fn the_oauth_issuer_must_be_a_url() {
        let text = format!(
            "{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9092\"\n\"dsc.kafka.oauth.issuer\" = \"idp.example\"\n"
        );
        assert_eq!(
            load(&text).err().map(|e| e.to_string()).as_deref(),
            Some(
                "invalid value 'idp.example' for setting 'dsc.kafka.oauth.issuer' (from test.toml): expected an http:// or https:// URL"
            )
        );
    }
}
