// SPDX-License-Identifier: Apache-2.0
//! Who a caller is, from its self-issued token alone: the `Bearer` header, the DID the token names resolved, the
//! token verified against that document. The first step of every DCP check (the verifier's, then its presentation
//! query), and all of it for refresh clients, whose credentials were verified when their transfer started.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use dsc_dcp::token::{TokenVerifier, VerifiedToken, issuer_of};
use dsc_domain::ParticipantAgent;
use dsc_identity::{DidResolver, IdentityError, ParticipantVerifier};
use serde_json::Value;

use crate::bearer;

pub struct TokenAuthenticator {
    tokens: TokenVerifier,
    resolver: Arc<dyn DidResolver>,
}

impl TokenAuthenticator {
    pub fn new(tokens: TokenVerifier, resolver: Arc<dyn DidResolver>) -> Self {
        TokenAuthenticator { tokens, resolver }
    }

    /// The verified token and the caller's DID document.
    pub async fn verify_token(&self, authorization: Option<&str>) -> Result<(VerifiedToken, Value), IdentityError> {
        let rejected = |e: dsc_dcp::DcpError| IdentityError::Credentials(e.to_string());
        let token = bearer(authorization)?;
        let caller = issuer_of(token).map_err(rejected)?;
        let document = self.resolver.resolve(&caller).await?;
        let documents = HashMap::from([(caller.clone(), document)]);
        let verified = self.tokens.verify(token, &documents).map_err(rejected)?;
        let document = documents.into_values().next().unwrap_or_default();
        Ok((verified, document))
    }
}

#[async_trait]
impl ParticipantVerifier for TokenAuthenticator {
    async fn verify(&self, authorization: Option<&str>) -> Result<ParticipantAgent, IdentityError> {
        self.verify_token(authorization).await.map(|(token, _)| ParticipantAgent::new(token.did))
    }
}
