// SPDX-License-Identifier: Apache-2.0
//! Outbound DSP requests, signed with the participant's self-issued token.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use dsc_controlplane::protocol::{
    Counterparty, DSP_2025_1, DispatchError, NegotiationDispatcher, NegotiationMessage, NegotiationReply,
    ProtocolClient, RemoteResponse, TransferDispatcher, TransferMessage,
};
use dsc_domain::QuerySpec;
use dsc_identity::RequestSigner;
use dsc_jsonld::{CompactionContext, JsonLd};
use dsc_policy::credentials::required_credential_types;
use serde_json::json;
use tracing::Instrument;

use crate::{DSP_CONTEXT, EDC_DSP_CONTEXT};

pub struct DspClient {
    http: reqwest::Client,
    identity: Option<Arc<dyn RequestSigner>>,
    jsonld: Arc<JsonLd>,
    context: Arc<CompactionContext>,
}

impl DspClient {
    pub fn new(
        http: reqwest::Client,
        identity: Option<Arc<dyn RequestSigner>>,
        jsonld: Arc<JsonLd>,
        context: Arc<CompactionContext>,
    ) -> Self {
        DspClient { http, identity, jsonld, context }
    }

    async fn authorization(
        &self,
        peer: &Counterparty,
        credential_types: &BTreeSet<String>,
    ) -> Result<String, DispatchError> {
        if peer.protocol != DSP_2025_1 {
            return Err(DispatchError::UnsupportedProtocol(peer.protocol.clone()));
        }
        let identity = self
            .identity
            .as_ref()
            .ok_or_else(|| DispatchError::NoIdentity("edc.participant.id is not a did:web DID".into()))?;
        identity
            .authorization(&peer.id, &peer.address, credential_types)
            .await
            .map_err(|e| DispatchError::NoIdentity(e.to_string()))
    }

    fn url(peer: &Counterparty, segments: &[&str]) -> Result<reqwest::Url, DispatchError> {
        let unreachable = |reason: String| DispatchError::Unreachable { address: peer.address.clone(), reason };
        let mut url = reqwest::Url::parse(peer.address.trim_end_matches('/'))
            .map_err(|e| unreachable(format!("not a URL: {e}")))?;
        url.path_segments_mut().map_err(|_| unreachable("not a base URL".into()))?.pop_if_empty().extend(segments);
        Ok(url)
    }

    /// Sends `request`, the DSP message `what` (its type, which names the span: never an id).
    async fn send(
        &self,
        peer: &Counterparty,
        what: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<RemoteResponse, DispatchError> {
        let unreachable =
            |e: reqwest::Error| DispatchError::Unreachable { address: peer.address.clone(), reason: e.to_string() };
        let mut request = request.build().map_err(unreachable)?;
        // The peer continues this span's trace, so one negotiation reads as one trace across both connectors.
        let span = dsc_telemetry::client_span(&format!("DSP {what}"));
        dsc_telemetry::inject(&span, request.headers_mut());
        async {
            let response = self.http.execute(request).await.map_err(unreachable)?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(unreachable)?;
            Ok(RemoteResponse { status, body: body.to_vec() })
        }
        .instrument(span)
        .await
    }
}

#[async_trait]
impl ProtocolClient for DspClient {
    async fn request_catalog(&self, peer: &Counterparty, query: &QuerySpec) -> Result<RemoteResponse, DispatchError> {
        let authorization = self.authorization(peer, &BTreeSet::new()).await?;
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
        self.send(peer, "CatalogRequestMessage", request).await
    }

    async fn request_dataset(&self, peer: &Counterparty, dataset_id: &str) -> Result<RemoteResponse, DispatchError> {
        let authorization = self.authorization(peer, &BTreeSet::new()).await?;
        let request = self
            .http
            .get(Self::url(peer, &["catalog", "datasets", dataset_id])?)
            .header(reqwest::header::AUTHORIZATION, authorization);
        self.send(peer, "DatasetRequest", request).await
    }
}

/// The provider's process id and state from a ContractNegotiation acknowledgement.
fn acknowledgement(jsonld: &JsonLd, body: &[u8], pid: &str) -> (Option<String>, Option<String>) {
    let dsp = dsc_domain::namespaces::DSPACE_2025_1;
    let Some(node) = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|document| jsonld.expand(document).ok())
        .and_then(|expanded| dsc_jsonld::expanded::single_node(&expanded).cloned())
    else {
        return (None, None);
    };
    let read = |local: &str| dsc_jsonld::expanded::first_str(&node, &format!("{dsp}{local}")).map(str::to_string);
    let state = read("state").map(|s| s.strip_prefix(dsp).unwrap_or(&s).to_string());
    (read(pid), state)
}

/// The reasons of a DSP error body, or the start of whatever the peer sent.
fn reasons(body: &[u8]) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let listed = parsed.as_ref().and_then(|b| b.get("reason")).map(|reason| match reason {
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join("; "),
        other => other.as_str().unwrap_or_default().to_string(),
    });
    listed.filter(|r| !r.is_empty()).unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(300).collect())
}

#[async_trait]
impl NegotiationDispatcher for DspClient {
    async fn send_negotiation(
        &self,
        peer: &Counterparty,
        message: &NegotiationMessage,
    ) -> Result<NegotiationReply, DispatchError> {
        // The credentials the offered or agreed policy is decided on, so that the peer may read them (DCP).
        let credential_types = match message {
            NegotiationMessage::ContractRequest { offer, .. } | NegotiationMessage::Offer { offer, .. } => {
                required_credential_types(&offer.policy)
            }
            NegotiationMessage::Agreement { agreement, .. } => required_credential_types(&agreement.policy),
            _ => BTreeSet::new(),
        };
        let authorization = self.authorization(peer, &credential_types).await?;
        let segments: Vec<&str> = match message {
            NegotiationMessage::ContractRequest { provider_pid: None, .. } => vec!["negotiations", "request"],
            NegotiationMessage::ContractRequest { provider_pid: Some(pid), .. } => vec!["negotiations", pid, "request"],
            NegotiationMessage::Offer { consumer_pid: Some(pid), .. } => vec!["negotiations", pid, "offers"],
            NegotiationMessage::Offer { consumer_pid: None, .. } => vec!["negotiations", "offers"],
            NegotiationMessage::Agreement { consumer_pid, .. } => vec!["negotiations", consumer_pid, "agreement"],
            NegotiationMessage::Verification { provider_pid, .. } => {
                vec!["negotiations", provider_pid, "agreement", "verification"]
            }
            NegotiationMessage::Event { consumer_pid, provider_pid, event_type } => {
                let pid = if event_type == "ACCEPTED" { provider_pid } else { consumer_pid };
                vec!["negotiations", pid, "events"]
            }
            NegotiationMessage::Termination { consumer_pid, provider_pid, to_provider, .. } => {
                vec!["negotiations", if *to_provider { provider_pid } else { consumer_pid }, "termination"]
            }
        };
        let body =
            match crate::compact::message(message, &format!("urn:uuid:{}", uuid::Uuid::new_v4())) {
                Some(body) => body,
                None => self.jsonld.compact(crate::negotiation::message_to_expanded(message), &self.context).map_err(
                    |e| DispatchError::Unreachable {
                        address: peer.address.clone(),
                        reason: format!("cannot encode the message: {e}"),
                    },
                )?,
            };
        let request = self
            .http
            .post(Self::url(peer, &segments)?)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .json(&body);
        let what = body["@type"].as_str().unwrap_or("message").to_string();
        let response = self.send(peer, &what, request).await?;
        match response.status {
            200..=299 => {
                // The consumer's id answers an offer that starts a negotiation; the provider's, anything else.
                let other = match message {
                    NegotiationMessage::Offer { consumer_pid: None, .. } => "consumerPid",
                    _ => "providerPid",
                };
                let (counter_party_pid, state) = acknowledgement(&self.jsonld, &response.body, other);
                Ok(NegotiationReply::Accepted { counter_party_pid, state })
            }
            // Too many requests in flight at the peer: a later retry can succeed, unlike any other 4xx.
            429 => Err(DispatchError::Unreachable {
                address: peer.address.clone(),
                reason: format!("HTTP 429: {}", reasons(&response.body)),
            }),
            400..=499 => Ok(NegotiationReply::Rejected { status: response.status, reason: reasons(&response.body) }),
            status => Err(DispatchError::Unreachable {
                address: peer.address.clone(),
                reason: format!("HTTP {status}: {}", reasons(&response.body)),
            }),
        }
    }
}

/// The provider's process id from a TransferProcess acknowledgement.
fn transfer_acknowledgement(jsonld: &JsonLd, body: &[u8]) -> Option<String> {
    let dsp = dsc_domain::namespaces::DSPACE_2025_1;
    let document = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    let expanded = jsonld.expand(document).ok()?;
    let node = dsc_jsonld::expanded::single_node(&expanded)?;
    dsc_jsonld::expanded::first_str(node, &format!("{dsp}providerPid")).map(str::to_string)
}

#[async_trait]
impl TransferDispatcher for DspClient {
    async fn send_transfer(
        &self,
        peer: &Counterparty,
        message: &TransferMessage,
    ) -> Result<NegotiationReply, DispatchError> {
        let authorization = self.authorization(peer, &BTreeSet::new()).await?;
        let (body, segments) = crate::transfer::message(message, &format!("urn:uuid:{}", uuid::Uuid::new_v4()));
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let request = self
            .http
            .post(Self::url(peer, &segments)?)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .json(&body);
        let what = body["@type"].as_str().unwrap_or("message").to_string();
        let response = self.send(peer, &what, request).await?;
        match response.status {
            200..=299 => Ok(NegotiationReply::Accepted {
                counter_party_pid: transfer_acknowledgement(&self.jsonld, &response.body),
                state: None,
            }),
            // Too many requests in flight at the peer: a later retry can succeed, unlike any other 4xx.
            429 => Err(DispatchError::Unreachable {
                address: peer.address.clone(),
                reason: format!("HTTP 429: {}", reasons(&response.body)),
            }),
            400..=499 => Ok(NegotiationReply::Rejected { status: response.status, reason: reasons(&response.body) }),
            status => Err(DispatchError::Unreachable {
                address: peer.address.clone(),
                reason: format!("HTTP {status}: {}", reasons(&response.body)),
            }),
        }
    }
}
