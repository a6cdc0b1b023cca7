// SPDX-License-Identifier: Apache-2.0
//! Reading an EDR, renewed first when asked and due.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_domain::DataAddress;

use crate::ServiceError;
use crate::transfer::TransferService;

/// Renews an EDR's access token at the provider's refresh endpoint when it is about to expire.
#[async_trait]
pub trait EdrRefresher: Send + Sync {
    /// `Ok(None)` when the token is still fresh (or the EDR cannot be refreshed); the renewed address otherwise.
    /// `Err` carries a reason for the user: the provider refused or could not be reached.
    async fn refresh_if_due(&self, address: &DataAddress) -> Result<Option<DataAddress>, String>;
}

#[derive(Debug, thiserror::Error)]
pub enum EdrError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The provider refused the renewal or could not be reached; the reason is for the user.
    #[error("{0}")]
    Refresh(String),
}

/// The EDR read path of the Management API (`GET /v3/edrs/{id}/dataaddress`).
pub struct EdrService {
    transfers: Arc<TransferService>,
    refresher: Arc<dyn EdrRefresher>,
}

impl EdrService {
    pub fn new(transfers: Arc<TransferService>, refresher: Arc<dyn EdrRefresher>) -> Self {
        EdrService { transfers, refresher }
    }

    /// The EDR of a started consumer transfer; with `auto_refresh`, renewed first when its token is about to expire,
    /// and the renewed EDR kept in place of the old one. `Ok(None)`: the transfer has no EDR.
    pub async fn data_address(&self, transfer_id: &str, auto_refresh: bool) -> Result<Option<DataAddress>, EdrError> {
        let Some(address) = self.transfers.data_address(transfer_id).await? else { return Ok(None) };
        if !auto_refresh {
            return Ok(Some(address));
        }
        match self.refresher.refresh_if_due(&address).await.map_err(EdrError::Refresh)? {
            Some(renewed) => {
                self.transfers.replace_data_address(transfer_id, &renewed).await?;
                Ok(Some(renewed))
            }
            None => Ok(Some(address)),
        }
    }
}
