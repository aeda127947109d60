//! Filing through an authorised person (người được ủy quyền, docs/rules.md §3): the dossier
//! keeps the owner and the submitter, the authorisation is a required document, and the
//! receipt names both; at the counter and online (the form without JavaScript: nojs_forms.rs).

mod common;

use common::api::{get, post, procedure_content};
use common::files::{download, pdf_text, upload_pdf};
use common::intake::{Reach, applicant, counter_intake, file_dossier};
use common::{LLTP, sign_in, sign_in_each, spawn_app_at};
use reqwest::StatusCode;
use serde_json::json;
use time::macros::datetime;

fn submitter() -> serde_json::Value {
    json!({"name": "Trần Thị Bình", "id_number": "058190000456", "phone": "0987654321"})
}

#[tokio::test]
async fn the_counter_receives_a_dossier_from_an_authorised_person() {
    let app = spawn_app_at(datetime!(2026-12-01 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let mut body = counter_intake(&app, LLTP, Reach::PhoneAndEmail).await;

    // Without the authorisation: refused, naming the field.
    body["submitter"] = submitter();
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "submitter.authorisation", "{e}");
    // The applicant cannot be their own authorised person.
    body["submitter"] = json!({"name": "Nguyễn Văn An", "id_number": "058190000123",
        "authorisation": {"originals": 1}});
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "submitter.id_number", "{e}");
    // A bad ID is named as the submitter's.
    body["submitter"] = json!({"name": "Trần Thị Bình", "id_number": "12", "authorisation": {"originals": 1}});
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "submitter.id_number", "{e}");

    let mut s = submitter();
    s["authorisation"] = json!({"originals": 1});
    body["submitter"] = s;
    let v = file_dossier(&app, &counter, body).await;
    assert_eq!(v["applicant"]["name"], "Nguyễn Văn An");
    assert_eq!(v["submitter"]["name"], "Trần Thị Bình");
    assert_eq!(v["submitter"]["kind"], "citizen");
    let authorisation = v["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["name"] == "Văn bản ủy quyền")
        .expect("the authorisation is among the documents")
        .clone();
    assert_eq!(authorisation["originals"], 1);

    // The receipt names both, and lists the authorisation.
    let code = v["code"].as_str().expect("code");
    let (status, _, pdf) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    let text = pdf_text(&pdf);
    for expected in [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "được ủy quyền",
        "Văn bản ủy quyền",
        "058190000456",
    ] {
        assert!(text.contains(expected), "{expected} missing from the receipt: {text}");
    }
}

#[tokio::test]
async fn online_an_authorised_person_uploads_the_authorisation() {
    let app = spawn_app_at(datetime!(2026-12-01 09:00 +07:00)).await;
    let [citizen, counter] = sign_in_each(&app, ["congdan", "tiepnhan"]).await;
    let content = procedure_content(&app, LLTP).await;
    let form = upload_pdf(&app, &citizen, "to-khai.pdf").await;
    let id = upload_pdf(&app, &citizen, "cccd.pdf").await;
    let mut body = json!({"procedure": LLTP, "applicant": applicant(&content, Reach::PhoneAndEmail),
        "documents": [{"index": 0, "files": [form]}, {"index": 1, "files": [id]}],
        "submitter": {"name": "Trần Thị Bình", "id_number": "058190000456", "authorisation": {"originals": 1}}});
    // Online, counting an original is not enough: the scan is uploaded.
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "submitter.authorisation", "{e}");
    let scan = upload_pdf(&app, &citizen, "uy-quyen.pdf").await;
    body["submitter"]["authorisation"] = json!({"files": [scan]});
    let (status, v) = post(&app, &citizen, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["submitter"]["name"], "Trần Thị Bình");
    assert_eq!(v["files"].as_array().expect("files").len(), 3);
    // The counter sees both people.
    let code = v["code"].as_str().expect("code");
    let (_, seen) = get(&app, &counter, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!(seen["submitter"]["id_number"], "058190000456");
}
