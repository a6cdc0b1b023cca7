// SPDX-License-Identifier: Apache-2.0
//! The Decentralized Claims Protocol's settings, registered next to the connector's core ones by the binary.
//! DCP is how a connector proves who it is unless a trust list (`dsc.iam.trust.file`) or EDC's mock identity
//! (`dsc.iam.mock.enabled`) is configured explicitly.

use dsc_config::settings::{Kind, Setting, setting};
use dsc_config::{ConfigError, ConnectorConfig, RawConfig, Section};
use dsc_dcp::credential::TrustedIssuers;
use dsc_dcp::scope::ScopeAlias;

/// Where the credential service is mounted on the protocol port.
pub const CREDENTIAL_SERVICE_PATH: &str = "/dcp/v1";

#[derive(Debug, Clone)]
pub struct DcpConfig {
    /// `(issuer DID, types)`; no types means every type.
    pub trusted_issuers: Vec<(String, Vec<String>)>,
    /// Credential types every protocol request must present (short names).
    pub default_credentials: Vec<String>,
    pub scope_alias: ScopeAlias,
    /// The base URL of this connector's credential service, as its DID document publishes it.
    pub credential_service_url: String,
    pub presentation_cache_seconds: u64,
    pub status_list_cache_millis: u64,
    pub query_timeout_millis: u64,
    /// Whether keys must be listed under the verification relationships DCP names.
    pub strict_relationships: bool,
    /// Whether `POST <credential service>/verification` runs the verifier on request (diagnostics, DCP TCK).
    pub verification_endpoint: bool,
    /// The secure token service's client (id, vault key of its secret), when the STS endpoint is enabled.
    pub sts_client: Option<(String, String)>,
    /// An external wallet's secure token service, used instead of the embedded one.
    pub remote_sts: Option<RemoteStsConfig>,
    /// The BPN-DID directory (BDRS), for counter-parties named by BPN.
    pub bdrs: Option<BdrsConfig>,
}

/// `edc.iam.sts.oauth.*`: the external STS and this connector's client there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteStsConfig {
    pub token_url: String,
    pub client_id: String,
    pub secret_alias: String,
}

/// `tx.edc.iam.iatp.bdrs.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BdrsConfig {
    pub server_url: String,
    pub cache_seconds: u64,
}

impl DcpConfig {
    /// The DCP settings when DCP authenticates protocol requests: always, unless a trust list
    /// (`dsc.iam.trust.file`) or EDC's mock identity (`dsc.iam.mock.enabled`) is configured.
    pub fn active(core: &ConnectorConfig) -> Option<&DcpConfig> {
        if core.mock_identity || core.trust_file.is_some() {
            return None;
        }
        core.section::<DcpConfig>()
    }

    pub fn trusted_issuers(&self) -> TrustedIssuers {
        self.trusted_issuers.iter().fold(TrustedIssuers::default(), |trusted, (did, types)| {
            if types.is_empty() {
                trusted.trust_all_types(did)
            } else {
                trusted.trust(did, types.iter().map(String::as_str))
            }
        })
    }
}

fn invalid(raw: &RawConfig, key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid { key: key.into(), value: value.into(), origin: raw.source(key), expected: expected.into() }
}

/// `did:web:a=MembershipCredential|BpnCredential, did:web:b` → issuers with their types (none: every type).
pub fn parse_trusted_issuers(text: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut issuers = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (did, types) = match entry.split_once('=') {
            Some((did, types)) => {
                let types: Vec<String> =
                    types.split('|').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
                if types.is_empty() {
                    return Err(format!("'{entry}' names no credential type after '='"));
                }
                (did.trim(), types)
            }
            None => (entry, Vec::new()),
        };
        if !did.starts_with("did:") {
            return Err(format!("'{did}' is not a DID"));
        }
        issuers.push((did.to_string(), types));
    }
    Ok(issuers)
}

/// The origin of a URL (`http://host:port`), or the URL itself when it has no path.
fn origin(url: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[scheme_end..].find('/') {
        Some(path) => url[..scheme_end + path].to_string(),
        None => url.to_string(),
    }
}

impl Section for DcpConfig {
    const SETTINGS: &'static [Setting] = SETTINGS;

    /// Always read, so that a bad value is reported even while a trust list is in use; [`DcpConfig::active`]
    /// says whether DCP authenticates requests.
    fn read(raw: &RawConfig, core: &ConnectorConfig) -> Result<Option<Self>, ConfigError> {
        const ISSUERS: &str = "dsc.iam.dcp.trusted.issuers";
        let trusted_issuers = match raw.get(ISSUERS) {
            Some(text) => parse_trusted_issuers(text).map_err(|why| {
                invalid(
                    raw,
                    ISSUERS,
                    text,
                    &format!("issuer DIDs, each optionally =Type|Type, separated by commas ({why})"),
                )
            })?,
            None => Vec::new(),
        };
        const DEFAULTS: &str = "dsc.iam.dcp.default.credentials";
        let defaults = raw.get(DEFAULTS).unwrap_or(DEFAULT_CREDENTIALS);
        let default_credentials: Vec<String> =
            defaults.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_string).collect();
        if default_credentials.iter().any(|t| !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            return Err(invalid(raw, DEFAULTS, defaults, "credential type names separated by commas"));
        }
        const ALIAS: &str = "dsc.iam.dcp.scope.alias";
        let alias_text = raw.get(ALIAS).unwrap_or(ScopeAlias::TractusX.as_str());
        let scope_alias =
            ScopeAlias::parse(alias_text).ok_or_else(|| invalid(raw, ALIAS, alias_text, "a known scope alias"))?;
        let credential_service_url = match raw.get("dsc.iam.dcp.credential.service.url") {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("{}{CREDENTIAL_SERVICE_PATH}", origin(&core.protocol_address)),
        };
        Ok(Some(DcpConfig {
            trusted_issuers,
            default_credentials,
            scope_alias,
            credential_service_url,
            presentation_cache_seconds: raw.number("dsc.iam.dcp.presentation.cache.seconds")?,
            status_list_cache_millis: raw.number("edc.iam.credential.revocation.cache.validity")?,
            query_timeout_millis: raw.number("dsc.iam.dcp.query.timeout.ms")?,
            strict_relationships: raw.get("dsc.iam.dcp.relationships.strict") == Some("true"),
            verification_endpoint: raw.get("dsc.iam.dcp.verification.endpoint.enabled") == Some("true"),
            sts_client: raw.get("dsc.iam.sts.client.secret.alias").map(|alias| {
                let id = raw.get("dsc.iam.sts.client.id").unwrap_or(&core.participant_id).to_string();
                (id, alias.to_string())
            }),
            remote_sts: remote_sts(raw)?,
            bdrs: raw
                .get("tx.edc.iam.iatp.bdrs.server.url")
                .map(|url| -> Result<BdrsConfig, ConfigError> {
                    Ok(BdrsConfig {
                        server_url: url.trim_end_matches('/').to_string(),
                        cache_seconds: raw.number("tx.edc.iam.iatp.bdrs.cache.validity")?,
                    })
                })
                .transpose()?,
        }))
    }
}

fn remote_sts(raw: &RawConfig) -> Result<Option<RemoteStsConfig>, ConfigError> {
    let Some(token_url) = raw.get("edc.iam.sts.oauth.token.url") else { return Ok(None) };
    let hint = "an external STS is used with OAuth client credentials: name the client and the vault key of its secret";
    Ok(Some(RemoteStsConfig {
        token_url: token_url.to_string(),
        client_id: raw.required("edc.iam.sts.oauth.client.id", hint)?.to_string(),
        secret_alias: raw.required("edc.iam.sts.oauth.client.secret.alias", hint)?.to_string(),
    }))
}

/// CX-0018 §2.3: on DSP 2025-1 every request covers the membership, BPN and framework agreement credentials.
const DEFAULT_CREDENTIALS: &str = "MembershipCredential,BpnCredential,DataExchangeGovernanceCredential";

const SETTINGS: &[Setting] = &[
    setting(
        "dsc.iam.dcp.trusted.issuers",
        Kind::Text,
        None,
        "Issuers whose credentials this connector accepts (DCP), separated by commas: a DID, optionally followed by =Type|Type to trust it for these credential types only (EDC's edc.iam.trusted-issuer.<alias>.id and .supportedtypes). Without any, every protocol request is refused.",
    ),
    setting(
        "dsc.iam.dcp.default.credentials",
        Kind::Text,
        Some(DEFAULT_CREDENTIALS),
        "Credential types every protocol request must present, in both directions (Tractus-X's default scopes); the policies in play add theirs.",
    ),
    setting(
        "dsc.iam.dcp.scope.alias",
        Kind::OneOf(&["org.eclipse.tractusx.vc.type", "org.eclipse.dspace.dcp.vc.type", "org.eclipse.edc.vc.type"]),
        Some("org.eclipse.tractusx.vc.type"),
        "The scope form credentials are asked for with: <alias>:<CredentialType>:read.",
    ),
    setting(
        "dsc.iam.dcp.credential.service.url",
        Kind::HttpUrl,
        None,
        "The credential service's base URL as the DID document publishes it. Default: the origin of edc.dsp.callback.address followed by /dcp/v1.",
    ),
    setting(
        "dsc.iam.dcp.presentation.cache.seconds",
        Kind::Number { min: 0, max: 86_400 },
        Some("300"),
        "How long verified credentials of a participant are reused without asking its credential service again (never beyond their expiry; revocation is re-checked on every use).",
    ),
    setting(
        "edc.iam.credential.revocation.cache.validity",
        Kind::Number { min: 0, max: 86_400_000 },
        Some("900000"),
        "How long a fetched status list is reused, in milliseconds: the longest a revocation can go unnoticed.",
    ),
    setting(
        "dsc.iam.dcp.query.timeout.ms",
        Kind::Number { min: 100, max: 120_000 },
        Some("5000"),
        "Bound on a presentation query to another participant's credential service, in milliseconds.",
    ),
    setting(
        "dsc.iam.dcp.relationships.strict",
        Kind::OneOf(&["true", "false"]),
        Some("false"),
        "Require keys to be listed under the DID verification relationships DCP names (capabilityInvocation for tokens, authentication for presentations, assertionMethod for issuers). Off by default: many deployed wallets list none.",
    ),
    setting(
        "dsc.iam.dcp.verification.endpoint.enabled",
        Kind::OneOf(&["true", "false"]),
        Some("false"),
        "Serve POST <credential service>/verification, which runs the verifier on the caller's self-issued token alone and answers 200 or 401 with the reason: for diagnostics and the DCP TCK's trigger.",
    ),
    setting(
        "dsc.iam.sts.client.secret.alias",
        Kind::Text,
        None,
        "Vault key of the secure token service's client secret. Setting it serves POST <management>/sts/token (client credentials, audience, bearer_access_scope), the DCP STS API that an EDC control plane with a remote STS or the DCP TCK calls.",
    ),
    setting(
        "dsc.iam.sts.client.id",
        Kind::Text,
        None,
        "The secure token service's client id. Default: edc.participant.id.",
    ),
    setting(
        "edc.iam.sts.oauth.token.url",
        Kind::HttpUrl,
        None,
        "The token endpoint of an external wallet's secure token service (an Identity Hub's /token, say). Setting it makes this connector take its self-issued tokens from there with OAuth client credentials instead of signing them itself; its DID document and credential service are then the wallet's.",
    ),
    setting("edc.iam.sts.oauth.client.id", Kind::Text, None, "This connector's client id at the external STS."),
    setting(
        "edc.iam.sts.oauth.client.secret.alias",
        Kind::Text,
        None,
        "Vault key of this connector's client secret at the external STS (read at each use).",
    ),
    setting(
        "tx.edc.iam.iatp.bdrs.server.url",
        Kind::HttpUrl,
        None,
        "Base URL of the Catena-X BPN-DID resolution service's directory API (without /bpn-directory). Setting it lets Management API calls name a counter-party by BPN.",
    ),
    setting(
        "tx.edc.iam.iatp.bdrs.cache.validity",
        Kind::Number { min: 1, max: 86_400 },
        Some("600"),
        "How long the downloaded BPN-DID directory is used before it is fetched again, in seconds.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_issuers_read_with_or_without_types() {
        let issuers = parse_trusted_issuers("did:web:a=MembershipCredential|BpnCredential, did:web:b%3A8080").unwrap();
        assert_eq!(
            issuers,
            vec![
                ("did:web:a".to_string(), vec!["MembershipCredential".to_string(), "BpnCredential".to_string()]),
                ("did:web:b%3A8080".to_string(), vec![]),
            ]
        );
        assert_eq!(parse_trusted_issuers("issuer.example").unwrap_err(), "'issuer.example' is not a DID");
        assert_eq!(parse_trusted_issuers("did:web:a=").unwrap_err(), "'did:web:a=' names no credential type after '='");
    }

    #[test]
    fn the_credential_service_lives_at_the_protocol_origin() {
        assert_eq!(origin("http://localhost:19192/api/dsp"), "http://localhost:19192");
        assert_eq!(origin("https://edc.example"), "https://edc.example");
    }
}
