//! Official documents through the API, on the backend the test run selects: each form's
//! PDF text (read back with `pdftotext`) against the dossier, the receipt's QR code
//! (read back from the rendered page with a real decoder) opening public tracking with
//! its second factor, issuing at the transition and storing with a hash, visibility, the
//! register, and the XLSX exports read back with calamine.

mod common;

use std::process::Command;

use common::api::{act_ok, code_of, get, post, procedure_content, procedure_of, put};
use common::files::{download, issued_forms, pdf_text};
use common::intake::{Reach, applicant, file_dossier, finish};
use common::pages::{browser, page_ok};
use common::{CENTRE, CONSTRUCTION, JUSTICE, LLTP, Session, TestApp, at, header, sign_in, sign_in_each, spawn_app_at};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::macros::datetime;

/// Files a dossier at the counter with every document of the checklist, the applicant's
/// name typed in decomposed Unicode (NFD), as some keyboards send it.
async fn file(app: &TestApp, counter: &Session, procedure_code: &str, accept: bool) -> Value {
    let content = procedure_content(app, procedure_code).await;
    let documents: Vec<Value> = content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"index": i, "originals": d["originals"], "copies": d["copies"]}))
        .collect();
    let applicant = if content["applicants"][0] == "organisation" {
        applicant(&content, Reach::Phone)
    } else {
        json!({"kind": "citizen", "name": "Nguye\u{302}\u{303}n Thi\u{323} Hoa\u{300}", "id_number": "058190000123",
               "phone": "0912345678", "email": "hoa@example.vn", "address": "12 Lê Lợi, Phan Rang - Tháp Chàm"})
    };
    let body = json!({"procedure": procedure_code, "applicant": applicant, "documents": documents, "accept": accept});
    file_dossier(app, counter, body).await
}

/// A form's PDF, checked to be one and shown inline for printing.
async fn form_pdf(app: &TestApp, s: &Session, code: &str, kind: &str) -> Vec<u8> {
    let (status, headers, body) = download(app, Some(s), &format!("/api/v1/dossiers/{code}/forms/{kind}.pdf")).await;
    assert_eq!(status, StatusCode::OK, "{kind}: {}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "application/pdf");
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(disposition.starts_with("inline"), "{disposition}");
    assert!(body.starts_with(b"%PDF-"), "{kind}");
    screenshot(&format!("form-{kind}"), &body);
    body
}

/// With `MOTCUA_FORMS_SCREENSHOTS=<dir>`, saves the first page as `<dir>/<name>.png`
/// (80 dpi), which is how docs/screenshots/ is made from the demo data.
fn screenshot(name: &str, pdf: &[u8]) {
    let Some(dir) = std::env::var_os("MOTCUA_FORMS_SCREENSHOTS") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(std::path::Path::new(&dir).join(name))
        .status()
        .expect("pdftoppm");
    assert!(status.success());
}

/// The number of pages of a PDF, as poppler's `pdfinfo` reads it.
fn pdf_pages(pdf: &[u8]) -> u32 {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo (poppler-utils)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count")
}

/// Renders the first page as a greyscale image (`pdftoppm`) and decodes every QR code on it.
fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm (poppler-utils, see scripts/deps.sh)");
    assert!(status.success());
    let pgm = std::fs::read(dir.path().join("page.pgm")).expect("pgm");
    let (width, height, pixels) = parse_pgm(&pgm);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .map(|g| g.decode().expect("decodes").1)
        .collect()
}

/// A binary PGM (P5, 8-bit): width, height, pixels.
fn parse_pgm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut i = 2;
    assert_eq!(&bytes[..2], b"P5");
    while fields.len() < 3 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(
            std::str::from_utf8(&bytes[start..i])
                .expect("ascii")
                .parse::<usize>()
                .expect("number"),
        );
    }
    assert_eq!(fields[2], 255, "8-bit greyscale");
    (fields[0], fields[1], &bytes[i + 1..])
}

/// The rows recorded for a dossier's issued forms: (kind, ordinal, sha256), polled until
/// `wanted` is among them (issuing runs in the background after the transition).
async fn recorded(app: &TestApp, code: &str, wanted: (&str, i64)) -> Vec<(String, i64, String)> {
    let (kind, ordinal) = wanted;
    issued_forms(app, code, &format!("{wanted:?}"), |r| {
        r.kind == kind && r.ordinal == ordinal
    })
    .await
    .into_iter()
    .map(|r| (r.kind, r.ordinal, r.sha256))
    .collect()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn the_receipt_prints_the_dossier_and_its_qr_code_opens_tracking() {
    let app = spawn_app_at(datetime!(2026-02-13 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let filed = file(&app, &counter, LLTP, true).await;
    let code = code_of(&filed);
    let secret = filed["tracking_secret"].as_str().expect("secret").to_owned();

    // Issued at acceptance, in the background, and recorded with its hash.
    let rows = recorded(&app, &code, ("receipt", 1)).await;
    let pdf = form_pdf(&app, &counter, &code, "receipt").await;
    let stored_hash = &rows.iter().find(|r| r.0 == "receipt").expect("receipt").2;
    assert_eq!(&sha256(&pdf), stored_hash, "the download is the stored copy");
    assert_eq!(
        form_pdf(&app, &counter, &code, "receipt").await,
        pdf,
        "re-downloadable, same bytes"
    );

    let text = pdf_text(&pdf);
    for expected in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mẫu số 01",
        code.as_str(),
        "Nguyễn Thị Hoà",
        "058190000123",
        "0912345678",
        "Cấp Phiếu lý lịch tư pháp",
        "10 ngày làm việc",
        // Received Friday 13 Feb 2026 09:00; Tết closes 16–20 Feb.
        "09 giờ 00 phút, ngày 13 tháng 02 năm 2026",
        "09 giờ 00 phút, ngày 06 tháng 03 năm 2026",
        "Trả kết quả tại Bộ phận Một cửa",
        "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
        "Ninh Thuận, ngày 13 tháng 02 năm 2026",
        secret.as_str(),
    ] {
        assert!(
            text.contains(expected),
            "«{expected}» missing from the receipt:\n{text}"
        );
    }
    assert!(!text.contains('\u{302}'), "NFC, not the NFD that was typed");
    // Every document received, with its counts; every fee with its amount.
    let dossier = {
        let (_, v) = get(&app, &counter, &format!("/api/v1/dossiers/{code}")).await;
        v
    };
    for d in dossier["documents"].as_array().expect("documents") {
        let name = d["name"].as_str().expect("name");
        let first_words: String = name.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
        assert!(text.contains(&first_words), "document «{name}» missing:\n{text}");
    }
    for f in dossier["fees"].as_array().expect("fees") {
        let amount = motcua_core::money::Vnd(f["amount"].as_u64().expect("amount")).to_string();
        assert!(text.contains(&amount), "fee {amount} missing:\n{text}");
    }
    // The officer who received it signs.
    let receiver = counter.me["user"]["display_name"]
        .as_str()
        .or_else(|| counter.me["display_name"].as_str())
        .expect("counter officer's name");
    assert!(text.contains(receiver), "{receiver}:\n{text}");

    // The QR code, read from the printed page, opens public tracking with the second factor.
    // No public_url is set: the address is the one this server listens on.
    let url = format!("{}/tra-cuu/{code}?secret={secret}", app.base);
    assert_eq!(qr_codes(&pdf), vec![url.clone()]);
    assert!(
        text.replace(' ', "").contains(&url),
        "the address is printed too:\n{text}"
    );
    let (status, tracking) = app.get_json(&format!("/api/v1/track/{code}?secret={secret}")).await;
    assert_eq!(status, 200, "{tracking}");
    assert_eq!(tracking["code"], json!(code));
    // What a phone opens: the public tracking page at that address.
    let page = app
        .client
        .get(app.url(&format!("/tra-cuu/{code}?secret={secret}")))
        .send()
        .await
        .expect("tracking page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains(&code) && html.contains("Được tiếp nhận"), "{html}");
    // One A5 sheet, signatures included.
    assert_eq!(pdf_pages(&pdf), 1, "the receipt fits one page:\n{text}");

    // The same visibility as the dossier itself.
    let justice = sign_in(&app, "cv.tuphap").await;
    form_pdf(&app, &justice, &code, "receipt").await;
    for outsider in ["cv.xaydung", "congdan"] {
        let s = sign_in(&app, outsider).await;
        let (status, _, body) = download(&app, Some(&s), &format!("/api/v1/dossiers/{code}/forms/receipt.pdf")).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{outsider}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let r = app
        .client
        .get(app.url(&format!("/api/v1/dossiers/{code}/forms/receipt.pdf")))
        .send()
        .await
        .expect("anonymous");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Forms the dossier does not have say so, in Vietnamese.
    let (status, _, body) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/refusal.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let e: Value = serde_json::from_slice(&body).expect("json");
    assert!(e["message"].as_str().expect("message").contains("Phiếu từ chối"), "{e}");
    let (status, _, _) = download(&app, Some(&counter), &format!("/api/v1/dossiers/{code}/forms/nope.pdf")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn each_notice_and_the_control_sheet_print_what_happened() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [counter, leader, officer, justice] =
        sign_in_each(&app, ["tiepnhan", "ld.xaydung", "cv.xaydung", "cv.tuphap"]).await;
    let procedure_code = procedure_of(&app, CONSTRUCTION).await;
    let filed = file(&app, &counter, &procedure_code, true).await;
    let code = code_of(&filed);

    app.clock.set(datetime!(2026-11-02 09:00 +07:00));
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    app.clock.set(datetime!(2026-11-02 10:00 +07:00));
    act_ok(&app, &leader, &code, "assign", json!({"user": "cv.xaydung"})).await;
    app.clock.set(datetime!(2026-11-03 09:00 +07:00));
    act_ok(
        &app,
        &officer,
        &code,
        "request-supplement",
        json!({"missing": ["Bản vẽ mặt bằng công trình có chữ ký của chủ đầu tư", "Giấy tờ về quyền sử dụng đất"],
               "reason": "Bản vẽ thiếu chữ ký"}),
    )
    .await;
    let text = pdf_text(&form_pdf(&app, &officer, &code, "supplement-request").await);
    for expected in [
        "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
        "Mẫu số 02",
        code.as_str(),
        "Bản vẽ mặt bằng công trình có chữ ký của chủ đầu tư",
        "Giấy tờ về quyền sử dụng đất",
        "Bản vẽ thiếu chữ ký",
        "Hoàng Văn Dựng",
        "Sở Xây dựng",
        "Ninh Thuận, ngày 03 tháng 11 năm 2026",
    ] {
        assert!(text.contains(expected), "«{expected}» missing:\n{text}");
    }
    app.clock.set(datetime!(2026-11-05 09:00 +07:00));
    act_ok(
        &app,
        &counter,
        &code,
        "receive-supplement",
        json!({"note": "Đã nhận bản vẽ"}),
    )
    .await;
    app.clock.set(datetime!(2026-11-05 10:00 +07:00));
    act_ok(
        &app,
        &officer,
        &code,
        "forward",
        json!({"agency": JUSTICE, "note": "Xin ý kiến"}),
    )
    .await;
    app.clock.set(datetime!(2026-11-06 10:00 +07:00));
    act_ok(&app, &justice, &code, "forward-back", json!({"note": "Thống nhất"})).await;

    let v = {
        let (_, v) = get(&app, &leader, &format!("/api/v1/dossiers/{code}")).await;
        v
    };
    let due = motcua_core::calendar::Calendar::standard();
    let old_due = at(v["due_at"].as_str().expect("due"));
    let new_due = due.add_working_days(old_due, 3).expect("new due");
    let v = act_ok(
        &app,
        &leader,
        &code,
        "apologise",
        json!({"reason": "Cần khảo sát thực địa", "new_due": new_due.format(&time::format_description::well_known::Rfc3339).expect("fmt")}),
    )
    .await;
    assert_eq!(v["extensions"], 1);
    let text = pdf_text(&form_pdf(&app, &leader, &code, "apology").await);
    // How the forms write an instant: «09 giờ 05 phút, ngày 13 tháng 02 năm 2026».
    let long = |t: time::OffsetDateTime| {
        let written =
            time::macros::format_description!("[hour] giờ [minute] phút, ngày [day] tháng [month] năm [year]");
        let t = t.to_offset(time::macros::offset!(+7));
        t.format(&written).expect("format")
    };
    for expected in [
        "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
        "Mẫu số 04",
        "Cần khảo sát thực địa",
        &long(old_due),
        &long(new_due),
        "Sở Xây dựng",
    ] {
        assert!(text.contains(expected), "«{expected}» missing:\n{text}");
    }
    let leader_name = leader.me["user"]["display_name"]
        .as_str()
        .or_else(|| leader.me["display_name"].as_str())
        .expect("leader's name");
    assert!(text.contains(leader_name), "{leader_name}:\n{text}");

    // Finish and return: the control sheet has a row per hand-over, each step judged.
    app.clock.set(datetime!(2026-11-10 15:00 +07:00));
    finish(&app, &leader, &code, "giay-phep.pdf").await;
    app.clock.set(datetime!(2026-11-11 08:00 +07:00));
    act_ok(&app, &counter, &code, "return", json!({"method": "counter"})).await;

    let (_, history) = get(&app, &counter, &format!("/api/v1/dossiers/{code}/history")).await;
    let sheet = history["control_sheet"].as_array().expect("sheet");
    let text = pdf_text(&form_pdf(&app, &counter, &code, "control-sheet").await);
    assert!(text.contains("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"), "{text}");
    assert!(text.contains("Mẫu số 06"), "{text}");
    for (i, row) in sheet.iter().enumerate() {
        let handed = at(row["handed_at"].as_str().expect("handed"));
        let handed = handed.to_offset(time::macros::offset!(+7));
        let when = format!(
            "{:02} giờ {:02}, ngày {:02}/{:02}/{}",
            handed.hour(),
            handed.minute(),
            handed.day(),
            u8::from(handed.month()),
            handed.year()
        );
        assert!(text.contains(&when), "row {i} handed at {when}:\n{text}");
        assert!(
            text.contains(row["to_agency_name"].as_str().expect("name")),
            "row {i}:\n{text}"
        );
        if let Some(label) = row["result_label"].as_str() {
            assert!(text.contains(label), "row {i} «{label}»:\n{text}");
        }
    }
    assert!(text.contains("Sở Tư pháp"), "the cooperating agency:\n{text}");
    // The sheet at the latest hand-over is issued in the background (a burst of
    // hand-overs is issued once, at the last); the earlier ones are drawn and stored when
    // downloaded, the same bytes whenever that is.
    let last_seq = history["events"].as_array().expect("events").last().expect("last")["seq"]
        .as_i64()
        .expect("seq");
    let rows = recorded(&app, &code, ("control-sheet", last_seq)).await;
    assert!(rows.iter().any(|r| r.0 == "supplement-request" && r.1 == 1), "{rows:?}");
    assert!(rows.iter().any(|r| r.0 == "apology" && r.1 == 1), "{rows:?}");
    let (status, _, _) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/control-sheet.pdf?n=2"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let rows = recorded(&app, &code, ("control-sheet", 2)).await;
    assert!(
        rows.iter().filter(|r| r.0 == "control-sheet").count() >= 2,
        "an earlier sheet, once downloaded, is stored too: {rows:?}"
    );
}

#[tokio::test]
async fn refusal_and_stop_notice_give_their_reasons() {
    let app = spawn_app_at(datetime!(2026-03-02 08:00 +07:00)).await;
    let [counter, leader] = sign_in_each(&app, ["tiepnhan", "ld.xaydung"]).await;
    let procedure_code = procedure_of(&app, CONSTRUCTION).await;

    let checking = code_of(&file(&app, &counter, &procedure_code, false).await);
    app.clock.set(datetime!(2026-03-02 10:30 +07:00));
    act_ok(
        &app,
        &counter,
        &checking,
        "refuse",
        json!({"reason": "Công trình thuộc thẩm quyền cấp phép của Ủy ban nhân dân cấp huyện"}),
    )
    .await;
    let (status, _, body) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{checking}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "never accepted: {}",
        String::from_utf8_lossy(&body)
    );
    let text = pdf_text(&form_pdf(&app, &counter, &checking, "refusal").await);
    for expected in [
        "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
        "Mẫu số 03",
        checking.as_str(),
        "Công trình thuộc thẩm quyền cấp phép của Ủy ban nhân dân cấp huyện",
        "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
        "Ninh Thuận, ngày 02 tháng 03 năm 2026",
    ] {
        assert!(text.contains(expected), "«{expected}» missing:\n{text}");
    }

    let stopped = code_of(&file(&app, &counter, &procedure_code, true).await);
    act_ok(&app, &counter, &stopped, "transfer", json!({})).await;
    app.clock.set(datetime!(2026-03-03 14:00 +07:00));
    act_ok(
        &app,
        &leader,
        &stopped,
        "stop",
        json!({"legal_ground": "Điều 19 Nghị định 61/2018/NĐ-CP", "reason": "Người nộp không bổ sung hồ sơ đúng hạn"}),
    )
    .await;
    let text = pdf_text(&form_pdf(&app, &leader, &stopped, "stop-notice").await);
    for expected in [
        "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ",
        "Mẫu số 05",
        "Điều 19 Nghị định 61/2018/NĐ-CP",
        "Người nộp không bổ sung hồ sơ đúng hạn",
        "14 giờ 00 phút, ngày 03 tháng 03 năm 2026",
        "Sở Xây dựng",
    ] {
        assert!(text.contains(expected), "«{expected}» missing:\n{text}");
    }
}

/// A form is numbered and titled by the rule version in force the day it is issued: under
/// Decree 61/2018 (before 1 July 2025) the control sheet was Circular 01/2018's Mẫu số 05
/// and the register its 06; the same dossier's forms issued later follow Circular 03/2025.
#[tokio::test]
async fn forms_follow_the_circular_in_force_the_day_they_are_issued() {
    let app = spawn_app_at(datetime!(2025-06-16 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let code = code_of(&file(&app, &counter, LLTP, true).await);
    let path = format!("/api/v1/register.pdf?agency={CENTRE}&from=2025-06-01&to=2025-06-30");
    let text = pdf_text(&download(&app, Some(&counter), &path).await.2);
    assert!(
        text.contains("SỔ THEO DÕI HỒ SƠ") && text.contains("Mẫu số 06"),
        "{text}"
    );
    assert!(!text.contains("Mẫu số 07"), "{text}");
    let receipt = pdf_text(&form_pdf(&app, &counter, &code, "receipt").await);
    assert!(
        receipt.contains("Mẫu số 01") && receipt.contains(code.as_str()),
        "{receipt}"
    );
    // The same period's register drawn after 1 July 2025: the circular then in force.
    app.clock.set(datetime!(2025-07-01 08:00 +07:00));
    let text = pdf_text(&download(&app, Some(&counter), &path).await.2);
    assert!(text.contains("Mẫu số 07"), "{text}");
}

#[tokio::test]
async fn the_register_lists_the_dossiers_received_in_the_period() {
    let app = spawn_app_at(datetime!(2026-02-13 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let first = code_of(&file(&app, &counter, LLTP, true).await);
    app.clock.set(datetime!(2026-02-23 10:00 +07:00));
    let second = code_of(&file(&app, &counter, LLTP, true).await);
    act_ok(&app, &counter, &second, "transfer", json!({})).await;
    app.clock.set(datetime!(2026-03-02 10:00 +07:00));
    let march = code_of(&file(&app, &counter, LLTP, true).await);

    let path = format!("/api/v1/register.pdf?agency={CENTRE}&from=2026-02-01&to=2026-02-28");
    let (status, headers, pdf) = download(&app, Some(&counter), &path).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(headers["content-type"], "application/pdf");
    screenshot("form-register", &pdf);
    let text = pdf_text(&pdf);
    for expected in [
        "SỔ THEO DÕI HỒ SƠ",
        "Mẫu số 07",
        "Từ ngày 01/02/2026 đến ngày 28/02/2026",
        first.as_str(),
        second.as_str(),
        "13/02/2026",
        "23/02/2026",
        "Nguyễn Thị Hoà",
        "Sở Tư pháp",
    ] {
        assert!(text.contains(expected), "«{expected}» missing:\n{text}");
    }
    assert!(!text.contains(&march), "outside the period:\n{text}");
    assert!(text.find(first.as_str()) < text.find(second.as_str()), "oldest first");

    // Only staff who may see the agency's dossiers.
    let outsider = sign_in(&app, "cv.xaydung").await;
    let (status, _, _) = download(&app, Some(&outsider), &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let citizen = sign_in(&app, "congdan").await;
    let (status, _, _) = download(&app, Some(&citizen), &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = download(
        &app,
        Some(&counter),
        "/api/v1/register.pdf?from=2026-02-28&to=2026-02-01",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Reads a workbook's first sheet back with calamine.
fn sheet(bytes: &[u8]) -> calamine::Range<calamine::Data> {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a real XLSX");
    let name = book.sheet_names().first().cloned().expect("a sheet");
    book.worksheet_range(&name).expect("range")
}

fn serial(t: time::OffsetDateTime) -> f64 {
    let t = t.to_offset(time::macros::offset!(+7));
    let days = (t.date() - time::macros::date!(1899 - 12 - 30)).whole_days();
    days as f64 + f64::from(t.hour()) / 24.0 + f64::from(t.minute()) / 1440.0 + f64::from(t.second()) / 86400.0
}

#[tokio::test]
async fn the_exports_open_in_a_spreadsheet_with_typed_cells() {
    use calamine::{Data, DataType};
    let app = spawn_app_at(datetime!(2026-02-13 09:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    // More than one page of the store (200) goes through the streaming writer.
    let mut codes = Vec::new();
    for i in 0..205 {
        app.clock
            .set(datetime!(2026-02-13 09:00 +07:00) + time::Duration::minutes(i));
        codes.push(code_of(&file(&app, &counter, LLTP, true).await));
    }
    let filed = {
        let (_, v) = get(&app, &counter, &format!("/api/v1/dossiers/{}", codes[0])).await;
        v
    };

    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (status, headers, body) = download(&app, Some(&counter), "/api/v1/dossiers.xlsx?status=2").await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], xlsx);
    let range = sheet(&body);
    assert_eq!(range.height(), 206, "header and every dossier");
    assert_eq!(range.get((0, 0)), Some(&Data::String("Mã hồ sơ".to_owned())));
    assert_eq!(range.get((0, 10)), Some(&Data::String("Ngày tiếp nhận".to_owned())));
    // Newest first, like the list.
    assert_eq!(range.get((205, 0)), Some(&Data::String(codes[0].clone())));
    let row = 205;
    assert_eq!(range.get((row, 3)), Some(&Data::Float(2.0)), "status code as a number");
    assert_eq!(range.get((row, 6)), Some(&Data::String("Nguyễn Thị Hoà".to_owned())));
    let Some(Data::DateTime(received)) = range.get((row, 10)) else {
        panic!("received_at is a date: {:?}", range.get((row, 10)));
    };
    assert!((received.as_f64() - serial(datetime!(2026-02-13 09:00 +07:00))).abs() < 1e-6);
    let Some(Data::DateTime(due)) = range.get((row, 11)) else {
        panic!("due_at is a date: {:?}", range.get((row, 11)));
    };
    let due_at = at(filed["due_at"].as_str().expect("due"));
    assert!((due.as_f64() - serial(due_at)).abs() < 1e-6);
    let fees: u64 = filed["fees"]
        .as_array()
        .expect("fees")
        .iter()
        .map(|f| f["amount"].as_u64().expect("amount"))
        .sum();
    assert_eq!(
        range.get((row, 14)).and_then(DataType::get_float),
        Some(fees as f64),
        "money as a number"
    );

    // The register of the centre for the day, oldest first, numbered.
    let path = format!("/api/v1/register.xlsx?agency={CENTRE}&from=2026-02-13&to=2026-02-13");
    let (status, headers, body) = download(&app, Some(&counter), &path).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], xlsx);
    let range = sheet(&body);
    assert_eq!(range.height(), 206);
    assert_eq!(range.get((0, 0)), Some(&Data::String("STT".to_owned())));
    assert_eq!(range.get((0, 7)), Some(&Data::String("Nhận hồ sơ".to_owned())));
    assert_eq!(range.get((1, 0)), Some(&Data::Float(1.0)));
    assert_eq!(range.get((1, 1)), Some(&Data::String(codes[0].clone())));
    assert_eq!(range.get((205, 1)), Some(&Data::String(codes[204].clone())));
    assert!(
        matches!(range.get((1, 7)), Some(Data::DateTime(_))),
        "{:?}",
        range.get((1, 7))
    );
    assert_eq!(range.get((1, 12)).and_then(DataType::get_float), Some(fees as f64));
    // Department staff of another agency may not read the centre's register.
    let outsider = sign_in(&app, "cv.xaydung").await;
    let (status, _, _) = download(&app, Some(&outsider), &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_administrator_reissues_forms_and_the_old_copies_are_kept() {
    let app = spawn_app_at(datetime!(2026-02-13 09:00 +07:00)).await;
    let [counter, admin] = sign_in_each(&app, ["tiepnhan", "quantri"]).await;
    let filed = file(&app, &counter, LLTP, true).await;
    let code = code_of(&filed);
    let first = recorded(&app, &code, ("receipt", 1)).await;
    let old_pdf = form_pdf(&app, &counter, &code, "receipt").await;
    let old_hash = first.iter().find(|r| r.0 == "receipt").expect("receipt").2.clone();
    // The control sheet of the acceptance is drawn in the background after the receipt:
    // wait for it, so that it is not drawn with the name of before the rename below.
    issued_forms(&app, &code, "control sheet", |r| r.kind == "control-sheet").await;

    // Nothing changed: nothing is re-issued.
    let path = format!("/api/v1/dossiers/{code}/reissue-forms");
    let (status, same) = post(&app, &admin, &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["reissued"], json!([]), "{same}");
    assert!(same["unchanged"].as_u64().expect("unchanged") >= 1, "{same}");

    // Only a system administrator may; the counter officer who sees the dossier may not.
    let (status, err) = post(&app, &counter, &path, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    // A code that does not exist answers as for a dossier one may not see.
    let (status, _) = post(
        &app,
        &admin,
        "/api/v1/dossiers/000.00.16.H43-260213-9999/reissue-forms",
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The centre is renamed: the receipt's heading changes, so it is drawn again.
    let (_, agencies) = get(&app, &admin, "/api/v1/agencies").await;
    let centre = agencies["items"]
        .as_array()
        .expect("agencies")
        .iter()
        .find(|a| a["code"] == CENTRE)
        .expect("centre")
        .clone();
    let mut edit = centre.clone();
    edit["name"] = json!("Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa");
    let (status, v) = put(&app, &admin, &format!("/api/v1/admin/agencies/{CENTRE}"), edit).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, done) = post(&app, &admin, &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let receipt = done["reissued"]
        .as_array()
        .expect("reissued")
        .iter()
        .find(|f| f["kind"] == "receipt")
        .unwrap_or_else(|| panic!("the receipt is re-issued: {done}"))
        .clone();
    assert_eq!(receipt["ordinal"], 1);
    assert_eq!(receipt["revision"], 2);

    // The current copy is the new one; the old one is kept, byte for byte, and marked.
    let new_pdf = form_pdf(&app, &counter, &code, "receipt").await;
    assert_ne!(new_pdf, old_pdf);
    assert_eq!(receipt["sha256"], sha256(&new_pdf).as_str());
    assert!(pdf_text(&new_pdf).contains("Khánh Hòa"));
    let (status, _, kept) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf?n=1&r=1"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kept, old_pdf, "the replaced copy is served as it was issued");
    assert_eq!(sha256(&kept), old_hash);
    let (status, _, _) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf?n=1&r=3"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let rows = issued_forms(&app, &code, "revision 2", |r| r.kind == "receipt" && r.revision == 2).await;
    let receipts: Vec<_> = rows.iter().filter(|r| r.kind == "receipt").collect();
    assert_eq!(receipts.len(), 2);
    assert!(receipts[0].replaced_at.is_some() && receipts[0].replaced_by.as_deref().is_some_and(|b| !b.is_empty()));
    assert!(receipts[1].replaced_at.is_none());

    // Audited, with both hashes.
    let (status, audit) = get(&app, &admin, "/api/v1/admin/audit?action=dossier.forms_reissued").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let items = audit["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["object_id"], code.as_str());
    let text = items[0].to_string();
    assert!(text.contains(&old_hash) && text.contains(&sha256(&new_pdf)), "{text}");

    // The administrator's page lists both drawings and has the button, which works
    // without a script; the counter officer's page has neither.
    let html = page_ok(&app, &admin, &format!("/ho-so/{code}")).await;
    assert!(
        html.contains("id=\"issued-forms\"") && html.contains("Đã được thay thế lúc"),
        "{html}"
    );
    let r = browser()
        .post(app.url(&format!("/ho-so/{code}/cap-lai-van-ban")))
        .header("cookie", &admin.cookie)
        .form(&[("csrf_token", admin.csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = header(&r, "location").expect("location");
    assert!(to.contains("reissued=0"), "{to}");
    let html = page_ok(&app, &admin, &to).await;
    assert!(html.contains("không cấp lại văn bản nào"), "{html}");
    let forged = browser()
        .post(app.url(&format!("/ho-so/{code}/cap-lai-van-ban")))
        .header("cookie", &admin.cookie)
        .form(&[("csrf_token", "forged")])
        .send()
        .await
        .expect("post");
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "a post without the session's token is refused"
    );
    let html = page_ok(&app, &counter, &format!("/ho-so/{code}")).await;
    assert!(!html.contains("cap-lai-van-ban") && !html.contains("issued-forms"));
}
