// SPDX-License-Identifier: Apache-2.0
//! HTTP for the holder: the presentation API other participants' verifiers call (authenticated by their
//! self-issued token carrying our access token), and the Management API for the participant's own credentials
//! (API key). A credential is never returned in full.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use dsc_web::{ApiError, ApiKey, require_api_key};
use serde::Deserialize;
use serde_json::json;

use crate::holder::Holder;
use crate::store::{CredentialStore, StoredCredential};

/// `POST /presentations/query` and the Storage API's `POST /credentials`, to mount at the credential service's
/// base path.
pub fn presentation_router(holder: Arc<Holder>) -> Router {
    Router::new().route("/presentations/query", post(query)).route("/credentials", post(storage)).with_state(holder)
}

fn refused(refusal: crate::holder::QueryRefusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"type": "Error", "message": refusal.message}))).into_response()
}

async fn storage(State(holder): State<Arc<Holder>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match holder.store_issued(authorization, &body).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(refusal) => {
            tracing::info!(status = refusal.status, "credential message refused: {}", refusal.message);
            refused(refusal)
        }
    }
}

/// `POST /verification`: runs the verifier on the caller's `Authorization` alone and answers 200 with the
/// participant or 401 with the reason. A diagnostic (and the DCP TCK's trigger); off unless configured.
pub fn verification_router(verifier: Arc<crate::Verifier>) -> Router {
    Router::new().route("/verification", post(verification)).with_state(verifier)
}

async fn verification(State(verifier): State<Arc<crate::Verifier>>, headers: HeaderMap) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match dsc_identity::ParticipantVerifier::verify(verifier.as_ref(), authorization).await {
        Ok(agent) => Json(json!({"participant": agent.id})).into_response(),
        Err(error) => {
            tracing::info!("verification refused: {error}");
            (StatusCode::UNAUTHORIZED, Json(json!({"type": "Error", "message": error.to_string()}))).into_response()
        }
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_id: String,
    client_secret: String,
    audience: String,
    #[serde(default)]
    bearer_access_scope: Option<String>,
    /// An access token to carry on (a verifier asking a holder's credential service).
    #[serde(default)]
    token: Option<String>,
}

#[derive(Clone)]
struct Sts {
    holder: Arc<Holder>,
    client_id: String,
    vault: Arc<dyn dsc_vault::Vault>,
    secret_alias: String,
}

/// The secure token service's `POST /token` (client credentials, `audience`, `bearer_access_scope`), for wallets'
/// clients such as an EDC control plane with a remote STS and the DCP TCK. The client secret is read from the
/// vault at each request, so `PUT /v3/secrets` rotates it.
pub fn sts_router(
    holder: Arc<Holder>,
    client_id: String,
    vault: Arc<dyn dsc_vault::Vault>,
    secret_alias: String,
) -> Router {
    Router::new().route("/token", post(sts_token)).with_state(Sts { holder, client_id, vault, secret_alias })
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

async fn sts_token(State(sts): State<Sts>, form: axum::extract::Form<TokenRequest>) -> Response {
    let request = form.0;
    if request.grant_type != "client_credentials" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only client_credentials is supported");
    }
    let secret = match sts.vault.resolve(&sts.secret_alias).await {
        Ok(Some(secret)) => secret,
        Ok(None) => {
            tracing::warn!(vault_key = %sts.secret_alias, "the STS client secret is not in the vault");
            return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret");
        }
        Err(error) => {
            return oauth_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", &error.to_string());
        }
    };
    let expected = secret.expose().as_bytes();
    let secret_matches = request.client_secret.len() == expected.len()
        && request.client_secret.bytes().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if request.client_id != sts.client_id || !secret_matches {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client or wrong secret");
    }
    let scopes = request.bearer_access_scope.unwrap_or_default();
    match sts.holder.token_for_scopes(&request.audience, &scopes, request.token.as_deref()) {
        Ok(token) => Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": 300})).into_response(),
        Err(error) => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &error.to_string()),
    }
}

async fn query(State(holder): State<Arc<Holder>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match holder.answer_query(authorization, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(refusal) => {
            tracing::info!(status = refusal.status, "presentation query refused: {}", refusal.message);
            refused(refusal)
        }
    }
}

#[derive(Clone)]
struct Credentials {
    holder: Arc<Holder>,
    store: Arc<dyn CredentialStore>,
}

/// `GET`/`POST /v3/credentials` and `DELETE /v3/credentials/{id}`, behind the Management API key.
pub fn management_router(holder: Arc<Holder>, store: Arc<dyn CredentialStore>, api_key: ApiKey) -> Router {
    Router::new()
        .route("/v3/credentials", get(list).post(add))
        .route("/v3/credentials/{id}", delete(remove))
        .route_layer(middleware::from_fn_with_state(api_key, require_api_key))
        .with_state(Credentials { holder, store })
}

async fn list(State(state): State<Credentials>) -> Response {
    match state.store.credentials().await {
        Ok(credentials) => Json(credentials).into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCredential {
    /// The credential as issued: a VC JWT.
    credential: String,
}

async fn add(State(state): State<Credentials>, body: Bytes) -> Response {
    let request: NewCredential = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return ApiError::invalid_request(format!("expected {{\"credential\": \"<VC JWT>\"}}: {error}"))
                .into_response();
        }
    };
    let now = dsc_domain::clock::system_now_millis();
    let credential = match StoredCredential::from_jwt(&request.credential, now) {
        Ok(credential) => credential,
        Err(error) => return ApiError::invalid_request(error.to_string()).into_response(),
    };
    if credential.holder != state.holder.did() {
        return ApiError::invalid_request(format!(
            "the credential's subject is {}, not this participant ({})",
            credential.holder,
            state.holder.did()
        ))
        .into_response();
    }
    match state.store.put_credential(&credential).await {
        Ok(()) => {
            tracing::info!(credential = %credential.id, types = ?credential.types, issuer = %credential.issuer, "stored a credential");
            (StatusCode::CREATED, Json(credential)).into_response()
        }
        Err(error) => ApiError::internal(error).into_response(),
    }
}

async fn remove(State(state): State<Credentials>, Path(id): Path<String>) -> Response {
    match state.store.delete_credential(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(dsc_store::StoreError::NotFound { .. }) => {
            ApiError::not_found(format!("no credential with id '{id}'")).into_response()
        }
        Err(error) => ApiError::internal(error).into_response(),
    }
}
