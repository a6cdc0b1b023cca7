// SPDX-License-Identifier: Apache-2.0
//! Participant identity for the Dataspace Protocol.
//!
//! Outbound, every request carries a self-issued JWT ([`SigningIdentity::self_issued_token`]): ES256, signed with
//! the participant's key, `iss` = `sub` = own DID, `aud` = the counter-party's DID, a short expiry and a `jti`.
//! Inbound, [`TokenVerifier`] resolves the issuer's `did:web` document, checks signature, expiry, audience and
//! replay, and maps the DID to claims (BPN, membership, framework agreements) through the [`TrustList`].
//!
//! The trust list is the seam for the Decentralized Claims Protocol: a credential-service-backed implementation of
//! [`ClaimsSource`] can replace it later without touching callers.

mod crypto;
mod did;
mod error;
mod signing;
mod trust;
mod verify;

pub use did::{DidResolver, HttpDidResolver, did_document_url};
pub use error::IdentityError;
pub use signing::SigningIdentity;
pub use trust::{ClaimsSource, TrustList};
pub use verify::{ReplayCache, TokenVerifier};
