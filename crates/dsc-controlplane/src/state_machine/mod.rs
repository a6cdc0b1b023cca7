// SPDX-License-Identifier: Apache-2.0
//! The one leased state-machine engine behind contract negotiations and transfer processes (EDC's state entity
//! manager).
//!
//! The [`StateMachine`] runner owns everything the two have in common: claiming due work oldest first under a
//! lease, a pipeline of in-flight entities per lane, waking on notify or after the iteration wait, retries with
//! exponential backoff, giving up after the retry limit, draining on shutdown. A [`Processor`] says only what one
//! entity's step is: which states of which role are work ([`Lane`]), and what to do with one entity.

mod entity;
mod runner;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod transfer_tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dsc_domain::{Clock, NegotiationRole};
use dsc_store::LeasedEntity;

pub use entity::StateEntity;
pub use runner::StateMachine;

/// The state of the entity a processor handles.
pub type StateOf<P> = <<P as Processor>::Entity as LeasedEntity>::State;

/// What one step of an entity came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<S> {
    /// Move to the state and save.
    To(S),
    /// Try again later: the peer was unreachable or answered 5xx, or a resource is not ready yet.
    Retry(String),
    /// The peer refused (4xx) or the step cannot succeed: the entity ends at once.
    Fail(String),
}

/// Retries back off exponentially: `base_delay_ms`, twice that, ... up to `cap_ms`; after `limit` attempts at one
/// state the entity is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per state, the first one included.
    pub limit: u32,
    pub base_delay_ms: i64,
    pub cap_ms: i64,
}

impl RetryPolicy {
    /// The cap EDC's exponential retry strategy uses as well.
    pub const DEFAULT_CAP_MS: i64 = 60_000;

    pub fn new(limit: u32, base_delay_ms: i64) -> Self {
        RetryPolicy { limit, base_delay_ms, cap_ms: Self::DEFAULT_CAP_MS }
    }

    /// The delay before attempt `attempt + 1`, when `attempt` attempts (1 or more) have failed.
    pub fn delay(&self, attempt: u32) -> i64 {
        let exponent = attempt.saturating_sub(1).min(62);
        let factor = 1_i64.checked_shl(exponent).unwrap_or(i64::MAX);
        self.base_delay_ms.max(1).saturating_mul(factor).min(self.cap_ms.max(1))
    }
}

/// The states of one role a processor has work in, and how that work is run.
#[derive(Debug, Clone)]
pub struct Lane<S> {
    pub role: NegotiationRole,
    pub states: Vec<S>,
    /// Entities of this lane in flight at once (EDC's `batch-size`).
    pub batch_size: u32,
    pub retry: RetryPolicy,
}

/// How a runner is run, whatever it processes.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// Identifies this replica in leases.
    pub holder: String,
    /// How long a claimed entity stays leased; also bounds the drain on shutdown.
    pub lease_ms: i64,
    /// Without a wake-up, look for due work (expired leases of crashed holders, other replicas' retries) this
    /// often (EDC's `iteration-wait-millis`).
    pub iteration_wait: Duration,
    pub clock: Arc<dyn Clock>,
}

/// One kind of entity's step, plugged into the [`StateMachine`].
#[async_trait]
pub trait Processor: Send + Sync + 'static {
    type Entity: StateEntity;

    /// What the entities are called in logs (`negotiation`, `transfer`).
    fn kind(&self) -> &'static str;

    /// Does the work the entity's state stands for (sends a message, signals the data plane).
    async fn process(&self, entity: &mut Self::Entity) -> Step<StateOf<Self>>;

    /// Moves the entity to `next` at `now`. True when the entity's resources are to be released once saved.
    fn advance(&self, entity: &mut Self::Entity, next: StateOf<Self>, now: i64) -> bool;

    /// Ends the entity after a refusal or the last failed attempt, keeping `reason` in its error detail. True when
    /// the entity's resources are to be released once saved.
    fn give_up(&self, entity: &mut Self::Entity, reason: String, now: i64) -> bool;

    /// Releases what the entity held outside the store, after the save that ended its use.
    async fn release(&self, _entity: &Self::Entity) {}
}
