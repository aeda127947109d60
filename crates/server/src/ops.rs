//! Operations endpoints: liveness, readiness, Prometheus metrics, and the request metrics
//! middleware.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database answers, so requests can be served.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// The process-wide Prometheus recorder, installed on first use. Every server in the
/// process (tests start many) reports through the same one.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Buckets (not quantiles), so latencies aggregate across nodes.
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                    ],
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; ours still renders.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    // Delivery counts are read from the database, so they are true whichever node sends.
    crate::outbox::record_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// The metric handles of one route template: its duration histogram, and its request
/// counters by method and status (made on first use). Kept so that a request does not
/// build label sets and look its metrics up in the registry (allocations on every request).
struct RouteMetrics {
    duration: metrics::Histogram,
    requests: RwLock<HashMap<(Method, u16), metrics::Counter>>,
}

/// Route template → its handles. Templates are a fixed set (never raw paths).
fn route_metrics(route: &str) -> Arc<RouteMetrics> {
    static ROUTES: OnceLock<RwLock<HashMap<String, Arc<RouteMetrics>>>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| RwLock::new(HashMap::new()));
    if let Some(m) = routes.read().ok().and_then(|r| r.get(route).cloned()) {
        return m;
    }
    let made = Arc::new(RouteMetrics {
        duration: metrics::histogram!("http_request_duration_seconds", "route" => route.to_owned()),
        requests: RwLock::new(HashMap::new()),
    });
    match routes.write() {
        Ok(mut r) => Arc::clone(r.entry(route.to_owned()).or_insert(made)),
        // A poisoned map (a panic while inserting) still counts through fresh handles.
        Err(_) => made,
    }
}

impl RouteMetrics {
    fn requests(&self, route: &str, method: &Method, status: u16) -> metrics::Counter {
        let key = (method.clone(), status);
        if let Some(c) = self.requests.read().ok().and_then(|r| r.get(&key).cloned()) {
            return c;
        }
        let made = metrics::counter!("http_requests_total", "method" => method.as_str().to_owned(),
            "route" => route.to_owned(), "status" => status.to_string());
        match self.requests.write() {
            Ok(mut r) => r.entry(key).or_insert(made).clone(),
            Err(_) => made,
        }
    }
}

/// Counts every request and times it, labelled by route template (never the raw path,
/// which would explode the label set with codes).
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = req.method().clone();
    let handles = route_metrics(route);
    let response = next.run(req).await;
    handles
        .requests(route, &method, response.status().as_u16())
        .increment(1);
    handles.duration.record(start.elapsed().as_secs_f64());
    response
}
