// SPDX-License-Identifier: Apache-2.0
//! `dsc produce`: publishes JSON lines from stdin, or generated records, with the provider's own credentials.

use std::io::BufRead;
use std::process::ExitCode;

use dsc_aspects::generate::Generator;
use dsc_kafka_client::produce::{ProducerSettings, RecordProducer};
use serde_json::Value;

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
    /// Generate records ({"seq": n, "producedAt": millis}, or valid records of --aspect) instead of reading JSON
    /// lines from stdin.
    #[arg(long)]
    generate: bool,
    /// The CX-0127 aspect model the topic carries (semantic id or model name): records that do not validate are
    /// rejected with the report instead of sent; the record key is the part's Catena-X id.
    #[arg(long)]
    aspect: Option<String>,
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

/// Exit codes: 0 done, 1 failure, 2 bad arguments or input (records rejected), 5 Kafka unreachable.
async fn produce(args: ProduceArgs) -> ExitCode {
    let validator = match super::aspect_validator(args.aspect.as_deref()) {
        Ok(validator) => validator,
        Err(exit) => {
            eprintln!("dsc produce: {}", exit.message);
            return ExitCode::from(exit.code);
        }
    };
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
    let now_millis = || {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default()
    };
    let mut generator = Generator::new(u64::try_from(now_millis()).unwrap_or_default());
    let mut lines = std::io::stdin().lock().lines().enumerate();
    let (mut sent, mut rejected) = (0u64, 0u64);
    while args.count.is_none_or(|count| sent < count) {
        let value: Value = match (&validator, args.generate) {
            (Some(validator), true) => generator.payload(validator.aspect()).to_value(),
            (None, true) => serde_json::json!({ "seq": sent, "producedAt": now_millis() }),
            (_, false) => match lines.next() {
                Some((_, Ok(line))) if line.trim().is_empty() => continue,
                Some((index, Ok(line))) => match serde_json::from_str(&line) {
                    Ok(value) => {
                        if let Some(validator) = &validator {
                            let report = validator.validate(&value);
                            if !report.is_valid() {
                                eprintln!("dsc produce: line {} rejected, {report}", index + 1);
                                rejected += 1;
                                continue;
                            }
                        }
                        value
                    }
                    Err(error) => {
                        eprintln!("dsc produce: line {} is not JSON ({error}); nothing more sent", index + 1);
                        producer.flush();
                        return ExitCode::from(2);
                    }
                },
                Some((_, Err(error))) => {
                    eprintln!("dsc produce: reading stdin: {error}");
                    return ExitCode::FAILURE;
                }
                None => break,
            },
        };
        let key = validator.as_ref().and_then(|validator| value.get(validator.aspect().id_field())?.as_str());
        if let Err(error) = producer.send(key, &value.to_string()).await {
            eprintln!("dsc produce: {error}");
            return ExitCode::from(5);
        }
        sent += 1;
    }
    producer.flush();
    if rejected > 0 {
        eprintln!("dsc produce: {sent} records sent to {}, {rejected} rejected as invalid", args.topic);
        return ExitCode::from(2);
    }
    eprintln!("dsc produce: {sent} records sent to {}", args.topic);
    ExitCode::SUCCESS
}
