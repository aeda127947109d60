//! An in-process cache of public tracking answers (`GET /api/v1/track/{code}`).
//!
//! Tracking is the busiest public read: a citizen reloads the page of a dossier many times
//! while it is handled, and the receipt's QR code sends phones to it. Each answer costs two
//! queries (the dossier and its history) and the building of the view; the cache keeps the
//! built view and its JSON, keyed by dossier code, together with the tracking secret that
//! guards it (the secret is still checked, in constant time, on every request).
//!
//! Freshness:
//! - Every change of a dossier removes its entry ([`TrackingCache::forget`]): the action
//!   handlers call it once their write has committed.
//! - A look-up that read the dossier before a change committed must not store that older
//!   view after the change removed the entry: each shard counts the removals
//!   ([`TrackingCache::epoch`]), and [`TrackingCache::put_unless_changed`] stores nothing
//!   if the count moved since the look-up started.
//! - With SQLite the serving process is the only writer (the data directory is locked), so
//!   its own changes are all there are. With PostgreSQL other nodes change dossiers too:
//!   every change sends a notification when it commits (`motcua_store::changes`), which
//!   each node's listener ([`crate::changes`]) turns into `forget`. While the listener is
//!   not connected (at start, after a lost connection) the cache is off
//!   ([`TrackingCache::set_live`]: nothing is served from it or stored in it, and it is
//!   emptied, since changes may have been missed); entries also live at most
//!   `tracking_cache_ttl_ms`, a bound should a notification ever go astray.
//!
//! Memory is bounded by `tracking_cache_mb` (the sum of the cached JSON sizes plus a fixed
//! overhead per entry); when a shard is full its expired entries go first, then the oldest.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::service::dossiers::Tracking;

/// Independent locks, so that concurrent readers rarely wait on one another.
const SHARDS: usize = 32;

/// What an entry costs besides its JSON (the secret, the key, the map's slot, the `Arc`).
const ENTRY_OVERHEAD: usize = 256;

/// One cached answer.
#[derive(Debug)]
pub struct Cached {
    /// The dossier's tracking secret (upper case), checked against every request.
    pub secret: Box<str>,
    /// The view as the API's JSON body: all that is kept (the HTML page reads the view
    /// back from it, [`Cached::view`]), so an entry costs about its JSON's size.
    pub json: Bytes,
}

impl Cached {
    /// The view, read back from the JSON (for the HTML page).
    pub fn view(&self) -> Result<Tracking, crate::error::AppError> {
        serde_json::from_slice(&self.json)
            .map_err(|e| crate::error::AppError::Internal(format!("cached tracking answer: {e}")))
    }
}

struct Entry {
    cached: Arc<Cached>,
    stored: Instant,
    cost: usize,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Box<str>, Entry>,
    cost: usize,
    /// Entries removed because their dossier changed, ever (see the module documentation).
    epoch: u64,
}

/// The cache. Cheap to share (`Arc`).
pub struct TrackingCache {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    /// `None`: entries never expire (this process is the only writer).
    ttl: Option<Duration>,
    /// Budget of one shard, in bytes; 0 disables the cache.
    shard_budget: usize,
    /// Whether every change of a dossier reaches [`TrackingCache::forget`] now.
    live: AtomicBool,
}

impl std::fmt::Debug for TrackingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackingCache")
            .field("ttl", &self.ttl)
            .field("shard_budget", &self.shard_budget)
            .finish_non_exhaustive()
    }
}

impl TrackingCache {
    /// A cache of at most `budget_bytes` whose entries expire after `ttl` (never if `None`).
    pub fn new(budget_bytes: usize, ttl: Option<Duration>) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
            ttl,
            shard_budget: budget_bytes / SHARDS,
            live: AtomicBool::new(true),
        }
    }

    /// Turns the cache on or off; off also empties it (see the module documentation).
    pub fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::SeqCst);
        if !live {
            self.clear();
        }
    }

    /// Drops every entry (as if each dossier had changed).
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            shard.entries.clear();
            shard.cost = 0;
            shard.epoch += 1;
        }
    }

    /// The removal count of `code`'s shard: taken before reading a dossier, handed to
    /// [`TrackingCache::put_unless_changed`].
    pub fn epoch(&self, code: &str) -> u64 {
        self.shard(code)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .epoch
    }

    fn shard(&self, code: &str) -> &Mutex<Shard> {
        let i = usize::try_from(self.hasher.hash_one(code) % SHARDS as u64).unwrap_or(0);
        &self.shards[i]
    }

    fn fresh(&self, e: &Entry, now: Instant) -> bool {
        self.ttl.is_none_or(|ttl| now.duration_since(e.stored) < ttl)
    }

    /// The cached answer for `code`, if there is a fresh one.
    pub fn get(&self, code: &str) -> Option<Arc<Cached>> {
        if self.shard_budget == 0 || !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let shard = self
            .shard(code)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = shard.entries.get(code)?;
        self.fresh(e, Instant::now()).then(|| Arc::clone(&e.cached))
    }

    /// Keeps `cached` as the answer for `code`, read when the shard's removal count was
    /// `epoch`, unless an entry of the shard was removed since (its dossier may be the one
    /// that changed) or the cache is off.
    pub fn put_unless_changed(&self, code: &str, cached: Arc<Cached>, epoch: u64) {
        let cost = cached.json.len() + code.len() + ENTRY_OVERHEAD;
        if cost > self.shard_budget || !self.live.load(Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        let mut shard = self
            .shard(code)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if shard.epoch != epoch {
            return;
        }
        if let Some(old) = shard.entries.remove(code) {
            shard.cost -= old.cost;
        }
        if shard.cost + cost > self.shard_budget {
            self.make_room(&mut shard, cost, now);
        }
        shard.cost += cost;
        shard.entries.insert(
            code.into(),
            Entry {
                cached,
                stored: now,
                cost,
            },
        );
    }

    /// Frees at least `needed` bytes of `shard`: expired entries first, then the oldest
    /// quarter of the shard (a scan, but only when the shard is full).
    fn make_room(&self, shard: &mut Shard, needed: usize, now: Instant) {
        if self.ttl.is_some() {
            let before = shard.entries.len();
            shard.entries.retain(|_, e| self.fresh(e, now));
            if shard.entries.len() != before {
                shard.cost = shard.entries.values().map(|e| e.cost).sum();
            }
        }
        if shard.cost + needed <= self.shard_budget {
            return;
        }
        let mut ages: Vec<Instant> = shard.entries.values().map(|e| e.stored).collect();
        ages.sort_unstable();
        let cut = ages.get(ages.len() / 4).copied().unwrap_or(now);
        shard.entries.retain(|_, e| e.stored > cut);
        shard.cost = shard.entries.values().map(|e| e.cost).sum();
    }

    /// Drops the entry of `code` (its dossier changed).
    pub fn forget(&self, code: &str) {
        let mut shard = self
            .shard(code)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = shard.entries.remove(code) {
            shard.cost -= old.cost;
        }
        shard.epoch += 1;
    }

    /// How many answers are cached (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entries
                    .len()
            })
            .sum()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(code: &str, size: usize) -> Arc<Cached> {
        let view = Tracking {
            code: code.to_owned(),
            procedure_name: " ".repeat(size),
            status_code: 2,
            status_label: "Được tiếp nhận".to_owned(),
            received_at: None,
            due_at: None,
            finished_at: None,
            returned_at: None,
            current_agency: String::new(),
            steps: Vec::new(),
        };
        Arc::new(Cached {
            secret: "ABCDEFGH".into(),
            json: Bytes::from(serde_json::to_vec(&view).expect("serialises")),
        })
    }

    #[test]
    fn keeps_forgets_and_expires() {
        let cache = TrackingCache::new(1 << 20, None);
        assert!(cache.get("A").is_none());
        cache.put_unless_changed("A", answer("A", 10), cache.epoch("A"));
        assert_eq!(
            cache.get("A").map(|c| c.view().expect("view").code).as_deref(),
            Some("A")
        );
        cache.forget("A");
        assert!(cache.get("A").is_none());

        let short = TrackingCache::new(1 << 20, Some(Duration::from_millis(30)));
        short.put_unless_changed("B", answer("B", 10), short.epoch("B"));
        assert!(short.get("B").is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(
            short.get("B").is_none(),
            "an entry older than the lifetime is not served"
        );
    }

    #[test]
    fn stays_within_its_budget() {
        let budget = 64 * 1024;
        let cache = TrackingCache::new(budget, None);
        for i in 0..2_000 {
            let code = format!("code-{i}");
            cache.put_unless_changed(&code, answer("x", 100), cache.epoch(&code));
        }
        let held: usize = cache
            .shards
            .iter()
            .map(|s| {
                let s = s.lock().expect("shard");
                assert_eq!(s.cost, s.entries.values().map(|e| e.cost).sum::<usize>());
                s.cost
            })
            .sum();
        assert!(held <= budget, "{held} bytes held over a budget of {budget}");
        assert!(!cache.is_empty());
        assert!(cache.len() < 2_000);
        // The newest entries survive eviction.
        assert!(cache.get("code-1999").is_some());
    }

    #[test]
    fn a_zero_budget_disables_it() {
        let cache = TrackingCache::new(0, None);
        cache.put_unless_changed("A", answer("A", 1), 0);
        assert!(cache.get("A").is_none());
    }

    #[test]
    fn a_view_read_before_a_change_is_not_kept() {
        let cache = TrackingCache::new(1 << 20, None);
        // A look-up starts, the dossier changes (the entry is removed), the look-up ends.
        let before = cache.epoch("A");
        cache.forget("A");
        cache.put_unless_changed("A", answer("A", 10), before);
        assert!(cache.get("A").is_none(), "the older view was not stored");
        cache.put_unless_changed("A", answer("A", 10), cache.epoch("A"));
        assert!(cache.get("A").is_some());
    }

    #[test]
    fn off_it_serves_and_keeps_nothing() {
        let cache = TrackingCache::new(1 << 20, None);
        cache.put_unless_changed("A", answer("A", 10), cache.epoch("A"));
        cache.set_live(false);
        assert!(cache.get("A").is_none());
        cache.put_unless_changed("B", answer("B", 10), cache.epoch("B"));
        cache.set_live(true);
        assert!(
            cache.is_empty(),
            "turning it off emptied it, and nothing was stored meanwhile"
        );
        cache.put_unless_changed("B", answer("B", 10), cache.epoch("B"));
        assert!(cache.get("B").is_some());
    }
}
