// SPDX-License-Identifier: Apache-2.0
//! Handlers shared by assets, policy definitions and contract definitions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dsc_controlplane::{EntityService, ManagedEntity};
use dsc_domain::{Asset, ContractDefinition, PolicyDefinition, Violation};
use dsc_jsonld::expanded::Node;
use dsc_transform::Violations;
use dsc_web::{ApiError, JsonBody};
use serde_json::Value;

use crate::ManagementState;
use crate::edge::{self, compact, expand, expand_required, id_response, ok_json, service_error};

pub(crate) trait ApiResource: ManagedEntity {
    fn from_expanded(node: &Node, state: &ManagementState) -> Result<Self, Violations>;
    fn to_expanded(&self) -> Value;
    fn set_id(&mut self, id: String);
    fn service(state: &ManagementState) -> &EntityService<Self>;
}

impl ApiResource for Asset {
    fn from_expanded(node: &Node, state: &ManagementState) -> Result<Self, Violations> {
        dsc_transform::asset::asset_from_expanded(node, &state.address_validators)
    }
    fn to_expanded(&self) -> Value {
        dsc_transform::asset::asset_to_expanded(self)
    }
    fn set_id(&mut self, id: String) {
        self.properties.insert(dsc_domain::namespaces::edc("id"), Value::String(id.clone()));
        self.id = id;
    }
    fn service(state: &ManagementState) -> &EntityService<Self> {
        &state.assets
    }
}

impl ApiResource for PolicyDefinition {
    fn from_expanded(node: &Node, _: &ManagementState) -> Result<Self, Violations> {
        dsc_transform::policy_definition::policy_definition_from_expanded(node)
    }
    fn to_expanded(&self) -> Value {
        dsc_transform::policy_definition::policy_definition_to_expanded(self)
    }
    fn set_id(&mut self, id: String) {
        self.id = id;
    }
    fn service(state: &ManagementState) -> &EntityService<Self> {
        &state.policy_definitions
    }
}

impl ApiResource for ContractDefinition {
    fn from_expanded(node: &Node, _: &ManagementState) -> Result<Self, Violations> {
        dsc_transform::contract_definition::contract_definition_from_expanded(node)
    }
    fn to_expanded(&self) -> Value {
        dsc_transform::contract_definition::contract_definition_to_expanded(self)
    }
    fn set_id(&mut self, id: String) {
        self.id = id;
    }
    fn service(state: &ManagementState) -> &EntityService<Self> {
        &state.contract_definitions
    }
}

fn read<R: ApiResource>(node: &Node, state: &ManagementState) -> Result<R, ApiError> {
    R::from_expanded(node, state).map_err(ApiError::validation)
}

pub(crate) async fn create<R: ApiResource>(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    let entity: R = read(&node, &state)?;
    let created = R::service(&state).create(entity).await.map_err(service_error)?;
    id_response(&state, created.id(), created.created_at())
}

pub(crate) async fn get<R: ApiResource>(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let entity: R = R::service(&state).find(&id).await.map_err(service_error)?;
    Ok(ok_json(compact(&state, entity.to_expanded())?))
}

pub(crate) async fn query<R: ApiResource>(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand(&state, body)?;
    let spec = dsc_transform::query::query_spec_from_expanded(node.as_ref()).map_err(ApiError::validation)?;
    let found = R::service(&state).query(&spec).await.map_err(service_error)?;
    // EDC gives every element of a query result its own @context.
    let items = found.iter().map(|entity| compact(&state, entity.to_expanded())).collect::<Result<Vec<_>, _>>()?;
    Ok(ok_json(Value::Array(items)))
}

/// `PUT` with the id in the body (assets, contract definitions).
pub(crate) async fn update_from_body<R: ApiResource>(
    State(state): State<ManagementState>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    if !node.contains_key("@id") {
        return Err(ApiError::validation(vec![Violation::mandatory_value("@id")]));
    }
    let entity: R = read(&node, &state)?;
    R::service(&state).update(entity).await.map_err(service_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /{id}` (policy definitions): the path names the entity.
pub(crate) async fn update_at_path<R: ApiResource>(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let node = expand_required(&state, body)?;
    if let Some(body_id) = dsc_jsonld::expanded::id(&node)
        && body_id != id
    {
        return Err(ApiError::validation(vec![
            Violation::new(format!("@id '{body_id}' in the body differs from '{id}' in the path"), "@id")
                .with_value(Value::String(body_id.to_string())),
        ]));
    }
    let mut entity: R = read(&node, &state)?;
    entity.set_id(id);
    R::service(&state).update(entity).await.map_err(service_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn delete<R: ApiResource>(
    State(state): State<ManagementState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    R::service(&state).delete(&id).await.map_err(edge::service_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
