// SPDX-License-Identifier: Apache-2.0
//! The data plane's callbacks (Data Plane Signaling, control plane side): a started flow's address, the end of
//! the data, a wire error. They concern provider transfers only; a consumer transfer is "not found" here.

use std::sync::Arc;

use dsc_domain::{Clock, DataAddress, NegotiationRole, TransferState};
use dsc_store::TransferStore;
use dsc_vault::Vault;
use tokio::sync::Notify;

use super::management::act;
use super::{TransferSettings, address_key, keep_address};
use crate::ServiceError;
use crate::lease::{Expected, Leased};

pub struct DataFlowCallbackService {
    settings: TransferSettings,
    store: Arc<dyn TransferStore>,
    vault: Arc<dyn Vault>,
    wake: Arc<Notify>,
    clock: Arc<dyn Clock>,
}

impl DataFlowCallbackService {
    pub fn new(
        settings: TransferSettings,
        store: Arc<dyn TransferStore>,
        vault: Arc<dyn Vault>,
        wake: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        DataFlowCallbackService { settings, store, vault, wake, clock }
    }

    fn holder(&self) -> String {
        format!("{}-handler-{}", self.settings.holder, uuid::Uuid::new_v4())
    }

    /// An asynchronous start finished: the data plane sends the address the manager then delivers.
    pub async fn flow_started(&self, id: &str, address: Option<DataAddress>) -> Result<(), ServiceError> {
        let expected = Expected::role(NegotiationRole::Provider);
        let mut leased = Leased::take::<ServiceError>(&*self.store, id, self.holder(), expected).await?;
        let conflict =
            |reason: String| ServiceError::AlreadyExists { kind: "TransferProcess", id: format!("{id}: {reason}") };
        let state = leased.process.state;
        if !matches!(state, TransferState::Requested | TransferState::Starting | TransferState::Resuming) {
            let reason = format!("no start is pending (the transfer is {})", state.name());
            return Err(leased.release(conflict(reason)).await);
        }
        // The vault is written before the state that refers to it is saved.
        if let Some(address) = &address {
            let key = address_key(id);
            if let Err(reason) = keep_address(&self.vault, &key, address).await {
                return Err(leased.release(ServiceError::Internal(reason)).await);
            }
            leased.process.data_address_key = Some(key);
        }
        let t = &mut leased.process;
        t.data_flow_started = true;
        t.pending = false;
        // Due now: the manager delivers the address without waiting for its retry.
        if let Err(error) = t.transition(t.state, self.clock.now_millis()) {
            return Err(leased.release(conflict(error.to_string())).await);
        }
        leased.save::<ServiceError>(&self.wake).await.map(|_| ())
    }

    /// The data plane saw the end of the data (push transfers; a pull consumer's data plane would signal it).
    pub async fn flow_completed(&self, id: &str) -> Result<(), ServiceError> {
        let expected = Expected::role(NegotiationRole::Provider);
        act(&*self.store, &self.wake, self.holder(), id, expected, |t| {
            if matches!(t.state, TransferState::Completing | TransferState::Completed) {
                return Ok(());
            }
            if t.state != TransferState::Started {
                return Err(format!("only a STARTED transfer can complete (it is {})", t.state.name()));
            }
            t.counter_party_informed = false;
            t.transition(TransferState::Completing, self.clock.now_millis()).map_err(|e| e.to_string())
        })
        .await
    }

    /// A wire error the data plane reports: recorded, no state change, not forwarded over DSP (as the
    /// specification asks).
    pub async fn flow_errored(&self, id: &str, error: &str) -> Result<(), ServiceError> {
        let expected = Expected::role(NegotiationRole::Provider);
        act(&*self.store, &self.wake, self.holder(), id, expected, |t| {
            tracing::warn!(transfer = %id, "data plane reports an error: {error}");
            t.error_detail = Some(format!("data plane: {error}"));
            // An asynchronous start that failed: nothing else would ever move the waiting transfer on.
            if t.pending && t.state == TransferState::Requested {
                t.counter_party_informed = false;
                return t.transition(TransferState::Terminating, self.clock.now_millis()).map_err(|e| e.to_string());
            }
            Ok(())
        })
        .await
    }
}
