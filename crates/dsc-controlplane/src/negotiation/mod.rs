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

use std::sync::Arc;
use std::time::Duration;

use dsc_domain::Clock;

pub use crate::ProtocolError;
pub use management::NegotiationService;
pub use manager::{NegotiationManager, NegotiationProcessor};
pub use service::NegotiationProtocolService;

use crate::state_machine::RetryPolicy;

/// How the state machine is run.
#[derive(Debug, Clone)]
pub struct NegotiationSettings {
    /// This connector's participant id (assigner of its offers and agreements).
    pub participant_id: String,
    /// This connector's versioned protocol address, sent as `callbackAddress`.
    pub callback_address: String,
    /// Identifies this replica in leases.
    pub holder: String,
    pub lease_ms: i64,
    /// The consumer side's batch size and retries (`edc.negotiation.consumer.*`).
    pub consumer: RoleSettings,
    /// The provider side's (`edc.negotiation.provider.*`).
    pub provider: RoleSettings,
    /// Without a wake-up, look for due work this often (`edc.negotiation.state-machine.iteration-wait-millis`).
    pub iteration_wait: Duration,
    /// The time of state changes, retries and leases.
    pub clock: Arc<dyn Clock>,
    /// What the consumer does with an offer from the provider (`dsc.negotiation.consumer.offers`).
    pub consumer_offers: OfferDecision,
}

/// Who decides on a provider's offer to this consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OfferDecision {
    /// An offer on the terms the consumer asked for is accepted at once; any other waits for the operator.
    #[default]
    AcceptSameTerms,
    /// Every offer waits for the operator (accept, counter or terminate), and so does every agreement (verify or
    /// terminate).
    Operator,
}

impl OfferDecision {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "accept-same-terms" => Some(OfferDecision::AcceptSameTerms),
            "operator" => Some(OfferDecision::Operator),
            _ => None,
        }
    }
}

/// How one role's negotiations are worked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleSettings {
    /// Negotiations in flight at once.
    pub batch_size: u32,
    /// Attempts per message before the negotiation is given up, and the backoff between them.
    pub retry: RetryPolicy,
}

impl Default for RoleSettings {
    fn default() -> Self {
        RoleSettings { batch_size: 20, retry: RetryPolicy::new(8, 500) }
    }
}

impl NegotiationSettings {
    pub fn new(participant_id: impl Into<String>, callback_address: impl Into<String>) -> Self {
        NegotiationSettings {
            participant_id: participant_id.into(),
            callback_address: callback_address.into(),
            holder: format!("replica-{}", uuid::Uuid::new_v4()),
            lease_ms: 30_000,
            consumer: RoleSettings::default(),
            provider: RoleSettings::default(),
            iteration_wait: Duration::from_millis(1_000),
            clock: dsc_domain::clock::system_clock(),
            consumer_offers: OfferDecision::default(),
        }
    }
}
