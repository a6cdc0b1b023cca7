// SPDX-License-Identifier: Apache-2.0
//! The negotiation service: API calls (consumer side) and inbound protocol messages (both roles).

use std::sync::Arc;

use dsc_domain::odrl::{Policy, PolicyType};
use dsc_domain::{
    Asset, ContractAgreement, ContractDefinition, ContractNegotiation, ContractOfferId, Criterion, NegotiationRole,
    NegotiationState, Offer, Operator, ParticipantAgent, PolicyDefinition, QuerySpec,
};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_store::{NegotiationStore, Repository, StoreError};
use tokio::sync::Notify;

use super::NegotiationSettings;
use crate::protocol::Counterparty;
use crate::{ServiceError, now_millis};

/// Why an inbound protocol message is refused; the DSP binding maps these to status codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Unknown process, or one that belongs to another participant (404, as the protocol asks).
    #[error("negotiation '{0}' not found")]
    NotFound(String),
    /// The message does not fit the process's state (400).
    #[error("{0}")]
    InvalidState(String),
    /// The request cannot be granted (400): unknown offer, policy not satisfied, malformed content.
    #[error("{0}")]
    Refused(String),
    /// Try again later (503).
    #[error("{0}")]
    Unavailable(String),
}

impl From<StoreError> for ProtocolError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LeaseHeld { .. } | StoreError::Unavailable(_) => ProtocolError::Unavailable(error.to_string()),
            other => ProtocolError::Unavailable(format!("store: {other}")),
        }
    }
}

pub struct NegotiationService {
    settings: NegotiationSettings,
    store: Arc<dyn NegotiationStore>,
    definitions: Arc<dyn Repository<ContractDefinition>>,
    policies: Arc<dyn Repository<PolicyDefinition>>,
    assets: Arc<dyn Repository<Asset>>,
    engine: Arc<PolicyEngine>,
    wake: Arc<Notify>,
}

/// Lease length for inbound handlers and API calls: they finish within one request.
const HANDLER_LEASE_MS: i64 = 10_000;

impl NegotiationService {
    pub fn new(
        settings: NegotiationSettings,
        store: Arc<dyn NegotiationStore>,
        definitions: Arc<dyn Repository<ContractDefinition>>,
        policies: Arc<dyn Repository<PolicyDefinition>>,
        assets: Arc<dyn Repository<Asset>>,
        engine: Arc<PolicyEngine>,
        wake: Arc<Notify>,
    ) -> Self {
        NegotiationService { settings, store, definitions, policies, assets, engine, wake }
    }

    fn holder(&self) -> String {
        format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4())
    }

    // ---- Management API (consumer side) ----

    /// Starts a negotiation for `offer` with `peer`; the manager sends the request.
    pub async fn initiate(
        &self,
        peer: Counterparty,
        offer: Offer,
        callback_addresses: Vec<dsc_domain::CallbackAddress>,
    ) -> Result<ContractNegotiation, ServiceError> {
        let now = now_millis();
        let mut negotiation = ContractNegotiation {
            id: uuid::Uuid::new_v4().to_string(),
            correlation_id: None,
            counter_party_id: peer.id,
            counter_party_address: peer.address,
            protocol: peer.protocol,
            role: NegotiationRole::Consumer,
            state: NegotiationState::Initial,
            state_count: 1,
            state_timestamp: now,
            error_detail: None,
            offers: vec![offer],
            agreement: None,
            callback_addresses,
            created_at: now,
            updated_at: now,
        };
        negotiation.transition(NegotiationState::Requesting, now).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store.create_negotiation(&negotiation).await?;
        tracing::info!(negotiation = %negotiation.id, counter_party = %negotiation.counter_party_id, "negotiation initiated");
        self.wake.notify_one();
        Ok(negotiation)
    }

    /// Asks for termination; the manager tells the counter-party.
    pub async fn terminate(&self, id: &str, reason: &str) -> Result<(), ServiceError> {
        let holder = self.holder();
        let mut negotiation = self
            .store
            .lease_negotiation(id, &holder, HANDLER_LEASE_MS)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "ContractNegotiation", id: id.to_string() })?;
        if negotiation.state.is_terminal() {
            let _ = self.store.save_negotiation(&negotiation, &holder).await;
            return Err(ServiceError::AlreadyExists {
                kind: "ContractNegotiation",
                id: format!("{id} (already {})", negotiation.state.name()),
            });
        }
        negotiation.error_detail = Some(reason.to_string());
        negotiation
            .transition(NegotiationState::Terminating, now_millis())
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store.save_negotiation(&negotiation, &holder).await?;
        self.wake.notify_one();
        Ok(())
    }

    pub async fn find(&self, id: &str) -> Result<ContractNegotiation, ServiceError> {
        self.store
            .find_negotiation(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "ContractNegotiation", id: id.to_string() })
    }

    pub async fn query(&self, spec: &QuerySpec) -> Result<Vec<ContractNegotiation>, ServiceError> {
        Ok(self.store.query_negotiations(spec).await?)
    }

    pub async fn agreement(&self, id: &str) -> Result<ContractAgreement, ServiceError> {
        self.store
            .find_agreement(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "ContractAgreement", id: id.to_string() })
    }

    pub async fn query_agreements(&self, spec: &QuerySpec) -> Result<Vec<ContractAgreement>, ServiceError> {
        Ok(self.store.query_agreements(spec).await?)
    }

    /// The negotiation that produced an agreement.
    pub async fn negotiation_of_agreement(&self, agreement_id: &str) -> Result<ContractNegotiation, ServiceError> {
        let spec = QuerySpec {
            filter_expression: vec![Criterion::new("contractAgreementId", Operator::Eq, agreement_id.into())],
            ..QuerySpec::default()
        };
        self.store
            .query_negotiations(&spec)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::NotFound { kind: "ContractAgreement", id: agreement_id.to_string() })
    }

    // ---- Inbound protocol messages ----

    /// A negotiation as the counter-party may see it.
    pub async fn for_peer(&self, peer: &ParticipantAgent, id: &str) -> Result<ContractNegotiation, ProtocolError> {
        match self.store.find_negotiation(id).await? {
            Some(negotiation) if negotiation.counter_party_id == peer.id => Ok(negotiation),
            _ => Err(ProtocolError::NotFound(id.to_string())),
        }
    }

    /// Provider: an initial ContractRequestMessage. Idempotent per (consumer, consumerPid).
    pub async fn requested(
        &self,
        peer: &ParticipantAgent,
        consumer_pid: &str,
        callback_address: &str,
        offer_id: &str,
        protocol: &str,
    ) -> Result<ContractNegotiation, ProtocolError> {
        if let Some(existing) =
            self.store.find_negotiation_by_correlation(NegotiationRole::Provider, &peer.id, consumer_pid).await?
        {
            return Ok(existing);
        }
        let offer_id_parsed = ContractOfferId::parse(offer_id)
            .ok_or_else(|| ProtocolError::Refused(format!("'{offer_id}' is not an offer id of this connector")))?;
        let definition = self.definitions.find(&offer_id_parsed.definition_id).await?.ok_or_else(|| {
            ProtocolError::Refused(format!("offer '{offer_id}' does not match any contract definition"))
        })?;
        let mut selector = definition.assets_selector.clone();
        selector.push(Criterion::new("id", Operator::Eq, offer_id_parsed.asset_id.clone().into()));
        let selected = self.assets.query(&QuerySpec { filter_expression: selector, ..QuerySpec::default() }).await?;
        if selected.is_empty() {
            return Err(ProtocolError::Refused(format!("offer '{offer_id}' does not match any contract definition")));
        }
        let access = self.policies.find(&definition.access_policy_id).await?;
        let contract = self.policies.find(&definition.contract_policy_id).await?;
        let (Some(access), Some(contract)) = (access, contract) else {
            return Err(ProtocolError::Refused(format!("offer '{offer_id}' is not available")));
        };
        self.engine
            .evaluate(&access.policy, &PolicyContext::new(Scope::Catalog, peer.clone()))
            .map_err(|violation| ProtocolError::Refused(violation.to_string()))?;
        self.engine
            .evaluate(&contract.policy, &PolicyContext::new(Scope::ContractNegotiation, peer.clone()))
            .map_err(|violation| ProtocolError::Refused(violation.to_string()))?;

        // The provider trusts its own definition, never the policy the consumer sent.
        let mut policy = contract.policy.clone();
        policy.policy_type = PolicyType::Offer;
        policy.uid = Some(offer_id.to_string());
        policy.target = Some(offer_id_parsed.asset_id.clone());
        policy.assigner = Some(self.settings.participant_id.clone());
        let now = now_millis();
        let mut negotiation = ContractNegotiation {
            id: uuid::Uuid::new_v4().to_string(),
            correlation_id: Some(consumer_pid.to_string()),
            counter_party_id: peer.id.clone(),
            counter_party_address: callback_address.trim_end_matches('/').to_string(),
            protocol: protocol.to_string(),
            role: NegotiationRole::Provider,
            state: NegotiationState::Initial,
            state_count: 1,
            state_timestamp: now,
            error_detail: None,
            offers: vec![Offer { id: offer_id_parsed, policy }],
            agreement: None,
            callback_addresses: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        negotiation
            .transition(NegotiationState::Requested, now)
            .map_err(|e| ProtocolError::InvalidState(e.to_string()))?;
        match self.store.create_negotiation(&negotiation).await {
            Ok(()) => {}
            // The same request arrived twice at once: answer with the first one's process.
            Err(StoreError::AlreadyExists { .. }) => {
                return self
                    .store
                    .find_negotiation_by_correlation(NegotiationRole::Provider, &peer.id, consumer_pid)
                    .await?
                    .ok_or_else(|| ProtocolError::Unavailable("concurrent duplicate request".into()));
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(negotiation = %negotiation.id, consumer = %peer.id, "contract request received");
        self.wake.notify_one();
        Ok(negotiation)
    }

    /// Applies `change` to negotiation `id` of `role` owned by `peer` under a lease, then saves and wakes the
    /// manager. `correlation` is the counter-party's process id as the message names it.
    async fn update<F>(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        id: &str,
        correlation: &str,
        change: F,
    ) -> Result<ContractNegotiation, ProtocolError>
    where
        F: FnOnce(&mut ContractNegotiation) -> Result<(), ProtocolError>,
    {
        let holder = self.holder();
        let mut negotiation = match self.lease_patiently(id, &holder).await? {
            Some(n) if n.role == role && n.counter_party_id == peer.id => n,
            Some(n) => {
                let _ = self.store.save_negotiation(&n, &holder).await;
                return Err(ProtocolError::NotFound(id.to_string()));
            }
            None => return Err(ProtocolError::NotFound(id.to_string())),
        };
        let result = match &negotiation.correlation_id {
            Some(known) if known != correlation => {
                Err(ProtocolError::InvalidState(format!("the process ids do not match negotiation '{id}'")))
            }
            _ => change(&mut negotiation),
        };
        match result {
            Ok(()) => {
                self.store.save_negotiation(&negotiation, &holder).await?;
                self.wake.notify_one();
                Ok(negotiation)
            }
            Err(error) => {
                // Release the lease unchanged.
                let unchanged = self.store.find_negotiation(id).await?.unwrap_or(negotiation);
                let _ = self.store.save_negotiation(&unchanged, &holder).await;
                Err(error)
            }
        }
    }

    /// Takes the lease, waiting briefly while the state machine holds it (it does so for one message send), so a
    /// peer's message rarely has to be answered with 503 and retried.
    async fn lease_patiently(&self, id: &str, holder: &str) -> Result<Option<ContractNegotiation>, ProtocolError> {
        let mut attempt = 0;
        loop {
            match self.store.lease_negotiation(id, holder, HANDLER_LEASE_MS).await {
                Err(StoreError::LeaseHeld { .. }) if attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
                }
                other => return other.map_err(ProtocolError::from),
            }
        }
    }

    fn move_to(negotiation: &mut ContractNegotiation, next: NegotiationState) -> Result<(), ProtocolError> {
        negotiation.transition(next, now_millis()).map_err(|e| ProtocolError::InvalidState(e.to_string()))
    }

    /// Provider: the consumer verified the agreement.
    pub async fn verified(
        &self,
        peer: &ParticipantAgent,
        provider_pid: &str,
        consumer_pid: &str,
    ) -> Result<(), ProtocolError> {
        self.update(peer, NegotiationRole::Provider, provider_pid, consumer_pid, |n| {
            // A repeated verification (the consumer did not see our answer) is acknowledged again.
            if matches!(
                n.state,
                NegotiationState::Verified | NegotiationState::Finalizing | NegotiationState::Finalized
            ) {
                return Ok(());
            }
            // The consumer can only verify an agreement it received: ours was delivered even if a crash (or a
            // race with our own save) kept us from recording that.
            if n.state == NegotiationState::Agreeing && n.agreement.is_some() {
                Self::move_to(n, NegotiationState::Agreed)?;
            }
            if n.state != NegotiationState::Agreed {
                return Err(ProtocolError::InvalidState(format!(
                    "a verification is only accepted after the agreement (negotiation is {})",
                    n.state.name()
                )));
            }
            Self::move_to(n, NegotiationState::Verified)
        })
        .await
        .map(|_| ())
    }

    /// Consumer: the provider sent the agreement. It must come from the offer's assigner and carry exactly the
    /// policy the consumer asked for.
    pub async fn agreed(
        &self,
        peer: &ParticipantAgent,
        consumer_pid: &str,
        provider_pid: &str,
        agreement: ContractAgreement,
    ) -> Result<(), ProtocolError> {
        self.update(peer, NegotiationRole::Consumer, consumer_pid, provider_pid, |n| {
            // The same agreement again (the provider did not see our answer): acknowledge, change nothing.
            if n.agreement.as_ref().is_some_and(|known| known.id == agreement.id) {
                return Ok(());
            }
            // The provider may answer before our own request's outcome was saved (a crash in between).
            if n.state == NegotiationState::Requesting {
                Self::move_to(n, NegotiationState::Requested)?;
            }
            if n.state != NegotiationState::Requested {
                return Err(ProtocolError::InvalidState(format!(
                    "an agreement is only accepted for a requested negotiation (negotiation is {})",
                    n.state.name()
                )));
            }
            if n.correlation_id.is_none() {
                n.correlation_id = Some(provider_pid.to_string());
            }
            if agreement.provider_id != peer.id {
                return Err(ProtocolError::Refused("the agreement's assigner is not the sender".into()));
            }
            let offered = n.last_offer().map(|offer| &offer.policy);
            if !offered.is_some_and(|offered| same_terms(offered, &agreement.policy)) {
                n.error_detail = Some("the agreement's policy differs from the offer".into());
                return Self::move_to(n, NegotiationState::Terminating);
            }
            n.agreement = Some(agreement);
            Self::move_to(n, NegotiationState::Agreed)?;
            Self::move_to(n, NegotiationState::Verifying)
        })
        .await
        .map(|_| ())
    }

    /// Consumer: the provider finalized the negotiation.
    pub async fn finalized(
        &self,
        peer: &ParticipantAgent,
        consumer_pid: &str,
        provider_pid: &str,
    ) -> Result<(), ProtocolError> {
        self.update(peer, NegotiationRole::Consumer, consumer_pid, provider_pid, |n| {
            if n.state == NegotiationState::Finalized {
                return Ok(());
            }
            // The verification's outcome may not have been saved before a crash.
            if n.state == NegotiationState::Verifying {
                Self::move_to(n, NegotiationState::Verified)?;
            }
            if n.state != NegotiationState::Verified {
                return Err(ProtocolError::InvalidState(format!(
                    "FINALIZED is only accepted after the verification (negotiation is {})",
                    n.state.name()
                )));
            }
            Self::move_to(n, NegotiationState::Finalized)
        })
        .await
        .map(|_| ())
    }

    /// Either role: the counter-party terminated. `own_pid` is this connector's process id.
    pub async fn terminated(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        own_pid: &str,
        other_pid: &str,
        reason: Option<String>,
    ) -> Result<(), ProtocolError> {
        self.update(peer, role, own_pid, other_pid, |n| {
            if n.state == NegotiationState::Terminated {
                return Ok(());
            }
            if n.state.is_terminal() {
                return Err(ProtocolError::InvalidState(format!("negotiation is already {}", n.state.name())));
            }
            n.error_detail = Some(reason.unwrap_or_else(|| "terminated by the counter-party".into()));
            Self::move_to(n, NegotiationState::Terminated)
        })
        .await
        .map(|_| ())
    }
}

/// EDC's consumer check: the agreement's rules equal the offer's (type, uid, target and assignee aside).
fn same_terms(offered: &Policy, agreed: &Policy) -> bool {
    offered.permissions == agreed.permissions
        && offered.prohibitions == agreed.prohibitions
        && offered.obligations == agreed.obligations
}
