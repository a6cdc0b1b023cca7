// SPDX-License-Identifier: Apache-2.0
//! The policy monitor against a real store: it re-evaluates every running provider transfer, page after page, and
//! moves those whose contract no longer holds to TERMINATING with the reason.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use dsc_controlplane::transfer::{PolicyMonitor, TransferSettings};
use dsc_domain::odrl::{Constraint, ConstraintOperator};
use dsc_domain::{NegotiationRole, TransferProcess, TransferState, namespaces};
use dsc_policy::PolicyEngine;
use dsc_store::TransferStore;
use serde_json::json;
use support::*;

/// A STARTED provider transfer of agreement `agreement_id`.
fn running(id: &str, agreement_id: &str) -> TransferProcess {
    TransferProcess {
        id: id.into(),
        correlation_id: Some(format!("c-{id}")),
        counter_party_id: CONSUMER.into(),
        counter_party_address: "http://consumer/api/v1/dsp/2025-1".into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
        role: NegotiationRole::Provider,
        state: TransferState::Started,
        state_count: 1,
        pending: false,
        state_timestamp: START,
        error_detail: None,
        agreement_id: agreement_id.into(),
        asset_id: "a1".into(),
        transfer_type: "HttpData-PULL".into(),
        data_destination: None,
        data_address_key: None,
        suspended_by: None,
        counter_party_informed: true,
        data_flow_started: true,
        callback_addresses: vec![],
        trace_context: None,
        created_at: START,
        updated_at: START,
    }
}

#[tokio::test]
async fn every_running_transfer_of_an_expired_contract_ends_even_beyond_one_page() {
    let cp = ControlPlane::start().await;
    // Signed in 2023 and in force for one second after signing: long expired.
    let mut expired = agreement("ag-expired", SELF, CONSUMER, "a1");
    expired.policy.permissions[0].constraints.push(Constraint::Atomic {
        left_operand: namespaces::edc("inForceDate"),
        operator: ConstraintOperator::Lteq,
        right_operand: json!("contractAgreement+1s"),
    });
    cp.hold_agreement(expired).await;
    cp.hold_agreement(agreement("ag-open", SELF, CONSUMER, "a1")).await;
    for index in 0..5 {
        cp.store.create_transfer(&running(&format!("t-expired-{index}"), "ag-expired")).await.unwrap();
    }
    cp.store.create_transfer(&running("t-open", "ag-open")).await.unwrap();

    let mut settings = TransferSettings::new(SELF, "http://self/api/v1/dsp/2025-1", "replica-1");
    settings.monitor_page = 2;
    let monitor = PolicyMonitor::new(
        settings,
        cp.store.clone(),
        cp.store.clone(),
        Arc::new(PolicyEngine::with_defaults()),
        Arc::new(tokio::sync::Notify::new()),
    );
    assert_eq!(monitor.round().await.unwrap(), 5, "three pages of two: every expired transfer is seen");

    for index in 0..5 {
        let ended = cp.store.find_transfer(&format!("t-expired-{index}")).await.unwrap().unwrap();
        assert_eq!(ended.state, TransferState::Terminating);
        assert!(!ended.counter_party_informed, "the consumer must still be told");
        let reason = ended.error_detail.unwrap_or_default();
        assert!(reason.starts_with("the contract no longer holds: "), "{reason}");
    }
    let open = cp.store.find_transfer("t-open").await.unwrap().unwrap();
    assert_eq!(open.state, TransferState::Started, "a contract that holds is left running");
    assert_eq!(monitor.round().await.unwrap(), 0, "ended transfers are not ended twice");
}
