//! Every built-in template compiles with data of the shape the server sends, the text
//! comes out of the PDF as given (NFC whatever the input form), rendering is
//! deterministic, an override directory replaces a template without recompiling, and the
//! heading is laid out as Decree 30/2020/NĐ-CP (Appendix I) says, place names unbroken.

use std::process::Command;

use motcua_pdf::{Form, Renderer};
use serde_json::{Value, json};
use time::macros::datetime;

fn common(form: Form) -> Value {
    let rules = motcua_core::rules::RuleBook::shipped();
    let printed = rules.in_force(time::macros::date!(2026 - 02 - 13)).form(form);
    json!({
        "form": {"number": printed.number, "title": printed.title},
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

/// A word of a rendered page and its box, in points from the top left corner.
#[derive(Debug, Clone)]
struct Word {
    page: usize,
    text: String,
    x_min: f64,
    y_min: f64,
    x_max: f64,
    y_max: f64,
}

impl Word {
    /// The font size the word was set in, from its height: poppler's box spans the
    /// font's ascent and descent, about 0.9 of the size in Liberation Serif (0.89 bold,
    /// 0.91 regular and italic).
    fn size(&self) -> f64 {
        (self.y_max - self.y_min) / 0.9
    }
}

/// The words of `pdf` with their boxes (`pdftotext -bbox`), or `None` without poppler.
fn words(pdf: &[u8]) -> Option<Vec<Word>> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = Command::new("pdftotext")
        .arg("-bbox")
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    let html = String::from_utf8_lossy(&out.stdout);
    let attr = |line: &str, name: &str| -> f64 {
        let start = line.find(&format!("{name}=\"")).expect(name) + name.len() + 2;
        let len = line[start..].find('"').expect("quote");
        line[start..start + len].parse().expect("number")
    };
    let mut page = 0;
    let mut words = Vec::new();
    for line in html.lines().map(str::trim) {
        if line.starts_with("<page ") {
            page += 1;
        } else if line.starts_with("<word ") {
            let text = line[line.find('>').expect(">") + 1..line.rfind("</word>").expect("</word>")].to_owned();
            words.push(Word {
                page,
                x_min: attr(line, "xMin"),
                y_min: attr(line, "yMin"),
                x_max: attr(line, "xMax"),
                y_max: attr(line, "yMax"),
                text,
            });
        }
    }
    Some(words)
}

/// The first word of page 1 that is `text`.
fn word<'a>(words: &'a [Word], text: &str) -> &'a Word {
    words
        .iter()
        .find(|w| w.page == 1 && w.text == text)
        .unwrap_or_else(|| panic!("«{text}» not on page 1: {words:?}"))
}

fn with_issuer(form: Form, parent: &str, name: &str) -> Value {
    let mut data = sample(form);
    data["issuer"]["parent"] = json!(parent);
    data["issuer"]["name"] = json!(name);
    data
}

/// Where `text` (laid out by `pdftotext -layout`) breaks one of `names` across lines: a
/// column's line (columns are apart by two spaces or more) ending in the first words of
/// the name but not all of them.
fn split_names(text: &str, names: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        for column in line.split("  ").map(str::trim).filter(|c| !c.is_empty()) {
            for name in names {
                let words: Vec<&str> = name.split(' ').collect();
                for k in 1..words.len() {
                    let head = words[..k].join(" ");
                    if column == head || column.ends_with(&format!(" {head}")) {
                        found.push(format!("«{column}» splits «{name}»"));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn a_place_name_in_the_heading_is_never_split_across_lines() {
    // The supplement request (A5) used to print «ỦY BAN NHÂN DÂN TỈNH NINH / THUẬN».
    let data = with_issuer(
        Form::SupplementRequest,
        "Ủy ban nhân dân tỉnh Ninh Thuận",
        "Trung tâm Phục vụ hành chính công tỉnh",
    );
    let pdf = Renderer::new(None)
        .render(Form::SupplementRequest, &data, datetime!(2026-02-13 09:00 +07:00), "t")
        .expect("renders");
    let Some(text) = pdftotext(&pdf) else { return };
    assert!(
        text.lines().any(|l| l.contains("TỈNH NINH THUẬN")),
        "the unit and its name on one line:\n{text}"
    );
    assert_eq!(split_names(&text, &["NINH THUẬN"]), Vec::<String>::new(), "{text}");

    // Long names, names with a hyphen, several units: on every form, A5 and A4.
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "Ủy ban nhân dân tỉnh Ninh Thuận",
            "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
            &["NINH THUẬN"],
        ),
        (
            "Ủy ban nhân dân Thành phố Hồ Chí Minh",
            "Trung tâm Phục vụ hành chính công Thành phố Hồ Chí Minh",
            &["HỒ CHÍ MINH"],
        ),
        (
            "Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu",
            "Sở Lao động - Thương binh và Xã hội tỉnh Bà Rịa - Vũng Tàu",
            &["BÀ RỊA - VŨNG TÀU"],
        ),
        (
            "Ủy ban nhân dân thành phố Phan Rang - Tháp Chàm",
            "Bộ phận Tiếp nhận và Trả kết quả",
            &["PHAN RANG - THÁP CHÀM"],
        ),
        (
            "",
            "Ủy ban nhân dân xã Phước Dân, huyện Ninh Phước, tỉnh Ninh Thuận",
            &["PHƯỚC DÂN,", "NINH PHƯỚC,", "NINH THUẬN"],
        ),
    ];
    let r = Renderer::new(None);
    for form in Form::ALL {
        for (parent, name, places) in cases {
            let pdf = r
                .render(
                    form,
                    &with_issuer(form, parent, name),
                    datetime!(2026-02-13 09:00 +07:00),
                    "t",
                )
                .unwrap_or_else(|e| panic!("{form:?} {name}: {e}"));
            let Some(text) = pdftotext(&pdf) else { return };
            for place in places {
                assert!(text.contains(place), "{form:?}: «{place}» whole:\n{text}");
            }
            assert_eq!(split_names(&text, places), Vec::<String>::new(), "{form:?}:\n{text}");
        }
    }
}

#[test]
fn the_heading_follows_decree_30() {
    let r = Renderer::new(None);
    let issued = datetime!(2026-02-13 09:00 +07:00);
    // (form, its title's first word, a word of its body, the body's size)
    for (form, title, body, body_size) in [
        (Form::Apology, "VĂN", "Kính", 13.0),
        (Form::StopNotice, "THÔNG", "Kính", 13.0),
        (Form::SupplementRequest, "PHIẾU", "Hồ", 10.0),
        (Form::Receipt, "GIẤY", "Ông/Bà", 9.0),
    ] {
        let pdf = r.render(form, &sample(form), issued, "t").expect("renders");
        let Some(words) = words(&pdf) else { return };
        let parent = word(&words, "ỦY"); // ỦY BAN NHÂN DÂN TỈNH NINH THUẬN
        let agency = word(&words, "TRUNG"); // TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG TỈNH
        let number = word(&words, "Số:");
        let country = word(&words, "CỘNG"); // CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
        let motto = word(&words, "Độc"); // Độc lập - Tự do - Hạnh phúc
        let place = word(&words, "Ninh"); // Ninh Thuận, ngày 13 tháng 02 năm 2026
        let title = word(&words, title);
        let body = word(&words, body);
        let same_line = |a: &Word, b: &Word| (a.y_max - b.y_max).abs() < 0.6;
        let msg = format!("{form:?}: {words:?}");

        // The agency on the left, the Quốc hiệu on the right, both at the top.
        assert!(parent.x_max < country.x_min, "{msg}");
        assert!(same_line(parent, country), "{msg}");
        // Tiêu ngữ under the Quốc hiệu; the agency under its superior body.
        assert!(motto.y_min > country.y_max - 0.5, "{msg}");
        assert!(agency.y_min > parent.y_max - 0.5, "{msg}");
        // The number under the agency, level with the place and date under the motto.
        assert!(number.y_min > agency.y_max && number.x_max < place.x_min, "{msg}");
        assert!(place.y_min > motto.y_max && same_line(number, place), "{msg}");
        // Then the title, centred, and the body.
        assert!(title.y_min > number.y_max && body.y_min > title.y_max, "{msg}");

        // Sizes (Appendix I, II), as points of a 13pt A4 body: Quốc hiệu 12, Tiêu ngữ 13,
        // the agencies 12, the number 13, the place and date 13, the title 14.
        let scale = body_size / 13.0;
        for (what, w, size) in [
            ("Quốc hiệu", country, 12.0),
            ("Tiêu ngữ", motto, 13.0),
            ("superior body", parent, 12.0),
            ("agency", agency, 12.0),
            ("number", number, 13.0),
            ("place and date", place, 13.0),
            ("title", title, 14.0),
            ("body", body, 13.0),
        ] {
            assert!(
                (w.size() - size * scale).abs() < 0.45 * scale.max(0.75),
                "{form:?}: {what} is {:.2}pt, not {:.2}pt",
                w.size(),
                size * scale
            );
        }
    }
}

#[test]
fn page_numbers_are_in_the_top_margin_from_the_second_page() {
    let mut data = sample(Form::ControlSheet);
    let row = data["rows"][0].clone();
    data["rows"] = json!(vec![row; 40]);
    let pdf = Renderer::new(None)
        .render(Form::ControlSheet, &data, datetime!(2026-02-13 09:00 +07:00), "t")
        .expect("renders");
    let Some(words) = words(&pdf) else { return };
    assert!(words.iter().any(|w| w.page == 3), "40 hand-overs take three pages");
    // 20 mm of top margin (56.7pt); the page is 595pt wide, the text 30 mm to 15 mm in.
    let number = |page: usize| {
        words
            .iter()
            .find(|w| w.page == page && w.y_max < 56.7 && w.text == page.to_string())
    };
    assert!(
        words
            .iter()
            .filter(|w| w.page == 1)
            .all(|w| w.text != "1" || w.y_max > 56.7),
        "no number on the first page"
    );
    for page in [2, 3] {
        let n = number(page).unwrap_or_else(|| panic!("page {page}: {words:?}"));
        let centre = f64::midpoint(n.x_min, n.x_max);
        let text_centre = f64::midpoint(85.04, 595.28 - 42.52);
        assert!((centre - text_centre).abs() < 2.0, "centred: {n:?}");
        assert!((n.size() - 13.0).abs() < 0.5, "13pt: {n:?}");
    }
}
