// SPDX-License-Identifier: Apache-2.0
//! The OAuth service client against the harness's authorization server (`scripts/harness.sh up oauth`, npm
//! oidc-provider; with HARNESS_OAUTH_PROVIDER=keycloak the same tests run against Keycloak). Skipped without
//! TEST_OAUTH_REGISTRATION_URL unless TEST_REQUIRE_KAFKA is set (the harness that CI starts has both).

use std::time::Duration;

use dsc_oauth::{AudienceParameter, OAuthClient, OAuthError, OAuthSettings};
use dsc_vault::SecretString;
use serde_json::Value;

async fn settings() -> Option<OAuthSettings> {
    // The binary installs the TLS provider at start; tests do it themselves.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(registration) = var("TEST_OAUTH_REGISTRATION_URL") else {
        assert!(
            var("TEST_REQUIRE_KAFKA").is_none(),
            "the harness is required but TEST_OAUTH_REGISTRATION_URL is not set"
        );
        eprintln!("skipped: no authorization server (scripts/harness.sh up oauth; eval \"$(scripts/harness.sh env)\")");
        return None;
    };
    let issuer = var("TEST_OAUTH_ISSUER").unwrap_or_default();
    // Revocation and introspection endpoints come from the server's metadata, as a deployment would read them.
    let metadata: Value = reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
        .await
        .ok()?
        .json()
        .await
        .unwrap_or(Value::Null);
    let endpoint = |name: &str| metadata.get(name).and_then(Value::as_str).map(str::to_string);
    let resource = var("TEST_OAUTH_RESOURCE");
    Some(OAuthSettings {
        token_endpoint: var("TEST_OAUTH_TOKEN_URL").unwrap_or_default(),
        registration_endpoint: registration,
        revocation_endpoint: endpoint("revocation_endpoint"),
        introspection_endpoint: endpoint("introspection_endpoint"),
        initial_access_token: SecretString::new(var("TEST_OAUTH_INITIAL_ACCESS_TOKEN").unwrap_or_default()),
        audience: resource.clone().or_else(|| var("TEST_OAUTH_AUDIENCE")).unwrap_or_default(),
        audience_parameter: if resource.is_some() { AudienceParameter::Resource } else { AudienceParameter::None },
        principal_claim: var("TEST_KAFKA_PRINCIPAL_CLAIM").unwrap_or_else(|| "sub".into()),
        timeout: Duration::from_secs(10),
        attempts: 3,
        issuer,
    })
}

#[tokio::test]
async fn a_client_lives_from_registration_to_deletion() {
    let Some(settings) = settings().await else { return };
    let client = OAuthClient::new(settings).unwrap_or_else(|e| panic!("{e}"));
    let registered = client.register("dsc-contract-test").await.unwrap_or_else(|e| panic!("register: {e}"));
    assert!(!registered.client_id.is_empty());

    let token = client.token(&registered).await.unwrap_or_else(|e| panic!("token: {e}"));
    assert!(token.expires_in.is_some_and(|s| s > 0), "a lifetime is announced");
    assert_eq!(
        client.principal(&token.access_token).unwrap_or_else(|e| panic!("{e}")),
        registered.client_id,
        "the broker's principal is the client"
    );
    let second = client.token(&registered).await.unwrap_or_else(|e| panic!("token: {e}"));
    assert_ne!(second.access_token.expose(), token.access_token.expose(), "every request gets a fresh token");

    // JWT access tokens for a resource server are self-contained: oidc-provider neither introspects them for other
    // clients nor can it revoke them (the broker checks them itself, which is why Kafka access is cut by ACLs).
    // Both calls must be answered as the RFCs describe: a result, or `unsupported_token_type` (RFC 7009 §2.2.1).
    let acceptable = |result: &Result<(), OAuthError>| {
        result.is_ok() || result.as_ref().err().and_then(OAuthError::code) == Some("unsupported_token_type")
    };
    if client.settings().introspection_endpoint.is_some() {
        let introspected = client.introspect(&registered, &token.access_token).await.map(|_| ());
        assert!(acceptable(&introspected), "introspection: {introspected:?}");
    }
    let revoked = client.revoke(&registered, &token.access_token, "access_token").await;
    assert!(acceptable(&revoked), "revocation: {revoked:?}");
    client
        .revoke(&registered, &SecretString::new("unknown-token"), "access_token")
        .await
        .unwrap_or_else(|e| panic!("revoking an unknown token succeeds (RFC 7009 §2.2): {e}"));

    client.delete(&registered).await.unwrap_or_else(|e| panic!("delete: {e}"));
    let after = client.token(&registered).await.err();
    assert_eq!(after.as_ref().and_then(OAuthError::code), Some("invalid_client"), "{after:?}");
}

#[tokio::test]
async fn bad_credentials_get_the_standard_error_codes() {
    let Some(settings) = settings().await else { return };
    let mut wrong_initial = settings.clone();
    wrong_initial.initial_access_token = SecretString::new("not-the-initial-access-token");
    let refused = OAuthClient::new(wrong_initial).unwrap_or_else(|e| panic!("{e}")).register("x").await.err();
    assert!(matches!(refused, Some(OAuthError::Refused { status: 401, .. })), "{refused:?}");
    assert_eq!(refused.as_ref().and_then(OAuthError::code), Some("invalid_token"), "RFC 6750 for a bad bearer token");

    let client = OAuthClient::new(settings).unwrap_or_else(|e| panic!("{e}"));
    let mut registered = client.register("dsc-contract-test").await.unwrap_or_else(|e| panic!("register: {e}"));
    let real_secret = registered.client_secret.clone();
    registered.client_secret = SecretString::new("wrong-secret");
    let refused = client.token(&registered).await.err();
    assert_eq!(refused.as_ref().and_then(OAuthError::code), Some("invalid_client"), "{refused:?}");
    registered.client_secret = real_secret;
    let _ = client.delete(&registered).await;
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    drop(listener);
    let settings = OAuthSettings {
        issuer: format!("http://127.0.0.1:{port}"),
        token_endpoint: format!("http://127.0.0.1:{port}/token"),
        registration_endpoint: format!("http://127.0.0.1:{port}/reg"),
        revocation_endpoint: None,
        introspection_endpoint: None,
        initial_access_token: SecretString::new("x"),
        audience: "urn:kafka".into(),
        audience_parameter: AudienceParameter::Resource,
        principal_claim: "sub".into(),
        timeout: Duration::from_millis(500),
        attempts: 2,
    };
    let started = std::time::Instant::now();
    let error = OAuthClient::new(settings).unwrap_or_else(|e| panic!("{e}")).register("x").await.err();
    assert!(
        matches!(&error, Some(OAuthError::Unavailable { endpoint, .. }) if endpoint.ends_with("/reg")),
        "{error:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(200), "it waited before the second attempt");
}
