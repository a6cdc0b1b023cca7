// SPDX-License-Identifier: Apache-2.0
//! Revocation and suspension through status lists: StatusList2021 (profile `vc11-sl2021/jwt`) and Bitstring Status
//! List (`vc20-bssl/jwt`). Both publish a GZIP-compressed, base64-encoded bitstring in a status-list credential;
//! a credential's `credentialStatus` names the list and its bit. Lists are cached for a while, as every verified
//! credential would otherwise cost a download; fetching is the caller's (this crate has no HTTP client).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use dsc_domain::Clock;
use serde_json::Value;

use crate::credential::Credential;
use crate::error::credential_error;
use crate::{CredentialProblem, DcpError, jws};

/// A decompressed list larger than this is refused: a few hundred compressed bytes can otherwise expand to
/// gigabytes. Far above the 16 KiB the specs ask for.
pub const MAX_LIST_BYTES: u64 = 16 * 1024 * 1024;

/// One `credentialStatus` entry of a known type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    /// `StatusList2021Entry` or `BitstringStatusListEntry`.
    pub kind: String,
    /// `revocation`, `suspension`, or (Bitstring Status List only) `refresh`, `message`.
    pub purpose: String,
    pub index: u64,
    pub list_url: String,
}

impl StatusEntry {
    /// Reads an entry; `None` for entry types this crate does not know (they are not checked, as in EDC).
    pub fn parse(entry: &Value) -> Result<Option<StatusEntry>, String> {
        let kind = entry.get("type").and_then(Value::as_str).ok_or("an entry has no type")?;
        if !matches!(kind, "StatusList2021Entry" | "BitstringStatusListEntry") {
            return Ok(None);
        }
        let text = |name: &str| {
            entry.get(name).and_then(Value::as_str).map(str::to_string).ok_or(format!("{kind} has no {name}"))
        };
        // CX-0050 types the index as a string; some issuers write a number.
        let index = match entry.get("statusListIndex") {
            Some(Value::String(s)) => s.parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            _ => None,
        }
        .ok_or(format!("{kind} has no non-negative statusListIndex"))?;
        if entry.get("statusSize").and_then(Value::as_u64).is_some_and(|size| size != 1) {
            return Err("a statusSize other than 1 is not supported".into());
        }
        Ok(Some(StatusEntry {
            kind: kind.into(),
            purpose: text("statusPurpose")?,
            index,
            list_url: text("statusListCredential")?,
        }))
    }
}

/// Decodes an `encodedList`: multibase `u` + base64url (Bitstring Status List), or un-prefixed base64 in either
/// alphabet (StatusList2021 issuers differ), padded or not; then GZIP.
pub fn decode_bitstring(encoded: &str) -> Result<Vec<u8>, String> {
    let config = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let url = GeneralPurpose::new(&alphabet::URL_SAFE, config);
    let standard = GeneralPurpose::new(&alphabet::STANDARD, config);
    let compressed = match encoded.strip_prefix('u') {
        Some(rest) => url.decode(rest).map_err(|e| format!("encodedList is not base64url: {e}"))?,
        None => standard
            .decode(encoded)
            .or_else(|_| url.decode(encoded))
            .map_err(|e| format!("encodedList is not base64: {e}"))?,
    };
    let mut list = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(MAX_LIST_BYTES + 1)
        .read_to_end(&mut list)
        .map_err(|e| format!("encodedList is not GZIP: {e}"))?;
    if list.len() as u64 > MAX_LIST_BYTES {
        return Err(format!("the list exceeds {MAX_LIST_BYTES} bytes"));
    }
    Ok(list)
}

/// Bit `index` of the list, most significant bit of the first byte first.
pub fn bit_at(list: &[u8], index: u64) -> Result<bool, String> {
    let byte = usize::try_from(index / 8).ok().and_then(|i| list.get(i));
    let byte = byte.ok_or_else(|| format!("index {index} is beyond the list's {} bits", list.len() * 8))?;
    Ok(byte & (0x80 >> (index % 8)) != 0)
}

/// A status-list credential's content.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusList {
    pub purpose: String,
    pub bits: Vec<u8>,
    /// Epoch seconds after which the list must be fetched again (`validUntil`/`expirationDate`/`exp`).
    pub valid_until: Option<i64>,
}

impl StatusList {
    /// Reads a status-list credential served as JSON or as a JWT (either profile).
    pub fn parse(body: &str) -> Result<StatusList, String> {
        let body = body.trim();
        let (credential, exp) = if body.starts_with('{') {
            let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
            (value, None)
        } else {
            let payload = jws::decode_unverified(body)?.payload;
            let exp = jws::time_claim(&payload, "exp")?;
            match payload.get("vc") {
                Some(vc) => (vc.clone(), exp),
                None => (Value::Object(payload), exp),
            }
        };
        let subject = match credential.get("credentialSubject") {
            Some(Value::Array(items)) => items.first(),
            other => other,
        }
        .ok_or("no credentialSubject")?;
        let field = |name: &str| subject.get(name).and_then(Value::as_str).ok_or(format!("no {name}"));
        let until = ["validUntil", "expirationDate"].iter().find_map(|k| credential.get(*k).and_then(Value::as_str));
        let until = match until {
            Some(text) => {
                Some(chrono::DateTime::parse_from_rfc3339(text).map_err(|e| format!("{text}: {e}"))?.timestamp())
            }
            None => None,
        };
        Ok(StatusList {
            purpose: field("statusPurpose")?.to_string(),
            bits: decode_bitstring(field("encodedList")?)?,
            valid_until: [until, exp].into_iter().flatten().min(),
        })
    }
}

/// Downloads a status-list credential; the body is JSON or a JWT.
#[async_trait]
pub trait StatusListFetcher: Send + Sync {
    async fn fetch(&self, url: &str) -> Result<String, String>;
}

/// Status lists by URL, each kept for a TTL (EDC: 15 minutes) or until the list credential expires.
pub struct StatusListCache {
    fetcher: Arc<dyn StatusListFetcher>,
    clock: Arc<dyn Clock>,
    ttl_millis: i64,
    lists: Mutex<HashMap<String, (Arc<StatusList>, i64)>>,
}

impl StatusListCache {
    pub fn new(fetcher: Arc<dyn StatusListFetcher>, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        let ttl_millis = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        StatusListCache { fetcher, clock, ttl_millis, lists: Mutex::new(HashMap::new()) }
    }

    /// The list at `url`, from the cache while it is fresh.
    pub async fn list(&self, url: &str) -> Result<Arc<StatusList>, DcpError> {
        let now = self.clock.now_millis();
        let fresh = |(list, fetched): &(Arc<StatusList>, i64)| {
            now - fetched < self.ttl_millis && list.valid_until.is_none_or(|until| until * 1000 >= now)
        };
        if let Some(cached) = self.lists.lock().ok().and_then(|lists| lists.get(url).filter(|e| fresh(e)).cloned()) {
            return Ok(cached.0);
        }
        let failed = |why: String| DcpError::StatusList { url: url.to_string(), why };
        let body = self.fetcher.fetch(url).await.map_err(failed)?;
        let list = Arc::new(StatusList::parse(&body).map_err(failed)?);
        if let Ok(mut lists) = self.lists.lock() {
            lists.retain(|_, entry| fresh(entry));
            lists.insert(url.to_string(), (list.clone(), now));
        }
        Ok(list)
    }

    /// Refuses `credential` when one of its revocation or suspension bits is set, or a list cannot be read.
    pub async fn check(&self, credential: &Credential) -> Result<(), DcpError> {
        let fail = |problem| credential_error(&credential.label(), problem);
        for entry in &credential.status {
            let problem = match entry.purpose.to_ascii_lowercase().as_str() {
                "revocation" => CredentialProblem::Revoked,
                "suspension" => CredentialProblem::Suspended,
                // `refresh` and `message` entries say nothing about validity.
                _ => continue,
            };
            let unavailable = |why: String| fail(CredentialProblem::StatusUnavailable(entry.list_url.clone(), why));
            let list = self.list(&entry.list_url).await.map_err(|e| match e {
                DcpError::StatusList { why, .. } => unavailable(why),
                other => unavailable(other.to_string()),
            })?;
            if !list.purpose.eq_ignore_ascii_case(&entry.purpose) {
                return Err(unavailable(format!("the list is for {}, not {}", list.purpose, entry.purpose)));
            }
            if bit_at(&list.bits, entry.index).map_err(unavailable)? {
                return Err(fail(problem));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
