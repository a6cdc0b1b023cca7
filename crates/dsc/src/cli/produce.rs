// SPDX-License-Identifier: Apache-2.0
//! `dsc produce`: publishes JSON lines from stdin, or generated records, with the provider's own credentials.

use std::io::BufRead;
use std::process::ExitCode;

use dsc_kafka_client::produce::{ProducerSettings, RecordProducer};

#[derive(clap::Args)]
pub struct ProduceArgs {
    /// Bootstrap servers of the listener where the provider's own clients log in.
    #[arg(long)]
    bootstrap: String,
    #[arg(long)]
    topic: String,
    #[arg(long, default_value = "admin")]
    user: String,
    /// The password (prefer the environment variable).
    #[arg(long, env = "DSC_CLIENT_KAFKA_PASSWORD", hide_env_values = true)]
    password: String,
    #[arg(long, default_value = "PLAIN", value_parser = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])]
    mechanism: String,
    #[arg(long, default_value = "SASL_PLAINTEXT", value_parser = ["SASL_PLAINTEXT", "SASL_SSL"])]
    security_protocol: String,
    /// CA certificates (PEM) for SASL_SSL.
    #[arg(long)]
    ca_file: Option<String>,
    /// Generate records ({"seq": n, "producedAt": millis}) instead of reading JSON lines from stdin.
    #[arg(long)]
    generate: bool,
    /// Stop after this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Records per second at most.
    #[arg(long)]
    rate: Option<f64>,
}

pub fn run(args: ProduceArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsc produce: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(produce(args))
}

async fn produce(args: ProduceArgs) -> ExitCode {
    if !args.generate && args.count == Some(0) {
        return ExitCode::SUCCESS;
    }
    let settings = ProducerSettings {
        bootstrap: args.bootstrap,
        topic: args.topic.clone(),
        user: args.user,
        password: args.password,
        mechanism: args.mechanism,
        security_protocol: args.security_protocol,
        ca_file: args.ca_file,
        rate: args.rate,
    };
    let mut producer = match RecordProducer::new(settings) {
        Ok(producer) => producer,
        Err(error) => {
            eprintln!("dsc produce: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut lines = std::io::stdin().lock().lines();
    let mut sent = 0u64;
    while args.count.is_none_or(|count| sent < count) {
        let value = if args.generate {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default();
            serde_json::json!({ "seq": sent, "producedAt": now }).to_string()
        } else {
            match lines.next() {
                Some(Ok(line)) if line.trim().is_empty() => continue,
                Some(Ok(line)) => {
                    if let Err(error) = serde_json::from_str::<serde_json::Value>(&line) {
                        eprintln!("dsc produce: line {} is not JSON ({error}); nothing more sent", sent + 1);
                        producer.flush();
                        return ExitCode::from(2);
                    }
                    line
                }
                Some(Err(error)) => {
                    eprintln!("dsc produce: reading stdin: {error}");
                    return ExitCode::FAILURE;
                }
                None => break,
            }
        };
        if let Err(error) = producer.send(None, &value).await {
            eprintln!("dsc produce: {error}");
            return ExitCode::from(5);
        }
        sent += 1;
    }
    producer.flush();
    eprintln!("dsc produce: {sent} records sent to {}", args.topic);
    ExitCode::SUCCESS
}
