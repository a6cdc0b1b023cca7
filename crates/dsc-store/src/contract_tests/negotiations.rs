// SPDX-License-Identifier: Apache-2.0
//! Negotiations: lifecycle with agreement, leases, claims, events queued with the state change.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

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
        pending: false,
        state_timestamp,
        error_detail: None,
        offers: vec![offer],
        agreement: None,
        callback_addresses: vec![],
        trace_context: None,
        created_at: state_timestamp,
        updated_at: state_timestamp,
    }
}

pub async fn negotiation_lifecycle_with_agreement(store: &impl ContractStore) {
    let mut n = negotiation("n1", NegotiationRole::Provider, NegotiationState::Requested, 10);
    n.correlation_id = Some("consumer-pid-1".into());
    n.trace_context = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
    store.create_negotiation(&n).await.unwrap();
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

    n.transition(NegotiationState::Agreeing, 20).unwrap();
    n.transition(NegotiationState::Agreed, 30).unwrap();
    n.agreement = Some(ContractAgreement {
        id: "agreement-1".into(),
        provider_id: "did:web:provider".into(),
        consumer_id: "did:web:peer".into(),
        contract_signing_date: 1_800_000_000,
        asset_id: "asset-1".into(),
        policy: policy_definition("p", 0).policy,
    });
    store.save_negotiation(&n, "me").await.unwrap();
    store.save_negotiation(&n, "me").await.expect("saving twice keeps the agreement");
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
    store.create_negotiation(&n).await.unwrap();
    assert!(store.lease_negotiation("leased", "replica-a", 60_000).await.ok().flatten().is_some());
    assert!(
        store.lease_negotiation("leased", "replica-a", 60_000).await.ok().flatten().is_some(),
        "re-entrant for the holder"
    );
    match store.lease_negotiation("leased", "replica-b", 60_000).await {
        Err(StoreError::LeaseHeld { holder, .. }) => assert_eq!(holder, "replica-a"),
        other => panic!("expected LeaseHeld, got {other:?}"),
    }
    n.transition(NegotiationState::Requested, 2).unwrap();
    assert!(
        matches!(store.save_negotiation(&n, "replica-b").await, Err(StoreError::LeaseHeld { .. })),
        "no write without the lease"
    );
    store.save_negotiation(&n, "replica-a").await.unwrap();
    assert!(
        store.lease_negotiation("leased", "replica-b", 60_000).await.ok().flatten().is_some(),
        "saving released the lease"
    );
    // An expired lease is free: a crashed holder's work is picked up.
    assert!(store.lease_negotiation("leased", "replica-c", 60_000).await.is_err());
    store.save_negotiation(&n, "replica-b").await.unwrap();
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
            .unwrap();
    }
    store
        .create_negotiation(&negotiation("provider-side", NegotiationRole::Provider, NegotiationState::Requesting, 0))
        .await
        .unwrap();
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
    store.create_negotiation(&n).await.unwrap();
    n.transition(NegotiationState::Requested, 2).unwrap();
    n.transition(NegotiationState::Agreed, 3).unwrap();
    store.save_negotiation(&n, "h").await.unwrap();
    store.save_negotiation(&n, "h").await.unwrap();
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
    store.callback_delivered(&claimed[0].id).await.unwrap();
    store.callback_failed(&claimed[1].id, 1, 0).await.unwrap();
    store.callback_failed(&claimed[2].id, 1, i64::MAX / 2).await.unwrap();
    let again = store.claim_callbacks(10, "other", 60_000).await.unwrap_or_default();
    assert_eq!(
        again.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
        vec![claimed[1].id.clone()],
        "only the due retry"
    );
    assert_eq!(again[0].attempts, 1);
}
