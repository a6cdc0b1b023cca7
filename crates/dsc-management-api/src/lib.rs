// SPDX-License-Identifier: Apache-2.0
//! The Management API v3, shaped like EDC's.
//!
//! Every handler does the same three steps and nothing else: expand and validate the JSON-LD body
//! ([`edge`]), transform it into a typed entity (`dsc-transform`), call a control-plane service; the result goes
//! back through JSON-LD compaction. One table of endpoints ([`endpoints`]) builds both the router and the
//! OpenAPI document, so the two cannot drift apart.

mod catalog;
mod edge;
mod endpoints;
mod examples;
mod negotiations;
mod openapi;
mod resources;
mod secrets;
mod transfers;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use dsc_controlplane::EntityService;
use dsc_domain::{Asset, ContractDefinition, PolicyDefinition};
use dsc_jsonld::{CompactionContext, JsonLd};
use dsc_vault::Vault;
use dsc_web::{ApiKey, require_api_key};

/// Everything the handlers need.
#[derive(Clone)]
pub struct ManagementState {
    pub jsonld: Arc<JsonLd>,
    pub response_context: Arc<CompactionContext>,
    pub assets: Arc<EntityService<Asset>>,
    pub policy_definitions: Arc<EntityService<PolicyDefinition>>,
    pub contract_definitions: Arc<EntityService<ContractDefinition>>,
    /// Checks of asset data addresses by type, registered by the transfer types.
    pub address_validators: Arc<dsc_domain::DataAddressValidators>,
    pub vault: Arc<dyn Vault>,
    /// Requests to other connectors (catalogs today, negotiations and transfers next).
    pub protocol: Arc<dyn dsc_controlplane::protocol::ProtocolClient>,
    pub negotiations: Arc<dsc_controlplane::negotiation::NegotiationService>,
    pub transfers: Arc<dsc_controlplane::transfer::TransferService>,
    /// EDRs of started consumer transfers, renewed on read when asked.
    pub edrs: Arc<dsc_controlplane::edr::EdrService>,
}

/// The context Management API responses are compacted with: EDC's (`@vocab` edc, `edc`, `odrl`) plus the
/// prefixes Tractus-X adds and the DCAT/DCT ones catalog data uses.
pub fn response_context() -> Result<CompactionContext, dsc_jsonld::JsonLdError> {
    use dsc_domain::namespaces as ns;
    CompactionContext::inline(
        "management",
        serde_json::json!({
            "@vocab": ns::EDC,
            "edc": ns::EDC,
            "odrl": ns::ODRL,
            "dct": ns::DCT,
            "dcat": ns::DCAT,
            "tx": ns::TX,
            "tx-auth": ns::TX_AUTH,
            "cx-policy": ns::CX_POLICY,
        }),
    )
}

/// The Management API router, to be mounted at the management context path. The OpenAPI document at
/// `/openapi.json` is public (it holds no data); everything else needs the API key. `base_path` is where it is
/// mounted, named as the document's server.
pub fn router(state: ManagementState, api_key: ApiKey, body_limit: usize, base_path: &str) -> Router {
    let mut protected = Router::new();
    let table = endpoints::all();
    for endpoint in &table {
        protected = protected.route(endpoint.path, endpoint.handler.clone());
    }
    let protected = protected
        .route_layer(middleware::from_fn_with_state(api_key, require_api_key))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state);
    let document = openapi::document(&table, base_path);
    Router::new().merge(protected).route("/openapi.json", axum::routing::get(move || async move { document.clone() }))
}
