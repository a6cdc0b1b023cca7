// SPDX-License-Identifier: Apache-2.0
//! Reading an EDR, renewed first when asked and due: one renewal per transfer at a time, across replicas.
//!
//! A provider rotates the refresh token on every renewal, so two renewals of one EDR with the same refresh token
//! cannot both succeed. If the loser's answer (or a late winner's) overwrote the stored EDR, the consumer would keep a
//! refresh token the provider no longer accepts, and every later renewal would fail. So the renewal runs under the
//! transfer's lease in the store (not a process lock: replicas share the store), and a reader that finds the lease
//! held waits for the holder's result instead of renewing again.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_domain::{DataAddress, TransferProcess};
use dsc_store::{StoreError, TransferStore};
use dsc_vault::Vault;

use crate::ServiceError;
use crate::transfer::{consumer_edr, keep_address};

/// Renews an EDR's access token at the provider's refresh endpoint.
#[async_trait]
pub trait EdrRefresher: Send + Sync {
    /// Whether the EDR's token is about to expire and the EDR says how to renew it.
    fn is_due(&self, address: &DataAddress) -> bool;
    /// The renewed EDR. `Err` carries a reason for the user: the provider refused or could not be reached.
    async fn refresh(&self, address: &DataAddress) -> Result<DataAddress, String>;
}

#[derive(Debug, thiserror::Error)]
pub enum EdrError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The provider refused the renewal or could not be reached; the reason is for the user.
    #[error("{0}")]
    Refresh(String),
}

impl From<StoreError> for EdrError {
    fn from(error: StoreError) -> Self {
        EdrError::Service(error.into())
    }
}

/// Long enough for one renewal request (the HTTP client gives up after 30 s); a crashed holder's lease expires.
const RENEWAL_LEASE_MS: i64 = 30_000;
/// How long a reader waits for another renewal of the same EDR before it answers 503.
const WAIT_FOR_OTHER_RENEWAL: Duration = Duration::from_secs(10);
const WAIT_STEP: Duration = Duration::from_millis(20);

/// The EDR read path of the Management API (`GET /v3/edrs/{id}/dataaddress`).
pub struct EdrService {
    store: Arc<dyn TransferStore>,
    vault: Arc<dyn Vault>,
    refresher: Arc<dyn EdrRefresher>,
    holder: String,
}

impl EdrService {
    /// `holder` names this replica in leases.
    pub fn new(
        store: Arc<dyn TransferStore>,
        vault: Arc<dyn Vault>,
        refresher: Arc<dyn EdrRefresher>,
        holder: impl Into<String>,
    ) -> Self {
        EdrService { store, vault, refresher, holder: holder.into() }
    }

    /// The EDR of a started consumer transfer; with `auto_refresh`, renewed first when its token is about to expire,
    /// and the renewed EDR kept in place of the old one. `Ok(None)`: the transfer has no EDR.
    pub async fn data_address(&self, transfer_id: &str, auto_refresh: bool) -> Result<Option<DataAddress>, EdrError> {
        let transfer = self
            .store
            .find_transfer(transfer_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound { kind: "TransferProcess", id: transfer_id.to_string() })?;
        let Some(address) = consumer_edr(&self.vault, &transfer).await? else { return Ok(None) };
        if !auto_refresh || !self.refresher.is_due(&address) {
            return Ok(Some(address));
        }
        self.renew_once(transfer_id).await
    }

    async fn renew_once(&self, id: &str) -> Result<Option<DataAddress>, EdrError> {
        let holder = format!("{}-edr-{}", self.holder, uuid::Uuid::new_v4());
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHER_RENEWAL;
        loop {
            match self.store.lease_transfer(id, &holder, RENEWAL_LEASE_MS).await {
                Ok(Some(transfer)) => return self.renew_leased(transfer, &holder).await,
                Ok(None) => return Err(ServiceError::NotFound { kind: "TransferProcess", id: id.to_string() }.into()),
                Err(StoreError::LeaseHeld { .. }) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(WAIT_STEP).await;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Renews unless the holder of the previous lease already did, then releases the lease with the transfer as it
    /// was: only the vault entry changes.
    async fn renew_leased(&self, transfer: TransferProcess, holder: &str) -> Result<Option<DataAddress>, EdrError> {
        let outcome = async {
            let Some(address) = consumer_edr(&self.vault, &transfer).await? else { return Ok(None) };
            if !self.refresher.is_due(&address) {
                return Ok(Some(address));
            }
            let renewed = self.refresher.refresh(&address).await.map_err(EdrError::Refresh)?;
            let key = transfer.data_address_key.as_deref().unwrap_or_default();
            keep_address(&self.vault, key, &renewed).await.map_err(ServiceError::Internal)?;
            Ok(Some(renewed))
        }
        .await;
        self.store.save_transfer(&transfer, holder).await?;
        outcome
    }
}
