// SPDX-License-Identifier: Apache-2.0
//! Consumer side of the token refresh (Tractus-X refresh profile): renews an EDR at the provider's refresh endpoint
//! shortly before its access token expires, authenticating exactly as every other request of this connector to its
//! counter-party (a DCP self-issued token with its access token under DCP; CX-0018 §2.3 asks for it on the refresh
//! call too).

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use dsc_controlplane::edr::EdrRefresher;
use dsc_domain::Clock;
use dsc_domain::{DataAddress, namespaces};
use dsc_identity::RequestSigner;
use serde_json::{Value, json};

/// Refresh when less than this much of the token's life is left.
const MARGIN_SECONDS: i64 = 5;

pub struct HttpEdrRefresher {
    pub http: reqwest::Client,
    pub signer: Option<Arc<dyn RequestSigner>>,
    pub clock: Arc<dyn Clock>,
}

fn tx_auth(local: &str) -> String {
    format!("{}{local}", namespaces::TX_AUTH)
}

/// The `exp` claim of a JWT, read without verification (only to decide when to refresh).
fn expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?.get("exp")?.as_i64()
}

#[async_trait]
impl EdrRefresher for HttpEdrRefresher {
    fn is_due(&self, address: &DataAddress) -> bool {
        let Some(token) = address.edc_property("authorization") else { return false };
        let renewable = [tx_auth("refreshEndpoint"), tx_auth("refreshToken")]
            .iter()
            .all(|iri| address.properties.get(iri).and_then(Value::as_str).is_some());
        // A token whose expiry cannot be read is renewed rather than handed out possibly expired.
        renewable && expiry(token).is_none_or(|exp| exp - self.clock.now_seconds() <= MARGIN_SECONDS)
    }

    async fn refresh(&self, address: &DataAddress) -> Result<DataAddress, String> {
        let text = |iri: &str| address.properties.get(iri).and_then(Value::as_str).map(str::to_string);
        let (Some(endpoint), Some(refresh_token)) = (text(&tx_auth("refreshEndpoint")), text(&tx_auth("refreshToken")))
        else {
            return Err("the EDR names no refresh endpoint or refresh token".into());
        };
        let audience = text(&tx_auth("refreshAudience")).unwrap_or_default();
        let signer = self.signer.as_ref().ok_or("this connector has no identity to authenticate a refresh with")?;
        let authorization = signer
            .authorization(&audience, &endpoint, &Default::default())
            .await
            .map_err(|e| format!("cannot authenticate the refresh: {e}"))?;
        let form = reqwest::Url::parse_with_params(
            "http://form/",
            &[("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())],
        )
        .map_err(|e| e.to_string())?
        .query()
        .unwrap_or_default()
        .to_string();
        let response = self
            .http
            .post(&endpoint)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| format!("refresh endpoint unreachable: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("the provider refused the refresh ({status}): {body}"));
        }
        let mut refreshed = address.clone();
        let field = |name: &str| body.get(name).cloned().unwrap_or(Value::Null);
        refreshed.properties.insert(namespaces::edc("authorization"), field("access_token"));
        refreshed.properties.insert(tx_auth("refreshToken"), field("refresh_token"));
        let lifetime = body.get("expires_in").or_else(|| body.get("expires")).and_then(Value::as_u64).unwrap_or(0);
        refreshed.properties.insert(tx_auth("expiresIn"), json!(lifetime.to_string()));
        Ok(refreshed)
    }
}
