// SPDX-License-Identifier: Apache-2.0
//! Asking a credential service for presentations: the service its owner's DID document names, the query for
//! `scopes`, bounded in time and size. Shared by the verifier (another participant's service) and the BPN-DID
//! directory client (this participant's own).

use std::time::Duration;

use dsc_dcp::query::PresentationQueryMessage;
use serde_json::Value;

/// POSTs a presentation query with `token` to the `CredentialService` of `document`; the body of a 2xx answer, or
/// why not. `whose` names the service in the reasons ("the credential service of did:web:…").
pub(crate) async fn query_presentations(
    http: &reqwest::Client,
    whose: &str,
    document: &Value,
    token: &str,
    scopes: Vec<String>,
    timeout: Duration,
) -> Result<String, String> {
    let owner = document.get("id").and_then(Value::as_str).unwrap_or("the participant");
    let endpoint = dsc_dcp::did::service_endpoint(document, "CredentialService")
        .ok_or_else(|| format!("the DID document of {owner} names no CredentialService"))?;
    let url = format!("{}/presentations/query", endpoint.trim_end_matches('/'));
    let response = http
        .post(&url)
        .bearer_auth(token)
        .timeout(timeout)
        .json(&PresentationQueryMessage::for_scopes(scopes))
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("{whose} at {url} did not answer within {} ms", timeout.as_millis())
            } else {
                format!("{whose} at {url} cannot be reached: {e}")
            }
        })?;
    let status = response.status();
    let body = crate::http::bounded_text(response).await.map_err(|e| format!("{whose} at {url}: {e}"))?;
    if !status.is_success() {
        let excerpt: String = body.chars().take(200).collect();
        return Err(format!("{whose} at {url} answered HTTP {}: {excerpt}", status.as_u16()));
    }
    Ok(body)
}
