// SPDX-License-Identifier: Apache-2.0
//! Decentralized Claims Protocol (DCP) 1.0 building blocks: how a connector proves who it is with verifiable
//! credentials instead of a configured trust list (Catena-X CX-0018 makes DCP mandatory).
//!
//! Everything here is pure and synchronous except the status-list cache: no HTTP, no DID resolution, no wiring.
//! Verification takes the DID documents the caller resolved beforehand ([`DidDocuments`]; [`token::issuer_of`]
//! and [`presentation::dids_to_resolve`] say which) and a [`dsc_domain::Clock`].
//!
//! | Module | What |
//! |---|---|
//! | [`access`] | the holder's access token inside the self-issued token: which verifier may read which scopes |
//! | [`scope`] | `<alias>:<CredentialType>:<operation>` scopes (DCP, EDC and Tractus-X aliases) |
//! | [`did`] | keys and verification relationships in caller-resolved DID documents (relationship checks are opt-in) |
//! | [`token`] | the self-issued ID token: build, verify (signature, `iss` = `sub`, audience, bounded leeway, `jti` replay) |
//! | [`credential`], [`issue`], [`trust`] | credentials in `vc11-sl2021/jwt` and `vc20-bssl/jwt`: issue, verify (signature, dates, holder, trusted issuer per type) |
//! | [`presentation`] | presentations in both profiles: build, verify (holder = token DID = signer, audience, every credential) |
//! | [`status`] | StatusList2021 / Bitstring Status List bits and a TTL cache behind [`status::StatusListFetcher`] |
//! | [`claims`] | verified credentials → the `ParticipantAgent` claims the policy engine evaluates |
//! | [`query`] | `PresentationQueryMessage` / `PresentationResponseMessage` |
//!
//! A provider verifying a request puts them together as: verify the token, query the holder's credential service
//! with its access token, parse the response, verify each presentation against the token's DID, check every
//! credential's status, compare the presented types with the requested ones ([`claims::missing_types`]) and
//! build the participant agent.
//!
//! Not built yet (later parts of issue 19): the wiring into the DSP binding (the `ClaimsSource` seam of
//! `dsc-identity`), an STS and the credential service's HTTP endpoints, the issuer CLI and the DCP TCK run.
//! Within this crate: signatures of status-list credentials, `credentialSchema` validation, DIF presentation
//! definitions, JSON-LD (non-JWT) credentials, `statusSize` > 1 and signing algorithms other than ES256
//! (verification already accepts ES384, EdDSA and RSA keys; ES256K has no jsonwebtoken support).

pub mod access;
pub mod claims;
pub mod credential;
pub mod did;
pub mod error;
pub mod issue;
pub mod jws;
pub mod presentation;
pub mod query;
pub mod scope;
pub mod status;
pub mod token;
pub mod trust;

#[cfg(test)]
mod testkit;

pub use error::{CredentialProblem, DcpError};
pub use jws::{DidDocuments, SigningKey};
