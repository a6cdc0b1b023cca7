// SPDX-License-Identifier: Apache-2.0
//! Verifiable presentations as JWTs in both DCP profiles. `vc11-sl2021/jwt` carries VC-JWT strings in the `vp`
//! claim's `verifiableCredential`; `vc20-bssl/jwt` signs the VCDM 2.0 presentation itself, each credential wrapped
//! as an `EnvelopedVerifiableCredential` with a `data:application/vc+jwt,` URL.
//!
//! Verifying binds everything to the caller: the presentation's holder must be the DID of the self-issued token
//! that came with the request, must have signed the presentation, and must be the subject of every credential.

use std::collections::BTreeSet;
use std::sync::Arc;

use dsc_domain::Clock;
use serde_json::{Map, Value, json};

use crate::credential::{Credential, CredentialVerifier, Profile, VCDM_11_CONTEXT, VCDM_20_CONTEXT};
use crate::did::relationship;
use crate::error::credential_error;
use crate::jws::{self, DidDocuments, SigningKey};
use crate::token::MAX_LEEWAY_SECONDS;
use crate::{CredentialProblem, DcpError};

const WHAT: &str = "presentation";
const ENVELOPE_PREFIX: &str = "data:application/vc+jwt,";

/// Builds presentations for one holder DID.
#[derive(Debug, Clone)]
pub struct PresentationBuilder {
    key: SigningKey,
    clock: Arc<dyn Clock>,
    lifetime_seconds: i64,
}

impl PresentationBuilder {
    /// Presentations valid for 60 seconds, as IdentityHub signs them: they are verified right after the query.
    pub fn new(key: SigningKey, clock: Arc<dyn Clock>) -> Self {
        PresentationBuilder { key, clock, lifetime_seconds: 60 }
    }

    /// A presentation of `credentials` (VC JWTs, all of `profile`) for `audience`, the verifier's DID.
    pub fn build(&self, profile: Profile, audience: &str, credentials: &[String]) -> Result<String, DcpError> {
        let holder = self.key.did();
        let now = self.clock.now_seconds();
        let mut claims = json!({"iss": holder, "sub": holder, "aud": audience, "jti": uuid::Uuid::new_v4().to_string(),
            "iat": now, "nbf": now, "exp": now + self.lifetime_seconds});
        match profile {
            Profile::Vc11Sl2021Jwt => {
                claims["vp"] = json!({"@context": [VCDM_11_CONTEXT], "type": ["VerifiablePresentation"],
                    "holder": holder, "verifiableCredential": credentials});
                self.key.sign("JWT", &claims)
            }
            Profile::Vc20BsslJwt => {
                let enveloped: Vec<Value> = credentials
                    .iter()
                    .map(|jwt| {
                        json!({"@context": VCDM_20_CONTEXT, "type": "EnvelopedVerifiableCredential",
                        "id": format!("{ENVELOPE_PREFIX}{jwt}")})
                    })
                    .collect();
                let presentation = json!({"@context": [VCDM_20_CONTEXT], "type": ["VerifiablePresentation"],
                    "holder": holder, "verifiableCredential": enveloped});
                if let (Some(claims), Value::Object(body)) = (claims.as_object_mut(), presentation) {
                    claims.extend(body);
                }
                self.key.sign_with_content_type("vp+jwt", Some("vp"), &claims)
            }
        }
    }
}

/// A verified presentation: its holder and its verified credentials (not yet checked for revocation).
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPresentation {
    pub holder: String,
    pub profile: Profile,
    pub credentials: Vec<Credential>,
}

/// The presentation's parts, not yet verified.
struct Parts {
    holder: String,
    profile: Profile,
    /// Credential JWTs, or why the entry at that position is not one.
    credentials: Vec<Result<String, String>>,
    unverified: jws::Unverified,
}

fn parts(jwt: &str) -> Result<Parts, DcpError> {
    let malformed = |why: &str| DcpError::Malformed { what: WHAT, why: why.to_string() };
    let unverified = jws::decode_unverified(jwt).map_err(|why| DcpError::Malformed { what: WHAT, why })?;
    let payload = &unverified.payload;
    let (body, profile) = match payload.get("vp") {
        Some(Value::Object(vp)) => (vp, Profile::Vc11Sl2021Jwt),
        Some(_) => return Err(malformed("the 'vp' claim is not an object")),
        None if is_v2(payload) => (payload, Profile::Vc20BsslJwt),
        None => return Err(malformed("neither a 'vp' claim nor a VCDM 2.0 presentation")),
    };
    let holder = match (jws::str_claim(payload, "iss"), body.get("holder").and_then(Value::as_str)) {
        (Some(iss), Some(holder)) if iss != holder => return Err(malformed("iss and holder differ")),
        (Some(holder), _) | (None, Some(holder)) => holder.to_string(),
        (None, None) => return Err(malformed("no holder")),
    };
    let entries = match body.get("verifiableCredential") {
        Some(Value::Array(entries)) => entries.iter().collect(),
        Some(Value::Null) | None => return Err(malformed("no verifiableCredential")),
        Some(single) => vec![single],
    };
    let credentials = entries.into_iter().map(|entry| credential_jwt(entry, profile)).collect();
    Ok(Parts { holder, profile, credentials, unverified })
}

fn is_v2(payload: &Map<String, Value>) -> bool {
    match payload.get("@context") {
        Some(Value::Array(items)) => items.first().and_then(Value::as_str) == Some(VCDM_20_CONTEXT),
        Some(Value::String(context)) => context == VCDM_20_CONTEXT,
        _ => false,
    }
}

fn credential_jwt(entry: &Value, profile: Profile) -> Result<String, String> {
    match (profile, entry) {
        (Profile::Vc11Sl2021Jwt, Value::String(jwt)) => Ok(jwt.clone()),
        (Profile::Vc11Sl2021Jwt, _) => Err("not a JWT string (embedded JSON-LD credentials are not supported)".into()),
        (Profile::Vc20BsslJwt, Value::Object(envelope)) => {
            if envelope.get("type").and_then(Value::as_str) != Some("EnvelopedVerifiableCredential") {
                return Err("not an EnvelopedVerifiableCredential".into());
            }
            let id = envelope.get("id").and_then(Value::as_str).unwrap_or_default();
            id.strip_prefix(ENVELOPE_PREFIX)
                .map(str::to_string)
                .ok_or_else(|| format!("its id is not a {ENVELOPE_PREFIX} URL"))
        }
        (Profile::Vc20BsslJwt, _) => Err("not an EnvelopedVerifiableCredential".into()),
    }
}

/// The DIDs whose documents verifying `jwt` needs: the holder's and every credential issuer's.
pub fn dids_to_resolve(jwt: &str) -> Result<Vec<String>, DcpError> {
    let parts = parts(jwt)?;
    let mut dids = BTreeSet::from([parts.holder]);
    for (position, entry) in parts.credentials.into_iter().enumerate() {
        let fallback = format!("#{position}");
        let jwt = entry.map_err(|why| credential_error(&fallback, CredentialProblem::Malformed(why)))?;
        dids.insert(Credential::from_jwt(&jwt, &fallback)?.issuer);
    }
    Ok(dids.into_iter().collect())
}

/// Verifies presentations addressed to one DID.
#[derive(Debug, Clone)]
pub struct PresentationVerifier {
    own_did: String,
    credentials: CredentialVerifier,
    clock: Arc<dyn Clock>,
    leeway_seconds: i64,
    check_relationship: bool,
}

impl PresentationVerifier {
    pub fn new(own_did: impl Into<String>, credentials: CredentialVerifier, clock: Arc<dyn Clock>) -> Self {
        PresentationVerifier {
            own_did: own_did.into(),
            credentials,
            clock,
            leeway_seconds: 5,
            check_relationship: false,
        }
    }

    /// Clock-skew allowance for the presentation's `exp` and `nbf`, capped at [`MAX_LEEWAY_SECONDS`].
    pub fn with_leeway_seconds(mut self, seconds: i64) -> Self {
        self.leeway_seconds = seconds.clamp(0, MAX_LEEWAY_SECONDS);
        self
    }

    /// Whether the holder's signing key must be listed under `authentication` (DCP presentation validation,
    /// step 3). Off by default for the same reason as the token's check.
    pub fn with_relationship_check(mut self, check: bool) -> Self {
        self.check_relationship = check;
        self
    }

    /// Verifies `jwt` as presented by `expected_holder` (the DID of the caller's self-issued token).
    /// `documents` must hold every DID [`dids_to_resolve`] names.
    pub fn verify(
        &self,
        jwt: &str,
        expected_holder: &str,
        documents: &dyn DidDocuments,
    ) -> Result<VerifiedPresentation, DcpError> {
        let parts = parts(jwt)?;
        if parts.holder != expected_holder {
            return Err(DcpError::WrongHolder { signer: parts.holder, expected: expected_holder.to_string() });
        }
        let holder = parts.holder.as_str();
        let required = self.check_relationship.then_some(relationship::AUTHENTICATION);
        jws::verify_signature(jwt, &parts.unverified, holder, documents, required)
            .map_err(|f| jws::to_error(f, WHAT, holder))?;
        let claims = &parts.unverified.payload;
        if !jws::audience_contains(claims, &self.own_did) {
            return Err(DcpError::WrongAudience { what: WHAT, expected: self.own_did.clone() });
        }
        let now = self.clock.now_seconds();
        let time = |name| jws::time_claim(claims, name).map_err(|why| DcpError::Malformed { what: WHAT, why });
        if time("exp")?.is_some_and(|exp| now > exp + self.leeway_seconds) {
            return Err(DcpError::Expired { what: WHAT });
        }
        if time("nbf")?.is_some_and(|nbf| nbf > now + self.leeway_seconds) {
            return Err(DcpError::NotYetValid { what: WHAT });
        }
        let mut credentials = Vec::with_capacity(parts.credentials.len());
        for (position, entry) in parts.credentials.into_iter().enumerate() {
            let fallback = format!("#{position}");
            let jwt = entry.map_err(|why| credential_error(&fallback, CredentialProblem::Malformed(why)))?;
            let credential = self.credentials.verify(&jwt, &fallback, holder, documents)?;
            // One data model and proof mechanism per presentation (DCP profiles).
            if credential.profile != parts.profile {
                let problem = CredentialProblem::MixedProfiles {
                    found: credential.profile.as_str(),
                    expected: parts.profile.as_str(),
                };
                return Err(credential_error(&credential.label(), problem));
            }
            credentials.push(credential);
        }
        Ok(VerifiedPresentation { holder: parts.holder, profile: parts.profile, credentials })
    }
}

#[cfg(test)]
#[path = "presentation_tests.rs"]
mod tests;
