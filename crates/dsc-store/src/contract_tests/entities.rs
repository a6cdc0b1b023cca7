// SPDX-License-Identifier: Apache-2.0
//! Assets, policy definitions, contract definitions and their queries.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

pub async fn asset_lifecycle(store: &impl ContractStore) {
    let original = asset("a1", 1000, &[("name", json!("Parts"))]);
    Repository::<Asset>::create(store, &original).await.unwrap();
    assert_eq!(Repository::<Asset>::find(store, "a1").await.ok().flatten(), Some(original.clone()));

    let duplicate = Repository::<Asset>::create(store, &original).await;
    assert!(
        matches!(duplicate, Err(StoreError::AlreadyExists { entity: "Asset", ref id }) if id == "a1"),
        "{duplicate:?}"
    );

    let mut changed = original.clone();
    changed.properties.insert(namespaces::edc("name"), json!("Renamed"));
    changed.created_at = 99; // must be ignored: creation time never changes
    Repository::<Asset>::update(store, &changed).await.unwrap();
    let stored = Repository::<Asset>::find(store, "a1").await.ok().flatten().unwrap_or_else(|| panic!("gone"));
    assert_eq!(stored.properties.get(&namespaces::edc("name")), Some(&json!("Renamed")));
    assert_eq!(stored.created_at, 1000);

    let missing = Repository::<Asset>::update(store, &asset("nope", 1, &[])).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })), "{missing:?}");

    let deleted = Repository::<Asset>::delete(store, "a1").await.unwrap();
    assert_eq!(deleted.id, "a1");
    assert_eq!(Repository::<Asset>::find(store, "a1").await.ok().flatten(), None);
    assert!(matches!(Repository::<Asset>::delete(store, "a1").await, Err(StoreError::NotFound { .. })));
}

pub async fn policy_definition_lifecycle(store: &impl ContractStore) {
    let original = policy_definition("p1", 5);
    Repository::<PolicyDefinition>::create(store, &original).await.unwrap();
    assert_eq!(Repository::<PolicyDefinition>::find(store, "p1").await.ok().flatten(), Some(original.clone()));
    assert!(matches!(
        Repository::<PolicyDefinition>::create(store, &original).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    let mut changed = original.clone();
    changed.policy.assigner = Some("did:web:provider".into());
    Repository::<PolicyDefinition>::update(store, &changed).await.unwrap();
    assert_eq!(Repository::<PolicyDefinition>::find(store, "p1").await.ok().flatten(), Some(changed));
    let found =
        Repository::<PolicyDefinition>::query(store, &query(vec![Criterion::new("id", Operator::Eq, json!("p1"))]))
            .await
            .unwrap_or_default();
    assert_eq!(found.len(), 1);
    Repository::<PolicyDefinition>::delete(store, "p1").await.unwrap();
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
        Repository::<ContractDefinition>::create(store, definition).await.unwrap();
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
                ("tags", json!(["mqtt", "stream"])),
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
        Repository::<Asset>::create(store, &a).await.unwrap();
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
    assert_eq!(asset_ids(store, query(vec![c("tags", Operator::Contains, json!("mqtt"))])).await, vec!["a1"]);
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
    // A long list (a catalog asks for a page of a thousand ids): one query on both backends, in any field.
    let many: Vec<String> = (0..2_000).map(|i| format!("x{i}")).chain(["a2".into(), "a4".into()]).collect();
    let long = |left: &str, op| query(vec![c(left, op, json!(many))]);
    assert_eq!(asset_ids(store, long("id", Operator::In)).await, vec!["a2", "a4"]);
    assert_eq!(asset_ids(store, long("id", Operator::NotIn)).await, vec!["a1", "a3"]);
    assert!(asset_ids(store, long(&name, Operator::In)).await.is_empty());
    // Several selectors in one pass: which assets each picks (an empty one picks all), optionally among some ids.
    let selectors = vec![
        vec![c(&name, Operator::ILike, json!("serial%"))],
        vec![c("id", Operator::Eq, json!("a4"))],
        vec![],
        vec![c("id", Operator::Eq, json!("nothing"))],
    ];
    let matched = Repository::<Asset>::matching(store, &selectors, None, None).await.unwrap();
    let expected: Vec<(String, Vec<usize>)> =
        vec![("a1".into(), vec![0, 2]), ("a2".into(), vec![2]), ("a3".into(), vec![0, 2]), ("a4".into(), vec![1, 2])];
    assert_eq!(matched, expected);
    let among = Repository::<Asset>::matching(store, &selectors[..2], Some(&["a1", "a2", "zz"]), None).await.unwrap();
    assert_eq!(among, vec![("a1".to_string(), vec![0])]);
    let many: Vec<Vec<Criterion>> =
        (0..1_200).map(|i| vec![c("id", Operator::Eq, json!(format!("a{}", i % 7)))]).collect();
    let matched = Repository::<Asset>::matching(store, &many, Some(&["a3"]), None).await.unwrap();
    let positions: Vec<usize> = (0..1_200).filter(|i| i % 7 == 3).collect();
    assert_eq!(matched, vec![("a3".to_string(), positions)], "more filters than one query's columns");
    // Paged by the database (one group of filters) and here (more groups), alike.
    let paged = Repository::<Asset>::matching(store, &selectors, None, Some((1, 2))).await.unwrap();
    assert_eq!(paged, vec![("a2".to_string(), vec![2]), ("a3".to_string(), vec![0, 2])]);
    let paged = Repository::<Asset>::matching(store, &many, None, Some((5, 1))).await.unwrap();
    assert_eq!(paged.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), Vec::<&str>::new(), "4 assets match");
    let paged = Repository::<Asset>::matching(store, &many, None, Some((1, 2))).await.unwrap();
    assert_eq!(paged.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), vec!["a2", "a3"]);
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
