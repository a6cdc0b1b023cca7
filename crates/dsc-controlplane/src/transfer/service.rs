// SPDX-License-Identifier: Apache-2.0
//! The transfer protocol service: what a counter-party's messages do, in either role. The protocol binding hands
//! it typed messages ([`super::messages`]) after validating and transforming the wire form; the service checks
//! sender, process ids and state, keeps or forgets the address a message carries, and saves the transition for
//! the manager to act on.

use std::sync::Arc;

use dsc_domain::{
    Asset, Clock, ContractAgreement, DataAddress, NegotiationRole, ParticipantAgent, TransferProcess, TransferState,
};
use dsc_policy::PolicyEngine;
use dsc_signaling::DataPlaneClient;
use dsc_store::{NegotiationStore, Repository, TransferStore};
use dsc_vault::Vault;
use tokio::sync::Notify;

use super::messages::{
    TransferCompletionMessage, TransferRequestMessage, TransferStartMessage, TransferSuspensionMessage,
    TransferTerminationMessage,
};
use super::request::RequestCheck;
use super::{TransferSettings, address_key, keep_address};
use crate::lease::{Expected, Leased};
use crate::{ProcessIds, ProtocolError};

pub struct TransferProtocolService {
    settings: TransferSettings,
    store: Arc<dyn TransferStore>,
    requests: RequestCheck,
    vault: Arc<dyn Vault>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
}

pub(crate) fn signed_at(agreement: &ContractAgreement) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(agreement.contract_signing_date, 0).unwrap_or_default()
}

impl TransferProtocolService {
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
        clock: Arc<dyn Clock>,
    ) -> Self {
        let participant_id = settings.participant_id.clone();
        let transfer_types = settings.transfer_types.clone();
        let requests = RequestCheck { participant_id, negotiations, assets, data_planes, engine, transfer_types };
        TransferProtocolService { settings, store, requests, vault, wake, clock }
    }

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
        message: TransferRequestMessage,
    ) -> Result<TransferProcess, ProtocolError> {
        let transfer = self.requests.accept(&*self.store, peer, message, self.clock.now_millis()).await?;
        self.wake.notify_one();
        Ok(transfer)
    }

    /// Applies `change` to our transfer of `role` that the message names, under its lease, then saves and wakes
    /// the manager. The vault is written before the state that refers to it is saved, and cleared after.
    async fn update(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        process: &ProcessIds,
        change: impl FnOnce(&mut TransferProcess) -> Result<Option<Effect>, ProtocolError>,
    ) -> Result<(), ProtocolError> {
        let holder = format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4());
        let expected = Expected::message(&peer.id, role, process.other(role));
        let mut leased = Leased::take::<ProtocolError>(&*self.store, process.own(role), holder, expected).await?;
        let effect = match change(&mut leased.process) {
            Ok(effect) => effect,
            Err(error) => return Err(leased.release(error).await),
        };
        if let Some(Effect::Keep(address)) = &effect {
            let key = address_key(&leased.process.id);
            if let Err(reason) = keep_address(&self.vault, &key, address).await {
                let error = ProtocolError::Unavailable(format!("cannot keep the data address: {reason}"));
                return Err(leased.release(error).await);
            }
            leased.process.data_address_key = Some(key);
        }
        let transfer = leased.save::<ProtocolError>(&self.wake).await?;
        if let Some(Effect::Forget) = effect {
            forget_address(&self.vault, &transfer).await;
        }
        Ok(())
    }

    fn move_to(&self, transfer: &mut TransferProcess, next: TransferState) -> Result<(), ProtocolError> {
        transfer.transition(next, self.clock.now_millis()).map_err(|e| ProtocolError::InvalidState(e.to_string()))
    }

    /// TransferStartMessage. Consumer: the provider started (or resumed) the transfer and sends the address.
    /// Provider: the consumer asks to resume a transfer it suspended.
    pub async fn started(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        message: TransferStartMessage,
    ) -> Result<(), ProtocolError> {
        let TransferStartMessage { process, data_address } = message;
        self.update(peer, role, &process, |t| match role {
            NegotiationRole::Consumer => {
                if t.correlation_id.is_none() {
                    t.correlation_id = Some(process.other(role).to_string());
                }
                if t.state == TransferState::Requesting {
                    self.move_to(t, TransferState::Requested)?;
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
                self.move_to(t, TransferState::Started)?;
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
                self.move_to(t, TransferState::Starting).map(|_| None)
            }
        })
        .await
    }

    /// TransferSuspensionMessage from the counter-party.
    pub async fn suspended(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        message: TransferSuspensionMessage,
    ) -> Result<(), ProtocolError> {
        let TransferSuspensionMessage { process, reason } = message;
        let other_role = match role {
            NegotiationRole::Consumer => NegotiationRole::Provider,
            NegotiationRole::Provider => NegotiationRole::Consumer,
        };
        self.update(peer, role, &process, |t| {
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
                NegotiationRole::Consumer => self.move_to(t, TransferState::Suspended).map(|_| Some(Effect::Forget)),
                NegotiationRole::Provider => self.move_to(t, TransferState::Suspending).map(|_| None),
            }
        })
        .await
    }

    /// TransferCompletionMessage from the counter-party.
    pub async fn completed(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        message: TransferCompletionMessage,
    ) -> Result<(), ProtocolError> {
        self.update(peer, role, &message.process, |t| {
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
                NegotiationRole::Consumer => self.move_to(t, TransferState::Completed).map(|_| Some(Effect::Forget)),
                NegotiationRole::Provider => self.move_to(t, TransferState::Completing).map(|_| None),
            }
        })
        .await
    }

    /// TransferTerminationMessage from the counter-party.
    pub async fn terminated(
        &self,
        peer: &ParticipantAgent,
        role: NegotiationRole,
        message: TransferTerminationMessage,
    ) -> Result<(), ProtocolError> {
        let TransferTerminationMessage { process, reason } = message;
        self.update(peer, role, &process, |t| {
            if matches!(t.state, TransferState::Terminated | TransferState::Terminating) {
                return Ok(None);
            }
            if t.state.is_terminal() {
                return Err(ProtocolError::InvalidState(format!("the transfer is already {}", t.state.name())));
            }
            t.error_detail = Some(reason.clone().unwrap_or_else(|| "terminated by the counter-party".into()));
            t.counter_party_informed = true;
            match role {
                NegotiationRole::Consumer => self.move_to(t, TransferState::Terminated).map(|_| Some(Effect::Forget)),
                // The data plane must still cut access; the manager does that without messaging the consumer.
                NegotiationRole::Provider if t.data_flow_started => {
                    self.move_to(t, TransferState::Terminating).map(|_| None)
                }
                NegotiationRole::Provider => self.move_to(t, TransferState::Terminated).map(|_| None),
            }
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
