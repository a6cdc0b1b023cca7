// SPDX-License-Identifier: Apache-2.0
//! The runner with the transfer processor: giving up a provider transfer still tells the consumer (TERMINATING),
//! releases the transfer's vault entry, and retries on the transfer retry settings.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dsc_domain::{DataAddress, ManualClock, NegotiationRole, TransferProcess, TransferState};
use dsc_signaling::{DataPlaneClient, SignalingError, StartRequest};
use dsc_store::{SqlStore, StoreSettings, TransferStore};
use dsc_vault::{SecretString, Vault, VaultError};
use tokio::sync::Notify;

use crate::protocol::{Counterparty, DispatchError, NegotiationReply, TransferDispatcher, TransferMessage};
use crate::transfer::{TransferManager, TransferSettings, address_key};

const START: i64 = 2_000_000;

/// Unreachable for the first `failures` messages, then accepting; records what it was sent.
#[derive(Default)]
struct Consumer {
    failures: Mutex<u32>,
    sent: Mutex<Vec<TransferMessage>>,
}

#[async_trait]
impl TransferDispatcher for Consumer {
    async fn send_transfer(
        &self,
        peer: &Counterparty,
        message: &TransferMessage,
    ) -> Result<NegotiationReply, DispatchError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(message.clone());
        }
        let mut failures = self.failures.lock().unwrap_or_else(|e| panic!("{e}"));
        if *failures > 0 {
            *failures -= 1;
            return Err(DispatchError::Unreachable { address: peer.address.clone(), reason: "timeout".into() });
        }
        Ok(NegotiationReply::Accepted { counter_party_pid: None, state: None })
    }
}

/// No data plane is ever needed here: the transfer fails before signaling.
struct NoDataPlane;

#[async_trait]
impl DataPlaneClient for NoDataPlane {
    fn transfer_types(&self) -> Vec<String> {
        Vec::new()
    }
    async fn start(&self, request: &StartRequest) -> Result<Option<DataAddress>, SignalingError> {
        Err(SignalingError::NoDataPlane(request.profile.clone()))
    }
    async fn suspend(&self, profile: &str, _: &str, _: Option<&str>) -> Result<(), SignalingError> {
        Err(SignalingError::NoDataPlane(profile.into()))
    }
    async fn resume(&self, profile: &str, _: &str) -> Result<Option<DataAddress>, SignalingError> {
        Err(SignalingError::NoDataPlane(profile.into()))
    }
    async fn terminate(&self, profile: &str, _: &str, _: Option<&str>) -> Result<(), SignalingError> {
        Err(SignalingError::NoDataPlane(profile.into()))
    }
    async fn completed(&self, profile: &str, _: &str) -> Result<(), SignalingError> {
        Err(SignalingError::NoDataPlane(profile.into()))
    }
}

/// An empty vault that records the keys it is asked to delete.
#[derive(Default)]
struct Vaulted {
    deleted: Mutex<Vec<String>>,
}

#[async_trait]
impl Vault for Vaulted {
    async fn resolve(&self, _key: &str) -> Result<Option<SecretString>, VaultError> {
        Ok(None)
    }
    async fn store(&self, _key: &str, _value: SecretString) -> Result<(), VaultError> {
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<bool, VaultError> {
        if let Ok(mut deleted) = self.deleted.lock() {
            deleted.push(key.to_string());
        }
        Ok(false)
    }
    async fn keys(&self) -> Result<Vec<String>, VaultError> {
        Ok(Vec::new())
    }
}

fn provider_transfer(id: &str) -> TransferProcess {
    TransferProcess {
        id: id.into(),
        correlation_id: Some(format!("consumer-{id}")),
        counter_party_id: "did:web:consumer".into(),
        counter_party_address: "http://consumer/callback".into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
        role: NegotiationRole::Provider,
        state: TransferState::Requested,
        state_count: 1,
        pending: false,
        state_timestamp: START,
        error_detail: None,
        agreement_id: "agreement-1".into(),
        asset_id: "gone".into(),
        transfer_type: "HttpData-PULL".into(),
        data_destination: None,
        data_address_key: Some(address_key(id)),
        suspended_by: None,
        counter_party_informed: true,
        data_flow_started: false,
        callback_addresses: Vec::new(),
        trace_context: None,
        created_at: START,
        updated_at: START,
    }
}

#[tokio::test]
async fn a_failed_provider_start_terminates_telling_the_consumer_with_retries() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}/s.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap_or_else(|e| panic!("{e}")));
    let clock = ManualClock::starting_at(START);
    let consumer = Arc::new(Consumer { failures: Mutex::new(1), ..Consumer::default() });
    let vault = Arc::new(Vaulted::default());
    let mut settings = TransferSettings::new("did:web:provider", "http://provider/api/v1/dsp/2025-1", "runner");
    settings.retry_base_ms = 250;
    settings.clock = clock.clone();
    let machine = TransferManager::new(
        settings,
        store.clone(),
        store.clone(),
        consumer.clone(),
        Arc::new(NoDataPlane),
        vault.clone(),
        Arc::new(Notify::new()),
    );
    store.create_transfer(&provider_transfer("t")).await.unwrap_or_else(|e| panic!("{e}"));
    let round = || async { machine.process_due().await.unwrap_or_else(|e| panic!("{e}")) };
    let get = || async { store.find_transfer("t").await.ok().flatten().unwrap_or_else(|| panic!("t is gone")) };

    assert_eq!(round().await, 1);
    let ending = get().await;
    assert_eq!(ending.state, TransferState::Terminating);
    assert_eq!(ending.error_detail.as_deref(), Some("asset 'gone' no longer exists"));
    assert!(!ending.counter_party_informed, "the consumer is still to be told");
    assert_eq!(vault.deleted.lock().map(|d| d.clone()).unwrap_or_default(), [address_key("t")]);

    assert_eq!(round().await, 1, "the termination message, unreachable");
    let retried = get().await;
    assert_eq!(
        (retried.state, retried.state_count, retried.state_timestamp),
        (TransferState::Terminating, 2, START + 250)
    );
    clock.advance(249);
    assert_eq!(round().await, 0);
    clock.advance(1);
    assert_eq!(round().await, 1);
    assert_eq!(get().await.state, TransferState::Terminated);
    let sent = consumer.sent.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(sent.len(), 2);
    assert!(
        matches!(&sent[1], TransferMessage::Termination { reason: Some(reason), to_provider: false, .. }
            if reason == "asset 'gone' no longer exists"),
        "{sent:?}"
    );
}

/// A data plane that starts flows asynchronously: it answers the start without an address and calls back later.
struct LaterDataPlane;

#[async_trait]
impl DataPlaneClient for LaterDataPlane {
    fn transfer_types(&self) -> Vec<String> {
        vec!["HttpData-PULL".into()]
    }
    async fn start(&self, _: &StartRequest) -> Result<Option<DataAddress>, SignalingError> {
        Ok(None)
    }
    async fn suspend(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), SignalingError> {
        Ok(())
    }
    async fn resume(&self, _: &str, _: &str) -> Result<Option<DataAddress>, SignalingError> {
        Ok(None)
    }
    async fn terminate(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), SignalingError> {
        Ok(())
    }
    async fn completed(&self, _: &str, _: &str) -> Result<(), SignalingError> {
        Ok(())
    }
}

#[tokio::test]
async fn an_asynchronous_start_rests_in_requested_without_spending_retries() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}/s.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap_or_else(|e| panic!("{e}")));
    let asset = dsc_domain::Asset {
        id: "parts".into(),
        created_at: START,
        properties: Default::default(),
        private_properties: Default::default(),
        data_address: DataAddress { properties: Default::default() },
    };
    dsc_store::Repository::create(&*store, &asset).await.unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::starting_at(START);
    let mut settings = TransferSettings::new("did:web:provider", "http://provider/api/v1/dsp/2025-1", "runner");
    settings.clock = clock.clone();
    let consumer = Arc::new(Consumer::default());
    let machine = TransferManager::new(
        settings,
        store.clone(),
        store.clone(),
        consumer.clone(),
        Arc::new(LaterDataPlane),
        Arc::new(Vaulted::default()),
        Arc::new(Notify::new()),
    );
    let transfer = TransferProcess { asset_id: "parts".into(), data_address_key: None, ..provider_transfer("t") };
    store.create_transfer(&transfer).await.unwrap_or_else(|e| panic!("{e}"));
    let round = || async { machine.process_due().await.unwrap_or_else(|e| panic!("{e}")) };

    assert_eq!(round().await, 1, "the start is signaled");
    let waiting = store.find_transfer("t").await.ok().flatten().unwrap_or_else(|| panic!("t is gone"));
    assert_eq!((waiting.state, waiting.pending, waiting.data_flow_started), (TransferState::Requested, true, true));
    clock.advance(3_600_000);
    assert_eq!(round().await, 0, "nothing to do until the data plane calls back, however long it takes");
    assert!(consumer.sent.lock().map(|s| s.is_empty()).unwrap_or_default(), "no start message without an address");
}
