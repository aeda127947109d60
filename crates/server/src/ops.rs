//! Operations endpoints: liveness, readiness, Prometheus metrics, and the request metrics
//! middleware.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Config;
use crate::error::AppError;
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

/// How long the gauges read from the database stay in use before a scrape reads them
/// again: however often `/metrics` is asked, the database answers at most once in this
/// time per server.
pub const DATABASE_GAUGES_FRESH: Duration = Duration::from_secs(5);

/// Headers a reverse proxy adds to what it passes on. A request that carries one came
/// through a proxy, whatever its connection's address.
const FORWARDING_HEADERS: &[&str] = &["forwarded", "x-forwarded-for", "x-real-ip"];

/// `GET /metrics`: Prometheus text format. With `metrics_token`, for requests that carry
/// it as a bearer token (compared in constant time); without, only for a client on this
/// machine (a loopback connection with no proxy's forwarding headers), since a reverse
/// proxy on the same machine connects from loopback for everyone.
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical());
    if let Err(refused) = may_scrape(&state.config, peer, request.headers()) {
        return refused.into_response();
    }
    refresh_database_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Why `/metrics` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// `metrics_token` is set and the request did not carry it.
    NoToken,
    /// No token is set and the request does not come from this machine.
    NotLocal,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::NoToken => {
                let mut refused = AppError::Unauthorized(
                    "Cần mã metrics_token (tiêu đề «Authorization: Bearer <mã>») để đọc số liệu vận hành.".to_owned(),
                )
                .into_response();
                refused
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                refused
            }
            Refused::NotLocal => AppError::Forbidden(
                "Số liệu vận hành chỉ đọc được từ chính máy chủ, hoặc với mã metrics_token.".to_owned(),
            )
            .into_response(),
        }
    }
}

/// Whether a request from `peer` with `headers` may read `/metrics` under `config`.
fn may_scrape(config: &Config, peer: Option<std::net::IpAddr>, headers: &HeaderMap) -> Result<(), Refused> {
    let token = config.metrics_token.as_str();
    if !token.is_empty() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        return if given.is_some_and(|g| crate::auth::same_secret(g, token)) {
            Ok(())
        } else {
            Err(Refused::NoToken)
        };
    }
    let local = peer.is_some_and(|ip| ip.is_loopback()) && !FORWARDING_HEADERS.iter().any(|h| headers.contains_key(*h));
    if local { Ok(()) } else { Err(Refused::NotLocal) }
}

/// Sets the gauges read from the database (deliveries by state, true whichever node sends
/// them) unless this server read them less than [`DATABASE_GAUGES_FRESH`] ago. Scrapes
/// that arrive together wait for one read. Each server of the process (tests start many)
/// keeps its own time, under its configuration's address (held weakly: a server that is
/// gone drops out).
async fn refresh_database_gauges(state: &AppState) {
    type LastRead = Vec<(Weak<Config>, Instant)>;
    static LAST_READ: OnceLock<tokio::sync::Mutex<LastRead>> = OnceLock::new();
    let mut last = LAST_READ
        .get_or_init(|| tokio::sync::Mutex::new(Vec::new()))
        .lock()
        .await;
    last.retain(|(config, _)| config.strong_count() > 0);
    let mine = last
        .iter()
        .position(|(config, _)| std::ptr::eq(config.as_ptr(), Arc::as_ptr(&state.config)));
    if mine.is_some_and(|i| last[i].1.elapsed() < DATABASE_GAUGES_FRESH) {
        return;
    }
    crate::outbox::record_gauges(state).await;
    match mine {
        Some(i) => last[i].1 = Instant::now(),
        None => last.push((Arc::downgrade(&state.config), Instant::now())),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn metrics_are_for_this_machine_or_the_token_holder() {
        let ip = |s: &str| Some(s.parse::<std::net::IpAddr>().expect("ip"));
        let open = Config::default();
        assert!(may_scrape(&open, ip("127.0.0.1"), &HeaderMap::new()).is_ok());
        assert!(may_scrape(&open, ip("::1"), &HeaderMap::new()).is_ok());
        for (peer, h) in [
            (ip("10.0.0.5"), HeaderMap::new()),
            (ip("192.168.1.20"), headers(&[("authorization", "Bearer anything")])),
            (None, HeaderMap::new()),
            // A reverse proxy on this machine connects from loopback for everyone.
            (ip("127.0.0.1"), headers(&[("x-forwarded-for", "203.0.113.7")])),
            (ip("127.0.0.1"), headers(&[("forwarded", "for=203.0.113.7")])),
            (ip("127.0.0.1"), headers(&[("x-real-ip", "203.0.113.7")])),
        ] {
            let refused = may_scrape(&open, peer, &h).expect_err("refused");
            assert_eq!(refused, Refused::NotLocal, "{peer:?} {h:?}");
            assert_eq!(refused.into_response().status(), StatusCode::FORBIDDEN);
        }

        let guarded = Config {
            metrics_token: "metrics-0123456789abcdef".to_owned(),
            ..Config::default()
        };
        let bearer = headers(&[("authorization", "Bearer metrics-0123456789abcdef")]);
        assert!(may_scrape(&guarded, ip("10.0.0.5"), &bearer).is_ok(), "from anywhere");
        for h in [
            HeaderMap::new(),
            headers(&[("authorization", "Bearer metrics-0123456789abcdeF")]),
            headers(&[("authorization", "Bearer metrics-0123456789abcde")]),
            headers(&[("authorization", "Basic metrics-0123456789abcdef")]),
        ] {
            // With a token, loopback is no pass.
            let refused = may_scrape(&guarded, ip("127.0.0.1"), &h)
                .expect_err("refused")
                .into_response();
            assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{h:?}");
            assert_eq!(refused.headers()[header::WWW_AUTHENTICATE], "Bearer");
        }
    }
}
