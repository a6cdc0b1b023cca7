// SPDX-License-Identifier: Apache-2.0

/// EDC's policy scopes: the points in the flow where policies are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Catalog requests: the access policy decides whether an offer is shown.
    Catalog,
    /// Contract negotiation: the contract policy must hold for the consumer.
    ContractNegotiation,
    /// Before a transfer starts: the agreement's policy must still hold.
    TransferProcess,
    /// Running transfers are re-checked; a failure ends them.
    PolicyMonitor,
}

impl Scope {
    pub const ALL: [Scope; 4] =
        [Scope::Catalog, Scope::ContractNegotiation, Scope::TransferProcess, Scope::PolicyMonitor];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Catalog => "catalog",
            Scope::ContractNegotiation => "contract.negotiation",
            Scope::TransferProcess => "transfer.process",
            Scope::PolicyMonitor => "policy.monitor",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
