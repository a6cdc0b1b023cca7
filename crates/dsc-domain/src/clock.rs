// SPDX-License-Identifier: Apache-2.0
//! The one notion of "now" the connector uses for state timestamps, leases, expiries and retries.
//!
//! Components take an `Arc<dyn Clock>` instead of reading the system time themselves, so a test can move time
//! forward (an expired lease, a retry that is due, a token past its expiry) without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Wall-clock time as epoch milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_millis(&self) -> i64;

    /// Epoch seconds, as JWT `iat`/`exp` claims need them.
    fn now_seconds(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        system_now_millis()
    }
}

/// The system clock behind the trait object most constructors take.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// Epoch milliseconds from the system clock, for code that has no clock handed to it (the CLI, benchmarks).
/// A system clock before 1970 reads as 0 and one past the year 292 million as `i64::MAX`: neither happens.
pub fn system_now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// Epoch seconds from the system clock, as JWT claims need them.
pub fn system_now_seconds() -> i64 {
    system_now_millis().div_euclid(1000)
}

/// A clock that moves only when told to: for tests of expiry, leases and retry schedules.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn starting_at(millis: i64) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(millis)))
    }

    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    pub fn set(&self, millis: i64) {
        self.0.store(millis, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_millis(), 1_000);
        clock.advance(1_500);
        assert_eq!((clock.now_millis(), clock.now_seconds()), (2_500, 2));
        clock.set(-1);
        assert_eq!(clock.now_seconds(), -1, "seconds round towards negative infinity, as epoch seconds must");
    }

    #[test]
    fn the_system_clock_reads_after_2020() {
        assert!(SystemClock.now_millis() > 1_577_836_800_000);
    }
}
