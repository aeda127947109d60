//! The motcua web server: the JSON API (with its OpenAPI document), the public pages and
//! the operations endpoints, around one [`AppState`].

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::routing::get;
use motcua_store::{Db, catalogue};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub mod api;
pub mod audit;
pub mod auth;
pub mod background;
pub mod bootstrap;
pub mod catalogue_index;
pub mod changes;
pub mod config;
pub mod error;
pub mod extract;
pub mod forms;
pub mod limits;
pub mod notify;
pub mod objects;
pub mod ops;
pub mod outbox;
pub mod payments;
pub mod province_cache;
pub mod reports;
pub mod service;
pub mod signing;
pub mod state;
pub mod tracking_cache;
pub mod web;

pub use config::Config;
pub use state::AppState;

/// Builds the whole application. Tests call this too, so they exercise the real router.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    Router::new()
        .route("/", get(web::pages::home))
        .route("/thu-tuc", get(web::pages::list))
        .route("/thu-tuc/{code}", get(web::pages::procedure))
        .route("/static/app.css", get(web::pages::css))
        .route("/static/kiosk.css", get(web::pages::kiosk_css))
        .route("/static/app.js", get(web::pages::js))
        .route("/static/htmx.min.js", get(web::pages::htmx))
        .route("/favicon.ico", get(web::pages::favicon))
        // The pages (not the API) learn their path for the header's current link.
        .merge(web::routes().layer(axum::middleware::from_fn(web::remember_path)))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/van-hanh/chuyen-phat", get(web::operations::deliveries))
        .route(
            "/van-hanh/chuyen-phat/{id}/gui-lai",
            axum::routing::post(web::operations::retry),
        )
        .merge(api::router(&state))
        .fallback(web::pages::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(extract::refuse_nul))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::Extension(extract::BodyLimit(body_limit)))
        .layer(axum::middleware::map_response(security_headers))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(
            // Log the path only: query strings may carry personal data.
            TraceLayer::new_for_http()
                .make_span_with(
                    |req: &Request<_>| tracing::info_span!("request", method = %req.method(), path = %req.uri().path()),
                )
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

/// Headers every answer carries unless its handler set them (one layer for all of them).
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
];

/// Also gives every 429 a `Retry-After` (a minute, the longest any budget takes to come
/// back) where its handler did not say how long to wait.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let too_many = response.status() == axum::http::StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
    }
    if too_many && !headers.contains_key(axum::http::header::RETRY_AFTER) {
        headers.insert(axum::http::header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    response
}

/// The current instant in epoch milliseconds.
pub fn now_ms() -> i64 {
    motcua_store::to_millis(OffsetDateTime::now_utc())
}

/// What the first start did.
#[derive(Debug, Default)]
pub struct FirstStart {
    /// The demo province was loaded into an empty database.
    pub demo_loaded: bool,
    /// The one-time password of the first administrator, when one was created.
    pub admin_password: Option<String>,
}

/// Prepares a database for use: with `demo`, loads the demo province into a database
/// that holds none; creates the first administrator when there is no account; then adds
/// the demo accounts if the demo was just loaded. Safe to call at every start.
pub async fn first_start(db: &Db, demo: bool) -> Result<FirstStart, error::AppError> {
    first_start_with(db, demo.then_some(config::DemoMap::NinhThuan2019)).await
}

/// [`first_start`] with the demo `demo` names (none: no demo).
pub async fn first_start_with(db: &Db, demo: Option<config::DemoMap>) -> Result<FirstStart, error::AppError> {
    let catalogue = match demo {
        Some(config::DemoMap::NinhThuan2019) => Some(motcua_core::demo::ninh_thuan()),
        Some(config::DemoMap::KhanhHoa2025) => Some(motcua_core::demo_2025::khanh_hoa()),
        None => None,
    };
    let demo_loaded = match &catalogue {
        Some(c) => load_demo_catalogue_if_empty(db, c).await?,
        None => false,
    };
    let admin_password = bootstrap::ensure_first_admin(db).await?;
    if demo_loaded && let Some(c) = &catalogue {
        match demo {
            Some(config::DemoMap::KhanhHoa2025) => bootstrap::create_khanh_hoa_users(db).await?,
            _ => bootstrap::create_demo_users(db, &c.province.code).await?,
        };
        service::queue::seed_demo(db, &c.province.code).await?;
    }
    Ok(FirstStart {
        demo_loaded,
        admin_password,
    })
}

/// Loads the Khánh Hòa demo of the 2025 map (docs/map-2025.md §7) beside whatever the
/// database holds, unless that province is already there: its catalogue, its accounts and
/// the queues of its centres. Says whether it loaded it.
pub async fn load_khanh_hoa_demo(db: &Db) -> Result<bool, error::AppError> {
    let demo = motcua_core::demo_2025::khanh_hoa();
    let mut tx = db.begin_write().await?;
    tx.serialize_with(bootstrap::FIRST_START_LOCK).await?;
    if catalogue::province(&mut tx, &demo.province.code).await?.is_some() {
        return Ok(false);
    }
    import_demo(tx, &demo).await?;
    bootstrap::create_khanh_hoa_users(db).await?;
    service::queue::seed_demo(db, &demo.province.code).await?;
    Ok(true)
}

/// Imports a demo catalogue in `tx` with its audit record, and commits.
async fn import_demo(
    mut tx: motcua_store::Tx,
    demo: &motcua_core::catalogue::ProvinceCatalogue,
) -> Result<(), error::AppError> {
    let report = catalogue::import_province(&mut tx, demo, OffsetDateTime::now_utc()).await?;
    audit::record(
        &mut tx,
        &audit::Actor::system(),
        audit::Event {
            action: "catalogue.import_demo",
            object_type: "catalogue",
            object_id: demo.province.code.as_str(),
            province: Some(demo.province.code.as_str()),
            before: None,
            after: Some(serde_json::json!(report)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn load_demo_catalogue_if_empty(
    db: &Db,
    demo: &motcua_core::catalogue::ProvinceCatalogue,
) -> Result<bool, error::AppError> {
    let mut tx = db.begin_write().await?;
    tx.serialize_with(bootstrap::FIRST_START_LOCK).await?;
    if !catalogue::provinces(&mut tx).await?.is_empty() {
        return Ok(false);
    }
    import_demo(tx, demo).await?;
    Ok(true)
}

/// Housekeeping while serving: every ten minutes, removes sessions that expired or went
/// idle (a session is also refused when presented late, so this only keeps the table small),
/// and erases the phone numbers and emails of queue tickets of past days.
pub fn spawn_maintenance(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let idle_ms = i64::try_from(state.config.session_idle_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
            let result = async {
                let mut tx = state.db.begin_write().await?;
                let n = motcua_store::accounts::purge_sessions(&mut tx, now_ms(), idle_ms).await?;
                motcua_store::limits::purge(&mut tx, now_ms()).await?;
                tx.commit().await?;
                Ok::<u64, motcua_store::StoreError>(n)
            }
            .await;
            match result {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired sessions removed"),
                Err(e) => tracing::warn!(error = %e, "session clean-up failed; will retry"),
            }
            match service::queue::erase_stale_contacts(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(erased = n, "past days' queue tickets lost their contacts"),
                Err(e) => tracing::warn!(error = %e, "erasing past tickets' contacts failed; will retry"),
            }
            match forms::queue_unsigned_results(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(dossiers = n, "results waiting for their signature queued"),
                Err(e) => tracing::warn!(error = %e, "queueing the results to sign failed; will retry"),
            }
            match service::uploads::sweep(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired unattached uploads removed"),
                Err(e) => tracing::warn!(error = %e, "upload clean-up failed; will retry"),
            }
            match service::payments::requery_pending(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(paid = n, "pending payments found paid by re-query"),
                Err(e) => tracing::warn!(error = %e, "re-querying pending payments failed; will retry"),
            }
            match reports::generate_due(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(stored = n, "monthly reports generated"),
                Err(e) => tracing::warn!(error = %e, "monthly reports failed; will retry"),
            }
        }
    })
}

/// Writes the audit chains' heads to the anchor file at start and then every
/// `audit_anchor_minutes` when they moved (nothing when the setting is 0).
pub fn spawn_audit_anchors(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let minutes = state.config.audit_anchor_minutes;
    if minutes == 0 {
        return None;
    }
    let path = state.config.audit_anchor_path();
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(minutes.saturating_mul(60)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last: Option<Vec<motcua_core::audit::AnchoredHead>> = None;
        loop {
            tick.tick().await;
            let heads = match motcua_store::audit::heads(&state.db).await {
                Ok(heads) if last.as_ref() == Some(&heads) => continue,
                Ok(heads) => heads,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the audit heads failed; will retry");
                    continue;
                }
            };
            let anchor = motcua_core::audit::Anchor {
                at_ms: motcua_store::to_millis(state.clock.now()),
                heads,
            };
            match audit::write_anchor(&path, &anchor).await {
                Ok(()) => {
                    tracing::debug!(chains = anchor.heads.len(), file = %path.display(), "audit heads anchored");
                    last = Some(anchor.heads);
                }
                Err(e) => {
                    tracing::warn!(error = %e, file = %path.display(), "writing the audit anchor failed; will retry")
                }
            }
        }
    }))
}

/// Serves until `shutdown` completes, then stops accepting, lets in-flight requests
/// finish, and closes the database.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let db = state.db.clone();
    let forms = state.form_queue.clone();
    let app = router(state);
    let result = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // The form queue would otherwise go on issuing against a closed pool.
    let left = forms.stop(std::time::Duration::from_secs(30)).await;
    if left > 0 {
        tracing::info!(
            left,
            "form queue stopped: these dossiers' documents will be drawn at first download"
        );
    }
    db.close().await;
    result
}
