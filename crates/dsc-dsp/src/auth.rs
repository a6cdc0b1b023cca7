// SPDX-License-Identifier: Apache-2.0
//! Authentication of inbound protocol requests: a verified participant or a 401 with a DSP error body.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dsc_identity::ParticipantVerifier;

use crate::{DspError, ErrorType};

/// Verifies the `Authorization` header and hands the participant to the handler as a request extension.
pub async fn authenticate(
    State(verifier): State<Option<Arc<dyn ParticipantVerifier>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let kind = ErrorType::for_path(request.uri().path());
    let Some(verifier) = verifier else {
        return DspError::new(kind, StatusCode::UNAUTHORIZED, "this connector has no participant identity configured")
            .into_response();
    };
    let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    match verifier.verify(header.as_deref()).await {
        Ok(participant) => {
            request.extensions_mut().insert(participant);
            next.run(request).await
        }
        Err(error) => {
            tracing::info!(path = %request.uri().path(), "protocol request refused: {error}");
            DspError {
                kind,
                status: StatusCode::UNAUTHORIZED,
                reasons: vec!["Unauthorized.".into(), error.to_string()],
            }
            .into_response()
        }
    }
}
