// SPDX-License-Identifier: Apache-2.0
//! The connector's integration and system tests, one module per subject, in one test binary: each test binary
//! links the whole connector with librdkafka and the JSON-LD processor (about 100 MB unoptimised), and thirty of
//! them filled a CI machine's disk. Run one subject with a filter: `cargo test -p dsc --test integration dsp::`.
//!
//! In-process component tests (`management_api`, `negotiation`, `dsp`, `transfer*`, `limits`, `approval`, ...) need
//! nothing; the others start `dsc` processes and real peers from `scripts/harness.sh` (PostgreSQL, Kafka, the OAuth
//! server, Eclipse EDC, Identity Hub, the DSP and DCP TCKs, schemathesis) and say in a notice when one is missing,
//! or fail when `scripts/test.sh` required it (`TEST_REQUIRE_*`).
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// At the root, as in the Kafka PULL bench that includes the same files, so `crate::kafka` means the same in both.
#[path = "support/kafka.rs"]
mod kafka;
mod support;

mod approval;
mod binary;
mod crash_recovery;
mod database_outage;
mod dcp;
mod dcp_tck;
mod dcp_wallet;
mod demo;
mod dsp;
mod dsp_tck;
mod edc_dcp;
mod edc_interop;
mod http_fuzz;
mod kafka_pull;
mod limits;
mod management_api;
mod metrics;
mod negotiation;
mod oauth_server;
mod readme;
mod replicas;
mod secret_scan;
mod traces;
mod transfer;
mod transfer_dsp;
mod transfer_errors;
mod transfer_processes;
mod two_processes;
mod validate_cli;
