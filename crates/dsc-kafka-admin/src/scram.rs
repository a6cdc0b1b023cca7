// SPDX-License-Identifier: Apache-2.0
//! The client side of SASL SCRAM (RFC 5802, SHA-256/SHA-512 as Kafka offers them; RFC 7677), on `ring`.
//! Written here because the maintained SCRAM crates either pull in a second crypto stack or are client/server
//! frameworks; the exchange itself is three messages.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::{digest, hmac, pbkdf2};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramMechanism {
    Sha256,
    Sha512,
}

impl ScramMechanism {
    pub fn name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramMechanism::Sha256 => hmac::HMAC_SHA256,
            ScramMechanism::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramMechanism::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramMechanism::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramMechanism::Sha256 => &digest::SHA256,
            ScramMechanism::Sha512 => &digest::SHA512,
        }
    }

    fn length(self) -> usize {
        self.digest().output_len()
    }
}

/// One SCRAM exchange: `first`, then `answer` to the server's first message, then `verify` its final message.
pub struct ScramExchange {
    mechanism: ScramMechanism,
    password: String,
    nonce: String,
    first_bare: String,
    /// ServerKey and AuthMessage, to check the server's signature (set by `answer`).
    server_key: Vec<u8>,
    auth_message: String,
}

/// `=` and `,` are escaped in SCRAM user names.
fn escape(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

fn hmac(mechanism: ScramMechanism, key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(mechanism.hmac(), key), data).as_ref().to_vec()
}

impl ScramExchange {
    pub fn new(mechanism: ScramMechanism, user: &str, password: &str, nonce: String) -> Self {
        let first_bare = format!("n={},r={nonce}", escape(user));
        ScramExchange {
            mechanism,
            password: password.to_string(),
            nonce,
            first_bare,
            server_key: Vec::new(),
            auth_message: String::new(),
        }
    }

    /// A random client nonce (24 bytes, base64).
    pub fn random_nonce() -> Result<String, String> {
        let mut bytes = [0u8; 24];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| "no randomness for the SCRAM nonce".to_string())?;
        Ok(STANDARD.encode(bytes))
    }

    /// The client-first message (no channel binding, no authorization identity).
    pub fn first(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    /// The client-final message for the server-first message, or why the server's message is unusable.
    pub fn answer(&mut self, server_first: &str) -> Result<String, String> {
        let field = |name: char| {
            server_first
                .split(',')
                .find_map(|part| part.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
                .ok_or_else(|| format!("the server's SCRAM message has no '{name}': {server_first}"))
        };
        if let Ok(error) = field('e') {
            return Err(format!("the server refused the SCRAM login: {error}"));
        }
        let nonce = field('r')?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err("the server's SCRAM nonce does not extend ours".into());
        }
        let salt = STANDARD.decode(field('s')?).map_err(|e| format!("bad SCRAM salt: {e}"))?;
        let iterations: u32 = field('i')?.parse().map_err(|_| "bad SCRAM iteration count".to_string())?;
        let iterations =
            std::num::NonZeroU32::new(iterations).ok_or_else(|| "a SCRAM iteration count of 0".to_string())?;
        let mut salted = vec![0u8; self.mechanism.length()];
        pbkdf2::derive(self.mechanism.pbkdf2(), iterations, &salt, self.password.as_bytes(), &mut salted);
        let client_key = hmac(self.mechanism, &salted, b"Client Key");
        let stored_key = digest::digest(self.mechanism.digest(), &client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let signature = hmac(self.mechanism, stored_key.as_ref(), auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&signature).map(|(k, s)| k ^ s).collect();
        self.server_key = hmac(self.mechanism, &salted, b"Server Key");
        self.auth_message = auth_message;
        Ok(format!("{without_proof},p={}", STANDARD.encode(proof)))
    }

    /// Checks the server-final message: the server proves it knows the password too.
    pub fn verify(&self, server_final: &str) -> Result<(), String> {
        if let Some(error) = server_final.strip_prefix("e=") {
            return Err(format!("the server refused the SCRAM login: {error}"));
        }
        let verifier = server_final
            .split(',')
            .find_map(|part| part.strip_prefix("v="))
            .ok_or_else(|| format!("the server's final SCRAM message has no verifier: {server_final}"))?;
        let wrong = || "the server's SCRAM signature is wrong (not the broker we think it is)".to_string();
        let signature = STANDARD.decode(verifier).map_err(|_| wrong())?;
        let key = hmac::Key::new(self.mechanism.hmac(), &self.server_key);
        hmac::verify(&key, self.auth_message.as_bytes(), &signature).map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7677 §3.
    #[test]
    fn the_rfc_7677_exchange_is_reproduced() {
        let mut exchange = ScramExchange::new(ScramMechanism::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO".into());
        assert_eq!(exchange.first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            exchange.answer(server_first).as_deref(),
            Ok(
                "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
            )
        );
        assert_eq!(exchange.verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), Ok(()));
        assert_eq!(
            exchange.verify("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err("the server's SCRAM signature is wrong (not the broker we think it is)".into())
        );
    }

    #[test]
    fn bad_server_messages_are_refused() {
        let mut exchange = ScramExchange::new(ScramMechanism::Sha512, "a=b,c", "pw", "abc".into());
        assert_eq!(exchange.first(), "n,,n=a=3Db=2Cc,r=abc");
        assert_eq!(exchange.answer("r=xyz,s=AAAA,i=4096"), Err("the server's SCRAM nonce does not extend ours".into()));
        assert_eq!(exchange.answer("r=abc,s=AAAA,i=4096"), Err("the server's SCRAM nonce does not extend ours".into()));
        assert_eq!(exchange.answer("r=abcd,s=AAAA,i=0"), Err("a SCRAM iteration count of 0".into()));
        assert_eq!(exchange.answer("e=invalid-proof"), Err("the server refused the SCRAM login: invalid-proof".into()));
        assert_eq!(exchange.verify("e=other-error"), Err("the server refused the SCRAM login: other-error".into()));
    }
}
