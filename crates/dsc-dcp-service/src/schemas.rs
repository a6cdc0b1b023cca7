// SPDX-License-Identifier: Apache-2.0
//! `credentialSchema`: the JSON Schemas a credential's subject must satisfy, fetched over HTTP and kept for an
//! hour (schemas are versioned documents; a changed one gets a new URL).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dsc_dcp::credential::Credential;
use dsc_dcp::{CredentialProblem, DcpError};
use serde_json::Value;
use tokio::sync::Mutex;

const KEEP: Duration = Duration::from_secs(3600);

pub struct SchemaCache {
    http: reqwest::Client,
    timeout: Duration,
    schemas: Mutex<HashMap<String, (Arc<jsonschema::Validator>, Instant)>>,
}

impl SchemaCache {
    pub fn new(http: reqwest::Client, timeout: Duration) -> Self {
        SchemaCache { http, timeout, schemas: Mutex::new(HashMap::new()) }
    }

    async fn validator(&self, url: &str) -> Result<Arc<jsonschema::Validator>, String> {
        if let Some((validator, fetched)) = self.schemas.lock().await.get(url)
            && fetched.elapsed() < KEEP
        {
            return Ok(validator.clone());
        }
        let response = self.http.get(url).timeout(self.timeout).send().await.map_err(|e| {
            if e.is_timeout() { format!("no answer within {} ms", self.timeout.as_millis()) } else { e.to_string() }
        })?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let body = crate::http::bounded_body(response).await?;
        let schema: Value = serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
        let validator = Arc::new(jsonschema::validator_for(&schema).map_err(|e| format!("not a JSON Schema: {e}"))?);
        self.schemas.lock().await.insert(url.to_string(), (validator.clone(), Instant::now()));
        Ok(validator)
    }

    /// Refuses `credential` when a subject violates one of its schemas, or a schema cannot be had.
    pub async fn check(&self, credential: &Credential) -> Result<(), DcpError> {
        let fail = |problem| DcpError::Credential { credential: credential.label(), problem };
        for url in &credential.schemas {
            let validator = self
                .validator(url)
                .await
                .map_err(|why| fail(CredentialProblem::SchemaUnavailable(url.clone(), why)))?;
            for subject in &credential.subjects {
                if let Err(error) = validator.validate(&Value::Object(subject.clone())) {
                    return Err(fail(CredentialProblem::SchemaViolation(url.clone(), error.to_string())));
                }
            }
        }
        Ok(())
    }
}
