// SPDX-License-Identifier: Apache-2.0
//! Turns an EDR into a live, self-refreshing Kafka stream, for applications on the consumer side.
//!
//! The application needs only its own connector's Management API: the library reads the transfer's EDR, builds a
//! Kafka consumer (rdkafka, bundled librdkafka, so KIP-368 session re-authentication works) with SASL/OAUTHBEARER,
//! takes every token from `/v3/edrs/{id}/dataaddress?auto_refresh=true` (so it is renewed at the provider without a
//! new negotiation), uses a group under the EDR's group prefix and commits offsets there (a restart continues where
//! it stopped). When the provider suspends or terminates the transfer, the broker refuses the next fetch; the
//! library then reports [`ConsumeError::Revoked`] instead of retrying.
//!
//! - [`api`]: the Management API calls (EDR, transfer state, negotiating a transfer for an asset).
//! - [`edr`]: reading a Kafka EDR.
//! - [`stream`]: the consuming loop.
//! - [`produce`]: publishing with the provider's own credentials (`dsc produce`).

pub mod api;
pub mod edr;
pub mod produce;
pub mod stream;

pub use api::{ConnectorApi, Provider, contract_request};
pub use edr::Edr;
pub use stream::{
    Ending, FETCH_QUEUE_BACKOFF_MS, Progress, Record, SESSION_TIMEOUT_MS, StreamSettings, Summary, consume,
};

/// Why consuming stopped with an error, in terms a script can act on (see [`ConsumeError::exit_code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsumeError {
    #[error("the consumer connector at {url} refused the API key")]
    Unauthorized { url: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the consumer connector knows no transfer {0}")]
    UnknownTransfer(String),
    #[error("provider {provider} offers no asset {asset}")]
    UnknownAsset { asset: String, provider: String },
    #[error("transfer {transfer} is not a Kafka transfer (its EDR is of type {endpoint_type})")]
    NotKafka { transfer: String, endpoint_type: String },
    #[error("the EDR of transfer {transfer} is unusable: {reason}")]
    Malformed { transfer: String, reason: String },
    #[error("the consumer connector refused {what} ({status}): {body}")]
    Refused { what: String, status: u16, body: String },
    #[error("negotiating asset {asset} failed: {reason}")]
    Negotiation { asset: String, reason: String },
    /// The provider ended access: the transfer is suspended or terminated.
    #[error("access revoked: transfer {transfer} is {state}")]
    Revoked { transfer: String, state: String },
    /// The broker refuses access although the transfer is still started.
    #[error("the Kafka broker denies access: {reason}")]
    Denied { reason: String },
    /// The consumer connector could not renew the token at the provider although the transfer is STARTED (the
    /// provider's refresh endpoint is unreachable or refuses); reading stops once the current token has expired.
    #[error("the token of transfer {transfer} cannot be renewed: {reason}")]
    TokenRenewal { transfer: String, reason: String },
    /// The topic was deleted while the transfer still grants it.
    #[error("topic {topic} no longer exists at the broker")]
    TopicGone { topic: String },
    #[error("Kafka client: {0}")]
    Kafka(String),
}

impl ConsumeError {
    /// Exit codes for `dsc consume`: 3 revoked, 4 denied, 5 unreachable (the consumer connector, or the provider
    /// when a token must be renewed), 2 bad input (arguments, unknown or
    /// non-Kafka transfer, API key), 1 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            ConsumeError::Revoked { .. } => 3,
            ConsumeError::Denied { .. } => 4,
            ConsumeError::Unreachable { .. } | ConsumeError::TokenRenewal { .. } => 5,
            ConsumeError::Unauthorized { .. }
            | ConsumeError::UnknownTransfer(_)
            | ConsumeError::UnknownAsset { .. }
            | ConsumeError::NotKafka { .. } => 2,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_has_the_exit_code_scripts_rely_on() {
        let text = String::new;
        let cases = [
            (ConsumeError::Revoked { transfer: text(), state: text() }, 3),
            (ConsumeError::Denied { reason: text() }, 4),
            (ConsumeError::Unreachable { url: text(), reason: text() }, 5),
            (ConsumeError::TokenRenewal { transfer: text(), reason: text() }, 5),
            (ConsumeError::Unauthorized { url: text() }, 2),
            (ConsumeError::UnknownTransfer(text()), 2),
            (ConsumeError::UnknownAsset { asset: text(), provider: text() }, 2),
            (ConsumeError::NotKafka { transfer: text(), endpoint_type: text() }, 2),
            (ConsumeError::TopicGone { topic: text() }, 1),
            (ConsumeError::Kafka(text()), 1),
        ];
        for (error, code) in cases {
            assert_eq!(error.exit_code(), code, "{error:?}");
        }
    }
}
