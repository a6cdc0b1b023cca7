// SPDX-License-Identifier: Apache-2.0
//! The negotiation messages a counter-party sends, typed: the protocol binding validates and transforms the wire
//! form into these, so the service works on named fields only.

use dsc_domain::ContractAgreement;
use dsc_domain::odrl::Policy;

use crate::ProcessIds;

/// Consumer → provider: the initial request for an offer.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRequestMessage {
    pub consumer_pid: String,
    /// Where the provider sends its answers (the consumer's versioned protocol address).
    pub callback_address: String,
    /// The offer's id exactly as the consumer echoes it from the catalog.
    pub offer_id: String,
    /// The protocol the request arrived in.
    pub protocol: String,
}

/// Provider → consumer: the agreement for the requested offer.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractAgreementMessage {
    pub process: ProcessIds,
    pub agreement: ContractAgreement,
}

/// Consumer → provider: the consumer verified the agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractAgreementVerificationMessage {
    pub process: ProcessIds,
}

/// A counter-party's terms in an existing negotiation: the provider's offer to the consumer
/// (ContractOfferMessage), or the consumer's counter-request to the provider (ContractRequestMessage with a
/// `providerPid`).
#[derive(Debug, Clone, PartialEq)]
pub struct CounterOfferMessage {
    pub process: ProcessIds,
    /// The offer's `@id` exactly as sent.
    pub offer_id: String,
    /// The asset (the offer's `target`).
    pub target: String,
    pub policy: Policy,
}

/// Consumer → provider: the `ACCEPTED` event, the consumer accepts the provider's last offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractNegotiationAcceptedMessage {
    pub process: ProcessIds,
}

/// Provider → consumer: the `FINALIZED` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractNegotiationFinalizedMessage {
    pub process: ProcessIds,
}

/// Either party: the other one ends the negotiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractNegotiationTerminationMessage {
    pub process: ProcessIds,
    /// Recorded as the negotiation's error detail.
    pub reason: Option<String>,
}
