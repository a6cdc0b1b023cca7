// SPDX-License-Identifier: Apache-2.0
//! Start-up and shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use axum::Router;
use dsc_config::{ApiKeySource, ConnectorConfig, VaultKeySource};
use dsc_controlplane::callbacks::{CallbackDispatcher, CallbackSender};
use dsc_controlplane::catalog::{CatalogService, DataPlaneTransferTypes};
use dsc_controlplane::edr::{self, EdrService, EdrTransferStarter};
use dsc_controlplane::negotiation::{
    NegotiationManager, NegotiationProtocolService, NegotiationService, NegotiationSettings,
};
use dsc_controlplane::transfer::{
    DataFlowCallbackService, PolicyMonitor, TransferManager, TransferProtocolService, TransferService, TransferSettings,
};
use dsc_controlplane::{EntityService, NoReferences, ReferencedBy};
use dsc_dataplane::DataPlane;
use dsc_dsp::DspState;
use dsc_dsp::client::DspClient;
use dsc_dsp::edr_refresh::HttpEdrRefresher;
use dsc_identity::{HttpDidResolver, SigningIdentity, TokenVerifier, TrustList};
use dsc_jsonld::JsonLd;
use dsc_kafka_pull::KafkaPull;
use dsc_management_api::ManagementState;
use dsc_policy::PolicyEngine;
use dsc_signaling::{DataPlaneEntry, DataPlaneRegistry, HttpDataPlaneClient};
use dsc_store::{HealthCheck, SqlStore, sql::redact_url};
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
    #[error("OAuth server: {0}")]
    OAuth(String),
    #[error("transfer type registration: {0}")]
    Plugin(String),
    #[error("cannot register with the control plane at {control_plane}: {reason}")]
    Registration { control_plane: String, reason: String },
}

/// A started connector: listeners bound, ready to serve.
pub struct Connector {
    bound: dsc_web::Bound,
    store: SqlStore,
    negotiation_manager: Arc<NegotiationManager>,
    transfer_manager: Arc<TransferManager>,
    policy_monitor: Arc<PolicyMonitor>,
    callback_dispatcher: Arc<CallbackDispatcher>,
    kafka: Option<Arc<KafkaPull>>,
    /// The built-in OAuth server, its vault and the signing key's maximum age, for rotation.
    oauth_rotation: Option<crate::oauth::Rotation>,
    config: ConnectorConfig,
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

/// Authenticates refresh requests with the participant token verifier: the client's self-issued token names its
/// DID, which must be the DID the refresh token was issued to.
struct ParticipantClients(Option<Arc<dyn dsc_identity::ParticipantVerifier>>);

#[async_trait]
impl dsc_dataplane::ClientAuthenticator for ParticipantClients {
    async fn authenticate(&self, authorization: Option<&str>) -> Result<String, String> {
        let verifier = self.0.as_ref().ok_or("this connector has no participant identity to verify clients with")?;
        verifier.verify(authorization).await.map(|agent| agent.id).map_err(|e| e.to_string())
    }
}

/// The data plane's token signing secret, from the vault (generated once).
async fn token_secret(vault: &Arc<dyn Vault>) -> Result<String, StartError> {
    const KEY: &str = "dsc-dataplane-token-secret";
    if let Some(secret) = vault.resolve(KEY).await? {
        return Ok(secret.expose().to_string());
    }
    let secret = dsc_dataplane::tokens::new_secret();
    vault.store(KEY, dsc_vault::SecretString::new(secret.clone())).await?;
    Ok(secret)
}

/// The data plane with its persisted flows, token secret (from the vault) and transfer type handlers.
async fn build_data_plane(
    config: &ConnectorConfig,
    store: Arc<SqlStore>,
    vault: Arc<dyn Vault>,
    verifier: Option<Arc<dyn dsc_identity::ParticipantVerifier>>,
    http: reqwest::Client,
) -> Result<(Arc<DataPlane>, Option<Arc<KafkaPull>>), StartError> {
    let mut handlers: std::collections::HashMap<String, Arc<dyn dsc_dataplane::TransferTypeHandler>> =
        std::collections::HashMap::new();
    handlers.insert(
        dsc_dataplane::HTTP_PULL.to_string(),
        Arc::new(dsc_dataplane::HttpPull { public_url: config.public_address.clone() }),
    );
    let kafka = config
        .section::<dsc_kafka_pull::KafkaPullConfig>()
        .map(|kafka| crate::kafka::kafka_pull(kafka, store.clone(), vault.clone()));
    if let Some(kafka) = &kafka {
        handlers.insert(dsc_kafka_pull::KAFKA_PULL.to_string(), kafka.clone());
    }
    let tokens = dsc_dataplane::tokens::TokenIssuer::new(
        config.participant_id.clone(),
        token_secret(&vault).await?.as_bytes(),
        config.access_token_lifetime_seconds,
    );
    let plane = Arc::new(DataPlane {
        participant_id: config.participant_id.clone(),
        public_url: config.public_address.clone(),
        store,
        vault,
        tokens,
        handlers,
        clients: Arc::new(ParticipantClients(verifier)),
        http,
    });
    Ok((plane, kafka))
}

/// The reconciler's task, when Kafka PULL is enabled.
fn spawn_reconciler(
    config: &ConnectorConfig,
    kafka: Option<&Arc<KafkaPull>>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let (kafka, settings) = (kafka?, config.section::<dsc_kafka_pull::KafkaPullConfig>()?);
    let interval = std::time::Duration::from_secs(settings.reconcile_interval_seconds);
    Some(tokio::spawn(crate::kafka::run_reconciler(kafka.clone(), interval, stopped)))
}

/// The data plane's web contexts: Data Plane Signaling on the control context (behind the shared key, merged with
/// `control`, the control plane's side when there is one) and the public API.
fn data_plane_contexts(
    config: &ConnectorConfig,
    plane: Option<&Arc<DataPlane>>,
    control: Router,
    signaling_key: &str,
) -> Vec<ContextRouter> {
    let signaling = match plane {
        Some(plane) => dsc_dataplane::signaling::router(plane.clone()).merge(control),
        None => control,
    }
    .route_layer(axum::middleware::from_fn_with_state(
        ApiKey::new(signaling_key.to_string()),
        dsc_web::require_bearer_key,
    ));
    let mut contexts = vec![ContextRouter {
        name: "control",
        port: config.control_context.port,
        path: config.control_context.path.clone(),
        router: signaling,
    }];
    if let Some(plane) = plane {
        contexts.push(ContextRouter {
            name: "public",
            port: config.public_context.port,
            path: config.public_context.path.clone(),
            router: dsc_dataplane::public::router(plane.clone()),
        });
    }
    contexts
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
        let store = crate::plugins::open_store(&config.database_url, config.database_max_connections).await?;
        let shared = Arc::new(store.clone());
        let plugins = crate::plugins::plugins()?;
        let identity = participant_identity(config, &vault).await?;
        let trust = match &config.trust_file {
            Some(path) => TrustList::from_file(path)?,
            None => TrustList::default(),
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| StartError::Identity(dsc_identity::IdentityError::Key(e.to_string())))?;
        let verifier: Option<Arc<dyn dsc_identity::ParticipantVerifier>> = identity.as_ref().map(|identity| {
            let resolver =
                HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300));
            Arc::new(TokenVerifier::new(identity.did(), Arc::new(resolver), Arc::new(trust.clone())))
                as Arc<dyn dsc_identity::ParticipantVerifier>
        });
        let signer: Option<Arc<dyn dsc_identity::RequestSigner>> =
            identity.clone().map(|identity| identity as Arc<dyn dsc_identity::RequestSigner>);
        // EDC's unsigned mock identity replaces both directions, for interoperability tests only.
        let (verifier, signer) = if config.mock_identity {
            tracing::warn!(
                participant = %config.participant_id,
                "dsc.iam.mock.enabled: protocol requests are authenticated with EDC's UNSIGNED mock identity; never use this outside tests"
            );
            let mock =
                Arc::new(dsc_identity::MockIdentity::new(config.participant_id.clone(), Arc::new(trust.clone())));
            (
                Some(mock.clone() as Arc<dyn dsc_identity::ParticipantVerifier>),
                Some(mock as Arc<dyn dsc_identity::RequestSigner>),
            )
        } else {
            (verifier, signer)
        };
        let signaling_key = config.signaling_key.clone().unwrap_or_else(dsc_dataplane::tokens::new_secret);
        let registry = Arc::new(DataPlaneRegistry::default());
        if let Some((url, transfer_types)) = &config.remote_data_plane {
            registry.register(DataPlaneEntry {
                id: "remote".into(),
                endpoint: url.clone(),
                transfer_types: transfer_types.clone(),
                auth_key: signaling_key.clone(),
            });
        }
        let data_planes = Arc::new(HttpDataPlaneClient::new(http.clone(), registry.clone()));
        let jsonld = Arc::new(JsonLd::new()?);
        let catalog = Arc::new(CatalogService::new(
            config.participant_id.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            Arc::new(PolicyEngine::with_defaults()),
            Arc::new(DataPlaneTransferTypes::new(data_planes.clone(), plugins.transfer_types.clone())),
        ));
        let versioned_address = format!("{}{}", config.protocol_address, dsc_dsp::VERSION_PATH);
        let message_context = Arc::new(dsc_dsp::message_context()?);
        let engine = Arc::new(PolicyEngine::with_defaults());
        let client = Arc::new(DspClient::new(http.clone(), signer, jsonld.clone(), message_context.clone()));
        let wake = Arc::new(tokio::sync::Notify::new());
        let clock = dsc_domain::clock::system_clock();
        let mut settings = NegotiationSettings::new(config.participant_id.clone(), versioned_address.clone());
        settings.clock = clock.clone();
        settings.iteration_wait = std::time::Duration::from_millis(config.negotiation_iteration_wait_ms);
        for (role, from) in [
            (&mut settings.consumer, &config.negotiation_consumer),
            (&mut settings.provider, &config.negotiation_provider),
        ] {
            role.batch_size = from.batch_size;
            role.retry = dsc_controlplane::state_machine::RetryPolicy::new(from.retry_limit, from.retry_base_ms);
        }
        let negotiations =
            Arc::new(NegotiationService::new(settings.clone(), shared.clone(), wake.clone(), clock.clone()));
        let negotiation_protocol = Arc::new(NegotiationProtocolService::new(
            settings.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            engine.clone(),
            wake.clone(),
            clock.clone(),
        ));
        let holder = settings.holder.clone();
        let negotiation_manager = Arc::new(NegotiationManager::new(settings, shared.clone(), client.clone(), wake));

        // The embedded data plane, signaled over HTTP on the control context like a standalone one.
        let (data_plane, kafka) = if config.embedded_data_plane {
            let (plane, kafka) =
                build_data_plane(config, shared.clone(), vault.clone(), verifier.clone(), http.clone()).await?;
            (Some(plane), kafka)
        } else {
            (None, None)
        };
        let transfer_wake = Arc::new(tokio::sync::Notify::new());
        let mut transfer_settings =
            TransferSettings::new(config.participant_id.clone(), versioned_address.clone(), holder.clone());
        transfer_settings.clock = clock.clone();
        transfer_settings.max_attempts = config.transfer_retry_limit;
        transfer_settings.retry_base_ms = config.transfer_retry_base_ms;
        transfer_settings.batch_size = config.transfer_state_machine.batch_size;
        transfer_settings.iteration_wait =
            std::time::Duration::from_millis(config.transfer_state_machine.iteration_wait_ms);
        transfer_settings.transfer_types = plugins.transfer_types.clone();
        let transfers = Arc::new(TransferService::new(
            transfer_settings.clone(),
            shared.clone(),
            shared.clone(),
            vault.clone(),
            transfer_wake.clone(),
            clock.clone(),
        ));
        let transfer_protocol = Arc::new(TransferProtocolService::new(
            transfer_settings.clone(),
            shared.clone(),
            shared.clone(),
            shared.clone(),
            data_planes.clone(),
            vault.clone(),
            engine.clone(),
            transfer_wake.clone(),
            clock.clone(),
        ));
        let edr_starter = EdrTransferStarter::new(negotiations.clone(), transfers.clone(), dsc_dataplane::HTTP_PULL);
        let callback_dispatcher = Arc::new(
            CallbackDispatcher::new(
                shared.clone(),
                Arc::new(HttpCallbackSender(http.clone())),
                vault.clone(),
                holder.clone(),
            )
            .with_listener(edr::EDR_CALLBACK, Arc::new(edr_starter)),
        );
        let transfers_for_control = Arc::new(DataFlowCallbackService::new(
            transfer_settings.clone(),
            shared.clone(),
            vault.clone(),
            transfer_wake.clone(),
            clock.clone(),
        ));
        let transfer_manager = Arc::new(TransferManager::new(
            transfer_settings.clone(),
            shared.clone(),
            shared.clone(),
            client.clone(),
            data_planes,
            vault.clone(),
            transfer_wake.clone(),
        ));
        let policy_monitor = Arc::new(PolicyMonitor::new(
            transfer_settings,
            shared.clone(),
            shared.clone(),
            engine.clone(),
            transfer_wake,
        ));
        let dsp_state = DspState {
            jsonld: jsonld.clone(),
            message_context,
            catalog,
            negotiations: negotiation_protocol,
            transfers: transfer_protocol,
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
            address_validators: plugins.address_validators.clone(),
            vault: vault.clone(),
            protocol: client.clone(),
            negotiations,
            transfers,
            edrs: Arc::new(EdrService::new(
                shared.clone(),
                vault.clone(),
                Arc::new(HttpEdrRefresher { http: http.clone(), identity: identity.clone(), clock: clock.clone() }),
                holder.clone(),
            )),
        };
        let vault_for_oauth = vault.clone();
        let health = Health::new(vec![Arc::new(DatabaseProbe(store.clone())), Arc::new(VaultProbe(vault))]);
        let context = |c: &dsc_config::WebContext, router: Router| ContextRouter {
            name: c.name,
            port: c.port,
            path: c.path.clone(),
            router,
        };
        let mut contexts = vec![
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
        ];
        let mut oauth_rotation = None;
        if let Some(settings) = &config.oauth_server {
            let server = crate::oauth::oauth_server(settings, shared.clone(), &vault_for_oauth).await?;
            oauth_rotation = Some((server.clone(), vault_for_oauth.clone(), settings.key_rotation_seconds));
            contexts.push(ContextRouter {
                name: "oauth",
                port: settings.context.port,
                path: settings.context.path.clone(),
                router: dsc_oauth_server::router(server),
            });
        }
        let control_api = dsc_control_api::router(transfers_for_control, registry.clone(), &signaling_key);
        contexts.extend(data_plane_contexts(config, data_plane.as_ref(), control_api, &signaling_key));
        let bound = dsc_web::bind(&config.bind_address, contexts).await.map_err(StartError::Listen)?;
        let addresses = bound.addresses();
        // The embedded data plane registers with the address its control context was actually bound to.
        if let Some(plane) = &data_plane
            && let Some((_, address)) = addresses.iter().find(|(names, _)| names.contains(&"control"))
        {
            registry.register(DataPlaneEntry {
                id: "embedded".into(),
                endpoint: format!("http://127.0.0.1:{}{}", address.port(), config.control_context.path),
                transfer_types: plane.profiles(),
                auth_key: signaling_key,
            });
        }
        Ok(Connector {
            bound,
            store,
            negotiation_manager,
            transfer_manager,
            policy_monitor,
            callback_dispatcher,
            kafka,
            oauth_rotation,
            config: config.clone(),
            addresses,
        })
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
        let transfers = tokio::spawn(self.transfer_manager.clone().run(stopped.clone()));
        let monitor = tokio::spawn(self.policy_monitor.clone().run(stopped.clone()));
        let dispatcher = tokio::spawn(self.callback_dispatcher.clone().run(stopped.clone()));
        let reconciler = spawn_reconciler(&self.config, self.kafka.as_ref(), stopped.clone());
        let rotation =
            self.oauth_rotation.clone().map(|rotation| tokio::spawn(crate::oauth::run_rotation(rotation, stopped)));
        let result = self.bound.run(shutdown).await;
        let _ = stop.send(true);
        for task in [reconciler, rotation].into_iter().flatten() {
            let _ = task.await;
        }
        let _ = manager.await;
        let _ = transfers.await;
        let _ = monitor.await;
        let _ = dispatcher.await;
        self.store.close().await;
        result
    }
}

/// A standalone data plane (`dsc dataplane`): Data Plane Signaling for its control plane, the public API for
/// consumers and health checks. It keeps its own database and vault.
pub struct DataPlaneNode {
    bound: dsc_web::Bound,
    store: SqlStore,
    kafka: Option<Arc<KafkaPull>>,
    config: ConnectorConfig,
    pub addresses: Vec<(Vec<&'static str>, SocketAddr)>,
}

impl DataPlaneNode {
    pub async fn start(config: &ConnectorConfig) -> Result<Self, StartError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let vault = open_vault(config).await?;
        let store = crate::plugins::open_store(&config.database_url, config.database_max_connections).await?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| StartError::Identity(dsc_identity::IdentityError::Key(e.to_string())))?;
        let trust = match &config.trust_file {
            Some(path) => TrustList::from_file(path)?,
            None => TrustList::default(),
        };
        // Refresh clients prove their DID with a self-issued token addressed to this participant.
        let resolver =
            HttpDidResolver::new(http.clone(), config.did_web_use_https, std::time::Duration::from_secs(300));
        let verifier: Arc<dyn dsc_identity::ParticipantVerifier> =
            Arc::new(TokenVerifier::new(&config.participant_id, Arc::new(resolver), Arc::new(trust)));
        let http_for_registration = http.clone();
        let (plane, kafka) =
            build_data_plane(config, Arc::new(store.clone()), vault.clone(), Some(verifier), http).await?;
        let key = config.signaling_key.clone().unwrap_or_default();
        let health = Health::new(vec![Arc::new(DatabaseProbe(store.clone())), Arc::new(VaultProbe(vault))]);
        let mut contexts = vec![ContextRouter {
            name: config.default_context.name,
            port: config.default_context.port,
            path: config.default_context.path.clone(),
            router: dsc_web::health::router(health),
        }];
        contexts.extend(data_plane_contexts(config, Some(&plane), Router::new(), &key));
        let bound = dsc_web::bind(&config.bind_address, contexts).await.map_err(StartError::Listen)?;
        let addresses = bound.addresses();
        if let Some(control_plane) = &config.control_plane_url {
            register_with(&http_for_registration, control_plane, config, &plane.profiles(), &key).await?;
        }
        tracing::info!(transfer_types = %plane.profiles().join(", "), public = %config.public_address, "data plane ready");
        Ok(DataPlaneNode { bound, store, kafka, config: config.clone(), addresses })
    }

    pub async fn run<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let reconciler = spawn_reconciler(&self.config, self.kafka.as_ref(), stopped);
        let result = self.bound.run(shutdown).await;
        let _ = stop.send(true);
        if let Some(reconciler) = reconciler {
            let _ = reconciler.await;
        }
        self.store.close().await;
        result
    }
}

/// Registers a standalone data plane with its control plane (DPS `PUT /dataplanes`). A failure stops the start: a
/// data plane nobody signals is a misconfiguration worth seeing at once.
async fn register_with(
    http: &reqwest::Client,
    control_plane: &str,
    config: &ConnectorConfig,
    profiles: &[String],
    key: &str,
) -> Result<(), StartError> {
    let message = serde_json::json!({
        "dataplaneId": format!("{}-dataplane", config.participant_id),
        "endpoint": config.signaling_address,
        "profiles": profiles,
    });
    let failed = |reason: String| StartError::Registration { control_plane: control_plane.to_string(), reason };
    let response = http
        .put(format!("{control_plane}/dataplanes"))
        .bearer_auth(key)
        .json(&message)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(failed(format!("HTTP {status}: {body}")));
    }
    tracing::info!(%control_plane, endpoint = %config.signaling_address, "registered with the control plane");
    Ok(())
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
