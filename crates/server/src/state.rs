//! Shared state of the running server.

use std::sync::{Arc, RwLock};

use metrics_exporter_prometheus::PrometheusHandle;
use motcua_core::codes::ProvinceCode;
use motcua_store::{Db, catalogue};

use crate::catalogue_index::CatalogueIndex;
use crate::config::Config;
use crate::error::AppError;

/// Everything a handler may need. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// Search indexes of the catalogues.
    pub index: Arc<CatalogueIndex>,
    /// Working-day calendars.
    pub calendars: Arc<crate::province_cache::ProvinceCache<motcua_core::calendar::Calendar>>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Bounds CPU-heavy work (password hashing, rendering) to the number of cores.
    pub cpu: Arc<tokio::sync::Semaphore>,
    /// Login attempts per client address.
    pub login_limiter: Arc<crate::auth::RateLimiter>,
    /// Citizen registration, code confirmation and resend requests per client address.
    pub otp_limiter: Arc<crate::auth::RateLimiter>,
    default_province: Arc<RwLock<Option<ProvinceCode>>>,
}

impl AppState {
    /// Builds the state around an open, migrated database.
    pub fn new(db: Db, config: Config) -> Self {
        Self {
            db,
            config: Arc::new(config),
            index: Arc::new(CatalogueIndex::default()),
            calendars: Arc::new(crate::province_cache::ProvinceCache::default()),
            metrics: crate::ops::metrics_handle(),
            cpu: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
            login_limiter: Arc::new(crate::auth::RateLimiter::default()),
            otp_limiter: Arc::new(crate::auth::RateLimiter::default()),
            default_province: Arc::new(RwLock::new(None)),
        }
    }

    /// The province a request means: the one it names, else the configured default,
    /// else the first province in the database.
    pub async fn province(&self, requested: Option<&str>) -> Result<ProvinceCode, AppError> {
        if let Some(p) = requested.filter(|p| !p.trim().is_empty()) {
            return ProvinceCode::parse(p).map_err(|e| AppError::code("province", e));
        }
        if let Some(p) = self.default_province.read().ok().and_then(|g| g.clone()) {
            return Ok(p);
        }
        let chosen = if self.config.default_province.is_empty() {
            let mut tx = self.db.begin_read().await?;
            catalogue::provinces(&mut tx)
                .await?
                .into_iter()
                .next()
                .map(|p| p.code)
                .ok_or_else(|| AppError::NotFound("Chưa có tỉnh nào trong cơ sở dữ liệu.".to_owned()))?
        } else {
            ProvinceCode::parse(&self.config.default_province)
                .map_err(|e| AppError::Internal(format!("default_province in configuration: {e}")))?
        };
        if let Ok(mut g) = self.default_province.write() {
            *g = Some(chosen.clone());
        }
        Ok(chosen)
    }
}
