// SPDX-License-Identifier: Apache-2.0
//! The endpoint table: one row per route, used for routing and for the OpenAPI document.

use axum::routing::{MethodRouter, delete, get, post, put};
use dsc_domain::{Asset, ContractDefinition, PolicyDefinition};
use serde_json::Value;

use crate::ManagementState;
use crate::examples::*;
use crate::resources::{self as r};
use crate::{catalog, negotiations as n, secrets, transfers as t};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
}

/// What a successful call returns.
#[derive(Clone, Copy)]
pub(crate) enum Success {
    IdResponse,
    Entity,
    EntityList,
    NoContent,
}

pub(crate) struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub request_example: Option<Value>,
    /// The body may be left out (a terminate's reason, say); otherwise a documented body is required.
    pub body_optional: bool,
    /// Answers besides the ones every endpoint of its kind gives (see `openapi::operation`).
    pub also_answers: Vec<(&'static str, &'static str)>,
    /// Query parameters: name and description (all optional booleans today).
    pub flags: Vec<(&'static str, &'static str)>,
    pub success: Success,
    pub handler: MethodRouter<ManagementState>,
}

impl Endpoint {
    fn answers(mut self, status: &'static str, description: &'static str) -> Self {
        self.also_answers.push((status, description));
        self
    }

    fn optional_body(mut self, example: Value) -> Self {
        self.request_example = Some(example);
        self.body_optional = true;
        self
    }

    fn flag(mut self, name: &'static str, description: &'static str) -> Self {
        self.flags.push((name, description));
        self
    }
}

fn endpoint(
    method: Method,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    request_example: Option<Value>,
    success: Success,
    handler: MethodRouter<ManagementState>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        tag,
        summary,
        request_example,
        body_optional: false,
        also_answers: Vec::new(),
        flags: Vec::new(),
        success,
        handler,
    }
}

const STATE_CONFLICT: &str = "Not allowed in the entity's current state (the message names it)";

pub(crate) fn all() -> Vec<Endpoint> {
    use Method::*;
    use Success::*;
    vec![
        endpoint(
            Post,
            "/v3/assets",
            "Asset",
            "Create an asset",
            Some(asset_example()),
            IdResponse,
            post(r::create::<Asset>),
        ),
        endpoint(
            Put,
            "/v3/assets",
            "Asset",
            "Replace an asset (the body names it with @id)",
            Some(asset_example()),
            NoContent,
            put(r::update_from_body::<Asset>),
        ),
        endpoint(Post, "/v3/assets/request", "Asset", "Query assets", None, EntityList, post(r::query::<Asset>))
            .optional_body(query_example()),
        endpoint(Get, "/v3/assets/{id}", "Asset", "Get an asset", None, Entity, get(r::get::<Asset>)),
        endpoint(
            Delete,
            "/v3/assets/{id}",
            "Asset",
            "Delete an asset (409 while a contract definition names it)",
            None,
            NoContent,
            delete(r::delete::<Asset>),
        ),
        endpoint(
            Post,
            "/v3/policydefinitions",
            "Policy Definition",
            "Create a policy definition",
            Some(policy_example()),
            IdResponse,
            post(r::create::<PolicyDefinition>),
        ),
        endpoint(
            Post,
            "/v3/policydefinitions/request",
            "Policy Definition",
            "Query policy definitions",
            None,
            EntityList,
            post(r::query::<PolicyDefinition>),
        )
        .optional_body(query_example()),
        endpoint(
            Get,
            "/v3/policydefinitions/{id}",
            "Policy Definition",
            "Get a policy definition",
            None,
            Entity,
            get(r::get::<PolicyDefinition>),
        ),
        endpoint(
            Put,
            "/v3/policydefinitions/{id}",
            "Policy Definition",
            "Replace a policy definition",
            Some(policy_example()),
            NoContent,
            put(r::update_at_path::<PolicyDefinition>),
        ),
        endpoint(
            Delete,
            "/v3/policydefinitions/{id}",
            "Policy Definition",
            "Delete a policy definition (409 while a contract definition uses it)",
            None,
            NoContent,
            delete(r::delete::<PolicyDefinition>),
        ),
        endpoint(
            Post,
            "/v3/contractdefinitions",
            "Contract Definition",
            "Create a contract definition",
            Some(contract_definition_example()),
            IdResponse,
            post(r::create::<ContractDefinition>),
        ),
        endpoint(
            Put,
            "/v3/contractdefinitions",
            "Contract Definition",
            "Replace a contract definition (the body names it with @id)",
            Some(contract_definition_example()),
            NoContent,
            put(r::update_from_body::<ContractDefinition>),
        ),
        endpoint(
            Post,
            "/v3/contractdefinitions/request",
            "Contract Definition",
            "Query contract definitions",
            None,
            EntityList,
            post(r::query::<ContractDefinition>),
        )
        .optional_body(query_example()),
        endpoint(
            Get,
            "/v3/contractdefinitions/{id}",
            "Contract Definition",
            "Get a contract definition",
            None,
            Entity,
            get(r::get::<ContractDefinition>),
        ),
        endpoint(
            Delete,
            "/v3/contractdefinitions/{id}",
            "Contract Definition",
            "Delete a contract definition",
            None,
            NoContent,
            delete(r::delete::<ContractDefinition>),
        ),
        endpoint(
            Post,
            "/v3/catalog/request",
            "Catalog",
            "Request another connector's catalog (answered with the peer's DSP message as sent)",
            Some(catalog_request_example()),
            Entity,
            post(catalog::request_catalog),
        )
        .answers("502", "The counter-party could not be reached or answered with an error"),
        endpoint(
            Post,
            "/v3/catalog/dataset/request",
            "Catalog",
            "Request one dataset of another connector",
            Some(dataset_request_example()),
            Entity,
            post(catalog::request_dataset),
        )
        .answers("502", "The counter-party could not be reached or answered with an error"),
        endpoint(
            Post,
            "/v3/contractnegotiations",
            "Contract Negotiation",
            "Start a negotiation for a catalog offer",
            Some(contract_request_example()),
            IdResponse,
            post(n::initiate),
        ),
        endpoint(
            Post,
            "/v3/contractnegotiations/offers",
            "Contract Negotiation",
            "Provider: start a negotiation with an offer of an asset on a policy to a consumer (counterPartyAddress, counterPartyId, assetId, policyId; returns the negotiation id)",
            Some(offer_first_example()),
            IdResponse,
            post(n::offer_first),
        ),
        endpoint(
            Post,
            "/v3/contractnegotiations/request",
            "Contract Negotiation",
            "Query negotiations",
            None,
            EntityList,
            post(n::query),
        )
        .optional_body(query_example()),
        endpoint(
            Get,
            "/v3/contractnegotiations/{id}",
            "Contract Negotiation",
            "Get a negotiation",
            None,
            Entity,
            get(n::get),
        ),
        endpoint(
            Get,
            "/v3/contractnegotiations/{id}/state",
            "Contract Negotiation",
            "Get a negotiation's state",
            None,
            Entity,
            get(n::get_state),
        ),
        endpoint(
            Get,
            "/v3/contractnegotiations/{id}/agreement",
            "Contract Negotiation",
            "Get the agreement of a negotiation",
            None,
            Entity,
            get(n::get_agreement),
        ),
        endpoint(
            Post,
            "/v3/contractnegotiations/{id}/offer",
            "Contract Negotiation",
            "Provider: answer a contract request that waits for approval with an offer (body: optional policyId; the current terms without)",
            None,
            NoContent,
            post(n::offer),
        )
        .optional_body(decision_example())
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/contractnegotiations/{id}/accept",
            "Contract Negotiation",
            "Consumer: accept the provider's offer that waits for the operator",
            None,
            NoContent,
            post(n::accept),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/contractnegotiations/{id}/verify",
            "Contract Negotiation",
            "Consumer: verify an agreement that waits for the operator (dsc.negotiation.consumer.offers = operator)",
            None,
            NoContent,
            post(n::verify),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/contractnegotiations/{id}/counter",
            "Contract Negotiation",
            "Consumer: answer the provider's offer with a counter-request (body: optional policyId; the first terms without)",
            None,
            NoContent,
            post(n::counter),
        )
        .optional_body(decision_example())
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/contractnegotiations/{id}/approve",
            "Contract Negotiation",
            "Provider: approve a contract request (or an accepted offer) that waits for approval (an asset with approval \"negotiation\"); reject it with terminate",
            None,
            NoContent,
            post(n::approve),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/contractnegotiations/{id}/terminate",
            "Contract Negotiation",
            "Terminate a negotiation",
            None,
            NoContent,
            post(n::terminate),
        )
        .optional_body(reason_example())
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/contractagreements/request",
            "Contract Agreement",
            "Query agreements",
            None,
            EntityList,
            post(n::query_agreements),
        )
        .optional_body(query_example()),
        endpoint(
            Get,
            "/v3/contractagreements/{id}",
            "Contract Agreement",
            "Get an agreement",
            None,
            Entity,
            get(n::get_contract_agreement),
        ),
        endpoint(
            Get,
            "/v3/contractagreements/{id}/negotiation",
            "Contract Agreement",
            "Get the negotiation that produced an agreement",
            None,
            Entity,
            get(n::negotiation_of_agreement),
        ),
        endpoint(
            Post,
            "/v3/transferprocesses",
            "Transfer Process",
            "Request a transfer under an agreement",
            Some(transfer_request_example()),
            IdResponse,
            post(t::initiate),
        )
        .answers("404", "No agreement with that contractId"),
        endpoint(
            Post,
            "/v3/transferprocesses/request",
            "Transfer Process",
            "Query transfers",
            None,
            EntityList,
            post(t::query),
        )
        .optional_body(query_example()),
        endpoint(Get, "/v3/transferprocesses/{id}", "Transfer Process", "Get a transfer", None, Entity, get(t::get)),
        endpoint(
            Get,
            "/v3/transferprocesses/{id}/state",
            "Transfer Process",
            "Get a transfer's state",
            None,
            Entity,
            get(t::get_state),
        ),
        endpoint(
            Post,
            "/v3/transferprocesses/{id}/start",
            "Transfer Process",
            "Provider: start a requested transfer that waits for its operator (an asset with approval \"transfer\")",
            None,
            NoContent,
            post(t::start),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/transferprocesses/{id}/complete",
            "Transfer Process",
            "Complete a started transfer (either side; the counter-party is told)",
            None,
            NoContent,
            post(t::complete),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/transferprocesses/{id}/suspend",
            "Transfer Process",
            "Suspend a started transfer (access stops at once)",
            None,
            NoContent,
            post(t::suspend),
        )
        .optional_body(reason_example())
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/transferprocesses/{id}/resume",
            "Transfer Process",
            "Resume a transfer this connector suspended",
            None,
            NoContent,
            post(t::resume),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/transferprocesses/{id}/terminate",
            "Transfer Process",
            "Terminate a transfer",
            None,
            NoContent,
            post(t::terminate),
        )
        .optional_body(reason_example())
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/transferprocesses/{id}/deprovision",
            "Transfer Process",
            "Deprovision an ended transfer (pull transfers provision nothing)",
            None,
            NoContent,
            post(t::deprovision),
        )
        .answers("409", STATE_CONFLICT),
        endpoint(
            Post,
            "/v3/edrs",
            "EDR",
            "Negotiate a contract and start an HttpData-PULL transfer once it is FINALIZED (returns the negotiation id)",
            Some(contract_request_example()),
            IdResponse,
            post(n::initiate_edr),
        ),
        endpoint(
            Post,
            "/v3/edrs/request",
            "EDR",
            "Query the EDRs of started consumer transfers",
            None,
            EntityList,
            post(t::query_edrs),
        )
        .optional_body(query_example()),
        endpoint(
            Get,
            "/v3/edrs/{id}/dataaddress",
            "EDR",
            "Get the EDR of a transfer (?auto_refresh=true renews an expiring token first)",
            None,
            Entity,
            get(t::edr_data_address),
        )
        .flag("auto_refresh", "Renew the token first when it is about to expire")
        .answers("503", "The token could not be refreshed, or the database is unavailable"),
        endpoint(
            Delete,
            "/v3/edrs/{id}",
            "EDR",
            "Delete an EDR (terminates the transfer)",
            None,
            NoContent,
            delete(t::delete_edr),
        ),
        endpoint(
            Post,
            "/v3/secrets",
            "Secret",
            "Store a secret in the vault",
            Some(secret_example()),
            IdResponse,
            post(secrets::create),
        ),
        endpoint(
            Put,
            "/v3/secrets",
            "Secret",
            "Replace a secret",
            Some(secret_example()),
            NoContent,
            put(secrets::update),
        ),
        endpoint(
            Get,
            "/v3/secrets/{id}",
            "Secret",
            "Check that a secret exists (the value is never returned)",
            None,
            Entity,
            get(secrets::get),
        ),
        endpoint(Delete, "/v3/secrets/{id}", "Secret", "Delete a secret", None, NoContent, delete(secrets::delete)),
    ]
}
