// SPDX-License-Identifier: Apache-2.0
//! `X-Api-Key` authentication for the Management API.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::ApiError;

/// The expected key. `Debug` never prints it.
#[derive(Clone)]
pub struct ApiKey(Arc<str>);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(Arc::from(key.into()))
    }

    fn matches(&self, candidate: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(candidate).into()
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Middleware: 401 unless the `X-Api-Key` header (any case) carries the key.
pub async fn require_api_key(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    let presented = request.headers().get("x-api-key").map(|v| v.as_bytes());
    match presented {
        Some(candidate) if key.matches(candidate) => next.run(request).await,
        _ => ApiError::unauthenticated().into_response(),
    }
}

/// Middleware for internal APIs (Data Plane Signaling): 401 unless `Authorization: Bearer <key>` carries the key.
pub async fn require_bearer_key(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")));
    match presented {
        Some(candidate) if key.matches(candidate.as_bytes()) => next.run(request).await,
        _ => ApiError::unauthenticated().into_response(),
    }
}
