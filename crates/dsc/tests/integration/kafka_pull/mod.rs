// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL end to end: provider and consumer as two `dsc` processes, the harness's real Apache Kafka (SASL/PLAIN
//! admin listener, SASL/OAUTHBEARER listener validating JWTs) and OAuth server, and a real Kafka client (rdkafka)
//! that reads with nothing but the EDR.
//!
//! - `reading`: 60 s of reading through token refresh, the EDR's fields, the attack matrix, a missing topic;
//! - `revocation`: suspend cuts a polling consumer off, resume grants anew, terminate leaves nothing;
//! - `crash`: kill -9 between granting access and the start message, and in the middle of concurrent starts;
//! - `chaos`: provider and consumer on PostgreSQL killed at random during mixed negotiations and transfers;
//! - `scale`: 100 concurrent transfers, each with its own identity;
//! - `replicas`: three provider replicas on PostgreSQL and the database vault, 300 negotiations, 100 transfers, a kill;
//! - `failures`: OAuth service or broker down during the start;
//! - `built_in_oauth`: a broker of its own trusting the provider's built-in OAuth server;
//! - `consume_cli`: `dsc consume` / `dsc produce` as processes;
//! - `aspects`: a topic carrying a CX-0127 aspect model, declared in the catalog and validated on both sides;
//! - `examples`: the Python and Java consumer examples in `examples/`;
//! - `group`: eight consumers of one transfer in one group through short-lived tokens for a minute;
//! - `monitor`: the policy monitor cuts a Kafka consumer off when its contract expires;
//! - `secrets`: no Kafka secret or token in any log (trace level) or database;
//! - `edc_dcp`: an Eclipse EDC consumer on DCP (Identity Hub wallet) reads a topic with the EDR it received.
//!
//! Needs `scripts/harness.sh up postgres oauth kafka` and its `env`; `TEST_REQUIRE_KAFKA=1` (scripts/test.sh) turns a
//! missing harness into a failure instead of a notice.

mod aspects;
mod built_in_oauth;
mod chaos;
mod consume_cli;
mod crash;
mod edc_dcp;
mod examples;
mod failures;
mod group;
mod monitor;
mod reading;
mod replicas;
mod revocation;
mod scale;
mod secrets;
