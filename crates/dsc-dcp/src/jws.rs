// SPDX-License-Identifier: Apache-2.0
//! Compact JWS plumbing shared by tokens, credentials and presentations: signing keys, DID-document key lookup and
//! signature checks. Time, audience and binding rules live with each artifact, because they differ per artifact.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};

use crate::DcpError;
use crate::did;
pub use crate::did::DidDocuments;

/// A private key of a DID together with the verification method (`kid`) that publishes its public half.
#[derive(Clone)]
pub struct SigningKey {
    did: String,
    kid: String,
    key: EncodingKey,
}

impl std::fmt::Debug for SigningKey {
    // The key itself stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("did", &self.did).field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A P-256 key (PKCS#8 PEM) signing ES256 as `kid`, which must be a DID URL of `did` (`<did>#<fragment>`).
    pub fn es256_from_pem(did: &str, kid: &str, pem: &[u8]) -> Result<Self, DcpError> {
        if !kid.starts_with(&format!("{did}#")) {
            return Err(DcpError::KidNotOfIssuer { kid: kid.to_string(), did: did.to_string() });
        }
        let key =
            EncodingKey::from_ec_pem(pem).map_err(|e| DcpError::InvalidInput(format!("signing key of {did}: {e}")))?;
        Ok(SigningKey { did: did.to_string(), kid: kid.to_string(), key })
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` with the given `typ` header.
    pub(crate) fn sign(&self, typ: &str, claims: &Value) -> Result<String, DcpError> {
        self.sign_with_content_type(typ, None, claims)
    }

    /// Signs `claims` with the given `typ` and `cty` headers (VC-JOSE-COSE sets `cty` to `vc` or `vp`).
    pub(crate) fn sign_with_content_type(
        &self,
        typ: &str,
        cty: Option<&str>,
        claims: &Value,
    ) -> Result<String, DcpError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_string());
        header.cty = cty.map(str::to_string);
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| DcpError::InvalidInput(format!("cannot sign as {}: {e}", self.did)))
    }
}

/// Why a JWS was refused, before the caller turns it into the error of its artifact.
#[derive(Debug, PartialEq)]
pub(crate) enum JwsFailure {
    Malformed(String),
    MissingKid,
    KidNotOfSigner(String),
    UnknownDid,
    UnknownKey(String),
    BadSignature,
    Algorithm(String),
    NotAuthorized { kid: String, relationship: &'static str },
}

/// Header and payload of a compact JWS, not yet verified.
pub(crate) struct Unverified {
    pub header: Header,
    pub payload: Map<String, Value>,
}

/// Splits and decodes a compact JWS without checking its signature.
pub(crate) fn decode_unverified(jwt: &str) -> Result<Unverified, String> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err("not a compact JWS (three non-empty dot-separated parts)".into());
    }
    let header = jsonwebtoken::decode_header(jwt.trim()).map_err(|e| format!("header: {e}"))?;
    let bytes = URL_SAFE_NO_PAD.decode(parts[1]).map_err(|e| format!("payload is not base64url: {e}"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(payload)) => Ok(Unverified { header, payload }),
        Ok(_) => Err("payload is not a JSON object".into()),
        Err(e) => Err(format!("payload is not JSON: {e}")),
    }
}

// EC curves the ES* algorithms name, RSA and Ed25519: what EDC verifies and the DCP profiles expect.
const ACCEPTED: [Algorithm; 6] =
    [Algorithm::ES256, Algorithm::ES384, Algorithm::EdDSA, Algorithm::RS256, Algorithm::PS256, Algorithm::RS384];

/// Checks the signature of `jwt` against the key its `kid` names in the DID document of `signer`; with a
/// `relationship`, the document must also list that key under it.
pub(crate) fn verify_signature(
    jwt: &str,
    unverified: &Unverified,
    signer: &str,
    documents: &dyn DidDocuments,
    relationship: Option<&'static str>,
) -> Result<(), JwsFailure> {
    let alg = unverified.header.alg;
    if !ACCEPTED.contains(&alg) {
        return Err(JwsFailure::Algorithm(format!("{alg:?}")));
    }
    let document = did::document(documents, signer)?;
    let method = did::method(document, signer, unverified.header.kid.as_deref())?;
    if let Some(relationship) = relationship.filter(|r| !did::is_listed_under(document, r, signer, method)) {
        let kid = method.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        return Err(JwsFailure::NotAuthorized { kid, relationship });
    }
    let unknown = || JwsFailure::UnknownKey(unverified.header.kid.clone().unwrap_or_default());
    let jwk: Jwk =
        method.get("publicKeyJwk").cloned().and_then(|j| serde_json::from_value(j).ok()).ok_or_else(unknown)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| unknown())?;
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(jwt.trim(), &key, &validation).map(|_| ()).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => JwsFailure::BadSignature,
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => JwsFailure::Algorithm(format!("{alg:?} for this key")),
        _ => JwsFailure::Malformed(e.to_string()),
    })
}

/// Maps a JWS failure of a token or presentation (not a credential) to its error.
pub(crate) fn to_error(failure: JwsFailure, what: &'static str, signer: &str) -> DcpError {
    match failure {
        JwsFailure::Malformed(why) => DcpError::Malformed { what, why },
        JwsFailure::MissingKid => DcpError::MissingKid { what },
        JwsFailure::KidNotOfSigner(kid) => DcpError::KidNotOfIssuer { kid, did: signer.to_string() },
        JwsFailure::UnknownDid => DcpError::UnknownDid(signer.to_string()),
        JwsFailure::UnknownKey(kid) => DcpError::UnknownKey { did: signer.to_string(), kid },
        JwsFailure::BadSignature => DcpError::BadSignature { what },
        JwsFailure::Algorithm(alg) => DcpError::UnsupportedAlgorithm(alg),
        JwsFailure::NotAuthorized { kid, relationship } => DcpError::KeyNotAuthorized { kid, relationship },
    }
}

/// A string claim, if present and a string.
pub(crate) fn str_claim<'a>(payload: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    payload.get(name).and_then(Value::as_str)
}

/// A numeric date claim (epoch seconds); `Err` when present but not a number.
pub(crate) fn time_claim(payload: &Map<String, Value>, name: &str) -> Result<Option<i64>, String> {
    match payload.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| format!("'{name}' is not a number of seconds")),
    }
}

/// Whether `aud` (a string or an array of strings) contains `expected`.
pub(crate) fn audience_contains(payload: &Map<String, Value>, expected: &str) -> bool {
    match payload.get("aud") {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::testkit::*;
    use serde_json::json;

    #[test]
    fn a_signature_verifies_against_the_published_key_only() {
        let alice = party("alice");
        let mallory = party("mallory");
        let jwt = alice.key.sign("JWT", &json!({"iss": alice.did})).unwrap();
        let unverified = decode_unverified(&jwt).unwrap();
        assert_eq!(verify_signature(&jwt, &unverified, &alice.did, &documents(&[&alice]), None), Ok(()));

        // Mallory publishes her key under Alice's DID document: the signature must not verify.
        let mut forged = alice.document.clone();
        forged["verificationMethod"] = mallory.document["verificationMethod"].clone();
        forged["verificationMethod"][0]["id"] = json!(alice.key.kid());
        let docs: HashMap<String, Value> = [(alice.did.clone(), forged)].into();
        assert_eq!(verify_signature(&jwt, &unverified, &alice.did, &docs, None), Err(JwsFailure::BadSignature));
        assert_eq!(verify_signature(&jwt, &unverified, &alice.did, &HashMap::new(), None), Err(JwsFailure::UnknownDid));
        // A document served for Alice's DID but naming another DID is not Alice's (DCP: `sub` = the document's id).
        let mut elsewhere = alice.document.clone();
        elsewhere["id"] = json!("did:web:elsewhere.example");
        let docs: HashMap<String, Value> = [(alice.did.clone(), elsewhere)].into();
        assert_eq!(verify_signature(&jwt, &unverified, &alice.did, &docs, None), Err(JwsFailure::UnknownDid));
        assert_eq!(
            verify_signature(&jwt, &unverified, &mallory.did, &documents(&[&mallory]), None),
            Err(JwsFailure::KidNotOfSigner(alice.key.kid().to_string()))
        );
    }

    #[test]
    fn a_required_relationship_must_list_the_key() {
        let alice = party("alice");
        let jwt = alice.key.sign("JWT", &json!({"iss": alice.did})).unwrap();
        let unverified = decode_unverified(&jwt).unwrap();
        let invocation = Some(did::relationship::CAPABILITY_INVOCATION);
        assert_eq!(verify_signature(&jwt, &unverified, &alice.did, &documents(&[&alice]), invocation), Ok(()));
        let mut document = alice.document.clone();
        document["capabilityInvocation"] = json!([]);
        let docs: HashMap<String, Value> = [(alice.did.clone(), document)].into();
        let kid = alice.key.kid().to_string();
        let refused = verify_signature(&jwt, &unverified, &alice.did, &docs, invocation);
        assert_eq!(refused, Err(JwsFailure::NotAuthorized { kid, relationship: "capabilityInvocation" }));
        assert_eq!(verify_signature(&jwt, &unverified, &alice.did, &docs, None), Ok(()), "unchecked unless asked");
    }

    #[test]
    fn malformed_compact_forms_are_refused() {
        for (input, why) in [
            ("", "not a compact JWS (three non-empty dot-separated parts)"),
            ("a.b", "not a compact JWS (three non-empty dot-separated parts)"),
            ("eyJhbGciOiJFUzI1NiJ9.!!.c", "payload is not base64url: Invalid symbol 33, offset 0."),
            ("eyJhbGciOiJFUzI1NiJ9.WzFd.c", "payload is not a JSON object"),
        ] {
            assert_eq!(decode_unverified(input).err().as_deref(), Some(why), "{input}");
        }
        assert!(decode_unverified("bm9wZQ.e30.c").err().is_some_and(|e| e.starts_with("header: ")));
    }

    #[test]
    fn a_kid_must_belong_to_the_signing_did() {
        let err = SigningKey::es256_from_pem("did:web:a", "did:web:b#k", b"").err();
        assert_eq!(err.map(|e| e.to_string()).as_deref(), Some("kid 'did:web:b#k' does not belong to did:web:a"));
    }
}
