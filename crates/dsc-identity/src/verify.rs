// SPDX-License-Identifier: Apache-2.0
//! Verifying inbound tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dsc_domain::ParticipantAgent;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::{ClaimsSource, DidResolver, IdentityError};
use dsc_domain::clock::system_now_seconds as now_seconds;

/// Token ids seen until they expire, so a captured token cannot be played again. In memory: replicas each keep
/// their own, which still stops a replay against the replica that saw the token (a shared store can replace it).
#[derive(Default)]
pub struct ReplayCache {
    seen: Mutex<HashMap<String, i64>>,
}

impl ReplayCache {
    /// Records `jti` (valid until `expires`); false when it was already recorded.
    pub fn first_use(&self, jti: &str, expires: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else { return false };
        let now = now_seconds();
        seen.retain(|_, until| *until >= now);
        seen.insert(jti.to_string(), expires).is_none()
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: Option<String>,
    exp: i64,
    jti: Option<String>,
}

pub struct TokenVerifier {
    own_did: String,
    resolver: Arc<dyn DidResolver>,
    claims: Arc<dyn ClaimsSource>,
    replay: ReplayCache,
    leeway_seconds: u64,
}

impl TokenVerifier {
    pub fn new(own_did: impl Into<String>, resolver: Arc<dyn DidResolver>, claims: Arc<dyn ClaimsSource>) -> Self {
        crate::crypto::install();
        TokenVerifier { own_did: own_did.into(), resolver, claims, replay: ReplayCache::default(), leeway_seconds: 5 }
    }

    /// Verifies the value of an `Authorization` header (with or without `Bearer `) and returns the participant.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<ParticipantAgent, IdentityError> {
        let token = authorization
            .map(str::trim)
            .map(|value| match (value.get(..6), value.get(6..)) {
                (Some(prefix), Some(rest))
                    if prefix.eq_ignore_ascii_case("bearer")
                        && (rest.is_empty() || rest.starts_with(char::is_whitespace)) =>
                {
                    rest.trim()
                }
                _ => value,
            })
            .filter(|token| !token.is_empty())
            .ok_or(IdentityError::MissingToken)?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| IdentityError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::ES256 {
            return Err(IdentityError::Malformed(format!("algorithm {:?} is not accepted; use ES256", header.alg)));
        }
        let unverified: Claims = jsonwebtoken::dangerous::insecure_decode::<Claims>(token)
            .map(|data| data.claims)
            .map_err(|e| IdentityError::Malformed(e.to_string()))?;
        if unverified.sub.as_deref() != Some(unverified.iss.as_str()) {
            return Err(IdentityError::IssuerMismatch);
        }
        let did = unverified.iss.clone();
        let kid = header.kid.ok_or_else(|| IdentityError::Malformed("the header has no kid".into()))?;
        let document = self.resolver.resolve(&did).await?;
        let key = verification_key(&document, &did, &kid)?;

        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = self.leeway_seconds;
        validation.set_audience(&[self.own_did.as_str()]);
        validation.set_issuer(&[did.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let verified = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => IdentityError::Expired,
            ErrorKind::InvalidAudience => IdentityError::WrongAudience,
            ErrorKind::InvalidSignature => IdentityError::BadSignature,
            ErrorKind::InvalidIssuer => IdentityError::IssuerMismatch,
            _ => IdentityError::Malformed(e.to_string()),
        })?;
        let jti = verified.claims.jti.ok_or_else(|| IdentityError::Malformed("the token has no jti".into()))?;
        if !self.replay.first_use(&jti, verified.claims.exp + self.leeway_seconds as i64) {
            return Err(IdentityError::Replayed);
        }
        self.claims.claims_for(&did).await?.ok_or(IdentityError::UnknownParticipant(did))
    }
}

fn verification_key(document: &Value, did: &str, kid: &str) -> Result<DecodingKey, IdentityError> {
    let unknown = || IdentityError::UnknownKey { did: did.to_string(), kid: kid.to_string() };
    let fragment = kid.strip_prefix(did).unwrap_or(kid);
    let method = document
        .get("verificationMethod")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|method| {
            let id = method.get("id").and_then(Value::as_str).unwrap_or_default();
            id == kid || id == fragment || id.strip_prefix(did) == Some(fragment)
        })
        .ok_or_else(unknown)?;
    let jwk: Jwk =
        method.get("publicKeyJwk").cloned().and_then(|jwk| serde_json::from_value(jwk).ok()).ok_or_else(unknown)?;
    DecodingKey::from_jwk(&jwk).map_err(|e| IdentityError::Key(e.to_string()))
}
