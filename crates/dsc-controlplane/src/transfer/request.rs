// SPDX-License-Identifier: Apache-2.0
//! The provider's answer to a TransferRequestMessage: the agreement is the consumer's with us, a data plane
//! serves the transfer type, the type fits the asset, and the agreement's policy holds in the transfer scope.

use std::sync::Arc;

use dsc_domain::{Asset, NegotiationRole, ParticipantAgent, TransferProcess, TransferState, TransferTypeRegistry};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_signaling::DataPlaneClient;
use dsc_store::{NegotiationStore, Repository, StoreError, TransferStore};

use super::messages::TransferRequestMessage;
use super::service::signed_at;
use crate::ProtocolError;

pub(super) struct RequestCheck {
    pub participant_id: String,
    pub negotiations: Arc<dyn NegotiationStore>,
    pub assets: Arc<dyn Repository<Asset>>,
    pub data_planes: Arc<dyn DataPlaneClient>,
    pub engine: Arc<PolicyEngine>,
    /// The registered transfer types: aliases peers use, and the address type each serves.
    pub transfer_types: Arc<TransferTypeRegistry>,
}

impl RequestCheck {
    /// Creates the provider's transfer for an acceptable request, or answers a repeated one with the first
    /// one's process.
    pub async fn accept(
        &self,
        store: &dyn TransferStore,
        peer: &ParticipantAgent,
        message: TransferRequestMessage,
        now: i64,
    ) -> Result<TransferProcess, ProtocolError> {
        let TransferRequestMessage { consumer_pid, agreement_id, transfer_type, callback_address, protocol } = message;
        if let Some(existing) =
            store.find_transfer_by_correlation(NegotiationRole::Provider, &peer.id, &consumer_pid).await?
        {
            return Ok(existing);
        }
        let format = self.transfer_types.canonical(&transfer_type);
        let agreement = self
            .negotiations
            .find_agreement(&agreement_id)
            .await?
            .filter(|a| a.consumer_id == peer.id && a.provider_id == self.participant_id)
            .ok_or_else(|| ProtocolError::Refused(format!("agreement '{agreement_id}' is unknown")))?;
        if !self.data_planes.supports(format).await {
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
        // A type the registry does not know (a remote data plane's) is matched by its name's destination part.
        let served = match self.transfer_types.find(format) {
            Some(known) => Some(known.address_type.as_str()),
            None => format.rsplit_once('-').map(|(destination, _)| destination),
        };
        if served != Some(address_type) {
            return Err(ProtocolError::Refused(format!(
                "transfer type '{format}' does not fit asset '{}' (data address type '{address_type}')",
                agreement.asset_id
            )));
        }
        let context =
            PolicyContext::new(Scope::TransferProcess, peer.clone()).with_agreement_signed_at(signed_at(&agreement));
        self.engine.evaluate(&agreement.policy, &context).map_err(|v| ProtocolError::Refused(v.to_string()))?;
        let mut transfer = TransferProcess {
            id: uuid::Uuid::new_v4().to_string(),
            correlation_id: Some(consumer_pid.clone()),
            counter_party_id: peer.id.clone(),
            counter_party_address: callback_address.trim_end_matches('/').to_string(),
            protocol,
            role: NegotiationRole::Provider,
            state: TransferState::Initial,
            state_count: 1,
            pending: false,
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
            trace_context: dsc_telemetry::current_traceparent(),
            created_at: now,
            updated_at: now,
        };
        transfer.transition(TransferState::Requested, now).map_err(|e| ProtocolError::InvalidState(e.to_string()))?;
        // The asset's operator starts it by hand (or terminates it).
        transfer.pending = asset.approval().transfer;
        match store.create_transfer(&transfer).await {
            Ok(()) => {}
            // The same request arrived twice at once: answer with the first one's process.
            Err(StoreError::AlreadyExists { .. }) => {
                return store
                    .find_transfer_by_correlation(NegotiationRole::Provider, &peer.id, &consumer_pid)
                    .await?
                    .ok_or_else(|| ProtocolError::Unavailable("concurrent duplicate request".into()));
            }
            Err(other) => return Err(other.into()),
        }
        tracing::debug!(transfer = %transfer.id, consumer = %peer.id, transfer_type = %format, pending = transfer.pending, "transfer request received");
        Ok(transfer)
    }
}
