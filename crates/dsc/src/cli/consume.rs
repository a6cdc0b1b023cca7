// SPDX-License-Identifier: Apache-2.0
//! `dsc consume`: a transfer's Kafka records as JSON lines on stdout, through nothing but the consumer
//! connector's Management API.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use std::sync::atomic::AtomicU64;

use dsc_kafka_client::{ConnectorApi, ConsumeError, Ending, Provider, StreamSettings, consume};

#[derive(clap::Args)]
pub struct ConsumeArgs {
    /// The consumer connector's Management API, e.g. http://localhost:19193/management.
    #[arg(long, env = "DSC_CLIENT_MANAGEMENT_URL")]
    management_url: String,
    /// Its API key.
    #[arg(long, env = "DSC_CLIENT_API_KEY", hide_env_values = true)]
    api_key: String,
    /// A started Kafka transfer on the consumer connector.
    #[arg(long, conflicts_with = "asset", required_unless_present = "asset")]
    transfer: Option<String>,
    /// Negotiate this asset of the provider, then start a KafkaBroker-PULL transfer.
    #[arg(long, requires_all = ["provider_address", "provider_id"])]
    asset: Option<String>,
    /// The provider's DSP address (with --asset).
    #[arg(long)]
    provider_address: Option<String>,
    /// The provider's participant id (with --asset).
    #[arg(long)]
    provider_id: Option<String>,
    /// Consumer group, appended to the EDR's group prefix; a restart with the same group continues after the last
    /// record printed.
    #[arg(long, default_value = "dsc-consume")]
    group: String,
    /// Start a new group at the earliest record instead of the next one.
    #[arg(long)]
    from_beginning: bool,
    /// Stop after this many records.
    #[arg(long)]
    max_records: Option<u64>,
    /// Stop when no record arrived for this many seconds.
    #[arg(long)]
    timeout: Option<u64>,
    /// Check every record against a CX-0127 aspect model (semantic id or model name, or `auto` for the one the
    /// provider declares on the asset): each line gets `"valid": true|false`, invalid records are reported on
    /// stderr and counted; consuming goes on.
    #[arg(long)]
    validate: Option<String>,
}

/// ", N invalid" for the progress and summary lines when validating.
fn invalid_count(validating: bool, invalid: &AtomicU64) -> String {
    if validating { format!(", {} invalid", invalid.load(Ordering::Relaxed)) } else { String::new() }
}

/// `--validate auto`: the aspect model comes from the asset's semantic id in the provider's catalog.
const AUTO: &str = "auto";

/// Exit codes: 0 done, 1 other failure, 2 bad arguments or input, 3 access revoked, 4 access denied, 5 unreachable.
pub fn run(args: ConsumeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsc consume: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(consume_until_done(args))
}

fn fail(error: &ConsumeError) -> ExitCode {
    eprintln!("dsc consume: {error}");
    ExitCode::from(error.exit_code())
}

async fn consume_until_done(args: ConsumeArgs) -> ExitCode {
    let named_aspect = args.validate.as_deref().filter(|aspect| *aspect != AUTO);
    let mut validator = match super::aspect_validator(named_aspect) {
        Ok(validator) => validator,
        Err(exit) => {
            eprintln!("dsc consume: {}", exit.message);
            return ExitCode::from(exit.code);
        }
    };
    let api = match ConnectorApi::new(&args.management_url, &args.api_key) {
        Ok(api) => api,
        Err(error) => return fail(&error),
    };
    let transfer = match (&args.transfer, &args.asset) {
        (Some(transfer), _) => transfer.clone(),
        (None, Some(asset)) => {
            let provider = Provider {
                address: args.provider_address.clone().unwrap_or_default(),
                id: args.provider_id.clone().unwrap_or_default(),
            };
            match api.negotiate(asset, &provider, Duration::from_secs(60)).await {
                Ok(transfer) => {
                    eprintln!("dsc consume: transfer {transfer} started for asset {asset}");
                    transfer
                }
                Err(error) => return fail(&error),
            }
        }
        (None, None) => return ExitCode::from(2),
    };
    if args.validate.as_deref() == Some(AUTO) {
        let declared = match api.semantic_id(&transfer).await {
            Ok(Some(urn)) => urn,
            Ok(None) => {
                eprintln!(
                    "dsc consume: the asset of transfer {transfer} declares no aspect model (aas-semantics:semanticId); \
                     name one with --validate <aspect>"
                );
                return ExitCode::from(2);
            }
            Err(error) => return fail(&error),
        };
        validator = match super::aspect_validator(Some(&declared)) {
            Ok(validator) => validator,
            Err(exit) => {
                eprintln!("dsc consume: the asset's aspect model: {}", exit.message);
                return ExitCode::from(exit.code);
            }
        };
        if let Some(validator) = &validator {
            eprintln!("dsc consume: validating against {}, as the asset declares", validator.aspect());
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        interrupted.store(true, Ordering::SeqCst);
    });
    let settings = StreamSettings {
        group: args.group,
        from_beginning: args.from_beginning,
        max_records: args.max_records,
        idle_timeout: args.timeout.map(Duration::from_secs),
    };
    let progress_to_terminal = std::io::stderr().is_terminal();
    let invalid = Arc::new(AtomicU64::new(0));
    let (invalid_seen, invalid_shown, validating) = (invalid.clone(), invalid.clone(), validator.is_some());
    let outcome = consume(
        api,
        &transfer,
        settings,
        stop,
        move |record| {
            let mut line = record.to_json();
            if let Some(validator) = &validator {
                let report = validator.validate(&line["value"]);
                line["valid"] = serde_json::Value::Bool(report.is_valid());
                if !report.is_valid() {
                    invalid_seen.fetch_add(1, Ordering::Relaxed);
                    eprintln!("dsc consume: partition {} offset {}: {report}", record.partition, record.offset);
                }
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        },
        move |progress| {
            if !progress_to_terminal {
                return;
            }
            let rate = progress.records as f64 / progress.elapsed.as_secs_f64().max(0.001);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default();
            let expiry = progress.token_expires_at.map_or("-".to_string(), |exp| format!("{} s", exp - now));
            let invalid = invalid_count(validating, &invalid_shown);
            eprint!(
                "\r{} records{invalid}, {:.1} KiB, {rate:.0} records/s, token expires in {expiry}   ",
                progress.records,
                progress.bytes as f64 / 1024.0
            );
        },
    )
    .await;
    match outcome {
        Ok(summary) => {
            let why = match summary.ending {
                Ending::MaxRecords => "the maximum number of records",
                Ending::IdleTimeout => "the idle timeout",
                Ending::Interrupted => "an interrupt",
            };
            let invalid = invalid_count(validating, &invalid);
            eprintln!(
                "\ndsc consume: {} records{invalid} ({} bytes); stopped by {why}, offsets committed",
                summary.records, summary.bytes
            );
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}
