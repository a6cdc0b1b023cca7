// SPDX-License-Identifier: Apache-2.0
//! The Kafka PULL transfer type's settings.

use crate::connector::OAuthServerConfig;
use crate::loader::{ConfigError, RawConfig};

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

/// The Kafka PULL settings; the OAuth ones default to the built-in server's when it runs.
pub(crate) fn kafka_pull(
    raw: &RawConfig,
    built_in: Option<&OAuthServerConfig>,
) -> Result<Option<KafkaPullConfig>, ConfigError> {
    let Some(bootstrap) = raw.get("dsc.kafka.admin.bootstrap.servers") else { return Ok(None) };
    let text = |key: &str| raw.get(key).map(str::to_string);
    let oauth_issuer = match (text("dsc.kafka.oauth.issuer"), built_in) {
        (Some(issuer), _) => issuer.trim_end_matches('/').to_string(),
        (None, Some(server)) => server.issuer.clone(),
        (None, None) => {
            return Err(ConfigError::Missing {
                key: "dsc.kafka.oauth.issuer".into(),
                env: crate::env_name("dsc.kafka.oauth.issuer"),
                hint: "Kafka PULL registers a client per transfer at the OAuth service the broker trusts; name its \
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
            .unwrap_or_else(|| "urn:kafka:broker".into()),
        audience_parameter: text("dsc.kafka.oauth.audience.parameter")
            .unwrap_or_else(|| if built_in.is_some() { "none".into() } else { "resource".into() }),
        principal_claim: text("dsc.kafka.oauth.principal.claim").unwrap_or_default(),
        group_prefix: text("dsc.kafka.group.prefix").unwrap_or_default(),
        reconcile_interval_seconds: raw.number("dsc.kafka.reconciler.interval.seconds")?,
        reconcile_grace_seconds: raw.number("dsc.kafka.reconciler.grace.seconds")?,
        timeout_seconds: raw.number("dsc.kafka.timeout.seconds")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConnectorConfig;

    fn load(text: &str) -> Result<ConnectorConfig, ConfigError> {
        let raw = RawConfig::from_toml(text, "test.toml")?;
        ConnectorConfig::from_raw(&raw)
    }

    const MINIMAL: &str = "\"edc.participant.id\" = \"A\"\n\"edc.api.auth.key\" = \"k\"\n";

    #[test]
    fn kafka_pull_is_off_until_an_admin_bootstrap_is_set() {
        assert_eq!(load(MINIMAL).map(|c| c.kafka), Ok(None));
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
        let kafka = load(&text).ok().and_then(|c| c.kafka);
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
    fn an_external_oauth_service_gets_the_resource_parameter() {
        let text = format!(
            "{MINIMAL}\"dsc.kafka.admin.bootstrap.servers\" = \"kafka:9092\"\n\
             \"dsc.kafka.oauth.issuer\" = \"https://idp.example\"\n"
        );
        let kafka = load(&text).ok().and_then(|c| c.kafka);
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
        let kafka = load(&text).ok().and_then(|c| c.kafka);
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
