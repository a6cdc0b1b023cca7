// SPDX-License-Identifier: Apache-2.0
//! The transfer services' rules, without HTTP: the provider's acceptance of a request, the Management API's
//! suspend/resume/terminate, the counter-party's messages and the data plane's callbacks.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dsc_controlplane::ProcessIds;
use dsc_controlplane::protocol::Counterparty;
use dsc_controlplane::transfer::messages::{
    TransferCompletionMessage, TransferRequestMessage, TransferStartMessage, TransferSuspensionMessage,
    TransferTerminationMessage,
};
use dsc_controlplane::transfer::{TransferRequest, address_key};
use dsc_controlplane::{ProtocolError, ServiceError};
use dsc_domain::{NegotiationRole, TransferProcess, TransferState};
use support::*;

fn request(consumer_pid: &str, agreement_id: &str, transfer_type: &str) -> TransferRequestMessage {
    TransferRequestMessage {
        consumer_pid: consumer_pid.into(),
        agreement_id: agreement_id.into(),
        transfer_type: transfer_type.into(),
        callback_address: "http://consumer/api/v1/dsp/2025-1".into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
    }
}

/// A provider transfer of `a1` for CONSUMER, REQUESTED.
async fn provider_transfer(cp: &ControlPlane, consumer_pid: &str) -> TransferProcess {
    let message = request(consumer_pid, "ag-p", "HttpData-PULL");
    ok(cp.transfer_protocol.requested(&agent(CONSUMER, "BPNL1"), message).await)
}

/// A consumer transfer from `did:web:provider`, REQUESTING.
async fn consumer_transfer(cp: &ControlPlane) -> TransferProcess {
    ok(cp.transfers.initiate(consumer_transfer_request()).await)
}

async fn control_plane() -> ControlPlane {
    let cp = ControlPlane::start().await;
    cp.hold_agreement(agreement("ag-p", SELF, CONSUMER, "a1")).await;
    cp.hold_agreement(agreement("ag-s3", SELF, CONSUMER, "a3")).await;
    cp.hold_agreement(agreement("ag-c", "did:web:provider", SELF, "asset-9")).await;
    cp
}

fn conflict(result: Result<(), ServiceError>) -> String {
    match result {
        Err(ServiceError::AlreadyExists { kind: "TransferProcess", id }) => id,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

fn not_found(result: Result<(), ServiceError>) -> String {
    match result {
        Err(ServiceError::NotFound { kind: "TransferProcess", id }) => id,
        other => panic!("expected not found, got {other:?}"),
    }
}

#[tokio::test]
async fn the_provider_accepts_requests_only_under_its_agreements_with_the_sender() {
    let cp = control_plane().await;
    let consumer = agent(CONSUMER, "BPNL1");
    let refused = |text: &str| Err(ProtocolError::Refused(text.into()));
    let ask = |who, message| cp.transfer_protocol.requested(who, message);

    assert_eq!(ask(&consumer, request("c1", "nope", "HttpData-PULL")).await, refused("agreement 'nope' is unknown"));
    let stranger = agent(STRANGER, "BPNL1");
    assert_eq!(ask(&stranger, request("c2", "ag-p", "HttpData-PULL")).await, refused("agreement 'ag-p' is unknown"));
    assert_eq!(
        ask(&consumer, request("c3", "ag-c", "HttpData-PULL")).await,
        refused("agreement 'ag-c' is unknown"),
        "we are its consumer"
    );
    assert_eq!(
        ask(&consumer, request("c4", "ag-p", "AmazonS3-PUSH")).await,
        refused("transfer type 'AmazonS3-PUSH' is not supported; supported: HttpData-PULL, HttpData-PUSH")
    );
    assert_eq!(
        ask(&consumer, request("c5", "ag-s3", "HttpData-PULL")).await,
        refused("transfer type 'HttpData-PULL' does not fit asset 'a3' (data address type 'AmazonS3')")
    );

    let first = provider_transfer(&cp, "c6").await;
    assert_eq!(
        (first.role, first.state, first.state_timestamp),
        (NegotiationRole::Provider, TransferState::Requested, START)
    );
    assert_eq!((first.correlation_id.as_deref(), first.asset_id.as_str()), (Some("c6"), "a1"));
    assert_eq!(provider_transfer(&cp, "c6").await.id, first.id, "a repeated request answers with the first process");
    assert_eq!(ok(cp.transfers.query(&Default::default()).await).len(), 1);
}

#[tokio::test]
async fn the_management_api_suspends_resumes_and_terminates_by_the_rules() {
    let cp = control_plane().await;
    let t = provider_transfer(&cp, "c1").await;
    assert_eq!(
        conflict(cp.transfers.suspend(&t.id, "pause").await),
        format!("{}: only a STARTED transfer can be suspended (it is REQUESTED)", t.id)
    );
    assert_eq!(
        conflict(cp.transfers.resume(&t.id).await),
        format!("{}: only a SUSPENDED transfer can be resumed (it is REQUESTED)", t.id)
    );

    force_transfer(&cp.store, &t.id, |t| t.state = TransferState::Started).await;
    cp.clock.advance(7);
    ok(cp.transfers.suspend(&t.id, "pause").await);
    let suspending = ok(cp.transfers.find(&t.id).await);
    assert_eq!(
        (suspending.state, suspending.suspended_by),
        (TransferState::Suspending, Some(NegotiationRole::Provider))
    );
    assert_eq!((suspending.error_detail.as_deref(), suspending.state_timestamp), (Some("pause"), START + 7));

    force_transfer(&cp.store, &t.id, |t| {
        t.state = TransferState::Suspended;
        t.suspended_by = Some(NegotiationRole::Consumer);
    })
    .await;
    assert_eq!(
        conflict(cp.transfers.resume(&t.id).await),
        format!("{}: only the party that suspended a transfer may resume it", t.id)
    );
    force_transfer(&cp.store, &t.id, |t| t.suspended_by = Some(NegotiationRole::Provider)).await;
    ok(cp.transfers.resume(&t.id).await);
    assert_eq!(ok(cp.transfers.find(&t.id).await).state, TransferState::Resuming);

    ok(cp.transfers.terminate(&t.id, "done").await);
    assert_eq!(ok(cp.transfers.find(&t.id).await).state, TransferState::Terminating);
    assert_eq!(
        conflict(cp.transfers.terminate(&t.id, "again").await),
        format!("{}: the transfer has already ended (TERMINATING)", t.id)
    );
    assert_eq!(not_found(cp.transfers.suspend("no-such-transfer", "x").await), "no-such-transfer");
    assert!(matches!(cp.transfers.find("no-such-transfer").await, Err(ServiceError::NotFound { .. })));
}

#[tokio::test]
async fn data_plane_callbacks_concern_known_provider_transfers() {
    let cp = control_plane().await;
    assert_eq!(not_found(cp.flows.flow_started("nope", Some(edr("t1"))).await), "nope");
    assert_eq!(not_found(cp.flows.flow_completed("nope").await), "nope");
    assert_eq!(not_found(cp.flows.flow_errored("nope", "boom").await), "nope");
    let own = consumer_transfer(&cp).await;
    assert_eq!(not_found(cp.flows.flow_started(&own.id, None).await), own.id, "a consumer transfer has no flow here");

    let t = provider_transfer(&cp, "c1").await;
    assert_eq!(
        conflict(cp.flows.flow_completed(&t.id).await),
        format!("{}: only a STARTED transfer can complete (it is REQUESTED)", t.id)
    );
    // Waiting for the data plane's callback, as the manager leaves an asynchronous start.
    force_transfer(&cp.store, &t.id, |t| t.pending = true).await;
    cp.clock.advance(3);
    ok(cp.flows.flow_started(&t.id, Some(edr("first"))).await);
    let started = ok(cp.transfers.find(&t.id).await);
    assert!(started.data_flow_started);
    assert!(!started.pending, "the callback wakes the transfer for the manager");
    assert_eq!(started.data_address_key, Some(address_key(&t.id)));
    assert_eq!(started.state_timestamp, START + 3, "due now, for the manager to deliver the address");
    let kept = ok(cp.vault.resolve(&address_key(&t.id)).await).map(|s| s.expose().to_string());
    assert!(kept.is_some_and(|text| text.contains("first")));

    ok(cp.flows.flow_errored(&t.id, "boom").await);
    assert_eq!(ok(cp.transfers.find(&t.id).await).error_detail.as_deref(), Some("data plane: boom"));

    // An asynchronous start that fails ends the waiting transfer: nothing else would move it on.
    let waiting = provider_transfer(&cp, "c-async").await;
    force_transfer(&cp.store, &waiting.id, |t| {
        t.pending = true;
        t.data_flow_started = true;
    })
    .await;
    ok(cp.flows.flow_errored(&waiting.id, "no broker").await);
    let ended = ok(cp.transfers.find(&waiting.id).await);
    assert_eq!((ended.state, ended.pending), (TransferState::Terminating, false));
    assert_eq!(ended.error_detail.as_deref(), Some("data plane: no broker"));

    force_transfer(&cp.store, &t.id, |t| t.state = TransferState::Started).await;
    let late = cp.flows.flow_started(&t.id, Some(edr("second"))).await;
    assert_eq!(conflict(late), format!("{}: no start is pending (the transfer is STARTED)", t.id));
    let kept = ok(cp.vault.resolve(&address_key(&t.id)).await).map(|s| s.expose().to_string());
    assert!(kept.is_some_and(|text| text.contains("first")), "a refused start leaves the address alone");
    ok(cp.flows.flow_completed(&t.id).await);
    assert_eq!(ok(cp.transfers.find(&t.id).await).state, TransferState::Completing);
}

#[tokio::test]
async fn the_consumer_keeps_the_providers_address_while_started_and_forgets_it_on_suspension() {
    let cp = control_plane().await;
    let provider = agent("did:web:provider", "BPNL9");
    let bad = TransferRequest { agreement_id: "ag-p".into(), ..consumer_transfer_request() };
    match cp.transfers.initiate(bad).await {
        Err(ServiceError::InvalidQuery { message, path }) => {
            assert_eq!(
                (message.as_str(), path.as_str()),
                ("this connector is not the consumer of agreement ag-p", "contractId")
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let t = consumer_transfer(&cp).await;
    let process = ProcessIds::new(t.id.clone(), "ppid");
    let start = |data_address| TransferStartMessage { process: process.clone(), data_address };
    let role = NegotiationRole::Consumer;

    let stranger = agent(STRANGER, "BPNL1");
    assert_eq!(
        cp.transfer_protocol.started(&stranger, role, start(Some(edr("x")))).await,
        Err(ProtocolError::NotFound(t.id.clone()))
    );
    assert_eq!(
        cp.transfer_protocol.started(&provider, role, start(None)).await,
        Err(ProtocolError::Refused("a pull transfer's start message must carry a dataAddress".into()))
    );
    assert_eq!(ok(cp.transfers.find(&t.id).await).state, TransferState::Requesting, "refusals change nothing");
    ok(cp.transfer_protocol.started(&provider, role, start(Some(edr("secret-1")))).await);
    let started = ok(cp.transfers.find(&t.id).await);
    assert_eq!((started.state, started.correlation_id.as_deref()), (TransferState::Started, Some("ppid")));
    assert_eq!(ok(cp.transfers.data_address(&t.id).await), Some(edr("secret-1")));

    let mismatch =
        TransferStartMessage { process: ProcessIds::new(t.id.clone(), "other"), data_address: Some(edr("y")) };
    assert_eq!(
        cp.transfer_protocol.started(&provider, role, mismatch).await,
        Err(ProtocolError::InvalidState(format!("the process ids do not match transfer '{}'", t.id)))
    );

    let suspension = TransferSuspensionMessage {
        process: process.clone(),
        reason: Some("suspended by the counter-party: maintenance".into()),
    };
    ok(cp.transfer_protocol.suspended(&provider, role, suspension).await);
    let suspended = ok(cp.transfers.find(&t.id).await);
    assert_eq!((suspended.state, suspended.suspended_by), (TransferState::Suspended, Some(NegotiationRole::Provider)));
    assert_eq!(ok(cp.transfers.data_address(&t.id).await), None);
    assert!(ok(cp.vault.resolve(&address_key(&t.id)).await).is_none(), "the EDR left the vault");
    assert_eq!(
        conflict(cp.transfers.resume(&t.id).await),
        format!("{}: only the party that suspended a transfer may resume it", t.id)
    );

    ok(cp
        .transfer_protocol
        .terminated(&provider, role, TransferTerminationMessage { process: process.clone(), reason: None })
        .await);
    let ended = ok(cp.transfers.find(&t.id).await);
    assert_eq!(
        (ended.state, ended.error_detail.as_deref()),
        (TransferState::Terminated, Some("terminated by the counter-party"))
    );
    assert_eq!(
        cp.transfer_protocol.completed(&provider, role, TransferCompletionMessage { process }).await,
        Err(ProtocolError::InvalidState("only a STARTED transfer can complete (it is TERMINATED)".into()))
    );
}

#[tokio::test]
async fn only_the_party_that_suspended_may_resume_through_a_start_message() {
    let cp = control_plane().await;
    let consumer = agent(CONSUMER, "BPNL1");
    let t = provider_transfer(&cp, "cpid").await;
    let start = || TransferStartMessage { process: ProcessIds::new("cpid", t.id.clone()), data_address: None };
    let role = NegotiationRole::Provider;
    assert_eq!(
        cp.transfer_protocol.started(&consumer, role, start()).await,
        Err(ProtocolError::InvalidState("only a SUSPENDED transfer can be resumed (it is REQUESTED)".into()))
    );
    force_transfer(&cp.store, &t.id, |t| {
        t.state = TransferState::Suspended;
        t.suspended_by = Some(NegotiationRole::Provider);
    })
    .await;
    assert_eq!(
        cp.transfer_protocol.started(&consumer, role, start()).await,
        Err(ProtocolError::InvalidState(
            "the provider suspended this transfer; only the provider may resume it".into()
        ))
    );
    force_transfer(&cp.store, &t.id, |t| t.suspended_by = Some(NegotiationRole::Consumer)).await;
    ok(cp.transfer_protocol.started(&consumer, role, start()).await);
    assert_eq!(ok(cp.transfers.find(&t.id).await).state, TransferState::Starting);
}

fn consumer_transfer_request() -> TransferRequest {
    let provider =
        Counterparty { address: "http://provider/dsp".into(), id: "did:web:provider".into(), protocol: "p".into() };
    TransferRequest {
        provider,
        agreement_id: "ag-c".into(),
        transfer_type: "HttpData-PULL".into(),
        data_destination: None,
        callback_addresses: vec![],
    }
}
