// SPDX-License-Identifier: Apache-2.0
//! JSON-LD processing at the API edges.
//!
//! Inbound documents are expanded (so `edc:name`, `name` under `@vocab` and the full IRI all mean the same key),
//! outbound documents are compacted against a fixed context. Every context the processor can resolve is bundled in
//! the binary ([`contexts`]); a document that names any other remote context is refused with
//! [`JsonLdError::UnknownContext`] before processing starts, so no code path can reach the network.

pub mod contexts;
pub mod expanded;
mod loader;
mod processor;
pub mod simplified;

pub use processor::{CompactionContext, JsonLd, JsonLdError, inject_vocab};
