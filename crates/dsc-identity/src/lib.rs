// SPDX-License-Identifier: Apache-2.0
//! Participant identity for the Dataspace Protocol.
//!
//! Outbound, every request carries a self-issued JWT ([`SigningIdentity::self_issued_token`]): ES256, signed with
//! the participant's key, `iss` = `sub` = own DID, `aud` = the counter-party's DID, a short expiry and a `jti`.
//! Inbound, [`TokenVerifier`] resolves the issuer's `did:web` document, checks signature, expiry, audience and
//! replay, and maps the DID to claims (BPN, membership, framework agreements) through the [`TrustList`].
//!
//! With the Decentralized Claims Protocol (crate `dsc-dcp-service`) the claims come from verified credentials
//! instead: it implements [`RequestSigner`] and [`ParticipantVerifier`] itself; the trust list stays for closed
//! setups.

use std::collections::BTreeSet;

mod crypto;
mod did;
mod error;
mod mock;
mod signing;
mod trust;
mod verify;

pub use did::{DidResolver, HttpDidResolver, did_document_url};
pub use error::IdentityError;
pub use mock::MockIdentity;
pub use signing::SigningIdentity;
pub use trust::{ClaimsSource, TrustList};
pub use verify::{ReplayCache, TokenVerifier};

/// How this connector authenticates its outbound protocol requests. Asynchronous: a signer may ask a secure token
/// service or a BPN-DID directory over the network.
#[async_trait::async_trait]
pub trait RequestSigner: Send + Sync {
    /// The `Authorization` header value for a request to the participant `audience_id` at `audience_address`.
    /// `credential_types` are the credentials the policy the request carries is decided on (empty when it carries
    /// none): a signer backed by verifiable credentials lets the audience read them, others ignore them.
    async fn authorization(
        &self,
        audience_id: &str,
        audience_address: &str,
        credential_types: &BTreeSet<String>,
    ) -> Result<String, IdentityError>;
}

/// How this connector verifies the participant behind an inbound protocol request.
#[async_trait::async_trait]
pub trait ParticipantVerifier: Send + Sync {
    async fn verify(&self, authorization: Option<&str>) -> Result<dsc_domain::ParticipantAgent, IdentityError>;
}

#[async_trait::async_trait]
impl RequestSigner for SigningIdentity {
    async fn authorization(
        &self,
        audience_id: &str,
        _audience_address: &str,
        _credential_types: &BTreeSet<String>,
    ) -> Result<String, IdentityError> {
        // Enough for one request and its retries, too short to be useful later.
        let token = self.self_issued_token(audience_id, std::time::Duration::from_secs(120))?;
        Ok(format!("Bearer {token}"))
    }
}

#[async_trait::async_trait]
impl ParticipantVerifier for TokenVerifier {
    async fn verify(&self, authorization: Option<&str>) -> Result<dsc_domain::ParticipantAgent, IdentityError> {
        TokenVerifier::verify(self, authorization).await
    }
}
