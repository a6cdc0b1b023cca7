// SPDX-License-Identifier: Apache-2.0
//! In-process participants with did:web identities, for the Dataspace Protocol tests.

#![allow(dead_code)]

use serde_json::{Value, json};

use super::TestConnector;

pub const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";

pub use super::process::free_port;

pub fn did(port: u16) -> String {
    format!("did:web:127.0.0.1%3A{port}")
}

pub struct Participant {
    pub connector: TestConnector,
    pub did: String,
    pub protocol: String,
}

/// A connector whose participant id is `did:web:127.0.0.1%3A<protocol port>`, trusting `trusted` (DID, BPN).
pub async fn participant(trusted: &[(&str, &str)]) -> Participant {
    participant_on(free_port(), trusted).await
}

pub async fn participant_on(port: u16, trusted: &[(&str, &str)]) -> Participant {
    participant_with_database(port, trusted, None).await
}

pub async fn participant_with_database(port: u16, trusted: &[(&str, &str)], database: Option<String>) -> Participant {
    participant_configured(port, trusted, |config| {
        if let Some(url) = database {
            config.database_url = url;
        }
    })
    .await
}

/// A participant whose configuration `tweak` adjusts before start.
pub async fn participant_configured(
    port: u16,
    trusted: &[(&str, &str)],
    tweak: impl FnOnce(&mut dsc_config::ConnectorConfig),
) -> Participant {
    let dir = tempfile::tempdir().unwrap();
    let did = did(port);
    let trust: String = trusted
        .iter()
        .map(|(did, bpn)| {
            format!("[[participant]]\ndid = \"{did}\"\nbpn = \"{bpn}\"\nmembership = \"active\"\nframework_agreements = [\"DataExchangeGovernance:1.0\"]\n")
        })
        .collect();
    let trust_file = dir.path().join("trust.toml");
    std::fs::write(&trust_file, trust).unwrap();
    let mut config = super::config(dir.path(), &[]);
    config.participant_id = did.clone();
    config.protocol_context.port = port;
    config.did_web_use_https = false;
    config.trust_file = Some(trust_file);
    config.protocol_address = format!("http://127.0.0.1:{port}/api/v1/dsp");
    // The public API's URL goes into every EDR, so it needs a known port.
    config.public_context.port = free_port();
    config.public_address = format!("http://127.0.0.1:{}{}", config.public_context.port, config.public_context.path);
    tweak(&mut config);
    let protocol = format!("{}/2025-1", config.protocol_address);
    let connector = TestConnector::start_config(config, dir).await;
    Participant { connector, did, protocol }
}

pub async fn provision_provider(provider: &TestConnector, allowed_bpn: &str) {
    let asset = json!({ "@context": { "@vocab": EDC }, "@id": "asset-1",
        "properties": { "name": "Serial parts", "contenttype": "application/json" },
        "privateProperties": { "internal": "not for the catalog" },
        "dataAddress": { "type": "HttpData", "baseUrl": "https://backend.internal/parts" } });
    assert_eq!(provider.post("/v3/assets", &asset).await.status, 200);
    let access = json!({ "@context": { "@vocab": EDC }, "@id": "access-bpn",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use",
            "constraint": [{ "leftOperand": "https://w3id.org/catenax/2025/9/policy/BusinessPartnerNumber", "operator": "eq", "rightOperand": allowed_bpn }] }] } });
    assert_eq!(provider.post("/v3/policydefinitions", &access).await.status, 200);
    let usage = json!({ "@context": { "@vocab": EDC }, "@id": "usage-framework",
        "policy": { "@context": "http://www.w3.org/ns/odrl.jsonld", "@type": "Set", "permission": [{ "action": "use",
            "constraint": [{ "leftOperand": "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement", "operator": "eq", "rightOperand": "DataExchangeGovernance:1.0" }] }] } });
    assert_eq!(provider.post("/v3/policydefinitions", &usage).await.status, 200);
    let definition = json!({ "@context": { "@vocab": EDC }, "@id": "cd-1", "accessPolicyId": "access-bpn", "contractPolicyId": "usage-framework",
        "assetsSelector": [{ "operandLeft": format!("{EDC}id"), "operator": "=", "operandRight": "asset-1" }] });
    assert_eq!(provider.post("/v3/contractdefinitions", &definition).await.status, 200);
}

pub fn catalog_request(provider: &Participant) -> Value {
    json!({ "@context": { "@vocab": EDC }, "@type": "CatalogRequest",
        "counterPartyAddress": provider.protocol, "counterPartyId": provider.did,
        "protocol": "dataspace-protocol-http:2025-1" })
}

pub fn as_list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// A consumer (BPNL000000000002) and a provider (BPNL000000000001) that trust each other.
pub async fn trusting_pair() -> (Participant, Participant) {
    let (consumer_port, provider_port) = (free_port(), free_port());
    let (consumer_did, provider_did) = (did(consumer_port), did(provider_port));
    let consumer = participant_on(consumer_port, &[(&provider_did, "BPNL000000000001")]).await;
    let provider = participant_on(provider_port, &[(&consumer_did, "BPNL000000000002")]).await;
    (consumer, provider)
}

/// The consumer's contract request for the first offer of the provider's catalog.
pub async fn contract_request_for_first_offer(consumer: &Participant, provider: &Participant) -> Value {
    let reply = consumer.connector.post("/v3/catalog/request", &catalog_request(provider)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let dataset =
        as_list(&reply.body["dataset"]).into_iter().next().unwrap_or_else(|| panic!("no dataset: {}", reply.body));
    let mut offer = as_list(&dataset["hasPolicy"]).into_iter().next().unwrap_or_else(|| panic!("no offer"));
    offer["assigner"] = json!(provider.did);
    offer["target"] = dataset["@id"].clone();
    json!({
        "@context": ["http://www.w3.org/ns/odrl.jsonld", { "@vocab": EDC }],
        "@type": "ContractRequest",
        "counterPartyAddress": provider.protocol,
        "counterPartyId": provider.did,
        "protocol": "dataspace-protocol-http:2025-1",
        "policy": offer,
    })
}

pub async fn wait_for_state(participant: &Participant, negotiation: &str, wanted: &[&str]) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let reply = participant.connector.get(&format!("/v3/contractnegotiations/{negotiation}")).await;
        let state = reply.body["state"].as_str().unwrap_or_default().to_string();
        if wanted.contains(&state.as_str()) {
            return reply.body;
        }
        assert!(std::time::Instant::now() < deadline, "negotiation stuck in {state}: {}", reply.body);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Sends raw DSP messages as the consumer would, signed with the consumer's own key (read from its vault).
pub struct RawPeer {
    pub identity: dsc_identity::SigningIdentity,
}

impl RawPeer {
    pub async fn of(participant: &Participant) -> Self {
        let config = &participant.connector.config;
        let key = match &config.vault_key {
            dsc_config::VaultKeySource::File { path, .. } => dsc_vault::VaultKey::from_file(path, false),
            dsc_config::VaultKeySource::Value(text) => dsc_vault::VaultKey::from_base64(text),
        }
        .unwrap();
        let vault = dsc_vault::EncryptedFileVault::open(&config.vault_file, key).await.unwrap();
        let pem = dsc_vault::Vault::resolve(&vault, &config.participant_key_alias)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("no key"));
        RawPeer { identity: dsc_identity::SigningIdentity::from_pem(&participant.did, pem.expose()).unwrap() }
    }

    pub async fn send(&self, audience: &str, method: reqwest::Method, url: &str, body: Option<Value>) -> super::Reply {
        let token = self.identity.self_issued_token(audience, std::time::Duration::from_secs(60)).unwrap_or_default();
        let mut request = super::client().request(method, url).header("Authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        super::Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }
}

/// A DSP error body of `error_type` with `status` as its code and a reason containing `reason`.
pub fn assert_dsp_error(reply: &super::Reply, error_type: &str, status: u16, reason: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["@type"], error_type, "{}", reply.body);
    assert_eq!(reply.body["code"], status.to_string());
    let reasons = reply.body["reason"].to_string();
    assert!(reasons.contains(reason), "expected '{reason}' in {reasons}");
}
