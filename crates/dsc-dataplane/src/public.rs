// SPDX-License-Identifier: Apache-2.0
//! The public API: the HTTP pull proxy and the token refresh endpoint (`/token`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use dsc_domain::DataFlow;
use serde_json::json;

use crate::{AccessDenied, DataPlane};

pub fn router(plane: Arc<DataPlane>) -> Router {
    Router::new().route("/token", post(refresh)).route("/", any(proxy)).route("/{*path}", any(proxy)).with_state(plane)
}

fn denied(error: AccessDenied) -> Response {
    let status = match error {
        AccessDenied::InvalidToken => StatusCode::UNAUTHORIZED,
        AccessDenied::Revoked | AccessDenied::WrongClient => StatusCode::FORBIDDEN,
        AccessDenied::Superseded => StatusCode::CONFLICT,
        AccessDenied::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

/// EDC's public API reads the token verbatim; `Bearer ` is accepted too.
fn presented_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    Some(value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or(value))
}

fn flag(flow: &DataFlow, local: &str) -> bool {
    flow.source.edc_property(local).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

async fn proxy(State(plane): State<Arc<DataPlane>>, request: Request) -> Response {
    let Some(token) = presented_token(request.headers()) else { return denied(AccessDenied::InvalidToken) };
    let flow = match plane.authorize(token).await {
        Ok(flow) => flow,
        Err(error) => return denied(error),
    };
    let Some(base) = flow.source.edc_property("baseUrl").map(str::to_string) else {
        return (StatusCode::BAD_GATEWAY, Json(json!({ "error": "the asset's data address has no baseUrl" })))
            .into_response();
    };
    let method = request.method().clone();
    if method != Method::GET && !flag(&flow, "proxyMethod") {
        return (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "error": "this asset only allows GET" })))
            .into_response();
    }
    let mut target = base.trim_end_matches('/').to_string();
    let path = request.uri().path().trim_start_matches('/').to_string();
    if flag(&flow, "proxyPath") && !path.is_empty() {
        target.push('/');
        target.push_str(&path);
    }
    if flag(&flow, "proxyQueryParams")
        && let Some(query) = request.uri().query()
    {
        target.push('?');
        target.push_str(query);
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
    let body = match axum::body::to_bytes(request.into_body(), 16 * 1024 * 1024).await {
        Ok(body) => body,
        Err(error) => return (StatusCode::BAD_REQUEST, format!("unreadable request body: {error}")).into_response(),
    };
    let mut outbound = plane.http.request(method, &target);
    if let Some(content_type) = content_type {
        outbound = outbound.header(header::CONTENT_TYPE, content_type);
    }
    if !body.is_empty() {
        outbound = outbound.body(body);
    }
    // The backend's credential comes from the vault by reference; it never leaves the data plane.
    if let (Some(name), Some(secret)) = (flow.source.edc_property("authKey"), flow.source.edc_property("secretName")) {
        match plane.vault.resolve(secret).await {
            Ok(Some(value)) => outbound = outbound.header(name, value.expose()),
            _ => {
                tracing::warn!(flow = %flow.id, "the backend secret named by the asset is missing from the vault");
                return (StatusCode::BAD_GATEWAY, Json(json!({ "error": "the backend credential is not available" })))
                    .into_response();
            }
        }
    }
    match outbound.send().await {
        Ok(response) => {
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            let content_type = response.headers().get(reqwest::header::CONTENT_TYPE).cloned();
            let bytes = response.bytes().await.unwrap_or_default();
            let mut answer = (status, bytes).into_response();
            if let Some(content_type) = content_type
                && let Ok(value) = axum::http::HeaderValue::from_bytes(content_type.as_bytes())
            {
                answer.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            answer
        }
        Err(error) => {
            tracing::warn!(flow = %flow.id, "backend unreachable: {error}");
            (StatusCode::BAD_GATEWAY, Json(json!({ "error": "the backend is unreachable" }))).into_response()
        }
    }
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({ "error": code, "error_description": description }))).into_response()
}

/// The refresh grant (DPS token renewal / Tractus-X refresh profile). Parameters may come as a form body or as
/// query parameters (Tractus-X clients use the latter).
async fn refresh(
    State(plane): State<Arc<DataPlane>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut parameters: HashMap<String, String> = serde_urlencoded_pairs(&body);
    for (key, value) in query {
        parameters.entry(key).or_insert(value);
    }
    if parameters.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be refresh_token");
    }
    let Some(refresh_token) = parameters.get("refresh_token").filter(|t| !t.is_empty()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is missing");
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let client = match plane.clients.authenticate(authorization).await {
        Ok(client) => client,
        Err(reason) => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", &reason),
    };
    let refreshed = plane.refresh(refresh_token, &client).await;
    let outcome = match &refreshed {
        Ok(_) => "renewed",
        Err(AccessDenied::Unavailable(_)) => "unavailable",
        Err(AccessDenied::Superseded) => "superseded",
        Err(_) => "refused",
    };
    metrics::counter!("dsc_data_plane_token_refreshes_total", "outcome" => outcome).increment(1);
    match refreshed {
        Ok((_, pair)) => Json(json!({
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_in": pair.expires_in,
            "expires": pair.expires_in,
            "token_type": "bearer",
        }))
        .into_response(),
        Err(AccessDenied::Unavailable(reason)) => {
            oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", &reason)
        }
        Err(error @ AccessDenied::Superseded) => oauth_error(StatusCode::CONFLICT, "invalid_grant", &error.to_string()),
        Err(AccessDenied::WrongClient) => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "the refresh token was issued to another participant")
        }
        Err(error) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &error.to_string()),
    }
}

/// `application/x-www-form-urlencoded` pairs.
fn serde_urlencoded_pairs(body: &[u8]) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(body)))
        .map(|url| url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}
