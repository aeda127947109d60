//! Shared state of the running server.

use std::sync::{Arc, RwLock};

use metrics_exporter_prometheus::PrometheusHandle;
use motcua_core::codes::ProvinceCode;
use motcua_store::{Db, catalogue};

use crate::catalogue_index::CatalogueIndex;
use crate::config::Config;
use crate::error::AppError;
use crate::limits::{Budget, Limiter};

/// Refused payment gateway messages recorded per client address per minute: far more than
/// a real gateway's retries of a message it got wrong, far fewer than a flood.
pub const GATEWAY_REFUSALS_PER_MINUTE: u32 = 30;

/// The time as the server sees it: the system clock, or (in tests) a fixed instant that
/// the test moves, so deadlines across a given holiday can be checked through the API.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<RwLock<time::OffsetDateTime>>>);

impl Clock {
    /// A clock standing at `t` until [`Clock::set`] moves it.
    pub fn fixed(t: time::OffsetDateTime) -> Self {
        Self(Some(Arc::new(RwLock::new(t))))
    }

    /// Now, in Vietnam time, to the millisecond (what the database keeps, so a value read
    /// back equals the one written).
    pub fn now(&self) -> time::OffsetDateTime {
        let t = match &self.0 {
            None => time::OffsetDateTime::now_utc(),
            Some(t) => t.read().map_or_else(|_| time::OffsetDateTime::now_utc(), |t| *t),
        };
        let t = t.to_offset(motcua_core::calendar::VIETNAM_OFFSET);
        t.replace_millisecond(t.millisecond()).unwrap_or(t)
    }

    /// Moves a fixed clock to `t` (no effect on the system clock).
    pub fn set(&self, t: time::OffsetDateTime) {
        if let Some(lock) = &self.0
            && let Ok(mut g) = lock.write()
        {
            *g = t;
        }
    }
}

/// Everything a handler may need: one pointer to [`Shared`], so that cloning it for each
/// request (axum does, several times) is one atomic increment, not one per field. Fields
/// are read through `Deref` (`state.db`).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state proper; see [`AppState`].
#[derive(Clone)]
pub struct Shared {
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
    pub login_limiter: Arc<Budget>,
    /// Citizen registration, code confirmation and resend requests per client address.
    pub otp_limiter: Arc<Budget>,
    /// Wrong codes of the day typed on the queue portal per client address.
    pub hall_code_misses: Arc<Budget>,
    /// Tickets taken on the queue portal per client address.
    pub portal_tickets: Arc<Budget>,
    /// Failed public tracking lookups (and rating-link look-ups) per client address.
    pub tracking_misses_by_address: Arc<Budget>,
    /// Failed public tracking lookups per dossier code, whoever asks.
    pub tracking_misses_by_code: Arc<Budget>,
    /// Refused payment gateway messages recorded per client address (each one is an audit
    /// record; a refused message needs no secret to send).
    pub gateway_refusals: Arc<Limiter<String>>,
    /// The reverse proxies whose `X-Forwarded-For` is believed (`trusted_proxies`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Dossiers whose documents are to be issued (see [`crate::background`]).
    pub form_queue: crate::background::FormQueue,
    /// The low-priority thread documents are rendered on in the background.
    pub idle: crate::background::Idle,
    /// The agencies' signing keys and the trust anchors (issue 22).
    pub signing: Arc<crate::signing::Signing>,
    /// Public tracking answers (see [`crate::tracking_cache`]).
    pub tracking_cache: Arc<crate::tracking_cache::TrackingCache>,
    /// The queue changes (centre, ticket), for the display boards' and phone pages' event
    /// streams: sent by this node's changes and, on PostgreSQL, by every node's
    /// (`crate::changes`).
    pub queue_events: tokio::sync::broadcast::Sender<motcua_store::changes::QueueChange>,
    /// The queue's live views that this node's event streams follow (built once per change).
    pub queue_live: Arc<crate::service::queue_live::Live>,
    /// Group commit of dossier writes.
    pub writes: motcua_store::batch::Batcher,
    /// The clock dossier times are taken from.
    pub clock: Clock,
    /// Where uploaded files are kept.
    pub objects: crate::objects::ObjectStore,
    /// Room for upload bodies in flight, in KiB permits (`max_upload_bytes_in_flight`):
    /// an upload holds its share from before its body is read until its object is stored.
    pub upload_budget: Arc<tokio::sync::Semaphore>,
    /// The agencies of each province, by code.
    pub directories: Arc<crate::province_cache::ProvinceCache<crate::service::dossiers::Directory>>,
    /// The current procedure versions intake has used, per province.
    pub procedures: Arc<crate::province_cache::ProvinceCache<crate::service::dossiers::Procedures>>,
    /// The rule versions (`crate::service::rules`).
    pub rules: Arc<crate::service::rules::RuleCache>,
    default_province: Arc<RwLock<Option<ProvinceCode>>>,
}

impl AppState {
    /// Runs the CPU-heavy `job` (password hashing, rendering, file sniffing, workbook
    /// writing) on the blocking pool, at most as many at once as there are cores (the
    /// `cpu` semaphore). The permit moves into the job, so it is held until the job ends
    /// even if the caller stops waiting.
    pub async fn on_cpu<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let permit = self.cpu_permit().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            job()
        })
        .await
        .map_err(|e| AppError::Internal(format!("a CPU job stopped: {e}")))
    }

    /// One of the `cpu` semaphore's permits, for work that holds it longer than one job
    /// (a workbook written while its pages are read).
    pub async fn cpu_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, AppError> {
        self.cpu
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Builds the state around an open, migrated database. Fails if the object store the
    /// configuration names cannot be set up.
    pub fn new(db: Db, config: Config) -> Result<Self, AppError> {
        let (login_rate, tracking_rate) = (config.login_rate_per_minute, config.tracking_rate_per_minute);
        let trusted_proxies: Arc<[ipnet::IpNet]> = config.trusted_proxy_nets().map_err(AppError::Internal)?.into();
        let objects = crate::objects::ObjectStore::from_config(&config)
            .map_err(|e| AppError::Internal(format!("object store: {e}")))?;
        // With SQLite this process is the only writer: its own changes clear the entries.
        let tracking_ttl = match db.backend() {
            motcua_store::Backend::Sqlite => None,
            motcua_store::Backend::Postgres => Some(std::time::Duration::from_millis(config.tracking_cache_ttl_ms)),
        };
        let tracking_cache = Arc::new(crate::tracking_cache::TrackingCache::new(
            config.tracking_cache_mb.saturating_mul(1024 * 1024),
            tracking_ttl,
        ));
        // With PostgreSQL other nodes change dossiers too: off until a listener for their
        // changes runs (`crate::changes::spawn`).
        if db.backend() == motcua_store::Backend::Postgres {
            tracking_cache.set_live(false);
        }
        let upload_budget = Arc::new(tokio::sync::Semaphore::new(crate::service::uploads::kib(
            config.max_upload_bytes_in_flight,
        )));
        let signing = Arc::new(crate::signing::Signing::from_config(&config));
        Ok(Self(Arc::new(Shared {
            writes: motcua_store::batch::Batcher::start(db.clone()),
            db,
            config: Arc::new(config),
            index: Arc::new(CatalogueIndex::default()),
            calendars: Arc::new(crate::province_cache::ProvinceCache::default()),
            metrics: crate::ops::metrics_handle(),
            cpu: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
            login_limiter: Arc::new(Budget::per_address("login", login_rate)),
            otp_limiter: Arc::new(Budget::per_address("otp", login_rate)),
            hall_code_misses: Arc::new(Budget::per_address(
                "queue_code_address",
                crate::service::queue::HALL_CODE_MISSES_PER_MINUTE,
            )),
            portal_tickets: Arc::new(Budget::per_address(
                "queue_portal_address",
                crate::service::queue::PORTAL_TICKETS_PER_MINUTE,
            )),
            tracking_misses_by_address: Arc::new(Budget::per_address("tracking_address", tracking_rate)),
            tracking_misses_by_code: Arc::new(Budget::per_minute("tracking_code", tracking_rate)),
            gateway_refusals: Arc::new(Limiter::per_minute(GATEWAY_REFUSALS_PER_MINUTE)),
            trusted_proxies,
            tracking_cache,
            queue_events: tokio::sync::broadcast::channel(1024).0,
            queue_live: Arc::default(),
            form_queue: crate::background::FormQueue::default(),
            idle: crate::background::Idle::default(),
            signing,
            upload_budget,
            objects,
            clock: Clock::default(),
            directories: Arc::new(crate::province_cache::ProvinceCache::default()),
            procedures: Arc::new(crate::province_cache::ProvinceCache::default()),
            rules: Arc::default(),
            default_province: Arc::new(RwLock::new(None)),
        })))
    }

    /// Uses `clock` from now on (tests and the scenario move a fixed clock). Only this
    /// handle and its later clones see it.
    pub fn set_clock(&mut self, clock: Clock) {
        Arc::make_mut(&mut self.0).clock = clock;
    }

    /// Drops what this process keeps of `province`'s catalogue (the search index, the
    /// procedures intake used, the agency directory) after it changed them; other nodes
    /// notice the new catalogue generation within `province_cache::RECHECK`.
    pub fn catalogue_changed(&self, province: &ProvinceCode) {
        self.index.invalidate(province);
        self.procedures.invalidate(province);
        self.directories.invalidate(province);
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
