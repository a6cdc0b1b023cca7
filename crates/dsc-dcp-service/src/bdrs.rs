// SPDX-License-Identifier: Apache-2.0
//! The client of Catena-X's BPN-DID resolution service (BDRS): a Management API user may name a counter-party by
//! BPN, as Tractus-X users do, and the protocol addresses its DID. The directory is downloaded whole
//! (`GET <server>/bpn-directory`, gzip), authenticated with a presentation of this participant's membership
//! credential obtained from its own credential service, and kept for a while (`tx.edc.iam.iatp.bdrs.cache.validity`).
//!
//! Written against the directory format and authentication BDRS documents (a JSON object BPN → DID; the array form
//! of its architecture notes is read too); not run against a real BDRS server, which is not available here.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsc_dcp::query::PresentationResponseMessage;
use dsc_dcp::scope::{Scope, ScopeAlias};
use dsc_identity::DidResolver;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::sts::TokenSource;

/// Why a BPN has no DID here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BdrsError {
    /// The directory was read and has no such BPN.
    Unknown(String),
    /// The directory could not be read (unreachable, refused our membership presentation, malformed).
    Unavailable(String),
}

impl std::fmt::Display for BdrsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BdrsError::Unknown(why) | BdrsError::Unavailable(why) => f.write_str(why),
        }
    }
}

/// BPN → DID, as downloaded.
type Directory = Arc<HashMap<String, String>>;

pub struct BdrsClient {
    http: reqwest::Client,
    /// The directory API's base URL (without `/bpn-directory`).
    server: String,
    validity: Duration,
    timeout: Duration,
    own_did: String,
    scope_alias: ScopeAlias,
    tokens: Arc<dyn TokenSource>,
    resolver: Arc<dyn DidResolver>,
    directory: Mutex<Option<(Instant, Directory)>>,
}

pub struct BdrsSettings {
    pub server: String,
    pub validity: Duration,
    pub timeout: Duration,
    pub own_did: String,
    pub scope_alias: ScopeAlias,
}

impl BdrsClient {
    pub fn new(
        settings: BdrsSettings,
        http: reqwest::Client,
        tokens: Arc<dyn TokenSource>,
        resolver: Arc<dyn DidResolver>,
    ) -> Self {
        BdrsClient {
            http,
            server: settings.server.trim_end_matches('/').to_string(),
            validity: settings.validity,
            timeout: settings.timeout,
            own_did: settings.own_did,
            scope_alias: settings.scope_alias,
            tokens,
            resolver,
            directory: Mutex::new(None),
        }
    }

    /// The DID of the participant with this BPN.
    pub async fn did_of(&self, bpn: &str) -> Result<String, BdrsError> {
        let directory = self.directory().await.map_err(BdrsError::Unavailable)?;
        directory.get(bpn).cloned().ok_or_else(|| {
            BdrsError::Unknown(format!(
                "BPN '{bpn}' is not in the BPN-DID directory at {} ({} entries)",
                self.server,
                directory.len()
            ))
        })
    }

    async fn directory(&self) -> Result<Directory, String> {
        let mut cached = self.directory.lock().await;
        if let Some((fetched, directory)) = cached.as_ref()
            && fetched.elapsed() < self.validity
        {
            return Ok(directory.clone());
        }
        let directory = Arc::new(self.download().await?);
        *cached = Some((Instant::now(), directory.clone()));
        Ok(directory)
    }

    /// A presentation of this participant's membership credential, from its own credential service, as BDRS wants
    /// it for authentication (audience: this participant, as Tractus-X asks its own wallet).
    async fn membership_presentation(&self) -> Result<String, String> {
        let scope = Scope::read(self.scope_alias, "MembershipCredential").to_string();
        let token = self.tokens.token(&self.own_did, std::slice::from_ref(&scope), None).await?;
        let document = self.resolver.resolve(&self.own_did).await.map_err(|e| e.to_string())?;
        let body = crate::query::query_presentations(
            &self.http,
            "this participant's credential service",
            &document,
            &token,
            vec![scope],
            self.timeout,
        )
        .await?;
        let answer = PresentationResponseMessage::parse(&body).map_err(|_| {
            format!(
                "this participant holds no MembershipCredential to present to the BPN-DID directory at {}",
                self.server
            )
        })?;
        answer
            .presentation
            .first()
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| "the credential service answered a presentation that is not a JWT".to_string())
    }

    async fn download(&self) -> Result<HashMap<String, String>, String> {
        let presentation = self.membership_presentation().await?;
        let url = format!("{}/bpn-directory", self.server);
        let response = self
            .http
            .get(&url)
            .bearer_auth(presentation)
            .header(reqwest::header::ACCEPT_ENCODING, "gzip")
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| format!("the BPN-DID directory at {url} cannot be reached: {e}"))?;
        let status = response.status();
        let gzipped = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let bytes =
            crate::http::bounded_body(response).await.map_err(|e| format!("the BPN-DID directory at {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "the BPN-DID directory at {url} refused this participant's membership presentation (HTTP {})",
                status.as_u16()
            ));
        }
        let mut text = Vec::new();
        if gzipped {
            flate2::read::GzDecoder::new(bytes.as_slice())
                .take(crate::http::MAX_ANSWER_BYTES as u64)
                .read_to_end(&mut text)
                .map_err(|e| format!("the BPN-DID directory at {url} is not valid gzip: {e}"))?;
        } else {
            text = bytes.to_vec();
        }
        parse_directory(&text).map_err(|why| format!("the BPN-DID directory at {url}: {why}"))
    }
}

/// `{"BPNL…": "did:web:…", …}`, or `[{"bpn": …, "did": …}, …]`.
pub fn parse_directory(body: &[u8]) -> Result<HashMap<String, String>, String> {
    match serde_json::from_slice::<Value>(body).map_err(|e| format!("not JSON: {e}"))? {
        Value::Object(entries) => {
            Ok(entries.into_iter().filter_map(|(bpn, did)| did.as_str().map(|did| (bpn, did.to_string()))).collect())
        }
        Value::Array(entries) => Ok(entries
            .iter()
            .filter_map(|e| Some((e.get("bpn")?.as_str()?.to_string(), e.get("did")?.as_str()?.to_string())))
            .collect()),
        _ => Err("neither an object of BPN to DID nor an array of entries".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directory_forms_are_read() {
        let object = parse_directory(br#"{"BPNL000000000001":"did:web:a","BPNL000000000002":"did:web:b"}"#).unwrap();
        assert_eq!(object.get("BPNL000000000002").map(String::as_str), Some("did:web:b"));
        let array = parse_directory(br#"[{"bpn":"BPNL000000000001","did":"did:web:a"}]"#).unwrap();
        assert_eq!(array.get("BPNL000000000001").map(String::as_str), Some("did:web:a"));
        assert_eq!(parse_directory(b"3").unwrap_err(), "neither an object of BPN to DID nor an array of entries");
        assert!(parse_directory(b"{").unwrap_err().starts_with("not JSON: "));
    }
}
