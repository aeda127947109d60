//! Citizen self-registration through the API, with codes delivered for real: email to a
//! local SMTP server (aiosmtpd, `tests/support/smtp_sink.py`) and SMS to a local HTTP
//! receiver, on the backend the test run selects.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode as AxumStatus};
use common::smtp::SmtpSink;
use common::{TestApp, header};
use motcua_server::{AppState, Config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tower::ServiceExt;

const PASSWORD: &str = "mat-khau-cong-dan-2025";

/// What the SMS gateway received: the Authorization header and the JSON body.
type SmsRequest = (Option<String>, Value);

/// A local SMS gateway: records each request's Authorization header and body, and answers
/// with the status set in `status`.
#[derive(Clone)]
struct SmsSink {
    url: String,
    received: Arc<Mutex<Vec<SmsRequest>>>,
    status: Arc<Mutex<u16>>,
}

impl SmsSink {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200u16));
        let (r, s) = (received.clone(), status.clone());
        let app = axum::Router::new().route(
            "/send",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().expect("ascii").to_owned());
                    let body: Value = serde_json::from_str(&body).expect("the gateway gets JSON");
                    r.lock().expect("lock").push((auth, body));
                    let code = *s.lock().expect("lock");
                    AxumStatus::from_u16(code).expect("status")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/send", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, received, status }
    }

    fn received(&self) -> Vec<SmsRequest> {
        self.received.lock().expect("lock").clone()
    }
}

/// The app with the demo province (catalogue not loaded: registration needs only the
/// province) and `config` adjusted by the test.
async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let test_db = motcua_store::testing::fresh_db().await;
    {
        let mut tx = test_db.db.begin_write().await.expect("begin");
        let province = motcua_core::demo::ninh_thuan().province;
        motcua_store::catalogue::upsert_province(&mut tx, &province, time::OffsetDateTime::now_utc())
            .await
            .expect("province");
        tx.commit().await.expect("commit");
    }
    let mut config = Config {
        data_dir: test_db.dir.path().to_owned(),
        smtp_from: "motcua@h43.test".to_owned(),
        ..Config::default()
    };
    adjust(&mut config);
    let state = AppState::new(test_db.db.clone(), config).expect("state");
    let app = with_citizen_routes(state).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    TestApp {
        base,
        client: reqwest::Client::new(),
        test_db,
        clock: motcua_server::state::Clock::default(),
    }
}

/// The real router, plus the citizen routes if it does not serve them yet (they are
/// merged into `api::router` separately; once they are, this adds nothing).
async fn with_citizen_routes(state: AppState) -> axum::Router {
    let app = motcua_server::router(state.clone());
    let probe = Request::post("/api/v1/citizens/resend")
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .expect("request");
    let routed = app.clone().oneshot(probe).await.expect("probe").status() != AxumStatus::NOT_FOUND;
    if routed {
        app
    } else {
        axum::Router::new()
            .merge(motcua_server::api::citizens::routes())
            .with_state(state)
            .merge(app)
    }
}

/// A response: status, the raw text (to check what it does not contain) and the JSON.
struct Answer {
    status: StatusCode,
    text: String,
    json: Value,
    cookie: Option<String>,
}

/// Posts JSON anonymously: the answer.
async fn post_anonymous(app: &TestApp, path: &str, body: &Value) -> Answer {
    let r = app.client.post(app.url(path)).json(body).send().await.expect("send");
    let status = r.status();
    let cookie = header(&r, "set-cookie").map(|c| c.split(';').next().expect("pair").to_owned());
    let text = r.text().await.expect("text");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        text,
        json,
        cookie,
    }
}

async fn register(app: &TestApp, body: Value) -> Answer {
    post_anonymous(app, "/api/v1/citizens/register", &body).await
}

async fn confirm(app: &TestApp, id: &str, code: &str) -> Answer {
    post_anonymous(
        app,
        "/api/v1/citizens/confirm",
        &json!({"registration_id": id, "code": code}),
    )
    .await
}

/// The only run of exactly six digits in `text`.
fn six_digits(text: &str) -> String {
    let runs: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| r.len() == 6)
        .collect();
    assert_eq!(runs.len(), 1, "one code in «{text}»");
    runs[0].to_owned()
}

/// A different valid-looking code.
fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

async fn sql_exec(app: &TestApp, sql: &str, id: &str) {
    let mut tx = app.test_db.db.begin_write().await.expect("begin");
    motcua_store::exec!(&mut tx, |c| sqlx::query(sql).bind(id).execute(c).await).expect("update");
    tx.commit().await.expect("commit");
}

async fn pending_rows(app: &TestApp, username: &str) -> i64 {
    let mut tx = app.test_db.db.begin_read().await.expect("begin");
    motcua_store::on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM citizen_registrations WHERE username = $1")
            .bind(username)
            .fetch_one(c)
            .await
    })
    .expect("count")
}

/// Checks the answer to a registration whose code could not be sent: a 503 whose message
/// names the channel (`by`), and nothing kept for `contact`.
async fn assert_not_delivered(app: &TestApp, answer: &Answer, by: &str, contact: &str) {
    assert_eq!(
        (answer.status, answer.json["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("delivery_failed")),
        "{}",
        answer.text
    );
    assert!(answer.json["message"].as_str().expect("message").contains(by));
    assert_eq!(pending_rows(app, contact).await, 0);
}

async fn me(app: &TestApp, cookie: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("me");
    (r.status(), r.json().await.expect("json"))
}

#[tokio::test]
async fn email_code_confirms_the_account_and_signs_in() {
    let smtp = SmtpSink::start().await;
    let app = spawn_with(|c| {
        c.smtp_host = "127.0.0.1".to_owned();
        c.smtp_port = smtp.port;
        c.smtp_security = "none".to_owned();
    })
    .await;
    // The name typed in decomposed form (NFD) is stored composed (NFC).
    let nfd_name: String = unicode_normalization::UnicodeNormalization::nfd("Nguyễn Thị Hoà").collect();
    let reg = register(
        &app,
        json!({"display_name": nfd_name, "email": " Hoa.Nguyen@Example.VN ", "phone": "0912 345 678", "password": PASSWORD}),
    )
    .await;
    assert_eq!(reg.status, StatusCode::ACCEPTED, "{}", reg.text);
    assert_eq!(reg.json["channel"], "email");
    assert_eq!(reg.json["destination"], "h********n@example.vn");
    assert_eq!(reg.json["expires_in_seconds"], 600);
    let id = reg.json["registration_id"].as_str().expect("id").to_owned();

    let mail = smtp.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["hoa.nguyen@example.vn"]));
    assert_eq!(mail["mail_from"], "motcua@h43.test");
    assert_eq!(mail["subject"], "Mã xác nhận đăng ký tài khoản dịch vụ công");
    let text = mail["text"].as_str().expect("plain-text body");
    assert!(
        text.contains("Xin chào Nguyễn Thị Hoà") && text.contains("10 phút"),
        "{text}"
    );
    let code = six_digits(text);
    assert!(mail["html"].as_str().expect("html body").contains(&code));
    assert!(!reg.text.contains(&code), "the code is never in an answer");

    // No account exists before the code is confirmed.
    let login = post_anonymous(
        &app,
        "/api/v1/auth/login",
        &json!({"username": "hoa.nguyen@example.vn", "password": PASSWORD}),
    )
    .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);

    let wrong = confirm(&app, &id, &other_code(&code)).await;
    assert_eq!(
        (wrong.status, wrong.json["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("wrong_code")),
        "{}",
        wrong.text
    );
    assert!(wrong.json["message"].as_str().expect("message").contains("còn 4 lần"));
    let malformed = confirm(&app, &id, "12a45").await;
    assert_eq!(malformed.json["code"], "invalid_code");

    let ok = confirm(&app, &id, &code).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert!(!ok.text.contains(&code));
    assert_eq!(ok.json["username"], "hoa.nguyen@example.vn");
    assert_eq!(ok.json["display_name"], "Nguyễn Thị Hoà");
    assert_eq!(ok.json["kind"], "citizen");
    assert_eq!(
        ok.json["grants"],
        json!([{"role": "citizen", "province": "000.00.00.H43", "agency": "000.00.00.H43"}])
    );
    let cookie = ok.cookie.expect("session cookie");
    let (status, who) = me(&app, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(who["username"], "hoa.nguyen@example.vn");
    assert_eq!(who["csrf_token"], ok.json["csrf_token"]);

    // The code is used up; the password works for login.
    let again = confirm(&app, &id, &code).await;
    assert_eq!(
        (again.status, again.json["code"].as_str()),
        (StatusCode::GONE, Some("registration_used"))
    );
    let login = post_anonymous(
        &app,
        "/api/v1/auth/login",
        &json!({"username": "HOA.NGUYEN@example.vn", "password": PASSWORD}),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);

    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let (user, _) = motcua_store::accounts::user_by_username(&mut tx, "hoa.nguyen@example.vn")
        .await
        .expect("query")
        .expect("user");
    assert_eq!(user.phone, "0912345678");
    assert_eq!(user.email, "hoa.nguyen@example.vn");
    let entries = motcua_store::audit::list(
        &mut tx,
        &motcua_store::audit::AuditFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .expect("audit");
    drop(tx);
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "citizen.register_request",
        "citizen.confirm_failed",
        "citizen.register",
        "auth.login",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let created = entries
        .iter()
        .find(|e| e.action == "citizen.register")
        .expect("register");
    assert_eq!(created.object_id, user.id);
    assert_eq!(created.province_code.as_deref(), Some("000.00.00.H43"));
    for e in &entries {
        let dump = format!("{:?} {:?}", e.before, e.after);
        assert!(!dump.contains(&code), "no code in the audit trail: {dump}");
    }
    let report = motcua_store::audit::verify(&app.test_db.db).await.expect("verify");
    assert!(report.first_break.is_none(), "{report:?}");
}

#[tokio::test]
async fn sms_code_goes_through_the_gateway_and_can_be_resent() {
    let sms = SmsSink::start().await;
    let app = spawn_with(|c| {
        c.sms_url = sms.url.clone();
        c.sms_authorization = "Bearer sms-gateway-secret".to_owned();
        c.sms_body_template = r#"{"to":"{phone}","text":"{message}","brandname":"MOTCUA"}"#.to_owned();
    })
    .await;
    let reg = register(
        &app,
        json!({"display_name": "Trần Văn Bình", "phone": "+84 987 654 321", "password": PASSWORD}),
    )
    .await;
    assert_eq!(reg.status, StatusCode::ACCEPTED, "{}", reg.text);
    assert_eq!(reg.json["channel"], "sms");
    assert_eq!(reg.json["destination"], "0********1");
    let id = reg.json["registration_id"].as_str().expect("id").to_owned();
    let got = sms.received();
    assert_eq!(got.len(), 1);
    let (auth, body) = &got[0];
    assert_eq!(auth.as_deref(), Some("Bearer sms-gateway-secret"));
    assert_eq!(body["to"], "0987654321");
    assert_eq!(body["brandname"], "MOTCUA");
    let text = body["text"].as_str().expect("text");
    assert!(text.starts_with("Mã xác nhận"), "{text}");
    assert!(text.chars().count() <= 70, "one Unicode SMS segment: {text}");
    let first_code = six_digits(text);
    assert!(!reg.text.contains(&first_code));

    // Too soon for another code; once the minute has passed, a new code replaces the old.
    let soon = post_anonymous(&app, "/api/v1/citizens/resend", &json!({"registration_id": id})).await;
    assert_eq!(
        (soon.status, soon.json["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("resend_too_soon"))
    );
    sql_exec(
        &app,
        "UPDATE citizen_registrations SET sent_at = sent_at - 61000 WHERE id = $1",
        &id,
    )
    .await;
    let resent = post_anonymous(&app, "/api/v1/citizens/resend", &json!({"registration_id": id})).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    assert_eq!(resent.json["registration_id"], id.as_str());
    let got = sms.received();
    assert_eq!(got.len(), 2);
    let code = six_digits(got[1].1["text"].as_str().expect("text"));
    assert!(!resent.text.contains(&code));
    if code != first_code {
        let old = confirm(&app, &id, &first_code).await;
        assert_eq!(old.json["code"], "wrong_code", "the old code no longer works");
    }

    let ok = confirm(&app, &id, &code).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(ok.json["username"], "0987654321");
    let (status, who) = me(&app, &ok.cookie.expect("cookie")).await;
    assert_eq!((status, who["kind"].as_str()), (StatusCode::OK, Some("citizen")));

    // A gateway that refuses: a clear 503, and nothing is stored.
    *sms.status.lock().expect("lock") = 500;
    let refused = register(
        &app,
        json!({"display_name": "Lê Thị Cúc", "phone": "0355555555", "password": PASSWORD}),
    )
    .await;
    assert_not_delivered(&app, &refused, "tin nhắn", "0355555555").await;
}

#[tokio::test]
async fn expired_and_exhausted_codes_are_refused() {
    let sms = SmsSink::start().await;
    let app = spawn_with(|c| c.sms_url = sms.url.clone()).await;
    let code_of = |i: usize| six_digits(sms.received()[i].1["text"].as_str().expect("text"));

    // Expired: even the right code is refused, and a resend gives a working one.
    let reg = register(
        &app,
        json!({"display_name": "Phạm Văn Dũng", "phone": "0901234567", "password": PASSWORD}),
    )
    .await;
    assert_eq!(reg.status, StatusCode::ACCEPTED, "{}", reg.text);
    let id = reg.json["registration_id"].as_str().expect("id").to_owned();
    sql_exec(
        &app,
        "UPDATE citizen_registrations SET expires_at = expires_at - 601000, sent_at = sent_at - 601000 WHERE id = $1",
        &id,
    )
    .await;
    let expired = confirm(&app, &id, &code_of(0)).await;
    assert_eq!(
        (expired.status, expired.json["code"].as_str()),
        (StatusCode::GONE, Some("code_expired")),
        "{}",
        expired.text
    );
    assert!(expired.json["message"].as_str().expect("message").contains("hết hạn"));
    let resent = post_anonymous(&app, "/api/v1/citizens/resend", &json!({"registration_id": id})).await;
    assert_eq!(resent.status, StatusCode::ACCEPTED, "{}", resent.text);
    assert_eq!(confirm(&app, &id, &code_of(1)).await.status, StatusCode::CREATED);

    // Too many attempts: four wrong codes count down, the fifth uses the code up, and then
    // even the right code is refused.
    let reg = register(
        &app,
        json!({"display_name": "Võ Thị Én", "phone": "0701234567", "password": PASSWORD}),
    )
    .await;
    let id = reg.json["registration_id"].as_str().expect("id").to_owned();
    let code = code_of(2);
    let wrong = other_code(&code);
    for left in (1..=4).rev() {
        let a = confirm(&app, &id, &wrong).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
        assert!(
            a.json["message"]
                .as_str()
                .expect("message")
                .contains(&format!("còn {left} lần")),
            "{}",
            a.text
        );
    }
    let fifth = confirm(&app, &id, &wrong).await;
    assert_eq!(
        (fifth.status, fifth.json["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    let right = confirm(&app, &id, &code).await;
    assert_eq!(right.json["code"], "too_many_attempts", "{}", right.text);
    assert!(
        post_anonymous(
            &app,
            "/api/v1/auth/login",
            &json!({"username": "0701234567", "password": PASSWORD})
        )
        .await
        .status
            == StatusCode::UNAUTHORIZED
    );

    let unknown = confirm(&app, "no-such-registration", "123456").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_taken_login_name_is_a_conflict() {
    let sms = SmsSink::start().await;
    let app = spawn_with(|c| c.sms_url = sms.url.clone()).await;
    let form = json!({"display_name": "Đặng Văn Phúc", "phone": "0861234567", "password": PASSWORD});
    // Two registrations of the same number, both pending: the first confirmed wins.
    let first = register(&app, form.clone()).await;
    let second = register(&app, form.clone()).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    let codes: Vec<String> = sms
        .received()
        .iter()
        .map(|(_, b)| six_digits(b["text"].as_str().expect("text")))
        .collect();
    let ok = confirm(&app, first.json["registration_id"].as_str().expect("id"), &codes[0]).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let late = confirm(&app, second.json["registration_id"].as_str().expect("id"), &codes[1]).await;
    assert_eq!(
        (late.status, late.json["code"].as_str()),
        (StatusCode::CONFLICT, Some("username_taken")),
        "{}",
        late.text
    );
    assert!(
        late.json["message"]
            .as_str()
            .expect("message")
            .contains("Số điện thoại này")
    );
    // Once the account exists, registering the number again is refused before any SMS.
    let again = register(&app, form).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(sms.received().len(), 2);
}

#[tokio::test]
async fn without_a_channel_registration_is_refused_clearly() {
    let app = spawn_with(|_| {}).await;
    let r = register(
        &app,
        json!({"display_name": "Bùi Thị Giang", "email": "giang@example.vn", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        (r.status, r.json["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("channel_unavailable")),
        "{}",
        r.text
    );
    assert!(
        r.json["message"]
            .as_str()
            .expect("message")
            .contains("chưa được cấu hình")
    );
    assert_eq!(pending_rows(&app, "giang@example.vn").await, 0);

    // Email is configured but the citizen gave only a phone number.
    let app = spawn_with(|c| c.smtp_host = "127.0.0.1".to_owned()).await;
    let r = register(
        &app,
        json!({"display_name": "Bùi Thị Giang", "phone": "0391234567", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.json["message"].as_str().expect("message").contains("email"),
        "{}",
        r.text
    );

    // An SMTP server that cannot be reached: a clear 503, and nothing is stored.
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let app = spawn_with(|c| {
        c.smtp_host = "127.0.0.1".to_owned();
        c.smtp_port = closed_port;
    })
    .await;
    let r = register(
        &app,
        json!({"display_name": "Bùi Thị Giang", "email": "giang@example.vn", "password": PASSWORD}),
    )
    .await;
    assert_not_delivered(&app, &r, "email", "giang@example.vn").await;

    // In development, the code may go to the log instead; it is still not in the answer.
    let app = spawn_with(|c| c.dev_log_codes = true).await;
    let r = register(
        &app,
        json!({"display_name": "Bùi Thị Giang", "phone": "0391234567", "password": PASSWORD}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    assert_eq!(r.json.as_object().expect("object").len(), 5);
    assert!(r.json.get("code").is_none());
}

#[tokio::test]
async fn forms_are_checked_and_requests_rate_limited() {
    let sms = SmsSink::start().await;
    let app = spawn_with(|c| {
        c.sms_url = sms.url.clone();
        c.login_rate_per_minute = 6;
    })
    .await;
    let cases = [
        (
            json!({"display_name": "Hà", "password": PASSWORD}),
            "contact_required",
            "email",
        ),
        (
            json!({"display_name": "Hà", "email": "ha@", "password": PASSWORD}),
            "invalid_email",
            "email",
        ),
        (
            json!({"display_name": "Hà", "phone": "0212345678", "password": PASSWORD}),
            "invalid_phone",
            "phone",
        ),
        (
            json!({"display_name": "Hà", "phone": "0912345678", "password": "ngan"}),
            "weak_password",
            "password",
        ),
        (
            json!({"display_name": " ", "phone": "0912345678", "password": PASSWORD}),
            "invalid_name",
            "display_name",
        ),
    ];
    for (body, code, field) in cases {
        let r = register(&app, body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(
            (r.json["code"].as_str(), r.json["field"].as_str()),
            (Some(code), Some(field))
        );
    }
    assert!(sms.received().is_empty());
    let ok = register(
        &app,
        json!({"display_name": "Hà", "phone": "0912345678", "password": PASSWORD}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.text);
    // The seventh request this minute from this address.
    let limited = confirm(&app, ok.json["registration_id"].as_str().expect("id"), "000000").await;
    assert_eq!(
        (limited.status, limited.json["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_requests"))
    );
}
