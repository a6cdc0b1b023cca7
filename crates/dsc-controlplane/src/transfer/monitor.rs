// SPDX-License-Identifier: Apache-2.0
//! The policy monitor: re-evaluates the agreement of every running provider transfer in the `policy.monitor`
//! scope and terminates those whose contract no longer holds (the data plane is told by the manager, which for a
//! Kafka transfer deletes its ACLs: the consumer is cut off as on terminate).

use std::sync::Arc;

use dsc_domain::{
    ContractAgreement, Criterion, Operator, ParticipantAgent, QuerySpec, SortOrder, TransferProcess, TransferState,
};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_store::{NegotiationStore, TransferStore};
use tokio::sync::{Notify, watch};

use super::TransferSettings;
use super::service::signed_at;

/// What a counter-party's claims are now. With the Decentralized Claims Protocol they come from verifiable
/// credentials that can be revoked while a transfer runs; the policy monitor then re-decides the agreement.
#[async_trait::async_trait]
pub trait CurrentClaims: Send + Sync {
    /// The participant with its claims as they stand now, and why any claim it had when last verified no longer
    /// counts (empty when nothing changed); `Ok(None)` when nothing is known about it; `Err` with the reason when it
    /// is no longer who it claimed to be at all (a credential every request must present was revoked, say).
    async fn current(&self, participant_id: &str) -> Result<Option<(ParticipantAgent, Vec<String>)>, String>;
}

pub struct PolicyMonitor {
    settings: TransferSettings,
    claims: Option<Arc<dyn CurrentClaims>>,
    transfers: Arc<dyn TransferStore>,
    negotiations: Arc<dyn NegotiationStore>,
    engine: Arc<PolicyEngine>,
    wake: Arc<Notify>,
}

impl PolicyMonitor {
    pub fn new(
        settings: TransferSettings,
        transfers: Arc<dyn TransferStore>,
        negotiations: Arc<dyn NegotiationStore>,
        engine: Arc<PolicyEngine>,
        wake: Arc<Notify>,
    ) -> Self {
        PolicyMonitor { settings, claims: None, transfers, negotiations, engine, wake }
    }

    /// Re-decides running agreements when a counter-party's claims changed (a revoked credential, say).
    pub fn with_current_claims(mut self, claims: Arc<dyn CurrentClaims>) -> Self {
        self.claims = Some(claims);
        self
    }

    /// Why the agreement no longer holds for the counter-party as its claims stand now, if it does not.
    async fn claims_violation(&self, transfer: &TransferProcess, agreement: &ContractAgreement) -> Option<String> {
        let (agent, changes) = match self.claims.as_ref()?.current(&transfer.counter_party_id).await {
            Ok(known) => known?,
            Err(reason) => return Some(format!("the counter-party's credentials no longer hold: {reason}")),
        };
        if changes.is_empty() {
            return None;
        }
        let context = PolicyContext::new(Scope::TransferProcess, agent).with_agreement_signed_at(signed_at(agreement));
        let violation = self.engine.evaluate(&agreement.policy, &context).err()?;
        Some(format!("{violation} ({})", changes.join("; ")))
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

    /// One pass over every running provider transfer; returns how many were ended.
    ///
    /// Pages by id (keyset, not offset), so transfers that leave STARTED during the pass do not make it skip others.
    pub async fn round(&self) -> Result<usize, dsc_store::StoreError> {
        let mut ended = 0;
        let mut after: Option<String> = None;
        loop {
            let size = self.settings.monitor_page.max(1);
            let page = self.transfers.query_transfers(&running_after(after.as_deref(), size)).await?;
            for transfer in &page {
                if self.end_if_violated(transfer).await? {
                    ended += 1;
                }
            }
            if page.len() < size as usize {
                break;
            }
            after = page.last().map(|t| t.id.clone());
        }
        if ended > 0 {
            self.wake.notify_one();
        }
        Ok(ended)
    }

    /// Moves the transfer to TERMINATING when its agreement no longer holds; true when it did.
    async fn end_if_violated(&self, transfer: &TransferProcess) -> Result<bool, dsc_store::StoreError> {
        let Some(agreement) = self.negotiations.find_agreement(&transfer.agreement_id).await? else {
            return Ok(false);
        };
        let context = PolicyContext::new(Scope::PolicyMonitor, ParticipantAgent::new(&transfer.counter_party_id))
            .with_agreement_signed_at(signed_at(&agreement));
        let violation = match self.engine.evaluate(&agreement.policy, &context) {
            Err(violation) => violation.to_string(),
            Ok(()) => match self.claims_violation(transfer, &agreement).await {
                Some(violation) => violation,
                None => return Ok(false),
            },
        };
        let holder = format!("{}-monitor", self.settings.holder);
        // Busy (the manager or a handler holds it): the next round looks again.
        let Ok(Some(mut leased)) = self.transfers.lease_transfer(&transfer.id, &holder, 10_000).await else {
            return Ok(false);
        };
        let ends = leased.state == TransferState::Started;
        if ends {
            leased.error_detail = Some(format!("the contract no longer holds: {violation}"));
            leased.counter_party_informed = false;
            let _ = leased.transition(TransferState::Terminating, self.settings.clock.now_millis());
            tracing::info!(transfer = %leased.id, "policy monitor ends the transfer: {violation}");
        }
        self.transfers.save_transfer(&leased, &holder).await?;
        Ok(ends)
    }
}

/// Up to `size` running provider transfers with an id after `after`, in id order.
fn running_after(after: Option<&str>, size: u32) -> QuerySpec {
    let mut filter_expression = vec![
        Criterion::new("state", Operator::Eq, TransferState::Started.name().into()),
        Criterion::new("type", Operator::Eq, "PROVIDER".into()),
    ];
    if let Some(after) = after {
        filter_expression.push(Criterion::new("id", Operator::Gt, after.into()));
    }
    QuerySpec {
        filter_expression,
        limit: size,
        sort_field: Some("id".into()),
        sort_order: SortOrder::Asc,
        ..QuerySpec::default()
    }
}
