// SPDX-License-Identifier: Apache-2.0
//! The counter-party as the connector knows it after verifying its identity: an id (DID or BPN) and the claims
//! its credentials (or the configured trust list) establish. Policies are evaluated against this.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Claim names the policy functions read.
pub mod claims {
    /// The participant's Business Partner Number (`BPNL...`).
    pub const BPN: &str = "bpn";
    /// Business partner groups the provider has put this participant in.
    pub const GROUPS: &str = "groups";
    /// `"active"` when the participant holds an active Catena-X membership.
    pub const MEMBERSHIP: &str = "membership";
    /// Signed framework agreements, as `Name:version` strings (e.g. `DataExchangeGovernance:1.0`).
    pub const FRAMEWORK_AGREEMENTS: &str = "frameworkAgreements";
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ParticipantAgent {
    pub id: String,
    pub claims: BTreeMap<String, Value>,
}

impl ParticipantAgent {
    pub fn new(id: impl Into<String>) -> Self {
        ParticipantAgent { id: id.into(), claims: BTreeMap::new() }
    }

    pub fn with_claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.to_string(), value);
        self
    }

    pub fn claim_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A claim as a list of strings (a single string counts as a list of one).
    pub fn claim_strings(&self, name: &str) -> Vec<&str> {
        match self.claims.get(name) {
            Some(Value::String(single)) => vec![single.as_str()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}
