// SPDX-License-Identifier: Apache-2.0
//! The connector's OAuth 2.0 service client, the one code path to every authorization server it uses for Kafka
//! credentials: register a client per transfer (RFC 7591) → obtain tokens (`client_credentials`, `refresh_token`)
//! → learn the principal the broker will see (a configured claim of the JWT) → revoke tokens (RFC 7009) → delete
//! the client (RFC 7592). Introspection (RFC 7662) is there for checks.
//!
//! Servers differ in configuration only ([`OAuthSettings`]): which parameter names the audience (`resource` for
//! RFC 8707 servers such as oidc-provider, `audience` for others, or none when the server adds it by itself, as a
//! Keycloak client scope does), and which claim carries the principal (`sub`, or `azp` on Keycloak).
//!
//! Secrets (client secrets, registration and refresh tokens) are [`SecretString`]s: printed as `***`, handed to the
//! caller for the vault.

mod client;
#[cfg(feature = "contract-tests")]
pub mod contract_tests;
mod discovery;
mod error;

pub use client::{OAuthClient, RegisteredClient, TokenResponse};
pub use discovery::{ServerMetadata, discover};
pub use error::OAuthError;

use std::time::Duration;

use dsc_vault::SecretString;

/// Where the audience goes in a token request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceParameter {
    /// RFC 8707 `resource` (oidc-provider with resource indicators).
    Resource,
    /// `audience` (Auth0-style servers).
    Audience,
    /// The server puts the audience in by itself (a Keycloak client scope).
    None,
}

#[derive(Clone)]
pub struct OAuthSettings {
    pub issuer: String,
    pub token_endpoint: String,
    pub registration_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    /// The RFC 7591 initial access token (from the vault).
    pub initial_access_token: SecretString,
    /// The audience tokens are for (the Kafka broker).
    pub audience: String,
    pub audience_parameter: AudienceParameter,
    /// The token claim the broker takes the principal from.
    pub principal_claim: String,
    /// Per request.
    pub timeout: Duration,
    /// Attempts for requests that fail on the network or with 5xx (4xx are never retried).
    pub attempts: u32,
}

impl std::fmt::Debug for OAuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSettings")
            .field("issuer", &self.issuer)
            .field("token_endpoint", &self.token_endpoint)
            .field("registration_endpoint", &self.registration_endpoint)
            .field("audience", &self.audience)
            .field("principal_claim", &self.principal_claim)
            .finish_non_exhaustive()
    }
}
