//! The charts of the dashboards (the director's overview, a department's page, the public
//! statistics), built from the maintained aggregates (`motcua_store::stats`) and the
//! overdue dossiers' appointments, drawn by [`crate::web::charts`]. Each chart's marks
//! link to the list of dossiers behind them when the page has one (`lists`).

use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::Channel;
use motcua_store::overview::{self, Period};
use motcua_store::stats::{self, Counts, Step};
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};

use crate::service::period::Choice;
use crate::state::AppState;
use crate::web::charts::{self, Bar, Mark, Series, Stack};
use crate::web::pages::PageError;
use crate::web::{VN, encode};

/// Where the lists behind a dashboard's numbers are, and which department they are of.
#[derive(Debug, Clone)]
pub struct Lists {
    /// The list of dossiers behind a figure (`/lanh-dao/ho-so`, `/don-vi/ho-so`).
    pub figure: String,
    /// The list of overdue dossiers (`/lanh-dao/qua-han`, `/don-vi/qua-han`).
    pub overdue: String,
    /// Query parameters every link carries (`&agency=…`), empty for none.
    pub extra: String,
}

impl Lists {
    /// The list behind `metric` in the period `query` (`period=…`), narrowed by `more`.
    pub fn figure(&self, metric: &str, query: &str, more: &str) -> String {
        format!("{}?metric={metric}&{query}{}{more}", self.figure, self.extra)
    }
}

/// The granularity of a trend for a period: days up to 45 days, weeks up to about half a
/// year, months beyond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    /// Days.
    Day,
    /// Weeks starting on Monday (cut to the period).
    Week,
    /// Months (cut to the period).
    Month,
}

/// The grain for a period of `days` days.
pub fn grain(days: i64) -> Grain {
    if days <= 45 {
        Grain::Day
    } else if days <= 190 {
        Grain::Week
    } else {
        Grain::Month
    }
}

/// One point of a trend: the days it covers (inclusive) and its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendPoint {
    /// First day.
    pub first: Date,
    /// Last day (inclusive).
    pub last: Date,
    /// Received.
    pub received: i64,
    /// Resolved.
    pub resolved: i64,
}

fn vn_date(t: OffsetDateTime) -> Date {
    t.to_offset(VN).date()
}

/// Received and resolved over `period` at `grain`, from the aggregates, up to today.
pub async fn trend(
    state: &AppState,
    province: &ProvinceCode,
    period: Period,
    grain: Grain,
    department: Option<&str>,
) -> Result<Vec<TrendPoint>, PageError> {
    let step = if grain == Grain::Month { Step::Month } else { Step::Day };
    let points = {
        let mut tx = state.db.begin_read().await?;
        stats::trend(&mut tx, province, period, step, department, None).await?
    };
    // A period not over yet ("this month") stops today: days to come are not zeros.
    let today = vn_date(state.clock.now());
    let last_day = vn_date(period.to - Duration::days(1)).min(today);
    let mut out: Vec<TrendPoint> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if p.start > today {
            break;
        }
        let end = points
            .get(i + 1)
            .and_then(|n| n.start.previous_day())
            .unwrap_or(last_day)
            .min(last_day);
        let starts_week = p.start.weekday() == time::Weekday::Monday;
        match out.last_mut() {
            Some(w) if grain == Grain::Week && !starts_week => {
                w.last = end;
                w.received += p.received;
                w.resolved += p.resolved;
            }
            _ => out.push(TrendPoint {
                first: p.start,
                last: end,
                received: p.received,
                resolved: p.resolved,
            }),
        }
    }
    Ok(out)
}

fn iso(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn short(d: Date, grain: Grain) -> String {
    match grain {
        Grain::Month => d.format(format_description!("[month]/[year]")).unwrap_or_default(),
        _ => d.format(format_description!("[day]/[month]")).unwrap_or_default(),
    }
}

/// The trend chart of `points`; the received marks link to the list of dossiers received
/// in their days when `lists` is given.
pub fn trend_chart(id: &str, title: &str, points: &[TrendPoint], grain: Grain, lists: Option<&Lists>) -> String {
    let labels: Vec<String> = points.iter().map(|p| short(p.first, grain)).collect();
    let received = Series {
        name: "Tiếp nhận".into(),
        points: points
            .iter()
            .map(|p| match lists {
                Some(l) => Mark::linked(
                    p.received,
                    l.figure(
                        "received",
                        &format!("period=khoang&from={}&to={}", iso(p.first), iso(p.last)),
                        "",
                    ),
                ),
                None => Mark::plain(p.received),
            })
            .collect(),
    };
    let resolved = Series {
        name: "Đã giải quyết".into(),
        points: points.iter().map(|p| Mark::plain(p.resolved)).collect(),
    };
    charts::time_chart(id, title, &labels, &[received, resolved])
}

/// The on-time rate as text, `—` for none.
pub fn rate_text(permille: Option<i64>) -> String {
    super::rate(permille)
}

/// One on-time bar: `label` with `counts`' rate, linking to `href` (the resolved-late
/// list, say) if given. `None` when nothing was resolved.
pub fn on_time_bar(label: String, counts: &Counts, href: Option<String>) -> Option<Bar> {
    let p = counts.on_time_permille()?;
    Some(Bar {
        label,
        text: rate_text(Some(p)),
        permille: p,
        low: p < 900,
        note: "dưới 90 %".into(),
        href,
    })
}

/// The age buckets of overdue dossiers are defined once, in core.
pub use motcua_core::deadline::{AGES, age_bucket, age_of_key};

/// Overdue dossiers now per department and age bucket, biggest first: (agency, counts).
pub async fn overdue_ages(
    state: &AppState,
    province: &ProvinceCode,
    now: OffsetDateTime,
    department: Option<&str>,
) -> Result<Vec<(String, [i64; 4])>, PageError> {
    let due = {
        let mut tx = state.db.begin_read().await?;
        overview::overdue_due(&mut tx, province, now, department).await?
    };
    let calendar = crate::service::calendar::calendar(state, province).await?;
    let mut by: std::collections::BTreeMap<String, [i64; 4]> = std::collections::BTreeMap::new();
    for (agency, d) in due {
        by.entry(agency).or_default()[age_bucket(&calendar, d, now)] += 1;
    }
    let mut out: Vec<(String, [i64; 4])> = by.into_iter().collect();
    out.sort_by_key(|(a, c)| (-c.iter().sum::<i64>(), a.clone()));
    Ok(out)
}

/// The stacked chart of [`overdue_ages`]; `name` names an agency, `lists` gives the
/// overdue list each part links to (`?agency=&age=`).
pub fn overdue_chart(id: &str, rows: &[(String, [i64; 4])], name: impl Fn(&str) -> String, lists: &Lists) -> String {
    let keys: Vec<&str> = AGES.iter().map(|(_, l)| *l).collect();
    let stacks: Vec<Stack> = rows
        .iter()
        .map(|(agency, c)| {
            let base = format!("{}?agency={}", lists.overdue, encode(agency));
            Stack {
                label: name(agency),
                parts: c
                    .iter()
                    .zip(AGES)
                    .map(|(n, (k, _))| Mark::linked(*n, format!("{base}&age={k}")))
                    .collect(),
                total: Mark::linked(c.iter().sum(), base.clone()),
            }
        })
        .collect();
    charts::stacked_bars(
        id,
        "ages",
        "Hồ sơ đang quá hạn theo số ngày làm việc trễ hẹn",
        &keys,
        &stacks,
    )
}

/// The channels in the order of `Counts::received`.
pub const CHANNELS: [(Channel, &str); 3] = [
    (Channel::Counter, "Tại quầy"),
    (Channel::Online, "Trực tuyến"),
    (Channel::Post, "Bưu chính"),
];

/// The mix of channels of the dossiers received (`counts`), each part linking to its
/// list when `lists` is given.
pub fn channel_chart(id: &str, counts: &Counts, query: &str, lists: Option<&Lists>) -> String {
    let keys: Vec<&str> = CHANNELS.iter().map(|(_, l)| *l).collect();
    let mark = |n: i64, more: String| match lists {
        Some(l) => Mark::linked(n, l.figure("received", query, &more)),
        None => Mark::plain(n),
    };
    let parts = CHANNELS
        .iter()
        .zip(counts.received)
        .map(|((c, _), n)| mark(n, format!("&channel={}", c.code())))
        .collect();
    let total = counts.received_total();
    charts::stacked_bars(
        id,
        "mix",
        "Hồ sơ tiếp nhận theo kênh nộp",
        &keys,
        &[Stack {
            label: "Tiếp nhận".into(),
            parts,
            // The total is the table's "received", linked there.
            total: Mark::plain(total),
        }],
    )
}

/// The figures of `province` (one department or all) for `choice`, grouped by
/// `group`, from the aggregates.
pub async fn figures(
    state: &AppState,
    province: &ProvinceCode,
    choice: &Choice,
    now: OffsetDateTime,
    group: motcua_core::stats::Dimension,
    department: Option<&str>,
) -> Result<Vec<stats::Line>, PageError> {
    let mut tx = state.db.begin_read().await?;
    Ok(stats::figures(
        &mut tx,
        province,
        stats::Query {
            group,
            period: choice.period,
            now,
            department,
            channel: None,
        },
    )
    .await?)
}

/// The days of a period.
pub fn days(period: Period) -> i64 {
    (period.to - period.from).whole_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grains_follow_the_length() {
        assert_eq!(grain(1), Grain::Day);
        assert_eq!(grain(31), Grain::Day);
        assert_eq!(grain(45), Grain::Day);
        assert_eq!(grain(90), Grain::Week);
        assert_eq!(grain(365), Grain::Month);
        assert_eq!(age_of_key("3"), Some(2));
        assert_eq!(age_of_key("9"), None);
    }
}
