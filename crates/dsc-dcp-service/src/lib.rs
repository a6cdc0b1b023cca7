// SPDX-License-Identifier: Apache-2.0
//! The Decentralized Claims Protocol (DCP 1.0) at run time, on top of the pure building blocks of `dsc-dcp`:
//!
//! | Module | What |
//! |---|---|
//! | [`authenticate`] | who a caller is, from its self-issued token alone |
//! | [`holder`] | the embedded secure token service (self-issued tokens with access tokens) and credential service |
//! | [`verifier`] | the DSP request verifier: token, presentation query, credentials, status lists, claims |
//! | [`schemas`] | `credentialSchema` checks with fetched JSON Schemas |
//! | [`sts`] | where self-issued tokens come from: the embedded STS or an external one (OAuth client credentials) |
//! | [`bdrs`] | the Catena-X BPN-DID directory client |
//! | [`store`] | the holder's credentials in the connector's database |
//! | [`api`] | HTTP: `POST /presentations/query` (public) and the credentials Management API (`/v3/credentials`) |
//! | [`config`] | the `dsc.iam.dcp.*` settings |

pub mod api;
pub mod authenticate;
pub mod bdrs;
pub mod config;
pub mod holder;
pub mod http;
mod query;
pub mod schemas;
pub mod store;
pub mod sts;
pub mod verifier;

pub use config::DcpConfig;
pub use holder::{DcpRequestSigner, Holder, HolderSettings};
pub use store::{CredentialStore, MIGRATIONS, StoredCredential};
pub use verifier::{PolicyCredentialTypes, Verifier, VerifierSettings};

use dsc_identity::IdentityError;

/// The token of an `Authorization` header, which DCP requires in the form `Bearer <token>`.
pub(crate) fn bearer(authorization: Option<&str>) -> Result<&str, IdentityError> {
    let value = authorization.map(str::trim).filter(|v| !v.is_empty()).ok_or(IdentityError::MissingToken)?;
    match (value.get(..7), value.get(7..)) {
        (Some(prefix), Some(rest)) if prefix.eq_ignore_ascii_case("bearer ") && !rest.trim().is_empty() => {
            Ok(rest.trim())
        }
        _ => Err(IdentityError::Malformed("the Authorization header must have the form 'Bearer <token>'".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_needs_the_bearer_scheme() {
        assert_eq!(bearer(Some("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer(None), Err(IdentityError::MissingToken));
        let malformed =
            "the token is not a well-formed JWT: the Authorization header must have the form 'Bearer <token>'";
        for value in ["abc", "Bearer ", "Basic abc"] {
            assert_eq!(bearer(Some(value)).map_err(|e| e.to_string()), Err(malformed.to_string()), "{value}");
        }
    }
}
