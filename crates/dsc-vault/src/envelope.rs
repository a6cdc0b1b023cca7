// SPDX-License-Identifier: Apache-2.0
//! Envelope encryption for vaults kept in a shared store (the database vault): each secret is encrypted with a data
//! key of its own, and only that data key is encrypted ("wrapped") with the vault key. The vault key never leaves the
//! process's configuration, and rotating it re-wraps 32-byte data keys instead of re-encrypting every secret.
//!
//! Key ids are the first 8 bytes of the SHA-256 of the key, in hex: they name a key in the store without revealing
//! anything about it, and the same key has the same id on every replica without configuring one.
//!
//! Both layers use ChaCha20-Poly1305 with a random nonce; the secret's name is the associated data of both, and the
//! key id of the wrap, so neither a ciphertext nor a wrapped key can be moved to another name or passed off as
//! wrapped by another key.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

use crate::{SecretString, VaultError, VaultKey};

/// One secret as a store keeps it: everything base64 but the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub key_id: String,
    pub wrapped_key: String,
    pub nonce: String,
    pub ciphertext: String,
}

/// The vault key that seals, and the keys that may still open what older keys sealed.
pub struct KeyRing {
    primary: String,
    keys: BTreeMap<String, ChaCha20Poly1305>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("primary", &self.primary).field("keys", &self.keys.keys()).finish()
    }
}

pub fn key_id(key: &VaultKey) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.bytes());
    digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl KeyRing {
    /// `primary` seals; `previous` only open (a rotation in progress).
    pub fn new(primary: &VaultKey, previous: &[VaultKey]) -> Self {
        let mut keys = BTreeMap::new();
        for key in previous.iter().chain(std::iter::once(primary)) {
            keys.insert(key_id(key), ChaCha20Poly1305::new(Key::from_slice(key.bytes())));
        }
        KeyRing { primary: key_id(primary), keys }
    }

    pub fn primary_id(&self) -> &str {
        &self.primary
    }

    pub fn knows(&self, key_id: &str) -> bool {
        self.keys.contains_key(key_id)
    }

    pub fn seal(&self, name: &str, value: &SecretString) -> Result<SealedSecret, VaultError> {
        let mut data_key = [0u8; 32];
        rand::rng().fill_bytes(&mut data_key);
        let data_cipher = ChaCha20Poly1305::new(Key::from_slice(&data_key));
        let (nonce, ciphertext) = encrypt(&data_cipher, value.expose().as_bytes(), name.as_bytes(), name)?;
        let wrapped_key = self.wrap(name, &self.primary, &data_key)?;
        Ok(SealedSecret { key_id: self.primary.clone(), wrapped_key, nonce, ciphertext })
    }

    pub fn open(&self, name: &str, sealed: &SealedSecret) -> Result<SecretString, VaultError> {
        let data_key = self.unwrap(name, sealed)?;
        let data_cipher = ChaCha20Poly1305::new(Key::from_slice(&data_key));
        let plain = decrypt(&data_cipher, &sealed.nonce, &sealed.ciphertext, name.as_bytes(), name)?;
        String::from_utf8(plain).map(SecretString::new).map_err(|_| VaultError::Decrypt(name.to_string()))
    }

    /// The same secret with its data key wrapped by the primary key; the secret itself is not touched.
    pub fn rewrap(&self, name: &str, sealed: &SealedSecret) -> Result<SealedSecret, VaultError> {
        let data_key = self.unwrap(name, sealed)?;
        let wrapped_key = self.wrap(name, &self.primary, &data_key)?;
        Ok(SealedSecret { key_id: self.primary.clone(), wrapped_key, ..sealed.clone() })
    }

    fn wrap(&self, name: &str, key_id: &str, data_key: &[u8; 32]) -> Result<String, VaultError> {
        let cipher = self.cipher(name, key_id)?;
        let (nonce, ciphertext) = encrypt(cipher, data_key, &wrap_aad(name, key_id), name)?;
        Ok(format!("{nonce}.{ciphertext}"))
    }

    fn unwrap(&self, name: &str, sealed: &SealedSecret) -> Result<[u8; 32], VaultError> {
        let cipher = self.cipher(name, &sealed.key_id)?;
        let (nonce, ciphertext) =
            sealed.wrapped_key.split_once('.').ok_or_else(|| VaultError::Decrypt(name.to_string()))?;
        let data_key = decrypt(cipher, nonce, ciphertext, &wrap_aad(name, &sealed.key_id), name)?;
        data_key.try_into().map_err(|_| VaultError::Decrypt(name.to_string()))
    }

    fn cipher(&self, name: &str, key_id: &str) -> Result<&ChaCha20Poly1305, VaultError> {
        self.keys.get(key_id).ok_or_else(|| VaultError::UnknownKey { secret: name.to_string(), key_id: key_id.into() })
    }
}

fn wrap_aad(name: &str, key_id: &str) -> Vec<u8> {
    format!("{key_id}/{name}").into_bytes()
}

fn encrypt(cipher: &ChaCha20Poly1305, plain: &[u8], aad: &[u8], name: &str) -> Result<(String, String), VaultError> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| VaultError::Decrypt(name.to_string()))?;
    Ok((BASE64.encode(nonce), BASE64.encode(ciphertext)))
}

fn decrypt(
    cipher: &ChaCha20Poly1305,
    nonce: &str,
    ciphertext: &str,
    aad: &[u8],
    name: &str,
) -> Result<Vec<u8>, VaultError> {
    let fail = || VaultError::Decrypt(name.to_string());
    let nonce = BASE64.decode(nonce).map_err(|_| fail())?;
    if nonce.len() != 12 {
        return Err(fail());
    }
    let ciphertext = BASE64.decode(ciphertext).map_err(|_| fail())?;
    cipher.decrypt(Nonce::from_slice(&nonce), Payload { msg: &ciphertext, aad }).map_err(|_| fail())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_with_a_data_key_of_its_own_and_opens_after_rotation() {
        let (old, new) = (VaultKey::generate(), VaultKey::generate());
        let before = KeyRing::new(&old, &[]);
        let sealed = before.seal("db-password", &SecretString::new("s3cret")).unwrap();
        assert_eq!(sealed.key_id, key_id(&old));
        assert_eq!(key_id(&old).len(), 16);
        assert_ne!(before.seal("db-password", &SecretString::new("s3cret")).unwrap().ciphertext, sealed.ciphertext);

        let rotating = KeyRing::new(&new, std::slice::from_ref(&old));
        assert_eq!(rotating.open("db-password", &sealed).unwrap().expose(), "s3cret");
        let rewrapped = rotating.rewrap("db-password", &sealed).unwrap();
        assert_eq!((rewrapped.key_id.as_str(), &rewrapped.ciphertext), (key_id(&new).as_str(), &sealed.ciphertext));
        let after = KeyRing::new(&new, &[]);
        assert_eq!(after.open("db-password", &rewrapped).unwrap().expose(), "s3cret");
        assert_eq!(
            after.open("db-password", &sealed).err().map(|e| e.to_string()),
            Some(format!(
                "secret 'db-password' is sealed with vault key {}, which is neither the vault key nor one of the previous keys",
                key_id(&old)
            ))
        );
    }

    #[test]
    fn a_sealed_secret_cannot_move_to_another_name_or_key() {
        let (key, other) = (VaultKey::generate(), VaultKey::generate());
        let ring = KeyRing::new(&key, std::slice::from_ref(&other));
        let sealed = ring.seal("a", &SecretString::new("value")).unwrap();
        assert!(matches!(ring.open("b", &sealed), Err(VaultError::Decrypt(name)) if name == "b"));
        let relabelled = SealedSecret { key_id: key_id(&other), ..sealed };
        assert!(matches!(ring.open("a", &relabelled), Err(VaultError::Decrypt(_))));
        let wrong = KeyRing::new(&other, &[]);
        let forged = SealedSecret { key_id: key_id(&other), ..ring.seal("a", &SecretString::new("v")).unwrap() };
        assert!(matches!(wrong.open("a", &forged), Err(VaultError::Decrypt(_))));
    }
}
