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
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub mod api;
pub mod catalogue_index;
pub mod config;
pub mod error;
pub mod ops;
pub mod pages;
pub mod state;

pub use config::Config;
pub use state::AppState;

/// Builds the whole application. Tests call this too, so they exercise the real router.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_body_bytes;
    let timeout = Duration::from_secs(state.config.request_timeout_secs.max(1));
    let security_headers = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ];
    let mut app = Router::new()
        .route("/", get(pages::home))
        .route("/thu-tuc", get(pages::list))
        .route("/thu-tuc/{code}", get(pages::procedure))
        .route("/static/app.css", get(pages::css))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .merge(api::router(&state))
        .fallback(pages::not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(ops::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::Extension(api::extract::BodyLimit(body_limit)));
    for (name, value) in security_headers {
        app = app.layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        ));
    }
    app.layer(TimeoutLayer::with_status_code(
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

/// Loads the demo province when the database holds no province yet. Returns whether it did.
pub async fn load_demo_if_empty(db: &Db) -> Result<bool, motcua_store::StoreError> {
    let mut tx = db.begin_write().await?;
    if !catalogue::provinces(&mut tx).await?.is_empty() {
        return Ok(false);
    }
    let demo = motcua_core::demo::ninh_thuan();
    catalogue::import_province(&mut tx, &demo, OffsetDateTime::now_utc()).await?;
    tx.commit().await?;
    Ok(true)
}

/// Serves until `shutdown` completes, then stops accepting, lets in-flight requests
/// finish, and closes the database.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let db = state.db.clone();
    let app = router(state);
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    db.close().await;
    result
}
