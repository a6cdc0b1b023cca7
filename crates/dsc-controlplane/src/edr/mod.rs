// SPDX-License-Identifier: Apache-2.0
//! The consumer's Endpoint Data References (Tractus-X EDR API): a negotiation started for an EDR starts its
//! transfer once FINALIZED ([`EdrTransferStarter`]), and reading an EDR can renew its token first ([`EdrService`]).
//!
//! Both are control-plane orchestration: they decide *when* to start or refresh and keep the result; how a token is
//! renewed on the wire is behind [`EdrRefresher`], implemented by the protocol binding.

mod refresh;
mod starter;

pub use refresh::{EdrError, EdrRefresher, EdrService};
pub use starter::EdrTransferStarter;

use dsc_domain::CallbackAddress;

/// The in-process callback address a negotiation started through `POST /v3/edrs` carries: its FINALIZED event
/// starts the transfer. Events to it go through the outbox like any callback, so a crash between FINALIZED and the
/// transfer's start is retried, never lost.
pub const EDR_CALLBACK: &str = "local://edr";

/// The event [`EDR_CALLBACK`] listens for.
pub const EDR_START_EVENT: &str = "contract.negotiation.finalized";

/// The callback address to add to a negotiation whose agreement should start a transfer at once.
pub fn edr_callback() -> CallbackAddress {
    CallbackAddress {
        uri: EDR_CALLBACK.into(),
        events: vec![EDR_START_EVENT.into()],
        transactional: false,
        auth_key: None,
        auth_code_id: None,
    }
}

#[cfg(test)]
mod tests;
