//! Who may read `/metrics`, and what a scrape costs the database: with `metrics_token`,
//! only its holder; without, only this machine (not through a proxy); the delivery gauges
//! read from the database at most once in `DATABASE_GAUGES_FRESH`.
//!
//! One test: the gauges are process-wide, so a second test scraping at the same time
//! could set them from its own database between a refresh and its rendering here.

mod common;

use common::{PROVINCE, TestApp, spawn_app, spawn_app_with};
use motcua_server::ops::DATABASE_GAUGES_FRESH;
use reqwest::StatusCode;

const TOKEN: &str = "metrics-token-0123456789";

/// Scrapes `/metrics` with `headers`: status and body.
async fn scrape(app: &TestApp, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut req = app.client.get(app.url("/metrics"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.expect("scrape");
    (r.status(), r.text().await.expect("body"))
}

/// The dead deliveries the scrape `body` reports.
fn dead(body: &str) -> i64 {
    body.lines()
        .find_map(|l| l.strip_prefix("outbox_deliveries{state=\"dead\"} "))
        .unwrap_or_else(|| panic!("no dead gauge in {body}"))
        .trim()
        .parse()
        .expect("number")
}

/// Adds a dead delivery behind the API's back.
async fn add_dead_delivery(app: &TestApp) {
    let mut tx = app.test_db.db.begin_write().await.expect("begin");
    let event = motcua_store::outbox::enqueue(
        &mut tx,
        &motcua_store::outbox::NewEvent {
            province: PROVINCE,
            dossier_code: None,
            kind: "test.metrics",
            payload: &serde_json::json!({}),
        },
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("event");
    motcua_store::exec!(&mut tx, |c| sqlx::query(
        "INSERT INTO deliveries (event_id, province_code, kind, destination, state, attempts, available_at,
            created_at, dead_at, last_error)
         VALUES ($1, $2, 'test.metrics', 'portal', 'dead', 3, 0, 0, 0, 'HTTP 500')"
    )
    .bind(event)
    .bind(PROVINCE)
    .execute(c)
    .await)
    .expect("delivery");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn metrics_answer_their_token_or_this_machine_and_spare_the_database() {
    // With a token: its holder only, from this machine too.
    let guarded = spawn_app_with(|c| c.metrics_token = TOKEN.to_owned()).await;
    let (status, _) = scrape(&guarded, &[]).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "loopback is no pass when a token is set"
    );
    let (status, _) = scrape(&guarded, &[("authorization", "Bearer metrics-token-012345678X")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bearer = format!("Bearer {TOKEN}");
    let (status, body) = scrape(&guarded, &[("authorization", &bearer)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("http_requests_total"), "{body}");

    // Without: this machine, not what a proxy on it passes on.
    let app = spawn_app().await;
    let (status, body) = scrape(&app, &[]).await;
    assert_eq!(status, StatusCode::OK);
    for forwarded in ["x-forwarded-for", "forwarded", "x-real-ip"] {
        let (status, _) = scrape(&app, &[(forwarded, "203.0.113.7")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{forwarded}");
    }

    // The database is read at most once in DATABASE_GAUGES_FRESH, however often scraped.
    let before = dead(&body);
    add_dead_delivery(&app).await;
    let (_, body) = scrape(&app, &[]).await;
    assert_eq!(dead(&body), before, "read a moment ago: not read again");
    tokio::time::sleep(DATABASE_GAUGES_FRESH).await;
    let (_, body) = scrape(&app, &[]).await;
    assert_eq!(dead(&body), before + 1, "read again once stale");
}
