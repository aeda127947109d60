//! Test harness: the real application on port 0 against a fresh database (SQLite, or
//! PostgreSQL when the test run selects it), with the demo province loaded; signing in;
//! and, in the submodules, what the tests do with it in the product's words: the JSON API
//! (`api`), counter intake (`intake`), files and PDFs (`files`), pages as a browser sees
//! them (`pages`), a real SMTP server (`smtp`), the statistics' figures (`stats`), and a
//! signing token with pyHanko (`signing`).

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

pub mod api;
pub mod files;
pub mod intake;
pub mod pages;
pub mod signing;
pub mod smtp;
pub mod stats;

use motcua_server::bootstrap::DEMO_PASSWORD;
use motcua_server::state::Clock;
use motcua_server::{AppState, Config};
use motcua_store::testing::{TestDb, fresh_db};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

/// The demo province (Ninh Thuận).
pub const PROVINCE: &str = "000.00.00.H43";
/// The demo province's one-stop centre.
pub const CENTRE: &str = "000.00.16.H43";
/// Sở Xây dựng, whose demo staff include an officer (cv.xaydung) and a leader (ld.xaydung).
pub const CONSTRUCTION: &str = "000.00.03.H43";
/// Sở Tư pháp (demo officer cv.tuphap).
pub const JUSTICE: &str = "000.00.02.H43";
/// The judicial record procedure (Sở Tư pháp, 10 working days, received at the centre,
/// filed online).
pub const LLTP: &str = "1.900141";
/// A working Monday (2 November 2026), 08:00 in Vietnam.
pub const MONDAY: time::OffsetDateTime = time::macros::datetime!(2026-11-02 08:00 +07:00);

/// The instant an RFC 3339 text names.
pub fn at(s: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The start of day `d` in Vietnam.
pub fn vn_midnight(d: time::Date) -> time::OffsetDateTime {
    d.midnight().assume_offset(motcua_core::calendar::VIETNAM_OFFSET)
}

/// `s` encoded for a URL's query.
pub fn url_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An API token with the `catalogue:write` scope in the demo province.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// The value of header `name` in the answer `r`, if it has one.
pub fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).map(|v| v.to_str().expect("ascii").to_owned())
}

/// A running app.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// HTTP client.
    pub client: Client,
    /// The database, for checks behind the API's back.
    pub test_db: TestDb,
    /// The server's clock (fixed when the app was started with [`spawn_app_at`]).
    pub clock: Clock,
}

impl TestApp {
    /// Full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET and parse JSON, returning status and body.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self.client.get(self.url(path)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }

    /// GETs `path` anonymously: the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        let r = self.client.get(self.url(path)).send().await.expect("request");
        r.text().await.expect("text body")
    }

    /// Sends JSON with the administrator token.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.expect("json body"))
    }
}

/// Starts an app with the demo province.
pub async fn spawn_app() -> TestApp {
    spawn(true, Clock::default()).await
}

/// Starts an app with the demo province whose clock stands at `t` until the test moves it.
pub async fn spawn_app_at(t: time::OffsetDateTime) -> TestApp {
    spawn(true, Clock::fixed(t)).await
}

/// Starts an app on an empty database.
pub async fn spawn_empty_app() -> TestApp {
    spawn(false, Clock::default()).await
}

/// Starts an app with the demo province and `adjust` applied to its configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_configured(true, Clock::default(), adjust).await
}

/// Starts an app with the demo province, its clock standing at `t`, and `adjust` applied
/// to its configuration.
pub async fn spawn_app_at_with(t: time::OffsetDateTime, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_configured(true, Clock::fixed(t), adjust).await
}

/// Starts an app with the Khánh Hòa demo of the 2025 map (and no other province), its
/// clock standing at `t`.
pub async fn spawn_khanh_hoa_at(t: time::OffsetDateTime) -> TestApp {
    spawn_demo(
        Some(motcua_server::config::DemoMap::KhanhHoa2025),
        Clock::fixed(t),
        |_| {},
    )
    .await
}

async fn spawn(demo: bool, clock: Clock) -> TestApp {
    spawn_configured(demo, clock, |_| {}).await
}

async fn spawn_configured(demo: bool, clock: Clock, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_demo(
        demo.then_some(motcua_server::config::DemoMap::NinhThuan2019),
        clock,
        adjust,
    )
    .await
}

async fn spawn_demo(
    demo: Option<motcua_server::config::DemoMap>,
    clock: Clock,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let test_db = fresh_db().await;
    if demo.is_some() {
        motcua_server::first_start_with(&test_db.db, demo).await.expect("demo");
    }
    {
        // An API token with catalogue rights, as an administrator would create it. An
        // "empty" app still knows the province (with an empty catalogue), since API
        // imports need rights in the province they import into.
        let mut tx = test_db.db.begin_write().await.expect("begin");
        if demo.is_none() {
            let province = motcua_core::demo::ninh_thuan().province;
            motcua_store::catalogue::upsert_province(&mut tx, &province, time::OffsetDateTime::now_utc())
                .await
                .expect("province");
        }
        motcua_store::accounts::create_api_token(
            &mut tx,
            &motcua_store::accounts::ApiToken {
                id: "test-token".to_owned(),
                name: "Kiểm thử".to_owned(),
                scopes: "catalogue:write".to_owned(),
                province_code: Some(match demo {
                    Some(motcua_server::config::DemoMap::KhanhHoa2025) => {
                        motcua_core::demo_2025::khanh_hoa().province.code.as_str().to_owned()
                    }
                    _ => PROVINCE.to_owned(),
                }),
                created_by: "test".to_owned(),
                created_at: 0,
                revoked_at: None,
                last_used_at: None,
                expires_at: Some(i64::MAX),
            },
            &motcua_server::auth::secret_hash(ADMIN_TOKEN),
        )
        .await
        .expect("token");
        tx.commit().await.expect("commit");
    }
    // Bound first, so that the configuration says where this server listens (the sandbox
    // gateway and the links it prints reach it there).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let mut config = Config {
        listen: listener.local_addr().expect("addr"),
        data_dir: test_db.dir.path().to_owned(),
        max_body_bytes: 256 * 1024,
        max_import_bytes: 32 * 1024 * 1024,
        ..Config::default()
    };
    adjust(&mut config);
    let mut state = AppState::new(test_db.db.clone(), config).expect("state");
    state.set_clock(clock.clone());
    // As `motcua serve` does (PostgreSQL: the tracking cache follows other nodes' changes);
    // the listener runs until the test's runtime ends.
    drop(motcua_server::changes::spawn(&state));
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let app = motcua_server::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, app).await;
    });
    TestApp {
        base,
        client: Client::new(),
        test_db,
        clock,
    }
}

/// A second node serving `app`'s database (PostgreSQL): its own pool, caches and change
/// listener, on its own port, with `app`'s clock, as a second `motcua serve` behind the
/// same address would be.
pub async fn second_node(app: &TestApp) -> TestApp {
    let db2 = motcua_store::Db::connect(&app.test_db.config)
        .await
        .expect("second pool");
    let config = Config {
        data_dir: app.test_db.dir.path().to_owned(),
        ..Config::default()
    };
    let mut state2 = AppState::new(db2.clone(), config).expect("state");
    state2.set_clock(app.clock.clone());
    drop(motcua_server::changes::spawn(&state2));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let node2 = TestApp {
        base: format!("http://{}", listener.local_addr().expect("addr")),
        client: app.client.clone(),
        test_db: TestDb {
            db: db2,
            config: app.test_db.config.clone(),
            dir: tempfile::tempdir().expect("dir"),
        },
        clock: app.clock.clone(),
    };
    tokio::spawn(async move {
        let router = motcua_server::router(state2).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, router).await;
    });
    node2
}

/// A logged-in browser: its cookie and CSRF token.
pub struct Session {
    /// `motcua_session=…`
    pub cookie: String,
    /// The CSRF token.
    pub csrf: String,
    /// The login response.
    pub me: Value,
}

/// Signs in through the API with `username` and `password`: the session, or the refusal.
pub async fn login(app: &TestApp, username: &str, password: &str) -> Result<Session, (StatusCode, Value)> {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    let status = r.status();
    let set_cookie = header(&r, "set-cookie");
    let body: Value = r.json().await.expect("json");
    if status != StatusCode::OK {
        return Err((status, body));
    }
    let set_cookie = set_cookie.expect("session cookie");
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    Ok(Session {
        cookie,
        csrf: body["csrf_token"].as_str().expect("csrf").to_owned(),
        me: body,
    })
}

/// Signs in as the demo account `username` (the demo password).
pub async fn sign_in(app: &TestApp, username: &str) -> Session {
    login(app, username, DEMO_PASSWORD)
        .await
        .unwrap_or_else(|e| panic!("{username}: {e:?}"))
}

/// Signs in as each of the demo accounts `usernames`, in order.
pub async fn sign_in_each<const N: usize>(app: &TestApp, usernames: [&str; N]) -> [Session; N] {
    let mut sessions = Vec::with_capacity(N);
    for username in usernames {
        sessions.push(sign_in(app, username).await);
    }
    sessions
        .try_into()
        .unwrap_or_else(|_| unreachable!("one session per name"))
}

/// Sends a request with the session cookie and (unless `csrf` is `None`) a CSRF header.
pub async fn call(
    app: &TestApp,
    s: &Session,
    method: Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path)).header("cookie", &s.cookie);
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("send");
    let status = r.status();
    let text = r.text().await.expect("text");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Sends a request with the session cookie and its CSRF header.
pub async fn with_csrf(
    app: &TestApp,
    s: &Session,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call(app, s, method, path, Some(&s.csrf.clone()), body).await
}
