// SPDX-License-Identifier: Apache-2.0
//! Transfer processes: the service (API calls and inbound protocol messages), the state machine manager (DSP
//! messages to the counter-party, Data Plane Signaling to the data plane) and the policy monitor.

mod flows;
mod management;
mod manager;
pub mod messages;
mod monitor;
mod request;
mod service;

use std::sync::Arc;

use dsc_domain::DataAddress;
use dsc_vault::{SecretString, Vault};

pub use flows::DataFlowCallbackService;
pub use management::{TransferRequest, TransferService};
pub use manager::{TransferManager, TransferProcessor};
pub use monitor::{CurrentClaims, PolicyMonitor};
pub use service::TransferProtocolService;

#[derive(Debug, Clone)]
pub struct TransferSettings {
    pub participant_id: String,
    /// This connector's versioned protocol address, sent as `callbackAddress`.
    pub callback_address: String,
    pub holder: String,
    /// Transfers of each role in flight at once in the state machine.
    pub batch_size: u32,
    pub lease_ms: i64,
    /// Attempts per message or data plane signal before the transfer is given up.
    pub max_attempts: u32,
    /// First retry delay; each further attempt doubles it (capped at 60 s).
    pub retry_base_ms: i64,
    /// Without a wake-up, the state machine looks for due work this often.
    pub iteration_wait: std::time::Duration,
    /// The time of the state machine's state changes, retries and leases.
    pub clock: Arc<dyn dsc_domain::Clock>,
    /// How often the policy monitor re-evaluates running transfers.
    pub monitor_interval: std::time::Duration,
    /// Running transfers the policy monitor reads at once (it pages through all of them every pass).
    pub monitor_page: u32,
    /// The transfer types the binary registered: a peer's alias is answered as the type's name.
    pub transfer_types: Arc<dsc_domain::TransferTypeRegistry>,
}

impl TransferSettings {
    pub fn new(
        participant_id: impl Into<String>,
        callback_address: impl Into<String>,
        holder: impl Into<String>,
    ) -> Self {
        TransferSettings {
            participant_id: participant_id.into(),
            callback_address: callback_address.into(),
            holder: holder.into(),
            batch_size: 20,
            lease_ms: 30_000,
            max_attempts: 8,
            retry_base_ms: 500,
            iteration_wait: std::time::Duration::from_millis(1_000),
            clock: dsc_domain::clock::system_clock(),
            monitor_interval: std::time::Duration::from_secs(1),
            monitor_page: 500,
            transfer_types: Arc::default(),
        }
    }
}

/// The vault key under which a transfer's data address (it carries credentials) is kept.
pub fn address_key(transfer_id: &str) -> String {
    format!("dsc-transfer-address--{transfer_id}")
}

pub(crate) async fn keep_address(vault: &Arc<dyn Vault>, key: &str, address: &DataAddress) -> Result<(), String> {
    let text = serde_json::to_string(&address.properties).map_err(|e| e.to_string())?;
    vault.store(key, SecretString::new(text)).await.map_err(|e| e.to_string())
}

/// The EDR of a started consumer transfer, from the vault; `None` for any other transfer. The one reader of EDRs:
/// the Management API's EDR path and the transfer service both use it.
pub(crate) async fn consumer_edr(
    vault: &Arc<dyn Vault>,
    transfer: &dsc_domain::TransferProcess,
) -> Result<Option<DataAddress>, crate::ServiceError> {
    match (&transfer.data_address_key, transfer.role, transfer.state) {
        (Some(key), dsc_domain::NegotiationRole::Consumer, dsc_domain::TransferState::Started) => {
            read_address(vault, key).await.map_err(crate::ServiceError::Internal)
        }
        _ => Ok(None),
    }
}

pub(crate) async fn read_address(vault: &Arc<dyn Vault>, key: &str) -> Result<Option<DataAddress>, String> {
    match vault.resolve(key).await.map_err(|e| e.to_string())? {
        Some(secret) => serde_json::from_str(secret.expose())
            .map(|properties| Some(DataAddress { properties }))
            .map_err(|e| format!("stored data address is unreadable: {e}")),
        None => Ok(None),
    }
}
