// SPDX-License-Identifier: Apache-2.0
//! `/.well-known/dspace-version` and the participant's DID document.

use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use crate::VERSION_PATH;

/// The 2025-1 version document (no `@context`; paths relative to the protocol base), naming the authentication
/// protocol when there is a standard one (`{"protocol": "DCP", "version": "1.0", ...}`).
pub fn version_document(auth: Option<&Value>) -> Value {
    let mut version = json!({
        "version": "2025-1",
        "path": VERSION_PATH,
        "binding": "HTTPS",
        "identifierType": "did:web",
    });
    if let Some(auth) = auth {
        version["auth"] = auth.clone();
    }
    json!({ "protocolVersions": [version] })
}

/// The `auth` entry of the version document for DCP 1.0 with the profiles this connector verifies.
pub fn dcp_auth() -> Value {
    json!({"protocol": "DCP", "version": "1.0", "profile": ["vc11-sl2021/jwt", "vc20-bssl/jwt"]})
}

pub(crate) fn dspace_version(auth: Option<Value>) -> axum::routing::MethodRouter {
    let document = version_document(auth.as_ref());
    get(move || async move { Json(document.clone()) })
}

/// Routes for the root of the protocol port: the version document (the spec puts it at the host root) and, when
/// the connector has a DID, its document at the path the DID names (`did_path`, e.g. `/.well-known/did.json`).
pub fn well_known_router(did: Option<(String, Value)>, auth: Option<Value>) -> Router {
    let mut router = Router::new().route("/.well-known/dspace-version", dspace_version(auth));
    if let Some((path, document)) = did {
        router = router.route(&path, get(move || async move { Json(document.clone()) }));
    }
    router
}
