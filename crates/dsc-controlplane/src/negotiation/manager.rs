// SPDX-License-Identifier: Apache-2.0
//! The state machine manager: claims due negotiations and sends the message each state stands for.

use std::sync::Arc;
use std::time::Duration;

use dsc_domain::odrl::PolicyType;
use dsc_domain::{ContractAgreement, ContractNegotiation, NegotiationRole, NegotiationState};
use dsc_store::NegotiationStore;
use tokio::sync::{Notify, Semaphore, watch};

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

    /// Runs until `shutdown` turns true, then lets the negotiations in flight finish (bounded by their leases).
    ///
    /// Work is pipelined: up to `batch_size` negotiations are in flight at once, and a free slot is refilled as soon
    /// as one finishes, so a slow peer holds up only its own negotiation and never a whole batch.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(holder = %self.settings.holder, "negotiation state machine started");
        let capacity = self.settings.batch_size.max(1) as usize;
        let slots = Arc::new(Semaphore::new(capacity));
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed = self.claim_into(&slots).await;
            if claimed && slots.available_permits() > 0 {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
        let drained = tokio::time::timeout(
            Duration::from_millis(self.settings.lease_ms.max(0) as u64),
            slots.acquire_many(capacity as u32),
        )
        .await;
        if drained.is_err() {
            tracing::warn!(
                "stopped with negotiations still in flight; their leases expire and another run retries them"
            );
        }
        tracing::info!("negotiation state machine stopped");
    }

    /// Claims due negotiations for the free slots and starts processing each; true when anything was claimed.
    async fn claim_into(self: &Arc<Self>, slots: &Arc<Semaphore>) -> bool {
        let mut claimed_any = false;
        for (role, states) in
            [(NegotiationRole::Consumer, &CONSUMER_WORK[..]), (NegotiationRole::Provider, &PROVIDER_WORK[..])]
        {
            let free = slots.available_permits();
            if free == 0 {
                break;
            }
            let claimed = match self
                .store
                .claim_negotiations(role, states, free as u32, &self.settings.holder, self.settings.lease_ms)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!("claiming negotiations failed: {error}");
                    continue;
                }
            };
            for negotiation in claimed {
                // This loop is the only place that takes slots, and at most `free` were claimed.
                let Ok(slot) = Arc::clone(slots).try_acquire_owned() else { break };
                claimed_any = true;
                let manager = Arc::clone(self);
                tokio::spawn(async move {
                    let id = negotiation.id.clone();
                    if let Err(error) = manager.process(negotiation).await {
                        tracing::warn!(negotiation = %id, "processing failed, the lease will expire and it is retried: {error}");
                    }
                    drop(slot);
                    // A slot is free again: the loop may be waiting for one.
                    manager.wake.notify_one();
                });
            }
        }
        claimed_any
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
