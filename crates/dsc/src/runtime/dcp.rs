// SPDX-License-Identifier: Apache-2.0
//! The Decentralized Claims Protocol wiring: the holder (token service and credential service) and the verifier
//! built from the participant's key and the `dsc.iam.dcp.*` settings, and the adapters the other planes see them
//! through.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dsc_config::ConnectorConfig;
use dsc_controlplane::transfer::CurrentClaims;
use dsc_dcp::SigningKey;
use dsc_dcp::access::AccessTokenBuilder;
use dsc_dcp::credential::CredentialVerifier;
use dsc_dcp::presentation::PresentationVerifier;
use dsc_dcp::status::StatusListCache;
use dsc_dcp::token::{InMemoryJtiCache, TokenBuilder, TokenVerifier};
use dsc_dcp_service::authenticate::TokenAuthenticator;
use dsc_dcp_service::bdrs::{BdrsClient, BdrsError, BdrsSettings};
use dsc_dcp_service::holder::RequestScopes;
use dsc_dcp_service::sts::{EmbeddedSts, RemoteSts, TokenSource};
use dsc_dcp_service::verifier::HttpStatusLists;
use dsc_dcp_service::{
    DcpConfig, DcpRequestSigner, Holder, HolderSettings, PolicyCredentialTypes, Verifier, VerifierSettings,
};
use dsc_domain::clock::{Clock, SystemClock};
use dsc_domain::{ParticipantAgent, QuerySpec};
use dsc_identity::{DidResolver, IdentityError, SigningIdentity};
use dsc_store::SqlStore;
use dsc_vault::Vault;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::StartError;

/// The participant's DCP roles.
pub(super) struct Dcp {
    pub holder: Arc<Holder>,
    pub verifier: Arc<Verifier>,
    pub signer: Arc<DcpRequestSigner>,
    /// The BPN-DID directory, when configured.
    pub directory: Option<Arc<BdrsClient>>,
    /// The participant's DID document and credential service live in an external wallet: this connector serves
    /// neither its own DID document nor its embedded credential service.
    pub external_wallet: bool,
    pub store: Arc<SqlStore>,
    /// The `service` entries of the DID document.
    pub services: Vec<Value>,
    pub verification_endpoint: bool,
    /// The STS client id and the vault key of its secret, when the STS endpoint is served.
    pub sts_client: Option<(String, String)>,
}

#[allow(clippy::too_many_arguments)]
pub(super) fn build(
    config: &ConnectorConfig,
    dcp: &DcpConfig,
    identity: &SigningIdentity,
    pem: &str,
    resolver: Arc<dyn DidResolver>,
    store: Arc<SqlStore>,
    vault: Arc<dyn Vault>,
    http: &reqwest::Client,
) -> Result<Dcp, StartError> {
    let did = identity.did();
    let key = SigningKey::es256_from_pem(did, identity.key_id(), pem.as_bytes())
        .map_err(|e| StartError::Identity(IdentityError::Key(e.to_string())))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let services = vec![
        json!({"id": format!("{did}#credential-service"), "type": "CredentialService",
               "serviceEndpoint": dcp.credential_service_url}),
        json!({"id": format!("{did}#dsp"), "type": "DataService",
               "serviceEndpoint": format!("{}/.well-known/dspace-version", config.protocol_address)}),
    ];
    let holder = Arc::new(Holder::new(
        HolderSettings {
            key: key.clone(),
            own_document: identity.did_document_with_services(&services),
            strict_relationships: dcp.strict_relationships,
            accepted_issuers: dcp.trusted_issuers.iter().map(|(did, _)| did.clone()).collect(),
        },
        store.clone(),
        resolver.clone(),
        clock.clone(),
    ));
    let strict = dcp.strict_relationships;
    let tokens =
        TokenVerifier::new(did, clock.clone(), Arc::new(InMemoryJtiCache::default())).with_relationship_check(strict);
    let credentials = CredentialVerifier::new(dcp.trusted_issuers(), clock.clone()).with_relationship_check(strict);
    let presentations = PresentationVerifier::new(did, credentials, clock.clone()).with_relationship_check(strict);
    let timeout = Duration::from_millis(dcp.query_timeout_millis);
    let status = Arc::new(StatusListCache::new(
        Arc::new(HttpStatusLists { http: http.clone(), timeout }),
        clock.clone(),
        Duration::from_millis(dcp.status_list_cache_millis),
    ));
    let token_source: Arc<dyn TokenSource> = match &dcp.remote_sts {
        Some(remote) => Arc::new(RemoteSts {
            http: http.clone(),
            token_url: remote.token_url.clone(),
            client_id: remote.client_id.clone(),
            vault,
            secret_alias: remote.secret_alias.clone(),
            timeout,
        }),
        None => Arc::new(EmbeddedSts {
            tokens: TokenBuilder::new(key.clone(), clock.clone()),
            access: AccessTokenBuilder::new(key, clock.clone()),
        }),
    };
    let directory = dcp.bdrs.as_ref().map(|bdrs| {
        Arc::new(BdrsClient::new(
            BdrsSettings {
                server: bdrs.server_url.clone(),
                validity: Duration::from_secs(bdrs.cache_seconds),
                timeout,
                own_did: did.to_string(),
                scope_alias: dcp.scope_alias,
            },
            http.clone(),
            token_source.clone(),
            resolver.clone(),
        ))
    });
    let signer = Arc::new(DcpRequestSigner {
        tokens: token_source.clone(),
        scopes: RequestScopes { alias: dcp.scope_alias, default_credentials: dcp.default_credentials.clone() },
        directory: directory.clone(),
    });
    let verifier = Arc::new(Verifier::new(
        tokens,
        token_source,
        presentations,
        status,
        resolver,
        http.clone(),
        VerifierSettings {
            scope_alias: dcp.scope_alias,
            default_credentials: dcp.default_credentials.iter().cloned().collect(),
            presentation_cache_seconds: dcp.presentation_cache_seconds as i64,
            query_timeout: timeout,
        },
        Arc::new(OfferedPolicies::new(store.clone())),
        clock,
        did,
    ));
    if dcp.trusted_issuers.is_empty() {
        tracing::warn!(
            "DCP is on but dsc.iam.dcp.trusted.issuers names no issuer: every protocol request will be refused"
        );
    }
    if let Some(remote) = &dcp.remote_sts {
        tracing::info!(sts = %remote.token_url, "self-issued tokens come from an external wallet's STS");
    }
    Ok(Dcp {
        holder,
        verifier,
        signer,
        directory,
        external_wallet: dcp.remote_sts.is_some(),
        store,
        services,
        verification_endpoint: dcp.verification_endpoint,
        sts_client: dcp.sts_client.clone(),
    })
}

/// The credential types of every policy definition, re-read at most every few seconds: the policies in play for a
/// request are among them, and a verifier must not ask for more.
struct OfferedPolicies {
    store: Arc<SqlStore>,
    cached: Mutex<Option<(Instant, BTreeSet<String>)>>,
}

impl OfferedPolicies {
    const FRESH: Duration = Duration::from_secs(5);

    fn new(store: Arc<SqlStore>) -> Self {
        OfferedPolicies { store, cached: Mutex::new(None) }
    }
}

#[async_trait]
impl PolicyCredentialTypes for OfferedPolicies {
    async fn credential_types(&self) -> BTreeSet<String> {
        let mut cached = self.cached.lock().await;
        if let Some((read, types)) = cached.as_ref()
            && read.elapsed() < Self::FRESH
        {
            return types.clone();
        }
        let mut types = BTreeSet::new();
        let mut offset = 0;
        loop {
            let page = QuerySpec { offset, limit: 500, ..QuerySpec::default() };
            let definitions: Result<Vec<dsc_domain::PolicyDefinition>, _> =
                dsc_store::Repository::query(self.store.as_ref(), &page).await;
            let definitions = match definitions {
                Ok(definitions) => definitions,
                Err(error) => {
                    tracing::warn!("cannot read policy definitions for DCP scopes: {error}");
                    break;
                }
            };
            for definition in &definitions {
                types.extend(dsc_policy::credentials::required_credential_types(&definition.policy));
            }
            if definitions.len() < 500 {
                break;
            }
            offset += 500;
        }
        *cached = Some((Instant::now(), types.clone()));
        types
    }
}

/// The policy monitor's view of a consumer's credentials as they stand now.
pub(super) struct VerifiedCredentials(pub Arc<Verifier>);

#[async_trait]
impl CurrentClaims for VerifiedCredentials {
    async fn current(&self, participant_id: &str) -> Result<Option<(ParticipantAgent, Vec<String>)>, String> {
        self.0.recheck(participant_id).await
    }
}

/// A standalone data plane's check of refresh clients under DCP: a self-issued token addressed to this participant,
/// signed by a key of the DID it names. It has no holder to ask credential services with, and a refresh client's
/// token need not carry an access token.
pub(super) fn refresh_clients(own_did: &str, resolver: Arc<dyn DidResolver>) -> TokenAuthenticator {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let tokens =
        TokenVerifier::new(own_did, clock, Arc::new(InMemoryJtiCache::default())).requiring_access_token(false);
    TokenAuthenticator::new(tokens, resolver)
}

/// The BPN-DID directory as the control plane sees it: a negotiation named by BPN is kept under the DID.
pub(super) struct BpnDirectory(pub Arc<BdrsClient>);

#[async_trait]
impl dsc_controlplane::protocol::ParticipantDirectory for BpnDirectory {
    async fn protocol_id(&self, participant: &str) -> Result<String, dsc_controlplane::protocol::DirectoryError> {
        use dsc_controlplane::protocol::DirectoryError;
        self.0.did_of(participant).await.map_err(|error| match error {
            BdrsError::Unknown(why) => DirectoryError::Unknown(why),
            BdrsError::Unavailable(why) => DirectoryError::Unavailable(why),
        })
    }
}
