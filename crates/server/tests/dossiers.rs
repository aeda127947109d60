//! The dossier lifecycle through the API, on the backend the test run selects: intake at
//! the counter and online, every action, the control sheet, deadlines across Tết and a
//! make-up Saturday, supplements moving the appointment, the inter-agency round trip,
//! forbidden transitions, uploads and public tracking.

mod common;

use common::api::{act, act_ok, code_of, get, post, procedure_content, procedure_of};
use common::files::{PDF, download, upload, upload_pdf};
use common::intake::{Reach, applicant, counter_intake, file_at_counter, finish, supplement};
use common::{
    CONSTRUCTION, JUSTICE, LLTP, Session, TestApp, at, sign_in, sign_in_each, spawn_app, spawn_app_at, spawn_app_with,
};
use motcua_core::calendar::Calendar;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

#[tokio::test]
async fn a_dossier_received_before_tet_is_due_after_it() {
    // Friday 13 Feb 2026, 09:00: the judicial record takes 10 working days; Tết closes
    // 16–20 Feb, so the appointment is Friday 6 March 09:00, not 27 February.
    let app = spawn_app_at(datetime!(2026-02-13 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let v = file_at_counter(&app, &counter, LLTP).await;
    assert_eq!(v["status_code"], 2);
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["received_at"], "2026-02-13T09:00:00+07:00");
    assert_eq!(v["due_at"], "2026-03-06T09:00:00+07:00");
    let code = code_of(&v);
    assert!(code.starts_with("000.00.16.H43-260213-"), "{code}");
    assert_eq!(v["tracking_secret"].as_str().expect("secret").len(), 8);
    // The server's deadline endpoint agrees.
    let (_, d) = app
        .get_json("/api/v1/calendar/deadline?from=2026-02-13T09:00:00%2B07:00&working_days=10")
        .await;
    assert_eq!(d["due"], v["due_at"]);
}

#[tokio::test]
async fn a_make_up_saturday_counts_as_a_working_day() {
    // Friday 9 Jan 2026, 10:00: Saturday 10 January is worked (New Year swap), so ten
    // working days end on Thursday 22 January at 10:00.
    let app = spawn_app_at(datetime!(2026-01-09 10:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let v = file_at_counter(&app, &counter, LLTP).await;
    assert_eq!(v["due_at"], "2026-01-22T10:00:00+07:00");
    let expected = Calendar::standard()
        .add_working_days(datetime!(2026-01-09 10:00 +07:00), 10)
        .expect("calendar");
    assert_eq!(at(v["due_at"].as_str().expect("due")), expected);

    // Once the appointment passes, the dossier is on the overdue list, for the director too.
    let director = sign_in(&app, "giamdoc").await;
    let (_, list) = get(&app, &director, "/api/v1/dossiers?overdue=true").await;
    assert_eq!(list["items"], json!([]));
    app.clock.set(datetime!(2026-01-22 10:01 +07:00));
    let (_, list) = get(&app, &director, "/api/v1/dossiers?overdue=true&status=2").await;
    assert_eq!(list["items"][0]["code"], v["code"]);
    assert_eq!(list["items"][0]["overdue"], true);
    let (_, list) = get(&app, &director, "/api/v1/dossiers?overdue=true&status=4").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn a_dossier_waiting_for_a_supplement_is_not_overdue_anywhere() {
    // Friday 9 Jan 2026: due Thursday 22 January 10:00 (see above).
    let app = spawn_app_at(datetime!(2026-01-09 10:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let officer = sign_in(&app, "cv.tuphap").await;
    let director = sign_in(&app, "giamdoc").await;
    let code = code_of(&file_at_counter(&app, &counter, LLTP).await);
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    app.clock.set(datetime!(2026-01-12 09:00 +07:00));
    let body = json!({"missing": ["Bản sao căn cước công dân"], "reason": "Thiếu giấy tờ"});
    assert_eq!(
        act_ok(&app, &officer, &code, "request-supplement", body).await["status_code"],
        5
    );
    // Long past the appointment, still waiting: the clock stands still, so neither the
    // dossier's flag nor the overdue list calls it overdue.
    app.clock.set(datetime!(2026-02-02 10:00 +07:00));
    let (_, d) = get(&app, &director, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!((&d["status_code"], &d["overdue"]), (&json!(5), &json!(false)), "{d}");
    let (_, list) = get(&app, &director, "/api/v1/dossiers?overdue=true").await;
    assert_eq!(list["items"], json!([]));
    let (_, list) = get(&app, &director, "/api/v1/dossiers").await;
    assert_eq!(list["items"][0]["overdue"], false);
}

#[tokio::test]
async fn one_dossier_from_counter_to_return_with_every_hand_over() {
    let start = datetime!(2026-11-02 08:00 +07:00); // a Monday
    let app = spawn_app_at(start).await;
    let [counter, leader, officer, justice] =
        sign_in_each(&app, ["tiepnhan", "ld.xaydung", "cv.xaydung", "cv.tuphap"]).await;
    let code = procedure_of(&app, CONSTRUCTION).await;
    let filed = file_at_counter(&app, &counter, &code).await;
    let dossier = code_of(&filed);
    let due0 = at(filed["due_at"].as_str().expect("due"));
    assert_eq!(filed["current_agency"], "000.00.16.H43");
    assert!(
        filed["actions"]
            .as_array()
            .expect("actions")
            .contains(&json!("transfer"))
    );

    // The responsible department sees it from the start; another department does not.
    let (status, _) = get(&app, &leader, &format!("/api/v1/dossiers/{dossier}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, &justice, &format!("/api/v1/dossiers/{dossier}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    let v = act_ok(&app, &counter, &dossier, "transfer", json!({})).await;
    assert_eq!(v["status_code"], 4);
    assert_eq!(v["current_agency"], CONSTRUCTION);

    app.clock.set(datetime!(2026-11-02 10:00 +07:00));
    let v = act_ok(&app, &leader, &dossier, "assign", json!({"user": "cv.xaydung"})).await;
    assert_eq!(v["assignee"]["name"], "Hoàng Văn Dựng");
    // Assigning to someone outside the department is refused.
    let (status, e) = act(&app, &leader, &dossier, "assign", json!({"user": "cv.tuphap"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");

    // The officer's list shows it.
    let (_, list) = get(&app, &officer, "/api/v1/dossiers?assignee=me").await;
    assert_eq!(list["items"][0]["code"], json!(dossier));
    assert!(
        list["items"][0].get("applicant").is_none(),
        "lists carry no identity papers"
    );

    // Supplement: requested Tuesday 09:00, received Thursday 09:00 = two working days paused.
    app.clock.set(datetime!(2026-11-03 09:00 +07:00));
    let (status, e) = act(&app, &officer, &dossier, "request-supplement", json!({"missing": []})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the list of what is missing is required: {e}"
    );
    let v = act_ok(
        &app,
        &officer,
        &dossier,
        "request-supplement",
        json!({"missing": ["Bản vẽ mặt bằng công trình có chữ ký của chủ đầu tư"], "reason": "Bản vẽ thiếu chữ ký"}),
    )
    .await;
    assert_eq!(v["status_code"], 5);
    app.clock.set(datetime!(2026-11-05 09:00 +07:00));
    let v = supplement(&app, &counter, &dossier, "ban-ve.pdf", "Đã nhận bản vẽ").await;
    assert_eq!(v["status_code"], 4);
    let due1 = at(v["due_at"].as_str().expect("due"));
    let calendar = Calendar::standard();
    assert_eq!(
        due1,
        calendar.add_working_days(due0, 2).expect("moved"),
        "moved by the paused time exactly"
    );
    assert_eq!(calendar.working_minutes_between(due0, due1), 2 * 8 * 60);
    assert_eq!(v["files"].as_array().expect("files").len(), 1);

    // Inter-agency: Xây dựng asks Tư pháp, which answers.
    app.clock.set(datetime!(2026-11-05 10:00 +07:00));
    let v = act_ok(
        &app,
        &officer,
        &dossier,
        "forward",
        json!({"agency": JUSTICE, "note": "Xin ý kiến"}),
    )
    .await;
    assert_eq!(v["current_agency"], JUSTICE);
    let (status, e) = act(&app, &leader, &dossier, "finish", json!({"result_files": []})).await;
    assert_eq!(status, StatusCode::CONFLICT, "while another agency holds it: {e}");
    let (status, _) = get(&app, &justice, &format!("/api/v1/dossiers/{dossier}")).await;
    assert_eq!(status, StatusCode::OK, "the agency holding it sees it");
    app.clock.set(datetime!(2026-11-06 10:00 +07:00));
    let v = act_ok(&app, &justice, &dossier, "forward-back", json!({"note": "Thống nhất"})).await;
    assert_eq!(v["current_agency"], CONSTRUCTION);
    assert_eq!(
        v["assignee"]["name"], "Hoàng Văn Dựng",
        "back to the officer who forwarded it"
    );

    // Fees: requested, then paid (the clock stands still meanwhile).
    let v = act_ok(
        &app,
        &officer,
        &dossier,
        "request-payment",
        json!({"amount": 150000, "note": "Lệ phí"}),
    )
    .await;
    assert_eq!(v["status_code"], 6);
    let (status, e) = act(
        &app,
        &counter,
        &dossier,
        "confirm-payment",
        json!({"amount": 100000, "reference": "BL-1"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "wrong amount: {e}");
    let v = act_ok(
        &app,
        &counter,
        &dossier,
        "confirm-payment",
        json!({"amount": 150000, "reference": "BL-0001"}),
    )
    .await;
    assert_eq!(v["status_code"], 4);
    let due2 = at(v["due_at"].as_str().expect("due"));
    assert_eq!(due2, due1, "paid within the same minute: nothing to move");

    // Apology with a new appointment: once, and early enough.
    let new_due = calendar.add_working_days(due2, 3).expect("new");
    let new_due_s = new_due.format(&Rfc3339).expect("fmt");
    let (status, e) = act(
        &app,
        &officer,
        &dossier,
        "apologise",
        json!({"reason": "x", "new_due": new_due_s}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "officers cannot apologise: {e}");
    assert!(e["message"].as_str().expect("msg").contains("lãnh đạo"), "{e}");
    let v = act_ok(
        &app,
        &leader,
        &dossier,
        "apologise",
        json!({"reason": "Cần khảo sát thực địa", "new_due": new_due_s}),
    )
    .await;
    assert_eq!(at(v["due_at"].as_str().expect("due")), new_due);
    assert_eq!(v["original_due_at"], filed["due_at"]);
    let later = calendar
        .add_working_days(new_due, 1)
        .expect("later")
        .format(&Rfc3339)
        .expect("fmt");
    let (status, e) = act(
        &app,
        &leader,
        &dossier,
        "apologise",
        json!({"reason": "Lần nữa", "new_due": later}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "only once: {e}");

    // Finish with the signed result, then return by post.
    app.clock.set(datetime!(2026-11-10 15:00 +07:00));
    let (status, e) = act(&app, &leader, &dossier, "finish", json!({"result_files": []})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a result document is required: {e}");
    let v = finish(&app, &leader, &dossier, "giay-phep.pdf").await;
    assert_eq!(v["status_code"], 9);
    assert_eq!(v["timeliness"], "early");
    // Finishing clears the assignee, but who handled it stays (the statistics' officer).
    assert!(v["assignee"].is_null(), "{v}");
    assert_eq!(v["handled_by"]["name"], "Hoàng Văn Dựng", "{v}");
    // Its working time: receipt to result on the calendar, less the two days it waited for
    // the supplement (the payment was confirmed within the minute).
    let worked = calendar.working_minutes_between(start, datetime!(2026-11-10 15:00 +07:00))
        - calendar.working_minutes_between(datetime!(2026-11-03 09:00 +07:00), datetime!(2026-11-05 09:00 +07:00));
    assert_eq!(v["working_minutes"], worked, "{v}");
    let (status, e) = act(&app, &counter, &dossier, "return", json!({"method": "post"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "post needs a tracking number: {e}");
    app.clock.set(datetime!(2026-11-11 08:00 +07:00));
    let v = act_ok(
        &app,
        &counter,
        &dossier,
        "return",
        json!({"method": "post", "tracking_number": "EB123456789VN"}),
    )
    .await;
    assert_eq!(v["status_code"], 10);
    assert_eq!(v["actions"], json!([]), "nothing follows a returned dossier");

    // The history and the control sheet.
    let (status, h) = get(&app, &counter, &format!("/api/v1/dossiers/{dossier}/history")).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    let actions: Vec<&str> = h["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        [
            "file",
            "accept",
            "transfer",
            "assign",
            "request-supplement",
            "receive-supplement",
            "forward",
            "forward-back",
            "request-payment",
            "confirm-payment",
            "apologise",
            "finish",
            "return"
        ]
    );
    let sheet = h["control_sheet"].as_array().expect("sheet");
    let route: Vec<&str> = sheet.iter().map(|r| r["to_agency"].as_str().expect("to")).collect();
    assert_eq!(
        route,
        [
            "000.00.16.H43",
            CONSTRUCTION,
            CONSTRUCTION,
            JUSTICE,
            CONSTRUCTION,
            "000.00.16.H43"
        ]
    );
    assert_eq!(sheet[1]["to_agency_name"], "Sở Xây dựng");
    assert_eq!(sheet[2]["receiver"], "Hoàng Văn Dựng");
    for row in &sheet[..sheet.len() - 1] {
        assert!(row["finished_at"].is_string(), "every step but the last ended: {row}");
        assert!(row["result"].is_string(), "and was judged: {row}");
    }
    assert!(
        sheet.last().expect("last")["finished_at"].is_string(),
        "the return ends the last step"
    );

    // Each transition wrote one audit record and one outbox event, in order.
    let mut tx = app.test_db.db.begin_read().await.expect("tx");
    let events = motcua_store::outbox::of_dossier(&mut tx, &dossier)
        .await
        .expect("outbox");
    let kinds: Vec<String> = events.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds.len(), actions.len());
    assert!(
        kinds.iter().zip(&actions).all(|(k, a)| k == &format!("dossier.{a}")),
        "{kinds:?}"
    );
    let last: Value = serde_json::from_str(&events.last().expect("last").payload).expect("payload");
    assert_eq!(last["status_code"], 10);
    let audit = motcua_store::audit::list(
        &mut tx,
        &motcua_store::audit::AuditFilter {
            object_id: Some(dossier.clone()),
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .expect("audit");
    let changes = audit.iter().filter(|e| e.action != "dossier.view").count();
    assert_eq!(changes, actions.len());
    assert!(
        audit.iter().any(|e| e.action == "dossier.view"),
        "full views are audited"
    );
    drop(tx);

    // Public tracking with the receipt's secret; nothing personal in it.
    let secret = filed["tracking_secret"].as_str().expect("secret");
    let (status, t) = app.get_json(&format!("/api/v1/track/{dossier}?secret={secret}")).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["status_code"], 10);
    assert_eq!(t["steps"].as_array().expect("steps").len(), actions.len());
    let text = t.to_string();
    assert!(!text.contains("Nguyễn Văn An") && !text.contains("058190000123") && !text.contains("0912345678"));
}

#[tokio::test]
async fn tracking_reveals_nothing_without_the_secret() {
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let v = file_at_counter(&app, &counter, LLTP).await;
    let code = code_of(&v);
    let secret = v["tracking_secret"].as_str().expect("secret");
    let (ok, _) = app
        .get_json(&format!("/api/v1/track/{code}?secret={}", secret.to_lowercase()))
        .await;
    assert_eq!(ok, 200, "the secret is not case-sensitive");
    let wrong = app.get_json(&format!("/api/v1/track/{code}?secret=AAAAAAAA")).await;
    let missing = app.get_json(&format!("/api/v1/track/{code}")).await;
    let unknown = app
        .get_json("/api/v1/track/000.00.16.H43-991231-9999?secret=AAAAAAAA")
        .await;
    let garbage = app.get_json("/api/v1/track/xyz?secret=AAAAAAAA").await;
    assert_eq!(wrong.0, 404);
    assert_eq!(wrong, missing);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, garbage);
    // Guessing is slowed down, with the wait in Retry-After; the right secret never waits.
    let mut limited = None;
    for _ in 0..40 {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/track/{code}?secret=BBBBBBBB")))
            .send()
            .await
            .expect("track");
        if r.status() == 429 {
            let wait: u64 = r.headers()["retry-after"]
                .to_str()
                .expect("ascii")
                .parse()
                .expect("seconds");
            let body: serde_json::Value = r.json().await.expect("json");
            assert_eq!(body["code"], "too_many_requests", "{body}");
            limited = Some(wait);
            break;
        }
    }
    let wait = limited.expect("repeated misses are rate-limited");
    assert!((1..=60).contains(&wait), "{wait}");
    let (status, _) = app.get_json(&format!("/api/v1/track/{code}?secret={secret}")).await;
    assert_eq!(status, 200, "a correct code and secret are never refused");
}

/// Issue 19: misses are counted per address and per code apart, so guesses at one code
/// from many addresses are slowed down too, and one address that used up its budget (a
/// proxy everyone shares) does not lock others' codes; X-Forwarded-For counts only from a
/// trusted proxy.
#[tokio::test]
async fn tracking_misses_count_per_code_and_per_address() {
    // Behind a trusted reverse proxy on the loopback address.
    let app = spawn_app_with(|c| c.trusted_proxies = "127.0.0.1".to_owned()).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (code, secret, _) = filed_for_tracking(&app, &counter).await;
    let (other, other_secret, _) = filed_for_tracking(&app, &counter).await;
    let track = |code: String, secret: &'static str, from: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/api/v1/track/{code}?secret={secret}")))
                .header("x-forwarded-for", from)
                .send()
                .await
                .expect("track")
                .status()
                .as_u16()
        }
    };
    // Guesses at one code from ever new addresses (as the trusted proxy reports them).
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(track(code.clone(), "CCCCCCCC", format!("198.51.100.{i}")).await);
    }
    assert!(statuses.contains(&429), "the code's budget: {statuses:?}");
    // Another code from a fresh address: not limited.
    assert_eq!(track(other.clone(), "CCCCCCCC", "203.0.113.1".to_owned()).await, 404);
    // One address that used up its budget on made-up codes.
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(
            track(
                format!("000.00.16.H43-991231-{i:04}"),
                "CCCCCCCC",
                "203.0.113.9".to_owned(),
            )
            .await,
        );
    }
    assert!(statuses.contains(&429), "the address's budget: {statuses:?}");
    // The correct secrets still answer, from the limited address and for the limited code.
    for (c, s) in [(&code, &secret), (&other, &other_secret)] {
        let r = app
            .client
            .get(app.url(&format!("/api/v1/track/{c}?secret={s}")))
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .expect("track");
        assert_eq!(r.status(), 200);
    }
}

/// Files a dossier at the counter; its code, tracking secret and public tracking path.
async fn filed_for_tracking(app: &TestApp, counter: &Session) -> (String, String, String) {
    let v = file_at_counter(app, counter, LLTP).await;
    let code = code_of(&v);
    let secret = v["tracking_secret"].as_str().expect("secret").to_owned();
    let url = format!("/api/v1/track/{code}?secret={secret}");
    (code, secret, url)
}

#[tokio::test]
async fn tracking_shows_each_change_at_once() {
    // Tracking answers are cached in the process; an action must never leave the old one.
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (code, secret, url) = filed_for_tracking(&app, &counter).await;
    let (status, before) = app.get_json(&url).await;
    assert_eq!(status, 200);
    assert_eq!(
        app.get_json(&url).await,
        (status, before.clone()),
        "a repeated read is the same"
    );
    let (wrong, _) = app.get_json(&format!("/api/v1/track/{code}?secret=AAAAAAAA")).await;
    assert_eq!(wrong, 404, "a cached answer still needs the secret");
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    let (status, after) = app.get_json(&url).await;
    assert_eq!(status, 200);
    assert_eq!(
        after["steps"].as_array().map(Vec::len),
        before["steps"].as_array().map(|s| s.len() + 1),
        "the transfer shows at once: {after}"
    );
    assert_ne!(after["current_agency"], before["current_agency"]);
    let page = app.get_text(&format!("/tra-cuu/{code}?secret={secret}")).await;
    assert!(
        page.contains(after["current_agency"].as_str().expect("agency")),
        "the page shows the same answer"
    );
}

#[tokio::test]
async fn tracking_follows_the_changes_another_node_makes() {
    // PostgreSQL only: several nodes share the database, and each caches tracking answers.
    if !motcua_store::testing::postgres_selected() {
        return;
    }
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (code, _secret, url) = filed_for_tracking(&app, &counter).await;
    // A second node: its own pool on the same database, its own cache and listener.
    let node2 = common::second_node(&app).await;
    // Both nodes answer (and, once their listeners run, keep) the same view.
    let (_, before) = app.get_json(&url).await;
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(app.get_json(&url).await.1, before);
        assert_eq!(node2.get_json(&url).await.1, before);
    }
    // The second node transfers the dossier; the first shows it without waiting for the
    // cache's lifetime (5 minutes): it hears of the change as it commits.
    let counter2 = sign_in(&node2, "tiepnhan").await;
    act_ok(&node2, &counter2, &code, "transfer", json!({})).await;
    let mut after = before.clone();
    for _ in 0..100 {
        after = app.get_json(&url).await.1;
        if after != before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        after["steps"].as_array().map(Vec::len),
        before["steps"].as_array().map(|s| s.len() + 1),
        "the other node's transfer shows on the first: {after}"
    );
    assert_eq!(node2.get_json(&url).await.1, after);
}

#[tokio::test]
async fn a_citizen_files_online_and_the_counter_checks_it() {
    let app = spawn_app_at(datetime!(2026-12-01 14:00 +07:00)).await;
    let [citizen, counter] = sign_in_each(&app, ["congdan", "tiepnhan"]).await;
    let content = procedure_content(&app, LLTP).await;
    // Online filing needs the required documents uploaded.
    let mut body = json!({"procedure": LLTP, "applicant": applicant(&content, Reach::PhoneAndEmail),
        "documents": [{"index": 0}], "delivery": "online"});
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "incomplete_dossier");
    assert!(e["message"].as_str().expect("m").contains("Tờ khai"), "{e}");
    let form = upload_pdf(&app, &citizen, "to-khai.pdf").await;
    let id = upload_pdf(&app, &citizen, "cccd.pdf").await;
    // Someone else's upload cannot be attached.
    let foreign = upload_pdf(&app, &counter, "khac.pdf").await;
    body["documents"] = json!([{"index": 0, "files": [form]}, {"index": 1, "files": [foreign]}]);
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    body["documents"] = json!([{"index": 0, "files": [form]}, {"index": 1, "files": [id]}]);
    let (status, v) = post(&app, &citizen, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["status_code"], 1);
    assert_eq!(v["channel"], "online");
    assert!(v["due_at"].is_null(), "no appointment before the counter accepts it");
    assert_eq!(v["files"].as_array().expect("files").len(), 2);
    let code = code_of(&v);
    // The same uploads cannot be filed twice.
    let (status, _) = post(&app, &citizen, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The citizen sees their own dossier and list; the file downloads.
    let (status, mine) = get(&app, &citizen, "/api/v1/dossiers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    let (status, headers, body) = download(&app, Some(&citizen), &format!("/api/v1/files/{form}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(body.as_slice(), PDF);

    // The counter asks to complete it: the citizen answers, the dossier is back in status 1.
    app.clock.set(datetime!(2026-12-01 15:00 +07:00));
    let v = act_ok(
        &app,
        &counter,
        &code,
        "request-completion",
        json!({"missing": ["Bản chụp sổ hộ khẩu hoặc giấy xác nhận thông tin về cư trú"]}),
    )
    .await;
    assert_eq!(v["status_code"], 5);
    let residence = upload_pdf(&app, &citizen, "cu-tru.pdf").await;
    let v = act_ok(
        &app,
        &citizen,
        &code,
        "receive-supplement",
        json!({"files": [residence]}),
    )
    .await;
    assert_eq!(v["status_code"], 1);
    // Only the counter accepts.
    let (status, e) = act(&app, &citizen, &code, "accept", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    app.clock.set(datetime!(2026-12-02 08:00 +07:00));
    let v = act_ok(&app, &counter, &code, "accept", json!({})).await;
    assert_eq!(v["status_code"], 2);
    assert_eq!(v["received_at"], "2026-12-02T08:00:00+07:00");
    assert_eq!(v["due_at"], "2026-12-16T08:00:00+07:00");
    // The citizen withdraws it.
    let v = act_ok(
        &app,
        &citizen,
        &code,
        "withdraw",
        json!({"reason": "Không còn nhu cầu"}),
    )
    .await;
    assert_eq!(v["status_code"], 7);
}

#[tokio::test]
async fn citizens_see_only_their_own_dossiers() {
    let app = spawn_app().await;
    let [counter, citizen] = sign_in_each(&app, ["tiepnhan", "congdan"]).await;
    let v = file_at_counter(&app, &counter, LLTP).await;
    let code = code_of(&v);
    let (status, e) = get(&app, &citizen, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    let (status, e) = act(&app, &citizen, &code, "withdraw", json!({"reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    let (_, mine) = get(&app, &citizen, "/api/v1/dossiers").await;
    assert_eq!(mine["items"], json!([]));
    // Department staff list only their department's dossiers.
    let officer = sign_in(&app, "cv.xaydung").await;
    let (_, list) = get(&app, &officer, "/api/v1/dossiers").await;
    assert_eq!(list["items"], json!([]));
    let (status, _) = get(&app, &officer, "/api/v1/dossiers?agency=000.00.02.H43").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let justice = sign_in(&app, "cv.tuphap").await;
    let (_, list) = get(&app, &justice, "/api/v1/dossiers").await;
    assert_eq!(list["items"][0]["code"], json!(code));
}

#[tokio::test]
async fn every_forbidden_transition_is_refused_with_a_reason() {
    let app = spawn_app().await;
    let [counter, leader] = sign_in_each(&app, ["tiepnhan", "ld.xaydung"]).await;
    let code = procedure_of(&app, CONSTRUCTION).await;
    // One dossier in each status reachable without waiting.
    let mut body = counter_intake(&app, &code, Reach::PhoneAndEmail).await;
    body["accept"] = json!(false);
    let (_, new) = post(&app, &counter, "/api/v1/dossiers", body).await;
    let new = code_of(&new);
    let accepted = code_of(&file_at_counter(&app, &counter, &code).await);
    let refused = code_of(&file_at_counter(&app, &counter, &code).await);
    // Refusing is only for dossiers still being checked.
    let (status, _) = act(
        &app,
        &counter,
        &refused,
        "refuse",
        json!({"reason": "Không thuộc thẩm quyền"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let mut body = counter_intake(&app, &code, Reach::PhoneAndEmail).await;
    body["accept"] = json!(false);
    let (_, r) = post(&app, &counter, "/api/v1/dossiers", body).await;
    let refused = code_of(&r);
    act_ok(
        &app,
        &counter,
        &refused,
        "refuse",
        json!({"reason": "Không thuộc thẩm quyền"}),
    )
    .await;
    let in_progress = code_of(&file_at_counter(&app, &counter, &code).await);
    act_ok(&app, &counter, &in_progress, "transfer", json!({})).await;

    // Statuses 5 to 10, each from a dossier the department handles.
    let handled = async || {
        let d = code_of(&file_at_counter(&app, &counter, &code).await);
        act_ok(&app, &counter, &d, "transfer", json!({})).await;
        d
    };
    let supplement = handled().await;
    act_ok(
        &app,
        &leader,
        &supplement,
        "request-supplement",
        json!({"missing": ["Bản vẽ"]}),
    )
    .await;
    let payment = handled().await;
    act_ok(&app, &leader, &payment, "request-payment", json!({"amount": 150000})).await;
    let withdrawn = code_of(&file_at_counter(&app, &counter, &code).await);
    act_ok(
        &app,
        &counter,
        &withdrawn,
        "withdraw",
        json!({"reason": "Người nộp xin rút"}),
    )
    .await;
    let stopped = handled().await;
    let v = act_ok(
        &app,
        &leader,
        &stopped,
        "stop",
        json!({"legal_ground": "Điều 19 Nghị định 61/2018/NĐ-CP", "reason": "Người nộp không bổ sung"}),
    )
    .await;
    assert_eq!(
        v["notices"].as_array().expect("notices").last().expect("notice")["kind"],
        "stop_notice"
    );
    let done = handled().await;
    let result = upload_pdf(&app, &leader, "ket-qua.pdf").await;
    act_ok(&app, &leader, &done, "finish", json!({"result_files": [result]})).await;
    let returned = handled().await;
    let result = upload_pdf(&app, &leader, "ket-qua-2.pdf").await;
    act_ok(&app, &leader, &returned, "finish", json!({"result_files": [result]})).await;
    let v = act_ok(&app, &counter, &returned, "return", json!({"method": "counter"})).await;
    assert_eq!(v["handed"]["method"], "counter");

    let cases = [
        (&new, 1),
        (&accepted, 2),
        (&refused, 3),
        (&in_progress, 4),
        (&supplement, 5),
        (&payment, 6),
        (&withdrawn, 7),
        (&stopped, 8),
        (&done, 9),
        (&returned, 10),
    ];
    for (dossier, status_code) in cases {
        let (_, v) = get(&app, &counter, &format!("/api/v1/dossiers/{dossier}")).await;
        assert_eq!(v["status_code"], status_code, "{v}");
        let status = motcua_core::dossier::Status::from_code(status_code).expect("status");
        for action in motcua_core::dossier::Action::ALL {
            if action.allowed_from().contains(&status) {
                continue;
            }
            // Whoever may take the action in some status tries it here.
            let who = if action
                .allowed_roles()
                .contains(&motcua_core::access::Role::CounterOfficer)
            {
                &counter
            } else {
                &leader
            };
            let (http, e) = act(&app, who, dossier, action.name(), json!({})).await;
            assert_eq!(http, StatusCode::CONFLICT, "{} from {status_code}: {e}", action.name());
            assert_eq!(e["code"], "transition_refused", "{e}");
            assert!(!e["message"].as_str().expect("message").is_empty());
        }
    }
    // Right status, wrong role: the counter cannot approve, the department cannot accept.
    let (http, e) = act(&app, &counter, &in_progress, "finish", json!({"result_files": []})).await;
    assert_eq!(http, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().expect("m").contains("Chỉ"), "{e}");
    let (http, e) = act(&app, &leader, &new, "accept", json!({})).await;
    assert_eq!(http, StatusCode::CONFLICT, "{e}");
    // An unknown action is a 404 that lists the real ones.
    let (http, e) = act(&app, &counter, &new, "teleport", json!({})).await;
    assert_eq!(http, StatusCode::NOT_FOUND);
    assert!(e["message"].as_str().expect("m").contains("request-supplement"));
}

#[tokio::test]
async fn intake_checks_what_it_is_given() {
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let good = counter_intake(&app, LLTP, Reach::PhoneAndEmail).await;
    let mut bad = good.clone();
    bad["applicant"]["id_number"] = json!("12345");
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "applicant.id_number");
    let mut bad = good.clone();
    bad["documents"] = json!([]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "incomplete_dossier");
    // Every problem of the form at once: a blank name, a bad ID, a bad email and the
    // missing documents, in the order of the form.
    let mut many = good.clone();
    many["applicant"]["name"] = json!("  ");
    many["applicant"]["id_number"] = json!("12");
    many["applicant"]["email"] = json!("khong-hop-le");
    many["documents"] = json!([]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", many).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "invalid");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|x| x["field"].as_str().expect("field"))
        .collect();
    assert!(fields.len() >= 4, "{e}");
    assert_eq!(
        &fields[..3],
        ["applicant.name", "applicant.id_number", "applicant.email"],
        "{e}"
    );
    assert!(fields[3..].iter().all(|f| f.starts_with("documents[")), "{e}");
    assert_eq!(e["field"], "applicant.name");
    // Only registered for checking, an incomplete dossier is taken (status 1) so that the
    // officer can ask in writing for what is missing.
    let mut partial = good.clone();
    partial["documents"] = json!([{"index": 0, "originals": 1}]);
    partial["accept"] = json!(false);
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", partial).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["status_code"], 1);
    let (status, v) = post(
        &app,
        &counter,
        &format!("/api/v1/dossiers/{}/actions/request-completion", code_of(&v)),
        json!({"reason": "Thiếu giấy tờ", "missing": ["Bản sao Căn cước công dân"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status_code"], 5);
    let mut bad = good.clone();
    bad["documents"] = json!([{"index": 99, "originals": 1}]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let mut bad = good.clone();
    bad["procedure"] = json!("1.999999");
    let (status, _) = post(&app, &counter, "/api/v1/dossiers", bad).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mut bad = good.clone();
    bad["fee_option"] = json!("Không có");
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    // A department officer is not a counter.
    let officer = sign_in(&app, "cv.tuphap").await;
    let (status, _) = post(&app, &officer, "/api/v1/dossiers", good.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Fees: the always-due items plus the option chosen.
    let mut with_option = good;
    with_option["fee_option"] = json!("Mỗi Phiếu từ Phiếu thứ 3 trở đi");
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", with_option).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let amounts: Vec<u64> = v["fees"]
        .as_array()
        .expect("fees")
        .iter()
        .map(|f| f["amount"].as_u64().expect("n"))
        .collect();
    assert_eq!(amounts, [200_000, 5_000]);
}

#[tokio::test]
async fn uploads_are_checked_by_content_and_size() {
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let (status, e) = upload(
        &app,
        &counter,
        "virus.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00 this is a program",
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert_eq!(e["code"], "unsupported_type");
    assert!(e["message"].as_str().expect("m").contains("PDF"), "{e}");
    let (status, e) = upload(&app, &counter, "trong.pdf", b"").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    let png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
    let (status, v) = upload(&app, &counter, "anh", png).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["file_type"], "png");
    assert_eq!(v["name"], "anh.png");
    assert_eq!(v["sha256"].as_str().expect("hash").len(), 64);
    let big = vec![b'%'; 21 * 1024 * 1024];
    let (status, e) = upload(&app, &counter, "lon.pdf", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    // Another account cannot download someone's staged upload.
    let citizen = sign_in(&app, "congdan").await;
    let path = format!("/api/v1/files/{}", v["id"].as_str().expect("id"));
    let (status, _, _) = download(&app, Some(&citizen), &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn concurrent_intakes_get_distinct_consecutive_codes() {
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let body = counter_intake(&app, LLTP, Reach::PhoneAndEmail).await;
    let mut handles = Vec::new();
    for _ in 0..40 {
        let (client, url, cookie, csrf, body) = (
            app.client.clone(),
            app.url("/api/v1/dossiers"),
            counter.cookie.clone(),
            counter.csrf.clone(),
            body.clone(),
        );
        handles.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("cookie", cookie)
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), StatusCode::CREATED);
            let v: Value = r.json().await.expect("json");
            code_of(&v)
        }));
    }
    let mut sequences = Vec::new();
    for h in handles {
        let code = h.await.expect("task");
        sequences.push(code.rsplit('-').next().expect("seq").parse::<u32>().expect("number"));
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=40).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_dossier_s_files_are_limited_in_total() {
    let app = spawn_app_with(|c| {
        c.max_upload_bytes = 4096;
        c.max_dossier_upload_bytes = 5999;
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;
    let mut pdf = PDF.to_vec();
    pdf.resize(3000, b' ');
    let a = upload(&app, &counter, "a.pdf", &pdf).await.1["id"].clone();
    let b = upload(&app, &counter, "b.pdf", &pdf).await.1["id"].clone();
    let mut body = counter_intake(&app, LLTP, Reach::PhoneAndEmail).await;
    body["documents"][0]["files"] = json!([a, b]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["code"], "too_large");
    // Nothing was taken: one of the files still fits.
    body["documents"][0]["files"] = json!([a]);
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let code = code_of(&v);
    // A supplement that would pass the total is refused too, and leaves the dossier as it was.
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    let officer = sign_in(&app, "cv.tuphap").await;
    act_ok(
        &app,
        &officer,
        &code,
        "request-supplement",
        json!({"missing": ["Bản sao sổ hộ khẩu"]}),
    )
    .await;
    let (status, e) = act(&app, &counter, &code, "receive-supplement", json!({"files": [b]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (_, v) = get(&app, &counter, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!(v["status_code"], 5);
    // A file over the per-file limit is refused at upload.
    let mut big = PDF.to_vec();
    big.resize(5000, b' ');
    let (status, _) = upload(&app, &counter, "c.pdf", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn intake_files_under_the_procedure_version_current_at_that_moment() {
    // Intake keeps the procedures it used in memory: an edit must reach the next intake.
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    let first = file_at_counter(&app, &counter, LLTP).await;
    assert_eq!(first["procedure_version"], 1, "{first}");
    let mut content = procedure_content(&app, LLTP).await;
    content["name"] = json!("Cấp Phiếu lý lịch tư pháp (đã sửa)");
    let (status, v2) = app
        .send_json(
            Method::PUT,
            &format!("/api/v1/procedures/{LLTP}"),
            &json!({"content": content, "note": "Sửa tên", "expected_version": 1}),
        )
        .await;
    assert_eq!(status, 200, "{v2}");
    let second = file_at_counter(&app, &counter, LLTP).await;
    assert_eq!(
        (second["procedure_version"].as_u64(), second["procedure_name"].as_str()),
        (Some(2), Some("Cấp Phiếu lý lịch tư pháp (đã sửa)")),
        "{second}"
    );
}

/// Issue 19: reads of personal data by anyone but the applicant are audited, also through
/// an API token and for a dossier filed at the counter (no owner), and so are bulk exports.
#[tokio::test]
async fn token_reads_and_bulk_exports_are_audited() {
    let app = spawn_app().await;
    let [counter, admin] = sign_in_each(&app, ["tiepnhan", "quantri"]).await;
    let code = code_of(&file_at_counter(&app, &counter, LLTP).await);
    let (status, t) = post(
        &app,
        &admin,
        "/api/v1/admin/tokens",
        json!({"name": "hệ thống khác", "scopes": ["dossiers:read"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let token = t["token"].as_str().expect("token");
    let r = app
        .client
        .get(app.url(&format!("/api/v1/dossiers/{code}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), StatusCode::OK);
    for path in ["/api/v1/register.xlsx", "/api/v1/dossiers.xlsx"] {
        let (status, _, _) = download(&app, Some(&counter), path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let audited = |action: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let (status, v) = get(app, admin, &format!("/api/v1/admin/audit?action={action}")).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            v["items"].as_array().cloned().unwrap_or_default()
        }
    };
    let views = audited("dossier.view").await;
    assert!(
        views.iter().any(|e| e["object_id"] == code.as_str()),
        "the token's read of a counter dossier is audited: {views:?}"
    );
    assert_eq!(audited("dossier.register_export").await.len(), 1);
    assert_eq!(audited("dossier.list_export").await.len(), 1);
}

#[tokio::test]
async fn nodes_sharing_a_database_share_one_tracking_budget() {
    // Two nodes (two server states, each with its own in-memory limiters) on one database:
    // the misses one node counts use up the budget the other grants.
    let app = spawn_app().await;
    let config = motcua_server::Config {
        data_dir: app.test_db.dir.path().to_owned(),
        tracking_rate_per_minute: 10,
        ..motcua_server::Config::default()
    };
    let nodes = [
        motcua_server::AppState::new(app.test_db.db.clone(), config.clone()).expect("node 1"),
        motcua_server::AppState::new(app.test_db.db.clone(), config).expect("node 2"),
    ];
    let code = "000.00.16.H43-991231-0001";
    // A minute boundary between the first and the last miss starts a new window; then try
    // again (at most twice more), since only misses within one window are comparable.
    for _ in 0..3 {
        let window = motcua_store::limits::window_of(motcua_server::now_ms());
        let mut refused_at = None;
        for i in 0..12 {
            // Ever new addresses, alternating nodes: only the code's budget can refuse.
            let ip = format!("198.51.100.{i}");
            let e = motcua_server::service::dossiers::tracking_miss(&nodes[i % 2], &ip, code).await;
            if matches!(e, motcua_server::error::AppError::TooManyRequests(..)) && refused_at.is_none() {
                refused_at = Some(i);
            }
        }
        if motcua_store::limits::window_of(motcua_server::now_ms()) != window {
            continue;
        }
        assert_eq!(
            refused_at,
            Some(10),
            "ten misses granted between the two nodes, not ten each"
        );
        return;
    }
    panic!("three windows crossed a minute boundary");
}
