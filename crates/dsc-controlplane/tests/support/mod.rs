// SPDX-License-Identifier: Apache-2.0
//! A provider-and-consumer control plane on a temporary SQLite file: the services under test with a real policy
//! engine, an encrypted file vault, a manual clock and a data plane client that serves fixed transfer types.

#![allow(dead_code)]

use std::sync::Arc;

use dsc_controlplane::negotiation::{NegotiationProtocolService, NegotiationService, NegotiationSettings};
use dsc_controlplane::transfer::{DataFlowCallbackService, TransferProtocolService, TransferService, TransferSettings};
use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, Policy, PolicyType, Rule};
use dsc_domain::{
    Asset, ContractAgreement, ContractDefinition, Criterion, DataAddress, ManualClock, ParticipantAgent,
    PolicyDefinition, namespaces,
};
use dsc_policy::PolicyEngine;
use dsc_signaling::{DataPlaneClient, SignalingError, StartRequest};
use dsc_store::{NegotiationStore, Repository, SqlStore, StoreSettings};
use dsc_vault::{EncryptedFileVault, Vault, VaultKey};
use serde_json::json;
use tokio::sync::Notify;

/// This connector: provider of its offers, consumer of agreements it holds as assignee.
pub const SELF: &str = "did:web:self";
pub const CONSUMER: &str = "did:web:consumer";
pub const STRANGER: &str = "did:web:stranger";
pub const START: i64 = 1_700_000_000_000;

pub struct ControlPlane {
    pub store: Arc<SqlStore>,
    pub vault: Arc<dyn Vault>,
    pub clock: Arc<ManualClock>,
    pub negotiations: NegotiationService,
    pub negotiation_protocol: NegotiationProtocolService,
    pub transfers: TransferService,
    pub transfer_protocol: TransferProtocolService,
    pub flows: DataFlowCallbackService,
    _dir: tempfile::TempDir,
}

pub fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

pub fn agent(id: &str, bpn: &str) -> ParticipantAgent {
    ParticipantAgent::new(id).with_claim("bpn", json!(bpn))
}

/// `use`, constrained to one business partner number when `bpn` is given.
pub fn policy(bpn: Option<&str>) -> Policy {
    let mut policy = Policy::new(PolicyType::Set);
    let constraints = bpn.map_or_else(Vec::new, |bpn| {
        vec![Constraint::Atomic {
            left_operand: format!("{}BusinessPartnerNumber", namespaces::CX_POLICY),
            operator: ConstraintOperator::Eq,
            right_operand: json!(bpn),
        }]
    });
    let action = Action { action_type: namespaces::odrl("use"), included_in: None, refinements: vec![] };
    policy.permissions.push(Rule { action, constraints, duties: vec![] });
    policy
}

fn asset(id: &str, group: &str, address_type: &str) -> Asset {
    let edc = namespaces::edc;
    Asset {
        id: id.into(),
        created_at: 0,
        properties: [(edc("id"), json!(id)), (edc("group"), json!(group))].into_iter().collect(),
        private_properties: Default::default(),
        data_address: DataAddress { properties: [(edc("type"), json!(address_type))].into_iter().collect() },
    }
}

pub fn agreement(id: &str, provider: &str, consumer: &str, asset_id: &str) -> ContractAgreement {
    let mut policy = policy(None);
    policy.policy_type = PolicyType::Agreement;
    ContractAgreement {
        id: id.into(),
        provider_id: provider.into(),
        consumer_id: consumer.into(),
        contract_signing_date: START / 1000,
        asset_id: asset_id.into(),
        policy,
    }
}

/// An address with a credential, as a pull transfer's EDR carries one.
pub fn edr(token: &str) -> DataAddress {
    let edc = namespaces::edc;
    let properties = [(edc("type"), json!("https://w3id.org/idsa/v4.1/HTTP")), (edc("authorization"), json!(token))];
    DataAddress { properties: properties.into_iter().collect() }
}

struct Planes;

#[async_trait::async_trait]
impl DataPlaneClient for Planes {
    fn transfer_types(&self) -> Vec<String> {
        vec!["HttpData-PULL".into(), "HttpData-PUSH".into()]
    }
    async fn start(&self, _: &StartRequest) -> Result<Option<DataAddress>, SignalingError> {
        Ok(None)
    }
    async fn suspend(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), SignalingError> {
        Ok(())
    }
    async fn resume(&self, _: &str, _: &str) -> Result<Option<DataAddress>, SignalingError> {
        Ok(None)
    }
    async fn terminate(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), SignalingError> {
        Ok(())
    }
    async fn completed(&self, _: &str, _: &str) -> Result<(), SignalingError> {
        Ok(())
    }
}

impl ControlPlane {
    /// Assets `a1`, `a2` (group x) and `a3` (group y, a Kafka address); policies `open`, `only-bpn1`,
    /// `only-bpn2`; definitions `cd-open` (group x, open), `cd-access` (group x, access only BPNL2) and
    /// `cd-contract` (group x, contract only BPNL2, access open).
    pub async fn start() -> ControlPlane {
        let dir = ok(tempfile::tempdir());
        let url = format!("sqlite://{}/cp.db?mode=rwc", dir.path().display());
        let store = Arc::new(ok(SqlStore::connect(&StoreSettings::new(url)).await));
        for a in [asset("a1", "x", "HttpData"), asset("a2", "x", "HttpData"), asset("a3", "y", "AmazonS3")] {
            ok(Repository::create(store.as_ref(), &a).await);
        }
        for (id, bpn) in [("open", None), ("only-bpn1", Some("BPNL1")), ("only-bpn2", Some("BPNL2"))] {
            let definition = PolicyDefinition {
                id: id.into(),
                created_at: 0,
                policy: policy(bpn),
                private_properties: Default::default(),
            };
            ok(Repository::create(store.as_ref(), &definition).await);
        }
        let group_x = || vec![Criterion::new("group", dsc_domain::Operator::Eq, json!("x"))];
        for (id, access, contract) in
            [("cd-open", "open", "open"), ("cd-access", "only-bpn2", "open"), ("cd-contract", "open", "only-bpn2")]
        {
            let definition = ContractDefinition {
                id: id.into(),
                created_at: 0,
                access_policy_id: access.into(),
                contract_policy_id: contract.into(),
                assets_selector: group_x(),
                private_properties: Default::default(),
            };
            ok(Repository::create(store.as_ref(), &definition).await);
        }
        let key = ok(VaultKey::from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        let vault: Arc<dyn Vault> = Arc::new(ok(EncryptedFileVault::open(dir.path().join("vault.json"), key).await));
        let clock = ManualClock::starting_at(START);
        let engine = Arc::new(PolicyEngine::with_defaults());
        let (wake, transfer_wake) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let settings = NegotiationSettings::new(SELF, "http://self/api/v1/dsp/2025-1");
        let transfer_settings = TransferSettings::new(SELF, "http://self/api/v1/dsp/2025-1", "replica-test");
        let c: Arc<dyn dsc_domain::Clock> = clock.clone();
        ControlPlane {
            negotiations: NegotiationService::new(settings.clone(), store.clone(), wake.clone(), c.clone()),
            negotiation_protocol: NegotiationProtocolService::new(
                settings,
                store.clone(),
                store.clone(),
                store.clone(),
                store.clone(),
                engine.clone(),
                wake,
                c.clone(),
            ),
            transfers: TransferService::new(
                transfer_settings.clone(),
                store.clone(),
                store.clone(),
                vault.clone(),
                transfer_wake.clone(),
                c.clone(),
            ),
            transfer_protocol: TransferProtocolService::new(
                transfer_settings.clone(),
                store.clone(),
                store.clone(),
                store.clone(),
                Arc::new(Planes),
                vault.clone(),
                engine,
                transfer_wake.clone(),
                c.clone(),
            ),
            flows: DataFlowCallbackService::new(transfer_settings, store.clone(), vault.clone(), transfer_wake, c),
            store,
            vault,
            clock,
            _dir: dir,
        }
    }

    /// Records `agreement` as the outcome of a finalized negotiation: the store writes an agreement with the save
    /// that moves its negotiation past the states without one.
    pub async fn hold_agreement(&self, agreement: ContractAgreement) {
        use dsc_domain::{ContractNegotiation, ContractOfferId, NegotiationRole, NegotiationState, Offer};
        let role = if agreement.provider_id == SELF { NegotiationRole::Provider } else { NegotiationRole::Consumer };
        let counter_party =
            if role == NegotiationRole::Provider { &agreement.consumer_id } else { &agreement.provider_id };
        let id = format!("negotiation-of-{}", agreement.id);
        let offer = Offer { id: ContractOfferId::new("cd-open", &agreement.asset_id, "n"), policy: policy(None) };
        let negotiation = ContractNegotiation {
            id: id.clone(),
            correlation_id: Some(format!("peer-{id}")),
            counter_party_id: counter_party.clone(),
            counter_party_address: "http://peer/api/v1/dsp/2025-1".into(),
            protocol: "dataspace-protocol-http:2025-1".into(),
            role,
            state: NegotiationState::Requested,
            state_count: 1,
            pending: false,
            state_timestamp: START,
            error_detail: None,
            offers: vec![offer],
            agreement: None,
            callback_addresses: vec![],
            trace_context: None,
            created_at: START,
            updated_at: START,
        };
        ok(self.store.create_negotiation(&negotiation).await);
        force_negotiation(&self.store, &id, |n| {
            n.state = NegotiationState::Finalized;
            n.agreement = Some(agreement);
        })
        .await;
    }
}

/// Moves a process as its state machine would, under a lease of its own.
pub async fn force_transfer(store: &SqlStore, id: &str, change: impl FnOnce(&mut dsc_domain::TransferProcess)) {
    use dsc_store::TransferStore;
    let mut transfer = ok(store.lease_transfer(id, "state-machine", 1_000).await).unwrap_or_else(|| panic!("{id}"));
    change(&mut transfer);
    ok(store.save_transfer(&transfer, "state-machine").await);
}

pub async fn force_negotiation(store: &SqlStore, id: &str, change: impl FnOnce(&mut dsc_domain::ContractNegotiation)) {
    let mut negotiation =
        ok(store.lease_negotiation(id, "state-machine", 1_000).await).unwrap_or_else(|| panic!("{id}"));
    change(&mut negotiation);
    ok(store.save_negotiation(&negotiation, "state-machine").await);
}
