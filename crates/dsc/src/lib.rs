// SPDX-License-Identifier: Apache-2.0
//! The connector runtime: wires configuration, stores, vault, services and web contexts together.
//!
//! This is the only crate that knows every other one; nothing depends on it.

pub mod cli;
mod kafka;
pub mod logging;
mod oauth;
pub mod plugins;
pub mod runtime;
pub mod settings;
pub mod telemetry;
