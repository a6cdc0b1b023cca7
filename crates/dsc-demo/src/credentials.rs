// SPDX-License-Identifier: Apache-2.0
//! The participants' verifiable credentials: the demo's issuer issues each its Membership, BPN and
//! DataExchangeGovernance credentials (its own BPN in each), and each connector stores them through its
//! Management API. Every policy in the demo is then decided on these credentials (DCP).

use serde_json::{Value, json};

use crate::DemoError;
use crate::stack::{ISSUER_ADMIN_KEY, Participant, Ports};

pub const CREDENTIAL_TYPES: [&str; 3] = ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"];

/// Issues and stores every participant's credentials; returns how many.
pub async fn onboard(ports: Ports) -> Result<usize, DemoError> {
    let step = "the issuer gives every participant its credentials";
    let http = reqwest::Client::new();
    let mut stored = 0;
    for participant in Participant::ALL {
        for credential_type in CREDENTIAL_TYPES {
            let request = json!({"holder": ports.did(participant), "type": credential_type, "bpn": participant.bpn()});
            let issued = send(
                http.post(format!("{}/admin/credentials", ports.credential_issuer_url()))
                    .bearer_auth(ISSUER_ADMIN_KEY)
                    .json(&request),
                step,
            )
            .await?;
            let credential = issued["credential"].as_str().unwrap_or_default();
            send(
                http.post(format!("{}/v3/credentials", ports.management_url(participant)))
                    .header("X-Api-Key", participant.api_key())
                    .json(&json!({"credential": credential})),
                step,
            )
            .await?;
            stored += 1;
        }
    }
    Ok(stored)
}

async fn send(request: reqwest::RequestBuilder, step: &str) -> Result<Value, DemoError> {
    let response = request.send().await.map_err(|e| DemoError::step(step, e.to_string()))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(DemoError::step(step, format!("HTTP {}: {body}", status.as_u16())));
    }
    Ok(body)
}
