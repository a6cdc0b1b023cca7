// SPDX-License-Identifier: Apache-2.0
//! The reconciler: saved grants are the truth, the broker is made to match them.
//!
//! - An ACTIVE grant of a STARTED flow must have its three ACLs; missing ones are re-created.
//! - Any other live grant (its flow suspended, ended or never saved; provisioning abandoned by a crash; a
//!   revocation that failed halfway) is revoked to the end, once it is older than the grace period (a start may be
//!   under way on this or another replica).
//! - ACLs on the broker whose principal belonged to one of our grants but to no live one are deleted. ACLs of
//!   principals we never created are not ours and are left alone.
//!
//! One DescribeAcls call covers every grant, so a pass over thousands of grants costs one broker round trip plus
//! one store read per grant; repairs go out in batches too (one CreateAcls or DeleteAcls per thousand grants).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::{KafkaGrant, KafkaGrantState};
use dsc_dataplane::FlowError;
use dsc_domain::DataFlowState;
use dsc_kafka_admin::{AclBinding, ConsumerGrant};
use futures::stream::{self, StreamExt};

use crate::KafkaPull;

/// What one pass found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    pub grants_checked: usize,
    /// ACTIVE grants whose missing ACLs were re-created.
    pub acls_restored: usize,
    /// Grants revoked because their flow no longer allows access (or never existed).
    pub grants_revoked: usize,
    /// Principals whose leftover ACLs were deleted.
    pub orphan_principals_removed: usize,
    /// Grants left for a later pass (young, or their repair failed).
    pub deferred: usize,
    pub elapsed_ms: u128,
}

fn expected(grant: &ConsumerGrant) -> BTreeSet<(String, String, String, String)> {
    grant.bindings().iter().map(key).collect()
}

fn key(binding: &AclBinding) -> (String, String, String, String) {
    (binding.resource.clone(), binding.name.clone(), binding.pattern.clone(), binding.operation.clone())
}

/// Grants revoked at once in one pass: their ACL deletions share DeleteAcls requests, their OAuth clients and vault
/// entries are removed side by side.
const REVOKING_AT_ONCE: usize = 64;

impl KafkaPull {
    /// One reconciliation pass. Fails only when the broker or the store cannot be read; single repairs that fail
    /// are logged and counted as deferred.
    pub async fn reconcile(&self) -> Result<ReconcileReport, FlowError> {
        let started = Instant::now();
        let mut report = ReconcileReport::default();
        let grants = self.grants.live_grants().await.map_err(|e| FlowError::Unavailable(format!("store: {e}")))?;
        let acls = self.with_admin(|admin| async move { admin.all_acls().await }).await?;
        let mut by_principal: BTreeMap<String, Vec<AclBinding>> = BTreeMap::new();
        for binding in acls {
            by_principal.entry(binding.principal.clone()).or_default().push(binding);
        }
        let grace_ms = i64::try_from(self.settings.reconcile_grace.as_millis()).unwrap_or(i64::MAX);
        let now = dsc_domain::clock::system_now_millis();
        // Principals not to treat as orphans: live ones, and those whose grant this pass revokes.
        let mut keep: BTreeSet<String> = BTreeSet::new();
        let mut to_restore: Vec<(String, ConsumerGrant)> = Vec::new();
        let mut to_revoke: Vec<(KafkaGrant, String)> = Vec::new();
        for grant in grants {
            report.grants_checked += 1;
            let flow = self
                .flows
                .find_flow(&grant.flow_id)
                .await
                .map_err(|e| FlowError::Unavailable(format!("store: {e}")))?;
            let flow_started = flow.as_ref().is_some_and(|f| f.state == DataFlowState::Started);
            let young = now - grant.updated_at < grace_ms;
            if let Some(principal) = &grant.principal
                && (young || (grant.state == KafkaGrantState::Active && flow_started))
            {
                keep.insert(principal.clone());
            }
            if grant.state == KafkaGrantState::Active && flow_started {
                let Some(principal) = grant.principal.clone() else { continue };
                let wanted = ConsumerGrant {
                    principal: principal.clone(),
                    topic: grant.topic.clone(),
                    group_prefix: grant.group_prefix.clone(),
                };
                let present: BTreeSet<_> = by_principal.get(&principal).into_iter().flatten().map(key).collect();
                if !expected(&wanted).is_subset(&present) {
                    to_restore.push((grant.flow_id.clone(), wanted));
                }
                continue;
            }
            if young {
                report.deferred += 1;
                continue;
            }
            let why = match (&flow, grant.state) {
                (None, _) => "its flow was never saved (a start that crashed)".to_string(),
                (Some(flow), KafkaGrantState::Active) => format!("its flow is {}", flow.state.name()),
                (Some(_), state) => format!("it was left {} (a crash or a failed step)", state.name()),
            };
            to_revoke.push((grant, why));
        }
        self.restore(to_restore, &mut report).await;
        // A grant whose revocation failed halfway is left to the orphan sweep below, which cuts its ACLs.
        keep.extend(self.revoke_all(to_revoke, &mut report).await);
        let ours: BTreeSet<String> = self
            .grants
            .grant_principals()
            .await
            .map_err(|e| FlowError::Unavailable(format!("store: {e}")))?
            .into_iter()
            .collect();
        let orphans: Vec<String> =
            by_principal.keys().filter(|p| ours.contains(*p) && !keep.contains(*p)).cloned().collect();
        if !orphans.is_empty() {
            match self
                .with_admin(|admin| {
                    let orphans = orphans.clone();
                    async move { admin.revoke_principals(&orphans).await }
                })
                .await
            {
                Ok(_) => {
                    report.orphan_principals_removed += orphans.len();
                    for principal in &orphans {
                        tracing::warn!(%principal, "reconciler: deleted Kafka ACLs of a principal without a live grant");
                    }
                }
                Err(error) => {
                    tracing::warn!(principals = orphans.len(), "reconciler: cannot delete leftover ACLs: {error}")
                }
            }
        }
        report.elapsed_ms = started.elapsed().as_millis();
        Ok(report)
    }

    /// Re-creates the missing ACLs of ACTIVE grants, all in one go.
    async fn restore(&self, grants: Vec<(String, ConsumerGrant)>, report: &mut ReconcileReport) {
        if grants.is_empty() {
            return;
        }
        let wanted: Vec<ConsumerGrant> = grants.iter().map(|(_, grant)| grant.clone()).collect();
        match self
            .with_admin(|admin| {
                let wanted = wanted.clone();
                async move { admin.grant_all(&wanted).await }
            })
            .await
        {
            Ok(()) => {
                let undone = self.undo_stale_restores(&grants).await;
                report.acls_restored += grants.len() - undone;
                for (flow, grant) in &grants {
                    tracing::warn!(%flow, principal = %grant.principal, "reconciler: re-created missing Kafka ACLs");
                }
            }
            Err(error) => {
                report.deferred += grants.len();
                tracing::warn!(grants = grants.len(), "reconciler: cannot re-create ACLs: {error}");
            }
        }
    }

    /// A revocation (here or on another replica) may have begun after this pass read its grants: it marks the grant
    /// REVOKING before deleting ACLs, so a grant read again after the restore that is no longer ACTIVE with a
    /// STARTED flow may have lost its ACLs before they were restored, and they are deleted again. Either way the
    /// deletion comes last. Returns how many restores were undone.
    async fn undo_stale_restores(&self, restored: &[(String, ConsumerGrant)]) -> usize {
        let mut stale = Vec::new();
        for (flow_id, grant) in restored {
            // A store that cannot be read says nothing either way: the restore stands, and the next pass checks again
            // (undoing it would cut off a consumer that may well be entitled).
            let (Ok(grants), Ok(flow)) =
                (self.grants.live_grants_of_flow(flow_id).await, self.flows.find_flow(flow_id).await)
            else {
                continue;
            };
            let still_active = grants.iter().any(|g| {
                g.state == KafkaGrantState::Active && g.principal.as_deref() == Some(grant.principal.as_str())
            });
            let flow_started = flow.is_some_and(|f| f.state == DataFlowState::Started);
            if !(still_active && flow_started) {
                stale.push(grant.principal.clone());
            }
        }
        if stale.is_empty() {
            return 0;
        }
        let undone = stale.len();
        let outcome = self
            .with_admin(|admin| {
                let stale = stale.clone();
                async move { admin.revoke_principals(&stale).await }
            })
            .await;
        match outcome {
            Ok(_) => tracing::info!(
                principals = undone,
                "reconciler: access was revoked meanwhile; restored ACLs deleted again"
            ),
            // The orphan sweep of the next pass deletes them: their grants are no longer live.
            Err(error) => tracing::warn!(principals = undone, "reconciler: cannot delete restored ACLs again: {error}"),
        }
        undone
    }

    /// Revokes grants side by side, so their ACL deletions leave in shared requests; the principals revoked.
    async fn revoke_all(&self, grants: Vec<(KafkaGrant, String)>, report: &mut ReconcileReport) -> Vec<String> {
        let outcomes: Vec<Option<Option<String>>> = stream::iter(grants)
            .map(|(mut grant, why)| async move {
                match self.revoke_grant(&mut grant).await {
                    Ok(()) => {
                        tracing::warn!(flow = %grant.flow_id, grant = %grant.id, "reconciler: revoked a Kafka grant because {why}");
                        Some(grant.principal)
                    }
                    Err(error) => {
                        tracing::warn!(flow = %grant.flow_id, grant = %grant.id, "reconciler: revoking failed ({why}): {error}");
                        None
                    }
                }
            })
            .buffer_unordered(REVOKING_AT_ONCE)
            .collect()
            .await;
        let mut revoked = Vec::new();
        for outcome in outcomes {
            match outcome {
                Some(principal) => {
                    report.grants_revoked += 1;
                    revoked.extend(principal);
                }
                None => report.deferred += 1,
            }
        }
        revoked
    }
}
