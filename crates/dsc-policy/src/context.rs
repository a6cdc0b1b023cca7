// SPDX-License-Identifier: Apache-2.0

use chrono::{DateTime, Utc};
use dsc_domain::ParticipantAgent;

use crate::Scope;

/// What a policy is evaluated against.
#[derive(Debug, Clone)]
pub struct PolicyContext {
    pub scope: Scope,
    /// The counter-party, with the claims its identity established.
    pub participant: ParticipantAgent,
    pub now: DateTime<Utc>,
    /// When the contract was signed, once there is an agreement (transfer and monitor scopes).
    pub agreement_signed_at: Option<DateTime<Utc>>,
}

impl PolicyContext {
    pub fn new(scope: Scope, participant: ParticipantAgent) -> Self {
        PolicyContext { scope, participant, now: Utc::now(), agreement_signed_at: None }
    }

    pub fn at(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    pub fn with_agreement_signed_at(mut self, signed_at: DateTime<Utc>) -> Self {
        self.agreement_signed_at = Some(signed_at);
        self
    }
}
