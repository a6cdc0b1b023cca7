// SPDX-License-Identifier: Apache-2.0
//! The bundled constraint functions and the default registry.

mod dates;
mod participant;

use std::sync::Arc;

use dsc_domain::namespaces;
use dsc_domain::odrl::ConstraintOperator;
use serde_json::Value;

pub use dates::InForceDate;
pub use participant::{BusinessPartnerGroup, BusinessPartnerNumber, FrameworkAgreement, Membership};

use crate::{ConstraintFunction, PolicyContext, PolicyEngine, Scope};

/// Catena-X policy namespaces: CX-0152 ("Saturn", DSP 2025-1) and the legacy one ("Jupiter", DSP 0.8).
pub const CX_POLICY_NAMESPACES: [&str; 2] = [namespaces::CX_POLICY, "https://w3id.org/catenax/policy/"];

/// Contractual terms of CX-0152 that no connector can check technically: the consumer accepts them by agreeing.
/// They are accepted in every scope when their operator is one the standard allows for them.
pub const DECLARED_TERMS: &[(&str, &[ConstraintOperator])] = {
    use ConstraintOperator::*;
    &[
        ("UsagePurpose", &[Eq, IsAnyOf, IsAllOf, IsPartOf, HasPart]),
        ("ContractReference", &[Eq, IsAllOf, IsAnyOf]),
        ("AffiliatesRegion", &[Eq, IsAnyOf, IsAllOf]),
        ("AffiliatesBpnl", &[Eq, IsAnyOf, IsAllOf]),
        ("DataFrequency", &[Eq]),
        ("VersionChanges", &[Eq]),
        ("ContractTermination", &[Eq]),
        ("ConfidentialInformationMeasures", &[Eq]),
        ("ConfidentialInformationSharing", &[Eq]),
        ("ExclusiveUsage", &[Eq]),
        ("Warranty", &[Eq]),
        ("WarrantyDefinition", &[Eq]),
        ("WarrantyDuration", &[Eq]),
        ("WarrantyDurationMonths", &[Eq]),
        ("Liability", &[Eq]),
        ("JurisdictionLocation", &[Eq]),
        ("JurisdictionLocationReference", &[Eq]),
        ("Precedence", &[Eq]),
        ("DataUsageEndDefinition", &[Eq]),
        ("DataUsageEndDate", &[Eq]),
        ("DataUsageEndDurationDays", &[Eq]),
        ("UsageRestriction", &[Eq, IsAnyOf]),
        ("DataProvisioningEndDurationDays", &[Eq]),
        ("DataProvisioningEndDate", &[Eq]),
    ]
};

/// Accepts a contractual term if its operator is allowed for it.
pub struct DeclaredTerm {
    pub allowed: &'static [ConstraintOperator],
}

impl ConstraintFunction for DeclaredTerm {
    fn evaluate(&self, operator: ConstraintOperator, _right: &Value, _context: &PolicyContext) -> Result<bool, String> {
        check_operator(operator, self.allowed)?;
        Ok(true)
    }
}

/// An explicit "this scope does not check this operand" binding (for example contract dates before there is a
/// contract). Registering it is a deliberate decision, visible in [`PolicyEngine::with_defaults`].
pub struct NotCheckedInScope;

impl ConstraintFunction for NotCheckedInScope {
    fn evaluate(
        &self,
        _operator: ConstraintOperator,
        _right: &Value,
        _context: &PolicyContext,
    ) -> Result<bool, String> {
        Ok(true)
    }
}

pub(crate) fn check_operator(operator: ConstraintOperator, allowed: &[ConstraintOperator]) -> Result<(), String> {
    if allowed.contains(&operator) {
        return Ok(());
    }
    let names: Vec<&str> = allowed.iter().map(|op| op.local_name()).collect();
    Err(format!("operator '{}' is not supported here; expected one of {}", operator.local_name(), names.join(", ")))
}

/// A right operand as a list of strings (one string is a list of one; a comma-separated string is split, as
/// Catena-X policies often write lists that way).
pub(crate) fn strings(right: &Value) -> Result<Vec<String>, String> {
    match right {
        Value::String(text) => Ok(text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(|| format!("'{item}' is not a string")))
            .collect(),
        Value::Object(object) => match object.get("@value").or_else(|| object.get("@id")) {
            Some(inner) => strings(inner),
            None => Err(format!("right operand {right} is not a string or a list of strings")),
        },
        other => Err(format!("right operand {other} is not a string or a list of strings")),
    }
}

impl PolicyEngine {
    /// The engine with every bundled function bound: the Catena-X participant operands and the declared
    /// contractual terms wherever a participant asks for something (catalog, negotiation, transfer start), and
    /// `edc:inForceDate` evaluated where an agreement exists (transfer, policy monitor) and explicitly not checked
    /// before (catalog, negotiation). The policy monitor re-checks time, not the participant: its claims were
    /// verified when the transfer started and are not available without a request, as in Tractus-X.
    pub fn with_defaults() -> Self {
        let mut engine = PolicyEngine::new();
        let participant_operand = |engine: &mut PolicyEngine, iri: &str, function: Arc<dyn ConstraintFunction>| {
            for scope in [Scope::Catalog, Scope::ContractNegotiation, Scope::TransferProcess] {
                engine.register(scope, iri, function.clone());
            }
            engine.register(Scope::PolicyMonitor, iri, Arc::new(NotCheckedInScope));
        };
        for namespace in CX_POLICY_NAMESPACES {
            let iri = |local: &str| format!("{namespace}{local}");
            participant_operand(&mut engine, &iri("BusinessPartnerNumber"), Arc::new(BusinessPartnerNumber));
            participant_operand(&mut engine, &iri("BusinessPartnerGroup"), Arc::new(BusinessPartnerGroup));
            participant_operand(&mut engine, &iri("Membership"), Arc::new(Membership));
            participant_operand(&mut engine, &iri("FrameworkAgreement"), Arc::new(FrameworkAgreement));
            for (term, allowed) in DECLARED_TERMS {
                participant_operand(&mut engine, &iri(term), Arc::new(DeclaredTerm { allowed }));
            }
        }
        // Tractus-X 0.10 wrote the BPN operands in its own namespace.
        participant_operand(
            &mut engine,
            &format!("{}BusinessPartnerNumber", namespaces::TX),
            Arc::new(BusinessPartnerNumber),
        );
        participant_operand(
            &mut engine,
            &format!("{}BusinessPartnerGroup", namespaces::TX),
            Arc::new(BusinessPartnerGroup),
        );
        let in_force = namespaces::edc("inForceDate");
        engine.register(Scope::TransferProcess, &in_force, Arc::new(InForceDate));
        engine.register(Scope::PolicyMonitor, &in_force, Arc::new(InForceDate));
        engine.register(Scope::Catalog, &in_force, Arc::new(NotCheckedInScope));
        engine.register(Scope::ContractNegotiation, &in_force, Arc::new(NotCheckedInScope));
        engine
    }
}
