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
//! one store read per grant.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::KafkaGrantState;
use dsc_dataplane::FlowError;
use dsc_domain::DataFlowState;
use dsc_kafka_admin::{AclBinding, ConsumerGrant};

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
        // Principals not to treat as orphans: live ones, and those whose grant this pass revoked already.
        let mut keep: BTreeSet<String> = BTreeSet::new();
        for mut grant in grants {
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
                if expected(&wanted).is_subset(&present) {
                    continue;
                }
                match self
                    .with_admin(|admin| {
                        let wanted = wanted.clone();
                        async move { admin.grant(&wanted).await }
                    })
                    .await
                {
                    Ok(()) => {
                        report.acls_restored += 1;
                        tracing::warn!(flow = %grant.flow_id, %principal, "reconciler: re-created missing Kafka ACLs");
                    }
                    Err(error) => {
                        report.deferred += 1;
                        tracing::warn!(flow = %grant.flow_id, %principal, "reconciler: cannot re-create ACLs: {error}");
                    }
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
            match self.revoke_grant(&mut grant).await {
                Ok(()) => {
                    report.grants_revoked += 1;
                    keep.extend(grant.principal.clone());
                    tracing::warn!(flow = %grant.flow_id, grant = %grant.id, "reconciler: revoked a Kafka grant because {why}");
                }
                Err(error) => {
                    report.deferred += 1;
                    tracing::warn!(flow = %grant.flow_id, grant = %grant.id, "reconciler: revoking failed ({why}): {error}");
                }
            }
        }
        let ours: BTreeSet<String> = self
            .grants
            .grant_principals()
            .await
            .map_err(|e| FlowError::Unavailable(format!("store: {e}")))?
            .into_iter()
            .collect();
        for principal in by_principal.keys().filter(|p| ours.contains(*p) && !keep.contains(*p)) {
            let principal = principal.clone();
            match self
                .with_admin(|admin| {
                    let principal = principal.clone();
                    async move { admin.revoke_principal(&principal).await }
                })
                .await
            {
                Ok(_) => {
                    report.orphan_principals_removed += 1;
                    tracing::warn!(%principal, "reconciler: deleted Kafka ACLs of a principal without a live grant");
                }
                Err(error) => tracing::warn!(%principal, "reconciler: cannot delete leftover ACLs: {error}"),
            }
        }
        report.elapsed_ms = started.elapsed().as_millis();
        Ok(report)
    }
}
