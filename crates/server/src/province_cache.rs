//! Per-province caches of data that is read on every request and changed rarely (the
//! catalogue's search index, the working-day calendar).
//!
//! A cached value is rebuilt when the province's generation counter in the database
//! changes. Writes through this process invalidate at once; writes by other nodes are
//! noticed within [`RECHECK`], when the generation is read again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use motcua_core::codes::ProvinceCode;
use motcua_store::{Db, Tx, catalogue};

use crate::error::AppError;

/// How long a cached value is trusted before its generation is checked again.
pub const RECHECK: Duration = Duration::from_secs(1);

struct Cached<T> {
    generation: i64,
    checked: RwLock<Instant>,
    value: Arc<T>,
}

/// Values of type `T`, one per province.
pub struct ProvinceCache<T> {
    map: RwLock<HashMap<ProvinceCode, Arc<Cached<T>>>>,
}

impl<T> Default for ProvinceCache<T> {
    fn default() -> Self {
        Self {
            map: RwLock::new(HashMap::new()),
        }
    }
}

impl<T> std::fmt::Debug for ProvinceCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.map.read().map_or(0, |m| m.len());
        write!(f, "ProvinceCache({n} provinces)")
    }
}

impl<T> ProvinceCache<T> {
    /// The current value for `province`, built by `build` (inside a read transaction) when
    /// missing or stale. An unknown province is a 404.
    pub async fn get<F>(&self, db: &Db, province: &ProvinceCode, build: F) -> Result<Arc<T>, AppError>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T, AppError>,
    {
        let cached = self.map.read().ok().and_then(|m| m.get(province).cloned());
        if let Some(c) = &cached
            && c.checked.read().is_ok_and(|t| t.elapsed() < RECHECK)
        {
            return Ok(Arc::clone(&c.value));
        }
        let mut tx = db.begin_read().await?;
        let generation = catalogue::generation(&mut tx, province).await?;
        if generation < 0 {
            return Err(AppError::NotFound(format!(
                "Không có tỉnh {province} trong cơ sở dữ liệu."
            )));
        }
        if let Some(c) = cached
            && c.generation == generation
        {
            if let Ok(mut t) = c.checked.write() {
                *t = Instant::now();
            }
            return Ok(Arc::clone(&c.value));
        }
        let value = Arc::new(build(&mut tx).await?);
        drop(tx);
        let entry = Arc::new(Cached {
            generation,
            checked: RwLock::new(Instant::now()),
            value: Arc::clone(&value),
        });
        if let Ok(mut map) = self.map.write() {
            map.insert(province.clone(), entry);
        }
        Ok(value)
    }

    /// Drops a province's value after this process changed its data.
    pub fn invalidate(&self, province: &ProvinceCode) {
        if let Ok(mut map) = self.map.write() {
            map.remove(province);
        }
    }
}
