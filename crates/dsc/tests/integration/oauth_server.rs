// SPDX-License-Identifier: Apache-2.0
//! The connector with its built-in OAuth server enabled: it serves RFC 8414 metadata on its own context, keeps its
//! signing key and initial access token in the vault, and passes the OAuth
//! client's contract suite.

use crate::support;

use std::time::Duration;

use dsc_oauth::{AudienceParameter, OAuthSettings};
use dsc_vault::SecretString;
use serde_json::Value;
use support::peers::{Participant, free_port, participant_configured};

async fn with_oauth() -> (Participant, String) {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}/oauth");
    let expected = issuer.clone();
    let participant = participant_configured(free_port(), &[], move |config| {
        config.oauth_server = Some(dsc_config::OAuthServerConfig {
            context: dsc_config::WebContext { name: "oauth", port, path: "/oauth".into() },
            issuer: expected,
            audience: "urn:kafka:broker".into(),
            access_token_seconds: 60,
            refresh_token_seconds: 3600,
            initial_access_token_alias: "dsc-oauth-initial-access-token".into(),
            key_rotation_seconds: 0,
        });
    })
    .await;
    (participant, issuer)
}

async fn vault_secret(participant: &Participant, key: &str) -> String {
    let config = &participant.connector.config;
    let vault_key = match &config.vault_key {
        dsc_config::VaultKeySource::File { path, .. } => dsc_vault::VaultKey::from_file(path, false),
        dsc_config::VaultKeySource::Value(text) => dsc_vault::VaultKey::from_base64(text),
    }
    .unwrap();
    let vault = dsc_vault::EncryptedFileVault::open(&config.vault_file, vault_key).await.unwrap();
    dsc_vault::Vault::resolve(&vault, key)
        .await
        .ok()
        .flatten()
        .map(|secret| secret.expose().to_string())
        .unwrap_or_else(|| panic!("{key} is not in the vault"))
}

#[tokio::test]
async fn the_built_in_server_passes_the_client_contract_suite() {
    let (participant, issuer) = with_oauth().await;
    let metadata: Value = support::client()
        .get(format!("{issuer}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null);
    assert_eq!(metadata["issuer"], issuer.as_str());
    let endpoint = |name: &str| metadata[name].as_str().unwrap_or_else(|| panic!("{name} in {metadata}")).to_string();
    let settings = OAuthSettings {
        issuer: issuer.clone(),
        token_endpoint: endpoint("token_endpoint"),
        registration_endpoint: endpoint("registration_endpoint"),
        revocation_endpoint: Some(endpoint("revocation_endpoint")),
        introspection_endpoint: Some(endpoint("introspection_endpoint")),
        initial_access_token: SecretString::new(vault_secret(&participant, "dsc-oauth-initial-access-token").await),
        audience: "urn:kafka:broker".into(),
        audience_parameter: AudienceParameter::None,
        principal_claim: "sub".into(),
        timeout: Duration::from_secs(5),
        attempts: 2,
    };
    dsc_oauth::contract_tests::client_lifecycle(settings.clone()).await;
    dsc_oauth::contract_tests::bad_credentials(settings.clone()).await;

    // Replacing the secret in the vault rotates the initial access token at once.
    let rotate = serde_json::json!({ "@context": { "@vocab": "https://w3id.org/edc/v0.0.1/ns/" },
        "@id": "dsc-oauth-initial-access-token", "value": "rotated-initial-access-token" });
    assert_eq!(participant.connector.put("/v3/secrets", &rotate).await.status, 204);
    let old = dsc_oauth::OAuthClient::new(settings.clone()).unwrap().register("old").await.err();
    assert_eq!(old.as_ref().and_then(dsc_oauth::OAuthError::code), Some("invalid_token"));
    let mut rotated = settings;
    rotated.initial_access_token = SecretString::new("rotated-initial-access-token");
    let client = dsc_oauth::OAuthClient::new(rotated).unwrap();
    assert!(client.register("new").await.is_ok(), "the new initial access token registers");
    let ring: Value = serde_json::from_str(&vault_secret(&participant, "dsc-oauth-server-signing-keys").await).unwrap();
    assert!(
        ring["current"]["pem"].as_str().is_some_and(|pem| pem.starts_with("-----BEGIN PRIVATE KEY-----")),
        "the signing key lives in the vault"
    );
}
