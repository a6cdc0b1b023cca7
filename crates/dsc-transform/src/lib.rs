// SPDX-License-Identifier: Apache-2.0
//! Expanded JSON-LD ⇄ domain entities.
//!
//! Invariant: inbound input is first *validated* (structure, mandatory fields, allowed values — every problem is
//! collected, not just the first) and only then turned into a typed entity; nothing here applies business rules
//! or touches storage. The Management API and, later, the DSP binding share these transformers.

pub mod asset;
pub mod contract_definition;
pub mod policy;
pub mod policy_definition;
pub mod query;
mod reader;

pub use reader::Violations;
