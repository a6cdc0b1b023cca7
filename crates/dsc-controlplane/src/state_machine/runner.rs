// SPDX-License-Identifier: Apache-2.0
//! The runner: claims due entities per lane and processes each with the processor, pipelined.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use dsc_store::{LeasedStore, StoreError};
use tokio::sync::{Notify, Semaphore, watch};
use tracing::Instrument;

use super::{Lane, Processor, RunnerSettings, StateEntity, StateOf, Step};

/// No retry of ours is scheduled.
const NONE_DUE: i64 = i64::MAX;

pub struct StateMachine<P: Processor> {
    processor: P,
    store: Arc<dyn LeasedStore<P::Entity>>,
    lanes: Vec<Lane<StateOf<P>>>,
    settings: RunnerSettings,
    wake: Arc<Notify>,
    /// The earliest retry this runner scheduled: it wakes for it rather than waiting out a whole iteration.
    next_due: AtomicI64,
    /// A database that is down fails every claim and every save: one warning a minute says so.
    failures: dsc_telemetry::LogLimiter,
}

impl<P: Processor> StateMachine<P> {
    pub fn assemble(
        processor: P,
        store: Arc<dyn LeasedStore<P::Entity>>,
        lanes: Vec<Lane<StateOf<P>>>,
        settings: RunnerSettings,
        wake: Arc<Notify>,
    ) -> Self {
        StateMachine {
            processor,
            store,
            lanes,
            settings,
            wake,
            next_due: AtomicI64::new(NONE_DUE),
            failures: dsc_telemetry::LogLimiter::new(Duration::from_secs(60)),
        }
    }

    pub fn processor(&self) -> &P {
        &self.processor
    }

    /// Runs until `shutdown` turns true, then lets the entities in flight finish (bounded by their leases).
    ///
    /// Work is pipelined: up to a lane's `batch_size` entities are in flight at once, and a free slot is refilled
    /// as soon as one finishes, so a slow peer holds up only its own entity and never a whole batch.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let kind = self.processor.kind();
        tracing::info!(holder = %self.settings.holder, "{kind} state machine started");
        let slots: Vec<(Arc<Semaphore>, u32)> = self
            .lanes
            .iter()
            .map(|lane| {
                let capacity = lane.batch_size.max(1);
                (Arc::new(Semaphore::new(capacity as usize)), capacity)
            })
            .collect();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed = self.claim_into(&slots).await;
            if claimed && slots.iter().any(|(slots, _)| slots.available_permits() > 0) {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.wait()) => {}
                _ = shutdown.changed() => {}
            }
        }
        let lease = Duration::from_millis(u64::try_from(self.settings.lease_ms).unwrap_or(0));
        let drain = async {
            for (slots, capacity) in &slots {
                let _ = slots.acquire_many(*capacity).await;
            }
        };
        if tokio::time::timeout(lease, drain).await.is_err() {
            tracing::warn!("stopped with {kind}s still in flight; their leases expire and another run retries them");
        }
        tracing::info!("{kind} state machine stopped");
    }

    /// One round without the pipeline: claims up to each lane's batch and processes the claimed entities one after
    /// the other, oldest first. Returns how many were processed.
    pub async fn process_due(&self) -> Result<usize, StoreError> {
        let mut processed = 0;
        for index in 0..self.lanes.len() {
            for entity in self.claim(index, self.lanes[index].batch_size.max(1)).await? {
                self.process_one(index, entity).await?;
                processed += 1;
            }
        }
        Ok(processed)
    }

    /// The iteration wait, or less when a retry of ours falls due sooner.
    fn wait(&self) -> Duration {
        let now = self.settings.clock.now_millis();
        let due = self.next_due.load(Ordering::SeqCst);
        if due <= now {
            // Due already: the next claim takes it, so forget it (unless a sooner one replaced it meanwhile).
            let _ = self.next_due.compare_exchange(due, NONE_DUE, Ordering::SeqCst, Ordering::SeqCst);
            return Duration::ZERO;
        }
        let until_due = Duration::from_millis(u64::try_from(due.saturating_sub(now)).unwrap_or(u64::MAX));
        until_due.min(self.settings.iteration_wait)
    }

    async fn claim(&self, index: usize, limit: u32) -> Result<Vec<P::Entity>, StoreError> {
        let lane = &self.lanes[index];
        let now = self.settings.clock.now_millis();
        self.store.claim_due(lane.role, &lane.states, limit, &self.settings.holder, self.settings.lease_ms, now).await
    }

    /// Claims due entities for the free slots of every lane and starts processing each; true when any was claimed.
    async fn claim_into(self: &Arc<Self>, slots: &[(Arc<Semaphore>, u32)]) -> bool {
        let mut claimed_any = false;
        for (index, (lane_slots, _)) in slots.iter().enumerate() {
            let free = lane_slots.available_permits();
            if free == 0 {
                continue;
            }
            let claimed = match self.claim(index, u32::try_from(free).unwrap_or(u32::MAX)).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    let kind = self.processor.kind();
                    tracing::debug!("claiming {kind}s failed: {error}");
                    if let Some(held_back) = self.failures.allow() {
                        tracing::warn!(
                            held_back,
                            "claiming {kind}s failed (repeats are logged once a minute): {error}"
                        );
                    }
                    continue;
                }
            };
            for entity in claimed {
                // This loop is the only place that takes slots, and at most `free` were claimed.
                let Ok(slot) = Arc::clone(lane_slots).try_acquire_owned() else { break };
                claimed_any = true;
                let machine = Arc::clone(self);
                tokio::spawn(async move {
                    let id = entity.id().to_string();
                    if let Err(error) = machine.process_one(index, entity).await {
                        let kind = machine.processor.kind();
                        tracing::debug!(id = %id, "processing the {kind} failed: {error}");
                        if let Some(held_back) = machine.failures.allow() {
                            tracing::warn!(id = %id, held_back, "processing the {kind} failed, the lease will expire and it is retried (repeats are logged once a minute): {error}");
                        }
                    }
                    drop(slot);
                    // A slot is free again: the loop may be waiting for one.
                    machine.wake.notify_one();
                });
            }
        }
        claimed_any
    }

    /// Processes one claimed entity in a span that continues the trace of the request that began it.
    async fn process_one(&self, index: usize, entity: P::Entity) -> Result<(), StoreError> {
        let span =
            dsc_telemetry::step_span(self.processor.kind(), entity.state_name(), entity.id(), entity.trace_context());
        self.step(index, entity).instrument(span).await
    }

    async fn step(&self, index: usize, mut entity: P::Entity) -> Result<(), StoreError> {
        let kind = self.processor.kind();
        let retry = self.lanes[index].retry;
        let state = entity.state_name();
        let started = std::time::Instant::now();
        let step = self.processor.process(&mut entity).await;
        metrics::histogram!("dsc_state_machine_step_seconds", "kind" => kind, "state" => state)
            .record(started.elapsed().as_secs_f64());
        let outcome = match &step {
            Step::To(_) => "advanced",
            Step::Retry(_) if entity.state_count() < retry.limit => "retried",
            Step::Retry(_) | Step::Fail(_) => "failed",
        };
        metrics::counter!("dsc_state_machine_steps_total", "kind" => kind, "state" => state, "outcome" => outcome)
            .increment(1);
        let now = self.settings.clock.now_millis();
        let release = match step {
            Step::To(next) => self.processor.advance(&mut entity, next, now),
            Step::Retry(reason) if entity.state_count() < retry.limit => {
                let delay = retry.delay(entity.state_count());
                entity.schedule_retry(now, now.saturating_add(delay));
                self.next_due.fetch_min(now.saturating_add(delay), Ordering::SeqCst);
                tracing::info!(id = %entity.id(), attempt = entity.state_count(), delay_ms = delay, "{kind} will retry: {reason}");
                false
            }
            Step::Retry(reason) | Step::Fail(reason) => {
                tracing::warn!(id = %entity.id(), state = entity.state_name(), "{kind} ends: {reason}");
                self.processor.give_up(&mut entity, reason, now)
            }
        };
        self.store.save_leased(&entity, &self.settings.holder, now).await?;
        if release {
            self.processor.release(&entity).await;
        }
        if !entity.is_terminal() {
            self.wake.notify_one();
        }
        Ok(())
    }
}
