// SPDX-License-Identifier: Apache-2.0
//! Transfer processes and the data plane's flows.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

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
        pending: false,
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
        trace_context: Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into()),
        created_at: at,
        updated_at: at,
    }
}

pub async fn transfer_lifecycle_leases_and_events(store: &impl ContractStore) {
    use dsc_domain::TransferState::*;
    let mut t = transfer("t1", NegotiationRole::Provider, Requested, 10);
    store.create_transfer(&t).await.unwrap();
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

    t.transition(Starting, 20).unwrap();
    t.transition(Started, 21).unwrap();
    store.save_transfer(&t, "a").await.unwrap();
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
    store.create_flow(&flow).await.unwrap();
    assert!(matches!(store.create_flow(&flow).await, Err(StoreError::AlreadyExists { .. })));
    flow.state = dsc_domain::DataFlowState::Suspended;
    flow.access_token_id = None;
    store.save_flow(&flow).await.unwrap();
    assert_eq!(store.find_flow("f1").await.ok().flatten(), Some(flow.clone()));
    flow.id = "missing".into();
    assert!(matches!(store.save_flow(&flow).await, Err(StoreError::NotFound { .. })));
}

/// Processes waiting for their operator are never claimed by the state machines, and the flag round-trips.
pub async fn pending_processes_are_not_claimed(store: &impl ContractStore) {
    use dsc_domain::TransferState::Requested;
    let mut held = transfer("held", NegotiationRole::Provider, Requested, 10);
    held.pending = true;
    store.create_transfer(&held).await.unwrap();
    store.create_transfer(&transfer("free", NegotiationRole::Provider, Requested, 11)).await.unwrap();
    assert_eq!(store.find_transfer("held").await.ok().flatten().map(|t| t.pending), Some(true));
    let claimed = store.claim_transfers(NegotiationRole::Provider, &[Requested], 10, "a", 60_000).await;
    assert_eq!(claimed.unwrap_or_default().iter().map(|t| t.id.clone()).collect::<Vec<_>>(), vec!["free"]);
    let mut leased = store.lease_transfer("held", "op", 1000).await.unwrap().unwrap();
    leased.pending = false;
    store.save_transfer(&leased, "op").await.unwrap();
    let claimed = store.claim_transfers(NegotiationRole::Provider, &[Requested], 10, "a", 60_000).await;
    assert_eq!(claimed.unwrap_or_default().iter().map(|t| t.id.clone()).collect::<Vec<_>>(), vec!["held"]);

    let mut negotiation =
        super::negotiation("n-held", NegotiationRole::Provider, dsc_domain::NegotiationState::Requested, 5);
    negotiation.pending = true;
    store.create_negotiation(&negotiation).await.unwrap();
    assert_eq!(store.find_negotiation("n-held").await.ok().flatten().map(|n| n.pending), Some(true));
    let claimed = store
        .claim_negotiations(NegotiationRole::Provider, &[dsc_domain::NegotiationState::Requested], 10, "a", 60_000)
        .await;
    assert!(claimed.unwrap_or_default().is_empty(), "a pending negotiation is left to its operator");
}
