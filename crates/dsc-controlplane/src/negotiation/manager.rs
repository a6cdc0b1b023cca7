// SPDX-License-Identifier: Apache-2.0
//! The negotiation processor: the message each state of a negotiation stands for, run by the shared
//! [`StateMachine`] with one lane per role (EDC's consumer and provider negotiation managers).

use std::sync::Arc;

use async_trait::async_trait;
use dsc_domain::odrl::PolicyType;
use dsc_domain::{ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState};
use dsc_store::NegotiationStore;
use tokio::sync::Notify;

use super::NegotiationSettings;
use crate::protocol::{Counterparty, NegotiationDispatcher, NegotiationMessage, NegotiationReply};
use crate::state_machine::{Lane, Processor, RunnerSettings, StateMachine, Step};

/// States in which the state machine has work, per role.
const CONSUMER_WORK: [NegotiationState; 4] = [
    NegotiationState::Requesting,
    NegotiationState::Accepting,
    NegotiationState::Verifying,
    NegotiationState::Terminating,
];
const PROVIDER_WORK: [NegotiationState; 7] = [
    NegotiationState::Requested,
    NegotiationState::Offering,
    NegotiationState::Accepted,
    NegotiationState::Agreeing,
    NegotiationState::Verified,
    NegotiationState::Finalizing,
    NegotiationState::Terminating,
];

/// The negotiation state machine: the shared runner with the negotiation processor.
pub type NegotiationManager = StateMachine<NegotiationProcessor>;

impl StateMachine<NegotiationProcessor> {
    pub fn new(
        settings: NegotiationSettings,
        store: Arc<dyn NegotiationStore>,
        dispatcher: Arc<dyn NegotiationDispatcher>,
        wake: Arc<Notify>,
    ) -> Self {
        let lanes = vec![
            Lane {
                role: NegotiationRole::Consumer,
                states: CONSUMER_WORK.to_vec(),
                batch_size: settings.consumer.batch_size,
                retry: settings.consumer.retry,
            },
            Lane {
                role: NegotiationRole::Provider,
                states: PROVIDER_WORK.to_vec(),
                batch_size: settings.provider.batch_size,
                retry: settings.provider.retry,
            },
        ];
        let runner = RunnerSettings {
            holder: settings.holder.clone(),
            lease_ms: settings.lease_ms,
            iteration_wait: settings.iteration_wait,
            clock: settings.clock.clone(),
        };
        StateMachine::assemble(NegotiationProcessor { settings, dispatcher }, store, lanes, runner, wake)
    }
}

pub struct NegotiationProcessor {
    settings: NegotiationSettings,
    dispatcher: Arc<dyn NegotiationDispatcher>,
}

#[async_trait]
impl Processor for NegotiationProcessor {
    type Entity = ContractNegotiation;

    fn kind(&self) -> &'static str {
        "negotiation"
    }

    async fn process(&self, negotiation: &mut ContractNegotiation) -> Step<NegotiationState> {
        match (negotiation.role, negotiation.state) {
            // A request, or the consumer's acceptance of our offer, is agreed on the last offer's terms.
            (NegotiationRole::Provider, NegotiationState::Requested | NegotiationState::Accepted) => {
                negotiation.agreement = Some(self.agreement_for(negotiation));
                Step::To(NegotiationState::Agreeing)
            }
            (NegotiationRole::Provider, NegotiationState::Verified) => Step::To(NegotiationState::Finalizing),
            // The counter-party never learned of this process: there is nobody to tell.
            (_, NegotiationState::Terminating) if negotiation.correlation_id.is_none() => {
                Step::To(NegotiationState::Terminated)
            }
            _ => match self.message_for(negotiation) {
                Some(message) => self.send(negotiation, &message).await,
                None => Step::Fail(format!("nothing to send in state {}", negotiation.state.name())),
            },
        }
    }

    fn advance(&self, negotiation: &mut ContractNegotiation, next: NegotiationState, now: i64) -> bool {
        if let Err(error) = negotiation.transition(next, now) {
            negotiation.error_detail = Some(error.to_string());
            let _ = negotiation.transition(NegotiationState::Terminated, now);
        }
        false
    }

    fn give_up(&self, negotiation: &mut ContractNegotiation, reason: String, now: i64) -> bool {
        negotiation.error_detail = Some(reason);
        let _ = negotiation.transition(NegotiationState::Terminated, now);
        false
    }
}

impl NegotiationProcessor {
    fn agreement_for(&self, negotiation: &ContractNegotiation) -> ContractAgreement {
        let offer = negotiation.last_offer();
        let mut policy =
            offer.map(|o| o.policy.clone()).unwrap_or_else(|| dsc_domain::odrl::Policy::new(PolicyType::Agreement));
        let agreement_id = uuid::Uuid::new_v4().to_string();
        policy.policy_type = PolicyType::Agreement;
        policy.uid = Some(agreement_id.clone());
        policy.assigner = Some(self.settings.participant_id.clone());
        policy.assignee = Some(negotiation.counter_party_id.clone());
        ContractAgreement {
            id: agreement_id,
            provider_id: self.settings.participant_id.clone(),
            consumer_id: negotiation.counter_party_id.clone(),
            contract_signing_date: self.settings.clock.now_seconds(),
            asset_id: offer.map(|o| o.id.asset_id.clone()).unwrap_or_default(),
            policy,
        }
    }

    fn message_for(&self, negotiation: &ContractNegotiation) -> Option<NegotiationMessage> {
        let own = negotiation.id.clone();
        let other = negotiation.correlation_id.clone().unwrap_or_default();
        let (consumer_pid, provider_pid) = match negotiation.role {
            NegotiationRole::Consumer => (own, other),
            NegotiationRole::Provider => (other, own),
        };
        match (negotiation.role, negotiation.state) {
            (NegotiationRole::Consumer, NegotiationState::Requesting) => {
                let offer = negotiation.last_offer()?.clone();
                let initial = negotiation.correlation_id.is_none();
                Some(NegotiationMessage::ContractRequest {
                    consumer_pid,
                    provider_pid: (!initial).then_some(provider_pid),
                    callback_address: initial.then(|| self.settings.callback_address.clone()),
                    target: offer.id.asset_id.clone(),
                    assigner: negotiation.counter_party_id.clone(),
                    offer,
                })
            }
            (NegotiationRole::Consumer, NegotiationState::Accepting) => {
                Some(NegotiationMessage::Event { provider_pid, consumer_pid, event_type: "ACCEPTED".into() })
            }
            (NegotiationRole::Provider, NegotiationState::Offering) => {
                let offer = negotiation.last_offer()?.clone();
                // A negotiation we start has no consumer process yet: the consumer answers with its id.
                let first = negotiation.correlation_id.is_none();
                Some(NegotiationMessage::Offer {
                    provider_pid,
                    consumer_pid: (!first).then_some(consumer_pid),
                    callback_address: first.then(|| self.settings.callback_address.clone()),
                    target: offer.id.asset_id.clone(),
                    assigner: self.settings.participant_id.clone(),
                    offer,
                })
            }
            (NegotiationRole::Consumer, NegotiationState::Verifying) => {
                Some(NegotiationMessage::Verification { provider_pid, consumer_pid })
            }
            (NegotiationRole::Provider, NegotiationState::Agreeing) => Some(NegotiationMessage::Agreement {
                provider_pid,
                consumer_pid,
                agreement: negotiation.agreement.clone()?,
            }),
            (NegotiationRole::Provider, NegotiationState::Finalizing) => {
                Some(NegotiationMessage::Event { provider_pid, consumer_pid, event_type: "FINALIZED".into() })
            }
            (role, NegotiationState::Terminating) => Some(NegotiationMessage::Termination {
                provider_pid,
                consumer_pid,
                code: None,
                reason: negotiation.error_detail.clone(),
                to_provider: role == NegotiationRole::Consumer,
            }),
            _ => None,
        }
    }

    async fn send(
        &self,
        negotiation: &mut ContractNegotiation,
        message: &NegotiationMessage,
    ) -> Step<NegotiationState> {
        let peer = Counterparty {
            address: negotiation.counter_party_address.clone(),
            id: negotiation.counter_party_id.clone(),
            protocol: negotiation.protocol.clone(),
        };
        let next = match negotiation.state {
            NegotiationState::Requesting => NegotiationState::Requested,
            NegotiationState::Offering => NegotiationState::Offered,
            NegotiationState::Accepting => NegotiationState::Accepted,
            NegotiationState::Verifying => NegotiationState::Verified,
            NegotiationState::Agreeing => NegotiationState::Agreed,
            NegotiationState::Finalizing => NegotiationState::Finalized,
            _ => NegotiationState::Terminated,
        };
        match self.dispatcher.send_negotiation(&peer, message).await {
            Ok(NegotiationReply::Accepted { counter_party_pid, state }) => {
                if negotiation.correlation_id.is_none() {
                    negotiation.correlation_id = counter_party_pid;
                }
                // A repeated request is answered with the provider's existing process, which may have ended.
                if state.as_deref() == Some("TERMINATED") && negotiation.state == NegotiationState::Requesting {
                    return Step::Fail("the provider has terminated this negotiation".into());
                }
                Step::To(next)
            }
            // A termination the peer refuses still ends the negotiation here.
            Ok(NegotiationReply::Rejected { .. }) if negotiation.state == NegotiationState::Terminating => {
                Step::To(NegotiationState::Terminated)
            }
            // A conflict can be our message overtaking the peer's own save: EDC answers our verification 409 until it
            // has recorded AGREED after sending the agreement. Retried within the retry limit, then given up.
            Ok(NegotiationReply::Rejected { status: 409, reason }) => {
                Step::Retry(format!("the counter-party is not ready for it (409): {reason}"))
            }
            Ok(NegotiationReply::Rejected { status, reason }) => {
                Step::Fail(format!("the counter-party refused ({status}): {reason}"))
            }
            Err(error) => Step::Retry(error.to_string()),
        }
    }
}
