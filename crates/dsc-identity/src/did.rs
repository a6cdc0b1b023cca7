// SPDX-License-Identifier: Apache-2.0
//! `did:web` documents: where they live and how they are fetched.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio::sync::RwLock;

use crate::IdentityError;

/// `did:web:host%3Aport:a:b` → `http(s)://host:port/a/b/did.json`; without a path, `/.well-known/did.json`.
pub fn did_document_url(did: &str, use_https: bool) -> Result<String, IdentityError> {
    let fail = |why: &str| IdentityError::Resolution(did.to_string(), why.to_string());
    let rest = did.strip_prefix("did:web:").ok_or_else(|| fail("only did:web is supported"))?;
    let mut parts = rest.split(':');
    let host =
        parts.next().filter(|h| !h.is_empty()).ok_or_else(|| fail("no host"))?.replace("%3A", ":").replace("%3a", ":");
    if host.contains('/') || host.contains('@') {
        return Err(fail("the host part is not a host"));
    }
    let path: Vec<&str> = parts.collect();
    if path.iter().any(|segment| segment.is_empty() || *segment == ".." || segment.contains('/')) {
        return Err(fail("malformed path"));
    }
    let scheme = if use_https { "https" } else { "http" };
    Ok(if path.is_empty() {
        format!("{scheme}://{host}/.well-known/did.json")
    } else {
        format!("{scheme}://{host}/{}/did.json", path.join("/"))
    })
}

/// DID documents are a few KiB; anything far larger is not one.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

#[async_trait]
pub trait DidResolver: Send + Sync {
    /// The DID document (JSON) of `did`.
    async fn resolve(&self, did: &str) -> Result<Value, IdentityError>;
}

/// Fetches DID documents over HTTP(S) and caches them for a while, so every request does not cost a round trip.
pub struct HttpDidResolver {
    client: reqwest::Client,
    use_https: bool,
    ttl: Duration,
    cache: RwLock<HashMap<String, (Value, Instant)>>,
}

impl HttpDidResolver {
    /// `use_https = false` only for tests on loopback (EDC's `edc.iam.did.web.use.https`).
    pub fn new(client: reqwest::Client, use_https: bool, ttl: Duration) -> Self {
        HttpDidResolver { client, use_https, ttl, cache: RwLock::new(HashMap::new()) }
    }

    /// Drops a cached document (after a key rotation, for instance).
    pub async fn forget(&self, did: &str) {
        self.cache.write().await.remove(did);
    }
}

#[async_trait]
impl DidResolver for HttpDidResolver {
    async fn resolve(&self, did: &str) -> Result<Value, IdentityError> {
        if let Some((document, fetched)) = self.cache.read().await.get(did)
            && fetched.elapsed() < self.ttl
        {
            return Ok(document.clone());
        }
        let url = did_document_url(did, self.use_https)?;
        let fail = |why: String| IdentityError::Resolution(did.to_string(), why);
        // Any caller names the DID, so whatever answers at its URL is bounded in time and size.
        let mut response = self
            .client
            .get(&url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| fail(format!("GET {url}: {e}")))?;
        if !response.status().is_success() {
            return Err(fail(format!("GET {url}: HTTP {}", response.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| fail(format!("GET {url}: {e}")))? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(fail(format!("GET {url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        let document: Value = serde_json::from_slice(&body).map_err(|e| fail(format!("GET {url}: {e}")))?;
        if document.get("id").and_then(Value::as_str) != Some(did) {
            return Err(fail("the document's id is not the DID".into()));
        }
        self.cache.write().await.insert(did.to_string(), (document.clone(), Instant::now()));
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_did_web_to_urls() {
        assert_eq!(
            did_document_url("did:web:example.com", true).ok(),
            Some("https://example.com/.well-known/did.json".into())
        );
        assert_eq!(
            did_document_url("did:web:127.0.0.1%3A8080:connectors:provider", false).ok(),
            Some("http://127.0.0.1:8080/connectors/provider/did.json".into())
        );
        for bad in ["did:key:abc", "did:web:", "did:web:host:..:x", "did:web:a@b"] {
            assert!(did_document_url(bad, true).is_err(), "{bad}");
        }
    }
}
