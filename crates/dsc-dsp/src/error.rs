// SPDX-License-Identifier: Apache-2.0
//! DSP error bodies (`CatalogError`, `ContractNegotiationError`, `TransferError`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::DSP_CONTEXT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Catalog,
    ContractNegotiation,
    Transfer,
}

impl ErrorType {
    fn name(self) -> &'static str {
        match self {
            ErrorType::Catalog => "CatalogError",
            ErrorType::ContractNegotiation => "ContractNegotiationError",
            ErrorType::Transfer => "TransferError",
        }
    }

    /// The error type for a request path under the version path.
    pub fn for_path(path: &str) -> Self {
        if path.contains("/negotiations") {
            ErrorType::ContractNegotiation
        } else if path.contains("/transfers") {
            ErrorType::Transfer
        } else {
            ErrorType::Catalog
        }
    }
}

/// An error answer: `code` is the HTTP status as a string, as EDC sends it.
#[derive(Debug, Clone)]
pub struct DspError {
    pub kind: ErrorType,
    pub status: StatusCode,
    pub reasons: Vec<String>,
}

impl DspError {
    pub fn new(kind: ErrorType, status: StatusCode, reason: impl Into<String>) -> Self {
        DspError { kind, status, reasons: vec![reason.into()] }
    }
}

impl IntoResponse for DspError {
    fn into_response(self) -> Response {
        let body = json!({
            "@context": [DSP_CONTEXT],
            "@type": self.kind.name(),
            "code": self.status.as_u16().to_string(),
            "reason": self.reasons,
        });
        (self.status, Json(body)).into_response()
    }
}
