// SPDX-License-Identifier: Apache-2.0
//! The policy monitor: re-evaluates the agreement of every running provider transfer in the `policy.monitor`
//! scope and terminates those whose contract no longer holds (the data plane is told by the manager).

use std::sync::Arc;

use dsc_domain::{Criterion, Operator, ParticipantAgent, QuerySpec, TransferState};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_store::{NegotiationStore, TransferStore};
use tokio::sync::{Notify, watch};

use super::TransferSettings;
use super::service::signed_at;
use crate::now_millis;

pub struct PolicyMonitor {
    settings: TransferSettings,
    transfers: Arc<dyn TransferStore>,
    negotiations: Arc<dyn NegotiationStore>,
    engine: Arc<PolicyEngine>,
    wake: Arc<Notify>,
}

/// Running transfers examined per round.
const PAGE: u32 = 500;

impl PolicyMonitor {
    pub fn new(
        settings: TransferSettings,
        transfers: Arc<dyn TransferStore>,
        negotiations: Arc<dyn NegotiationStore>,
        engine: Arc<PolicyEngine>,
        wake: Arc<Notify>,
    ) -> Self {
        PolicyMonitor { settings, transfers, negotiations, engine, wake }
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            if let Err(error) = self.round().await {
                tracing::warn!("policy monitor round failed: {error}");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.monitor_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One pass over the running provider transfers; returns how many were ended.
    pub async fn round(&self) -> Result<usize, dsc_store::StoreError> {
        let spec = QuerySpec {
            filter_expression: vec![
                Criterion::new("state", Operator::Eq, TransferState::Started.name().into()),
                Criterion::new("type", Operator::Eq, "PROVIDER".into()),
            ],
            limit: PAGE,
            ..QuerySpec::default()
        };
        let mut ended = 0;
        for transfer in self.transfers.query_transfers(&spec).await? {
            let Some(agreement) = self.negotiations.find_agreement(&transfer.agreement_id).await? else { continue };
            let context = PolicyContext::new(Scope::PolicyMonitor, ParticipantAgent::new(&transfer.counter_party_id))
                .with_agreement_signed_at(signed_at(&agreement));
            let Err(violation) = self.engine.evaluate(&agreement.policy, &context) else { continue };
            let holder = format!("{}-monitor", self.settings.holder);
            // Busy (the manager or a handler holds it): the next round looks again.
            let Ok(Some(mut leased)) = self.transfers.lease_transfer(&transfer.id, &holder, 10_000).await else {
                continue;
            };
            if leased.state == TransferState::Started {
                leased.error_detail = Some(format!("the contract no longer holds: {violation}"));
                leased.counter_party_informed = false;
                let _ = leased.transition(TransferState::Terminating, now_millis());
                tracing::info!(transfer = %leased.id, "policy monitor ends the transfer: {violation}");
                ended += 1;
            }
            self.transfers.save_transfer(&leased, &holder).await?;
        }
        if ended > 0 {
            self.wake.notify_one();
        }
        Ok(ended)
    }
}
