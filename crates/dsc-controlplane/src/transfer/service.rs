// SPDX-License-Identifier: Apache-2.0
//! The transfer service: Management API calls and inbound protocol messages (both roles).

use std::sync::Arc;

use dsc_domain::{
    Asset, CallbackAddress, ContractAgreement, DataAddress, NegotiationRole, ParticipantAgent, QuerySpec,
    TransferProcess, TransferState,
};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_signaling::DataPlaneClient;
use dsc_store::{NegotiationStore, Repository, StoreError, TransferStore};
use dsc_vault::Vault;
use tokio::sync::Notify;

use super::{TransferSettings, address_key, keep_address, read_address};
use crate::negotiation::ProtocolError;
use crate::protocol::Counterparty;
use crate::{ServiceError, now_millis};

const KIND: &str = "TransferProcess";
const HANDLER_LEASE_MS: i64 = 10_000;

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
    assets: Arc<dyn Repository<Asset>>,
    data_planes: Arc<dyn DataPlaneClient>,
    vault: Arc<dyn Vault>,
    engine: Arc<PolicyEngine>,
    wake: Arc<Notify>,
}

pub(crate) fn signed_at(agreement: &ContractAgreement) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(agreement.contract_signing_date, 0).unwrap_or_default()
}

impl TransferService {
    /// Wiring only: each argument is one collaborator the service needs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        settings: TransferSettings,
        store: Arc<dyn TransferStore>,
        negotiations: Arc<dyn NegotiationStore>,
        assets: Arc<dyn Repository<Asset>>,
        data_planes: Arc<dyn DataPlaneClient>,
        vault: Arc<dyn Vault>,
        engine: Arc<PolicyEngine>,
        wake: Arc<Notify>,
    ) -> Self {
        TransferService { settings, store, negotiations, assets, data_planes, vault, engine, wake }
    }

    fn holder(&self) -> String {
        format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4())
    }

    fn not_found(id: &str) -> ServiceError {
        ServiceError::NotFound { kind: KIND, id: id.to_string() }
    }

    // ---- Management API ----

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
        let now = now_millis();
        let mut transfer = TransferProcess {
            id: uuid::Uuid::new_v4().to_string(),
            correlation_id: None,
            counter_party_id: request.provider.id,
            counter_party_address: request.provider.address,
            protocol: request.provider.protocol,
            role: NegotiationRole::Consumer,
            state: TransferState::Initial,
            state_count: 1,
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
            created_at: now,
            updated_at: now,
        };
        transfer.transition(TransferState::Requesting, now).map_err(|e| ServiceError::Internal(e.to_string()))?;
        self.store.create_transfer(&transfer).await?;
        tracing::info!(transfer = %transfer.id, agreement = %transfer.agreement_id, "transfer requested");
        self.wake.notify_one();
        Ok(transfer)
    }

    pub async fn find(&self, id: &str) -> Result<TransferProcess, ServiceError> {
        self.store.find_transfer(id).await?.ok_or_else(|| Self::not_found(id))
    }

    pub async fn query(&self, spec: &QuerySpec) -> Result<Vec<TransferProcess>, ServiceError> {
        Ok(self.store.query_transfers(spec).await?)
    }

    /// Consumer: the EDR the provider sent for a started transfer.
    pub async fn data_address(&self, id: &str) -> Result<Option<DataAddress>, ServiceError> {
        let transfer = self.find(id).await?;
        match (&transfer.data_address_key, transfer.state) {
            (Some(key), TransferState::Started) => read_address(&self.vault, key).await.map_err(ServiceError::Internal),
            _ => Ok(None),
        }
    }

    /// Replaces the stored EDR of a started consumer transfer (after a token refresh).
    pub async fn replace_data_address(&self, id: &str, address: &DataAddress) -> Result<(), ServiceError> {
        let transfer = self.find(id).await?;
        let key = transfer.data_address_key.ok_or_else(|| Self::not_found(id))?;
        keep_address(&self.vault, &key, address).await.map_err(ServiceError::Internal)
    }

    /// Applies a local API action under a lease. `action` says whether anything changed.
    async fn act<F>(&self, id: &str, action: F) -> Result<(), ServiceError>
    where
        F: FnOnce(&mut TransferProcess) -> Result<(), String>,
    {
        let holder = self.holder();
        let mut transfer =
            self.store.lease_transfer(id, &holder, HANDLER_LEASE_MS).await?.ok_or_else(|| Self::not_found(id))?;
        let outcome = action(&mut transfer);
        if outcome.is_err() {
            transfer = self.store.find_transfer(id).await?.unwrap_or(transfer);
        }
        self.store.save_transfer(&transfer, &holder).await?;
        self.wake.notify_one();
        outcome.map_err(|reason| ServiceError::AlreadyExists { kind: KIND, id: format!("{id}: {reason}") })
    }

    pub async fn suspend(&self, id: &str, reason: &str) -> Result<(), ServiceError> {
        self.act(id, |t| {
            if t.state != TransferState::Started {
                return Err(format!("only a STARTED transfer can be suspended (it is {})", t.state.name()));
            }
            t.error_detail = Some(reason.to_string());
            t.suspended_by = Some(t.role);
            t.counter_party_informed = false;
            t.transition(TransferState::Suspending, now_millis()).map_err(|e| e.to_string())
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
            t.transition(TransferState::Resuming, now_millis()).map_err(|e| e.to_string())
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
            t.transition(TransferState::Terminating, now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    // ---- Inbound protocol messages ----

    pub async fn for_peer(&self, peer: &ParticipantAgent, id: &str) -> Result<TransferProcess, ProtocolError> {
        match self.store.find_transfer(id).await? {
            Some(transfer) if transfer.counter_party_id == peer.id => Ok(transfer),
            _ => Err(ProtocolError::NotFound(id.to_string())),
        }
    }

    /// Provider: a TransferRequestMessage. Idempotent per (consumer, consumerPid).
    pub async fn requested(
        &self,
        peer: &ParticipantAgent,
        consumer_pid: &str,
        agreement_id: &str,
        format: &str,
        callback_address: &str,
        protocol: &str,
    ) -> Result<TransferProcess, ProtocolError> {
        if let Some(existing) =
            self.store.find_transfer_by_correlation(NegotiationRole::Provider, &peer.id, consumer_pid).await?
        {
            return Ok(existing);
        }
        let format = self.settings.transfer_types.canonical(format);
        let agreement = self
            .negotiations
            .find_agreement(agreement_id)
            .await?
            .filter(|a| a.consumer_id == peer.id && a.provider_id == self.settings.participant_id)
            .ok_or_else(|| ProtocolError::Refused(format!("agreement '{agreement_id}' is unknown")))?;
        if !self.data_planes.transfer_types().iter().any(|t| t == format) {
            return Err(ProtocolError::Refused(format!(
                "transfer type '{format}' is not supported; supported: {}",
                self.data_planes.transfer_types().join(", ")
            )));
        }
        // The type must fit the asset: `HttpData-PULL` for an `HttpData` address, and so on.
        let asset = self.assets.find(&agreement.asset_id).await?.ok_or_else(|| {
            ProtocolError::Refused(format!("the asset of agreement '{agreement_id}' no longer exists"))
        })?;
        let address_type = asset.data_address.address_type().unwrap_or_default();
        if format.rsplit_once('-').map(|(destination, _)| destination) != Some(address_type) {
            return Err(ProtocolError::Refused(format!(
                "transfer type '{format}' does not fit asset '{}' (data address type '{address_type}')",
                agreement.asset_id
            )));
        }
        let context =
            PolicyContext::new(Scope::TransferProcess, peer.clone()).with_agreement_signed_at(signed_at(&agreement));
        self.engine.evaluate(&agreement.policy, &context).map_err(|v| ProtocolError::Refused(v.to_string()))?;
        let now = now_millis();
        let mut transfer = TransferProcess {
            id: uuid::Uuid::new_v4().to_string(),
            correlation_id: Some(consumer_pid.to_string()),
            counter_party_id: peer.id.clone(),
            counter_party_address: callback_address.trim_end_matches('/').to_string(),
            protocol: protocol.to_string(),
            role: NegotiationRole::Provider,
            state: TransferState::Initial,
            state_count: 1,
            state_timestamp: now,
            error_detail: None,
            agreement_id: agreement.id.clone(),
            asset_id: agreement.asset_id.clone(),
            transfer_type: format.to_string(),
            data_destination: None,
            data_address_key: None,
            suspended_by: None,
            counter_party_informed: false,
            data_flow_started: false,
            callback_addresses: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        transfer.transition(TransferState::Requested, now).map_err(|e| ProtocolError::InvalidState(e.to_string()))?;
        match self.store.create_transfer(&transfer).await {
            Ok(()) => {}
            Err(StoreError::AlreadyExists { .. }) => {
                return self
                    .store
                    .find_transfer_by_correlation(NegotiationRole::Provider, &peer.id, consumer_pid)
                    .await?
                    .ok_or_else(|| ProtocolError::Unavailable("concurrent duplicate request".into()));
            }
            Err(other) => return Err(other.into()),
        }
        tracing::info!(transfer = %transfer.id, consumer = %peer.id, transfer_type = %format, "transfer request received");
        self.wake.notify_one();
        Ok(transfer)
    }

    /// Applies `change` to transfer `id` of `role` owned by `peer` under a lease, then saves and wakes the
    /// manager. The change may do I/O (the vault) before the save.
    async fn update(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        id: &str,
        correlation: &str,
        change: impl FnOnce(&mut TransferProcess) -> Result<Option<Effect>, ProtocolError>,
    ) -> Result<TransferProcess, ProtocolError> {
        let holder = self.holder();
        let mut attempt = 0;
        let leased = loop {
            match self.store.lease_transfer(id, &holder, HANDLER_LEASE_MS).await {
                Err(StoreError::LeaseHeld { .. }) if attempt < 20 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
                }
                other => break other?,
            }
        };
        let mut transfer = match leased {
            Some(t) if t.role == role && t.counter_party_id == peer.id => t,
            Some(t) => {
                let _ = self.store.save_transfer(&t, &holder).await;
                return Err(ProtocolError::NotFound(id.to_string()));
            }
            None => return Err(ProtocolError::NotFound(id.to_string())),
        };
        let result = match &transfer.correlation_id {
            Some(known) if known != correlation => {
                Err(ProtocolError::InvalidState(format!("the process ids do not match transfer '{id}'")))
            }
            _ => change(&mut transfer),
        };
        let effect = match result {
            Ok(effect) => effect,
            Err(error) => {
                let unchanged = self.store.find_transfer(id).await?.unwrap_or(transfer);
                let _ = self.store.save_transfer(&unchanged, &holder).await;
                return Err(error);
            }
        };
        // The vault is written before the state that refers to it is saved, and cleared after.
        if let Some(Effect::Keep(address)) = &effect {
            let key = address_key(&transfer.id);
            if let Err(reason) = keep_address(&self.vault, &key, address).await {
                let _ =
                    self.store.save_transfer(&self.store.find_transfer(id).await?.unwrap_or(transfer), &holder).await;
                return Err(ProtocolError::Unavailable(format!("cannot keep the data address: {reason}")));
            }
            transfer.data_address_key = Some(key);
        }
        self.store.save_transfer(&transfer, &holder).await?;
        if let Some(Effect::Forget) = effect {
            forget_address(&self.vault, &transfer).await;
        }
        self.wake.notify_one();
        Ok(transfer)
    }

    fn move_to(transfer: &mut TransferProcess, next: TransferState) -> Result<(), ProtocolError> {
        transfer.transition(next, now_millis()).map_err(|e| ProtocolError::InvalidState(e.to_string()))
    }

    /// TransferStartMessage. Consumer: the provider started (or resumed) the transfer and sends the address.
    /// Provider: the consumer asks to resume a transfer it suspended.
    pub async fn started(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        own_pid: &str,
        other_pid: &str,
        data_address: Option<DataAddress>,
    ) -> Result<(), ProtocolError> {
        self.update(peer, role, own_pid, other_pid, |t| match role {
            NegotiationRole::Consumer => {
                if t.correlation_id.is_none() {
                    t.correlation_id = Some(other_pid.to_string());
                }
                if t.state == TransferState::Requesting {
                    Self::move_to(t, TransferState::Requested)?;
                }
                if !matches!(
                    t.state,
                    TransferState::Requested
                        | TransferState::Started
                        | TransferState::Suspended
                        | TransferState::Resumed
                        | TransferState::Resuming
                ) {
                    return Err(ProtocolError::InvalidState(format!(
                        "a start message is not accepted for a {} transfer",
                        t.state.name()
                    )));
                }
                if t.state == TransferState::Suspended && t.suspended_by == Some(NegotiationRole::Consumer) {
                    return Err(ProtocolError::InvalidState(
                        "the consumer suspended this transfer; only it may resume".into(),
                    ));
                }
                if dsc_domain::FlowType::is_pull(&t.transfer_type) && data_address.is_none() {
                    return Err(ProtocolError::Refused(
                        "a pull transfer's start message must carry a dataAddress".into(),
                    ));
                }
                t.suspended_by = None;
                t.error_detail = None;
                Self::move_to(t, TransferState::Started)?;
                Ok(data_address.clone().map(Effect::Keep))
            }
            NegotiationRole::Provider => {
                if matches!(t.state, TransferState::Starting | TransferState::Started) {
                    return Ok(None);
                }
                if t.state != TransferState::Suspended {
                    return Err(ProtocolError::InvalidState(format!(
                        "only a SUSPENDED transfer can be resumed (it is {})",
                        t.state.name()
                    )));
                }
                if t.suspended_by != Some(NegotiationRole::Consumer) {
                    return Err(ProtocolError::InvalidState(
                        "the provider suspended this transfer; only the provider may resume it".into(),
                    ));
                }
                t.error_detail = None;
                Self::move_to(t, TransferState::Starting).map(|_| None)
            }
        })
        .await
        .map(|_| ())
    }

    /// TransferSuspensionMessage from the counter-party.
    pub async fn suspended(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        own_pid: &str,
        other_pid: &str,
        reason: Option<String>,
    ) -> Result<(), ProtocolError> {
        let other_role = match role {
            NegotiationRole::Consumer => NegotiationRole::Provider,
            NegotiationRole::Provider => NegotiationRole::Consumer,
        };
        self.update(peer, role, own_pid, other_pid, |t| {
            if matches!(t.state, TransferState::Suspended | TransferState::Suspending) {
                return Ok(None);
            }
            if t.state != TransferState::Started {
                return Err(ProtocolError::InvalidState(format!(
                    "only a STARTED transfer can be suspended (it is {})",
                    t.state.name()
                )));
            }
            t.suspended_by = Some(other_role);
            t.error_detail = reason.clone().or_else(|| Some("suspended by the counter-party".into()));
            t.counter_party_informed = true;
            match role {
                // The consumer has no data plane to tell: its EDR is simply no longer valid.
                NegotiationRole::Consumer => Self::move_to(t, TransferState::Suspended).map(|_| Some(Effect::Forget)),
                NegotiationRole::Provider => Self::move_to(t, TransferState::Suspending).map(|_| None),
            }
        })
        .await
        .map(|_| ())
    }

    /// TransferCompletionMessage from the counter-party.
    pub async fn completed(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        own_pid: &str,
        other_pid: &str,
    ) -> Result<(), ProtocolError> {
        self.update(peer, role, own_pid, other_pid, |t| {
            if matches!(t.state, TransferState::Completed | TransferState::Completing) {
                return Ok(None);
            }
            if t.state != TransferState::Started {
                return Err(ProtocolError::InvalidState(format!(
                    "only a STARTED transfer can complete (it is {})",
                    t.state.name()
                )));
            }
            t.counter_party_informed = true;
            match role {
                NegotiationRole::Consumer => Self::move_to(t, TransferState::Completed).map(|_| Some(Effect::Forget)),
                NegotiationRole::Provider => Self::move_to(t, TransferState::Completing).map(|_| None),
            }
        })
        .await
        .map(|_| ())
    }

    /// TransferTerminationMessage from the counter-party.
    pub async fn terminated(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        own_pid: &str,
        other_pid: &str,
        reason: Option<String>,
    ) -> Result<(), ProtocolError> {
        self.update(peer, role, own_pid, other_pid, |t| {
            if matches!(t.state, TransferState::Terminated | TransferState::Terminating) {
                return Ok(None);
            }
            if t.state.is_terminal() {
                return Err(ProtocolError::InvalidState(format!("the transfer is already {}", t.state.name())));
            }
            t.error_detail = Some(reason.clone().unwrap_or_else(|| "terminated by the counter-party".into()));
            t.counter_party_informed = true;
            match role {
                NegotiationRole::Consumer => Self::move_to(t, TransferState::Terminated).map(|_| Some(Effect::Forget)),
                // The data plane must still cut access; the manager does that without messaging the consumer.
                NegotiationRole::Provider if t.data_flow_started => {
                    Self::move_to(t, TransferState::Terminating).map(|_| None)
                }
                NegotiationRole::Provider => Self::move_to(t, TransferState::Terminated).map(|_| None),
            }
        })
        .await
        .map(|_| ())
    }

    // ---- Data plane callbacks (Data Plane Signaling, control plane side) ----

    async fn provider_transfer(&self, id: &str) -> Result<TransferProcess, ServiceError> {
        match self.store.find_transfer(id).await? {
            Some(transfer) if transfer.role == NegotiationRole::Provider => Ok(transfer),
            _ => Err(Self::not_found(id)),
        }
    }

    /// An asynchronous start finished: the data plane sends the address the manager then delivers.
    pub async fn flow_started(&self, id: &str, address: Option<DataAddress>) -> Result<(), ServiceError> {
        self.provider_transfer(id).await?;
        let key = address_key(id);
        if let Some(address) = &address {
            keep_address(&self.vault, &key, address).await.map_err(ServiceError::Internal)?;
        }
        self.act(id, |t| {
            if !matches!(t.state, TransferState::Requested | TransferState::Starting | TransferState::Resuming) {
                return Err(format!("no start is pending (the transfer is {})", t.state.name()));
            }
            t.data_flow_started = true;
            if address.is_some() {
                t.data_address_key = Some(key.clone());
            }
            // Due now: the manager delivers the address without waiting for its retry.
            t.transition(t.state, now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    /// The data plane saw the end of the data (push transfers; a pull consumer's data plane would signal it).
    pub async fn flow_completed(&self, id: &str) -> Result<(), ServiceError> {
        self.provider_transfer(id).await?;
        self.act(id, |t| {
            if matches!(t.state, TransferState::Completing | TransferState::Completed) {
                return Ok(());
            }
            if t.state != TransferState::Started {
                return Err(format!("only a STARTED transfer can complete (it is {})", t.state.name()));
            }
            t.counter_party_informed = false;
            t.transition(TransferState::Completing, now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    /// A wire error the data plane reports: recorded, no state change, not forwarded over DSP (as the
    /// specification asks).
    pub async fn flow_errored(&self, id: &str, error: &str) -> Result<(), ServiceError> {
        self.provider_transfer(id).await?;
        tracing::warn!(transfer = %id, "data plane reports an error: {error}");
        self.act(id, |t| {
            t.error_detail = Some(format!("data plane: {error}"));
            Ok(())
        })
        .await
    }
}

/// What an inbound message does to the vault besides the state change.
pub(crate) enum Effect {
    /// Keep the data address the message carried.
    Keep(DataAddress),
    /// The address is no longer valid: remove it.
    Forget,
}

pub(crate) async fn forget_address(vault: &Arc<dyn Vault>, transfer: &TransferProcess) {
    if let Some(key) = &transfer.data_address_key
        && let Err(error) = vault.delete(key).await
    {
        tracing::warn!(transfer = %transfer.id, "could not remove the data address from the vault: {error}");
    }
}
