// SPDX-License-Identifier: Apache-2.0
//! The OAuth service client against the harness's authorization server (`scripts/harness.sh up oauth`, npm
//! oidc-provider; with HARNESS_OAUTH_PROVIDER=keycloak the same tests run against Keycloak). Skipped without
//! TEST_OAUTH_REGISTRATION_URL unless TEST_REQUIRE_KAFKA is set (the harness that CI starts has both).
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    dsc_oauth::contract_tests::client_lifecycle(settings).await;
}

#[tokio::test]
async fn bad_credentials_get_the_standard_error_codes() {
    let Some(settings) = settings().await else { return };
    dsc_oauth::contract_tests::bad_credentials(settings).await;
}

/// Settings for a server on a local port (which the tests keep closed or stalled).
fn local_settings(port: u16, timeout: Duration, attempts: u32) -> OAuthSettings {
    OAuthSettings {
        issuer: format!("http://127.0.0.1:{port}"),
        token_endpoint: format!("http://127.0.0.1:{port}/token"),
        registration_endpoint: format!("http://127.0.0.1:{port}/reg"),
        revocation_endpoint: None,
        introspection_endpoint: None,
        initial_access_token: SecretString::new("x"),
        audience: "urn:kafka".into(),
        audience_parameter: AudienceParameter::Resource,
        principal_claim: "sub".into(),
        timeout,
        attempts,
    }
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_reported() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    drop(listener);
    let settings = local_settings(port, Duration::from_millis(500), 2);
    let started = std::time::Instant::now();
    let error = OAuthClient::new(settings).unwrap().register("x").await.err();
    assert!(
        matches!(&error, Some(OAuthError::Unavailable { endpoint, .. }) if endpoint.ends_with("/reg")),
        "{error:?}"
    );
    assert!(started.elapsed() >= Duration::from_millis(200), "it waited before the second attempt");
}

#[tokio::test]
async fn a_server_that_stalls_is_timed_out_retried_then_reported() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Accepts connections and reads requests, but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let stalling = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let settings = local_settings(port, Duration::from_millis(300), 3);
    let started = std::time::Instant::now();
    let error = OAuthClient::new(settings).unwrap().register("x").await.err();
    assert_eq!(
        error.map(|e| e.to_string()),
        Some(format!("authorization server unavailable at http://127.0.0.1:{port}/reg: no answer within 300 ms"))
    );
    // Three attempts of 300 ms with 200 and 400 ms pauses between them.
    assert!(started.elapsed() >= Duration::from_millis(1_500), "{:?}", started.elapsed());
    stalling.abort();
}

#[tokio::test]
async fn discovery_finds_the_endpoints_the_harness_announces() {
    let Some(settings) = settings().await else { return };
    let metadata = dsc_oauth::discover(&settings.issuer, Duration::from_secs(5)).await.unwrap();
    assert_eq!(metadata.token_endpoint, settings.token_endpoint);
    assert_eq!(metadata.registration_endpoint, settings.registration_endpoint);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let down = dsc_oauth::discover(&issuer, Duration::from_secs(2)).await.err();
    assert!(matches!(&down, Some(OAuthError::Unavailable { endpoint, .. }) if *endpoint == issuer), "{down:?}");
}
