// SPDX-License-Identifier: Apache-2.0
//! Authentication of inbound protocol requests: a verified participant or a 401 with a DSP error body. Bounded on
//! two sides: verifications in flight (each may resolve DIDs and query a credential service on the caller's say),
//! and requests in flight per verified participant (beyond them a 429, which a counter-party retries).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dsc_identity::ParticipantVerifier;
use tokio::sync::Semaphore;

use crate::{DspError, ErrorType};

/// What an outsider may make the protocol endpoints do at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolLimits {
    /// Requests being verified at once, across all callers; more wait.
    pub verifications: usize,
    /// Requests in flight per verified participant; more are answered 429.
    pub per_participant: usize,
}

impl Default for ProtocolLimits {
    fn default() -> Self {
        ProtocolLimits { verifications: 256, per_participant: 64 }
    }
}

/// The verifier and the limits of the protocol endpoints.
pub struct ProtocolGate {
    verifier: Option<Arc<dyn ParticipantVerifier>>,
    verifications: Semaphore,
    limits: ProtocolLimits,
    in_flight: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl ProtocolGate {
    pub fn new(verifier: Option<Arc<dyn ParticipantVerifier>>, limits: ProtocolLimits) -> Self {
        ProtocolGate {
            verifier,
            verifications: Semaphore::new(limits.verifications.max(1)),
            limits,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    fn participant_slots(&self, participant: &str) -> Option<Arc<Semaphore>> {
        let mut in_flight = self.in_flight.lock().ok()?;
        let per_participant = self.limits.per_participant.max(1);
        Some(
            in_flight
                .entry(participant.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(per_participant)))
                .clone(),
        )
    }
}

/// Verifies the `Authorization` header and hands the participant to the handler as a request extension.
pub async fn authenticate(State(gate): State<Arc<ProtocolGate>>, mut request: Request, next: Next) -> Response {
    let kind = ErrorType::for_path(request.uri().path());
    let Some(verifier) = gate.verifier.clone() else {
        return DspError::new(kind, StatusCode::UNAUTHORIZED, "this connector has no participant identity configured")
            .into_response();
    };
    let header = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let verified = {
        // Waiting here is bounded by the request timeout of the listener.
        let Ok(_verifying) = gate.verifications.acquire().await else {
            return DspError::new(kind, StatusCode::SERVICE_UNAVAILABLE, "the connector is shutting down")
                .into_response();
        };
        verifier.verify(header.as_deref()).await
    };
    match verified {
        Ok(participant) => {
            let slots = gate.participant_slots(&participant.id);
            let Some(_slot) = slots.as_ref().and_then(|slots| slots.clone().try_acquire_owned().ok()) else {
                tracing::debug!(participant = %participant.id, "protocol request refused: too many in flight");
                return DspError::new(
                    kind,
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "too many concurrent requests from {} (at most {}); try again",
                        participant.id, gate.limits.per_participant
                    ),
                )
                .into_response();
            };
            request.extensions_mut().insert(participant);
            next.run(request).await
        }
        Err(error) => {
            tracing::debug!(path = %request.uri().path(), "protocol request refused: {error}");
            static REFUSALS: dsc_telemetry::LogLimiter = dsc_telemetry::LogLimiter::new(Duration::from_secs(60));
            if let Some(held_back) = REFUSALS.allow() {
                tracing::info!(held_back, "protocol request refused (repeats are logged once a minute): {error}");
            }
            DspError {
                kind,
                status: StatusCode::UNAUTHORIZED,
                reasons: vec!["Unauthorized.".into(), error.to_string()],
            }
            .into_response()
        }
    }
}
