// SPDX-License-Identifier: Apache-2.0
//! Kafka PULL system-test helpers (also included with `#[path]` by the Kafka PULL bench): the harness's broker and OAuth server, a provider configured for them, and a
//! real Kafka client (rdkafka) that reads with nothing but an EDR — taking each token from the consumer
//! connector's `/v3/edrs/{id}/dataaddress?auto_refresh=true`, as a Kafka application would.

#![allow(dead_code)]

#[path = "kafka/client.rs"]
mod client;
#[path = "kafka/flow.rs"]
mod flow;
#[path = "kafka/harness.rs"]
mod harness;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde_json::Value;

pub use client::*;
pub use flow::*;
pub use harness::*;

pub const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("{prefix}-{nanos:x}")
}

/// The claims of a JWT, read without verification.
pub fn claims(jwt: &str) -> Value {
    jwt.split('.')
        .nth(1)
        .and_then(|part| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

pub fn principal_of(edr: &Value, claim: &str) -> String {
    let token = edr["authorization"].as_str().unwrap_or_default();
    format!("User:{}", claims(token)[claim].as_str().unwrap_or_default())
}

/// The ACLs the broker must hold for the transfer an EDR describes: its principal's grant on `topic` with the EDR's
/// group prefix, exactly as dsc-kafka-admin defines a grant.
pub fn acls_for(edr: &Value, claim: &str, topic: &str) -> Vec<dsc_kafka_admin::AclBinding> {
    dsc_kafka_admin::ConsumerGrant {
        principal: principal_of(edr, claim),
        topic: topic.to_string(),
        group_prefix: edr["kafka.group.prefix"].as_str().unwrap_or_default().to_string(),
    }
    .bindings()
}
