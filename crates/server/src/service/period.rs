//! The period a statistics page or report covers: a preset (today, this month, this year)
//! or a range of dates, in Vietnam time, as a form or a query gives it.

use motcua_store::overview::Period;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, Duration, Month, OffsetDateTime};

use motcua_core::calendar::VIETNAM_OFFSET as VN;

/// `?period=hom-nay|thang|nam|khoang&from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// The preset, or `khoang` for the dates.
    pub period: Option<String>,
    /// First day of a range.
    pub from: Option<String>,
    /// Last day of a range (inclusive).
    pub to: Option<String>,
}

/// The period chosen, with what the form shows again.
#[derive(Debug, Clone)]
pub struct Choice {
    /// `hom-nay`, `thang`, `nam` or `khoang`.
    pub key: &'static str,
    /// The instants.
    pub period: Period,
    /// "Tháng 11/2026", "Từ 01/11/2026 đến 15/11/2026", …
    pub label: String,
    /// The first day as the date input shows it.
    pub from: String,
    /// The last day (inclusive) as the date input shows it.
    pub to: String,
    /// Why the dates typed were not used (the month is shown instead).
    pub error: Option<String>,
}

/// The presets offered, with their labels.
pub const PRESETS: [(&str, &str); 4] = [
    ("hom-nay", "Hôm nay"),
    ("thang", "Tháng này"),
    ("nam", "Năm nay"),
    ("khoang", "Từ ngày… đến ngày…"),
];

fn midnight(d: Date) -> OffsetDateTime {
    d.midnight().assume_offset(VN)
}

fn iso(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn dmy(d: Date) -> String {
    d.format(format_description!("[day]/[month]/[year]"))
        .unwrap_or_default()
}

fn parse_day(s: &str) -> Option<Date> {
    motcua_core::calendar::parse_day(s)
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn next_month(d: Date) -> Date {
    let (y, m) = if d.month() == Month::December {
        (d.year() + 1, Month::January)
    } else {
        (d.year(), d.month().next())
    };
    Date::from_calendar_date(y, m, 1).unwrap_or(d)
}

fn first_of_year(d: Date) -> Date {
    Date::from_calendar_date(d.year(), Month::January, 1).unwrap_or(d)
}

fn range(key: &'static str, first: Date, last: Date, label: String) -> Choice {
    Choice {
        key,
        period: Period {
            from: midnight(first),
            to: midnight(last) + Duration::days(1),
        },
        label,
        from: iso(first),
        to: iso(last),
        error: None,
    }
}

/// Today in Vietnam.
pub fn today(now: OffsetDateTime) -> Choice {
    let d = now.to_offset(VN).date();
    range("hom-nay", d, d, format!("Hôm nay, {}", dmy(d)))
}

/// This month in Vietnam.
pub fn this_month(now: OffsetDateTime) -> Choice {
    let d = now.to_offset(VN).date();
    let first = first_of_month(d);
    let last = next_month(d).previous_day().unwrap_or(d);
    range(
        "thang",
        first,
        last,
        format!("Tháng {}/{}", u8::from(d.month()), d.year()),
    )
}

/// This year in Vietnam.
pub fn this_year(now: OffsetDateTime) -> Choice {
    let d = now.to_offset(VN).date();
    let first = first_of_year(d);
    let last = Date::from_calendar_date(d.year(), Month::December, 31).unwrap_or(d);
    range("nam", first, last, format!("Năm {}", d.year()))
}

/// Longest range of dates a page computes (ten years).
const MAX_DAYS: i64 = 3660;

impl PeriodQuery {
    /// The period asked for; a bad range falls back to this month, saying why.
    pub fn choice(&self, now: OffsetDateTime) -> Choice {
        let from = self.from.as_deref().unwrap_or_default().trim();
        let to = self.to.as_deref().unwrap_or_default().trim();
        let key = self.period.as_deref().unwrap_or_default();
        let preset = match key {
            "hom-nay" => today(now),
            "nam" => this_year(now),
            "khoang" => return self.dates(from, to, now),
            "" if !from.is_empty() || !to.is_empty() => return self.dates(from, to, now),
            _ => this_month(now),
        };
        // Dates changed in the form while a preset stayed selected: the dates win.
        if (!from.is_empty() && from != preset.from) || (!to.is_empty() && to != preset.to) {
            return self.dates(from, to, now);
        }
        preset
    }

    fn dates(&self, from: &str, to: &str, now: OffsetDateTime) -> Choice {
        let fail = |message: &str| {
            let mut c = this_month(now);
            c.error = Some(message.to_owned());
            c.key = "khoang";
            c.from = from.to_owned();
            c.to = to.to_owned();
            c
        };
        let Some(first) = parse_day(from) else {
            return fail("Hãy chọn ngày bắt đầu hợp lệ (ngày/tháng/năm).");
        };
        let Some(last) = parse_day(to) else {
            return fail("Hãy chọn ngày kết thúc hợp lệ (ngày/tháng/năm).");
        };
        if last < first {
            return fail("Ngày kết thúc phải từ ngày bắt đầu trở đi.");
        }
        if (last - first).whole_days() > MAX_DAYS {
            return fail("Khoảng thời gian dài nhất là 10 năm.");
        }
        range("khoang", first, last, format!("Từ {} đến {}", dmy(first), dmy(last)))
    }
}

impl Choice {
    /// The query string that chooses this period again (for links).
    pub fn query(&self) -> String {
        if self.key == "khoang" && self.error.is_none() {
            format!("period=khoang&from={}&to={}", self.from, self.to)
        } else if self.error.is_some() {
            "period=thang".to_owned()
        } else {
            format!("period={}", self.key)
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn presets_follow_vietnam_time() {
        // 23:30 UTC on 30 Nov is already 1 December in Vietnam.
        let now = datetime!(2026-11-30 23:30 UTC);
        let m = this_month(now);
        assert_eq!(m.period.from, datetime!(2026-12-01 00:00 +07:00));
        assert_eq!(m.period.to, datetime!(2027-01-01 00:00 +07:00));
        assert_eq!(m.label, "Tháng 12/2026");
        let y = this_year(now);
        assert_eq!(y.period.to, datetime!(2027-01-01 00:00 +07:00));
        let t = today(now);
        assert_eq!(t.period.to - t.period.from, Duration::days(1));
        let q = PeriodQuery {
            period: None,
            from: Some("2026-11-01".into()),
            to: Some("2026-11-15".into()),
        };
        let c = q.choice(now);
        assert_eq!(c.period.to, datetime!(2026-11-16 00:00 +07:00));
        assert_eq!(c.query(), "period=khoang&from=2026-11-01&to=2026-11-15");
        let bad = PeriodQuery {
            period: Some("khoang".into()),
            from: Some("2026-11-15".into()),
            to: Some("2026-11-01".into()),
        };
        let c = bad.choice(now);
        assert!(c.error.is_some());
        assert_eq!(c.from, "2026-11-15", "what was typed is kept");
        // A preset with its own dates is the preset; with other dates, the dates.
        let same = PeriodQuery {
            period: Some("thang".into()),
            from: Some("2026-12-01".into()),
            to: Some("2026-12-31".into()),
        };
        assert_eq!(same.choice(now).key, "thang");
        let other = PeriodQuery {
            period: Some("thang".into()),
            from: Some("2026-12-01".into()),
            to: Some("2026-12-10".into()),
        };
        assert_eq!(other.choice(now).label, "Từ 01/12/2026 đến 10/12/2026");
    }
}
