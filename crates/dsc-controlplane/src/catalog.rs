// SPDX-License-Identifier: Apache-2.0
//! The provider's catalog for one participant: contract definitions whose access policy the participant
//! satisfies, the assets their selectors pick, one offer per (definition, asset) carrying the contract policy.

use std::collections::BTreeMap;
use std::sync::Arc;

use dsc_domain::odrl::PolicyType;
use dsc_domain::{
    Asset, Catalog, ContractDefinition, ContractOfferId, Dataset, Offer, ParticipantAgent, PolicyDefinition, QuerySpec,
    TransferTypeRegistry,
};
use dsc_policy::{PolicyContext, PolicyEngine, Scope};
use dsc_store::Repository;

use crate::ServiceError;

/// Which transfer types an asset's data address can be served with.
pub trait TransferTypes: Send + Sync {
    fn for_address_type(&self, address_type: &str) -> Vec<String>;
}

/// The registered transfer types, whether or not a data plane serves them now.
impl TransferTypes for TransferTypeRegistry {
    fn for_address_type(&self, address_type: &str) -> Vec<String> {
        TransferTypeRegistry::for_address_type(self, address_type)
    }
}

/// The transfer types the registered data planes serve for an address type, as EDC derives distributions from
/// its data plane instances. The registry says which address type a transfer type serves; a type it does not
/// know (a remote data plane's) is matched by its name (`HttpData-PULL` serves `HttpData`).
pub struct DataPlaneTransferTypes {
    planes: Arc<dyn dsc_signaling::DataPlaneClient>,
    registry: Arc<TransferTypeRegistry>,
}

impl DataPlaneTransferTypes {
    pub fn new(planes: Arc<dyn dsc_signaling::DataPlaneClient>, registry: Arc<TransferTypeRegistry>) -> Self {
        DataPlaneTransferTypes { planes, registry }
    }
}

impl TransferTypes for DataPlaneTransferTypes {
    fn for_address_type(&self, address_type: &str) -> Vec<String> {
        self.planes
            .transfer_types()
            .into_iter()
            .filter(|t| self.registry.address_type_of(t) == Some(address_type))
            .collect()
    }
}

pub struct CatalogService {
    participant_id: String,
    definitions: Arc<dyn Repository<ContractDefinition>>,
    policies: Arc<dyn Repository<PolicyDefinition>>,
    assets: Arc<dyn Repository<Asset>>,
    engine: Arc<PolicyEngine>,
    transfer_types: Arc<dyn TransferTypes>,
}

const PAGE: u32 = 1000;

impl CatalogService {
    pub fn new(
        participant_id: impl Into<String>,
        definitions: Arc<dyn Repository<ContractDefinition>>,
        policies: Arc<dyn Repository<PolicyDefinition>>,
        assets: Arc<dyn Repository<Asset>>,
        engine: Arc<PolicyEngine>,
        transfer_types: Arc<dyn TransferTypes>,
    ) -> Self {
        CatalogService { participant_id: participant_id.into(), definitions, policies, assets, engine, transfer_types }
    }

    /// The catalog `agent` may see, paged by `spec` (offset/limit over datasets ordered by asset id).
    pub async fn catalog(&self, agent: &ParticipantAgent, spec: &QuerySpec) -> Result<Catalog, ServiceError> {
        let datasets = self.datasets(agent, None).await?;
        let datasets = datasets.into_values().skip(spec.offset as usize).take(spec.limit as usize).collect();
        Ok(Catalog { participant_id: self.participant_id.clone(), datasets })
    }

    /// One dataset, if `agent` may see it.
    pub async fn dataset(&self, agent: &ParticipantAgent, asset_id: &str) -> Result<Option<Dataset>, ServiceError> {
        Ok(self.datasets(agent, Some(asset_id)).await?.remove(asset_id))
    }

    async fn all_definitions(&self) -> Result<Vec<ContractDefinition>, ServiceError> {
        let mut all = Vec::new();
        loop {
            let spec = QuerySpec { offset: all.len() as u32, limit: PAGE, ..QuerySpec::default() };
            let page = self.definitions.query(&spec).await?;
            let last = page.len() < PAGE as usize;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    async fn selected_assets(&self, definition: &ContractDefinition) -> Result<Vec<Asset>, ServiceError> {
        let mut all = Vec::new();
        loop {
            let spec = QuerySpec {
                offset: all.len() as u32,
                limit: PAGE,
                filter_expression: definition.assets_selector.clone(),
                ..QuerySpec::default()
            };
            let page = self.assets.query(&spec).await?;
            let last = page.len() < PAGE as usize;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    async fn datasets(
        &self,
        agent: &ParticipantAgent,
        only: Option<&str>,
    ) -> Result<BTreeMap<String, Dataset>, ServiceError> {
        let mut datasets: BTreeMap<String, Dataset> = BTreeMap::new();
        let context = PolicyContext::new(Scope::Catalog, agent.clone());
        for definition in self.all_definitions().await? {
            let Some(access) = self.policies.find(&definition.access_policy_id).await? else {
                tracing::warn!(definition = %definition.id, policy = %definition.access_policy_id, "access policy missing; definition not offered");
                continue;
            };
            if let Err(violation) = self.engine.evaluate(&access.policy, &context) {
                tracing::debug!(definition = %definition.id, participant = %agent.id, "access policy not satisfied: {violation}");
                continue;
            }
            let Some(contract) = self.policies.find(&definition.contract_policy_id).await? else {
                tracing::warn!(definition = %definition.id, policy = %definition.contract_policy_id, "contract policy missing; definition not offered");
                continue;
            };
            for asset in self.selected_assets(&definition).await? {
                if only.is_some_and(|id| id != asset.id) {
                    continue;
                }
                let offer_id = ContractOfferId::new(&definition.id, &asset.id, &uuid::Uuid::new_v4().to_string());
                let mut policy = contract.policy.clone();
                policy.policy_type = PolicyType::Offer;
                policy.uid = Some(offer_id.to_string());
                // Catalog offers name no target or parties: the dataset is the target (DSP 2025-1).
                policy.target = None;
                policy.assigner = None;
                policy.assignee = None;
                let offer = Offer { id: offer_id, policy };
                let formats =
                    self.transfer_types.for_address_type(asset.data_address.address_type().unwrap_or_default());
                datasets
                    .entry(asset.id.clone())
                    .or_insert_with(|| Dataset {
                        asset_id: asset.id.clone(),
                        properties: asset.properties.clone(),
                        offers: Vec::new(),
                        distributions: formats,
                    })
                    .offers
                    .push(offer);
            }
        }
        Ok(datasets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, Policy, Rule};
    use dsc_domain::{Criterion, Operator, namespaces};
    use dsc_store::contract_tests::{asset, contract_definition};
    use dsc_store::{SqlStore, StoreSettings};
    use serde_json::json;

    fn bpn_policy(id: &str, bpn: &str) -> PolicyDefinition {
        let mut policy = Policy::new(PolicyType::Set);
        policy.permissions.push(Rule {
            action: Action { action_type: namespaces::odrl("use"), included_in: None, refinements: vec![] },
            constraints: vec![Constraint::Atomic {
                left_operand: format!("{}BusinessPartnerNumber", namespaces::CX_POLICY),
                operator: ConstraintOperator::Eq,
                right_operand: json!(bpn),
            }],
            duties: vec![],
        });
        PolicyDefinition { id: id.into(), created_at: 0, policy, private_properties: Default::default() }
    }

    async fn service() -> (CatalogService, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db?mode=rwc", dir.path().display());
        let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap());
        for a in
            [asset("a1", 1, &[("group", json!("x"))]), asset("a2", 2, &[("group", json!("x"))]), asset("a3", 3, &[])]
        {
            Repository::create(store.as_ref(), &a).await.unwrap();
        }
        for p in [bpn_policy("only-bpn1", "BPNL1"), bpn_policy("only-bpn2", "BPNL2")] {
            Repository::create(store.as_ref(), &p).await.unwrap();
        }
        let by_group = vec![Criterion::new("group", Operator::Eq, json!("x"))];
        let by_id = vec![Criterion::new("id", Operator::Eq, json!("a3"))];
        for d in [
            contract_definition("cd-group", 1, "only-bpn1", "only-bpn2", by_group),
            contract_definition("cd-a3", 2, "only-bpn2", "only-bpn2", by_id),
            contract_definition("cd-broken", 3, "missing", "only-bpn2", vec![]),
        ] {
            Repository::create(store.as_ref(), &d).await.unwrap();
        }
        let service = CatalogService::new(
            "did:web:provider",
            store.clone(),
            store.clone(),
            store.clone(),
            Arc::new(PolicyEngine::with_defaults()),
            Arc::new({
                let mut registry = TransferTypeRegistry::new();
                let http =
                    dsc_domain::TransferTypeDescriptor::new("HttpData-PULL", "HttpData", dsc_domain::FlowType::Pull);
                registry.register(http).unwrap();
                registry
            }),
        );
        (service, dir)
    }

    fn agent(bpn: &str) -> ParticipantAgent {
        ParticipantAgent::new(format!("did:web:{bpn}")).with_claim("bpn", json!(bpn))
    }

    #[tokio::test]
    async fn offers_follow_access_policies_and_selectors() {
        let (service, _dir) = service().await;
        let catalog = service.catalog(&agent("BPNL1"), &QuerySpec::default()).await.unwrap();
        let ids: Vec<_> = catalog.datasets.iter().map(|d| d.asset_id.as_str()).collect();
        assert_eq!(ids, vec!["a1", "a2"], "BPNL1 passes only cd-group's access policy");
        let offer = &catalog.datasets[0].offers[0];
        assert_eq!(offer.id.definition_id, "cd-group");
        assert_eq!(offer.policy.policy_type, PolicyType::Offer);
        assert_eq!(offer.policy.uid.as_deref(), Some(offer.id.to_string().as_str()));
        assert_eq!(offer.policy.target, None);
        assert_eq!(catalog.datasets[0].distributions, vec!["HttpData-PULL"]);

        let catalog = service.catalog(&agent("BPNL2"), &QuerySpec::default()).await.unwrap();
        let ids: Vec<_> = catalog.datasets.iter().map(|d| d.asset_id.as_str()).collect();
        assert_eq!(ids, vec!["a3"]);
        assert!(
            service
                .catalog(&agent("BPNL9"), &QuerySpec::default())
                .await
                .map(|c| c.datasets.is_empty())
                .unwrap_or(false)
        );

        let paged = QuerySpec { offset: 1, limit: 1, ..QuerySpec::default() };
        let catalog = service.catalog(&agent("BPNL1"), &paged).await.unwrap();
        assert_eq!(catalog.datasets.iter().map(|d| d.asset_id.clone()).collect::<Vec<_>>(), vec!["a2"]);

        assert!(service.dataset(&agent("BPNL1"), "a2").await.ok().flatten().is_some());
        assert!(service.dataset(&agent("BPNL1"), "a3").await.ok().flatten().is_none(), "not visible to BPNL1");
    }

    struct Planes;

    #[async_trait::async_trait]
    impl dsc_signaling::DataPlaneClient for Planes {
        fn transfer_types(&self) -> Vec<String> {
            vec!["HttpData-PULL".into(), "HttpData-PUSH".into(), "Stream-PULL".into(), "Topic-PULL".into()]
        }
        async fn start(
            &self,
            _: &dsc_signaling::StartRequest,
        ) -> Result<Option<dsc_domain::DataAddress>, dsc_signaling::SignalingError> {
            Ok(None)
        }
        async fn suspend(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), dsc_signaling::SignalingError> {
            Ok(())
        }
        async fn resume(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Option<dsc_domain::DataAddress>, dsc_signaling::SignalingError> {
            Ok(None)
        }
        async fn terminate(&self, _: &str, _: &str, _: Option<&str>) -> Result<(), dsc_signaling::SignalingError> {
            Ok(())
        }
        async fn completed(&self, _: &str, _: &str) -> Result<(), dsc_signaling::SignalingError> {
            Ok(())
        }
    }

    #[test]
    fn distributions_follow_the_registered_data_planes() {
        use dsc_domain::{FlowType, TransferTypeDescriptor};
        let mut registry = TransferTypeRegistry::new();
        let topic = TransferTypeDescriptor::new("Topic-PULL", "StreamSource", FlowType::Pull);
        registry.register(topic).unwrap();
        let registry = Arc::new(registry);
        let types = DataPlaneTransferTypes::new(Arc::new(Planes), registry.clone());
        assert_eq!(types.for_address_type("HttpData"), vec!["HttpData-PULL", "HttpData-PUSH"]);
        assert_eq!(types.for_address_type("Stream"), vec!["Stream-PULL"], "unregistered: matched by name");
        assert_eq!(types.for_address_type("StreamSource"), vec!["Topic-PULL"], "registered: by its address type");
        assert!(types.for_address_type("Topic").is_empty());
        assert!(types.for_address_type("AmazonS3").is_empty());
        assert_eq!(TransferTypes::for_address_type(registry.as_ref(), "StreamSource"), vec!["Topic-PULL"]);
    }
}
