// SPDX-License-Identifier: Apache-2.0
//! The negotiation protocol service: what a counter-party's messages do, in either role. The protocol binding
//! hands it typed messages ([`super::messages`]) after validating and transforming the wire form; the service
//! checks sender, process ids and state, and saves the transition for the manager to act on.

use std::sync::Arc;

use dsc_domain::odrl::Policy;
use dsc_domain::{
    Asset, Clock, ContractDefinition, ContractNegotiation, NegotiationRole, NegotiationState, ParticipantAgent,
    PolicyDefinition,
};
use dsc_policy::PolicyEngine;
use dsc_store::{NegotiationStore, Repository, StoreError};
use tokio::sync::Notify;

use super::NegotiationSettings;
use super::OfferDecision;
use super::messages::{
    ContractAgreementMessage, ContractAgreementVerificationMessage, ContractNegotiationAcceptedMessage,
    ContractNegotiationFinalizedMessage, ContractNegotiationTerminationMessage, ContractRequestMessage,
    CounterOfferMessage,
};
use super::offer::OfferCheck;
use crate::ProtocolError;
use crate::lease::{self, Expected};

pub struct NegotiationProtocolService {
    settings: NegotiationSettings,
    store: Arc<dyn NegotiationStore>,
    offers: OfferCheck,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
}

impl NegotiationProtocolService {
    /// Wiring only: each argument is one collaborator the service needs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: NegotiationSettings,
        store: Arc<dyn NegotiationStore>,
        definitions: Arc<dyn Repository<ContractDefinition>>,
        policies: Arc<dyn Repository<PolicyDefinition>>,
        assets: Arc<dyn Repository<Asset>>,
        engine: Arc<PolicyEngine>,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let offers =
            OfferCheck { participant_id: settings.participant_id.clone(), definitions, policies, assets, engine };
        NegotiationProtocolService { settings, store, offers, wake, clock }
    }

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
        message: ContractRequestMessage,
    ) -> Result<ContractNegotiation, ProtocolError> {
        let ContractRequestMessage { consumer_pid, callback_address, offer_id, protocol } = message;
        if let Some(existing) =
            self.store.find_negotiation_by_correlation(NegotiationRole::Provider, &peer.id, &consumer_pid).await?
        {
            return Ok(existing);
        }
        let (offer, approval) = self.offers.offer_for(peer, &offer_id).await?;
        let now = self.clock.now_millis();
        let mut negotiation = ContractNegotiation::begin(
            uuid::Uuid::new_v4().to_string(),
            NegotiationRole::Provider,
            (peer.id.clone(), callback_address.trim_end_matches('/').to_string(), protocol),
            Some(consumer_pid.clone()),
            offer,
            now,
        );
        negotiation.trace_context = dsc_telemetry::current_traceparent();
        negotiation
            .transition(NegotiationState::Requested, now)
            .map_err(|e| ProtocolError::InvalidState(e.to_string()))?;
        // The asset's operator decides: the request waits for approval or a rejection.
        negotiation.pending = approval.negotiation;
        match self.store.create_negotiation(&negotiation).await {
            Ok(()) => {}
            // The same request arrived twice at once: answer with the first one's process.
            Err(StoreError::AlreadyExists { .. }) => {
                return self
                    .store
                    .find_negotiation_by_correlation(NegotiationRole::Provider, &peer.id, &consumer_pid)
                    .await?
                    .ok_or_else(|| ProtocolError::Unavailable("concurrent duplicate request".into()));
            }
            Err(other) => return Err(other.into()),
        }
        tracing::debug!(negotiation = %negotiation.id, consumer = %peer.id, pending = negotiation.pending, "contract request received");
        self.wake.notify_one();
        Ok(negotiation)
    }

    /// Applies `change` to our negotiation of `role` that the message names, under its lease.
    async fn update(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        process: &crate::ProcessIds,
        change: impl FnOnce(&mut ContractNegotiation) -> Result<(), ProtocolError>,
    ) -> Result<(), ProtocolError> {
        let holder = format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4());
        let expected = Expected::message(&peer.id, role, process.other(role));
        lease::update(&*self.store, &self.wake, process.own(role), holder, expected, change).await.map(|_| ())
    }

    fn move_to(&self, negotiation: &mut ContractNegotiation, next: NegotiationState) -> Result<(), ProtocolError> {
        negotiation.transition(next, self.clock.now_millis()).map_err(|e| ProtocolError::InvalidState(e.to_string()))
    }

    /// Provider: the consumer verified the agreement.
    pub async fn verified(
        &self,
        peer: &ParticipantAgent,
        message: ContractAgreementVerificationMessage,
    ) -> Result<(), ProtocolError> {
        let hold = self.approval_of(&message.process.provider_pid).await?.finalization;
        self.update(peer, NegotiationRole::Provider, &message.process, |n| {
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
                self.move_to(n, NegotiationState::Agreed)?;
            }
            if n.state != NegotiationState::Agreed {
                return Err(ProtocolError::InvalidState(format!(
                    "a verification is only accepted after the agreement (negotiation is {})",
                    n.state.name()
                )));
            }
            self.move_to(n, NegotiationState::Verified)?;
            // The asset's operator finalizes (or terminates) by hand.
            n.pending = hold;
            Ok(())
        })
        .await
    }

    /// What the operator of the asset our negotiation `provider_pid` is about approves by hand.
    async fn approval_of(&self, provider_pid: &str) -> Result<dsc_domain::Approval, ProtocolError> {
        let asset = match self.store.find_negotiation(provider_pid).await? {
            Some(n) => n.last_offer().map(|o| o.id.asset_id.clone()).unwrap_or_default(),
            None => return Ok(dsc_domain::Approval::default()),
        };
        Ok(self.offers.assets.find(&asset).await?.map(|a| a.approval()).unwrap_or_default())
    }

    /// Consumer: the provider sent the agreement. It must come from the offer's assigner and carry exactly the
    /// policy the consumer asked for.
    pub async fn agreed(
        &self,
        peer: &ParticipantAgent,
        message: ContractAgreementMessage,
    ) -> Result<(), ProtocolError> {
        let ContractAgreementMessage { process, agreement } = message;
        self.update(peer, NegotiationRole::Consumer, &process, |n| {
            // The same agreement again (the provider did not see our answer): acknowledge, change nothing.
            if n.agreement.as_ref().is_some_and(|known| known.id == agreement.id) {
                return Ok(());
            }
            // The provider may answer before our own message's outcome was saved (a crash in between).
            if n.state == NegotiationState::Requesting {
                self.move_to(n, NegotiationState::Requested)?;
            }
            if n.state == NegotiationState::Accepting {
                self.move_to(n, NegotiationState::Accepted)?;
            }
            if !matches!(n.state, NegotiationState::Requested | NegotiationState::Accepted) {
                return Err(ProtocolError::InvalidState(format!(
                    "an agreement is only accepted for a requested negotiation or an accepted offer (negotiation is {})",
                    n.state.name()
                )));
            }
            if n.correlation_id.is_none() {
                n.correlation_id = Some(process.provider_pid.clone());
            }
            if agreement.provider_id != peer.id {
                return Err(ProtocolError::Refused("the agreement's assigner is not the sender".into()));
            }
            let offered = n.last_offer().map(|offer| &offer.policy);
            if !offered.is_some_and(|offered| same_terms(offered, &agreement.policy)) {
                n.error_detail = Some("the agreement's policy differs from the offer".into());
                return self.move_to(n, NegotiationState::Terminating);
            }
            n.agreement = Some(agreement);
            self.move_to(n, NegotiationState::Agreed)?;
            if self.settings.consumer_offers == OfferDecision::Operator {
                // The operator takes every decision: it verifies (or terminates) the agreement by hand too.
                n.pending = true;
                return Ok(());
            }
            self.move_to(n, NegotiationState::Verifying)
        })
        .await
    }

    /// Consumer: the provider offers terms of its own for the negotiation we requested. Accepted at once when they
    /// are the terms we asked for (unless every offer is the operator's, `dsc.negotiation.consumer.offers`);
    /// otherwise it waits for the operator to accept, counter or terminate.
    pub async fn offered(&self, peer: &ParticipantAgent, message: CounterOfferMessage) -> Result<(), ProtocolError> {
        let CounterOfferMessage { process, offer_id, target, policy } = message;
        self.update(peer, NegotiationRole::Consumer, &process, |n| {
            // A second offer after ours was answered is refused, even a repeated one: the DSP TCK (CN_C:03-05)
            // wants the 4xx, and the provider's retry of a lost answer then ends the negotiation.
            if n.state == NegotiationState::Requesting {
                self.move_to(n, NegotiationState::Requested)?;
            }
            if n.state != NegotiationState::Requested {
                return Err(ProtocolError::InvalidState(format!(
                    "an offer is only accepted for a requested negotiation (negotiation is {})",
                    n.state.name()
                )));
            }
            let ours =
                n.last_offer().cloned().ok_or_else(|| ProtocolError::InvalidState("no offer to answer".into()))?;
            if target != ours.id.asset_id {
                return Err(ProtocolError::Refused(format!(
                    "the offer is for asset '{target}', the negotiation for '{}'",
                    ours.id.asset_id
                )));
            }
            if n.correlation_id.is_none() {
                n.correlation_id = Some(process.provider_pid.clone());
            }
            let same = same_terms(&ours.policy, &policy);
            let id = dsc_domain::ContractOfferId::parse(&offer_id)
                .unwrap_or_else(|| dsc_domain::ContractOfferId::opaque(&offer_id, &target));
            n.offers.push(dsc_domain::Offer { id, policy });
            self.move_to(n, NegotiationState::Offered)?;
            if same && self.settings.consumer_offers == OfferDecision::AcceptSameTerms {
                self.move_to(n, NegotiationState::Accepting)
            } else {
                n.pending = true;
                Ok(())
            }
        })
        .await
    }

    /// Consumer: a provider starts a negotiation with an offer (`POST /negotiations/offers`). Only a consumer whose
    /// operator decides on offers takes it (`dsc.negotiation.consumer.offers = operator`); any other refuses at once,
    /// so the provider learns why and nothing waits for a decision nobody will take.
    pub async fn offered_first(
        &self,
        peer: &ParticipantAgent,
        provider_pid: &str,
        callback_address: &str,
        offer_id: &str,
        target: &str,
        policy: dsc_domain::odrl::Policy,
    ) -> Result<ContractNegotiation, ProtocolError> {
        if let Some(existing) =
            self.store.find_negotiation_by_correlation(NegotiationRole::Consumer, &peer.id, provider_pid).await?
        {
            return Ok(existing);
        }
        if self.settings.consumer_offers != OfferDecision::Operator {
            return Err(ProtocolError::Refused(
                "this consumer takes no offers it did not ask for (its operator has not chosen to decide on offers)"
                    .into(),
            ));
        }
        let now = self.clock.now_millis();
        let id = dsc_domain::ContractOfferId::parse(offer_id)
            .unwrap_or_else(|| dsc_domain::ContractOfferId::opaque(offer_id, target));
        let mut negotiation = ContractNegotiation::begin(
            uuid::Uuid::new_v4().to_string(),
            NegotiationRole::Consumer,
            (
                peer.id.clone(),
                callback_address.trim_end_matches('/').to_string(),
                crate::protocol::DSP_2025_1.to_string(),
            ),
            Some(provider_pid.to_string()),
            dsc_domain::Offer { id, policy },
            now,
        );
        negotiation.trace_context = dsc_telemetry::current_traceparent();
        self.move_to(&mut negotiation, NegotiationState::Offered)?;
        negotiation.pending = true;
        match self.store.create_negotiation(&negotiation).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                return self
                    .store
                    .find_negotiation_by_correlation(NegotiationRole::Consumer, &peer.id, provider_pid)
                    .await?
                    .ok_or_else(|| ProtocolError::Unavailable("concurrent duplicate offer".into()));
            }
            Err(other) => return Err(other.into()),
        }
        tracing::debug!(negotiation = %negotiation.id, provider = %peer.id, "offer received; it waits for the operator");
        Ok(negotiation)
    }

    /// Provider: the consumer answers our offer with terms of its own. Whatever they are, its operator decides
    /// (approve, offer again or terminate): a provider never agrees on a consumer's terms by itself.
    pub async fn counter_requested(
        &self,
        peer: &ParticipantAgent,
        message: CounterOfferMessage,
    ) -> Result<(), ProtocolError> {
        let CounterOfferMessage { process, offer_id, target, policy } = message;
        self.update(peer, NegotiationRole::Provider, &process, |n| {
            // A second counter-request before our answer is refused, even a repeated one (the DSP TCK, CN:03-04).
            if n.state != NegotiationState::Offered {
                return Err(ProtocolError::InvalidState(format!(
                    "a counter-request is only accepted after an offer (negotiation is {})",
                    n.state.name()
                )));
            }
            let asset = n.last_offer().map(|o| o.id.asset_id.clone()).unwrap_or_default();
            if !target.is_empty() && target != asset {
                return Err(ProtocolError::Refused(format!(
                    "the counter-request is for asset '{target}', the negotiation for '{asset}'"
                )));
            }
            // The asset is the negotiation's, whatever the offer id says: the agreement is made for it.
            let mut id = dsc_domain::ContractOfferId::parse(&offer_id)
                .unwrap_or_else(|| dsc_domain::ContractOfferId::opaque(&offer_id, &asset));
            id.asset_id = asset;
            n.offers.push(dsc_domain::Offer { id, policy });
            self.move_to(n, NegotiationState::Requested)?;
            n.pending = true;
            Ok(())
        })
        .await
    }

    /// Provider: the consumer accepts our offer. We agree on it, unless the asset's operator approves by hand.
    pub async fn accepted(
        &self,
        peer: &ParticipantAgent,
        message: ContractNegotiationAcceptedMessage,
    ) -> Result<(), ProtocolError> {
        let manual = self.approval_of(&message.process.provider_pid).await?.negotiation;
        self.update(peer, NegotiationRole::Provider, &message.process, |n| {
            // A repeated acceptance (the consumer did not see our answer) after we went on: acknowledge it.
            if matches!(
                n.state,
                NegotiationState::Accepted
                    | NegotiationState::Agreeing
                    | NegotiationState::Agreed
                    | NegotiationState::Verified
                    | NegotiationState::Finalizing
                    | NegotiationState::Finalized
            ) {
                return Ok(());
            }
            // Our offer was delivered even if a crash kept us from recording that.
            if n.state == NegotiationState::Offering {
                self.move_to(n, NegotiationState::Offered)?;
            }
            if n.state != NegotiationState::Offered {
                return Err(ProtocolError::InvalidState(format!(
                    "ACCEPTED is only accepted after an offer (negotiation is {})",
                    n.state.name()
                )));
            }
            self.move_to(n, NegotiationState::Accepted)?;
            n.pending = manual;
            Ok(())
        })
        .await
    }

    /// Consumer: the provider finalized the negotiation.
    pub async fn finalized(
        &self,
        peer: &ParticipantAgent,
        message: ContractNegotiationFinalizedMessage,
    ) -> Result<(), ProtocolError> {
        self.update(peer, NegotiationRole::Consumer, &message.process, |n| {
            if n.state == NegotiationState::Finalized {
                return Ok(());
            }
            // The verification's outcome may not have been saved before a crash.
            if n.state == NegotiationState::Verifying {
                self.move_to(n, NegotiationState::Verified)?;
            }
            if n.state != NegotiationState::Verified {
                return Err(ProtocolError::InvalidState(format!(
                    "FINALIZED is only accepted after the verification (negotiation is {})",
                    n.state.name()
                )));
            }
            self.move_to(n, NegotiationState::Finalized)
        })
        .await
    }

    /// Either role: the counter-party terminated our negotiation of `role`.
    pub async fn terminated(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        message: ContractNegotiationTerminationMessage,
    ) -> Result<(), ProtocolError> {
        let ContractNegotiationTerminationMessage { process, reason } = message;
        self.update(peer, role, &process, |n| {
            if n.state == NegotiationState::Terminated {
                return Ok(());
            }
            if n.state.is_terminal() {
                return Err(ProtocolError::InvalidState(format!("negotiation is already {}", n.state.name())));
            }
            n.error_detail = Some(reason.unwrap_or_else(|| "terminated by the counter-party".into()));
            self.move_to(n, NegotiationState::Terminated)
        })
        .await
    }
}

/// EDC's consumer check: the agreement's rules equal the offer's (type, uid, target and assignee aside).
fn same_terms(offered: &Policy, agreed: &Policy) -> bool {
    offered.permissions == agreed.permissions
        && offered.prohibitions == agreed.prohibitions
        && offered.obligations == agreed.obligations
}
