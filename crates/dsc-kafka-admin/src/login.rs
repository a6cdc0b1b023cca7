// SPDX-License-Identifier: Apache-2.0
//! SASL login on a fresh connection: PLAIN, SCRAM-SHA-256/512 or OAUTHBEARER.

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};

use crate::scram::{ScramExchange, ScramMechanism};
use crate::{AdminError, Connection, text};

/// How the admin client logs in to the listener.
#[derive(Clone)]
pub enum Credentials {
    Plain {
        user: String,
        password: String,
    },
    Scram {
        mechanism: ScramMechanism,
        user: String,
        password: String,
    },
    /// SASL/OAUTHBEARER with a token obtained elsewhere (RFC 7628 initial client response).
    Bearer {
        token: String,
    },
}

impl Credentials {
    fn mechanism(&self) -> &'static str {
        match self {
            Credentials::Plain { .. } => "PLAIN",
            Credentials::Scram { mechanism, .. } => mechanism.name(),
            Credentials::Bearer { .. } => "OAUTHBEARER",
        }
    }
}

/// One SaslAuthenticate round: the server's answer bytes, or its refusal.
async fn round(connection: &mut Connection, bytes: Vec<u8>) -> Result<Bytes, AdminError> {
    let answer: SaslAuthenticateResponse = connection
        .call(ApiKey::SaslAuthenticate, 2, &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(bytes)))
        .await?;
    if answer.error_code != 0 {
        return Err(AdminError::Authentication(
            answer.error_message.map(|m| m.to_string()).unwrap_or_else(|| format!("error {}", answer.error_code)),
        ));
    }
    Ok(answer.auth_bytes)
}

pub(crate) async fn log_in(connection: &mut Connection, credentials: &Credentials) -> Result<(), AdminError> {
    let mechanism = credentials.mechanism();
    let handshake: SaslHandshakeResponse = connection
        .call(ApiKey::SaslHandshake, 1, &SaslHandshakeRequest::default().with_mechanism(text(mechanism)))
        .await?;
    if handshake.error_code != 0 {
        return Err(AdminError::Authentication(format!(
            "SASL/{mechanism} is not enabled on this listener (error {})",
            handshake.error_code
        )));
    }
    match credentials {
        Credentials::Plain { user, password } => {
            round(connection, format!("\0{user}\0{password}").into_bytes()).await?;
        }
        Credentials::Bearer { token } => {
            let answer = round(connection, format!("n,,\x01auth=Bearer {token}\x01\x01").into_bytes()).await?;
            // OAUTHBEARER refuses a token with an error challenge (RFC 7628 §3.2.2) instead of an error code.
            if !answer.is_empty() {
                return Err(AdminError::Authentication(String::from_utf8_lossy(&answer).into_owned()));
            }
        }
        Credentials::Scram { mechanism, user, password } => {
            let refused = AdminError::Authentication;
            let mut exchange =
                ScramExchange::new(*mechanism, user, password, ScramExchange::random_nonce().map_err(refused)?);
            let server_first = round(connection, exchange.first().into_bytes()).await?;
            let answer = exchange.answer(&String::from_utf8_lossy(&server_first)).map_err(refused)?;
            let server_final = round(connection, answer.into_bytes()).await?;
            exchange.verify(&String::from_utf8_lossy(&server_final)).map_err(refused)?;
        }
    }
    Ok(())
}
