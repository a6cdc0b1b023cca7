// SPDX-License-Identifier: Apache-2.0
//! Expanded JSON-LD ⇄ domain entities.
//!
//! Invariant: inbound input is first *validated* (structure, mandatory fields, allowed values — every problem is
//! collected, not just the first) and only then turned into a typed entity; nothing here applies business rules
//! or touches storage. The Management API and the DSP binding share these transformers; the DSP binding keeps
//! only its wire specifics (message types, the compact form).

pub mod agreement;
pub mod asset;
pub mod catalog;
pub mod contract_definition;
pub mod contract_request;
pub mod edr;
pub mod negotiation;
pub mod policy;
pub mod policy_definition;
pub mod process;
pub mod query;
mod reader;
pub mod transfer;

pub use reader::Violations;
