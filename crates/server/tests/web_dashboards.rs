//! The dashboards' charts and the department dashboard, on the backend the test run
//! selects: the charts' numbers equal the figures, every number that links to a list
//! leads to a list of exactly that many dossiers, a department leader sees their own
//! department only, anonymous visitors are sent to log in, and the public statistics show
//! the charts with no list behind them.

mod common;

use std::collections::BTreeSet;

use common::api::{act_ok, code_of, procedure_of};
use common::intake::{file_at_counter, finish};
use common::pages::{listed_codes, page};
use common::{CONSTRUCTION, JUSTICE, LLTP, Session, TestApp, at, sign_in, sign_in_each, spawn_app_at};
use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;

/// The period asked for: thirty days, so the trend has a point per day.
const PERIOD: &str = "period=khoang&from=2026-11-01&to=2026-11-30";

fn unescape(s: &str) -> String {
    s.replace("&#38;", "&").replace("&amp;", "&").replace("&#61;", "=")
}

/// Every link to a path starting with `prefix` whose text is a number: (href, number).
fn numbered_links(html: &str, prefix: &str) -> Vec<(String, i64)> {
    let html = unescape(html);
    let needle = format!("<a href=\"{prefix}");
    let mut out = Vec::new();
    for (i, _) in html.match_indices(&needle) {
        let rest = &html[i + 9..];
        let href = rest.split('"').next().expect("href").to_owned();
        let after = &rest[rest.find('>').expect("tag end") + 1..];
        let text = &after[..after.find("</a>").expect("link end")];
        if let Ok(n) = text.trim().replace('.', "").parse::<i64>() {
            out.push((href, n));
        }
    }
    out
}

/// The total of a series in a time chart's legend ("Tiếp nhận 4").
fn legend_total(html: &str, series: &str) -> i64 {
    html.match_indices("class=\"legend\" x=")
        .filter_map(|(i, _)| {
            let rest = &html[i..];
            let text = &rest[rest.find('>')? + 1..rest.find("</text>")?];
            text.strip_prefix(series)?.trim().replace('.', "").parse().ok()
        })
        .next()
        .unwrap_or_else(|| panic!("no legend for {series}"))
}

/// The number a table cell links for `href` (first occurrence).
fn linked(html: &str, href: &str) -> Option<i64> {
    numbered_links(html, href)
        .into_iter()
        .find(|(h, _)| h == href)
        .map(|(_, n)| n)
}

/// Follows every numbered link to a list and checks the list holds that many dossiers.
async fn every_link_lists_its_number(app: &TestApp, s: &Session, html: &str, prefix: &str) -> usize {
    let links = numbered_links(html, prefix);
    let mut seen = BTreeSet::new();
    for (href, n) in links {
        if !seen.insert(href.clone()) {
            continue;
        }
        let (status, list) = page(app, Some(s), &href).await;
        assert_eq!(status, StatusCode::OK, "{href}: {list}");
        assert_eq!(listed_codes(&list).len() as i64, n, "{href} should list {n} dossiers");
        if prefix.contains("qua-han") {
            assert!(list.contains(&format!("Danh sách ({n} hồ sơ)")), "{href}: {list}");
        }
    }
    seen.len()
}

struct World {
    app: TestApp,
    director: Session,
    leader: Session,
}

/// Monday 2 November 2026: three dossiers of Sở Xây dựng (one resolved early, two left to
/// run late) and one judicial record; then the clock moves to 28 December, when the two
/// are long overdue (and were already at the period's end).
async fn world() -> World {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, director] = sign_in_each(&app, ["tiepnhan", "ld.xaydung", "giamdoc"]).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    let mut filed = Vec::new();
    for _ in 0..3 {
        filed.push(file_at_counter(&app, &counter, &procedure).await);
    }
    let due = at(filed[0]["due_at"].as_str().expect("due"));
    assert!(
        due < datetime!(2026-12-01 00:00 +07:00),
        "overdue by the period's end: {due}"
    );
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    for v in &filed {
        act_ok(&app, &counter, &code_of(v), "transfer", json!({})).await;
    }
    app.clock.set(datetime!(2026-11-03 10:00 +07:00));
    assert_eq!(
        finish(&app, &leader, &code_of(&filed[0]), "ket-qua.pdf").await["timeliness"],
        "early"
    );
    file_at_counter(&app, &counter, LLTP).await;
    app.clock.set(datetime!(2026-12-28 10:00 +07:00));
    World { app, director, leader }
}

#[tokio::test]
async fn the_directors_charts_equal_the_figures_and_link_to_their_lists() {
    let World { app, director, .. } = world().await;
    let (status, html) = page(&app, Some(&director), &format!("/lanh-dao?{PERIOD}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let html = unescape(&html);
    // Four received in all, one resolved; the trend (one point per day) says the same.
    let received = linked(&html, &format!("/lanh-dao/ho-so?metric=received&{PERIOD}")).expect("received");
    assert_eq!(received, 4);
    assert_eq!(legend_total(&html, "Tiếp nhận"), received);
    assert_eq!(legend_total(&html, "Đã giải quyết"), 1);
    assert!(html.matches("<tr><th scope=\"row\">").count() >= 30, "a row per day");
    assert!(
        html.contains("role=\"img\"") && html.contains("viewBox=\"0 0 320 "),
        "{html}"
    );
    // The day's point lists the dossiers received that day.
    let day = "/lanh-dao/ho-so?metric=received&period=khoang&from=2026-11-02&to=2026-11-02";
    assert!(html.contains(&format!("<a href=\"{day}\">")), "{html}");
    let (_, list) = page(&app, Some(&director), day).await;
    assert_eq!(listed_codes(&list).len(), 3, "the judicial record came the next day");
    let next_day = "/lanh-dao/ho-so?metric=received&period=khoang&from=2026-11-03&to=2026-11-03";
    assert_eq!(linked(&html, next_day), Some(1));
    // All four came to the counter: the channel mix and its list.
    let counter_href = format!("/lanh-dao/ho-so?metric=received&{PERIOD}&channel=1");
    assert_eq!(linked(&html, &counter_href), Some(4));
    let (_, online) = page(
        &app,
        Some(&director),
        &format!("/lanh-dao/ho-so?metric=received&{PERIOD}&channel=2"),
    )
    .await;
    assert!(listed_codes(&online).is_empty(), "nothing came online");
    let (status, bad) = page(
        &app,
        Some(&director),
        &format!("/lanh-dao/ho-so?metric=received&{PERIOD}&channel=9"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    // The three unfinished dossiers are overdue now: two of Xây dựng, one of Tư pháp.
    assert!(html.contains("Hồ sơ đang quá hạn (3)"), "{html}");
    let by_age: Vec<(String, i64)> = numbered_links(&html, &format!("/lanh-dao/qua-han?agency={CONSTRUCTION}&age="));
    assert_eq!(by_age.iter().map(|(_, n)| n).sum::<i64>(), 2, "{by_age:?}");
    assert!(by_age.iter().all(|(_, n)| *n > 0), "a zero links nowhere");
    assert_eq!(
        linked(&html, &format!("/lanh-dao/qua-han?agency={CONSTRUCTION}")),
        Some(2)
    );
    // The on-time bars, in text: Xây dựng resolved its one dossier early (nothing late to
    // list, so its name links nowhere).
    assert!(
        html.contains("Sở Xây dựng</span> <span class=\"hbar-value\">100,0 %"),
        "{html}"
    );
    // Links to the evaluation pages.
    for href in [
        "/lanh-dao/danh-gia",
        "/lanh-dao/khong-hai-long",
        "/lanh-dao/phieu-danh-gia",
        "/lanh-dao/chi-so-phuc-vu",
    ] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    // No inline style or script under the CSP.
    assert!(!html.contains(" style=\"") && !html.contains("<script>"));
    let followed = every_link_lists_its_number(&app, &director, &html, "/lanh-dao/ho-so?").await;
    assert!(followed >= 10, "{followed} lists followed");
    assert!(every_link_lists_its_number(&app, &director, &html, "/lanh-dao/qua-han?").await >= 2);
}

#[tokio::test]
async fn a_leader_sees_their_department_and_no_other() {
    let World { app, director, leader } = world().await;
    let (status, html) = page(&app, Some(&leader), &format!("/don-vi?{PERIOD}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let html = unescape(&html);
    assert!(html.contains("href=\"/don-vi\""), "the leader's navigation links it");
    assert!(html.contains("Sở Xây dựng") && html.contains("id=\"procedures\"") && html.contains("id=\"officers\""));
    let received = linked(
        &html,
        &format!("/don-vi/ho-so?metric=received&{PERIOD}&agency={CONSTRUCTION}"),
    )
    .expect("received");
    assert_eq!(received, 3, "only Xây dựng's dossiers");
    assert_eq!(legend_total(&html, "Tiếp nhận"), 3);
    assert!(!html.contains(JUSTICE), "nothing of another department");
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    assert_eq!(
        linked(
            &html,
            &format!("/don-vi/ho-so?metric=received&{PERIOD}&agency={CONSTRUCTION}&procedure={procedure}")
        ),
        Some(3)
    );
    let followed = every_link_lists_its_number(&app, &leader, &html, "/don-vi/ho-so?").await;
    assert!(followed >= 8, "{followed} lists followed");
    assert!(every_link_lists_its_number(&app, &leader, &html, "/don-vi/qua-han?").await >= 2);
    // Per officer: the numbers add up to the department's.
    let officers = &html[html.find("id=\"officers\"").expect("officers")..];
    let per_officer: i64 = numbered_links(officers, "/don-vi/ho-so?metric=received&")
        .iter()
        .filter(|(h, _)| h.contains("&officer="))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(per_officer, 3);

    // Another department: refused, for the dashboard and both lists.
    for path in [
        format!("/don-vi?agency={JUSTICE}"),
        format!("/don-vi/ho-so?metric=received&{PERIOD}&agency={JUSTICE}"),
        format!("/don-vi/qua-han?agency={JUSTICE}"),
        format!("/lanh-dao/ho-so?metric=received&{PERIOD}&agency={CONSTRUCTION}"),
        "/lanh-dao".to_owned(),
    ] {
        let (status, body) = page(&app, Some(&leader), &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    // The list without an agency is the leader's own department.
    let (status, own) = page(&app, Some(&leader), &format!("/don-vi/ho-so?metric=received&{PERIOD}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed_codes(&own).len(), 3);
    // Officers and counter staff have no dashboard; the director opens any department.
    for user in ["cv.xaydung", "tiepnhan", "congdan"] {
        let s = sign_in(&app, user).await;
        let (status, _) = page(&app, Some(&s), "/don-vi").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
    let (status, justice) = page(&app, Some(&director), &format!("/don-vi?agency={JUSTICE}&{PERIOD}")).await;
    assert_eq!(status, StatusCode::OK, "{justice}");
    let justice = unescape(&justice);
    assert_eq!(
        linked(
            &justice,
            &format!("/don-vi/ho-so?metric=received&{PERIOD}&agency={JUSTICE}")
        ),
        Some(1)
    );
    every_link_lists_its_number(&app, &director, &justice, "/don-vi/ho-so?").await;
    // Anonymous visitors log in first.
    for path in [
        "/don-vi",
        "/don-vi/ho-so?metric=received",
        "/don-vi/qua-han",
        "/lanh-dao",
    ] {
        let (status, location) = page(&app, None, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert!(location.starts_with("/dang-nhap?next="), "{path}: {location}");
    }
}

#[tokio::test]
async fn the_public_statistics_show_charts_without_lists() {
    let World { app, .. } = world().await;
    let (status, html) = page(&app, None, "/thong-ke").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("12 tháng gần nhất") && html.contains("role=\"img\""),
        "{html}"
    );
    // Twelve months to December 2026: all four received in November.
    assert_eq!(legend_total(&html, "Tiếp nhận"), 4);
    assert_eq!(legend_total(&html, "Đã giải quyết"), 1);
    assert!(
        html.contains("01/2026") && html.contains("12/2026") && !html.contains("12/2025"),
        "{html}"
    );
    assert!(
        html.contains("Sở Xây dựng</span> <span class=\"hbar-value\">100,0 %"),
        "{html}"
    );
    assert!(!html.contains("/lanh-dao/") && !html.contains("/don-vi/") && !html.contains("/ho-so/"));
    // A past year: its twelve months, nothing of this one.
    let (status, past) = page(&app, None, "/thong-ke?nam=2025").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        past.contains("Năm 2025") && past.contains("01/2025") && past.contains("12/2025"),
        "{past}"
    );
    assert_eq!(legend_total(&past, "Tiếp nhận"), 0);
    for bad in ["1999", "2027", "abc"] {
        let (status, html) = page(&app, None, &format!("/thong-ke?nam={bad}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Hãy nhập năm từ 2000 đến 2026."), "{bad}");
        assert_eq!(legend_total(&html, "Tiếp nhận"), 4, "this year instead");
    }
}
