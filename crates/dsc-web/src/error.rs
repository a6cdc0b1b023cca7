// SPDX-License-Identifier: Apache-2.0
//! EDC's error body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_domain::Violation;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Well-formed input that breaks a rule (400).
    ValidationFailure,
    /// Input that cannot be read at all (400), or a body over the limit (413).
    InvalidRequest,
    AuthenticationFailed,
    NotAuthorized,
    ObjectNotFound,
    ObjectConflict,
    ServiceUnavailable,
    /// A counter-party could not be reached or answered with an error (502).
    BadGateway,
    InternalError,
}

impl ErrorKind {
    fn name(self) -> &'static str {
        match self {
            ErrorKind::ValidationFailure => "ValidationFailure",
            ErrorKind::InvalidRequest => "InvalidRequest",
            ErrorKind::AuthenticationFailed => "AuthenticationFailed",
            ErrorKind::NotAuthorized => "NotAuthorized",
            ErrorKind::ObjectNotFound => "ObjectNotFound",
            ErrorKind::ObjectConflict => "ObjectConflict",
            ErrorKind::ServiceUnavailable => "ServiceUnavailable",
            ErrorKind::BadGateway => "BadGateway",
            ErrorKind::InternalError => "InternalError",
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorDetail {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub path: Option<String>,
    #[serde(rename = "invalidValue")]
    pub invalid_value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub details: Vec<ErrorDetail>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            status,
            details: vec![ErrorDetail { message: message.into(), kind: kind.name(), path: None, invalid_value: None }],
        }
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        if let Some(detail) = self.details.first_mut() {
            detail.path = Some(path.into());
        }
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorKind::InvalidRequest, message)
    }

    pub fn validation(violations: Vec<Violation>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            details: violations
                .into_iter()
                .map(|v| ErrorDetail {
                    message: v.message,
                    kind: ErrorKind::ValidationFailure.name(),
                    path: v.path,
                    invalid_value: v.invalid_value,
                })
                .collect(),
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorKind::AuthenticationFailed, "Request could not be authenticated")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorKind::ObjectNotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorKind::ObjectConflict, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, ErrorKind::ServiceUnavailable, message)
    }

    /// Logs `detail` under a fresh correlation id and answers with that id only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let code = uuid::Uuid::new_v4();
        tracing::error!(error.code = %code, "internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::InternalError, format!("Error code {code}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.details)).into_response()
    }
}
