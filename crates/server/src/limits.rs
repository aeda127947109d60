//! Rate limits per key (a client address, a dossier code).
//!
//! - [`Limiter`], in this process: `governor`'s GCRA, which lets a burst of the whole
//!   per-minute budget through and then one more every `60 / n` seconds, and says how long
//!   to wait (the `Retry-After` of a 429).
//! - [`Budget`], for the whole deployment: the same limiter in front (a flood from one
//!   address never reaches the database), then a count per one-minute window kept in the
//!   database ([`motcua_store::limits`]), so that several nodes behind a load balancer
//!   share one budget instead of granting one each.
//! - [`read_limited`]: an outgoing request's answer, read up to a size (a time-stamp
//!   authority's, an OCSP responder's, an identity provider's), refused past the size as it
//!   streams in.
//! - [`address_key`]: the key of a client address. An IPv6 client is counted by its /64
//!   network, which one subscriber gets whole and can rotate through at will.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use motcua_store::{Db, StoreError};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keys kept before those whose budget is whole again are forgotten (bounds memory under
/// a flood of addresses or made-up codes).
const MAX_KEYS: usize = 100_000;

/// A per-minute budget per key.
pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    /// Keys held when the next sweep is due: twice what the last sweep kept (at least
    /// [`MAX_KEYS`]), so that a map full of live keys is not walked on every count.
    sweep_at: AtomicUsize,
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
            sweep_at: AtomicUsize::new(MAX_KEYS),
        }
    }

    /// Counts one event for `key`: `Err(wait)` when its budget is used up (the event is not
    /// counted), with how long until the next one is allowed, rounded up to whole seconds.
    pub fn count(&self, key: &K) -> Result<(), Duration> {
        if self.inner.len() > self.sweep_at.load(Ordering::Relaxed) {
            self.inner.retain_recent();
            let kept = self.inner.len();
            self.sweep_at
                .store(kept.saturating_mul(2).max(MAX_KEYS), Ordering::Relaxed);
        }
        self.inner.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(Duration::from_secs(1))
        })
    }
}

/// The key a client address is counted under: an IPv4 address as it is (also when it
/// arrives IPv4-mapped in IPv6), an IPv6 address as its /64 network, anything else (an
/// address that did not parse) as given.
pub fn address_key(ip: &str) -> String {
    match ip.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        Err(_) => ip.to_owned(),
    }
}

/// A per-minute budget per key for the whole deployment: this process's [`Limiter`], then
/// the database's count of the key's current minute (`scope` names the budget there).
pub struct Budget {
    scope: &'static str,
    per_minute: u32,
    /// Keys are client addresses, counted by [`address_key`].
    by_address: bool,
    local: Limiter<String>,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget")
            .field("scope", &self.scope)
            .field("per_minute", &self.per_minute)
            .finish()
    }
}

impl Budget {
    /// `per_minute` uses per key per minute (at least 1), named `scope` in the database.
    pub fn per_minute(scope: &'static str, per_minute: u32) -> Self {
        Self {
            scope,
            per_minute: per_minute.max(1),
            by_address: false,
            local: Limiter::per_minute(per_minute),
        }
    }

    /// The same per client address: [`count`](Self::count) takes the address as the
    /// request gives it and counts it by [`address_key`] (an IPv6 client by its /64).
    pub fn per_address(scope: &'static str, per_minute: u32) -> Self {
        Self {
            by_address: true,
            ..Self::per_minute(scope, per_minute)
        }
    }

    /// Counts one use by `key` at `now_ms`: `Ok(Err(wait))` when this process's limiter or
    /// the deployment's count for this minute is used up, with how long to wait in whole
    /// seconds. A use refused here is not counted in the database.
    pub async fn count(&self, db: &Db, key: &str, now_ms: i64) -> Result<Result<(), Duration>, StoreError> {
        let key = if self.by_address {
            address_key(key)
        } else {
            key.to_owned()
        };
        if let Err(wait) = self.local.count(&key) {
            return Ok(Err(wait));
        }
        let mut tx = db.begin_write().await?;
        let n = motcua_store::limits::count(&mut tx, self.scope, &key, now_ms).await?;
        tx.commit().await?;
        if n <= i64::from(self.per_minute) {
            return Ok(Ok(()));
        }
        let window_end = motcua_store::limits::window_of(now_ms) + motcua_store::limits::WINDOW_MS;
        let wait_ms = u64::try_from(window_end - now_ms).unwrap_or(0);
        Ok(Err(Duration::from_secs(wait_ms.div_ceil(1000).max(1))))
    }
}

/// The body of `resp`, at most `limit` bytes: a larger answer is refused as it streams in.
pub(crate) async fn read_limited(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > limit {
            return Err(format!("an answer larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
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

    #[test]
    fn ipv6_clients_count_by_their_64_and_ipv4_as_it_is() {
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_key("2001:db8:1:2:ffff:ffff:ffff:fffe"),
            address_key("2001:db8:1:2::9"),
            "one /64 is one client"
        );
        assert_ne!(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
        assert_eq!(address_key("not an address"), "not an address");
    }

    #[test]
    fn a_map_of_live_keys_is_not_swept_on_every_count() {
        let l = Limiter::per_minute(5);
        for i in 0..MAX_KEYS + 10 {
            let _ = l.count(&i);
        }
        // Every key is live, so the sweep kept them all and moved the next one far away.
        assert_eq!(l.sweep_at.load(Ordering::Relaxed), (MAX_KEYS + 1).saturating_mul(2));
        assert_eq!(l.count(&0), Ok(()), "counting still works");
    }
}
