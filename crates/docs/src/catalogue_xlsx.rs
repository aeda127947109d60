//! XLSX import and export of the whole procedure catalogue, lossless in both directions:
//! `read(&write(&file)?)? == file` for every catalogue the store can hold.
//!
//! # Layout
//!
//! One sheet per entity. Row 1 of every sheet is a header of stable machine names (the
//! serde field names, snake_case): [`read()`] finds columns by header name, so people may
//! reorder columns and add their own (notes for a reviewer), which are ignored. Rows may come
//! in any order and blank rows are skipped. The header row is frozen and filterable.
//!
//! | sheet | one row per | columns |
//! |---|---|---|
//! | `meta` | file (exactly one row) | `format`, `format_version` |
//! | `provinces` | province | `code`, `name` |
//! | `agencies` | agency | `province_code`, `code`, `name`, `kind`, `parent`, `address`, `phone`, `email`, `admin_code`, `retired_at`, `successor` |
//! | `fields` | field | `province_code`, `code`, `name`, `agency` |
//! | `procedures` | procedure version | `province_code`, `code`, `version`, `created_at`, `note`, `name`, `field`, `agency`, `level`, `processing_time_amount`, `processing_time_unit`, `sets`, `online_mode`, `service_level`, `at_centre`, `description`, `conditions`, `applicants`, `receivable`, `communes` |
//! | `documents` | required document | `province_code`, `code`, `version`, `position`, `name`, `originals`, `copies`, `required`, `form_name`, `form_url`, `note` |
//! | `fees` | fee item | `province_code`, `code`, `version`, `position`, `kind`, `name`, `amount`, `option` |
//! | `results` | result document | `province_code`, `code`, `version`, `position`, `text` |
//! | `legal_basis` | legal text | `province_code`, `code`, `version`, `position`, `text` |
//! | `steps` | processing step | `province_code`, `code`, `version`, `position`, `name`, `role`, `agency`, `budget_hours` |
//! | `aliases` | old code of a merged or renamed agency | `province_code`, `old_code`, `code`, `at` |
//!
//! # Values
//!
//! - Enumerations are written as their serde names (`working_days`, `commune_centre`, …) and
//!   read case-insensitively; `applicants` is a comma-separated list (`citizen,organisation`).
//! - `receivable` (`competent`, `anywhere`) and `communes` (a comma-separated list of commune
//!   codes, blank for every commune) came with the 2025 map: a workbook without these columns
//!   reads as `competent` and every commune. Likewise the agencies' `admin_code` (a commune's
//!   national code), `retired_at` (RFC 3339, blank while working) and `successor`, and the
//!   `aliases` sheet: a workbook from before them reads as working agencies and no alias.
//! - Versions, positions, counts and hours are numbers; `amount` is a whole number of đồng.
//!   An amount above 2^53, which a spreadsheet number cannot hold exactly, is written as digit
//!   text instead so that nothing is rounded (no real fee comes near). Numbers typed as text
//!   are accepted. Booleans are spreadsheet booleans (`TRUE`/`FALSE`; the text forms are
//!   accepted too).
//! - `created_at` is RFC 3339 text with its offset (`2019-06-12T07:00:00+07:00`): a
//!   spreadsheet date has no offset and only millisecond precision, so it could not round-trip.
//! - `position` (1-based) orders the list items of one version; positions must be distinct,
//!   not consecutive. Versions are ordered by `version`. Agencies, fields and procedures keep
//!   the order in which they first appear in their sheet, as do provinces.
//! - A procedure record without any version is one `procedures` row whose `version` is empty.
//!
//! # `None` versus empty text
//!
//! An empty cell is `None` for every optional value (`parent`, the form template
//! `form_name`/`form_url`, a fee's `option`, a step's `agency`) and the empty string for plain
//! text. `Some("")` therefore cannot be represented: it is written as an empty cell and reads
//! back as `None` (a form template with an empty name likewise disappears). Nothing real is
//! lost, because [`ProcedureContent::normalize`] rejects empty options and empty form names
//! before anything reaches the store.
//!
//! # Text
//!
//! Every text cell read passes through [`nfc`] (Unicode NFC, surrounding whitespace trimmed),
//! as at every entrance of motcua; text from the store is already in that form, so the round
//! trip is exact, and a file edited by a tool that writes NFD still imports as NFC.
//!
//! [`read()`] rebuilds the structure only; the caller still checks the header
//! ([`CatalogueFile::check_header`]) and validates every entry before importing.

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::HashSet;
use std::collections::hash_map::Entry;
use std::fmt::Display;
use std::io::Cursor;

use calamine::{Data, Range, Reader, Xlsx};
use motcua_core::catalogue::{
    Agency, AgencyAlias, AgencyKind, ApplicantKind, CatalogueFile, DocumentRequirement, FeeItem, FeeKind, Field,
    FormTemplate, Level, OnlineMode, ProcedureContent, ProcedureRecord, ProcedureVersion, ProcessingStep,
    ProcessingTime, Province, ProvinceCatalogue, Receivable, StepRole, TimeUnit,
};
use motcua_core::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use motcua_core::money::Vnd;
use motcua_core::text::nfc;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why a catalogue workbook could not be written or read. Messages are in Vietnamese, for
/// the person who prepared the file, and point at the sheet, row and column at fault.
#[derive(Debug, thiserror::Error)]
pub enum XlsxError {
    /// The bytes are not an XLSX workbook, or the workbook is damaged.
    #[error("tệp không phải bảng tính XLSX hợp lệ hoặc đã bị hỏng")]
    Unreadable(#[source] calamine::XlsxError),
    /// The workbook's parts contradict each other so that the reader gave up (a cell that
    /// names a shared string the workbook does not have, …).
    #[error("bảng tính XLSX bị hỏng: các phần của tệp không khớp nhau")]
    Damaged,
    /// A sheet the catalogue needs is not in the workbook.
    #[error("tệp thiếu trang tính «{sheet}»")]
    MissingSheet {
        /// Name of the missing sheet.
        sheet: String,
    },
    /// Two sheets answer to the same name (differing only in case or surrounding spaces):
    /// which one a reviewer's spreadsheet program shows is not sure, so neither is read.
    #[error(
        "tệp có hai trang tính cùng tên «{sheet}» (chỉ khác chữ hoa, chữ thường hoặc khoảng trắng); hãy giữ lại một"
    )]
    DuplicateSheet {
        /// The name both answer to.
        sheet: String,
    },
    /// A sheet's header row lacks a column the catalogue needs.
    #[error("trang tính «{sheet}» thiếu cột «{column}» ở dòng tiêu đề")]
    MissingColumn {
        /// Name of the sheet.
        sheet: String,
        /// Header name of the missing column.
        column: String,
    },
    /// A cell holds a value that cannot be read, or one that contradicts another row.
    #[error("trang tính «{sheet}», dòng {row}, cột «{column}» (ô {cell}): {message}")]
    Cell {
        /// Name of the sheet.
        sheet: String,
        /// Row number as the spreadsheet shows it (1-based; the header is row 1).
        row: u32,
        /// Header name of the column.
        column: String,
        /// Cell reference as the spreadsheet shows it, e.g. `F12`.
        cell: String,
        /// What is wrong, in Vietnamese.
        message: String,
    },
    /// A value of the catalogue has no XLSX representation (a date outside years 0–9999).
    #[error("không ghi được {path} vào tệp XLSX: {message}")]
    Unrepresentable {
        /// Path of the value in the catalogue, e.g. `provinces[0].procedures[3].versions[0].created_at`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The XLSX writer refused the workbook (a limit of the format, e.g. text longer than
    /// 32,767 characters in one cell).
    #[error("không tạo được tệp XLSX: {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
}

/// Names of the sheets of a catalogue workbook, in workbook order.
pub const SHEETS: [&str; 11] = [
    META,
    PROVINCES,
    AGENCIES,
    FIELDS,
    PROCEDURES,
    DOCUMENTS,
    FEES,
    RESULTS,
    LEGAL_BASIS,
    STEPS,
    ALIASES,
];

const META: &str = "meta";
const PROVINCES: &str = "provinces";
const AGENCIES: &str = "agencies";
const ALIASES: &str = "aliases";
const FIELDS: &str = "fields";
const PROCEDURES: &str = "procedures";
const DOCUMENTS: &str = "documents";
const FEES: &str = "fees";
const RESULTS: &str = "results";
const LEGAL_BASIS: &str = "legal_basis";
const STEPS: &str = "steps";

/// A column of a sheet: its header name and display width (in characters).
struct Column {
    name: &'static str,
    width: f64,
}

const fn col(name: &'static str, width: f64) -> Column {
    Column { name, width }
}

// Column order here is only the order `write` produces; `read` looks columns up by name.
// Every row written must give its values in exactly this order (checked in debug builds).
const META_COLUMNS: &[Column] = &[col("format", 24.0), col("format_version", 16.0)];
const PROVINCE_COLUMNS: &[Column] = &[col("code", 18.0), col("name", 30.0)];
const AGENCY_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 16.0),
    col("name", 50.0),
    col("kind", 16.0),
    col("parent", 16.0),
    col("address", 50.0),
    col("phone", 18.0),
    col("email", 30.0),
    col("admin_code", 12.0),
    col("retired_at", 27.0),
    col("successor", 16.0),
];
const ALIAS_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("old_code", 16.0),
    col("code", 16.0),
    col("at", 27.0),
];
const FIELD_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 14.0),
    col("name", 50.0),
    col("agency", 16.0),
];
const PROCEDURE_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 24.0),
    col("version", 9.0),
    col("created_at", 27.0),
    col("note", 40.0),
    col("name", 60.0),
    col("field", 14.0),
    col("agency", 16.0),
    col("level", 10.0),
    col("processing_time_amount", 24.0),
    col("processing_time_unit", 22.0),
    col("sets", 6.0),
    col("online_mode", 13.0),
    col("service_level", 14.0),
    col("at_centre", 11.0),
    col("description", 60.0),
    col("conditions", 40.0),
    col("applicants", 22.0),
    col("receivable", 13.0),
    col("communes", 30.0),
];
const DOCUMENT_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 24.0),
    col("version", 9.0),
    col("position", 10.0),
    col("name", 60.0),
    col("originals", 11.0),
    col("copies", 8.0),
    col("required", 10.0),
    col("form_name", 24.0),
    col("form_url", 30.0),
    col("note", 40.0),
];
const FEE_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 24.0),
    col("version", 9.0),
    col("position", 10.0),
    col("kind", 9.0),
    col("name", 60.0),
    col("amount", 14.0),
    col("option", 30.0),
];
const TEXT_ITEM_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 24.0),
    col("version", 9.0),
    col("position", 10.0),
    col("text", 80.0),
];
const STEP_COLUMNS: &[Column] = &[
    col("province_code", 16.0),
    col("code", 24.0),
    col("version", 9.0),
    col("position", 10.0),
    col("name", 50.0),
    col("role", 14.0),
    col("agency", 16.0),
    col("budget_hours", 14.0),
];

/// Largest integer a spreadsheet number (an IEEE double) holds exactly: 2^53.
const MAX_EXACT: u64 = 1 << 53;

/// An enumeration written as its serde name.
trait Named: Copy + 'static {
    /// Every variant, for parsing and for listing the accepted values in error messages.
    const ALL: &'static [Self];

    /// The serde (snake_case) name.
    fn name(self) -> &'static str;

    /// The variant whose name is `text`, ignoring ASCII case (people retype values).
    fn from_name(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name().eq_ignore_ascii_case(text))
    }

    /// The Vietnamese message for a value that is none of the names.
    fn invalid(text: &str) -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|v| v.name()).collect();
        format!("giá trị «{text}» không hợp lệ; dùng một trong: {}", names.join(", "))
    }
}

impl Named for AgencyKind {
    const ALL: &'static [Self] = &[
        Self::Province,
        Self::Centre,
        Self::Department,
        Self::CommuneCentre,
        Self::Commune,
        Self::Other,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for Level {
    const ALL: &'static [Self] = &[Self::Province, Self::Commune];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for Receivable {
    const ALL: &'static [Self] = &[Self::Competent, Self::Anywhere];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for OnlineMode {
    const ALL: &'static [Self] = &[Self::Full, Self::Partial];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

// The core has no text form for these four yet; the names repeat their serde renaming, which
// the unit test below pins so the two cannot drift apart.
impl Named for TimeUnit {
    const ALL: &'static [Self] = &[Self::WorkingDays, Self::WorkingHours];
    fn name(self) -> &'static str {
        match self {
            Self::WorkingDays => "working_days",
            Self::WorkingHours => "working_hours",
        }
    }
}

impl Named for FeeKind {
    const ALL: &'static [Self] = &[Self::Fee, Self::Charge];
    fn name(self) -> &'static str {
        match self {
            Self::Fee => "fee",
            Self::Charge => "charge",
        }
    }
}

impl Named for ApplicantKind {
    const ALL: &'static [Self] = &[Self::Citizen, Self::Organisation];
    fn name(self) -> &'static str {
        match self {
            Self::Citizen => "citizen",
            Self::Organisation => "organisation",
        }
    }
}

impl Named for StepRole {
    const ALL: &'static [Self] = &[Self::Counter, Self::Officer, Self::Leader, Self::OtherAgency];
    fn name(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Officer => "officer",
            Self::Leader => "leader",
            Self::OtherAgency => "other_agency",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Renders a whole catalogue file as an XLSX workbook (layout in the module documentation).
///
/// CPU-bound (about a quarter of a second for the 1,388 procedures of the demo province in a
/// release build): servers call it on a blocking thread.
///
/// # Errors
///
/// [`XlsxError::Unrepresentable`] for a `created_at` outside years 0–9999, and
/// [`XlsxError::Write`] when a limit of the format is exceeded (a text over 32,767
/// characters, more than 1,048,575 rows in a sheet).
pub fn write(file: &CatalogueFile) -> Result<Vec<u8>, XlsxError> {
    use Value::{Amount, Bool, Empty, Number, Text};

    let styles = Styles {
        header: Format::new().set_bold(),
        amount: Format::new().set_num_format("#,##0"),
    };
    let mut meta = SheetWriter::new(META, META_COLUMNS, &styles)?;
    let mut provinces = SheetWriter::new(PROVINCES, PROVINCE_COLUMNS, &styles)?;
    let mut agencies = SheetWriter::new(AGENCIES, AGENCY_COLUMNS, &styles)?;
    let mut aliases = SheetWriter::new(ALIASES, ALIAS_COLUMNS, &styles)?;
    let mut fields = SheetWriter::new(FIELDS, FIELD_COLUMNS, &styles)?;
    let mut procedures = SheetWriter::new(PROCEDURES, PROCEDURE_COLUMNS, &styles)?;
    let mut documents = SheetWriter::new(DOCUMENTS, DOCUMENT_COLUMNS, &styles)?;
    let mut fees = SheetWriter::new(FEES, FEE_COLUMNS, &styles)?;
    let mut results = SheetWriter::new(RESULTS, TEXT_ITEM_COLUMNS, &styles)?;
    let mut legal_basis = SheetWriter::new(LEGAL_BASIS, TEXT_ITEM_COLUMNS, &styles)?;
    let mut steps = SheetWriter::new(STEPS, STEP_COLUMNS, &styles)?;

    meta.row(&[Text(&file.format), Number(file.format_version.into())])?;
    for (p, catalogue) in file.provinces.iter().enumerate() {
        let province = catalogue.province.code.as_str();
        provinces.row(&[Text(province), Text(&catalogue.province.name)])?;
        for (i, a) in catalogue.agencies.iter().enumerate() {
            let retired_at = a
                .retired_at
                .map(|t| rfc3339(t, || format!("provinces[{p}].agencies[{i}].retired_at")))
                .transpose()?;
            agencies.row(&[
                Text(province),
                Text(a.code.as_str()),
                Text(&a.name),
                Text(a.kind.name()),
                optional(a.parent.as_ref().map(AgencyCode::as_str)),
                Text(&a.address),
                Text(&a.phone),
                Text(&a.email),
                Text(&a.admin_code),
                optional(retired_at.as_deref()),
                optional(a.successor.as_ref().map(AgencyCode::as_str)),
            ])?;
        }
        for (i, alias) in catalogue.aliases.iter().enumerate() {
            let at = rfc3339(alias.at, || format!("provinces[{p}].aliases[{i}].at"))?;
            aliases.row(&[
                Text(province),
                Text(alias.old_code.as_str()),
                Text(alias.code.as_str()),
                Text(&at),
            ])?;
        }
        for f in &catalogue.fields {
            fields.row(&[
                Text(province),
                Text(f.code.as_str()),
                Text(&f.name),
                Text(f.agency.as_str()),
            ])?;
        }
        for (r, record) in catalogue.procedures.iter().enumerate() {
            let code = record.code.as_str();
            if record.versions.is_empty() {
                procedures.row(&[Text(province), Text(code)])?;
            }
            for (v, version) in record.versions.iter().enumerate() {
                let created_at = rfc3339(version.created_at, || {
                    format!("provinces[{p}].procedures[{r}].versions[{v}].created_at")
                })?;
                let c = &version.content;
                let number = Number(version.version.into());
                let applicants: Vec<&str> = c.applicants.iter().map(|a| a.name()).collect();
                let communes: Vec<&str> = c.communes.iter().map(AgencyCode::as_str).collect();
                procedures.row(&[
                    Text(province),
                    Text(code),
                    number,
                    Text(&created_at),
                    Text(&version.note),
                    Text(&c.name),
                    Text(c.field.as_str()),
                    Text(c.agency.as_str()),
                    Text(c.level.name()),
                    Number(c.processing_time.amount.into()),
                    Text(c.processing_time.unit.name()),
                    Number(c.sets.into()),
                    Text(c.online_mode.name()),
                    Number(c.service_level.into()),
                    Bool(c.at_centre),
                    Text(&c.description),
                    Text(&c.conditions),
                    Text(&applicants.join(",")),
                    Text(c.receivable.name()),
                    Text(&communes.join(",")),
                ])?;
                for (position, d) in (1..).zip(&c.documents) {
                    documents.row(&[
                        Text(province),
                        Text(code),
                        number,
                        Number(position),
                        Text(&d.name),
                        Number(d.originals.into()),
                        Number(d.copies.into()),
                        Bool(d.required),
                        optional(d.form.as_ref().map(|f| f.name.as_str())),
                        d.form.as_ref().map_or(Empty, |f| Text(&f.url)),
                        Text(&d.note),
                    ])?;
                }
                for (position, f) in (1..).zip(&c.fees) {
                    fees.row(&[
                        Text(province),
                        Text(code),
                        number,
                        Number(position),
                        Text(f.kind.name()),
                        Text(&f.name),
                        Amount(f.amount.0),
                        optional(f.option.as_deref()),
                    ])?;
                }
                for (position, text) in (1..).zip(&c.results) {
                    results.row(&[Text(province), Text(code), number, Number(position), Text(text)])?;
                }
                for (position, text) in (1..).zip(&c.legal_basis) {
                    legal_basis.row(&[Text(province), Text(code), number, Number(position), Text(text)])?;
                }
                for (position, s) in (1..).zip(&c.steps) {
                    steps.row(&[
                        Text(province),
                        Text(code),
                        number,
                        Number(position),
                        Text(&s.name),
                        Text(s.role.name()),
                        optional(s.agency.as_ref().map(AgencyCode::as_str)),
                        Number(s.budget_hours.into()),
                    ])?;
                }
            }
        }
    }

    let mut workbook = Workbook::new();
    for sheet in [
        meta,
        provinces,
        agencies,
        fields,
        procedures,
        documents,
        fees,
        results,
        legal_basis,
        steps,
        aliases,
    ] {
        workbook.push_worksheet(sheet.finish()?);
    }
    Ok(workbook.save_to_buffer()?)
}

/// `t` as RFC 3339 text; `path` names the value when it cannot be written (outside years
/// 0–9999).
fn rfc3339(t: OffsetDateTime, path: impl FnOnce() -> String) -> Result<String, XlsxError> {
    t.format(&Rfc3339).map_err(|e| XlsxError::Unrepresentable {
        path: path(),
        message: e.to_string(),
    })
}

/// An RFC 3339 instant read from a cell's text.
fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|_| format!("thời điểm «{text}» không đúng định dạng RFC 3339, ví dụ 2019-06-12T07:00:00+07:00"))
}

/// The formats shared by every sheet.
struct Styles {
    header: Format,
    amount: Format,
}

/// One cell value to write.
#[derive(Clone, Copy)]
enum Value<'a> {
    /// Nothing: `None`, or the columns after a version-less procedure's code.
    Empty,
    /// Text; the empty string leaves the cell empty.
    Text(&'a str),
    /// A whole number.
    Number(u64),
    /// A whole number of đồng, shown with thousands separators.
    Amount(u64),
    /// A boolean.
    Bool(bool),
}

fn optional(text: Option<&str>) -> Value<'_> {
    text.map_or(Value::Empty, Value::Text)
}

/// Writes the rows of one sheet below its header.
struct SheetWriter<'s> {
    sheet: Worksheet,
    columns: &'static [Column],
    next_row: u32,
    styles: &'s Styles,
}

impl<'s> SheetWriter<'s> {
    fn new(name: &str, columns: &'static [Column], styles: &'s Styles) -> Result<Self, XlsxError> {
        let mut sheet = Worksheet::new();
        sheet.set_name(name)?;
        for (c, column) in (0..).zip(columns) {
            sheet.write_string_with_format(0, c, column.name, &styles.header)?;
            sheet.set_column_width(c, column.width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(Self {
            sheet,
            columns,
            next_row: 1,
            styles,
        })
    }

    /// Writes the next row; `values` follow the sheet's columns and may stop early.
    fn row(&mut self, values: &[Value<'_>]) -> Result<(), XlsxError> {
        debug_assert!(values.len() <= self.columns.len(), "more values than columns");
        let row = self.next_row;
        for (c, value) in (0..).zip(values) {
            match *value {
                Value::Empty => {}
                // An empty string would still create a (blank text) cell; leaving the cell out
                // keeps the sheet clean and reads back the same.
                Value::Text("") => {}
                Value::Text(text) => {
                    self.sheet.write_string(row, c, text)?;
                }
                Value::Number(n) | Value::Amount(n) if n > MAX_EXACT => {
                    self.sheet.write_string(row, c, n.to_string())?;
                }
                // Exact: n ≤ 2^53 here.
                Value::Number(n) => {
                    self.sheet.write_number(row, c, n as f64)?;
                }
                Value::Amount(n) => {
                    self.sheet
                        .write_number_with_format(row, c, n as f64, &self.styles.amount)?;
                }
                Value::Bool(b) => {
                    self.sheet.write_boolean(row, c, b)?;
                }
            }
        }
        self.next_row += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<Worksheet, XlsxError> {
        let last_column = u16::try_from(self.columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
        self.sheet
            .autofilter(0, 0, self.next_row.saturating_sub(1), last_column)?;
        Ok(self.sheet)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Rebuilds a catalogue file from a workbook [`write()`] produced, or a person edited.
///
/// Checks the workbook's shape and every cell's type and code format, and that every list
/// row belongs to a procedure version of the `procedures` sheet; it does not check the
/// catalogue's rules (the caller runs [`CatalogueFile::check_header`] and each entry's
/// `normalize`, and the store checks cross-references).
///
/// Like [`write()`] it is CPU-bound (about 0.2 s for the demo province in release), and it
/// holds every sheet unpacked in memory: callers limit the upload's size and run it on a
/// blocking thread.
///
/// # Errors
///
/// [`XlsxError::Unreadable`] when the bytes are not an XLSX workbook,
/// [`XlsxError::MissingSheet`] and [`XlsxError::MissingColumn`] when its shape is wrong, and
/// [`XlsxError::Cell`] for the first cell that cannot be read or contradicts another row.
pub fn read(bytes: &[u8]) -> Result<CatalogueFile, XlsxError> {
    // calamine 0.30 indexes shared strings unchecked (`xlsx/cells_reader.rs`): a cell that
    // names a string the workbook does not have panics. An import file is untrusted bytes,
    // so a panic in the reader is a damaged file, not a crash of the request.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_workbook(bytes))).unwrap_or(Err(XlsxError::Damaged))
}

fn read_workbook(bytes: &[u8]) -> Result<CatalogueFile, XlsxError> {
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(XlsxError::Unreadable)?;
    let names = workbook.sheet_names();
    let mut load = |name: &'static str| Sheet::load(&mut workbook, &names, name);

    let (format, format_version) = read_meta(&load(META)?)?;
    let mut index = Index::default();
    let mut provinces = read_provinces(&load(PROVINCES)?, &mut index)?;
    read_agencies(&load(AGENCIES)?, &index, &mut provinces)?;
    // A workbook written before the 2025 map has no aliases sheet.
    if names.iter().any(|n| n.trim().eq_ignore_ascii_case(ALIASES)) {
        read_aliases(&load(ALIASES)?, &index, &mut provinces)?;
    }
    read_fields(&load(FIELDS)?, &index, &mut provinces)?;
    let mut pending = read_procedures(&load(PROCEDURES)?, &mut index, &mut provinces)?;
    read_documents(&load(DOCUMENTS)?, &index, &mut pending)?;
    read_fees(&load(FEES)?, &index, &mut pending)?;
    read_texts(&load(RESULTS)?, &index, &mut pending, |p| &mut p.results)?;
    read_texts(&load(LEGAL_BASIS)?, &index, &mut pending, |p| &mut p.legal_basis)?;
    read_steps(&load(STEPS)?, &index, &mut pending)?;

    for p in pending {
        let mut version = p.version;
        let content = &mut version.content;
        content.documents = in_order(p.documents);
        content.fees = in_order(p.fees);
        content.results = in_order(p.results);
        content.legal_basis = in_order(p.legal_basis);
        content.steps = in_order(p.steps);
        provinces[p.province].procedures[p.procedure].versions.push(version);
    }
    for record in provinces.iter_mut().flat_map(|p| p.procedures.iter_mut()) {
        record.versions.sort_by_key(|v| v.version);
    }
    Ok(CatalogueFile {
        format,
        format_version,
        provinces,
    })
}

/// Where rows of the later sheets attach: every lookup is a hash map, so reading stays
/// linear in the number of rows however large the catalogue.
#[derive(Default)]
struct Index {
    /// Province code → index in the file.
    provinces: HashMap<ProvinceCode, usize>,
    /// (province, procedure code) → index in the province's procedures.
    procedures: HashMap<(usize, ProcedureCode), usize>,
    /// (province, procedure, version) → index in the pending versions.
    versions: HashMap<(usize, usize, u32), usize>,
}

impl Index {
    fn province(&self, row: &Row<'_>, col: Col) -> Result<usize, XlsxError> {
        let code = row.parse(col, ProvinceCode::parse)?;
        self.provinces
            .get(&code)
            .copied()
            .ok_or_else(|| row.error(col, format!("tỉnh «{code}» không có trong trang tính «{PROVINCES}»")))
    }

    /// The pending version a list row belongs to.
    fn version(&self, row: &Row<'_>, key: &KeyColumns) -> Result<usize, XlsxError> {
        let province = self.province(row, key.province)?;
        let code = row.parse(key.code, ProcedureCode::parse)?;
        let Some(&procedure) = self.procedures.get(&(province, code.clone())) else {
            return Err(row.error(
                key.code,
                format!("thủ tục «{code}» không có trong trang tính «{PROCEDURES}» của tỉnh này"),
            ));
        };
        let version: u32 = row.number(key.version)?;
        self.versions
            .get(&(province, procedure, version))
            .copied()
            .ok_or_else(|| {
                row.error(
                    key.version,
                    format!("thủ tục «{code}» không có phiên bản {version} trong trang tính «{PROCEDURES}»"),
                )
            })
    }
}

/// A procedure version read from `procedures`, waiting for its list items.
struct Pending {
    province: usize,
    procedure: usize,
    /// Row it was read from, for duplicate messages.
    row: u32,
    version: ProcedureVersion,
    documents: Vec<(u32, DocumentRequirement)>,
    fees: Vec<(u32, FeeItem)>,
    results: Vec<(u32, String)>,
    legal_basis: Vec<(u32, String)>,
    steps: Vec<(u32, ProcessingStep)>,
}

/// The items sorted by position (positions are distinct, checked when read).
fn in_order<T>(mut items: Vec<(u32, T)>) -> Vec<T> {
    items.sort_unstable_by_key(|&(position, _)| position);
    items.into_iter().map(|(_, item)| item).collect()
}

fn read_meta(sheet: &Sheet) -> Result<(String, u32), XlsxError> {
    let c_format = sheet.col("format")?;
    let c_version = sheet.col("format_version")?;
    let mut rows = sheet.rows();
    let Some(row) = rows.next() else {
        return Err(sheet.error(sheet.header_row + 1, c_format, "thiếu dòng dữ liệu (định dạng của tệp)"));
    };
    if let Some(extra) = rows.next() {
        return Err(extra.error(c_format, "trang tính này chỉ được có một dòng dữ liệu"));
    }
    Ok((row.text(c_format)?, row.number(c_version)?))
}

fn read_provinces(sheet: &Sheet, index: &mut Index) -> Result<Vec<ProvinceCatalogue>, XlsxError> {
    let c_code = sheet.col("code")?;
    let c_name = sheet.col("name")?;
    let mut provinces = Vec::new();
    for row in sheet.rows() {
        let code = row.parse(c_code, ProvinceCode::parse)?;
        match index.provinces.entry(code.clone()) {
            Entry::Occupied(_) => return Err(row.error(c_code, format!("tỉnh «{code}» đã có ở dòng trước"))),
            Entry::Vacant(e) => e.insert(provinces.len()),
        };
        provinces.push(ProvinceCatalogue {
            province: Province {
                code,
                name: row.text(c_name)?,
            },
            agencies: Vec::new(),
            aliases: Vec::new(),
            fields: Vec::new(),
            procedures: Vec::new(),
        });
    }
    Ok(provinces)
}

fn read_agencies(sheet: &Sheet, index: &Index, provinces: &mut [ProvinceCatalogue]) -> Result<(), XlsxError> {
    let c_province = sheet.col("province_code")?;
    let c_code = sheet.col("code")?;
    let c_name = sheet.col("name")?;
    let c_kind = sheet.col("kind")?;
    let c_parent = sheet.col("parent")?;
    let c_address = sheet.col("address")?;
    let c_phone = sheet.col("phone")?;
    let c_email = sheet.col("email")?;
    let c_admin_code = sheet.optional_col("admin_code")?;
    let c_retired_at = sheet.optional_col("retired_at")?;
    let c_successor = sheet.optional_col("successor")?;
    for row in sheet.rows() {
        let p = index.province(&row, c_province)?;
        provinces[p].agencies.push(Agency {
            code: row.parse(c_code, AgencyCode::parse)?,
            name: row.text(c_name)?,
            kind: row.choice(c_kind)?,
            parent: row.optional_parse(c_parent, AgencyCode::parse)?,
            address: row.text(c_address)?,
            phone: row.text(c_phone)?,
            email: row.text(c_email)?,
            admin_code: match c_admin_code {
                Some(col) => row.text(col)?,
                None => String::new(),
            },
            retired_at: match c_retired_at {
                Some(col) => row.optional_parse(col, parse_rfc3339)?,
                None => None,
            },
            successor: match c_successor {
                Some(col) => row.optional_parse(col, AgencyCode::parse)?,
                None => None,
            },
        });
    }
    Ok(())
}

fn read_aliases(sheet: &Sheet, index: &Index, provinces: &mut [ProvinceCatalogue]) -> Result<(), XlsxError> {
    let c_province = sheet.col("province_code")?;
    let c_old_code = sheet.col("old_code")?;
    let c_code = sheet.col("code")?;
    let c_at = sheet.col("at")?;
    for row in sheet.rows() {
        let p = index.province(&row, c_province)?;
        provinces[p].aliases.push(AgencyAlias {
            old_code: row.parse(c_old_code, AgencyCode::parse)?,
            code: row.parse(c_code, AgencyCode::parse)?,
            at: row.parse(c_at, parse_rfc3339)?,
        });
    }
    Ok(())
}

fn read_fields(sheet: &Sheet, index: &Index, provinces: &mut [ProvinceCatalogue]) -> Result<(), XlsxError> {
    let c_province = sheet.col("province_code")?;
    let c_code = sheet.col("code")?;
    let c_name = sheet.col("name")?;
    let c_agency = sheet.col("agency")?;
    for row in sheet.rows() {
        let p = index.province(&row, c_province)?;
        provinces[p].fields.push(Field {
            code: row.parse(c_code, FieldCode::parse)?,
            name: row.text(c_name)?,
            agency: row.parse(c_agency, AgencyCode::parse)?,
        });
    }
    Ok(())
}

fn read_procedures(
    sheet: &Sheet,
    index: &mut Index,
    provinces: &mut [ProvinceCatalogue],
) -> Result<Vec<Pending>, XlsxError> {
    let c_province = sheet.col("province_code")?;
    let c_code = sheet.col("code")?;
    let c_version = sheet.col("version")?;
    let c_created_at = sheet.col("created_at")?;
    let c_note = sheet.col("note")?;
    let c_name = sheet.col("name")?;
    let c_field = sheet.col("field")?;
    let c_agency = sheet.col("agency")?;
    let c_level = sheet.col("level")?;
    let c_amount = sheet.col("processing_time_amount")?;
    let c_unit = sheet.col("processing_time_unit")?;
    let c_sets = sheet.col("sets")?;
    let c_online_mode = sheet.col("online_mode")?;
    let c_service_level = sheet.col("service_level")?;
    let c_at_centre = sheet.col("at_centre")?;
    let c_description = sheet.col("description")?;
    let c_conditions = sheet.col("conditions")?;
    let c_applicants = sheet.col("applicants")?;
    let c_receivable = sheet.optional_col("receivable")?;
    let c_communes = sheet.optional_col("communes")?;

    let mut pending: Vec<Pending> = Vec::new();
    for row in sheet.rows() {
        let province = index.province(&row, c_province)?;
        let code = row.parse(c_code, ProcedureCode::parse)?;
        let procedure = match index.procedures.entry((province, code.clone())) {
            Entry::Occupied(e) => *e.get(),
            Entry::Vacant(e) => {
                let list = &mut provinces[province].procedures;
                list.push(ProcedureRecord {
                    code: code.clone(),
                    versions: Vec::new(),
                });
                *e.insert(list.len() - 1)
            }
        };
        // An empty version marks a record without versions; a row that has content but
        // lost its version number is a mistake, not such a record.
        if row.is_empty(c_version) {
            if row.is_empty(c_name) && row.is_empty(c_created_at) {
                continue;
            }
            return Err(row.error(c_version, "không được để trống"));
        }
        let number: u32 = row.number(c_version)?;
        match index.versions.entry((province, procedure, number)) {
            Entry::Occupied(e) => {
                let first = pending[*e.get()].row;
                return Err(row.error(
                    c_version,
                    format!("phiên bản {number} của thủ tục «{code}» đã có ở dòng {first}"),
                ));
            }
            Entry::Vacant(e) => e.insert(pending.len()),
        };
        let created_at = row.parse(c_created_at, parse_rfc3339)?;
        let content = ProcedureContent {
            name: row.text(c_name)?,
            field: row.parse(c_field, FieldCode::parse)?,
            agency: row.parse(c_agency, AgencyCode::parse)?,
            level: row.choice(c_level)?,
            processing_time: ProcessingTime {
                amount: row.number(c_amount)?,
                unit: row.choice(c_unit)?,
            },
            documents: Vec::new(),
            sets: row.number(c_sets)?,
            fees: Vec::new(),
            results: Vec::new(),
            legal_basis: Vec::new(),
            applicants: row.choices(c_applicants)?,
            online_mode: row.choice(c_online_mode)?,
            service_level: row.number(c_service_level)?,
            at_centre: row.boolean(c_at_centre)?,
            receivable: match c_receivable {
                Some(col) => row
                    .optional_parse(col, |t| Receivable::from_name(t).ok_or_else(|| Receivable::invalid(t)))?
                    .unwrap_or_default(),
                None => Receivable::default(),
            },
            communes: match c_communes {
                Some(col) => row.codes(col)?,
                None => Vec::new(),
            },
            steps: Vec::new(),
            description: row.text(c_description)?,
            conditions: row.text(c_conditions)?,
        };
        pending.push(Pending {
            province,
            procedure,
            row: row.number,
            version: ProcedureVersion {
                version: number,
                created_at,
                note: row.text(c_note)?,
                content,
            },
            documents: Vec::new(),
            fees: Vec::new(),
            results: Vec::new(),
            legal_basis: Vec::new(),
            steps: Vec::new(),
        });
    }
    Ok(pending)
}

/// The columns that attach a list row to its procedure version.
struct KeyColumns {
    province: Col,
    code: Col,
    version: Col,
    position: Col,
}

/// Reads the rows of a list sheet into the pending versions they belong to, with `item`
/// reading the row's own columns (looked up by the caller, before any row is read).
fn read_items<T>(
    sheet: &Sheet,
    index: &Index,
    pending: &mut [Pending],
    list: fn(&mut Pending) -> &mut Vec<(u32, T)>,
    mut item: impl FnMut(&Row<'_>) -> Result<T, XlsxError>,
) -> Result<(), XlsxError> {
    let key = KeyColumns {
        province: sheet.col("province_code")?,
        code: sheet.col("code")?,
        version: sheet.col("version")?,
        position: sheet.col("position")?,
    };
    // (version, position) → row, so a repeated position is reported with both rows.
    let mut seen: HashMap<(usize, u32), u32> = HashMap::new();
    for row in sheet.rows() {
        let target = index.version(&row, &key)?;
        let position: u32 = row.number(key.position)?;
        if let Some(first) = seen.insert((target, position), row.number) {
            return Err(row.error(
                key.position,
                format!("vị trí {position} của cùng thủ tục và phiên bản đã có ở dòng {first}"),
            ));
        }
        let value = item(&row)?;
        list(&mut pending[target]).push((position, value));
    }
    Ok(())
}

fn read_documents(sheet: &Sheet, index: &Index, pending: &mut [Pending]) -> Result<(), XlsxError> {
    let c_name = sheet.col("name")?;
    let c_originals = sheet.col("originals")?;
    let c_copies = sheet.col("copies")?;
    let c_required = sheet.col("required")?;
    let c_form_name = sheet.col("form_name")?;
    let c_form_url = sheet.col("form_url")?;
    let c_note = sheet.col("note")?;
    read_items(
        sheet,
        index,
        pending,
        |p| &mut p.documents,
        |row| {
            let form_url = row.text(c_form_url)?;
            // The form's name is what makes it present (see the module documentation).
            let form = match row.optional_text(c_form_name)? {
                Some(name) => Some(FormTemplate { name, url: form_url }),
                None if form_url.is_empty() => None,
                None => return Err(row.error(c_form_name, "có đường dẫn biểu mẫu thì phải có tên biểu mẫu")),
            };
            Ok(DocumentRequirement {
                name: row.text(c_name)?,
                originals: row.number(c_originals)?,
                copies: row.number(c_copies)?,
                required: row.boolean(c_required)?,
                form,
                note: row.text(c_note)?,
            })
        },
    )
}

fn read_fees(sheet: &Sheet, index: &Index, pending: &mut [Pending]) -> Result<(), XlsxError> {
    let c_kind = sheet.col("kind")?;
    let c_name = sheet.col("name")?;
    let c_amount = sheet.col("amount")?;
    let c_option = sheet.col("option")?;
    read_items(
        sheet,
        index,
        pending,
        |p| &mut p.fees,
        |row| {
            Ok(FeeItem {
                kind: row.choice(c_kind)?,
                name: row.text(c_name)?,
                amount: Vnd(row.number(c_amount)?),
                option: row.optional_text(c_option)?,
            })
        },
    )
}

fn read_texts(
    sheet: &Sheet,
    index: &Index,
    pending: &mut [Pending],
    list: fn(&mut Pending) -> &mut Vec<(u32, String)>,
) -> Result<(), XlsxError> {
    let c_text = sheet.col("text")?;
    read_items(sheet, index, pending, list, |row| row.text(c_text))
}

fn read_steps(sheet: &Sheet, index: &Index, pending: &mut [Pending]) -> Result<(), XlsxError> {
    let c_name = sheet.col("name")?;
    let c_role = sheet.col("role")?;
    let c_agency = sheet.col("agency")?;
    let c_budget = sheet.col("budget_hours")?;
    read_items(
        sheet,
        index,
        pending,
        |p| &mut p.steps,
        |row| {
            Ok(ProcessingStep {
                name: row.text(c_name)?,
                role: row.choice(c_role)?,
                agency: row.optional_parse(c_agency, AgencyCode::parse)?,
                budget_hours: row.number(c_budget)?,
            })
        },
    )
}

/// A column found in a sheet's header.
#[derive(Clone, Copy)]
struct Col {
    name: &'static str,
    /// Index within the sheet's used range.
    index: usize,
    /// Absolute column index (0 = A), for cell references.
    absolute: u32,
}

/// One sheet of the workbook with its header parsed.
struct Sheet {
    name: &'static str,
    range: Range<Data>,
    /// Spreadsheet row number (1-based) of the header: the first row of the used range.
    header_row: u32,
    /// Normalised header text → index within the used range.
    header: HashMap<String, usize>,
    /// Header names that appear more than once; reading such a column would be a guess.
    duplicates: HashSet<String>,
}

impl Sheet {
    fn load<R: std::io::Read + std::io::Seek>(
        workbook: &mut Xlsx<R>,
        names: &[String],
        name: &'static str,
    ) -> Result<Self, XlsxError> {
        // Spreadsheet programs treat sheet names case-insensitively; so do we.
        let mut matching = names.iter().filter(|n| n.trim().eq_ignore_ascii_case(name));
        let actual = matching
            .next()
            .ok_or_else(|| XlsxError::MissingSheet { sheet: name.to_owned() })?;
        if matching.next().is_some() {
            return Err(XlsxError::DuplicateSheet { sheet: name.to_owned() });
        }
        let range = workbook.worksheet_range(actual).map_err(XlsxError::Unreadable)?;
        let header_row = range.start().map_or(1, |(row, _)| row + 1);
        let mut header = HashMap::new();
        let mut duplicates = HashSet::new();
        for (i, cell) in range.rows().next().unwrap_or_default().iter().enumerate() {
            if let Data::String(text) = cell {
                let key = nfc(text).to_lowercase();
                if key.is_empty() {
                    continue;
                }
                // The first occurrence is kept so that the error points at it.
                match header.entry(key) {
                    Entry::Occupied(e) => {
                        duplicates.insert(e.key().clone());
                    }
                    Entry::Vacant(e) => {
                        e.insert(i);
                    }
                }
            }
        }
        Ok(Self {
            name,
            range,
            header_row,
            header,
            duplicates,
        })
    }

    /// Column `name` where a workbook of an earlier release may lack it: `None` then.
    fn optional_col(&self, name: &'static str) -> Result<Option<Col>, XlsxError> {
        if self.header.contains_key(name) {
            self.col(name).map(Some)
        } else {
            Ok(None)
        }
    }

    fn col(&self, name: &'static str) -> Result<Col, XlsxError> {
        let start_col = self.range.start().map_or(0, |(_, c)| c);
        let Some(&index) = self.header.get(name) else {
            return Err(XlsxError::MissingColumn {
                sheet: self.name.to_owned(),
                column: name.to_owned(),
            });
        };
        let col = Col {
            name,
            index,
            absolute: start_col.saturating_add(u32::try_from(index).unwrap_or(u32::MAX)),
        };
        if self.duplicates.contains(name) {
            return Err(self.error(self.header_row, col, "tên cột bị lặp; mỗi cột chỉ được có một lần"));
        }
        Ok(col)
    }

    /// The data rows (everything below the header), blank rows skipped.
    fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        (self.header_row..)
            .zip(self.range.rows())
            .skip(1)
            .filter(|(_, cells)| !cells.iter().all(is_blank))
            .map(|(number, cells)| Row {
                sheet: self,
                number,
                cells,
            })
    }

    fn error(&self, row: u32, col: Col, message: impl Into<String>) -> XlsxError {
        XlsxError::Cell {
            sheet: self.name.to_owned(),
            row,
            column: col.name.to_owned(),
            cell: format!("{}{row}", column_letters(col.absolute)),
            message: message.into(),
        }
    }
}

fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// Undoes the OOXML escape of text: `_xHHHH_` stands for the character U+HHHH.
///
/// The XLSX writer (like Excel) writes control characters as `_x0001_` and protects a literal
/// `_xHHHH_` in text as `_x005F_xHHHH_`; the reader hands both back verbatim, so without this
/// such text would not survive the round trip. Scanning left to right decodes `_x005F_` to
/// `_` and then copies the rest literally, which is exactly the inverse.
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains("_x") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()) && tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            // The seven bytes `_xHHHH_` are ASCII, so slicing after them is on a boundary.
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `0` → `A`, `25` → `Z`, `26` → `AA`: column letters as spreadsheets show them.
fn column_letters(index: u32) -> String {
    let mut letters = Vec::new();
    let mut n = index;
    loop {
        letters.push(char::from(b'A' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    letters.iter().rev().collect()
}

/// One data row of a sheet, with typed accessors that report errors at the cell.
struct Row<'s> {
    sheet: &'s Sheet,
    /// Row number as the spreadsheet shows it.
    number: u32,
    cells: &'s [Data],
}

/// The unsigned integer types read from number cells.
trait Whole: TryFrom<u64> {
    const MAX: u64;
}

impl Whole for u8 {
    const MAX: u64 = u8::MAX as u64;
}
impl Whole for u16 {
    const MAX: u64 = u16::MAX as u64;
}
impl Whole for u32 {
    const MAX: u64 = u32::MAX as u64;
}
impl Whole for u64 {
    const MAX: u64 = u64::MAX;
}

impl Row<'_> {
    fn cell(&self, col: Col) -> &Data {
        self.cells.get(col.index).unwrap_or(&Data::Empty)
    }

    fn error(&self, col: Col, message: impl Into<String>) -> XlsxError {
        self.sheet.error(self.number, col, message)
    }

    fn is_empty(&self, col: Col) -> bool {
        is_blank(self.cell(col))
    }

    /// The cell as NFC text; empty for a blank cell. Numbers are accepted as their digits,
    /// since spreadsheets turn typed codes and phone numbers into numbers.
    fn text(&self, col: Col) -> Result<String, XlsxError> {
        match self.cell(col) {
            Data::Empty => Ok(String::new()),
            Data::String(s) => Ok(nfc(&unescape(s))),
            Data::DateTimeIso(s) | Data::DurationIso(s) => Ok(nfc(s)),
            Data::Int(i) => Ok(i.to_string()),
            // Display prints whole floats without a fraction (`12`, not `12.0`).
            Data::Float(f) => Ok(f.to_string()),
            Data::Bool(_) => Err(self.error(col, "phải là văn bản, không phải giá trị đúng/sai")),
            Data::DateTime(_) => Err(self.error(col, "phải là văn bản, không phải ngày giờ")),
            Data::Error(e) => Err(self.error(col, format!("ô chứa lỗi công thức ({e})"))),
        }
    }

    /// The cell as NFC text, `None` when blank.
    fn optional_text(&self, col: Col) -> Result<Option<String>, XlsxError> {
        let text = self.text(col)?;
        Ok((!text.is_empty()).then_some(text))
    }

    /// A required value parsed from the cell's text.
    fn parse<T, E: Display>(&self, col: Col, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<T, XlsxError> {
        match self.optional_parse(col, parse)? {
            Some(value) => Ok(value),
            None => Err(self.error(col, "không được để trống")),
        }
    }

    /// An optional value parsed from the cell's text, `None` when blank.
    fn optional_parse<T, E: Display>(
        &self,
        col: Col,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, XlsxError> {
        match self.optional_text(col)? {
            Some(text) => parse(&text).map(Some).map_err(|e| self.error(col, e.to_string())),
            None => Ok(None),
        }
    }

    /// A required whole number that fits `T`.
    fn number<T: Whole>(&self, col: Col) -> Result<T, XlsxError> {
        const NOT_WHOLE: &str = "phải là số nguyên không âm";
        let n = match self.cell(col) {
            Data::Int(i) => u64::try_from(*i).map_err(|_| self.error(col, NOT_WHOLE))?,
            // Every whole double in 0..2^64 converts exactly; fractions and negatives are refused.
            Data::Float(f) if f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(f) => *f as u64,
            Data::Float(_) => return Err(self.error(col, NOT_WHOLE)),
            Data::String(s) if !s.trim().is_empty() => {
                s.trim().parse::<u64>().map_err(|_| self.error(col, NOT_WHOLE))?
            }
            Data::Empty | Data::String(_) => return Err(self.error(col, "không được để trống")),
            _ => return Err(self.error(col, NOT_WHOLE)),
        };
        T::try_from(n).map_err(|_| self.error(col, format!("số {n} quá lớn (tối đa {})", T::MAX)))
    }

    /// A required boolean: a spreadsheet boolean, or the text `TRUE`/`FALSE`.
    fn boolean(&self, col: Col) -> Result<bool, XlsxError> {
        match self.cell(col) {
            Data::Bool(b) => Ok(*b),
            Data::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
            Data::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
            cell if is_blank(cell) => Err(self.error(col, "không được để trống")),
            _ => Err(self.error(col, "phải là TRUE hoặc FALSE")),
        }
    }

    /// A required enumeration value, by its serde name.
    fn choice<T: Named>(&self, col: Col) -> Result<T, XlsxError> {
        self.parse(col, |text| T::from_name(text).ok_or_else(|| T::invalid(text)))
    }

    /// A comma-separated list of agency codes; blank is the empty list.
    fn codes(&self, col: Col) -> Result<Vec<AgencyCode>, XlsxError> {
        self.text(col)?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| AgencyCode::parse(s).map_err(|e| self.error(col, e.to_string())))
            .collect()
    }

    /// A comma-separated list of enumeration values; blank is the empty list.
    fn choices<T: Named>(&self, col: Col) -> Result<Vec<T>, XlsxError> {
        self.text(col)?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| T::from_name(s).ok_or_else(|| self.error(col, T::invalid(s))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names written must be exactly the serde names, which JSON export uses too.
    fn same_as_serde<T: Named + serde::Serialize>() {
        for &v in T::ALL {
            let json = serde_json::to_value(v).expect("enums serialise");
            assert_eq!(json.as_str(), Some(v.name()));
            assert_eq!(T::from_name(&v.name().to_uppercase()).map(T::name), Some(v.name()));
        }
    }

    #[test]
    fn names_match_serde() {
        same_as_serde::<AgencyKind>();
        same_as_serde::<Level>();
        same_as_serde::<OnlineMode>();
        same_as_serde::<TimeUnit>();
        same_as_serde::<FeeKind>();
        same_as_serde::<ApplicantKind>();
        same_as_serde::<StepRole>();
    }

    #[test]
    fn unescape_inverts_the_ooxml_escape() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("a_x0001_b"), "a\u{1}b");
        assert_eq!(unescape("_x005F_x0041_"), "_x0041_");
        // What the writer makes of the text `_x005F_x0041_`.
        assert_eq!(unescape("_x005F_x005F_x005F_x0041_"), "_x005F_x0041_");
        assert_eq!(unescape("_x00Zz_ _x12 _x"), "_x00Zz_ _x12 _x");
        assert_eq!(unescape("Ủy_x0041_ban"), "ỦyAban");
        assert_eq!(unescape("_xD800_"), "_xD800_");
    }

    #[test]
    fn errors_cross_threads() {
        // Servers read and write on a blocking thread and hand the error back.
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<XlsxError>();
    }

    #[test]
    fn column_letters_match_spreadsheets() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(51), "AZ");
        assert_eq!(column_letters(52), "BA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn columns_fit_their_headers() {
        for columns in [
            META_COLUMNS,
            PROVINCE_COLUMNS,
            AGENCY_COLUMNS,
            FIELD_COLUMNS,
            PROCEDURE_COLUMNS,
            DOCUMENT_COLUMNS,
            FEE_COLUMNS,
            TEXT_ITEM_COLUMNS,
            STEP_COLUMNS,
        ] {
            for c in columns {
                assert!(c.width >= c.name.len() as f64, "{} is narrower than its header", c.name);
            }
        }
    }
}
