// SPDX-License-Identifier: Apache-2.0
//! The runner on SQLite with a scripted peer and a manual clock: consumer negotiations in VERIFYING, whose one
//! message (the verification) succeeds, fails (unreachable) or is refused as the peer is told to.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use dsc_domain::{Clock, ContractNegotiation, ManualClock, NegotiationRole, NegotiationState};
use dsc_store::contract_tests::negotiation;
use dsc_store::{LeasedStore, NegotiationStore, SqlStore, StoreSettings};
use tokio::sync::{Notify, watch};

use super::RetryPolicy;
use crate::negotiation::{NegotiationManager, NegotiationSettings};
use crate::protocol::{Counterparty, DispatchError, NegotiationDispatcher, NegotiationMessage, NegotiationReply};

const START: i64 = 1_000_000;

#[derive(Clone, Copy)]
enum Peer {
    Accepts,
    Unreachable,
    Refuses,
    /// Not ready yet: EDC's answer to a verification that overtook its own save of AGREED.
    Conflicts,
}

/// Answers as told and records the consumer pids it was sent messages for, in order.
struct ScriptedPeer {
    answer: Mutex<Peer>,
    sent: Mutex<Vec<String>>,
}

impl ScriptedPeer {
    fn new(answer: Peer) -> Arc<Self> {
        Arc::new(ScriptedPeer { answer: Mutex::new(answer), sent: Mutex::new(Vec::new()) })
    }

    fn sent(&self) -> Vec<String> {
        self.sent.lock().map(|sent| sent.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl NegotiationDispatcher for ScriptedPeer {
    async fn send_negotiation(
        &self,
        peer: &Counterparty,
        message: &NegotiationMessage,
    ) -> Result<NegotiationReply, DispatchError> {
        let NegotiationMessage::Verification { consumer_pid, .. } = message else {
            panic!("unexpected message {message:?}");
        };
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(consumer_pid.clone());
        }
        let answer = self.answer.lock().map(|answer| *answer).unwrap_or(Peer::Unreachable);
        match answer {
            Peer::Accepts => Ok(NegotiationReply::Accepted { counter_party_pid: None, state: None }),
            Peer::Unreachable => {
                Err(DispatchError::Unreachable { address: peer.address.clone(), reason: "connection refused".into() })
            }
            Peer::Refuses => Ok(NegotiationReply::Rejected { status: 400, reason: "no such process".into() }),
            Peer::Conflicts => Ok(NegotiationReply::Rejected { status: 409, reason: "cannot be verified".into() }),
        }
    }
}

struct Fixture {
    store: Arc<SqlStore>,
    clock: Arc<ManualClock>,
    peer: Arc<ScriptedPeer>,
    machine: Arc<NegotiationManager>,
    wake: Arc<Notify>,
    _dir: tempfile::TempDir,
}

async fn fixture(peer: Peer, batch_size: u32, retry: RetryPolicy) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = format!("sqlite://{}/s.db?mode=rwc", dir.path().display());
    let store = Arc::new(SqlStore::connect(&StoreSettings::new(url)).await.unwrap_or_else(|e| panic!("{e}")));
    let clock = ManualClock::starting_at(START);
    let peer = ScriptedPeer::new(peer);
    let mut settings = NegotiationSettings::new("did:web:me", "http://me/api/v1/dsp/2025-1");
    settings.holder = "runner".into();
    settings.lease_ms = 10_000;
    settings.consumer.batch_size = batch_size;
    settings.consumer.retry = retry;
    settings.clock = clock.clone();
    let wake = Arc::new(Notify::new());
    let machine = Arc::new(NegotiationManager::new(settings, store.clone(), peer.clone(), wake.clone()));
    Fixture { store, clock, peer, machine, wake, _dir: dir }
}

impl Fixture {
    /// A consumer negotiation waiting to send its verification since `state_timestamp`.
    async fn verifying(&self, id: &str, state_timestamp: i64) {
        let mut verifying = negotiation(id, NegotiationRole::Consumer, NegotiationState::Verifying, state_timestamp);
        verifying.correlation_id = Some(format!("provider-{id}"));
        self.store.create_negotiation(&verifying).await.unwrap_or_else(|e| panic!("{e}"));
    }

    async fn get(&self, id: &str) -> ContractNegotiation {
        let found = self.store.find_negotiation(id).await.unwrap_or_else(|e| panic!("{e}"));
        found.unwrap_or_else(|| panic!("{id} is gone"))
    }

    async fn round(&self) -> usize {
        self.machine.process_due().await.unwrap_or_else(|e| panic!("{e}"))
    }
}

#[test]
fn retries_back_off_exponentially_with_a_cap() {
    // Moved from the negotiation manager, whose fixed 500 ms base is now the default setting.
    let retry_delay = |attempt| RetryPolicy::new(8, 500).delay(attempt);
    assert_eq!([retry_delay(1), retry_delay(2), retry_delay(3)], [500, 1000, 2000]);
    assert_eq!(retry_delay(30), 60_000);
}

#[test]
fn retries_back_off() {
    // Moved from the transfer manager.
    let retry_delay = |attempt, base| RetryPolicy::new(8, base).delay(attempt);
    assert_eq!([retry_delay(1, 500), retry_delay(2, 500), retry_delay(9, 500)], [500, 1000, 60_000]);
    assert_eq!(retry_delay(3, 100), 400);
    assert_eq!(RetryPolicy { limit: 8, base_delay_ms: 100, cap_ms: 300 }.delay(u32::MAX), 300);
}

#[tokio::test]
async fn claims_the_oldest_due_work_first_and_moves_it_on() {
    let f = fixture(Peer::Accepts, 2, RetryPolicy::new(3, 500)).await;
    f.verifying("a", START - 100).await;
    f.verifying("b", START - 300).await;
    f.verifying("c", START - 200).await;
    f.verifying("later", START + 1).await;
    assert_eq!(f.round().await, 2, "one batch");
    assert_eq!(f.round().await, 1);
    assert_eq!(f.round().await, 0, "'later' is not due yet");
    assert_eq!(f.peer.sent(), ["b", "c", "a"]);
    for id in ["a", "b", "c"] {
        let done = f.get(id).await;
        assert_eq!((done.state, done.state_timestamp), (NegotiationState::Verified, START));
    }
    assert_eq!(f.get("later").await.state, NegotiationState::Verifying);
}

#[tokio::test]
async fn a_retried_step_is_not_due_before_its_delay_and_the_delay_doubles_up_to_the_cap() {
    let f = fixture(Peer::Unreachable, 20, RetryPolicy { limit: 10, base_delay_ms: 100, cap_ms: 300 }).await;
    f.verifying("n", START).await;
    let mut delays = Vec::new();
    for attempt in 1..=4 {
        assert_eq!(f.round().await, 1, "attempt {attempt} is due");
        let retried = f.get("n").await;
        assert_eq!((retried.state, retried.state_count), (NegotiationState::Verifying, attempt + 1));
        let delay = retried.state_timestamp - f.clock.now_millis();
        delays.push(delay);
        f.clock.advance(delay - 1);
        assert_eq!(f.round().await, 0, "attempt {} is not due 1 ms early", attempt + 1);
        f.clock.advance(1);
    }
    assert_eq!(delays, [100, 200, 300, 300]);
    assert_eq!(f.peer.sent().len(), 4);
}

#[tokio::test]
async fn gives_up_after_the_retry_limit_with_the_reason() {
    let f = fixture(Peer::Unreachable, 20, RetryPolicy::new(3, 10)).await;
    f.verifying("n", START).await;
    for _ in 0..3 {
        assert_eq!(f.round().await, 1);
        f.clock.advance(1_000);
    }
    let ended = f.get("n").await;
    assert_eq!(ended.state, NegotiationState::Terminated);
    assert_eq!(
        ended.error_detail.as_deref(),
        Some("cannot reach http://peer/api/v1/dsp/2025-1: connection refused"),
        "the last failure is kept"
    );
    assert_eq!(f.round().await, 0);
    assert_eq!(f.peer.sent().len(), 3, "exactly the limit of attempts");
}

#[tokio::test]
async fn a_refusal_ends_the_negotiation_at_once() {
    let f = fixture(Peer::Refuses, 20, RetryPolicy::new(8, 10)).await;
    f.verifying("n", START).await;
    assert_eq!(f.round().await, 1);
    let ended = f.get("n").await;
    assert_eq!(ended.state, NegotiationState::Terminated);
    assert_eq!(ended.error_detail.as_deref(), Some("the counter-party refused (400): no such process"));
    f.clock.advance(60_000);
    assert_eq!(f.round().await, 0);
    assert_eq!(f.peer.sent().len(), 1);
}

#[tokio::test]
async fn a_conflict_is_retried_like_an_unreachable_peer() {
    let f = fixture(Peer::Conflicts, 20, RetryPolicy::new(8, 10)).await;
    f.verifying("n", START).await;
    assert_eq!(f.round().await, 1);
    let waiting = f.get("n").await;
    assert_eq!((waiting.state, waiting.state_count), (NegotiationState::Verifying, 2), "{:?}", waiting.error_detail);
    if let Ok(mut answer) = f.peer.answer.lock() {
        *answer = Peer::Accepts;
    }
    f.clock.advance(60_000);
    assert_eq!(f.round().await, 1);
    assert_eq!(f.get("n").await.state, NegotiationState::Verified);
    assert_eq!(f.peer.sent().len(), 2);
}

#[tokio::test]
async fn a_held_lease_is_not_claimed_and_an_expired_one_is() {
    let f = fixture(Peer::Accepts, 20, RetryPolicy::new(8, 10)).await;
    f.verifying("n", START - 10).await;
    let leased = LeasedStore::<ContractNegotiation>::lease_one(&*f.store, "n", "other replica", 5_000, START)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(leased.is_some());
    assert_eq!(f.round().await, 0, "held by another replica");
    f.clock.set(START + 5_000);
    assert_eq!(f.round().await, 0, "held until its expiry has passed");
    f.clock.advance(1);
    assert_eq!(f.round().await, 1, "the holder crashed: its lease has expired");
    assert_eq!(f.get("n").await.state, NegotiationState::Verified);
}

#[tokio::test]
async fn runs_on_a_wake_up_and_stops_on_shutdown() {
    let f = fixture(Peer::Accepts, 20, RetryPolicy::new(8, 10)).await;
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(f.machine.clone().run(stopped));
    // Long after the runner went idle: only the wake-up (or a one-second iteration wait) brings it back.
    tokio::time::sleep(Duration::from_millis(50)).await;
    f.verifying("n", START).await;
    f.wake.notify_one();
    let verified = tokio::time::timeout(Duration::from_millis(800), async {
        while f.get("n").await.state != NegotiationState::Verified {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(verified.is_ok(), "woken, not polled");
    let _ = stop.send(true);
    let ended = tokio::time::timeout(Duration::from_secs(5), running).await;
    assert!(matches!(ended, Ok(Ok(()))), "stops on shutdown");
}
