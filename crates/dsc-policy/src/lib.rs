// SPDX-License-Identifier: Apache-2.0
//! The policy engine.
//!
//! A policy is evaluated in a [`Scope`] (where in the flow: catalog, negotiation, transfer, policy monitor) for a
//! [`PolicyContext`] (who asks, when, under which agreement). Every atomic constraint is decided by the function
//! registered for its left operand *in that scope*; a left operand without a function is an evaluation failure,
//! never a silent pass (EDC treats it as satisfied). Operands that a scope deliberately does not check are
//! registered as such ([`functions::NotCheckedInScope`]), so the choice is explicit.
//!
//! Semantics follow EDC: every permission must be satisfied (its constraints and its duties), no prohibition may
//! apply, every obligation must be satisfied; `and`/`andSequence` need all members, `or` at least one, `xone`
//! exactly one.

mod context;
pub mod credentials;
mod engine;
pub mod functions;
mod scope;

pub use context::PolicyContext;
pub use engine::{ConstraintFunction, PolicyEngine, PolicyViolation};
pub use scope::Scope;

#[cfg(test)]
mod tests;
