// SPDX-License-Identifier: Apache-2.0
//! Access and refresh tokens bound to a data flow.
//!
//! Access tokens are short-lived JWTs (HS256 with a 256-bit secret from the vault: the data plane is their only
//! verifier). A token is accepted only while its flow is STARTED and its `jti` is the flow's current token id,
//! so suspend, terminate and refresh revoke at once. Refresh tokens are random, shown to the consumer once and
//! stored as SHA-256 only; each refresh rotates them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The data flow (transfer process) id.
    pub sub: String,
    /// The consumer's participant id.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// A freshly issued pair.
pub struct TokenPair {
    pub access_token: String,
    pub access_token_id: String,
    pub refresh_token: String,
    pub refresh_token_hash: String,
    pub expires_in: u64,
}

/// Names the ids only: the tokens themselves are credentials and never printed.
impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token_id", &self.access_token_id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

pub struct TokenIssuer {
    issuer: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime_seconds: u64,
}

pub fn hash_refresh_token(token: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new random signing secret, base64, for the vault.
pub fn new_secret() -> String {
    random_token()
}

impl TokenIssuer {
    pub fn new(issuer: impl Into<String>, secret: &[u8], lifetime_seconds: u64) -> Self {
        TokenIssuer {
            issuer: issuer.into(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime_seconds: lifetime_seconds.max(1),
        }
    }

    pub fn lifetime_seconds(&self) -> u64 {
        self.lifetime_seconds
    }

    pub fn issue(&self, flow_id: &str, consumer: &str) -> Result<TokenPair, String> {
        let now = dsc_domain::clock::system_now_seconds();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: flow_id.to_string(),
            aud: consumer.to_string(),
            iat: now,
            exp: now + self.lifetime_seconds as i64,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let access_token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| e.to_string())?;
        let refresh_token = random_token();
        Ok(TokenPair {
            access_token,
            access_token_id: claims.jti,
            refresh_token_hash: hash_refresh_token(&refresh_token),
            refresh_token,
            expires_in: self.lifetime_seconds,
        })
    }

    /// Checks signature, issuer and expiry (no leeway: the lifetime is short on purpose).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_the_same_secret_and_refresh_tokens_are_hashed() {
        let issuer = TokenIssuer::new("did:web:provider", b"0123456789abcdef0123456789abcdef", 60);
        let pair = issuer.issue("flow-1", "did:web:consumer").unwrap();
        let claims = issuer.verify(&pair.access_token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.jti.as_str()), ("flow-1", pair.access_token_id.as_str()));
        let other = TokenIssuer::new("did:web:provider", b"another-secret-another-secret-xx", 60);
        assert!(other.verify(&pair.access_token).is_err(), "a token from another key is refused");
        assert_ne!(pair.refresh_token, pair.refresh_token_hash);
        assert_eq!(hash_refresh_token(&pair.refresh_token), pair.refresh_token_hash);
        assert!(issuer.verify("not-a-token").is_err());
    }
}
