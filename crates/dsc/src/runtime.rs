// SPDX-License-Identifier: Apache-2.0
//! Start-up and shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use axum::Router;
use dsc_config::{ApiKeySource, ConnectorConfig, VaultKeySource};
use dsc_controlplane::callbacks::{CallbackDispatcher, CallbackSender};
use dsc_controlplane::catalog::{CatalogService, StaticTransferTypes};
use dsc_controlplane::negotiation::{NegotiationManager, NegotiationService, NegotiationSettings};
use dsc_controlplane::{EntityService, NoReferences, ReferencedBy};
use dsc_dsp::DspState;
use dsc_dsp::client::DspClient;
use dsc_identity::{HttpDidResolver, SigningIdentity, TokenVerifier, TrustList};
use dsc_jsonld::JsonLd;
use dsc_management_api::ManagementState;
use dsc_policy::PolicyEngine;
use dsc_store::{HealthCheck, SqlStore, StoreSettings, sql::redact_url};
use dsc_vault::{EncryptedFileVault, Vault, VaultKey};
use dsc_web::health::{Health, HealthProbe};
use dsc_web::{ApiKey, ContextRouter};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("participant identity: {0}")]
    Identity(#[from] dsc_identity::IdentityError),
    #[error("vault: {0}")]
    Vault(#[from] dsc_vault::VaultError),
    #[error("Management API key: vault secret '{0}' (edc.api.auth.key.alias) does not exist")]
    MissingApiKey(String),
    #[error("cannot use database {url}: {reason}")]
    Database { url: String, reason: String },
    #[error("JSON-LD: {0}")]
    JsonLd(#[from] dsc_jsonld::JsonLdError),
    #[error("{0}")]
    Listen(std::io::Error),
}

/// A started connector: listeners bound, ready to serve.
pub struct Connector {
    bound: dsc_web::Bound,
    store: SqlStore,
    negotiation_manager: Arc<NegotiationManager>,
    callback_dispatcher: Arc<CallbackDispatcher>,
    pub addresses: Vec<(Vec<&'static str>, SocketAddr)>,
}

/// Delivers callback events over HTTP.
struct HttpCallbackSender(reqwest::Client);

#[async_trait]
impl CallbackSender for HttpCallbackSender {
    async fn post(&self, uri: &str, headers: &[(String, String)], body: &str) -> Result<(), String> {
        let mut request = self.0.post(uri).body(body.to_string());
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        if response.status().is_success() { Ok(()) } else { Err(format!("HTTP {}", response.status().as_u16())) }
    }
}

struct DatabaseProbe(SqlStore);

#[async_trait]
impl HealthProbe for DatabaseProbe {
    fn component(&self) -> &str {
        "database"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

struct VaultProbe(Arc<dyn Vault>);

#[async_trait]
impl HealthProbe for VaultProbe {
    fn component(&self) -> &str {
        "vault"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.keys().await.map(|_| ()).map_err(|e| e.to_string())
    }
}

async fn open_vault(config: &ConnectorConfig) -> Result<Arc<dyn Vault>, StartError> {
    let key = match &config.vault_key {
        VaultKeySource::Value(text) => VaultKey::from_base64(text)?,
        VaultKeySource::File { path, create } => {
            let existed = path.exists();
            let key = VaultKey::from_file(path, *create)?;
            if !existed {
                tracing::warn!(
                    path = %path.display(),
                    "generated a new vault key; in production keep the key apart from the vault (dsc.vault.key.file or DSC_VAULT_KEY)"
                );
            }
            key
        }
    };
    Ok(Arc::new(EncryptedFileVault::open(&config.vault_file, key).await?))
}

/// The participant's signing identity, when `edc.participant.id` is a did:web DID. The private key lives in the
/// vault; a missing key is generated once and stored there.
async fn participant_identity(
    config: &ConnectorConfig,
    vault: &Arc<dyn Vault>,
) -> Result<Option<Arc<SigningIdentity>>, StartError> {
    if !config.participant_id.starts_with("did:web:") {
        tracing::warn!(
            participant = %config.participant_id,
            "edc.participant.id is not a did:web DID: the Dataspace Protocol API refuses every request and no requests to other connectors can be signed"
        );
        return Ok(None);
    }
    let alias = &config.participant_key_alias;
    let identity = match vault.resolve(alias).await? {
        Some(pem) => SigningIdentity::from_pem(&config.participant_id, pem.expose())?,
        None => {
            let (identity, pem) = SigningIdentity::generate(&config.participant_id)?;
            vault.store(alias, dsc_vault::SecretString::new(pem)).await?;
            tracing::info!(vault_key = %alias, "generated the participant's signing key");
            identity
        }
    };
    Ok(Some(Arc::new(identity)))
}

/// The path under which the DID document must be served for `did` (the host part is ours by configuration).
fn did_document_path(did: &str) -> Option<String> {
    let url = dsc_identity::did_document_url(did, false).ok()?;
    reqwest::Url::parse(&url).ok().map(|u| u.path().to_string())
}

impl Connector {
    pub async fn start(config: &ConnectorConfig) -> Result<Self, StartError> {
        // Idempotent; the binary installs it first thing, embedders (tests) may not have.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let vault = open_vault(config).await?;
        let api_key = match &config.api_key {
            ApiKeySource::Value(key) => ApiKey::new(key.clone()),
            ApiKeySource::VaultAlias(alias) => match vault.resolve(alias).await? {
                Some(secret) => ApiKey::new(secret.expose()),
                None => return Err(StartError::MissingApiKey(alias.clone())),
            },
        };
        let mut settings = StoreSettings::new(config.database_url.clone());
        settings.max_connections = config.database_max_connections;
        let store = SqlStore::connect(&settings)
            .await
            .map_err(|e| StartError::Database { url: redact_url(&config.database_url), reason: e.to_string() })?;
        let shared = Arc::new(store.clone());
        let identity = participant_identity(config, &vault).await?;
        let trust = match &config.trust_file {
            Some(path) => TrustList::from_file(path)?,
            None => TrustList::default(),
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| StartError::Identity(dsc_identity::IdentityError::Key(e.to_string())))?;
        let verifier = identity.as_ref().map(|identity| {
            let resolver =
                HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300));
            Arc::new(TokenVerifier::new(identity.did(), Arc::new(resolver), Arc::new(trust.clone())))
        });
        let jsonld = Arc::new(JsonLd::new()?);
        let catalog = Arc::new(CatalogService::new(
            config.participant_id.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            Arc::new(PolicyEngine::with_defaults()),
            Arc::new(StaticTransferTypes),
        ));
        let versioned_address = format!("{}{}", config.protocol_address, dsc_dsp::VERSION_PATH);
        let message_context = Arc::new(dsc_dsp::message_context()?);
        let engine = Arc::new(PolicyEngine::with_defaults());
        let client = Arc::new(DspClient::new(http.clone(), identity.clone(), jsonld.clone(), message_context.clone()));
        let wake = Arc::new(tokio::sync::Notify::new());
        let settings = NegotiationSettings::new(config.participant_id.clone(), versioned_address.clone());
        let negotiations = Arc::new(NegotiationService::new(
            settings.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            engine.clone(),
            wake.clone(),
        ));
        let callback_dispatcher = Arc::new(CallbackDispatcher::new(
            shared.clone(),
            Arc::new(HttpCallbackSender(http.clone())),
            vault.clone(),
            settings.holder.clone(),
        ));
        let negotiation_manager = Arc::new(NegotiationManager::new(settings, shared.clone(), client.clone(), wake));
        let dsp_state = DspState {
            jsonld: jsonld.clone(),
            message_context,
            catalog,
            negotiations: negotiations.clone(),
            protocol_address: versioned_address,
        };
        let well_known = dsc_dsp::well_known_router(
            identity
                .as_ref()
                .and_then(|identity| did_document_path(identity.did()).map(|path| (path, identity.did_document()))),
        );

        let state = ManagementState {
            jsonld,
            response_context: Arc::new(dsc_management_api::response_context()?),
            assets: Arc::new(EntityService::new(
                shared.clone(),
                Arc::new(ReferencedBy::SelectorsNamingAsset(shared.clone())),
            )),
            policy_definitions: Arc::new(EntityService::new(
                shared.clone(),
                Arc::new(ReferencedBy::DefinitionsUsingPolicy(shared.clone())),
            )),
            contract_definitions: Arc::new(EntityService::new(shared.clone(), Arc::new(NoReferences))),
            vault: vault.clone(),
            protocol: client.clone(),
            negotiations,
        };
        let health = Health::new(vec![Arc::new(DatabaseProbe(store.clone())), Arc::new(VaultProbe(vault))]);
        let context = |c: &dsc_config::WebContext, router: Router| ContextRouter {
            name: c.name,
            port: c.port,
            path: c.path.clone(),
            router,
        };
        let contexts = vec![
            context(&config.default_context, dsc_web::health::router(health)),
            context(&config.management_context, dsc_management_api::router(state, api_key, config.body_limit)),
            context(&config.protocol_context, dsc_dsp::protocol_router(dsp_state, verifier)),
            // The root of the protocol port: `/.well-known/dspace-version` and the DID document.
            ContextRouter {
                name: "well-known",
                port: config.protocol_context.port,
                path: String::new(),
                router: well_known,
            },
            // Data Plane Signaling mounts here with the data plane work.
            context(&config.control_context, Router::new()),
        ];
        let bound = dsc_web::bind(&config.bind_address, contexts).await.map_err(StartError::Listen)?;
        let addresses = bound.addresses();
        Ok(Connector { bound, store, negotiation_manager, callback_dispatcher, addresses })
    }

    /// The local address of the named context.
    pub fn address_of(&self, context: &str) -> Option<SocketAddr> {
        self.addresses.iter().find(|(names, _)| names.contains(&context)).map(|(_, a)| *a)
    }

    /// Serves until `shutdown` resolves, then drains requests and closes the database pool.
    pub async fn run<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let manager = tokio::spawn(self.negotiation_manager.clone().run(stopped.clone()));
        let dispatcher = tokio::spawn(self.callback_dispatcher.clone().run(stopped));
        let result = self.bound.run(shutdown).await;
        let _ = stop.send(true);
        let _ = manager.await;
        let _ = dispatcher.await;
        self.store.close().await;
        result
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

/// Logs readiness with the time since `process_start`.
pub fn log_ready(connector: &Connector, config: &ConnectorConfig, process_start: Instant) {
    for (names, address) in &connector.addresses {
        let paths: Vec<String> = config
            .contexts()
            .iter()
            .filter(|c| names.contains(&c.name))
            .map(|c| format!("{} {}", c.name, if c.path.is_empty() { "/" } else { &c.path }))
            .collect();
        tracing::info!(%address, contexts = %paths.join(", "), "listening");
    }
    tracing::info!(
        participant = %config.participant_id,
        database = %redact_url(&config.database_url),
        elapsed_ms = process_start.elapsed().as_millis() as u64,
        "connector ready"
    );
}
