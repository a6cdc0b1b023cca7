// SPDX-License-Identifier: Apache-2.0
//! Decentralized Claims Protocol (DCP) 1.0 building blocks.

pub mod claims;
pub mod credential;
pub mod error;
pub mod issue;
pub mod jws;
pub mod presentation;
pub mod query;
pub mod scope;
pub mod status;
pub mod token;

pub use error::{CredentialProblem, DcpError};
pub use jws::{DidDocuments, SigningKey};
