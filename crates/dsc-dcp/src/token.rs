// SPDX-License-Identifier: Apache-2.0
//! The DCP self-issued ID token: `iss` = `sub` = the bearer's DID, `aud` = the verifier's DID, signed with a key of
//! the bearer's DID document, optionally carrying an access token for the bearer's credential service (`token`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dsc_domain::Clock;
use serde_json::{Value, json};

use crate::DcpError;
use crate::did::relationship;
use crate::jws::{self, DidDocuments, SigningKey};

const WHAT: &str = "token";

/// Upper bound for the configured clock-skew allowance: the spec sets none, so a misconfiguration could otherwise
/// accept tokens that expired long ago.
pub const MAX_LEEWAY_SECONDS: i64 = 30;

/// Builds self-issued ID tokens for one DID.
#[derive(Debug, Clone)]
pub struct TokenBuilder {
    key: SigningKey,
    clock: Arc<dyn Clock>,
    lifetime_seconds: i64,
}

impl TokenBuilder {
    /// Tokens valid for five minutes, as EDC's and IdentityHub's STS issue them.
    pub fn new(key: SigningKey, clock: Arc<dyn Clock>) -> Self {
        TokenBuilder { key, clock, lifetime_seconds: 300 }
    }

    pub fn with_lifetime_seconds(mut self, seconds: i64) -> Self {
        self.lifetime_seconds = seconds;
        self
    }

    /// A token for `audience` (the verifier's DID), carrying `access_token` as the `token` claim when given.
    pub fn build(&self, audience: &str, access_token: Option<&str>) -> Result<String, DcpError> {
        let now = self.clock.now_seconds();
        let mut claims = json!({
            "iss": self.key.did(), "sub": self.key.did(), "aud": audience,
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "exp": now + self.lifetime_seconds,
        });
        if let Some(token) = access_token {
            claims["token"] = json!(token);
        }
        self.key.sign("JWT", &claims)
    }
}

/// Remembers token ids until they expire, so a captured token cannot be played again.
pub trait JtiCache: Send + Sync {
    /// Records `jti`, to be kept until epoch second `keep_until`; false when it was already recorded.
    fn first_use(&self, jti: &str, keep_until: i64, now: i64) -> bool;
}

/// A [`JtiCache`] in this process's memory: replicas each keep their own, which still stops a replay against the
/// replica that saw the token.
#[derive(Debug, Default)]
pub struct InMemoryJtiCache {
    seen: Mutex<HashMap<String, i64>>,
}

impl JtiCache for InMemoryJtiCache {
    fn first_use(&self, jti: &str, keep_until: i64, now: i64) -> bool {
        // A poisoned lock means another verification panicked mid-update: refusing is the safe answer.
        let Ok(mut seen) = self.seen.lock() else { return false };
        seen.retain(|_, until| *until >= now);
        seen.insert(jti.to_string(), keep_until).is_none()
    }
}

/// A verified self-issued ID token.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// The bearer's DID (`iss` = `sub`).
    pub did: String,
    pub jti: String,
    pub expires_at: i64,
    /// The access token for the bearer's credential service, opaque here.
    pub access_token: Option<String>,
}

/// The DID whose document verifying `token` needs: its unverified `iss`.
pub fn issuer_of(token: &str) -> Result<String, DcpError> {
    let unverified = jws::decode_unverified(token).map_err(|why| DcpError::Malformed { what: WHAT, why })?;
    jws::str_claim(&unverified.payload, "iss")
        .map(str::to_string)
        .ok_or_else(|| DcpError::Malformed { what: WHAT, why: "no iss".into() })
}

/// Verifies self-issued ID tokens addressed to one DID.
#[derive(Clone)]
pub struct TokenVerifier {
    own_did: String,
    clock: Arc<dyn Clock>,
    replay: Arc<dyn JtiCache>,
    leeway_seconds: i64,
    require_access_token: bool,
    check_relationship: bool,
}

impl TokenVerifier {
    /// Five seconds of leeway like EDC; tokens without a `token` claim are refused (the TCK tests for that).
    pub fn new(own_did: impl Into<String>, clock: Arc<dyn Clock>, replay: Arc<dyn JtiCache>) -> Self {
        let (leeway_seconds, require_access_token, check_relationship) = (5, true, false);
        TokenVerifier {
            own_did: own_did.into(),
            clock,
            replay,
            leeway_seconds,
            require_access_token,
            check_relationship,
        }
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`, capped at [`MAX_LEEWAY_SECONDS`].
    pub fn with_leeway_seconds(mut self, seconds: i64) -> Self {
        self.leeway_seconds = seconds.clamp(0, MAX_LEEWAY_SECONDS);
        self
    }

    /// Whether a token without `token` claim is refused; a credential service verifying a verifier's token on the
    /// presentation query needs it, an issuer's endpoints may not.
    pub fn requiring_access_token(mut self, required: bool) -> Self {
        self.require_access_token = required;
        self
    }

    /// Whether the signing key must be listed under `capabilityInvocation` (DCP 1.0). Off by default: EDC 0.14 and
    /// IdentityHub DID documents before 2026 list no relationships, so strictness would refuse most deployed peers.
    pub fn with_relationship_check(mut self, check: bool) -> Self {
        self.check_relationship = check;
        self
    }

    /// Verifies `token`; `documents` must hold the DID document of [`issuer_of`] the token.
    pub fn verify(&self, token: &str, documents: &dyn DidDocuments) -> Result<VerifiedToken, DcpError> {
        let malformed = |why: &str| DcpError::Malformed { what: WHAT, why: why.to_string() };
        let unverified = jws::decode_unverified(token).map_err(|why| DcpError::Malformed { what: WHAT, why })?;
        let claims = &unverified.payload;
        let iss = jws::str_claim(claims, "iss").ok_or_else(|| malformed("no iss"))?;
        if jws::str_claim(claims, "sub") != Some(iss) {
            return Err(DcpError::IssuerSubjectMismatch);
        }
        if claims.contains_key("sub_jwk") {
            return Err(malformed("sub_jwk is not allowed"));
        }
        let required = self.check_relationship.then_some(relationship::CAPABILITY_INVOCATION);
        jws::verify_signature(token, &unverified, iss, documents, required).map_err(|f| jws::to_error(f, WHAT, iss))?;
        if !jws::audience_contains(claims, &self.own_did) {
            return Err(DcpError::WrongAudience { what: WHAT, expected: self.own_did.clone() });
        }
        let now = self.clock.now_seconds();
        let time = |name| jws::time_claim(claims, name).map_err(|why| DcpError::Malformed { what: WHAT, why });
        let exp = time("exp")?.ok_or_else(|| malformed("no exp"))?;
        if now > exp + self.leeway_seconds {
            return Err(DcpError::Expired { what: WHAT });
        }
        if time("nbf")?.is_some_and(|nbf| nbf > now + self.leeway_seconds) {
            return Err(DcpError::NotYetValid { what: WHAT });
        }
        let iat = time("iat")?;
        if iat.is_some_and(|iat| iat > exp) {
            return Err(malformed("iat is after exp"));
        }
        if iat.is_some_and(|iat| iat > now + self.leeway_seconds) {
            return Err(DcpError::IssuedInFuture);
        }
        let access_token = match claims.get("token") {
            Some(Value::String(t)) if !t.is_empty() => Some(t.clone()),
            None | Some(Value::Null) | Some(Value::String(_)) if !self.require_access_token => None,
            Some(Value::String(_)) | None | Some(Value::Null) => return Err(DcpError::MissingAccessToken),
            Some(_) => return Err(malformed("'token' is not a string")),
        };
        let jti = jws::str_claim(claims, "jti").filter(|j| !j.is_empty()).ok_or_else(|| malformed("no jti"))?;
        // Kept past expiry plus leeway: until then the token could still be accepted.
        if !self.replay.first_use(jti, exp + self.leeway_seconds, now) {
            return Err(DcpError::Replayed(jti.to_string()));
        }
        Ok(VerifiedToken { did: iss.to_string(), jti: jti.to_string(), expires_at: exp, access_token })
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
