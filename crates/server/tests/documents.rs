//! The document store (issue 24 items 1–3, docs/documents.md) on the backend the test run
//! selects: a result issued in one dossier enters its applicant's store and is offered and
//! reused in their next dossier; staff see a person's store only while handling that
//! person's dossier; every staff look is audited and shown to the owner.

mod common;

use common::api::{act_ok, code_of, get, post, procedure_content};
use common::files::{PDF, download, upload_pdf};
use common::intake::{Reach, counter_intake, file_dossier, filing_body, finish};
use common::pages::{page, page_ok};
use common::{CONSTRUCTION, MONDAY, Session, TestApp, sign_in, sign_in_each, spawn_app_at, url_encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The demo citizen account's own citizen ID (its store's key).
const CONGDAN_ID: &str = "058190000123";

/// The procedures of Sở Xây dựng whose name contains `words`: (code, name).
async fn construction_procedures(app: &TestApp, words: &str) -> Vec<(String, String)> {
    let (status, v) = app
        .get_json(&format!(
            "/api/v1/procedures?agency={CONSTRUCTION}&limit=100&q={}",
            url_encode(words)
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["code"].as_str().expect("code").to_owned(),
                i["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect()
}

/// The construction practising certificate (a real procedure of the demo, for citizens):
/// its result, «Chứng chỉ hành nghề hoạt động xây dựng», is of the built-in kind
/// `chung-chi-hanh-nghe`.
async fn certificate_procedure(app: &TestApp) -> String {
    construction_procedures(app, "chứng chỉ hành nghề hoạt động xây dựng")
        .await
        .into_iter()
        .find(|(_, name)| name.starts_with("Cấp chứng chỉ hành nghề hoạt động xây dựng"))
        .expect("the practising certificate procedure")
        .0
}

/// A procedure a citizen files online whose checklist asks for a practising certificate
/// already issued (a renewal, a reissue, …), and the row that asks for it.
async fn renewal_procedure(app: &TestApp) -> (String, usize) {
    for (code, name) in construction_procedures(app, "chứng chỉ hành nghề").await {
        if name.starts_with("Cấp chứng chỉ") {
            continue;
        }
        let content = procedure_content(app, &code).await;
        let online = content["service_level"].as_u64().unwrap_or(0) >= 3 || content["online_mode"] == "full";
        if !online || content["applicants"][0] != "citizen" {
            continue;
        }
        let row = content["documents"]
            .as_array()
            .expect("documents")
            .iter()
            .position(|d| {
                let n = d["name"].as_str().unwrap_or_default().to_lowercase();
                n.contains("chứng chỉ hành nghề") && n.starts_with("bản gốc")
            });
        if let Some(row) = row {
            return (code, row);
        }
    }
    panic!("no construction procedure filed online asks for a practising certificate");
}

/// The counter files the practising certificate for Nguyễn Văn An (the demo citizen's ID),
/// hands it to Sở Xây dựng, whose leader signs the result: the dossier's code.
async fn issue_certificate(app: &TestApp) -> String {
    let [counter, leader] = sign_in_each(app, ["tiepnhan", "ld.xaydung"]).await;
    let procedure = certificate_procedure(app).await;
    let body = counter_intake(app, &procedure, Reach::Phone).await;
    assert_eq!(body["applicant"]["id_number"], CONGDAN_ID);
    let code = code_of(&file_dossier(app, &counter, body).await);
    act_ok(app, &counter, &code, "transfer", json!({})).await;
    let done = finish(app, &leader, &code, "chung-chi-hanh-nghe.pdf").await;
    assert_eq!(done["status_code"], 9, "{done}");
    code
}

/// The stores `s` opens (200).
async fn stores(app: &TestApp, s: &Session) -> Vec<Value> {
    let (status, v) = get(app, s, "/api/v1/documents").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_array().expect("stores").clone()
}

/// The staff looks into `s`'s stores (200).
async fn views(app: &TestApp, s: &Session) -> Vec<Value> {
    let (status, v) = get(app, s, "/api/v1/documents/views").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v.as_array().expect("views").clone()
}

#[tokio::test]
async fn a_result_issued_in_one_dossier_is_offered_and_reused_in_the_next() {
    let app = spawn_app_at(MONDAY).await;
    let citizen = sign_in(&app, "congdan").await;
    assert!(
        stores(&app, &citizen).await[0]["documents"]
            .as_array()
            .expect("documents")
            .is_empty(),
        "an empty store before anything was issued"
    );
    let first = issue_certificate(&app).await;

    // The result entered the applicant's store at finish, by reference to its file.
    let mine = stores(&app, &citizen).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["owner"]["id_number"], CONGDAN_ID);
    let docs = mine[0]["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 1, "{docs:?}");
    let result = &docs[0];
    assert_eq!(result["source"], "result");
    assert_eq!(result["kind"], "chung-chi-hanh-nghe");
    assert_eq!(result["dossier"], first.as_str());
    assert_eq!(result["expired"], false);
    assert_eq!(result["removable"], false);
    let id = result["id"].as_i64().expect("id");
    let (status, _, bytes) = download(&app, Some(&citizen), &format!("/api/v1/documents/{id}/file")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bytes.starts_with(b"%PDF"),
        "the signed result as the leader uploaded it"
    );

    // The next procedure that asks for the certificate offers it.
    let (renewal, row) = renewal_procedure(&app).await;
    let (status, offers) = get(&app, &citizen, &format!("/api/v1/documents/offers?procedure={renewal}")).await;
    assert_eq!(status, StatusCode::OK, "{offers}");
    let offer = offers
        .as_array()
        .expect("offers")
        .iter()
        .find(|o| o["index"] == row)
        .unwrap_or_else(|| panic!("row {row} offered: {offers}"));
    assert_eq!(offer["documents"][0]["id"], id);

    // Filed online with «Dùng giấy tờ đã có» for that row and uploads for the others.
    let content = procedure_content(&app, &renewal).await;
    let mut files = Vec::new();
    for (i, d) in content["documents"].as_array().expect("documents").iter().enumerate() {
        if d["required"] == true && i != row {
            files.push((i, upload_pdf(&app, &citizen, &format!("giay-to-{i}.pdf")).await));
        }
    }
    let mut body = filing_body(&renewal, &content, &files);
    body["documents"][row]["stored"] = json!([id]);
    // A stored document is taken only for a row that asks for its kind.
    let mut wrong = body.clone();
    let other = (0..content["documents"].as_array().expect("documents").len())
        .find(|i| *i != row)
        .expect("another row");
    wrong["documents"][other]["stored"] = json!([id]);
    let (status, refused) = post(&app, &citizen, "/api/v1/dossiers", wrong).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // Nor for a dossier in someone else's name: the store is the applicant's.
    let mut foreign = body.clone();
    foreign["applicant"]["id_number"] = json!("058190000999");
    let (status, refused) = post(&app, &citizen, "/api/v1/dossiers", foreign).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, second) = post(&app, &citizen, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["reused"][0]["document"], id);
    assert_eq!(second["reused"][0]["index"], row);
    assert_eq!(second["reused"][0]["sha256"], result["sha256"]);
    let second = code_of(&second);
    let v = common::api::dossier(&app, &citizen, &second).await;
    assert_eq!(
        v["reused"][0]["kind"], "chung-chi-hanh-nghe",
        "the dossier records the reuse: {v}"
    );
    let html = page_ok(&app, &citizen, &format!("/ca-nhan/ho-so/{second}")).await;
    assert!(
        html.contains(&format!("/api/v1/documents/{id}/file")),
        "the dossier's page names it"
    );
    assert!(
        v["files"].as_array().expect("files").len() == files.len(),
        "no copy of the stored file: {v}"
    );

    // The store counts the use; a result is never removed.
    let mine = stores(&app, &citizen).await;
    assert_eq!(mine[0]["documents"][0]["uses"], 1);
    let (status, _) = common::api::delete(&app, &citizen, &format!("/api/v1/documents/{id}")).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_department_officer_cannot_see_the_store_of_a_person_whose_dossier_they_do_not_handle() {
    let app = spawn_app_at(MONDAY).await;
    let code = issue_certificate(&app).await;
    let [justice, construction, counter] = sign_in_each(&app, ["cv.tuphap", "cv.xaydung", "tiepnhan"]).await;
    let citizen = sign_in(&app, "congdan").await;
    let id = stores(&app, &citizen).await[0]["documents"][0]["id"]
        .as_i64()
        .expect("id");

    // Sở Tư pháp does not handle the dossier: its store, its files and the offers are closed.
    let (status, v) = get(&app, &justice, &format!("/api/v1/dossiers/{code}/documents")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, _, _) = download(
        &app,
        Some(&justice),
        &format!("/api/v1/documents/{id}/file?dossier={code}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = download(&app, Some(&justice), &format!("/api/v1/documents/{id}/file")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = get(
        &app,
        &justice,
        &format!(
            "/api/v1/documents/offers?procedure={}&id_number={CONGDAN_ID}&consent=true",
            common::LLTP
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");

    // Sở Xây dựng handles it (the result waits to be handed over): it sees the store, and
    // its dossier page links to it.
    let html = page_ok(&app, &construction, &format!("/ho-so/{code}")).await;
    assert!(html.contains(&format!("/ho-so/{code}/kho-giay-to")));
    let (status, v) = get(&app, &construction, &format!("/api/v1/dossiers/{code}/documents")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["documents"][0]["id"], id);

    // Once the result is handed over the dossier is closed, and so is the store.
    act_ok(&app, &counter, &code, "return", json!({"method": "counter"})).await;
    let (status, v) = get(&app, &construction, &format!("/api/v1/dossiers/{code}/documents")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, _, _) = download(
        &app,
        Some(&construction),
        &format!("/api/v1/documents/{id}/file?dossier={code}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        views(&app, &citizen).await.len(),
        1,
        "only the one look allowed is recorded"
    );
}

#[tokio::test]
async fn every_staff_view_is_audited_and_shown_to_the_owner() {
    let app = spawn_app_at(MONDAY).await;
    let code = issue_certificate(&app).await;
    let [construction, counter, admin] = sign_in_each(&app, ["cv.xaydung", "tiepnhan", "quantri"]).await;
    let citizen = sign_in(&app, "congdan").await;
    let id = stores(&app, &citizen).await[0]["documents"][0]["id"]
        .as_i64()
        .expect("id");
    assert!(views(&app, &citizen).await.is_empty(), "entering a result is no look");

    // The owner's own reads are not looks.
    let (status, _, _) = download(&app, Some(&citizen), &format!("/api/v1/documents/{id}/file")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(views(&app, &citizen).await.is_empty());

    // A look at the store, then a download, by the officer handling the dossier.
    let (status, _) = get(&app, &construction, &format!("/api/v1/dossiers/{code}/documents")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, bytes) = download(
        &app,
        Some(&construction),
        &format!("/api/v1/documents/{id}/file?dossier={code}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PDF);

    // The counter consults it at a new intake: only with the applicant's consent.
    let (renewal, row) = renewal_procedure(&app).await;
    let path = format!("/api/v1/documents/offers?procedure={renewal}&id_number={CONGDAN_ID}");
    let (status, v) = get(&app, &counter, &path).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "consent_required");
    let (status, v) = get(&app, &counter, &format!("{path}&consent=true")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v.as_array().expect("offers").iter().any(|o| o["index"] == row));

    // A counter intake takes it with consent (recorded on the reuse), not without.
    let mut body = counter_intake(&app, &renewal, Reach::Phone).await;
    body["applicant"] = json!({"kind": "citizen", "name": "Nguyễn Văn An", "id_number": CONGDAN_ID});
    let docs = body["documents"].as_array_mut().expect("documents");
    docs.retain(|d| d["index"] != row);
    docs.push(json!({"index": row, "stored": [id]}));
    let (status, v) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    body["store_consent"] = json!(true);
    let filed = file_dossier(&app, &counter, body).await;
    assert_eq!(filed["reused"][0]["document"], id);
    assert!(filed["reused"][0]["consent_by"].is_string(), "{filed}");

    // Three looks, each named to the owner with who and which dossier.
    let seen = views(&app, &citizen).await;
    let actions: Vec<&str> = seen.iter().map(|v| v["action"].as_str().expect("action")).collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for a in ["documents.view", "documents.file", "documents.consult"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        seen.iter()
            .filter(|v| v["action"] != "documents.consult")
            .all(|v| v["dossier"] == code.as_str() && v["who"].as_str().expect("who").contains("cv.xaydung")),
        "{seen:?}"
    );

    // And in the audit trail the administrator reads.
    let (status, trail) = get(&app, &admin, "/api/v1/admin/audit?object_type=document_owner&limit=50").await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let recorded: Vec<&str> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for a in ["documents.view", "documents.file", "documents.consult"] {
        assert!(recorded.contains(&a), "{a} in {recorded:?}");
    }
}

#[tokio::test]
async fn the_pages_show_the_store_the_offer_and_who_looked() {
    let app = spawn_app_at(MONDAY).await;
    let code = issue_certificate(&app).await;
    let [construction, justice] = sign_in_each(&app, ["cv.xaydung", "cv.tuphap"]).await;
    let citizen = sign_in(&app, "congdan").await;
    let id = stores(&app, &citizen).await[0]["documents"][0]["id"]
        .as_i64()
        .expect("id");

    // The staff page of the applicant's store: for the department handling it, audited.
    let html = page_ok(&app, &construction, &format!("/ho-so/{code}/kho-giay-to")).await;
    assert!(html.contains("Chứng chỉ hành nghề hoạt động xây dựng"), "{html}");
    assert!(html.contains(&format!("/api/v1/documents/{id}/file?dossier={code}")));
    let (status, _) = page(&app, Some(&justice), &format!("/ho-so/{code}/kho-giay-to")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // «Kho giấy tờ của tôi»: the result, its validity, and the look just made.
    let html = page_ok(&app, &citizen, "/kho-giay-to").await;
    assert!(html.contains("Kho giấy tờ của tôi"));
    assert!(html.contains("Chứng chỉ hành nghề hoạt động xây dựng"));
    assert!(html.contains("Còn hiệu lực"));
    assert!(html.contains("Ai đã xem kho giấy tờ của tôi"));
    assert!(html.contains("cv.xaydung") && html.contains(&code), "the look is shown");

    // The online filing form offers it for the row that asks for it, without script.
    let (renewal, row) = renewal_procedure(&app).await;
    let html = page_ok(&app, &citizen, &format!("/ca-nhan/nop/{renewal}")).await;
    assert!(html.contains("Dùng giấy tờ đã có"), "{html}");
    assert!(html.contains(&format!(r#"name="documents.{row}.stored[]" value="{id}""#)));

    // The counter's intake shows the store only once the applicant consented (posted, so
    // that the ID number never travels in an address).
    let counter = sign_in(&app, "tiepnhan").await;
    let looks = views(&app, &citizen).await.len();
    let consult = |consent: bool| {
        let mut body = format!("csrf_token={}&kho={CONGDAN_ID}", url_encode(&counter.csrf));
        if consent {
            body.push_str("&dong_y=1");
        }
        app.client
            .post(app.url(&format!("/quay/tiep-nhan/{renewal}/kho-giay-to")))
            .header("cookie", &counter.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let r = consult(false).await.expect("post");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.expect("html");
    assert!(!html.contains("stored[]") && !html.contains(r#"name="store_consent""#));
    assert_eq!(views(&app, &citizen).await.len(), looks, "no consent, no look");
    let r = consult(true).await.expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(
        html.contains(&format!(r#"name="documents.{row}.stored[]" value="{id}""#)),
        "{html}"
    );
    assert!(html.contains(r#"<input type="hidden" name="store_consent" value="true" data-type="bool">"#));
    assert!(html.contains(&format!(r#"name="applicant.id_number" value="{CONGDAN_ID}""#)));
    assert!(html.contains("Đã đối chiếu với bản chính"));
    let seen = views(&app, &citizen).await;
    assert_eq!(seen.len(), looks + 1);
    assert_eq!(seen[0]["action"], "documents.consult");
}

#[tokio::test]
async fn uploads_checked_scans_kinds_and_the_digitisation_figures() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter, director, justice] = sign_in_each(&app, ["quantri", "tiepnhan", "giamdoc", "cv.tuphap"]).await;
    let citizen = sign_in(&app, "congdan").await;

    // The administrator keeps the kind list, checked whole and audited.
    let (_, kinds) = get(&app, &citizen, "/api/v1/documents/kinds").await;
    let mut kinds = kinds.as_array().expect("kinds").clone();
    assert!(kinds.iter().any(|k| k["code"] == "cccd"));
    kinds.push(json!({"code": "so-ho-khau", "name": "Sổ hộ khẩu", "phrases": ["sổ hộ khẩu"]}));
    let (status, v) = common::api::put(&app, &counter, "/api/v1/admin/document-kinds", json!({"kinds": kinds})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, v) = common::api::put(
        &app,
        &admin,
        "/api/v1/admin/document-kinds",
        json!({"kinds": [{"code": "Sai Mã", "name": "", "phrases": []}]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (status, v) = common::api::put(&app, &admin, "/api/v1/admin/document-kinds", json!({"kinds": kinds})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (_, trail) = get(&app, &admin, "/api/v1/admin/audit?action=document_kinds.update").await;
    assert_eq!(trail["items"].as_array().expect("items").len(), 1, "{trail}");

    // The citizen's own uploads: an expired card is kept, flagged, never offered; a valid
    // one is offered for the judicial record's ID row.
    let upload = |file: String, expires: &str| {
        json!({"file": file, "kind": "cccd", "number": CONGDAN_ID, "issuer": "Cục Cảnh sát QLHC về TTXH",
               "issued_on": "2021-04-10", "expires_on": expires})
    };
    let old = upload_pdf(&app, &citizen, "cccd-cu.pdf").await;
    let (status, expired) = post(&app, &citizen, "/api/v1/documents", upload(old, "2026-01-01")).await;
    assert_eq!(status, StatusCode::CREATED, "{expired}");
    assert_eq!(
        (expired["expired"].clone(), expired["removable"].clone()),
        (json!(true), json!(true))
    );
    let new = upload_pdf(&app, &citizen, "cccd.pdf").await;
    let (status, valid) = post(&app, &citizen, "/api/v1/documents", upload(new.clone(), "2041-04-10")).await;
    assert_eq!(status, StatusCode::CREATED, "{valid}");
    assert_eq!(valid["expired"], false);
    let card = valid["id"].as_i64().expect("id");
    let (_, offers) = get(
        &app,
        &citizen,
        &format!("/api/v1/documents/offers?procedure={}", common::LLTP),
    )
    .await;
    let offered: Vec<i64> = offers
        .as_array()
        .expect("offers")
        .iter()
        .flat_map(|o| o["documents"].as_array().expect("documents").iter())
        .map(|d| d["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(offered, [card], "{offers}");
    // A file is entered once; someone else's upload cannot be.
    let (status, _) = post(&app, &citizen, "/api/v1/documents", upload(new, "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let theirs = upload_pdf(&app, &counter, "cua-can-bo.pdf").await;
    let (status, _) = post(&app, &citizen, "/api/v1/documents", upload(theirs, "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The expired upload goes; nobody else can remove one.
    let expired_id = expired["id"].as_i64().expect("id");
    let (status, _) = common::api::delete(&app, &counter, &format!("/api/v1/documents/{expired_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = common::api::delete(&app, &citizen, &format!("/api/v1/documents/{expired_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The counter: a judicial record filed with the card taken from the store (with
    // consent), and another whose ID scan the officer checked against the original.
    let content = procedure_content(&app, common::LLTP).await;
    let id_row = content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .position(|d| d["name"].as_str().unwrap_or_default().contains("Căn cước"))
        .expect("the ID row");
    let mut body = common::intake::judicial_record_intake(&app).await;
    let docs = body["documents"].as_array_mut().expect("documents");
    docs.retain(|d| d["index"] != id_row);
    let mut reuse = body.clone();
    reuse["documents"]
        .as_array_mut()
        .expect("documents")
        .push(json!({"index": id_row, "stored": [card]}));
    reuse["store_consent"] = json!(true);
    let reused = file_dossier(&app, &counter, reuse).await;
    assert_eq!(reused["reused"][0]["document"], card);
    let scan = upload_pdf(&app, &counter, "cccd-quet.pdf").await;
    body["documents"].as_array_mut().expect("documents").push(json!({
        "index": id_row, "copies": 1, "files": [scan],
        "checked": {"original": "original", "number": CONGDAN_ID, "expires_on": "2041-04-10"}
    }));
    let checked = code_of(&file_dossier(&app, &counter, body).await);
    let mine = stores(&app, &citizen).await;
    let entered = mine[0]["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["source"] == "checked")
        .cloned()
        .unwrap_or_else(|| panic!("the checked scan entered the store: {mine:?}"));
    assert_eq!(entered["dossier"], checked.as_str());
    assert_eq!(entered["kind"], "cccd");
    assert_eq!(entered["checked"]["original"], "original");
    assert!(entered["checked"]["by"].as_str().expect("by").len() > 1);

    // The figures of the year per receiving agency: the certificate is not filed here,
    // so the centre received two dossiers, one reusing the card, one with a scan.
    let (status, _) = get(&app, &justice, "/api/v1/documents/figures?period=nam").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, f) = get(&app, &director, "/api/v1/documents/figures?period=nam").await;
    assert_eq!(status, StatusCode::OK, "{f}");
    let centre = f["centres"]
        .as_array()
        .expect("centres")
        .iter()
        .find(|c| c["agency"] == common::CENTRE)
        .cloned()
        .unwrap_or_else(|| panic!("the centre: {f}"));
    assert_eq!(centre["reused"], json!({"hits": 1, "of": 2, "permille": 500}), "{f}");
    assert_eq!(
        centre["received_digitised"],
        json!({"hits": 1, "of": 2, "permille": 500})
    );
    assert_eq!(f["total"]["reused"]["hits"], 1);
    assert_eq!(f["definitions"][2]["criterion"], "4.3");
    // The service index counts 4.3 the same way.
    let (status, index) = get(&app, &director, "/api/v1/service-index?period=nam").await;
    assert_eq!(status, StatusCode::OK, "{index}");
    let c43 = index["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["criteria"].as_array().expect("criteria").iter())
        .find(|c| c["criterion"]["code"] == "4.3")
        .cloned()
        .expect("4.3");
    assert_eq!(
        (c43["hits"].clone(), c43["of"].clone()),
        (f["total"]["reused"]["hits"].clone(), f["total"]["reused"]["of"].clone()),
        "{c43}"
    );
}

// ---------------------------------------------------------------------------------------
// Linking accounts at the counter, signature status, the result's details at finish, the
// kinds page.

/// A citizen account registered by phone (its login name the number, no citizen ID: as
/// `service::citizens::confirm` creates it), with the demo password; signed in.
async fn self_registered(app: &TestApp, phone: &str, name: &str) -> Session {
    let mut tx = app.test_db.db.begin_write().await.expect("begin");
    let (demo, hash) = motcua_store::accounts::user_by_username(&mut tx, "congdan")
        .await
        .expect("read")
        .expect("the demo citizen");
    assert_eq!(demo.citizen_id, CONGDAN_ID);
    let id = format!("self-{phone}");
    motcua_store::accounts::create_user(
        &mut tx,
        &motcua_store::accounts::NewUser {
            id: &id,
            province: None,
            kind: motcua_store::accounts::UserKind::Citizen,
            username: phone,
            display_name: name,
            email: "",
            phone,
            citizen_id: "",
            password_hash: &hash,
            must_change_password: false,
        },
        app.clock.now(),
    )
    .await
    .expect("account");
    tx.commit().await.expect("commit");
    sign_in(app, phone).await
}

/// Posts a page form (urlencoded, with `s`'s CSRF token) without following a redirect:
/// the status, where it redirects to, and the page.
async fn post_page(app: &TestApp, s: &Session, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
    let mut body = format!("csrf_token={}", url_encode(&s.csrf));
    for (k, v) in fields {
        body.push_str(&format!("&{}={}", url_encode(k), url_encode(v)));
    }
    let r = common::pages::browser()
        .post(app.url(path))
        .header("cookie", &s.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = r.status();
    let location = common::header(&r, "location").unwrap_or_default();
    (status, location, r.text().await.expect("page"))
}

#[tokio::test]
async fn an_officer_links_an_account_at_the_counter_and_its_citizen_then_sees_the_store() {
    let app = spawn_app_at(MONDAY).await;
    let code = issue_certificate(&app).await;
    let [counter, construction, admin, owner] =
        sign_in_each(&app, ["tiepnhan", "cv.xaydung", "quantri", "congdan"]).await;
    let phone_user = self_registered(&app, "0987654321", "Nguyễn Văn An").await;
    assert!(
        stores(&app, &phone_user).await.is_empty(),
        "a self-registered account opens no store"
    );

    // Only a counter officer links, and the account holder cannot link themselves.
    let request = json!({"id_number": CONGDAN_ID, "account": "0987654321"});
    for s in [&construction, &phone_user, &admin] {
        let (status, v) = post(&app, s, "/api/v1/documents/links", request.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    }
    assert!(stores(&app, &phone_user).await.is_empty());
    let (status, page) = page(&app, Some(&construction), "/quay/lien-ket-kho-giay-to").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");

    // At the counter, by the page form (no script): the number typed as people say it.
    let html = page_ok(&app, &counter, "/quay").await;
    assert!(html.contains(r#"href="/quay/lien-ket-kho-giay-to""#));
    let (status, _, html) = post_page(
        &app,
        &counter,
        "/quay/lien-ket-kho-giay-to",
        &[
            ("kind", "citizen"),
            ("id_number", "0581 9000 0123"),
            ("name", ""),
            ("account", "+84 987 654 321"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Đã liên kết tài khoản 0987654321 (Nguyễn Văn An) với kho giấy tờ của Nguyễn Văn An"),
        "{html}"
    );

    // The account now opens the store, with the result issued before the link.
    let mine = stores(&app, &phone_user).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["owner"]["id_number"], CONGDAN_ID);
    assert_eq!(mine[0]["documents"][0]["dossier"], code.as_str());
    let id = mine[0]["documents"][0]["id"].as_i64().expect("id");
    let (status, _, bytes) = download(&app, Some(&phone_user), &format!("/api/v1/documents/{id}/file")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PDF);
    let html = page_ok(&app, &phone_user, "/kho-giay-to").await;
    assert!(html.contains("chung-chi-hanh-nghe.pdf"), "{html}");

    // The owner sees which accounts are linked to their store.
    let theirs = stores(&app, &owner).await;
    let accounts = theirs[0]["accounts"].as_array().expect("accounts");
    assert_eq!(accounts.len(), 1, "{theirs:?}");
    assert_eq!(accounts[0]["username"], "0987654321");
    let html = page_ok(&app, &owner, "/kho-giay-to").await;
    assert!(html.contains("Tài khoản được liên kết với kho này"), "{html}");
    assert!(html.contains("Nguyễn Văn An (0987654321)"), "{html}");

    // The API: the same link again changes nothing; an unknown account, a malformed ID
    // number, and a new owner without a name are refused.
    let (status, v) = post(&app, &counter, "/api/v1/documents/links", request.clone()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["created"], false, "{v}");
    assert_eq!(v["account"]["username"], "0987654321");
    let (status, v) = post(
        &app,
        &counter,
        "/api/v1/documents/links",
        json!({"id_number": CONGDAN_ID, "account": "0900000009"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) = post(
        &app,
        &counter,
        "/api/v1/documents/links",
        json!({"id_number": "12345", "account": "0987654321"}),
    )
    .await;
    assert!(status.is_client_error(), "{status} {v}");
    let (status, v) = post(
        &app,
        &counter,
        "/api/v1/documents/links",
        json!({"kind": "organisation", "id_number": "4500123456", "account": "0987654321"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "name", "{v}");
    // An organisation's store, new, linked with its name: the account opens both.
    let (status, v) = post(
        &app,
        &counter,
        "/api/v1/documents/links",
        json!({"kind": "organisation", "id_number": "4500123456", "name": "Công ty TNHH An Phát",
               "account": "0987654321"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["created"], true);
    let names: Vec<String> = stores(&app, &phone_user)
        .await
        .iter()
        .map(|s| s["owner"]["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["Nguyễn Văn An", "Công ty TNHH An Phát"]);

    // Every link is in the audit trail, by the officer, against the owner.
    let (status, trail) = get(&app, &admin, "/api/v1/admin/audit?action=documents.link&limit=50").await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    let items = trail["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{trail}");
    assert!(
        items.iter().all(|e| e["object_type"] == "document_owner"
            && e["actor_name"].as_str().unwrap_or_default().contains("tiepnhan")),
        "{trail}"
    );
}

#[tokio::test]
async fn finish_stores_the_results_kind_number_and_expiry_and_refuses_a_bad_expiry() {
    let app = spawn_app_at(MONDAY).await;
    let [counter, leader] = sign_in_each(&app, ["tiepnhan", "ld.xaydung"]).await;
    let citizen = sign_in(&app, "congdan").await;
    let procedure = certificate_procedure(&app).await;
    let body = counter_intake(&app, &procedure, Reach::Phone).await;
    let code = code_of(&file_dossier(&app, &counter, body).await);
    act_ok(&app, &counter, &code, "transfer", json!({})).await;

    // The desk's finish form asks for them.
    let html = page_ok(&app, &leader, &format!("/ho-so/{code}")).await;
    for field in [
        r#"name="result_kind""#,
        r#"name="result_number""#,
        r#"name="result_expires_on""#,
    ] {
        assert!(html.contains(field), "{field}");
    }
    assert!(
        html.contains(r#"<option value="chung-chi-hanh-nghe">"#),
        "the province's kinds"
    );

    let result = upload_pdf(&app, &leader, "chung-chi.pdf").await;
    let finish_with = |extra: Value| {
        let mut body = json!({"result_files": [result.clone()], "note": "Đã ký"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        common::api::act(&app, &leader, &code, "finish", body)
    };
    // The day before the finish, a date not in `YYYY-MM-DD`, a kind not in the list.
    for (extra, field) in [
        (json!({"result_expires_on": "2026-11-01"}), "result_expires_on"),
        (json!({"result_expires_on": "02/11/2031"}), "result_expires_on"),
        (json!({"result_kind": "khong-co"}), "result_kind"),
    ] {
        let (status, v) = finish_with(extra.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}: {v}");
        assert_eq!(v["field"], field, "{v}");
    }
    assert!(
        stores(&app, &citizen).await[0]["documents"]
            .as_array()
            .expect("documents")
            .is_empty(),
        "a refused finish stores nothing"
    );

    let (status, v) = finish_with(json!({
        "result_kind": "chung-chi-hanh-nghe",
        "result_number": "123/CCHN-SXD",
        "result_expires_on": "2031-11-02",
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let doc = &stores(&app, &citizen).await[0]["documents"][0];
    assert_eq!(doc["source"], "result");
    assert_eq!(doc["kind"], "chung-chi-hanh-nghe");
    assert_eq!(doc["number"], "123/CCHN-SXD");
    assert_eq!(doc["issued_on"], "2026-11-02");
    assert_eq!(doc["expires_on"], "2031-11-02");
    assert_eq!(doc["valid_until"], "2031-11-02");
    assert_eq!(doc["expired"], false);
}

#[tokio::test]
async fn the_kinds_page_saves_a_list() {
    let app = spawn_app_at(MONDAY).await;
    let [admin, counter] = sign_in_each(&app, ["quantri", "tiepnhan"]).await;
    let html = page_ok(&app, &admin, "/quan-tri").await;
    assert!(html.contains(r#"href="/quan-tri/loai-giay-to""#));
    let html = page_ok(&app, &admin, "/quan-tri/loai-giay-to").await;
    assert!(html.contains(r#"name="kinds.0.code" value="cccd""#), "{html}");
    let (status, _) = page(&app, Some(&counter), "/quan-tri/loai-giay-to").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let table = [
        ("rows", "3"),
        ("kinds.0.code", "cccd"),
        ("kinds.0.name", "Căn cước"),
        ("kinds.0.phrases", "căn cước\r\nchứng minh nhân dân"),
        ("kinds.0.validity_months", ""),
        ("kinds.1.code", "ho-chieu"),
        ("kinds.1.name", "Hộ chiếu"),
        ("kinds.1.phrases", "hộ chiếu"),
        ("kinds.1.remove", "1"),
        ("kinds.2.code", "giay-phep-lai-xe"),
        ("kinds.2.name", "Giấy phép lái xe"),
        ("kinds.2.phrases", "giấy phép lái xe"),
        ("kinds.2.validity_months", "120"),
    ];
    // «Thêm dòng trống»: the table again with what was typed and one more row; nothing saved.
    let (status, _, html) = post_page(
        &app,
        &admin,
        "/quan-tri/loai-giay-to",
        &[&table[..], &[("action", "add")]].concat(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains(r#"name="kinds.1.code" value="giay-phep-lai-xe""#),
        "{html}"
    );
    assert!(
        html.contains(r#"name="kinds.4.code""#),
        "two kept, one added, two blank: {html}"
    );
    let (_, kinds) = get(&app, &admin, "/api/v1/documents/kinds").await;
    assert!(kinds.as_array().expect("kinds").len() > 2, "not saved yet");

    // A validity that is not a number, and a bad code: refused, the table kept.
    let mut bad = table.to_vec();
    bad[12] = ("kinds.2.validity_months", "mười");
    let (status, _, html) = post_page(&app, &admin, "/quan-tri/loai-giay-to", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("thời hạn hiệu lực phải là số tháng"), "{html}");
    let mut bad = table.to_vec();
    bad[1] = ("kinds.0.code", "CCCD!");
    let (status, _, html) = post_page(&app, &admin, "/quan-tri/loai-giay-to", &bad).await;
    assert!(status.is_client_error(), "{status}");
    assert!(html.contains(r#"value="CCCD!""#), "{html}");

    // Saved: the removed row gone, the new one in, phrases one per line.
    let (status, location, _) = post_page(
        &app,
        &admin,
        "/quan-tri/loai-giay-to",
        &[&table[..], &[("action", "save")]].concat(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/quan-tri/loai-giay-to?da=luu");
    let (_, kinds) = get(&app, &admin, "/api/v1/documents/kinds").await;
    assert_eq!(
        kinds,
        json!([
            {"code": "cccd", "name": "Căn cước", "phrases": ["căn cước", "chứng minh nhân dân"], "validity_months": null},
            {"code": "giay-phep-lai-xe", "name": "Giấy phép lái xe", "phrases": ["giấy phép lái xe"], "validity_months": 120},
        ])
    );
    let html = page_ok(&app, &admin, "/quan-tri/loai-giay-to?da=luu").await;
    assert!(html.contains("Đã lưu danh mục loại giấy tờ."));
    let (_, trail) = get(&app, &admin, "/api/v1/admin/audit?action=document_kinds.update").await;
    assert_eq!(trail["items"].as_array().expect("items").len(), 1, "{trail}");
}

const SIGNING_CHILD: &str = "MOTCUA_DOCUMENTS_SIGNING_TEST_DIR";
const SIGNING_PIN_ENV: &str = "MOTCUA_TEST_CENTRE_PIN";

/// Runs the test named `name` again as a child with a SoftHSM2 token's environment (as
/// tests/signatures.rs does: SoftHSM2 reads `SOFTHSM2_CONF` when it starts); `Some(dir)` in
/// the child (where the test PKI is), `None` in the parent once the child passed.
fn in_signing_child(name: &str) -> Option<std::path::PathBuf> {
    common::signing::in_child(name, SIGNING_CHILD, SIGNING_PIN_ENV)
}

#[tokio::test]
async fn a_signed_result_is_stored_as_valid_and_an_unsigned_upload_as_unsigned() {
    let Some(dir) = in_signing_child("a_signed_result_is_stored_as_valid_and_an_unsigned_upload_as_unsigned") else {
        return;
    };
    let pki = motcua_sign::testing::Pki::load(&dir);
    pki.put_certificate_on_token(&pki.agency)
        .expect("certificate on the token");
    let anchors = pki.anchors.clone();
    // The centre signs what it issues (its key in the token); the test CA is trusted.
    let app = common::spawn_app_at_with(MONDAY, move |c| {
        c.signing_keys = vec![motcua_server::config::SigningKey {
            agency: common::CENTRE.to_owned(),
            user: String::new(),
            module: std::path::PathBuf::from(motcua_sign::testing::SOFTHSM_MODULE),
            token_label: motcua_sign::testing::TOKEN_LABEL.to_owned(),
            slot: None,
            key_label: "agency".to_owned(),
            pin_env: SIGNING_PIN_ENV.to_owned(),
            certificate_file: std::path::PathBuf::new(),
        }];
        c.trust_anchors_dir = anchors;
    })
    .await;
    let [counter, leader] = sign_in_each(&app, ["tiepnhan", "ld.xaydung"]).await;
    let citizen = sign_in(&app, "congdan").await;

    // A document the server signed: the receipt of a first dossier.
    let procedure = certificate_procedure(&app).await;
    let body = counter_intake(&app, &procedure, Reach::Phone).await;
    let first = code_of(&file_dossier(&app, &counter, body).await);
    common::files::issued_forms(&app, &first, "receipt", |r| r.kind == "receipt").await;
    let (status, _, signed) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{first}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        motcua_sign::verify_pdf(&signed, &pki.trust_anchors().expect("anchors"), app.clock.now()).len(),
        1,
        "signed by the centre"
    );

    // The department finishes with that signed PDF as the result.
    act_ok(&app, &counter, &first, "transfer", json!({})).await;
    let (status, up) = common::files::upload(&app, &leader, "ket-qua-da-ky.pdf", &signed).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let result = up["id"].as_str().expect("id").to_owned();
    act_ok(
        &app,
        &leader,
        &first,
        "finish",
        json!({"result_files": [result], "note": "Đã ký"}),
    )
    .await;

    // The owner uploads an unsigned PDF of their own.
    let (status, up) = common::files::upload(&app, &citizen, "so-ho-khau.pdf", PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{up}");
    let (status, v) = post(
        &app,
        &citizen,
        "/api/v1/documents",
        json!({"file": up["id"], "kind": "cccd", "title": "Căn cước công dân"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["signature"]["verdict"], "unsigned", "{v}");

    let docs = stores(&app, &citizen).await[0]["documents"].clone();
    let docs = docs.as_array().expect("documents");
    let result = docs.iter().find(|d| d["source"] == "result").expect("the result");
    let sig = &result["signature"];
    assert_eq!(sig["verdict"], "valid", "{result}");
    assert_eq!(
        sig["signer"], "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
        "{sig}"
    );
    assert!(
        sig["signed_at"].as_str().is_some_and(|t| t.starts_with("2026-11-0")),
        "{sig}"
    );
    assert!(sig["text"].as_str().expect("text").starts_with("✓ Đã ký bởi"), "{sig}");
    let upload = docs.iter().find(|d| d["source"] == "upload").expect("the upload");
    assert_eq!(upload["signature"]["verdict"], "unsigned", "{upload}");
    assert_eq!(upload["signature"]["signer"], Value::Null);

    // The page says so too.
    let html = page_ok(&app, &citizen, "/kho-giay-to").await;
    assert!(
        html.contains(r#"data-verdict="valid">Có chữ ký số hợp lệ</span>"#),
        "{html}"
    );
    assert!(html.contains(r#"data-verdict="unsigned">Không có chữ ký số</span>"#));

    // Reused in a next dossier: the dossier's page shows the stored document's status.
    let (renewal, row) = renewal_procedure(&app).await;
    let content = procedure_content(&app, &renewal).await;
    let mut files = Vec::new();
    for (i, d) in content["documents"].as_array().expect("documents").iter().enumerate() {
        if d["required"] == true && i != row {
            files.push((i, upload_pdf(&app, &citizen, &format!("giay-to-{i}.pdf")).await));
        }
    }
    let mut body = filing_body(&renewal, &content, &files);
    body["documents"][row]["stored"] = json!([result["id"]]);
    let second = code_of(&file_dossier(&app, &citizen, body).await);
    for (s, path) in [
        (&counter, format!("/ho-so/{second}")),
        (&citizen, format!("/ca-nhan/ho-so/{second}")),
    ] {
        let html = page_ok(&app, s, &path).await;
        assert!(
            html.contains(r#"<span class="signature" data-verdict="valid">Có chữ ký số hợp lệ</span>"#),
            "{path}: {html}"
        );
    }
}
