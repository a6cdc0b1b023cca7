// SPDX-License-Identifier: Apache-2.0
//! Log lines that a flood could repeat (a peer sending bad tokens, a database that is down) are written at most once
//! per interval, saying how many were held back; the detail of each stays at debug.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Lets one line through per interval and counts the lines it held back.
pub struct LogLimiter {
    every_ms: u64,
    /// Milliseconds since the process's first use of any limiter at which the next line may be written.
    next_ms: AtomicU64,
    held: AtomicU64,
}

fn elapsed_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl LogLimiter {
    pub const fn new(every: Duration) -> Self {
        // A Duration of more than u64::MAX ms is not a log interval; saturate rather than fail.
        let every_ms = if every.as_millis() > u64::MAX as u128 { u64::MAX } else { every.as_millis() as u64 };
        LogLimiter { every_ms, next_ms: AtomicU64::new(0), held: AtomicU64::new(0) }
    }

    /// `Some(held back)` when a line may be written now (with how many were held back since the last one), `None`
    /// when this one is held back.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(elapsed_ms())
    }

    fn allow_at(&self, now_ms: u64) -> Option<u64> {
        let next = self.next_ms.load(Ordering::Relaxed);
        if now_ms >= next
            && self
                .next_ms
                .compare_exchange(next, now_ms.saturating_add(self.every_ms), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.held.swap(0, Ordering::Relaxed));
        }
        self.held.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_and_the_count_of_those_held_back() {
        let limiter = LogLimiter::new(Duration::from_secs(60));
        assert_eq!(limiter.allow_at(1_000), Some(0), "the first line is written");
        assert_eq!(limiter.allow_at(1_001), None);
        assert_eq!(limiter.allow_at(60_999), None);
        assert_eq!(limiter.allow_at(61_000), Some(2), "a minute later, saying two were held back");
        assert_eq!(limiter.allow_at(61_001), None);
        assert_eq!(limiter.allow_at(200_000), Some(1));
    }
}
