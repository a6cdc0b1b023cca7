// SPDX-License-Identifier: Apache-2.0
//! The participant's own key: DID document and self-issued tokens.

use std::time::Duration;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand::RngCore;
use serde_json::{Value, json};

use crate::IdentityError;

pub struct SigningIdentity {
    did: String,
    key_id: String,
    key: EncodingKey,
    public_jwk: Jwk,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity").field("did", &self.did).field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl SigningIdentity {
    /// A new P-256 key for `did`; returns the identity and the private key as PKCS#8 PEM, for the vault.
    pub fn generate(did: &str) -> Result<(Self, String), IdentityError> {
        let key = loop {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            // A random 256-bit string is a valid scalar with overwhelming probability; retry otherwise.
            if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&bytes.into()) {
                break key;
            }
        };
        let pem = key.to_pkcs8_pem(LineEnding::LF).map_err(|e| IdentityError::Key(e.to_string()))?;
        let identity = Self::from_pem(did, pem.as_str())?;
        Ok((identity, pem.to_string()))
    }

    /// The identity for `did` with a PKCS#8 PEM P-256 private key.
    pub fn from_pem(did: &str, pem: &str) -> Result<Self, IdentityError> {
        if !did.starts_with("did:web:") {
            return Err(IdentityError::Key(format!("'{did}' is not a did:web DID")));
        }
        crate::crypto::install();
        let key = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| IdentityError::Key(e.to_string()))?;
        let key_id = format!("{did}#key-1");
        let mut public_jwk =
            Jwk::from_encoding_key(&key, Algorithm::ES256).map_err(|e| IdentityError::Key(e.to_string()))?;
        public_jwk.common.key_id = Some(key_id.clone());
        Ok(SigningIdentity { did: did.to_string(), key_id, key, public_jwk })
    }

    pub fn did(&self) -> &str {
        &self.did
    }

    /// The DID document to serve at the URL the DID names.
    pub fn did_document(&self) -> Value {
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
            "id": self.did,
            "verificationMethod": [{
                "id": self.key_id,
                "type": "JsonWebKey2020",
                "controller": self.did,
                "publicKeyJwk": self.public_jwk,
            }],
            "authentication": [self.key_id],
            "assertionMethod": [self.key_id],
            // DCP: the key signing self-issued tokens must be listed here.
            "capabilityInvocation": [self.key_id],
        })
    }

    /// The DID document with `service` entries (`{"id", "type", "serviceEndpoint"}`), such as the DCP
    /// `CredentialService` and the Catena-X `DataService`.
    pub fn did_document_with_services(&self, services: &[Value]) -> Value {
        let mut document = self.did_document();
        if !services.is_empty() {
            document["service"] = Value::Array(services.to_vec());
        }
        document
    }

    /// The id of the verification method (`<did>#key-1`) that publishes this key, as tokens name it in `kid`.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// A self-issued ID token for a request to `audience` (the counter-party's DID).
    pub fn self_issued_token(&self, audience: &str, lifetime: Duration) -> Result<String, IdentityError> {
        self.self_issued_token_at(audience, dsc_domain::clock::system_now_seconds(), lifetime)
    }

    /// The same, issued at a given time (epoch seconds): for clock control in tests.
    pub fn self_issued_token_at(
        &self,
        audience: &str,
        issued: i64,
        lifetime: Duration,
    ) -> Result<String, IdentityError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = json!({
            "iss": self.did,
            "sub": self.did,
            "aud": audience,
            "iat": issued,
            "exp": issued + lifetime.as_secs() as i64,
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| IdentityError::Key(e.to_string()))
    }
}
