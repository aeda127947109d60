//! The report on the results of handling administrative procedures (issue 8 item 5,
//! docs/rules.md §6's usual report) as an XLSX workbook: per department, per department then
//! procedure, and per field, for a period of whole days. Every number comes from
//! [`motcua_store::stats::figures`] (the maintained aggregates the dashboards read), so
//! the report equals the dashboard for the same period.
//!
//! Also the monthly reports: [`generate_due`], called by the maintenance loop, generates
//! the previous month's report of each province and of each responsible agency once,
//! stores the file in the object store and records it (`motcua_store::reports`).

use std::collections::{BTreeMap, BTreeSet};

use motcua_core::calendar::VIETNAM_OFFSET;
use motcua_core::catalogue::AgencyKind;
use motcua_core::codes::ProvinceCode;
use motcua_core::stats::Dimension;
use motcua_store::overview::Period;
use motcua_store::reports as records;
use motcua_store::stats::{self, Counts, Line, Query};
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, Worksheet, XlsxError};
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime, Time};

use crate::auth::{hex_encode, random_id};
use crate::error::AppError;
use crate::forms::Letterhead;
use crate::state::AppState;

/// The report's title.
pub const TITLE: &str = "BÁO CÁO TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH";

/// The label of the total row.
pub const TOTAL: &str = "Tổng cộng";

/// The names of the sheets, in order.
pub const SHEETS: [&str; 3] = ["Theo đơn vị", "Theo thủ tục", "Theo lĩnh vực"];

/// First row (0-based) of the table's header.
pub const HEADER_ROW: u32 = 5;
/// First row (0-based) of the figures (after three header rows and the column numbers).
pub const FIRST_DATA_ROW: u32 = HEADER_ROW + 4;
/// Number of columns.
pub const COLUMNS: u16 = 17;

/// The numbers of one line in the order of the table's columns C to Q (the rate last, as
/// a fraction; `None` when nothing was resolved).
pub fn row_numbers(c: &Counts) -> ([i64; 14], Option<f64>) {
    (
        [
            c.carried_over + c.received_total(),
            c.carried_over,
            c.received[1],
            c.received[0],
            c.received[2],
            c.resolved(),
            c.early,
            c.on_time,
            c.late,
            c.in_progress(),
            c.in_progress_on_time,
            c.overdue,
            c.withdrawn,
            c.refused,
        ],
        c.on_time_permille().map(|p| p as f64 / 1000.0),
    )
}

/// What a report covers.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The province.
    pub province: ProvinceCode,
    /// Only this responsible agency; the whole province when `None`.
    pub agency: Option<String>,
    /// First day (Vietnam time).
    pub first: Date,
    /// Last day, included.
    pub last: Date,
}

impl Scope {
    /// The period as instants: midnight of the first day to midnight after the last.
    pub fn period(&self) -> Period {
        Period {
            from: midnight(self.first),
            to: midnight(self.last) + Duration::days(1),
        }
    }

    /// The ASCII file name: `bao-cao-ket-qua[-<agency>]-<first>_<last>.xlsx`.
    pub fn file_name(&self) -> String {
        match &self.agency {
            Some(a) => format!("bao-cao-ket-qua-{a}-{}_{}.xlsx", self.first, self.last),
            None => format!("bao-cao-ket-qua-{}_{}.xlsx", self.first, self.last),
        }
    }
}

fn midnight(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_offset(VIETNAM_OFFSET)
}

fn dmy(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// One line of a sheet.
struct Row {
    /// `1`, `2`, … or `I`, `II`, … for group headings; empty for the total.
    number: String,
    name: String,
    counts: Counts,
    /// Group heading or total: bold.
    strong: bool,
}

/// The figures of a report, read in one transaction.
struct Figures {
    departments: Vec<(String, Counts)>,
    procedures: BTreeMap<String, Vec<Line>>,
    fields: Vec<Line>,
    total: Counts,
}

async fn read(state: &AppState, scope: &Scope, now: OffsetDateTime) -> Result<Figures, AppError> {
    let period = scope.period();
    let query = |group, department| Query {
        group,
        period,
        now,
        department,
        channel: None,
    };
    let agency = scope.agency.as_deref();
    let mut tx = state.db.begin_read().await?;
    let lines = stats::figures(&mut tx, &scope.province, query(Dimension::Department, agency)).await?;
    let total = stats::total(&lines);
    let mut departments: Vec<(String, Counts)> = lines.into_iter().map(|l| (l.value, l.counts)).collect();
    if let Some(a) = agency
        && departments.is_empty()
    {
        // An agency with nothing in the period still gets its line of zeros.
        departments.push((a.to_owned(), Counts::default()));
    }
    let mut procedures = BTreeMap::new();
    for (code, _) in &departments {
        let lines = stats::figures(&mut tx, &scope.province, query(Dimension::Procedure, Some(code))).await?;
        procedures.insert(code.clone(), lines);
    }
    let fields = stats::figures(&mut tx, &scope.province, query(Dimension::Field, agency)).await?;
    Ok(Figures {
        departments,
        procedures,
        fields,
        total,
    })
}

fn roman(mut n: usize) -> String {
    const NUMERALS: [(usize, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (value, numeral) in NUMERALS {
        while n >= value {
            out.push_str(numeral);
            n -= value;
        }
    }
    out
}

/// Sorts by name, then code.
fn by_name(mut rows: Vec<(String, String, Counts)>) -> Vec<(String, String, Counts)> {
    rows.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

/// Generates the report of `scope`, judged at `now` (unfinished dossiers are judged at the
/// period's end, or now if it has not ended).
pub async fn generate(state: &AppState, scope: &Scope, now: OffsetDateTime) -> Result<Vec<u8>, AppError> {
    let figures = read(state, scope, now).await?;
    let lh = Letterhead::load(state, &scope.province).await?;
    let (procedure_names, field_names) = {
        let mut tx = state.db.begin_read().await?;
        let procedures: BTreeMap<String, String> =
            motcua_store::catalogue::procedure_summaries(&mut tx, &scope.province)
                .await?
                .into_iter()
                .map(|p| (p.code.as_str().to_owned(), p.name))
                .collect();
        let fields: BTreeMap<String, String> = motcua_store::catalogue::fields(&mut tx, &scope.province)
            .await?
            .into_iter()
            .map(|f| (f.code.as_str().to_owned(), f.name))
            .collect();
        (procedures, fields)
    };
    let name_of = |names: &BTreeMap<String, String>, code: &str| {
        if code.is_empty() {
            "(Không xác định)".to_owned()
        } else {
            names.get(code).cloned().unwrap_or_else(|| code.to_owned())
        }
    };
    let total_row = |counts: &Counts| Row {
        number: String::new(),
        name: TOTAL.to_owned(),
        counts: counts.clone(),
        strong: true,
    };

    let departments = by_name(
        figures
            .departments
            .iter()
            .map(|(code, c)| (code.clone(), lh.name(code), c.clone()))
            .collect(),
    );
    // Sheet 1: one line per department.
    let mut sheet1: Vec<Row> = departments
        .iter()
        .enumerate()
        .map(|(i, (_, name, c))| Row {
            number: (i + 1).to_string(),
            name: name.clone(),
            counts: c.clone(),
            strong: false,
        })
        .collect();
    sheet1.push(total_row(&figures.total));
    // Sheet 2: each department with its subtotal, its procedures under it.
    let mut sheet2 = Vec::new();
    for (i, (code, name, c)) in departments.iter().enumerate() {
        sheet2.push(Row {
            number: roman(i + 1),
            name: name.clone(),
            counts: c.clone(),
            strong: true,
        });
        let procedures = by_name(
            figures
                .procedures
                .get(code)
                .into_iter()
                .flatten()
                .map(|l| (l.value.clone(), name_of(&procedure_names, &l.value), l.counts.clone()))
                .collect(),
        );
        for (j, (_, name, c)) in procedures.into_iter().enumerate() {
            sheet2.push(Row {
                number: (j + 1).to_string(),
                name,
                counts: c,
                strong: false,
            });
        }
    }
    sheet2.push(total_row(&figures.total));
    // Sheet 3: one line per field.
    let mut sheet3: Vec<Row> = by_name(
        figures
            .fields
            .iter()
            .map(|l| (l.value.clone(), name_of(&field_names, &l.value), l.counts.clone()))
            .collect(),
    )
    .into_iter()
    .enumerate()
    .map(|(i, (_, name, c))| Row {
        number: (i + 1).to_string(),
        name,
        counts: c,
        strong: false,
    })
    .collect();
    sheet3.push(total_row(&figures.total));

    let issuer = match &scope.agency {
        Some(a) => lh.name(a),
        None => format!("Ủy ban nhân dân tỉnh {}", lh.province_name),
    };
    let head = Head {
        issuer: issuer.to_uppercase(),
        period: format!("Kỳ báo cáo: từ ngày {} đến ngày {}", dmy(scope.first), dmy(scope.last)),
        generated: format!("Ngày lập báo cáo: {}", dmy(now.to_offset(VIETNAM_OFFSET).date())),
    };
    let subjects = ["Đơn vị", "Đơn vị / Thủ tục", "Lĩnh vực"];
    let mut workbook = Workbook::new();
    for ((sheet, rows), subject) in SHEETS.iter().zip([sheet1, sheet2, sheet3]).zip(subjects) {
        let ws = worksheet(sheet, &head, subject, &rows).map_err(xlsx_error)?;
        workbook.push_worksheet(ws);
    }
    workbook.save_to_buffer().map_err(xlsx_error)
}

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(format!("report workbook: {e}"))
}

struct Head {
    issuer: String,
    period: String,
    generated: String,
}

fn worksheet(name: &str, head: &Head, subject: &str, rows: &[Row]) -> Result<Worksheet, XlsxError> {
    let mut ws = Worksheet::new();
    ws.set_name(name)?;
    let last_col = COLUMNS - 1;
    let centre = Format::new()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let bold_centre = centre.clone().set_bold();
    ws.merge_range(0, 0, 0, last_col, &head.issuer, &bold_centre)?;
    ws.merge_range(1, 0, 1, last_col, TITLE, &bold_centre.clone().set_font_size(14))?;
    ws.merge_range(2, 0, 2, last_col, &head.period, &centre)?;
    ws.merge_range(3, 0, 3, last_col, &head.generated, &centre.clone().set_italic())?;
    ws.set_row_height(1, 22)?;

    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let (h0, h1, h2) = (HEADER_ROW, HEADER_ROW + 1, HEADER_ROW + 2);
    // Columns spanning the three header rows.
    for (col, text) in [
        (0, "STT"),
        (1, subject),
        (14, "Rút hồ sơ"),
        (15, "Từ chối"),
        (16, "Tỉ lệ đúng hạn (%)"),
    ] {
        ws.merge_range(h0, col, h2, col, text, &header)?;
    }
    // The three groups.
    ws.merge_range(h0, 2, h0, 6, "Số hồ sơ nhận giải quyết", &header)?;
    ws.merge_range(h0, 7, h0, 10, "Số hồ sơ đã giải quyết", &header)?;
    ws.merge_range(h0, 11, h0, 13, "Số hồ sơ đang giải quyết", &header)?;
    for (col, text) in [
        (2, "Tổng số"),
        (3, "Kỳ trước chuyển qua"),
        (7, "Tổng số"),
        (8, "Trước hạn"),
        (9, "Đúng hạn"),
        (10, "Quá hạn"),
        (11, "Tổng số"),
        (12, "Trong hạn"),
        (13, "Quá hạn"),
    ] {
        ws.merge_range(h1, col, h2, col, text, &header)?;
    }
    ws.merge_range(h1, 4, h1, 6, "Mới tiếp nhận", &header)?;
    for (col, text) in [(4, "Trực tuyến"), (5, "Trực tiếp"), (6, "Bưu chính")] {
        ws.write_string_with_format(h2, col, text, &header)?;
    }
    // Column numbers, as official tables have them.
    let numbering = Format::new()
        .set_italic()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center);
    for col in 0..COLUMNS {
        ws.write_string_with_format(HEADER_ROW + 3, col, format!("({})", col + 1), &numbering)?;
    }
    ws.set_row_height(h0, 30)?;
    ws.set_row_height(h1, 30)?;
    ws.set_row_height(h2, 30)?;

    let cell = Format::new().set_border(FormatBorder::Thin);
    let number = cell.clone().set_num_format("#,##0");
    let rate = cell.clone().set_num_format("0.0%");
    let text = cell.clone().set_text_wrap().set_align(FormatAlign::VerticalCenter);
    let strong = |f: &Format| f.clone().set_bold();
    let centred = cell.clone().set_align(FormatAlign::Center);
    for (i, row) in rows.iter().enumerate() {
        let r = FIRST_DATA_ROW + u32::try_from(i).unwrap_or(u32::MAX - FIRST_DATA_ROW);
        let pick = |f: &Format| if row.strong { strong(f) } else { f.clone() };
        ws.write_string_with_format(r, 0, &row.number, &pick(&centred))?;
        ws.write_string_with_format(r, 1, &row.name, &pick(&text))?;
        let (numbers, on_time) = row_numbers(&row.counts);
        for (j, n) in numbers.iter().enumerate() {
            ws.write_number_with_format(r, 2 + j as u16, *n as f64, &pick(&number))?;
        }
        match on_time {
            Some(x) => ws.write_number_with_format(r, 16, x, &pick(&rate))?,
            None => ws.write_blank(r, 16, &pick(&rate))?,
        };
    }

    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 48)?;
    for col in 2..16 {
        ws.set_column_width(col, 11)?;
    }
    ws.set_column_width(16, 12)?;
    ws.set_freeze_panes(FIRST_DATA_ROW, 2)?;
    ws.set_landscape();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW + 3)?;
    Ok(ws)
}

/// The first and last day of the month before the one `now` falls in (Vietnam time).
pub fn previous_month(now: OffsetDateTime) -> (Date, Date) {
    let today = now.to_offset(VIETNAM_OFFSET).date();
    let first_this = today.replace_day(1).unwrap_or(today);
    let last = first_this.previous_day().unwrap_or(first_this);
    let first = last.replace_day(1).unwrap_or(last);
    (first, last)
}

/// Vietnamese label of a month: `Tháng 6/2019`.
pub fn month_label(first: Date) -> String {
    format!("Tháng {}/{}", u8::from(first.month()), first.year())
}

/// Object key of a monthly report: a new random suffix per attempt, so two servers
/// completing the same claim never overwrite each other's file.
fn object_key(r: &records::Report) -> String {
    let who = r.agency.as_deref().unwrap_or("toan-tinh");
    format!(
        "reports/{}/{}/{:04}-{:02}-{}.xlsx",
        r.province_code,
        who,
        r.from.year(),
        u8::from(r.from.month()),
        random_id()
    )
}

/// Generates, stores and records the file of claim `r`. `false` when another server
/// completed it first (its file is kept, ours removed).
async fn complete(state: &AppState, r: &records::Report) -> Result<bool, AppError> {
    let province = ProvinceCode::parse(&r.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let scope = Scope {
        province,
        agency: r.agency.clone(),
        first: r.from,
        last: r.to,
    };
    // Judged at the period's end (the month is over); dated the day it is generated.
    let now = state.clock.now();
    let bytes = generate(state, &scope, now).await?;
    let sha = hex_encode(Sha256::digest(&bytes));
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    let key = object_key(r);
    state
        .objects
        .put(&key, bytes)
        .await
        .map_err(|e| AppError::Internal(format!("storing report {key}: {e}")))?;
    let mut tx = state.db.begin_write().await?;
    let done = records::complete(&mut tx, r.id, &key, &sha, size, now).await?;
    tx.commit().await?;
    if !done {
        let _ = state.objects.delete(&key).await;
    }
    Ok(done)
}

/// Generates the reports due at the clock's now: for each province, the previous month's
/// report of the whole province and of each responsible agency (every department, and any
/// other agency with figures that month), each once. Claims left incomplete by an earlier
/// run are completed. Returns how many files were stored. Called every tick of the
/// maintenance loop; cheap when nothing is due (one query per province).
pub async fn generate_due(state: &AppState) -> Result<usize, AppError> {
    let now = state.clock.now();
    let (first, last) = previous_month(now);
    let provinces = {
        let mut tx = state.db.begin_read().await?;
        motcua_store::catalogue::provinces(&mut tx).await?
    };
    let mut stored = 0;
    for province in provinces {
        let code = province.code.as_str().to_owned();
        let mut tx = state.db.begin_read().await?;
        let claimed = records::of_period(&mut tx, &code, first, last)
            .await?
            .iter()
            .any(|r| r.agency.is_none());
        let mut pending = records::incomplete(&mut tx, &code).await?;
        drop(tx);
        if !claimed {
            let agencies = due_agencies(state, &province.code, first, last, now).await?;
            let mut tx = state.db.begin_write().await?;
            for agency in &agencies {
                records::claim(&mut tx, &code, Some(agency), first, last, now).await?;
            }
            // The province last, in the same transaction: its row marks the month claimed.
            records::claim(&mut tx, &code, None, first, last, now).await?;
            tx.commit().await?;
            let mut tx = state.db.begin_read().await?;
            pending = records::incomplete(&mut tx, &code).await?;
        }
        for r in pending {
            match complete(state, &r).await {
                Ok(true) => stored += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(report = r.id, error = %e, "monthly report failed; will retry"),
            }
        }
    }
    Ok(stored)
}

/// The agencies that get their own report for `first..=last`: the province's departments
/// and any agency responsible for dossiers with figures in the period.
async fn due_agencies(
    state: &AppState,
    province: &ProvinceCode,
    first: Date,
    last: Date,
    now: OffsetDateTime,
) -> Result<BTreeSet<String>, AppError> {
    let scope = Scope {
        province: province.clone(),
        agency: None,
        first,
        last,
    };
    let mut tx = state.db.begin_read().await?;
    let mut out: BTreeSet<String> = motcua_store::catalogue::agencies(&mut tx, province)
        .await?
        .into_iter()
        .filter(|a| a.kind == AgencyKind::Department)
        .map(|a| a.code.as_str().to_owned())
        .collect();
    let q = Query {
        group: Dimension::Department,
        period: scope.period(),
        now,
        department: None,
        channel: None,
    };
    for line in stats::figures(&mut tx, province, q).await? {
        if !line.value.is_empty() {
            out.insert(line.value);
        }
    }
    Ok(out)
}
