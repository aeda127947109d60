//! The working-day calendar of a centre (docs/rules.md §4): working sessions, weekly rest days,
//! public holidays with their compensatory days, and the government's yearly adjustments.
//!
//! Deadlines are counted in working time: a procedure of N working days gets
//! N × [`WorkWeek::minutes_per_working_day`] working minutes (480 with the default sessions,
//! i.e. "8 hours = 1 day"), counted only inside the sessions of working days. All local times
//! are Vietnam time, UTC+7 all year (Asia/Ho_Chi_Minh has had no daylight saving since 1975,
//! and the calendar treats the whole supported range, 1900–2199, as UTC+7).
//!
//! # Semantics of adding working time
//! For an instant `t` and a working duration `d`, `add(t, d)` is the earliest instant `u ≥ t`
//! such that the working time inside `[t, u]` equals `d`. So:
//! - for `d > 0`, the result always lies inside a session, with the session's end included and
//!   its start excluded: received Friday 16:30, plus 30 minutes, is due Friday 17:00, not the
//!   next Monday at 07:00;
//! - for `d = 0`, the result is `t` if `t` is inside a session or exactly at a session's end,
//!   otherwise the start of the next session;
//! - adding is associative: `add(add(t, a), b) == add(t, a + b)`, and
//!   `working_minutes_between(t, add(t, d)) == d`.
//!
//! Anything received outside a session (at night, on a rest day, at lunch) starts counting at
//! the next session's start.
//!
//! # Holidays
//! Computed per year from the Labour Code 2019, art. 112 (1/1; Tết, five days; Hùng Kings'
//! day 10/3 lunar; 30/4; 1/5; 2/9 plus an adjacent day), with a compensatory day for each
//! holiday that falls on a weekly rest day (art. 111(3)), then adjusted by the data an
//! administrator enters per year ([`YearAdjustments`]): the announced Tết days, the adjacent
//! National Day day, extra days off and make-up working days.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::macros::{datetime, offset};
use time::{Date, Month, OffsetDateTime, Time, UtcOffset, Weekday};

use crate::lunar;
use crate::text::nfc;

/// First year the calendar covers.
pub const FIRST_YEAR: i32 = 1900;
/// Last year the calendar covers (the lunar conversion is published for 1800–2199).
pub const LAST_YEAR: i32 = 2199;

/// Vietnam's offset from UTC, all year (Asia/Ho_Chi_Minh, no daylight saving).
pub const VIETNAM_OFFSET: UtcOffset = offset!(+7);

/// The day `s` names, as people type it (`dd/mm/yyyy`, or `d/m/yyyy`, with `/`, `-` or `.`)
/// or as a date field sends it (`YYYY-MM-DD`); `None` if it is not a real day. Every page
/// and period parameter reads days with this.
pub fn parse_day(s: &str) -> Option<Date> {
    let parts: Vec<&str> = s.trim().split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let digits = |x: &str| !x.is_empty() && x.len() <= 4 && x.bytes().all(|c| c.is_ascii_digit());
    if !(digits(a) && digits(b) && digits(c)) {
        return None;
    }
    let (y, m, d) = if a.len() == 4 {
        (*a, *b, *c)
    } else if c.len() == 4 {
        (*c, *b, *a)
    } else {
        return None;
    };
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// `dd/mm/yyyy HH:MM` in Vietnam time: how people read an instant on pages, messages and
/// documents.
pub fn vn_datetime(t: OffsetDateTime) -> String {
    t.to_offset(VIETNAM_OFFSET)
        .format(time::macros::format_description!(
            "[day]/[month]/[year] [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// First instant covered: 1900-01-01 00:00 in Vietnam.
const RANGE_START: OffsetDateTime = datetime!(1900-01-01 0:00 +7);
/// First instant no longer covered: 2200-01-01 00:00 in Vietnam.
const RANGE_END: OffsetDateTime = datetime!(2200-01-01 0:00 +7);
const FIRST_JD: i32 = RANGE_START.to_julian_day();
/// Julian day just after the covered range.
const END_JD: i32 = RANGE_END.to_julian_day();
const YEARS: usize = (LAST_YEAR - FIRST_YEAR + 1) as usize;

const MINUTES_PER_DAY: u16 = 24 * 60;
const NANOS_PER_MINUTE: i64 = 60_000_000_000;
const NANOS_PER_DAY: i64 = 1440 * NANOS_PER_MINUTE;
/// More working minutes than the whole range holds: anything above overflows it for sure,
/// and capping here keeps the nanosecond arithmetic far from `i128` limits.
const MAX_MINUTES: u64 = (END_JD - FIRST_JD) as u64 * MINUTES_PER_DAY as u64;

/// Why a calendar could not be built or a computation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The work week has no session.
    #[error("Lịch làm việc phải có ít nhất một buổi làm việc")]
    NoSessions,
    /// A session is empty, reversed or not within one day.
    #[error("Buổi làm việc {} không hợp lệ: giờ bắt đầu phải trước giờ kết thúc, trong khoảng 00:00–24:00", .0)]
    InvalidSession(Session),
    /// Two sessions are out of order or overlap.
    #[error("Các buổi làm việc phải theo thứ tự thời gian và không chồng lên nhau ({first} và {second})")]
    SessionsOverlap {
        /// The earlier session in the list.
        first: Session,
        /// The session that starts before `first` ends.
        second: Session,
    },
    /// The work week has no working weekday.
    #[error("Lịch làm việc phải có ít nhất một ngày làm việc trong tuần")]
    NoWorkingWeekdays,
    /// A year outside 1900–2199.
    #[error("Năm {0} nằm ngoài phạm vi lịch được hỗ trợ ({FIRST_YEAR}–{LAST_YEAR})")]
    YearOutOfRange(i32),
    /// An instant, or a result, outside 1900–2199.
    #[error("Thời điểm nằm ngoài phạm vi lịch được hỗ trợ (năm {FIRST_YEAR}–{LAST_YEAR})")]
    OutOfRange,
    /// Two adjustment records for one year.
    #[error("Điều chỉnh lịch năm {0} được khai báo nhiều lần")]
    DuplicateYear(i32),
    /// An adjustment date that is not in the year of its record.
    #[error("Điều chỉnh lịch năm {year}: ngày {} không thuộc năm {year}", vn_date(*.date))]
    DateOutsideYear {
        /// The year of the record.
        year: i32,
        /// The offending date.
        date: Date,
    },
    /// A date listed both as a day off and as a working day.
    #[error("Ngày {} vừa được khai báo là ngày nghỉ vừa là ngày làm việc", vn_date(*.0))]
    ConflictingDay(Date),
    /// The extra National Day holiday is not next to 2/9.
    #[error("Ngày nghỉ thêm dịp Quốc khánh năm {year} phải là 01/09 hoặc 03/09 (liền kề ngày 02/09), không phải {}", vn_date(*.date))]
    NationalDayNotAdjacent {
        /// The year of the record.
        year: i32,
        /// The offending date.
        date: Date,
    },
    /// An empty list of Tết days.
    #[error("Danh sách ngày nghỉ Tết Nguyên đán năm {0} không được để trống")]
    EmptyTet(i32),
}

/// `dd/mm/yyyy`, the way dates are written in Vietnamese documents.
pub fn vn_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

fn vn_weekday(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "thứ Hai",
        Weekday::Tuesday => "thứ Ba",
        Weekday::Wednesday => "thứ Tư",
        Weekday::Thursday => "thứ Năm",
        Weekday::Friday => "thứ Sáu",
        Weekday::Saturday => "thứ Bảy",
        Weekday::Sunday => "Chủ nhật",
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration: sessions and the work week

/// A working session of the day, `[start, end)` in minutes after local midnight.
///
/// Serialized as `{"start": "07:00", "end": "11:30"}`; `"24:00"` is accepted as an end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// Start, in minutes after midnight (420 = 07:00).
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "07:00"))]
    pub start: u16,
    /// End (exclusive), in minutes after midnight (690 = 11:30); at most 1440 (24:00).
    #[serde(with = "hhmm")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "11:30"))]
    pub end: u16,
}

impl Session {
    /// A session from minutes after midnight; checked when the work week is validated.
    pub const fn new(start: u16, end: u16) -> Self {
        Self { start, end }
    }

    /// Length in minutes (0 for an invalid, reversed session).
    pub const fn minutes(&self) -> u16 {
        self.end.saturating_sub(self.start)
    }

    fn is_valid(&self) -> bool {
        self.start < self.end && self.end <= MINUTES_PER_DAY
    }
}

impl fmt::Display for Session {
    /// `07:00–11:30`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", hhmm::format(self.start), hhmm::format(self.end))
    }
}

/// When a centre works: its daily sessions and its working weekdays. Stored per centre.
///
/// JSON: `{"sessions": [{"start": "07:00", "end": "11:30"}, …], "weekdays": [1, 2, 3, 4, 5]}`
/// with ISO weekday numbers (1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkWeek {
    /// Daily sessions, in order and not overlapping.
    pub sessions: Vec<Session>,
    /// Working weekdays; every other weekday is a weekly rest day.
    #[serde(with = "iso_weekdays")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u8>, example = json!([1, 2, 3, 4, 5])))]
    pub weekdays: Vec<Weekday>,
}

impl Default for WorkWeek {
    /// 07:00–11:30 and 13:30–17:00 (8 working hours), Monday to Friday: the usual hours of
    /// state agencies (docs/rules.md §4).
    fn default() -> Self {
        Self {
            sessions: vec![Session::new(7 * 60, 11 * 60 + 30), Session::new(13 * 60 + 30, 17 * 60)],
            weekdays: vec![
                Weekday::Monday,
                Weekday::Tuesday,
                Weekday::Wednesday,
                Weekday::Thursday,
                Weekday::Friday,
            ],
        }
    }
}

impl WorkWeek {
    /// Checks the sessions (at least one, each within the day, sorted, not overlapping; two
    /// sessions may touch) and that at least one weekday is worked.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.sessions.is_empty() {
            return Err(CalendarError::NoSessions);
        }
        if let Some(bad) = self.sessions.iter().find(|s| !s.is_valid()) {
            return Err(CalendarError::InvalidSession(*bad));
        }
        for pair in self.sessions.windows(2) {
            if let [first, second] = pair
                && second.start < first.end
            {
                return Err(CalendarError::SessionsOverlap {
                    first: *first,
                    second: *second,
                });
            }
        }
        if self.weekdays.is_empty() {
            return Err(CalendarError::NoWorkingWeekdays);
        }
        Ok(())
    }

    /// Working minutes in one working day: the length of a "working day" in deadlines
    /// (480 with the default sessions).
    pub fn minutes_per_working_day(&self) -> u32 {
        self.sessions.iter().map(|s| u32::from(s.minutes())).sum()
    }

    /// Whether `day` is a working weekday (before holidays and adjustments).
    pub fn works_on(&self, day: Weekday) -> bool {
        self.weekdays.contains(&day)
    }
}

// ---------------------------------------------------------------------------------------------
// Yearly adjustments

/// A date with the reason it is special, e.g. a day off and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayNote {
    /// The date, serialized as `YYYY-MM-DD`.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Why, in Vietnamese (shown to staff and citizens).
    pub reason: String,
}

impl DayNote {
    /// A note for `date`.
    pub fn new(date: Date, reason: impl Into<String>) -> Self {
        Self {
            date,
            reason: reason.into(),
        }
    }
}

/// What the government (or the province) decided for one year, entered by an administrator.
///
/// Every date must lie in `year`. Dates listed as working override everything else for that
/// date, including a computed holiday; a date may not be both a day off and a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct YearAdjustments {
    /// The Gregorian year these adjustments apply to.
    pub year: i32,
    /// The announced Tết days off. When set, replaces the default placement (the last day of
    /// the lunar year and lunar days 1–4) and its compensatory days: announcements already
    /// move Tết days off weekends, so they are taken as they are.
    #[serde(default, with = "iso_date_list_opt")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub tet_days: Option<Vec<Date>>,
    /// The day next to 2/9 that is also a holiday (1/9 or 3/9); 1/9 when not set.
    #[serde(default, with = "iso_date_opt")]
    pub national_day_extra: Option<Date>,
    /// Extra days off (swapped days, bridges), with the reason.
    #[serde(default)]
    pub days_off: Vec<DayNote>,
    /// Make-up working days (usually a Saturday worked in exchange for a day off).
    #[serde(default)]
    pub working_days: Vec<DayNote>,
}

impl YearAdjustments {
    /// No adjustment for `year`: the statutory rules alone.
    pub fn new(year: i32) -> Self {
        Self {
            year,
            tet_days: None,
            national_day_extra: None,
            days_off: Vec::new(),
            working_days: Vec::new(),
        }
    }

    /// Checks the year range, that every date lies in the year, the National Day day, and
    /// that no date is both off and worked.
    pub fn validate(&self) -> Result<(), CalendarError> {
        let year = self.year;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(CalendarError::YearOutOfRange(year));
        }
        let tet = self.tet_days.as_deref().unwrap_or_default();
        if self.tet_days.as_ref().is_some_and(Vec::is_empty) {
            return Err(CalendarError::EmptyTet(year));
        }
        let off = tet.iter().copied().chain(self.days_off.iter().map(|n| n.date));
        let mut all = off
            .clone()
            .chain(self.national_day_extra)
            .chain(self.working_days.iter().map(|n| n.date));
        if let Some(date) = all.find(|d| d.year() != year) {
            return Err(CalendarError::DateOutsideYear { year, date });
        }
        if let Some(date) = self.national_day_extra
            && !(date.month() == Month::September && (date.day() == 1 || date.day() == 3))
        {
            return Err(CalendarError::NationalDayNotAdjacent { year, date });
        }
        let off: BTreeSet<Date> = off.chain(self.national_day_extra).collect();
        if let Some(n) = self.working_days.iter().find(|n| off.contains(&n.date)) {
            return Err(CalendarError::ConflictingDay(n.date));
        }
        Ok(())
    }

    /// The same adjustments with every reason trimmed and NFC-normalised, so that text typed
    /// in decomposed form displays and compares like the rest.
    fn normalised(mut self) -> Self {
        for note in self.days_off.iter_mut().chain(self.working_days.iter_mut()) {
            note.reason = nfc(&note.reason);
        }
        self
    }
}

/// The adjustments announced so far, preloaded so a fresh installation counts deadlines
/// correctly. Source: docs/rules.md §4, which summarises the government's holiday announcements
/// for civil servants. Years not listed use the statutory rules alone.
pub fn announced_adjustments() -> Vec<YearAdjustments> {
    use time::macros::date;
    vec![
        YearAdjustments {
            year: 2025,
            // Tết Ất Tỵ (1/1 lunar = Wednesday 29/01): break Saturday 25/01 – Sunday 02/02,
            // i.e. the weekdays Monday 27/01 – Friday 31/01 off. No compensatory days.
            tet_days: Some(vec![
                date!(2025 - 01 - 27),
                date!(2025 - 01 - 28),
                date!(2025 - 01 - 29),
                date!(2025 - 01 - 30),
                date!(2025 - 01 - 31),
            ]),
            // National Day break Saturday 30/08 – Tuesday 02/09: Monday 01/09 is the extra day.
            national_day_extra: Some(date!(2025 - 09 - 01)),
            // 30/04 – 01/05 fall on Wednesday – Thursday; Friday 02/05 was swapped with
            // Saturday 26/04 to make a five-day break.
            days_off: vec![DayNote::new(
                date!(2025 - 05 - 02),
                "Nghỉ hoán đổi dịp 30/4 – 1/5 (làm bù thứ Bảy 26/04/2025)",
            )],
            working_days: vec![DayNote::new(
                date!(2025 - 04 - 26),
                "Làm bù cho ngày nghỉ thứ Sáu 02/05/2025",
            )],
        },
        YearAdjustments {
            year: 2026,
            // Tết Bính Ngọ (1/1 lunar = Tuesday 17/02): break Saturday 14/02 – Sunday 22/02,
            // weekdays Monday 16/02 – Friday 20/02 off, no make-up day. This equals the default
            // placement (29 Chạp + mùng 1–4); kept explicit because it was announced.
            tet_days: Some(vec![
                date!(2026 - 02 - 16),
                date!(2026 - 02 - 17),
                date!(2026 - 02 - 18),
                date!(2026 - 02 - 19),
                date!(2026 - 02 - 20),
            ]),
            // Not announced when this was written (docs/rules.md: "not confirmed"); 01/09 by default.
            national_day_extra: None,
            // New Year on Thursday 01/01: Friday 02/01 off, worked back on Saturday 10/01.
            // (Hùng Kings' day on Sunday 26/04 → Monday 27/04 off comes from the compensation
            // rule; 30/04 – 01/05 are Thursday – Friday with no swap.)
            days_off: vec![DayNote::new(
                date!(2026 - 01 - 02),
                "Nghỉ hoán đổi dịp Tết Dương lịch (làm bù thứ Bảy 10/01/2026)",
            )],
            working_days: vec![DayNote::new(
                date!(2026 - 01 - 10),
                "Làm bù cho ngày nghỉ thứ Sáu 02/01/2026",
            )],
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// The calendar

/// The non-working days of one year, as a bitmap for fast counting and selection.
#[derive(Debug, Clone)]
struct YearTable {
    /// Julian day of 1 January.
    start_jd: i32,
    /// 365 or 366.
    len: u16,
    /// Bit `i` of word `i / 64`: day `i` of the year (0-based) is a working day.
    working: [u64; 6],
    /// Working weekdays that are not worked, with the reason (holidays first).
    days_off: Vec<DayNote>,
    /// Days that would be rest days or holidays but are worked.
    make_up: Vec<DayNote>,
}

impl YearTable {
    fn is_working(&self, index: usize) -> bool {
        self.working.get(index / 64).is_some_and(|w| w >> (index % 64) & 1 == 1)
    }

    /// Working days with index ≥ `from` in this year.
    fn count_from(&self, from: usize) -> u64 {
        let word = from / 64;
        let mut count = 0;
        for (i, w) in self.working.iter().enumerate().skip(word) {
            let w = if i == word { w & (u64::MAX << (from % 64)) } else { *w };
            count += u64::from(w.count_ones());
        }
        count
    }

    /// Index of the `n`-th (1-based) working day with index ≥ `from`, if this year has it.
    fn select_from(&self, from: usize, mut n: u64) -> Option<usize> {
        let word = from / 64;
        for (i, w) in self.working.iter().enumerate().skip(word) {
            let mut w = if i == word { w & (u64::MAX << (from % 64)) } else { *w };
            let ones = u64::from(w.count_ones());
            if n > ones {
                n -= ones;
                continue;
            }
            // Drop the n - 1 lowest set bits; the lowest remaining one is the answer.
            for _ in 1..n {
                w &= w - 1;
            }
            return Some(i * 64 + w.trailing_zeros() as usize);
        }
        None
    }
}

/// The working-day calendar of a centre: its [`WorkWeek`], the statutory holidays and the
/// yearly [`YearAdjustments`], for 1900–2199.
///
/// Built once per centre and shared (`Send + Sync`); each year's table is computed on first
/// use and cached, so lookups cost a bitmap test and adding 30 working days a few popcounts.
/// Instants may carry any offset; results are at +07:00.
#[derive(Clone)]
pub struct Calendar {
    week: WorkWeek,
    /// Bit `n` set when the weekday `n` days from Monday is worked.
    weekday_mask: u8,
    /// Sessions in nanoseconds after midnight.
    sessions: Vec<(i64, i64)>,
    /// Working nanoseconds per working day.
    day_nanos: i64,
    adjustments: BTreeMap<i32, YearAdjustments>,
    years: Box<[OnceLock<YearTable>]>,
}

impl fmt::Debug for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Calendar")
            .field("week", &self.week)
            .field("adjusted_years", &self.adjustments.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Calendar {
    /// Builds a calendar after validating the work week and every adjustment.
    pub fn new(week: WorkWeek, adjustments: Vec<YearAdjustments>) -> Result<Self, CalendarError> {
        week.validate()?;
        let mut by_year = BTreeMap::new();
        for adjustment in adjustments {
            adjustment.validate()?;
            let year = adjustment.year;
            if by_year.insert(year, adjustment.normalised()).is_some() {
                return Err(CalendarError::DuplicateYear(year));
            }
        }
        let weekday_mask = week
            .weekdays
            .iter()
            .fold(0u8, |mask, d| mask | 1 << d.number_days_from_monday());
        let sessions: Vec<(i64, i64)> = week
            .sessions
            .iter()
            .map(|s| {
                (
                    i64::from(s.start) * NANOS_PER_MINUTE,
                    i64::from(s.end) * NANOS_PER_MINUTE,
                )
            })
            .collect();
        let day_nanos = sessions.iter().map(|(s, e)| e - s).sum();
        Ok(Self {
            week,
            weekday_mask,
            sessions,
            day_nanos,
            adjustments: by_year,
            years: (0..YEARS).map(|_| OnceLock::new()).collect(),
        })
    }

    /// The default work week with the [`announced_adjustments`].
    pub fn standard() -> Self {
        #[expect(clippy::expect_used, reason = "constant data, validated by the tests")]
        Self::new(WorkWeek::default(), announced_adjustments()).expect("the announced adjustments are valid")
    }

    /// The work week this calendar was built with.
    pub fn work_week(&self) -> &WorkWeek {
        &self.week
    }

    /// The adjustments this calendar was built with, by year.
    pub fn adjustments(&self) -> impl Iterator<Item = &YearAdjustments> {
        self.adjustments.values()
    }

    /// Working minutes in a working day: the unit of [`Calendar::add_working_days`].
    pub fn minutes_per_working_day(&self) -> u32 {
        self.week.minutes_per_working_day()
    }

    /// Whether `date` is a working day: a working weekday that is no holiday, compensatory day
    /// or extra day off, or a make-up working day. `false` outside 1900–2199.
    pub fn is_working_day(&self, date: Date) -> bool {
        self.is_working_jd(date.to_julian_day())
    }

    /// The working weekdays of `year` that are not worked, in date order, with the reason:
    /// holidays, compensatory days and extra days off (holidays on rest days are not listed,
    /// their compensatory days are).
    pub fn non_working_days(&self, year: i32) -> Result<&[DayNote], CalendarError> {
        self.table(year).map(|t| t.days_off.as_slice())
    }

    /// The make-up working days of `year`: days that would be rest days (or holidays) but
    /// are worked, in date order, with the reason.
    pub fn working_weekend_days(&self, year: i32) -> Result<&[DayNote], CalendarError> {
        self.table(year).map(|t| t.make_up.as_slice())
    }

    /// When work on something that arrives at `t` can start: `t` itself if it is inside a
    /// session (start included, end excluded), otherwise the start of the next session.
    pub fn next_working_moment(&self, t: OffsetDateTime) -> Result<OffsetDateTime, CalendarError> {
        let (jd, nanos) = local(t)?;
        if self.is_working_jd(jd) {
            if self.sessions.iter().any(|&(s, e)| s <= nanos && nanos < e) {
                return instant(jd, nanos);
            }
            if let Some(&(s, _)) = self.sessions.iter().find(|&&(s, _)| s > nanos) {
                return instant(jd, s);
            }
        }
        let next = self.nth_working_day_after(jd, 1).ok_or(CalendarError::OutOfRange)?;
        instant(next, self.first_session_start())
    }

    /// `t` plus `minutes` of working time: the earliest instant `u ≥ t` with exactly
    /// `minutes` working minutes in `[t, u]`. For `minutes > 0` the result is inside a
    /// session, possibly exactly at its end (e.g. 17:00); for 0 it is `t` when `t` is inside a
    /// session or at a session's end, else the next session's start. Sub-minute parts of `t`
    /// are kept. Errors if `t` or the result is outside 1900–2199.
    pub fn add_working_minutes(&self, t: OffsetDateTime, minutes: u64) -> Result<OffsetDateTime, CalendarError> {
        let (jd, nanos) = local(t)?;
        if minutes == 0 {
            return if self.at_session_or_end(jd, nanos) {
                instant(jd, nanos)
            } else {
                self.next_working_moment(t)
            };
        }
        if minutes > MAX_MINUTES {
            return Err(CalendarError::OutOfRange);
        }
        // i128: MAX_MINUTES in nanoseconds exceeds i64.
        let wanted = i128::from(minutes) * i128::from(NANOS_PER_MINUTE);
        let (worked_before, left_today) = if self.is_working_jd(jd) {
            let worked = self.worked_before(nanos);
            (worked, self.day_nanos - worked)
        } else {
            (0, 0)
        };
        if wanted <= i128::from(left_today) {
            let target = worked_before + i64::try_from(wanted).map_err(|_| CalendarError::OutOfRange)?;
            return instant(jd, self.position_of(target));
        }
        // Skip whole working days at once, then place the remainder (0 < last ≤ one day).
        let rest = wanted - i128::from(left_today);
        let day = i128::from(self.day_nanos);
        let full_days = (rest - 1) / day;
        let last = rest - full_days * day;
        let n = u64::try_from(full_days + 1).map_err(|_| CalendarError::OutOfRange)?;
        let target_day = self.nth_working_day_after(jd, n).ok_or(CalendarError::OutOfRange)?;
        let last = i64::try_from(last).map_err(|_| CalendarError::OutOfRange)?;
        instant(target_day, self.position_of(last))
    }

    /// `t` plus `hours` working hours (60 working minutes each); see
    /// [`Calendar::add_working_minutes`].
    pub fn add_working_hours(&self, t: OffsetDateTime, hours: u64) -> Result<OffsetDateTime, CalendarError> {
        let minutes = hours.checked_mul(60).ok_or(CalendarError::OutOfRange)?;
        self.add_working_minutes(t, minutes)
    }

    /// `t` plus `days` working days, a working day being
    /// [`Calendar::minutes_per_working_day`] working minutes (480 = 8 hours by default) counted
    /// from `t`, not whole calendar days: received Friday 16:30, one day later is Monday 16:30.
    /// See [`Calendar::add_working_minutes`].
    pub fn add_working_days(&self, t: OffsetDateTime, days: u64) -> Result<OffsetDateTime, CalendarError> {
        let minutes = days
            .checked_mul(u64::from(self.minutes_per_working_day()))
            .ok_or(CalendarError::OutOfRange)?;
        self.add_working_minutes(t, minutes)
    }

    /// Working minutes in `[a, b]` (whole minutes, rounded down); 0 if `b ≤ a`. Time outside
    /// 1900–2199 counts as non-working.
    pub fn working_minutes_between(&self, a: OffsetDateTime, b: OffsetDateTime) -> u64 {
        if b <= a {
            return 0;
        }
        let (ja, na) = local_clamped(a);
        let (jb, nb) = local_clamped(b);
        let worked_before = |jd: i32, nanos: i64| {
            if self.is_working_jd(jd) {
                self.worked_before(nanos)
            } else {
                0
            }
        };
        if ja == jb {
            return nonnegative_minutes(worked_before(jb, nb) - worked_before(ja, na));
        }
        // Partial first and last days in nanoseconds, whole days between in minutes (the
        // sessions are whole minutes, so rounding the partial sum alone is exact).
        let first = if self.is_working_jd(ja) {
            self.day_nanos - worked_before(ja, na)
        } else {
            0
        };
        let whole_days = self.working_days_in(ja + 1, jb) * u64::from(self.minutes_per_working_day());
        whole_days + nonnegative_minutes(first + worked_before(jb, nb))
    }

    // -- internals -----------------------------------------------------------------------

    fn first_session_start(&self) -> i64 {
        self.sessions.first().map_or(0, |&(s, _)| s)
    }

    /// Working nanoseconds of a working day before time-of-day `nanos`.
    fn worked_before(&self, nanos: i64) -> i64 {
        self.sessions.iter().map(|&(s, e)| nanos.clamp(s, e) - s).sum()
    }

    /// The earliest time of day with `worked` (0 < worked ≤ a day) working nanoseconds before
    /// it: inside a session or at its end, never in a gap.
    fn position_of(&self, mut worked: i64) -> i64 {
        for &(s, e) in &self.sessions {
            if worked <= e - s {
                return s + worked;
            }
            worked -= e - s;
        }
        self.sessions.last().map_or(0, |&(_, e)| e)
    }

    /// Inside a session of a working day or exactly at a session's end (including 24:00 of
    /// the previous day, which is 00:00 of this one).
    fn at_session_or_end(&self, jd: i32, nanos: i64) -> bool {
        (self.is_working_jd(jd) && self.sessions.iter().any(|&(s, e)| s <= nanos && nanos <= e))
            || (nanos == 0
                && self.is_working_jd(jd - 1)
                && self.sessions.last().is_some_and(|&(_, e)| e == NANOS_PER_DAY))
    }

    fn table(&self, year: i32) -> Result<&YearTable, CalendarError> {
        // Checked: any i32 may come from a request (`year=-2147483648` overflowed here).
        let index = year
            .checked_sub(FIRST_YEAR)
            .and_then(|i| usize::try_from(i).ok())
            .ok_or(CalendarError::YearOutOfRange(year))?;
        let cell = self.years.get(index).ok_or(CalendarError::YearOutOfRange(year))?;
        Ok(cell.get_or_init(|| self.build_year(year)))
    }

    /// The table of the year containing Julian day `jd`, with `jd`'s index in it.
    fn table_of(&self, jd: i32) -> Option<(&YearTable, usize)> {
        if !(FIRST_JD..END_JD).contains(&jd) {
            return None;
        }
        let year = Date::from_julian_day(jd).ok()?.year();
        let table = self.table(year).ok()?;
        Some((table, usize::try_from(jd - table.start_jd).ok()?))
    }

    fn is_working_jd(&self, jd: i32) -> bool {
        self.table_of(jd).is_some_and(|(t, i)| t.is_working(i))
    }

    /// The `n`-th (n ≥ 1) working day strictly after `jd`, skipping whole years and 64-day
    /// words by popcount; `None` beyond 2199.
    fn nth_working_day_after(&self, jd: i32, mut n: u64) -> Option<i32> {
        let mut pos = jd.checked_add(1)?.max(FIRST_JD);
        loop {
            let (table, index) = self.table_of(pos)?;
            let available = table.count_from(index);
            if n > available {
                n -= available;
                pos = table.start_jd + i32::from(table.len);
                continue;
            }
            let found = table.select_from(index, n)?;
            return Some(table.start_jd + i32::try_from(found).ok()?);
        }
    }

    /// Working days in `[from, to)` (Julian days), clipped to the covered range.
    fn working_days_in(&self, from: i32, to: i32) -> u64 {
        let mut pos = from.max(FIRST_JD);
        let to = to.min(END_JD);
        let mut count = 0;
        while pos < to {
            let Some((table, index)) = self.table_of(pos) else {
                break;
            };
            let year_end = table.start_jd + i32::from(table.len);
            let end = usize::try_from(to.min(year_end) - table.start_jd).unwrap_or_default();
            count += table.count_from(index) - table.count_from(end);
            pos = year_end;
        }
        count
    }

    /// Computes the working days of `year` (which is in range: callers check).
    fn build_year(&self, year: i32) -> YearTable {
        let Ok(jan1) = Date::from_ordinal_date(year, 1) else {
            return YearTable {
                start_jd: 0,
                len: 0,
                working: [0; 6],
                days_off: Vec::new(),
                make_up: Vec::new(),
            };
        };
        let start_jd = jan1.to_julian_day();
        let len = time::util::days_in_year(year);
        let none = YearAdjustments::new(year);
        let adjustments = self.adjustments.get(&year).unwrap_or(&none);
        let works_on = |d: Date| self.weekday_mask >> d.weekday().number_days_from_monday() & 1 == 1;

        let make_up: BTreeMap<Date, &str> = adjustments
            .working_days
            .iter()
            .map(|n| (n.date, n.reason.as_str()))
            .collect();
        let mut extra_off: BTreeMap<Date, &str> = BTreeMap::new();
        for note in &adjustments.days_off {
            extra_off.entry(note.date).or_insert(&note.reason);
        }

        // Statutory holidays (Labour Code 2019, art. 112), with whether a compensatory day is
        // due when they fall on a rest day. The first reason wins if two coincide.
        let mut holidays: BTreeMap<Date, (String, bool)> = BTreeMap::new();
        let mut add = |date: Option<Date>, reason: &str, compensated: bool| {
            if let Some(date) = date {
                holidays.entry(date).or_insert_with(|| (reason.to_owned(), compensated));
            }
        };
        let ymd = |m: Month, d: u8| Date::from_calendar_date(year, m, d).ok();
        add(ymd(Month::January, 1), "Tết Dương lịch", true);
        match &adjustments.tet_days {
            Some(days) => {
                for &d in days {
                    add(Some(d), "Tết Nguyên đán", false);
                }
            }
            None => {
                // The last day of the lunar year and lunar days 1–4.
                let first = lunar::tet(year);
                for offset in -1..=3 {
                    add(first.checked_add(time::Duration::days(offset)), "Tết Nguyên đán", true);
                }
            }
        }
        add(
            lunar::lunar_to_solar(10, 3, year, false),
            "Giỗ Tổ Hùng Vương (10/3 âm lịch)",
            true,
        );
        add(ymd(Month::April, 30), "Ngày Chiến thắng (30/4)", true);
        add(ymd(Month::May, 1), "Ngày Quốc tế Lao động (1/5)", true);
        add(ymd(Month::September, 2), "Quốc khánh (2/9)", true);
        add(
            adjustments.national_day_extra.or_else(|| ymd(Month::September, 1)),
            "Quốc khánh (ngày liền kề 2/9)",
            true,
        );

        // Compensatory days (art. 111(3)): for each holiday on a rest day, in date order, the
        // next working weekday that is not a holiday, an extra day off, a make-up day or an
        // earlier compensatory day — so several follow each other. All holidays are before
        // 4/9, so the search never needs the next year.
        let mut compensatory: BTreeMap<Date, String> = BTreeMap::new();
        for (&date, (reason, compensated)) in &holidays {
            // A holiday declared worked is no holiday, so nothing to compensate either.
            if !*compensated || works_on(date) || make_up.contains_key(&date) {
                continue;
            }
            let mut candidate = date.next_day();
            while let Some(c) = candidate {
                if c.year() != year {
                    candidate = None;
                    break;
                }
                let taken = !works_on(c)
                    || holidays.contains_key(&c)
                    || extra_off.contains_key(&c)
                    || make_up.contains_key(&c)
                    || compensatory.contains_key(&c);
                if !taken {
                    break;
                }
                candidate = c.next_day();
            }
            if let Some(c) = candidate {
                let rest_day = vn_weekday(date.weekday());
                compensatory.insert(c, format!("Nghỉ bù: {reason} trùng {rest_day} {}", vn_date(date)));
            }
        }

        let mut table = YearTable {
            start_jd,
            len,
            working: [0; 6],
            days_off: Vec::new(),
            make_up: Vec::new(),
        };
        let mut day = Some(jan1);
        for index in 0..usize::from(len) {
            let Some(d) = day else { break };
            day = d.next_day();
            let off_reason = holidays
                .get(&d)
                .map(|(r, _)| r.as_str())
                .or_else(|| compensatory.get(&d).map(String::as_str))
                .or_else(|| extra_off.get(&d).copied());
            let working = if let Some(reason) = make_up.get(&d) {
                if !works_on(d) || off_reason.is_some() {
                    table.make_up.push(DayNote::new(d, *reason));
                }
                true
            } else if let Some(reason) = off_reason {
                if works_on(d) {
                    table.days_off.push(DayNote::new(d, reason));
                }
                false
            } else {
                works_on(d)
            };
            if working && let Some(word) = table.working.get_mut(index / 64) {
                *word |= 1 << (index % 64);
            }
        }
        table
    }
}

fn nonnegative_minutes(nanos: i64) -> u64 {
    u64::try_from(nanos / NANOS_PER_MINUTE).unwrap_or_default()
}

/// `t` in Vietnam time as (Julian day, nanoseconds after midnight); errors outside the range.
fn local(t: OffsetDateTime) -> Result<(i32, i64), CalendarError> {
    if t < RANGE_START || t >= RANGE_END {
        return Err(CalendarError::OutOfRange);
    }
    let t = t.checked_to_offset(VIETNAM_OFFSET).ok_or(CalendarError::OutOfRange)?;
    Ok((t.to_julian_day(), time_nanos(t.time())))
}

/// Like [`local`], but instants before or after the range are moved to its ends.
fn local_clamped(t: OffsetDateTime) -> (i32, i64) {
    if t < RANGE_START {
        (FIRST_JD, 0)
    } else if t >= RANGE_END {
        (END_JD, 0)
    } else {
        local(t).unwrap_or((END_JD, 0))
    }
}

fn time_nanos(t: Time) -> i64 {
    let (h, m, s, ns) = t.as_hms_nano();
    ((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s)) * 1_000_000_000 + i64::from(ns)
}

/// The instant at `nanos` after midnight of Julian day `jd`, Vietnam time (24:00 is the next
/// day's 00:00).
fn instant(jd: i32, nanos: i64) -> Result<OffsetDateTime, CalendarError> {
    let (jd, nanos) = if nanos >= NANOS_PER_DAY {
        (jd + 1, nanos - NANOS_PER_DAY)
    } else {
        (jd, nanos)
    };
    let date = Date::from_julian_day(jd).map_err(|_| CalendarError::OutOfRange)?;
    let secs = nanos / 1_000_000_000;
    let to_u8 = |v: i64| u8::try_from(v).map_err(|_| CalendarError::OutOfRange);
    let time = Time::from_hms_nano(
        to_u8(secs / 3600)?,
        to_u8(secs / 60 % 60)?,
        to_u8(secs % 60)?,
        u32::try_from(nanos % 1_000_000_000).map_err(|_| CalendarError::OutOfRange)?,
    )
    .map_err(|_| CalendarError::OutOfRange)?;
    Ok(OffsetDateTime::new_in_offset(date, time, VIETNAM_OFFSET))
}

// ---------------------------------------------------------------------------------------------
// Serde helpers: dates as `YYYY-MM-DD` and times as `HH:MM`, whatever features the `time`
// crate is built with elsewhere in the workspace (its own formats depend on them).

mod hhmm {
    use super::*;

    pub(super) fn format(minutes: u16) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    pub(super) fn parse(s: &str) -> Option<u16> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        let h: u16 = h.parse().ok()?;
        let m: u16 = m.parse().ok()?;
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    }

    pub(super) fn serialize<S: Serializer>(minutes: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*minutes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom(format!("Giờ không hợp lệ: «{s}» (định dạng đúng: HH:MM)")))
    }
}

mod iso_weekdays {
    use super::*;

    pub(super) fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(days.iter().map(|d| d.number_from_monday()))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        Vec::<u8>::deserialize(d)?
            .into_iter()
            .map(|n| match n {
                1..=7 => Ok(Weekday::Sunday.nth_next(n)),
                _ => Err(serde::de::Error::custom(format!(
                    "Thứ trong tuần không hợp lệ: {n} (1 = thứ Hai … 7 = Chủ nhật)"
                ))),
            })
            .collect()
    }
}

/// A date serialized as `YYYY-MM-DD`.
struct IsoDate(Date);

impl Serialize for IsoDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        s.serialize_str(&format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
    }
}

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let parsed = (|| {
            let mut parts = s.trim().splitn(3, '-');
            let year: i32 = parts.next()?.parse().ok()?;
            let month: u8 = parts.next()?.parse().ok()?;
            let day: u8 = parts.next()?.parse().ok()?;
            Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
        })();
        parsed
            .map(IsoDate)
            .ok_or_else(|| serde::de::Error::custom(format!("Ngày không hợp lệ: «{s}» (định dạng đúng: YYYY-MM-DD)")))
    }
}

/// A day as `YYYY-MM-DD` in serde (`#[serde(with = "crate::calendar::iso_date")]`).
pub(crate) mod iso_date {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        IsoDate(*date).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        IsoDate::deserialize(d).map(|d| d.0)
    }
}

mod iso_date_opt {
    use super::*;

    pub(super) fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        date.map(IsoDate).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        Ok(Option::<IsoDate>::deserialize(d)?.map(|d| d.0))
    }
}

mod iso_date_list_opt {
    use super::*;

    pub(super) fn serialize<S: Serializer>(dates: &Option<Vec<Date>>, s: S) -> Result<S::Ok, S::Error> {
        dates
            .as_ref()
            .map(|v| v.iter().copied().map(IsoDate).collect::<Vec<_>>())
            .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Date>>, D::Error> {
        Ok(Option::<Vec<IsoDate>>::deserialize(d)?.map(|v| v.into_iter().map(|d| d.0).collect()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use time::macros::{date, datetime};

    use super::*;

    static STANDARD: LazyLock<Calendar> = LazyLock::new(Calendar::standard);
    /// Statutory rules only, no announced adjustments.
    static STATUTORY: LazyLock<Calendar> =
        LazyLock::new(|| Calendar::new(WorkWeek::default(), Vec::new()).expect("valid"));
    /// An unusual centre, to exercise the arithmetic beyond the default layout: a night
    /// session ending at 24:00, a session starting at 00:00, three working weekdays.
    static ODD: LazyLock<Calendar> = LazyLock::new(|| {
        let week = WorkWeek {
            sessions: vec![
                Session::new(0, 90),
                Session::new(600, 601),
                Session::new(22 * 60, 24 * 60),
            ],
            weekdays: vec![Weekday::Monday, Weekday::Wednesday, Weekday::Saturday],
        };
        Calendar::new(week, announced_adjustments()).expect("valid")
    });

    fn cal() -> &'static Calendar {
        &STANDARD
    }

    /// The dates of one year from (month, day) pairs, to write expected lists compactly.
    fn days(year: i32, month_days: &[(u8, u8)]) -> Vec<Date> {
        month_days
            .iter()
            .map(|&(m, d)| Date::from_calendar_date(year, Month::try_from(m).expect("month"), d).expect("date"))
            .collect()
    }

    fn dates(notes: &[DayNote]) -> Vec<Date> {
        notes.iter().map(|n| n.date).collect()
    }

    fn reason_of(notes: &[DayNote], date: Date) -> &str {
        notes.iter().find(|n| n.date == date).map_or("", |n| n.reason.as_str())
    }

    #[test]
    fn calendar_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Calendar>();
    }

    // -- configuration ---------------------------------------------------------------------

    #[test]
    fn default_work_week_is_eight_hours_monday_to_friday() {
        let week = WorkWeek::default();
        assert_eq!(week.validate(), Ok(()));
        assert_eq!(week.minutes_per_working_day(), 480);
        assert!(week.works_on(Weekday::Friday) && !week.works_on(Weekday::Saturday));
        assert_eq!(cal().minutes_per_working_day(), 480);
    }

    #[test]
    fn invalid_work_weeks_are_refused() {
        let with = |sessions: Vec<Session>| WorkWeek {
            sessions,
            ..WorkWeek::default()
        };
        assert_eq!(with(vec![]).validate(), Err(CalendarError::NoSessions));
        let reversed = Session::new(600, 540);
        assert_eq!(
            with(vec![reversed]).validate(),
            Err(CalendarError::InvalidSession(reversed))
        );
        let empty = Session::new(600, 600);
        assert_eq!(with(vec![empty]).validate(), Err(CalendarError::InvalidSession(empty)));
        let past_midnight = Session::new(1400, 1441);
        assert_eq!(
            with(vec![past_midnight]).validate(),
            Err(CalendarError::InvalidSession(past_midnight))
        );
        let (a, b) = (Session::new(420, 690), Session::new(660, 900));
        assert_eq!(
            with(vec![a, b]).validate(),
            Err(CalendarError::SessionsOverlap { first: a, second: b })
        );
        // Unsorted is refused too: the order is part of the data, not guessed.
        let (late, early) = (Session::new(810, 1020), Session::new(420, 690));
        assert!(matches!(
            with(vec![late, early]).validate(),
            Err(CalendarError::SessionsOverlap { .. })
        ));
        // Touching sessions are fine.
        assert_eq!(
            with(vec![Session::new(420, 690), Session::new(690, 700)]).validate(),
            Ok(())
        );
        let no_days = WorkWeek {
            weekdays: vec![],
            ..WorkWeek::default()
        };
        assert_eq!(no_days.validate(), Err(CalendarError::NoWorkingWeekdays));
        assert!(Calendar::new(no_days, vec![]).is_err());
        let message = CalendarError::SessionsOverlap { first: a, second: b }.to_string();
        assert_eq!(
            message,
            "Các buổi làm việc phải theo thứ tự thời gian và không chồng lên nhau (07:00–11:30 và 11:00–15:00)"
        );
    }

    #[test]
    fn invalid_adjustments_are_refused() {
        let check = |a: YearAdjustments| Calendar::new(WorkWeek::default(), vec![a]).map(|_| ());
        assert_eq!(
            check(YearAdjustments::new(1899)),
            Err(CalendarError::YearOutOfRange(1899))
        );
        assert_eq!(
            check(YearAdjustments::new(2200)),
            Err(CalendarError::YearOutOfRange(2200))
        );
        let mut a = YearAdjustments::new(2026);
        a.days_off.push(DayNote::new(date!(2025 - 12 - 31), "cầu"));
        assert_eq!(
            check(a),
            Err(CalendarError::DateOutsideYear {
                year: 2026,
                date: date!(2025 - 12 - 31)
            })
        );
        let mut a = YearAdjustments::new(2026);
        a.national_day_extra = Some(date!(2026 - 09 - 04));
        let err = check(a).expect_err("not adjacent");
        assert_eq!(
            err.to_string(),
            "Ngày nghỉ thêm dịp Quốc khánh năm 2026 phải là 01/09 hoặc 03/09 (liền kề ngày 02/09), không phải 04/09/2026"
        );
        let mut a = YearAdjustments::new(2026);
        a.days_off.push(DayNote::new(date!(2026 - 03 - 02), "nghỉ"));
        a.working_days.push(DayNote::new(date!(2026 - 03 - 02), "làm"));
        assert_eq!(check(a), Err(CalendarError::ConflictingDay(date!(2026 - 03 - 02))));
        let mut a = YearAdjustments::new(2026);
        a.tet_days = Some(vec![]);
        assert_eq!(check(a), Err(CalendarError::EmptyTet(2026)));
        assert_eq!(
            Calendar::new(
                WorkWeek::default(),
                vec![YearAdjustments::new(2026), YearAdjustments::new(2026)]
            )
            .map(|_| ()),
            Err(CalendarError::DuplicateYear(2026))
        );
    }

    #[test]
    fn serde_round_trips_with_readable_formats() {
        let week = WorkWeek::default();
        let json = serde_json::to_string(&week).expect("serialize");
        assert_eq!(
            json,
            r#"{"sessions":[{"start":"07:00","end":"11:30"},{"start":"13:30","end":"17:00"}],"weekdays":[1,2,3,4,5]}"#
        );
        assert_eq!(serde_json::from_str::<WorkWeek>(&json).expect("deserialize"), week);
        let night: WorkWeek =
            serde_json::from_str(r#"{"sessions":[{"start":"22:00","end":"24:00"}],"weekdays":[7]}"#).expect("ok");
        assert_eq!(night.sessions, vec![Session::new(1320, 1440)]);
        assert_eq!(night.weekdays, vec![Weekday::Sunday]);
        for bad in [
            r#"{"sessions":[{"start":"25:00","end":"26:00"}],"weekdays":[1]}"#,
            r#"{"sessions":[{"start":"7h","end":"11:30"}],"weekdays":[1]}"#,
            r#"{"sessions":[{"start":"07:00","end":"11:30"}],"weekdays":[8]}"#,
        ] {
            assert!(serde_json::from_str::<WorkWeek>(bad).is_err(), "{bad}");
        }

        for adjustments in announced_adjustments() {
            let json = serde_json::to_string(&adjustments).expect("serialize");
            assert_eq!(
                serde_json::from_str::<YearAdjustments>(&json).expect("deserialize"),
                adjustments
            );
        }
        let minimal: YearAdjustments = serde_json::from_str(
            r#"{"year":2027,"national_day_extra":"2027-09-03","days_off":[{"date":"2027-12-31","reason":"Nghỉ"}]}"#,
        )
        .expect("defaults");
        assert_eq!(minimal.national_day_extra, Some(date!(2027 - 09 - 03)));
        assert_eq!(minimal.days_off, vec![DayNote::new(date!(2027 - 12 - 31), "Nghỉ")]);
        assert_eq!(minimal.tet_days, None);
        assert!(serde_json::from_str::<YearAdjustments>(r#"{"year":2027,"tet_days":["2027-02-30"]}"#).is_err());
    }

    #[test]
    fn reasons_are_normalised_to_nfc() {
        let mut a = YearAdjustments::new(2027);
        // "Nghỉ" typed with combining marks (NFD).
        a.days_off
            .push(DayNote::new(date!(2027 - 03 - 01), " Nghi\u{309}\u{300} "));
        let calendar = Calendar::new(WorkWeek::default(), vec![a]).expect("valid");
        let off = calendar.non_working_days(2027).expect("in range");
        assert_eq!(reason_of(off, date!(2027 - 03 - 01)), nfc("Nghi\u{309}\u{300}"));
    }

    // -- holidays ----------------------------------------------------------------------------

    #[test]
    fn year_2025_as_announced() {
        let off = cal().non_working_days(2025).expect("in range");
        assert_eq!(
            dates(off),
            // 07/04 is Hùng Kings' day (a Monday); 02/05 is swapped with Saturday 26/04.
            days(
                2025,
                &[(1, 1), (1, 27), (1, 28), (1, 29), (1, 30), (1, 31), (4, 7), (4, 30)]
            )
            .into_iter()
            .chain(days(2025, &[(5, 1), (5, 2), (9, 1), (9, 2)]))
            .collect::<Vec<_>>()
        );
        assert_eq!(
            reason_of(off, date!(2025 - 04 - 07)),
            "Giỗ Tổ Hùng Vương (10/3 âm lịch)"
        );
        assert_eq!(
            dates(cal().working_weekend_days(2025).expect("in range")),
            vec![date!(2025 - 04 - 26)]
        );
        // The default Tết placement would have differed: 28/01–01/02 with Saturday 01/02
        // compensated on Monday 03/02. The announced days replace it, compensation included.
        assert!(cal().is_working_day(date!(2025 - 02 - 03)));
        let statutory = dates(STATUTORY.non_working_days(2025).expect("in range"));
        for d in [date!(2025 - 01 - 28), date!(2025 - 01 - 31), date!(2025 - 02 - 03)] {
            assert!(statutory.contains(&d), "{d}");
        }
        assert!(!statutory.contains(&date!(2025 - 01 - 27)));
    }

    #[test]
    fn year_2026_as_announced() {
        let off = cal().non_working_days(2026).expect("in range");
        assert_eq!(
            dates(off),
            days(
                2026,
                &[(1, 1), (1, 2), (2, 16), (2, 17), (2, 18), (2, 19), (2, 20), (4, 27)]
            )
            .into_iter()
            .chain(days(2026, &[(4, 30), (5, 1), (9, 1), (9, 2)]))
            .collect::<Vec<_>>()
        );
        assert_eq!(
            dates(cal().working_weekend_days(2026).expect("in range")),
            vec![date!(2026 - 01 - 10)]
        );
    }

    #[test]
    fn hung_kings_2026_compensation_comes_from_the_rule() {
        // Not in the adjustment data: Sunday 26/04/2026 is a holiday on a rest day, so the
        // next working day, Monday 27/04, is off (Labour Code art. 111(3)).
        let data_2026 = announced_adjustments()
            .into_iter()
            .find(|a| a.year == 2026)
            .expect("2026 data");
        assert!(!data_2026.days_off.iter().any(|n| n.date == date!(2026 - 04 - 27)));
        assert_eq!(date!(2026 - 04 - 26).weekday(), Weekday::Sunday);
        let off = cal().non_working_days(2026).expect("in range");
        assert_eq!(
            reason_of(off, date!(2026 - 04 - 27)),
            "Nghỉ bù: Giỗ Tổ Hùng Vương (10/3 âm lịch) trùng Chủ nhật 26/04/2026"
        );
        assert!(!cal().is_working_day(date!(2026 - 04 - 27)));
        assert!(cal().is_working_day(date!(2026 - 04 - 28)));
    }

    #[test]
    fn default_tet_2026_equals_the_announcement() {
        let tet = |c: &Calendar| {
            let off = c.non_working_days(2026).expect("in range");
            off.iter()
                .filter(|n| n.reason == "Tết Nguyên đán")
                .map(|n| n.date)
                .collect::<Vec<_>>()
        };
        assert_eq!(tet(&STATUTORY), tet(cal()));
    }

    #[test]
    fn compensatory_days_follow_each_other() {
        // Tết 2027 (1/1 lunar = Saturday 06/02) with the default placement: Friday 05/02 to
        // Tuesday 09/02; Saturday and Sunday are compensated on Wednesday 10/02 and Thursday
        // 11/02. (Not an announcement: the statutory rule alone.)
        assert_eq!(lunar::tet(2027), date!(2027 - 02 - 06));
        let off = STATUTORY.non_working_days(2027).expect("in range");
        let february: Vec<Date> = dates(off)
            .into_iter()
            .filter(|d| d.month() == Month::February)
            .collect();
        assert_eq!(february, days(2027, &[(2, 5), (2, 8), (2, 9), (2, 10), (2, 11)]));
        assert!(reason_of(off, date!(2027 - 02 - 11)).contains("Chủ nhật 07/02/2027"));
    }

    #[test]
    fn national_day_reproduces_past_years() {
        // 2023: 2/9 on Saturday, 1/9 Friday, compensated Monday 04/09 — the announced
        // break was 01/09–04/09/2023.
        let off = dates(STATUTORY.non_working_days(2023).expect("in range"));
        assert!(off.contains(&date!(2023 - 09 - 01)) && off.contains(&date!(2023 - 09 - 04)));
        // 2024: 2/9 Monday; the default 1/9 is a Sunday, compensated Tuesday 03/09 — the
        // announced break was 31/08–03/09/2024.
        let off = dates(STATUTORY.non_working_days(2024).expect("in range"));
        assert!(off.contains(&date!(2024 - 09 - 02)) && off.contains(&date!(2024 - 09 - 03)));
        // 2026: 2/9 is a Wednesday and keeps its adjacent day (01/09 by default, unconfirmed).
        assert!(!cal().is_working_day(date!(2026 - 09 - 01)));
        assert!(!cal().is_working_day(date!(2026 - 09 - 02)));
        assert!(cal().is_working_day(date!(2026 - 09 - 03)));
        // An announced 3/9 instead of 1/9.
        let mut a = YearAdjustments::new(2026);
        a.national_day_extra = Some(date!(2026 - 09 - 03));
        let c = Calendar::new(WorkWeek::default(), vec![a]).expect("valid");
        assert!(c.is_working_day(date!(2026 - 09 - 01)));
        assert!(!c.is_working_day(date!(2026 - 09 - 03)));
    }

    #[test]
    fn explicit_working_day_wins_over_a_holiday() {
        let mut a = YearAdjustments::new(2027);
        a.working_days.push(DayNote::new(date!(2027 - 04 - 30), "Làm việc"));
        let c = Calendar::new(WorkWeek::default(), vec![a]).expect("valid");
        assert!(c.is_working_day(date!(2027 - 04 - 30)));
        assert_eq!(
            dates(c.working_weekend_days(2027).expect("in range")),
            vec![date!(2027 - 04 - 30)]
        );
    }

    #[test]
    fn range_limits() {
        assert!(!cal().is_working_day(date!(1899 - 12 - 29)));
        assert!(cal().is_working_day(date!(1900 - 01 - 02)));
        assert!(!cal().is_working_day(date!(2200 - 01 - 01)));
        assert_eq!(cal().non_working_days(1899), Err(CalendarError::YearOutOfRange(1899)));
        // Any year a request may carry is an error, not an overflow.
        for year in [i32::MIN, i32::MIN + 1, -1, 0, i32::MAX] {
            assert_eq!(cal().non_working_days(year), Err(CalendarError::YearOutOfRange(year)));
            assert_eq!(
                cal().working_weekend_days(year),
                Err(CalendarError::YearOutOfRange(year))
            );
        }
        assert!(cal().working_weekend_days(2199).is_ok());
        assert_eq!(
            cal().add_working_minutes(datetime!(2200-01-02 8:00 +7), 1),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            cal().add_working_days(datetime!(2199-12-20 8:00 +7), 30),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            cal().add_working_minutes(datetime!(2026-01-05 8:00 +7), u64::MAX),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            cal().add_working_days(datetime!(2026-01-05 8:00 +7), u64::MAX),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            cal().next_working_moment(datetime!(2199-12-31 18:00 +7)),
            Err(CalendarError::OutOfRange)
        );
        assert_eq!(
            CalendarError::OutOfRange.to_string(),
            "Thời điểm nằm ngoài phạm vi lịch được hỗ trợ (năm 1900–2199)"
        );
        // Counting clips to the range instead of failing.
        let whole = cal().working_minutes_between(
            OffsetDateTime::new_utc(Date::MIN, Time::MIDNIGHT),
            OffsetDateTime::new_utc(Date::MAX, Time::MIDNIGHT),
        );
        assert!(whole > 300 * 240 * 480 && whole < 300 * 262 * 480, "{whole}");
    }

    // -- moments and deadlines -----------------------------------------------------------------

    #[test]
    fn next_working_moment_examples() {
        let next = |t| cal().next_working_moment(t).expect("in range");
        // Inside a session: itself.
        assert_eq!(next(datetime!(2026-03-09 7:00 +7)), datetime!(2026-03-09 7:00 +7));
        assert_eq!(
            next(datetime!(2026-03-09 11:29:59 +7)),
            datetime!(2026-03-09 11:29:59 +7)
        );
        // Lunch break, end of a session: the next session.
        assert_eq!(next(datetime!(2026-03-09 12:00 +7)), datetime!(2026-03-09 13:30 +7));
        assert_eq!(next(datetime!(2026-03-09 11:30 +7)), datetime!(2026-03-09 13:30 +7));
        assert_eq!(next(datetime!(2026-03-09 17:00 +7)), datetime!(2026-03-10 7:00 +7));
        // Saturday: Monday morning.
        assert_eq!(next(datetime!(2026-03-07 10:00 +7)), datetime!(2026-03-09 7:00 +7));
        // Any offset in, +07:00 out: 23:00 UTC on Sunday is 06:00 Monday in Vietnam.
        let out = next(datetime!(2026-03-08 23:00 UTC));
        assert_eq!(out, datetime!(2026-03-09 7:00 +7));
        assert_eq!(out.offset(), VIETNAM_OFFSET);
        // Before Tết 2026: Friday 13/02 evening → Monday 23/02.
        assert_eq!(next(datetime!(2026-02-13 17:30 +7)), datetime!(2026-02-23 7:00 +7));
    }

    #[test]
    fn friday_afternoon_plus_one_day_is_monday_afternoon() {
        // 30 minutes are left on Friday (16:30–17:00); the other 450 come on Monday:
        // 270 in the morning (07:00–11:30), 180 in the afternoon from 13:30 → 16:30.
        let due = cal()
            .add_working_days(datetime!(2026-03-06 16:30 +7), 1)
            .expect("in range");
        assert_eq!(due, datetime!(2026-03-09 16:30 +7));
        assert_eq!(cal().working_minutes_between(datetime!(2026-03-06 16:30 +7), due), 480);
    }

    #[test]
    fn received_outside_sessions() {
        // Saturday: counting starts Monday 07:00, so one day later is Monday 17:00.
        assert_eq!(
            cal().add_working_days(datetime!(2026-03-07 10:00 +7), 1).expect("ok"),
            datetime!(2026-03-09 17:00 +7)
        );
        // Lunch: counting starts at 13:30; one hour later is 14:30.
        assert_eq!(
            cal().add_working_hours(datetime!(2026-03-09 12:00 +7), 1).expect("ok"),
            datetime!(2026-03-09 14:30 +7)
        );
        // Zero: the next session start, or t itself inside a session or at its end.
        let zero = |t| cal().add_working_minutes(t, 0).expect("ok");
        assert_eq!(zero(datetime!(2026-03-09 12:00 +7)), datetime!(2026-03-09 13:30 +7));
        assert_eq!(zero(datetime!(2026-03-09 17:00 +7)), datetime!(2026-03-09 17:00 +7));
        assert_eq!(zero(datetime!(2026-03-09 11:30 +7)), datetime!(2026-03-09 11:30 +7));
        assert_eq!(zero(datetime!(2026-03-09 17:01 +7)), datetime!(2026-03-10 7:00 +7));
        // Ends at a session end rather than jumping to the next session.
        assert_eq!(
            cal()
                .add_working_minutes(datetime!(2026-03-09 16:30 +7), 30)
                .expect("ok"),
            datetime!(2026-03-09 17:00 +7)
        );
        assert_eq!(
            cal().add_working_days(datetime!(2026-03-09 7:00 +7), 1).expect("ok"),
            datetime!(2026-03-09 17:00 +7)
        );
    }

    #[test]
    fn deadline_across_tet_2026() {
        // Friday 13/02 09:00: 150 + 210 = 360 minutes that day; 1440 - 360 = 1080 left.
        // 16–20/02 are Tết, 21–22/02 a weekend; Monday 23/02 and Tuesday 24/02 take 960,
        // the last 120 end Wednesday 25/02 at 09:00.
        let due = cal().add_working_days(datetime!(2026-02-13 9:00 +7), 3).expect("ok");
        assert_eq!(due, datetime!(2026-02-25 9:00 +7));
    }

    #[test]
    fn make_up_saturday_counts() {
        assert!(cal().is_working_day(date!(2026 - 01 - 10)));
        assert!(!cal().is_working_day(date!(2026 - 01 - 02)));
        // Friday 09/01 16:00: 60 minutes, then 420 on Saturday 10/01 → 16:00.
        assert_eq!(
            cal().add_working_days(datetime!(2026-01-09 16:00 +7), 1).expect("ok"),
            datetime!(2026-01-10 16:00 +7)
        );
        // Wednesday 31/12/2025 16:00: 60 minutes, then 1/1 (holiday), 2/1 (swapped), the
        // weekend; 420 on Monday 05/01 → 16:00.
        assert_eq!(
            cal().add_working_days(datetime!(2025-12-31 16:00 +7), 1).expect("ok"),
            datetime!(2026-01-05 16:00 +7)
        );
        // Without the announcement, Saturday 10/01 is a rest day.
        assert!(!STATUTORY.is_working_day(date!(2026 - 01 - 10)));
    }

    #[test]
    fn labour_day_2025_swap() {
        assert!(!cal().is_working_day(date!(2025 - 05 - 02)));
        assert!(cal().is_working_day(date!(2025 - 04 - 26)));
        // Tuesday 29/04 09:00 + 2 days: 360 that day; 30/04–04/05 off; Monday 05/05 takes
        // 480; the last 120 end Tuesday 06/05 at 09:00.
        assert_eq!(
            cal().add_working_days(datetime!(2025-04-29 9:00 +7), 2).expect("ok"),
            datetime!(2025-05-06 9:00 +7)
        );
        // Friday 25/04 16:00 + 1 day: 60 minutes, then 420 on the make-up Saturday 26/04.
        assert_eq!(
            cal().add_working_days(datetime!(2025-04-25 16:00 +7), 1).expect("ok"),
            datetime!(2025-04-26 16:00 +7)
        );
    }

    #[test]
    fn minutes_between_examples() {
        let between = |a, b| cal().working_minutes_between(a, b);
        assert_eq!(
            between(datetime!(2026-03-09 17:00 +7), datetime!(2026-03-09 7:00 +7)),
            0
        );
        assert_eq!(
            between(datetime!(2026-03-09 6:00 +7), datetime!(2026-03-09 18:00 +7)),
            480
        );
        assert_eq!(
            between(datetime!(2026-03-09 11:00 +7), datetime!(2026-03-09 14:00 +7)),
            60
        );
        // A whole week with no holiday.
        assert_eq!(
            between(datetime!(2026-03-09 0:00 +7), datetime!(2026-03-16 0:00 +7)),
            5 * 480
        );
        // The Tết week 2026 has no working time at all.
        assert_eq!(between(datetime!(2026-02-14 0:00 +7), datetime!(2026-02-23 0:00 +7)), 0);
        // Seconds are kept, minutes rounded down.
        assert_eq!(
            between(datetime!(2026-03-09 7:00:30 +7), datetime!(2026-03-09 7:02 +7)),
            1
        );
        // Offsets do not matter.
        assert_eq!(
            between(datetime!(2026-03-09 0:00 UTC), datetime!(2026-03-09 1:00 UTC)),
            60
        );
    }

    #[test]
    fn odd_layout_examples() {
        let c = &*ODD;
        assert_eq!(c.minutes_per_working_day(), 90 + 1 + 120);
        // Wednesday 2026-03-11 23:00 + 60 minutes ends at 24:00, i.e. Thursday 00:00, and
        // adding zero there stays put (it is a session end).
        let end = c.add_working_minutes(datetime!(2026-03-11 23:00 +7), 60).expect("ok");
        assert_eq!(end, datetime!(2026-03-12 0:00 +7));
        assert_eq!(c.add_working_minutes(end, 0).expect("ok"), end);
        // One more minute: Saturday 14/03 00:01 (Thursday and Friday are rest days).
        assert_eq!(
            c.add_working_minutes(end, 1).expect("ok"),
            datetime!(2026-03-14 0:01 +7)
        );
    }

    // -- properties ------------------------------------------------------------------------

    /// Instants 2019–2027 in assorted offsets, half of them on whole minutes (so that
    /// session boundaries are hit exactly).
    fn instant_strategy() -> impl Strategy<Value = OffsetDateTime> {
        let start = datetime!(2019-01-01 0:00 +7).unix_timestamp();
        let end = datetime!(2028-01-01 0:00 +7).unix_timestamp();
        (
            start..end,
            any::<bool>(),
            0..1_000_000_000u32,
            prop::sample::select(vec![-5i8, 0, 7, 9]),
        )
            .prop_map(move |(secs, aligned, nanos, hours)| {
                let secs = if aligned { secs - secs.rem_euclid(60) } else { secs };
                let t = OffsetDateTime::from_unix_timestamp(secs).expect("in range");
                let t = if aligned {
                    t
                } else {
                    t.replace_nanosecond(nanos).expect("valid")
                };
                t.to_offset(UtcOffset::from_hms(hours, 0, 0).expect("valid"))
            })
    }

    /// Up to 200 working days of the default layout.
    const MAX_D: u64 = 200 * 480;

    /// `u` is inside a session of a working day, end included, start excluded.
    fn inside_session(c: &Calendar, u: OffsetDateTime) -> bool {
        let (jd, nanos) = local(u).expect("in range");
        (c.is_working_jd(jd) && c.sessions.iter().any(|&(s, e)| s < nanos && nanos <= e))
            || (nanos == 0 && c.is_working_jd(jd - 1) && c.sessions.last().is_some_and(|&(_, e)| e == NANOS_PER_DAY))
    }

    /// A slow, obviously correct `add` for comparison: walk the days one by one.
    fn reference_add(c: &Calendar, t: OffsetDateTime, minutes: u64) -> OffsetDateTime {
        let (mut jd, mut from) = local(t).expect("in range");
        let mut left = i64::try_from(minutes).expect("small") * NANOS_PER_MINUTE;
        loop {
            let date = Date::from_julian_day(jd).expect("in range");
            if c.is_working_day(date) {
                for &(s, e) in &c.sessions {
                    let begin = from.max(s);
                    if begin > e || (begin == e && left > 0) {
                        continue;
                    }
                    if left <= e - begin {
                        return instant(jd, begin + left).expect("in range");
                    }
                    left -= e - begin;
                }
            }
            jd += 1;
            from = 0;
        }
    }

    fn check_properties(c: &Calendar, t: OffsetDateTime, a: u64, b: u64) -> Result<(), TestCaseError> {
        let ta = c.add_working_minutes(t, a).expect("in range");
        let tab = c.add_working_minutes(t, a + b).expect("in range");
        prop_assert_eq!(ta.offset(), VIETNAM_OFFSET);
        prop_assert!(ta >= t);
        if a > 0 {
            prop_assert!(inside_session(c, ta), "{} + {} = {} is outside a session", t, a, ta);
        }
        prop_assert_eq!(c.add_working_minutes(ta, b).expect("in range"), tab);
        prop_assert_eq!(c.working_minutes_between(t, ta), a);
        prop_assert_eq!(c.working_minutes_between(t, tab), a + b);
        prop_assert!(ta <= tab);
        let next = c.next_working_moment(t).expect("in range");
        prop_assert!(next >= t && c.working_minutes_between(t, next) == 0);
        prop_assert!(c.add_working_minutes(t, 0).expect("in range") <= next);
        Ok(())
    }

    proptest! {
        #[test]
        fn standard_calendar_properties(t in instant_strategy(), a in 0..=MAX_D, b in 0..=MAX_D) {
            check_properties(cal(), t, a, b)?;
        }

        #[test]
        fn odd_calendar_properties(t in instant_strategy(), a in 0..=MAX_D, b in 0..=MAX_D) {
            check_properties(&ODD, t, a, b)?;
        }

        #[test]
        fn matches_day_by_day_reference(t in instant_strategy(), d in 0..=20 * 480u64) {
            if d > 0 {
                prop_assert_eq!(cal().add_working_minutes(t, d).expect("ok"), reference_add(cal(), t, d));
                prop_assert_eq!(ODD.add_working_minutes(t, d).expect("ok"), reference_add(&ODD, t, d));
            }
        }

        #[test]
        fn monotonic_in_duration(t in instant_strategy(), a in 0..=MAX_D, b in 0..=MAX_D) {
            let (small, large) = (a.min(b), a.max(b));
            prop_assert!(cal().add_working_minutes(t, small).expect("ok") <= cal().add_working_minutes(t, large).expect("ok"));
        }
    }

    /// Timing, run with `cargo test -p motcua-core --release --lib timing -- --ignored --nocapture`.
    /// Measured on the development VM (2 vCPU Xeon): `add_working_days(t, 30)` about 70 ns per
    /// call in release after warm-up (about 5 µs in the unoptimised dev profile), and
    /// `working_minutes_between` over ~30 days about 130 ns (release).
    #[test]
    #[ignore = "timing, not a check"]
    fn timing_add_30_working_days() {
        let c = Calendar::standard();
        let start = datetime!(2026-01-05 8:00 +7);
        let _ = c.add_working_days(start, 400).expect("warm-up");
        let n = 200_000u32;
        let clock = std::time::Instant::now();
        let mut t = start;
        for i in 0..n {
            let shifted = start + time::Duration::minutes(i64::from(i % 5000));
            t = c.add_working_days(std::hint::black_box(shifted), 30).expect("ok");
        }
        let per_call = clock.elapsed() / n;
        println!("add_working_days(30): {per_call:?} per call (last {t})");
        let clock = std::time::Instant::now();
        let mut total = 0;
        for i in 0..n {
            let a = start + time::Duration::minutes(i64::from(i % 5000));
            total += c.working_minutes_between(std::hint::black_box(a), t);
        }
        println!("working_minutes_between: {:?} per call ({total})", clock.elapsed() / n);
    }
}
