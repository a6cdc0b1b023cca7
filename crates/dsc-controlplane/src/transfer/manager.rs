// SPDX-License-Identifier: Apache-2.0
//! The transfer state machine manager: claims due transfers, signals the data plane and messages the
//! counter-party. Same design as the negotiation manager: leases, a pipeline of up to `batch_size` transfers in
//! flight, retries with backoff by moving the state timestamp into the future.

use std::sync::Arc;
use std::time::Duration;

use dsc_domain::{Asset, DataAddress, NegotiationRole, TransferProcess, TransferState};
use dsc_signaling::{DataPlaneClient, SignalingError, StartRequest};
use dsc_store::{Repository, TransferStore};
use dsc_vault::Vault;
use tokio::sync::{Notify, Semaphore, watch};

use super::service::forget_address;
use super::{TransferSettings, address_key, keep_address, read_address};
use crate::now_millis;
use crate::protocol::{Counterparty, NegotiationReply, TransferDispatcher, TransferMessage};

const CONSUMER_WORK: [TransferState; 5] = [
    TransferState::Requesting,
    TransferState::Suspending,
    TransferState::Resuming,
    TransferState::Completing,
    TransferState::Terminating,
];
const PROVIDER_WORK: [TransferState; 6] = [
    TransferState::Requested,
    TransferState::Starting,
    TransferState::Suspending,
    TransferState::Resuming,
    TransferState::Completing,
    TransferState::Terminating,
];
const IDLE_POLL: Duration = Duration::from_millis(500);

pub struct TransferManager {
    settings: TransferSettings,
    store: Arc<dyn TransferStore>,
    assets: Arc<dyn Repository<Asset>>,
    dispatcher: Arc<dyn TransferDispatcher>,
    data_planes: Arc<dyn DataPlaneClient>,
    vault: Arc<dyn Vault>,
    wake: Arc<Notify>,
}

enum Step {
    To(TransferState),
    Retry(String),
    Fail(String),
}

/// `base`, twice that, ... capped at 60 s.
fn retry_delay(attempt: u32, base_ms: i64) -> i64 {
    let exponent = attempt.saturating_sub(1).min(7);
    (base_ms.max(1) << exponent).min(60_000)
}

impl TransferManager {
    pub fn new(
        settings: TransferSettings,
        store: Arc<dyn TransferStore>,
        assets: Arc<dyn Repository<Asset>>,
        dispatcher: Arc<dyn TransferDispatcher>,
        data_planes: Arc<dyn DataPlaneClient>,
        vault: Arc<dyn Vault>,
        wake: Arc<Notify>,
    ) -> Self {
        TransferManager { settings, store, assets, dispatcher, data_planes, vault, wake }
    }

    /// Runs until `shutdown` turns true, then lets the transfers in flight finish (bounded by their leases).
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(holder = %self.settings.holder, "transfer state machine started");
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
        let limit = Duration::from_millis(self.settings.lease_ms.max(0) as u64);
        if tokio::time::timeout(limit, slots.acquire_many(capacity as u32)).await.is_err() {
            tracing::warn!("stopped with transfers still in flight; their leases expire and another run retries them");
        }
        tracing::info!("transfer state machine stopped");
    }

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
                .claim_transfers(role, states, free as u32, &self.settings.holder, self.settings.lease_ms)
                .await
            {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!("claiming transfers failed: {error}");
                    continue;
                }
            };
            for transfer in claimed {
                let Ok(slot) = Arc::clone(slots).try_acquire_owned() else { break };
                claimed_any = true;
                let manager = Arc::clone(self);
                tokio::spawn(async move {
                    let id = transfer.id.clone();
                    if let Err(error) = manager.process(transfer).await {
                        tracing::warn!(transfer = %id, "processing failed, the lease will expire and it is retried: {error}");
                    }
                    drop(slot);
                    manager.wake.notify_one();
                });
            }
        }
        claimed_any
    }

    async fn process(&self, mut transfer: TransferProcess) -> Result<(), dsc_store::StoreError> {
        let step = match (transfer.role, transfer.state) {
            (
                NegotiationRole::Provider,
                TransferState::Requested | TransferState::Starting | TransferState::Resuming,
            ) => self.provider_start(&mut transfer).await,
            (NegotiationRole::Provider, TransferState::Suspending) => self.provider_suspend(&mut transfer).await,
            (NegotiationRole::Provider, TransferState::Terminating) => self.provider_terminate(&mut transfer).await,
            (NegotiationRole::Provider, TransferState::Completing) => self.provider_complete(&mut transfer).await,
            (NegotiationRole::Consumer, _) => self.consumer_step(&mut transfer).await,
            (_, state) => Step::Fail(format!("nothing to do in state {}", state.name())),
        };
        let now = now_millis();
        let mut forget = false;
        match step {
            Step::To(next) => {
                if let Err(error) = transfer.transition(next, now) {
                    tracing::error!(transfer = %transfer.id, "{error}");
                    transfer.error_detail = Some(error.to_string());
                    let flow_running = transfer.role == NegotiationRole::Provider && transfer.data_flow_started;
                    let _ = transfer.transition(
                        if flow_running { TransferState::Terminating } else { TransferState::Terminated },
                        now,
                    );
                }
                forget = transfer.role == NegotiationRole::Consumer
                    && matches!(next, TransferState::Suspended | TransferState::Terminated | TransferState::Completed);
            }
            Step::Retry(reason) if transfer.state_count < self.settings.max_attempts => {
                let delay = retry_delay(transfer.state_count, self.settings.retry_base_ms);
                let state = transfer.state;
                let _ = transfer.transition(state, now);
                transfer.state_timestamp = now + delay;
                tracing::info!(transfer = %transfer.id, attempt = transfer.state_count, delay_ms = delay, "will retry: {reason}");
            }
            Step::Retry(reason) | Step::Fail(reason) => {
                tracing::warn!(transfer = %transfer.id, state = transfer.state.name(), "transfer ends: {reason}");
                transfer.error_detail = Some(reason);
                // TERMINATING still cuts a running flow off at the data plane and tells the counter-party, so
                // neither side is left believing the transfer runs. Only a failing termination (or a process the
                // counter-party never learned of) ends here.
                let next = if transfer.state == TransferState::Terminating || transfer.correlation_id.is_none() {
                    TransferState::Terminated
                } else {
                    transfer.counter_party_informed = false;
                    TransferState::Terminating
                };
                let _ = transfer.transition(next, now);
                forget = true;
            }
        }
        let result = self.store.save_transfer(&transfer, &self.settings.holder).await;
        if result.is_ok() {
            if forget {
                forget_address(&self.vault, &transfer).await;
            }
            if !transfer.state.is_terminal() {
                self.wake.notify_one();
            }
        }
        result
    }

    fn peer(transfer: &TransferProcess) -> Counterparty {
        Counterparty {
            address: transfer.counter_party_address.clone(),
            id: transfer.counter_party_id.clone(),
            protocol: transfer.protocol.clone(),
        }
    }

    /// Sends a message; `next` is the state on success. A refused termination still ends the transfer.
    async fn send(&self, transfer: &mut TransferProcess, message: TransferMessage, next: TransferState) -> Step {
        match self.dispatcher.send_transfer(&Self::peer(transfer), &message).await {
            Ok(NegotiationReply::Accepted { provider_pid, .. }) => {
                if transfer.correlation_id.is_none() {
                    transfer.correlation_id = provider_pid;
                }
                Step::To(next)
            }
            Ok(NegotiationReply::Rejected { .. }) if next == TransferState::Terminated => Step::To(next),
            Ok(NegotiationReply::Rejected { status, reason }) => {
                Step::Fail(format!("the counter-party refused ({status}): {reason}"))
            }
            Err(error) => Step::Retry(error.to_string()),
        }
    }

    async fn consumer_step(&self, transfer: &mut TransferProcess) -> Step {
        let (consumer_pid, provider_pid) = transfer.pids();
        let (message, next) = match transfer.state {
            TransferState::Requesting => (
                TransferMessage::Request {
                    consumer_pid,
                    agreement_id: transfer.agreement_id.clone(),
                    transfer_type: transfer.transfer_type.clone(),
                    callback_address: self.settings.callback_address.clone(),
                    data_address: transfer.data_destination.clone(),
                },
                TransferState::Requested,
            ),
            TransferState::Suspending => (
                TransferMessage::Suspension {
                    provider_pid,
                    consumer_pid,
                    reason: transfer.error_detail.clone(),
                    to_provider: true,
                },
                TransferState::Suspended,
            ),
            TransferState::Resuming => (
                TransferMessage::Start { provider_pid, consumer_pid, data_address: None, to_provider: true },
                TransferState::Resumed,
            ),
            TransferState::Completing => (
                TransferMessage::Completion { provider_pid, consumer_pid, to_provider: true },
                TransferState::Completed,
            ),
            TransferState::Terminating => (
                TransferMessage::Termination {
                    provider_pid,
                    consumer_pid,
                    reason: transfer.error_detail.clone(),
                    to_provider: true,
                },
                TransferState::Terminated,
            ),
            other => return Step::Fail(format!("nothing to send in state {}", other.name())),
        };
        self.send(transfer, message, next).await
    }

    fn signaling_step(error: SignalingError) -> Step {
        match error {
            unreachable @ SignalingError::Unreachable(_) => Step::Retry(unreachable.to_string()),
            other => Step::Fail(other.to_string()),
        }
    }

    /// Starts (or resumes) the data flow, keeps the address until it is delivered, sends TransferStartMessage.
    async fn provider_start(&self, transfer: &mut TransferProcess) -> Step {
        let key = address_key(&transfer.id);
        let kept = match read_address(&self.vault, &key).await {
            Ok(kept) => kept.filter(|_| transfer.data_address_key.is_some()),
            Err(reason) => return Step::Retry(reason),
        };
        let pull = dsc_domain::FlowType::is_pull(&transfer.transfer_type);
        let awaiting_callback = |transfer: &TransferProcess| {
            Step::Retry(format!("waiting for data plane's started callback for {}", transfer.id))
        };
        let address = match kept {
            Some(address) => Some(address),
            // An asynchronous start is under way: its `started` callback brings the address.
            None if pull && transfer.data_flow_started && transfer.state == TransferState::Requested => {
                return awaiting_callback(transfer);
            }
            None => match self.signal_start(transfer).await {
                Ok(None) if pull && transfer.state == TransferState::Requested => return awaiting_callback(transfer),
                Ok(address) => address,
                Err(step) => return step,
            },
        };
        if let Some(address) = &address {
            if let Err(reason) = keep_address(&self.vault, &key, address).await {
                return Step::Retry(reason);
            }
            transfer.data_address_key = Some(key);
        }
        let (consumer_pid, provider_pid) = transfer.pids();
        let message = TransferMessage::Start { provider_pid, consumer_pid, data_address: address, to_provider: false };
        let step = self.send(transfer, message, TransferState::Started).await;
        if matches!(step, Step::To(TransferState::Started)) {
            // Delivered: the provider has no further use for the consumer's credentials.
            forget_address(&self.vault, transfer).await;
            transfer.data_address_key = None;
            transfer.suspended_by = None;
            transfer.error_detail = None;
        }
        step
    }

    async fn signal_start(&self, transfer: &mut TransferProcess) -> Result<Option<DataAddress>, Step> {
        if transfer.data_flow_started {
            return self.data_planes.resume(&transfer.transfer_type, &transfer.id).await.map_err(Self::signaling_step);
        }
        let source = match self.assets.find(&transfer.asset_id).await {
            Ok(Some(asset)) => asset.data_address,
            Ok(None) => return Err(Step::Fail(format!("asset '{}' no longer exists", transfer.asset_id))),
            Err(error) => return Err(Step::Retry(error.to_string())),
        };
        let request = StartRequest {
            process_id: transfer.id.clone(),
            participant_id: self.settings.participant_id.clone(),
            counter_party_id: transfer.counter_party_id.clone(),
            agreement_id: transfer.agreement_id.clone(),
            dataset_id: transfer.asset_id.clone(),
            profile: transfer.transfer_type.clone(),
            source,
        };
        let started = match self.data_planes.start(&request).await {
            // The flow exists: a previous attempt started it but crashed before saving that.
            Err(SignalingError::Rejected { status: 409, .. }) => {
                self.data_planes.resume(&transfer.transfer_type, &transfer.id).await
            }
            other => other,
        };
        let address = started.map_err(Self::signaling_step)?;
        transfer.data_flow_started = true;
        Ok(address)
    }

    async fn provider_suspend(&self, transfer: &mut TransferProcess) -> Step {
        if let Err(error) =
            self.data_planes.suspend(&transfer.transfer_type, &transfer.id, transfer.error_detail.as_deref()).await
        {
            return Self::signaling_step(error);
        }
        if transfer.counter_party_informed {
            return Step::To(TransferState::Suspended);
        }
        let (consumer_pid, provider_pid) = transfer.pids();
        let message = TransferMessage::Suspension {
            provider_pid,
            consumer_pid,
            reason: transfer.error_detail.clone(),
            to_provider: false,
        };
        self.send(transfer, message, TransferState::Suspended).await
    }

    async fn provider_terminate(&self, transfer: &mut TransferProcess) -> Step {
        if transfer.data_flow_started
            && let Err(error) = self
                .data_planes
                .terminate(&transfer.transfer_type, &transfer.id, transfer.error_detail.as_deref())
                .await
        {
            return Self::signaling_step(error);
        }
        if transfer.counter_party_informed || transfer.correlation_id.is_none() {
            return Step::To(TransferState::Terminated);
        }
        let (consumer_pid, provider_pid) = transfer.pids();
        let message = TransferMessage::Termination {
            provider_pid,
            consumer_pid,
            reason: transfer.error_detail.clone(),
            to_provider: false,
        };
        self.send(transfer, message, TransferState::Terminated).await
    }

    async fn provider_complete(&self, transfer: &mut TransferProcess) -> Step {
        if let Err(error) = self.data_planes.completed(&transfer.transfer_type, &transfer.id).await {
            return Self::signaling_step(error);
        }
        if transfer.counter_party_informed {
            return Step::To(TransferState::Completed);
        }
        let (consumer_pid, provider_pid) = transfer.pids();
        let message = TransferMessage::Completion { provider_pid, consumer_pid, to_provider: false };
        self.send(transfer, message, TransferState::Completed).await
    }
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn retries_back_off() {
        assert_eq!([retry_delay(1, 500), retry_delay(2, 500), retry_delay(9, 500)], [500, 1000, 60_000]);
        assert_eq!(retry_delay(3, 100), 400);
    }
}
