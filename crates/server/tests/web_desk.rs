//! The department desks: the staff dossier page (`/ho-so/{code}`) offers exactly the
//! actions each viewer may take now, and the forms it shows make API calls that succeed;
//! the work list (`/xu-ly`) colours due dates, filters, and keeps other departments out.

mod common;

use common::api::{act_ok, code_of, get, procedure_of};
use common::files::upload_pdf;
use common::intake::{Reach, counter_intake, file_dossier, finish};
use common::pages::{browser, page, page_ok};
use common::{CONSTRUCTION, Session, TestApp, at, sign_in_each, spawn_app_at};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

/// Who looks at a dossier of Sở Xây dựng here: the counter, its leader and officer, an
/// officer of another department, a citizen and the director.
const EVERYONE: [&str; 6] = [
    "tiepnhan",
    "ld.xaydung",
    "cv.xaydung",
    "cv.tuphap",
    "congdan",
    "giamdoc",
];

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

/// The action forms a page shows, in order.
fn action_forms(html: &str) -> Vec<&'static str> {
    ALL_ACTIONS
        .into_iter()
        .filter(|a| html.contains(&format!("<form id=\"action-{a}\"")))
        .collect()
}

/// Checks that the dossier page shows `viewer` exactly `expected` action forms, each
/// posting to the action's API address.
async fn assert_actions(app: &TestApp, viewer: &Session, who: &str, code: &str, expected: &[&str]) -> String {
    let html = page_ok(app, viewer, &format!("/ho-so/{code}")).await;
    assert_eq!(action_forms(&html), expected, "{who} on {code}");
    for a in expected {
        assert!(
            html.contains(&format!("data-api=\"/api/v1/dossiers/{code}/actions/{a}\"")),
            "{who}: {a} posts to the API"
        );
    }
    html
}

/// A construction procedure received at the centre, filed at the counter with every
/// required document, the applicant reachable by phone: the new dossier.
async fn file_construction(app: &TestApp, counter: &Session) -> Value {
    let procedure = procedure_of(app, CONSTRUCTION).await;
    let body = counter_intake(app, &procedure, Reach::Phone).await;
    file_dossier(app, counter, body).await
}

/// The value of the `<option>` whose text starts with `label`.
fn option_value(html: &str, label: &str) -> String {
    let at = html
        .find(&format!(">{label}"))
        .unwrap_or_else(|| panic!("no option {label}"));
    let before = &html[..at];
    let start = before.rfind("value=\"").expect("value") + 7;
    before[start..].split('"').next().expect("quoted").to_owned()
}

/// The work list's row of dossier `code`.
fn row<'a>(html: &'a str, code: &str) -> &'a str {
    let start = html
        .find(&format!("<tr id=\"row-{code}\">"))
        .unwrap_or_else(|| panic!("no row for {code}"));
    let len = html[start..].find("</tr>").expect("row end");
    &html[start..start + len]
}

#[tokio::test]
async fn the_dossier_page_offers_each_viewer_the_actions_they_may_take_now() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await; // a Monday
    let [counter, leader, officer, justice, citizen, director] = sign_in_each(&app, EVERYONE).await;
    let filed = file_construction(&app, &counter).await;
    let code = code_of(&filed);
    let path = format!("/ho-so/{code}");

    // Accepted at the centre: the counter transfers it (or withdraws it on request); the
    // department sees it but has nothing to do yet.
    let html = assert_actions(&app, &counter, "tiepnhan", &code, &["transfer", "withdraw"]).await;
    assert!(html.contains(&format!(
        "href=\"/api/v1/dossiers/{code}/forms/receipt.pdf\" target=\"_blank\""
    )));
    assert!(html.contains("In phiếu tiếp nhận và hẹn trả kết quả"));
    assert!(html.contains("Được tiếp nhận"), "status label");
    assert!(
        html.contains("058190000123") || html.contains("4500123456"),
        "staff see the applicant in full"
    );
    assert!(html.contains("Trong hạn"), "due badge");
    assert_actions(&app, &leader, "ld.xaydung", &code, &[]).await;
    assert_actions(&app, &officer, "cv.xaydung", &code, &[]).await;
    assert_actions(&app, &director, "giamdoc", &code, &[]).await;

    // Another department: exactly the answer for a code that does not exist (issue 19: the
    // page must not tell which codes exist). A citizen: 403 (the page is for staff).
    // Anonymous: to the login page.
    let (status, body) = page(&app, Some(&justice), &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let missing = "000.00.16.H43-261102-9999";
    let (missing_status, missing_body) = page(&app, Some(&justice), &format!("/ho-so/{missing}")).await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    assert_eq!(
        body.replace(code.as_str(), "CODE"),
        missing_body.replace(missing, "CODE")
    );
    let (status, _) = page(&app, Some(&citizen), &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = browser().get(app.url(&path)).send().await.expect("anonymous");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().expect("location");
    assert!(to.starts_with("/dang-nhap?next=%2Fho-so%2F"), "{to}");
    let (status, _) = page(&app, Some(&counter), "/ho-so/000.00.16.H43-261102-9999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Transferred: the leader assigns, forwards, asks, apologises, stops or finishes; the
    // officer examines (forward, supplement, payment); the counter may only withdraw.
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    let html = assert_actions(
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
    assert!(html.contains("Sở Tư pháp"), "forward offers the other agencies");
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
    let officer_id = option_value(&html, "Hoàng Văn Dựng");
    app.clock.set(datetime!(2026-11-02 10:00 +07:00));
    let v = act_ok(&app, &leader, &code, "assign", json!({"user": officer_id})).await;
    assert_eq!(v["assignee"]["name"], "Hoàng Văn Dựng");
    let html = page_ok(&app, &officer, &path).await;
    assert!(html.contains("cán bộ Hoàng Văn Dựng"));

    // The officer asks for a supplement as the form sends it (missing: lines → array).
    app.clock.set(datetime!(2026-11-03 09:00 +07:00));
    act_ok(
        &app,
        &officer,
        &code,
        "request-supplement",
        json!({"missing": ["Bản vẽ mặt bằng có chữ ký", "Bản sao giấy tờ đất"], "reason": "Thiếu chữ ký"}),
    )
    .await;
    let html = assert_actions(&app, &counter, "tiepnhan", &code, &["receive-supplement", "withdraw"]).await;
    assert!(html.contains("Bản sao giấy tờ đất"), "the notice lists what is missing");
    assert!(html.contains(&format!("/api/v1/dossiers/{code}/forms/supplement-request.pdf")));
    assert!(html.contains("Tạm dừng tính thời gian"));
    assert_actions(&app, &leader, "ld.xaydung", &code, &[]).await;
    assert_actions(&app, &officer, "cv.xaydung", &code, &[]).await;

    // The supplement arrives at the counter (an uploaded scan, as data-upload sends it).
    app.clock.set(datetime!(2026-11-05 09:00 +07:00));
    let scan = upload_pdf(&app, &counter, "ban-ve.pdf").await;
    let v = act_ok(
        &app,
        &counter,
        &code,
        "receive-supplement",
        json!({"files": [scan], "note": "Đã nhận bản vẽ"}),
    )
    .await;
    let html = page_ok(&app, &leader, &path).await;
    assert!(html.contains("ban-ve.pdf") && html.contains(&format!("/api/v1/files/{scan}")));

    // The leader apologises with the browser's date-time field (Vietnam time, no offset).
    let due = at(v["due_at"].as_str().expect("due"));
    let new_due = (due + time::Duration::days(7)).to_offset(time::macros::offset!(+7));
    let local = format!(
        "{:04}-{:02}-{:02}T16:00",
        new_due.year(),
        u8::from(new_due.month()),
        new_due.day()
    );
    let v = act_ok(
        &app,
        &leader,
        &code,
        "apologise",
        json!({"reason": "Cần thêm thời gian thẩm định", "new_due": local}),
    )
    .await;
    assert!(v["due_at"].as_str().expect("due").ends_with("T16:00:00+07:00"), "{v}");
    let html = page_ok(&app, &counter, &path).await;
    assert!(html.contains(&format!("/api/v1/dossiers/{code}/forms/apology.pdf")));

    // Finished with a result file uploaded by the leader.
    app.clock.set(datetime!(2026-11-06 10:00 +07:00));
    finish(&app, &leader, &code, "giay-phep.pdf").await;
    let html = assert_actions(&app, &counter, "tiepnhan", &code, &["return"]).await;
    assert!(html.contains("giay-phep.pdf"), "result files listed");
    assert!(html.contains("Phê duyệt, hoàn thành xử lý"), "history");
    assert!(html.contains(&format!("/api/v1/dossiers/{code}/forms/control-sheet.pdf")));
    assert!(html.contains("id=\"control-sheet\""));
    assert_actions(&app, &leader, "ld.xaydung", &code, &[]).await;
    assert_actions(&app, &officer, "cv.xaydung", &code, &[]).await;

    // Returned by post, as the return form sends it.
    act_ok(
        &app,
        &counter,
        &code,
        "return",
        json!({"method": "post", "tracking_number": "EMS123456789VN"}),
    )
    .await;
    let html = assert_actions(&app, &counter, "tiepnhan", &code, &[]).await;
    assert!(html.contains("EMS123456789VN"));
    assert!(html.contains("Đã trả kết quả"));
}

#[tokio::test]
async fn the_work_list_colours_due_dates_and_keeps_to_the_department() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, officer, justice, citizen, director] = sign_in_each(&app, EVERYONE).await;
    let first = file_construction(&app, &counter).await;
    let second = file_construction(&app, &counter).await;
    let third = file_construction(&app, &counter).await;
    let (a, b, c) = (code_of(&first), code_of(&second), code_of(&third));
    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    for code in [&a, &b, &c] {
        act_ok(&app, &counter, code, "transfer", json!({})).await;
    }
    let v = act_ok(&app, &leader, &a, "assign", json!({"user": "cv.xaydung"})).await;
    act_ok(&app, &leader, &c, "assign", json!({"user": "ld.xaydung"})).await;
    let due = at(v["due_at"].as_str().expect("due"));

    // The leader sees the whole department, on time.
    let html = page_ok(&app, &leader, "/xu-ly").await;
    for code in [&a, &b, &c] {
        assert!(html.contains(&format!("<a href=\"/ho-so/{code}\">")), "{code}");
    }
    for code in [&a, &b, &c] {
        assert!(row(&html, code).contains("badge due-ok\">Trong hạn"), "{code}");
    }
    assert!(html.contains("id=\"work-filters\"") && html.contains("data-autosubmit"));
    assert!(html.contains("href=\"/api/v1/dossiers.xlsx\""));
    // The officer: theirs and those waiting for assignment, not a colleague's.
    let html = page_ok(&app, &officer, "/xu-ly").await;
    assert!(html.contains(&format!("/ho-so/{a}\"")) && html.contains(&format!("/ho-so/{b}\"")));
    assert!(!html.contains(&format!("/ho-so/{c}\"")), "assigned to someone else");
    assert!(html.contains("href=\"/api/v1/dossiers.xlsx?assignee=me%2Cnone\""));
    let html = page_ok(&app, &officer, "/xu-ly?scope=all").await;
    assert!(
        html.contains(&format!("/ho-so/{c}\"")),
        "the whole department on request"
    );
    let (status, _) = get(&app, &officer, "/api/v1/dossiers.xlsx?assignee=me%2Cnone").await;
    assert_eq!(status, StatusCode::OK, "the export takes the same filters");
    // Leaders filter by officer, or those waiting.
    let html = page_ok(&app, &leader, "/xu-ly?assignee=none").await;
    assert!(html.contains(&format!("/ho-so/{b}\"")) && !html.contains(&format!("/ho-so/{a}\"")));

    // Within one working day of the appointment: "soon"; past it: overdue, in red and words.
    app.clock.set(due - time::Duration::hours(2));
    let html = page_ok(&app, &leader, "/xu-ly?due=soon").await;
    assert!(row(&html, &a).contains("badge due-soon\">Sắp đến hạn"), "{html}");
    let html = page_ok(&app, &leader, "/xu-ly?due=overdue").await;
    assert!(html.contains("id=\"work-empty\""), "nothing overdue yet");
    app.clock.set(due + time::Duration::hours(1));
    let html = page_ok(&app, &leader, "/xu-ly").await;
    assert!(row(&html, &a).contains("badge due-late\">Quá hạn"));
    let html = page_ok(&app, &leader, "/xu-ly?due=overdue&order=due").await;
    assert!(row(&html, &a).contains("badge due-late\">Quá hạn"));
    let html = page_ok(&app, &leader, "/xu-ly?due=soon").await;
    assert!(html.contains("id=\"work-empty\""), "overdue is not soon");
    let (status, _) = get(&app, &leader, "/api/v1/dossiers?due=overdue").await;
    assert_eq!(status, StatusCode::OK);
    // The same badge on the dossier page.
    let html = page_ok(&app, &officer, &format!("/ho-so/{a}")).await;
    assert!(html.contains("badge due-late\">Quá hạn"));

    // Fewer rows than a page: no next page; a broken position says so.
    let html = page_ok(&app, &leader, "/xu-ly?order=due").await;
    assert!(!html.contains("id=\"next-page\""), "fewer than a page");
    let (status, _) = page(&app, Some(&leader), "/xu-ly?order=due&cursor=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The director looks at a department through ?agency=.
    let html = page_ok(&app, &director, &format!("/xu-ly?agency={CONSTRUCTION}")).await;
    assert!(html.contains(&format!("/ho-so/{a}\"")));
    // Others: 403; anonymous: the login page.
    let (status, _) = page(&app, Some(&justice), &format!("/xu-ly?agency={CONSTRUCTION}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let html = page_ok(&app, &justice, "/xu-ly").await;
    assert!(!html.contains(&format!("/ho-so/{a}\"")), "Tư pháp's own list");
    for who in [&citizen, &counter] {
        let (status, _) = page(&app, Some(who), "/xu-ly").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let r = browser().get(app.url("/xu-ly")).send().await.expect("anonymous");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/dang-nhap?next=%2Fxu-ly");
}
