// SPDX-License-Identifier: Apache-2.0
//! `/.well-known/dspace-version` and the participant's DID document.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use crate::VERSION_PATH;

/// The 2025-1 version document (no `@context`; paths relative to the protocol base).
pub fn version_document() -> Value {
    json!({
        "protocolVersions": [{
            "version": "2025-1",
            "path": VERSION_PATH,
            "binding": "HTTPS",
            "identifierType": "did:web",
        }]
    })
}

pub(crate) async fn dspace_version() -> Json<Value> {
    Json(version_document())
}

/// Routes for the root of the protocol port: the version document (the spec puts it at the host root) and, when
/// the connector has a DID, its document at the path the DID names (`did_path`, e.g. `/.well-known/did.json`).
pub fn well_known_router(did: Option<(String, Value)>) -> Router {
    let mut router = Router::new().route("/.well-known/dspace-version", get(dspace_version));
    if let Some((path, document)) = did {
        router = router.route(&path, get(move || async move { Json(document.clone()) }));
    }
    router
}
