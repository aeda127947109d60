//! The director's figures: per department and period, how many dossiers were received,
//! are in progress (within deadline / overdue), were resolved (early / on time / late)
//! and returned — and the lists of dossiers behind each number.
//!
//! Each figure is one SQL condition over the indexed columns of `dossiers` (see
//! [`Metric::condition`]); the counts and the lists use the same condition, so a list
//! always holds exactly the dossiers its number counts. The rules are docs/rules.md §6 as the
//! lifecycle stores them: the appointment (`due_at`) already excludes supplement time
//! (it moves when the supplement arrives), `Timeliness::judge` compares the finish with
//! the appointment in Vietnam time (before the due day: early; after the due instant:
//! late), more than one supplement request counts as late, and unfinished dossiers are
//! judged at the end of the period (or now, if the period has not ended).
//!
//! [`figures`] reads the maintained aggregates of [`crate::stats`] (issue 8) for periods of
//! whole days, which is what every page asks for; [`scan_figures`] computes the same from
//! the dossiers with the conditions of [`Metric::condition`] (the lists use them too) and
//! answers any other period. The suite checks that the two agree.

use std::collections::BTreeMap;

use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::Status;
use time::OffsetDateTime;

use crate::dossiers::{Stored, fetch_stored};
use crate::{Arg, Backend, Filters, Result, Tx, fetch_all, on, to_millis};

/// One figure of the overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Accepted within the period.
    Received,
    /// Unfinished at the period's end (or now), appointment not passed.
    InProgressOnTime,
    /// Unfinished at the period's end (or now) and overdue then
    /// (`motcua_core::deadline::is_overdue`).
    InProgressOverdue,
    /// Result ready within the period before the due day.
    ResolvedEarly,
    /// Result ready within the period on the due day, not after the due instant.
    ResolvedOnTime,
    /// Result ready within the period after the due instant (or after more than one
    /// supplement request).
    ResolvedLate,
    /// Result handed over within the period.
    Returned,
}

impl Metric {
    /// Every figure, in the overview's column order.
    pub const ALL: [Metric; 7] = [
        Metric::Received,
        Metric::InProgressOnTime,
        Metric::InProgressOverdue,
        Metric::ResolvedEarly,
        Metric::ResolvedOnTime,
        Metric::ResolvedLate,
        Metric::Returned,
    ];

    /// Name used in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Received => "received",
            Metric::InProgressOnTime => "in_progress",
            Metric::InProgressOverdue => "overdue",
            Metric::ResolvedEarly => "early",
            Metric::ResolvedOnTime => "on_time",
            Metric::ResolvedLate => "late",
            Metric::Returned => "returned",
        }
    }

    /// The figure named `name`.
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Received => "Tiếp nhận trong kỳ",
            Metric::InProgressOnTime => "Đang giải quyết trong hạn",
            Metric::InProgressOverdue => "Đang giải quyết quá hạn",
            Metric::ResolvedEarly => "Đã giải quyết trước hạn",
            Metric::ResolvedOnTime => "Đã giải quyết đúng hạn",
            Metric::ResolvedLate => "Đã giải quyết quá hạn",
            Metric::Returned => "Đã trả kết quả",
        }
    }

    /// The SQL condition (over `dossiers`) of this figure, with `$from`, `$to` and `$at`
    /// (the instant unfinished dossiers are judged at) already bound at `p`.
    fn condition(self, p: &Params, backend: Backend) -> String {
        let Params { from, to, at } = p;
        let in_progress = format!("received_at < {to} AND (finished_at IS NULL OR finished_at >= {to})");
        // `motcua_core::deadline::is_overdue` judged at the period's end (or now): the
        // clock stands still while the applicant supplements or pays.
        let overdue = crate::deadline::overdue_at(at);
        let resolved = format!(
            "status IN ({}) AND finished_at >= {from} AND finished_at < {to}",
            crate::deadline::codes(&Status::WITH_RESULT)
        );
        let late = format!("(finished_at > due_at OR {} > 1)", supplements(backend));
        // Midnight (Vietnam time) starting the due day, in epoch milliseconds.
        let due_day = "(due_at - ((due_at + 25200000) % 86400000))";
        match self {
            Metric::Received => format!("received_at >= {from} AND received_at < {to}"),
            Metric::InProgressOnTime => format!("{in_progress} AND due_at IS NOT NULL AND NOT ({overdue})"),
            Metric::InProgressOverdue => format!("{in_progress} AND {overdue}"),
            Metric::ResolvedEarly => format!("{resolved} AND NOT {late} AND finished_at < {due_day}"),
            Metric::ResolvedOnTime => format!("{resolved} AND NOT {late} AND finished_at >= {due_day}"),
            Metric::ResolvedLate => format!("{resolved} AND {late}"),
            Metric::Returned => format!("returned_at >= {from} AND returned_at < {to}"),
        }
    }
}

/// How many supplement requests were made during handling (kept only in the JSON).
fn supplements(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "COALESCE(CAST(json_extract(data, '$.supplements') AS BIGINT), 0)",
        Backend::Postgres => "COALESCE(CAST(CAST(data AS jsonb) ->> 'supplements' AS BIGINT), 0)",
    }
}

/// The placeholders of the period, in a query's argument list.
struct Params {
    from: String,
    to: String,
    at: String,
}

/// A period: from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start.
    pub from: OffsetDateTime,
    /// End (exclusive).
    pub to: OffsetDateTime,
}

impl Period {
    /// When unfinished dossiers are judged: the period's end, or `now` if it has not ended.
    pub fn judged_at(self, now: OffsetDateTime) -> OffsetDateTime {
        self.to.min(now)
    }
}

/// The figures of one department (the agency responsible for the dossiers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// The responsible agency's code.
    pub agency: String,
    /// Count per figure, in the order of [`Metric::ALL`].
    pub counts: [i64; 7],
}

impl Figures {
    /// The count of `m`.
    pub fn get(&self, m: Metric) -> i64 {
        Metric::ALL.iter().position(|x| *x == m).map_or(0, |i| self.counts[i])
    }

    /// Resolved in the period (early + on time + late).
    pub fn resolved(&self) -> i64 {
        self.get(Metric::ResolvedEarly) + self.get(Metric::ResolvedOnTime) + self.get(Metric::ResolvedLate)
    }

    /// In progress at the period's end.
    pub fn in_progress(&self) -> i64 {
        self.get(Metric::InProgressOnTime) + self.get(Metric::InProgressOverdue)
    }

    /// Resolved early or on time, in per mille of those resolved; `None` if none was.
    pub fn on_time_permille(&self) -> Option<i64> {
        let resolved = self.resolved();
        (resolved > 0).then(|| (self.get(Metric::ResolvedEarly) + self.get(Metric::ResolvedOnTime)) * 1000 / resolved)
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Figures) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
    }
}

/// Binds the period's three instants as the next parameters.
fn bind_period(f: &mut Filters<'_>, period: Period, now: OffsetDateTime) -> Params {
    Params {
        from: f.bind(Arg::Int(to_millis(period.from))),
        to: f.bind(Arg::Int(to_millis(period.to))),
        at: f.bind(Arg::Int(to_millis(period.judged_at(now)))),
    }
}

/// Rows that can count in any figure of the period (an index-friendly superset).
fn relevant(p: &Params) -> String {
    format!(
        "received_at IS NOT NULL AND received_at < {to} AND (finished_at IS NULL OR finished_at >= {from} OR returned_at >= {from})",
        from = p.from,
        to = p.to
    )
}

/// The figures of `province` for `period`, judged at `now`: one entry per responsible
/// agency that has any dossier counted, by agency code. Read from the maintained
/// aggregates when the period is whole days (Vietnam time); scanned otherwise.
pub async fn figures(
    tx: &mut Tx,
    province: &ProvinceCode,
    period: Period,
    now: OffsetDateTime,
) -> Result<Vec<Figures>> {
    if !(crate::stats::is_day_boundary(period.from) && crate::stats::is_day_boundary(period.to))
        || period.from > period.to
    {
        return scan_figures(tx, province, period, now).await;
    }
    let query = crate::stats::Query {
        group: motcua_core::stats::Dimension::Department,
        period,
        now,
        department: None,
        channel: None,
    };
    let lines = crate::stats::figures(tx, province, query).await?;
    Ok(from_lines(lines))
}

/// The overview's figures from the statistics' lines grouped by department.
pub fn from_lines(lines: Vec<crate::stats::Line>) -> Vec<Figures> {
    lines
        .into_iter()
        .map(|l| {
            let c = &l.counts;
            Figures {
                agency: l.value,
                counts: [
                    c.received_total(),
                    c.in_progress_on_time,
                    c.overdue,
                    c.early,
                    c.on_time,
                    c.late,
                    c.returned,
                ],
            }
        })
        .filter(|f| f.counts.iter().any(|n| *n > 0))
        .collect()
}

/// [`figures`] computed by scanning the province's dossiers of the period with the
/// conditions of [`Metric::condition`] (one `GROUP BY`): any period, and the reference
/// the aggregates are checked against.
pub async fn scan_figures(
    tx: &mut Tx,
    province: &ProvinceCode,
    period: Period,
    now: OffsetDateTime,
) -> Result<Vec<Figures>> {
    let backend = tx.backend();
    let mut w = Filters::new(vec![Arg::Text(province.as_str())]);
    let p = bind_period(&mut w, period, now);
    let columns: Vec<String> = Metric::ALL
        .iter()
        .map(|m| {
            format!(
                "CAST(SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS BIGINT)",
                m.condition(&p, backend)
            )
        })
        .collect();
    let sql = format!(
        "SELECT responsible_agency, {} FROM dossiers WHERE province_code = $1 AND {}
         GROUP BY responsible_agency ORDER BY responsible_agency",
        columns.join(", "),
        relevant(&p)
    );
    type Row = (String, i64, i64, i64, i64, i64, i64, i64);
    let rows: Vec<Row> = fetch_all(tx, &sql, &w.args).await?;
    Ok(rows
        .into_iter()
        .map(|(agency, a, b, c, d, e, f, g)| Figures {
            agency,
            counts: [a, b, c, d, e, f, g],
        })
        .filter(|f| f.counts.iter().any(|n| *n > 0))
        .collect())
}

/// The sum of `figures` over every agency.
pub fn total(figures: &[Figures]) -> Figures {
    let mut t = Figures::default();
    for f in figures {
        t.add(f);
    }
    t
}

/// Which dossiers behind one figure to list.
#[derive(Debug, Clone, Copy)]
pub struct Behind<'a> {
    /// The period.
    pub period: Period,
    /// When unfinished dossiers are judged (with the period's end).
    pub now: OffsetDateTime,
    /// The figure.
    pub metric: Metric,
    /// Only this responsible agency (all if `None`).
    pub agency: Option<&'a str>,
    /// Keyset: only rows with an id below this.
    pub before_id: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// The dossiers behind one figure, newest first: exactly those [`figures`] counts.
pub async fn dossiers(tx: &mut Tx, province: &ProvinceCode, b: Behind<'_>) -> Result<Vec<Stored>> {
    dossiers_narrowed(tx, province, b, Narrow::default()).await
}

/// Further conditions on the dossiers behind a figure, matching the dimensions and the
/// channel filter of [`crate::stats::figures`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Narrow<'a> {
    /// Only dossiers filed through this channel (1 counter, 2 online, 3 post).
    pub channel: Option<u8>,
    /// Only dossiers of this procedure (code).
    pub procedure: Option<&'a str>,
    /// Only dossiers this officer counts for (`motcua_core::stats::officer`: who handled
    /// it, or holds it; user id; empty: nobody).
    pub officer: Option<&'a str>,
    /// Only dossiers received at this agency (a centre: `Dimension::Centre`).
    pub centre: Option<&'a str>,
}

/// [`dossiers`], narrowed to a channel, a procedure or an officer: exactly those
/// [`crate::stats::figures`] counts with the same filter or grouping.
pub async fn dossiers_narrowed(
    tx: &mut Tx,
    province: &ProvinceCode,
    b: Behind<'_>,
    narrow: Narrow<'_>,
) -> Result<Vec<Stored>> {
    let backend = tx.backend();
    let mut f = Filters::new(vec![Arg::Text(province.as_str())]);
    let p = bind_period(&mut f, b.period, b.now);
    f.and(relevant(&p));
    f.and(b.metric.condition(&p, backend));
    f.and_if("responsible_agency =", b.agency.map(Arg::Text));
    f.and_if("channel =", narrow.channel.map(|c| Arg::Int(i64::from(c))));
    f.and_if("procedure_code =", narrow.procedure.map(Arg::Text));
    f.and_if("COALESCE(officer_id, '') =", narrow.officer.map(Arg::Text));
    f.and_if("receiving_agency =", narrow.centre.map(Arg::Text));
    f.and_if("id <", b.before_id.map(Arg::Int));
    let limit = f.bind(Arg::Int(i64::from(b.limit.clamp(1, crate::dossiers::MAX_LIST_LIMIT))));
    let sql = format!(
        "SELECT id, data FROM dossiers WHERE province_code = $1{} ORDER BY id DESC LIMIT {limit}",
        f.and_all()
    );
    fetch_stored(tx, &sql, &f.args).await
}

/// The province's overdue dossiers now (`motcua_core::deadline::is_overdue`; of one
/// responsible agency, or all), oldest appointment first, and how many there are per
/// responsible agency.
pub async fn overdue(
    tx: &mut Tx,
    province: &ProvinceCode,
    now: OffsetDateTime,
    agency: Option<&str>,
    limit: u32,
) -> Result<(Vec<Stored>, BTreeMap<String, i64>)> {
    let condition = format!("province_code = $1 AND {}", crate::deadline::overdue_now("$2"));
    let counts_sql = format!(
        "SELECT responsible_agency, CAST(COUNT(*) AS BIGINT) FROM dossiers WHERE {condition} GROUP BY responsible_agency"
    );
    let now_ms = to_millis(now);
    let counts: Vec<(String, i64)> = on!(tx, |c| {
        sqlx::query_as(&counts_sql)
            .bind(province.as_str())
            .bind(now_ms)
            .fetch_all(c)
            .await
    })?;
    let mut f = Filters::new(vec![Arg::Text(province.as_str()), Arg::Int(now_ms)]);
    f.and_if("responsible_agency =", agency.map(Arg::Text));
    let limit = f.bind(Arg::Int(i64::from(limit.clamp(1, 1000))));
    let sql = format!(
        "SELECT id, data FROM dossiers WHERE {condition}{} ORDER BY due_at, id LIMIT {limit}",
        f.and_all()
    );
    let rows = fetch_stored(tx, &sql, &f.args).await?;
    Ok((rows, counts.into_iter().collect()))
}

/// The appointment of every dossier overdue now (as [`overdue`] selects them), with its
/// responsible agency: what charts of overdue dossiers by age need, without the dossiers.
pub async fn overdue_due(
    tx: &mut Tx,
    province: &ProvinceCode,
    now: OffsetDateTime,
    agency: Option<&str>,
) -> Result<Vec<(String, OffsetDateTime)>> {
    let mut sql = format!(
        "SELECT responsible_agency, due_at FROM dossiers WHERE province_code = $1 AND {}",
        crate::deadline::overdue_now("$2")
    );
    if agency.is_some() {
        sql.push_str(" AND responsible_agency = $3");
    }
    sql.push_str(" ORDER BY due_at, id");
    let now_ms = to_millis(now);
    let rows: Vec<(String, i64)> = on!(tx, |c| {
        let mut q = sqlx::query_as(&sql).bind(province.as_str()).bind(now_ms);
        if let Some(a) = agency {
            q = q.bind(a);
        }
        q.fetch_all(c).await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, due)| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(due) * 1_000_000)
                .ok()
                .map(|t| (a, t))
        })
        .collect())
}
