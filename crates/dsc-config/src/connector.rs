// SPDX-License-Identifier: Apache-2.0
//! The typed connector configuration built from checked raw settings.

use std::path::PathBuf;

use crate::loader::{ConfigError, RawConfig};
use crate::registry::{Section, SectionValue};
use crate::vault::{VaultBackend, VaultKeySource};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One web context: a named API served under `path` on `port`. Contexts that share a port share one listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebContext {
    pub name: &'static str,
    pub port: u16,
    pub path: String,
}

#[derive(Clone, PartialEq, Eq)]
pub enum ApiKeySource {
    Value(String),
    VaultAlias(String),
}

impl std::fmt::Debug for ApiKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiKeySource::Value(_) => f.write_str("Value(***)"),
            ApiKeySource::VaultAlias(alias) => write!(f, "VaultAlias({alias})"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConnectorConfig {
    pub participant_id: String,
    pub hostname: String,
    pub bind_address: String,
    pub default_context: WebContext,
    pub management_context: WebContext,
    pub protocol_context: WebContext,
    pub control_context: WebContext,
    pub public_context: WebContext,
    /// The built-in OAuth authorization server, when enabled (`dsc.oauth.server.enabled`).
    pub oauth_server: Option<OAuthServerConfig>,
    /// The data plane's public API URL as consumers reach it.
    pub public_address: String,
    pub access_token_lifetime_seconds: u64,
    /// Shared Data Plane Signaling key; `None` means a random key per start (embedded data plane only).
    pub signaling_key: Option<String>,
    /// `dsc.metrics.auth.key`: the bearer key `/metrics` asks for, if any.
    pub metrics_key: Option<String>,
    pub transfer_retry_limit: u32,
    pub transfer_retry_base_ms: i64,
    /// The transfer state machine's batch size and iteration wait (`edc.transfer.state-machine.*`).
    pub transfer_state_machine: StateMachineConfig,
    /// The negotiation state machine's iteration wait (`edc.negotiation.state-machine.iteration-wait-millis`).
    pub negotiation_iteration_wait_ms: u64,
    /// The policy monitor's page size and interval (`edc.policy.monitor.state-machine.*`).
    pub policy_monitor: StateMachineConfig,
    /// `edc.negotiation.consumer.*`.
    pub negotiation_consumer: NegotiationRoleConfig,
    /// `edc.negotiation.provider.*`.
    pub negotiation_provider: NegotiationRoleConfig,
    /// Run the data plane inside the connector (`dsc.dataplane.embedded`).
    pub embedded_data_plane: bool,
    /// Standalone data plane: the control plane to register with, and this data plane's signaling URL.
    pub control_plane_url: Option<String>,
    pub signaling_address: String,
    /// A standalone data plane's signaling URL and the transfer types it serves.
    pub remote_data_plane: Option<(String, Vec<String>)>,
    pub api_key: ApiKeySource,
    /// Database URL with credentials merged in; never log it without `redact`.
    pub database_url: String,
    pub database_max_connections: u32,
    pub data_dir: PathBuf,
    pub vault_file: PathBuf,
    pub vault_key: VaultKeySource,
    pub vault_backend: VaultBackend,
    /// Keys that may still open what they sealed, during a rotation (`dsc.vault.key.previous[.file]`): base64 keys
    /// separated by commas or line breaks.
    pub vault_previous_keys: Option<VaultKeySource>,
    pub body_limit: usize,
    /// `dsc.http.request.timeout.seconds`.
    pub request_timeout_seconds: u64,
    /// `dsc.shutdown.timeout.seconds`.
    pub shutdown_timeout_seconds: u64,
    /// `dsc.dsp.participant.concurrency`.
    pub participant_concurrency: usize,
    /// `dsc.negotiation.consumer.offers`: `true` when every provider offer waits for the operator.
    pub offers_for_operator: bool,
    /// `dsc.dsp.verification.concurrency`.
    pub verification_concurrency: usize,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Span export over OTLP (`otel.exporter.otlp.endpoint`); `None`: off.
    pub trace_export: Option<crate::telemetry::TraceExport>,
    /// The Dataspace Protocol base address peers use (without the version path).
    pub protocol_address: String,
    pub did_web_use_https: bool,
    pub participant_key_alias: String,
    pub trust_file: Option<PathBuf>,
    /// EDC's unsigned mock identity, for interoperability tests only (`dsc.iam.mock.enabled`).
    pub mock_identity: bool,
    /// The configured plug-ins' typed sections; read them with [`ConnectorConfig::section`].
    sections: Vec<SectionValue>,
}

/// The built-in OAuth authorization server's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthServerConfig {
    pub context: WebContext,
    /// The issuer URL as clients and resource servers (a broker) reach the server.
    pub issuer: String,
    pub audience: String,
    pub access_token_seconds: u64,
    pub refresh_token_seconds: u64,
    /// Vault key of the RFC 7591 initial access token (generated at first start when missing).
    pub initial_access_token_alias: String,
    /// Maximum age of the signing key before it is rotated; 0 never rotates.
    pub key_rotation_seconds: u64,
}

/// How a state machine is run (EDC's `state-machine.*` settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateMachineConfig {
    pub batch_size: u32,
    pub iteration_wait_ms: u64,
}

/// One negotiation role's state machine settings (`edc.negotiation.<role>.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiationRoleConfig {
    pub batch_size: u32,
    pub retry_limit: u32,
    pub retry_base_ms: i64,
}

impl NegotiationRoleConfig {
    fn read(raw: &RawConfig, prefix: &str) -> Result<Self, ConfigError> {
        Ok(NegotiationRoleConfig {
            batch_size: raw.number(&format!("{prefix}.state-machine.batch-size"))?,
            retry_limit: raw.number(&format!("{prefix}.send.retry.limit"))?,
            retry_base_ms: raw.number(&format!("{prefix}.send.retry.base-delay.ms"))?,
        })
    }
}

impl ConnectorConfig {
    pub fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        Self::parse(raw, true)
    }

    /// The configuration of a standalone data plane (`dsc dataplane`): no Management API, so no API key, but the
    /// signaling key is required because the control plane must be able to reach it and nobody else.
    pub fn for_data_plane(raw: &RawConfig) -> Result<Self, ConfigError> {
        let config = Self::parse(raw, false)?;
        if config.signaling_key.is_none() {
            return Err(ConfigError::Missing {
                key: "dsc.signaling.auth.key".into(),
                env: crate::env_name("dsc.signaling.auth.key"),
                hint: "a standalone data plane only accepts signals carrying the key its control plane shares".into(),
            });
        }
        Ok(config)
    }

    fn parse(raw: &RawConfig, require_api_key: bool) -> Result<Self, ConfigError> {
        let participant_id =
            raw.required("edc.participant.id", "every connector needs its participant id (BPN or DID)")?.to_string();
        let data_dir = PathBuf::from(raw.get("dsc.data.dir").unwrap_or("./data"));
        let context = |name: &'static str, prefix: &str| -> Result<WebContext, ConfigError> {
            let port_key = format!("{prefix}.port");
            let path_key = format!("{prefix}.path");
            Ok(WebContext {
                name,
                port: raw.number(&port_key)?,
                path: raw.get(&path_key).unwrap_or("/").trim_end_matches('/').to_string(),
            })
        };
        let api_key = match (raw.get("edc.api.auth.key"), raw.get("edc.api.auth.key.alias")) {
            (Some(value), _) => ApiKeySource::Value(value.to_string()),
            (None, Some(alias)) => ApiKeySource::VaultAlias(alias.to_string()),
            (None, None) if !require_api_key => ApiKeySource::Value(String::new()),
            (None, None) => {
                return Err(ConfigError::Missing {
                    key: "edc.api.auth.key".into(),
                    env: crate::env_name("edc.api.auth.key"),
                    hint: "the Management API is never served without authentication; set the key or \
                           edc.api.auth.key.alias (a vault key)"
                        .into(),
                });
            }
        };
        let database_url = database_url(raw, &data_dir);
        let (vault_key, vault_backend, vault_previous_keys) = crate::vault::read(raw, &data_dir)?;
        let log_format = match raw.get("dsc.log.format") {
            Some("json") => LogFormat::Json,
            _ => LogFormat::Text,
        };
        let trace_export = crate::telemetry::read(raw, &participant_id)?;
        let config = ConnectorConfig {
            participant_id,
            hostname: raw.get("edc.hostname").unwrap_or("localhost").to_string(),
            bind_address: raw.get("dsc.http.bind.address").unwrap_or("0.0.0.0").to_string(),
            default_context: context("default", "web.http")?,
            management_context: context("management", "web.http.management")?,
            protocol_context: context("protocol", "web.http.protocol")?,
            control_context: context("control", "web.http.control")?,
            public_context: context("public", "web.http.public")?,
            oauth_server: None,
            public_address: String::new(),
            access_token_lifetime_seconds: raw.number("tx.edc.dataplane.token.expiry")?,
            signaling_key: raw.get("dsc.signaling.auth.key").map(str::to_string),
            metrics_key: raw.get("dsc.metrics.auth.key").filter(|key| !key.is_empty()).map(str::to_string),
            transfer_retry_limit: raw.number("edc.transfer.send.retry.limit")?,
            transfer_retry_base_ms: raw.number("edc.transfer.send.retry.base-delay.ms")?,
            transfer_state_machine: StateMachineConfig {
                batch_size: raw.number("edc.transfer.state-machine.batch-size")?,
                iteration_wait_ms: raw.number("edc.transfer.state-machine.iteration-wait-millis")?,
            },
            negotiation_iteration_wait_ms: raw.number("edc.negotiation.state-machine.iteration-wait-millis")?,
            policy_monitor: StateMachineConfig {
                batch_size: raw.number("edc.policy.monitor.state-machine.batch-size")?,
                iteration_wait_ms: raw.number("edc.policy.monitor.state-machine.iteration-wait-millis")?,
            },
            negotiation_consumer: NegotiationRoleConfig::read(raw, "edc.negotiation.consumer")?,
            negotiation_provider: NegotiationRoleConfig::read(raw, "edc.negotiation.provider")?,
            embedded_data_plane: raw.get("dsc.dataplane.embedded") != Some("false"),
            control_plane_url: raw.get("dsc.dataplane.controlplane.url").map(|u| u.trim_end_matches('/').to_string()),
            signaling_address: raw
                .get("dsc.dataplane.signaling.url")
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            remote_data_plane: raw.get("dsc.dataplane.remote.url").map(|url| {
                let types = raw.get("dsc.dataplane.remote.transfertypes").unwrap_or("HttpData-PULL");
                (
                    url.trim_end_matches('/').to_string(),
                    types.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
                )
            }),
            api_key,
            database_url,
            database_max_connections: raw.number("edc.datasource.default.pool.connections.max-total")?,
            vault_file: raw.get("dsc.vault.file").map(PathBuf::from).unwrap_or_else(|| data_dir.join("vault.json")),
            vault_key,
            vault_backend,
            vault_previous_keys,
            data_dir,
            body_limit: raw.number("dsc.http.body.limit")?,
            request_timeout_seconds: raw.number("dsc.http.request.timeout.seconds")?,
            shutdown_timeout_seconds: raw.number("dsc.shutdown.timeout.seconds")?,
            participant_concurrency: raw.number("dsc.dsp.participant.concurrency")?,
            offers_for_operator: raw.get("dsc.negotiation.consumer.offers") == Some("operator"),
            verification_concurrency: raw.number("dsc.dsp.verification.concurrency")?,
            log_format,
            log_level: raw.get("dsc.log.level").unwrap_or("info").to_string(),
            trace_export,
            protocol_address: String::new(),
            did_web_use_https: raw.get("edc.iam.did.web.use.https") != Some("false"),
            participant_key_alias: raw.get("edc.iam.sts.privatekey.alias").unwrap_or("dsc-participant-key").to_string(),
            trust_file: raw.get("dsc.iam.trust.file").map(PathBuf::from),
            mock_identity: raw.get("dsc.iam.mock.enabled") == Some("true"),
            sections: Vec::new(),
        };
        let mut config = config;
        config.protocol_address = match raw.get("edc.dsp.callback.address") {
            Some(address) => address.trim_end_matches('/').to_string(),
            None => {
                format!("http://{}:{}{}", config.hostname, config.protocol_context.port, config.protocol_context.path)
            }
        };
        config.public_address = match raw.get("edc.dataplane.api.public.baseurl") {
            Some(address) => address.trim_end_matches('/').to_string(),
            None => format!("http://{}:{}{}", config.hostname, config.public_context.port, config.public_context.path),
        };
        if raw.get("dsc.oauth.server.enabled") == Some("true") {
            let oauth = context("oauth", "web.http.oauth")?;
            let issuer = match raw.get("dsc.oauth.server.issuer") {
                Some(issuer) => issuer.trim_end_matches('/').to_string(),
                None => format!("http://{}:{}{}", config.hostname, oauth.port, oauth.path),
            };
            let audience = raw.get("dsc.oauth.server.audience").unwrap_or(&issuer).to_string();
            config.oauth_server = Some(OAuthServerConfig {
                context: oauth,
                issuer,
                audience,
                access_token_seconds: raw.number("dsc.oauth.server.token.expiry")?,
                refresh_token_seconds: raw.number("dsc.oauth.server.refresh.token.expiry")?,
                initial_access_token_alias: raw
                    .get("dsc.oauth.server.initial.access.token.alias")
                    .unwrap_or("dsc-oauth-initial-access-token")
                    .to_string(),
                key_rotation_seconds: raw.number::<u64>("dsc.oauth.server.key.rotation.days")? * 86_400,
            });
        }
        config.sections = raw.registry().read_sections(raw, &config)?;
        if config.signaling_address.is_empty() {
            config.signaling_address =
                format!("http://{}:{}{}", config.hostname, config.control_context.port, config.control_context.path);
        }
        config.check_contexts()?;
        Ok(config)
    }

    /// A plug-in's section, when its registry entry was used to load and the plug-in is configured.
    pub fn section<S: Section>(&self) -> Option<&S> {
        self.sections.iter().find_map(|section| section.value.downcast_ref::<S>())
    }

    pub fn contexts(&self) -> Vec<&WebContext> {
        let mut contexts = vec![
            &self.default_context,
            &self.management_context,
            &self.protocol_context,
            &self.control_context,
            &self.public_context,
        ];
        contexts.extend(self.oauth_server.as_ref().map(|oauth| &oauth.context));
        contexts
    }

    /// Contexts may share a port only under different, non-nested paths.
    fn check_contexts(&self) -> Result<(), ConfigError> {
        let contexts = self.contexts();
        for (i, a) in contexts.iter().enumerate() {
            for b in &contexts[i + 1..] {
                let nested = |x: &str, y: &str| x == y || y.starts_with(&format!("{x}/")) || x.is_empty();
                if a.port == b.port && (nested(&a.path, &b.path) || nested(&b.path, &a.path)) {
                    return Err(ConfigError::Invalid {
                        key: format!("web.http.{}.path", b.name).replace("web.http.default.", "web.http."),
                        value: b.path.clone(),
                        origin: "the configuration".into(),
                        expected: format!(
                            "a path that does not overlap '{}' of the {} context on the same port {}",
                            a.path, a.name, a.port
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

fn database_url(raw: &RawConfig, data_dir: &std::path::Path) -> String {
    let Some(url) = raw.get("edc.datasource.default.url") else {
        return format!("sqlite://{}?mode=rwc", data_dir.join("dsc.db").display());
    };
    let user = raw.get("edc.datasource.default.user");
    let password = raw.get("edc.datasource.default.password");
    let Some((scheme, rest)) = url.split_once("://").filter(|(scheme, _)| scheme.starts_with("postgres")) else {
        return url.to_string();
    };
    // User and password from their own settings fill in what the URL leaves out; the URL wins otherwise.
    let (url_user, host) = match rest.split_once('@') {
        Some((credentials, host)) => (Some(credentials), host),
        None => (None, rest),
    };
    let credentials = match (url_user, user, password) {
        (Some(credentials), _, _) if credentials.contains(':') => credentials.to_string(),
        (Some(url_user), _, Some(password)) => format!("{url_user}:{}", encode(password)),
        (Some(url_user), _, None) => url_user.to_string(),
        (None, Some(user), Some(password)) => format!("{}:{}", encode(user), encode(password)),
        (None, Some(user), None) => encode(user),
        (None, None, _) => return url.to_string(),
    };
    format!("{scheme}://{credentials}@{host}")
}

/// Percent-encodes what cannot stand in a URL's user-info part.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConfigError;

    fn load(toml: &str, env: &[(&str, &str)]) -> Result<ConnectorConfig, ConfigError> {
        let dir = tempfile::tempdir().map_err(|e| ConfigError::Read { path: "tmp".into(), reason: e.to_string() })?;
        let path = dir.path().join("c.toml");
        std::fs::write(&path, toml).map_err(|e| ConfigError::Read { path: "tmp".into(), reason: e.to_string() })?;
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let raw = RawConfig::load(Some(&path), env)?;
        ConnectorConfig::from_raw(&raw)
    }

    const MINIMAL: &str = "edc.participant.id = \"BPNL000000000001\"\nedc.api.auth.key = \"k\"\n";

    #[test]
    fn defaults_mirror_edc_ports_and_paths() {
        let config = load(MINIMAL, &[]).unwrap();
        let contexts: Vec<_> = config.contexts().iter().map(|c| (c.port, c.path.clone())).collect();
        assert_eq!(
            contexts,
            vec![
                (19191, "/api".to_string()),
                (19193, "/management".to_string()),
                (19194, "/api/v1/dsp".to_string()),
                (19192, "/control".to_string()),
                (19291, "/public".to_string())
            ]
        );
        assert_eq!(config.body_limit, 1_048_576);
        assert!(config.database_url.starts_with("sqlite://./data/dsc.db"));
        assert_eq!(config.vault_key, VaultKeySource::File { path: PathBuf::from("./data/vault.key"), create: true });
    }

    #[test]
    fn nested_tables_and_dotted_keys_are_the_same() {
        let nested = "[edc.participant]\nid = \"A\"\n[edc.api.auth]\nkey = \"k\"\n[web.http.management]\nport = 9000\n";
        let config = load(nested, &[]).unwrap();
        assert_eq!(config.participant_id, "A");
        assert_eq!(config.management_context.port, 9000);
    }

    #[test]
    fn environment_overrides_the_file() {
        let config =
            load(MINIMAL, &[("EDC_PARTICIPANT_ID", "did:web:other"), ("WEB_HTTP_MANAGEMENT_PATH", "/mgmt/")]).unwrap();
        assert_eq!(config.participant_id, "did:web:other");
        assert_eq!(config.management_context.path, "/mgmt");
    }

    #[test]
    fn unknown_keys_fail_naming_the_key_and_source() {
        let error = load(&format!("{MINIMAL}web.http.managment.port = 1\n"), &[]).err().map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|e| e.starts_with("unknown setting 'web.http.managment.port' in ")),
            "{error:?}"
        );
        let error = load(MINIMAL, &[("EDC_PARTICIPANTID", "x")]).err();
        assert_eq!(
            error,
            Some(ConfigError::Unknown { key: "EDC_PARTICIPANTID".into(), origin: "the environment".into() })
        );
        assert!(load(MINIMAL, &[("PATH", "/usr/bin"), ("HOME", "/root")]).is_ok());
        assert!(load(MINIMAL, &[("DSC_CLIENT_API_KEY", "for dsc consume")]).is_ok(), "client variables are not ours");
    }

    #[test]
    fn invalid_values_name_key_value_source_and_expectation() {
        let error = load(MINIMAL, &[("WEB_HTTP_PORT", "99999")]).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "invalid value '99999' for setting 'web.http.port' (from environment variable WEB_HTTP_PORT): expected a port number from 1 to 65535"
            )
        );
        let error = load(&format!("{MINIMAL}dsc.log.format = \"xml\"\n"), &[]).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.ends_with("expected one of text, json")));
        let error = load(&format!("{MINIMAL}web.http.path = \"api\"\n"), &[]).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.contains("expected a URL path starting with '/'")));
    }

    #[test]
    fn secret_values_are_redacted_in_errors() {
        let error = load(MINIMAL, &[("EDC_API_AUTH_KEY", "")]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("'<redacted>'"), "{error}");
    }

    #[test]
    fn participant_id_and_api_key_are_required() {
        let error = load("edc.api.auth.key = \"k\"\n", &[]).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                "missing setting 'edc.participant.id' (or environment variable EDC_PARTICIPANT_ID): every connector needs its participant id (BPN or DID)"
            )
        );
        let error = load("edc.participant.id = \"A\"\n", &[]).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.starts_with("missing setting 'edc.api.auth.key'"), "{error}");
        let aliased = load("edc.participant.id = \"A\"\n\"edc.api.auth.key.alias\" = \"mgmt-key\"\n", &[]).unwrap();
        assert_eq!(aliased.api_key, ApiKeySource::VaultAlias("mgmt-key".into()));
    }

    #[test]
    fn overlapping_contexts_on_one_port_are_refused() {
        let error =
            load(MINIMAL, &[("WEB_HTTP_MANAGEMENT_PORT", "19191"), ("WEB_HTTP_MANAGEMENT_PATH", "/api/management")])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(error.contains("does not overlap '/api' of the default context on the same port 19191"), "{error}");
        assert!(load(MINIMAL, &[("WEB_HTTP_MANAGEMENT_PORT", "19191")]).is_ok());
    }

    #[test]
    fn database_credentials_are_merged_and_encoded() {
        let config = load(
            &format!("{MINIMAL}edc.datasource.default.url = \"postgres://db:5432/dsc\"\nedc.datasource.default.user = \"dsc\"\n"),
            &[("EDC_DATASOURCE_DEFAULT_PASSWORD", "p@ss:w/rd")],
        )
        .unwrap();
        assert_eq!(config.database_url, "postgres://dsc:p%40ss%3Aw%2Frd@db:5432/dsc");
        let config = load(
            &format!("{MINIMAL}edc.datasource.default.url = \"postgres://app@db/dsc\"\n"),
            &[("EDC_DATASOURCE_DEFAULT_PASSWORD", "pw")],
        )
        .unwrap();
        assert_eq!(config.database_url, "postgres://app:pw@db/dsc");
    }

    #[test]
    fn bad_toml_and_missing_files_are_reported() {
        let error = RawConfig::from_toml("edc.participant.id = ", "c.toml").err();
        assert!(matches!(error, Some(ConfigError::Syntax { .. })));
        let error = RawConfig::load(Some(std::path::Path::new("/nonexistent/dsc.toml")), Vec::new()).err();
        assert!(matches!(error, Some(ConfigError::Read { .. })));
    }

    #[test]
    fn state_machine_settings_have_edcs_names_and_defaults_per_role() {
        let config = load(MINIMAL, &[]).unwrap();
        assert_eq!(config.transfer_state_machine, StateMachineConfig { batch_size: 20, iteration_wait_ms: 1000 });
        assert_eq!(config.negotiation_iteration_wait_ms, 1000);
        assert_eq!(config.policy_monitor, StateMachineConfig { batch_size: 500, iteration_wait_ms: 1000 });
        let default_role = NegotiationRoleConfig { batch_size: 20, retry_limit: 8, retry_base_ms: 500 };
        assert_eq!((config.negotiation_consumer, config.negotiation_provider), (default_role, default_role));

        let toml = format!(
            "{MINIMAL}\"edc.negotiation.consumer.state-machine.batch-size\" = 3\n\
             \"edc.negotiation.provider.send.retry.limit\" = 2\n\"edc.transfer.state-machine.batch-size\" = 5\n"
        );
        let env = [
            ("EDC_NEGOTIATION_PROVIDER_SEND_RETRY_BASE_DELAY_MS", "70"),
            ("EDC_NEGOTIATION_STATE_MACHINE_ITERATION_WAIT_MILLIS", "250"),
            ("EDC_TRANSFER_STATE_MACHINE_ITERATION_WAIT_MILLIS", "125"),
        ];
        let config = load(&toml, &env).unwrap();
        assert_eq!(config.negotiation_consumer, NegotiationRoleConfig { batch_size: 3, ..default_role });
        assert_eq!(
            config.negotiation_provider,
            NegotiationRoleConfig { retry_limit: 2, retry_base_ms: 70, ..default_role }
        );
        assert_eq!(config.negotiation_iteration_wait_ms, 250);
        assert_eq!(config.transfer_state_machine, StateMachineConfig { batch_size: 5, iteration_wait_ms: 125 });

        let error = load(&format!("{MINIMAL}\"edc.transfer.state-machine.batch-size\" = 0\n"), &[])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("edc.transfer.state-machine.batch-size"), "{error}");
    }
}
