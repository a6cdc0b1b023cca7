// SPDX-License-Identifier: Apache-2.0

/// Why a token was refused. Messages are safe to return to the caller: they never echo the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no Authorization token")]
    MissingToken,
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token's issuer and subject must be the same DID")]
    IssuerMismatch,
    #[error("the DID '{0}' cannot be resolved: {1}")]
    Resolution(String, String),
    #[error("the DID document of '{did}' has no key '{kid}'")]
    UnknownKey { did: String, kid: String },
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not meant for this participant")]
    WrongAudience,
    #[error("the token was already used")]
    Replayed,
    #[error("the participant '{0}' is not trusted")]
    UnknownParticipant(String),
    /// The participant's verifiable credentials do not establish who it is or what it may do (DCP).
    #[error("{0}")]
    Credentials(String),
    #[error("signing key: {0}")]
    Key(String),
    #[error("the trust list cannot be used: {0}")]
    TrustList(String),
}
