// SPDX-License-Identifier: Apache-2.0
//! The negotiation service behind the Management API: a consumer starts and ends negotiations and reads them and
//! their agreements. What a counter-party sends goes through [`super::NegotiationProtocolService`] instead.

use std::sync::Arc;

use dsc_domain::{
    CallbackAddress, Clock, ContractAgreement, ContractNegotiation, Criterion, NegotiationRole, NegotiationState,
    Offer, Operator, QuerySpec,
};
use dsc_store::NegotiationStore;
use tokio::sync::Notify;

use super::NegotiationSettings;
use crate::ServiceError;
use crate::lease::{self, Expected};
use crate::protocol::{Counterparty, DirectoryError, ParticipantDirectory};

pub struct NegotiationService {
    settings: NegotiationSettings,
    store: Arc<dyn NegotiationStore>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
    directory: Option<Arc<dyn ParticipantDirectory>>,
}

impl NegotiationService {
    pub fn new(
        settings: NegotiationSettings,
        store: Arc<dyn NegotiationStore>,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        NegotiationService { settings, store, wake, clock, directory: None }
    }

    /// Lets users name a counter-party by an id other than a DID (a BPN), resolved through `directory`.
    pub fn with_directory(mut self, directory: Arc<dyn ParticipantDirectory>) -> Self {
        self.directory = Some(directory);
        self
    }

    /// The id the counter-party's messages will carry (its DID), under which the negotiation is kept: a BPN is
    /// resolved through the directory.
    async fn protocol_id(&self, id: String) -> Result<String, ServiceError> {
        match self.directory.as_ref().filter(|_| !id.starts_with("did:")) {
            Some(directory) => directory.protocol_id(&id).await.map_err(|error| match error {
                DirectoryError::Unknown(message) => {
                    ServiceError::InvalidQuery { message, path: "counterPartyId".into() }
                }
                DirectoryError::Unavailable(message) => ServiceError::Unavailable(message),
            }),
            None => Ok(id),
        }
    }

    /// Starts a negotiation for `offer` with `peer`; the manager sends the request.
    pub async fn initiate(
        &self,
        mut peer: Counterparty,
        offer: Offer,
        callback_addresses: Vec<CallbackAddress>,
    ) -> Result<ContractNegotiation, ServiceError> {
        peer.id = self.protocol_id(peer.id).await?;
        let now = self.clock.now_millis();
        let mut negotiation = ContractNegotiation {
            callback_addresses,
            trace_context: dsc_telemetry::current_traceparent(),
            ..ContractNegotiation::begin(
                uuid::Uuid::new_v4().to_string(),
                NegotiationRole::Consumer,
                (peer.id, peer.address, peer.protocol),
                None,
                offer,
                now,
            )
        };
        negotiation.transition(NegotiationState::Requesting, now).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store.create_negotiation(&negotiation).await?;
        tracing::debug!(negotiation = %negotiation.id, counter_party = %negotiation.counter_party_id, "negotiation initiated");
        self.wake.notify_one();
        Ok(negotiation)
    }

    /// Asks for termination; the manager tells the counter-party. An ended negotiation is a conflict.
    pub async fn terminate(&self, id: &str, reason: &str) -> Result<(), ServiceError> {
        let holder = format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4());
        lease::update(&*self.store, &self.wake, id, holder, Expected::anyone(), |n: &mut ContractNegotiation| {
            if n.state.is_terminal() {
                return Err(ServiceError::AlreadyExists {
                    kind: "ContractNegotiation",
                    id: format!("{id} (already {})", n.state.name()),
                });
            }
            n.error_detail = Some(reason.to_string());
            n.transition(NegotiationState::Terminating, self.clock.now_millis())
                .map_err(|e| ServiceError::Internal(e.to_string()))
        })
        .await
        .map(|_| ())
    }

    /// Applies an operator's decision to a negotiation that waits for it, under its lease.
    async fn decide(
        &self,
        id: &str,
        role: NegotiationRole,
        waiting_in: &[NegotiationState],
        decision: impl FnOnce(&mut ContractNegotiation, i64) -> Result<(), String>,
    ) -> Result<(), ServiceError> {
        let holder = format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4());
        let now = self.clock.now_millis();
        lease::update(&*self.store, &self.wake, id, holder, Expected::anyone(), |n: &mut ContractNegotiation| {
            let conflict =
                |why: String| ServiceError::AlreadyExists { kind: "ContractNegotiation", id: format!("{id}: {why}") };
            if n.role != role {
                let who = if role == NegotiationRole::Provider { "provider" } else { "consumer" };
                return Err(conflict(format!("only the {who} takes this decision")));
            }
            if !n.pending || !waiting_in.contains(&n.state) {
                return Err(conflict(format!("it is {} and waits for no decision of its operator", n.state.name())));
            }
            decision(n, now).map_err(conflict)
        })
        .await
        .map(|_| ())
    }

    /// Provider: the operator approves a contract request (or the consumer's acceptance of an offer) that waits
    /// for approval, and the state machine agrees on the last offer; or a verified agreement, which it finalizes.
    pub async fn approve(&self, id: &str) -> Result<(), ServiceError> {
        let waiting = [NegotiationState::Requested, NegotiationState::Accepted, NegotiationState::Verified];
        // Its state time lies in the past, so the manager, woken by the save, goes on at once.
        self.decide(id, NegotiationRole::Provider, &waiting, |n, _| {
            n.pending = false;
            Ok(())
        })
        .await
    }

    /// Provider: the operator answers a waiting request with an offer of its own, on `policy` (the terms of the
    /// last offer when `None`), for the same asset; the consumer accepts, counters or terminates.
    pub async fn offer(&self, id: &str, policy: Option<dsc_domain::odrl::Policy>) -> Result<(), ServiceError> {
        let participant = self.settings.participant_id.clone();
        self.decide(id, NegotiationRole::Provider, &[NegotiationState::Requested], |n, now| {
            let last = n.last_offer().cloned().ok_or("it holds no offer to answer")?;
            let mut terms = policy.unwrap_or(last.policy);
            terms.policy_type = dsc_domain::odrl::PolicyType::Offer;
            terms.assigner = Some(participant);
            terms.target = Some(last.id.asset_id.clone());
            let definition = if last.id.definition_id.is_empty() { "counter-offer" } else { &last.id.definition_id };
            let offer_id =
                dsc_domain::ContractOfferId::new(definition, &last.id.asset_id, &uuid::Uuid::new_v4().to_string());
            terms.uid = Some(offer_id.to_string());
            n.offers.push(Offer { id: offer_id, policy: terms });
            n.transition(NegotiationState::Offering, now).map_err(|e| e.to_string())
        })
        .await
    }

    /// Provider: starts a negotiation with an offer of `asset` on `policy` to the consumer `peer` (its protocol
    /// address and id); the manager sends it, and the consumer accepts, counters or terminates.
    pub async fn offer_first(
        &self,
        mut peer: Counterparty,
        asset: &str,
        mut policy: dsc_domain::odrl::Policy,
    ) -> Result<ContractNegotiation, ServiceError> {
        peer.id = self.protocol_id(peer.id).await?;
        let now = self.clock.now_millis();
        let offer_id = dsc_domain::ContractOfferId::new("provider-offer", asset, &uuid::Uuid::new_v4().to_string());
        policy.policy_type = dsc_domain::odrl::PolicyType::Offer;
        policy.uid = Some(offer_id.to_string());
        policy.target = Some(asset.to_string());
        policy.assigner = Some(self.settings.participant_id.clone());
        policy.assignee = Some(peer.id.clone());
        let mut negotiation = ContractNegotiation::begin(
            uuid::Uuid::new_v4().to_string(),
            NegotiationRole::Provider,
            (peer.id, peer.address, peer.protocol),
            None,
            Offer { id: offer_id, policy },
            now,
        );
        negotiation.trace_context = dsc_telemetry::current_traceparent();
        negotiation.transition(NegotiationState::Offering, now).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store.create_negotiation(&negotiation).await?;
        tracing::debug!(negotiation = %negotiation.id, counter_party = %negotiation.counter_party_id, "offer made");
        self.wake.notify_one();
        Ok(negotiation)
    }

    /// Consumer: the operator accepts the provider's offer that waits for it.
    pub async fn accept(&self, id: &str) -> Result<(), ServiceError> {
        self.decide(id, NegotiationRole::Consumer, &[NegotiationState::Offered], |n, now| {
            n.transition(NegotiationState::Accepting, now).map_err(|e| e.to_string())
        })
        .await
    }

    /// Consumer: the operator verifies an agreement that waits for it (`dsc.negotiation.consumer.offers = operator`).
    pub async fn verify(&self, id: &str) -> Result<(), ServiceError> {
        self.decide(id, NegotiationRole::Consumer, &[NegotiationState::Agreed], |n, now| {
            n.transition(NegotiationState::Verifying, now).map_err(|e| e.to_string())
        })
        .await
    }

    /// Consumer: the operator answers the provider's offer with a counter-request on `policy` (the consumer's
    /// first terms when `None`) for the same asset.
    pub async fn counter(&self, id: &str, policy: Option<dsc_domain::odrl::Policy>) -> Result<(), ServiceError> {
        self.decide(id, NegotiationRole::Consumer, &[NegotiationState::Offered], |n, now| {
            let first = n.offers.first().cloned().ok_or("it holds no offer to counter")?;
            let last = n.last_offer().cloned().unwrap_or_else(|| first.clone());
            let terms = policy.unwrap_or(first.policy);
            // The provider's last offer id is what the counter-request answers.
            n.offers.push(Offer { id: last.id, policy: terms });
            n.transition(NegotiationState::Requesting, now).map_err(|e| e.to_string())
        })
        .await
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
}
