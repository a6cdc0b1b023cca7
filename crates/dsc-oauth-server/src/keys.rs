// SPDX-License-Identifier: Apache-2.0
//! The server's ES256 signing key, kept in the vault as PKCS#8 PEM and published in the JWKS.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rand::RngCore;

use crate::ServerError;

pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
}

/// A new P-256 key as PKCS#8 PEM.
pub fn generate_pem() -> Result<String, ServerError> {
    let key = loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        // A random 256-bit string is a valid scalar with overwhelming probability; retry otherwise.
        if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&bytes.into()) {
            break key;
        }
    };
    key.to_pkcs8_pem(LineEnding::LF).map(|pem| pem.to_string()).map_err(|e| ServerError::Key(e.to_string()))
}

impl SigningKey {
    /// The key from PEM; `kid` is derived from the public key (RFC 7638 thumbprint), so it is stable across starts.
    pub fn from_pem(pem: &str) -> Result<Self, ServerError> {
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| ServerError::Key(e.to_string()))?;
        let mut jwk =
            Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(|e| ServerError::Key(e.to_string()))?;
        let kid =
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256).map_err(|e| ServerError::Key(e.to_string()))?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| ServerError::Key(e.to_string()))?;
        Ok(SigningKey { kid, encoding, decoding, jwk })
    }

    pub fn jwks(&self) -> JwkSet {
        JwkSet { keys: vec![self.jwk.clone()] }
    }
}
