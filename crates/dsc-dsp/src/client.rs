// SPDX-License-Identifier: Apache-2.0
//! Outbound DSP requests, signed with the participant's self-issued token.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_controlplane::protocol::{Counterparty, DSP_2025_1, DispatchError, ProtocolClient, RemoteResponse};
use dsc_domain::QuerySpec;
use dsc_identity::SigningIdentity;
use serde_json::json;

use crate::{DSP_CONTEXT, EDC_DSP_CONTEXT};

/// How long a token we send is valid: enough for one request and its retries, short enough to be useless later.
const TOKEN_LIFETIME: Duration = Duration::from_secs(120);

pub struct DspClient {
    http: reqwest::Client,
    identity: Option<Arc<SigningIdentity>>,
}

impl DspClient {
    pub fn new(http: reqwest::Client, identity: Option<Arc<SigningIdentity>>) -> Self {
        DspClient { http, identity }
    }

    fn authorization(&self, peer: &Counterparty) -> Result<String, DispatchError> {
        if peer.protocol != DSP_2025_1 {
            return Err(DispatchError::UnsupportedProtocol(peer.protocol.clone()));
        }
        let identity = self
            .identity
            .as_ref()
            .ok_or_else(|| DispatchError::NoIdentity("edc.participant.id is not a did:web DID".into()))?;
        let token = identity
            .self_issued_token(&peer.id, TOKEN_LIFETIME)
            .map_err(|e| DispatchError::NoIdentity(e.to_string()))?;
        Ok(format!("Bearer {token}"))
    }

    fn url(peer: &Counterparty, segments: &[&str]) -> Result<reqwest::Url, DispatchError> {
        let unreachable = |reason: String| DispatchError::Unreachable { address: peer.address.clone(), reason };
        let mut url = reqwest::Url::parse(peer.address.trim_end_matches('/'))
            .map_err(|e| unreachable(format!("not a URL: {e}")))?;
        url.path_segments_mut().map_err(|_| unreachable("not a base URL".into()))?.pop_if_empty().extend(segments);
        Ok(url)
    }

    async fn send(
        &self,
        peer: &Counterparty,
        request: reqwest::RequestBuilder,
    ) -> Result<RemoteResponse, DispatchError> {
        let response = request
            .send()
            .await
            .map_err(|e| DispatchError::Unreachable { address: peer.address.clone(), reason: e.to_string() })?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| DispatchError::Unreachable { address: peer.address.clone(), reason: e.to_string() })?;
        Ok(RemoteResponse { status, body: body.to_vec() })
    }
}

#[async_trait]
impl ProtocolClient for DspClient {
    async fn request_catalog(&self, peer: &Counterparty, query: &QuerySpec) -> Result<RemoteResponse, DispatchError> {
        let authorization = self.authorization(peer)?;
        let message = json!({
            "@context": [DSP_CONTEXT, EDC_DSP_CONTEXT],
            "@type": "CatalogRequestMessage",
            "filter": [{ "@type": "QuerySpec", "offset": query.offset, "limit": query.limit }],
        });
        let request = self
            .http
            .post(Self::url(peer, &["catalog", "request"])?)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .json(&message);
        self.send(peer, request).await
    }

    async fn request_dataset(&self, peer: &Counterparty, dataset_id: &str) -> Result<RemoteResponse, DispatchError> {
        let authorization = self.authorization(peer)?;
        let request = self
            .http
            .get(Self::url(peer, &["catalog", "datasets", dataset_id])?)
            .header(reqwest::header::AUTHORIZATION, authorization);
        self.send(peer, request).await
    }
}
