// SPDX-License-Identifier: Apache-2.0
//! Contract negotiation: the service behind the Management API and the DSP handlers, and the state machine
//! manager that sends the messages.
//!
//! Every inbound message and every API call takes the negotiation's lease, checks the transition, saves, and
//! wakes the manager; the manager claims due work (oldest first, in batches), sends one message per negotiation
//! and saves the outcome. Nothing is sent before the state that depends on it is persisted, so a restart
//! converges: leases expire and the manager picks up where the crashed holder stopped.

mod management;
mod manager;
pub mod messages;
mod offer;
mod service;

pub use crate::ProtocolError;
pub use management::NegotiationService;
pub use manager::NegotiationManager;
pub use service::NegotiationProtocolService;

/// How the state machine is run.
#[derive(Debug, Clone)]
pub struct NegotiationSettings {
    /// This connector's participant id (assigner of its offers and agreements).
    pub participant_id: String,
    /// This connector's versioned protocol address, sent as `callbackAddress`.
    pub callback_address: String,
    /// Identifies this replica in leases.
    pub holder: String,
    pub batch_size: u32,
    pub lease_ms: i64,
    /// Attempts per message before the negotiation is given up.
    pub max_attempts: u32,
}

impl NegotiationSettings {
    pub fn new(participant_id: impl Into<String>, callback_address: impl Into<String>) -> Self {
        NegotiationSettings {
            participant_id: participant_id.into(),
            callback_address: callback_address.into(),
            holder: format!("replica-{}", uuid::Uuid::new_v4()),
            batch_size: 20,
            lease_ms: 30_000,
            max_attempts: 8,
        }
    }
}
