//! Every built-in template compiles with data of the shape the server sends, the text
//! comes out of the PDF as given (NFC whatever the input form), rendering is
//! deterministic, and an override directory replaces a template without recompiling.

use std::process::Command;

use motcua_pdf::{Form, Renderer};
use serde_json::{Value, json};
use time::macros::datetime;

fn common(form: Form) -> Value {
    json!({
        "form": {"number": form.number(), "title": form.title()},
        "issuer": {"parent": "Ủy ban nhân dân tỉnh Ninh Thuận", "name": "Trung tâm Phục vụ hành chính công tỉnh",
                   "phone": "0259 3822 000"},
        "place_date": "Ninh Thuận, ngày 13 tháng 02 năm 2026",
        "number": "000.00.16.H43-260213-0001",
        "code": "000.00.16.H43-260213-0001",
        // NFD on purpose: the renderer must print it as NFC.
        "applicant": {"name": "Nguye\u{302}\u{303}n Văn An", "id_label": "Số định danh cá nhân",
                      "id_number": "058190000123", "phone": "0912345678", "email": "an@example.vn",
                      "address": "Phan Rang - Tháp Chàm"},
        "procedure": {"code": "1.900141", "name": "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam"},
        "received_at": "09 giờ 00 phút, ngày 13 tháng 02 năm 2026",
        "received_on": "13/02/2026",
        "receiving_agency": "Trung tâm Phục vụ hành chính công tỉnh",
        "responsible_agency": "Sở Tư pháp",
        "due_at": "09 giờ 00 phút, ngày 06 tháng 03 năm 2026",
    })
}

fn sample(form: Form) -> Value {
    let mut v = common(form);
    let extra = match form {
        Form::Receipt => json!({
            "documents": [{"no": 1, "name": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "originals": 1, "copies": 0},
                          {"no": 2, "name": "Bản chụp giấy tờ tùy thân", "originals": 0, "copies": 1}],
            "sets": 1, "statutory_time": "10 ngày làm việc",
            "collect_at": "Trả kết quả tại Bộ phận Một cửa",
            "fees": [{"name": "Phí cấp Phiếu lý lịch tư pháp", "kind": "Phí", "amount": "200.000 đ"}],
            "fees_total": "200.000 đ", "receiver": "Trần Thị Tiếp",
            "tracking": {"url": "http://127.0.0.1:8080/tra-cuu/000.00.16.H43-260213-0001?secret=ABCD2345",
                         "secret": "ABCD2345",
                         "qr_svg": motcua_pdf::qr_svg("http://127.0.0.1:8080/tra-cuu/X?secret=ABCD2345").expect("qr")},
        }),
        Form::SupplementRequest | Form::Refusal | Form::Apology | Form::StopNotice => json!({
            "notice": {"reason": "Bản vẽ thiếu chữ ký", "missing": ["Bản vẽ mặt bằng có chữ ký"], "by": "Hoàng Văn Dựng",
                       "old_due": "ngày 06 tháng 03 năm 2026", "new_due": "ngày 11 tháng 03 năm 2026",
                       "explanation": "Người nộp hồ sơ đã chết", "at": "10 giờ 00 phút, ngày 02 tháng 03 năm 2026"},
        }),
        Form::ControlSheet => json!({
            "cooperating": ["Sở Tư pháp"],
            "rows": [{"no": 1, "from_agency": "Bộ phận Một cửa", "to_agency": "Sở Xây dựng", "handed_at": "09 giờ 00 phút, ngày 02/11/2026",
                      "giver": "Trần Thị Tiếp", "receiver": "Lê Văn Lãnh", "result": "Đúng hạn", "note": ""}],
        }),
        Form::Register => json!({
            "from": "01/02/2026", "to": "28/02/2026",
            "rows": [{"no": 1, "code": "000.00.16.H43-260213-0001", "procedure": "Cấp Phiếu lý lịch tư pháp", "sets": 1,
                      "applicant": "Nguyễn Văn An", "contact": "Phan Rang - Tháp Chàm; 0912345678", "agency": "Sở Tư pháp",
                      "received": "13/02/2026", "due": "06/03/2026", "transferred": "13/02/2026", "finished": "",
                      "returned": "", "note": ""}],
        }),
    };
    if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
        m.extend(e);
    }
    v
}

fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_form_renders_its_data() {
    let r = Renderer::new(None);
    let issued = datetime!(2026-02-13 09:00 +07:00);
    for form in Form::ALL {
        let pdf = r
            .render(form, &sample(form), issued, "test")
            .unwrap_or_else(|e| panic!("{form:?}: {e}"));
        assert!(pdf.starts_with(b"%PDF-"), "{form:?}");
        let again = r.render(form, &sample(form), issued, "test").expect("again");
        assert_eq!(pdf, again, "{form:?}: rendering is deterministic");
        if let Some(text) = pdftotext(&pdf) {
            assert!(text.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), "{form:?}: {text}");
            assert!(text.contains("Độc lập - Tự do - Hạnh phúc"), "{form:?}: {text}");
            if form != Form::Register {
                assert!(text.contains("Nguyễn Văn An"), "{form:?} prints NFC: {text}");
            }
        }
    }
}

#[test]
fn applicant_text_is_never_markup() {
    let mut data = sample(Form::Refusal);
    data["notice"]["reason"] = json!("#panic(\"injected\") *đậm* $x$ <label> @ref");
    let pdf = Renderer::new(None)
        .render(Form::Refusal, &data, datetime!(2026-02-13 09:00 +07:00), "t")
        .expect("renders");
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("#panic(\"injected\") *đậm* $x$ <label> @ref"), "{text}");
    }
}

#[test]
fn an_override_directory_replaces_a_template() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("refusal.typ"),
        "#let data = json(\"data.json\")\nMẪU RIÊNG CỦA TỈNH: #data.code",
    )
    .expect("write");
    let r = Renderer::new(Some(dir.path().to_owned()));
    let pdf = r
        .render(
            Form::Refusal,
            &sample(Form::Refusal),
            datetime!(2026-02-13 09:00 +07:00),
            "t",
        )
        .expect("renders");
    if let Some(text) = pdftotext(&pdf) {
        assert!(text.contains("MẪU RIÊNG CỦA TỈNH: 000.00.16.H43-260213-0001"), "{text}");
    }
    // A broken template is reported, not a panic.
    std::fs::write(dir.path().join("refusal.typ"), "#let x = (").expect("write");
    let err = r
        .render(
            Form::Refusal,
            &sample(Form::Refusal),
            datetime!(2026-02-13 09:00 +07:00),
            "t",
        )
        .expect_err("broken");
    assert!(err.to_string().contains("refusal.typ"), "{err}");
}
