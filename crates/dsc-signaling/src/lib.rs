// SPDX-License-Identifier: Apache-2.0
//! Data Plane Signaling (DPS) 1.0 between a control plane and its data planes.
//!
//! - [`wire`]: the messages as JSON, parsed tolerantly (`processId`/`dataFlowId`, `profile`/`transferType`),
//!   because EDC, the RC3 text and the Rust SDK disagree on names.
//! - [`DataPlaneClient`]: what the control plane needs from a data plane, in domain terms.
//! - [`HttpDataPlaneClient`]: that client over HTTP, selecting the data plane by transfer type from a
//!   [`DataPlaneRegistry`] and authenticating with the shared signaling key.
//!
//! Authentication between the planes is a shared key sent as `Authorization: Bearer <key>` in both directions;
//! neither side ever accepts an unauthenticated signal.

mod address;
mod client;
pub mod wire;

pub use address::{address_from_wire, address_to_wire};
pub use client::{DataPlaneEntry, DataPlaneRegistry, HttpDataPlaneClient, RegistrationStore};

use async_trait::async_trait;
use dsc_domain::DataAddress;

/// What the control plane asks a data plane to start.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// The control plane's transfer process id: the data flow id.
    pub process_id: String,
    pub participant_id: String,
    pub counter_party_id: String,
    pub agreement_id: String,
    pub dataset_id: String,
    /// The transfer type (`HttpData-PULL`).
    pub profile: String,
    /// The asset's data address (secrets as vault references), sent as metadata so the data plane need not
    /// share the control plane's asset store.
    pub source: DataAddress,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalingError {
    /// No registered data plane serves the transfer type.
    #[error("no data plane supports transfer type '{0}'")]
    NoDataPlane(String),
    /// Network failure or 5xx: retrying may help.
    #[error("data plane unreachable: {0}")]
    Unreachable(String),
    /// The data plane refused (4xx): retrying cannot help.
    #[error("data plane refused ({status}): {reason}")]
    Rejected { status: u16, reason: String },
}

/// The control plane's side of Data Plane Signaling.
#[async_trait]
pub trait DataPlaneClient: Send + Sync {
    /// Transfer types some registered data plane serves (catalog distributions).
    fn transfer_types(&self) -> Vec<String>;
    /// Whether some data plane serves the transfer type, looking further than [`transfer_types`](Self::transfer_types)
    /// where it can (a registration another control-plane replica received).
    async fn supports(&self, transfer_type: &str) -> bool {
        self.transfer_types().iter().any(|t| t == transfer_type)
    }
    /// Starts a flow; a pull flow answers with the address (EDR) the consumer reads from.
    async fn start(&self, request: &StartRequest) -> Result<Option<DataAddress>, SignalingError>;
    async fn suspend(&self, profile: &str, process_id: &str, reason: Option<&str>) -> Result<(), SignalingError>;
    /// Resumes a suspended flow; a pull flow answers with a new address (new credentials).
    async fn resume(&self, profile: &str, process_id: &str) -> Result<Option<DataAddress>, SignalingError>;
    /// Ends a flow. A flow the data plane does not know counts as ended.
    async fn terminate(&self, profile: &str, process_id: &str, reason: Option<&str>) -> Result<(), SignalingError>;
    async fn completed(&self, profile: &str, process_id: &str) -> Result<(), SignalingError>;
}
