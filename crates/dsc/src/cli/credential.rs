// SPDX-License-Identifier: Apache-2.0
//! `dsc credential`: the participant's verifiable credentials at its connector, through the Management API
//! (`/v3/credentials`): add one (a VC JWT from a file or stdin), list them (metadata only: a credential is never
//! printed in full), remove one.

use std::io::Read;
use std::process::ExitCode;

use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct CredentialArgs {
    #[command(subcommand)]
    command: CredentialCommand,
    /// The connector's Management API base URL.
    #[arg(long, global = true, default_value = "http://localhost:19193/management")]
    management_url: String,
    /// The Management API key.
    #[arg(long, global = true, env = "DSC_MANAGEMENT_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

#[derive(clap::Subcommand)]
enum CredentialCommand {
    /// Store a credential (a VC JWT) read from FILE, or from stdin with `-` or nothing.
    Add { file: Option<String> },
    /// List the stored credentials: id, types, issuer, validity.
    List,
    /// Remove the credential with this id.
    Remove { id: String },
}

/// Exit codes: 0 done, 1 the connector refused or failed, 2 bad arguments or input.
pub fn run(args: CredentialArgs) -> ExitCode {
    let Some(key) = args.api_key.clone() else {
        eprintln!("dsc credential: --api-key (or DSC_MANAGEMENT_API_KEY) is required");
        return ExitCode::from(2);
    };
    let base = format!("{}/v3/credentials", args.management_url.trim_end_matches('/'));
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsc credential: {error}");
            return ExitCode::FAILURE;
        }
    };
    let http = reqwest::Client::new();
    let request = match args.command {
        CredentialCommand::Add { file } => {
            let mut text = String::new();
            let read = match file.as_deref() {
                None | Some("-") => std::io::stdin().read_to_string(&mut text).map(|_| ()),
                Some(path) => std::fs::read_to_string(path).map(|content| text = content),
            };
            if let Err(error) = read {
                eprintln!("dsc credential: cannot read {}: {error}", file.as_deref().unwrap_or("stdin"));
                return ExitCode::from(2);
            }
            http.post(&base).json(&json!({"credential": text.trim()}))
        }
        CredentialCommand::List => http.get(&base),
        CredentialCommand::Remove { id } => {
            let encoded: String = id
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':' => (b as char).to_string(),
                    other => format!("%{other:02X}"),
                })
                .collect();
            http.delete(format!("{base}/{encoded}"))
        }
    };
    runtime.block_on(async move {
        let response = match request.header("X-Api-Key", key).send().await {
            Ok(response) => response,
            Err(error) => {
                eprintln!("dsc credential: {base}: {error}");
                return ExitCode::FAILURE;
            }
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body[0]["message"].as_str().map(str::to_string).unwrap_or_else(|| body.to_string());
            eprintln!("dsc credential: HTTP {}: {message}", status.as_u16());
            return if status.is_client_error() { ExitCode::from(2) } else { ExitCode::FAILURE };
        }
        match body {
            Value::Array(credentials) => {
                for credential in credentials {
                    println!("{credential}");
                }
            }
            Value::Null => {}
            other => println!("{other}"),
        }
        ExitCode::SUCCESS
    })
}
