// SPDX-License-Identifier: Apache-2.0
//! The transfer service behind the Management API: a consumer starts transfers under its agreements; either role
//! reads, suspends, resumes and terminates its own transfers; a consumer reads the EDR its provider sent.

use std::sync::Arc;

use dsc_domain::{CallbackAddress, Clock, DataAddress, NegotiationRole, QuerySpec, TransferProcess, TransferState};
use dsc_store::{NegotiationStore, TransferStore};
use dsc_vault::Vault;
use tokio::sync::Notify;

use super::{TransferSettings, consumer_edr};
use crate::ServiceError;
use crate::lease::{self, Expected};
use crate::protocol::Counterparty;

const KIND: &str = "TransferProcess";

/// A consumer's request to start a transfer under an agreement.
#[derive(Debug, Clone)]
pub struct TransferRequest {
    pub provider: Counterparty,
    pub agreement_id: String,
    pub transfer_type: String,
    pub data_destination: Option<DataAddress>,
    pub callback_addresses: Vec<CallbackAddress>,
}

pub struct TransferService {
    settings: TransferSettings,
    store: Arc<dyn TransferStore>,
    negotiations: Arc<dyn NegotiationStore>,
    vault: Arc<dyn Vault>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
}

/// Applies a local action to transfer `id` under its lease. A refused action is a conflict, reported as
/// `AlreadyExists` with `"{id}: {reason}"`, which the Management API turns into its 409 text.
pub(super) async fn act(
    store: &(dyn TransferStore + 'static),
    wake: &Notify,
    holder: String,
    id: &str,
    expected: Expected<'_>,
    action: impl FnOnce(&mut TransferProcess) -> Result<(), String>,
) -> Result<(), ServiceError> {
    let conflict = |reason: String| ServiceError::AlreadyExists { kind: KIND, id: format!("{id}: {reason}") };
    lease::update(store, wake, id, holder, expected, |t| action(t).map_err(conflict)).await.map(|_| ())
}

impl TransferService {
    pub fn new(
        settings: TransferSettings,
        store: Arc<dyn TransferStore>,
        negotiations: Arc<dyn NegotiationStore>,
        vault: Arc<dyn Vault>,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        TransferService { settings, store, negotiations, vault, wake, clock }
    }

    fn not_found(id: &str) -> ServiceError {
        ServiceError::NotFound { kind: KIND, id: id.to_string() }
    }

    /// Consumer: asks the provider for a transfer under an agreement this connector holds as consumer.
    pub async fn initiate(&self, request: TransferRequest) -> Result<TransferProcess, ServiceError> {
        let agreement = self
            .negotiations
            .find_agreement(&request.agreement_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "ContractAgreement", id: request.agreement_id.clone() })?;
        if agreement.consumer_id != self.settings.participant_id {
            return Err(ServiceError::InvalidQuery {
                message: format!("this connector is not the consumer of agreement {}", agreement.id),
                path: "contractId".into(),
            });
        }
        let now = self.clock.now_millis();
        let mut transfer = TransferProcess {
            id: uuid::Uuid::new_v4().to_string(),
            correlation_id: None,
            counter_party_id: request.provider.id,
            counter_party_address: request.provider.address,
            protocol: request.provider.protocol,
            role: NegotiationRole::Consumer,
            state: TransferState::Initial,
            state_count: 1,
            pending: false,
            state_timestamp: now,
            error_detail: None,
            agreement_id: agreement.id.clone(),
            asset_id: agreement.asset_id.clone(),
            transfer_type: request.transfer_type,
            data_destination: request.data_destination,
            data_address_key: None,
            suspended_by: None,
            counter_party_informed: false,
            data_flow_started: false,
            callback_addresses: request.callback_addresses,
            trace_context: dsc_telemetry::current_traceparent(),
            created_at: now,
            updated_at: now,
        };
        transfer.transition(TransferState::Requesting, now).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store.create_transfer(&transfer).await?;
        tracing::debug!(transfer = %transfer.id, agreement = %transfer.agreement_id, "transfer requested");
        self.wake.notify_one();
        Ok(transfer)
    }

    pub async fn find(&self, id: &str) -> Result<TransferProcess, ServiceError> {
        self.store.find_transfer(id).await?.ok_or_else(|| Self::not_found(id))
    }

    pub async fn query(&self, spec: &QuerySpec) -> Result<Vec<TransferProcess>, ServiceError> {
        Ok(self.store.query_transfers(spec).await?)
    }

    /// Consumer: the EDR the provider sent for a started transfer (renewal is the EDR service's).
    pub async fn data_address(&self, id: &str) -> Result<Option<DataAddress>, ServiceError> {
        consumer_edr(&self.vault, &self.find(id).await?).await
    }

    async fn act(
        &self,
        id: &str,
        action: impl FnOnce(&mut TransferProcess) -> Result<(), String>,
    ) -> Result<(), ServiceError> {
        let holder = format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4());
        act(&*self.store, &self.wake, holder, id, Expected::anyone(), action).await
    }

    pub async fn suspend(&self, id: &str, reason: &str) -> Result<(), ServiceError> {
        self.act(id, |t| {
            if t.state != TransferState::Started {
                return Err(format!("only a STARTED transfer can be suspended (it is {})", t.state.name()));
            }
            t.error_detail = Some(reason.to_string());
            t.suspended_by = Some(t.role);
            t.counter_party_informed = false;
            t.transition(TransferState::Suspending, self.clock.now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    pub async fn resume(&self, id: &str) -> Result<(), ServiceError> {
        self.act(id, |t| {
            if t.state != TransferState::Suspended {
                return Err(format!("only a SUSPENDED transfer can be resumed (it is {})", t.state.name()));
            }
            if t.suspended_by != Some(t.role) {
                return Err("only the party that suspended a transfer may resume it".into());
            }
            t.error_detail = None;
            t.counter_party_informed = false;
            t.transition(TransferState::Resuming, self.clock.now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    /// Provider: the operator starts a requested transfer that waits for it (an asset with transfer approval).
    pub async fn start(&self, id: &str) -> Result<(), ServiceError> {
        self.act(id, |t| {
            if t.role != NegotiationRole::Provider {
                return Err("only the provider starts a transfer; a consumer asks for one".into());
            }
            if !t.pending || t.state != TransferState::Requested {
                return Err(format!("it is {} and waits for no start", t.state.name()));
            }
            // Its state time lies in the past, so the manager, woken by the save, starts it at once.
            t.pending = false;
            Ok(())
        })
        .await
    }

    /// Either side ends a STARTED transfer as done; the counter-party is told.
    pub async fn complete(&self, id: &str) -> Result<(), ServiceError> {
        self.act(id, |t| {
            if t.state != TransferState::Started {
                return Err(format!("only a STARTED transfer can be completed (it is {})", t.state.name()));
            }
            t.counter_party_informed = false;
            t.transition(TransferState::Completing, self.clock.now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    pub async fn terminate(&self, id: &str, reason: &str) -> Result<(), ServiceError> {
        self.act(id, |t| {
            if t.state.is_terminal() || t.state == TransferState::Terminating {
                return Err(format!("the transfer has already ended ({})", t.state.name()));
            }
            t.error_detail = Some(reason.to_string());
            t.counter_party_informed = false;
            t.transition(TransferState::Terminating, self.clock.now_millis()).map_err(|e| e.to_string())
        })
        .await
    }
}
