//! The deadline rules a review found wrong (docs/rules.md §3–§4), through the API on the
//! backend the test run selects: a working day as long as the calendar's sessions, a
//! completion request at reception that takes nothing off the handling time, a completion
//! request made once, and a dossier whose applicant never answers reaching its limit.

mod common;

use common::api::{act, act_ok, code_of, get, procedure_of, put};
use common::files::upload_pdf;
use common::intake::{file_at_counter, file_online};
use common::{CONSTRUCTION, LLTP, at, sign_in, sign_in_each, spawn_app_at, spawn_app_at_with};
use motcua_core::calendar::{Calendar, WorkWeek, announced_adjustments};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

fn actions(v: &Value) -> Vec<String> {
    v["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a.as_str().expect("action").to_owned())
        .collect()
}

#[tokio::test]
async fn a_seven_hour_working_day_gives_appointments_in_days_of_seven_hours() {
    // Monday 7 December 2026, 08:00: a centre working 07:30–11:30 and 13:30–16:30.
    let start = datetime!(2026-12-07 08:00 +07:00);
    let app = spawn_app_at(start).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let week = json!({"sessions": [{"start": "07:30", "end": "11:30"}, {"start": "13:30", "end": "16:30"}],
        "weekdays": [1, 2, 3, 4, 5]});
    let (status, v) = put(&app, &admin, "/api/v1/calendar/week", week.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v, week);
    let (_, read) = app.get_json("/api/v1/calendar/week").await;
    assert_eq!(read, week);
    // Only an administrator sets it.
    let (status, _) = put(&app, &counter, "/api/v1/calendar/week", week.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The judicial record takes 10 working days: ten days of 7 hours, so the same time of
    // day ten working days later, Monday 21 December 08:00 (not 80 hours of 7-hour days).
    let v = file_at_counter(&app, &counter, LLTP).await;
    assert_eq!(v["due_at"], "2026-12-21T08:00:00+07:00", "{v}");
    let week: WorkWeek = serde_json::from_value(week).expect("week");
    let calendar = Calendar::new(week, announced_adjustments()).expect("calendar");
    assert_eq!(calendar.minutes_per_working_day(), 420);
    assert_eq!(
        at(v["due_at"].as_str().expect("due")),
        calendar.add_working_days(start, 10).expect("due")
    );
    let eight_hour_days = calendar.add_working_minutes(start, 10 * 8 * 60).expect("due");
    assert_ne!(at(v["due_at"].as_str().expect("due")), eight_hour_days);
    // The deadline endpoint counts on the same calendar.
    let (_, d) = app
        .get_json("/api/v1/calendar/deadline?from=2026-12-07T08:00:00%2B07:00&working_days=10")
        .await;
    assert_eq!(d["due"], v["due_at"]);
    // A work week without sessions is refused.
    let (status, e) = put(
        &app,
        &admin,
        "/api/v1/calendar/week",
        json!({"sessions": [], "weekdays": [1]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
}

#[tokio::test]
async fn a_completion_request_at_reception_takes_nothing_off_the_handling_time() {
    // Tuesday 1 December 2026.
    let app = spawn_app_at(datetime!(2026-12-01 09:00 +07:00)).await;
    let [citizen, counter] = sign_in_each(&app, ["congdan", "tiepnhan"]).await;
    let code = file_online(&app, &citizen, LLTP).await;
    // Asked to complete at 09:30, completed the next day at 09:30: a working day paused
    // before the clock started.
    app.clock.set(datetime!(2026-12-01 09:30 +07:00));
    act_ok(
        &app,
        &counter,
        &code,
        "request-completion",
        json!({"missing": ["Bản chụp giấy xác nhận thông tin về cư trú"]}),
    )
    .await;
    app.clock.set(datetime!(2026-12-02 09:30 +07:00));
    let scan = upload_pdf(&app, &citizen, "cu-tru.pdf").await;
    act_ok(&app, &citizen, &code, "receive-supplement", json!({"files": [scan]})).await;
    app.clock.set(datetime!(2026-12-02 10:00 +07:00));
    act_ok(&app, &counter, &code, "accept", json!({})).await;
    // Withdrawn two working hours after acceptance: two hours of handling, in full.
    app.clock.set(datetime!(2026-12-02 14:30 +07:00));
    let v = act_ok(
        &app,
        &citizen,
        &code,
        "withdraw",
        json!({"reason": "Không còn nhu cầu"}),
    )
    .await;
    assert_eq!(v["status_code"], 7);
    assert_eq!(v["paused_minutes"], 0, "{v}");
    // 10:00–11:30 and 13:30–14:30.
    assert_eq!(v["working_minutes"], 150, "{v}");
}

#[tokio::test]
async fn the_completion_request_is_made_once_then_the_dossier_is_refused() {
    let app = spawn_app_at(datetime!(2026-12-01 09:00 +07:00)).await;
    let [citizen, counter] = sign_in_each(&app, ["congdan", "tiepnhan"]).await;
    let code = file_online(&app, &citizen, LLTP).await;
    let v = act_ok(
        &app,
        &counter,
        &code,
        "request-completion",
        json!({"missing": ["Bản chụp giấy xác nhận thông tin về cư trú"]}),
    )
    .await;
    assert_eq!(v["status_code"], 5);
    let scan = upload_pdf(&app, &citizen, "cu-tru.pdf").await;
    let v = act_ok(&app, &citizen, &code, "receive-supplement", json!({"files": [scan]})).await;
    assert_eq!(v["status_code"], 1);
    // Back at reception: the counter may accept or refuse, but not ask a second time.
    let (_, v) = get(&app, &counter, &format!("/api/v1/dossiers/{code}")).await;
    let offered = actions(&v);
    assert!(offered.contains(&"accept".to_owned()), "{offered:?}");
    assert!(offered.contains(&"refuse".to_owned()), "{offered:?}");
    assert!(!offered.contains(&"request-completion".to_owned()), "{offered:?}");
    let (status, e) = act(
        &app,
        &counter,
        &code,
        "request-completion",
        json!({"missing": ["Tờ khai ký tên"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().expect("message").contains("một lần"), "{e}");
    let v = act_ok(
        &app,
        &counter,
        &code,
        "refuse",
        json!({"reason": "Hồ sơ vẫn thiếu tờ khai có chữ ký sau khi đã hướng dẫn bổ sung"}),
    )
    .await;
    assert_eq!(v["status_code"], 3);
}

#[tokio::test]
async fn an_unanswered_supplement_request_may_be_stopped_once_its_time_runs_out() {
    // Monday 2 November 2026; the applicant is given 3 working days to answer.
    let app = spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), |c| {
        c.supplement_wait_working_days = 3;
    })
    .await;
    let [counter, leader, officer] = sign_in_each(&app, ["tiepnhan", "ld.xaydung", "cv.xaydung"]).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    let code = code_of(&file_at_counter(&app, &counter, &procedure).await);
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    act_ok(&app, &leader, &code, "assign", json!({"user": "cv.xaydung"})).await;
    app.clock.set(datetime!(2026-11-03 09:00 +07:00));
    let v = act_ok(
        &app,
        &officer,
        &code,
        "request-supplement",
        json!({"missing": ["Bản vẽ thiết kế có chữ ký"], "reason": "Thiếu bản vẽ"}),
    )
    .await;
    assert_eq!(v["status_code"], 5);
    // Three working days from Tuesday 09:00: Friday 09:00.
    assert_eq!(v["wait_until"], "2026-11-06T09:00:00+07:00", "{v}");

    // Before then: not on the list, and stopping is refused with the date.
    app.clock.set(datetime!(2026-11-05 16:00 +07:00));
    let (_, list) = get(&app, &leader, "/api/v1/dossiers?due=wait_over").await;
    assert_eq!(list["items"], json!([]), "{list}");
    let (_, v) = get(&app, &leader, &format!("/api/v1/dossiers/{code}")).await;
    assert!(!actions(&v).contains(&"stop".to_owned()), "{v}");
    let stop = json!({"legal_ground": "Người nộp không bổ sung hồ sơ trong thời hạn", "reason": ""});
    let (status, e) = act(&app, &leader, &code, "stop", stop.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().expect("message").contains("06/11/2026"), "{e}");

    // After: on the list, offered, and stopped with the stop notice.
    app.clock.set(datetime!(2026-11-06 09:01 +07:00));
    let (_, list) = get(&app, &leader, "/api/v1/dossiers?due=wait_over").await;
    assert_eq!(list["items"][0]["code"], json!(code), "{list}");
    let (_, v) = get(&app, &leader, &format!("/api/v1/dossiers/{code}")).await;
    assert!(actions(&v).contains(&"stop".to_owned()), "{v}");
    // Only the leader stops it.
    let (status, e) = act(&app, &officer, &code, "stop", stop.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let v = act_ok(&app, &leader, &code, "stop", stop).await;
    assert_eq!(v["status_code"], 8);
    assert!(v.get("wait_until").is_none(), "{v}");
    assert_eq!(
        v["notices"].as_array().expect("notices").last().expect("notice")["kind"],
        "stop_notice"
    );
    let (_, list) = get(&app, &leader, "/api/v1/dossiers?due=wait_over").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn an_unanswered_completion_request_may_be_refused_once_its_time_runs_out() {
    let app = spawn_app_at_with(datetime!(2026-12-01 09:00 +07:00), |c| {
        c.supplement_wait_working_days = 2;
    })
    .await;
    let [citizen, counter] = sign_in_each(&app, ["congdan", "tiepnhan"]).await;
    let code = file_online(&app, &citizen, LLTP).await;
    let v = act_ok(
        &app,
        &counter,
        &code,
        "request-completion",
        json!({"missing": ["Bản chụp giấy xác nhận thông tin về cư trú"]}),
    )
    .await;
    assert_eq!(v["wait_until"], "2026-12-03T09:00:00+07:00", "{v}");
    let refusal = json!({"reason": "Người nộp không bổ sung hồ sơ trong thời hạn"});
    let (status, e) = act(&app, &counter, &code, "refuse", refusal.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    app.clock.set(datetime!(2026-12-03 09:30 +07:00));
    let director = sign_in(&app, "giamdoc").await;
    let (_, list) = get(&app, &director, "/api/v1/dossiers?due=wait_over").await;
    assert_eq!(list["items"][0]["code"], json!(code), "{list}");
    let v = act_ok(&app, &counter, &code, "refuse", refusal).await;
    assert_eq!(v["status_code"], 3);
}
