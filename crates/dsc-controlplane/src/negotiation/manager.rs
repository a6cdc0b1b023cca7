// SPDX-License-Identifier: Apache-2.0
//! The state machine manager: claims due negotiations and sends the message each state stands for.

use std::sync::Arc;
use std::time::Duration;

use dsc_domain::odrl::PolicyType;
use dsc_domain::{ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState};
use dsc_store::NegotiationStore;
use tokio::sync::{Notify, watch};

use super::NegotiationSettings;
use crate::now_millis;
use crate::protocol::{Counterparty, NegotiationDispatcher, NegotiationMessage, NegotiationReply};

/// States in which the manager has work, per role.
const CONSUMER_WORK: [NegotiationState; 3] =
    [NegotiationState::Requesting, NegotiationState::Verifying, NegotiationState::Terminating];
const PROVIDER_WORK: [NegotiationState; 5] = [
    NegotiationState::Requested,
    NegotiationState::Agreeing,
    NegotiationState::Verified,
    NegotiationState::Finalizing,
    NegotiationState::Terminating,
];

/// Without a wake-up, look for due work (retries, expired leases of crashed holders) this often.
const IDLE_POLL: Duration = Duration::from_millis(500);

pub struct NegotiationManager {
    settings: NegotiationSettings,
    store: Arc<dyn NegotiationStore>,
    dispatcher: Arc<dyn NegotiationDispatcher>,
    wake: Arc<Notify>,
}

enum Step {
    /// Move to the state and save.
    To(NegotiationState),
    /// Try again later (the peer was unreachable or answered 5xx).
    Retry(String),
    /// The peer refused; the negotiation ends.
    Fail(String),
}

impl NegotiationManager {
    pub fn new(
        settings: NegotiationSettings,
        store: Arc<dyn NegotiationStore>,
        dispatcher: Arc<dyn NegotiationDispatcher>,
        wake: Arc<Notify>,
    ) -> Self {
        NegotiationManager { settings, store, dispatcher, wake }
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(holder = %self.settings.holder, "negotiation state machine started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let worked = self.tick().await;
            if worked {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("negotiation state machine stopped");
    }

    /// One round over both roles; true when anything was processed.
    pub async fn tick(&self) -> bool {
        let mut worked = false;
        for (role, states) in
            [(NegotiationRole::Consumer, &CONSUMER_WORK[..]), (NegotiationRole::Provider, &PROVIDER_WORK[..])]
        {
            let claimed = match self
                .store
                .claim_negotiations(
                    role,
                    states,
                    self.settings.batch_size,
                    &self.settings.holder,
                    self.settings.lease_ms,
                )
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!("claiming negotiations failed: {error}");
                    continue;
                }
            };
            worked |= !claimed.is_empty();
            // Each claimed negotiation is leased to us alone, so the batch is processed concurrently: one slow
            // peer does not hold up the others.
            let outcomes = futures::future::join_all(claimed.into_iter().map(|negotiation| async move {
                let id = negotiation.id.clone();
                (id, self.process(negotiation).await)
            }))
            .await;
            for (id, outcome) in outcomes {
                if let Err(error) = outcome {
                    tracing::warn!(negotiation = %id, "processing failed, the lease will expire and it is retried: {error}");
                }
            }
        }
        worked
    }

    async fn process(&self, mut negotiation: ContractNegotiation) -> Result<(), dsc_store::StoreError> {
        let step = match (negotiation.role, negotiation.state) {
            (NegotiationRole::Provider, NegotiationState::Requested) => {
                negotiation.agreement = Some(self.agreement_for(&negotiation));
                Step::To(NegotiationState::Agreeing)
            }
            (NegotiationRole::Provider, NegotiationState::Verified) => Step::To(NegotiationState::Finalizing),
            // The counter-party never learned of this process: there is nobody to tell.
            (_, NegotiationState::Terminating) if negotiation.correlation_id.is_none() => {
                Step::To(NegotiationState::Terminated)
            }
            _ => match self.message_for(&negotiation) {
                Some(message) => self.send(&mut negotiation, &message).await,
                None => Step::Fail(format!("nothing to send in state {}", negotiation.state.name())),
            },
        };
        let now = now_millis();
        match step {
            Step::To(next) => {
                if let Err(error) = negotiation.transition(next, now) {
                    negotiation.error_detail = Some(error.to_string());
                    let _ = negotiation.transition(NegotiationState::Terminated, now);
                }
            }
            Step::Retry(reason) if negotiation.state_count < self.settings.max_attempts => {
                let delay = retry_delay(negotiation.state_count);
                let state = negotiation.state;
                let _ = negotiation.transition(state, now);
                // A future state timestamp schedules the retry: claims only take due work.
                negotiation.state_timestamp = now + delay;
                tracing::info!(negotiation = %negotiation.id, attempt = negotiation.state_count, delay_ms = delay, "will retry: {reason}");
            }
            Step::Retry(reason) | Step::Fail(reason) => {
                tracing::warn!(negotiation = %negotiation.id, state = negotiation.state.name(), "negotiation ends: {reason}");
                negotiation.error_detail = Some(reason);
                let _ = negotiation.transition(NegotiationState::Terminated, now);
            }
        }
        let result = self.store.save_negotiation(&negotiation, &self.settings.holder).await;
        if result.is_ok() && !negotiation.state.is_terminal() {
            self.wake.notify_one();
        }
        result
    }

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
            contract_signing_date: now_millis() / 1000,
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

    async fn send(&self, negotiation: &mut ContractNegotiation, message: &NegotiationMessage) -> Step {
        let peer = Counterparty {
            address: negotiation.counter_party_address.clone(),
            id: negotiation.counter_party_id.clone(),
            protocol: negotiation.protocol.clone(),
        };
        let next = match negotiation.state {
            NegotiationState::Requesting => NegotiationState::Requested,
            NegotiationState::Verifying => NegotiationState::Verified,
            NegotiationState::Agreeing => NegotiationState::Agreed,
            NegotiationState::Finalizing => NegotiationState::Finalized,
            _ => NegotiationState::Terminated,
        };
        match self.dispatcher.send_negotiation(&peer, message).await {
            Ok(NegotiationReply::Accepted { provider_pid, state }) => {
                if negotiation.correlation_id.is_none() {
                    negotiation.correlation_id = provider_pid;
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
            Ok(NegotiationReply::Rejected { status, reason }) => {
                Step::Fail(format!("the counter-party refused ({status}): {reason}"))
            }
            Err(error) => Step::Retry(error.to_string()),
        }
    }
}

/// 0.5 s, 1 s, 2 s, ... capped at 60 s.
fn retry_delay(attempt: u32) -> i64 {
    let exponent = attempt.saturating_sub(1).min(7);
    (500_i64 << exponent).min(60_000)
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn retries_back_off_exponentially_with_a_cap() {
        assert_eq!([retry_delay(1), retry_delay(2), retry_delay(3)], [500, 1000, 2000]);
        assert_eq!(retry_delay(30), 60_000);
    }
}
