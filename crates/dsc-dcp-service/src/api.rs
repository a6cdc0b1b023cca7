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

/// `POST /presentations/query`, to mount at the credential service's base path.
pub fn presentation_router(holder: Arc<Holder>) -> Router {
    Router::new().route("/presentations/query", post(query)).with_state(holder)
}

async fn query(State(holder): State<Arc<Holder>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    match holder.answer_query(authorization, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(refusal) => {
            tracing::info!(status = refusal.status, "presentation query refused: {}", refusal.message);
            let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Json(json!({"type": "Error", "message": refusal.message}))).into_response()
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
