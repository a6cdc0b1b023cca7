// SPDX-License-Identifier: Apache-2.0
//! The core settings; plug-ins add theirs through [`crate::SettingsRegistry`].

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Port,
    /// A URL path starting with `/`.
    UrlPath,
    /// A whole number in the range.
    Number {
        min: u64,
        max: u64,
    },
    OneOf(&'static [&'static str]),
    FilePath,
    /// An absolute `http://` or `https://` URL.
    HttpUrl,
}

impl Kind {
    pub fn describe(self) -> String {
        match self {
            Kind::Text => "a non-empty string".into(),
            Kind::Port => "a port number from 1 to 65535".into(),
            Kind::UrlPath => "a URL path starting with '/'".into(),
            Kind::Number { min, max } => format!("a whole number from {min} to {max}"),
            Kind::OneOf(values) => format!("one of {}", values.join(", ")),
            Kind::FilePath => "a file path".into(),
            Kind::HttpUrl => "an http:// or https:// URL".into(),
        }
    }

    pub fn check(self, value: &str) -> bool {
        match self {
            Kind::Text | Kind::FilePath => !value.trim().is_empty(),
            Kind::Port => value.parse::<u16>().is_ok_and(|p| p > 0),
            Kind::UrlPath => value.starts_with('/') && !value.contains(char::is_whitespace),
            Kind::Number { min, max } => value.parse::<u64>().is_ok_and(|n| (min..=max).contains(&n)),
            Kind::OneOf(values) => values.contains(&value),
            Kind::HttpUrl => {
                let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
                rest.is_some_and(|rest| {
                    !rest.is_empty() && !rest.starts_with('/') && !value.contains(char::is_whitespace)
                })
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub key: &'static str,
    pub kind: Kind,
    /// `None`: no default (required, or derived from other settings as the description says).
    pub default: Option<&'static str>,
    /// Secret values are never printed in messages.
    pub secret: bool,
    pub description: &'static str,
}

pub const fn setting(
    key: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    description: &'static str,
) -> Setting {
    Setting { key, kind, default, secret: false, description }
}

pub const fn secret(key: &'static str, description: &'static str) -> Setting {
    Setting { key, kind: Kind::Text, default: None, secret: true, description }
}

pub const SETTINGS: &[Setting] = &[
    setting("edc.participant.id", Kind::Text, None, "This connector's participant id (BPN or DID). Required."),
    setting("edc.hostname", Kind::Text, Some("localhost"), "Host name used in URLs this connector advertises."),
    setting(
        "dsc.http.bind.address",
        Kind::Text,
        Some("0.0.0.0"),
        "Address every web context listens on (127.0.0.1 keeps the connector local).",
    ),
    setting("web.http.port", Kind::Port, Some("19191"), "Port of the default context (health checks)."),
    setting("web.http.path", Kind::UrlPath, Some("/api"), "Path of the default context."),
    setting("web.http.management.port", Kind::Port, Some("19193"), "Port of the Management API."),
    setting("web.http.management.path", Kind::UrlPath, Some("/management"), "Path of the Management API."),
    setting("web.http.protocol.port", Kind::Port, Some("19194"), "Port of the Dataspace Protocol API."),
    setting("web.http.protocol.path", Kind::UrlPath, Some("/api/v1/dsp"), "Path of the Dataspace Protocol API."),
    setting("web.http.control.port", Kind::Port, Some("19192"), "Port of the control API (data plane signaling)."),
    setting("web.http.control.path", Kind::UrlPath, Some("/control"), "Path of the control API."),
    setting("web.http.public.port", Kind::Port, Some("19291"), "Port of the data plane's public API (data access)."),
    setting("web.http.public.path", Kind::UrlPath, Some("/public"), "Path of the data plane's public API."),
    setting(
        "edc.dataplane.api.public.baseurl",
        Kind::Text,
        None,
        "The public API's URL as consumers reach it (put in every EDR). Default: http://<edc.hostname>:<public port><public path>.",
    ),
    setting(
        "tx.edc.dataplane.token.expiry",
        Kind::Number { min: 1, max: 86_400 },
        Some("300"),
        "Lifetime of data access tokens in seconds; consumers refresh them through the refresh endpoint.",
    ),
    setting(
        "edc.transfer.send.retry.limit",
        Kind::Number { min: 1, max: 100 },
        Some("8"),
        "Attempts per transfer message or data plane signal before the transfer is terminated.",
    ),
    setting(
        "edc.transfer.send.retry.base-delay.ms",
        Kind::Number { min: 1, max: 60_000 },
        Some("500"),
        "First retry delay of a transfer step in milliseconds; it doubles per attempt up to 60 s.",
    ),
    setting(
        "edc.transfer.state-machine.batch-size",
        Kind::Number { min: 1, max: 10_000 },
        Some("20"),
        "Transfer processes of each role the transfer state machine leases and works on at once per replica.",
    ),
    setting(
        "edc.transfer.state-machine.iteration-wait-millis",
        Kind::Number { min: 1, max: 3_600_000 },
        Some("1000"),
        "How long the idle transfer state machine waits before it looks for due work again in milliseconds \
         (a wake-up or a retry falling due ends the wait sooner).",
    ),
    setting(
        "edc.policy.monitor.state-machine.batch-size",
        Kind::Number { min: 1, max: 100_000 },
        Some("500"),
        "Running transfers the policy monitor reads from the store at once; a pass reads page after page until it \
         has re-evaluated every one.",
    ),
    setting(
        "edc.policy.monitor.state-machine.iteration-wait-millis",
        Kind::Number { min: 1, max: 3_600_000 },
        Some("1000"),
        "How long the policy monitor waits between two passes over the running transfers in milliseconds: the \
         longest a transfer whose contract no longer holds keeps running.",
    ),
    setting(
        "edc.negotiation.state-machine.iteration-wait-millis",
        Kind::Number { min: 1, max: 3_600_000 },
        Some("1000"),
        "How long the idle negotiation state machine (consumer and provider side) waits before it looks for due \
         work again in milliseconds (a wake-up or a retry falling due ends the wait sooner).",
    ),
    setting(
        "edc.negotiation.consumer.state-machine.batch-size",
        Kind::Number { min: 1, max: 10_000 },
        Some("20"),
        "Consumer-side contract negotiations the state machine leases and works on at once per replica.",
    ),
    setting(
        "edc.negotiation.provider.state-machine.batch-size",
        Kind::Number { min: 1, max: 10_000 },
        Some("20"),
        "Provider-side contract negotiations the state machine leases and works on at once per replica.",
    ),
    setting(
        "edc.negotiation.consumer.send.retry.limit",
        Kind::Number { min: 1, max: 100 },
        Some("8"),
        "Attempts per consumer-side negotiation message before the negotiation is terminated.",
    ),
    setting(
        "edc.negotiation.consumer.send.retry.base-delay.ms",
        Kind::Number { min: 1, max: 60_000 },
        Some("500"),
        "First retry delay of a consumer-side negotiation message in milliseconds; it doubles per attempt up to 60 s.",
    ),
    setting(
        "dsc.negotiation.consumer.offers",
        Kind::OneOf(&["accept-same-terms", "operator"]),
        Some("accept-same-terms"),
        "What the consumer does with a provider's offer: accept it at once when it has the terms asked for (any other waits for the operator), or let the operator decide every offer (accept, counter or terminate) and every agreement (verify or terminate) through the Management API.",
    ),
    setting(
        "edc.negotiation.provider.send.retry.limit",
        Kind::Number { min: 1, max: 100 },
        Some("8"),
        "Attempts per provider-side negotiation message before the negotiation is terminated.",
    ),
    setting(
        "edc.negotiation.provider.send.retry.base-delay.ms",
        Kind::Number { min: 1, max: 60_000 },
        Some("500"),
        "First retry delay of a provider-side negotiation message in milliseconds; it doubles per attempt up to 60 s.",
    ),
    setting(
        "dsc.oauth.server.enabled",
        Kind::OneOf(&["true", "false"]),
        Some("false"),
        "Run the built-in OAuth 2.0 authorization server (issues the credentials transfer types hand to consumers).",
    ),
    setting("web.http.oauth.port", Kind::Port, Some("19292"), "Port of the built-in OAuth server."),
    setting("web.http.oauth.path", Kind::UrlPath, Some("/oauth"), "Path of the built-in OAuth server."),
    setting(
        "dsc.oauth.server.issuer",
        Kind::HttpUrl,
        None,
        "The built-in OAuth server's issuer URL as clients and the broker reach it. Default: http://<edc.hostname>:<oauth port><oauth path>.",
    ),
    setting(
        "dsc.oauth.server.audience",
        Kind::Text,
        None,
        "The audience of the built-in server's access tokens (what the resource servers trusting it expect). Default: the one a transfer type registers, else the issuer.",
    ),
    setting(
        "dsc.oauth.server.token.expiry",
        Kind::Number { min: 1, max: 86_400 },
        Some("300"),
        "Lifetime of the built-in server's access tokens in seconds.",
    ),
    setting(
        "dsc.oauth.server.refresh.token.expiry",
        Kind::Number { min: 60, max: 31_536_000 },
        Some("86400"),
        "Lifetime of the built-in server's refresh tokens in seconds.",
    ),
    setting(
        "dsc.oauth.server.initial.access.token.alias",
        Kind::Text,
        Some("dsc-oauth-initial-access-token"),
        "Vault key of the RFC 7591 initial access token for the built-in server (generated at first start).",
    ),
    setting(
        "dsc.oauth.server.key.rotation.days",
        Kind::Number { min: 0, max: 3_650 },
        Some("90"),
        "Age after which the built-in server's signing key is replaced (checked hourly); the old key stays in the JWKS until its tokens expired. 0 never rotates.",
    ),
    setting(
        "dsc.dataplane.embedded",
        Kind::OneOf(&["true", "false"]),
        Some("true"),
        "Run a data plane inside the connector (signaled over HTTP on the control context like a standalone one).",
    ),
    setting(
        "dsc.dataplane.remote.url",
        Kind::Text,
        None,
        "Signaling URL of a standalone data plane (`dsc dataplane`), e.g. http://dataplane:19192/control. It shares dsc.signaling.auth.key.",
    ),
    setting(
        "dsc.dataplane.remote.transfertypes",
        Kind::Text,
        Some("HttpData-PULL"),
        "Comma-separated transfer types the standalone data plane serves.",
    ),
    setting(
        "dsc.dataplane.controlplane.url",
        Kind::Text,
        None,
        "Standalone data plane: the control plane's control API (e.g. http://connector:19192/control) to register with at start.",
    ),
    setting(
        "dsc.dataplane.signaling.url",
        Kind::Text,
        None,
        "Standalone data plane: its signaling URL as the control plane reaches it. Default: http://<edc.hostname>:<control port><control path>.",
    ),
    secret(
        "dsc.metrics.auth.key",
        "When set, GET <default context>/metrics requires Authorization: Bearer <key> (a Prometheus scrape \
         configuration's bearer token). Default: open, like the health checks beside it.",
    ),
    secret(
        "dsc.signaling.auth.key",
        "Shared key between control plane and data plane (Data Plane Signaling, both directions). Default: a random key per start, enough for the embedded data plane.",
    ),
    secret("edc.api.auth.key", "Management API key (X-Api-Key). Prefer edc.api.auth.key.alias or the env variable."),
    setting(
        "edc.api.auth.key.alias",
        Kind::Text,
        None,
        "Vault key holding the Management API key. One of edc.api.auth.key and this is required.",
    ),
    setting(
        "edc.dsp.callback.address",
        Kind::Text,
        None,
        "This connector's Dataspace Protocol address as peers reach it. Default: http://<edc.hostname>:<protocol port><protocol path>.",
    ),
    setting(
        "edc.iam.did.web.use.https",
        Kind::OneOf(&["true", "false"]),
        Some("true"),
        "Resolve did:web documents over HTTPS (false only for local tests on loopback).",
    ),
    setting(
        "dsc.iam.mock.enabled",
        Kind::OneOf(&["true", "false"]),
        Some("false"),
        "INTEROPERABILITY TESTS ONLY: authenticate protocol requests with EDC's unsigned mock identity (raw JSON Authorization header) instead of did:web tokens.",
    ),
    setting(
        "edc.iam.sts.privatekey.alias",
        Kind::Text,
        Some("dsc-participant-key"),
        "Vault key of the participant's P-256 private key (PKCS#8 PEM); generated on first start when missing.",
    ),
    setting(
        "dsc.iam.trust.file",
        Kind::FilePath,
        None,
        "Trust list (TOML, [[participant]] did/bpn/membership/framework_agreements/groups) of known participants.",
    ),
    setting(
        "edc.datasource.default.url",
        Kind::Text,
        None,
        "Database URL: sqlite://<file> or postgres://host:port/db. Default: sqlite file dsc.db in the data dir.",
    ),
    setting("edc.datasource.default.user", Kind::Text, None, "Database user (PostgreSQL)."),
    secret("edc.datasource.default.password", "Database password (PostgreSQL). Prefer the environment variable."),
    setting(
        "edc.datasource.default.pool.connections.max-total",
        Kind::Number { min: 1, max: 1000 },
        Some("10"),
        "Largest number of database connections.",
    ),
    setting("dsc.data.dir", Kind::FilePath, Some("./data"), "Directory for the SQLite database and the vault."),
    setting("dsc.vault.file", Kind::FilePath, None, "Encrypted vault file. Default: vault.json in the data dir."),
    secret("dsc.vault.key", "Vault encryption key, base64 of 32 bytes. Prefer DSC_VAULT_KEY or dsc.vault.key.file."),
    setting(
        "dsc.vault.type",
        Kind::OneOf(&["file", "database"]),
        Some("file"),
        "Where secrets are kept: an encrypted file per process, or the connector's database (envelope encryption; \
         shared by replicas; needs the vault key from DSC_VAULT_KEY or dsc.vault.key.file).",
    ),
    secret(
        "dsc.vault.key.previous",
        "Database vault: earlier vault keys (base64, comma-separated) that still open what they sealed, during a \
         rotation. Prefer DSC_VAULT_KEY_PREVIOUS or dsc.vault.key.previous.file.",
    ),
    setting(
        "dsc.vault.key.previous.file",
        Kind::FilePath,
        None,
        "Database vault: a file of earlier vault keys (base64, one per line), during a rotation.",
    ),
    setting(
        "dsc.vault.key.file",
        Kind::FilePath,
        None,
        "File holding the vault key (base64). Default: vault.key in the data dir, created when missing.",
    ),
    setting(
        "dsc.http.body.limit",
        Kind::Number { min: 1024, max: 1_073_741_824 },
        Some("1048576"),
        "Largest accepted request body in bytes, on every API (413 beyond).",
    ),
    setting(
        "dsc.shutdown.timeout.seconds",
        Kind::Number { min: 1, max: 3600 },
        Some("20"),
        "After SIGTERM: how long open requests and work in flight may take to finish before the process exits \
         anyway (below Kubernetes' 30 s grace period; unfinished work is taken over when its lease expires).",
    ),
    setting(
        "dsc.http.request.timeout.seconds",
        Kind::Number { min: 1, max: 3600 },
        Some("60"),
        "Longest a request may take on any API, a slow client's body included (408 beyond).",
    ),
    setting(
        "dsc.dsp.participant.concurrency",
        Kind::Number { min: 1, max: 100_000 },
        Some("64"),
        "Protocol requests in flight per verified counter-party; more are answered 429, which counter-parties retry.",
    ),
    setting(
        "dsc.dsp.verification.concurrency",
        Kind::Number { min: 1, max: 100_000 },
        Some("256"),
        "Protocol requests being authenticated at once (each may resolve DIDs and query a credential service); more wait.",
    ),
    setting(
        "otel.exporter.otlp.endpoint",
        Kind::HttpUrl,
        None,
        "OTLP/HTTP base address of an OpenTelemetry Collector, Jaeger or any OTLP receiver (http://collector:4318); spans go to <endpoint>/v1/traces and DSP, signaling and state machine steps carry the W3C trace context. Default: no traces (OTEL_EXPORTER_OTLP_ENDPOINT).",
    ),
    setting("otel.service.name", Kind::Text, None, "service.name of the exported spans. Default: edc.participant.id."),
    setting(
        "otel.traces.sampler.arg",
        Kind::Text,
        Some("1"),
        "Share of new traces exported, from 0 to 1 (parent-based: a trace a peer started keeps the peer's decision).",
    ),
    setting("dsc.log.format", Kind::OneOf(&["text", "json"]), Some("text"), "Log format."),
    setting("dsc.log.level", Kind::Text, Some("info"), "Log filter (tracing EnvFilter syntax); RUST_LOG overrides it."),
];
