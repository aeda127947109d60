//! Dossier lists and the register (sổ theo dõi hồ sơ) as XLSX, written row by row.
//!
//! The worksheet runs in rust_xlsxwriter's constant-memory mode: each row goes to a
//! temporary file as it is written, so an export of a whole year holds one page of
//! dossiers in memory, not the year. Headers are Vietnamese and frozen; instants are real
//! Excel dates (Vietnam time), money is a number with thousands grouping.

use std::io::{Seek, Write};

use motcua_core::money::Vnd;
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook};
use time::{OffsetDateTime, UtcOffset};

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The writer failed (disk full for its temporary files, usually).
    #[error("không ghi được bảng tính: {0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
    /// A date Excel cannot hold (before 1900).
    #[error("năm {0} nằm ngoài khoảng Excel ghi được")]
    OutOfRange(i32),
    /// More rows than a worksheet holds.
    #[error("bảng tính vượt quá {MAX_ROWS} dòng; hãy chọn kỳ ngắn hơn")]
    TooManyRows,
}

/// Most data rows of a worksheet (Excel's limit, less the header).
pub const MAX_ROWS: u32 = 1_048_575;

/// One cell's value, typed as Excel should see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Number(i64),
    /// An amount in đồng (a number with thousands grouping).
    Money(Vnd),
    /// An instant: date and time, in Vietnam time.
    DateTime(OffsetDateTime),
    /// An instant shown as its date only, in Vietnam time.
    Date(OffsetDateTime),
    /// Nothing.
    Empty,
}

impl Cell {
    /// Text, or an empty cell for an empty string.
    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
    }

    /// A date and time, or an empty cell.
    pub fn datetime(t: Option<OffsetDateTime>) -> Cell {
        t.map_or(Cell::Empty, Cell::DateTime)
    }

    /// A date, or an empty cell.
    pub fn date(t: Option<OffsetDateTime>) -> Cell {
        t.map_or(Cell::Empty, Cell::Date)
    }
}

/// A column: its Vietnamese header and width (in characters).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Header text.
    pub header: &'static str,
    /// Width in characters.
    pub width: f64,
}

const fn col(header: &'static str, width: f64) -> Column {
    Column { header, width }
}

/// The columns of a dossier list export (`/api/v1/dossiers.xlsx`).
pub const DOSSIER_COLUMNS: &[Column] = &[
    col("Mã hồ sơ", 26.0),
    col("Mã thủ tục", 12.0),
    col("Tên thủ tục hành chính", 50.0),
    col("Mã trạng thái", 8.0),
    col("Trạng thái", 24.0),
    col("Kênh nộp", 14.0),
    col("Người nộp hồ sơ", 28.0),
    col("Cơ quan đang giữ", 30.0),
    col("Cán bộ đang xử lý", 24.0),
    col("Ngày nộp", 17.0),
    col("Ngày tiếp nhận", 17.0),
    col("Hẹn trả kết quả", 17.0),
    col("Ngày có kết quả", 17.0),
    col("Ngày trả kết quả", 17.0),
    col("Phí, lệ phí (đồng)", 14.0),
    col("Quá hạn", 8.0),
];

/// The columns of the register (form 07): one line per dossier received.
pub const REGISTER_COLUMNS: &[Column] = &[
    col("STT", 6.0),
    col("Mã hồ sơ", 26.0),
    col("Tên thủ tục hành chính", 45.0),
    col("Số lượng hồ sơ (bộ)", 10.0),
    col("Tên cá nhân, tổ chức", 28.0),
    col("Địa chỉ, số điện thoại", 32.0),
    col("Cơ quan chủ trì giải quyết", 30.0),
    col("Nhận hồ sơ", 17.0),
    col("Hẹn trả kết quả", 17.0),
    col("Chuyển hồ sơ đến cơ quan giải quyết", 17.0),
    col("Có kết quả giải quyết", 17.0),
    col("Trả kết quả", 17.0),
    col("Phí, lệ phí (đồng)", 14.0),
    col("Ghi chú", 24.0),
];

const VIETNAM: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

struct Formats {
    header: Format,
    datetime: Format,
    date: Format,
    money: Format,
}

/// A one-sheet workbook written row by row in constant memory.
pub struct SheetWriter {
    workbook: Workbook,
    formats: Formats,
    columns: usize,
    row: u32,
}

impl SheetWriter {
    /// A workbook with one sheet named `sheet`, its header row written and frozen.
    pub fn new(sheet: &str, columns: &[Column]) -> Result<Self, ExportError> {
        let mut workbook = Workbook::new();
        let formats = Formats {
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            datetime: Format::new().set_num_format("dd/mm/yyyy hh:mm"),
            date: Format::new().set_num_format("dd/mm/yyyy"),
            money: Format::new().set_num_format("#,##0"),
        };
        let ws = workbook.add_worksheet_with_constant_memory();
        ws.set_name(sheet)?;
        for (c, column) in columns.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| ExportError::TooManyRows)?;
            ws.set_column_width(c, column.width)?;
            ws.write_string_with_format(0, c, column.header, &formats.header)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(Self {
            workbook,
            formats,
            columns: columns.len(),
            row: 0,
        })
    }

    /// Rows written so far, not counting the header.
    pub fn rows(&self) -> u32 {
        self.row
    }

    /// Appends one row; cells past the last column are ignored.
    pub fn push(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        if self.row >= MAX_ROWS {
            return Err(ExportError::TooManyRows);
        }
        self.row += 1;
        let row = self.row;
        let f = &self.formats;
        let ws = self.workbook.worksheet_from_index(0)?;
        for (c, cell) in cells.iter().take(self.columns).enumerate() {
            let c = u16::try_from(c).map_err(|_| ExportError::TooManyRows)?;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(row, c, s)?;
                }
                // Counts and codes, far below 2^53: exact as f64.
                Cell::Number(n) => {
                    ws.write_number(row, c, *n as f64)?;
                }
                // Amounts are at most Vnd::MAX, below 2^53: exact as f64.
                Cell::Money(v) => {
                    ws.write_number_with_format(row, c, v.0 as f64, &f.money)?;
                }
                Cell::DateTime(t) => {
                    ws.write_datetime_with_format(row, c, excel_datetime(*t)?, &f.datetime)?;
                }
                Cell::Date(t) => {
                    let t = t.to_offset(VIETNAM);
                    let d = ExcelDateTime::from_ymd(year(t)?, u8::from(t.month()), t.day())?;
                    ws.write_datetime_with_format(row, c, d, &f.date)?;
                }
                Cell::Empty => {}
            }
        }
        Ok(())
    }

    /// Closes the workbook into `out`.
    pub fn finish<W: Write + Seek + Send>(mut self, out: W) -> Result<(), ExportError> {
        self.workbook.save_to_writer(out)?;
        Ok(())
    }
}

fn year(t: OffsetDateTime) -> Result<u16, ExportError> {
    u16::try_from(t.year()).map_err(|_| ExportError::OutOfRange(t.year()))
}

fn excel_datetime(t: OffsetDateTime) -> Result<ExcelDateTime, ExportError> {
    let t = t.to_offset(VIETNAM);
    Ok(
        ExcelDateTime::from_ymd(year(t)?, u8::from(t.month()), t.day())?.and_hms(
            u16::from(t.hour()),
            t.minute(),
            t.second(),
        )?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};
    use time::macros::datetime;

    #[test]
    fn cells_come_back_typed() {
        let mut w = SheetWriter::new("Hồ sơ", DOSSIER_COLUMNS).expect("new");
        w.push(&[
            Cell::text("000.00.16.H43-260213-0001"),
            Cell::Number(4),
            Cell::Money(Vnd(1_500_000)),
            Cell::DateTime(datetime!(2026-02-13 02:30 UTC)),
            Cell::Date(datetime!(2026-02-13 20:00 UTC)),
            Cell::Empty,
        ])
        .expect("row");
        let mut buf = std::io::Cursor::new(Vec::new());
        w.finish(&mut buf).expect("finish");
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(buf.into_inner())).expect("open");
        let range = book.worksheet_range("Hồ sơ").expect("sheet");
        assert_eq!(range.get((0, 0)), Some(&Data::String("Mã hồ sơ".to_owned())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(4.0)));
        assert_eq!(range.get((1, 2)), Some(&Data::Float(1_500_000.0)));
        // Excel serial dates: days since 1899-12-30. 13 Feb 2026 is day 46066; 09:30 in Vietnam.
        let Some(Data::DateTime(t)) = range.get((1, 3)) else {
            panic!("{:?}", range.get((1, 3)));
        };
        assert!((t.as_f64() - (46066.0 + 9.5 / 24.0)).abs() < 1e-6, "{}", t.as_f64());
        // 20:00 UTC is already the 14th in Vietnam.
        let Some(Data::DateTime(d)) = range.get((1, 4)) else {
            panic!("{:?}", range.get((1, 4)));
        };
        assert!((d.as_f64() - 46067.0).abs() < 1e-9, "{}", d.as_f64());
    }
}
