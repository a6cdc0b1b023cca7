// SPDX-License-Identifier: Apache-2.0
//! The EDR read path against a real SQLite store and vault; the provider's refresh endpoint is a fake that
//! rotates refresh tokens the way a provider must (a used refresh token is refused).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use dsc_domain::{DataAddress, NegotiationRole, TransferProcess, TransferState};
use dsc_store::{SqlStore, StoreSettings, TransferStore};
use dsc_vault::{EncryptedFileVault, Vault, VaultKey};
use serde_json::json;

use super::{EdrError, EdrRefresher, EdrService};
use crate::transfer::{address_key, keep_address, read_address};

/// A provider whose current refresh token is `refresh-<generation>`; renewing takes a while, so concurrent readers
/// overlap, and a renewal with an outdated token is refused as a real provider refuses it.
#[derive(Default)]
struct RotatingProvider {
    generation: AtomicU32,
    renewals: AtomicU32,
}

fn edr(generation: u32, due: bool) -> DataAddress {
    let mut address = DataAddress { properties: Default::default() };
    address.properties.insert("refreshToken".into(), json!(format!("refresh-{generation}")));
    address.properties.insert("due".into(), json!(due));
    address
}

#[async_trait]
impl EdrRefresher for RotatingProvider {
    fn is_due(&self, address: &DataAddress) -> bool {
        address.properties.get("due") == Some(&json!(true))
    }

    async fn refresh(&self, address: &DataAddress) -> Result<DataAddress, String> {
        self.renewals.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let current = self.generation.load(Ordering::SeqCst);
        if address.properties.get("refreshToken") != Some(&json!(format!("refresh-{current}"))) {
            return Err("invalid_grant: the refresh token was used already".into());
        }
        self.generation.store(current + 1, Ordering::SeqCst);
        Ok(edr(current + 1, false))
    }
}

struct Setup {
    service: Arc<EdrService>,
    store: Arc<SqlStore>,
    vault: Arc<dyn Vault>,
    provider: Arc<RotatingProvider>,
    _dir: tempfile::TempDir,
}

async fn started_consumer_transfer(state: TransferState) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap());
    let vault: Arc<dyn Vault> =
        Arc::new(EncryptedFileVault::open(dir.path().join("vault"), VaultKey::generate()).await.unwrap());
    let transfer = TransferProcess {
        id: "t-1".into(),
        correlation_id: Some("p-1".into()),
        counter_party_id: "did:web:provider".into(),
        counter_party_address: "http://provider/dsp".into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
        role: NegotiationRole::Consumer,
        state,
        state_count: 1,
        pending: false,
        state_timestamp: 0,
        error_detail: None,
        agreement_id: "a-1".into(),
        asset_id: "asset".into(),
        transfer_type: "HttpData-PULL".into(),
        data_destination: None,
        data_address_key: Some(address_key("t-1")),
        suspended_by: None,
        counter_party_informed: false,
        data_flow_started: false,
        callback_addresses: Vec::new(),
        trace_context: None,
        created_at: 0,
        updated_at: 0,
    };
    store.create_transfer(&transfer).await.unwrap();
    keep_address(&vault, &address_key("t-1"), &edr(0, true)).await.unwrap();
    let provider = Arc::new(RotatingProvider::default());
    let service = Arc::new(EdrService::new(store.clone(), vault.clone(), provider.clone(), "replica"));
    Setup { service, store, vault, provider, _dir: dir }
}

fn refresh_token(address: &DataAddress) -> String {
    address.properties["refreshToken"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn concurrent_readers_share_one_renewal_and_the_stored_edr_stays_renewable() {
    let setup = started_consumer_transfer(TransferState::Started).await;
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let service = setup.service.clone();
            tokio::spawn(async move { service.data_address("t-1", true).await })
        })
        .collect();
    for reader in readers {
        let address = reader.await.unwrap().unwrap().unwrap();
        assert_eq!(refresh_token(&address), "refresh-1", "every reader gets the one renewal's result");
    }
    assert_eq!(setup.provider.renewals.load(Ordering::SeqCst), 1);
    let stored = read_address(&setup.vault, &address_key("t-1")).await.unwrap().unwrap();
    assert_eq!(refresh_token(&stored), "refresh-1", "the vault holds the token the provider accepts next");

    // The next renewal works with what was stored, so the transfer did not lose its refresh token.
    keep_address(&setup.vault, &address_key("t-1"), &edr(1, true)).await.unwrap();
    let renewed = setup.service.data_address("t-1", true).await.unwrap().unwrap();
    assert_eq!(refresh_token(&renewed), "refresh-2");
}

#[tokio::test]
async fn the_lease_is_released_after_a_renewal_and_after_a_refused_one() {
    let setup = started_consumer_transfer(TransferState::Started).await;
    setup.provider.generation.store(5, Ordering::SeqCst);
    let refused = setup.service.data_address("t-1", true).await.unwrap_err();
    assert!(
        matches!(&refused, EdrError::Refresh(reason) if reason == "invalid_grant: the refresh token was used already")
    );
    // Not held any more: the state machine (or another reader) can take the transfer at once.
    assert!(setup.store.lease_transfer("t-1", "someone", 1_000).await.unwrap().is_some());
}

#[tokio::test]
async fn without_auto_refresh_or_before_the_token_is_due_nothing_is_renewed() {
    let setup = started_consumer_transfer(TransferState::Started).await;
    let as_stored = setup.service.data_address("t-1", false).await.unwrap().unwrap();
    assert_eq!(refresh_token(&as_stored), "refresh-0");
    keep_address(&setup.vault, &address_key("t-1"), &edr(0, false)).await.unwrap();
    let fresh = setup.service.data_address("t-1", true).await.unwrap().unwrap();
    assert_eq!(refresh_token(&fresh), "refresh-0");
    assert_eq!(setup.provider.renewals.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_transfer_that_is_not_started_has_no_edr_and_an_unknown_one_is_not_found() {
    let setup = started_consumer_transfer(TransferState::Suspended).await;
    assert!(setup.service.data_address("t-1", true).await.unwrap().is_none());
    let unknown = setup.service.data_address("nope", true).await.unwrap_err();
    assert_eq!(unknown.to_string(), "Object of type TransferProcess with ID=nope was not found");
}
