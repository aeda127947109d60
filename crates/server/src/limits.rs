//! Rate limits per key (a client address, a dossier code): `governor`'s GCRA, which lets a
//! burst of the whole per-minute budget through and then one more every `60 / n` seconds,
//! and says how long to wait (the `Retry-After` of a 429).

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keys kept before those whose budget is whole again are forgotten (bounds memory under
/// a flood of addresses or made-up codes).
const MAX_KEYS: usize = 100_000;

/// A per-minute budget per key.
pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("keys", &self.inner.len()).finish()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_minute` events per key per minute (at least 1).
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            inner: RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts one event for `key`: `Err(wait)` when its budget is used up (the event is not
    /// counted), with how long until the next one is allowed, rounded up to whole seconds.
    pub fn count(&self, key: &K) -> Result<(), Duration> {
        if self.inner.len() > MAX_KEYS {
            self.inner.retain_recent();
        }
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(Duration::from_secs(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_budget_then_a_wait_and_keys_are_apart() {
        let l = Limiter::per_minute(3);
        for _ in 0..3 {
            assert_eq!(l.count(&"a"), Ok(()));
        }
        let wait = l.count(&"a").expect_err("used up");
        assert!(
            wait >= Duration::from_secs(1) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert_eq!(l.count(&"b"), Ok(()), "another key has its own budget");
    }
}
