//! Files: uploads (scans, result documents), downloads, the forms issued for a dossier,
//! and the text of a PDF.

use motcua_store::forms::FormRecord;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::pages::browser;
use super::{Session, TestApp};

/// A minimal but real PDF.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Uploads `bytes` as file `name` for `s`: the raw answer, for a test that reads its headers.
pub async fn send_upload(app: &TestApp, s: &Session, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/uploads?name={name}")))
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

/// Uploads `bytes` as file `name` for `s`: status and body.
pub async fn upload(app: &TestApp, s: &Session, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let r = send_upload(app, s, name, bytes.to_vec()).await;
    let status = r.status();
    (status, r.json().await.expect("json"))
}

/// Uploads [`PDF`] as file `name` for `s` (201): the upload's id, to attach to a dossier.
pub async fn upload_pdf(app: &TestApp, s: &Session, name: &str) -> String {
    let (status, v) = upload(app, s, name, PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

/// Downloads `path` as `s` (anonymous with `None`), not following redirects: status,
/// headers and bytes.
pub async fn download(app: &TestApp, s: Option<&Session>, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = browser().get(app.url(path));
    if let Some(s) = s {
        req = req.header("cookie", &s.cookie);
    }
    let r = req.send().await.expect("download");
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.expect("bytes").to_vec())
}

/// The text of a PDF (`pdftotext`, poppler-utils) on single spaces: lines wrap where the
/// layout wraps them.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils, see scripts/deps.sh)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The forms issued for dossier `code` as the store records them, once one satisfies
/// `issued` (issuing runs in the background after a transition; polled for 20 s at most,
/// then a panic naming `what`).
pub async fn issued_forms(
    app: &TestApp,
    code: &str,
    what: &str,
    issued: impl Fn(&FormRecord) -> bool,
) -> Vec<FormRecord> {
    let dossier_code = motcua_core::dossier::DossierCode::parse(code).expect("code");
    for _ in 0..200 {
        let mut tx = app.test_db.db.begin_read().await.expect("read");
        let stored = motcua_store::dossiers::by_code(&mut tx, &dossier_code)
            .await
            .expect("by code")
            .expect("dossier");
        let rows = motcua_store::forms::of_dossier(&mut tx, stored.id)
            .await
            .expect("forms");
        drop(tx);
        if rows.iter().any(&issued) {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{code}: {what} was never issued");
}
