// SPDX-License-Identifier: Apache-2.0
//! The transfer processor: signals the data plane and messages the counter-party for each state of a transfer,
//! run by the shared [`StateMachine`] with one lane per role.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_domain::{Asset, DataAddress, NegotiationRole, TransferProcess, TransferState};
use dsc_signaling::{DataPlaneClient, SignalingError, StartRequest};
use dsc_store::{Repository, TransferStore};
use dsc_vault::Vault;
use tokio::sync::Notify;

use super::service::forget_address;
use super::{TransferSettings, address_key, keep_address, read_address};
use crate::protocol::{Counterparty, NegotiationReply, TransferDispatcher, TransferMessage};
use crate::state_machine::{Lane, Processor, RetryPolicy, RunnerSettings, StateMachine, Step};

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

/// The transfer state machine: the shared runner with the transfer processor.
pub type TransferManager = StateMachine<TransferProcessor>;

impl StateMachine<TransferProcessor> {
    pub fn new(
        settings: TransferSettings,
        store: Arc<dyn TransferStore>,
        assets: Arc<dyn Repository<Asset>>,
        dispatcher: Arc<dyn TransferDispatcher>,
        data_planes: Arc<dyn DataPlaneClient>,
        vault: Arc<dyn Vault>,
        wake: Arc<Notify>,
    ) -> Self {
        let retry = RetryPolicy::new(settings.max_attempts, settings.retry_base_ms);
        let lane = |role, states: &[TransferState]| Lane {
            role,
            states: states.to_vec(),
            batch_size: settings.batch_size,
            retry,
        };
        let lanes =
            vec![lane(NegotiationRole::Consumer, &CONSUMER_WORK), lane(NegotiationRole::Provider, &PROVIDER_WORK)];
        let runner = RunnerSettings {
            holder: settings.holder.clone(),
            lease_ms: settings.lease_ms,
            iteration_wait: settings.iteration_wait,
            clock: settings.clock.clone(),
        };
        let processor = TransferProcessor { settings, assets, dispatcher, data_planes, vault };
        StateMachine::assemble(processor, store, lanes, runner, wake)
    }
}

pub struct TransferProcessor {
    settings: TransferSettings,
    assets: Arc<dyn Repository<Asset>>,
    dispatcher: Arc<dyn TransferDispatcher>,
    data_planes: Arc<dyn DataPlaneClient>,
    vault: Arc<dyn Vault>,
}

#[async_trait]
impl Processor for TransferProcessor {
    type Entity = TransferProcess;

    fn kind(&self) -> &'static str {
        "transfer"
    }

    async fn process(&self, transfer: &mut TransferProcess) -> Step<TransferState> {
        match (transfer.role, transfer.state) {
            (
                NegotiationRole::Provider,
                TransferState::Requested | TransferState::Starting | TransferState::Resuming,
            ) => self.provider_start(transfer).await,
            (NegotiationRole::Provider, TransferState::Suspending) => self.provider_suspend(transfer).await,
            (NegotiationRole::Provider, TransferState::Terminating) => self.provider_terminate(transfer).await,
            (NegotiationRole::Provider, TransferState::Completing) => self.provider_complete(transfer).await,
            (NegotiationRole::Consumer, _) => self.consumer_step(transfer).await,
            (_, state) => Step::Fail(format!("nothing to do in state {}", state.name())),
        }
    }

    fn advance(&self, transfer: &mut TransferProcess, next: TransferState, now: i64) -> bool {
        if let Err(error) = transfer.transition(next, now) {
            tracing::error!(transfer = %transfer.id, "{error}");
            transfer.error_detail = Some(error.to_string());
            let flow_running = transfer.role == NegotiationRole::Provider && transfer.data_flow_started;
            let _ = transfer
                .transition(if flow_running { TransferState::Terminating } else { TransferState::Terminated }, now);
        }
        transfer.role == NegotiationRole::Consumer
            && matches!(next, TransferState::Suspended | TransferState::Terminated | TransferState::Completed)
    }

    fn give_up(&self, transfer: &mut TransferProcess, reason: String, now: i64) -> bool {
        transfer.error_detail = Some(reason);
        // TERMINATING still cuts a running flow off at the data plane and tells the counter-party, so neither
        // side is left believing the transfer runs. Only a failing termination (or a process the counter-party
        // never learned of) ends here.
        let next = if transfer.state == TransferState::Terminating || transfer.correlation_id.is_none() {
            TransferState::Terminated
        } else {
            transfer.counter_party_informed = false;
            TransferState::Terminating
        };
        let _ = transfer.transition(next, now);
        true
    }

    async fn release(&self, transfer: &TransferProcess) {
        forget_address(&self.vault, transfer).await;
    }
}

impl TransferProcessor {
    fn peer(transfer: &TransferProcess) -> Counterparty {
        Counterparty {
            address: transfer.counter_party_address.clone(),
            id: transfer.counter_party_id.clone(),
            protocol: transfer.protocol.clone(),
        }
    }

    /// Sends a message; `next` is the state on success. A refused termination still ends the transfer.
    async fn send(
        &self,
        transfer: &mut TransferProcess,
        message: TransferMessage,
        next: TransferState,
    ) -> Step<TransferState> {
        match self.dispatcher.send_transfer(&Self::peer(transfer), &message).await {
            Ok(NegotiationReply::Accepted { counter_party_pid: provider_pid, .. }) => {
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

    async fn consumer_step(&self, transfer: &mut TransferProcess) -> Step<TransferState> {
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

    fn signaling_step(error: SignalingError) -> Step<TransferState> {
        match error {
            unreachable @ SignalingError::Unreachable(_) => Step::Retry(unreachable.to_string()),
            other => Step::Fail(other.to_string()),
        }
    }

    /// Starts (or resumes) the data flow, keeps the address until it is delivered, sends TransferStartMessage.
    async fn provider_start(&self, transfer: &mut TransferProcess) -> Step<TransferState> {
        let key = address_key(&transfer.id);
        let kept = match read_address(&self.vault, &key).await {
            Ok(kept) => kept.filter(|_| transfer.data_address_key.is_some()),
            Err(reason) => return Step::Retry(reason),
        };
        let pull = dsc_domain::FlowType::is_pull(&transfer.transfer_type);
        // An asynchronous start: the data plane calls back when the flow has started (a broker or an OAuth service
        // may take their time). Until then the transfer rests in REQUESTED without spending retries; the callback
        // (`flows.rs::flow_started`) wakes it, and the operator may terminate it meanwhile.
        let awaiting_callback = |transfer: &mut TransferProcess| {
            tracing::debug!(transfer = %transfer.id, "waiting for the data plane's started callback");
            transfer.pending = true;
            Step::To(transfer.state)
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

    async fn signal_start(&self, transfer: &mut TransferProcess) -> Result<Option<DataAddress>, Step<TransferState>> {
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

    async fn provider_suspend(&self, transfer: &mut TransferProcess) -> Step<TransferState> {
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

    async fn provider_terminate(&self, transfer: &mut TransferProcess) -> Step<TransferState> {
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

    async fn provider_complete(&self, transfer: &mut TransferProcess) -> Step<TransferState> {
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
