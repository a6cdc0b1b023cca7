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

/// The vault key holding the key ring (JSON of [`StoredKeys`]).
pub const KEYS_VAULT_KEY: &str = "dsc-oauth-server-signing-keys";
/// Where a single key was kept before rotation existed; adopted as the current key.
pub const LEGACY_VAULT_KEY: &str = "dsc-oauth-server-signing-key";

/// The key ring as the vault keeps it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredKeys {
    pub current: StoredKey,
    /// Keys that signed tokens which may still be valid; published until `retire_at`.
    #[serde(default)]
    pub previous: Vec<StoredKey>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StoredKey {
    pub pem: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which no token signed with it is valid any more (previous keys only).
    #[serde(default)]
    pub retire_at: Option<i64>,
}

/// The signing key and the keys it replaced, while tokens they signed may still be presented.
pub struct KeyRing {
    pub current: SigningKey,
    pub current_created_at: i64,
    pub previous: Vec<(SigningKey, i64)>,
}

impl KeyRing {
    pub fn from_stored(stored: &StoredKeys, now: i64) -> Result<Self, ServerError> {
        let previous = stored
            .previous
            .iter()
            .filter(|key| key.retire_at.is_some_and(|at| at > now))
            .map(|key| Ok((SigningKey::from_pem(&key.pem)?, key.retire_at.unwrap_or(now))))
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(KeyRing {
            current: SigningKey::from_pem(&stored.current.pem)?,
            current_created_at: stored.current.created_at,
            previous,
        })
    }

    /// The current key and every previous key not yet retired.
    pub fn jwks(&self, now: i64) -> JwkSet {
        let mut keys = vec![self.current.jwk.clone()];
        keys.extend(self.previous.iter().filter(|(_, retire_at)| *retire_at > now).map(|(key, _)| key.jwk.clone()));
        JwkSet { keys }
    }

    /// The key that verifies a token with header `kid`, if it is current or not yet retired.
    pub fn verifying(&self, kid: &str, now: i64) -> Option<&SigningKey> {
        if self.current.kid == kid {
            return Some(&self.current);
        }
        self.previous.iter().find(|(key, retire_at)| key.kid == kid && *retire_at > now).map(|(key, _)| key)
    }
}

/// Whether the current key is older than `max_age_seconds` (0: never rotate).
pub fn rotation_due(stored: &StoredKeys, max_age_seconds: i64, now: i64) -> bool {
    max_age_seconds > 0 && now - stored.current.created_at >= max_age_seconds
}

/// A new current key; the old one stays published until every token it signed has expired
/// (`token_lifetime_seconds` from now), retired keys are dropped.
pub fn rotated(stored: &StoredKeys, token_lifetime_seconds: i64, now: i64) -> Result<StoredKeys, ServerError> {
    let mut previous: Vec<StoredKey> =
        stored.previous.iter().filter(|key| key.retire_at.is_some_and(|at| at > now)).cloned().collect();
    previous.push(StoredKey {
        pem: stored.current.pem.clone(),
        created_at: stored.current.created_at,
        retire_at: Some(now + token_lifetime_seconds),
    });
    Ok(StoredKeys { current: StoredKey { pem: generate_pem()?, created_at: now, retire_at: None }, previous })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(stored: &StoredKeys, now: i64) -> KeyRing {
        KeyRing::from_stored(stored, now).unwrap()
    }

    #[test]
    fn a_rotated_key_is_published_until_its_tokens_expire() {
        let first = StoredKeys {
            current: StoredKey { pem: generate_pem().unwrap_or_default(), created_at: 1_000, retire_at: None },
            previous: vec![],
        };
        assert!(!rotation_due(&first, 0, 1_000_000), "0 never rotates");
        assert!(!rotation_due(&first, 3_600, 4_599));
        assert!(rotation_due(&first, 3_600, 4_600));
        let old_kid = ring(&first, 4_600).current.kid.clone();

        let second = rotated(&first, 300, 4_600).unwrap();
        let keys = ring(&second, 4_600);
        assert_ne!(keys.current.kid, old_kid);
        assert_eq!(keys.jwks(4_600).keys.len(), 2, "old and new are published");
        assert!(keys.verifying(&old_kid, 4_899).is_some(), "tokens of the old key verify until they expire");
        assert!(keys.verifying(&old_kid, 4_900).is_none());
        assert_eq!(keys.jwks(4_900).keys.len(), 1);

        let third = rotated(&second, 300, 5_000).unwrap();
        assert_eq!(third.previous.len(), 1, "the retired first key is dropped, the second kept");
        assert_eq!(ring(&third, 5_000).previous.len(), 1);
    }
}
