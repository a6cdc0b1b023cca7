// SPDX-License-Identifier: Apache-2.0
//! The data plane: flows, tokens and the transfer types' handlers, its web contexts, and the standalone node
//! (`dsc dataplane`) that registers with its control plane.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use dsc_config::ConnectorConfig;
use dsc_dataplane::DataPlane;
use dsc_kafka_pull::KafkaPull;
use dsc_store::SqlStore;
use dsc_vault::Vault;
use dsc_web::{ApiKey, ContextRouter};

use super::StartError;
use super::common::{health, http_client, open_vault};
use super::identity::{ParticipantClients, refresh_client_verifier};

/// The data plane's token signing secret, from the vault (generated once).
async fn token_secret(vault: &Arc<dyn Vault>) -> Result<String, StartError> {
    const KEY: &str = "dsc-dataplane-token-secret";
    if let Some(secret) = vault.resolve(KEY).await? {
        return Ok(secret.expose().to_string());
    }
    let generated = dsc_vault::SecretString::new(dsc_dataplane::tokens::new_secret());
    Ok(vault.store_if_absent(KEY, generated).await?.expose().to_string())
}

/// The data plane with its persisted flows, token secret (from the vault) and transfer type handlers.
pub(super) async fn build_data_plane(
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
        .map(|kafka| dsc_kafka_pull::setup::from_config(kafka, store.clone(), vault.clone()));
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
pub(super) fn spawn_reconciler(
    config: &ConnectorConfig,
    store: &SqlStore,
    kafka: Option<&Arc<KafkaPull>>,
    stopped: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let (kafka, settings) = (kafka?, config.section::<dsc_kafka_pull::KafkaPullConfig>()?);
    let interval = std::time::Duration::from_secs(settings.reconcile_interval_seconds);
    let role = dsc_kafka_pull::setup::RECONCILER_ROLE;
    let lease = dsc_store::SingletonLease::new(store.clone(), role, super::lease_holder(config), interval);
    Some(tokio::spawn(dsc_kafka_pull::setup::run_reconciler(kafka.clone(), interval, lease, stopped)))
}

/// The data plane's web contexts: Data Plane Signaling on the control context (behind the shared key, merged with
/// `control`, the control plane's side when there is one) and the public API.
pub(super) fn data_plane_contexts(
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
        let store = crate::plugins::open_store(&config.database_url, config.database_max_connections).await?;
        let vault = open_vault(config, &store).await?;
        let http = http_client()?;
        // Refresh clients prove their DID with a self-issued token addressed to this participant.
        let verifier = refresh_client_verifier(config, &http)?;
        let http_for_registration = http.clone();
        let (plane, kafka) =
            build_data_plane(config, Arc::new(store.clone()), vault.clone(), Some(verifier), http).await?;
        let key = config.signaling_key.clone().unwrap_or_default();
        let health = health(&store, vault);
        let mut contexts = vec![ContextRouter {
            name: config.default_context.name,
            port: config.default_context.port,
            path: config.default_context.path.clone(),
            router: dsc_web::health::router(health).merge(super::metrics::router(
                store.clone(),
                kafka.is_some(),
                config.metrics_key.as_deref(),
            )),
        }];
        contexts.extend(data_plane_contexts(config, Some(&plane), Router::new(), &key));
        let bound = dsc_web::bind_with(&config.bind_address, contexts, super::connector::limits(config))
            .await
            .map_err(StartError::Listen)?;
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
        let reconciler = spawn_reconciler(&self.config, &self.store, self.kafka.as_ref(), stopped);
        let grace = std::time::Duration::from_secs(self.config.shutdown_timeout_seconds);
        let result =
            super::serve_until_shutdown(self.bound, shutdown, stop, reconciler.into_iter().collect(), grace).await;
        super::close_store(&self.store).await;
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
