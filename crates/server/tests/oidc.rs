//! Login through the national SSO (OpenID Connect), end to end against a real provider:
//! the certified `oidc-provider` package, run by Node.js from `tests/support/oidc`. The
//! browser is played by hand with reqwest: redirects are followed one by one, cookies are
//! carried per site, and the provider's development login and consent forms are submitted.
//!
//! Node.js (18 or later) and npm must be installed; the provider's packages are installed
//! with `npm ci` on first use. Without Node.js these tests fail, on purpose: a skipped test
//! would let SSO break unnoticed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use motcua_server::{AppState, Config};
use motcua_store::testing::{TestDb, fresh_db};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{StatusCode, Url};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CLIENT_ID: &str = "motcua-test";
/// Characters that basic authentication must form-encode (RFC 6749 §2.3.1).
const CLIENT_SECRET: &str = "motcua:secret%+&=/test";
const PROVINCE: &str = "000.00.00.H43";

// ---------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/oidc")
}

/// Checks for Node.js and npm, and installs the provider's packages once if missing.
fn ensure_provider_installed() {
    static INSTALL: Mutex<bool> = Mutex::new(false);
    let mut done = INSTALL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if *done {
        return;
    }
    let missing = |tool: &str| {
        format!(
            "The SSO tests run a real OpenID provider on Node.js, but `{tool}` could not be run. \
             Install Node.js 18 or later and npm (Debian: `apt-get install nodejs npm`); the tests then \
             install the provider's packages themselves with `npm ci --prefix {}`.",
            provider_dir().display()
        )
    };
    for tool in ["node", "npm"] {
        let ok = std::process::Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "{}", missing(tool));
    }
    if !provider_dir().join("node_modules/oidc-provider/package.json").is_file() {
        let out = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(provider_dir())
            .output()
            .expect("run npm ci");
        assert!(
            out.status.success(),
            "`npm ci --prefix {}` failed:\n{}\n{}",
            provider_dir().display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    *done = true;
}

/// A running provider; it is killed when dropped.
struct Provider {
    issuer: String,
    _child: Child,
}

async fn start_provider(redirect_uri: &str, auth_method: &str) -> Provider {
    ensure_provider_installed();
    let mut child = Command::new("node")
        .arg(provider_dir().join("provider.mjs"))
        .args(["--port", "0", "--redirect-uri", redirect_uri])
        .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
        .args(["--auth-method", auth_method])
        .current_dir(provider_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start node provider.mjs");
    // Keep the provider's diagnostics, to show them if it fails to start.
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = log.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut l) = sink.lock() {
                l.push_str(&line);
                l.push('\n');
            }
        }
    });
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let issuer = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            if let Some(issuer) = line.strip_prefix("LISTENING ") {
                return Some(issuer.to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .unwrap_or_else(|| {
        panic!(
            "the OpenID provider did not start:\n{}",
            log.lock().map(|l| l.clone()).unwrap_or_default()
        )
    });
    // Drain stdout so the provider never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    Provider { issuer, _child: child }
}

// ---------------------------------------------------------------------------------------
// motcua
// ---------------------------------------------------------------------------------------

struct App {
    base: String,
    test_db: TestDb,
    _provider: Option<Provider>,
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The application under test.
fn app(state: AppState) -> axum::Router {
    motcua_server::router(state)
}

/// Starts motcua with the demo province and, unless `issuer` says otherwise, a provider.
async fn spawn(provider: Option<&str>, issuer_override: Option<&str>) -> App {
    let test_db = fresh_db().await;
    motcua_server::first_start(&test_db.db, true).await.expect("demo");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let provider = match provider {
        Some(method) => Some(start_provider(&format!("{base}/auth/sso/callback"), method).await),
        None => None,
    };
    let issuer = issuer_override
        .map(str::to_owned)
        .or_else(|| provider.as_ref().map(|p| p.issuer.clone()))
        .unwrap_or_default();
    let config = Config {
        data_dir: test_db.dir.path().to_owned(),
        public_url: base.clone(),
        oidc_issuer: issuer,
        oidc_client_id: CLIENT_ID.to_owned(),
        oidc_client_secret: CLIENT_SECRET.to_owned(),
        ..Config::default()
    };
    let state = AppState::new(test_db.db.clone(), config).expect("state");
    tokio::spawn(async move {
        let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    App {
        base,
        test_db,
        _provider: provider,
    }
}

// ---------------------------------------------------------------------------------------
// A browser, by hand
// ---------------------------------------------------------------------------------------

/// Follows nothing by itself and keeps cookies per site (host and port), which is all the
/// flow needs.
struct Browser {
    client: reqwest::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

fn site(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

struct Page {
    status: StatusCode,
    location: Option<Url>,
    set_cookies: Vec<String>,
    body: String,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            jar: HashMap::new(),
        }
    }

    fn cookie(&self, url: &Url, name: &str) -> Option<String> {
        self.jar.get(&site(url)).and_then(|c| c.get(name)).cloned()
    }

    async fn send(&mut self, req: reqwest::RequestBuilder, url: &Url) -> Page {
        let cookies = self
            .jar
            .get(&site(url))
            .map(|c| c.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
            .unwrap_or_default();
        let req = if cookies.is_empty() {
            req
        } else {
            req.header(COOKIE, cookies)
        };
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let set_cookies: Vec<String> = resp
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ascii cookie").to_owned())
            .collect();
        let jar = self.jar.entry(site(url)).or_default();
        for sc in &set_cookies {
            let pair = sc.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("cookie pair");
            let expired = value.is_empty() || sc.to_ascii_lowercase().contains("max-age=0");
            if expired {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .map(|l| url.join(l.to_str().expect("ascii location")).expect("location"));
        let body = resp.text().await.expect("body");
        Page {
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&mut self, url: &Url) -> Page {
        let req = self.client.get(url.clone());
        self.send(req, url).await
    }

    async fn post_form(&mut self, url: &Url, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(url.clone()).form(form);
        self.send(req, url).await
    }
}

fn parse(url: &str) -> Url {
    Url::parse(url).expect("url")
}

/// The `action` of the first form of a page, resolved against the page.
fn form_action(page_url: &Url, html: &str) -> Url {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = start + html[start..].find('"').expect("end of action");
    page_url
        .join(&html[start..end].replace("&amp;", "&"))
        .expect("action url")
}

/// Starts a login at motcua and plays the person at the provider (development login form
/// as `login`, then consent) until the provider sends the browser back. Returns the
/// callback address, not yet visited.
async fn through_provider(app: &App, b: &mut Browser, start_path: &str, login: &str) -> Url {
    let start = b.get(&parse(&app.url(start_path))).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let mut next = start.location.expect("redirect to the provider");
    for _ in 0..20 {
        if next.as_str().starts_with(&app.url("/auth/sso/callback")) {
            return next;
        }
        let page = b.get(&next).await;
        if let Some(location) = page.location {
            next = location;
            continue;
        }
        assert_eq!(page.status, StatusCode::OK, "{next}: {}", page.body);
        let action = form_action(&next, &page.body);
        let answer = if page.body.contains("name=\"login\"") {
            b.post_form(
                &action,
                &[("prompt", "login"), ("login", login), ("password", "bất kỳ")],
            )
            .await
        } else {
            b.post_form(&action, &[("prompt", "consent")]).await
        };
        next = answer.location.unwrap_or_else(|| panic!("{action}: {}", answer.body));
    }
    panic!("the provider never sent the browser back");
}

/// A complete login: through the provider, then the callback. Returns motcua's answer to
/// the callback and the callback address.
async fn sso_login(app: &App, b: &mut Browser, start_path: &str, login: &str) -> (Page, Url) {
    let callback = through_provider(app, b, start_path, login).await;
    (b.get(&callback).await, callback)
}

async fn me(app: &App, b: &Browser) -> (StatusCode, Value) {
    let url = parse(&app.url("/api/v1/auth/me"));
    let session = b.cookie(&url, "motcua_session").expect("a session cookie");
    let r = reqwest::Client::new()
        .get(url)
        .header(COOKIE, format!("motcua_session={session}"))
        .send()
        .await
        .expect("me");
    (r.status(), r.json().await.expect("json"))
}

fn query_param(url: &Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} in {url}"))
}

async fn audit_actions(app: &App) -> Vec<String> {
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    motcua_store::on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT action FROM audit_log WHERE chain = 'system' ORDER BY seq")
            .fetch_all(c)
            .await
    })
    .expect("audit")
}

async fn identities(app: &App) -> i64 {
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    motcua_store::on!(&mut tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM sso_identities")
        .fetch_one(c)
        .await)
    .expect("count")
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sso_login_creates_the_citizen_and_the_next_login_finds_the_same_account() {
    let app = spawn(Some("client_secret_basic"), None).await;
    let mut b = Browser::new();

    let (answer, callback) = sso_login(&app, &mut b, "/auth/sso/start?next=/thu-tuc", "citizen-001").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location.as_ref().map(Url::path), Some("/thu-tuc"));
    let session_cookie = answer
        .set_cookies
        .iter()
        .find(|c| c.starts_with("motcua_session="))
        .expect("session cookie");
    assert!(
        session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"),
        "{session_cookie}"
    );
    assert!(
        answer
            .set_cookies
            .iter()
            .any(|c| c.starts_with("motcua_sso_state=;") && c.contains("Max-Age=0")),
        "the state cookie is removed: {:?}",
        answer.set_cookies
    );

    let (status, first) = me(&app, &b).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["kind"], "citizen");
    assert_eq!(first["display_name"], "Nguyễn Thị Hoa");
    // The provider vouches for the email address and nobody uses it: it is the login name.
    assert_eq!(first["username"], "nguyenthihoa@example.vn");
    assert_eq!(first["grants"][0]["role"], "citizen");
    assert_eq!(first["grants"][0]["province"], PROVINCE);
    assert_eq!(first["must_change_password"], false);

    // The callback address cannot be used again, even with the state cookie put back.
    let replay = reqwest::Client::new()
        .get(callback.clone())
        .header(COOKIE, format!("motcua_sso_state={}", query_param(&callback, "state")))
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let body: Value = replay.json().await.expect("json");
    assert_eq!(body["code"], "invalid_state", "{body}");

    // Second login (the provider remembers the person, so no form this time): same account.
    let mut again = Browser::new();
    again.jar = b.jar.clone();
    let (answer, _) = sso_login(&app, &mut again, "/auth/sso/start", "citizen-001").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location.as_ref().map(Url::path), Some("/"));
    let (_, second) = me(&app, &again).await;
    assert_eq!(second["id"], first["id"]);
    assert_ne!(second["csrf_token"], first["csrf_token"], "a new session");
    assert_eq!(identities(&app).await, 1);

    // Another person with the same (already used) email address gets an account of their own.
    let mut other = Browser::new();
    let (answer, _) = sso_login(&app, &mut other, "/auth/sso/start", "citizen-002").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let (_, third) = me(&app, &other).await;
    assert_ne!(third["id"], first["id"]);
    let username = third["username"].as_str().expect("username");
    assert!(username.starts_with("sso:") && username.len() == 20, "{username}");
    assert!(
        !username.contains("citizen-002"),
        "the subject never shows in the username"
    );
    assert_eq!(identities(&app).await, 2);

    let actions = audit_actions(&app).await;
    let count = |a: &str| actions.iter().filter(|x| *x == a).count();
    assert_eq!(count("citizen.register_sso"), 2, "{actions:?}");
    assert_eq!(count("auth.sso_login"), 3, "{actions:?}");
    let report = motcua_store::audit::verify(&app.test_db.db).await.expect("verify");
    assert!(report.first_break.is_none(), "{report:?}");
}

#[tokio::test]
async fn client_secret_post_is_used_when_discovery_offers_only_that() {
    let app = spawn(Some("client_secret_post"), None).await;
    let mut b = Browser::new();
    let (answer, _) = sso_login(&app, &mut b, "/auth/sso/start", "citizen-003").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let (status, me) = me(&app, &b).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["kind"], "citizen");
}

#[tokio::test]
async fn tampered_foreign_missing_and_expired_states_are_refused() {
    let app = spawn(Some("client_secret_basic"), None).await;
    let mut b = Browser::new();
    let callback = through_provider(&app, &mut b, "/auth/sso/start", "citizen-004").await;
    let state = query_param(&callback, "state");
    let code = query_param(&callback, "code");
    let callback_with = |state: &str| {
        let mut u = parse(&app.url("/auth/sso/callback"));
        u.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
        u
    };
    let refused = |status: StatusCode, body: &str| {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["code"], "invalid_state", "{v}");
        assert!(v["message"].as_str().expect("message").contains("đăng nhập lại"), "{v}");
    };
    let plain = reqwest::Client::new();
    let get = |url: Url, cookie: Option<String>| {
        let mut req = plain.get(url);
        if let Some(c) = cookie {
            req = req.header(COOKIE, format!("motcua_sso_state={c}"));
        }
        async move {
            let r = req.send().await.expect("callback");
            (r.status(), r.text().await.expect("body"))
        }
    };

    // A state changed by one character, with a cookie to match.
    let mut tampered = state.clone();
    tampered.replace_range(0..1, if tampered.starts_with('A') { "B" } else { "A" });
    let (s, body) = get(callback_with(&tampered), Some(tampered.clone())).await;
    refused(s, &body);
    // The right state from a browser that did not start the login (no cookie, or another
    // login's cookie): login CSRF.
    let (s, body) = get(callback_with(&state), None).await;
    refused(s, &body);
    let mut stranger = Browser::new();
    let other_start = stranger.get(&parse(&app.url("/auth/sso/start"))).await;
    let other_state = query_param(other_start.location.as_ref().expect("location"), "state");
    let (s, body) = get(callback_with(&state), Some(other_state)).await;
    refused(s, &body);
    // None of that used the genuine state up: its own browser still finishes the login.
    let answer = b.get(&callback).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);

    // A state older than ten minutes.
    let old = "an-old-state-value";
    let mut tx = app.test_db.db.begin_write().await.expect("write");
    let now = motcua_server::now_ms();
    motcua_store::sso::create_state(
        &mut tx,
        &motcua_store::sso::SsoState {
            state_hash: motcua_server::auth::secret_hash(old),
            nonce: "n".to_owned(),
            pkce_verifier: "v".to_owned(),
            next_path: "/".to_owned(),
            created_at: now - 11 * 60_000,
            expires_at: now - 60_000,
        },
    )
    .await
    .expect("state");
    tx.commit().await.expect("commit");
    let (s, body) = get(callback_with(old), Some(old.to_owned())).await;
    refused(s, &body);
}

#[tokio::test]
async fn a_person_who_cancels_at_the_provider_gets_a_clear_message() {
    let app = spawn(Some("client_secret_basic"), None).await;
    let mut b = Browser::new();
    let start = b.get(&parse(&app.url("/auth/sso/start"))).await;
    let mut next = start.location.expect("to the provider");
    // Follow to the provider's login form, then press its "abort" link.
    let interaction = loop {
        let page = b.get(&next).await;
        match page.location {
            Some(l) => next = l,
            None => break next.clone(),
        }
    };
    let mut next = interaction
        .join(&format!("{}/abort", interaction.path()))
        .expect("abort");
    let callback = loop {
        if next.as_str().starts_with(&app.url("/auth/sso/callback")) {
            break next;
        }
        next = b.get(&next).await.location.expect("back towards motcua");
    };
    assert_eq!(query_param(&callback, "error"), "access_denied");
    let state = query_param(&callback, "state");
    let answer = b.get(&callback).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    let body: Value = serde_json::from_str(&answer.body).expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("không đồng ý chia sẻ thông tin"),
        "{body}"
    );
    // The login is over: its state cannot be used for a code afterwards.
    let mut forged = parse(&app.url("/auth/sso/callback"));
    forged
        .query_pairs_mut()
        .append_pair("code", "x")
        .append_pair("state", &state);
    let r = reqwest::Client::new()
        .get(forged)
        .header(COOKIE, format!("motcua_sso_state={state}"))
        .send()
        .await
        .expect("callback");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(identities(&app).await, 0);
}

#[tokio::test]
async fn without_an_issuer_sso_answers_404_and_next_must_stay_local() {
    let app = spawn(None, None).await;
    for path in ["/auth/sso/start", "/auth/sso/callback?code=x&state=y"] {
        let r = reqwest::get(app.url(path)).await.expect("get");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["code"], "not_found");
        assert!(
            body["message"].as_str().expect("message").contains("chưa được bật"),
            "{body}"
        );
    }

    // With SSO on, a `next` that leaves the site is refused before anything else happens
    // (this issuer is never contacted).
    let app = spawn(None, Some("http://127.0.0.1:9")).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for next in ["//evil.example/", "https://evil.example/", "/\\evil.example"] {
        let mut url = parse(&app.url("/auth/sso/start"));
        url.query_pairs_mut().append_pair("next", next);
        let r = client.get(url).send().await.expect("start");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{next}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["field"], "next", "{body}");
    }
    // An unreachable provider is a clear 503, not a crash.
    let r = client.get(app.url("/auth/sso/start")).send().await.expect("start");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.expect("json");
    assert!(
        body["message"]
            .as_str()
            .expect("message")
            .contains("định danh quốc gia"),
        "{body}"
    );
}
