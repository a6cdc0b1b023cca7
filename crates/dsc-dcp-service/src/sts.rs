// SPDX-License-Identifier: Apache-2.0
//! Where this participant's self-issued tokens come from: its embedded secure token service, or an external one
//! (an Identity Hub, a managed wallet) reached with OAuth client credentials, as Tractus-X deployments configure it
//! (`edc.iam.sts.oauth.*`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_dcp::access::AccessTokenBuilder;
use dsc_dcp::token::TokenBuilder;
use serde_json::Value;

/// Mints this participant's self-issued tokens.
#[async_trait]
pub trait TokenSource: Send + Sync {
    /// A self-issued token for `audience` (a DID). With `scopes`, it carries an access token letting the audience
    /// read them from this participant's credential service (the consumer's side); with `access_token`, it carries
    /// that token on (the verifier's side, asking the holder's credential service).
    async fn token(&self, audience: &str, scopes: &[String], access_token: Option<&str>) -> Result<String, String>;
}

/// The embedded secure token service: signs with the participant's own key.
pub struct EmbeddedSts {
    pub tokens: TokenBuilder,
    pub access: AccessTokenBuilder,
}

#[async_trait]
impl TokenSource for EmbeddedSts {
    async fn token(&self, audience: &str, scopes: &[String], access_token: Option<&str>) -> Result<String, String> {
        let access = match (access_token, scopes.is_empty()) {
            (Some(token), _) => Some(token.to_string()),
            (None, false) => Some(self.access.build(audience, scopes).map_err(|e| e.to_string())?),
            (None, true) => None,
        };
        self.tokens.build(audience, access.as_deref()).map_err(|e| e.to_string())
    }
}

/// The client of an external secure token service (DCP STS API: `POST <token url>` with client credentials,
/// `audience`, `bearer_access_scope` and `token`). The client secret is read from the vault at every call, so a
/// rotated secret takes effect at once.
pub struct RemoteSts {
    pub http: reqwest::Client,
    pub token_url: String,
    pub client_id: String,
    pub vault: Arc<dyn dsc_vault::Vault>,
    pub secret_alias: String,
    pub timeout: Duration,
}

#[async_trait]
impl TokenSource for RemoteSts {
    async fn token(&self, audience: &str, scopes: &[String], access_token: Option<&str>) -> Result<String, String> {
        let url = &self.token_url;
        let secret = match self.vault.resolve(&self.secret_alias).await {
            Ok(Some(secret)) => secret,
            Ok(None) => return Err(format!("the vault has no secret '{}' (the STS client secret)", self.secret_alias)),
            Err(error) => return Err(format!("the vault cannot be read: {error}")),
        };
        let mut form = vec![
            ("grant_type", "client_credentials".to_string()),
            ("client_id", self.client_id.clone()),
            ("client_secret", secret.expose().to_string()),
            ("audience", audience.to_string()),
        ];
        if !scopes.is_empty() {
            form.push(("bearer_access_scope", scopes.join(" ")));
        }
        if let Some(token) = access_token {
            form.push(("token", token.to_string()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // The same encoding reqwest's `form` feature would apply, without enabling it for this one call.
        let body = reqwest::Url::parse_with_params("http://form/", &pairs)
            .ok()
            .and_then(|u| u.query().map(str::to_string))
            .unwrap_or_default();
        let request = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                format!("the STS at {url} did not answer within {} ms", self.timeout.as_millis())
            } else {
                format!("the STS at {url} cannot be reached: {e}")
            }
        })?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let why = body["error_description"].as_str().or(body["error"].as_str()).unwrap_or("no reason given");
            return Err(format!(
                "the STS at {url} refused client '{}' (HTTP {}): {why}",
                self.client_id,
                status.as_u16()
            ));
        }
        body["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("the STS at {url} answered without an access_token"))
    }
}
