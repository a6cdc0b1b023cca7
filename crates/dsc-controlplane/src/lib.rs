// SPDX-License-Identifier: Apache-2.0
//! Control-plane services.
//!
//! Invariant: services apply business rules (creation time, referential integrity) on typed entities and talk to
//! stores through traits only; they know neither HTTP nor JSON-LD. Contract negotiation and transfer state
//! machines join this crate with the Dataspace Protocol work.

pub mod callbacks;
pub mod catalog;
pub mod edr;
mod entity;
mod error;
mod inbound;
mod lease;
pub mod negotiation;
pub mod state_machine;
pub mod transfer;

pub use entity::{EntityService, ManagedEntity, NoReferences, ReferenceCheck, ReferencedBy};
pub use error::ServiceError;
pub use inbound::{ProcessIds, ProtocolError};

pub mod protocol;
