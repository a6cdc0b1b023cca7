// SPDX-License-Identifier: Apache-2.0
//! Self-issued tokens against the verifier: the happy path over a real did:web HTTP resolution on loopback, and
//! every way a token can be refused.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_identity::{DidResolver, HttpDidResolver, IdentityError, SigningIdentity, TokenVerifier, TrustList};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const PROVIDER: &str = "did:web:provider.example";
const CONSUMER: &str = "did:web:consumer.example";

struct StaticResolver(HashMap<String, Value>);

#[async_trait]
impl DidResolver for StaticResolver {
    async fn resolve(&self, did: &str) -> Result<Value, IdentityError> {
        self.0.get(did).cloned().ok_or_else(|| IdentityError::Resolution(did.into(), "not found".into()))
    }
}

fn trust(did: &str) -> TrustList {
    TrustList::from_toml(&format!(
        "[[participant]]\ndid = \"{did}\"\nbpn = \"BPNL000000000002\"\nmembership = \"active\"\nframework_agreements = [\"DataExchangeGovernance:1.0\"]\n"
    ))
    .unwrap()
}

/// The consumer's identity and a provider-side verifier that knows the consumer's DID document.
fn setup() -> (SigningIdentity, String, TokenVerifier) {
    let (consumer, pem) = SigningIdentity::generate(CONSUMER).unwrap();
    let resolver = StaticResolver(HashMap::from([(CONSUMER.to_string(), consumer.did_document())]));
    let verifier = TokenVerifier::new(PROVIDER, Arc::new(resolver), Arc::new(trust(CONSUMER)));
    (consumer, pem, verifier)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

fn sign(pem: &str, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_string());
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn a_valid_token_yields_the_participant_with_its_claims() {
    let (consumer, _, verifier) = setup();
    let token = consumer.self_issued_token(PROVIDER, Duration::from_secs(60)).unwrap_or_default();
    let agent = verifier.verify(Some(&format!("Bearer {token}"))).await.unwrap();
    assert_eq!(agent.id, CONSUMER);
    assert_eq!(agent.claim_str("bpn"), Some("BPNL000000000002"));
    assert_eq!(agent.claim_strings("frameworkAgreements"), vec!["DataExchangeGovernance:1.0"]);
    // Without the Bearer prefix too (EDC before 0.14 sends the raw token).
    let raw = consumer.self_issued_token(PROVIDER, Duration::from_secs(60)).unwrap_or_default();
    assert!(verifier.verify(Some(&raw)).await.is_ok());
}

#[tokio::test]
async fn forged_expired_replayed_and_misdirected_tokens_are_refused() {
    let (consumer, pem, verifier) = setup();
    let kid = format!("{CONSUMER}#key-1");

    let (_, other_pem) = SigningIdentity::generate(CONSUMER).unwrap();
    let base = json!({ "iss": CONSUMER, "sub": CONSUMER, "aud": PROVIDER, "iat": now(), "exp": now() + 60, "jti": "j-forged" });
    let forged = sign(&other_pem, &kid, base.clone());
    assert_eq!(verifier.verify(Some(&forged)).await.err(), Some(IdentityError::BadSignature));

    let expired = consumer.self_issued_token_at(PROVIDER, now() - 600, Duration::from_secs(60)).unwrap_or_default();
    assert_eq!(verifier.verify(Some(&expired)).await.err(), Some(IdentityError::Expired));

    let elsewhere =
        consumer.self_issued_token("did:web:someone-else.example", Duration::from_secs(60)).unwrap_or_default();
    assert_eq!(verifier.verify(Some(&elsewhere)).await.err(), Some(IdentityError::WrongAudience));

    let once = consumer.self_issued_token(PROVIDER, Duration::from_secs(60)).unwrap_or_default();
    assert!(verifier.verify(Some(&once)).await.is_ok());
    assert_eq!(verifier.verify(Some(&once)).await.err(), Some(IdentityError::Replayed));

    let mut impersonation = base.clone();
    impersonation["sub"] = json!("did:web:victim.example");
    impersonation["jti"] = json!("j-imp");
    assert_eq!(
        verifier.verify(Some(&sign(&pem, &kid, impersonation))).await.err(),
        Some(IdentityError::IssuerMismatch)
    );

    let mut no_jti = base.clone();
    no_jti.as_object_mut().map(|o| o.remove("jti"));
    assert_eq!(
        verifier.verify(Some(&sign(&pem, &kid, no_jti))).await.err(),
        Some(IdentityError::Malformed("the token has no jti".into()))
    );

    let mut other_key = base.clone();
    other_key["jti"] = json!("j-key");
    let unknown_key = sign(&pem, &format!("{CONSUMER}#key-9"), other_key);
    assert_eq!(
        verifier.verify(Some(&unknown_key)).await.err(),
        Some(IdentityError::UnknownKey { did: CONSUMER.into(), kid: format!("{CONSUMER}#key-9") })
    );
}

#[tokio::test]
async fn missing_garbage_and_weak_tokens_are_refused() {
    let (_, _, verifier) = setup();
    assert_eq!(verifier.verify(None).await.err(), Some(IdentityError::MissingToken));
    assert_eq!(verifier.verify(Some("Bearer ")).await.err(), Some(IdentityError::MissingToken));
    assert!(matches!(verifier.verify(Some("not-a-jwt")).await, Err(IdentityError::Malformed(_))));
    let hmac = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({ "iss": CONSUMER, "sub": CONSUMER, "aud": PROVIDER, "exp": now() + 60, "jti": "h" }),
        &EncodingKey::from_secret(b"guessable"),
    )
    .unwrap_or_default();
    assert_eq!(
        verifier.verify(Some(&hmac)).await.err(),
        Some(IdentityError::Malformed("algorithm HS256 is not accepted; use ES256".into()))
    );
}

#[tokio::test]
async fn a_verified_but_untrusted_participant_is_refused() {
    let (stranger, _) = SigningIdentity::generate("did:web:stranger.example").unwrap();
    let resolver = StaticResolver(HashMap::from([(stranger.did().to_string(), stranger.did_document())]));
    let verifier = TokenVerifier::new(PROVIDER, Arc::new(resolver), Arc::new(trust(CONSUMER)));
    let token = stranger.self_issued_token(PROVIDER, Duration::from_secs(60)).unwrap_or_default();
    assert_eq!(
        verifier.verify(Some(&token)).await.err(),
        Some(IdentityError::UnknownParticipant("did:web:stranger.example".into()))
    );
}

#[tokio::test]
async fn did_web_documents_are_resolved_over_http() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
    let did = format!("did:web:127.0.0.1%3A{port}:connectors:consumer");
    let (consumer, _) = SigningIdentity::generate(&did).unwrap();
    let document = consumer.did_document();
    let app = axum::Router::new().route(
        "/connectors/consumer/did.json",
        axum::routing::get(move || async move { axum::Json(document.clone()) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let _ = rustls::crypto::ring::default_provider().install_default();
    let resolver = HttpDidResolver::new(reqwest::Client::new(), false, Duration::from_secs(300));
    let verifier = TokenVerifier::new(PROVIDER, Arc::new(resolver), Arc::new(trust(&did)));
    let token = consumer.self_issued_token(PROVIDER, Duration::from_secs(60)).unwrap_or_default();
    let agent = verifier.verify(Some(&format!("Bearer {token}"))).await.unwrap();
    assert_eq!(agent.id, did);

    let missing = HttpDidResolver::new(reqwest::Client::new(), false, Duration::from_secs(1));
    let error = missing.resolve(&format!("did:web:127.0.0.1%3A{port}:nobody")).await.err();
    assert_eq!(
        error,
        Some(IdentityError::Resolution(
            format!("did:web:127.0.0.1%3A{port}:nobody"),
            format!("GET http://127.0.0.1:{port}/nobody/did.json: HTTP 404")
        ))
    );
}

#[test]
fn trust_lists_are_checked_when_loaded() {
    assert!(TrustList::from_toml("[[participant]]\ndid = \"BPNL1\"\n").is_err(), "not a DID");
    assert!(TrustList::from_toml("[[participant]]\ndid = \"did:web:a\"\ncolour = \"red\"\n").is_err(), "unknown key");
    let twice = "[[participant]]\ndid = \"did:web:a\"\n[[participant]]\ndid = \"did:web:a\"\n";
    assert_eq!(
        TrustList::from_toml(twice).err().map(|e| e.to_string()),
        Some("the trust list cannot be used: 'did:web:a' is listed twice".into())
    );
    assert_eq!(TrustList::from_toml("").map(|t| t.len()).ok(), Some(0));
}

#[test]
fn keys_survive_a_round_trip_through_pem() {
    let (identity, pem) = SigningIdentity::generate(CONSUMER).unwrap();
    let again = SigningIdentity::from_pem(CONSUMER, &pem).unwrap();
    assert_eq!(identity.did_document(), again.did_document());
    assert!(identity.did_document()["verificationMethod"][0]["publicKeyJwk"].get("d").is_none(), "no private part");
    assert!(SigningIdentity::from_pem("did:key:z6Mk", &pem).is_err());
    assert!(SigningIdentity::from_pem(CONSUMER, "-----BEGIN NOTHING-----").is_err());
}
