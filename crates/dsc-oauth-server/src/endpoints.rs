// SPDX-License-Identifier: Apache-2.0
//! The server's HTTP endpoints. Errors follow RFC 6749 §5.2 / RFC 7591 §3.2.2 / RFC 6750: a JSON body with `error`
//! (and `error_description`), 401 with `WWW-Authenticate` where a credential was wrong.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use dsc_store::{OAuthClientRecord, RefreshTokenRecord};
use jsonwebtoken::{Algorithm, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::OAuthServer;

type Shared = Arc<OAuthServer>;

pub fn router(server: Arc<OAuthServer>) -> Router {
    Router::new()
        .route("/.well-known/oauth-authorization-server", get(metadata))
        .route("/.well-known/openid-configuration", get(metadata))
        .route("/jwks", get(jwks))
        .route("/register", post(register))
        .route("/register/{client_id}", get(read_client).delete(delete_client))
        .route("/token", post(token))
        .route("/revoke", post(revoke))
        .route("/introspect", post(introspect))
        .with_state(server)
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut response = (status, Json(json!({ "error": code, "error_description": description }))).into_response();
    if status == StatusCode::UNAUTHORIZED
        && let Ok(value) = format!("Basic realm=\"oauth\", error=\"{code}\"").parse()
    {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

fn unavailable(reason: impl std::fmt::Display) -> Response {
    tracing::warn!("OAuth server store: {reason}");
    error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "the server's store is unavailable")
}

fn hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

fn matches(secret: &str, stored_hash: &str) -> bool {
    hash(secret).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))
}

fn form(body: &Bytes) -> HashMap<String, String> {
    url_pairs(&String::from_utf8_lossy(body))
}

fn url_pairs(text: &str) -> HashMap<String, String> {
    text.split('&').filter_map(|pair| pair.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect()
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space, `%XX` a byte).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                match text.get(index + 1..index + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok()).ok_or(()) {
                    Ok(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn metadata(State(server): State<Shared>) -> Json<Value> {
    let url = |path: &str| format!("{}{path}", server.issuer);
    Json(json!({
        "issuer": server.issuer,
        "token_endpoint": url("/token"),
        "jwks_uri": url("/jwks"),
        "registration_endpoint": url("/register"),
        "revocation_endpoint": url("/revoke"),
        "introspection_endpoint": url("/introspect"),
        "grant_types_supported": ["client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [server.scope],
        "response_types_supported": [],
    }))
}

async fn jwks(State(server): State<Shared>) -> Json<Value> {
    let jwks = server.keys.read().map(|keys| keys.jwks(crate::unix_now())).ok();
    Json(jwks.and_then(|jwks| serde_json::to_value(jwks).ok()).unwrap_or(Value::Null))
}

#[derive(Deserialize)]
struct RegistrationRequest {
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    grant_types: Option<Vec<String>>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

async fn register(State(server): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let presented = bearer(&headers).unwrap_or_default();
    let expected = server.initial_access_token.current().await.unwrap_or_default();
    if expected.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        let mut response =
            error(StatusCode::UNAUTHORIZED, "invalid_token", "the initial access token is missing or wrong");
        if let Ok(value) = "Bearer error=\"invalid_token\"".parse() {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        return response;
    }
    let request: RegistrationRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            return error(StatusCode::BAD_REQUEST, "invalid_client_metadata", &format!("not client metadata: {e}"));
        }
    };
    let grants = request.grant_types.unwrap_or_else(|| vec!["client_credentials".into()]);
    if let Some(unsupported) = grants.iter().find(|g| !matches!(g.as_str(), "client_credentials" | "refresh_token")) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            &format!("grant type '{unsupported}' is not supported; use client_credentials (and refresh_token)"),
        );
    }
    let method = request.token_endpoint_auth_method.unwrap_or_else(|| "client_secret_basic".into());
    if !matches!(method.as_str(), "client_secret_basic" | "client_secret_post") {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_client_metadata",
            &format!("token_endpoint_auth_method '{method}' is not supported"),
        );
    }
    let (client_id, secret, registration_token) = (uuid::Uuid::new_v4().to_string(), random_secret(), random_secret());
    let issued = now();
    let record = OAuthClientRecord {
        client_id: client_id.clone(),
        client_name: request.client_name.unwrap_or_else(|| client_id.clone()),
        secret_hash: hash(&secret),
        registration_token_hash: hash(&registration_token),
        created_at: issued,
    };
    if let Err(e) = server.store.create_oauth_client(&record).await {
        return unavailable(e);
    }
    tracing::info!(client = %client_id, name = %record.client_name, "OAuth client registered");
    (
        StatusCode::CREATED,
        Json(json!({
            "client_id": client_id,
            "client_secret": secret,
            "client_id_issued_at": issued,
            "client_secret_expires_at": 0,
            "client_name": record.client_name,
            "grant_types": grants,
            "token_endpoint_auth_method": method,
            "registration_access_token": registration_token,
            "registration_client_uri": format!("{}/register/{client_id}", server.issuer),
        })),
    )
        .into_response()
}

/// The client named in the path, if the registration access token is its own.
async fn managed_client(
    server: &OAuthServer,
    client_id: &str,
    headers: &HeaderMap,
) -> Result<OAuthClientRecord, Response> {
    let denied =
        || error(StatusCode::UNAUTHORIZED, "invalid_token", "the registration access token is missing or wrong");
    let presented = bearer(headers).ok_or_else(denied)?;
    match server.store.find_oauth_client(client_id).await {
        Ok(Some(client)) if matches(presented, &client.registration_token_hash) => Ok(client),
        Ok(_) => Err(denied()),
        Err(e) => Err(unavailable(e)),
    }
}

async fn read_client(State(server): State<Shared>, Path(client_id): Path<String>, headers: HeaderMap) -> Response {
    match managed_client(&server, &client_id, &headers).await {
        Ok(client) => Json(json!({
            "client_id": client.client_id,
            "client_name": client.client_name,
            "client_id_issued_at": client.created_at,
            "grant_types": ["client_credentials", "refresh_token"],
            "registration_client_uri": format!("{}/register/{}", server.issuer, client.client_id),
        }))
        .into_response(),
        Err(response) => response,
    }
}

async fn delete_client(State(server): State<Shared>, Path(client_id): Path<String>, headers: HeaderMap) -> Response {
    if let Err(response) = managed_client(&server, &client_id, &headers).await {
        return response;
    }
    match server.store.delete_oauth_client(&client_id).await {
        Ok(_) => {
            tracing::info!(client = %client_id, "OAuth client deleted");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => unavailable(e),
    }
}

/// Client authentication by `client_secret_basic` or `client_secret_post`.
async fn authenticate(
    server: &OAuthServer,
    headers: &HeaderMap,
    parameters: &HashMap<String, String>,
) -> Result<OAuthClientRecord, Response> {
    let invalid = || error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.split_once(':').map(|(id, secret)| (decode(id), decode(secret))));
    let (client_id, secret) = match basic {
        Some(pair) => pair,
        None => match (parameters.get("client_id"), parameters.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => return Err(invalid()),
        },
    };
    match server.store.find_oauth_client(&client_id).await {
        Ok(Some(client)) if matches(&secret, &client.secret_hash) => Ok(client),
        Ok(_) => Err(invalid()),
        Err(e) => Err(unavailable(e)),
    }
}

#[derive(Serialize, Deserialize)]
struct AccessClaims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    jti: String,
    scope: String,
    client_id: String,
}

/// A new access token and refresh token (of `family`) for `client`.
async fn issue(server: &OAuthServer, client: &OAuthClientRecord, family: &str) -> Response {
    let issued = now();
    let claims = AccessClaims {
        iss: server.issuer.clone(),
        sub: client.client_id.clone(),
        aud: server.audience.clone(),
        exp: issued + server.access_token_seconds,
        iat: issued,
        jti: uuid::Uuid::new_v4().to_string(),
        scope: server.scope.clone(),
        client_id: client.client_id.clone(),
    };
    let mut header = Header::new(Algorithm::ES256);
    let Some((kid, encoding)) =
        server.keys.read().ok().map(|keys| (keys.current.kid.clone(), keys.current.encoding.clone()))
    else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the signing key is unavailable");
    };
    header.kid = Some(kid);
    header.typ = Some("at+jwt".into());
    let access_token = match jsonwebtoken::encode(&header, &claims, &encoding) {
        Ok(token) => token,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e.to_string()),
    };
    let refresh_token = random_secret();
    let record = RefreshTokenRecord {
        token_hash: hash(&refresh_token),
        client_id: client.client_id.clone(),
        family: family.to_string(),
        used: false,
        revoked: false,
        expires_at: issued + server.refresh_token_seconds,
    };
    if let Err(e) = server.store.create_refresh_token(&record).await {
        return unavailable(e);
    }
    let mut response = Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": server.access_token_seconds,
        "refresh_token": refresh_token,
        "scope": server.scope,
    }))
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

async fn token(State(server): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let parameters = form(&body);
    let grant_type = match parameters.get("grant_type").map(String::as_str) {
        Some("client_credentials") => "client_credentials",
        Some("refresh_token") => "refresh_token",
        _ => "other",
    };
    let response = grant(&server, &headers, &parameters).await;
    let outcome = if response.status().is_success() { "issued" } else { "refused" };
    metrics::counter!("dsc_oauth_server_tokens_total", "grant_type" => grant_type, "outcome" => outcome).increment(1);
    response
}

async fn grant(server: &Shared, headers: &HeaderMap, parameters: &HashMap<String, String>) -> Response {
    let client = match authenticate(server, headers, parameters).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    match parameters.get("grant_type").map(String::as_str) {
        Some("client_credentials") => issue(server, &client, &uuid::Uuid::new_v4().to_string()).await,
        Some("refresh_token") => {
            let invalid = |why: &str| error(StatusCode::BAD_REQUEST, "invalid_grant", why);
            let Some(presented) = parameters.get("refresh_token") else {
                return error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is missing");
            };
            let record = match server.store.find_refresh_token(&hash(presented)).await {
                Ok(Some(record)) if record.client_id == client.client_id => record,
                Ok(_) => return invalid("the refresh token is unknown"),
                Err(e) => return unavailable(e),
            };
            if record.revoked {
                return invalid("the refresh token has been revoked");
            }
            if record.expires_at <= now() {
                return invalid("the refresh token has expired");
            }
            match server.store.use_refresh_token(&record.token_hash).await {
                Ok(true) => issue(server, &client, &record.family).await,
                Ok(false) => {
                    // A rotated token came back: someone holds a copy. Nothing of this family is trusted any more.
                    tracing::warn!(client = %client.client_id, "refresh token reuse; revoking the token family");
                    if let Err(e) = server.store.revoke_refresh_family(&record.family).await {
                        return unavailable(e);
                    }
                    invalid("the refresh token was already used; its family is revoked")
                }
                Err(e) => unavailable(e),
            }
        }
        Some(other) => {
            error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("grant type '{other}' is not supported"))
        }
        None => error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is missing"),
    }
}

/// The claims of one of our access tokens, if the signature and issuer check out (expiry is checked by callers).
fn access_claims(server: &OAuthServer, token: &str) -> Option<AccessClaims> {
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[&server.issuer]);
    validation.set_audience(&[&server.audience]);
    validation.validate_exp = false;
    let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
    let decoding = server.keys.read().ok()?.verifying(&kid, crate::unix_now())?.decoding.clone();
    jsonwebtoken::decode::<AccessClaims>(token, &decoding, &validation).ok().map(|data| data.claims)
}

async fn revoke(State(server): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let parameters = form(&body);
    let client = match authenticate(&server, &headers, &parameters).await {
        Ok(client) => client,
        Err(response) => return response,
    };
    let Some(token) = parameters.get("token") else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "token is missing");
    };
    // RFC 7009 §2.2: unknown tokens and tokens of other clients are answered 200 all the same.
    if let Some(claims) = access_claims(&server, token).filter(|c| c.client_id == client.client_id) {
        if let Err(e) = server.store.revoke_access_token(&claims.jti, claims.exp).await {
            return unavailable(e);
        }
    } else if let Ok(Some(record)) = server.store.find_refresh_token(&hash(token)).await
        && record.client_id == client.client_id
        && let Err(e) = server.store.revoke_refresh_family(&record.family).await
    {
        return unavailable(e);
    }
    StatusCode::OK.into_response()
}

async fn introspect(State(server): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let parameters = form(&body);
    if let Err(response) = authenticate(&server, &headers, &parameters).await {
        return response;
    }
    let Some(token) = parameters.get("token") else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "token is missing");
    };
    let inactive = || Json(json!({ "active": false })).into_response();
    if let Some(claims) = access_claims(&server, token) {
        let revoked = match server.store.access_token_revoked(&claims.jti).await {
            Ok(revoked) => revoked,
            Err(e) => return unavailable(e),
        };
        if revoked || claims.exp <= now() {
            return inactive();
        }
        return Json(json!({
            "active": true, "iss": claims.iss, "sub": claims.sub, "aud": claims.aud, "exp": claims.exp,
            "iat": claims.iat, "jti": claims.jti, "scope": claims.scope, "client_id": claims.client_id,
            "token_type": "Bearer",
        }))
        .into_response();
    }
    match server.store.find_refresh_token(&hash(token)).await {
        Ok(Some(record)) if !record.revoked && !record.used && record.expires_at > now() => {
            Json(json!({ "active": true, "client_id": record.client_id, "exp": record.expires_at, "token_type": "refresh_token" }))
                .into_response()
        }
        Ok(_) => inactive(),
        Err(e) => unavailable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        let pairs = url_pairs("grant_type=client_credentials&resource=urn%3Akafka%3Abroker&name=a+b");
        assert_eq!(pairs.get("resource").map(String::as_str), Some("urn:kafka:broker"));
        assert_eq!(pairs.get("name").map(String::as_str), Some("a b"));
        assert_eq!(decode("100%"), "100%");
        assert!(matches("s3cret", &hash("s3cret")));
        assert!(!matches("other", &hash("s3cret")));
    }
}
