// SPDX-License-Identifier: Apache-2.0
//! Keys and DID documents generated in the test, never fixed ones.
use std::collections::HashMap;

use serde_json::Value;

use crate::jws::SigningKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::json;

pub struct Party {
    pub did: String,
    pub key: SigningKey,
    pub document: Value,
}

pub fn party(name: &str) -> Party {
    let did = format!("did:web:{name}.example");
    // A fresh random scalar each run; a value outside the curve order (odds about 2^-32) is simply redrawn.
    let secret = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = p256::ecdsa::SigningKey::from_bytes(&bytes.into()) {
            break key;
        }
    };
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap_or_else(|e| panic!("{e}"));
    let kid = format!("{did}#key-1");
    let key = SigningKey::es256_from_pem(&did, &kid, pem.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let public = p256::PublicKey::from(secret.verifying_key());
    let jwk: Value = serde_json::from_str(&public.to_jwk_string()).unwrap_or_else(|e| panic!("{e}"));
    let document = json!({
        "id": did,
        "verificationMethod": [{"id": kid, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}],
        "authentication": [kid], "capabilityInvocation": [kid], "assertionMethod": [kid]
    });
    Party { did, key, document }
}

pub fn documents(parties: &[&Party]) -> HashMap<String, Value> {
    parties.iter().map(|p| (p.did.clone(), p.document.clone())).collect()
}
