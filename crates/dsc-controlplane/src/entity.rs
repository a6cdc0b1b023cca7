// SPDX-License-Identifier: Apache-2.0
//! The lifecycle every managed entity shares: create (stamped with its creation time), read, replace, query,
//! and delete unless something still refers to it.

use std::sync::Arc;

use async_trait::async_trait;
use dsc_domain::{Asset, ContractDefinition, PolicyDefinition, QuerySpec};
use dsc_store::{ContractDefinitionStore, Repository, StoreError};

use crate::ServiceError;

pub trait ManagedEntity: Clone + Send + Sync + 'static {
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn created_at(&self) -> i64;
    fn set_created_at(&mut self, at: i64);
}

macro_rules! managed {
    ($entity:ty, $kind:literal) => {
        impl ManagedEntity for $entity {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn created_at(&self) -> i64 {
                self.created_at
            }
            fn set_created_at(&mut self, at: i64) {
                self.created_at = at;
            }
        }
    };
}

managed!(Asset, "Asset");
managed!(PolicyDefinition, "PolicyDefinition");
managed!(ContractDefinition, "ContractDefinition");

/// Who still refers to an entity, described for the user ("contract definition(s) cd-1, cd-2").
#[async_trait]
pub trait ReferenceCheck: Send + Sync {
    async fn referrers(&self, id: &str) -> Result<Option<String>, StoreError>;
}

pub struct NoReferences;

#[async_trait]
impl ReferenceCheck for NoReferences {
    async fn referrers(&self, _id: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
}

/// References held by contract definitions: to assets through their selectors, to policies by id.
pub enum ReferencedBy {
    SelectorsNamingAsset(Arc<dyn ContractDefinitionStore>),
    DefinitionsUsingPolicy(Arc<dyn ContractDefinitionStore>),
}

#[async_trait]
impl ReferenceCheck for ReferencedBy {
    async fn referrers(&self, id: &str) -> Result<Option<String>, StoreError> {
        let ids = match self {
            ReferencedBy::SelectorsNamingAsset(store) => store.naming_asset(id).await?,
            ReferencedBy::DefinitionsUsingPolicy(store) => store.referencing_policy(id).await?,
        };
        Ok((!ids.is_empty()).then(|| format!("contract definition(s) {}", ids.join(", "))))
    }
}

pub struct EntityService<E: ManagedEntity> {
    repository: Arc<dyn Repository<E>>,
    references: Arc<dyn ReferenceCheck>,
    clock: fn() -> i64,
}

impl<E: ManagedEntity> EntityService<E> {
    pub fn new(repository: Arc<dyn Repository<E>>, references: Arc<dyn ReferenceCheck>) -> Self {
        EntityService { repository, references, clock: dsc_domain::clock::system_now_millis }
    }

    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    pub async fn create(&self, mut entity: E) -> Result<E, ServiceError> {
        entity.set_created_at((self.clock)());
        self.repository.create(&entity).await?;
        tracing::debug!(kind = E::KIND, id = entity.id(), "created");
        Ok(entity)
    }

    pub async fn update(&self, entity: E) -> Result<(), ServiceError> {
        self.repository.update(&entity).await.map_err(|e| match e {
            StoreError::NotFound { .. } => ServiceError::NotFound { kind: E::KIND, id: entity.id().to_string() },
            other => other.into(),
        })?;
        tracing::debug!(kind = E::KIND, id = entity.id(), "updated");
        Ok(())
    }

    pub async fn find(&self, id: &str) -> Result<E, ServiceError> {
        self.repository.find(id).await?.ok_or_else(|| ServiceError::NotFound { kind: E::KIND, id: id.to_string() })
    }

    pub async fn query(&self, spec: &QuerySpec) -> Result<Vec<E>, ServiceError> {
        Ok(self.repository.query(spec).await?)
    }

    pub async fn delete(&self, id: &str) -> Result<E, ServiceError> {
        // Check first so the common case gives the right error; a reference created between the check and the
        // delete is the same race EDC accepts.
        if self.repository.find(id).await?.is_none() {
            return Err(ServiceError::NotFound { kind: E::KIND, id: id.to_string() });
        }
        if let Some(referrers) = self.references.referrers(id).await? {
            return Err(ServiceError::Referenced { kind: E::KIND, id: id.to_string(), referrers });
        }
        let removed = self.repository.delete(id).await?;
        tracing::debug!(kind = E::KIND, id, "deleted");
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::{Criterion, Operator, namespaces};
    use dsc_store::contract_tests::{asset, contract_definition, policy_definition};
    use dsc_store::{SqlStore, StoreSettings};

    async fn store() -> (Arc<SqlStore>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/s.db?mode=rwc", dir.path().display());
        (Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap()), dir)
    }

    #[tokio::test]
    async fn stamps_creation_time_and_maps_missing_and_duplicate_ids() {
        let (store, _dir) = store().await;
        let assets = EntityService::<Asset>::new(store.clone(), Arc::new(NoReferences)).with_clock(|| 42);
        let created = assets.create(asset("a", 0, &[])).await.unwrap();
        assert_eq!(created.created_at, 42);
        let duplicate = assets.create(asset("a", 0, &[])).await.err().map(|e| e.to_string());
        assert_eq!(duplicate.as_deref(), Some("Object of type Asset with ID=a already exists"));
        let missing = assets.find("b").await.err().map(|e| e.to_string());
        assert_eq!(missing.as_deref(), Some("Object of type Asset with ID=b was not found"));
        let missing = assets.update(asset("b", 0, &[])).await.err().map(|e| e.to_string());
        assert_eq!(missing.as_deref(), Some("Object of type Asset with ID=b was not found"));
    }

    #[tokio::test]
    async fn referenced_assets_and_policies_cannot_be_deleted() {
        let (store, _dir) = store().await;
        let assets =
            EntityService::<Asset>::new(store.clone(), Arc::new(ReferencedBy::SelectorsNamingAsset(store.clone())));
        let policies = EntityService::<PolicyDefinition>::new(
            store.clone(),
            Arc::new(ReferencedBy::DefinitionsUsingPolicy(store.clone())),
        );
        let definitions = EntityService::<ContractDefinition>::new(store.clone(), Arc::new(NoReferences));
        assets.create(asset("a1", 0, &[])).await.unwrap();
        policies.create(policy_definition("p1", 0)).await.unwrap();
        let selector = vec![Criterion::new(namespaces::edc("id"), Operator::Eq, serde_json::json!("a1"))];
        definitions.create(contract_definition("cd1", 0, "p1", "p1", selector)).await.unwrap();

        let refused = assets.delete("a1").await.err().map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some("Asset a1 cannot be deleted as it is referenced by contract definition(s) cd1")
        );
        let refused = policies.delete("p1").await.err().map(|e| e.to_string());
        assert_eq!(
            refused.as_deref(),
            Some("PolicyDefinition p1 cannot be deleted as it is referenced by contract definition(s) cd1")
        );
        definitions.delete("cd1").await.unwrap();
        assets.delete("a1").await.unwrap();
        policies.delete("p1").await.unwrap();
        assert!(matches!(assets.delete("a1").await, Err(ServiceError::NotFound { .. })));
    }
}
