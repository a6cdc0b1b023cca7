// SPDX-License-Identifier: Apache-2.0
//! The negotiation services' rules, without HTTP: what the provider accepts as an initial request, and how either
//! role treats the counter-party's later messages and the Management API's calls.
// Test helpers outside `#[test]` functions may unwrap too (clippy.toml allows it only inside them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use dsc_controlplane::negotiation::messages::{
    ContractAgreementMessage, ContractAgreementVerificationMessage, ContractNegotiationFinalizedMessage,
    ContractNegotiationTerminationMessage, ContractRequestMessage,
};
use dsc_controlplane::protocol::Counterparty;
use dsc_controlplane::{ProcessIds, ProtocolError, ServiceError};
use dsc_domain::{ContractNegotiation, ContractOfferId, NegotiationRole, NegotiationState, Offer};
use dsc_store::NegotiationStore;
use support::*;

fn request(consumer_pid: &str, offer_id: &str) -> ContractRequestMessage {
    ContractRequestMessage {
        consumer_pid: consumer_pid.into(),
        callback_address: "http://consumer/api/v1/dsp/2025-1/".into(),
        offer_id: offer_id.into(),
        protocol: "dataspace-protocol-http:2025-1".into(),
    }
}

fn offer_id(definition: &str, asset: &str) -> String {
    ContractOfferId::new(definition, asset, "nonce").to_string()
}

async fn requested(cp: &ControlPlane, consumer_pid: &str) -> ContractNegotiation {
    let message = request(consumer_pid, &offer_id("cd-open", "a1"));
    ok(cp.negotiation_protocol.requested(&agent(CONSUMER, "BPNL1"), message).await)
}

/// A consumer negotiation with a provider (this connector asks `did:web:provider`).
async fn initiated(cp: &ControlPlane) -> ContractNegotiation {
    let peer =
        Counterparty { address: "http://provider/dsp".into(), id: "did:web:provider".into(), protocol: "p".into() };
    let offer = Offer { id: ContractOfferId::new("cd-9", "asset-9", "n"), policy: policy(None) };
    ok(cp.negotiations.initiate(peer, offer, vec![]).await)
}

#[tokio::test]
async fn the_provider_refuses_offers_it_does_not_make_to_this_consumer() {
    let cp = ControlPlane::start().await;
    let bpnl1 = agent(CONSUMER, "BPNL1");
    let refused = |text: &str| Err(ProtocolError::Refused(text.into()));
    let ask = |pid: &str, offer: String| cp.negotiation_protocol.requested(&bpnl1, request(pid, &offer));

    assert_eq!(ask("c1", "not-an-offer".into()).await, refused("'not-an-offer' is not an offer id of this connector"));
    let unknown = offer_id("cd-missing", "a1");
    let text = format!("offer '{unknown}' does not match any contract definition");
    assert_eq!(ask("c2", unknown).await, refused(&text));
    let unselected = offer_id("cd-open", "a3");
    let text = format!("offer '{unselected}' does not match any contract definition");
    assert_eq!(ask("c3", unselected).await, refused(&text), "a3 is not in the definition's group");
    let violation = "policy not satisfied in scope catalog: permission 0 (use): constraint 'BusinessPartnerNumber eq \"BPNL2\"' is not satisfied";
    assert_eq!(ask("c4", offer_id("cd-access", "a1")).await, refused(violation), "access policy");
    let violation = "policy not satisfied in scope contract.negotiation: permission 0 (use): constraint 'BusinessPartnerNumber eq \"BPNL2\"' is not satisfied";
    assert_eq!(ask("c5", offer_id("cd-contract", "a1")).await, refused(violation), "contract policy");
    assert!(ok(cp.negotiations.query(&Default::default()).await).is_empty(), "nothing refused was stored");

    let accepted = ok(cp
        .negotiation_protocol
        .requested(&agent(CONSUMER, "BPNL2"), request("c6", &offer_id("cd-contract", "a1")))
        .await);
    assert_eq!(accepted.state, NegotiationState::Requested);
}

#[tokio::test]
async fn a_request_becomes_a_provider_negotiation_with_the_providers_policy_once() {
    let cp = ControlPlane::start().await;
    let first = requested(&cp, "consumer-pid-1").await;
    assert_eq!((first.role, first.state), (NegotiationRole::Provider, NegotiationState::Requested));
    assert_eq!(first.correlation_id.as_deref(), Some("consumer-pid-1"));
    assert_eq!(first.counter_party_address, "http://consumer/api/v1/dsp/2025-1", "trailing slash dropped");
    assert_eq!(first.state_timestamp, START, "stamped by the service's clock");
    let offer = first.last_offer().map(|o| o.policy.clone()).unwrap_or_else(|| panic!("offer"));
    assert_eq!((offer.assigner.as_deref(), offer.target.as_deref()), (Some(SELF), Some("a1")));

    cp.clock.advance(1_000);
    let again = requested(&cp, "consumer-pid-1").await;
    assert_eq!(again.id, first.id, "a repeated request answers with the first process");
    assert_eq!(ok(cp.negotiations.query(&Default::default()).await).len(), 1);
    let other = requested(&cp, "consumer-pid-2").await;
    assert_ne!(other.id, first.id);
}

#[tokio::test]
async fn later_messages_must_come_from_the_counter_party_and_name_its_process() {
    let cp = ControlPlane::start().await;
    let n = requested(&cp, "cpid").await;
    let verification = |consumer_pid: &str| ContractAgreementVerificationMessage {
        process: ProcessIds::new(consumer_pid, n.id.clone()),
    };
    let stranger = agent(STRANGER, "BPNL1");
    assert_eq!(
        cp.negotiation_protocol.verified(&stranger, verification("cpid")).await,
        Err(ProtocolError::NotFound(n.id.clone()))
    );
    assert_eq!(cp.negotiation_protocol.for_peer(&stranger, &n.id).await, Err(ProtocolError::NotFound(n.id.clone())));
    let consumer = agent(CONSUMER, "BPNL1");
    assert_eq!(
        cp.negotiation_protocol.verified(&consumer, verification("another-pid")).await,
        Err(ProtocolError::InvalidState(format!("the process ids do not match negotiation '{}'", n.id)))
    );
    // Addressed to a consumer process, but ours is the provider's.
    let finalized = ContractNegotiationFinalizedMessage { process: ProcessIds::new(n.id.clone(), "cpid") };
    assert_eq!(
        cp.negotiation_protocol.finalized(&consumer, finalized).await,
        Err(ProtocolError::NotFound(n.id.clone()))
    );
    assert_eq!(
        cp.negotiation_protocol.verified(&consumer, verification("cpid")).await,
        Err(ProtocolError::InvalidState(
            "a verification is only accepted after the agreement (negotiation is REQUESTED)".into()
        ))
    );
    // Every refusal gave the lease back: the state machine can take it at once.
    assert!(ok(cp.store.lease_negotiation(&n.id, "state-machine", 1_000).await).is_some());
}

#[tokio::test]
async fn verification_is_accepted_after_the_agreement_and_repeated_ones_are_acknowledged() {
    let cp = ControlPlane::start().await;
    let n = requested(&cp, "cpid").await;
    force_negotiation(&cp.store, &n.id, |n| {
        n.agreement = Some(agreement("ag-1", SELF, CONSUMER, "a1"));
        ok(n.transition(NegotiationState::Agreeing, START));
    })
    .await;
    let consumer = agent(CONSUMER, "BPNL1");
    let verification = || ContractAgreementVerificationMessage { process: ProcessIds::new("cpid", n.id.clone()) };
    cp.clock.advance(5);
    ok(cp.negotiation_protocol.verified(&consumer, verification()).await);
    let verified = ok(cp.negotiations.find(&n.id).await);
    assert_eq!((verified.state, verified.state_timestamp), (NegotiationState::Verified, START + 5));
    ok(cp.negotiation_protocol.verified(&consumer, verification()).await);
    assert_eq!(ok(cp.negotiations.find(&n.id).await).state, NegotiationState::Verified);
}

#[tokio::test]
async fn the_consumer_checks_the_agreement_against_its_offer() {
    let cp = ControlPlane::start().await;
    let provider = agent("did:web:provider", "BPNL9");
    let n = initiated(&cp).await;
    let message = |agreement| ContractAgreementMessage { process: ProcessIds::new(n.id.clone(), "ppid"), agreement };

    let forged = agreement("ag-1", "did:web:someone-else", SELF, "asset-9");
    assert_eq!(
        cp.negotiation_protocol.agreed(&provider, message(forged)).await,
        Err(ProtocolError::Refused("the agreement's assigner is not the sender".into()))
    );
    let unchanged = ok(cp.negotiations.find(&n.id).await);
    assert_eq!((unchanged.state, unchanged.correlation_id), (NegotiationState::Requesting, None), "nothing kept");

    let finalized = ContractNegotiationFinalizedMessage { process: ProcessIds::new(n.id.clone(), "ppid") };
    assert_eq!(
        cp.negotiation_protocol.finalized(&provider, finalized.clone()).await,
        Err(ProtocolError::InvalidState(
            "FINALIZED is only accepted after the verification (negotiation is REQUESTING)".into()
        ))
    );

    let mut other_terms = agreement("ag-2", "did:web:provider", SELF, "asset-9");
    other_terms.policy = policy(Some("BPNL7"));
    ok(cp.negotiation_protocol.agreed(&provider, message(other_terms)).await);
    let ended = ok(cp.negotiations.find(&n.id).await);
    assert_eq!(ended.state, NegotiationState::Terminating);
    assert_eq!(ended.error_detail.as_deref(), Some("the agreement's policy differs from the offer"));
    assert_eq!(ended.agreement, None);
}

#[tokio::test]
async fn the_consumer_agrees_verifies_and_finalizes() {
    let cp = ControlPlane::start().await;
    let provider = agent("did:web:provider", "BPNL9");
    let n = initiated(&cp).await;
    let process = ProcessIds::new(n.id.clone(), "ppid");
    let agreed = agreement("ag-1", "did:web:provider", SELF, "asset-9");
    let message = ContractAgreementMessage { process: process.clone(), agreement: agreed.clone() };
    ok(cp.negotiation_protocol.agreed(&provider, message.clone()).await);
    let verifying = ok(cp.negotiations.find(&n.id).await);
    assert_eq!(verifying.state, NegotiationState::Verifying);
    assert_eq!(verifying.correlation_id.as_deref(), Some("ppid"), "the provider's id is learnt from the agreement");
    ok(cp.negotiation_protocol.agreed(&provider, message).await);
    assert_eq!(ok(cp.negotiations.find(&n.id).await).state, NegotiationState::Verifying, "a repeat changes nothing");

    let finalized = ContractNegotiationFinalizedMessage { process };
    ok(cp.negotiation_protocol.finalized(&provider, finalized).await);
    assert_eq!(ok(cp.negotiations.find(&n.id).await).state, NegotiationState::Finalized);
    assert_eq!(ok(cp.negotiations.agreement("ag-1").await), agreed);
    assert_eq!(ok(cp.negotiations.negotiation_of_agreement("ag-1").await).id, n.id);
}

#[tokio::test]
async fn termination_rules_for_both_sides() {
    let cp = ControlPlane::start().await;
    let consumer = agent(CONSUMER, "BPNL1");
    let n = requested(&cp, "cpid").await;
    let termination = |reason: Option<&str>| ContractNegotiationTerminationMessage {
        process: ProcessIds::new("cpid", n.id.clone()),
        reason: reason.map(str::to_string),
    };
    ok(cp
        .negotiation_protocol
        .terminated(&consumer, NegotiationRole::Provider, termination(Some("no longer needed")))
        .await);
    let ended = ok(cp.negotiations.find(&n.id).await);
    assert_eq!((ended.state, ended.error_detail.as_deref()), (NegotiationState::Terminated, Some("no longer needed")));
    ok(cp.negotiation_protocol.terminated(&consumer, NegotiationRole::Provider, termination(None)).await);

    let finalized = requested(&cp, "cpid-2").await;
    force_negotiation(&cp.store, &finalized.id, |n| n.state = NegotiationState::Finalized).await;
    let late = ContractNegotiationTerminationMessage {
        process: ProcessIds::new("cpid-2", finalized.id.clone()),
        reason: None,
    };
    assert_eq!(
        cp.negotiation_protocol.terminated(&consumer, NegotiationRole::Provider, late).await,
        Err(ProtocolError::InvalidState("negotiation is already FINALIZED".into()))
    );

    let own = initiated(&cp).await;
    ok(cp.negotiations.terminate(&own.id, "changed my mind").await);
    let terminating = ok(cp.negotiations.find(&own.id).await);
    assert_eq!(
        (terminating.state, terminating.error_detail.as_deref()),
        (NegotiationState::Terminating, Some("changed my mind"))
    );
    match cp.negotiations.terminate(&finalized.id, "too late").await {
        Err(ServiceError::AlreadyExists { kind, id }) => {
            assert_eq!((kind, id), ("ContractNegotiation", format!("{} (already FINALIZED)", finalized.id)))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match cp.negotiations.terminate("no-such-negotiation", "x").await {
        Err(ServiceError::NotFound { kind, id }) => {
            assert_eq!((kind, id.as_str()), ("ContractNegotiation", "no-such-negotiation"))
        }
        other => panic!("expected not found, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_waits_briefly_while_the_state_machine_holds_the_negotiation() {
    let cp = ControlPlane::start().await;
    let consumer = agent(CONSUMER, "BPNL1");
    let termination = |consumer_pid: &str, id: &str| ContractNegotiationTerminationMessage {
        process: ProcessIds::new(consumer_pid, id),
        reason: None,
    };
    let n = requested(&cp, "cpid").await;
    // A lease that runs out while the message waits: the message is applied rather than answered with 503.
    assert!(ok(cp.store.lease_negotiation(&n.id, "state-machine", 200).await).is_some());
    ok(cp.negotiation_protocol.terminated(&consumer, NegotiationRole::Provider, termination("cpid", &n.id)).await);
    assert_eq!(ok(cp.negotiations.find(&n.id).await).state, NegotiationState::Terminated);

    let busy = requested(&cp, "cpid-2").await;
    assert!(ok(cp.store.lease_negotiation(&busy.id, "state-machine", 60_000).await).is_some());
    let answer =
        cp.negotiation_protocol.terminated(&consumer, NegotiationRole::Provider, termination("cpid-2", &busy.id));
    // The store words the refusal; what matters here is the kind (503, try again) and that it is this process.
    match answer.await {
        Err(ProtocolError::Unavailable(reason)) => assert!(reason.contains(&busy.id), "{reason}"),
        other => panic!("expected try-again-later, got {other:?}"),
    }
    assert_eq!(ok(cp.negotiations.find(&busy.id).await).state, NegotiationState::Requested);
}

#[tokio::test]
async fn a_counter_request_stays_on_the_negotiations_asset_and_a_late_acceptance_is_acknowledged() {
    use dsc_controlplane::negotiation::messages::{ContractNegotiationAcceptedMessage, CounterOfferMessage};
    let cp = ControlPlane::start().await;
    let consumer = agent(CONSUMER, "BPNL1");
    let n = requested(&cp, "c-counter").await;
    force_negotiation(&cp.store, &n.id, |n| n.state = NegotiationState::Offered).await;
    let process = ProcessIds::new("c-counter", n.id.clone());
    let counter = |offer_id: &str, target: &str| CounterOfferMessage {
        process: process.clone(),
        offer_id: offer_id.into(),
        target: target.into(),
        policy: policy(None),
    };
    // Another asset named as the target: refused.
    match cp.negotiation_protocol.counter_requested(&consumer, counter(&offer_id("cd-open", "a2"), "a2")).await {
        Err(ProtocolError::Refused(reason)) => {
            assert_eq!(reason, "the counter-request is for asset 'a2', the negotiation for 'a1'")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Another asset hidden in the offer id only: the negotiation's asset stands.
    ok(cp.negotiation_protocol.counter_requested(&consumer, counter(&offer_id("cd-open", "a2"), "")).await);
    let held = ok(cp.negotiations.find(&n.id).await);
    assert_eq!((held.state, held.pending), (NegotiationState::Requested, true));
    assert_eq!(held.last_offer().map(|o| o.id.asset_id.as_str()), Some("a1"));

    // An acceptance repeated after the provider went on is acknowledged, not refused.
    force_negotiation(&cp.store, &n.id, |n| n.state = NegotiationState::Agreed).await;
    let accepted = ContractNegotiationAcceptedMessage { process: process.clone() };
    ok(cp.negotiation_protocol.accepted(&consumer, accepted).await);
    assert_eq!(ok(cp.negotiations.find(&n.id).await).state, NegotiationState::Agreed);
}
