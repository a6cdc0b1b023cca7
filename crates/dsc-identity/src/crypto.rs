// SPDX-License-Identifier: Apache-2.0
//! ES256 signing and verification through `ring`.
//!
//! Every DSP request is signed by one connector and verified by the other, so token cryptography sits on the hot
//! path of every negotiation and transfer message. The pure-Rust P-256 code behind jsonwebtoken's default backend
//! measured about 96 µs per signature and 158 µs per verification here; `ring` (already linked for rustls) about
//! 20 µs and 36 µs. jsonwebtoken lets a process install its crypto backend, so this one handles ES256 and hands
//! every other algorithm to the default RustCrypto backend unchanged.

use std::sync::LazyLock;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, rust_crypto};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, UnparsedPublicKey};

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: rust_crypto::DEFAULT_PROVIDER.key_utils.clone(),
});

/// Makes this backend jsonwebtoken's process-wide default. Idempotent; must run before the first token is signed
/// or verified, which is why the identity types call it when they are built.
pub(crate) fn install() {
    // An error means a backend is installed already: ours from an earlier call, or one the embedding program chose.
    let _ = CryptoProvider::install_default(&PROVIDER);
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    match algorithm {
        Algorithm::ES256 => Ok(Box::new(Es256Signer::new(key)?)),
        _ => (rust_crypto::DEFAULT_PROVIDER.signer_factory)(algorithm, key),
    }
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    match algorithm {
        Algorithm::ES256 => Ok(Box::new(Es256Verifier::new(key)?)),
        _ => (rust_crypto::DEFAULT_PROVIDER.verifier_factory)(algorithm, key),
    }
}

struct Es256Signer {
    key_pair: EcdsaKeyPair,
    random: SystemRandom,
}

impl Es256Signer {
    fn new(key: &EncodingKey) -> Result<Self, Error> {
        if key.family() != AlgorithmFamily::Ec {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        let random = SystemRandom::new();
        // jsonwebtoken keeps EC private keys as PKCS#8 DER.
        let key_pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.as_bytes(), &random)
            .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?;
        Ok(Es256Signer { key_pair, random })
    }
}

impl Signer<Vec<u8>> for Es256Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let signature = self.key_pair.sign(&self.random, message).map_err(|_| signature::Error::new())?;
        Ok(signature.as_ref().to_vec())
    }
}

impl JwtSigner for Es256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

struct Es256Verifier(DecodingKey);

impl Es256Verifier {
    fn new(key: &DecodingKey) -> Result<Self, Error> {
        if key.family() != AlgorithmFamily::Ec {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(Es256Verifier(key.clone()))
    }
}

impl Verifier<Vec<u8>> for Es256Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        // jsonwebtoken keeps EC public keys as the uncompressed SEC1 point, which is what ring expects.
        let point = self.0.try_get_as_bytes().map_err(signature::Error::from_source)?;
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(message, signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Es256Verifier {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::{EncodePrivateKey, LineEnding};

    fn keys() -> (EncodingKey, DecodingKey, p256::ecdsa::SigningKey) {
        let key = p256::ecdsa::SigningKey::from_bytes(&[7u8; 32].into()).unwrap();
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        let point = key.verifying_key().to_encoded_point(false);
        let decoding = DecodingKey::from_ec_der(point.as_bytes());
        (encoding, decoding, key)
    }

    #[test]
    fn ring_and_rustcrypto_accept_each_others_signatures() {
        use p256::ecdsa::signature::{Signer as _, Verifier as _};
        let (encoding, decoding, rust_key) = keys();
        let message = b"header.claims";

        let ring_signature = Es256Signer::new(&encoding).and_then(|s| Ok(s.try_sign(message)?));
        let ring_signature = ring_signature.unwrap();
        let parsed = p256::ecdsa::Signature::from_slice(&ring_signature).unwrap();
        assert!(rust_key.verifying_key().verify(message, &parsed).is_ok(), "RustCrypto accepts ring's signature");

        let rust_signature: p256::ecdsa::Signature = rust_key.sign(message);
        let verifier = Es256Verifier::new(&decoding).unwrap();
        assert!(verifier.verify(message, &rust_signature.to_vec()).is_ok(), "ring accepts RustCrypto's signature");
        assert!(verifier.verify(b"header.tampered", &rust_signature.to_vec()).is_err(), "and refuses a forgery");
    }

    #[test]
    fn other_algorithms_and_wrong_key_types_are_not_taken_over() {
        let (encoding, _, _) = keys();
        assert!(new_signer(&Algorithm::ES384, &encoding).is_err(), "a P-256 key cannot sign ES384");
        let hmac = EncodingKey::from_secret(b"secret");
        assert!(new_signer(&Algorithm::HS256, &hmac).is_ok(), "HS256 still works through RustCrypto");
        assert!(matches!(Es256Signer::new(&hmac).err().map(|e| e.into_kind()), Some(ErrorKind::InvalidKeyFormat)));
    }
}
