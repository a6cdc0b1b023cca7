// SPDX-License-Identifier: Apache-2.0
//! The Dataspace Protocol 2025-1 HTTP binding.
//!
//! Inbound: every request under the version path is authenticated ([`auth`]) before a handler sees it; handlers
//! expand the JSON-LD message, check its type, call a control-plane service and answer with a message compacted
//! against the DSP 2025-1 context. Outbound: [`client::DspClient`] implements the control plane's
//! `ProtocolClient` with self-issued tokens. Everything version-specific lives here, so a DSP 0.8 codec can be
//! added beside it without touching the control plane.

pub mod auth;
mod catalog;
pub mod client;
mod compact;
pub mod edr_refresh;
mod error;
mod negotiation;
mod transfer;
mod wellknown;

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use dsc_controlplane::catalog::CatalogService;
use dsc_controlplane::negotiation::NegotiationProtocolService;
use dsc_controlplane::transfer::TransferProtocolService;
use dsc_identity::ParticipantVerifier;
use dsc_jsonld::{CompactionContext, JsonLd};

pub use error::{DspError, ErrorType};
pub use wellknown::{dcp_auth, version_document, well_known_router};

/// The version path of DSP 2025-1 under the protocol base.
pub const VERSION_PATH: &str = "/2025-1";
pub const DSP_CONTEXT: &str = "https://w3id.org/dspace/2025/1/context.jsonld";
pub const EDC_DSP_CONTEXT: &str = "https://w3id.org/edc/dspace/v0.0.1";

#[derive(Clone)]
pub struct DspState {
    pub jsonld: Arc<JsonLd>,
    pub message_context: Arc<CompactionContext>,
    pub catalog: Arc<CatalogService>,
    pub negotiations: Arc<NegotiationProtocolService>,
    pub transfers: Arc<TransferProtocolService>,
    /// This connector's protocol address including the version path, advertised in catalogs.
    pub protocol_address: String,
    /// The version document's `auth` entry ([`dcp_auth`] with DCP).
    pub version_auth: Option<serde_json::Value>,
}

/// The context outbound DSP messages and answers are compacted with: the DSP 2025-1 context alone, which every
/// 2025-1 implementation resolves (the DSP TCK knows no other); EDC terms, if any, are written as full IRIs.
pub fn message_context() -> Result<CompactionContext, dsc_jsonld::JsonLdError> {
    CompactionContext::remote("dsp-2025-1", &[DSP_CONTEXT])
}

/// The router mounted at the protocol context path: the version document (public) and the 2025-1 endpoints
/// (authenticated).
pub fn protocol_router(
    state: DspState,
    verifier: Option<Arc<dyn ParticipantVerifier>>,
    limits: auth::ProtocolLimits,
) -> Router {
    let version_auth = state.version_auth.clone();
    let versioned = Router::new()
        .route("/catalog/request", post(catalog::request_catalog))
        .route("/catalog/datasets/{id}", get(catalog::get_dataset))
        .route("/negotiations/request", post(negotiation::initial_request))
        .route("/negotiations/offers", post(negotiation::initial_offer))
        .route("/negotiations/{id}", get(negotiation::get_negotiation))
        .route("/negotiations/{id}/request", post(negotiation::counter_request))
        .route("/negotiations/{id}/offers", post(negotiation::offers))
        .route("/negotiations/{id}/agreement", post(negotiation::agreement))
        .route("/negotiations/{id}/agreement/verification", post(negotiation::verification))
        .route("/negotiations/{id}/events", post(negotiation::events))
        .route("/negotiations/{id}/termination", post(negotiation::termination))
        .route("/transfers/request", post(transfer::request))
        .route("/transfers/{id}", get(transfer::get_transfer))
        .route("/transfers/{id}/start", post(transfer::start))
        .route("/transfers/{id}/suspension", post(transfer::suspension))
        .route("/transfers/{id}/completion", post(transfer::completion))
        .route("/transfers/{id}/termination", post(transfer::termination))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(auth::ProtocolGate::new(verifier, limits)),
            auth::authenticate,
        ))
        .with_state(state);
    Router::new()
        .route("/.well-known/dspace-version", wellknown::dspace_version(version_auth))
        .nest(VERSION_PATH, versioned)
}
