// SPDX-License-Identifier: Apache-2.0
//! Reconciliation and revocation at scale against the harness's real broker (10,000 grants by default):
//! - a reconciliation pass with nothing to repair, and one that re-creates the ACLs of a tenth of the grants, beside
//!   the least any pass must do (one DescribeAcls round trip listing the broker's ACLs);
//! - 1,000 revocations through the data plane's handler, one after the other (each its own DeleteAcls: the
//!   unbatched figure) beside 1,000 at once (what a policy-monitor round ending a partner's transfers produces:
//!   their deletions share requests);
//! - a pass that revokes every remaining grant whose flow ended.
//!
//! `cargo bench -p dsc-kafka-pull --bench reconcile` after `scripts/harness.sh up kafka` and its `env`
//! (`--grants N` and `--revocations N` change the counts).
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use dsc_dataplane::TransferTypeHandler;
use dsc_domain::{DataAddress, DataFlow, DataFlowState};
use dsc_kafka_admin::{ConsumerGrant, KafkaAdmin};
use dsc_kafka_pull::{AdminMechanism, KafkaPull, KafkaPullSettings};
use dsc_kafka_pull::{KafkaGrant, KafkaGrantState, KafkaGrantStore};
use dsc_oauth::AudienceParameter;
use dsc_store::{DataFlowStore, SqlStore, StoreSettings};
use dsc_vault::{EncryptedFileVault, SecretString, Vault, VaultKey};
use futures::StreamExt;

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn flow(id: &str, state: DataFlowState) -> DataFlow {
    DataFlow {
        id: id.into(),
        state,
        profile: "KafkaBroker-PULL".into(),
        participant_id: "provider".into(),
        counter_party_id: "consumer".into(),
        agreement_id: "agreement".into(),
        dataset_id: "asset".into(),
        source: DataAddress { properties: Default::default() },
        access_token_id: None,
        refresh_token_hash: None,
        created_at: now_millis(),
        updated_at: now_millis(),
    }
}

/// Flows ended at once in the batched figure: what the control plane's transfer manager has in flight by default
/// (`edc.transfer.state-machine.batch-size`).
const CONCURRENT_ENDS: usize = 20;

fn count_arg(args: &[String], name: &str, default: usize) -> usize {
    args.windows(2).find(|w| w[0] == name).and_then(|w| w[1].parse().ok()).unwrap_or(default)
}

fn per_grant(elapsed: Duration, grants: usize) -> f64 {
    millis(elapsed) / grants.max(1) as f64
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    // `cargo test --all-targets` builds and runs benches too, without `--bench`: compiling is the test there.
    if !args.iter().any(|a| a == "--bench") {
        println!("benchmark: run with cargo bench");
        return Ok(());
    }
    let count = count_arg(&args, "--grants", 10_000);
    let revocations = count_arg(&args, "--revocations", 1_000).min(count / 2);
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(bootstrap) = var("TEST_KAFKA_ADMIN_BOOTSTRAP") else {
        println!("reconcile   skipped: no Kafka (scripts/harness.sh up kafka; eval \"$(scripts/harness.sh env)\")");
        return Ok(());
    };
    let user = var("TEST_KAFKA_ADMIN_USER").unwrap_or_else(|| "admin".into());
    let password = var("TEST_KAFKA_ADMIN_PASSWORD").unwrap_or_default();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.map_err(|e| e.to_string())?);
    store.apply_plugin_migrations(&dsc_kafka_pull::MIGRATIONS).await.map_err(|e| e.to_string())?;
    let vault = Arc::new(
        EncryptedFileVault::open(dir.path().join("vault.json"), VaultKey::generate())
            .await
            .map_err(|e| e.to_string())?,
    );
    vault.store("admin", SecretString::new(password.clone())).await.map_err(|e| e.to_string())?;
    let settings = KafkaPullSettings {
        admin_bootstrap: bootstrap.clone(),
        admin_user: user.clone(),
        admin_password_alias: "admin".into(),
        admin_mechanism: AdminMechanism::Plain,
        admin_tls: None,
        // Never contacted: the benchmark's grants have no OAuth client.
        oauth_issuer: "http://127.0.0.1:9".into(),
        initial_access_token_alias: "unused".into(),
        audience: "urn:kafka:broker".into(),
        audience_parameter: AudienceParameter::None,
        principal_claim: "sub".into(),
        group_prefix: "dsc-".into(),
        reconcile_grace: Duration::ZERO,
        timeout: Duration::from_secs(10),
    };
    let pull = KafkaPull::new(settings, store.clone(), store.clone(), vault);
    let admin = KafkaAdmin::new(&bootstrap, &user, &password);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let topic = format!("bench-reconcile-{run}");

    // Setup: flows STARTED, grants ACTIVE, three ACLs each on the broker.
    let setup = Instant::now();
    let mut grants = Vec::new();
    for index in 0..count {
        let flow_id = format!("bench-{run}-{index}");
        store.create_flow(&flow(&flow_id, DataFlowState::Started)).await.map_err(|e| e.to_string())?;
        let grant = KafkaGrant {
            id: format!("grant-{flow_id}"),
            flow_id: flow_id.clone(),
            state: KafkaGrantState::Active,
            topic: topic.clone(),
            group_prefix: format!("dsc-{flow_id}."),
            principal: Some(format!("User:bench-{run}-{index}")),
            client_id: None,
            client_secret_alias: None,
            registration_token_alias: None,
            registration_client_uri: None,
            error_detail: None,
            created_at: now_millis(),
            updated_at: now_millis(),
        };
        store.create_grant(&grant).await.map_err(|e| e.to_string())?;
        grants.push(grant);
    }
    let wanted: Vec<ConsumerGrant> = grants
        .iter()
        .map(|grant| ConsumerGrant {
            principal: grant.principal.clone().unwrap_or_default(),
            topic: grant.topic.clone(),
            group_prefix: grant.group_prefix.clone(),
        })
        .collect();
    admin.grant_all(&wanted).await.map_err(|e| e.to_string())?;
    println!("reconcile   setup: {count} grants, {} ACLs created in {:.0} ms", count * 3, millis(setup.elapsed()));

    let mut baseline = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let acls = admin.all_acls().await.map_err(|e| e.to_string())?;
        baseline.push(started.elapsed());
        std::hint::black_box(acls);
    }
    baseline.sort();
    let baseline = baseline[baseline.len() / 2];

    let mut clean = Vec::new();
    for _ in 0..3 {
        let report = pull.reconcile().await.map_err(|e| e.to_string())?;
        if report.grants_checked != count || report.acls_restored + report.grants_revoked > 0 {
            return Err(format!("a healthy broker needed repairs: {report:?}"));
        }
        clean.push(Duration::from_millis(u64::try_from(report.elapsed_ms).unwrap_or(u64::MAX)));
    }
    clean.sort();
    let clean = clean[clean.len() / 2];
    println!(
        "reconcile   {count} healthy grants: {:.0} ms per pass ({:.3} ms per grant) = {:.1} x one DescribeAcls of all ACLs ({:.1} ms)",
        millis(clean),
        per_grant(clean, count),
        clean.as_secs_f64() / baseline.as_secs_f64().max(1e-9),
        millis(baseline)
    );

    let damaged = count / 10;
    let principals: Vec<String> = wanted[..damaged].iter().map(|g| g.principal.clone()).collect();
    admin.revoke_principals(&principals).await.map_err(|e| e.to_string())?;
    let report = pull.reconcile().await.map_err(|e| e.to_string())?;
    if report.acls_restored != damaged {
        return Err(format!("expected {damaged} repairs: {report:?}"));
    }
    println!("reconcile   {count} grants, {damaged} missing their ACLs: repaired in {} ms", report.elapsed_ms);

    // Revocations as the data plane does them on suspend or terminate: the flow ends, the handler revokes.
    let ended = |grant: &KafkaGrant| flow(&grant.flow_id, DataFlowState::Terminated);
    let one_by_one = &grants[..revocations];
    let started = Instant::now();
    for grant in one_by_one {
        store.save_flow(&ended(grant)).await.map_err(|e| e.to_string())?;
        TransferTypeHandler::revoke(&pull, &ended(grant)).await.map_err(|e| e.to_string())?;
    }
    let unbatched = started.elapsed();
    let at_once = &grants[revocations..2 * revocations];
    let started = Instant::now();
    let pull = Arc::new(pull);
    let outcomes: Vec<Result<(), String>> = futures::stream::iter(at_once.iter().map(|grant| {
        let (pull, store, flow) = (pull.clone(), store.clone(), ended(grant));
        async move {
            store.save_flow(&flow).await.map_err(|e| e.to_string())?;
            TransferTypeHandler::revoke(pull.as_ref(), &flow).await.map_err(|e| e.to_string())
        }
    }))
    .buffer_unordered(CONCURRENT_ENDS)
    .collect()
    .await;
    outcomes.into_iter().collect::<Result<Vec<()>, String>>()?;
    let batched = started.elapsed();
    for grant in one_by_one.iter().chain(at_once) {
        if !admin.acls_of(grant.principal.as_deref().unwrap_or_default()).await.map_err(|e| e.to_string())?.is_empty() {
            return Err(format!("{} still has ACLs after its revocation", grant.flow_id));
        }
    }
    println!(
        "revocation  {revocations} one after the other: {:.0} ms ({:.2} ms per grant, one DeleteAcls each)",
        millis(unbatched),
        per_grant(unbatched, revocations)
    );
    println!(
        "revocation  {revocations} at once ({CONCURRENT_ENDS} in flight): {:.0} ms ({:.2} ms per grant) = {:.1} x faster than one after the other",
        millis(batched),
        per_grant(batched, revocations),
        unbatched.as_secs_f64() / batched.as_secs_f64().max(1e-9)
    );

    let rest = &grants[2 * revocations..];
    for grant in rest {
        store.save_flow(&ended(grant)).await.map_err(|e| e.to_string())?;
    }
    let report = pull.reconcile().await.map_err(|e| e.to_string())?;
    if report.grants_revoked != rest.len() {
        return Err(format!("expected {} revocations: {report:?}", rest.len()));
    }
    println!(
        "reconcile   {} grants of ended flows revoked in one pass: {} ms ({:.2} ms per grant)",
        rest.len(),
        report.elapsed_ms,
        report.elapsed_ms as f64 / rest.len().max(1) as f64
    );
    Ok(())
}
