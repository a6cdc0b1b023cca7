// SPDX-License-Identifier: Apache-2.0
//! The demo's calls to each connector's Management API, the way an operator's script would make them.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::DemoError;

pub const EDC: &str = "https://w3id.org/edc/v0.0.1/ns/";
pub const PROTOCOL: &str = "dataspace-protocol-http:2025-1";

#[derive(Clone)]
pub struct Management {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Management {
    pub fn new(base: String, key: String) -> Management {
        Management { http: reqwest::Client::new(), base, key }
    }

    /// Sends a request; any answer is returned with its status, only transport failures are errors.
    pub async fn call(
        &self,
        step: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), DemoError> {
        let url = format!("{}{path}", self.base);
        let mut request =
            self.http.request(method, &url).header("X-Api-Key", &self.key).timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| DemoError::step(step, format!("{url}: {e}")))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// A call that must answer 200 or 204.
    pub async fn ok(
        &self,
        step: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, DemoError> {
        let (status, reply) = self.call(step, method.clone(), path, body).await?;
        if status == 200 || status == 204 {
            return Ok(reply);
        }
        Err(DemoError::step(step, format!("{method} {path} answered {status}: {reply}")))
    }

    pub async fn post(&self, step: &str, path: &str, body: &Value) -> Result<Value, DemoError> {
        self.ok(step, reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn get(&self, step: &str, path: &str) -> Result<Value, DemoError> {
        self.ok(step, reqwest::Method::GET, path, None).await
    }

    /// Polls a transfer until it is in `state`; fails after `timeout` naming the state it is in.
    pub async fn wait_for_transfer(
        &self,
        step: &str,
        id: &str,
        state: &str,
        timeout: Duration,
    ) -> Result<(), DemoError> {
        let deadline = Instant::now() + timeout;
        loop {
            let process = self.get(step, &format!("/v3/transferprocesses/{id}")).await?;
            if process["state"] == state {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DemoError::step(
                    step,
                    format!("transfer {id} is {} after {} s, not {state}", process["state"], timeout.as_secs()),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The provider's id of a consumer's transfer: the provider's process whose correlation id it is.
    pub async fn provider_transfer_of(&self, step: &str, consumer_transfer: &str) -> Result<String, DemoError> {
        let all = self
            .post(step, "/v3/transferprocesses/request", &json!({ "@context": { "@vocab": EDC }, "limit": 1000 }))
            .await?;
        all.as_array()
            .and_then(|all| all.iter().find(|t| t["correlationId"] == consumer_transfer))
            .and_then(|t| t["@id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| DemoError::step(step, format!("the provider has no transfer for {consumer_transfer}")))
    }

    /// `suspend`, `resume` or `terminate` a transfer.
    pub async fn command(&self, step: &str, transfer: &str, action: &str, reason: &str) -> Result<(), DemoError> {
        let body = json!({ "@context": { "@vocab": EDC }, "reason": reason });
        self.post(step, &format!("/v3/transferprocesses/{transfer}/{action}"), &body).await.map(|_| ())
    }
}
