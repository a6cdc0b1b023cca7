// SPDX-License-Identifier: Apache-2.0
//! Authorization server metadata (RFC 8414, and OpenID Connect discovery for servers that only offer that), so a
//! deployment names the issuer and nothing else.

use std::time::Duration;

use serde_json::Value;

use crate::OAuthError;

/// The endpoints a server announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMetadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub registration_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
}

/// RFC 8414 §3: the well-known suffix goes between host and path (`https://h/.well-known/x/realm` for issuer
/// `https://h/realm`); OpenID Connect appends it instead. Both are tried, RFC 8414 first.
fn candidates(issuer: &str) -> Vec<String> {
    let issuer = issuer.trim_end_matches('/');
    let mut urls = Vec::new();
    if let Ok(url) = reqwest::Url::parse(issuer) {
        let path = url.path().trim_end_matches('/');
        let origin = url.origin().ascii_serialization();
        urls.push(format!("{origin}/.well-known/oauth-authorization-server{path}"));
    }
    urls.push(format!("{issuer}/.well-known/oauth-authorization-server"));
    urls.push(format!("{issuer}/.well-known/openid-configuration"));
    urls.dedup();
    urls
}

/// Reads the server's metadata; fails naming the issuer when no document is found or one lacks a needed endpoint.
pub async fn discover(issuer: &str, timeout: Duration) -> Result<ServerMetadata, OAuthError> {
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| OAuthError::Unavailable { endpoint: issuer.to_string(), reason: e.to_string() })?;
    let mut last = String::from("no metadata document");
    for url in candidates(issuer) {
        let response = match http.get(&url).send().await {
            Ok(response) => response,
            Err(error) => {
                last = error.to_string();
                continue;
            }
        };
        if !response.status().is_success() {
            last = format!("{url} answered {}", response.status());
            continue;
        }
        let Ok(document) = response.json::<Value>().await else {
            last = format!("{url} is not JSON");
            continue;
        };
        let field = |name: &str| document.get(name).and_then(Value::as_str).map(str::to_string);
        let required = |name: &str| {
            field(name).ok_or_else(|| OAuthError::Malformed(format!("the metadata at {url} has no {name}")))
        };
        return Ok(ServerMetadata {
            issuer: field("issuer").unwrap_or_else(|| issuer.to_string()),
            token_endpoint: required("token_endpoint")?,
            registration_endpoint: required("registration_endpoint")?,
            revocation_endpoint: field("revocation_endpoint"),
            introspection_endpoint: field("introspection_endpoint"),
        });
    }
    Err(OAuthError::Unavailable { endpoint: issuer.to_string(), reason: last })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_8414_location_comes_first_then_the_appended_forms() {
        assert_eq!(
            candidates("https://idp.example/realms/kafka/"),
            vec![
                "https://idp.example/.well-known/oauth-authorization-server/realms/kafka",
                "https://idp.example/realms/kafka/.well-known/oauth-authorization-server",
                "https://idp.example/realms/kafka/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            candidates("http://127.0.0.1:9400"),
            vec![
                "http://127.0.0.1:9400/.well-known/oauth-authorization-server",
                "http://127.0.0.1:9400/.well-known/openid-configuration",
            ]
        );
    }
}
