// SPDX-License-Identifier: Apache-2.0
use dsc_domain::ManualClock;

use super::*;
use crate::testkit::{Party, documents, party};

const NOW_MS: i64 = 1_767_225_600_000;

struct Fixture {
    consumer: Party,
    provider: Party,
    clock: Arc<ManualClock>,
    verifier: TokenVerifier,
}

fn fixture() -> Fixture {
    let consumer = party("consumer");
    let provider = party("provider");
    let clock = ManualClock::starting_at(NOW_MS);
    let verifier = TokenVerifier::new(&provider.did, clock.clone(), Arc::new(InMemoryJtiCache::default()));
    Fixture { consumer, provider, clock, verifier }
}

fn error_text(result: Result<VerifiedToken, DcpError>) -> String {
    match result {
        Ok(token) => panic!("accepted {token:?}"),
        Err(e) => e.to_string(),
    }
}

impl Fixture {
    fn token(&self) -> String {
        TokenBuilder::new(self.consumer.key.clone(), self.clock.clone())
            .build(&self.provider.did, Some("access-token"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn signed(&self, claims: Value) -> String {
        self.consumer.key.sign("JWT", &claims).unwrap_or_else(|e| panic!("{e}"))
    }

    fn claims(&self) -> Value {
        let now = NOW_MS / 1000;
        json!({"iss": self.consumer.did, "sub": self.consumer.did, "aud": self.provider.did, "jti": "j-1",
               "iat": now, "exp": now + 300, "token": "access-token"})
    }

    fn verify(&self, token: &str) -> Result<VerifiedToken, DcpError> {
        self.verifier.verify(token, &documents(&[&self.consumer, &self.provider]))
    }
}

#[test]
fn a_built_token_verifies_and_carries_its_claims() {
    let f = fixture();
    let token = f.token();
    assert_eq!(issuer_of(&token).ok().as_deref(), Some(f.consumer.did.as_str()));
    let verified = f.verify(&token).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(verified.did, f.consumer.did);
    assert_eq!(verified.access_token.as_deref(), Some("access-token"));
    assert_eq!(verified.expires_at, NOW_MS / 1000 + 300);
    let header = jsonwebtoken::decode_header(&token).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.kid.as_deref(), Some(f.consumer.key.kid()));
}

#[test]
fn a_replayed_token_is_refused() {
    let f = fixture();
    let token = f.token();
    assert!(f.verify(&token).is_ok());
    let jti = jws::decode_unverified(&token).ok().and_then(|u| u.payload.get("jti").cloned()).unwrap_or_default();
    assert_eq!(error_text(f.verify(&token)), format!("the token id {} was already used", jti.as_str().unwrap_or("")));
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let f = fixture();
    let mut claims = f.claims();
    claims["aud"] = json!(["did:web:someone-else.example"]);
    let text = error_text(f.verify(&f.signed(claims)));
    assert_eq!(text, "the token's audience does not contain did:web:provider.example");
    let mut claims = f.claims();
    claims["aud"] = json!(["did:web:someone-else.example", f.provider.did]);
    assert!(f.verify(&f.signed(claims)).is_ok(), "an audience array containing the verifier is fine");
}

#[test]
fn time_claims_are_checked_with_bounded_leeway() {
    let f = fixture();
    let token = f.token();
    f.clock.advance(305_000);
    assert!(f.verifier.clone().verify(&token, &documents(&[&f.consumer])).is_ok(), "5 s after exp is tolerated");
    let f = fixture();
    let token = f.token();
    f.clock.advance(306_000);
    assert_eq!(error_text(f.verify(&token)), "the token expired");

    let f = fixture();
    let lenient = f.verifier.clone().with_leeway_seconds(3_600);
    let token = f.token();
    f.clock.advance(331_000);
    assert_eq!(error_text(lenient.verify(&token, &documents(&[&f.consumer]))), "the token expired", "capped at 30 s");

    let f = fixture();
    let mut claims = f.claims();
    claims["nbf"] = json!(NOW_MS / 1000 + 60);
    assert_eq!(error_text(f.verify(&f.signed(claims))), "the token is not valid yet");
    let mut claims = f.claims();
    claims["iat"] = json!(NOW_MS / 1000 + 60);
    assert_eq!(error_text(f.verify(&f.signed(claims))), "the token was issued in the future");
    let mut claims = f.claims();
    claims.as_object_mut().map(|c| c.remove("exp"));
    assert_eq!(error_text(f.verify(&f.signed(claims))), "malformed token: no exp");
    let mut claims = f.claims();
    claims["exp"] = json!("tomorrow");
    assert_eq!(error_text(f.verify(&f.signed(claims))), "malformed token: 'exp' is not a number of seconds");
}

#[test]
fn identity_claims_must_bind_the_token_to_its_signer() {
    let f = fixture();
    let mut claims = f.claims();
    claims["sub"] = json!("did:web:other.example");
    assert_eq!(error_text(f.verify(&f.signed(claims))), "the token's iss and sub differ");

    // Signed by the consumer's key but claiming to be the provider.
    let mut claims = f.claims();
    claims["iss"] = json!(f.provider.did);
    claims["sub"] = json!(f.provider.did);
    assert_eq!(
        error_text(f.verify(&f.signed(claims))),
        "kid 'did:web:consumer.example#key-1' does not belong to did:web:provider.example"
    );

    // The consumer's DID document lists another key under the same id: the signature does not verify.
    let other = party("consumer");
    let docs = documents(&[&other]);
    assert_eq!(error_text(f.verifier.verify(&f.token(), &docs)), "the signature of the token does not verify");

    let mut doc = f.consumer.document.clone();
    doc["verificationMethod"][0]["id"] = json!(format!("{}#key-2", f.consumer.did));
    let docs: HashMap<String, Value> = [(f.consumer.did.clone(), doc)].into();
    assert_eq!(
        error_text(f.verifier.verify(&f.token(), &docs)),
        "did:web:consumer.example#key-1 is not a verification method of did:web:consumer.example"
    );
    assert_eq!(
        error_text(f.verifier.verify(&f.token(), &HashMap::new())),
        "the DID document of did:web:consumer.example is not available"
    );
}

#[test]
fn the_access_token_claim_is_required_unless_configured_otherwise() {
    let f = fixture();
    let mut claims = f.claims();
    claims.as_object_mut().map(|c| c.remove("token"));
    let token = f.signed(claims.clone());
    assert_eq!(error_text(f.verify(&token)), "the token has no 'token' claim");
    claims["jti"] = json!("j-2");
    let lax = f.verifier.clone().requiring_access_token(false);
    let verified = lax.verify(&f.signed(claims.clone()), &documents(&[&f.consumer]));
    assert_eq!(verified.map(|v| v.access_token), Ok(None));
    claims["token"] = json!(42);
    claims["jti"] = json!("j-3");
    assert_eq!(error_text(f.verify(&f.signed(claims))), "malformed token: 'token' is not a string");
}

#[test]
fn malformed_tokens_are_refused_without_panicking() {
    let f = fixture();
    for (token, text) in [
        ("", "malformed token: not a compact JWS (three non-empty dot-separated parts)"),
        ("not-a-jwt", "malformed token: not a compact JWS (three non-empty dot-separated parts)"),
        (
            "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln",
            "malformed token: payload is not JSON: expected ident at line 1 column 2",
        ),
    ] {
        assert_eq!(error_text(f.verify(token)), text, "{token}");
        assert!(issuer_of(token).is_err());
    }
    let mut claims = f.claims();
    claims.as_object_mut().map(|c| c.remove("jti"));
    assert_eq!(error_text(f.verify(&f.signed(claims))), "malformed token: no jti");
    let mut claims = f.claims();
    claims["sub_jwk"] = json!({});
    assert_eq!(error_text(f.verify(&f.signed(claims))), "malformed token: sub_jwk is not allowed");
    // A valid token with a tampered payload.
    let token = f.token();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!("{}.{}.{}", parts[0], base64_of(&f.claims()), parts[2]);
    assert_eq!(error_text(f.verify(&forged)), "the signature of the token does not verify");
}

fn base64_of(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[test]
fn the_jti_cache_forgets_entries_only_after_they_expire() {
    let cache = InMemoryJtiCache::default();
    assert!(cache.first_use("a", 100, 50));
    assert!(!cache.first_use("a", 100, 100));
    assert!(cache.first_use("a", 200, 101), "expired entries are dropped");
}

#[test]
fn the_capability_invocation_relationship_is_checked_when_asked() {
    let f = fixture();
    let strict = f.verifier.clone().with_relationship_check(true);
    assert!(strict.verify(&f.token(), &documents(&[&f.consumer])).is_ok());
    let mut document = f.consumer.document.clone();
    document["capabilityInvocation"] = json!(["#key-2"]);
    let docs: HashMap<String, Value> = [(f.consumer.did.clone(), document)].into();
    assert_eq!(
        error_text(strict.verify(&f.token(), &docs)),
        "did:web:consumer.example#key-1 is not listed under capabilityInvocation in its DID document"
    );
    assert!(f.verifier.verify(&f.token(), &docs).is_ok(), "lenient by default");
}

#[test]
fn a_token_issued_after_its_expiry_is_malformed() {
    let f = fixture();
    let mut claims = f.claims();
    claims["iat"] = claims["exp"].as_i64().map(|exp| json!(exp + 1)).unwrap_or_default();
    assert_eq!(error_text(f.verify(&f.signed(claims))), "malformed token: iat is after exp");
}

#[test]
fn a_token_signed_with_a_shared_secret_is_refused() {
    // Algorithm confusion: an HS256 token "signed" with public information must never verify.
    let f = fixture();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(f.consumer.key.kid().to_string());
    let secret = jsonwebtoken::EncodingKey::from_secret(f.consumer.document.to_string().as_bytes());
    let token = jsonwebtoken::encode(&header, &f.claims(), &secret).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(error_text(f.verify(&token)), "algorithm HS256 is not accepted");
}
