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

/// Contract negotiation messages, as the control plane sees them (the DSP crate owns their wire form).
#[derive(Debug, Clone)]
pub enum NegotiationMessage {
    /// Consumer → provider. `provider_pid` is absent on the initial request, which carries `callback_address`.
    ContractRequest {
        consumer_pid: String,
        provider_pid: Option<String>,
        callback_address: Option<String>,
        offer: dsc_domain::Offer,
        /// The asset the offer is for (the offer's `target` on the wire).
        target: String,
        /// The provider's participant id (the offer's `assigner`).
        assigner: String,
    },
    /// Provider → consumer: an offer in a negotiation the consumer started (a counter-offer to its request), or the
    /// first message of one the provider starts (no `consumer_pid` yet, a `callback_address` instead).
    Offer {
        provider_pid: String,
        consumer_pid: Option<String>,
        callback_address: Option<String>,
        offer: dsc_domain::Offer,
        /// The asset (the offer's `target`).
        target: String,
        /// The provider's participant id (the offer's `assigner`).
        assigner: String,
    },
    /// Provider → consumer.
    Agreement { provider_pid: String, consumer_pid: String, agreement: dsc_domain::ContractAgreement },
    /// Consumer → provider.
    Verification { provider_pid: String, consumer_pid: String },
    /// `ACCEPTED` (consumer → provider) or `FINALIZED` (provider → consumer).
    Event { provider_pid: String, consumer_pid: String, event_type: String },
    Termination {
        provider_pid: String,
        consumer_pid: String,
        code: Option<String>,
        reason: Option<String>,
        /// Sent by the consumer to the provider (else by the provider to the consumer's callback address).
        to_provider: bool,
    },
}

/// How a peer answered a negotiation message.
#[derive(Debug, Clone)]
pub enum NegotiationReply {
    /// 2xx; the acknowledgement of a first message names the counter-party's process id (the provider's for our
    /// request, the consumer's for our offer) and its state.
    Accepted { counter_party_pid: Option<String>, state: Option<String> },
    /// 4xx: the peer refused the message; retrying cannot help.
    Rejected { status: u16, reason: String },
}

#[async_trait]
pub trait NegotiationDispatcher: Send + Sync {
    /// Sends `message` to `peer` (its protocol address for messages to a provider, its callback address for
    /// messages to a consumer). Unreachable peers and 5xx answers are `Err` (retryable).
    async fn send_negotiation(
        &self,
        peer: &Counterparty,
        message: &NegotiationMessage,
    ) -> Result<NegotiationReply, DispatchError>;
}

/// Transfer process messages, as the control plane sees them.
#[derive(Debug, Clone)]
pub enum TransferMessage {
    /// Consumer → provider (initial request).
    Request {
        consumer_pid: String,
        agreement_id: String,
        /// The transfer type (`format` on the wire).
        transfer_type: String,
        callback_address: String,
        /// Push destination; `None` for pull.
        data_address: Option<dsc_domain::DataAddress>,
    },
    /// Provider → consumer (with the pull address), or consumer → provider to resume (without).
    Start {
        provider_pid: String,
        consumer_pid: String,
        data_address: Option<dsc_domain::DataAddress>,
        to_provider: bool,
    },
    Suspension {
        provider_pid: String,
        consumer_pid: String,
        reason: Option<String>,
        to_provider: bool,
    },
    Completion {
        provider_pid: String,
        consumer_pid: String,
        to_provider: bool,
    },
    Termination {
        provider_pid: String,
        consumer_pid: String,
        reason: Option<String>,
        to_provider: bool,
    },
}

#[async_trait]
pub trait TransferDispatcher: Send + Sync {
    /// Sends `message` to `peer`; unreachable peers and 5xx answers are `Err` (retryable). The acknowledgement
    /// of the initial request names the provider's process id.
    async fn send_transfer(
        &self,
        peer: &Counterparty,
        message: &TransferMessage,
    ) -> Result<NegotiationReply, DispatchError>;
}

/// Why a participant directory cannot name a participant's protocol id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryError {
    /// The directory does not know the participant: the user named it wrongly.
    Unknown(String),
    /// The directory cannot be asked now.
    Unavailable(String),
}

/// Turns the participant id a user names (a BPN, as Tractus-X users do) into the id the protocol addresses (a
/// DID), before anything is stored under it.
#[async_trait]
pub trait ParticipantDirectory: Send + Sync {
    async fn protocol_id(&self, participant: &str) -> Result<String, DirectoryError>;
}
