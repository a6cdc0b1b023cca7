// SPDX-License-Identifier: Apache-2.0
//! Starting the transfer of a negotiation that was started for an EDR, once it is FINALIZED.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_domain::{Criterion, NegotiationRole, Operator, QuerySpec};

use crate::callbacks::EventListener;
use crate::negotiation::NegotiationService;
use crate::protocol::Counterparty;
use crate::transfer::{TransferRequest, TransferService};

/// Listens on [`super::EDR_CALLBACK`] and starts one transfer of `transfer_type` under the finalized agreement.
pub struct EdrTransferStarter {
    negotiations: Arc<NegotiationService>,
    transfers: Arc<TransferService>,
    transfer_type: String,
}

impl EdrTransferStarter {
    pub fn new(
        negotiations: Arc<NegotiationService>,
        transfers: Arc<TransferService>,
        transfer_type: impl Into<String>,
    ) -> Self {
        EdrTransferStarter { negotiations, transfers, transfer_type: transfer_type.into() }
    }

    /// Whether a transfer under the agreement exists already: the outbox delivers at least once, so an event seen
    /// again after a crash must not start a second transfer.
    async fn already_started(&self, agreement_id: &str) -> Result<bool, String> {
        let spec = QuerySpec {
            filter_expression: vec![
                Criterion::new("contractId", Operator::Eq, agreement_id.into()),
                Criterion::new("type", Operator::Eq, "CONSUMER".into()),
            ],
            limit: 1,
            ..QuerySpec::default()
        };
        self.transfers.query(&spec).await.map(|found| !found.is_empty()).map_err(|e| e.to_string())
    }
}

#[async_trait]
impl EventListener for EdrTransferStarter {
    async fn on_event(&self, body: &str) -> Result<(), String> {
        let event: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("the event is not JSON: {e}"))?;
        let id =
            event["payload"]["contractNegotiationId"].as_str().ok_or("the event names no contractNegotiationId")?;
        // The stored negotiation, not the event's copy, is what the transfer is started from.
        let negotiation = self.negotiations.find(id).await.map_err(|e| e.to_string())?;
        if negotiation.role != NegotiationRole::Consumer {
            return Err(format!("negotiation {id} is not a consumer negotiation"));
        }
        let agreement = negotiation.agreement.as_ref().ok_or_else(|| format!("negotiation {id} has no agreement"))?;
        if self.already_started(&agreement.id).await? {
            return Ok(());
        }
        let request = TransferRequest {
            provider: Counterparty {
                address: negotiation.counter_party_address.clone(),
                id: negotiation.counter_party_id.clone(),
                protocol: negotiation.protocol.clone(),
            },
            agreement_id: agreement.id.clone(),
            transfer_type: self.transfer_type.clone(),
            data_destination: None,
            callback_addresses: Vec::new(),
        };
        let transfer = self.transfers.initiate(request).await.map_err(|e| e.to_string())?;
        tracing::debug!(negotiation = %id, transfer = %transfer.id, "EDR negotiation finalized, transfer requested");
        Ok(())
    }
}
