// SPDX-License-Identifier: Apache-2.0
//! EDC's mock identity (the `iam-mock` module), for interoperability tests against stock EDC runtimes and the DSP
//! TCK only.
//!
//! The `Authorization` header is raw JSON, `{"clientId": "<participant id>", "audience": "<address>"}`, with
//! nothing signed: anybody can claim any id. It is therefore off by default, only enabled by an explicit setting,
//! and the runtime logs a warning at start and for every verified request.

use async_trait::async_trait;
use dsc_domain::ParticipantAgent;
use serde::{Deserialize, Serialize};

use crate::{ClaimsSource, IdentityError, ParticipantVerifier, RequestSigner};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MockToken {
    /// EDC copies every field into the participant's claims and fails on a missing one.
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    client_id: String,
}

pub struct MockIdentity {
    participant_id: String,
    claims: std::sync::Arc<dyn ClaimsSource>,
}

impl MockIdentity {
    pub fn new(participant_id: impl Into<String>, claims: std::sync::Arc<dyn ClaimsSource>) -> Self {
        MockIdentity { participant_id: participant_id.into(), claims }
    }
}

#[async_trait::async_trait]
impl RequestSigner for MockIdentity {
    async fn authorization(
        &self,
        _audience_id: &str,
        audience_address: &str,
        _credential_types: &std::collections::BTreeSet<String>,
    ) -> Result<String, IdentityError> {
        serde_json::to_string(&MockToken {
            region: Some("any".into()),
            audience: Some(audience_address.to_string()),
            client_id: self.participant_id.clone(),
        })
        .map_err(|e| IdentityError::Malformed(e.to_string()))
    }
}

#[async_trait]
impl ParticipantVerifier for MockIdentity {
    async fn verify(&self, authorization: Option<&str>) -> Result<ParticipantAgent, IdentityError> {
        let header = authorization.ok_or(IdentityError::MissingToken)?;
        let token: MockToken = serde_json::from_str(header.trim())
            .map_err(|e| IdentityError::Malformed(format!("not an EDC mock identity token: {e}")))?;
        tracing::warn!(client = %token.client_id, "accepted an UNSIGNED mock identity (dsc.iam.mock.enabled)");
        // Trusted ids get their claims from the trust list; others are known by id only.
        Ok(self.claims.claims_for(&token.client_id).await?.unwrap_or_else(|| ParticipantAgent::new(token.client_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrustList;
    use std::sync::Arc;

    #[tokio::test]
    async fn mock_tokens_round_trip_and_garbage_is_refused() {
        let identity = MockIdentity::new("dsc-provider", Arc::new(TrustList::default()));
        let header = identity
            .authorization("edc-consumer", "http://edc/protocol", &Default::default())
            .await
            .unwrap_or_default();
        assert_eq!(header, r#"{"region":"any","audience":"http://edc/protocol","clientId":"dsc-provider"}"#);
        let agent = identity.verify(Some(r#"{"clientId":"edc-consumer","audience":"x"}"#)).await;
        assert_eq!(agent.map(|a| a.id).ok().as_deref(), Some("edc-consumer"));
        assert!(matches!(identity.verify(None).await, Err(IdentityError::MissingToken)));
        assert!(matches!(identity.verify(Some("Bearer eyJ")).await, Err(IdentityError::Malformed(_))));
    }
}
