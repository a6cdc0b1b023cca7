// SPDX-License-Identifier: Apache-2.0
//! `dsc issuer`: a did:web credential issuer for closed dataspaces, tests and the demo (`serve`), and its admin
//! client (`issue`, `revoke`, `reinstate`). `issue --store-at` hands the credential straight to a connector's
//! Management API, so it is never printed.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Value, json};

#[derive(clap::Args)]
pub struct IssuerArgs {
    #[command(subcommand)]
    command: IssuerCommand,
}

#[derive(clap::Subcommand)]
enum IssuerCommand {
    /// Serve the issuer: its DID document, its status lists and the admin API (exit codes: 0 stopped, 1 failed,
    /// 2 bad arguments).
    Serve {
        /// The issuer's did:web DID; it decides where the DID document is served (did:web:localhost%3A39191 →
        /// port 39191, /.well-known/did.json).
        #[arg(long)]
        did: String,
        /// Where the key (issuer-key.pem) and the record of issued credentials (issuer-state.json) live.
        #[arg(long)]
        state_dir: PathBuf,
        /// The admin API's bearer key.
        #[arg(long, env = "DSC_ISSUER_ADMIN_KEY", hide_env_values = true)]
        admin_key: String,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Resolve the DID over https (the default); --http for loopback tests and the demo.
        #[arg(long)]
        http: bool,
    },
    /// Issue a credential; prints it (a VC JWT) unless --store-at stores it at the holder's connector.
    Issue {
        #[command(flatten)]
        admin: Admin,
        /// The holder's DID.
        #[arg(long)]
        holder: String,
        /// MembershipCredential, BpnCredential, DataExchangeGovernanceCredential or another type.
        #[arg(long = "type")]
        credential_type: String,
        /// The holder's BPN (the Catena-X types need it).
        #[arg(long)]
        bpn: Option<String>,
        /// Further subject fields as a JSON object.
        #[arg(long)]
        subject: Option<String>,
        #[arg(long)]
        valid_days: Option<u32>,
        /// vc11-sl2021/jwt (default) or vc20-bssl/jwt.
        #[arg(long)]
        profile: Option<String>,
        /// The holder connector's Management API base URL (…/management); the credential goes there.
        #[arg(long)]
        store_at: Option<String>,
        /// The holder connector's Management API key.
        #[arg(long, env = "DSC_MANAGEMENT_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
    },
    /// Revoke a credential: its status-list bit is set.
    Revoke {
        #[command(flatten)]
        admin: Admin,
        #[arg(long)]
        id: String,
    },
    /// Clear a revoked credential's status-list bit.
    Reinstate {
        #[command(flatten)]
        admin: Admin,
        #[arg(long)]
        id: String,
    },
}

#[derive(clap::Args)]
struct Admin {
    /// The issuer's base URL (http://localhost:39191).
    #[arg(long)]
    url: String,
    #[arg(long, env = "DSC_ISSUER_ADMIN_KEY", hide_env_values = true)]
    admin_key: String,
}

pub fn run(args: IssuerArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dsc issuer: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match args.command {
            IssuerCommand::Serve { did, state_dir, admin_key, bind, http } => {
                serve(&did, &state_dir, &admin_key, &bind, !http).await
            }
            IssuerCommand::Issue {
                admin,
                holder,
                credential_type,
                bpn,
                subject,
                valid_days,
                profile,
                store_at,
                api_key,
            } => {
                let subject: Value = match subject.as_deref().map(serde_json::from_str).transpose() {
                    Ok(subject) => subject.unwrap_or_else(|| json!({})),
                    Err(e) => return Err((2, format!("--subject is not JSON: {e}"))),
                };
                let request = json!({"holder": holder, "type": credential_type, "bpn": bpn, "subject": subject,
                    "validDays": valid_days, "profile": profile});
                let issued = admin_call(&admin, "/admin/credentials", Some(request)).await?;
                let credential = issued["credential"].as_str().unwrap_or_default().to_string();
                match store_at {
                    None => {
                        println!("{credential}");
                        Ok(())
                    }
                    Some(url) => {
                        let key =
                            api_key.ok_or((2, "--store-at needs --api-key (or DSC_MANAGEMENT_API_KEY)".to_string()))?;
                        let stored = store(&url, &key, &credential).await?;
                        println!("{}", serde_json::to_string(&stored).unwrap_or_default());
                        Ok(())
                    }
                }
            }
            IssuerCommand::Revoke { admin, id } => {
                let path = format!("/admin/credentials/{}/revoke", urlencode(&id));
                admin_call(&admin, &path, Some(json!({}))).await.map(|record| println!("{record}"))
            }
            IssuerCommand::Reinstate { admin, id } => {
                let path = format!("/admin/credentials/{}/reinstate", urlencode(&id));
                admin_call(&admin, &path, Some(json!({}))).await.map(|record| println!("{record}"))
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((code, message)) => {
            eprintln!("dsc issuer: {message}");
            ExitCode::from(code)
        }
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn serve(
    did: &str,
    state_dir: &std::path::Path,
    admin_key: &str,
    bind: &str,
    https: bool,
) -> Result<(), (u8, String)> {
    let _ = crate::logging::init(dsc_config::LogFormat::Text, "info", None);
    let url = dsc_identity::did_document_url(did, https).map_err(|e| (2, e.to_string()))?;
    let parsed = reqwest::Url::parse(&url).map_err(|e| (2, format!("{url}: {e}")))?;
    let port = parsed.port_or_known_default().ok_or((2, format!("{url} names no port")))?;
    let base = format!("{}://{}", parsed.scheme(), parsed.host_str().unwrap_or("localhost"))
        + &parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    if admin_key.trim().len() < 16 {
        return Err((2, "the admin key must have at least 16 characters".into()));
    }
    let issuer = dsc_dcp_issuer::Issuer::open(did, &base, state_dir).map_err(|e| (1, e.to_string()))?;
    let router = dsc_dcp_issuer::router(issuer, parsed.path(), dsc_web::ApiKey::new(admin_key));
    let context = dsc_web::ContextRouter { name: "issuer", port, path: String::new(), router };
    let bound =
        dsc_web::bind(bind, vec![context]).await.map_err(|e| (1, format!("cannot listen on {bind}:{port}: {e}")))?;
    tracing::info!(%did, document = %url, "issuer ready");
    bound.run(crate::runtime::shutdown_signal()).await.map_err(|e| (1, e.to_string()))
}

async fn admin_call(admin: &Admin, path: &str, body: Option<Value>) -> Result<Value, (u8, String)> {
    let url = format!("{}{path}", admin.url.trim_end_matches('/'));
    let client = reqwest::Client::new();
    let mut request = client.post(&url).bearer_auth(&admin.admin_key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| (1, format!("{url}: {e}")))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let code = if status.is_client_error() { 2 } else { 1 };
        return Err((
            code,
            format!("{url}: HTTP {}: {}", status.as_u16(), answer["message"].as_str().unwrap_or_default()),
        ));
    }
    Ok(answer)
}

async fn store(management: &str, api_key: &str, credential: &str) -> Result<Value, (u8, String)> {
    let url = format!("{}/v3/credentials", management.trim_end_matches('/'));
    let response = reqwest::Client::new()
        .post(&url)
        .header("x-api-key", api_key)
        .json(&json!({"credential": credential}))
        .send()
        .await
        .map_err(|e| (1, format!("{url}: {e}")))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err((1, format!("{url}: HTTP {}: {answer}", status.as_u16())));
    }
    Ok(answer)
}
