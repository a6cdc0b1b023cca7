// SPDX-License-Identifier: Apache-2.0
//! `dsc`: the connector binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use dsc::runtime::{Connector, DataPlaneNode, log_ready, shutdown_signal};
use dsc_config::{ConnectorConfig, LogFormat, RawConfig};

#[derive(Parser)]
#[command(name = "dsc", version, about = "Dataspace connector with Kafka streaming (EDC-compatible)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the connector.
    Run {
        /// TOML configuration file; environment variables (EDC_PARTICIPANT_ID, ...) override it.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Log format; overrides dsc.log.format.
        #[arg(long, value_parser = ["text", "json"])]
        log_format: Option<String>,
    },
    /// Run a standalone data plane that a connector (`dsc.dataplane.remote.url`) signals.
    Dataplane {
        /// TOML configuration file; environment variables override it. Needs edc.participant.id and
        /// dsc.signaling.auth.key; uses the default (health), control (signaling) and public contexts.
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long, value_parser = ["text", "json"])]
        log_format: Option<String>,
    },
    /// List every setting with its environment variable, default and meaning.
    Settings,
    /// Read a Kafka transfer's records as JSON lines through the consumer connector's EDR (exit codes: 0 done,
    /// 1 failure, 2 bad arguments or input, 3 access revoked, 4 access denied, 5 unreachable).
    Consume(dsc::cli::consume::ConsumeArgs),
    /// Publish JSON lines from stdin, or generated records, to a topic with the provider's own credentials.
    Produce(dsc::cli::produce::ProduceArgs),
    /// Validate a JSON document or JSON lines against a CX-0127 aspect model (exit codes: 0 valid, 1 invalid,
    /// 2 bad arguments or input).
    Validate(dsc::cli::validate::ValidateArgs),
    /// Run the Kafka PULL demo end to end: a Kafka broker, a provider and three consumer connectors, two
    /// shop-floor use cases, then suspend, resume and terminate (exit codes: 0 every step as announced, 1 a step
    /// failed, named on stderr, 130 interrupted).
    Demo(dsc::cli::demo::DemoArgs),
    /// The participant's verifiable credentials at its connector: add, list (never in full), remove (exit codes: 0
    /// done, 1 refused or failed, 2 bad arguments or input).
    Credential(dsc::cli::credential::CredentialArgs),
    /// A did:web credential issuer for closed dataspaces, tests and the demo, and its admin client.
    Issuer(dsc::cli::issuer::IssuerArgs),
}

fn main() -> ExitCode {
    let process_start = Instant::now();
    // One TLS crypto provider for every client (reqwest is built without one).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match cli.command {
        Command::Settings => match dsc::settings::registry() {
            Ok(registry) => {
                print!("{}", registry.describe_all());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("dsc: configuration error: {error}");
                ExitCode::from(2)
            }
        },
        Command::Run { config, log_format } => run(config, log_format, process_start, false),
        Command::Dataplane { config, log_format } => run(config, log_format, process_start, true),
        Command::Consume(args) => dsc::cli::consume::run(args),
        Command::Produce(args) => dsc::cli::produce::run(args),
        Command::Validate(args) => dsc::cli::validate::run(args),
        Command::Demo(args) => dsc::cli::demo::run(args),
        Command::Issuer(args) => dsc::cli::issuer::run(args),
        Command::Credential(args) => dsc::cli::credential::run(args),
    }
}

fn run(file: Option<PathBuf>, log_format: Option<String>, process_start: Instant, data_plane: bool) -> ExitCode {
    let parse = if data_plane { ConnectorConfig::for_data_plane } else { ConnectorConfig::from_raw };
    let loaded = dsc::settings::registry()
        .and_then(|registry| RawConfig::load_with(&registry, file.as_deref(), std::env::vars()))
        .and_then(|raw| parse(&raw));
    let config = match loaded {
        Ok(config) => config,
        Err(error) => {
            eprintln!("dsc: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let format = match log_format.as_deref() {
        Some("json") => LogFormat::Json,
        Some(_) => LogFormat::Text,
        None => config.log_format,
    };
    let traces = match dsc::logging::init(format, &config.log_level, config.trace_export.as_ref()) {
        Ok(traces) => traces,
        Err(error) => {
            eprintln!("dsc: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let exit = serve(config, process_start, data_plane);
    // After the runtime is gone: flushing blocks until the last spans are sent.
    if let Some(traces) = traces {
        traces.shutdown();
    }
    exit
}

fn serve(config: ConnectorConfig, process_start: Instant, data_plane: bool) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsc: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    if data_plane {
        return runtime.block_on(run_data_plane(config));
    }
    runtime.block_on(async move {
        let connector = match Connector::start(&config).await {
            Ok(connector) => connector,
            Err(error) => {
                tracing::error!("start failed: {error}");
                eprintln!("dsc: start failed: {error}");
                return ExitCode::FAILURE;
            }
        };
        log_ready(&connector, &config, process_start);
        match connector.run(shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                tracing::error!("server failed: {error}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn run_data_plane(config: ConnectorConfig) -> ExitCode {
    let node = match DataPlaneNode::start(&config).await {
        Ok(node) => node,
        Err(error) => {
            tracing::error!("start failed: {error}");
            eprintln!("dsc: start failed: {error}");
            return ExitCode::FAILURE;
        }
    };
    for (names, address) in &node.addresses {
        tracing::info!(%address, contexts = %names.join(", "), "listening");
    }
    match node.run(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
