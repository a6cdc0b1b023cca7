// SPDX-License-Identifier: Apache-2.0
//! Catena-X CX-0127 Industry Core: Part Instance aspect models (SerialPart, Batch, JustInSequencePart,
//! SingleLevelBomAsBuilt, SingleLevelUsageAsBuilt) at the mandatory version 3.0.0, its example fix 3.0.1 and the
//! optional 4.0.0: typed payloads, validation against the bundled official JSON schemas with reports that name
//! the JSON pointer, rule and offending value, valid test data, and as-built bill-of-material assembly.

pub mod bom;
pub mod generate;
pub mod lines;
pub mod model;
pub mod schemas;
pub mod types;
pub mod validate;

pub use model::{Aspect, Model, UnknownAspect, Version};
pub use validate::{Report, Validator, Violation};
