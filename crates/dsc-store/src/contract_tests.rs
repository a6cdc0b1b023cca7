// SPDX-License-Identifier: Apache-2.0
//! The store contract: every backend must pass these, unchanged. Each function gets a fresh, empty store.

use dsc_domain::odrl::{Action, Constraint, ConstraintOperator, Policy, PolicyType, Rule};
use dsc_domain::{
    Asset, ContractDefinition, Criterion, DataAddress, Operator, PolicyDefinition, Properties, QuerySpec, SortOrder,
    namespaces,
};
use serde_json::{Value, json};

use crate::{
    CallbackOutbox, ContractDefinitionStore, DataFlowStore, KafkaGrantStore, NegotiationStore, Repository, StoreError,
    TransferStore,
};
use dsc_domain::{ContractAgreement, ContractNegotiation, ContractOfferId, NegotiationRole, NegotiationState, Offer};

pub trait ContractStore:
    Repository<Asset>
    + Repository<PolicyDefinition>
    + ContractDefinitionStore
    + NegotiationStore
    + CallbackOutbox
    + TransferStore
    + DataFlowStore
    + KafkaGrantStore
{
}
impl<
    T: Repository<Asset>
        + Repository<PolicyDefinition>
        + ContractDefinitionStore
        + NegotiationStore
        + CallbackOutbox
        + TransferStore
        + DataFlowStore
        + KafkaGrantStore,
> ContractStore for T
{
}

fn props(pairs: &[(&str, Value)]) -> Properties {
    pairs.iter().map(|(k, v)| (namespaces::edc(k), v.clone())).collect()
}

pub fn asset(id: &str, created_at: i64, properties: &[(&str, Value)]) -> Asset {
    let mut properties = props(properties);
    properties.insert(namespaces::edc("id"), json!(id));
    Asset {
        id: id.to_string(),
        created_at,
        properties,
        private_properties: props(&[("owner", json!(format!("team-{id}")))]),
        data_address: DataAddress {
            properties: props(&[("type", json!("HttpData")), ("baseUrl", json!("https://backend.example"))]),
        },
    }
}

pub fn policy_definition(id: &str, created_at: i64) -> PolicyDefinition {
    let mut policy = Policy::new(PolicyType::Set);
    policy.permissions.push(Rule {
        action: Action { action_type: namespaces::odrl("use"), included_in: None, refinements: vec![] },
        constraints: vec![Constraint::Atomic {
            left_operand: "https://w3id.org/catenax/2025/9/policy/FrameworkAgreement".into(),
            operator: ConstraintOperator::Eq,
            right_operand: json!("DataExchangeGovernance:1.0"),
        }],
        duties: vec![],
    });
    PolicyDefinition { id: id.to_string(), created_at, policy, private_properties: Properties::new() }
}

pub fn contract_definition(
    id: &str,
    created_at: i64,
    access: &str,
    contract: &str,
    selector: Vec<Criterion>,
) -> ContractDefinition {
    ContractDefinition {
        id: id.to_string(),
        created_at,
        access_policy_id: access.to_string(),
        contract_policy_id: contract.to_string(),
        assets_selector: selector,
        private_properties: Properties::new(),
    }
}

fn query(criteria: Vec<Criterion>) -> QuerySpec {
    QuerySpec { filter_expression: criteria, ..QuerySpec::default() }
}

fn ids<E>(entities: &[E], id: impl Fn(&E) -> &str) -> Vec<String> {
    entities.iter().map(|e| id(e).to_string()).collect()
}

async fn asset_ids(store: &impl ContractStore, spec: QuerySpec) -> Vec<String> {
    let found: Vec<Asset> =
        Repository::<Asset>::query(store, &spec).await.unwrap_or_else(|e| panic!("query failed: {e}"));
    ids(&found, |a| &a.id)
}

pub async fn asset_lifecycle(store: &impl ContractStore) {
    let original = asset("a1", 1000, &[("name", json!("Parts"))]);
    Repository::<Asset>::create(store, &original).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Repository::<Asset>::find(store, "a1").await.ok().flatten(), Some(original.clone()));

    let duplicate = Repository::<Asset>::create(store, &original).await;
    assert!(
        matches!(duplicate, Err(StoreError::AlreadyExists { entity: "Asset", ref id }) if id == "a1"),
        "{duplicate:?}"
    );

    let mut changed = original.clone();
    changed.properties.insert(namespaces::edc("name"), json!("Renamed"));
    changed.created_at = 99; // must be ignored: creation time never changes
    Repository::<Asset>::update(store, &changed).await.unwrap_or_else(|e| panic!("{e}"));
    let stored = Repository::<Asset>::find(store, "a1").await.ok().flatten().unwrap_or_else(|| panic!("gone"));
    assert_eq!(stored.properties.get(&namespaces::edc("name")), Some(&json!("Renamed")));
    assert_eq!(stored.created_at, 1000);

    let missing = Repository::<Asset>::update(store, &asset("nope", 1, &[])).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    let deleted = Repository::<Asset>::delete(store, "a1").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(deleted.id, "a1");
    assert_eq!(Repository::<Asset>::find(store, "a1").await.ok().flatten(), None);
    assert!(matches!(Repository::<Asset>::delete(store, "a1").await, Err(StoreError::NotFound { .. })));
}

pub async fn policy_definition_lifecycle(store: &impl ContractStore) {
    let original = policy_definition("p1", 5);
    Repository::<PolicyDefinition>::create(store, &original).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Repository::<PolicyDefinition>::find(store, "p1").await.ok().flatten(), Some(original.clone()));
    assert!(matches!(
        Repository::<PolicyDefinition>::create(store, &original).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let mut changed = original.clone();
    changed.policy.assigner = Some("did:web:provider".into());
    Repository::<PolicyDefinition>::update(store, &changed).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Repository::<PolicyDefinition>::find(store, "p1").await.ok().flatten(), Some(changed));
    let found =
        Repository::<PolicyDefinition>::query(store, &query(vec![Criterion::new("id", Operator::Eq, json!("p1"))]))
            .await
            .unwrap_or_default();
    assert_eq!(found.len(), 1);
    Repository::<PolicyDefinition>::delete(store, "p1").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(Repository::<PolicyDefinition>::find(store, "p1").await.ok().flatten().is_none());
}

pub async fn contract_definition_lifecycle_and_references(store: &impl ContractStore) {
    let by_id = contract_definition(
        "cd1",
        1,
        "access",
        "usage",
        vec![Criterion::new(namespaces::edc("id"), Operator::Eq, json!("asset-1"))],
    );
    let by_list = contract_definition(
        "cd2",
        2,
        "other",
        "access",
        vec![Criterion::new("id", Operator::In, json!(["asset-0", "asset-1"]))],
    );
    let by_name = contract_definition(
        "cd3",
        3,
        "x",
        "y",
        vec![Criterion::new(namespaces::edc("name"), Operator::Eq, json!("asset-1"))],
    );
    for definition in [&by_id, &by_list, &by_name] {
        Repository::<ContractDefinition>::create(store, definition).await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(Repository::<ContractDefinition>::find(store, "cd2").await.ok().flatten(), Some(by_list.clone()));
    assert_eq!(store.referencing_policy("access").await.unwrap_or_default(), vec!["cd1", "cd2"]);
    assert_eq!(store.referencing_policy("usage").await.unwrap_or_default(), vec!["cd1"]);
    assert!(store.referencing_policy("none").await.unwrap_or_default().is_empty());
    assert_eq!(store.naming_asset("asset-1").await.unwrap_or_default(), vec!["cd1", "cd2"]);
    assert!(store.naming_asset("asset-").await.unwrap_or_default().is_empty());

    let spec = query(vec![Criterion::new("accessPolicyId", Operator::Eq, json!("other"))]);
    let found = Repository::<ContractDefinition>::query(store, &spec).await.unwrap_or_default();
    assert_eq!(ids(&found, |d| &d.id), vec!["cd2"]);
    let unknown = Repository::<ContractDefinition>::query(
        store,
        &query(vec![Criterion::new("color", Operator::Eq, json!("red"))]),
    )
    .await;
    match unknown {
        Err(StoreError::InvalidQuery { message, path }) => {
            assert_eq!(message, "'color' is not a property this entity can be queried by");
            assert_eq!(path, format!("{}[0]/{}", namespaces::edc("filterExpression"), namespaces::edc("operandLeft")));
        }
        other => panic!("expected InvalidQuery, got {other:?}"),
    }
}

async fn seed_assets(store: &impl ContractStore) {
    let assets = [
        asset(
            "a1",
            100,
            &[
                ("name", json!("Serial Parts")),
                ("count", json!(5)),
                ("tags", json!(["kafka", "stream"])),
                ("version", json!("3.0.0")),
            ],
        ),
        asset(
            "a2",
            200,
            &[("name", json!("Batch")), ("count", json!(12)), ("tags", json!(["http"])), ("version", json!("4.0.0"))],
        ),
        asset("a3", 300, &[("name", json!("serial parts")), ("count", json!("5")), ("flag", json!(true))]),
        asset(
            "a4",
            400,
            &[("name", json!("JIS")), ("nested", json!({namespaces::edc("k"): "v"})), ("dct", json!({"@id": "urn:x"}))],
        ),
    ];
    for a in assets {
        Repository::<Asset>::create(store, &a).await.unwrap_or_else(|e| panic!("{e}"));
    }
}

pub async fn asset_queries_filter_in_the_database(store: &impl ContractStore) {
    seed_assets(store).await;
    let c = |left: &str, op, right: Value| Criterion::new(left, op, right);
    let name = namespaces::edc("name");
    assert_eq!(asset_ids(store, query(vec![])).await, vec!["a1", "a2", "a3", "a4"]);
    assert_eq!(asset_ids(store, query(vec![c(&namespaces::edc("id"), Operator::Eq, json!("a2"))])).await, vec!["a2"]);
    assert_eq!(asset_ids(store, query(vec![c("id", Operator::In, json!(["a1", "a3", "zz"]))])).await, vec!["a1", "a3"]);
    assert_eq!(asset_ids(store, query(vec![c("id", Operator::NotIn, json!(["a1", "a3"]))])).await, vec!["a2", "a4"]);
    assert_eq!(asset_ids(store, query(vec![c(&name, Operator::NotEq, json!("Batch"))])).await, vec!["a1", "a3", "a4"]);
    // LIKE is case-sensitive on both backends, ILIKE is not.
    assert_eq!(asset_ids(store, query(vec![c(&name, Operator::Like, json!("Serial%"))])).await, vec!["a1"]);
    assert_eq!(asset_ids(store, query(vec![c(&name, Operator::ILike, json!("serial%"))])).await, vec!["a1", "a3"]);
    // Bare terms and prefixes expand like JSON-LD keys do.
    assert_eq!(asset_ids(store, query(vec![c("name", Operator::Eq, json!("JIS"))])).await, vec!["a4"]);
    assert_eq!(asset_ids(store, query(vec![c("edc:name", Operator::Eq, json!("JIS"))])).await, vec!["a4"]);
    // Numbers compare numerically and only with numbers; strings compare as text.
    let count = namespaces::edc("count");
    assert_eq!(asset_ids(store, query(vec![c(&count, Operator::Gt, json!(6))])).await, vec!["a2"]);
    assert_eq!(asset_ids(store, query(vec![c(&count, Operator::Eq, json!(5))])).await, vec!["a1"]);
    assert_eq!(asset_ids(store, query(vec![c(&count, Operator::Eq, json!("5"))])).await, vec!["a1", "a3"]);
    assert_eq!(asset_ids(store, query(vec![c("version", Operator::GtEq, json!("4"))])).await, vec!["a2"]);
    assert_eq!(asset_ids(store, query(vec![c("flag", Operator::Eq, json!(true))])).await, vec!["a3"]);
    assert_eq!(asset_ids(store, query(vec![c("createdAt", Operator::LtEq, json!(200))])).await, vec!["a1", "a2"]);
    assert_eq!(asset_ids(store, query(vec![c("tags", Operator::Contains, json!("kafka"))])).await, vec!["a1"]);
    assert_eq!(
        asset_ids(
            store,
            query(vec![c(
                &format!("'{}'.'{}'", namespaces::edc("nested"), namespaces::edc("k")),
                Operator::Eq,
                json!("v")
            )])
        )
        .await,
        vec!["a4"]
    );
    assert_eq!(asset_ids(store, query(vec![c("'dct'.'@id'", Operator::Eq, json!("urn:x"))])).await, vec!["a4"]);
    assert_eq!(
        asset_ids(store, query(vec![c("privateProperties.'owner'", Operator::Eq, json!("team-a2"))])).await,
        vec!["a2"]
    );
    assert_eq!(asset_ids(store, query(vec![c("dataAddress.type", Operator::Eq, json!("HttpData"))])).await.len(), 4);
    // Criteria combine with AND.
    assert_eq!(
        asset_ids(
            store,
            query(vec![c(&name, Operator::ILike, json!("%parts")), c("createdAt", Operator::Gt, json!(150))])
        )
        .await,
        vec!["a3"]
    );
    assert!(asset_ids(store, query(vec![c("id", Operator::In, json!([]))])).await.is_empty());
    let bad = Repository::<Asset>::query(store, &query(vec![c(&name, Operator::Eq, json!({"a": 1}))])).await;
    assert!(matches!(bad, Err(StoreError::InvalidQuery { .. })), "{bad:?}");
}

pub async fn asset_queries_sort_and_page(store: &impl ContractStore) {
    seed_assets(store).await;
    let page = |offset, limit, order, field: Option<&str>| QuerySpec {
        offset,
        limit,
        sort_order: order,
        sort_field: field.map(str::to_string),
        filter_expression: vec![],
    };
    assert_eq!(asset_ids(store, page(1, 2, SortOrder::Asc, None)).await, vec!["a2", "a3"]);
    assert_eq!(asset_ids(store, page(0, 2, SortOrder::Desc, Some("createdAt"))).await, vec!["a4", "a3"]);
    assert_eq!(
        asset_ids(store, page(0, 10, SortOrder::Asc, Some(&namespaces::edc("name")))).await,
        vec!["a2", "a4", "a1", "a3"]
    );
    assert!(asset_ids(store, page(10, 10, SortOrder::Asc, None)).await.is_empty());
}

pub fn negotiation(
    id: &str,
    role: NegotiationRole,
    state: NegotiationState,
    state_timestamp: i64,
) -> ContractNegotiation {
    let offer = Offer { id: ContractOfferId::new("cd-1", "asset-1", id), policy: policy_definition("p", 0).policy };
    ContractNegotiation {
        id: id.to_string(),
        correlation_id: None,
        counter_party_id: "did:web:peer".into(),
        counter_party_address: "http://peer/api/v1/dsp/2025-1".into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
        role,
        state,
        state_count: 1,
        state_timestamp,
        error_detail: None,
        offers: vec![offer],
        agreement: None,
        callback_addresses: vec![],
        created_at: state_timestamp,
        updated_at: state_timestamp,
    }
}

pub async fn negotiation_lifecycle_with_agreement(store: &impl ContractStore) {
    let mut n = negotiation("n1", NegotiationRole::Provider, NegotiationState::Requested, 10);
    n.correlation_id = Some("consumer-pid-1".into());
    store.create_negotiation(&n).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.find_negotiation("n1").await.ok().flatten(), Some(n.clone()));
    let duplicate =
        store.create_negotiation(&negotiation("n2", NegotiationRole::Provider, NegotiationState::Requested, 11)).await;
    assert!(duplicate.is_ok(), "another id without correlation is fine");
    let mut same_correlation = negotiation("n3", NegotiationRole::Provider, NegotiationState::Requested, 12);
    same_correlation.correlation_id = Some("consumer-pid-1".into());
    assert!(
        matches!(store.create_negotiation(&same_correlation).await, Err(StoreError::AlreadyExists { .. })),
        "a duplicate request from the same counter-party is recognised"
    );
    let found =
        store.find_negotiation_by_correlation(NegotiationRole::Provider, "did:web:peer", "consumer-pid-1").await;
    assert_eq!(found.ok().flatten().map(|f| f.id), Some("n1".into()));
    assert!(
        store
            .find_negotiation_by_correlation(NegotiationRole::Consumer, "did:web:peer", "consumer-pid-1")
            .await
            .ok()
            .flatten()
            .is_none()
    );

    n.transition(NegotiationState::Agreeing, 20).unwrap_or_else(|e| panic!("{e}"));
    n.transition(NegotiationState::Agreed, 30).unwrap_or_else(|e| panic!("{e}"));
    n.agreement = Some(ContractAgreement {
        id: "agreement-1".into(),
        provider_id: "did:web:provider".into(),
        consumer_id: "did:web:peer".into(),
        contract_signing_date: 1_800_000_000,
        asset_id: "asset-1".into(),
        policy: policy_definition("p", 0).policy,
    });
    store.save_negotiation(&n, "me").await.unwrap_or_else(|e| panic!("{e}"));
    store.save_negotiation(&n, "me").await.unwrap_or_else(|e| panic!("saving twice keeps the agreement: {e}"));
    assert_eq!(store.find_negotiation("n1").await.ok().flatten(), Some(n.clone()));
    assert_eq!(store.find_agreement("agreement-1").await.ok().flatten(), n.agreement.clone());
    let by_asset = QuerySpec {
        filter_expression: vec![Criterion::new("assetId", Operator::Eq, json!("asset-1"))],
        ..QuerySpec::default()
    };
    assert_eq!(store.query_agreements(&by_asset).await.unwrap_or_default().len(), 1);
    let agreed = QuerySpec {
        filter_expression: vec![Criterion::new("state", Operator::Eq, json!("AGREED"))],
        ..QuerySpec::default()
    };
    let ids: Vec<_> = store.query_negotiations(&agreed).await.unwrap_or_default().into_iter().map(|n| n.id).collect();
    assert_eq!(ids, vec!["n1"]);
    let by_agreement = QuerySpec {
        filter_expression: vec![Criterion::new("contractAgreementId", Operator::Eq, json!("agreement-1"))],
        ..QuerySpec::default()
    };
    assert_eq!(store.query_negotiations(&by_agreement).await.unwrap_or_default().len(), 1);
}

pub async fn leases_give_one_holder_at_a_time(store: &impl ContractStore) {
    let mut n = negotiation("leased", NegotiationRole::Consumer, NegotiationState::Requesting, 1);
    store.create_negotiation(&n).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(store.lease_negotiation("leased", "replica-a", 60_000).await.ok().flatten().is_some());
    assert!(
        store.lease_negotiation("leased", "replica-a", 60_000).await.ok().flatten().is_some(),
        "re-entrant for the holder"
    );
    match store.lease_negotiation("leased", "replica-b", 60_000).await {
        Err(StoreError::LeaseHeld { holder, .. }) => assert_eq!(holder, "replica-a"),
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
    n.transition(NegotiationState::Requested, 2).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(store.save_negotiation(&n, "replica-b").await, Err(StoreError::LeaseHeld { .. })),
        "no write without the lease"
    );
    store.save_negotiation(&n, "replica-a").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        store.lease_negotiation("leased", "replica-b", 60_000).await.ok().flatten().is_some(),
        "saving released the lease"
    );
    // An expired lease is free: a crashed holder's work is picked up.
    assert!(store.lease_negotiation("leased", "replica-c", 60_000).await.is_err());
    store.save_negotiation(&n, "replica-b").await.unwrap_or_else(|e| panic!("{e}"));
    assert!(store.lease_negotiation("leased", "crashed", -1).await.ok().flatten().is_some());
    assert!(store.lease_negotiation("leased", "replica-c", 60_000).await.ok().flatten().is_some());
    assert_eq!(store.lease_negotiation("missing", "x", 1000).await.ok().flatten(), None);
    assert!(matches!(
        store
            .save_negotiation(&negotiation("missing", NegotiationRole::Consumer, NegotiationState::Initial, 0), "x")
            .await,
        Err(StoreError::NotFound { .. })
    ));
}

pub async fn claims_take_oldest_work_once(store: &impl ContractStore) {
    for index in 0..20 {
        let state = if index % 2 == 0 { NegotiationState::Requesting } else { NegotiationState::Verifying };
        store
            .create_negotiation(&negotiation(&format!("w{index:02}"), NegotiationRole::Consumer, state, 100 - index))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    store
        .create_negotiation(&negotiation("provider-side", NegotiationRole::Provider, NegotiationState::Requesting, 0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = store
        .claim_negotiations(NegotiationRole::Consumer, &[NegotiationState::Requesting], 3, "a", 60_000)
        .await
        .unwrap_or_default();
    let ids: Vec<_> = first.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, vec!["w18", "w16", "w14"], "oldest state change first, only the asked states and role");
    let (left, right) = tokio::join!(
        store.claim_negotiations(
            NegotiationRole::Consumer,
            &[NegotiationState::Requesting, NegotiationState::Verifying],
            20,
            "b",
            60_000
        ),
        store.claim_negotiations(
            NegotiationRole::Consumer,
            &[NegotiationState::Requesting, NegotiationState::Verifying],
            20,
            "c",
            60_000
        ),
    );
    let mut all: Vec<String> =
        left.unwrap_or_default().into_iter().chain(right.unwrap_or_default()).map(|n| n.id).collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "no negotiation was claimed twice");
    assert_eq!(count, 17, "everything not already claimed by 'a'");
    assert!(
        store
            .claim_negotiations(NegotiationRole::Consumer, &[NegotiationState::Requesting], 5, "d", 60_000)
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

pub async fn state_changes_queue_their_events_atomically(store: &impl ContractStore) {
    let mut n = negotiation("evented", NegotiationRole::Consumer, NegotiationState::Requesting, 1);
    n.callback_addresses = vec![
        dsc_domain::CallbackAddress {
            uri: "http://hooks/all".into(),
            events: vec!["contract.negotiation".into()],
            transactional: false,
            auth_key: Some("X-Key".into()),
            auth_code_id: Some("hook-secret".into()),
        },
        dsc_domain::CallbackAddress {
            uri: "http://hooks/final".into(),
            events: vec!["contract.negotiation.finalized".into()],
            transactional: false,
            auth_key: None,
            auth_code_id: None,
        },
    ];
    store.create_negotiation(&n).await.unwrap_or_else(|e| panic!("{e}"));
    n.transition(NegotiationState::Requested, 2).unwrap_or_else(|e| panic!("{e}"));
    n.transition(NegotiationState::Agreed, 3).unwrap_or_else(|e| panic!("{e}"));
    store.save_negotiation(&n, "h").await.unwrap_or_else(|e| panic!("{e}"));
    store.save_negotiation(&n, "h").await.unwrap_or_else(|e| panic!("{e}"));
    let claimed = store.claim_callbacks(10, "dispatcher", 60_000).await.unwrap_or_default();
    let types: Vec<(String, String)> = claimed
        .iter()
        .map(|e| {
            (
                e.uri.clone(),
                serde_json::from_str::<Value>(&e.body).unwrap_or_default()["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        types,
        vec![
            ("http://hooks/all".to_string(), "ContractNegotiationInitiated".to_string()),
            ("http://hooks/all".to_string(), "ContractNegotiationRequested".to_string()),
            ("http://hooks/all".to_string(), "ContractNegotiationAgreed".to_string()),
        ],
        "saving an unchanged state adds nothing; the finalized-only hook gets nothing yet"
    );
    assert_eq!(claimed[0].auth_key.as_deref(), Some("X-Key"));
    assert!(
        store.claim_callbacks(10, "other", 60_000).await.unwrap_or_default().is_empty(),
        "claimed entries are leased"
    );
    store.callback_delivered(&claimed[0].id).await.unwrap_or_else(|e| panic!("{e}"));
    store.callback_failed(&claimed[1].id, 1, 0).await.unwrap_or_else(|e| panic!("{e}"));
    store.callback_failed(&claimed[2].id, 1, i64::MAX / 2).await.unwrap_or_else(|e| panic!("{e}"));
    let again = store.claim_callbacks(10, "other", 60_000).await.unwrap_or_default();
    assert_eq!(
        again.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        vec![claimed[1].id.clone()],
        "only the due retry"
    );
    assert_eq!(again[0].attempts, 1);
}

fn transfer(id: &str, role: NegotiationRole, state: dsc_domain::TransferState, at: i64) -> dsc_domain::TransferProcess {
    dsc_domain::TransferProcess {
        id: id.into(),
        correlation_id: Some(format!("{id}-peer")),
        counter_party_id: "did:web:peer".into(),
        counter_party_address: "http://peer/api/v1/dsp/2025-1".into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
        role,
        state,
        state_count: 1,
        state_timestamp: at,
        error_detail: None,
        agreement_id: "agreement-1".into(),
        asset_id: "asset-1".into(),
        transfer_type: "HttpData-PULL".into(),
        data_destination: None,
        data_address_key: Some(format!("edr--{id}")),
        suspended_by: Some(NegotiationRole::Consumer),
        counter_party_informed: true,
        data_flow_started: true,
        callback_addresses: vec![dsc_domain::CallbackAddress {
            uri: "http://hook".into(),
            events: vec!["transfer.process.started".into()],
            transactional: false,
            auth_key: None,
            auth_code_id: None,
        }],
        created_at: at,
        updated_at: at,
    }
}

pub async fn transfer_lifecycle_leases_and_events(store: &impl ContractStore) {
    use dsc_domain::TransferState::*;
    let mut t = transfer("t1", NegotiationRole::Provider, Requested, 10);
    store.create_transfer(&t).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.find_transfer("t1").await.ok().flatten(), Some(t.clone()), "every field round-trips");
    let duplicate = transfer("t2", NegotiationRole::Provider, Requested, 11);
    let mut same_correlation = duplicate.clone();
    same_correlation.correlation_id = t.correlation_id.clone();
    assert!(matches!(store.create_transfer(&same_correlation).await, Err(StoreError::AlreadyExists { .. })));
    let found = store.find_transfer_by_correlation(NegotiationRole::Provider, "did:web:peer", "t1-peer").await;
    assert_eq!(found.ok().flatten().map(|f| f.id), Some("t1".into()));

    let claimed = store.claim_transfers(NegotiationRole::Provider, &[Requested], 10, "a", 60_000).await;
    assert_eq!(claimed.unwrap_or_default().iter().map(|t| t.id.clone()).collect::<Vec<_>>(), vec!["t1"]);
    assert!(
        store
            .claim_transfers(NegotiationRole::Provider, &[Requested], 10, "b", 60_000)
            .await
            .unwrap_or_default()
            .is_empty()
    );
    assert!(matches!(store.lease_transfer("t1", "b", 1000).await, Err(StoreError::LeaseHeld { .. })));
    assert!(matches!(store.save_transfer(&t, "b").await, Err(StoreError::LeaseHeld { .. })));

    t.transition(Starting, 20).unwrap_or_else(|e| panic!("{e}"));
    t.transition(Started, 21).unwrap_or_else(|e| panic!("{e}"));
    store.save_transfer(&t, "a").await.unwrap_or_else(|e| panic!("{e}"));
    let events = store.claim_callbacks(10, "d", 60_000).await.unwrap_or_default();
    assert_eq!(events.len(), 1, "one started event for the subscribed callback");
    assert!(events[0].body.contains("TransferProcessStarted"), "{}", events[0].body);
    let by_state = QuerySpec {
        filter_expression: vec![Criterion::new("state", Operator::Eq, json!("STARTED"))],
        ..QuerySpec::default()
    };
    assert_eq!(store.query_transfers(&by_state).await.unwrap_or_default().len(), 1);
    assert!(store.lease_transfer("missing", "a", 1000).await.ok().flatten().is_none());
}

pub async fn data_flows_round_trip(store: &impl ContractStore) {
    let mut flow = dsc_domain::DataFlow {
        id: "f1".into(),
        state: dsc_domain::DataFlowState::Started,
        profile: "HttpData-PULL".into(),
        participant_id: "did:web:provider".into(),
        counter_party_id: "did:web:consumer".into(),
        agreement_id: "agreement-1".into(),
        dataset_id: "asset-1".into(),
        source: dsc_domain::DataAddress { properties: props(&[("type", json!("HttpData"))]) },
        access_token_id: Some("jti-1".into()),
        refresh_token_hash: Some("hash".into()),
        created_at: 1,
        updated_at: 1,
    };
    store.create_flow(&flow).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(store.create_flow(&flow).await, Err(StoreError::AlreadyExists { .. })));
    flow.state = dsc_domain::DataFlowState::Suspended;
    flow.access_token_id = None;
    store.save_flow(&flow).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.find_flow("f1").await.ok().flatten(), Some(flow.clone()));
    flow.id = "missing".into();
    assert!(matches!(store.save_flow(&flow).await, Err(StoreError::NotFound { .. })));
}

pub async fn kafka_grants_round_trip(store: &impl ContractStore) {
    use dsc_domain::kafka::{KafkaGrant, KafkaGrantState};
    let grant = |id: &str, flow: &str, created_at: i64| KafkaGrant {
        id: id.into(),
        flow_id: flow.into(),
        state: KafkaGrantState::Provisioning,
        topic: "parts".into(),
        group_prefix: format!("consumer.{flow}."),
        principal: None,
        client_id: None,
        client_secret_alias: None,
        registration_token_alias: None,
        registration_client_uri: None,
        error_detail: None,
        created_at,
        updated_at: created_at,
    };
    let mut first = grant("g1", "flow-a", 1);
    store.create_grant(&first).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(store.create_grant(&first).await, Err(StoreError::AlreadyExists { .. })));
    store.create_grant(&grant("g2", "flow-b", 2)).await.unwrap_or_else(|e| panic!("{e}"));
    first.state = KafkaGrantState::Active;
    first.principal = Some("User:client-1".into());
    first.client_id = Some("client-1".into());
    first.client_secret_alias = Some("kafka-grant-g1-secret".into());
    first.updated_at = 5;
    store.save_grant(&first).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.live_grants_of_flow("flow-a").await.unwrap_or_default(), vec![first.clone()]);
    let live: Vec<String> = store.live_grants().await.unwrap_or_default().into_iter().map(|g| g.id).collect();
    assert_eq!(live, vec!["g1", "g2"], "oldest first");

    first.state = KafkaGrantState::Revoked;
    store.save_grant(&first).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(store.live_grants_of_flow("flow-a").await.unwrap_or_default().is_empty(), "revoked grants are not live");
    assert_eq!(
        store.grant_principals().await.unwrap_or_default(),
        vec!["User:client-1"],
        "but their principal is known"
    );
    let missing = grant("missing", "flow-x", 3);
    assert!(matches!(store.save_grant(&missing).await, Err(StoreError::NotFound { .. })));
}
