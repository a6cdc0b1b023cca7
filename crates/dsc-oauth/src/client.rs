// SPDX-License-Identifier: Apache-2.0
//! The HTTP side of the OAuth service client.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use dsc_vault::SecretString;
use serde_json::{Value, json};

use crate::{AudienceParameter, OAuthError, OAuthSettings};

/// A client registered at the authorization server. The secrets belong in the vault.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: SecretString,
    /// RFC 7592 management of the registration, when the server supports it.
    pub registration_access_token: Option<SecretString>,
    pub registration_client_uri: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<u64>,
    pub token_type: String,
}

pub struct OAuthClient {
    settings: OAuthSettings,
    http: reqwest::Client,
}

/// `application/x-www-form-urlencoded` text of `pairs`.
fn form(pairs: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params("http://form/", pairs)
        .ok()
        .and_then(|url| url.query().map(str::to_string))
        .unwrap_or_default()
}

/// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
fn basic(client_id: &str, secret: &SecretString) -> String {
    let encode = |text: &str| form(&[("x", text)]).trim_start_matches("x=").to_string();
    format!("Basic {}", STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret.expose()))))
}

fn text(body: &Value, field: &str) -> Option<String> {
    body.get(field).and_then(Value::as_str).map(str::to_string)
}

/// A 401 from the token endpoint means client authentication failed, which RFC 6749 §5.2 calls `invalid_client`.
/// Keycloak answers `unauthorized_client` there; callers get the standard code, the server's own in the description.
fn standard_client_error(error: OAuthError) -> OAuthError {
    match error {
        OAuthError::Refused { status: 401, code, description } if code != "invalid_client" => OAuthError::Refused {
            status: 401,
            code: "invalid_client".into(),
            description: Some(format!("{code}: {}", description.unwrap_or_default())),
        },
        other => other,
    }
}

impl OAuthClient {
    pub fn new(settings: OAuthSettings) -> Result<Self, OAuthError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| OAuthError::Unavailable { endpoint: settings.issuer.clone(), reason: e.to_string() })?;
        Ok(OAuthClient { settings, http })
    }

    pub fn settings(&self) -> &OAuthSettings {
        &self.settings
    }

    /// Sends the request built by `build`, retrying network failures and 5xx with backoff. Returns the status and
    /// the JSON body (`Null` when there is none); 4xx become [`OAuthError::Refused`] with the server's error code.
    async fn call(
        &self,
        endpoint: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(u16, Value), OAuthError> {
        let attempts = self.settings.attempts.max(1);
        let mut last = String::new();
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << (attempt - 1).min(5))).await;
            }
            let response = match build(&self.http).send().await {
                Ok(response) => response,
                Err(error) => {
                    last = if error.is_timeout() {
                        format!("no answer within {} ms", self.settings.timeout.as_millis())
                    } else {
                        error.to_string()
                    };
                    tracing::debug!(%endpoint, attempt, "authorization server unreachable: {error}");
                    continue;
                }
            };
            let status = response.status().as_u16();
            let bytes = response.bytes().await.unwrap_or_default();
            let body: Value =
                if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
            match status {
                200..=299 => return Ok((status, body)),
                400..=499 => {
                    return Err(OAuthError::Refused {
                        status,
                        code: text(&body, "error").unwrap_or_else(|| format!("http_{status}")),
                        description: text(&body, "error_description"),
                    });
                }
                _ => {
                    last = format!(
                        "HTTP {status}: {}",
                        String::from_utf8_lossy(&bytes).chars().take(200).collect::<String>()
                    )
                }
            }
        }
        Err(OAuthError::Unavailable { endpoint: endpoint.to_string(), reason: last })
    }

    /// RFC 7591: registers a `client_credentials` client named `name`.
    pub async fn register(&self, name: &str) -> Result<RegisteredClient, OAuthError> {
        let endpoint = &self.settings.registration_endpoint;
        let body = json!({
            "client_name": name,
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic",
        });
        let (_, answer) = self
            .call(endpoint, |http| {
                http.post(endpoint).bearer_auth(self.settings.initial_access_token.expose()).json(&body)
            })
            .await?;
        let missing = |field: &str| OAuthError::Malformed(format!("the registration answer has no {field}"));
        Ok(RegisteredClient {
            client_id: text(&answer, "client_id").ok_or_else(|| missing("client_id"))?,
            client_secret: SecretString::new(text(&answer, "client_secret").ok_or_else(|| missing("client_secret"))?),
            registration_access_token: text(&answer, "registration_access_token").map(SecretString::new),
            registration_client_uri: text(&answer, "registration_client_uri"),
        })
    }

    fn audience_pair(&self) -> Option<(&'static str, &str)> {
        match self.settings.audience_parameter {
            AudienceParameter::Resource => Some(("resource", self.settings.audience.as_str())),
            AudienceParameter::Audience => Some(("audience", self.settings.audience.as_str())),
            AudienceParameter::None => None,
        }
    }

    async fn token_request(
        &self,
        client: &RegisteredClient,
        pairs: Vec<(&str, &str)>,
    ) -> Result<TokenResponse, OAuthError> {
        let endpoint = &self.settings.token_endpoint;
        let body = form(&pairs);
        let authorization = basic(&client.client_id, &client.client_secret);
        let (_, answer) = self
            .call(endpoint, |http| {
                http.post(endpoint)
                    .header(reqwest::header::AUTHORIZATION, &authorization)
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await
            .map_err(standard_client_error)?;
        Ok(TokenResponse {
            access_token: SecretString::new(
                text(&answer, "access_token").ok_or_else(|| OAuthError::Malformed("no access_token".into()))?,
            ),
            refresh_token: text(&answer, "refresh_token").map(SecretString::new),
            expires_in: answer.get("expires_in").and_then(Value::as_u64),
            token_type: text(&answer, "token_type").unwrap_or_else(|| "Bearer".into()),
        })
    }

    /// A `client_credentials` token for the configured audience.
    pub async fn token(&self, client: &RegisteredClient) -> Result<TokenResponse, OAuthError> {
        let mut pairs = vec![("grant_type", "client_credentials")];
        pairs.extend(self.audience_pair());
        self.token_request(client, pairs).await
    }

    /// The `refresh_token` grant.
    pub async fn refresh(
        &self,
        client: &RegisteredClient,
        refresh_token: &SecretString,
    ) -> Result<TokenResponse, OAuthError> {
        let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())];
        pairs.extend(self.audience_pair());
        self.token_request(client, pairs).await
    }

    /// The principal the broker takes from an access token: the configured claim of its (unverified) payload.
    pub fn principal(&self, access_token: &SecretString) -> Result<String, OAuthError> {
        let payload = access_token
            .expose()
            .split('.')
            .nth(1)
            .ok_or_else(|| OAuthError::Malformed("the access token is not a JWT".into()))?;
        let claims: Value = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| OAuthError::Malformed("the access token's payload is not JSON".into()))?;
        text(&claims, &self.settings.principal_claim).ok_or_else(|| {
            OAuthError::Malformed(format!("the access token has no '{}' claim", self.settings.principal_claim))
        })
    }

    /// RFC 7009. Revoking an unknown or already revoked token succeeds, as the standard says.
    pub async fn revoke(&self, client: &RegisteredClient, token: &SecretString, hint: &str) -> Result<(), OAuthError> {
        let endpoint = self
            .settings
            .revocation_endpoint
            .as_deref()
            .ok_or_else(|| OAuthError::Malformed("the server has no revocation endpoint".into()))?;
        let body = form(&[("token", token.expose()), ("token_type_hint", hint)]);
        let authorization = basic(&client.client_id, &client.client_secret);
        self.call(endpoint, |http| {
            http.post(endpoint)
                .header(reqwest::header::AUTHORIZATION, &authorization)
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body.clone())
        })
        .await
        .map(|_| ())
    }

    /// RFC 7662: whether the token is active.
    pub async fn introspect(&self, client: &RegisteredClient, token: &SecretString) -> Result<bool, OAuthError> {
        let endpoint = self
            .settings
            .introspection_endpoint
            .as_deref()
            .ok_or_else(|| OAuthError::Malformed("the server has no introspection endpoint".into()))?;
        let body = form(&[("token", token.expose())]);
        let authorization = basic(&client.client_id, &client.client_secret);
        let (_, answer) = self
            .call(endpoint, |http| {
                http.post(endpoint)
                    .header(reqwest::header::AUTHORIZATION, &authorization)
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body.clone())
            })
            .await?;
        Ok(answer.get("active").and_then(Value::as_bool).unwrap_or(false))
    }

    /// RFC 7592: deletes the registration; the client can no longer obtain tokens.
    pub async fn delete(&self, client: &RegisteredClient) -> Result<(), OAuthError> {
        let (Some(uri), Some(token)) = (&client.registration_client_uri, &client.registration_access_token) else {
            return Err(OAuthError::Malformed("the registration offers no management (RFC 7592)".into()));
        };
        self.call(uri, |http| http.delete(uri).bearer_auth(token.expose())).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_client_authentication_is_invalid_client_whatever_the_server_calls_it() {
        let keycloak =
            OAuthError::Refused { status: 401, code: "unauthorized_client".into(), description: Some("bad".into()) };
        assert_eq!(standard_client_error(keycloak).code(), Some("invalid_client"));
        let grant = OAuthError::Refused { status: 400, code: "unauthorized_client".into(), description: None };
        assert_eq!(standard_client_error(grant).code(), Some("unauthorized_client"), "a 400 keeps its meaning");
    }

    #[test]
    fn basic_authentication_form_encodes_id_and_secret() {
        let header = basic("client:1", &SecretString::new("s&cret"));
        let decoded = STANDARD.decode(header.trim_start_matches("Basic ")).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&decoded), "client%3A1:s%26cret");
        assert_eq!(
            form(&[("grant_type", "client_credentials"), ("resource", "urn:kafka")]),
            "grant_type=client_credentials&resource=urn%3Akafka"
        );
    }
}
