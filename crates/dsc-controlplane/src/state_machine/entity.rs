// SPDX-License-Identifier: Apache-2.0
//! What the runner reads and changes on any entity it processes.

use dsc_domain::{ContractNegotiation, TransferProcess};
use dsc_store::LeasedEntity;

pub trait StateEntity: LeasedEntity + Clone {
    fn id(&self) -> &str;
    fn state_name(&self) -> &'static str;
    /// How many attempts the current state has had (1 for the first).
    fn state_count(&self) -> u32;
    fn is_terminal(&self) -> bool;
    /// Counts another attempt at the current state, due at `due`: claims only take due work, so a future state
    /// timestamp is what schedules the retry.
    fn schedule_retry(&mut self, now: i64, due: i64);
    /// The trace the process's steps continue (see `dsc_telemetry`).
    fn trace_context(&self) -> Option<&str>;
}

macro_rules! state_entity {
    ($entity:ty) => {
        impl StateEntity for $entity {
            fn id(&self) -> &str {
                &self.id
            }

            fn state_name(&self) -> &'static str {
                self.state.name()
            }

            fn state_count(&self) -> u32 {
                self.state_count
            }

            fn is_terminal(&self) -> bool {
                self.state.is_terminal()
            }

            fn trace_context(&self) -> Option<&str> {
                self.trace_context.as_deref()
            }

            fn schedule_retry(&mut self, now: i64, due: i64) {
                // What `transition` to the same state does, without its rule check: a retry is no state change,
                // and an attempt that went uncounted would be retried forever.
                self.state_count = self.state_count.saturating_add(1);
                self.updated_at = now;
                self.state_timestamp = due;
            }
        }
    };
}

state_entity!(ContractNegotiation);
state_entity!(TransferProcess);
