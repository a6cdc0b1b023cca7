// SPDX-License-Identifier: Apache-2.0
//! Delivering queued events to callback addresses: at least once, with retries, after the state change that
//! caused them was committed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_store::{CallbackOutbox, OutboxEntry};
use dsc_vault::Vault;
use tokio::sync::watch;

use crate::now_millis;

/// Sends one event; the HTTP client lives with the runtime.
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// `Err` with a reason for anything but a 2xx answer.
    async fn post(&self, uri: &str, headers: &[(String, String)], body: &str) -> Result<(), String>;
}

pub struct CallbackDispatcher {
    outbox: Arc<dyn CallbackOutbox>,
    sender: Arc<dyn CallbackSender>,
    vault: Arc<dyn Vault>,
    holder: String,
    max_attempts: u32,
}

const POLL: Duration = Duration::from_millis(200);
const LEASE_MS: i64 = 30_000;

impl CallbackDispatcher {
    pub fn new(
        outbox: Arc<dyn CallbackOutbox>,
        sender: Arc<dyn CallbackSender>,
        vault: Arc<dyn Vault>,
        holder: String,
    ) -> Self {
        CallbackDispatcher { outbox, sender, vault, holder, max_attempts: 10 }
    }

    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            let worked = self.tick().await;
            if !worked {
                tokio::select! {
                    _ = tokio::time::sleep(POLL) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    /// Delivers one batch; true when there was anything to deliver.
    pub async fn tick(&self) -> bool {
        let entries = match self.outbox.claim_callbacks(50, &self.holder, LEASE_MS).await {
            Ok(entries) => entries,
            Err(error) => {
                tracing::warn!("claiming callback events failed: {error}");
                return false;
            }
        };
        let worked = !entries.is_empty();
        for entry in entries {
            self.deliver(entry).await;
        }
        worked
    }

    async fn headers(&self, entry: &OutboxEntry) -> Result<Vec<(String, String)>, String> {
        let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
        if let Some(key) = &entry.auth_key {
            let alias = entry.auth_code_id.as_deref().ok_or("authKey is set but authCodeId is not")?;
            let secret = self
                .vault
                .resolve(alias)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("vault secret '{alias}' (authCodeId) does not exist"))?;
            headers.push((key.clone(), secret.expose().to_string()));
        }
        Ok(headers)
    }

    async fn deliver(&self, entry: OutboxEntry) {
        let outcome = match self.headers(&entry).await {
            Ok(headers) => self.sender.post(&entry.uri, &headers, &entry.body).await,
            Err(reason) => Err(reason),
        };
        let result = match outcome {
            Ok(()) => self.outbox.callback_delivered(&entry.id).await,
            Err(reason) if entry.attempts + 1 >= self.max_attempts => {
                tracing::warn!(uri = %entry.uri, attempts = entry.attempts + 1, "callback event dropped after repeated failures: {reason}");
                self.outbox.callback_delivered(&entry.id).await
            }
            Err(reason) => {
                let attempts = entry.attempts + 1;
                let delay = (1000_i64 << attempts.min(8)).min(300_000);
                tracing::info!(uri = %entry.uri, attempts, delay_ms = delay, "callback delivery failed, will retry: {reason}");
                self.outbox.callback_failed(&entry.id, attempts, now_millis() + delay).await
            }
        };
        if let Err(error) = result {
            tracing::warn!("recording a callback delivery failed: {error}");
        }
    }
}
