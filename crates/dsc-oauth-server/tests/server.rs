// SPDX-License-Identifier: Apache-2.0
//! The built-in authorization server over real HTTP: the client's contract suite, then what only this server
//! promises (rotation with reuse detection, revocation that introspection sees, JWKS-verifiable tokens), each
//! refusal with its standard error code.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use dsc_oauth::{AudienceParameter, OAuthClient, OAuthError, OAuthSettings};
use dsc_oauth_server::{KeyRing, OAuthServer};
use dsc_store::{SqlStore, StoreSettings};
use dsc_vault::{EncryptedFileVault, SecretString, VaultKey};
use serde_json::{Value, json};

const INITIAL: &str = "initial-access-token-for-tests";
const AUDIENCE: &str = "urn:kafka:broker";

struct Running {
    issuer: String,
    server: Arc<OAuthServer>,
    vault: Arc<EncryptedFileVault>,
    _dir: tempfile::TempDir,
}

async fn start(access_token_seconds: i64) -> Running {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/oauth.db?mode=rwc", dir.path().display());
    let store = SqlStore::connect(&StoreSettings::new(url)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}/oauth", listener.local_addr().unwrap());
    let vault = Arc::new(EncryptedFileVault::open(dir.path().join("vault.json"), VaultKey::generate()).await.unwrap());
    let stored = dsc_oauth_server::load_keys(vault.as_ref()).await.unwrap();
    let keys = KeyRing::from_stored(&stored, 0).unwrap();
    let server = Arc::new(OAuthServer {
        issuer: issuer.clone(),
        audience: AUDIENCE.into(),
        scope: "kafka".into(),
        access_token_seconds,
        refresh_token_seconds: 3600,
        initial_access_token: dsc_oauth_server::InitialAccessToken::Fixed(INITIAL.into()),
        keys: std::sync::RwLock::new(keys),
        store: Arc::new(store),
    });
    let app = axum::Router::new().nest("/oauth", dsc_oauth_server::router(server.clone()));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Running { issuer, server, vault, _dir: dir }
}

fn settings(issuer: &str) -> OAuthSettings {
    OAuthSettings {
        issuer: issuer.to_string(),
        token_endpoint: format!("{issuer}/token"),
        registration_endpoint: format!("{issuer}/register"),
        revocation_endpoint: Some(format!("{issuer}/revoke")),
        introspection_endpoint: Some(format!("{issuer}/introspect")),
        initial_access_token: SecretString::new(INITIAL),
        audience: AUDIENCE.into(),
        // The built-in server puts its one audience into every token by itself.
        audience_parameter: AudienceParameter::None,
        principal_claim: "sub".into(),
        timeout: Duration::from_secs(5),
        attempts: 2,
    }
}

#[tokio::test]
async fn the_client_contract_suite_passes() {
    let server = start(300).await;
    dsc_oauth::contract_tests::client_lifecycle(settings(&server.issuer)).await;
    dsc_oauth::contract_tests::bad_credentials(settings(&server.issuer)).await;
}

#[tokio::test]
async fn metadata_and_jwks_describe_tokens_a_broker_can_verify() {
    let server = start(300).await;
    let metadata: Value = reqwest::get(format!("{}/.well-known/oauth-authorization-server", server.issuer))
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null);
    assert_eq!(metadata["issuer"], server.issuer.as_str());
    assert_eq!(metadata["token_endpoint"], format!("{}/token", server.issuer));
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(format!("{}/jwks", server.issuer)).await.unwrap().json().await.unwrap();

    let client = OAuthClient::new(settings(&server.issuer)).unwrap();
    let registered = client.register("broker-check").await.unwrap();
    let token = client.token(&registered).await.unwrap();
    // What Kafka does: pick the key by kid from the JWKS, check signature, issuer, audience and expiry.
    let header = jsonwebtoken::decode_header(token.access_token.expose()).unwrap();
    let kid = header.kid.unwrap_or_default();
    let jwk = jwks.find(&kid).unwrap_or_else(|| panic!("kid {kid} is in the JWKS"));
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_issuer(&[&server.issuer]);
    validation.set_audience(&[AUDIENCE]);
    let claims = jsonwebtoken::decode::<Value>(token.access_token.expose(), &key, &validation).unwrap().claims;
    assert_eq!(claims["sub"], registered.client_id.as_str());
    assert_eq!(claims["scope"], "kafka");
    for claim in ["exp", "iat", "jti"] {
        assert!(claims.get(claim).is_some(), "{claim} is present");
    }

    // A tampered token is not active (the first signature character carries full bits, unlike the last).
    let (signed, signature) = token.access_token.expose().rsplit_once('.').unwrap_or_default();
    let first = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);
    assert!(!client.introspect(&registered, &SecretString::new(tampered)).await.unwrap_or(true));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let server = start(300).await;
    let client = OAuthClient::new(settings(&server.issuer)).unwrap();
    let registered = client.register("rotation").await.unwrap();
    let first = client.token(&registered).await.unwrap();
    let first_refresh = first.refresh_token.clone().unwrap_or_else(|| panic!("a refresh token"));
    let second = client.refresh(&registered, &first_refresh).await.unwrap();
    let second_refresh = second.refresh_token.clone().unwrap_or_else(|| panic!("a rotated refresh token"));
    assert_ne!(second_refresh.expose(), first_refresh.expose(), "rotation issues a new refresh token");
    assert!(client.introspect(&registered, &second_refresh).await.unwrap_or(false), "the new one is active");

    // The old one comes back: refused, and the whole family (the new one too) is revoked.
    let reused = client.refresh(&registered, &first_refresh).await.err();
    assert_eq!(reused.as_ref().and_then(OAuthError::code), Some("invalid_grant"), "{reused:?}");
    let after = client.refresh(&registered, &second_refresh).await.err();
    assert_eq!(after.as_ref().and_then(OAuthError::code), Some("invalid_grant"), "{after:?}");
    assert!(!client.introspect(&registered, &second_refresh).await.unwrap_or(true));

    // Another client cannot use this client's refresh token.
    let other = client.register("other").await.unwrap();
    let mine = client.token(&registered).await.unwrap();
    let stolen = client.refresh(&other, &mine.refresh_token.unwrap_or_else(|| panic!("refresh"))).await.err();
    assert_eq!(stolen.as_ref().and_then(OAuthError::code), Some("invalid_grant"));
}

#[tokio::test]
async fn revoked_and_expired_access_tokens_are_inactive() {
    // Two seconds, not one: `exp` counts whole seconds, so a one-second token issued late in a second was already
    // expired when the first introspection of a loaded machine reached it (seen once in the full suite).
    let server = start(2).await;
    let client = OAuthClient::new(settings(&server.issuer)).unwrap();
    let registered = client.register("revocation").await.unwrap();
    let token = client.token(&registered).await.unwrap();
    assert!(client.introspect(&registered, &token.access_token).await.unwrap_or(false));
    client.revoke(&registered, &token.access_token, "access_token").await.unwrap();
    assert!(!client.introspect(&registered, &token.access_token).await.unwrap_or(true), "revoked");
    let short = client.token(&registered).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(!client.introspect(&registered, &short.access_token).await.unwrap_or(true), "expired");
}

#[tokio::test]
async fn bad_requests_get_the_standard_error_codes() {
    let server = start(300).await;
    let http = reqwest::Client::new();
    let register =
        |body: Value| http.post(format!("{}/register", server.issuer)).bearer_auth(INITIAL).json(&body).send();
    let implicit = register(json!({ "grant_types": ["implicit"] })).await.unwrap();
    assert_eq!(implicit.status().as_u16(), 400);
    let body: Value = implicit.json().await.unwrap_or(Value::Null);
    assert_eq!(body["error"], "invalid_client_metadata");

    let client = OAuthClient::new(settings(&server.issuer)).unwrap();
    let registered = client.register("codes").await.unwrap();
    let password = http
        .post(format!("{}/token", server.issuer))
        .basic_auth(&registered.client_id, Some(registered.client_secret.expose()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("grant_type=password&username=a&password=b")
        .send()
        .await
        .unwrap();
    assert_eq!(password.status().as_u16(), 400);
    assert_eq!(password.json::<Value>().await.unwrap_or(Value::Null)["error"], "unsupported_grant_type");

    let unknown = client.refresh(&registered, &SecretString::new("never-issued")).await.err();
    assert_eq!(unknown.as_ref().and_then(OAuthError::code), Some("invalid_grant"));

    let wrong_registration_token = http
        .delete(registered.registration_client_uri.clone().unwrap_or_default())
        .bearer_auth("not-the-registration-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_registration_token.status().as_u16(), 401);
    assert_eq!(wrong_registration_token.json::<Value>().await.unwrap_or(Value::Null)["error"], "invalid_token");

    let mut ghost = registered.clone();
    ghost.client_id = "no-such-client".into();
    let refused = client.token(&ghost).await.err();
    assert_eq!(refused.as_ref().and_then(OAuthError::code), Some("invalid_client"));
}

#[tokio::test]
async fn a_rotated_signing_key_keeps_verifying_its_tokens_until_they_expire() {
    let running = start(300).await;
    let client = OAuthClient::new(settings(&running.issuer)).unwrap();
    let registered = client.register("rotation").await.unwrap();
    let before = client.token(&registered).await.unwrap();
    let jwks = |issuer: String| async move {
        reqwest::get(format!("{issuer}/jwks")).await.unwrap().json::<Value>().await.unwrap_or_default()
    };
    assert_eq!(jwks(running.issuer.clone()).await["keys"].as_array().map(Vec::len), Some(1));

    let vault = running.vault.as_ref();
    // A second replica on the same vault (the database vault, shared), started before the rotation.
    let replica = OAuthServer {
        issuer: running.issuer.clone(),
        audience: AUDIENCE.into(),
        scope: "kafka".into(),
        access_token_seconds: 300,
        refresh_token_seconds: 3600,
        initial_access_token: dsc_oauth_server::InitialAccessToken::Fixed(INITIAL.into()),
        keys: std::sync::RwLock::new(
            KeyRing::from_stored(&dsc_oauth_server::load_keys(vault).await.unwrap(), 0).unwrap(),
        ),
        store: running.server.store.clone(),
    };
    assert!(!running.server.rotate_if_due(vault, 3600, 1).await.unwrap_or(true), "a fresh key is not due");
    let kid = |token: &SecretString| {
        jsonwebtoken::decode_header(token.expose()).ok().and_then(|header| header.kid).unwrap_or_default()
    };
    let kids_of = |published: &Value| -> Vec<String> {
        published["keys"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k["kid"].as_str().map(str::to_string))
            .collect()
    };

    // First phase: the next key is published by both replicas, and nobody signs with it yet.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(!running.server.rotate_if_due(vault, 1, 1).await.unwrap_or(true), "published, not promoted");
    assert!(!replica.rotate_if_due(vault, i64::MAX, 0).await.unwrap_or(true));
    let next_kid = replica.keys.read().ok().and_then(|keys| keys.next.as_ref().map(|k| k.kid.clone())).unwrap();
    assert_eq!(kids_of(&jwks(running.issuer.clone()).await), vec![kid(&before.access_token), next_kid.clone()]);
    assert_eq!(replica.keys.read().map(|keys| keys.jwks(0).keys.len()).unwrap_or_default(), 2);
    assert_eq!(kid(&client.token(&registered).await.unwrap().access_token), kid(&before.access_token));

    // Second phase, once it has been published long enough: it signs.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(running.server.rotate_if_due(vault, 1, 1).await.unwrap_or(false), "the published key is promoted");
    let after = client.token(&registered).await.unwrap();
    assert_eq!(kid(&after.access_token), next_kid, "new tokens carry the key published ahead");
    let published = jwks(running.issuer.clone()).await;
    let kids: Vec<&str> =
        published["keys"].as_array().into_iter().flatten().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(kids.len(), 2, "{published}");
    assert!(kids.contains(&kid(&before.access_token).as_str()) && kids.contains(&kid(&after.access_token).as_str()));
    assert!(client.introspect(&registered, &before.access_token).await.unwrap_or(false), "the old token is active");
    assert!(client.introspect(&registered, &after.access_token).await.unwrap_or(false));

    // The other replica's next check is not due (the key is fresh) and picks the rotated ring up from the vault.
    assert!(!replica.rotate_if_due(vault, 3600, 1).await.unwrap_or(true));
    let replica_kid = replica.keys.read().map(|keys| keys.current.kid.clone()).unwrap_or_default();
    assert_eq!(replica_kid, kid(&after.access_token), "the replica signs with the rotated key");

    // A restart reads the same ring from the vault.
    let stored = dsc_oauth_server::load_keys(vault).await.unwrap();
    let ring = KeyRing::from_stored(&stored, 0).unwrap();
    assert_eq!(ring.current.kid, kid(&after.access_token));
    assert_eq!(ring.previous.len(), 1);
}
