//! The department desks: the staff dossier page (`/ho-so/{code}`) offers exactly the
//! actions each viewer may take now, and the forms it shows make API calls that succeed;
//! the work list (`/xu-ly`) colours due dates, filters, and keeps other departments out.

mod common;

use common::{Session, TestApp, call, demo, spawn_app_at, with_csrf};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

/// Sở Xây dựng, whose demo staff include an officer and a leader.
const CONSTRUCTION: &str = "000.00.03.H43";

/// A minimal but real PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Every action form the dossier page can show.
const ALL_ACTIONS: [&str; 16] = [
    "accept",
    "refuse",
    "request-completion",
    "transfer",
    "assign",
    "forward",
    "forward-back",
    "request-supplement",
    "receive-supplement",
    "request-payment",
    "confirm-payment",
    "apologise",
    "withdraw",
    "stop",
    "finish",
    "return",
];

/// GETs a page with the session's cookie: status and HTML.
async fn html(app: &TestApp, s: &Session, path: &str) -> (StatusCode, String) {
    let r = app
        .client
        .get(app.url(path))
        .header("cookie", &s.cookie)
        .send()
        .await
        .expect("page");
    let status = r.status();
    (status, r.text().await.expect("text"))
}

async fn page_ok(app: &TestApp, s: &Session, path: &str) -> String {
    let (status, body) = html(app, s, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// The action forms a page shows, in order.
fn action_forms(page: &str) -> Vec<&'static str> {
    ALL_ACTIONS
        .into_iter()
        .filter(|a| page.contains(&format!("<form id=\"action-{a}\"")))
        .collect()
}

/// Checks that the dossier page shows `viewer` exactly `expected` action forms, each
/// posting to the action's API address.
async fn assert_actions(app: &TestApp, viewer: &Session, who: &str, code: &str, expected: &[&str]) -> String {
    let page = page_ok(app, viewer, &format!("/ho-so/{code}")).await;
    assert_eq!(action_forms(&page), expected, "{who} on {code}");
    for a in expected {
        assert!(
            page.contains(&format!("data-api=\"/api/v1/dossiers/{code}/actions/{a}\"")),
            "{who}: {a} posts to the API"
        );
    }
    page
}

async fn act(app: &TestApp, s: &Session, code: &str, action: &str, body: Value) -> Value {
    let (status, v) = with_csrf(
        app,
        s,
        Method::POST,
        &format!("/api/v1/dossiers/{code}/actions/{action}"),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{action}: {v}");
    v
}

async fn upload_pdf(app: &TestApp, s: &Session, name: &str) -> String {
    let r = app
        .client
        .post(app.url(&format!("/api/v1/uploads?name={name}")))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .body(PDF.to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.expect("json");
    v["id"].as_str().expect("id").to_owned()
}

/// A construction procedure received at the centre, filed at the counter with every
/// required document: the new dossier.
async fn file_construction(app: &TestApp, counter: &Session) -> Value {
    let (_, list) = app
        .get_json(&format!(
            "/api/v1/procedures?agency={CONSTRUCTION}&at_centre=true&limit=1"
        ))
        .await;
    let procedure = list["items"][0]["code"].as_str().expect("procedure").to_owned();
    let (_, p) = app.get_json(&format!("/api/v1/procedures/{procedure}")).await;
    let content = &p["content"];
    let documents: Vec<Value> = content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, d)| json!({"index": i, "originals": d["originals"], "copies": d["copies"]}))
        .collect();
    let applicant = if content["applicants"][0] == "organisation" {
        json!({"kind": "organisation", "name": "Công ty TNHH Nắng Gió", "id_number": "4500123456",
               "phone": "0259 3822 111", "address": "Phan Rang - Tháp Chàm"})
    } else {
        json!({"kind": "citizen", "name": "Nguyễn Văn An", "id_number": "058190000123",
               "phone": "0912345678", "address": "Phan Rang - Tháp Chàm"})
    };
    let (status, v) = with_csrf(
        app,
        counter,
        Method::POST,
        "/api/v1/dossiers",
        Some(json!({"procedure": procedure, "applicant": applicant, "documents": documents})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

fn code_of(v: &Value) -> String {
    v["code"].as_str().expect("code").to_owned()
}

/// The value of the `<option>` whose text starts with `label`.
fn option_value(page: &str, label: &str) -> String {
    let at = page
        .find(&format!(">{label}"))
        .unwrap_or_else(|| panic!("no option {label}"));
    let before = &page[..at];
    let start = before.rfind("value=\"").expect("value") + 7;
    before[start..].split('"').next().expect("quoted").to_owned()
}

/// The work list's row of dossier `code`.
fn row<'a>(page: &'a str, code: &str) -> &'a str {
    let start = page
        .find(&format!("<tr id=\"row-{code}\">"))
        .unwrap_or_else(|| panic!("no row for {code}"));
    let len = page[start..].find("</tr>").expect("row end");
    &page[start..start + len]
}

/// A browser that does not follow redirects.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn the_dossier_page_offers_each_viewer_the_actions_they_may_take_now() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await; // a Monday
    let counter = demo(&app, "tiepnhan").await;
    let leader = demo(&app, "ld.xaydung").await;
    let officer = demo(&app, "cv.xaydung").await;
    let justice = demo(&app, "cv.tuphap").await;
    let citizen = demo(&app, "congdan").await;
    let director = demo(&app, "giamdoc").await;
    let filed = file_construction(&app, &counter).await;
    let code = code_of(&filed);
    let path = format!("/ho-so/{code}");

    // Accepted at the centre: the counter transfers it (or withdraws it on request); the
    // department sees it but has nothing to do yet.
    let page = assert_actions(&app, &counter, "tiepnhan", &code, &["transfer", "withdraw"]).await;
    assert!(page.contains(&format!(
        "href=\"/api/v1/dossiers/{code}/forms/receipt.pdf\" target=\"_blank\""
    )));
    assert!(page.contains("In phiếu tiếp nhận và hẹn trả kết quả"));
    assert!(page.contains("Được tiếp nhận"), "status label");
    assert!(
        page.contains("058190000123") || page.contains("4500123456"),
        "staff see the applicant in full"
    );
    assert!(page.contains("Trong hạn"), "due badge");
    assert_actions(&app, &leader, "ld.xaydung", &code, &[]).await;
    assert_actions(&app, &officer, "cv.xaydung", &code, &[]).await;
    assert_actions(&app, &director, "giamdoc", &code, &[]).await;

    // Another department: exactly the answer for a code that does not exist (issue 19: the
    // page must not tell which codes exist). A citizen: 403 (the page is for staff).
    // Anonymous: to the login page.
    let (status, body) = html(&app, &justice, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let missing = "000.00.16.H43-261102-9999";
    let (missing_status, missing_body) = html(&app, &justice, &format!("/ho-so/{missing}")).await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    assert_eq!(
        body.replace(code.as_str(), "CODE"),
        missing_body.replace(missing, "CODE")
    );
    let (status, _) = html(&app, &citizen, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = no_redirects().get(app.url(&path)).send().await.expect("anonymous");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().expect("location");
    assert!(to.starts_with("/dang-nhap?next=%2Fho-so%2F"), "{to}");
    let (status, _) = html(&app, &counter, "/ho-so/000.00.16.H43-261102-9999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Transferred: the leader assigns, forwards, asks, apologises, stops or finishes; the
    // officer examines (forward, supplement, payment); the counter may only withdraw.
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    act(&app, &counter, &code, "transfer", json!({})).await;
    let page = assert_actions(
        &app,
        &leader,
        "ld.xaydung",
        &code,
        &[
            "assign",
            "forward",
            "request-supplement",
            "request-payment",
            "apologise",
            "stop",
            "finish",
        ],
    )
    .await;
    assert!(page.contains("Sở Tư pháp"), "forward offers the other agencies");
    assert_actions(
        &app,
        &officer,
        "cv.xaydung",
        &code,
        &["forward", "request-supplement", "request-payment"],
    )
    .await;
    assert_actions(&app, &counter, "tiepnhan", &code, &["withdraw"]).await;

    // Assign with what the form's select holds.
    let officer_id = option_value(&page, "Hoàng Văn Dựng");
    app.clock.set(datetime!(2026-11-02 10:00 +07:00));
    let v = act(&app, &leader, &code, "assign", json!({"user": officer_id})).await;
    assert_eq!(v["assignee"]["name"], "Hoàng Văn Dựng");
    let page = page_ok(&app, &officer, &path).await;
    assert!(page.contains("cán bộ Hoàng Văn Dựng"));

    // The officer asks for a supplement as the form sends it (missing: lines → array).
    app.clock.set(datetime!(2026-11-03 09:00 +07:00));
    act(
        &app,
        &officer,
        &code,
        "request-supplement",
        json!({"missing": ["Bản vẽ mặt bằng có chữ ký", "Bản sao giấy tờ đất"], "reason": "Thiếu chữ ký"}),
    )
    .await;
    let page = assert_actions(&app, &counter, "tiepnhan", &code, &["receive-supplement", "withdraw"]).await;
    assert!(page.contains("Bản sao giấy tờ đất"), "the notice lists what is missing");
    assert!(page.contains(&format!("/api/v1/dossiers/{code}/forms/supplement-request.pdf")));
    assert!(page.contains("Tạm dừng tính thời gian"));
    assert_actions(&app, &leader, "ld.xaydung", &code, &[]).await;
    assert_actions(&app, &officer, "cv.xaydung", &code, &[]).await;

    // The supplement arrives at the counter (an uploaded scan, as data-upload sends it).
    app.clock.set(datetime!(2026-11-05 09:00 +07:00));
    let scan = upload_pdf(&app, &counter, "ban-ve.pdf").await;
    let v = act(
        &app,
        &counter,
        &code,
        "receive-supplement",
        json!({"files": [scan], "note": "Đã nhận bản vẽ"}),
    )
    .await;
    let page = page_ok(&app, &leader, &path).await;
    assert!(page.contains("ban-ve.pdf") && page.contains(&format!("/api/v1/files/{scan}")));

    // The leader apologises with the browser's date-time field (Vietnam time, no offset).
    let due = OffsetDateTime::parse(v["due_at"].as_str().expect("due"), &Rfc3339).expect("rfc3339");
    let new_due = (due + time::Duration::days(7)).to_offset(time::macros::offset!(+7));
    let local = format!(
        "{:04}-{:02}-{:02}T16:00",
        new_due.year(),
        u8::from(new_due.month()),
        new_due.day()
    );
    let v = act(
        &app,
        &leader,
        &code,
        "apologise",
        json!({"reason": "Cần thêm thời gian thẩm định", "new_due": local}),
    )
    .await;
    assert!(v["due_at"].as_str().expect("due").ends_with("T16:00:00+07:00"), "{v}");
    let page = page_ok(&app, &counter, &path).await;
    assert!(page.contains(&format!("/api/v1/dossiers/{code}/forms/apology.pdf")));

    // Finished with a result file uploaded by the leader.
    app.clock.set(datetime!(2026-11-06 10:00 +07:00));
    let result = upload_pdf(&app, &leader, "giay-phep.pdf").await;
    act(
        &app,
        &leader,
        &code,
        "finish",
        json!({"result_files": [result], "note": "Đã ký"}),
    )
    .await;
    let page = assert_actions(&app, &counter, "tiepnhan", &code, &["return"]).await;
    assert!(page.contains("giay-phep.pdf"), "result files listed");
    assert!(page.contains("Phê duyệt, hoàn thành xử lý"), "history");
    assert!(page.contains(&format!("/api/v1/dossiers/{code}/forms/control-sheet.pdf")));
    assert!(page.contains("id=\"control-sheet\""));
    assert_actions(&app, &leader, "ld.xaydung", &code, &[]).await;
    assert_actions(&app, &officer, "cv.xaydung", &code, &[]).await;

    // Returned by post, as the return form sends it.
    act(
        &app,
        &counter,
        &code,
        "return",
        json!({"method": "post", "tracking_number": "EMS123456789VN"}),
    )
    .await;
    let page = assert_actions(&app, &counter, "tiepnhan", &code, &[]).await;
    assert!(page.contains("EMS123456789VN"));
    assert!(page.contains("Đã trả kết quả"));
}

#[tokio::test]
async fn the_work_list_colours_due_dates_and_keeps_to_the_department() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let counter = demo(&app, "tiepnhan").await;
    let leader = demo(&app, "ld.xaydung").await;
    let officer = demo(&app, "cv.xaydung").await;
    let justice = demo(&app, "cv.tuphap").await;
    let citizen = demo(&app, "congdan").await;
    let director = demo(&app, "giamdoc").await;
    let first = file_construction(&app, &counter).await;
    let second = file_construction(&app, &counter).await;
    let third = file_construction(&app, &counter).await;
    let (a, b, c) = (code_of(&first), code_of(&second), code_of(&third));
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    for code in [&a, &b, &c] {
        act(&app, &counter, code, "transfer", json!({})).await;
    }
    let v = act(&app, &leader, &a, "assign", json!({"user": "cv.xaydung"})).await;
    act(&app, &leader, &c, "assign", json!({"user": "ld.xaydung"})).await;
    let due = OffsetDateTime::parse(v["due_at"].as_str().expect("due"), &Rfc3339).expect("due");

    // The leader sees the whole department, on time.
    let page = page_ok(&app, &leader, "/xu-ly").await;
    for code in [&a, &b, &c] {
        assert!(page.contains(&format!("<a href=\"/ho-so/{code}\">")), "{code}");
    }
    for code in [&a, &b, &c] {
        assert!(row(&page, code).contains("badge due-ok\">Trong hạn"), "{code}");
    }
    assert!(page.contains("id=\"work-filters\"") && page.contains("data-autosubmit"));
    assert!(page.contains("href=\"/api/v1/dossiers.xlsx\""));
    // The officer: theirs and those waiting for assignment, not a colleague's.
    let page = page_ok(&app, &officer, "/xu-ly").await;
    assert!(page.contains(&format!("/ho-so/{a}\"")) && page.contains(&format!("/ho-so/{b}\"")));
    assert!(!page.contains(&format!("/ho-so/{c}\"")), "assigned to someone else");
    assert!(page.contains("href=\"/api/v1/dossiers.xlsx?assignee=me%2Cnone\""));
    let page = page_ok(&app, &officer, "/xu-ly?scope=all").await;
    assert!(
        page.contains(&format!("/ho-so/{c}\"")),
        "the whole department on request"
    );
    let (status, _) = call(
        &app,
        &officer,
        Method::GET,
        "/api/v1/dossiers.xlsx?assignee=me%2Cnone",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the export takes the same filters");
    // Leaders filter by officer, or those waiting.
    let page = page_ok(&app, &leader, "/xu-ly?assignee=none").await;
    assert!(page.contains(&format!("/ho-so/{b}\"")) && !page.contains(&format!("/ho-so/{a}\"")));

    // Within one working day of the appointment: "soon"; past it: overdue, in red and words.
    app.clock.set(due - time::Duration::hours(2));
    let page = page_ok(&app, &leader, "/xu-ly?due=soon").await;
    assert!(row(&page, &a).contains("badge due-soon\">Sắp đến hạn"), "{page}");
    let page = page_ok(&app, &leader, "/xu-ly?due=overdue").await;
    assert!(page.contains("id=\"work-empty\""), "nothing overdue yet");
    app.clock.set(due + time::Duration::hours(1));
    let page = page_ok(&app, &leader, "/xu-ly").await;
    assert!(row(&page, &a).contains("badge due-late\">Quá hạn"));
    let page = page_ok(&app, &leader, "/xu-ly?due=overdue&order=due").await;
    assert!(row(&page, &a).contains("badge due-late\">Quá hạn"));
    let page = page_ok(&app, &leader, "/xu-ly?due=soon").await;
    assert!(page.contains("id=\"work-empty\""), "overdue is not soon");
    let (status, _) = call(&app, &leader, Method::GET, "/api/v1/dossiers?due=overdue", None, None).await;
    assert_eq!(status, StatusCode::OK);
    // The same badge on the dossier page.
    let page = page_ok(&app, &officer, &format!("/ho-so/{a}")).await;
    assert!(page.contains("badge due-late\">Quá hạn"));

    // Fewer rows than a page: no next page; a broken position says so.
    let page = page_ok(&app, &leader, "/xu-ly?order=due").await;
    assert!(!page.contains("id=\"next-page\""), "fewer than a page");
    let (status, _) = html(&app, &leader, "/xu-ly?order=due&cursor=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The director looks at a department through ?agency=.
    let page = page_ok(&app, &director, &format!("/xu-ly?agency={CONSTRUCTION}")).await;
    assert!(page.contains(&format!("/ho-so/{a}\"")));
    // Others: 403; anonymous: the login page.
    let (status, _) = html(&app, &justice, &format!("/xu-ly?agency={CONSTRUCTION}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let page = page_ok(&app, &justice, "/xu-ly").await;
    assert!(!page.contains(&format!("/ho-so/{a}\"")), "Tư pháp's own list");
    for who in [&citizen, &counter] {
        let (status, _) = html(&app, who, "/xu-ly").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let r = no_redirects().get(app.url("/xu-ly")).send().await.expect("anonymous");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/dang-nhap?next=%2Fxu-ly");
}
