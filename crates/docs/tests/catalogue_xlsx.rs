//! Round trips and error reports of the catalogue workbook.

use std::io::Cursor;
use std::time::Instant;

use calamine::{Data, Reader, Xlsx};
use motcua_core::catalogue::{
    Agency, AgencyAlias, AgencyKind, ApplicantKind, CatalogueFile, DocumentRequirement, FeeItem, FeeKind, Field,
    FormTemplate, Level, OnlineMode, ProcedureContent, ProcedureRecord, ProcedureVersion, ProcessingStep,
    ProcessingTime, Province, ProvinceCatalogue, Receivable, StepRole,
};
use motcua_core::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use motcua_core::money::Vnd;
use motcua_docs::catalogue_xlsx::{self, SHEETS, XlsxError};
use time::macros::datetime;
use unicode_normalization::UnicodeNormalization;

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn agency(code: &str) -> AgencyCode {
    AgencyCode::parse(code).expect("test agency code")
}

fn content(name: &str, field: &str, agency_code: &str) -> ProcedureContent {
    ProcedureContent {
        name: name.to_owned(),
        field: FieldCode::parse(field).expect("test field code"),
        agency: agency(agency_code),
        level: Level::Province,
        processing_time: ProcessingTime::days(15),
        documents: vec![DocumentRequirement {
            name: "Đơn đề nghị cấp giấy phép".to_owned(),
            originals: 1,
            copies: 0,
            required: true,
            form: None,
            note: String::new(),
        }],
        sets: 1,
        fees: Vec::new(),
        results: vec!["Giấy phép".to_owned()],
        legal_basis: Vec::new(),
        applicants: vec![ApplicantKind::Citizen],
        online_mode: OnlineMode::Partial,
        service_level: 3,
        at_centre: true,
        receivable: Receivable::Competent,
        communes: Vec::new(),
        steps: Vec::new(),
        description: String::new(),
        conditions: String::new(),
    }
}

/// A small catalogue touching every shape: two provinces, optional values set and unset,
/// two versions of one procedure with different offsets, a record without versions,
/// awkward text and a fee too large for a spreadsheet number.
fn sample() -> CatalogueFile {
    let mut v1 = content("Cấp giấy phép xây dựng nhà ở riêng lẻ", "XD-01", "000.00.01.H43");
    v1.fees.push(FeeItem {
        kind: FeeKind::Charge,
        name: "Lệ phí cấp giấy phép".to_owned(),
        amount: Vnd(75_000),
        option: None,
    });
    v1.steps.push(ProcessingStep {
        name: "Tiếp nhận hồ sơ".to_owned(),
        role: StepRole::Counter,
        agency: None,
        budget_hours: 4,
    });

    let mut v2 = v1.clone();
    v2.name = "Cấp giấy phép xây dựng nhà ở riêng lẻ (sửa đổi)".to_owned();
    v2.level = Level::Commune;
    v2.processing_time = ProcessingTime::hours(40);
    v2.online_mode = OnlineMode::Full;
    v2.service_level = 4;
    v2.at_centre = false;
    v2.sets = 2;
    v2.applicants = vec![ApplicantKind::Organisation, ApplicantKind::Citizen];
    v2.description = "Bước 1: nộp hồ sơ.\nBước 2:\tthẩm định & trả kết quả <đúng hạn>.".to_owned();
    v2.conditions = "=1+1 không phải công thức; _x0041_ không phải mã thoát".to_owned();
    v2.receivable = Receivable::Anywhere;
    v2.communes = vec![agency("000.31.00.H43"), agency("000.32.00.H43")];
    v2.documents = vec![
        DocumentRequirement {
            name: "Tờ khai".to_owned(),
            originals: 2,
            copies: 3,
            required: false,
            form: Some(FormTemplate {
                name: "Mẫu số 01/BXD".to_owned(),
                url: "https://example.invalid/mau-01.docx?a=1&b=2".to_owned(),
            }),
            note: "Trường hợp uỷ quyền".to_owned(),
        },
        DocumentRequirement {
            name: "Bản vẽ thiết kế".to_owned(),
            originals: 0,
            copies: 1,
            required: true,
            form: Some(FormTemplate {
                name: "Mẫu số 02".to_owned(),
                url: String::new(),
            }),
            note: String::new(),
        },
        DocumentRequirement {
            name: "Giấy tờ về quyền sử dụng đất".to_owned(),
            originals: 0,
            copies: 1,
            required: true,
            form: None,
            note: String::new(),
        },
    ];
    v2.fees = vec![
        FeeItem {
            kind: FeeKind::Fee,
            name: "Phí thẩm định".to_owned(),
            amount: Vnd(1_500_000),
            option: Some("Cấp mới".to_owned()),
        },
        FeeItem {
            kind: FeeKind::Fee,
            name: "Phí thẩm định".to_owned(),
            amount: Vnd(0),
            option: Some("Cấp lại".to_owned()),
        },
        FeeItem {
            kind: FeeKind::Charge,
            name: "Số tiền vượt 2^53".to_owned(),
            amount: Vnd(u64::MAX),
            option: None,
        },
    ];
    v2.legal_basis = vec!["Luật Xây dựng 2014".to_owned(), "Nghị định 15/2021/NĐ-CP".to_owned()];
    v2.results = Vec::new();
    v2.steps = vec![
        ProcessingStep {
            name: "Tiếp nhận hồ sơ".to_owned(),
            role: StepRole::Counter,
            agency: Some(agency("000.00.16.H43")),
            budget_hours: 4,
        },
        ProcessingStep {
            name: "Lấy ý kiến cơ quan phối hợp".to_owned(),
            role: StepRole::OtherAgency,
            agency: Some(agency("000.00.02.H43")),
            budget_hours: 16,
        },
        ProcessingStep {
            name: "Phê duyệt".to_owned(),
            role: StepRole::Leader,
            agency: None,
            budget_hours: 8,
        },
    ];

    let h43 = ProvinceCatalogue {
        province: Province {
            code: ProvinceCode::parse("H43").expect("valid"),
            name: "Ninh Thuận".to_owned(),
        },
        agencies: vec![
            Agency {
                code: agency("000.00.00.H43"),
                name: "Ủy ban nhân dân tỉnh Ninh Thuận".to_owned(),
                kind: AgencyKind::Province,
                parent: None,
                address: String::new(),
                phone: "0259 3822 600".to_owned(),
                email: String::new(),
                admin_code: String::new(),
                retired_at: None,
                successor: None,
            },
            Agency {
                code: agency("000.00.16.H43"),
                name: "Trung tâm Phục vụ hành chính công".to_owned(),
                kind: AgencyKind::Centre,
                parent: Some(agency("000.00.00.H43")),
                address: "Phan Rang - Tháp Chàm".to_owned(),
                phone: String::new(),
                email: "tttthc@example.invalid".to_owned(),
                admin_code: String::new(),
                retired_at: None,
                successor: None,
            },
            Agency {
                code: agency("000.00.01.H43"),
                name: "Sở Xây dựng".to_owned(),
                kind: AgencyKind::Department,
                parent: Some(agency("000.00.00.H43")),
                address: String::new(),
                phone: String::new(),
                email: String::new(),
                admin_code: String::new(),
                retired_at: None,
                successor: None,
            },
            Agency {
                code: agency("000.31.00.H43"),
                name: "UBND phường Đô Vinh".to_owned(),
                kind: AgencyKind::Commune,
                parent: Some(agency("000.00.00.H43")),
                address: "phường Đô Vinh, Ninh Thuận".to_owned(),
                phone: String::new(),
                email: String::new(),
                admin_code: "22738".to_owned(),
                retired_at: None,
                successor: None,
            },
            Agency {
                code: agency("000.32.00.H43"),
                name: "UBND phường Bảo An".to_owned(),
                kind: AgencyKind::Commune,
                parent: Some(agency("000.00.00.H43")),
                address: String::new(),
                phone: String::new(),
                email: String::new(),
                admin_code: String::new(),
                retired_at: Some(datetime!(2025-07-01 00:00 +07:00)),
                successor: Some(agency("000.31.00.H43")),
            },
        ],
        aliases: vec![AgencyAlias {
            old_code: agency("000.40.00.H43"),
            code: agency("000.31.00.H43"),
            at: datetime!(2025-07-01 00:00 +07:00),
        }],
        fields: vec![Field {
            code: FieldCode::parse("XD-01").expect("valid"),
            name: "Hoạt động xây dựng".to_owned(),
            agency: agency("000.00.01.H43"),
        }],
        procedures: vec![
            // Deliberately not in code order: the sheet order must be kept, not re-sorted.
            ProcedureRecord {
                code: ProcedureCode::parse("2.001218.000.00.00.H43").expect("valid"),
                versions: vec![
                    ProcedureVersion {
                        version: 1,
                        created_at: datetime!(2019-06-12 07:00 +07:00),
                        note: "Công bố lần đầu".to_owned(),
                        content: v1,
                    },
                    ProcedureVersion {
                        version: 2,
                        created_at: datetime!(2024-02-29 23:59:59.123_456_789 -03:30),
                        note: String::new(),
                        content: v2,
                    },
                ],
            },
            ProcedureRecord {
                code: ProcedureCode::parse("1.000948").expect("valid"),
                versions: Vec::new(),
            },
        ],
    };
    let mut commune = content("Chứng thực bản sao từ bản chính", "TP-01", "000.00.05.H38");
    commune.level = Level::Commune;
    commune.documents.clear();
    commune.results.clear();
    commune.applicants.clear();
    let h38 = ProvinceCatalogue {
        province: Province {
            code: ProvinceCode::parse("000.00.00.H38").expect("valid"),
            name: "Bình Định".to_owned(),
        },
        agencies: Vec::new(),
        aliases: Vec::new(),
        fields: Vec::new(),
        procedures: vec![ProcedureRecord {
            code: ProcedureCode::parse("1.000948").expect("valid"),
            versions: vec![ProcedureVersion {
                version: 1,
                created_at: datetime!(2020-01-01 00:00 UTC),
                note: String::new(),
                content: commune,
            }],
        }],
    };
    CatalogueFile::new(vec![h43, h38])
}

// --- Editing workbooks as a person would, to feed `read` what `write` never produces. ---

type Grid = Vec<Vec<Data>>;

fn sheets(bytes: &[u8]) -> Vec<(String, Grid)> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a workbook");
    workbook
        .worksheets()
        .into_iter()
        .map(|(name, range)| {
            (
                name,
                range.rows().map(|row| row.iter().map(unescape).collect()).collect(),
            )
        })
        .collect()
}

/// Reverses the writer's `_xHHHH_` escape as Excel does, so that rebuilt workbooks carry the
/// text the reader would have seen (only the forms the sample uses).
fn unescape(cell: &Data) -> Data {
    match cell {
        Data::String(s) => Data::String(s.replace("_x005F_", "_")),
        other => other.clone(),
    }
}

fn rebuild(sheets: &[(String, Grid)]) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    for (name, grid) in sheets {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name).expect("sheet name");
        for (r, row) in (0..).zip(grid) {
            for (c, cell) in (0..).zip(row) {
                match cell {
                    Data::Empty => continue,
                    Data::String(s) => sheet.write_string(r, c, s),
                    Data::Float(f) => sheet.write_number(r, c, *f),
                    Data::Int(i) => sheet.write_number(r, c, *i as f64),
                    Data::Bool(b) => sheet.write_boolean(r, c, *b),
                    other => panic!("unexpected cell {other:?}"),
                }
                .expect("cell written");
            }
        }
    }
    workbook.save_to_buffer().expect("workbook saved")
}

fn grid<'a>(sheets: &'a mut [(String, Grid)], name: &str) -> &'a mut Grid {
    &mut sheets.iter_mut().find(|(n, _)| n == name).expect("sheet present").1
}

fn column(grid: &Grid, name: &str) -> usize {
    grid[0]
        .iter()
        .position(|c| matches!(c, Data::String(s) if s == name))
        .expect("column present")
}

/// Sets the cell at spreadsheet row `row` (1-based) of `column` in `sheet`.
fn set(sheets: &mut [(String, Grid)], sheet: &str, row: usize, name: &str, value: Data) {
    let grid = grid(sheets, sheet);
    let c = column(grid, name);
    grid[row - 1][c] = value;
}

fn text(s: &str) -> Data {
    Data::String(s.to_owned())
}

fn cell_error(result: Result<CatalogueFile, XlsxError>) -> (String, u32, String, String, String) {
    match result {
        Err(XlsxError::Cell {
            sheet,
            row,
            column,
            cell,
            message,
        }) => (sheet, row, column, cell, message),
        other => panic!("expected a cell error, got {other:?}"),
    }
}

// --- Round trips ---

#[test]
fn demo_province_round_trips() -> Result {
    let file = CatalogueFile::new(vec![motcua_core::demo::ninh_thuan()]);
    let started = Instant::now();
    let bytes = catalogue_xlsx::write(&file)?;
    let written = started.elapsed();
    let back = catalogue_xlsx::read(&bytes)?;
    let total = started.elapsed();
    eprintln!(
        "1,388 procedures: write {written:?}, write + read {total:?}, {} bytes",
        bytes.len()
    );
    assert!(back == file, "the demo catalogue must come back unchanged");
    // Debug builds are an order of magnitude slower; the budget is for release builds.
    if !cfg!(debug_assertions) {
        assert!(total.as_secs_f64() < 2.0, "write + read took {total:?}");
    }
    Ok(())
}

#[test]
fn every_shape_round_trips() -> Result {
    let file = sample();
    let back = catalogue_xlsx::read(&catalogue_xlsx::write(&file)?)?;
    assert_eq!(back, file);
    // Equality of `OffsetDateTime` is by instant; the offset and nanoseconds are kept too.
    let created = back.provinces[0].procedures[0].versions[1].created_at;
    assert_eq!(created.offset().whole_minutes(), -210);
    assert_eq!(created.nanosecond(), 123_456_789);
    Ok(())
}

#[test]
fn a_workbook_from_before_the_2025_map_reads_with_the_defaults() -> Result {
    let file = sample();
    let mut sheets = sheets(&catalogue_xlsx::write(&file)?);
    sheets.retain(|(name, _)| name != "aliases");
    for (sheet, columns) in [
        ("agencies", &["admin_code", "retired_at", "successor"][..]),
        ("procedures", &["receivable", "communes"][..]),
    ] {
        let grid = grid(&mut sheets, sheet);
        for name in columns {
            let c = column(grid, name);
            for row in grid.iter_mut() {
                row.remove(c);
            }
        }
    }
    let back = catalogue_xlsx::read(&rebuild(&sheets))?;
    let mut expected = file;
    for p in &mut expected.provinces {
        p.aliases.clear();
        for a in &mut p.agencies {
            a.admin_code.clear();
            a.retired_at = None;
            a.successor = None;
        }
        for r in &mut p.procedures {
            for v in &mut r.versions {
                v.content.receivable = Receivable::Competent;
                v.content.communes.clear();
            }
        }
    }
    assert_eq!(back, expected);
    Ok(())
}

#[test]
fn an_unknown_receivable_names_its_cell() -> Result {
    let mut sheets = sheets(&catalogue_xlsx::write(&sample())?);
    set(&mut sheets, "procedures", 2, "receivable", text("khắp nơi"));
    let (sheet, row, column, _, message) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!((sheet.as_str(), row, column.as_str()), ("procedures", 2, "receivable"));
    assert!(message.contains("competent, anywhere"), "{message}");
    Ok(())
}

#[test]
fn sheets_have_machine_headers_and_typed_cells() -> Result {
    let bytes = catalogue_xlsx::write(&sample())?;
    let sheets = sheets(&bytes);
    let names: Vec<&str> = sheets.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, SHEETS);
    let procedures = &sheets[4].1;
    let headers: Vec<String> = procedures[0].iter().map(ToString::to_string).collect();
    assert_eq!(headers[..4], ["province_code", "code", "version", "created_at"]);
    assert_eq!(
        procedures[1][column(procedures, "created_at")],
        text("2019-06-12T07:00:00+07:00")
    );
    assert_eq!(procedures[1][column(procedures, "version")], Data::Float(1.0));
    assert_eq!(procedures[1][column(procedures, "at_centre")], Data::Bool(true));
    assert_eq!(
        procedures[2][column(procedures, "applicants")],
        text("organisation,citizen")
    );
    // The version-less record is a row with its code and nothing else.
    assert_eq!(procedures[3][column(procedures, "version")], Data::Empty);
    let fees = &sheets[6].1;
    let amount = column(fees, "amount");
    assert_eq!(fees[1][amount], Data::Float(75_000.0));
    assert_eq!(fees[4][amount], text(&u64::MAX.to_string()));
    let documents = &sheets[5].1;
    assert_eq!(documents[1][column(documents, "required")], Data::Bool(true));
    assert_eq!(documents[1][column(documents, "form_name")], Data::Empty);
    Ok(())
}

#[test]
fn rows_and_columns_may_be_rearranged() -> Result {
    let file = sample();
    let mut sheets = sheets(&catalogue_xlsx::write(&file)?);
    for (name, grid) in &mut sheets {
        // Lists are ordered by `position` and versions by `version`, so their rows may come in
        // any order; agencies, fields and procedures keep their sheet order, so only the two
        // versions of the first procedure swap there.
        if ["documents", "fees", "results", "legal_basis", "steps"].contains(&name.as_str()) {
            grid[1..].reverse();
        } else if name == "procedures" {
            grid.swap(1, 2);
        }
        // Reverse the columns, add a reviewer's column, add blank rows.
        for row in grid.iter_mut() {
            row.reverse();
            row.push(text("ghi chú của người rà soát"));
        }
        *grid[0].last_mut().expect("a header") = text("ghi_chu");
        let width = grid[0].len();
        grid.insert(1, vec![Data::Empty; width]);
        grid.push(vec![text("   "); width]);
    }
    assert_eq!(catalogue_xlsx::read(&rebuild(&sheets))?, file);
    Ok(())
}

#[test]
fn numbers_and_booleans_typed_as_text_are_accepted() -> Result {
    let file = sample();
    let mut sheets = sheets(&catalogue_xlsx::write(&file)?);
    set(&mut sheets, "procedures", 2, "version", text(" 1 "));
    set(&mut sheets, "procedures", 2, "at_centre", text("true"));
    set(&mut sheets, "procedures", 2, "level", text("Province"));
    set(&mut sheets, "fees", 2, "amount", text("75000"));
    assert_eq!(catalogue_xlsx::read(&rebuild(&sheets))?, file);
    Ok(())
}

#[test]
fn nfd_text_is_read_as_nfc() -> Result {
    let nfc_file = sample();
    let nfd = |s: &str| -> String { s.nfd().collect() };
    let mut nfd_file = nfc_file.clone();
    for province in &mut nfd_file.provinces {
        province.province.name = nfd(&province.province.name);
        for a in &mut province.agencies {
            a.name = nfd(&a.name);
            a.address = format!("  {}\t", nfd(&a.address));
        }
        for f in &mut province.fields {
            f.name = nfd(&f.name);
        }
        for v in province.procedures.iter_mut().flat_map(|p| p.versions.iter_mut()) {
            v.note = nfd(&v.note);
            let c = &mut v.content;
            c.name = nfd(&c.name);
            c.description = nfd(&c.description);
            for d in &mut c.documents {
                d.name = nfd(&d.name);
                d.note = nfd(&d.note);
                if let Some(form) = &mut d.form {
                    form.name = nfd(&form.name);
                }
            }
            for f in &mut c.fees {
                f.name = nfd(&f.name);
                f.option = f.option.as_deref().map(nfd);
            }
            for s in c.results.iter_mut().chain(c.legal_basis.iter_mut()) {
                *s = nfd(s);
            }
            for s in &mut c.steps {
                s.name = nfd(&s.name);
            }
        }
    }
    assert_ne!(nfd_file, nfc_file, "the test input must really be decomposed");
    let back = catalogue_xlsx::read(&catalogue_xlsx::write(&nfd_file)?)?;
    assert_eq!(back, nfc_file);
    assert_eq!(back.provinces[0].province.name, "Ninh Thuận");
    Ok(())
}

#[test]
fn escapes_and_control_characters_round_trip() -> Result {
    let mut file = sample();
    let texts = [
        "_x005F_x0041_ _x0041z _x12 _x",
        "chuông \u{7} và tab\tgiữa",
        "dòng 1\r\ndòng 2\rdòng 3",
        "<b>&amp;</b> \"trích dẫn\" 'đơn'",
        "=SUM(A1:A2)",
    ];
    let content = &mut file.provinces[0].procedures[0].versions[0].content;
    content.legal_basis = texts.iter().map(|t| (*t).to_owned()).collect();
    assert_eq!(catalogue_xlsx::read(&catalogue_xlsx::write(&file)?)?, file);
    Ok(())
}

#[test]
fn empty_option_reads_back_as_none() -> Result {
    // Documented limitation: `Some("")` has no cell of its own (validation rejects it anyway).
    let mut file = sample();
    let fee = &mut file.provinces[0].procedures[0].versions[1].content.fees[0];
    fee.option = Some(String::new());
    let back = catalogue_xlsx::read(&catalogue_xlsx::write(&file)?)?;
    assert_eq!(back.provinces[0].procedures[0].versions[1].content.fees[0].option, None);
    Ok(())
}

// --- Errors ---

#[test]
fn bytes_that_are_not_xlsx_are_refused() {
    for bytes in [
        &b""[..],
        b"province,code\nH43,1.000948\n",
        b"PK\x03\x04 not really a zip",
    ] {
        let err = catalogue_xlsx::read(bytes).expect_err("not a workbook");
        assert!(matches!(err, XlsxError::Unreadable(_)), "{err:?}");
        assert_eq!(err.to_string(), "tệp không phải bảng tính XLSX hợp lệ hoặc đã bị hỏng");
    }
}

#[test]
fn missing_sheet_is_named() -> Result {
    let mut sheets = sheets(&catalogue_xlsx::write(&sample())?);
    sheets.retain(|(name, _)| name != "fees");
    let err = catalogue_xlsx::read(&rebuild(&sheets)).expect_err("no fees sheet");
    assert!(
        matches!(&err, XlsxError::MissingSheet { sheet } if sheet == "fees"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "tệp thiếu trang tính «fees»");
    Ok(())
}

#[test]
fn two_sheets_answering_to_one_name_are_refused() -> Result {
    let mut sheets = sheets(&catalogue_xlsx::write(&sample())?);
    let fees = sheets.iter().find(|(n, _)| n == "fees").expect("fees").1.clone();
    // Another "fees" sheet, read first by a program that trims names: which one counts?
    sheets.insert(0, ("fees ".to_owned(), fees));
    let err = catalogue_xlsx::read(&rebuild(&sheets)).expect_err("ambiguous fees sheet");
    assert!(
        matches!(&err, XlsxError::DuplicateSheet { sheet } if sheet == "fees"),
        "{err:?}"
    );
    Ok(())
}

#[test]
fn missing_column_is_named() -> Result {
    let mut sheets = sheets(&catalogue_xlsx::write(&sample())?);
    let steps = grid(&mut sheets, "steps");
    let c = column(steps, "budget_hours");
    for row in steps.iter_mut() {
        row.remove(c);
    }
    let err = catalogue_xlsx::read(&rebuild(&sheets)).expect_err("no budget column");
    assert!(
        matches!(&err, XlsxError::MissingColumn { sheet, column } if sheet == "steps" && column == "budget_hours"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "trang tính «steps» thiếu cột «budget_hours» ở dòng tiêu đề"
    );
    Ok(())
}

#[test]
fn bad_code_names_sheet_row_and_column() -> Result {
    let mut sheets = sheets(&catalogue_xlsx::write(&sample())?);
    set(&mut sheets, "procedures", 3, "field", text("XD 01"));
    let err = catalogue_xlsx::read(&rebuild(&sheets));
    let message = err.as_ref().map_err(ToString::to_string).expect_err("bad field code");
    let (sheet, row, column, cell, detail) = cell_error(err);
    assert_eq!(
        (sheet.as_str(), row, column.as_str(), cell.as_str()),
        ("procedures", 3, "field", "G3")
    );
    assert!(detail.starts_with("Mã lĩnh vực không hợp lệ: «XD 01»"), "{detail}");
    assert!(
        message.starts_with("trang tính «procedures», dòng 3, cột «field» (ô G3): Mã lĩnh vực"),
        "{message}"
    );
    Ok(())
}

#[test]
fn bad_cells_are_reported_where_they_are() -> Result {
    let written = sheets(&catalogue_xlsx::write(&sample())?);
    let cases: [(&str, usize, &str, Data, &str); 9] = [
        (
            "documents",
            3,
            "originals",
            Data::Float(1.5),
            "phải là số nguyên không âm",
        ),
        (
            "documents",
            3,
            "copies",
            Data::Float(70_000.0),
            "số 70000 quá lớn (tối đa 65535)",
        ),
        ("documents", 2, "required", text("có"), "phải là TRUE hoặc FALSE"),
        (
            "fees",
            2,
            "kind",
            text("tax"),
            "giá trị «tax» không hợp lệ; dùng một trong: fee, charge",
        ),
        ("steps", 2, "agency", text("H43"), "Mã cơ quan không hợp lệ"),
        (
            "procedures",
            2,
            "created_at",
            text("12/06/2019"),
            "thời điểm «12/06/2019» không đúng định dạng",
        ),
        (
            "procedures",
            2,
            "applicants",
            text("citizen, company"),
            "giá trị «company» không hợp lệ",
        ),
        (
            "agencies",
            2,
            "province_code",
            text("H99"),
            "tỉnh «000.00.00.H99» không có trong trang tính «provinces»",
        ),
        ("provinces", 2, "code", Data::Empty, "không được để trống"),
    ];
    for (sheet_name, row_number, column_name, value, expected) in cases {
        let mut sheets = written.clone();
        set(&mut sheets, sheet_name, row_number, column_name, value);
        let (sheet, row, column, _, message) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
        assert_eq!(
            (sheet.as_str(), row, column.as_str()),
            (sheet_name, row_number as u32, column_name)
        );
        assert!(message.starts_with(expected), "{sheet_name}.{column_name}: {message}");
    }
    Ok(())
}

#[test]
fn list_rows_must_belong_to_a_version() -> Result {
    let written = sheets(&catalogue_xlsx::write(&sample())?);

    let mut sheets = written.clone();
    set(&mut sheets, "documents", 2, "version", Data::Float(7.0));
    let (sheet, row, column, _, message) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!((sheet.as_str(), row, column.as_str()), ("documents", 2, "version"));
    assert!(message.contains("không có phiên bản 7"), "{message}");

    let mut sheets = written.clone();
    set(&mut sheets, "results", 2, "code", text("3.999999"));
    let (_, _, column, _, message) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!(column, "code");
    assert!(message.starts_with("thủ tục «3.999999» không có"), "{message}");
    Ok(())
}

#[test]
fn duplicates_are_reported_with_the_first_row() -> Result {
    let written = sheets(&catalogue_xlsx::write(&sample())?);

    // Two documents of version 2 at the same position.
    let mut sheets = written.clone();
    set(&mut sheets, "documents", 4, "position", Data::Float(1.0));
    let (sheet, row, column, _, message) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!((sheet.as_str(), row, column.as_str()), ("documents", 4, "position"));
    assert!(message.contains("đã có ở dòng 3"), "{message}");

    // Version 2 written twice.
    let mut sheets = written.clone();
    set(&mut sheets, "procedures", 3, "version", Data::Float(1.0));
    let (_, row, column, _, message) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!((row, column.as_str()), (3, "version"));
    assert!(message.contains("đã có ở dòng 2"), "{message}");

    // A header repeated: which of the two columns is meant cannot be guessed.
    let mut sheets = written;
    grid(&mut sheets, "fields")[0].push(text("name"));
    let (sheet, row, column, cell, _) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!(
        (sheet.as_str(), row, column.as_str(), cell.as_str()),
        ("fields", 1, "name", "C1")
    );
    Ok(())
}

#[test]
fn meta_must_hold_one_row() -> Result {
    let mut sheets = sheets(&catalogue_xlsx::write(&sample())?);
    grid(&mut sheets, "meta").truncate(1);
    let (sheet, row, column, _, _) = cell_error(catalogue_xlsx::read(&rebuild(&sheets)));
    assert_eq!((sheet.as_str(), row, column.as_str()), ("meta", 2, "format"));
    Ok(())
}

/// The damage the property test below first found (calamine indexing a shared string the
/// workbook does not have, and panicking): a refusal, not a panic.
#[test]
fn the_damage_that_once_panicked_the_reader_is_refused() {
    let mut bytes = catalogue_xlsx::write(&sample()).expect("write");
    let i = 2_218_768_414_172_369_536usize % bytes.len();
    bytes[i] = 27;
    let read = std::panic::catch_unwind(|| catalogue_xlsx::read(&bytes).map(|_| ()));
    assert!(read.is_ok(), "panicked");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Issue 19: an import file is untrusted bytes. A genuine workbook with one byte changed,
    /// or cut short anywhere, is read or refused with an error, never a panic (the server
    /// reads it on a blocking thread, where a panic would be a 500).
    #[test]
    fn a_damaged_workbook_is_read_or_refused_never_a_panic(
        at in proptest::prelude::any::<usize>(),
        byte in proptest::prelude::any::<u8>(),
        cut in proptest::prelude::any::<bool>(),
    ) {
        static GENUINE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let genuine = GENUINE.get_or_init(|| catalogue_xlsx::write(&sample()).expect("write"));
        let mut bytes = genuine.clone();
        let i = at % bytes.len();
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        let read = std::panic::catch_unwind(|| catalogue_xlsx::read(&bytes).map(|_| ()));
        proptest::prop_assert!(read.is_ok(), "panicked at byte {i} ({})", if cut { "cut" } else { "changed" });
    }
}
