// SPDX-License-Identifier: Apache-2.0
//! Running the transfer type: built from its settings, and its reconciler run at start and then periodically
//! until shutdown.

use std::sync::Arc;
use std::time::Duration;

use dsc_oauth::AudienceParameter;
use dsc_store::{SingletonLease, SqlStore};
use dsc_vault::Vault;

use crate::{AdminMechanism, AdminTls, KafkaPull, KafkaPullConfig, KafkaPullSettings};

/// The transfer type as its settings describe it, keeping its grants in `store`.
pub fn from_config(config: &KafkaPullConfig, store: Arc<SqlStore>, vault: Arc<dyn Vault>) -> Arc<KafkaPull> {
    let audience_parameter = match config.audience_parameter.as_str() {
        "audience" => AudienceParameter::Audience,
        "none" => AudienceParameter::None,
        _ => AudienceParameter::Resource,
    };
    let admin_mechanism = match config.admin_mechanism.as_str() {
        "SCRAM-SHA-256" => AdminMechanism::ScramSha256,
        "SCRAM-SHA-512" => AdminMechanism::ScramSha512,
        "OAUTHBEARER" => AdminMechanism::OAuthBearer,
        _ => AdminMechanism::Plain,
    };
    let settings = KafkaPullSettings {
        admin_bootstrap: config.admin_bootstrap.clone(),
        admin_user: config.admin_user.clone(),
        admin_password_alias: config.admin_password_alias.clone(),
        admin_mechanism,
        admin_tls: config.admin_tls.clone().map(|ca_file| AdminTls { ca_file }),
        oauth_issuer: config.oauth_issuer.clone(),
        initial_access_token_alias: config.initial_access_token_alias.clone(),
        audience: config.audience.clone(),
        audience_parameter,
        principal_claim: config.principal_claim.clone(),
        group_prefix: config.group_prefix.clone(),
        reconcile_grace: reconcile_grace(config),
        timeout: Duration::from_secs(config.timeout_seconds),
    };
    tracing::info!(
        admin_bootstrap = %config.admin_bootstrap,
        oauth_issuer = %config.oauth_issuer,
        "KafkaBroker-PULL enabled"
    );
    Arc::new(KafkaPull::new(settings, store.clone(), store, vault))
}

/// The grace period of the reconciler, never shorter than the longest a single provisioning step may take (three
/// attempts of one call, each within the time limit): a grant that young may belong to a start still running, and
/// revoking it underneath would hand the consumer an EDR whose access is already gone.
fn reconcile_grace(config: &KafkaPullConfig) -> Duration {
    let configured = Duration::from_secs(config.reconcile_grace_seconds);
    let longest_step = Duration::from_secs(config.timeout_seconds * 4);
    if configured < longest_step {
        tracing::warn!(
            configured_seconds = config.reconcile_grace_seconds,
            used_seconds = longest_step.as_secs(),
            "dsc.kafka.reconciler.grace.seconds is shorter than a provisioning step may take (4 x dsc.kafka.timeout.seconds); using that"
        );
    }
    configured.max(longest_step)
}

/// The singleton role of the reconciler among replicas sharing a database.
pub const RECONCILER_ROLE: &str = "kafka-reconciler";

/// Reconciles once right away (repairing whatever a crash left behind), then every `interval`, until `stop`.
/// A failed pass (broker or OAuth service down) is logged and tried again at the next tick. Among replicas on one
/// database only the holder of `lease` ([`RECONCILER_ROLE`], one round per interval) reconciles.
pub async fn run_reconciler(
    kafka: Arc<KafkaPull>,
    interval: Duration,
    lease: SingletonLease,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stop.changed() => break,
        }
        let now = dsc_domain::clock::system_now_millis();
        match lease.hold(now).await {
            Ok(true) => metrics::gauge!("dsc_kafka_reconciler_leader").set(1.0),
            Ok(false) => {
                metrics::gauge!("dsc_kafka_reconciler_leader").set(0.0);
                tracing::debug!("another replica reconciles Kafka");
                continue;
            }
            Err(error) => {
                tracing::warn!("Kafka reconciliation skipped: cannot take the reconciler's lease: {error}");
                continue;
            }
        }
        let pass = kafka.reconcile().await;
        record_pass(&pass);
        match pass {
            Ok(report) if report.acls_restored + report.grants_revoked + report.orphan_principals_removed > 0 => {
                tracing::info!(
                    grants = report.grants_checked,
                    acls_restored = report.acls_restored,
                    grants_revoked = report.grants_revoked,
                    orphan_principals_removed = report.orphan_principals_removed,
                    deferred = report.deferred,
                    elapsed_ms = report.elapsed_ms as u64,
                    "Kafka reconciliation repaired the broker"
                );
            }
            Ok(report) => tracing::debug!(
                grants = report.grants_checked,
                deferred = report.deferred,
                elapsed_ms = report.elapsed_ms as u64,
                "Kafka reconciliation found nothing to repair"
            ),
            Err(error) => tracing::warn!("Kafka reconciliation failed, trying again later: {error}"),
        }
    }
    if let Err(error) = lease.release().await {
        tracing::debug!("the reconciler's lease is left to expire: {error}");
    }
}

fn record_pass(pass: &Result<crate::reconcile::ReconcileReport, dsc_dataplane::FlowError>) {
    let Ok(report) = pass else {
        metrics::counter!("dsc_kafka_reconciler_passes_total", "outcome" => "failed").increment(1);
        return;
    };
    metrics::counter!("dsc_kafka_reconciler_passes_total", "outcome" => "completed").increment(1);
    for (repair, count) in [
        ("acls_restored", report.acls_restored),
        ("grants_revoked", report.grants_revoked),
        ("orphan_principals_removed", report.orphan_principals_removed),
    ] {
        metrics::counter!("dsc_kafka_reconciler_repairs_total", "repair" => repair).increment(count as u64);
    }
    metrics::histogram!("dsc_kafka_reconciler_pass_seconds").record(report.elapsed_ms as f64 / 1000.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(grace: u64, timeout: u64) -> KafkaPullConfig {
        KafkaPullConfig {
            admin_bootstrap: "kafka:9092".into(),
            admin_user: "admin".into(),
            admin_password_alias: "p".into(),
            admin_mechanism: "PLAIN".into(),
            admin_tls: None,
            oauth_issuer: "http://idp".into(),
            initial_access_token_alias: "t".into(),
            audience: "urn:kafka".into(),
            audience_parameter: "resource".into(),
            principal_claim: "sub".into(),
            group_prefix: "dsc-".into(),
            reconcile_interval_seconds: 60,
            reconcile_grace_seconds: grace,
            timeout_seconds: timeout,
        }
    }

    #[test]
    fn the_grace_period_outlasts_a_provisioning_step() {
        assert_eq!(reconcile_grace(&config(30, 10)), Duration::from_secs(40));
        assert_eq!(reconcile_grace(&config(120, 10)), Duration::from_secs(120));
        assert_eq!(reconcile_grace(&config(0, 2)), Duration::from_secs(8));
    }
}
