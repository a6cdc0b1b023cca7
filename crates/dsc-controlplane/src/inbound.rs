// SPDX-License-Identifier: Apache-2.0
//! What the protocol services share: the refusal a binding maps to a status code, and the pair of process ids
//! every message after the initial request names.

use dsc_domain::NegotiationRole;
use dsc_store::StoreError;

/// Why an inbound protocol message is refused; the DSP binding maps these to status codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Unknown process, or one that belongs to another participant (404, as the protocol asks).
    #[error("negotiation '{0}' not found")]
    NotFound(String),
    /// The message does not fit the process's state (400).
    #[error("{0}")]
    InvalidState(String),
    /// The request cannot be granted (400): unknown offer, policy not satisfied, malformed content.
    #[error("{0}")]
    Refused(String),
    /// Try again later (503).
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for ProtocolError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LeaseHeld { .. } | StoreError::Unavailable(_) => ProtocolError::Unavailable(error.to_string()),
            other => ProtocolError::Unavailable(format!("store: {other}")),
        }
    }
}

/// The consumer's and the provider's process ids, as a message names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIds {
    pub consumer_pid: String,
    pub provider_pid: String,
}

impl ProcessIds {
    pub fn new(consumer_pid: impl Into<String>, provider_pid: impl Into<String>) -> Self {
        ProcessIds { consumer_pid: consumer_pid.into(), provider_pid: provider_pid.into() }
    }

    /// The id of this connector's process when it plays `role`.
    pub fn own(&self, role: NegotiationRole) -> &str {
        match role {
            NegotiationRole::Consumer => &self.consumer_pid,
            NegotiationRole::Provider => &self.provider_pid,
        }
    }

    /// The counter-party's id for the same process (our correlation id).
    pub fn other(&self, role: NegotiationRole) -> &str {
        match role {
            NegotiationRole::Consumer => &self.provider_pid,
            NegotiationRole::Provider => &self.consumer_pid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_and_other_follow_the_role() {
        let ids = ProcessIds::new("c-1", "p-1");
        assert_eq!((ids.own(NegotiationRole::Consumer), ids.other(NegotiationRole::Consumer)), ("c-1", "p-1"));
        assert_eq!((ids.own(NegotiationRole::Provider), ids.other(NegotiationRole::Provider)), ("p-1", "c-1"));
    }
}
