//! Digital signatures in the product (issue 22), on the backend the test run selects: a
//! centre whose key is in a SoftHSM2 token signs the receipt it issues (after the intake's
//! write, in the form queue); pyHanko and poppler's `pdfsig` accept the signature; the
//! public check page `/xac-thuc` and `POST /api/v1/verify` say the file is motcua's and
//! signed by the centre, a file changed by one byte altered, and one signed under an unknown
//! CA of an unknown issuer; a dossier code with its secret lists its signed documents.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when it starts and the server reads the PIN from its
//! environment: the test makes the PKI and token, then runs itself as a child with both
//! set (a process cannot safely change its own environment).

mod common;

use std::path::{Path, PathBuf};

use common::api::code_of;
use common::files::{download, issued_forms, upload};
use common::intake::{Reach, counter_intake, file_at_counter, file_dossier};
use common::pages::{browser, page_ok};
use common::signing::{pdfsig, pyhanko_sign, pyhanko_validate, screenshot_pdf, verify_api, verify_page};
use common::{CENTRE, LLTP, sign_in, spawn_app_at_with};
use motcua_server::config::SigningKey;
use motcua_sign::testing::{Pki, SOFTHSM_MODULE, TOKEN_LABEL};
use reqwest::StatusCode;
use serde_json::Value;
use time::macros::datetime;

const CHILD: &str = "MOTCUA_SIGNATURES_TEST_DIR";
const PIN_ENV: &str = "MOTCUA_TEST_CENTRE_PIN";

/// Runs the test named `name` again as a child with the token's environment; `Some(dir)`
/// in the child (where the PKI is), `None` in the parent once the child passed.
fn in_child(name: &str) -> Option<PathBuf> {
    common::signing::in_child(name, CHILD, PIN_ENV)
}

/// With `MOTCUA_SIGNATURE_SCREENSHOTS=<dir>`, saves `html` (a page of `app`) as
/// `<dir>/<name>.png`, drawn by Debian's chromium with the app's own stylesheet: how the
/// pages in docs/screenshots/ are made. Chromium runs off the runtime, which serves it the
/// stylesheet meanwhile.
async fn screenshot_page(app: &common::TestApp, html: &str, name: &str) {
    let Some(dir) = std::env::var_os("MOTCUA_SIGNATURE_SCREENSHOTS") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let page = tmp.path().join("page.html");
    let based = html.replacen("<head>", &format!("<head><base href=\"{}/\">", app.base), 1);
    std::fs::write(&page, based).expect("write");
    let shot = Path::new(&dir).join(format!("{name}.png"));
    let mut chromium = tokio::process::Command::new("chromium");
    chromium
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,1300",
        ])
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let status = tokio::time::timeout(std::time::Duration::from_secs(120), chromium.status())
        .await
        .expect("chromium draws the page within two minutes")
        .expect("chromium");
    assert!(status.success());
}

#[tokio::test]
async fn the_centre_signs_its_receipts_and_anyone_can_check_them() {
    let Some(dir) = in_child("the_centre_signs_its_receipts_and_anyone_can_check_them") else {
        return;
    };
    let pki = Pki::load(&dir);
    pki.put_certificate_on_token(&pki.agency)
        .expect("certificate on the token");
    let anchors = pki.anchors.clone();
    let app = spawn_app_at_with(datetime!(2026-02-13 09:00 +07:00), move |c| {
        c.signing_keys = vec![SigningKey {
            agency: CENTRE.to_owned(),
            user: String::new(),
            module: PathBuf::from(SOFTHSM_MODULE),
            token_label: TOKEN_LABEL.to_owned(),
            slot: None,
            key_label: "agency".to_owned(),
            pin_env: PIN_ENV.to_owned(),
            certificate_file: PathBuf::new(),
        }];
        c.trust_anchors_dir = anchors;
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;
    let filed = file_at_counter(&app, &counter, LLTP).await;
    let code = code_of(&filed);
    let secret = filed["tracking_secret"].as_str().expect("secret").to_owned();

    // Issued in the background after the intake committed, signed, and recorded with the
    // hash of the signed file.
    let rows = issued_forms(&app, &code, "receipt", |r| r.kind == "receipt").await;
    let record = rows.iter().find(|r| r.kind == "receipt").expect("receipt");
    let (status, _, pdf) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        motcua_sign::fingerprint(&pdf),
        record.sha256,
        "the download is the stored, signed copy"
    );
    let (_, _, again) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(again, pdf, "downloaded again: the same signed bytes");

    screenshot_pdf(&pdf, "form-receipt-signed");

    // Tools we did not write.
    let (ok, text) = pyhanko_validate(&dir, &pdf, &pki.ca);
    assert!(ok, "pyHanko rejects the signed receipt:\n{text}");
    for said in [
        "The signature is cryptographically sound.",
        "The signer's certificate is trusted.",
        "The signature covers the entire file.",
        "The signature is judged VALID.",
        "Common Name: Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
    ] {
        assert!(text.contains(said), "pyHanko does not say {said:?}:\n{text}");
    }
    let listing = pdfsig(&dir, &pdf);
    assert!(listing.contains("Signature #1"), "{listing}");
    assert!(listing.contains("ETSI.CAdES.detached"), "{listing}");
    assert!(listing.contains("Total document signed"), "{listing}");

    // The check API: motcua's own document, signed by the centre.
    let v = verify_api(&app, &pdf).await;
    assert_eq!(v["issued"][0]["dossier"], code.as_str(), "{v}");
    assert_eq!(v["issued"][0]["kind"], "receipt", "{v}");
    let sig = &v["signatures"][0];
    assert_eq!(sig["verdict"], "valid", "{v}");
    assert_eq!(sig["signer"], "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận");
    assert_eq!(sig["organisation"], "UBND tỉnh Ninh Thuận");
    assert_eq!(sig["revocation"], "not_checked");
    assert!(
        sig["summary"].as_str().is_some_and(|s| s.starts_with(
            "Đã ký bởi Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận của UBND tỉnh Ninh Thuận ngày 13/02/2026"
        )),
        "{sig}"
    );

    // One byte changed where the signature covers it: altered, and no longer motcua's file.
    let mut tampered = pdf.clone();
    // The document information's creator, `motcua`, becomes `notcua`.
    let at = tampered
        .windows(16)
        .position(|w| w == b"/Creator(motcua)")
        .expect("the creator is written as text")
        + 9;
    tampered[at] = b'n';
    let v = verify_api(&app, &tampered).await;
    assert_eq!(v["signatures"][0]["verdict"], "altered", "{v}");
    assert_eq!(v["issued"], Value::Array(Vec::new()));
    let (ok, text) = pyhanko_validate(&dir, &tampered, &pki.ca);
    assert!(
        !ok && text.contains("The signature is cryptographically unsound."),
        "{text}"
    );

    // The public page, without any script: the same answers in words.
    let (status, page) = verify_page(&app, "bien-nhan.pdf", &pdf).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("Văn bản do motcua cấp: Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
        "{page}"
    );
    assert!(page.contains("data-verdict=\"valid\""), "{page}");
    assert!(page.contains("Đã ký bởi Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận của UBND tỉnh Ninh Thuận"));
    screenshot_page(&app, &page, "web-verify-file").await;
    let (_, page) = verify_page(&app, "da-sua.pdf", &tampered).await;
    assert!(page.contains("✗</span> Đã bị sửa sau khi ký."), "{page}");

    // Signed by a CA nobody configured: intact, but of an unknown issuer.
    let unsigned = {
        let n = pdf
            .windows(5)
            .position(|w| w == b"%%EOF")
            .expect("the first revision ends");
        pdf[..n + 6].to_vec()
    };
    let by_stranger = pyhanko_sign(&dir, &unsigned, &pki.stranger);
    let v = verify_api(&app, &by_stranger).await;
    assert_eq!(v["signatures"][0]["verdict"], "unknown_issuer", "{v}");
    let (_, page) = verify_page(&app, "la.pdf", &by_stranger).await;
    assert!(
        page.contains("?</span> Không rõ tổ chức cấp chứng thư số của Người lạ"),
        "{page}"
    );
    // And by the agency's key under the test CA, with pyHanko: valid in ours.
    let by_agency = pyhanko_sign(&dir, &unsigned, &pki.agency);
    let v = verify_api(&app, &by_agency).await;
    assert_eq!(v["signatures"][0]["verdict"], "valid", "{v}");

    // Files handed in with a dossier: the staff's dossier page says what their signatures say.
    let mut ids = Vec::new();
    for (name, bytes) in [
        ("ket-qua-hop-le.pdf", &by_agency),
        ("ban-da-sua.pdf", &tampered),
        ("ky-boi-nguoi-la.pdf", &by_stranger),
        ("chua-ky.pdf", &unsigned),
    ] {
        let (status, v) = upload(&app, &counter, name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    let mut body = counter_intake(&app, LLTP, Reach::Phone).await;
    body["documents"][0]["files"] = serde_json::json!(ids);
    let with_files = code_of(&file_dossier(&app, &counter, body).await);
    let page = page_ok(&app, &counter, &format!("/ho-so/{with_files}")).await;
    for expected in [
        "data-verdict=\"valid\">✓ Đã ký bởi Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận của UBND tỉnh Ninh Thuận ngày ",
        "data-verdict=\"altered\">✗ Đã bị sửa sau khi ký.",
        "data-verdict=\"unknown_issuer\">? Không rõ tổ chức cấp chứng thư số của Người lạ của Tổ chức không rõ.",
        "data-verdict=\"unsigned\">Không có chữ ký số.",
    ] {
        assert!(
            page.contains(expected),
            "«{expected}» missing from the dossier page:\n{page}"
        );
    }
    screenshot_page(&app, &page, "web-dossier-signatures").await;

    // Not a PDF: said so on the page.
    let (status, page) = verify_page(&app, "anh.png", b"\x89PNG\r\n\x1a\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("không phải là tệp PDF"), "{page}");

    // By code and secret: the dossier's documents and their signatures.
    let (status, v) = {
        let r = browser()
            .get(app.url(&format!("/api/v1/verify/{code}?secret={secret}")))
            .send()
            .await
            .expect("by code");
        (r.status(), r.json::<Value>().await.expect("json"))
    };
    assert_eq!(status, StatusCode::OK, "{v}");
    let receipt = v["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["kind"] == "receipt")
        .expect("the receipt");
    assert_eq!(receipt["sha256"], record.sha256.as_str());
    assert_eq!(receipt["signatures"][0]["verdict"], "valid");
    let r = browser()
        .get(app.url(&format!("/api/v1/verify/{code}?secret=WRONG000")))
        .send()
        .await
        .expect("by code");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = browser()
        .post(app.url("/xac-thuc/ma-ho-so"))
        .form(&[("code", code.as_str()), ("secret", secret.as_str())])
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("text");
    assert!(page.contains("Văn bản đã cấp của hồ sơ"), "{page}");
    assert!(page.contains("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"), "{page}");
    assert!(page.contains(&record.sha256), "{page}");
    screenshot_page(&app, &page, "web-verify-code").await;
}

#[tokio::test]
async fn without_a_key_forms_are_issued_unsigned_and_the_check_page_still_answers() {
    let app = common::spawn_app_at(datetime!(2026-02-13 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let filed = file_at_counter(&app, &counter, LLTP).await;
    let code = code_of(&filed);
    issued_forms(&app, &code, "receipt", |r| r.kind == "receipt").await;
    let (status, _, pdf) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        motcua_sign::verify_pdf(
            &pdf,
            &motcua_sign::TrustAnchors::default(),
            time::OffsetDateTime::now_utc()
        )
        .is_empty()
    );
    let v = verify_api(&app, &pdf).await;
    assert_eq!(v["issued"][0]["dossier"], code.as_str(), "{v}");
    assert_eq!(v["signatures"], Value::Array(Vec::new()));
    let (status, page) = verify_page(&app, "bien-nhan.pdf", &pdf).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Tệp không có chữ ký số."), "{page}");
    let r = browser().get(app.url("/xac-thuc")).send().await.expect("page");
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("text");
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
}
