// SPDX-License-Identifier: Apache-2.0
//! A did:web credential issuer for closed dataspaces, tests and the demo (`dsc issuer`). It signs Catena-X-shaped
//! credentials (Membership, BPN, DataExchangeGovernance, or any type with the subject fields given) in either DCP
//! profile, serves its DID document and a revocation status list, and revokes by setting the credential's bit.
//!
//! It is not a DCP issuer service (no credential request protocol): an operator issues through the admin API
//! and hands the credential to the holder, whose connector stores it through its Management API.

mod http;
mod state;
mod status;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsc_dcp::SigningKey;
use dsc_dcp::credential::{CredentialDraft, CredentialIssuer, Profile};
use dsc_domain::clock::system_now_seconds as now_seconds;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

pub use http::router;
pub use state::{IssuedCredential, IssuerState, LIST_BITS};
pub use status::encode_list;

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("issuer state: {0}")]
    State(String),
    #[error("issuer key: {0}")]
    Key(String),
    #[error("the status list is full ({0} credentials issued)")]
    ListFull(u64),
    #[error("{0}")]
    Invalid(String),
    #[error("no credential with id '{0}'")]
    NotFound(String),
}

/// The Catena-X credential context (CX-0050).
pub const CATENA_X_CONTEXT: &str = "https://w3id.org/catenax/credentials/v1.0.0";

/// What the admin asks to issue.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IssueRequest {
    /// The holder's DID.
    pub holder: String,
    /// `MembershipCredential`, `BpnCredential`, `DataExchangeGovernanceCredential` or any other type name.
    #[serde(rename = "type")]
    pub credential_type: String,
    /// The holder's BPN, for the Catena-X types.
    pub bpn: Option<String>,
    /// Subject fields besides `id` (and besides the ones the Catena-X types get from `bpn`).
    #[serde(default)]
    pub subject: Map<String, Value>,
    /// Days from now the credential is valid for; 365 unless given.
    pub valid_days: Option<u32>,
    /// `vc11-sl2021/jwt` (default, what Catena-X uses) or `vc20-bssl/jwt`.
    pub profile: Option<String>,
}

/// An issuer: its key, base URL and state.
pub struct Issuer {
    key: SigningKey,
    did_document: Value,
    /// The URL this issuer is reached at (`http://localhost:39191`), for its status list URLs.
    base_url: String,
    state_file: PathBuf,
    state: Mutex<IssuerState>,
}

impl Issuer {
    /// Opens (or creates) the issuer in `directory`: its key in `issuer-key.pem`, its state in `issuer-state.json`.
    pub fn open(did: &str, base_url: &str, directory: &Path) -> Result<Arc<Self>, IssuerError> {
        std::fs::create_dir_all(directory).map_err(|e| IssuerError::State(format!("{}: {e}", directory.display())))?;
        let key_file = directory.join("issuer-key.pem");
        let pem = match std::fs::read_to_string(&key_file) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (_, pem) =
                    dsc_identity::SigningIdentity::generate(did).map_err(|e| IssuerError::Key(e.to_string()))?;
                write_private(&key_file, &pem)?;
                pem
            }
            Err(e) => return Err(IssuerError::Key(format!("{}: {e}", key_file.display()))),
        };
        let identity =
            dsc_identity::SigningIdentity::from_pem(did, &pem).map_err(|e| IssuerError::Key(e.to_string()))?;
        let key = SigningKey::es256_from_pem(did, identity.key_id(), pem.as_bytes())
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        let state_file = directory.join("issuer-state.json");
        let state = IssuerState::load(&state_file)?;
        Ok(Arc::new(Issuer {
            key,
            did_document: identity.did_document(),
            base_url: base_url.trim_end_matches('/').to_string(),
            state_file,
            state: Mutex::new(state),
        }))
    }

    pub fn did(&self) -> &str {
        self.key.did()
    }

    pub fn did_document(&self) -> &Value {
        &self.did_document
    }

    fn status_list_url(&self, profile: Profile) -> String {
        match profile {
            Profile::Vc11Sl2021Jwt => format!("{}/status/statuslist2021", self.base_url),
            Profile::Vc20BsslJwt => format!("{}/status/bitstring", self.base_url),
        }
    }

    /// Issues a credential and records it; returns its metadata and the credential (a VC JWT).
    pub async fn issue(&self, request: &IssueRequest) -> Result<(IssuedCredential, String), IssuerError> {
        if !request.holder.starts_with("did:") {
            return Err(IssuerError::Invalid(format!("holder '{}' is not a DID", request.holder)));
        }
        let credential_type = request.credential_type.trim();
        if credential_type.is_empty() || !credential_type.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(IssuerError::Invalid(format!("'{credential_type}' is not a credential type name")));
        }
        let profile = match request.profile.as_deref() {
            None => Profile::Vc11Sl2021Jwt,
            Some(alias) => Profile::parse(alias).ok_or_else(|| {
                IssuerError::Invalid(format!("unknown profile '{alias}'; use vc11-sl2021/jwt or vc20-bssl/jwt"))
            })?,
        };
        let subject = catena_x_subject(credential_type, request.bpn.as_deref(), &request.subject)?;
        let now = now_seconds();
        let valid_until = now + i64::from(request.valid_days.unwrap_or(365)) * 86_400;
        let mut state = self.state.lock().await;
        let index = state.allocate_index()?;
        let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
        let list = self.status_list_url(profile);
        let entry_type = match profile {
            Profile::Vc11Sl2021Jwt => "StatusList2021Entry",
            Profile::Vc20BsslJwt => "BitstringStatusListEntry",
        };
        let draft = CredentialDraft {
            id: id.clone(),
            types: vec![credential_type.to_string()],
            holder: request.holder.clone(),
            subject,
            valid_from: now,
            valid_until,
            status: Some(json!({"id": format!("{list}#{index}"), "type": entry_type, "statusPurpose": "revocation",
                "statusListIndex": index.to_string(), "statusListCredential": list})),
            contexts: vec![CATENA_X_CONTEXT.to_string()],
        };
        let jwt = CredentialIssuer::new(self.key.clone())
            .issue(profile, &draft)
            .map_err(|e| IssuerError::Key(e.to_string()))?;
        let record = IssuedCredential {
            id,
            holder: request.holder.clone(),
            types: vec![credential_type.to_string()],
            profile: profile.as_str().to_string(),
            status_list_index: index,
            valid_from: now,
            valid_until,
            revoked: false,
        };
        state.credentials.push(record.clone());
        state.save(&self.state_file)?;
        tracing::info!(credential = %record.id, holder = %record.holder, credential_type, "issued a credential");
        Ok((record, jwt))
    }

    /// Sets (or clears) the credential's revocation bit; verifiers see it once their cached list expires.
    pub async fn set_revoked(&self, id: &str, revoked: bool) -> Result<IssuedCredential, IssuerError> {
        let mut state = self.state.lock().await;
        let credential =
            state.credentials.iter_mut().find(|c| c.id == id).ok_or_else(|| IssuerError::NotFound(id.into()))?;
        credential.revoked = revoked;
        let record = credential.clone();
        state.save(&self.state_file)?;
        tracing::info!(credential = %id, revoked, "changed a credential's status");
        Ok(record)
    }

    pub async fn issued(&self) -> Vec<IssuedCredential> {
        self.state.lock().await.credentials.clone()
    }

    /// The status-list credential of a profile, as unsigned JSON (what EDC up to 0.15 and the DCP TCK read).
    pub async fn status_list(&self, profile: Profile) -> Value {
        let bits = self.state.lock().await.bits();
        status::status_list_credential(profile, self.did(), &self.status_list_url(profile), &bits, now_seconds())
    }
}

/// The subject of a Catena-X credential type (CX-0050); other types take the given fields as they are.
fn catena_x_subject(
    credential_type: &str,
    bpn: Option<&str>,
    extra: &Map<String, Value>,
) -> Result<Map<String, Value>, IssuerError> {
    let needs_bpn =
        ["MembershipCredential", "BpnCredential", "DataExchangeGovernanceCredential"].contains(&credential_type);
    let mut subject = Map::new();
    if needs_bpn {
        let bpn = bpn.ok_or_else(|| IssuerError::Invalid(format!("a {credential_type} needs the holder's bpn")))?;
        if !bpn.starts_with("BPNL") || bpn.len() != 16 {
            return Err(IssuerError::Invalid(format!("'{bpn}' is not a legal entity BPN (BPNL and 12 characters)")));
        }
        subject.insert("holderIdentifier".into(), json!(bpn));
        match credential_type {
            "MembershipCredential" => {
                subject.insert("memberOf".into(), json!("Catena-X"));
            }
            "BpnCredential" => {
                subject.insert("bpn".into(), json!(bpn));
            }
            _ => {
                subject.insert("group".into(), json!("UseCaseFramework"));
                subject.insert("useCase".into(), json!("DataExchangeGovernance"));
                subject.insert(
                    "contractTemplate".into(),
                    json!(
                        "https://catenax-ev.github.io/docs/regulatory-framework/20_governance/data-exchange-governance"
                    ),
                );
                subject.insert("contractVersion".into(), json!("1.0"));
            }
        }
    }
    for (name, value) in extra {
        if name == "id" {
            return Err(IssuerError::Invalid("the subject id is the holder; do not set it".into()));
        }
        subject.insert(name.clone(), value.clone());
    }
    Ok(subject)
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> Result<(), IssuerError> {
    use std::io::Write;
    let fail = |e: std::io::Error| IssuerError::Key(format!("{}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(fail)?.write_all(text.as_bytes()).map_err(fail)
}
