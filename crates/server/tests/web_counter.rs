//! The counter officer's desk (`/quay`): the pages render for the counter with the right
//! data (the search, the intake form's checklist, the waiting, results and today's lists,
//! the receipt page), the JSON the intake form builds is accepted by the API, and everyone
//! else gets a 403 page or the login page.

mod common;

use common::api::{act_ok, code_of, get, post, procedure_content, procedure_of};
use common::files::{download, upload_pdf};
use common::pages::{light_page_ok, page};
use common::{CONSTRUCTION, LLTP, MONDAY, at, sign_in, sign_in_each, spawn_app_at};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The body `app.js` builds from the intake form of `procedure` with every required
/// document ticked (counts as pre-filled), exactly as the form's field names serialise:
/// `procedure`, `province`, `accept` (hidden, data-type=bool), `applicant.*`,
/// `documents.N.index` (the tick, data-type=int), `documents.N.originals|copies`
/// (data-type=int), `documents.N.files[]` (upload ids), `sets` (int), `channel`,
/// `delivery`, `note`.
fn intake_body(procedure: &str, c: &Value, accept: bool, scans: &[(usize, String)]) -> Value {
    let documents: Vec<Value> = c["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, d)| {
            let mut doc = json!({"index": i, "originals": d["originals"], "copies": d["copies"]});
            let files: Vec<&String> = scans.iter().filter(|(n, _)| *n == i).map(|(_, f)| f).collect();
            if !files.is_empty() {
                doc["files"] = json!(files);
            }
            doc
        })
        .collect();
    json!({
        "procedure": procedure,
        "province": "000.00.00.H43",
        "accept": accept,
        "applicant": {
            "kind": c["applicants"][0],
            "name": "Trần Thị Bình",
            "id_number": if c["applicants"][0] == "organisation" { "4500123456" } else { "058190000456" },
            "phone": "0912 345 678",
            "email": "binh@example.vn",
            "address": "12 Thống Nhất, Phan Rang - Tháp Chàm"
        },
        "documents": documents,
        "sets": c["sets"],
        "channel": "counter",
        "delivery": "counter",
        "note": "Người nộp hẹn đến nhận trực tiếp"
    })
}

#[tokio::test]
async fn the_desk_searches_procedures_and_opens_the_intake_form() {
    let app = spawn_app_at(MONDAY).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let desk = light_page_ok(&app, &counter, "/quay").await;
    assert!(desk.contains("Quầy tiếp nhận và trả kết quả"), "{desk}");
    assert!(desk.contains(r#"id="procedure-search""#));
    assert!(desk.contains(r#"hx-get="/quay/tim-thu-tuc""#));
    assert!(desk.contains("/static/htmx.min.js"), "the live search loads htmx");
    for tab in ["cho-tiep-nhan", "tra-ket-qua", "hen-hom-nay"] {
        assert!(desk.contains(&format!("/quay?tab={tab}")), "{tab}");
    }

    // Live results: words without diacritics find the procedure, linking to its intake.
    let results = light_page_ok(&app, &counter, "/quay/tim-thu-tuc?q=ly+lich+tu+phap").await;
    assert!(results.contains(&format!("/quay/tiep-nhan/{LLTP}")), "{results}");
    assert!(!results.contains("<html"), "a fragment, not a page");
    // The same search without JavaScript shows the results on the desk.
    let desk = light_page_ok(&app, &counter, "/quay?q=ly+lich+tu+phap").await;
    assert!(desk.contains(&format!("/quay/tiep-nhan/{LLTP}")));
    let none = light_page_ok(&app, &counter, "/quay/tim-thu-tuc?q=zzzzqqq").await;
    assert!(none.contains("Không tìm thấy thủ tục"), "{none}");

    // A code typed or scanned exactly goes straight to the intake form.
    let (status, location) = page(&app, Some(&counter), &format!("/quay?q=+{LLTP}+")).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(location, format!("/quay/tiep-nhan/{LLTP}"));

    // The intake form: the procedure's checklist with the counts pre-filled, an upload per
    // document, the API's field names, both buttons.
    let c = procedure_content(&app, LLTP).await;
    let form = light_page_ok(&app, &counter, &format!("/quay/tiep-nhan/{LLTP}")).await;
    assert!(form.contains(r#"id="intake""#) && form.contains(r#"data-api="/api/v1/dossiers""#));
    assert!(form.contains(r#"id="accept""#) && form.contains("Tiếp nhận và in phiếu hẹn"));
    assert!(form.contains(r#"id="register-only""#) && form.contains("Chỉ ghi nhận để kiểm tra"));
    assert!(form.contains(r#"data-next="/quay/bien-nhan/{code}""#));
    assert!(form.contains(r#"data-next="/ho-so/{code}""#));
    assert!(form.contains("data-draft="));
    assert!(form.contains("/static/counter.js"));
    for name in [
        "procedure",
        "accept",
        "applicant.name",
        "applicant.id_number",
        "applicant.phone",
        "applicant.email",
        "applicant.address",
        "sets",
        "channel",
        "delivery",
        "note",
    ] {
        assert!(form.contains(&format!(r#"name="{name}""#)), "field {name}");
    }
    let docs = c["documents"].as_array().expect("documents");
    assert!(!docs.is_empty());
    for (i, d) in docs.iter().enumerate() {
        let doc_name = d["name"].as_str().expect("name");
        assert!(form.contains(doc_name), "checklist row {doc_name}");
        assert!(form.contains(&format!(r#"name="documents.{i}.index" value="{i}""#)));
        assert!(form.contains(&format!(
            r#"name="documents.{i}.originals" type="number" min="0" max="99" value="{}""#,
            d["originals"]
        )));
        assert!(form.contains(&format!(r#"data-upload="documents.{i}.files[]""#)));
    }
    // The script the form needs is served.
    let (status, js) = page(&app, Some(&counter), "/static/counter.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("register-only"));

    // An unknown procedure is a Vietnamese 404 page.
    let (status, body) = page(&app, Some(&counter), "/quay/tiep-nhan/1.999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn fee_options_are_offered_with_their_amounts() {
    let app = spawn_app_at(MONDAY).await;
    let counter = sign_in(&app, "tiepnhan").await;
    // The judicial record: 200.000 đ always, plus 5.000 đ a copy from the third one on.
    let c = procedure_content(&app, LLTP).await;
    let form = light_page_ok(&app, &counter, &format!("/quay/tiep-nhan/{LLTP}")).await;
    let mut options = 0;
    for f in c["fees"].as_array().expect("fees") {
        let amount = f["amount"].as_u64().expect("amount");
        let shown = motcua_core::money::Vnd(amount).to_string();
        assert!(form.contains(&shown), "amount {shown}");
        if let Some(o) = f["option"].as_str() {
            options += 1;
            assert!(form.contains(&format!(r#"name="fee_option" value="{o}""#)), "{o}");
        }
    }
    assert!(options > 0, "the demo procedure has a fee option");
    // Choosing none is possible (and the default): only the items always due.
    assert!(form.contains(r#"name="fee_option" value="" checked"#));
}

#[tokio::test]
async fn the_intake_form_s_body_is_accepted_and_the_receipt_page_follows() {
    let app = spawn_app_at(MONDAY).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let c = procedure_content(&app, LLTP).await;
    let scan = upload_pdf(&app, &counter, "to-khai.pdf").await;
    let (status, v) = post(
        &app,
        &counter,
        "/api/v1/dossiers",
        intake_body(LLTP, &c, true, &[(0, scan)]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["status_code"], 2);
    assert_eq!(v["files"].as_array().expect("files").len(), 1);
    let code = code_of(&v);

    let receipt = light_page_ok(&app, &counter, &format!("/quay/bien-nhan/{code}")).await;
    assert!(receipt.contains(&code));
    assert!(receipt.contains(&format!(
        r#"href="/api/v1/dossiers/{code}/forms/receipt.pdf" target="_blank""#
    )));
    assert!(receipt.contains("In phiếu tiếp nhận và hẹn trả kết quả"));
    assert!(receipt.contains("Tiếp nhận hồ sơ khác") && receipt.contains(r#"href="/quay""#));
    assert!(receipt.contains("Trần Thị Bình"));
    // Appointment: ten working days later, 16/11/2026 08:00.
    assert!(receipt.contains("16/11/2026 08:00"), "{receipt}");
    let first = c["documents"][0]["name"].as_str().expect("name");
    assert!(receipt.contains(first), "what was received is listed");
    // The link prints: the receipt exists once accepted.
    let receipt_pdf = format!("/api/v1/dossiers/{code}/forms/receipt.pdf");
    let (status, headers, _) = download(&app, Some(&counter), &receipt_pdf).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/pdf");

    // «Chỉ ghi nhận để kiểm tra»: accept false keeps it in status 1, on the waiting list,
    // and the receipt page says there is no receipt yet.
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", intake_body(LLTP, &c, false, &[])).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["status_code"], 1);
    let registered = code_of(&v);
    let waiting = light_page_ok(&app, &counter, "/quay?tab=cho-tiep-nhan").await;
    assert!(waiting.contains(&format!(r#"href="/ho-so/{registered}""#)), "{waiting}");
    let not_yet = light_page_ok(&app, &counter, &format!("/quay/bien-nhan/{registered}")).await;
    assert!(!not_yet.contains("receipt.pdf"), "{not_yet}");
    assert!(not_yet.contains("chưa có phiếu tiếp nhận"));

    // What the API refuses names its field, as the form shows it.
    let mut bad = intake_body(LLTP, &c, true, &[]);
    bad["applicant"]["id_number"] = json!("123");
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "applicant.id_number");
    let mut incomplete = intake_body(LLTP, &c, true, &[]);
    incomplete["documents"] = json!([]);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", incomplete).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "documents[0]");
    assert!(
        e["errors"].as_array().expect("errors").len() >= 2,
        "every missing document: {e}"
    );

    // An unknown dossier code is a 404 page.
    let (status, _) = page(&app, Some(&counter), "/quay/bien-nhan/000.00.16.H43-261102-9999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_lists_show_waiting_finished_and_today_s_dossiers() {
    let app = spawn_app_at(MONDAY).await;
    let [counter, citizen, leader] = sign_in_each(&app, ["tiepnhan", "congdan", "ld.xaydung"]).await;

    // Nothing yet.
    let desk = light_page_ok(&app, &counter, "/quay").await;
    assert!(desk.contains("Không có hồ sơ nào chờ tiếp nhận."), "{desk}");

    // A citizen files online: status 1, waiting for reception.
    let c = procedure_content(&app, LLTP).await;
    let form = upload_pdf(&app, &citizen, "to-khai.pdf").await;
    let id = upload_pdf(&app, &citizen, "cccd.pdf").await;
    let mut applicant = intake_body(LLTP, &c, true, &[])["applicant"].clone();
    applicant["name"] = json!("Nguyễn Thị Dân");
    let (status, v) = post(
        &app,
        &citizen,
        "/api/v1/dossiers",
        json!({"procedure": LLTP, "applicant": applicant,
               "documents": [{"index": 0, "files": [form]}, {"index": 1, "files": [id]}], "delivery": "online"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let online = code_of(&v);

    // A dossier received at the counter, handled and finished: its result waits.
    let construction = procedure_of(&app, CONSTRUCTION).await;
    let cc = procedure_content(&app, &construction).await;
    let (status, v) = post(
        &app,
        &counter,
        "/api/v1/dossiers",
        intake_body(&construction, &cc, true, &[]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let finished = code_of(&v);
    act_ok(&app, &counter, &finished, "transfer", json!({})).await;
    let result = upload_pdf(&app, &leader, "giay-phep.pdf").await;
    act_ok(&app, &leader, &finished, "finish", json!({"result_files": [result]})).await;

    // A dossier accepted now whose appointment is the day we move the clock to.
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", intake_body(LLTP, &c, true, &[])).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let appointment = code_of(&v);
    let due = at(v["due_at"].as_str().expect("due"));

    let waiting = light_page_ok(&app, &counter, "/quay").await;
    assert!(waiting.contains(&format!(r#"href="/ho-so/{online}""#)), "{waiting}");
    assert!(waiting.contains("Nộp trực tuyến"));
    assert!(!waiting.contains(&format!(r#"href="/ho-so/{finished}""#)));
    assert!(
        waiting.contains(
            r#"id="tab-cho-tiep-nhan" aria-current="page">Chờ tiếp nhận <span class="badge status">1</span>"#
        ),
        "the waiting count"
    );
    assert!(
        waiting.contains(r#"id="tab-tra-ket-qua">Có kết quả, chờ trả <span class="badge status">1</span>"#),
        "the results count"
    );
    assert!(
        waiting.contains(r#"id="tab-hen-hom-nay">Lịch hẹn trả hôm nay <span class="badge status">0</span>"#),
        "nothing due today"
    );

    let results = light_page_ok(&app, &counter, "/quay?tab=tra-ket-qua").await;
    assert!(results.contains(&format!(r#"href="/ho-so/{finished}""#)), "{results}");
    assert!(!results.contains(&format!(r#"href="/ho-so/{online}""#)));

    // Today (Monday 2 Nov) has no appointment; on the appointment day it is in the queue.
    let today = light_page_ok(&app, &counter, "/quay?tab=hen-hom-nay").await;
    assert!(!today.contains(&format!(r#"href="/ho-so/{appointment}""#)), "{today}");
    app.clock.set(due - time::Duration::minutes(30));
    let today = light_page_ok(&app, &counter, "/quay?tab=hen-hom-nay").await;
    assert!(today.contains(&format!(r#"href="/ho-so/{appointment}""#)), "{today}");
    assert!(today.contains("08:00"), "the appointment's hour");
    assert!(!today.contains(&format!(r#"href="/ho-so/{online}""#)));
    // The next day it has left today's queue.
    app.clock.set(due + time::Duration::days(1));
    let tomorrow = light_page_ok(&app, &counter, "/quay?tab=hen-hom-nay").await;
    assert!(!tomorrow.contains(&format!(r#"href="/ho-so/{appointment}""#)));
}

#[tokio::test]
async fn only_counter_officers_use_the_desk() {
    let app = spawn_app_at(MONDAY).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let c = procedure_content(&app, LLTP).await;
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", intake_body(LLTP, &c, true, &[])).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let code = code_of(&v);
    let paths = [
        "/quay".to_owned(),
        "/quay/tim-thu-tuc?q=ly+lich".to_owned(),
        format!("/quay/tiep-nhan/{LLTP}"),
        format!("/quay/bien-nhan/{code}"),
    ];
    for who in ["cv.xaydung", "congdan"] {
        let s = sign_in(&app, who).await;
        for path in &paths {
            let (status, body) = page(&app, Some(&s), path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}: {body}");
            assert!(body.contains("Bạn không có quyền"), "{body}");
        }
    }
    for path in &paths {
        let (status, location) = page(&app, None, path).await;
        assert!(status.is_redirection(), "{path}: {status}");
        assert!(location.starts_with("/dang-nhap?next=%2Fquay"), "{location}");
    }
    // The counter itself, and the API read behind the receipt page, still work.
    let (status, _) = get(&app, &counter, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!(status, StatusCode::OK);
}
