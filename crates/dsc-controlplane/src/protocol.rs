// SPDX-License-Identifier: Apache-2.0
//! What the control plane needs from a protocol binding (the SPI the DSP crate implements): sending requests to
//! other connectors. Keeping the trait here lets dependencies point down: the control plane never names DSP.

use async_trait::async_trait;
use dsc_domain::QuerySpec;

/// The only protocol spoken today; older DSP versions plug in as further bindings.
pub const DSP_2025_1: &str = "dataspace-protocol-http:2025-1";

#[derive(Debug, Clone)]
pub struct Counterparty {
    /// The peer's protocol address, including the version path (`https://p.example/api/v1/dsp/2025-1`).
    pub address: String,
    /// The peer's participant id (its DID for DSP 2025-1): the audience of our token.
    pub id: String,
    pub protocol: String,
}

/// A peer's answer passed through unchanged: EDC's Management API returns catalogs as the provider sent them.
#[derive(Debug, Clone)]
pub struct RemoteResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("protocol '{0}' is not supported; use '{DSP_2025_1}'")]
    UnsupportedProtocol(String),
    #[error("cannot reach {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("this connector has no participant identity to sign requests with: {0}")]
    NoIdentity(String),
}

#[async_trait]
pub trait ProtocolClient: Send + Sync {
    async fn request_catalog(&self, peer: &Counterparty, query: &QuerySpec) -> Result<RemoteResponse, DispatchError>;
    async fn request_dataset(&self, peer: &Counterparty, dataset_id: &str) -> Result<RemoteResponse, DispatchError>;
}
