//! The counter queue (issue 21): groups and counters set up by the administrator (and
//! audited); tickets taken at a kiosk by its device token, numbered per group and day;
//! what a kiosk token cannot do; the fair priority rule end to end; recall, no-show,
//! transfer; two counters calling at the same instant never get the same ticket (run on
//! both backends); the kiosk, printed and public pages; the portal's ticket with the code
//! of the day, the message three tickets ahead and the erasure of the phone number; the
//! satisfaction given per ticket at the kiosk and counted in the figures.

mod common;

use std::collections::HashSet;

use common::api::{delete, get, post, put};
use common::files::{download, pdf_text};
use common::intake::{file_dossier, judicial_record_intake};
use common::pages::page;
use common::{CENTRE, LLTP, MONDAY, Session, TestApp, sign_in, sign_in_each, spawn_app_at};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The demo centre's group `letter`'s id.
async fn group_id(app: &TestApp, admin: &Session, letter: &str) -> i64 {
    let (status, setup) = get(app, admin, "/api/v1/queue/setup").await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    setup["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["letter"] == letter)
        .and_then(|g| g["id"].as_i64())
        .unwrap_or_else(|| panic!("group {letter}: {setup}"))
}

/// The demo centre's counter `number`'s id.
async fn counter_id(app: &TestApp, admin: &Session, number: i64) -> i64 {
    let (_, setup) = get(app, admin, "/api/v1/queue/setup").await;
    setup["counters"]
        .as_array()
        .expect("counters")
        .iter()
        .find(|c| c["number"] == number)
        .and_then(|c| c["id"].as_i64())
        .unwrap_or_else(|| panic!("counter {number}: {setup}"))
}

/// Issues a kiosk for the demo centre: its token.
async fn kiosk_token(app: &TestApp, admin: &Session) -> String {
    let (status, k) = post(app, admin, "/api/v1/queue/kiosks", json!({"name": "Sảnh tầng 1"})).await;
    assert_eq!(status, StatusCode::CREATED, "{k}");
    k["token"].as_str().expect("token").to_owned()
}

/// Takes a ticket at the kiosk holding `token`: status and answer.
async fn take(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    kiosk_post(app, token, "/api/v1/kiosk/tickets", body).await
}

/// Posts `body` to `path` as the kiosk holding `token`: status and answer.
async fn kiosk_post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(path))
        .header("x-kiosk-token", token)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn take_ok(app: &TestApp, token: &str, group: i64, priority: Option<&str>) -> Value {
    let (status, t) = take(app, token, json!({"group": group, "priority_kind": priority})).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    t
}

/// Counter `id` calls its next ticket as `s`: the ticket's number, or `None` (204).
async fn call_next(app: &TestApp, s: &Session, id: i64) -> Option<String> {
    let (status, t) = post(app, s, &format!("/api/v1/queue/counters/{id}/call"), json!({})).await;
    match status {
        StatusCode::OK => Some(t["number"].as_str().expect("number").to_owned()),
        StatusCode::NO_CONTENT => None,
        s => panic!("call: {s} {t}"),
    }
}

async fn act(app: &TestApp, s: &Session, counter: i64, ticket: i64, body: Value) -> (StatusCode, Value) {
    post(
        app,
        s,
        &format!("/api/v1/queue/counters/{counter}/tickets/{ticket}"),
        body,
    )
    .await
}

#[tokio::test]
async fn the_administrator_sets_up_groups_and_counters_and_every_change_is_audited() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    // The demo centre comes with groups and counters.
    let (status, setup) = get(&app, &admin, "/api/v1/queue/setup").await;
    assert_eq!(status, StatusCode::OK, "{setup}");
    assert_eq!(setup["centre"], CENTRE);
    assert_eq!(setup["groups"][0]["name"], "Đất đai");
    assert_eq!(setup["groups"][0]["letter"], "A");
    assert_eq!(setup["groups"][1]["name"], "Tư pháp – Hộ tịch");
    assert_eq!(setup["counters"].as_array().map(Vec::len), Some(5));

    // A new group, NFC-normalised, its letter raised; a letter taken is a conflict.
    let (status, g) = post(
        &app,
        &admin,
        "/api/v1/queue/groups",
        json!({"name": "  Lao \u{0111}o\u{0323}\u{0302}ng  ", "letter": "f", "position": 9}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    assert_eq!(g["name"], "Lao động");
    assert_eq!(g["letter"], "F");
    let f = g["id"].as_i64().expect("id");
    let (status, err) = post(
        &app,
        &admin,
        "/api/v1/queue/groups",
        json!({"name": "Khác", "letter": "A"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (status, err) = post(
        &app,
        &admin,
        "/api/v1/queue/groups",
        json!({"name": "Khác", "letter": "1"}),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("letter")),
        "{err}"
    );

    // A counter serving it; a number taken is a conflict; a group of nowhere is refused.
    let (status, c) = post(
        &app,
        &admin,
        "/api/v1/queue/counters",
        json!({"number": 6, "groups": [f]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_eq!(c["name"], "Quầy 6");
    let c6 = c["id"].as_i64().expect("id");
    let (status, _) = post(
        &app,
        &admin,
        "/api/v1/queue/counters",
        json!({"number": 6, "groups": []}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, err) = post(
        &app,
        &admin,
        "/api/v1/queue/counters",
        json!({"number": 7, "groups": [99999]}),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("groups")),
        "{err}"
    );
    let a = group_id(&app, &admin, "A").await;
    let (status, c) = put(
        &app,
        &admin,
        &format!("/api/v1/queue/counters/{c6}"),
        json!({"number": 6, "name": "Quầy Lao động", "groups": [f, a, f]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["groups"].as_array().map(Vec::len), Some(2));
    let (status, s) = put(
        &app,
        &admin,
        "/api/v1/queue/settings",
        json!({"priority_kinds": ["Người cao tuổi"], "max_priority_run": 2, "recalls_before_no_show": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let (status, err) = put(
        &app,
        &admin,
        "/api/v1/queue/settings",
        json!({"priority_kinds": [], "max_priority_run": 0, "recalls_before_no_show": 1}),
    )
    .await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("max_priority_run"))
    );

    for action in [
        "queue.group.create",
        "queue.counter.create",
        "queue.counter.update",
        "queue.settings.update",
    ] {
        let (status, trail) = get(&app, &admin, &format!("/api/v1/admin/audit?action={action}")).await;
        assert_eq!(status, StatusCode::OK, "{trail}");
        assert_eq!(trail["items"].as_array().map(Vec::len), Some(1), "{action}: {trail}");
    }

    // A counter officer may not set the queue up.
    let (status, _) = get(&app, &counter, "/api/v1/queue/setup").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        &app,
        &counter,
        "/api/v1/queue/groups",
        json!({"name": "X", "letter": "X"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The administration home links the page, which lists them.
    let (_, home) = page(&app, Some(&admin), "/quan-tri").await;
    assert!(home.contains(r#"href="/quan-tri/xep-hang""#), "{home}");
    let (status, html) = page(&app, Some(&admin), "/quan-tri/xep-hang").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Quầy Lao động") && html.contains("Tư pháp – Hộ tịch"),
        "{html}"
    );
}

#[tokio::test]
async fn a_kiosk_numbers_tickets_per_group_and_day_and_can_do_nothing_else() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let (a, b) = (group_id(&app, &admin, "A").await, group_id(&app, &admin, "B").await);
    assert_eq!(take_ok(&app, &token, a, None).await["number"], "A001");
    assert_eq!(take_ok(&app, &token, a, None).await["number"], "A002");
    let b1 = take_ok(&app, &token, b, Some("Người cao tuổi")).await;
    assert_eq!(
        (b1["number"].as_str(), b1["priority_kind"].as_str()),
        (Some("B001"), Some("Người cao tuổi"))
    );
    let (status, err) = take(&app, &token, json!({"group": a, "priority_kind": "Người nổi tiếng"})).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("priority_kind"))
    );
    // Concurrent takers never share a number.
    let takes = (0..12).map(|_| take(&app, &token, json!({"group": a})));
    let numbers: HashSet<String> = futures_util::future::join_all(takes)
        .await
        .into_iter()
        .map(|(s, t)| {
            assert_eq!(s, StatusCode::CREATED, "{t}");
            t["number"].as_str().expect("number").to_owned()
        })
        .collect();
    assert_eq!(numbers, (3..=14).map(|n| format!("A{n:03}")).collect::<HashSet<_>>());

    // The next day numbering starts again; on a Sunday the kiosk issues nothing.
    app.clock.set(MONDAY + time::Duration::days(1));
    assert_eq!(take_ok(&app, &token, a, None).await["number"], "A001");
    app.clock.set(MONDAY - time::Duration::days(1));
    let (status, err) = take(&app, &token, json!({"group": a})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    app.clock.set(MONDAY);

    // The database keeps only the token's hash.
    let stored: Vec<String> = match &app.test_db.db {
        motcua_store::Db::Sqlite { read, .. } => sqlx::query_scalar("SELECT token_hash FROM queue_kiosks")
            .fetch_all(read)
            .await
            .expect("kiosks"),
        motcua_store::Db::Postgres { pool, .. } => sqlx::query_scalar("SELECT token_hash FROM queue_kiosks")
            .fetch_all(pool)
            .await
            .expect("kiosks"),
    };
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(!stored[0].contains(&token[3..]));

    // The token is no staff credential: not as a bearer token, not on staff routes.
    let c1 = counter_id(&app, &admin, 1).await;
    for (method, path) in [
        (reqwest::Method::POST, format!("/api/v1/queue/counters/{c1}/call")),
        (reqwest::Method::GET, format!("/api/v1/queue/counters/{c1}/panel")),
        (reqwest::Method::GET, "/api/v1/queue/setup".to_owned()),
        (reqwest::Method::GET, "/api/v1/dossiers".to_owned()),
        (reqwest::Method::GET, "/api/v1/admin/users".to_owned()),
    ] {
        for bearer in [true, false] {
            let mut req = app.client.request(method.clone(), app.url(&path)).json(&json!({}));
            req = if bearer {
                req.bearer_auth(&token)
            } else {
                req.header("x-kiosk-token", &token)
            };
            let status = req.send().await.expect("send").status();
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} bearer={bearer}");
        }
    }
    // Nothing was called by those attempts.
    assert_eq!(call_next(&app, &counter, c1).await.as_deref(), Some("A001"));

    // Groups of another centre are not its to number.
    let (status, agency) = put(
        &app,
        &admin,
        "/api/v1/admin/agencies/000.00.60.H43",
        json!({"name": "Bộ phận Một cửa huyện Thử", "kind": "centre", "parent": "000.00.00.H43"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{agency}");
    let (status, other) = post(
        &app,
        &admin,
        "/api/v1/queue/groups?centre=000.00.60.H43",
        json!({"name": "Đất đai", "letter": "A"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let (status, err) = take(&app, &token, json!({"group": other["id"]})).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("group")),
        "{err}"
    );

    // A revoked token takes nothing.
    let (_, setup) = get(&app, &admin, "/api/v1/queue/setup").await;
    let kiosk = setup["kiosks"][0]["id"].as_str().expect("kiosk id").to_owned();
    let (status, _) = delete(&app, &admin, &format!("/api/v1/queue/kiosks/{kiosk}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = take(&app, &token, json!({"group": a})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn priority_tickets_go_first_but_ordinary_ones_keep_moving() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let (status, _) = put(
        &app,
        &admin,
        "/api/v1/queue/settings",
        json!({"priority_kinds": ["Người cao tuổi"], "max_priority_run": 2, "recalls_before_no_show": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = kiosk_token(&app, &admin).await;
    let b = group_id(&app, &admin, "B").await;
    let c3 = counter_id(&app, &admin, 3).await; // serves B only
    let old = Some("Người cao tuổi");
    for p in [None, None, old, old, old, old] {
        take_ok(&app, &token, b, p).await;
        app.clock.set(app.clock.now() + time::Duration::seconds(10));
    }
    let mut order = Vec::new();
    while let Some(n) = call_next(&app, &counter, c3).await {
        order.push(n);
    }
    // K = 2: two priority tickets, then the oldest ordinary one, and so on.
    assert_eq!(order, ["B003", "B004", "B001", "B005", "B006", "B002"]);
}

#[tokio::test]
async fn recall_no_show_transfer_start_and_finish() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let (a, b) = (group_id(&app, &admin, "A").await, group_id(&app, &admin, "B").await);
    let (c1, c3) = (counter_id(&app, &admin, 1).await, counter_id(&app, &admin, 3).await);
    let a1 = take_ok(&app, &token, a, None).await;
    app.clock.set(MONDAY + time::Duration::minutes(1));
    let b1 = take_ok(&app, &token, b, None).await;
    let a2 = take_ok(&app, &token, a, None).await;
    let id = |t: &Value| t["id"].as_i64().expect("id");

    assert_eq!(call_next(&app, &counter, c1).await.as_deref(), Some("A001"));
    // No-show only after the centre's recalls (2 by default).
    let (status, err) = act(&app, &counter, c1, id(&a1), json!({"action": "no_show"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    for n in 1..=2 {
        let (status, t) = act(&app, &counter, c1, id(&a1), json!({"action": "recall"})).await;
        assert_eq!((status, t["recalls"].as_i64()), (StatusCode::OK, Some(n)), "{t}");
    }
    let (status, t) = act(&app, &counter, c1, id(&a1), json!({"action": "no_show"})).await;
    assert_eq!((status, t["state"].as_str()), (StatusCode::OK, Some("no_show")), "{t}");

    // A002 is sent to group B, keeping its arrival: it is called there after B001 (earlier)
    // … and before a B ticket taken later.
    assert_eq!(call_next(&app, &counter, c1).await.as_deref(), Some("A002"));
    let (status, t) = act(&app, &counter, c1, id(&a2), json!({"action": "transfer", "group": b})).await;
    assert_eq!((status, t["state"].as_str()), (StatusCode::OK, Some("waiting")), "{t}");
    assert_eq!(t["taken_at"], a2["taken_at"]);
    app.clock.set(MONDAY + time::Duration::minutes(5));
    take_ok(&app, &token, b, None).await;
    assert_eq!(call_next(&app, &counter, c3).await.as_deref(), Some("B001"));
    assert_eq!(call_next(&app, &counter, c3).await.as_deref(), Some("A002"));
    assert_eq!(call_next(&app, &counter, c3).await.as_deref(), Some("B002"));
    assert_eq!(call_next(&app, &counter, c3).await, None);

    // Start, then finish; finishing twice is refused; another counter cannot touch it.
    let (status, _) = act(&app, &counter, c1, id(&b1), json!({"action": "start"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, t) = act(&app, &counter, c3, id(&b1), json!({"action": "start"})).await;
    assert_eq!((status, t["state"].as_str()), (StatusCode::OK, Some("serving")), "{t}");
    let (status, t) = act(&app, &counter, c3, id(&b1), json!({"action": "finish"})).await;
    assert_eq!((status, t["state"].as_str()), (StatusCode::OK, Some("done")), "{t}");
    assert!(
        t["called_at"].is_i64() && t["started_at"].is_i64() && t["finished_at"].is_i64(),
        "{t}"
    );
    let (status, _) = act(&app, &counter, c3, id(&b1), json!({"action": "finish"})).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Only counter officers of the centre call.
    let director = sign_in(&app, "giamdoc").await;
    let (status, _) = post(&app, &director, &format!("/api/v1/queue/counters/{c1}/call"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The desk links the counters; the panel page shows the counter's tickets.
    let (_, desk) = page(&app, Some(&counter), "/quay").await;
    assert!(desk.contains(r#"href="/quay/hang-doi""#), "{desk}");
    let (status, html) = page(&app, Some(&counter), "/quay/hang-doi").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"href="/quay/hang-doi/{c3}">Quầy 3<"#)),
        "{html}"
    );
    let (status, _) = page(&app, Some(&director), "/quay/hang-doi").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html) = page(&app, Some(&counter), &format!("/quay/hang-doi/{c3}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Gọi số tiếp theo") && html.contains("A002") && html.contains("B002"),
        "{html}"
    );
}

#[tokio::test]
async fn two_counters_calling_at_the_same_instant_never_get_the_same_ticket() {
    let app = spawn_app_at(MONDAY).await;
    let admin = sign_in(&app, "quantri").await;
    // Two officers' sessions at two counters that both serve group A.
    let [one, two] = sign_in_each(&app, ["tiepnhan", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let (c1, c2) = (counter_id(&app, &admin, 1).await, counter_id(&app, &admin, 2).await);
    const TICKETS: usize = 24;
    for i in 0..TICKETS {
        let p = (i % 3 == 0).then_some("Người cao tuổi");
        take_ok(&app, &token, a, p).await;
    }
    let calls = (0..TICKETS + 4).map(|i| {
        let (s, c) = if i % 2 == 0 { (&one, c1) } else { (&two, c2) };
        call_next(&app, s, c)
    });
    let called: Vec<String> = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .flatten()
        .collect();
    let distinct: HashSet<&String> = called.iter().collect();
    assert_eq!(called.len(), TICKETS, "{called:?}");
    assert_eq!(distinct.len(), TICKETS, "a ticket was called twice: {called:?}");
}

#[tokio::test]
async fn the_kiosk_pages_take_print_and_show_a_ticket() {
    let app = spawn_app_at(MONDAY).await;
    let admin = sign_in(&app, "quantri").await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let browser = common::pages::browser();
    let cookie = activate_device(&app, "/may-lay-so", &token).await;

    let html = browser
        .get(app.url("/may-lay-so"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(html.contains("Đất đai") && html.contains("lấy số ưu tiên"), "{html}");
    let r = browser
        .post(app.url("/may-lay-so"))
        .header("cookie", &cookie)
        .form(&[("group", a.to_string().as_str()), ("priority_kind", "Người khuyết tật")])
        .send()
        .await
        .expect("post");
    let printed = r.headers()["location"].to_str().expect("location").to_owned();
    assert!(printed.starts_with("/may-lay-so/in/"), "{printed}");
    let html = app.get_text(&printed).await;
    assert!(
        html.contains("A001") && html.contains("<svg") && html.contains("Người khuyết tật"),
        "{html}"
    );

    // The public page, by its unguessable token (not by number).
    let public = printed.replace("/may-lay-so/in/", "/so-thu-tu/");
    let html = app.get_text(&public).await;
    assert!(html.contains("A001") && html.contains("Đang chờ"), "{html}");
    let r = app.client.get(app.url("/so-thu-tu/A001")).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_intake_from_a_called_ticket_links_the_ticket_and_the_dossier() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let b = group_id(&app, &admin, "B").await;
    let c3 = counter_id(&app, &admin, 3).await;
    let waiting = take_ok(&app, &token, b, None).await;
    let ticket = waiting["id"].as_i64().expect("id");
    let mut body = judicial_record_intake(&app).await;
    body["ticket"] = json!(ticket);
    // A ticket still waiting cannot be received from.
    let (status, err) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ticket")),
        "{err}"
    );
    assert_eq!(call_next(&app, &counter, c3).await.as_deref(), Some("B001"));
    let (status, _) = act(&app, &counter, c3, ticket, json!({"action": "start"})).await;
    assert_eq!(status, StatusCode::OK);
    // The panel opens the intake form for the ticket, which carries it to the filing.
    let (status, html) = page(&app, Some(&counter), &format!("/quay/hang-doi/{c3}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tiếp nhận hồ sơ"), "{html}");
    let (status, html) = page(&app, Some(&counter), &format!("/quay/tiep-nhan/{LLTP}?so={ticket}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"name="ticket" value="{ticket}" data-type="int""#)),
        "{html}"
    );
    let dossier = file_dossier(&app, &counter, body.clone()).await;
    let code = dossier["code"].as_str().expect("code").to_owned();

    // The history names the ticket; the ticket names the dossier; a second intake from it
    // is refused.
    let (status, h) = get(&app, &counter, &format!("/api/v1/dossiers/{code}/history")).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert!(h.to_string().contains("Số thứ tự B001"), "{h}");
    let public = waiting["page"].as_str().expect("page");
    let (status, t) = app.get_json(&public.replace("/so-thu-tu/", "/api/v1/tickets/")).await;
    assert_eq!(
        (status, t["ticket"]["dossier_code"].as_str()),
        (200, Some(code.as_str())),
        "{t}"
    );
    assert!(app.get_text(public).await.contains(&code));
    let (status, err) = post(&app, &counter, "/api/v1/dossiers", body).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("ticket")),
        "{err}"
    );

    let (_, html) = page(&app, Some(&counter), &format!("/quay/hang-doi/{c3}")).await;
    assert!(
        html.contains(&format!("Đã tiếp nhận hồ sơ <a href=\"/ho-so/{code}\">")),
        "{html}"
    );

    // The receipt shows the ticket's number.
    let (status, _, pdf) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let text = pdf_text(&pdf);
    assert!(text.contains("B001"), "{text}");
}

/// Activates the device whose page is `path` (the kiosk, the board) with `token`, as an
/// administrator does on its screen: without the cookie the page asks to be activated, a
/// wrong token is refused, the right one is kept in an HttpOnly, SameSite=Strict cookie
/// limited to the device's path. The cookie, `name=value`.
async fn activate_device(app: &TestApp, path: &str, token: &str) -> String {
    let browser = common::pages::browser();
    let r = browser.get(app.url(path)).send().await.expect("get");
    assert_eq!(r.headers()["location"], format!("{path}/kich-hoat"));
    let activate = app.url(&format!("{path}/kich-hoat"));
    let r = browser
        .post(&activate)
        .form(&[("ma", "mk_wrong")])
        .send()
        .await
        .expect("post");
    assert!(r.headers().get("set-cookie").is_none());
    let r = browser
        .post(&activate)
        .form(&[("ma", token)])
        .send()
        .await
        .expect("post");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains(&format!("Path={path}")),
        "{cookie}"
    );
    cookie.split(';').next().expect("pair").to_owned()
}

/// Checks booking `code` in at the kiosk holding `token`: status and answer.
async fn check_in(app: &TestApp, token: &str, code: &str) -> (StatusCode, Value) {
    kiosk_post(app, token, "/api/v1/kiosk/check-in", json!({"code": code})).await
}

#[tokio::test]
async fn a_booking_holds_a_place_within_the_limits_and_is_called_first_in_its_window() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter, citizen] = sign_in_each(&app, ["quantri", "tiepnhan", "congdan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;

    // Group A takes one booking per 30-minute slot; nothing else takes bookings.
    let setup = json!({"settings": {"slot_minutes": 30, "per_person_per_day": 1, "days_ahead": 14},
        "capacities": [{"group": a, "capacity": 1}]});
    let (status, saved) = put(&app, &admin, "/api/v1/queue/booking", setup).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, _) = put(&app, &counter, "/api/v1/queue/booking", saved.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let bad = json!({"settings": {"slot_minutes": 5, "per_person_per_day": 1, "days_ahead": 14}, "capacities": []});
    let (status, _) = put(&app, &admin, "/api/v1/queue/booking", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The offer: group A only, working days only (Monday 02/11 to Monday 16/11: 11 days).
    let (status, offer) = get(&app, &citizen, "/api/v1/bookings/offer").await;
    assert_eq!(status, StatusCode::OK, "{offer}");
    let groups: Vec<i64> = offer["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["id"].as_i64())
        .collect();
    assert_eq!(groups, vec![a]);
    let days = offer["days"].as_array().expect("days");
    assert_eq!(days.first().and_then(Value::as_str), Some("2026-11-02"));
    assert!(!days.iter().any(|d| d == "2026-11-07" || d == "2026-11-08"), "{offer}");
    assert_eq!(days.len(), 11, "{offer}");

    // Tuesday's slots lie within the working sessions; a weekend has none.
    let slots_on = |day: &str| format!("/api/v1/bookings/slots?group={a}&day={day}");
    let (status, tuesday) = get(&app, &citizen, &slots_on("2026-11-03")).await;
    assert_eq!(status, StatusCode::OK, "{tuesday}");
    let tuesday = tuesday.as_array().expect("slots").clone();
    assert!(tuesday.len() >= 8, "{tuesday:?}");
    assert!(tuesday.iter().all(|s| s["free"] == 1));
    let (_, saturday) = get(&app, &citizen, &slots_on("2026-11-07")).await;
    assert_eq!(saturday, json!([]));
    let s1 = tuesday[2]["start"].as_str().expect("start").to_owned();
    let s2 = tuesday[4]["start"].as_str().expect("start").to_owned();

    // One booking a day per person; one place per slot.
    let book = |start: &str| json!({"group": a, "day": "2026-11-03", "start": start});
    let (status, mine) = post(&app, &citizen, "/api/v1/bookings", book(&s1)).await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let code = mine["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 8);
    assert_eq!(mine["state"], "booked");
    let (status, err) = post(&app, &citizen, "/api/v1/bookings", book(&s2)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (status, err) = post(&app, &counter, "/api/v1/bookings", book(&s1)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    let (_, left) = get(&app, &citizen, &slots_on("2026-11-03")).await;
    assert_eq!(left[2]["free"], 0);
    let (status, err) = post(
        &app,
        &citizen,
        "/api/v1/bookings",
        json!({"group": a, "day": "2026-11-03", "start": "06:00"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");

    // Someone else can neither see nor cancel it; its booker cancels, giving the place and
    // the day's count back.
    let (status, _) = post(&app, &counter, &format!("/api/v1/bookings/{code}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, cancelled) = post(&app, &citizen, &format!("/api/v1/bookings/{code}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["state"], "cancelled");
    let (status, other) = post(&app, &counter, "/api/v1/bookings", book(&s1)).await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let (status, mine) = post(&app, &citizen, "/api/v1/bookings", book(&s2)).await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let code = mine["code"].as_str().expect("code").to_owned();
    let (_, list) = get(&app, &citizen, "/api/v1/bookings").await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");

    // Tuesday: too early for the window, then a walk-in arrives before the booker checks in.
    let at = |hhmm: &str, minutes: i64| {
        let (h, m) = hhmm.split_once(':').expect("HH:MM");
        let t = time::macros::datetime!(2026-11-03 00:00 +07:00)
            + time::Duration::minutes(h.parse::<i64>().expect("h") * 60 + m.parse::<i64>().expect("m"));
        t + time::Duration::minutes(minutes)
    };
    app.clock.set(at(&s2, -31));
    let (status, err) = check_in(&app, &token, &code).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(
        err["message"].as_str().unwrap_or_default().contains("Chưa đến giờ hẹn"),
        "{err}"
    );
    let walk_in = take_ok(&app, &token, a, None).await;
    app.clock.set(at(&s2, -10));
    let (status, booked) = check_in(&app, &token, &code.to_lowercase()).await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["booked"], true);
    let (status, _) = check_in(&app, &token, &code).await;
    assert_eq!(status, StatusCode::CONFLICT, "a booking gives one ticket");

    // The booked ticket is called before the earlier walk-in, while its slot lasts.
    assert_eq!(
        call_next(&app, &counter, c1).await.as_deref(),
        booked["number"].as_str()
    );
    assert_eq!(
        call_next(&app, &counter, c1).await.as_deref(),
        walk_in["number"].as_str()
    );
    let (_, mine) = get(&app, &citizen, &format!("/api/v1/bookings/{code}")).await;
    assert_eq!(mine["state"], "checked_in");
    assert_eq!(mine["ticket"], booked["number"]);

    // The other booking was never checked in: once its slot is over it is a no-show.
    app.clock.set(at(&s2, 31));
    let (status, today) = get(&app, &admin, "/api/v1/queue/booking/today").await;
    assert_eq!(status, StatusCode::OK, "{today}");
    assert_eq!(
        today,
        json!({"booked": 0, "checked_in": 1, "cancelled": 1, "no_show": 1})
    );
}

#[tokio::test]
async fn a_booking_past_its_slot_is_an_ordinary_walk_in() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter, citizen] = sign_in_each(&app, ["quantri", "tiepnhan", "congdan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;
    let setup = json!({"settings": {"slot_minutes": 30, "per_person_per_day": 2, "days_ahead": 3},
        "capacities": [{"group": a, "capacity": 5}]});
    let (status, _) = put(&app, &admin, "/api/v1/queue/booking", setup).await;
    assert_eq!(status, StatusCode::OK);
    let (_, slots) = get(
        &app,
        &citizen,
        &format!("/api/v1/bookings/slots?group={a}&day=2026-11-02"),
    )
    .await;
    // At 08:00 the slots that have started are no longer offered.
    let first = slots[0]["start"].as_str().expect("start").to_owned();
    assert!(first.as_str() > "08:00", "{slots}");
    let (status, b) = post(
        &app,
        &citizen,
        "/api/v1/bookings",
        json!({"group": a, "day": "2026-11-02", "start": first}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    let code = b["code"].as_str().expect("code").to_owned();
    app.clock.set(MONDAY + time::Duration::minutes(20));
    let (status, t) = check_in(&app, &token, &code).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let walk_in = take_ok(&app, &token, a, None).await;
    // Its slot ends before anyone calls: it then waits in arrival order like any ticket.
    app.clock.set(MONDAY + time::Duration::hours(2));
    assert_eq!(call_next(&app, &counter, c1).await.as_deref(), t["number"].as_str());
    assert_eq!(
        call_next(&app, &counter, c1).await.as_deref(),
        walk_in["number"].as_str()
    );
    // A code of another centre's kiosk, or a malformed one, is refused plainly.
    let (status, _) = check_in(&app, &token, "ABCD0000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = check_in(&app, &token, "ABCDEFGH").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn booking_pages_work_without_a_script_and_the_kiosk_checks_the_code_in() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, citizen] = sign_in_each(&app, ["quantri", "congdan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let setup = json!({"settings": {"slot_minutes": 60, "per_person_per_day": 1, "days_ahead": 7},
        "capacities": [{"group": a, "capacity": 2}]});
    let (status, _) = put(&app, &admin, "/api/v1/queue/booking", setup).await;
    assert_eq!(status, StatusCode::OK);
    let admin_page = page(&app, Some(&admin), "/quan-tri/xep-hang").await.1;
    assert!(
        admin_page.contains("Đặt lịch trực tuyến") && admin_page.contains("bs-minutes"),
        "{admin_page}"
    );

    // Anyone sees the groups, days and slots; booking needs signing in.
    let (status, html) = page(&app, None, &format!("/dat-lich?nhom={a}&ngay=2026-11-03")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Đất đai") && html.contains("còn 2 chỗ") && html.contains("Đăng nhập để đặt lịch"),
        "{html}"
    );
    let browser = common::pages::browser();
    let form = |csrf: &str, gio: &str| {
        vec![
            ("csrf_token".to_owned(), csrf.to_owned()),
            ("nhom".to_owned(), a.to_string()),
            ("ngay".to_owned(), "2026-11-03".to_owned()),
            ("gio".to_owned(), gio.to_owned()),
        ]
    };
    let r = browser
        .post(app.url("/dat-lich"))
        .form(&form("", "09:00"))
        .send()
        .await
        .expect("post");
    assert!(
        r.status().is_redirection() || r.status() == StatusCode::FORBIDDEN,
        "{}",
        r.status()
    );
    let (status, html) = page(&app, Some(&citizen), &format!("/dat-lich?nhom={a}&ngay=2026-11-03")).await;
    assert_eq!(status, StatusCode::OK);
    let start = html
        .split("name=\"gio\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a slot")
        .to_owned();
    let post = |fields: Vec<(String, String)>| {
        browser
            .post(app.url("/dat-lich"))
            .header("cookie", &citizen.cookie)
            .form(&fields)
            .send()
    };
    let r = post(form("forged", &start)).await.expect("post");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a form without the session's CSRF token is refused"
    );
    let r = post(form(&citizen.csrf, &start)).await.expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let booked = r.headers()["location"].to_str().expect("location").to_owned();
    let code = booked.trim_start_matches("/dat-lich/").to_owned();
    let html = page(&app, Some(&citizen), &booked).await.1;
    assert!(
        html.contains(&code) && html.contains("<svg") && html.contains("Hủy lịch hẹn"),
        "{html}"
    );
    // Over the daily limit: the choice again, with the reason.
    let r = post(form(&citizen.csrf, &start)).await.expect("post");
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.expect("text").contains("tối đa 1 lịch hẹn"));
    // Someone else's booking is not shown.
    let (status, _) = page(&app, Some(&admin), &booked).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let mine = page(&app, Some(&citizen), "/dat-lich/cua-toi").await.1;
    assert!(mine.contains(&code), "{mine}");

    // At the kiosk on the day, the code typed (with a space) gives a ticket to print.
    let (h, m) = start.split_once(':').expect("HH:MM");
    let minutes: i64 = h.parse::<i64>().expect("h") * 60 + m.parse::<i64>().expect("m");
    app.clock
        .set(time::macros::datetime!(2026-11-03 00:00 +07:00) + time::Duration::minutes(minutes + 5));
    let cookie = format!("motcua_kiosk={token}");
    let typed = format!("{} {}", &code[..4], &code[4..]);
    let r = browser
        .post(app.url("/may-lay-so/lich-hen"))
        .header("cookie", &cookie)
        .form(&[("ma", typed.as_str())])
        .send()
        .await
        .expect("post");
    let printed = r.headers()["location"].to_str().expect("location").to_owned();
    assert!(printed.starts_with("/may-lay-so/in/"), "{printed}");
    assert!(app.get_text(&printed).await.contains("A001"));
    // Used once: the kiosk says so instead of printing again.
    let r = browser
        .post(app.url("/may-lay-so/lich-hen"))
        .header("cookie", &cookie)
        .form(&[("ma", code.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.expect("text").contains("đã được dùng để lấy số"));
    let html = page(&app, Some(&citizen), &booked).await.1;
    assert!(html.contains("Đã đến, đã lấy số") && html.contains("A001"), "{html}");
}

/// The next `board` event of a server-sent event stream, as JSON (comments skipped).
async fn next_board(r: &mut reqwest::Response, buf: &mut String) -> Value {
    next_event(r, buf, "board").await
}

/// The next event named `name` of a server-sent event stream, as JSON (others skipped).
async fn next_event(r: &mut reqwest::Response, buf: &mut String, name: &str) -> Value {
    let wanted = format!("event: {name}");
    loop {
        if let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if event.lines().any(|l| l == wanted) {
                let data: String = event
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect::<Vec<_>>()
                    .join("\n");
                return serde_json::from_str(&data).expect("board JSON");
            }
            continue;
        }
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), r.chunk())
            .await
            .expect("an event within 5 s")
            .expect("read")
            .expect("stream open");
        buf.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
    }
}

/// Boards of the stream until one satisfies `pred`, which must come within a second of the
/// call (on PostgreSQL a change is told twice: at once on this node, and again when the
/// node hears its own notification; a board is a whole snapshot, so a repeat is harmless).
async fn board_until(r: &mut reqwest::Response, buf: &mut String, pred: impl Fn(&Value) -> bool) -> Value {
    let started = std::time::Instant::now();
    loop {
        let b = next_board(r, buf).await;
        if pred(&b) {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{:?}",
                started.elapsed()
            );
            return b;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "no such board within 1 s: {b}"
        );
    }
}

#[tokio::test]
async fn the_board_follows_taking_and_calling_within_a_second() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;
    let browser = common::pages::browser();

    let r = browser
        .get(app.url("/bang-hien-thi/su-kien"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let cookie = activate_device(&app, "/bang-hien-thi", &token).await;
    let html = browser
        .get(app.url("/bang-hien-thi"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        html.contains("Mời công dân") && html.contains("Đất đai") && html.contains("board.js"),
        "{html}"
    );

    let mut events = browser
        .get(app.url("/bang-hien-thi/su-kien"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("events");
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut buf = String::new();
    let waiting = |b: &Value| {
        b["waiting"]
            .as_array()
            .and_then(|g| g.iter().find(|g| g["id"] == a))
            .and_then(|g| g["waiting"].as_i64())
            .expect("group A")
    };
    let b = next_board(&mut events, &mut buf).await;
    assert_eq!(waiting(&b), 0);
    assert_eq!(b["current"], json!([]));

    // Taking a ticket raises the waiting count; calling it puts it on the board, each
    // within a second.
    let t = take_ok(&app, &token, a, None).await;
    board_until(&mut events, &mut buf, |b| waiting(b) == 1).await;
    assert_eq!(call_next(&app, &counter, c1).await.as_deref(), t["number"].as_str());
    let b = board_until(&mut events, &mut buf, |b| b["current"][0]["number"] == t["number"]).await;
    assert_eq!(waiting(&b), 0);
    assert_eq!(b["current"][0]["counter"], 1);
    assert_eq!(
        b["current"][0]["announcement"],
        format!(
            "Mời công dân có số thứ tự {} đến quầy số 1",
            t["number"].as_str().unwrap_or_default()
        )
    );
    // A recall is a new call (the board announces it again); finishing moves it down.
    let id = t["id"].as_i64().expect("id");
    let first_call = b["current"][0]["called_at"].clone();
    app.clock.set(MONDAY + time::Duration::minutes(1));
    let (status, _) = act(&app, &counter, c1, id, json!({"action": "recall"})).await;
    assert_eq!(status, StatusCode::OK);
    board_until(&mut events, &mut buf, |b| b["current"][0]["called_at"] != first_call).await;
    for action in ["start", "finish"] {
        let (status, _) = act(&app, &counter, c1, id, json!({"action": action})).await;
        assert_eq!(status, StatusCode::OK);
    }
    board_until(&mut events, &mut buf, |b| b["current"] == json!([])).await;
    let b = board_now(&app, &token).await;
    assert_eq!(b["current"], json!([]));
    assert_eq!(b["last"][0]["number"], t["number"]);
}

/// The board as the API gives it to a device.
async fn board_now(app: &TestApp, token: &str) -> Value {
    let r = app
        .client
        .get(app.url("/api/v1/queue/board"))
        .header("x-kiosk-token", token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

#[tokio::test]
async fn a_board_on_one_node_hears_a_call_made_on_another() {
    // PostgreSQL only: two nodes share the database; the call is made on one, the board
    // follows the other (LISTEN/NOTIFY between them).
    if !motcua_store::testing::postgres_selected() {
        return;
    }
    let app = spawn_app_at(MONDAY).await;
    let node2 = common::second_node(&app).await;
    let admin = sign_in(&app, "quantri").await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;
    let mut events = common::pages::browser()
        .get(app.url("/bang-hien-thi/su-kien"))
        .header("cookie", format!("motcua_board={token}"))
        .send()
        .await
        .expect("events");
    let mut buf = String::new();
    next_board(&mut events, &mut buf).await;
    let counter2 = sign_in(&node2, "tiepnhan").await;
    let t = take_ok(&node2, &token, a, None).await;
    board_until(&mut events, &mut buf, |b| b["waiting"][0]["waiting"] == 1).await;
    assert_eq!(call_next(&node2, &counter2, c1).await.as_deref(), t["number"].as_str());
    board_until(&mut events, &mut buf, |b| b["current"][0]["number"] == t["number"]).await;
}

#[tokio::test]
async fn the_phone_page_follows_the_line_with_an_estimated_wait() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;
    let tickets: Vec<Value> = futures_util::future::join_all((0..5).map(|_| take_ok(&app, &token, a, None))).await;
    let mut numbers: Vec<&str> = tickets.iter().filter_map(|t| t["number"].as_str()).collect();
    numbers.sort_unstable();
    let last = tickets.iter().find(|t| t["number"] == numbers[4]).expect("last");
    let page = last["page"].as_str().expect("page").to_owned();
    let html = app.get_text(&page).await;
    assert!(
        html.contains("4 người đang chờ") && html.contains("Chưa đủ dữ liệu"),
        "{html}"
    );

    // Two calls four minutes apart: one gap of 4 minutes; two ahead → (2 + 1) × 4 = 12.
    call_next(&app, &counter, c1).await.expect("a call");
    app.clock.set(MONDAY + time::Duration::minutes(4));
    call_next(&app, &counter, c1).await.expect("a call");
    let html = app.get_text(&page).await;
    assert!(
        html.contains("2 người đang chờ") && html.contains("khoảng 12 phút"),
        "{html}"
    );
    let (status, public) = get(
        &app,
        &admin,
        &format!("/api/v1/tickets/{}", page.trim_start_matches("/so-thu-tu/")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(public["estimated_wait_minutes"], 12);

    // The page's event stream moves with the line.
    let mut events = common::pages::browser()
        .get(app.url(&format!("{page}/su-kien")))
        .send()
        .await
        .expect("events");
    let mut buf = String::new();
    let first = next_event(&mut events, &mut buf, "ticket").await;
    assert_eq!(first["ahead"], 2);
    app.clock.set(MONDAY + time::Duration::minutes(8));
    call_next(&app, &counter, c1).await.expect("a call");
    let mut moved = next_event(&mut events, &mut buf, "ticket").await;
    while moved["ahead"] == 2 {
        moved = next_event(&mut events, &mut buf, "ticket").await;
    }
    assert_eq!(moved["ahead"], 1);
    assert_eq!(moved["wait"], "Thời gian chờ ước tính: khoảng 8 phút.");
    let r = app
        .client
        .get(app.url("/so-thu-tu/nope/su-kien"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// Expected figures of one group, counted by the test as it drives the tickets.
#[derive(Default, Debug)]
struct Tally {
    taken: i64,
    served: i64,
    no_show: i64,
    called: i64,
    wait_ms: i64,
    service_ms: i64,
    /// Rated at the kiosk after service, per level (very satisfied, satisfied, not).
    rated: [i64; 3],
}

fn mean_minutes(total_ms: i64, n: i64) -> Value {
    if n == 0 {
        Value::Null
    } else {
        json!((total_ms / n + 30_000) / 60_000)
    }
}

#[tokio::test]
async fn the_figures_agree_with_a_recount_of_random_days_of_tickets() {
    let seed: u64 = std::env::var("MOTCUA_QUEUE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(7, |d| d.as_secs())
        });
    println!("queue figures seed {seed} (MOTCUA_QUEUE_SEED to replay)");
    let mut rng = seed;
    let mut next = move |n: u64| {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) % n
    };
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter, director] = sign_in_each(&app, ["quantri", "tiepnhan", "giamdoc"]).await;
    let token = kiosk_token(&app, &admin).await;
    let groups = [
        (group_id(&app, &admin, "A").await, counter_id(&app, &admin, 1).await),
        (group_id(&app, &admin, "B").await, counter_id(&app, &admin, 3).await),
    ];
    let mut tally: [Tally; 2] = Default::default();
    let mut hours = [0i64; 24];
    for day in 0..3 {
        let start = MONDAY + time::Duration::days(day);
        for (g, (group, c)) in groups.iter().enumerate() {
            // Tickets taken through the morning, then called in order, each one served,
            // absent or left waiting.
            let mut at = start + time::Duration::minutes(i64::try_from(next(30)).unwrap_or(0));
            let mut taken = Vec::new();
            for _ in 0..(2 + next(5)) {
                app.clock.set(at);
                take_ok(&app, &token, *group, None).await;
                taken.push(at);
                hours[usize::from(at.to_offset(time::macros::offset!(+7)).hour())] += 1;
                tally[g].taken += 1;
                at += time::Duration::minutes(i64::try_from(1 + next(40)).unwrap_or(1));
            }
            let mut now = taken[0];
            for t in &taken {
                now = now.max(*t) + time::Duration::minutes(i64::try_from(1 + next(20)).unwrap_or(1));
                match next(4) {
                    0 => break, // the rest left waiting
                    outcome => {
                        app.clock.set(now);
                        let (id, number) = {
                            let (status, t) =
                                post(&app, &counter, &format!("/api/v1/queue/counters/{c}/call"), json!({})).await;
                            assert_eq!(status, StatusCode::OK, "{t}");
                            (
                                t["id"].as_i64().expect("id"),
                                t["number"].as_str().expect("number").to_owned(),
                            )
                        };
                        tally[g].called += 1;
                        tally[g].wait_ms += (now - *t).whole_milliseconds() as i64;
                        if outcome == 1 {
                            for action in ["recall", "recall", "no_show"] {
                                let (status, body) = act(&app, &counter, *c, id, json!({"action": action})).await;
                                assert_eq!(status, StatusCode::OK, "{action}: {body}");
                            }
                            tally[g].no_show += 1;
                        } else {
                            let (status, _) = act(&app, &counter, *c, id, json!({"action": "start"})).await;
                            assert_eq!(status, StatusCode::OK);
                            let service = time::Duration::minutes(i64::try_from(2 + next(15)).unwrap_or(2));
                            app.clock.set(now + service);
                            let (status, _) = act(&app, &counter, *c, id, json!({"action": "finish"})).await;
                            assert_eq!(status, StatusCode::OK);
                            tally[g].served += 1;
                            tally[g].service_ms += service.whole_milliseconds() as i64;
                            now += service;
                            // Most rate the service at the kiosk afterwards, some do not.
                            let level = usize::try_from(next(4)).unwrap_or(3);
                            if let Some(rating) = ["very_satisfied", "satisfied", "not_satisfied"].get(level) {
                                let (status, r) = rate(&app, &token, &number, rating).await;
                                assert_eq!(status, StatusCode::CREATED, "{r}");
                                tally[g].rated[level] += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    let (status, f) = get(
        &app,
        &director,
        "/api/v1/queue/figures?period=khoang&from=2026-11-02&to=2026-11-04",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{f}");
    for (g, t) in tally.iter().enumerate() {
        let row = &f["groups"][g];
        assert_eq!(row["taken"], t.taken, "group {g}: {row} vs {t:?}");
        assert_eq!(row["served"], t.served, "group {g}: {row} vs {t:?}");
        assert_eq!(row["no_show"], t.no_show, "group {g}: {row} vs {t:?}");
        assert_eq!(
            row["mean_wait_minutes"],
            mean_minutes(t.wait_ms, t.called),
            "group {g}: {row} vs {t:?}"
        );
        assert_eq!(
            row["mean_service_minutes"],
            mean_minutes(t.service_ms, t.served),
            "group {g}: {row} vs {t:?}"
        );
        // Satisfaction, for the group and for the counter that served it (A: counter 1,
        // B: counter 3; a counter that called nothing has no row).
        let rated: i64 = t.rated.iter().sum();
        let percent = if rated == 0 {
            Value::Null
        } else {
            json!(((t.rated[0] + t.rated[1]) * 200 + rated) / (2 * rated))
        };
        let label = ["Quầy số 1", "Quầy số 3"][g];
        let by_counter = f["counters"]
            .as_array()
            .expect("counters")
            .iter()
            .find(|r| r["label"] == label);
        assert!(by_counter.is_some() || t.called == 0, "{label}: {f}");
        for row in std::iter::once(row).chain(by_counter) {
            assert_eq!(row["rated"], rated, "group {g}: {row} vs {t:?}");
            assert_eq!(row["very_satisfied"], t.rated[0], "group {g}: {row} vs {t:?}");
            assert_eq!(row["satisfied"], t.rated[1], "group {g}: {row} vs {t:?}");
            assert_eq!(row["not_satisfied"], t.rated[2], "group {g}: {row} vs {t:?}");
            assert_eq!(row["satisfied_percent"], percent, "group {g}: {row} vs {t:?}");
        }
    }
    let rated: i64 = tally.iter().flat_map(|t| t.rated).sum();
    assert_eq!(f["total"]["rated"], rated);
    let by_officer: i64 = f["officers"]
        .as_array()
        .expect("officers")
        .iter()
        .filter_map(|r| r["rated"].as_i64())
        .sum();
    assert_eq!(by_officer, rated, "one officer served them all");
    let total: i64 = tally.iter().map(|t| t.taken).sum();
    assert_eq!(f["total"]["taken"], total);
    let heat: i64 = f["heat"]
        .as_array()
        .expect("heat")
        .iter()
        .flat_map(|d| d.as_array().expect("row").iter())
        .filter_map(Value::as_i64)
        .sum();
    assert_eq!(heat, total);
    for h in f["hours"].as_array().expect("hours") {
        let hour: usize = h["label"].as_str().expect("label")[..2].parse().expect("hour");
        assert_eq!(h["taken"], hours[hour], "{h}");
    }
    assert_eq!(
        f["weekdays"][0]["taken"].as_i64().unwrap_or(0)
            + f["weekdays"][1]["taken"].as_i64().unwrap_or(0)
            + f["weekdays"][2]["taken"].as_i64().unwrap_or(0),
        total
    );
    // The page and the workbook; nobody else may read them.
    let html = page(
        &app,
        Some(&director),
        "/lanh-dao/xep-hang?period=khoang&from=02/11/2026&to=04/11/2026",
    )
    .await
    .1;
    assert!(
        html.contains("Giờ cao điểm") && html.contains("Theo nhóm dịch vụ") && html.contains("Đất đai (A)"),
        "{html}"
    );
    let r = app
        .client
        .get(app.url("/api/v1/queue/figures.xlsx?period=thang"))
        .header("cookie", &director.cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.expect("bytes").starts_with(b"PK"));
    let (status, _) = get(&app, &counter, "/api/v1/queue/figures").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// ---------------------------------------------------------------------------------------
// The portal with the code of the day, the message three tickets ahead, the kiosk rating

/// Takes a ticket on the portal's JSON API: status and answer.
async fn take_on_portal(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/queue/portal/tickets"))
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The demo centre's code of the day now, as the hall's board shows it.
async fn code_of_the_day(app: &TestApp, token: &str) -> String {
    board_now(app, token).await["hall"]["code"]
        .as_str()
        .expect("code")
        .to_owned()
}

/// What the database holds of ticket `id`'s phone number and email (never shown).
async fn contact_of(app: &TestApp, id: i64) -> motcua_store::queue::Contact {
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    motcua_store::queue::contact(&mut tx, id)
        .await
        .expect("contact")
        .expect("ticket")
}

/// The `queue.turn-near` events queued so far: their payloads, oldest first.
async fn turn_near_events(app: &TestApp) -> Vec<Value> {
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let rows: Vec<String> = motcua_store::on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT payload FROM outbox WHERE kind = 'queue.turn-near' ORDER BY id")
            .fetch_all(c)
            .await
    })
    .expect("events");
    rows.iter().map(|p| serde_json::from_str(p).expect("payload")).collect()
}

#[tokio::test]
async fn the_portal_takes_a_ticket_only_with_the_code_of_today() {
    let app = spawn_app_at(MONDAY).await;
    let admin = sign_in(&app, "quantri").await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;

    // Yesterday's code, read from the board yesterday; today's, today.
    app.clock.set(MONDAY - time::Duration::days(1));
    let yesterday = code_of_the_day(&app, &token).await;
    app.clock.set(MONDAY);
    let board = board_now(&app, &token).await;
    let today = board["hall"]["code"].as_str().expect("code").to_owned();
    assert!(today.len() == 6 && today.bytes().all(|b| b.is_ascii_digit()), "{today}");
    assert_ne!(today, yesterday, "the code changes every day");
    assert!(
        board["hall"]["url"]
            .as_str()
            .expect("url")
            .ends_with(&format!("/lay-so?tt={CENTRE}&ma={today}")),
        "{board}"
    );

    for wrong in ["", "12345", yesterday.as_str()] {
        let (status, err) = take_on_portal(&app, json!({"code": wrong, "group": a})).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("wrong_hall_code")),
            "{wrong:?}: {err}"
        );
    }
    let (status, t) = take_on_portal(&app, json!({"code": today, "group": a, "centre": CENTRE})).await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    assert_eq!(t["number"], "A001");
    // Typed with spaces, as people do; a phone number that is no mobile is refused.
    let spaced = format!("{} {}", &today[..3], &today[3..]);
    let (status, err) = take_on_portal(&app, json!({"code": spaced, "group": a, "phone": "024 3825 1234"})).await;
    assert_eq!(
        (status, err["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("phone")),
        "{err}"
    );

    // The page, with the code filled in by the hall's QR code; the form takes a ticket.
    let html = app.get_text(&format!("/lay-so?tt={CENTRE}&ma={today}")).await;
    assert!(
        html.contains(&format!("value=\"{today}\"")) && html.contains("Đất đai") && html.contains("mã của ngày"),
        "{html}"
    );
    let browser = common::pages::browser();
    let r = browser
        .post(app.url("/lay-so"))
        .form(&[
            ("tt", CENTRE),
            ("ma", spaced.as_str()),
            ("nhom", a.to_string().as_str()),
            ("so_dien_thoai", "0912 345 678"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page_of = r.headers()["location"].to_str().expect("location").to_owned();
    assert!(page_of.starts_with("/so-thu-tu/"), "{page_of}");
    let html = app.get_text(&page_of).await;
    assert!(
        html.contains("A002") && !html.contains("345") && !html.contains("0912"),
        "{html}"
    );
    let r = browser
        .post(app.url("/lay-so"))
        .form(&[
            ("tt", CENTRE),
            ("ma", yesterday.as_str()),
            ("nhom", a.to_string().as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.expect("text").contains("Mã của ngày không đúng"));

    // The kiosk's screen and the hall's board show today's code.
    let cookie = activate_device(&app, "/may-lay-so", &token).await;
    let kiosk = browser
        .get(app.url("/may-lay-so"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(kiosk.contains(&today) && kiosk.contains("<svg"), "{kiosk}");
    let board_token = kiosk_token(&app, &admin).await;
    let cookie = activate_device(&app, "/bang-hien-thi", &board_token).await;
    let board_html = browser
        .get(app.url("/bang-hien-thi"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        board_html.contains(&today) && board_html.contains("<svg"),
        "{board_html}"
    );

    // Outside working sessions the portal refuses, as the kiosk does.
    app.clock.set(MONDAY + time::Duration::hours(12));
    let (status, err) = take_on_portal(&app, json!({"code": today, "group": a})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    app.clock.set(MONDAY);

    // Guessing is held back per address: wrong codes soon get 429 with a wait.
    let mut refused = None;
    for i in 0..20 {
        let r = app
            .client
            .post(app.url("/api/v1/queue/portal/tickets"))
            .json(&json!({"code": "000000", "group": a}))
            .send()
            .await
            .expect("send");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().get("retry-after").is_some());
            refused = Some(i);
            break;
        }
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    assert!(
        refused.is_some_and(|i| i <= 10),
        "wrong codes were never held back: {refused:?}"
    );
}

/// A local SMS gateway: records the JSON bodies posted to it.
async fn sms_gateway() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |body: axum::Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().expect("lock").push(body.0);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/sms", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, got)
}

#[tokio::test]
async fn a_ticket_with_a_phone_gets_one_message_three_ahead_and_loses_it_when_finished() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;
    let code = code_of_the_day(&app, &token).await;
    for _ in 0..5 {
        take_ok(&app, &token, a, None).await;
    }
    let portal = |body: Value| {
        let app = &app;
        async move {
            let (status, t) = take_on_portal(app, body).await;
            assert_eq!(status, StatusCode::CREATED, "{t}");
            t
        }
    };
    let with_phone = portal(json!({"code": code, "group": a, "phone": "+84 912 345 678"})).await;
    let without = portal(json!({"code": code, "group": a})).await;
    let with_email = portal(json!({"code": code, "group": a, "email": " NguyenVanA@Example.VN "})).await;
    let p = with_phone["id"].as_i64().expect("id");
    let e = with_email["id"].as_i64().expect("id");
    assert_eq!(contact_of(&app, p).await.phone.as_deref(), Some("0912345678"));
    assert_eq!(
        contact_of(&app, e).await.email.as_deref(),
        Some("nguyenvana@example.vn")
    );
    assert_eq!(
        contact_of(&app, without["id"].as_i64().expect("id")).await,
        Default::default()
    );
    // Nowhere to be seen: the ticket's answer, its public page, the board, the panel.
    let seen = format!(
        "{with_phone}{with_email}{}{}{}",
        app.get_text(with_phone["page"].as_str().expect("page")).await,
        board_now(&app, &token).await,
        get(&app, &counter, &format!("/api/v1/queue/counters/{c1}/panel"))
            .await
            .1
    );
    assert!(
        !seen.contains("345678") && !seen.to_lowercase().contains("nguyenvana"),
        "{seen}"
    );

    // Five ahead, then four: nothing yet. Three: one message, the phone's; two: no more.
    assert!(turn_near_events(&app).await.is_empty());
    call_next(&app, &counter, c1).await.expect("a call");
    assert!(turn_near_events(&app).await.is_empty());
    call_next(&app, &counter, c1).await.expect("a call");
    let events = turn_near_events(&app).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0]["ticket"].as_i64(), events[0]["ahead"].as_i64()),
        (Some(p), Some(3))
    );
    assert!(!events[0].to_string().contains("345678"), "no phone in the event");
    call_next(&app, &counter, c1).await.expect("a call");
    assert_eq!(turn_near_events(&app).await.len(), 1, "once per ticket");
    // The ticket without a contact never gets one; the one with an email gets its own.
    call_next(&app, &counter, c1).await.expect("a call");
    let events = turn_near_events(&app).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        (events[1]["ticket"].as_i64(), events[1]["ahead"].as_i64()),
        (Some(e), Some(3))
    );

    // The outbox sends the SMS, to the number given, in Vietnamese.
    let (sms_url, got) = sms_gateway().await;
    let config = motcua_server::Config {
        data_dir: app.test_db.dir.path().to_owned(),
        sms_url,
        outbox_poll_millis: 50,
        ..motcua_server::Config::default()
    };
    let mut state = motcua_server::AppState::new(app.test_db.db.clone(), config).expect("state");
    state.set_clock(app.clock.clone());
    let worker = motcua_server::outbox::Worker::new(state.clone())
        .expect("worker")
        .spawn();
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = got.lock().expect("lock").clone();
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    worker.stop().await;
    assert_eq!(sent.len(), 1, "one SMS, none for the email without a mailer: {sent:?}");
    assert_eq!(sent[0]["to"], "0912345678");
    let text = sent[0]["text"].as_str().expect("text");
    assert!(
        text.contains(with_phone["number"].as_str().expect("number")) && text.contains("còn 3 người"),
        "{text}"
    );

    // Served and finished: the phone number is gone.
    let (_, panel) = get(&app, &counter, &format!("/api/v1/queue/counters/{c1}/panel")).await;
    for t in panel["current"].as_array().expect("current") {
        let id = t["id"].as_i64().expect("id");
        act(&app, &counter, c1, id, json!({"action": "start"})).await;
        act(&app, &counter, c1, id, json!({"action": "finish"})).await;
    }
    loop {
        let (status, t) = post(&app, &counter, &format!("/api/v1/queue/counters/{c1}/call"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        let id = t["id"].as_i64().expect("id");
        act(&app, &counter, c1, id, json!({"action": "start"})).await;
        let (status, body) = act(&app, &counter, c1, id, json!({"action": "finish"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if id == p {
            break;
        }
    }
    assert_eq!(contact_of(&app, p).await, Default::default(), "erased once finished");
    assert!(contact_of(&app, e).await.email.is_some(), "still waiting: kept");

    // At the end of the day the one still waiting loses its email too.
    app.clock.set(MONDAY + time::Duration::days(1));
    let erased = motcua_server::service::queue::erase_stale_contacts(&state)
        .await
        .expect("erase");
    assert_eq!(erased, 1);
    assert_eq!(contact_of(&app, e).await, Default::default());
}

/// Rates ticket `ticket` (its number or its page's address) at the kiosk holding `token`.
async fn rate(app: &TestApp, token: &str, ticket: &str, rating: &str) -> (StatusCode, Value) {
    kiosk_post(
        app,
        token,
        "/api/v1/kiosk/ticket-ratings",
        json!({"ticket": ticket, "rating": rating}),
    )
    .await
}

#[tokio::test]
async fn a_served_ticket_is_rated_once_at_the_kiosk_and_counted_for_its_counter() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter, director] = sign_in_each(&app, ["quantri", "tiepnhan", "giamdoc"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let c1 = counter_id(&app, &admin, 1).await;
    let first = take_ok(&app, &token, a, None).await;
    let second = take_ok(&app, &token, a, None).await;
    let id = first["id"].as_i64().expect("id");

    // Not served yet: waiting, called, being served.
    let (status, err) = rate(&app, &token, "A001", "satisfied").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("transition_refused")),
        "{err}"
    );
    call_next(&app, &counter, c1).await.expect("a call");
    act(&app, &counter, c1, id, json!({"action": "start"})).await;
    let (status, _) = rate(&app, &token, "A001", "satisfied").await;
    assert_eq!(status, StatusCode::CONFLICT);
    act(&app, &counter, c1, id, json!({"action": "finish"})).await;

    // Served: rated once, by its number typed in any case; a second rating is refused,
    // however the ticket is named.
    let (status, r) = rate(&app, &token, "a001", "not_satisfied").await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!((r["number"].as_str(), r["counter"].as_i64()), (Some("A001"), Some(1)));
    assert_eq!(r["rating_label"], "Không hài lòng");
    let (status, err) = rate(&app, &token, "A001", "very_satisfied").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict")),
        "{err}"
    );
    let url = format!("https://motcua.example.vn{}", first["page"].as_str().expect("page"));
    assert_eq!(rate(&app, &token, &url, "very_satisfied").await.0, StatusCode::CONFLICT);
    assert_eq!(rate(&app, &token, "Z999", "satisfied").await.0, StatusCode::NOT_FOUND);

    // The kiosk's page: the second ticket, served, rated by its QR code.
    let id2 = second["id"].as_i64().expect("id");
    call_next(&app, &counter, c1).await.expect("a call");
    act(&app, &counter, c1, id2, json!({"action": "start"})).await;
    act(&app, &counter, c1, id2, json!({"action": "finish"})).await;
    let browser = common::pages::browser();
    let cookie = activate_device(&app, "/may-lay-so", &token).await;
    let html = browser
        .get(app.url("/may-lay-so/danh-gia"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        html.contains("Rất hài lòng") && html.contains("Hài lòng") && html.contains("Không hài lòng"),
        "{html}"
    );
    let scanned = format!("{}{}", app.base, second["page"].as_str().expect("page"));
    let r = browser
        .post(app.url("/may-lay-so/danh-gia"))
        .header("cookie", &cookie)
        .form(&[("so", scanned.as_str()), ("muc", "very_satisfied")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .expect("text")
            .contains("Cảm ơn ông/bà đã đánh giá số thứ tự A002")
    );

    // Counted in the figures, for the group, the counter and the officer.
    let (status, f) = get(&app, &director, "/api/v1/queue/figures").await;
    assert_eq!(status, StatusCode::OK, "{f}");
    for row in [&f["total"], &f["groups"][0], &f["counters"][0], &f["officers"][0]] {
        assert_eq!(
            (
                row["rated"].as_i64(),
                row["very_satisfied"].as_i64(),
                row["not_satisfied"].as_i64()
            ),
            (Some(2), Some(1), Some(1)),
            "{row}"
        );
        assert_eq!(row["satisfied_percent"], 50, "{row}");
    }
    let html = page(&app, Some(&director), "/lanh-dao/xep-hang").await.1;
    assert!(html.contains("Tỷ lệ hài lòng") && html.contains("50%"), "{html}");
}

/// Every phone page follows one view of its centre's tickets, built once per change
/// (`service::queue_live`): after each take, call and transfer, each stream's latest event
/// says what `GET /api/v1/tickets/{token}` (read one ticket at a time) says: the place in
/// line, the state and the counter.
#[tokio::test]
async fn phone_pages_follow_one_shared_view_that_agrees_with_each_ticket() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let token = kiosk_token(&app, &admin).await;
    let a = group_id(&app, &admin, "A").await;
    let b = group_id(&app, &admin, "B").await;
    let (c1, c3) = (counter_id(&app, &admin, 1).await, counter_id(&app, &admin, 3).await);
    let browser = common::pages::browser();
    let mut phones = Vec::new();
    for i in 0..9 {
        let t = take_ok(&app, &token, if i % 3 == 0 { b } else { a }, None).await;
        let page = t["page"].as_str().expect("page").to_owned();
        let events = browser
            .get(app.url(&format!("{page}/su-kien")))
            .send()
            .await
            .expect("events");
        assert_eq!(events.headers()["content-type"], "text/event-stream");
        phones.push((
            page.replace("/so-thu-tu/", "/api/v1/tickets/"),
            events,
            String::new(),
            Value::Null,
        ));
    }
    for step in 0..7 {
        match step {
            0 | 2 | 5 => assert!(call_next(&app, &counter, c1).await.is_some()),
            1 | 4 => assert!(call_next(&app, &counter, c3).await.is_some()),
            3 => {
                take_ok(&app, &token, a, None).await;
            }
            _ => {
                // A transfer keeps the arrival time: the ticket called at counter 1 goes
                // back to wait in group B, ahead of those taken after it.
                let (_, panel) = get(&app, &counter, &format!("/api/v1/queue/counters/{c1}/panel")).await;
                let id = panel["current"][0]["id"].as_i64().expect("a ticket at counter 1");
                let (status, moved) = act(&app, &counter, c1, id, json!({"action": "transfer", "group": b})).await;
                assert_eq!(status, StatusCode::OK, "{moved}");
            }
        }
        for (api, events, buf, last) in &mut phones {
            let (status, want) = app.get_json(api).await;
            assert_eq!(status, 200, "{want}");
            let agrees = |seen: &Value| {
                seen["ahead"] == want["ahead"]
                    && seen["state"] == want["ticket"]["state"]
                    && seen["counter"] == want["ticket"]["counter"]
                    && seen["number"] == want["ticket"]["number"]
            };
            // A change of place is sent within a second (a call at once); a stream whose
            // ticket did not change sends nothing new.
            let started = std::time::Instant::now();
            while !agrees(last) {
                *last = next_event(events, buf, "ticket").await;
                assert!(
                    agrees(last) || started.elapsed() < std::time::Duration::from_secs(2),
                    "step {step}: the stream says {last}, the ticket read says {want}"
                );
            }
        }
    }
}
