//! The reference scenario `ninh-thuan-2019` on the backend the test run selects: played
//! once (it takes a while in a debug build), then every published figure is checked
//! against what the store computes from the dossiers, the dossiers behind them one by
//! one, the director's overview page for the period, and the audit chain.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{Method, Request, StatusCode};
use motcua_core::dossier::{Status, Timeliness};
use motcua_server::bootstrap::DEMO_PASSWORD;
use motcua_server::{AppState, Config};
use motcua_store::overview::{self, Behind, Figures, Metric};
use motcua_store::testing::fresh_db;
use motcua_tools::scenario::{self, JUDGED_AT, ScenarioError};
use serde_json::json;
use tower::ServiceExt;

async fn request(
    app: &axum::Router,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    body: String,
) -> (StatusCode, Vec<u8>, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(std::net::SocketAddr::from(([10, 43, 9, 9], 443))));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let set_cookie = response
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, bytes.to_vec(), set_cookie)
}

/// The numbers of the overview's total line (`<tr class="total">`), in column order.
fn total_line(html: &str) -> Vec<String> {
    let start = html.find("<tr class=\"total\">").expect("total line");
    let end = start + html[start..].find("</tr>").expect("end of line");
    html[start..end]
        .split("<td class=\"num\">")
        .skip(1)
        .map(|cell| {
            let cell = cell.split("</td>").next().unwrap_or_default();
            // The number is the cell's text, inside a link when it is not zero.
            let text = match cell.find('>') {
                Some(i) if cell.starts_with("<a") => &cell[i + 1..],
                _ => cell,
            };
            text.split('<').next().unwrap_or_default().trim().to_owned()
        })
        .collect()
}

/// Every dossier behind `metric` over the scenario's period.
async fn behind(state: &AppState, metric: Metric) -> Vec<motcua_store::dossiers::Stored> {
    let province = scenario::province().expect("province");
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let mut tx = state.db.begin_read().await.expect("read");
        let page = overview::dossiers(
            &mut tx,
            &province,
            Behind {
                period: scenario::period(),
                now: JUDGED_AT,
                metric,
                agency: None,
                before_id: before,
                limit: 200,
            },
        )
        .await
        .expect("dossiers behind");
        let Some(last) = page.last() else {
            break;
        };
        before = Some(last.id);
        all.extend(page);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_centres_first_month_gives_its_published_figures() {
    let test_db = fresh_db().await;
    motcua_server::first_start(&test_db.db, true).await.expect("demo");
    let config = Config {
        data_dir: test_db.dir.path().to_owned(),
        ..Config::default()
    };
    let state = AppState::new(test_db.db.clone(), config).expect("state");

    let mut days = Vec::new();
    let report = scenario::run(&state, scenario::DEFAULT_SEED, |d| days.push(d.clone()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "scenario: {} requests in {:.1} s; days: {:?}",
        report.requests,
        report.seconds,
        days.iter()
            .map(|d| (d.received, d.finished, d.returned))
            .collect::<Vec<_>>()
    );
    // 12/06–05/07/2019 holds 18 working days on the 2019 calendar (no holiday in between).
    assert_eq!(days.len(), 18, "{days:?}");
    assert_eq!(report.days, days);
    assert!(days.iter().all(|d| (80..=90).contains(&d.received)), "{days:?}");

    // What the centre published, as the director's figures compute it.
    let f: Figures = scenario::figures(&state).await.expect("figures");
    eprintln!("figures: {:?}", f.counts);
    let received = f.get(Metric::Received);
    let returned = f.get(Metric::Returned);
    assert!(received > 1430, "received {received}");
    assert!(returned > 1220, "returned {returned}");
    assert_eq!(f.get(Metric::ResolvedLate), 0);
    assert_eq!(f.get(Metric::InProgressOverdue), 0);
    assert_eq!(f.on_time_permille(), Some(1000));
    // The simulation's own count of what it did equals what the store counts.
    let sum = |g: fn(&scenario::Day) -> usize| i64::try_from(days.iter().map(g).sum::<usize>()).expect("count");
    assert_eq!(received, sum(|d| d.received));
    assert_eq!(returned, sum(|d| d.returned));
    assert_eq!(f.resolved(), sum(|d| d.finished));
    assert!(sum(|d| d.online) > 100, "online filings");
    assert!(sum(|d| d.supplements) > 10, "supplement requests");
    // Everything received is accounted for: in progress within its deadline, or resolved.
    assert_eq!(received, f.in_progress() + f.resolved());
    assert!(
        f.get(Metric::InProgressOnTime) > 0,
        "the rest still within their deadline"
    );

    // Dossier by dossier: every returned one finished by its appointment, with at most
    // one supplement request; every unfinished one within its deadline at the end.
    let returned_list = behind(&state, Metric::Returned).await;
    assert_eq!(i64::try_from(returned_list.len()).expect("n"), returned);
    for s in &returned_list {
        let d = &s.dossier;
        assert_eq!(d.status, Status::Returned, "{}", d.code);
        let (finished, due) = (d.finished_at.expect("finished"), d.due_at.expect("due"));
        assert!(finished <= due, "{}: finished {finished} after {due}", d.code);
        assert!(d.supplements <= 1, "{}", d.code);
        assert_ne!(d.timeliness(JUDGED_AT), Some(Timeliness::Late), "{}", d.code);
        assert!(d.returned_at.expect("returned") <= JUDGED_AT);
    }
    let open = behind(&state, Metric::InProgressOnTime).await;
    assert_eq!(i64::try_from(open.len()).expect("n"), f.get(Metric::InProgressOnTime));
    for s in &open {
        let d = &s.dossier;
        // One meaning of overdue: a dossier waiting for a supplement has its clock stopped
        // (an appointment passed meanwhile moves when the supplement arrives), so it is
        // not overdue, for the figures and for the dossier's own flag alike.
        assert!(!d.is_overdue(JUDGED_AT), "{} overdue", d.code);
    }
    {
        let mut tx = state.db.begin_read().await.expect("read");
        let province = scenario::province().expect("province");
        let (late, counts) = overview::overdue(&mut tx, &province, JUDGED_AT, None, 10)
            .await
            .expect("overdue");
        assert!(late.is_empty() && counts.is_empty(), "{counts:?}");
        // The maintained aggregates (if any) and a scan of the dossiers agree.
        let scanned = overview::total(
            &overview::scan_figures(&mut tx, &province, scenario::period(), JUDGED_AT)
                .await
                .expect("scan"),
        );
        assert_eq!(scanned.counts, f.counts);
        let mismatches = motcua_store::stats::recount(&mut tx, &province).await.expect("recount");
        assert!(
            mismatches.is_empty(),
            "{} counters differ, e.g. {:?}",
            mismatches.len(),
            mismatches.iter().take(3).map(ToString::to_string).collect::<Vec<_>>()
        );
    }

    // The director's overview for the period shows those totals.
    let app = motcua_server::router(state.clone());
    let login = json!({ "username": "giamdoc", "password": DEMO_PASSWORD }).to_string();
    let (status, body, cookie) = request(&app, Method::POST, "/api/v1/auth/login", None, login).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let cookie = cookie.expect("session cookie");
    let (status, body, _) = request(
        &app,
        Method::GET,
        "/lanh-dao?period=khoang&from=2019-06-12&to=2019-07-05",
        Some(&cookie),
        String::new(),
    )
    .await;
    let html = String::from_utf8(body).expect("utf-8");
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Từ 12/06/2019 đến 05/07/2019"), "period label");
    let mut expected: Vec<String> = Metric::ALL[..6].iter().map(|m| f.get(*m).to_string()).collect();
    expected.push("100,0 %".to_owned());
    expected.push(returned.to_string());
    // The page groups thousands with dots (1.538).
    let shown: Vec<String> = total_line(&html).iter().map(|s| s.replace('.', "")).collect();
    assert_eq!(shown, expected);

    // The audit chain holds every step the people took.
    let audit = motcua_store::audit::verify(&state.db).await.expect("verify");
    assert!(audit.first_break.is_none(), "{:?}", audit.first_break);
    // At least filing, acceptance and transfer for each dossier; finishing, assignment and
    // return besides for each one returned.
    let least = u64::try_from(3 * received + 3 * returned).expect("n");
    assert!(audit.records >= least, "{} audit records", audit.records);

    // Playing it again on the same database is refused, saying why.
    match scenario::run(&state, scenario::DEFAULT_SEED, |_| {}).await {
        Err(ScenarioError::AlreadyRun(n)) => assert_eq!(n, received),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("the scenario ran twice"),
    }
    let again = scenario::run(&state, 1, |_| {})
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(again.contains("đã chạy trên cơ sở dữ liệu này"), "{again}");
}
