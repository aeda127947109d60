//! The report on the results of handling administrative procedures (issue 8 item 5), on
//! the backend the test run selects: the XLSX downloaded through the API, read back with
//! calamine, holds the maintained aggregates' figures and the counts the dossiers made here
//! imply; who may download what; date validation; the page; and the monthly reports,
//! generated once per province / agency and month under a moving clock.

mod common;

use common::stats::add_counts;

use std::collections::BTreeMap;

use calamine::{Data, Reader};
use common::api::{act_ok, code_of, procedure_of};
use common::files::download;
use common::intake::{Reach, counter_intake, file_dossier, finish};
use common::{CONSTRUCTION, JUSTICE, LLTP, PROVINCE, Session, TestApp, at, sign_in_each, spawn_app_at, vn_midnight};
use motcua_core::calendar::VIETNAM_OFFSET;
use motcua_core::codes::ProvinceCode;
use motcua_core::stats::Dimension;
use motcua_server::Config;
use motcua_server::reports::{FIRST_DATA_ROW, HEADER_ROW, SHEETS, TITLE, TOTAL, generate_due};
use motcua_server::state::AppState;
use motcua_store::overview::Period;
use motcua_store::stats::{self, Counts, Query};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::Duration;
use time::macros::{date, datetime};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Files a dossier of `procedure` at the counter through `channel`, the applicant known by
/// name and identity number only.
async fn file_via(app: &TestApp, counter: &Session, procedure: &str, channel: &str) -> Value {
    let mut body = counter_intake(app, procedure, Reach::Nowhere).await;
    body["channel"] = json!(channel);
    file_dossier(app, counter, body).await
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

type Sheet = calamine::Range<Data>;

fn sheets(bytes: &[u8]) -> BTreeMap<String, Sheet> {
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a real XLSX");
    let names = book.sheet_names();
    assert_eq!(names, SHEETS.map(str::to_owned).to_vec());
    names
        .into_iter()
        .map(|n| {
            let r = book.worksheet_range(&n).expect("range");
            (n, r)
        })
        .collect()
}

fn text(s: &Sheet, row: u32, col: u32) -> String {
    match s.get_value((row, col)) {
        Some(Data::String(t)) => t.clone(),
        other => panic!("({row}, {col}): not text: {other:?}"),
    }
}

/// The data rows of a sheet: (STT, name, the 14 counts, the rate).
fn rows(s: &Sheet) -> Vec<(String, String, Vec<i64>, Option<f64>)> {
    let mut out = Vec::new();
    let mut r = FIRST_DATA_ROW;
    while let Some(Data::String(name)) = s.get_value((r, 1)) {
        let number = match s.get_value((r, 0)) {
            Some(Data::String(t)) => t.clone(),
            _ => String::new(),
        };
        let counts = (2..16)
            .map(|c| match s.get_value((r, c)) {
                Some(Data::Float(x)) => *x as i64,
                other => panic!("({r}, {c}) of {name}: not a number: {other:?}"),
            })
            .collect();
        let rate = match s.get_value((r, 16)) {
            Some(Data::Float(x)) => Some(*x),
            Some(Data::Empty) | None => None,
            other => panic!("rate of {name}: {other:?}"),
        };
        out.push((number, name.clone(), counts, rate));
        r += 1;
    }
    out
}

/// The columns of the report as the test reads docs/rules.md §6, from the aggregates' counts.
fn expected(c: &Counts) -> (Vec<i64>, Option<f64>) {
    let received = c.received[0] + c.received[1] + c.received[2];
    let resolved = c.early + c.on_time + c.late;
    (
        vec![
            c.carried_over + received,
            c.carried_over,
            c.received[1],
            c.received[0],
            c.received[2],
            resolved,
            c.early,
            c.on_time,
            c.late,
            c.in_progress_on_time + c.overdue,
            c.in_progress_on_time,
            c.overdue,
            c.withdrawn,
            c.refused,
        ],
        (resolved > 0).then(|| ((c.early + c.on_time) * 1000 / resolved) as f64 / 1000.0),
    )
}

async fn figures(app: &TestApp, group: Dimension, period: Period, department: Option<&str>) -> Vec<(String, Counts)> {
    let province = ProvinceCode::parse(PROVINCE).expect("province");
    let mut tx = app.test_db.db.begin_read().await.expect("begin");
    stats::figures(
        &mut tx,
        &province,
        Query {
            group,
            period,
            now: app.clock.now(),
            department,
            channel: None,
        },
    )
    .await
    .expect("figures")
    .into_iter()
    .map(|l| (l.value, l.counts))
    .collect()
}

fn sum(lines: &[(String, Counts)]) -> Counts {
    let mut t = Counts::default();
    for (_, c) in lines {
        add_counts(&mut t, c);
    }
    t
}

async fn agency_names(app: &TestApp) -> BTreeMap<String, String> {
    let (status, v) = app.get_json("/api/v1/agencies").await;
    assert_eq!(status, 200, "{v}");
    let items = v
        .as_array()
        .or_else(|| v["items"].as_array())
        .expect("agencies")
        .clone();
    items
        .iter()
        .map(|a| {
            (
                a["code"].as_str().expect("code").to_owned(),
                a["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect()
}

/// Checks one sheet of lines (one per value, then the total) against the aggregates.
fn check_lines(sheet: &Sheet, lines: &[(String, Counts)], name_of: &dyn Fn(&str) -> String, label: &str) {
    let got = rows(sheet);
    assert_eq!(got.len(), lines.len() + 1, "{label}: one row per line and the total");
    for (code, c) in lines {
        let name = name_of(code);
        let row = got
            .iter()
            .find(|r| r.1 == name)
            .unwrap_or_else(|| panic!("{label}: no row for {name}"));
        assert_eq!((row.2.clone(), row.3), expected(c), "{label}: {name}");
    }
    let total = got.last().expect("total");
    assert_eq!(total.1, TOTAL);
    assert_eq!((total.2.clone(), total.3), expected(&sum(lines)), "{label}: total");
}

#[tokio::test]
async fn the_report_holds_the_dashboard_figures_for_the_right_people() {
    // Monday 2 November 2026, 08:00.
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, director, officer] =
        sign_in_each(&app, ["tiepnhan", "ld.xaydung", "giamdoc", "cv.tuphap"]).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;

    // Sở Xây dựng: one resolved early, one late, one left to run overdue (counter), one
    // filed by post and withdrawn. Sở Tư pháp: one in progress, one withdrawn.
    let filed = [
        file_via(&app, &counter, &procedure, "counter").await,
        file_via(&app, &counter, &procedure, "counter").await,
        file_via(&app, &counter, &procedure, "counter").await,
        file_via(&app, &counter, &procedure, "post").await,
    ];
    let [early, late, overdue, withdrawn] = [0, 1, 2, 3].map(|i| code_of(&filed[i]));
    let justice_open = code_of(&file_via(&app, &counter, LLTP, "counter").await);
    let justice_withdrawn = code_of(&file_via(&app, &counter, LLTP, "counter").await);
    let due = at(filed[0]["due_at"].as_str().expect("due"));
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    for code in [&early, &late, &overdue] {
        act_ok(&app, &counter, code, "transfer", json!({})).await;
    }
    act_ok(&app, &counter, &justice_open, "transfer", json!({})).await;
    act_ok(&app, &counter, &withdrawn, "withdraw", json!({"reason": "Xin rút"})).await;
    act_ok(
        &app,
        &counter,
        &justice_withdrawn,
        "withdraw",
        json!({"reason": "Xin rút"}),
    )
    .await;
    app.clock.set(datetime!(2026-11-03 10:00 +07:00));
    assert_eq!(
        finish(&app, &leader, &early, "ket-qua.pdf").await["timeliness"],
        "early"
    );
    app.clock.set(due + Duration::hours(1));
    assert_eq!(finish(&app, &leader, &late, "ket-qua.pdf").await["timeliness"], "late");
    let now = due + Duration::hours(2);
    app.clock.set(now);
    let last = now.to_offset(VIETNAM_OFFSET).date();
    let from = date!(2026 - 11 - 01);
    let period = Period {
        from: vn_midnight(from),
        to: vn_midnight(last) + Duration::days(1),
    };
    let url = format!("/api/v1/reports/results.xlsx?from={from}&to={last}");

    // The director: the whole province.
    let (status, headers, body) = download(&app, Some(&director), &url).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], XLSX);
    assert_eq!(
        headers["content-disposition"].to_str().expect("ascii"),
        format!("attachment; filename=\"bao-cao-ket-qua-{from}_{last}.xlsx\"")
    );
    let book = sheets(&body);
    let first = &book[SHEETS[0]];
    assert_eq!(text(first, 0, 0), "ỦY BAN NHÂN DÂN TỈNH NINH THUẬN");
    assert_eq!(text(first, 1, 0), TITLE);
    assert_eq!(
        text(first, 2, 0),
        format!(
            "Kỳ báo cáo: từ ngày 01/11/2026 đến ngày {:02}/{:02}/{}",
            last.day(),
            u8::from(last.month()),
            last.year()
        )
    );
    assert!(text(first, 3, 0).starts_with("Ngày lập báo cáo: "));
    for (row, col, want) in [
        (HEADER_ROW, 0, "STT"),
        (HEADER_ROW, 1, "Đơn vị"),
        (HEADER_ROW, 2, "Số hồ sơ nhận giải quyết"),
        (HEADER_ROW, 7, "Số hồ sơ đã giải quyết"),
        (HEADER_ROW, 11, "Số hồ sơ đang giải quyết"),
        (HEADER_ROW, 14, "Rút hồ sơ"),
        (HEADER_ROW, 15, "Từ chối"),
        (HEADER_ROW, 16, "Tỉ lệ đúng hạn (%)"),
        (HEADER_ROW + 1, 2, "Tổng số"),
        (HEADER_ROW + 1, 3, "Kỳ trước chuyển qua"),
        (HEADER_ROW + 1, 4, "Mới tiếp nhận"),
        (HEADER_ROW + 2, 4, "Trực tuyến"),
        (HEADER_ROW + 2, 5, "Trực tiếp"),
        (HEADER_ROW + 2, 6, "Bưu chính"),
        (HEADER_ROW + 1, 8, "Trước hạn"),
        (HEADER_ROW + 1, 9, "Đúng hạn"),
        (HEADER_ROW + 1, 10, "Quá hạn"),
        (HEADER_ROW + 1, 12, "Trong hạn"),
    ] {
        assert_eq!(text(first, row, col), want, "header ({row}, {col})");
    }
    let names = agency_names(&app).await;
    let agency_name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    let departments = figures(&app, Dimension::Department, period, None).await;
    check_lines(first, &departments, &agency_name, "per department");
    // What happened here, independently of the aggregates.
    let got = rows(first);
    let construction = got
        .iter()
        .find(|r| r.1 == agency_name(CONSTRUCTION))
        .expect("Sở Xây dựng");
    assert_eq!(construction.2, vec![4, 0, 0, 3, 1, 2, 1, 0, 1, 1, 0, 1, 1, 0]);
    assert_eq!(construction.3, Some(0.5));
    let justice = got.iter().find(|r| r.1 == agency_name(JUSTICE)).expect("Sở Tư pháp");
    assert_eq!(
        (justice.2[0], justice.2[3], justice.2[5]),
        (2, 2, 0),
        "received 2 at the counter, none resolved"
    );
    assert_eq!((justice.2[9], justice.2[12]), (1, 1), "one in progress, one withdrawn");
    assert_eq!(justice.3, None, "no rate without resolved dossiers");
    assert_eq!(got.last().expect("total").2[0], 6);

    // Per department then procedure: each department's heading holds its subtotal, its
    // procedures follow.
    let second = &book[SHEETS[1]];
    let got = rows(second);
    let heading = got
        .iter()
        .position(|r| r.1 == agency_name(CONSTRUCTION))
        .expect("heading");
    assert_eq!(got[heading].2, construction.2);
    let procedures = figures(&app, Dimension::Procedure, period, Some(CONSTRUCTION)).await;
    assert_eq!(procedures.len(), 1);
    assert_eq!(procedures[0].0, procedure);
    let (_, pv) = app.get_json(&format!("/api/v1/procedures/{procedure}")).await;
    assert_eq!(got[heading + 1].0, "1");
    assert_eq!(
        got[heading + 1].1,
        pv["content"]["name"].as_str().expect("name"),
        "the procedure's name"
    );
    assert_eq!(
        (got[heading + 1].2.clone(), got[heading + 1].3),
        expected(&procedures[0].1)
    );
    assert_eq!(
        got.len(),
        departments.len() + departments.len() + 1,
        "one procedure each here, and the total"
    );
    assert_eq!(got.last().expect("total").1, TOTAL);
    assert_eq!(got.last().expect("total").2, rows(first).last().expect("total").2);
    // Per field.
    let fields = figures(&app, Dimension::Field, period, None).await;
    let third = &book[SHEETS[2]];
    let field_rows = rows(third);
    assert_eq!(field_rows.len(), fields.len() + 1);
    let mut field_counts: Vec<(Vec<i64>, Option<f64>)> =
        field_rows[..fields.len()].iter().map(|r| (r.2.clone(), r.3)).collect();
    let mut want: Vec<(Vec<i64>, Option<f64>)> = fields.iter().map(|(_, c)| expected(c)).collect();
    field_counts.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(field_counts, want);

    // A department leader: their own department only.
    let (status, _, body) = download(&app, Some(&leader), &url).await;
    assert_eq!(status, StatusCode::OK);
    let own = sheets(&body);
    let own_rows = rows(&own[SHEETS[0]]);
    assert_eq!(own_rows.len(), 2, "their department and the total");
    assert_eq!(own_rows[0].1, agency_name(CONSTRUCTION));
    assert_eq!(own_rows[0].2, construction.2);
    assert_eq!(text(&own[SHEETS[0]], 0, 0), agency_name(CONSTRUCTION).to_uppercase());
    let (status, headers, _) = download(&app, Some(&leader), &format!("{url}&agency={CONSTRUCTION}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-disposition"].to_str().expect("ascii"),
        format!("attachment; filename=\"bao-cao-ket-qua-{CONSTRUCTION}-{from}_{last}.xlsx\"")
    );
    let (status, _, body) = download(&app, Some(&leader), &format!("{url}&agency={JUSTICE}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    // The director may ask for one department.
    let (status, _, body) = download(&app, Some(&director), &format!("{url}&agency={JUSTICE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&sheets(&body)[SHEETS[0]]).len(), 2);
    // An officer (not a leader), a citizen's absence of rights, anonymous.
    let (status, _, _) = download(&app, Some(&officer), &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = download(&app, None, &url).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad dates, each attributed to its field.
    for (query, code, field) in [
        ("from=2026-13-01&to=2026-11-30", StatusCode::BAD_REQUEST, "from"),
        ("from=2026-11-01&to=30-11-2026", StatusCode::BAD_REQUEST, "to"),
        ("to=2026-11-30", StatusCode::BAD_REQUEST, "from"),
        ("from=2026-11-30&to=2026-11-01", StatusCode::UNPROCESSABLE_ENTITY, "to"),
        ("from=2020-01-01&to=2026-11-30", StatusCode::UNPROCESSABLE_ENTITY, "to"),
        (
            "from=2026-11-01&to=2026-11-30&agency=xyz",
            StatusCode::BAD_REQUEST,
            "agency",
        ),
    ] {
        let (status, _, body) = download(&app, Some(&director), &format!("/api/v1/reports/results.xlsx?{query}")).await;
        assert_eq!(status, code, "{query}: {}", String::from_utf8_lossy(&body));
        let v = json_of(&body);
        assert_eq!(v["field"], field, "{query}: {v}");
        assert!(!v["message"].as_str().expect("message").is_empty());
    }

    // The page: the form, the presets, the download redirect, a period error, the rights.
    let (status, _, html) = download(&app, Some(&director), "/lanh-dao/bao-cao").await;
    let html = String::from_utf8(html).expect("utf-8");
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tải báo cáo (Excel)") && html.contains("id=\"report-form\""));
    assert!(html.contains("Tháng trước (Tháng 10/2026)") || html.contains("Tháng trước (Tháng 11/2026)"));
    assert!(html.contains("Chưa có báo cáo tháng nào."));
    assert!(html.contains(&agency_name(JUSTICE)), "the director picks a department");
    let (status, headers, _) = download(
        &app,
        Some(&director),
        &format!("/lanh-dao/bao-cao?agency=&from={from}&to={last}&tai=1"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"].to_str().expect("ascii"), url);
    let (status, _, html) = download(
        &app,
        Some(&director),
        "/lanh-dao/bao-cao?from=2026-11-30&to=2026-11-01&tai=1",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(html)
            .expect("utf-8")
            .contains("Ngày cuối kỳ phải sau hoặc trùng ngày đầu kỳ.")
    );
    let (status, _, html) = download(&app, Some(&leader), "/lanh-dao/bao-cao").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).expect("utf-8");
    assert!(html.contains(&agency_name(CONSTRUCTION)) && !html.contains(&agency_name(JUSTICE)));
    let (status, _, _) = download(&app, Some(&officer), "/lanh-dao/bao-cao").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = download(&app, None, "/lanh-dao/bao-cao").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers["location"].to_str().expect("ascii").starts_with("/dang-nhap"));
}

/// A second handle on the running app's database, object store and clock, as the
/// maintenance loop has.
fn maintenance_state(app: &TestApp) -> AppState {
    let config = Config {
        data_dir: app.test_db.dir.path().to_owned(),
        ..Config::default()
    };
    let mut state = AppState::new(app.test_db.db.clone(), config).expect("state");
    state.set_clock(app.clock.clone());
    state
}

#[tokio::test]
async fn monthly_reports_are_generated_once_and_served_as_stored() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, director] = sign_in_each(&app, ["tiepnhan", "ld.xaydung", "giamdoc"]).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    let a = code_of(&file_via(&app, &counter, &procedure, "counter").await);
    let _b = code_of(&file_via(&app, &counter, &procedure, "post").await);
    let _c = code_of(&file_via(&app, &counter, LLTP, "counter").await);
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    act_ok(&app, &counter, &a, "transfer", json!({})).await;
    app.clock.set(datetime!(2026-11-03 10:00 +07:00));
    finish(&app, &leader, &a, "ket-qua.pdf").await;

    let state = maintenance_state(&app);
    // Still November: October's report (empty) is due, none of November.
    assert!(generate_due(&state).await.expect("october") > 0);
    // Into December: November's reports, once however often the loop ticks.
    app.clock.set(datetime!(2026-12-01 00:30 +07:00));
    let stored = generate_due(&state).await.expect("generate");
    assert_eq!(generate_due(&state).await.expect("again"), 0, "nothing more is due");
    let november = {
        let mut tx = app.test_db.db.begin_read().await.expect("begin");
        motcua_store::reports::of_period(&mut tx, PROVINCE, date!(2026 - 11 - 01), date!(2026 - 11 - 30))
            .await
            .expect("rows")
    };
    assert_eq!(november.len(), stored, "each claim of the month stored once");
    let mut agencies: Vec<Option<String>> = november.iter().map(|r| r.agency.clone()).collect();
    agencies.sort();
    let n = agencies.len();
    agencies.dedup();
    assert_eq!(agencies.len(), n, "one row per agency and month");
    assert!(agencies.contains(&None));
    assert!(agencies.contains(&Some(CONSTRUCTION.to_owned())));
    assert!(agencies.contains(&Some(JUSTICE.to_owned())));
    assert!(november.iter().all(|r| r.is_complete()));

    // The director lists all of them; the leader only their department's.
    let (status, _, body) = download(&app, Some(&director), "/api/v1/reports/monthly").await;
    assert_eq!(status, StatusCode::OK);
    let all = json_of(&body)["items"].as_array().expect("items").clone();
    let october = {
        let mut tx = app.test_db.db.begin_read().await.expect("begin");
        motcua_store::reports::of_period(&mut tx, PROVINCE, date!(2026 - 10 - 01), date!(2026 - 10 - 31))
            .await
            .expect("rows")
    };
    assert!(october.iter().any(|r| r.agency.is_none()) && october.iter().all(|r| r.is_complete()));
    assert_eq!(all.len(), n + october.len(), "November's and October's");
    assert_eq!(all[0]["label"], "Tháng 11/2026");
    assert_eq!(all[0]["agency"], Value::Null, "the province's report first");
    let (status, _, body) = download(&app, Some(&leader), "/api/v1/reports/monthly").await;
    assert_eq!(status, StatusCode::OK);
    let own = json_of(&body)["items"].as_array().expect("items").clone();
    assert_eq!(own.len(), 2, "November's and October's of Sở Xây dựng");
    assert!(own.iter().all(|i| i["agency"] == CONSTRUCTION));
    let (status, _, _) = download(&app, None, "/api/v1/reports/monthly").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The province's file: as recorded, and the aggregates' November figures.
    let item = &all[0];
    let (status, headers, body) = download(&app, Some(&director), item["url"].as_str().expect("url")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], XLSX);
    assert_eq!(
        headers["content-disposition"].to_str().expect("ascii"),
        "attachment; filename=\"bao-cao-ket-qua-2026-11-01_2026-11-30.xlsx\""
    );
    let sha: String = Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(item["sha256"], sha);
    assert_eq!(item["size"], body.len());
    let period = Period {
        from: vn_midnight(date!(2026 - 11 - 01)),
        to: vn_midnight(date!(2026 - 12 - 01)),
    };
    let names = agency_names(&app).await;
    let agency_name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_owned());
    let book = sheets(&body);
    let first = &book[SHEETS[0]];
    assert_eq!(text(first, 2, 0), "Kỳ báo cáo: từ ngày 01/11/2026 đến ngày 30/11/2026");
    let departments = figures(&app, Dimension::Department, period, None).await;
    check_lines(first, &departments, &agency_name, "November");
    assert_eq!(rows(first).last().expect("total").2[0], 3);

    // The leader may not download the province's, but their own.
    let (status, _, _) = download(&app, Some(&leader), item["url"].as_str().expect("url")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = download(&app, Some(&leader), own[0]["url"].as_str().expect("url")).await;
    assert_eq!(status, StatusCode::OK);
    let own_rows = rows(&sheets(&body)[SHEETS[0]]);
    assert_eq!(own_rows.len(), 2);
    assert_eq!(own_rows[0].1, agency_name(CONSTRUCTION));
    let (status, _, _) = download(&app, Some(&director), "/api/v1/reports/monthly/999999.xlsx").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A claim left half-done (the server stopped before storing the file) is completed by
    // the next tick.
    {
        let mut tx = app.test_db.db.begin_write().await.expect("begin");
        assert!(
            motcua_store::reports::claim(
                &mut tx,
                PROVINCE,
                Some("000.00.99.H43"),
                date!(2026 - 11 - 01),
                date!(2026 - 11 - 30),
                app.clock.now()
            )
            .await
            .expect("claim")
        );
        tx.commit().await.expect("commit");
    }
    assert_eq!(generate_due(&state).await.expect("repair"), 1);
    assert_eq!(generate_due(&state).await.expect("again"), 0);

    // The page lists them with their links.
    let (status, _, html) = download(&app, Some(&director), "/lanh-dao/bao-cao").await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(html).expect("utf-8");
    assert!(html.contains(item["url"].as_str().expect("url")));
    assert!(html.contains("Tháng 11/2026"));
}
