// SPDX-License-Identifier: Apache-2.0
//! JSON request bodies with EDC-shaped errors.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde_json::Value;

use crate::{ApiError, ErrorKind};

/// A request body parsed as JSON. The size limit is the router's `DefaultBodyLimit`; an oversized body is a 413,
/// malformed JSON a 400 naming line and column, an empty body `None`.
pub struct JsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(failure) if failure.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorKind::InvalidRequest, "request body is too large")
            }
            other => ApiError::invalid_request(format!("cannot read request body: {other}")),
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|value| JsonBody(Some(value)))
            .map_err(|e| ApiError::invalid_request(format!("malformed JSON: {e}")))
    }
}
