// SPDX-License-Identifier: Apache-2.0
//! Persistence behind store traits.
//!
//! One SQL implementation serves SQLite (embedded default) and PostgreSQL (production, replicas): queries are
//! built at run time for the connected backend, and each backend has its own versioned migrations, applied at
//! start. QuerySpecs are translated to SQL, so filtering, sorting and paging happen in the database.
//!
//! The contract test suite (feature `contract-tests`) runs unchanged against every backend.

mod error;
pub mod sql;

#[cfg(feature = "contract-tests")]
pub mod contract_tests;

use async_trait::async_trait;
use dsc_domain::{Asset, ContractDefinition, PolicyDefinition, QuerySpec};

pub use error::StoreError;
pub use sql::{SqlStore, StoreSettings};

/// Create/read/update/delete/query of one entity type.
#[async_trait]
pub trait Repository<E>: Send + Sync {
    /// Fails with [`StoreError::AlreadyExists`] when the id is taken.
    async fn create(&self, entity: &E) -> Result<(), StoreError>;
    /// Replaces the entity with the same id, keeping its creation time; [`StoreError::NotFound`] if absent.
    async fn update(&self, entity: &E) -> Result<(), StoreError>;
    async fn find(&self, id: &str) -> Result<Option<E>, StoreError>;
    /// Removes and returns the entity; [`StoreError::NotFound`] if absent.
    async fn delete(&self, id: &str) -> Result<E, StoreError>;
    /// Fails with [`StoreError::InvalidQuery`] when a criterion names a property the entity cannot be queried by.
    async fn query(&self, spec: &QuerySpec) -> Result<Vec<E>, StoreError>;
}

pub trait AssetStore: Repository<Asset> {}
impl<T: Repository<Asset>> AssetStore for T {}

pub trait PolicyDefinitionStore: Repository<PolicyDefinition> {}
impl<T: Repository<PolicyDefinition>> PolicyDefinitionStore for T {}

#[async_trait]
pub trait ContractDefinitionStore: Repository<ContractDefinition> {
    /// Ids of the contract definitions that use the policy as access or contract policy.
    async fn referencing_policy(&self, policy_id: &str) -> Result<Vec<String>, StoreError>;
    /// Ids of the contract definitions whose selector names the asset by id.
    async fn naming_asset(&self, asset_id: &str) -> Result<Vec<String>, StoreError>;
}

/// Liveness of the backing database, for readiness checks.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    async fn ping(&self) -> Result<(), StoreError>;
}
