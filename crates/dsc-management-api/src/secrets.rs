// SPDX-License-Identifier: Apache-2.0
//! `/v3/secrets`: put secrets into the vault so data addresses can reference them.
//!
//! Unlike EDC, reading a secret returns its key only, never the value: a value leaves the vault only towards
//! the component that uses it, not through an API.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_domain::{Violation, namespaces};
use dsc_jsonld::expanded::{self, Node};
use dsc_vault::{SecretString, VaultError};
use dsc_web::{ApiError, JsonBody};
use serde_json::{Value, json};

use crate::ManagementState;
use crate::edge::{compact, expand_required, id_response, ok_json};

fn read_secret(node: &Node) -> Result<(String, SecretString), ApiError> {
    let mut violations = Vec::new();
    let types = expanded::types(node);
    let expected = namespaces::edc("Secret");
    if !types.is_empty() && !types.contains(&expected.as_str()) {
        violations.push(Violation::new(format!("@type was expected to be '{expected}' but was {types:?}"), "@type"));
    }
    let id = expanded::id(node).filter(|id| !id.trim().is_empty()).map(str::to_string);
    if id.is_none() {
        violations.push(Violation::mandatory_value("@id"));
    }
    let value_iri = namespaces::edc("value");
    let value = expanded::first_str(node, &value_iri).filter(|v| !v.is_empty()).map(SecretString::new);
    if value.is_none() {
        violations.push(Violation::mandatory_value(&value_iri));
    }
    match (id, value) {
        (Some(id), Some(value)) if violations.is_empty() => Ok((id, value)),
        _ => Err(ApiError::validation(violations)),
    }
}

fn vault_error(error: VaultError) -> ApiError {
    match error {
        VaultError::InvalidSecretKey(key) => ApiError::validation(vec![
            Violation::new(VaultError::InvalidSecretKey(key.clone()).to_string(), "@id").with_value(Value::String(key)),
        ]),
        // The database vault's store is down: like any database outage, 503 and the client tries again.
        VaultError::Unavailable(_) => ApiError::unavailable("the vault is unavailable; try again later"),
        other => ApiError::internal(other),
    }
}

pub(crate) async fn create(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (id, value) = read_secret(&expand_required(&state, body)?)?;
    if state.vault.resolve(&id).await.map_err(vault_error)?.is_some() {
        return Err(ApiError::conflict(format!("Object of type Secret with ID={id} already exists")));
    }
    state.vault.store(&id, value).await.map_err(vault_error)?;
    tracing::info!(secret = %id, "secret stored");
    id_response(&state, &id, dsc_domain::clock::system_now_millis())
}

pub(crate) async fn update(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (id, value) = read_secret(&expand_required(&state, body)?)?;
    if state.vault.resolve(&id).await.map_err(vault_error)?.is_none() {
        return Err(ApiError::not_found(format!("Object of type Secret with ID={id} was not found")));
    }
    state.vault.store(&id, value).await.map_err(vault_error)?;
    tracing::info!(secret = %id, "secret replaced");
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn get(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if state.vault.resolve(&id).await.map_err(vault_error)?.is_none() {
        return Err(ApiError::not_found(format!("Object of type Secret with ID={id} was not found")));
    }
    let expanded = json!([{ "@id": id, "@type": [namespaces::edc("Secret")] }]);
    Ok(ok_json(compact(&state, expanded)?))
}

pub(crate) async fn delete(State(state): State<ManagementState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if !state.vault.delete(&id).await.map_err(vault_error)? {
        return Err(ApiError::not_found(format!("Object of type Secret with ID={id} was not found")));
    }
    tracing::info!(secret = %id, "secret deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}
