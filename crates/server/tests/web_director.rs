//! The director's pages and the public ones beside them, on the backend the test run
//! selects: the overview's figures equal what the dossiers made here imply, the list
//! behind each number holds exactly those dossiers, the overdue list, the stuck-outbox
//! warning, who may see them; public tracking (form and the receipt's QR address) and the
//! public statistics.

mod common;

use std::collections::BTreeSet;

use common::api::{act_ok, code_of, procedure_of};
use common::intake::{file_at_counter, finish};
use common::pages::{listed_codes, page};
use common::{CONSTRUCTION, JUSTICE, LLTP, at, sign_in, sign_in_each, spawn_app, spawn_app_at};
use reqwest::StatusCode;
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

/// The period every figure below is asked for.
const PERIOD: &str = "period=khoang&from=2026-11-01&to=2026-12-31";

/// The number the overview shows for `metric` (of `agency`, or the total), read from the
/// link to its list; 0 when it is not a link.
fn figure(html: &str, metric: &str, agency: Option<&str>) -> i64 {
    let html = html.replace("&#38;", "&").replace("&amp;", "&");
    let href = format!(
        "href=\"/lanh-dao/ho-so?metric={metric}&{PERIOD}{}\"",
        agency.map(|a| format!("&agency={a}")).unwrap_or_default()
    );
    let Some(i) = html.find(&href) else {
        return 0;
    };
    let rest = &html[i..];
    let start = rest.find('>').expect("link text") + 1;
    let end = rest.find("</a>").expect("link end");
    rest[start..end]
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{href}: {e}"))
}

#[tokio::test]
async fn the_overview_counts_what_happened_and_each_number_lists_its_dossiers() {
    // Monday 2 November 2026, 08:00.
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, director] = sign_in_each(&app, ["tiepnhan", "ld.xaydung", "giamdoc"]).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;

    // Four dossiers received together: one finished early, one on the due instant, one
    // an hour late, one left to run overdue.
    let mut filed = Vec::new();
    for _ in 0..4 {
        filed.push(file_at_counter(&app, &counter, &procedure).await);
    }
    let [early, on_time, late, overdue] = [0, 1, 2, 3].map(|i| code_of(&filed[i]));
    let due = at(filed[0]["due_at"].as_str().expect("due"));
    assert!(
        due < datetime!(2026-12-20 00:00 +07:00),
        "the scenario fits the period: {due}"
    );
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    for code in [&early, &on_time, &late, &overdue] {
        act_ok(&app, &counter, code, "transfer", json!({})).await;
    }
    app.clock.set(datetime!(2026-11-03 10:00 +07:00));
    assert_eq!(
        finish(&app, &leader, &early, "ket-qua.pdf").await["timeliness"],
        "early"
    );
    app.clock.set(datetime!(2026-11-04 10:00 +07:00));
    act_ok(&app, &counter, &early, "return", json!({"method": "counter"})).await;
    app.clock.set(due);
    assert_eq!(
        finish(&app, &leader, &on_time, "ket-qua.pdf").await["timeliness"],
        "on_time"
    );
    app.clock.set(due + time::Duration::hours(1));
    assert_eq!(finish(&app, &leader, &late, "ket-qua.pdf").await["timeliness"], "late");
    // Later: a new dossier of the same department (within its deadline) and one of the
    // judicial record, still at the centre.
    let now = due + time::Duration::hours(2);
    app.clock.set(now);
    let fresh = code_of(&file_at_counter(&app, &counter, &procedure).await);
    let record = code_of(&file_at_counter(&app, &counter, LLTP).await);

    let (status, html) = page(&app, Some(&director), &format!("/lanh-dao?{PERIOD}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"overview\""), "{html}");
    let expected_construction = [
        ("received", 5),
        ("in_progress", 1),
        ("overdue", 1),
        ("early", 1),
        ("on_time", 1),
        ("late", 1),
        ("returned", 1),
    ];
    for (metric, n) in expected_construction {
        assert_eq!(figure(&html, metric, Some(CONSTRUCTION)), n, "{metric} of Xây dựng");
    }
    for (metric, n) in [("received", 1), ("in_progress", 1), ("overdue", 0), ("early", 0)] {
        assert_eq!(figure(&html, metric, Some(JUSTICE)), n, "{metric} of Tư pháp");
    }
    for (metric, n) in [
        ("received", 6),
        ("in_progress", 2),
        ("overdue", 1),
        ("early", 1),
        ("on_time", 1),
        ("late", 1),
        ("returned", 1),
    ] {
        assert_eq!(figure(&html, metric, None), n, "{metric} in all");
    }
    assert!(html.contains("66,6 %"), "two of three resolved on time: {html}");
    assert!(html.contains("Sở Xây dựng"), "{html}");
    assert!(!html.contains("id=\"stuck\""), "nothing stuck in the outbox");

    // The list behind each number holds exactly its dossiers.
    let set = |codes: &[&String]| codes.iter().map(|c| (*c).clone()).collect::<BTreeSet<_>>();
    for (metric, agency, expected) in [
        (
            "received",
            Some(CONSTRUCTION),
            set(&[&early, &on_time, &late, &overdue, &fresh]),
        ),
        (
            "received",
            None,
            set(&[&early, &on_time, &late, &overdue, &fresh, &record]),
        ),
        ("in_progress", Some(CONSTRUCTION), set(&[&fresh])),
        ("in_progress", None, set(&[&fresh, &record])),
        ("overdue", None, set(&[&overdue])),
        ("early", Some(CONSTRUCTION), set(&[&early])),
        ("on_time", Some(CONSTRUCTION), set(&[&on_time])),
        ("late", None, set(&[&late])),
        ("returned", None, set(&[&early])),
    ] {
        let path = format!(
            "/lanh-dao/ho-so?metric={metric}&{PERIOD}{}",
            agency.map(|a| format!("&agency={a}")).unwrap_or_default()
        );
        let (status, list) = page(&app, Some(&director), &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert_eq!(listed_codes(&list), expected, "{path}");
    }

    // A period before any of it shows nothing; the default (this month) shows the month.
    let (_, html) = page(
        &app,
        Some(&director),
        "/lanh-dao?period=khoang&from=2026-10-01&to=2026-10-31",
    )
    .await;
    assert!(html.contains("Chưa có hồ sơ nào trong kỳ này."), "{html}");
    let (status, html) = page(&app, Some(&director), "/lanh-dao").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tháng "), "{html}");
    // A bad range says so next to the dates and keeps them.
    let (status, html) = page(
        &app,
        Some(&director),
        "/lanh-dao?period=khoang&from=2026-11-30&to=2026-11-01",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ngày kết thúc phải từ ngày bắt đầu trở đi."), "{html}");
    assert!(html.contains("value=\"30/11/2026\""), "{html}");

    // The overdue list: the one overdue dossier, how late in working time.
    let (status, html) = page(&app, Some(&director), "/lanh-dao/qua-han").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(listed_codes(&html), set(&[&overdue]));
    assert!(html.contains("Quá hạn 2 giờ làm việc"), "{html}");
    assert!(
        html.contains(&format!("/lanh-dao/qua-han?agency={CONSTRUCTION}")),
        "{html}"
    );
    let (_, html) = page(&app, Some(&director), &format!("/lanh-dao/qua-han?agency={JUSTICE}")).await;
    assert!(listed_codes(&html).is_empty(), "{html}");

    // Public statistics: anonymous, counts only.
    let (status, html) = page(&app, None, "/thong-ke").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Năm 2026") && html.contains("Sở Xây dựng"), "{html}");
    assert!(html.contains("66,6 %"), "{html}");
    assert!(
        !html.contains("Nguyễn Văn An") && !html.contains(&overdue),
        "nothing personal"
    );
}

#[tokio::test]
async fn only_the_director_sees_the_overview() {
    let app = spawn_app().await;
    for path in ["/lanh-dao", "/lanh-dao/qua-han", "/lanh-dao/ho-so?metric=received"] {
        let (status, to) = page(&app, None, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {to}");
        assert!(to.starts_with("/dang-nhap?next="), "{to}");
        for who in ["tiepnhan", "cv.xaydung", "congdan"] {
            let s = sign_in(&app, who).await;
            let (status, html) = page(&app, Some(&s), path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}: {html}");
        }
        let director = sign_in(&app, "giamdoc").await;
        let (status, html) = page(&app, Some(&director), path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
    }
    let director = sign_in(&app, "giamdoc").await;
    let (status, _) = page(&app, Some(&director), "/lanh-dao/ho-so?metric=nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_dead_delivery_shows_on_the_overview() {
    let app = spawn_app().await;
    let [counter, director] = sign_in_each(&app, ["tiepnhan", "giamdoc"]).await;
    file_at_counter(&app, &counter, LLTP).await;
    // The portal refused the event until the worker gave up on it.
    {
        use motcua_store::outbox;
        let now = motcua_store::to_millis(OffsetDateTime::now_utc());
        let mut tx = app.test_db.db.begin_write().await.expect("begin");
        let events = outbox::unplanned(&mut tx, 10).await.expect("events");
        outbox::add_delivery(&mut tx, &events[0], "portal", now)
            .await
            .expect("delivery");
        let claimed = outbox::claim(&mut tx, "test", now, now + 60_000, 10)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        assert!(
            outbox::failed(&mut tx, claimed[0].id, "test", now, "HTTP 500", None)
                .await
                .expect("failed")
        );
        tx.commit().await.expect("commit");
    }
    let (status, html) = page(&app, Some(&director), "/lanh-dao").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"stuck\""), "{html}");
    assert!(html.contains("1 lượt đã ngừng gửi"), "{html}");
    assert!(html.contains("href=\"/van-hanh/chuyen-phat\""), "{html}");
}

#[tokio::test]
async fn tracking_pages_show_the_dossier_with_the_right_secret_only() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let filed = file_at_counter(&app, &counter, LLTP).await;
    let code = code_of(&filed);
    let secret = filed["tracking_secret"].as_str().expect("secret").to_owned();

    // The form, anonymous.
    let (status, html) = page(&app, None, "/tra-cuu").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"track\"") && html.contains("name=\"code\"") && html.contains("name=\"secret\""),
        "{html}"
    );

    // The receipt's QR address (forms::tracking_url): `/tra-cuu/{code}?secret={secret}`.
    let (status, html) = page(&app, None, &format!("/tra-cuu/{code}?secret={secret}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&code) && html.contains("Được tiếp nhận"), "{html}");
    assert!(html.contains("Cấp Phiếu lý lịch tư pháp"), "{html}");
    assert!(
        !html.contains("058190000123") && !html.contains("0912345678"),
        "nothing personal"
    );
    // The form sends the same, secret in any case.
    let (status, html) = page(
        &app,
        None,
        &format!("/tra-cuu?code={code}&secret={}", secret.to_lowercase()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Được tiếp nhận"), "{html}");

    // A wrong secret or an unknown code: the same 404, the message beside the form, what
    // was typed kept.
    let wrong = if secret == "AAAAAAAA" { "BBBBBBBB" } else { "AAAAAAAA" };
    for path in [
        format!("/tra-cuu?code={code}&secret={wrong}"),
        format!("/tra-cuu/{code}?secret={wrong}"),
        "/tra-cuu?code=000.00.16.H43-991231-9999&secret=AAAAAAAA".to_owned(),
        format!("/tra-cuu/{code}"),
    ] {
        let (status, html) = page(&app, None, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {html}");
        assert!(
            html.contains("Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập."),
            "{html}"
        );
        assert!(html.contains("id=\"track\""), "{html}");
        assert!(!html.contains("Được tiếp nhận"), "{html}");
    }
    let (_, html) = page(&app, None, &format!("/tra-cuu?code={code}&secret={wrong}")).await;
    assert!(
        html.contains(&format!("value=\"{code}\"")) && html.contains(&format!("value=\"{wrong}\"")),
        "{html}"
    );

    // Repeated misses are slowed down like the API's (one limiter for both).
    let mut limited = false;
    for _ in 0..40 {
        let (status, html) = page(&app, None, &format!("/tra-cuu/{code}?secret={wrong}")).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(html.contains("Tra cứu sai quá nhiều lần"), "{html}");
            limited = true;
            break;
        }
    }
    assert!(limited, "misses are rate-limited");
    let (status, _) = app.get_json(&format!("/api/v1/track/{code}?secret={wrong}")).await;
    assert_eq!(status, 429, "the API shares the limit");
    let (status, _) = app.get_json(&format!("/api/v1/track/{code}?secret={secret}")).await;
    assert_eq!(status, 200, "a correct secret is never refused");
}

#[tokio::test]
async fn more_than_one_supplement_request_counts_as_late() {
    // docs/rules.md §6: a dossier finished before its appointment still counts as late when
    // the applicant was asked to supplement more than once.
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, director] = sign_in_each(&app, ["tiepnhan", "ld.xaydung", "giamdoc"]).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    let once = code_of(&file_at_counter(&app, &counter, &procedure).await);
    let twice = code_of(&file_at_counter(&app, &counter, &procedure).await);
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    for code in [&once, &twice] {
        act_ok(&app, &counter, code, "transfer", json!({})).await;
    }
    let mut hour = 10;
    for (code, times) in [(&once, 1), (&twice, 2)] {
        for _ in 0..times {
            app.clock
                .set(datetime!(2026-11-03 00:00 +07:00) + time::Duration::hours(hour));
            act_ok(
                &app,
                &leader,
                code,
                "request-supplement",
                json!({"missing": ["Bản vẽ có chữ ký"], "reason": "Thiếu chữ ký"}),
            )
            .await;
            hour += 1;
            app.clock
                .set(datetime!(2026-11-03 00:00 +07:00) + time::Duration::hours(hour));
            act_ok(&app, &counter, code, "receive-supplement", json!({"note": "Đã nhận"})).await;
        }
    }
    app.clock.set(datetime!(2026-11-04 10:00 +07:00));
    finish(&app, &leader, &once, "ket-qua.pdf").await;
    finish(&app, &leader, &twice, "ket-qua.pdf").await;
    let (_, html) = page(&app, Some(&director), &format!("/lanh-dao?{PERIOD}")).await;
    assert_eq!(figure(&html, "early", Some(CONSTRUCTION)), 1, "one supplement: early");
    assert_eq!(figure(&html, "late", Some(CONSTRUCTION)), 1, "two supplements: late");
    let (_, list) = page(
        &app,
        Some(&director),
        &format!("/lanh-dao/ho-so?metric=late&{PERIOD}&agency={CONSTRUCTION}"),
    )
    .await;
    assert_eq!(listed_codes(&list), BTreeSet::from([twice]));
}
