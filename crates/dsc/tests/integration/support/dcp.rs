// SPDX-License-Identifier: Apache-2.0
//! Participants that prove who they are with verifiable credentials (DCP), and the issuer that gives them theirs.

#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{Value, json};

use super::peers::{Participant, did, free_port};
use super::{API_KEY, TestConnector};

pub const ADMIN_KEY: &str = "issuer-admin-key-for-tests";

/// A did:web issuer served in-process.
pub struct TestIssuer {
    pub did: String,
    pub url: String,
    pub issuer: Arc<dsc_dcp_issuer::Issuer>,
    _dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestIssuer {
    pub async fn start() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let did = did(port);
        let url = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().unwrap();
        let issuer = dsc_dcp_issuer::Issuer::open(&did, &url, dir.path()).unwrap();
        let router = dsc_dcp_issuer::router(issuer.clone(), "/.well-known/did.json", dsc_web::ApiKey::new(ADMIN_KEY));
        let context = dsc_web::ContextRouter { name: "issuer", port, path: String::new(), router };
        let bound = dsc_web::bind("127.0.0.1", vec![context]).await.unwrap();
        let server = tokio::spawn(bound.run(std::future::pending()));
        TestIssuer { did, url, issuer, _dir: dir, _server: server }
    }

    /// Issues `credential_type` to the participant and stores it at its connector; returns the credential's id.
    pub async fn give(&self, holder: &Participant, credential_type: &str, bpn: &str) -> String {
        let request: dsc_dcp_issuer::IssueRequest =
            serde_json::from_value(json!({"holder": holder.did, "type": credential_type, "bpn": bpn})).unwrap();
        let (record, jwt) = self.issuer.issue(&request).await.unwrap();
        let stored = holder.connector.post("/v3/credentials", &json!({"credential": jwt})).await;
        assert_eq!(stored.status, 201, "{}", stored.body);
        record.id
    }

    /// Issues `credential_type` to `holder` (a DID) and returns the credential's id and JWT, for a wallet of its own.
    pub async fn issue(&self, holder: &str, credential_type: &str, bpn: &str) -> (String, String) {
        let request: dsc_dcp_issuer::IssueRequest =
            serde_json::from_value(json!({"holder": holder, "type": credential_type, "bpn": bpn})).unwrap();
        let (record, jwt) = self.issuer.issue(&request).await.unwrap();
        (record.id, jwt)
    }

    /// Membership, BPN and framework agreement credentials: what Catena-X participants hold.
    pub async fn onboard(&self, holder: &Participant, bpn: &str) -> Vec<String> {
        let mut ids = Vec::new();
        for credential_type in ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"] {
            ids.push(self.give(holder, credential_type, bpn).await);
        }
        ids
    }
}

/// A connector on DCP (no trust list) whose DID is `did:web:127.0.0.1%3A<protocol port>`, trusting `issuer`.
pub async fn dcp_participant(issuer: &str, extra: &[(&str, &str)]) -> Participant {
    dcp_participant_on(free_port(), issuer, extra).await
}

/// The same on a given protocol port; `extra` may name another `edc.participant.id` (an external wallet's DID).
pub async fn dcp_participant_on(port: u16, issuer: &str, extra: &[(&str, &str)]) -> Participant {
    let public_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let did = extra.iter().find(|(k, _)| *k == "edc.participant.id").map(|(_, v)| v.to_string()).unwrap_or(did(port));
    let protocol_address = format!("http://127.0.0.1:{port}/api/v1/dsp");
    let public_address = format!("http://127.0.0.1:{public_port}/public");
    let mut settings = vec![
        ("edc.participant.id", did.as_str()),
        ("edc.dsp.callback.address", protocol_address.as_str()),
        ("edc.iam.did.web.use.https", "false"),
        ("dsc.iam.dcp.trusted.issuers", issuer),
        ("edc.dataplane.api.public.baseurl", public_address.as_str()),
    ];
    settings.extend(extra.iter().filter(|(k, _)| *k != "edc.participant.id").copied());
    let toml: String = settings.iter().map(|(key, value)| format!("\"{key}\" = \"{value}\"\n")).collect();
    let toml = format!(
        "\"edc.api.auth.key\" = \"{API_KEY}\"\n\"dsc.data.dir\" = \"{}\"\n\"dsc.http.bind.address\" = \"127.0.0.1\"\n{toml}",
        dir.path().display()
    );
    let registry = dsc::settings::registry().unwrap();
    let raw = dsc_config::RawConfig::from_toml_with(&registry, &toml, "test").unwrap();
    let mut config = dsc_config::ConnectorConfig::from_raw(&raw).unwrap();
    for context in [&mut config.default_context, &mut config.management_context, &mut config.control_context] {
        context.port = 0;
    }
    config.protocol_context.port = port;
    config.public_context.port = public_port;
    let protocol = format!("{protocol_address}/2025-1");
    let connector = TestConnector::start_config(config, dir).await;
    Participant { connector, did, protocol }
}

/// The body of a DSP error answer's reasons, joined.
pub fn reasons(body: &Value) -> String {
    match &body["reason"] {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}
