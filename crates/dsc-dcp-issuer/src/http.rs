// SPDX-License-Identifier: Apache-2.0
//! The issuer's HTTP API: its DID document and status lists (public, verifiers read them) and the admin API
//! (bearer key) to issue, list, revoke and reinstate credentials.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use dsc_dcp::credential::Profile;
use dsc_web::{ApiError, ApiKey, require_bearer_key};
use serde_json::json;

use crate::{IssueRequest, Issuer, IssuerError};

/// The issuer's routes; the DID document is served at the path its did:web DID names (`did_path`).
pub fn router(issuer: Arc<Issuer>, did_path: &str, admin_key: ApiKey) -> Router {
    let document = issuer.did_document().clone();
    let admin = Router::new()
        .route("/admin/credentials", get(list).post(issue))
        .route("/admin/credentials/{id}/revoke", post(revoke))
        .route("/admin/credentials/{id}/reinstate", post(reinstate))
        .route_layer(middleware::from_fn_with_state(admin_key, require_bearer_key));
    Router::new()
        .route(did_path, get(move || async move { Json(document.clone()) }))
        .route("/status/statuslist2021", get(|s: State<Arc<Issuer>>| status(s, Profile::Vc11Sl2021Jwt)))
        .route("/status/bitstring", get(|s: State<Arc<Issuer>>| status(s, Profile::Vc20BsslJwt)))
        .merge(admin)
        .with_state(issuer)
}

fn error(error: IssuerError) -> Response {
    match error {
        IssuerError::Invalid(message) => ApiError::invalid_request(message).into_response(),
        IssuerError::NotFound(_) => ApiError::not_found(error.to_string()).into_response(),
        other => ApiError::internal(other).into_response(),
    }
}

async fn status(State(issuer): State<Arc<Issuer>>, profile: Profile) -> Response {
    Json(issuer.status_list(profile).await).into_response()
}

async fn list(State(issuer): State<Arc<Issuer>>) -> Response {
    Json(issuer.issued().await).into_response()
}

async fn issue(State(issuer): State<Arc<Issuer>>, body: Bytes) -> Response {
    let request: IssueRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => return ApiError::invalid_request(format!("invalid issue request: {e}")).into_response(),
    };
    match issuer.issue(&request).await {
        Ok((record, jwt)) => (StatusCode::CREATED, Json(json!({"issued": record, "credential": jwt}))).into_response(),
        Err(e) => error(e),
    }
}

async fn revoke(State(issuer): State<Arc<Issuer>>, Path(id): Path<String>) -> Response {
    match issuer.set_revoked(&id, true).await {
        Ok(record) => Json(record).into_response(),
        Err(e) => error(e),
    }
}

async fn reinstate(State(issuer): State<Arc<Issuer>>, Path(id): Path<String>) -> Response {
    match issuer.set_revoked(&id, false).await {
        Ok(record) => Json(record).into_response(),
        Err(e) => error(e),
    }
}
