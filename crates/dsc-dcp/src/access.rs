// SPDX-License-Identifier: Apache-2.0
//! The access token a holder puts into its self-issued ID token (the `token` claim): it lets exactly one verifier
//! read exactly the listed scopes from the holder's credential service. DCP leaves its format to the credential
//! service; this one is IdentityHub's shape, a JWT signed with the holder's own key: `iss` = `aud` = the holder,
//! `sub` = the verifier, `scope` = the granted scopes separated by spaces.

use std::sync::Arc;

use dsc_domain::Clock;
use serde_json::json;

use crate::DcpError;
use crate::jws::{self, DidDocuments, SigningKey};
use crate::token::MAX_LEEWAY_SECONDS;

const WHAT: &str = "access token";

/// Builds access tokens for one holder.
#[derive(Debug, Clone)]
pub struct AccessTokenBuilder {
    key: SigningKey,
    clock: Arc<dyn Clock>,
    lifetime_seconds: i64,
}

impl AccessTokenBuilder {
    /// Tokens valid for five minutes, like the self-issued token that carries them.
    pub fn new(key: SigningKey, clock: Arc<dyn Clock>) -> Self {
        AccessTokenBuilder { key, clock, lifetime_seconds: 300 }
    }

    /// A token letting `verifier` (its DID) read `scopes`.
    pub fn build(&self, verifier: &str, scopes: &[String]) -> Result<String, DcpError> {
        if scopes.is_empty() {
            return Err(DcpError::InvalidInput("an access token needs at least one scope".into()));
        }
        let now = self.clock.now_seconds();
        let holder = self.key.did();
        let claims = json!({"iss": holder, "aud": holder, "sub": verifier, "scope": scopes.join(" "),
            "jti": uuid::Uuid::new_v4().to_string(), "iat": now, "nbf": now, "exp": now + self.lifetime_seconds});
        self.key.sign("JWT", &claims)
    }
}

/// What a verified access token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub verifier: String,
    pub scopes: Vec<String>,
}

/// Verifies access tokens a holder issued itself.
#[derive(Debug, Clone)]
pub struct AccessTokenVerifier {
    holder: String,
    clock: Arc<dyn Clock>,
    leeway_seconds: i64,
}

impl AccessTokenVerifier {
    pub fn new(holder: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        AccessTokenVerifier { holder: holder.into(), clock, leeway_seconds: 5 }
    }

    pub fn with_leeway_seconds(mut self, seconds: i64) -> Self {
        self.leeway_seconds = seconds.clamp(0, MAX_LEEWAY_SECONDS);
        self
    }

    /// Verifies `token` as presented by `bearer` (the DID of the self-issued token it came in); `documents` must
    /// hold the holder's own DID document.
    pub fn verify(&self, token: &str, bearer: &str, documents: &dyn DidDocuments) -> Result<Grant, DcpError> {
        let malformed = |why: &str| DcpError::Malformed { what: WHAT, why: why.to_string() };
        let unverified = jws::decode_unverified(token).map_err(|why| DcpError::Malformed { what: WHAT, why })?;
        let claims = &unverified.payload;
        if jws::str_claim(claims, "iss") != Some(self.holder.as_str()) {
            return Err(malformed("it was not issued by this holder"));
        }
        jws::verify_signature(token, &unverified, &self.holder, documents, None)
            .map_err(|f| jws::to_error(f, WHAT, &self.holder))?;
        if !jws::audience_contains(claims, &self.holder) {
            return Err(DcpError::WrongAudience { what: WHAT, expected: self.holder.clone() });
        }
        let verifier = jws::str_claim(claims, "sub").ok_or_else(|| malformed("no sub"))?;
        if verifier != bearer {
            return Err(DcpError::AccessTokenNotForBearer {
                granted: verifier.to_string(),
                bearer: bearer.to_string(),
            });
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
        let scope = jws::str_claim(claims, "scope").ok_or_else(|| malformed("no scope"))?;
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
        if scopes.is_empty() {
            return Err(malformed("the scope is empty"));
        }
        Ok(Grant { verifier: verifier.to_string(), scopes })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use dsc_domain::clock::ManualClock;

    use super::*;
    use crate::testkit::*;

    #[test]
    fn a_grant_binds_one_verifier_to_its_scopes() {
        let holder = party("holder");
        let clock = ManualClock::starting_at(1_700_000_000_000);
        let builder = AccessTokenBuilder::new(holder.key.clone(), clock.clone());
        let scopes = vec!["org.eclipse.dspace.dcp.vc.type:MembershipCredential:read".to_string()];
        let token = builder.build("did:web:verifier.example", &scopes).unwrap();
        let verifier = AccessTokenVerifier::new(&holder.did, clock.clone());
        let docs = documents(&[&holder]);
        let grant = verifier.verify(&token, "did:web:verifier.example", &docs).unwrap();
        assert_eq!(grant, Grant { verifier: "did:web:verifier.example".into(), scopes: scopes.clone() });

        let other = verifier.verify(&token, "did:web:mallory.example", &docs).unwrap_err();
        assert_eq!(
            other.to_string(),
            "the access token was granted to did:web:verifier.example, not to did:web:mallory.example"
        );
        clock.advance(306_000);
        assert_eq!(
            verifier.verify(&token, "did:web:verifier.example", &docs).unwrap_err().to_string(),
            "the access token expired"
        );
        assert_eq!(
            builder.build("did:web:verifier.example", &[]).unwrap_err().to_string(),
            "invalid an access token needs at least one scope"
        );
    }

    #[test]
    fn tokens_of_other_holders_or_keys_are_refused() {
        let holder = party("holder");
        let mallory = party("mallory");
        let clock = ManualClock::starting_at(1_700_000_000_000);
        let scopes = vec!["org.eclipse.edc.vc.type:X:read".to_string()];
        let foreign = AccessTokenBuilder::new(mallory.key.clone(), clock.clone()).build("did:web:v", &scopes).unwrap();
        let verifier = AccessTokenVerifier::new(&holder.did, clock.clone());
        let docs = documents(&[&holder, &mallory]);
        assert_eq!(
            verifier.verify(&foreign, "did:web:v", &docs).unwrap_err().to_string(),
            "malformed access token: it was not issued by this holder"
        );
        // Mallory's key published under the holder's DID document is not the holder's key.
        let token = AccessTokenBuilder::new(holder.key.clone(), clock.clone()).build("did:web:v", &scopes).unwrap();
        let mut forged = holder.document.clone();
        forged["verificationMethod"][0]["publicKeyJwk"] =
            mallory.document["verificationMethod"][0]["publicKeyJwk"].clone();
        let forged: HashMap<String, serde_json::Value> = [(holder.did.clone(), forged)].into();
        assert_eq!(
            verifier.verify(&token, "did:web:v", &forged).unwrap_err().to_string(),
            "the signature of the access token does not verify"
        );
        assert_eq!(
            verifier.verify("x.y", "did:web:v", &docs).unwrap_err().to_string(),
            "malformed access token: not a compact JWS (three non-empty dot-separated parts)"
        );
    }
}
