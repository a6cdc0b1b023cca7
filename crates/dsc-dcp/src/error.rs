// SPDX-License-Identifier: Apache-2.0
//! Why a DCP artifact was refused. The texts are part of the contract: tests assert them, and a later DSP binding
//! may log them, so none of them carries a token or credential in full.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DcpError {
    #[error("malformed {what}: {why}")]
    Malformed { what: &'static str, why: String },
    #[error("the {what} header names no kid")]
    MissingKid { what: &'static str },
    #[error("kid '{kid}' does not belong to {did}")]
    KidNotOfIssuer { kid: String, did: String },
    #[error("the DID document of {0} is not available")]
    UnknownDid(String),
    #[error("{kid} is not a verification method of {did}")]
    UnknownKey { did: String, kid: String },
    #[error("{kid} is not listed under {relationship} in its DID document")]
    KeyNotAuthorized { kid: String, relationship: &'static str },
    #[error("the signature of the {what} does not verify")]
    BadSignature { what: &'static str },
    #[error("algorithm {0} is not accepted")]
    UnsupportedAlgorithm(String),
    #[error("the token's iss and sub differ")]
    IssuerSubjectMismatch,
    #[error("the {what}'s audience does not contain {expected}")]
    WrongAudience { what: &'static str, expected: String },
    #[error("the {what} expired")]
    Expired { what: &'static str },
    #[error("the {what} is not valid yet")]
    NotYetValid { what: &'static str },
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the access token was granted to {granted}, not to {bearer}")]
    AccessTokenNotForBearer { granted: String, bearer: String },
    #[error("the token has no 'token' claim")]
    MissingAccessToken,
    #[error("the token id {0} was already used")]
    Replayed(String),
    #[error("the presentation is signed by {signer}, not by {expected}")]
    WrongHolder { signer: String, expected: String },
    #[error("credential {credential}: {problem}")]
    Credential { credential: String, problem: CredentialProblem },
    #[error("invalid scope '{scope}': {why}")]
    InvalidScope { scope: String, why: &'static str },
    #[error("invalid presentation query: {0}")]
    InvalidQuery(&'static str),
    #[error("invalid presentation response: {0}")]
    InvalidResponse(&'static str),
    #[error("status list {url}: {why}")]
    StatusList { url: String, why: String },
    #[error("invalid {0}")]
    InvalidInput(String),
}

/// What is wrong with one credential; [`DcpError::Credential`] names the credential it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CredentialProblem {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("issuer {0} is not trusted for this credential type")]
    UntrustedIssuer(String),
    #[error("signed with kid '{kid}', which is not a key of the issuer {issuer}")]
    KeyNotOfIssuer { kid: String, issuer: String },
    #[error("{kid} is not a verification method of the issuer {issuer}")]
    UnknownIssuerKey { issuer: String, kid: String },
    #[error("the DID document of the issuer {0} is not available")]
    UnknownIssuer(String),
    #[error("{kid} is not listed under {relationship} in the issuer's DID document")]
    IssuerKeyNotAuthorized { kid: String, relationship: &'static str },
    #[error("the issuer's signature does not verify")]
    BadSignature,
    #[error("the subject {subject} is not the holder {holder}")]
    SubjectNotHolder { subject: String, holder: String },
    #[error("the subject has no id")]
    SubjectWithoutId,
    #[error("revoked")]
    Revoked,
    #[error("suspended")]
    Suspended,
    #[error("its subject does not satisfy its schema {0}: {1}")]
    SchemaViolation(String, String),
    #[error("its schema {0} could not be used: {1}")]
    SchemaUnavailable(String, String),
    #[error("status '{0}' could not be checked: {1}")]
    StatusUnavailable(String, String),
    #[error("its profile {found} differs from the presentation's {expected}")]
    MixedProfiles { found: &'static str, expected: &'static str },
}

/// Builds a [`DcpError::Credential`].
pub(crate) fn credential_error(credential: &str, problem: CredentialProblem) -> DcpError {
    DcpError::Credential { credential: credential.to_string(), problem }
}
