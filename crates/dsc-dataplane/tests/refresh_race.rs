// SPDX-License-Identifier: Apache-2.0
//! Refreshes that race, forced: each refresh is held between reading the flow and saving it (in the transfer type's
//! `renew`, which runs in between) until the test lets it go. Real SQLite store, real token issuer.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use dsc_dataplane::tokens::{TokenIssuer, hash_refresh_token};
use dsc_dataplane::{
    AccessDenied, AccessGrant, ClientAuthenticator, DataPlane, FlowError, IssuedToken, TransferTypeHandler,
};
use dsc_domain::{DataAddress, DataFlow, DataFlowState, namespaces};
use dsc_store::{DataFlowStore, SqlStore, StoreSettings};
use dsc_vault::{EncryptedFileVault, VaultKey};
use tokio::sync::Semaphore;

const CONSUMER: &str = "did:web:consumer";
const PROFILE: &str = "Held-PULL";

/// Holds every renewal until the test releases it, and tells the test when one arrived.
struct HeldRenewals {
    arrived: Semaphore,
    release: Semaphore,
}

#[async_trait]
impl TransferTypeHandler for HeldRenewals {
    async fn grant(&self, _flow: &DataFlow) -> Result<AccessGrant, FlowError> {
        Ok(AccessGrant::default())
    }
    async fn revoke(&self, _flow: &DataFlow) -> Result<(), FlowError> {
        Ok(())
    }
    async fn renew(&self, _flow: &DataFlow) -> Result<Option<IssuedToken>, FlowError> {
        self.arrived.add_permits(1);
        self.release.acquire().await.unwrap().forget();
        Ok(None)
    }
}

struct Consumer;

#[async_trait]
impl ClientAuthenticator for Consumer {
    async fn authenticate(&self, _authorization: Option<&str>) -> Result<String, String> {
        Ok(CONSUMER.to_string())
    }
}

struct Setup {
    plane: Arc<DataPlane>,
    store: Arc<SqlStore>,
    held: Arc<HeldRenewals>,
    refresh_token: String,
    _dir: tempfile::TempDir,
}

async fn started_flow() -> Setup {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/store.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap());
    let vault = EncryptedFileVault::open(dir.path().join("vault"), VaultKey::generate()).await.unwrap();
    let held = Arc::new(HeldRenewals { arrived: Semaphore::new(0), release: Semaphore::new(0) });
    let mut handlers: HashMap<String, Arc<dyn TransferTypeHandler>> = HashMap::new();
    handlers.insert(PROFILE.into(), held.clone());
    let plane = Arc::new(DataPlane {
        participant_id: "did:web:provider".into(),
        public_url: "http://127.0.0.1:1/public".into(),
        store: store.clone(),
        vault: Arc::new(vault),
        tokens: TokenIssuer::new("did:web:provider", b"0123456789abcdef0123456789abcdef", 60),
        handlers,
        clients: Arc::new(Consumer),
        http: reqwest::Client::new(),
    });
    let source = DataAddress { properties: Default::default() };
    let (_, address) = plane.start("flow-1", PROFILE, CONSUMER, "agreement", "asset", source).await.unwrap();
    let refresh_token =
        address.properties[&format!("{}refreshToken", namespaces::TX_AUTH)].as_str().unwrap().to_string();
    Setup { plane, store, held, refresh_token, _dir: dir }
}

/// Starts a refresh with `token` in the background and waits until it is held between read and save.
async fn held_refresh(
    setup: &Setup,
    token: &str,
) -> tokio::task::JoinHandle<Result<(DataFlow, dsc_dataplane::tokens::TokenPair), AccessDenied>> {
    let (plane, token) = (setup.plane.clone(), token.to_string());
    let refresh = tokio::spawn(async move { plane.refresh(&token, CONSUMER).await });
    setup.held.arrived.acquire().await.unwrap().forget();
    refresh
}

#[tokio::test]
async fn two_refreshes_with_one_token_leave_exactly_one_valid_pair() {
    let setup = started_flow().await;
    let first = held_refresh(&setup, &setup.refresh_token).await;
    let second = held_refresh(&setup, &setup.refresh_token).await;
    setup.held.release.add_permits(2);
    let outcomes = [first.await.unwrap(), second.await.unwrap()];

    let winners: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    let losers: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!((winners.len(), losers.len()), (1, 1), "exactly one refresh wins: {outcomes:?}");
    assert_eq!(losers[0], &AccessDenied::Superseded);
    assert_eq!(
        losers[0].to_string(),
        "the refresh token was used by a concurrent refresh; use the token pair that refresh returned"
    );

    // The stored flow is the winner's, so its pair works and renews again.
    let (_, pair) = winners[0];
    let stored = setup.store.find_flow("flow-1").await.unwrap().unwrap();
    assert_eq!(stored.refresh_token_hash.as_deref(), Some(hash_refresh_token(&pair.refresh_token).as_str()));
    assert_eq!(stored.access_token_id.as_deref(), Some(pair.access_token_id.as_str()));
    assert_eq!(setup.plane.authorize(&pair.access_token).await.unwrap().id, "flow-1");
    let next = held_refresh(&setup, &pair.refresh_token).await;
    setup.held.release.add_permits(1);
    assert!(next.await.unwrap().is_ok(), "the winner's refresh token renews the pair again");
    assert_eq!(setup.plane.refresh(&setup.refresh_token, CONSUMER).await.unwrap_err(), AccessDenied::InvalidToken);
}

#[tokio::test]
async fn a_refresh_racing_a_suspension_cannot_restart_the_flow() {
    let setup = started_flow().await;
    let refresh = held_refresh(&setup, &setup.refresh_token).await;
    setup.plane.suspend("flow-1").await.unwrap();
    setup.held.release.add_permits(1);

    assert_eq!(refresh.await.unwrap().unwrap_err(), AccessDenied::Revoked);
    let stored = setup.store.find_flow("flow-1").await.unwrap().unwrap();
    assert_eq!(stored.state, DataFlowState::Suspended, "the renewal did not overwrite the suspension");
    assert_eq!((stored.access_token_id, stored.refresh_token_hash), (None, None));
}
