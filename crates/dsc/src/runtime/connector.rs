// SPDX-License-Identifier: Apache-2.0
//! A connector (`dsc run`): the control plane, optionally with its embedded data plane, on its web contexts.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use dsc_config::{ApiKeySource, ConnectorConfig};
use dsc_controlplane::callbacks::CallbackDispatcher;
use dsc_controlplane::negotiation::NegotiationManager;
use dsc_controlplane::transfer::{PolicyMonitor, TransferManager};
use dsc_kafka_pull::KafkaPull;
use dsc_signaling::{DataPlaneEntry, DataPlaneRegistry, HttpDataPlaneClient};
use dsc_store::SqlStore;
use dsc_store::sql::redact_url;
use dsc_web::{ApiKey, ContextRouter};

use super::StartError;
use super::common::{did_document_path, health, http_client, open_vault};
use super::control_plane::{self, ControlPlane};
use super::data_plane::{build_data_plane, data_plane_contexts, spawn_reconciler};
use super::identity::ProtocolIdentity;

/// A started connector: listeners bound, ready to serve.
pub struct Connector {
    bound: dsc_web::Bound,
    store: SqlStore,
    registry: Arc<DataPlaneRegistry>,
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

impl Connector {
    pub async fn start(config: &ConnectorConfig) -> Result<Self, StartError> {
        // Idempotent; the binary installs it first thing, embedders (tests) may not have.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let store = crate::plugins::open_store(&config.database_url, config.database_max_connections).await?;
        let vault = open_vault(config, &store).await?;
        let api_key = match &config.api_key {
            ApiKeySource::Value(key) => ApiKey::new(key.clone()),
            ApiKeySource::VaultAlias(alias) => match vault.resolve(alias).await? {
                Some(secret) => ApiKey::new(secret.expose()),
                None => return Err(StartError::MissingApiKey(alias.clone())),
            },
        };
        let shared = Arc::new(store.clone());
        let plugins = crate::plugins::plugins()?;
        let http = http_client()?;
        let identity = ProtocolIdentity::load(config, &vault, &http, shared.clone()).await?;
        let signaling_key = config.signaling_key.clone().unwrap_or_else(dsc_dataplane::tokens::new_secret);
        let registrations = Arc::new(super::registrations::StoredRegistrations(store.clone()));
        let registry = Arc::new(DataPlaneRegistry::persistent(registrations, signaling_key.clone()));
        registry
            .reload()
            .await
            .map_err(|reason| StartError::Database { url: redact_url(&config.database_url), reason })?;
        if let Some((url, transfer_types)) = &config.remote_data_plane {
            registry.register(DataPlaneEntry {
                id: "remote".into(),
                endpoint: url.clone(),
                transfer_types: transfer_types.clone(),
                auth_key: signaling_key.clone(),
            });
        }
        let data_planes = Arc::new(HttpDataPlaneClient::new(http.clone(), registry.clone()));
        let ControlPlane {
            management: state,
            dsp: dsp_state,
            flow_callbacks,
            negotiation_manager,
            transfer_manager,
            policy_monitor,
            callback_dispatcher,
        } = control_plane::build(control_plane::Inputs {
            config,
            shared: shared.clone(),
            vault: vault.clone(),
            http: http.clone(),
            plugins: &plugins,
            identity: &identity,
            data_planes,
        })?;
        // The embedded data plane, signaled over HTTP on the control context like a standalone one.
        let (data_plane, kafka) = if config.embedded_data_plane {
            let verifier = identity.client_verifier.clone();
            let (plane, kafka) =
                build_data_plane(config, shared.clone(), vault.clone(), verifier, http.clone()).await?;
            (Some(plane), kafka)
        } else {
            (None, None)
        };
        let services = identity.dcp.as_ref().map(|dcp| dcp.services.clone()).unwrap_or_default();
        // With an external wallet the DID document is the wallet's to serve.
        let own_document = identity.dcp.as_ref().is_none_or(|dcp| !dcp.external_wallet);
        let mut well_known = dsc_dsp::well_known_router(
            identity.identity.as_ref().filter(|_| own_document).and_then(|identity| {
                did_document_path(identity.did()).map(|path| (path, identity.did_document_with_services(&services)))
            }),
            identity.dcp.as_ref().map(|_| dsc_dsp::dcp_auth()),
        );
        let mut management =
            dsc_management_api::router(state, api_key.clone(), config.body_limit, &config.management_context.path);
        if let Some(dcp) = identity.dcp.as_ref().filter(|dcp| !dcp.external_wallet) {
            // The credential service answers other participants' verifiers on the protocol port.
            let mut credential_service = dsc_dcp_service::api::presentation_router(dcp.holder.clone());
            if dcp.verification_endpoint {
                credential_service =
                    credential_service.merge(dsc_dcp_service::api::verification_router(dcp.verifier.clone()));
            }
            well_known = well_known.nest(dsc_dcp_service::config::CREDENTIAL_SERVICE_PATH, credential_service);
            if let Some((client_id, alias)) = &dcp.sts_client {
                let sts = dsc_dcp_service::api::sts_router(
                    dcp.holder.clone(),
                    client_id.clone(),
                    vault.clone(),
                    alias.clone(),
                );
                management = management.nest("/sts", sts);
            }
            management = management.merge(dsc_dcp_service::api::management_router(
                dcp.holder.clone(),
                dcp.store.clone(),
                api_key,
            ));
        }
        let verifier = identity.verifier.clone();
        let vault_for_oauth = vault.clone();
        let health = health(&store, vault);
        let context = |c: &dsc_config::WebContext, router: Router| ContextRouter {
            name: c.name,
            port: c.port,
            path: c.path.clone(),
            router,
        };
        let mut contexts = vec![
            context(
                &config.default_context,
                dsc_web::health::router(health).merge(super::metrics::router(
                    store.clone(),
                    kafka.is_some(),
                    config.metrics_key.as_deref(),
                )),
            ),
            context(&config.management_context, management),
            context(
                &config.protocol_context,
                dsc_dsp::protocol_router(
                    dsp_state,
                    verifier,
                    dsc_dsp::auth::ProtocolLimits {
                        verifications: config.verification_concurrency,
                        per_participant: config.participant_concurrency,
                    },
                ),
            ),
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
        let control_api = dsc_control_api::router(flow_callbacks, registry.clone(), &signaling_key);
        contexts.extend(data_plane_contexts(config, data_plane.as_ref(), control_api, &signaling_key));
        let bound =
            dsc_web::bind_with(&config.bind_address, contexts, limits(config)).await.map_err(StartError::Listen)?;
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
            registry,
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
        let reconciler = spawn_reconciler(&self.config, &self.store, self.kafka.as_ref(), stopped.clone());
        let stopped_again = stopped.clone();
        let rotation = self.oauth_rotation.clone().map(|rotation| {
            let holder = super::lease_holder(&self.config);
            tokio::spawn(crate::oauth::run_rotation(rotation, self.store.clone(), holder, stopped))
        });
        let reloading = tokio::spawn(super::registrations::keep_reloading(self.registry.clone(), stopped_again));
        let mut tasks = vec![manager, transfers, monitor, dispatcher, reloading];
        tasks.extend([reconciler, rotation].into_iter().flatten());
        let grace = std::time::Duration::from_secs(self.config.shutdown_timeout_seconds);
        let result = super::serve_until_shutdown(self.bound, shutdown, stop, tasks, grace).await;
        super::close_store(&self.store).await;
        result
    }
}

/// What any client may make a listener do (`dsc.http.body.limit`, `dsc.http.request.timeout.seconds`).
pub(super) fn limits(config: &ConnectorConfig) -> dsc_web::Limits {
    dsc_web::Limits {
        body_bytes: config.body_limit,
        request_timeout: std::time::Duration::from_secs(config.request_timeout_seconds),
    }
}
