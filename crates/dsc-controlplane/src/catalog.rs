// SPDX-License-Identifier: Apache-2.0
//! The provider's catalog for one participant: contract definitions whose access policy the participant
//! satisfies, the assets their selectors pick, one offer per (definition, asset) carrying the contract policy.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use dsc_domain::odrl::{Policy, PolicyType};
use dsc_domain::{
    Asset, Catalog, ContractDefinition, ContractOfferId, Criterion, Dataset, Offer, Operator, ParticipantAgent,
    PolicyDefinition, QuerySpec, TransferTypeRegistry, namespaces,
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
    ///
    /// The work grows with the number of contract definitions, never with definitions times assets: definitions and
    /// their policies are read in a few queries and each access policy is evaluated once; then one database pass
    /// selects and pages the offered assets (every selector evaluated on each row, those by id as one `IN` list),
    /// and only the page's assets are read.
    pub async fn catalog(&self, agent: &ParticipantAgent, spec: &QuerySpec) -> Result<Catalog, ServiceError> {
        let visible = self.visible(agent).await?;
        let page = self.page_in_database(&visible, spec).await?;
        let ids: Vec<&str> = page.iter().map(|(id, _)| id.as_str()).collect();
        let mut assets = self.assets_by_id(&ids).await?;
        let datasets = page
            .into_iter()
            .filter_map(|(id, definitions)| {
                assets.remove(&id).map(|asset| self.dataset_of(&visible, asset, definitions))
            })
            .collect();
        Ok(Catalog { participant_id: self.participant_id.clone(), datasets })
    }

    /// The page of offered asset ids, with the definitions that offer each, selected and paged by the database.
    async fn page_in_database(
        &self,
        visible: &Visible,
        spec: &QuerySpec,
    ) -> Result<Vec<(String, Vec<usize>)>, ServiceError> {
        let mut filters = visible.selector_filters();
        let general = filters.len();
        if !visible.by_asset.is_empty() {
            let named: Vec<&str> = visible.by_asset.keys().map(String::as_str).collect();
            filters.push(vec![id_criterion(&named)]);
        }
        if filters.is_empty() {
            return Ok(Vec::new());
        }
        let matched = self.assets.matching(&filters, None, Some((spec.offset, spec.limit))).await?;
        Ok(matched
            .into_iter()
            .map(|(id, which)| {
                let picked: BTreeSet<usize> = which.into_iter().filter(|position| *position < general).collect();
                let definitions = visible.offers_for(&id, &picked);
                (id, definitions)
            })
            .collect())
    }

    /// One dataset, if `agent` may see it.
    pub async fn dataset(&self, agent: &ParticipantAgent, asset_id: &str) -> Result<Option<Dataset>, ServiceError> {
        let visible = self.visible(agent).await?;
        let Some(asset) = self.assets.find(asset_id).await? else { return Ok(None) };
        let picked: BTreeSet<usize> = self
            .assets
            .matching(&visible.selector_filters(), Some(&[asset_id]), None)
            .await?
            .into_iter()
            .flat_map(|(_, w)| w)
            .collect();
        let offers = visible.offers_for(asset_id, &picked);
        Ok((!offers.is_empty()).then(|| self.dataset_of(&visible, asset, offers)))
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

    /// The policies with these ids, a page of ids per query.
    async fn policies_by_id(&self, ids: &BTreeSet<&str>) -> Result<HashMap<String, PolicyDefinition>, ServiceError> {
        let ids: Vec<&str> = ids.iter().copied().collect();
        let mut found = HashMap::new();
        for chunk in ids.chunks(PAGE as usize) {
            for policy in self.policies.query(&by_ids(chunk)).await? {
                found.insert(policy.id.clone(), policy);
            }
        }
        Ok(found)
    }

    /// The assets with these ids (those that exist), by id.
    async fn assets_by_id(&self, ids: &[&str]) -> Result<HashMap<String, Asset>, ServiceError> {
        let assets = self.assets.query(&by_ids(ids)).await?;
        Ok(assets.into_iter().map(|asset| (asset.id.clone(), asset)).collect())
    }

    /// The definitions `agent` may see (access policy satisfied, contract policy present), indexed by how their
    /// selectors pick assets.
    async fn visible(&self, agent: &ParticipantAgent) -> Result<Visible, ServiceError> {
        let definitions = self.all_definitions().await?;
        let wanted: BTreeSet<&str> =
            definitions.iter().flat_map(|d| [d.access_policy_id.as_str(), d.contract_policy_id.as_str()]).collect();
        let policies = self.policies_by_id(&wanted).await?;
        let context = PolicyContext::new(Scope::Catalog, agent.clone());
        // Many definitions share an access policy: each is evaluated once per request.
        let mut access: HashMap<&str, bool> = HashMap::new();
        let mut visible = Visible::default();
        let mut selectors: HashMap<String, usize> = HashMap::new();
        for definition in &definitions {
            let Some(access_policy) = policies.get(&definition.access_policy_id) else {
                tracing::warn!(definition = %definition.id, policy = %definition.access_policy_id, "access policy missing; definition not offered");
                continue;
            };
            let allowed = *access.entry(definition.access_policy_id.as_str()).or_insert_with(|| {
                match self.engine.evaluate(&access_policy.policy, &context) {
                    Ok(()) => true,
                    Err(violation) => {
                        tracing::debug!(policy = %access_policy.id, participant = %agent.id, "access policy not satisfied: {violation}");
                        false
                    }
                }
            });
            if !allowed {
                continue;
            }
            let Some(contract) = policies.get(&definition.contract_policy_id) else {
                tracing::warn!(definition = %definition.id, policy = %definition.contract_policy_id, "contract policy missing; definition not offered");
                continue;
            };
            let index = visible.definitions.len();
            match definition.selected_ids() {
                Some(ids) => {
                    for id in ids {
                        visible.by_asset.entry(id.to_string()).or_default().push(index);
                    }
                }
                None => {
                    // Definitions sharing a selector share its evaluation; found by its JSON, not by a scan.
                    let key = serde_json::to_string(&definition.assets_selector).unwrap_or_default();
                    let position = *selectors.entry(key).or_insert_with(|| {
                        visible.by_selector.push((definition.assets_selector.clone(), Vec::new()));
                        visible.by_selector.len() - 1
                    });
                    visible.by_selector[position].1.push(index);
                }
            }
            visible.definitions.push((definition.id.clone(), contract.policy.clone()));
        }
        Ok(visible)
    }

    fn dataset_of(&self, visible: &Visible, asset: Asset, definitions: Vec<usize>) -> Dataset {
        let offers = definitions
            .into_iter()
            .map(|index| {
                let (definition_id, contract) = &visible.definitions[index];
                let offer_id = ContractOfferId::new(definition_id, &asset.id, &uuid::Uuid::new_v4().to_string());
                let mut policy = contract.clone();
                policy.policy_type = PolicyType::Offer;
                policy.uid = Some(offer_id.to_string());
                // Catalog offers name no target or parties: the dataset is the target (DSP 2025-1).
                policy.target = None;
                policy.assigner = None;
                policy.assignee = None;
                Offer { id: offer_id, policy }
            })
            .collect();
        let distributions = self.transfer_types.for_address_type(asset.data_address.address_type().unwrap_or_default());
        Dataset { asset_id: asset.id, properties: asset.properties, offers, distributions }
    }
}

/// The contract definitions one agent may see in one request.
#[derive(Default)]
struct Visible {
    /// (definition id, contract policy), in the store's order: offers keep that order.
    definitions: Vec<(String, Policy)>,
    /// Definitions whose selector names assets by id alone: asset id → positions in `definitions`.
    by_asset: HashMap<String, Vec<usize>>,
    /// Every other selector, once, with the positions of the definitions that use it.
    by_selector: Vec<(Vec<Criterion>, Vec<usize>)>,
}

impl Visible {
    /// The selectors that are not by id alone, in `by_selector` order.
    fn selector_filters(&self) -> Vec<Vec<Criterion>> {
        self.by_selector.iter().map(|(selector, _)| selector.clone()).collect()
    }

    /// The positions of the definitions that offer `asset_id`, in order; `picked` are the positions in
    /// `by_selector` of the selectors the database said pick it.
    fn offers_for(&self, asset_id: &str, picked: &BTreeSet<usize>) -> Vec<usize> {
        let mut definitions: Vec<usize> = self.by_asset.get(asset_id).cloned().unwrap_or_default();
        for (position, (_, indexes)) in self.by_selector.iter().enumerate() {
            if picked.contains(&position) {
                definitions.extend(indexes);
            }
        }
        definitions.sort_unstable();
        definitions.dedup();
        definitions
    }
}

fn id_criterion(ids: &[&str]) -> Criterion {
    Criterion::new(namespaces::edc("id"), Operator::In, serde_json::Value::from(ids.to_vec()))
}

/// Exactly these ids: the limit is the list's length (a catalog page may hold up to 10,000).
fn by_ids(ids: &[&str]) -> QuerySpec {
    let limit = u32::try_from(ids.len()).unwrap_or(u32::MAX).max(1);
    QuerySpec { limit, filter_expression: vec![id_criterion(ids)], ..QuerySpec::default() }
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
        let mut registry = TransferTypeRegistry::new();
        let http = dsc_domain::TransferTypeDescriptor::new("HttpData-PULL", "HttpData", dsc_domain::FlowType::Pull);
        registry.register(http).unwrap();
        let service = service_on(&store, registry);
        (service, dir)
    }

    /// The catalog of `store`'s definitions, policies and assets with these transfer types.
    fn service_on(store: &Arc<SqlStore>, registry: TransferTypeRegistry) -> CatalogService {
        CatalogService::new(
            "did:web:provider",
            store.clone(),
            store.clone(),
            store.clone(),
            Arc::new(PolicyEngine::with_defaults()),
            Arc::new(registry),
        )
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

    /// Selectors by id (`=`, `in`, naming an asset that does not exist), by property, and empty (every asset), with
    /// several definitions on one asset: the catalog pages over what each agent may see, offers in definition order.
    #[tokio::test]
    async fn selectors_by_id_by_property_and_empty_page_alike() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db?mode=rwc", dir.path().display());
        let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap());
        for (n, id) in ["a1", "a2", "a3", "a4", "a5"].into_iter().enumerate() {
            let group = if id == "a5" { json!("y") } else { json!("x") };
            Repository::create(store.as_ref(), &asset(id, n as i64, &[("group", group)])).await.unwrap();
        }
        let open = PolicyDefinition {
            id: "open".into(),
            created_at: 0,
            policy: Policy::new(PolicyType::Set),
            private_properties: Default::default(),
        };
        for p in [open, bpn_policy("only-bpn2", "BPNL2")] {
            Repository::create(store.as_ref(), &p).await.unwrap();
        }
        let id = namespaces::edc("id");
        for d in [
            contract_definition(
                "cd-in",
                1,
                "open",
                "open",
                vec![Criterion::new(id.clone(), Operator::In, json!(["a4", "ghost", "a2"]))],
            ),
            contract_definition("cd-line", 2, "open", "open", vec![Criterion::new("group", Operator::Eq, json!("y"))]),
            contract_definition(
                "cd-a2",
                3,
                "open",
                "open",
                vec![Criterion::new(id.clone(), Operator::Eq, json!("a2"))],
            ),
            contract_definition("cd-all", 4, "only-bpn2", "open", vec![]),
        ] {
            Repository::create(store.as_ref(), &d).await.unwrap();
        }
        let service = service_on(&store, TransferTypeRegistry::new());
        let listed = |catalog: &Catalog| -> Vec<(String, Vec<String>)> {
            catalog
                .datasets
                .iter()
                .map(|d| (d.asset_id.clone(), d.offers.iter().map(|o| o.id.definition_id.clone()).collect()))
                .collect()
        };
        let pair = |asset: &str, definitions: &[&str]| {
            (asset.to_string(), definitions.iter().map(|d| d.to_string()).collect::<Vec<_>>())
        };

        let few = service.catalog(&agent("BPNL1"), &QuerySpec::default()).await.unwrap();
        assert_eq!(
            listed(&few),
            vec![pair("a2", &["cd-in", "cd-a2"]), pair("a4", &["cd-in"]), pair("a5", &["cd-line"])],
            "no dataset for an id that names no asset"
        );
        let page = QuerySpec { offset: 1, limit: 1, ..QuerySpec::default() };
        assert_eq!(listed(&service.catalog(&agent("BPNL1"), &page).await.unwrap()), vec![pair("a4", &["cd-in"])]);

        let all = service.catalog(&agent("BPNL2"), &QuerySpec::default()).await.unwrap();
        assert_eq!(
            listed(&all),
            vec![
                pair("a1", &["cd-all"]),
                pair("a2", &["cd-in", "cd-a2", "cd-all"]),
                pair("a3", &["cd-all"]),
                pair("a4", &["cd-in", "cd-all"]),
                pair("a5", &["cd-line", "cd-all"]),
            ]
        );
        let page = QuerySpec { offset: 3, limit: 2, ..QuerySpec::default() };
        let paged = service.catalog(&agent("BPNL2"), &page).await.unwrap();
        assert_eq!(listed(&paged), vec![pair("a4", &["cd-in", "cd-all"]), pair("a5", &["cd-line", "cd-all"])]);

        let one = |bpn: &'static str, asset: &'static str| {
            let service = &service;
            async move {
                service
                    .dataset(&agent(bpn), asset)
                    .await
                    .unwrap()
                    .map(|d| d.offers.iter().map(|o| o.id.definition_id.clone()).collect::<Vec<_>>())
            }
        };
        assert_eq!(one("BPNL1", "a1").await, None, "only cd-all offers a1, and BPNL1 may not see it");
        assert_eq!(one("BPNL1", "a5").await, Some(vec!["cd-line".to_string()]));
        assert_eq!(one("BPNL2", "a2").await, Some(vec!["cd-in".into(), "cd-a2".into(), "cd-all".into()]));
        assert_eq!(one("BPNL2", "ghost").await, None);
    }

    /// A page larger than the store's read chunk (1,000) holds every dataset it names.
    #[tokio::test]
    async fn a_page_of_more_than_a_thousand_datasets_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/c.db?mode=rwc", dir.path().display());
        let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap());
        for n in 0..1_100 {
            Repository::create(store.as_ref(), &asset(&format!("a{n:04}"), n, &[])).await.unwrap();
        }
        let open = PolicyDefinition {
            id: "open".into(),
            created_at: 0,
            policy: Policy::new(PolicyType::Set),
            private_properties: Default::default(),
        };
        Repository::create(store.as_ref(), &open).await.unwrap();
        Repository::create(store.as_ref(), &contract_definition("cd-all", 1, "open", "open", vec![])).await.unwrap();
        let service = service_on(&store, TransferTypeRegistry::new());
        let page = QuerySpec { offset: 50, limit: 1_100, ..QuerySpec::default() };
        let catalog = service.catalog(&agent("BPNL1"), &page).await.unwrap();
        assert_eq!(catalog.datasets.len(), 1_050);
        assert_eq!(catalog.datasets.first().map(|d| d.asset_id.as_str()), Some("a0050"));
        assert_eq!(catalog.datasets.last().map(|d| d.asset_id.as_str()), Some("a1099"));
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
