// SPDX-License-Identifier: Apache-2.0
//! `dsc demo`: Kafka PULL end to end on one machine. A Kafka broker, a credential issuer, Supplier A's connector
//! (built-in OAuth server, embedded data plane, SQLite) and three consumer connectors run as real processes; every
//! participant proves who it is with verifiable credentials from that issuer (DCP); Supplier A's offers are set up
//! through its Management API; a simulated line 3 produces the records of two use cases (`docs/use-cases/a-*` and
//! `b-*`); the consumers negotiate, transfer and read through their own connectors; then the transfer lifecycle
//! (suspend, resume, terminate) is shown and checked. Every step says what it expects, and the run fails naming the
//! first step that did not behave.
//!
//! - `plant`: the simulated plant and its records;
//! - `stack`: the processes (broker, issuer, connectors) and their ports;
//! - `credentials`: the participants' verifiable credentials;
//! - `provision`: Supplier A's assets, policies and contract definitions;
//! - `feed`: topics and the provider's producer;
//! - `reader`: the consumers' streams;
//! - `flow`: the steps (`lifecycle`: suspend, resume, terminate; `explore`: `--keep-running`);
//! - `view`: the 80-column live view.

pub mod credentials;
pub mod feed;
pub mod flow;
pub mod management;
pub mod plant;
pub mod provision;
pub mod reader;
pub mod stack;
pub mod view;

use std::path::PathBuf;

pub use flow::run;

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The `dsc` executable started for each connector.
    pub dsc: PathBuf,
    /// Apache Kafka's jars (`scripts/harness.sh fetch kafka`).
    pub kafka_lib: PathBuf,
    /// The Java runtime for the broker.
    pub java: String,
    /// Working directory (configurations, databases, logs); emptied at start.
    pub dir: PathBuf,
    /// First of the 47 ports the demo may listen on.
    pub port_base: u16,
    /// Leave everything running after the last step, until Ctrl-C.
    pub keep_running: bool,
    /// Redraw the live view in place (stdout is a terminal).
    pub terminal: bool,
}

/// The step that did not behave as announced, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step '{step}' failed: {reason}")]
pub struct DemoError {
    pub step: String,
    pub reason: String,
}

impl DemoError {
    pub fn step(step: &str, reason: impl Into<String>) -> DemoError {
        DemoError { step: step.to_string(), reason: reason.into() }
    }
}
