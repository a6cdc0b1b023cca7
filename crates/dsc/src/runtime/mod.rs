// SPDX-License-Identifier: Apache-2.0
//! Start-up and shutdown: the binary's wiring, and nothing else. Each plane is assembled in its own file from the
//! crates that implement it; no protocol, business or transfer-type logic lives here.
//!
//! - [`connector`]: a connector (`dsc run`): the control plane, optionally with its embedded data plane.
//! - [`control_plane`]: services, state machines, the policy monitor, callbacks, the Management API and DSP state.
//! - [`data_plane`]: the data plane (embedded or `dsc dataplane`), its transfer types and web contexts.
//! - [`identity`]: the participant's signing identity and how protocol requests are authenticated.
//! - [`common`]: vault, HTTP client, health probes.
//! - [`metrics`]: the Prometheus endpoint and the process's metrics recorder.
//! - [`registrations`]: data plane registrations in the database, shared by control-plane replicas.

mod common;
mod connector;
mod control_plane;
mod data_plane;
mod dcp;
mod identity;
mod metrics;
mod registrations;

use std::time::Instant;

use dsc_config::ConnectorConfig;
use dsc_store::sql::redact_url;

pub use connector::Connector;
pub use data_plane::DataPlaneNode;

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

/// Serves until `shutdown` resolves, then at once tells the background work (`stop`) to claim nothing new, and
/// gives open requests and the work in flight (`tasks`) `grace` to finish together. What still runs after that is
/// dropped: nothing committed is lost, and an entity whose step was cut short is taken over (here after a restart,
/// or by another replica) when its lease expires. The listeners stop accepting at the signal, so readiness fails
/// from then on.
pub(super) async fn serve_until_shutdown<F>(
    bound: dsc_web::Bound,
    shutdown: F,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    grace: std::time::Duration,
) -> std::io::Result<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (signalled, mut signal) = tokio::sync::watch::channel(false);
    let serving = tokio::spawn(bound.run(async move {
        shutdown.await;
        let _ = stop.send(true);
        let _ = signalled.send(true);
    }));
    let mut aborts = vec![serving.abort_handle()];
    aborts.extend(tasks.iter().map(tokio::task::JoinHandle::abort_handle));
    let drained = async move {
        let result = serving.await.unwrap_or_else(|join| Err(std::io::Error::other(join.to_string())));
        for task in tasks {
            let _ = task.await;
        }
        result
    };
    tokio::pin!(drained);
    tokio::select! {
        result = &mut drained => return result,
        _ = signal.wait_for(|signalled| *signalled) => {}
    }
    match tokio::time::timeout(grace, &mut drained).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                seconds = grace.as_secs(),
                "shutdown: requests or work still running after dsc.shutdown.timeout.seconds; exiting without them"
            );
            for abort in aborts {
                abort.abort();
            }
            Ok(())
        }
    }
}

/// This process's name in singleton leases: unique per process, so a restarted replica is a new holder and waits
/// for its old lease to expire like any other replica.
pub(super) fn lease_holder(config: &ConnectorConfig) -> String {
    format!("{}/{}/{}", config.participant_id, std::process::id(), dsc_domain::clock::system_now_millis())
}

/// Closes the database pool, waiting at most a moment for connections still checked out (by work cut short at
/// shutdown): the process exits either way.
pub(super) async fn close_store(store: &dsc_store::SqlStore) {
    if tokio::time::timeout(std::time::Duration::from_secs(2), store.close()).await.is_err() {
        tracing::warn!("shutdown: database connections still in use; exiting without waiting for them");
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
