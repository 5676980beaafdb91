//! How long a failed sync waits before it runs again, per key, as
//! upstream's default workqueue rate limiter: 5 ms doubling with each
//! consecutive failure up to 1,000 s, forgotten on the first success. A
//! conflict (409) is not a failure: the object changed under the sync,
//! which runs again at once on the new version.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The first wait after a failure.
pub const BASE_DELAY: Duration = Duration::from_millis(5);
/// The longest wait.
pub const MAX_DELAY: Duration = Duration::from_secs(1000);
/// The wait before a sync that lost a conflict runs again.
pub const CONFLICT_DELAY: Duration = Duration::from_millis(10);

/// The consecutive failures of each key.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(BASE_DELAY, MAX_DELAY)
    }
}

impl Backoff {
    /// Waits from `base`, doubling, to at most `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// One more failure of `key`: how long it waits now.
    pub fn failed(&self, key: &str) -> Duration {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(key.to_string()).or_insert(0);
        let delay = delay(self.base, self.max, *count);
        *count = count.saturating_add(1);
        delay
    }

    /// `key` synced: its next failure waits the base delay again.
    pub fn succeeded(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(key);
    }

    /// The consecutive failures of `key`.
    pub fn failures(&self, key: &str) -> u32 {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.get(key).copied().unwrap_or(0)
    }
}

/// `base * 2^failures`, at most `max`.
fn delay(base: Duration, max: Duration, failures: u32) -> Duration {
    let factor = 2u32.checked_pow(failures).unwrap_or(u32::MAX);
    base.checked_mul(factor).map_or(max, |d| d.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_double_the_wait_up_to_the_cap_and_a_success_resets_it() {
        let backoff = Backoff::default();
        let waits: Vec<_> = (0..4).map(|_| backoff.failed("default/web")).collect();
        let ms = Duration::from_millis;
        assert_eq!(waits, [ms(5), ms(10), ms(20), ms(40)]);
        // Another key keeps its own count.
        assert_eq!(backoff.failed("default/db"), ms(5));
        for _ in 0..40 {
            backoff.failed("default/web");
        }
        assert_eq!(backoff.failed("default/web"), MAX_DELAY);
        backoff.succeeded("default/web");
        assert_eq!(backoff.failures("default/web"), 0);
        assert_eq!(backoff.failed("default/web"), ms(5));
    }
}
