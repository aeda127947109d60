//! Guaranteed delivery through the outbox, on the backend the test run selects: the
//! national portal sync over a dossier's whole life, citizen email (a real SMTP server,
//! aiosmtpd) and SMS (a local HTTP gateway), a receiver outage, dead-lettering and the
//! operator's retry (API and page), signed webhooks, a worker killed mid-send, and two
//! workers on one database delivering each event exactly once.

mod common;

use common::pages::{browser, page, page_ok};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use common::api::{act_ok, delete, get, post, procedure_of};
use common::files::upload_pdf;
use common::intake::{Reach, counter_intake, file_dossier};
use common::smtp::SmtpSink;
use common::{CONSTRUCTION, LLTP, Session, TestApp, at, sign_in, sign_in_each};
use motcua_server::outbox::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Worker, WorkerHandle, verify};
use motcua_server::state::Clock;
use motcua_server::{AppState, Config};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

// ---------------------------------------------------------------------------------------
// Receivers

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A local HTTP receiver (the portal, a webhook subscriber, the SMS gateway): records
/// every request and answers with the status set in `status`; while `hold` is set it
/// records the request and never answers.
impl Received {
    /// Whether the request carries a signature of its body and timestamp under `secret`,
    /// sent within the last five minutes, checked as the documentation tells receivers to.
    fn verifies(&self, secret: &str) -> bool {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        verify(
            secret,
            self.headers.get(TIMESTAMP_HEADER).map_or("", String::as_str),
            self.headers.get(SIGNATURE_HEADER).map_or("", String::as_str),
            &self.body,
            now,
            300,
        )
    }
}

#[derive(Clone)]
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
    hold: Arc<Mutex<bool>>,
    delay: Duration,
}

impl Receiver {
    async fn start() -> Self {
        Self::start_with(
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind"),
            Duration::ZERO,
        )
        .await
    }

    async fn start_with(listener: tokio::net::TcpListener, delay: Duration) -> Self {
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let r = Receiver {
            url,
            received: Arc::new(Mutex::new(Vec::new())),
            status: Arc::new(Mutex::new(200)),
            hold: Arc::new(Mutex::new(false)),
            delay,
        };
        let me = r.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let me = me.clone();
                async move {
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                        .collect();
                    me.received.lock().expect("lock").push(Received {
                        headers,
                        body: body.to_vec(),
                    });
                    if *me.hold.lock().expect("lock") {
                        std::future::pending::<()>().await;
                    }
                    tokio::time::sleep(me.delay).await;
                    let code = *me.status.lock().expect("lock");
                    AxumStatus::from_u16(code).expect("status")
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        r
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn set_status(&self, code: u16) {
        *self.status.lock().expect("lock") = code;
    }

    /// Waits until at least `n` requests arrived.
    async fn wait_for(&self, n: usize, what: &str) -> Vec<Received> {
        for _ in 0..600 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what}: expected {n} requests, got {}", self.received().len());
    }
}

// ---------------------------------------------------------------------------------------
// The app

/// The app with the demo province, quick delivery settings adjusted by the test, and a
/// clock standing at `t`. The worker is not started: tests start (and kill) their own.
async fn spawn_with(t: OffsetDateTime, adjust: impl FnOnce(&mut Config)) -> (TestApp, AppState) {
    let test_db = motcua_store::testing::fresh_db().await;
    motcua_server::first_start(&test_db.db, true).await.expect("demo");
    let mut config = Config {
        data_dir: test_db.dir.path().to_owned(),
        smtp_from: "motcua@h43.test".to_owned(),
        public_url: "https://motcua.h43.test".to_owned(),
        outbox_poll_millis: 50,
        outbox_backoff_seconds: 1,
        outbox_backoff_max_seconds: 2,
        ..Config::default()
    };
    adjust(&mut config);
    let mut state = AppState::new(test_db.db.clone(), config).expect("state");
    let clock = Clock::fixed(t);
    state.set_clock(clock.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = motcua_server::router(state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    (
        TestApp {
            base,
            client: reqwest::Client::new(),
            test_db,
            clock,
        },
        state,
    )
}

fn start_worker(state: &AppState) -> WorkerHandle {
    Worker::new(state.clone()).expect("worker").spawn()
}

/// Files a dossier at the counter (accepted at once) for an applicant with both an
/// email address and a mobile number.
async fn file_reachable(app: &TestApp, counter: &Session, procedure: &str) -> Value {
    let body = counter_intake(app, procedure, Reach::MobileAndEmail).await;
    file_dossier(app, counter, body).await
}

/// `s` subscribes a webhook (`{"url": …, "events": […]}`): status and subscription.
async fn add_webhook(app: &TestApp, s: &Session, body: Value) -> (StatusCode, Value) {
    post(app, s, "/api/v1/admin/webhooks", body).await
}

/// The deliveries of the province in `state`, through the operations API.
async fn deliveries(app: &TestApp, admin: &Session, state: &str) -> Value {
    let (status, v) = get(app, admin, &format!("/api/v1/admin/deliveries?state={state}&limit=200")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// Waits until no delivery is pending or failed.
async fn wait_settled(app: &TestApp, admin: &Session) -> Value {
    for _ in 0..600 {
        let v = deliveries(app, admin, "failed").await;
        if v["counts"]["pending"] == 0 && v["counts"]["failed"] == 0 {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("deliveries never settled: {}", deliveries(app, admin, "failed").await);
}

// ---------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn a_dossiers_whole_life_reaches_the_portal_and_the_applicant_in_order() {
    let portal = Receiver::start().await;
    let sms = Receiver::start().await;
    let smtp = SmtpSink::start().await;
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.portal_url = portal.url.clone();
        c.portal_token = "portal-t0ken".to_owned();
        c.smtp_host = "127.0.0.1".to_owned();
        c.smtp_port = smtp.port;
        c.sms_url = sms.url.clone();
        c.sms_authorization = "Bearer sms-key".to_owned();
    })
    .await;
    let worker = start_worker(&state);
    let [counter, leader, officer, admin] =
        sign_in_each(&app, ["tiepnhan", "ld.xaydung", "cv.xaydung", "quantri"]).await;

    let code = procedure_of(&app, CONSTRUCTION).await;
    let filed = file_reachable(&app, &counter, &code).await;
    let dossier = filed["code"].as_str().expect("code").to_owned();
    let due0 = filed["due_at"].as_str().expect("due").to_owned();
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    act_ok(&app, &counter, &dossier, "transfer", json!({})).await;
    act_ok(&app, &leader, &dossier, "assign", json!({"user": "cv.xaydung"})).await;
    app.clock.set(datetime!(2026-11-03 09:00 +07:00));
    act_ok(
        &app,
        &officer,
        &dossier,
        "request-supplement",
        json!({"missing": ["Bản vẽ mặt bằng công trình có chữ ký của chủ đầu tư"], "reason": "Bản vẽ thiếu chữ ký"}),
    )
    .await;
    app.clock.set(datetime!(2026-11-05 09:00 +07:00));
    let scan = upload_pdf(&app, &counter, "ban-ve.pdf").await;
    act_ok(&app, &counter, &dossier, "receive-supplement", json!({"files": [scan]})).await;
    act_ok(
        &app,
        &officer,
        &dossier,
        "request-payment",
        json!({"amount": 150000, "note": "Lệ phí"}),
    )
    .await;
    let v = act_ok(
        &app,
        &counter,
        &dossier,
        "confirm-payment",
        json!({"amount": 150000, "reference": "BL-0001"}),
    )
    .await;
    let due = at(v["due_at"].as_str().expect("due"));
    let new_due = motcua_core::calendar::Calendar::standard()
        .add_working_days(due, 3)
        .expect("new due");
    act_ok(
        &app,
        &leader,
        &dossier,
        "apologise",
        json!({"reason": "Cần khảo sát thực địa", "new_due": new_due.format(&Rfc3339).expect("fmt")}),
    )
    .await;
    app.clock.set(datetime!(2026-11-10 15:00 +07:00));
    let result = upload_pdf(&app, &leader, "giay-phep.pdf").await;
    act_ok(&app, &leader, &dossier, "finish", json!({"result_files": [result]})).await;
    app.clock.set(datetime!(2026-11-11 08:00 +07:00));
    act_ok(
        &app,
        &counter,
        &dossier,
        "return",
        json!({"method": "post", "tracking_number": "EB123456789VN"}),
    )
    .await;

    // The portal: one request per change, in order, with the configured credentials.
    let got = portal.wait_for(11, "portal").await;
    wait_settled(&app, &admin).await;
    let got = if got.len() > 11 { portal.received() } else { got };
    assert_eq!(got.len(), 11, "one per change, none twice");
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();
    let actions: Vec<&str> = bodies.iter().map(|b| b["ThaoTac"].as_str().expect("action")).collect();
    assert_eq!(
        actions,
        [
            "file",
            "accept",
            "transfer",
            "assign",
            "request-supplement",
            "receive-supplement",
            "request-payment",
            "confirm-payment",
            "apologise",
            "finish",
            "return"
        ]
    );
    let statuses: Vec<u64> = bodies
        .iter()
        .map(|b| b["TrangThaiHoSo"].as_u64().expect("status"))
        .collect();
    assert_eq!(statuses[1..], [2, 4, 4, 5, 4, 6, 4, 4, 9, 10]);
    for r in &got {
        assert_eq!(r.headers["authorization"], "Bearer portal-t0ken");
        assert!(r.headers["x-motcua-event-id"].parse::<i64>().is_ok());
    }
    let first = &bodies[1];
    assert_eq!(first["MaHoSo"], json!(dossier));
    assert_eq!(first["MaTTHC"], json!(code));
    assert_eq!(first["KenhThucHien"], 1);
    assert!(first["LoaiDoiTuong"] == 1 || first["LoaiDoiTuong"] == 2);
    assert_eq!(first["NgayTiepNhan"], "20261102080000");
    let due0 = at(&due0);
    assert_eq!(
        first["NgayHenTra"],
        json!(motcua_server::outbox::portal::portal_time(due0))
    );
    assert_eq!(first["NgayTra"], Value::Null);
    assert_eq!(first["DanhSachGiayToKetQua"], json!([]));
    // Progress grows by one entry per change.
    for (i, b) in bodies.iter().enumerate() {
        assert_eq!(b["QuaTrinhXuLy"].as_array().expect("progress").len(), i + 1, "{b}");
    }
    let last = bodies.last().expect("last");
    assert_eq!(last["TrangThaiHoSo"], 10);
    assert_eq!(last["NgayTra"], "20261111080000");
    assert_eq!(last["DanhSachGiayToKetQua"][0]["TenGiayTo"], "giay-phep.pdf");
    assert_eq!(last["DanhSachThanhToan"][0]["SoTien"], 150000);
    let text = last.to_string();
    assert!(!text.contains("Nguyễn Văn An") && !text.contains("0912345678") && !text.contains("058190000123"));

    // The applicant: one email and one SMS for each change they are told about.
    let emails = smtp.wait_for(7).await;
    let subjects: Vec<&str> = emails.iter().map(|m| m["subject"].as_str().expect("subject")).collect();
    assert_eq!(
        subjects,
        [
            format!("Hồ sơ {dossier} đã được tiếp nhận"),
            format!("Hồ sơ {dossier} cần bổ sung, hoàn thiện"),
            format!("Hồ sơ {dossier}: đề nghị thực hiện nghĩa vụ tài chính"),
            format!("Hồ sơ {dossier}: đã nhận khoản nộp"),
            format!("Hồ sơ {dossier}: xin lỗi và hẹn lại ngày trả kết quả"),
            format!("Hồ sơ {dossier} đã có kết quả"),
            format!("Hồ sơ {dossier} đã được trả kết quả"),
        ]
    );
    for m in &emails {
        assert_eq!(m["rcpt_tos"], json!(["an@example.vn"]));
        assert!(m["html"].as_str().expect("html").contains("<p>"), "{m}");
    }
    let accept = emails[0]["text"].as_str().expect("text");
    let due_text = motcua_server::outbox::messages::vn_datetime(due0);
    assert!(accept.contains(&dossier) && accept.contains(&due_text), "{accept}");
    let supplement = emails[1]["text"].as_str().expect("text");
    assert!(
        supplement.contains("Bản vẽ mặt bằng công trình có chữ ký của chủ đầu tư")
            && supplement.contains("Bản vẽ thiếu chữ ký")
    );
    assert!(emails[2]["text"].as_str().expect("text").contains("150.000"));
    assert!(emails[3]["text"].as_str().expect("text").contains("BL-0001"));
    let apology = emails[4]["text"].as_str().expect("text");
    assert!(
        apology.contains(&motcua_server::outbox::messages::vn_datetime(new_due)) && apology.contains("khảo sát"),
        "{apology}"
    );
    assert!(emails[6]["text"].as_str().expect("text").contains("EB123456789VN"));
    let texts = sms.wait_for(7, "sms").await;
    assert_eq!(texts.len(), 7);
    for t in &texts {
        assert_eq!(t.headers["authorization"], "Bearer sms-key");
        assert_eq!(t.json()["to"], "0912345678");
    }
    assert!(texts[0].json()["text"].as_str().expect("text").contains(&due_text));

    let settled = deliveries(&app, &admin, "delivered").await;
    assert_eq!(settled["items"].as_array().expect("items").len(), 11 + 7 + 7);

    // The result-ready notice carries a rating code to the applicant alone: the same code
    // by email and SMS, one that rates the dossier by link where the receipt's tracking
    // secret does not, held by no staff view and no delivery listing, and kept in the
    // database only as a hash once sent.
    let after = |text: &str, marker: &str| -> String {
        let at = text.find(marker).unwrap_or_else(|| panic!("«{marker}» in {text}")) + marker.len();
        text[at..].chars().take(8).collect()
    };
    let by_email = after(emails[5]["text"].as_str().expect("text"), "mã đánh giá ");
    let by_sms = after(
        texts[5].json()["text"].as_str().expect("text"),
        "Mã đánh giá hài lòng: ",
    );
    assert_eq!(by_email, by_sms, "one code per notice");
    assert_eq!(by_email.len(), 8);
    for (i, m) in emails.iter().enumerate().filter(|(i, _)| *i != 5) {
        assert!(
            !m["text"].as_str().expect("text").contains(&by_email),
            "only the result notice: {i}"
        );
    }
    assert!(
        emails[5]["text"]
            .as_str()
            .expect("text")
            .contains(&format!("https://motcua.h43.test/danh-gia/{dossier}")),
        "the link"
    );
    let listed = format!(
        "{}{}",
        deliveries(&app, &admin, "delivered").await,
        get(&app, &counter, &format!("/api/v1/dossiers/{dossier}")).await.1
    );
    assert!(!listed.contains(&by_email), "no staff view holds the code");
    let mut tx = state.db.begin_read().await.expect("read");
    let kept: Vec<Option<String>> = motcua_store::on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT secret FROM deliveries WHERE secret IS NOT NULL")
            .fetch_all(c)
            .await
    })
    .expect("secrets");
    drop(tx);
    assert!(kept.is_empty(), "sent codes are not kept in plain: {kept:?}");
    let link = format!("/api/v1/track/{dossier}/rating");
    let secret = filed["tracking_secret"].as_str().expect("secret");
    let rate = |rating_code: String| {
        let request = app
            .client
            .post(app.url(&link))
            .json(&json!({"rating_code": rating_code, "rating": "satisfied"}));
        async move { request.send().await.expect("rate").status() }
    };
    assert_eq!(
        rate(secret.to_owned()).await,
        StatusCode::NOT_FOUND,
        "the receipt's secret does not rate"
    );
    assert_eq!(
        rate(by_sms).await,
        StatusCode::CREATED,
        "the code sent to the applicant does"
    );
    worker.stop().await;
}

#[tokio::test]
async fn events_wait_out_a_receiver_outage_and_arrive_in_order() {
    // The portal is down: nothing listens on its port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.portal_url = format!("http://127.0.0.1:{port}/hook");
        c.portal_username = "h43".to_owned();
        c.portal_password = "mật-khẩu".to_owned();
    })
    .await;
    let worker = start_worker(&state);
    let [counter, admin] = sign_in_each(&app, ["tiepnhan", "quantri"]).await;
    let filed = file_reachable(&app, &counter, LLTP).await;
    let dossier = filed["code"].as_str().expect("code").to_owned();
    act_ok(&app, &counter, &dossier, "transfer", json!({})).await;

    // The first change fails and is retried; the later ones wait behind it.
    let failed = loop {
        let v = deliveries(&app, &admin, "failed").await;
        let items = v["items"].as_array().expect("items").clone();
        if let Some(d) = items.iter().find(|d| d["attempts"].as_i64() >= Some(2)) {
            assert_eq!(items.len(), 1, "only the first in line is tried: {v}");
            assert_eq!(v["counts"]["pending"], 2, "the later changes wait: {v}");
            break d.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(failed["destination"], "portal");
    assert_eq!(failed["kind"], "dossier.file");
    assert!(
        failed["last_error"]
            .as_str()
            .expect("error")
            .contains("connection failed"),
        "{failed}"
    );

    // The portal comes back on the same address: everything arrives, in order, once.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("rebind");
    let portal = Receiver::start_with(listener, Duration::ZERO).await;
    let got = portal.wait_for(3, "portal after the outage").await;
    wait_settled(&app, &admin).await;
    let got = if got.len() > 3 { portal.received() } else { got };
    let actions: Vec<Value> = got.iter().map(|r| r.json()["ThaoTac"].clone()).collect();
    assert_eq!(actions, [json!("file"), json!("accept"), json!("transfer")]);
    let basic = format!("Basic {}", base64_encode("h43:mật-khẩu".as_bytes()));
    assert!(got.iter().all(|r| r.headers["authorization"] == basic));
    worker.stop().await;
}

/// Standard base64, for the expected basic authentication header.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn a_failing_destination_is_dead_lettered_without_holding_up_the_others_and_an_operator_retries_it() {
    let portal = Receiver::start().await;
    portal.set_status(500);
    let hook = Receiver::start().await;
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.portal_url = portal.url.clone();
        c.outbox_max_attempts = 3;
    })
    .await;
    let admin = sign_in(&app, "quantri").await;
    let (status, w) = add_webhook(
        &app,
        &admin,
        json!({"url": hook.url, "events": ["*"], "description": "Hệ thống thống kê"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{w}");
    let worker = start_worker(&state);
    let counter = sign_in(&app, "tiepnhan").await;
    let filed = file_reachable(&app, &counter, LLTP).await;
    let dossier = filed["code"].as_str().expect("code").to_owned();

    // The webhook gets both changes while the portal fails.
    let hooked = hook.wait_for(2, "webhook").await;
    let kinds: Vec<String> = hooked
        .iter()
        .map(|r| r.json()["kind"].as_str().expect("kind").to_owned())
        .collect();
    assert_eq!(kinds, ["dossier.file", "dossier.accept"]);

    // The portal's first delivery dies after 3 attempts; then the second is tried.
    let dead = loop {
        let v = deliveries(&app, &admin, "dead").await;
        if let Some(d) = v["items"].as_array().expect("items").first() {
            break d.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead["kind"], "dossier.file");
    assert_eq!(dead["destination"], "portal");
    assert_eq!(dead["attempts"], 3);
    assert!(dead["last_error"].as_str().expect("error").contains("500"), "{dead}");
    assert_eq!(
        portal
            .received()
            .iter()
            .filter(|r| r.json()["ThaoTac"] == "file")
            .count(),
        3
    );
    let both_dead = loop {
        let v = deliveries(&app, &admin, "dead").await;
        if v["counts"]["dead"] == 2 {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(hook.received().len(), 2, "the webhook got each event once");

    // /metrics counts them.
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains("outbox_deliveries{state=\"dead\"} 2"), "{metrics}");

    // The operations page lists them with their error and a retry button.
    let html = page_ok(&app, &admin, "/van-hanh/chuyen-phat?state=dead").await;
    assert!(
        html.contains("Đã dừng gửi: 2") && html.contains("Cổng Dịch vụ công quốc gia"),
        "{html}"
    );
    assert!(
        html.contains("answered 500 Internal Server Error") && html.contains("Gửi lại"),
        "{html}"
    );
    let others = sign_in(&app, "tiepnhan").await;
    let (status, _) = page(&app, Some(&others), "/van-hanh/chuyen-phat").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not for the counter");
    // The director sees what is stuck (the overview links here) but cannot retry.
    let director = sign_in(&app, "giamdoc").await;
    let html = page_ok(&app, &director, "/van-hanh/chuyen-phat?state=dead").await;
    assert!(
        html.contains("Đã dừng gửi: 2") && !html.contains("Gửi lại</button>"),
        "{html}"
    );

    // The portal is fixed; the operator retries: one from the page, one through the API.
    portal.set_status(200);
    let first_id = both_dead["items"][1]["id"].as_i64().expect("id");
    let second_id = both_dead["items"][0]["id"].as_i64().expect("id");
    let no_redirect = browser();
    let forged = no_redirect
        .post(app.url(&format!("/van-hanh/chuyen-phat/{first_id}/gui-lai")))
        .header("cookie", &admin.cookie)
        .form(&[("csrf_token", "sai"), ("state", "dead")])
        .send()
        .await
        .expect("retry");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "a forged form is refused");
    let r = no_redirect
        .post(app.url(&format!("/van-hanh/chuyen-phat/{first_id}/gui-lai")))
        .header("cookie", &admin.cookie)
        .form(&[("csrf_token", admin.csrf.as_str()), ("state", "dead")])
        .send()
        .await
        .expect("retry");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (status, v) = post(
        &app,
        &admin,
        &format!("/api/v1/admin/deliveries/{second_id}/retry"),
        json!({}),
    )
    .await;
    assert!(status == StatusCode::OK || status == StatusCode::CONFLICT, "{v}");
    let settled = wait_settled(&app, &admin).await;
    assert_eq!(settled["counts"]["dead"], 0);
    let delivered = deliveries(&app, &admin, "delivered").await;
    let portal_ok = delivered["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|d| d["destination"] == "portal")
        .count();
    assert_eq!(portal_ok, 2);
    let (status, v) = post(
        &app,
        &admin,
        &format!("/api/v1/admin/deliveries/{first_id}/retry"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "already delivered: {v}");
    // The retries are in the audit trail.
    let (_, audit) = get(&app, &admin, "/api/v1/admin/audit?action=delivery.retry").await;
    assert!(!audit["items"].as_array().expect("items").is_empty(), "{audit}");
    assert!(dossier.starts_with("000.00.16.H43-"));
    worker.stop().await;
}

#[tokio::test]
async fn webhooks_are_signed_filtered_by_kind_and_managed_by_administrators() {
    let accepted = Receiver::start().await;
    let all = Receiver::start().await;
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |_| {}).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let (status, _) = add_webhook(&app, &counter, json!({"url": accepted.url, "events": ["*"]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = add_webhook(&app, &admin, json!({"url": "ftp://x", "events": ["*"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let secret = "khoa-bi-mat-cua-he-thong-nhan";
    let (status, one) = add_webhook(
        &app,
        &admin,
        json!({"url": accepted.url, "events": ["dossier.accept"], "secret": secret}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{one}");
    let (status, two) = add_webhook(&app, &admin, json!({"url": all.url, "events": ["*"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{two}");
    let generated = two["secret"].as_str().expect("generated secret").to_owned();
    let (_, list) = get(&app, &admin, "/api/v1/admin/webhooks").await;
    assert_eq!(list["items"].as_array().expect("items").len(), 2);
    assert!(!list.to_string().contains(secret), "secrets are shown once");

    let worker = start_worker(&state);
    let filed = file_reachable(&app, &counter, LLTP).await;
    let dossier = filed["code"].as_str().expect("code").to_owned();
    let got = accepted.wait_for(1, "accept hook").await;
    let r = &got[0];
    assert_eq!(r.headers["x-motcua-event"], "dossier.accept");
    assert!(
        r.verifies(secret),
        "signed with the subscription's secret and the time of sending"
    );
    assert!(!r.verifies("another key"));
    let body = r.json();
    assert_eq!(body["dossier_code"], json!(dossier));
    assert_eq!(body["data"]["status_code"], 2);
    assert_eq!(body["event_id"].to_string(), r.headers["x-motcua-event-id"]);
    let everything = all.wait_for(2, "all hook").await;
    for r in &everything {
        assert!(r.verifies(&generated));
    }

    // Deleted: the next change reaches only the remaining subscription.
    let id = one["id"].as_i64().expect("id");
    let (status, _) = delete(&app, &admin, &format!("/api/v1/admin/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = delete(&app, &admin, &format!("/api/v1/admin/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let second = file_reachable(&app, &counter, LLTP).await;
    all.wait_for(4, "all hook, second dossier").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        accepted.received().len(),
        1,
        "a deleted subscription receives nothing more"
    );
    assert!(second["code"].is_string());
    worker.stop().await;
}

#[tokio::test]
async fn a_webhook_answering_with_a_redirect_is_not_followed() {
    // The subscribed address answers 307 towards another server, which must never get the
    // signed body.
    let elsewhere = Receiver::start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let redirector = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let hits = Arc::new(Mutex::new(0u32));
    let (to, counted) = (elsewhere.url.clone(), hits.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let (to, counted) = (to.clone(), counted.clone());
            async move {
                *counted.lock().expect("lock") += 1;
                (AxumStatus::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, to)])
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |_| {}).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let (status, v) = add_webhook(&app, &admin, json!({"url": redirector, "events": ["*"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let worker = start_worker(&state);
    file_reachable(&app, &counter, LLTP).await;
    for _ in 0..200 {
        if *hits.lock().expect("lock") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(*hits.lock().expect("lock") > 0, "the subscribed address was tried");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(elsewhere.received().is_empty(), "the redirect was not followed");
    worker.stop().await;
}

#[tokio::test]
async fn a_worker_killed_mid_send_loses_its_lease_and_another_delivers() {
    let portal = Receiver::start().await;
    *portal.hold.lock().expect("lock") = true;
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.portal_url = portal.url.clone();
        c.outbox_lease_seconds = 2;
    })
    .await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let first = start_worker(&state);
    file_reachable(&app, &counter, LLTP).await;
    // The worker claimed the first change and is sending it: the portal holds it.
    portal.wait_for(1, "first attempt").await;
    first.abort();
    *portal.hold.lock().expect("lock") = false;
    // Nothing was recorded: still pending, claimed, with one attempt.
    let v = deliveries(&app, &admin, "pending").await;
    let d = &v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["kind"] == "dossier.file")
        .cloned()
        .expect("file");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["in_flight"], true, "{d}");
    let second = start_worker(&state);
    let got = portal.wait_for(3, "after the lease").await;
    wait_settled(&app, &admin).await;
    let actions: Vec<Value> = portal.received().iter().map(|r| r.json()["ThaoTac"].clone()).collect();
    assert_eq!(
        actions,
        [json!("file"), json!("file"), json!("accept")],
        "at least once, in order"
    );
    assert_eq!(got[0].headers["x-motcua-event-id"], got[1].headers["x-motcua-event-id"]);
    let delivered = deliveries(&app, &admin, "delivered").await;
    let file = delivered["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|d| d["kind"] == "dossier.file")
        .cloned()
        .expect("file");
    assert_eq!(file["attempts"], 2);
    second.stop().await;
}

#[tokio::test]
async fn two_workers_on_one_database_deliver_each_event_exactly_once_in_order() {
    let hook = Receiver::start_with(
        tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        Duration::from_millis(5),
    )
    .await;
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |_| {}).await;
    let admin = sign_in(&app, "quantri").await;
    let (status, _) = add_webhook(&app, &admin, json!({"url": hook.url, "events": ["*"]})).await;
    assert_eq!(status, StatusCode::CREATED);
    // A second "process": its own connection pool to the same database.
    let db2 = motcua_store::Db::connect(&app.test_db.config)
        .await
        .expect("second pool");
    let state2 = AppState::new(db2, (*state.config).clone()).expect("state");

    // 40 dossiers × 5 events, queued as the dossier service does.
    const DOSSIERS: usize = 40;
    const PER: usize = 5;
    let mut tx = state.db.begin_write().await.expect("tx");
    for round in 0..PER {
        for d in 0..DOSSIERS {
            let code = format!("000.00.16.H43-261102-{:04}", d + 1);
            motcua_store::outbox::enqueue(
                &mut tx,
                &motcua_store::outbox::NewEvent {
                    province: "000.00.00.H43",
                    dossier_code: Some(&code),
                    kind: "dossier.test",
                    payload: &json!({"round": round}),
                },
                OffsetDateTime::now_utc(),
            )
            .await
            .expect("enqueue");
        }
    }
    tx.commit().await.expect("commit");
    let a = start_worker(&state);
    let b = start_worker(&state2);
    hook.wait_for(DOSSIERS * PER, "both workers").await;
    wait_settled(&app, &admin).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = hook.received();
    assert_eq!(got.len(), DOSSIERS * PER, "no event twice");
    let mut ids: Vec<i64> = got.iter().map(|r| r.json()["event_id"].as_i64().expect("id")).collect();
    let mut per_dossier: HashMap<String, Vec<i64>> = HashMap::new();
    for r in &got {
        let b = r.json();
        per_dossier
            .entry(b["dossier_code"].as_str().expect("code").to_owned())
            .or_default()
            .push(b["data"]["round"].as_i64().expect("round"));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), DOSSIERS * PER, "each event exactly once");
    for (code, rounds) in &per_dossier {
        assert_eq!(rounds, &(0..PER as i64).collect::<Vec<_>>(), "{code} out of order");
    }
    // Both workers took part.
    let mut tx = state.db.begin_read().await.expect("tx");
    let workers: Vec<String> = motcua_store::outbox::deliveries(
        &mut tx,
        "000.00.00.H43",
        motcua_store::outbox::StateFilter::Delivered,
        None,
        1000,
    )
    .await
    .expect("deliveries")
    .into_iter()
    .filter_map(|d| d.claimed_by)
    .collect();
    drop(tx);
    assert!(
        workers.iter().any(|w| w == a.id()) && workers.iter().any(|w| w == b.id()),
        "both workers delivered"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn an_authorised_submitter_is_told_as_well_as_the_applicant() {
    let sms = Receiver::start().await;
    let smtp = SmtpSink::start().await;
    let (app, state) = spawn_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.smtp_host = "127.0.0.1".to_owned();
        c.smtp_port = smtp.port;
        c.sms_url = sms.url.clone();
    })
    .await;
    let worker = start_worker(&state);
    let counter = sign_in(&app, "tiepnhan").await;
    let mut body = counter_intake(&app, LLTP, Reach::MobileAndEmail).await;
    body["submitter"] = json!({"name": "Trần Thị Bình", "id_number": "058190000456", "phone": "0987654321",
        "email": "binh@example.vn", "authorisation": {"originals": 1}});
    let v = file_dossier(&app, &counter, body).await;
    let dossier = v["code"].as_str().expect("code").to_owned();
    // The acceptance notice goes to both people, by email and by SMS.
    let emails = smtp.wait_for(2).await;
    let mut to: Vec<String> = emails
        .iter()
        .map(|m| m["rcpt_tos"][0].as_str().expect("to").to_owned())
        .collect();
    to.sort();
    assert_eq!(to, ["an@example.vn", "binh@example.vn"]);
    for m in &emails {
        assert_eq!(m["subject"], format!("Hồ sơ {dossier} đã được tiếp nhận"));
    }
    let texts = sms.wait_for(2, "sms").await;
    let mut phones: Vec<String> = texts
        .iter()
        .map(|r| r.json()["to"].as_str().expect("to").to_owned())
        .collect();
    phones.sort();
    assert_eq!(phones, ["0912345678", "0987654321"]);
    worker.stop().await;
}
