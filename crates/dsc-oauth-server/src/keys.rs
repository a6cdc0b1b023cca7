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
    /// The key that signs after the next rotation, published ahead so that every replica and every JWKS cache
    /// (a broker's) knows it before the first token it signs.
    #[serde(default)]
    pub next: Option<StoredKey>,
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
    /// Published, not yet signing here (another replica may already sign with it).
    pub next: Option<SigningKey>,
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
            next: stored.next.as_ref().map(|key| SigningKey::from_pem(&key.pem)).transpose()?,
        })
    }

    /// The current key, the next one and every previous key not yet retired.
    pub fn jwks(&self, now: i64) -> JwkSet {
        let mut keys = vec![self.current.jwk.clone()];
        keys.extend(self.next.iter().map(|key| key.jwk.clone()));
        keys.extend(self.previous.iter().filter(|(_, retire_at)| *retire_at > now).map(|(key, _)| key.jwk.clone()));
        JwkSet { keys }
    }

    /// The key that verifies a token with header `kid`: the current one, the next one (a replica that rotated
    /// before this one looked again signs with it) or a previous one not yet retired.
    pub fn verifying(&self, kid: &str, now: i64) -> Option<&SigningKey> {
        if self.current.kid == kid {
            return Some(&self.current);
        }
        if let Some(next) = self.next.as_ref().filter(|next| next.kid == kid) {
            return Some(next);
        }
        self.previous.iter().find(|(key, retire_at)| key.kid == kid && *retire_at > now).map(|(key, _)| key)
    }
}

/// What a rotation check does to the ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationStep {
    Nothing,
    /// Create the next key and publish it (not signing yet).
    PublishNext,
    /// The next key signs from now on; the current one is kept published until its tokens expired.
    Promote,
}

/// The two phases of a rotation with keys at most `max_age_seconds` old (0: never rotate): the next key is
/// published `publish_ahead_seconds` before it is due, and signs only once it has been published that long, so
/// every replica and JWKS cache that refreshes at least that often knows it before its first token.
pub fn rotation_step(stored: &StoredKeys, max_age_seconds: i64, publish_ahead_seconds: i64, now: i64) -> RotationStep {
    if max_age_seconds <= 0 {
        return RotationStep::Nothing;
    }
    let age = now.saturating_sub(stored.current.created_at);
    match &stored.next {
        Some(next) if age >= max_age_seconds && now.saturating_sub(next.created_at) >= publish_ahead_seconds => {
            RotationStep::Promote
        }
        Some(_) => RotationStep::Nothing,
        None if age >= max_age_seconds.saturating_sub(publish_ahead_seconds) => RotationStep::PublishNext,
        None => RotationStep::Nothing,
    }
}

/// `stored` with a freshly generated next key.
pub fn with_next(stored: &StoredKeys, now: i64) -> Result<StoredKeys, ServerError> {
    Ok(StoredKeys {
        next: Some(StoredKey { pem: generate_pem()?, created_at: now, retire_at: None }),
        ..stored.clone()
    })
}

/// The next key (a new one if none was published) becomes current, aged from now; the old one stays published
/// until every token it signed has expired (`token_lifetime_seconds` from now), retired keys are dropped.
pub fn rotated(stored: &StoredKeys, token_lifetime_seconds: i64, now: i64) -> Result<StoredKeys, ServerError> {
    let mut previous: Vec<StoredKey> =
        stored.previous.iter().filter(|key| key.retire_at.is_some_and(|at| at > now)).cloned().collect();
    previous.push(StoredKey {
        pem: stored.current.pem.clone(),
        created_at: stored.current.created_at,
        retire_at: Some(now + token_lifetime_seconds),
    });
    let pem = match &stored.next {
        Some(next) => next.pem.clone(),
        None => generate_pem()?,
    };
    Ok(StoredKeys { current: StoredKey { pem, created_at: now, retire_at: None }, previous, next: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(stored: &StoredKeys, now: i64) -> KeyRing {
        KeyRing::from_stored(stored, now).unwrap()
    }

    fn first() -> StoredKeys {
        StoredKeys {
            current: StoredKey { pem: generate_pem().unwrap_or_default(), created_at: 1_000, retire_at: None },
            previous: vec![],
            next: None,
        }
    }

    #[test]
    fn the_next_key_is_published_ahead_and_signs_only_after_that() {
        let first = first();
        assert_eq!(rotation_step(&first, 0, 60, 1_000_000), RotationStep::Nothing, "0 never rotates");
        assert_eq!(rotation_step(&first, 3_600, 60, 4_539), RotationStep::Nothing);
        assert_eq!(rotation_step(&first, 3_600, 60, 4_540), RotationStep::PublishNext);
        let published = with_next(&first, 4_540).unwrap();
        let keys = ring(&published, 4_540);
        let next_kid = keys.next.as_ref().map(|k| k.kid.clone()).unwrap_or_default();
        assert_eq!(keys.jwks(4_540).keys.len(), 2, "the next key is published beside the current one");
        assert!(keys.verifying(&next_kid, 4_540).is_some(), "a replica that promoted it first is believed");
        assert_ne!(keys.current.kid, next_kid, "it does not sign yet");
        assert_eq!(rotation_step(&published, 3_600, 60, 4_599), RotationStep::Nothing, "not due yet");
        assert_eq!(rotation_step(&published, 3_600, 60, 4_600), RotationStep::Promote);
        let promoted = rotated(&published, 300, 4_600).unwrap();
        assert_eq!(ring(&promoted, 4_600).current.kid, next_kid, "the published key signs");
        assert_eq!(promoted.next.as_ref().map(|k| k.created_at), None);
        assert_eq!(promoted.current.created_at, 4_600, "the next rotation counts from the promotion");
    }

    #[test]
    fn a_key_due_long_ago_waits_for_its_successor_to_be_published_long_enough() {
        let published = with_next(&first(), 9_000).unwrap();
        assert_eq!(rotation_step(&published, 3_600, 60, 9_059), RotationStep::Nothing);
        assert_eq!(rotation_step(&published, 3_600, 60, 9_060), RotationStep::Promote);
        assert_eq!(rotation_step(&first(), 3_600, 0, 4_600), RotationStep::PublishNext);
        assert_eq!(rotation_step(&with_next(&first(), 4_600).unwrap(), 3_600, 0, 4_600), RotationStep::Promote);
    }

    #[test]
    fn a_rotated_key_is_published_until_its_tokens_expire() {
        let first = first();
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
