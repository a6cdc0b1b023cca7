// SPDX-License-Identifier: Apache-2.0
//! Delivering queued events to callback addresses: at least once, with retries, after the state change that
//! caused them was committed. Addresses registered as in-process listeners (`local://...`) are delivered to the
//! listener instead of over HTTP, with the same guarantees.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_store::{CallbackOutbox, OutboxEntry};
use dsc_vault::Vault;
use tokio::sync::watch;

/// Sends one event; the HTTP client lives with the runtime.
#[async_trait]
pub trait CallbackSender: Send + Sync {
    /// `Err` with a reason for anything but a 2xx answer.
    async fn post(&self, uri: &str, headers: &[(String, String)], body: &str) -> Result<(), String>;
}

/// An in-process receiver of the events addressed to one `local://` callback address.
#[async_trait]
pub trait EventListener: Send + Sync {
    /// `body` is the event envelope, as a remote callback would receive it. `Err` with a reason: retried later.
    async fn on_event(&self, body: &str) -> Result<(), String>;
}

pub struct CallbackDispatcher {
    outbox: Arc<dyn CallbackOutbox>,
    sender: Arc<dyn CallbackSender>,
    listeners: HashMap<String, Arc<dyn EventListener>>,
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
        CallbackDispatcher { outbox, sender, listeners: HashMap::new(), vault, holder, max_attempts: 10 }
    }

    /// Delivers the events addressed to `uri` to `listener` in-process.
    pub fn with_listener(mut self, uri: impl Into<String>, listener: Arc<dyn EventListener>) -> Self {
        self.listeners.insert(uri.into(), listener);
        self
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
        let outcome = match (self.listeners.get(&entry.uri), self.headers(&entry).await) {
            (Some(listener), _) => listener.on_event(&entry.body).await,
            (None, Ok(headers)) => self.sender.post(&entry.uri, &headers, &entry.body).await,
            (None, Err(reason)) => Err(reason),
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
                self.outbox.callback_failed(&entry.id, attempts, dsc_domain::clock::system_now_millis() + delay).await
            }
        };
        if let Err(error) = result {
            tracing::warn!("recording a callback delivery failed: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use dsc_store::StoreError;
    use dsc_vault::{EncryptedFileVault, VaultKey};

    use super::*;

    /// Outbox entries in memory, recording what the dispatcher reports back.
    #[derive(Default)]
    struct Outbox {
        due: Mutex<Vec<OutboxEntry>>,
        delivered: Mutex<Vec<String>>,
        failed: Mutex<Vec<(String, u32)>>,
    }

    #[async_trait]
    impl CallbackOutbox for Outbox {
        async fn claim_callbacks(&self, _: u32, _: &str, _: i64) -> Result<Vec<OutboxEntry>, StoreError> {
            Ok(std::mem::take(&mut *self.due.lock().unwrap()))
        }
        async fn callback_delivered(&self, id: &str) -> Result<(), StoreError> {
            self.delivered.lock().unwrap().push(id.to_string());
            Ok(())
        }
        async fn callback_failed(&self, id: &str, attempts: u32, _: i64) -> Result<(), StoreError> {
            self.failed.lock().unwrap().push((id.to_string(), attempts));
            Ok(())
        }
    }

    /// Records what it receives and answers with `result`.
    struct Recorder {
        seen: Mutex<Vec<String>>,
        result: Result<(), String>,
    }

    impl Recorder {
        fn answering(result: Result<(), String>) -> Arc<Self> {
            Arc::new(Recorder { seen: Mutex::new(Vec::new()), result })
        }
    }

    #[async_trait]
    impl CallbackSender for Recorder {
        async fn post(&self, uri: &str, _: &[(String, String)], body: &str) -> Result<(), String> {
            self.seen.lock().unwrap().push(format!("{uri} {body}"));
            self.result.clone()
        }
    }

    #[async_trait]
    impl EventListener for Recorder {
        async fn on_event(&self, body: &str) -> Result<(), String> {
            self.seen.lock().unwrap().push(body.to_string());
            self.result.clone()
        }
    }

    fn entry(id: &str, uri: &str) -> OutboxEntry {
        OutboxEntry {
            id: id.into(),
            uri: uri.into(),
            auth_key: None,
            auth_code_id: None,
            body: format!("{{\"event\":\"{id}\"}}"),
            attempts: 0,
        }
    }

    async fn dispatcher(outbox: Arc<Outbox>, sender: Arc<Recorder>, listener: Arc<Recorder>) -> CallbackDispatcher {
        let dir = tempfile::tempdir().unwrap();
        let vault = EncryptedFileVault::open(dir.path().join("vault"), VaultKey::generate()).await.unwrap();
        CallbackDispatcher::new(outbox, sender, Arc::new(vault), "test".into()).with_listener("local://edr", listener)
    }

    #[tokio::test]
    async fn local_addresses_go_to_their_listener_and_others_over_http() {
        let outbox = Arc::new(Outbox::default());
        *outbox.due.lock().unwrap() = vec![entry("a", "local://edr"), entry("b", "http://peer/events")];
        let (sender, listener) = (Recorder::answering(Ok(())), Recorder::answering(Ok(())));
        let dispatcher = dispatcher(outbox.clone(), sender.clone(), listener.clone()).await;

        assert!(dispatcher.tick().await);
        assert_eq!(*listener.seen.lock().unwrap(), vec!["{\"event\":\"a\"}".to_string()]);
        assert_eq!(*sender.seen.lock().unwrap(), vec!["http://peer/events {\"event\":\"b\"}".to_string()]);
        assert_eq!(*outbox.delivered.lock().unwrap(), vec!["a".to_string(), "b".to_string()]);
        assert!(!dispatcher.tick().await, "nothing is left to deliver");
    }

    #[tokio::test]
    async fn a_failing_listener_is_retried_like_a_failing_http_callback() {
        let outbox = Arc::new(Outbox::default());
        *outbox.due.lock().unwrap() = vec![entry("a", "local://edr")];
        let listener = Recorder::answering(Err("the transfer could not be requested".into()));
        let dispatcher = dispatcher(outbox.clone(), Recorder::answering(Ok(())), listener).await;

        dispatcher.tick().await;
        assert_eq!(*outbox.failed.lock().unwrap(), vec![("a".to_string(), 1)]);
        assert!(outbox.delivered.lock().unwrap().is_empty());
    }
}
