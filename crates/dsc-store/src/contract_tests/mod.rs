// SPDX-License-Identifier: Apache-2.0
//! The store contract: every backend must pass these, unchanged. Each function gets a fresh, empty store.
//!
//! One file per area: [`entities`] (assets, policies, contract definitions, queries), [`negotiations`] (leases,
//! claims, events), [`transfers`] (transfer processes, data flows), [`singletons`] (roles one replica has at a time). A plug-in's own tables have their suite in the
//! plug-in's crate.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod data_planes;
mod entities;
mod negotiations;
mod singletons;
mod transfers;

pub use data_planes::*;
pub use entities::*;
pub use negotiations::*;
pub use singletons::*;
pub use transfers::*;

use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, Policy, PolicyType, Rule};
use dsc_domain::{
    Asset, ContractDefinition, Criterion, DataAddress, Operator, PolicyDefinition, Properties, QuerySpec, SortOrder,
    namespaces,
};
use serde_json::{Value, json};

use crate::{
    CallbackOutbox, ContractDefinitionStore, DataFlowStore, NegotiationStore, Repository, StoreError, TransferStore,
};
use dsc_domain::{ContractAgreement, ContractNegotiation, ContractOfferId, NegotiationRole, NegotiationState, Offer};

pub trait ContractStore:
    Repository<Asset>
    + Repository<PolicyDefinition>
    + ContractDefinitionStore
    + NegotiationStore
    + CallbackOutbox
    + TransferStore
    + DataFlowStore
{
}
impl<
    T: Repository<Asset>
        + Repository<PolicyDefinition>
        + ContractDefinitionStore
        + NegotiationStore
        + CallbackOutbox
        + TransferStore
        + DataFlowStore,
> ContractStore for T
{
}

fn props(pairs: &[(&str, Value)]) -> Properties {
    pairs.iter().map(|(k, v)| (namespaces::edc(k), v.clone())).collect()
}

pub fn asset(id: &str, created_at: i64, properties: &[(&str, Value)]) -> Asset {
    let mut properties = props(properties);
    properties.insert(namespaces::edc("id"), json!(id));
    Asset {
        id: id.to_string(),
        created_at,
        properties,
        private_properties: props(&[("owner", json!(format!("team-{id}")))]),
        data_address: DataAddress {
            properties: props(&[("type", json!("HttpData")), ("baseUrl", json!("https://backend.example"))]),
        },
    }
}

pub fn policy_definition(id: &str, created_at: i64) -> PolicyDefinition {
    let mut policy = Policy::new(PolicyType::Set);
    policy.permissions.push(Rule {
        action: Action { action_type: namespaces::odrl("use"), included_in: None, refinements: vec![] },
        constraints: vec![Constraint::Atomic {
            left_operand: "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement".into(),
            operator: ConstraintOperator::Eq,
            right_operand: json!("DataExchangeGovernance:1.0"),
        }],
        duties: vec![],
    });
    PolicyDefinition { id: id.to_string(), created_at, policy, private_properties: Properties::new() }
}

pub fn contract_definition(
    id: &str,
    created_at: i64,
    access: &str,
    contract: &str,
    selector: Vec<Criterion>,
) -> ContractDefinition {
    ContractDefinition {
        id: id.to_string(),
        created_at,
        access_policy_id: access.to_string(),
        contract_policy_id: contract.to_string(),
        assets_selector: selector,
        private_properties: Properties::new(),
    }
}

fn query(criteria: Vec<Criterion>) -> QuerySpec {
    QuerySpec { filter_expression: criteria, ..QuerySpec::default() }
}

fn ids<E>(entities: &[E], id: impl Fn(&E) -> &str) -> Vec<String> {
    entities.iter().map(|e| id(e).to_string()).collect()
}

async fn asset_ids(store: &impl ContractStore, spec: QuerySpec) -> Vec<String> {
    let found: Vec<Asset> = Repository::<Asset>::query(store, &spec).await.expect("query failed");
    ids(&found, |a| &a.id)
}
