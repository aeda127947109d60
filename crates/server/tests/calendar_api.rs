//! The calendar API: deadlines across holidays and make-up days, the year's special days,
//! and administrators' edits.

mod common;

use common::api::put;

use common::{Session, TestApp, sign_in_each, spawn_app, url_encode};
use serde_json::{Value, json};

async fn due(app: &TestApp, from: &str, days: u32) -> String {
    let (status, body) = app
        .get_json(&format!(
            "/api/v1/calendar/deadline?from={}&working_days={days}",
            url_encode(from)
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["due"].as_str().expect("due").to_owned()
}

#[tokio::test]
async fn deadlines_follow_the_working_calendar() {
    let app = spawn_app().await;
    // Friday 16:30: half an hour on Friday, seven and a half on Monday.
    assert_eq!(
        due(&app, "2026-11-27T16:30:00+07:00", 1).await,
        "2026-11-30T16:30:00+07:00"
    );
    // Across Tết 2026 (16–20 February off): Friday 13/02 09:00 + 3 days.
    assert_eq!(
        due(&app, "2026-02-13T09:00:00+07:00", 3).await,
        "2026-02-25T09:00:00+07:00"
    );
    // Saturday 10/01/2026 is a make-up working day.
    assert_eq!(
        due(&app, "2026-01-09T16:00:00+07:00", 1).await,
        "2026-01-10T16:00:00+07:00"
    );
    // Received at lunch: the clock starts at 13:30.
    let (_, body) = app
        .get_json(&format!(
            "/api/v1/calendar/deadline?from={}&working_hours=1",
            url_encode("2026-11-27T12:00:00+07:00")
        ))
        .await;
    assert_eq!(body["start"], "2026-11-27T13:30:00+07:00");
    assert_eq!(body["due"], "2026-11-27T14:30:00+07:00");
    assert_eq!(body["working_minutes"], 60);
    // Any offset in, Vietnam time out.
    assert_eq!(due(&app, "2026-11-27T09:30:00Z", 1).await, "2026-11-30T16:30:00+07:00");
}

#[tokio::test]
async fn bad_deadline_requests_name_the_parameter() {
    let app = spawn_app().await;
    for (query, field) in [
        ("from=yesterday&working_days=1", "from"),
        ("from=2026-11-27T09:00:00%2B07:00", "working_days"),
        (
            "from=2026-11-27T09:00:00%2B07:00&working_days=1&working_hours=2",
            "working_days",
        ),
        ("from=2026-11-27T09:00:00%2B07:00&working_days=999999", "working_days"),
        ("from=2026-11-27T09:00:00%2B07:00&working_days=-1", "working_days"),
        ("working_days=1", "from"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/calendar/deadline?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn the_year_lists_its_special_days() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/calendar/days?year=2026").await;
    assert_eq!(status, 200);
    let off: Vec<&str> = body["non_working_weekdays"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["date"].as_str().expect("date"))
        .collect();
    for d in [
        "2026-01-01",
        "2026-01-02",
        "2026-02-16",
        "2026-02-20",
        "2026-04-27",
        "2026-04-30",
        "2026-05-01",
    ] {
        assert!(off.contains(&d), "{d} in {off:?}");
    }
    assert_eq!(body["working_weekend_days"][0]["date"], "2026-01-10");
    let (status, body) = app.get_json("/api/v1/calendar/days?year=1800").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("year")));
}

async fn put_day(app: &TestApp, who: &Session, date: &str, body: Value) -> (u16, Value) {
    let (status, v) = put(app, who, &format!("/api/v1/calendar/days/{date}"), body).await;
    (status.as_u16(), v)
}

#[tokio::test]
async fn administrators_add_and_remove_days_off() {
    let app = spawn_app().await;
    let [admin, director] = sign_in_each(&app, ["quantri", "giamdoc"]).await;
    let (status, _) = put_day(
        &app,
        &director,
        "2026-12-31",
        json!({"kind": "day_off", "reason": "Nghỉ cuối năm"}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = put_day(&app, &admin, "2026-12-31", json!({"kind": "day_off"})).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("reason")));
    let (status, body) = put_day(&app, &admin, "31-12-2026", json!({"kind": "day_off", "reason": "x"})).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("date")));

    assert_eq!(
        due(&app, "2026-12-30T16:00:00+07:00", 1).await,
        "2026-12-31T16:00:00+07:00"
    );
    let (status, body) = put_day(
        &app,
        &admin,
        "2026-12-31",
        json!({"kind": "day_off", "reason": "Nghỉ bù dịp Tết Dương lịch"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["non_working_weekdays"]
            .as_array()
            .expect("days")
            .iter()
            .any(|d| d["date"] == "2026-12-31")
    );
    // 31/12 off, 1/1/2027 a Friday holiday, then the weekend.
    assert_eq!(
        due(&app, "2026-12-30T16:00:00+07:00", 1).await,
        "2027-01-04T16:00:00+07:00"
    );
    let (status, _) = put_day(&app, &admin, "2026-12-31", json!({"kind": "default"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        due(&app, "2026-12-30T16:00:00+07:00", 1).await,
        "2026-12-31T16:00:00+07:00"
    );
    // A Saturday worked.
    let (status, _) = put_day(
        &app,
        &admin,
        "2026-12-26",
        json!({"kind": "working_day", "reason": "Làm bù"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        due(&app, "2026-12-25T16:00:00+07:00", 1).await,
        "2026-12-26T16:00:00+07:00"
    );

    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let entries = motcua_store::audit::list(
        &mut tx,
        &motcua_store::audit::AuditFilter {
            action: Some("calendar.day".to_owned()),
            ..Default::default()
        },
    )
    .await
    .expect("audit");
    assert_eq!(entries.len(), 3);
}
