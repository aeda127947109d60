//! The maintained statistics (issue 8): counters in `stats_days` and `stats_months`
//! (migration 0014) kept equal to the sum of [`motcua_core::stats::contributions`] over
//! the province's dossiers. [`crate::dossiers::insert`] and [`crate::dossiers::save`]
//! apply each change's difference in their own transaction, so every path that writes a
//! dossier (API, generator, imports) keeps them; [`recount`] recomputes them from the
//! dossiers with the same function and reports every difference; [`rebuild`] refills
//! them. [`figures`] reads a period's figures grouped by one dimension from a few
//! thousand counter rows instead of scanning the dossiers.

use std::collections::{BTreeMap, BTreeSet};

use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::Channel;
use motcua_core::lifecycle::Dossier;
use motcua_core::stats::{
    self as core_stats, Amount, Day, Dimension, Key, Kind, MonthNo, day_of, first_day_of_month, month_of,
};
use time::{Date, OffsetDateTime};

use crate::batch::BatchTx;
use crate::overview::Period;
use crate::{Arg, Db, Filters, Result, StoreError, Tx, exec, fetch_all, on, to_millis};

/// The two tables: by day and by month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    /// `stats_days`.
    Days,
    /// `stats_months`.
    Months,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Days => "stats_days",
            Table::Months => "stats_months",
        }
    }
}

/// Counters by day and by month, as [`motcua_core::stats::Key`] with the bucket in
/// `day` (a day number or a month number).
pub type Counters = BTreeMap<(Table, Key), Amount>;

/// The day counters and their monthly sums.
fn with_months(days: BTreeMap<Key, Amount>) -> Counters {
    let mut out = Counters::new();
    for (key, a) in days {
        let mut month = key.clone();
        month.day = month_of(key.day);
        let m = out.entry((Table::Months, month.clone())).or_default();
        m.n += a.n;
        m.minutes += a.minutes;
        if m.is_zero() {
            out.remove(&(Table::Months, month));
        }
        out.insert((Table::Days, key), a);
    }
    out
}

/// Rows per statement when writing counters (9 parameters each).
const CHUNK: usize = 200;

/// Adds `counters` to the stored ones (inserting missing rows), and gives every month it
/// changes a new version ([`kept_sums`]): the months of its month rows and of its day rows
/// (changes to two days of one month may cancel out in the month's row).
async fn add(tx: &mut Tx, counters: &Counters) -> Result<()> {
    let months: BTreeSet<(&str, i32)> = counters
        .keys()
        .map(|(t, k)| {
            let month = match t {
                Table::Months => k.day,
                Table::Days => month_of(k.day),
            };
            (k.province.as_str(), month)
        })
        .collect();
    bump_months(tx, &months).await?;
    for table in [Table::Days, Table::Months] {
        let rows: Vec<(&Key, &Amount)> = counters
            .iter()
            .filter(|((t, _), _)| *t == table)
            .map(|((_, k), a)| (k, a))
            .collect();
        for chunk in rows.chunks(CHUNK) {
            let mut sql = format!(
                "INSERT INTO {} (province_code, dimension, kind, bucket, value, department, channel, n, minutes) VALUES ",
                table.name()
            );
            let row = crate::batch::placeholders(tx.backend(), 9);
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&row(i * 9));
            }
            sql.push_str(&format!(
                " ON CONFLICT (province_code, dimension, kind, bucket, value, department, channel)
                 DO UPDATE SET n = {t}.n + excluded.n, minutes = {t}.minutes + excluded.minutes",
                t = table.name()
            ));
            exec!(&mut *tx, |c| {
                let mut q = sqlx::query(&sql);
                for (k, a) in chunk {
                    q = q
                        .bind(k.province.as_str())
                        .bind(i64::from(k.dimension.code()))
                        .bind(i64::from(k.kind.code()))
                        .bind(i64::from(k.day))
                        .bind(k.value.as_str())
                        .bind(k.department.as_str())
                        .bind(i64::from(k.channel))
                        .bind(a.n)
                        .bind(a.minutes);
                }
                q.execute(c).await
            })?;
        }
    }
    Ok(())
}

/// Applies the change of one dossier from `old` (none when new) to `new`: called by
/// [`crate::dossiers::insert`] and [`crate::dossiers::save`] in their job of a group
/// commit. The difference joins the batch's sum, written once just before the batch
/// commits (`batch::Deferred`); bulk loads use [`Batch`] instead.
pub fn apply(b: &mut BatchTx, old: Option<&Dossier>, new: &Dossier) {
    let diff = core_stats::difference(old, new);
    if !diff.is_empty() {
        crate::batch::sum_into(&mut b.layers.job.stats, diff);
    }
}

/// Adds summed differences (a batch's) to the stored counters.
pub(crate) async fn add_differences(tx: &mut Tx, mut diff: BTreeMap<Key, Amount>) -> Result<()> {
    diff.retain(|_, a| !a.is_zero());
    if diff.is_empty() {
        return Ok(());
    }
    add(tx, &with_months(diff)).await
}

/// The counters of many new dossiers, summed in memory and written at once: bulk loads
/// (`motcua generate`) insert with [`crate::dossiers::insert_uncounted`], add each dossier
/// here and [`Batch::write`] in the same transaction — one upsert per table for the lot
/// instead of one per dossier.
#[derive(Debug, Default)]
pub struct Batch {
    counters: Counters,
}

impl Batch {
    /// Counts new dossier `d`.
    pub fn add(&mut self, d: &Dossier) {
        for (key, a) in with_months(core_stats::contributions(d)) {
            let sum = self.counters.entry(key).or_default();
            sum.n += a.n;
            sum.minutes += a.minutes;
        }
    }

    /// Adds the counted dossiers to the stored counters, in `tx`.
    pub async fn write(mut self, tx: &mut Tx) -> Result<()> {
        self.counters.retain(|_, a| !a.is_zero());
        if self.counters.is_empty() {
            return Ok(());
        }
        add(tx, &self.counters).await
    }
}

/// What a figure query asks for.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// Group by this dimension.
    pub group: Dimension,
    /// The period: whole days in Vietnam time (midnight to midnight).
    pub period: Period,
    /// Now: unfinished dossiers are judged at the period's end, or now if it has not ended.
    pub now: OffsetDateTime,
    /// Only dossiers of this responsible agency.
    pub department: Option<&'a str>,
    /// Only dossiers filed through this channel.
    pub channel: Option<Channel>,
}

/// The figures of one value of the grouping dimension (docs/rules.md §6's usual report).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// In progress when the period started (carried over).
    pub carried_over: i64,
    /// Received in the period, by channel: counter, online, post.
    pub received: [i64; 3],
    /// In progress at the period's end (or now), appointment not passed.
    pub in_progress_on_time: i64,
    /// In progress at the period's end (or now), appointment passed, clock running.
    pub overdue: i64,
    /// Resolved in the period before the due day.
    pub early: i64,
    /// Resolved in the period on the due day.
    pub on_time: i64,
    /// Resolved in the period late (or after more than one supplement request).
    pub late: i64,
    /// Results handed over in the period.
    pub returned: i64,
    /// Refused at reception in the period.
    pub refused: i64,
    /// Withdrawn in the period.
    pub withdrawn: i64,
    /// Stopped in the period.
    pub stopped: i64,
    /// Supplement requests issued in the period.
    pub supplements: i64,
    /// Minutes from receipt to result of the dossiers resolved in the period (elapsed
    /// time, supplement pauses included: the store has no calendar).
    pub resolved_minutes: i64,
}

impl Counts {
    /// Received in the period, every channel.
    pub fn received_total(&self) -> i64 {
        self.received.iter().sum()
    }

    /// Resolved in the period.
    pub fn resolved(&self) -> i64 {
        self.early + self.on_time + self.late
    }

    /// In progress at the period's end.
    pub fn in_progress(&self) -> i64 {
        self.in_progress_on_time + self.overdue
    }

    /// Resolved early or on time, per mille of those resolved.
    pub fn on_time_permille(&self) -> Option<i64> {
        let r = self.resolved();
        (r > 0).then(|| (self.early + self.on_time) * 1000 / r)
    }

    /// Average minutes from receipt to result of those resolved.
    pub fn average_minutes(&self) -> Option<i64> {
        let r = self.resolved();
        (r > 0).then(|| self.resolved_minutes / r)
    }

    fn add(&mut self, o: &Counts) {
        self.carried_over += o.carried_over;
        for i in 0..3 {
            self.received[i] += o.received[i];
        }
        self.in_progress_on_time += o.in_progress_on_time;
        self.overdue += o.overdue;
        self.early += o.early;
        self.on_time += o.on_time;
        self.late += o.late;
        self.returned += o.returned;
        self.refused += o.refused;
        self.withdrawn += o.withdrawn;
        self.stopped += o.stopped;
        self.supplements += o.supplements;
        self.resolved_minutes += o.resolved_minutes;
    }

    fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// One line of [`figures`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The dimension's value (agency, field, procedure code, officer id; empty: none).
    pub value: String,
    /// Its figures.
    pub counts: Counts,
}

/// The sum of `lines`.
pub fn total(lines: &[Line]) -> Counts {
    let mut t = Counts::default();
    for l in lines {
        t.add(&l.counts);
    }
    t
}

/// Whether `t` is a midnight in Vietnam time.
pub fn is_day_boundary(t: OffsetDateTime) -> bool {
    let vn = t.to_offset(motcua_core::calendar::VIETNAM_OFFSET);
    vn.time() == time::Time::MIDNIGHT
}

fn midnight(day: Day) -> Option<OffsetDateTime> {
    core_stats::date_of(day).map(|d| d.midnight().assume_offset(motcua_core::calendar::VIETNAM_OFFSET))
}

/// A summed counter row: value, channel, kind, n, minutes.
type Sum = (String, i64, i64, i64, i64);

/// Which counter rows a statement reads, besides their kinds and buckets: one province's,
/// of one dimension, narrowed to a department and a channel when given.
#[derive(Debug, Clone, Copy)]
struct Scope<'a> {
    province: &'a ProvinceCode,
    group: Dimension,
    department: Option<&'a str>,
    channel: Option<Channel>,
}

impl<'a> Scope<'a> {
    /// Adds the department and channel conditions; `department` names the column that
    /// holds the department.
    fn narrow(self, f: &mut Filters<'a>, department: &str) {
        f.and_if(&format!("{department} ="), self.department.map(Arg::Text));
        f.and_if("channel =", self.channel.map(|c| Arg::Int(i64::from(c.code()))));
    }
}

/// The statement summing the counters of `kinds` in buckets `[lo, hi)` of `table` within
/// `scope`: `SELECT {keys}, {totals} … GROUP BY {keys}`, and its parameters.
fn counters_sql<'a>(
    table: Table,
    scope: Scope<'a>,
    kinds: &[Kind],
    (lo, hi): (i32, i32),
    keys: &str,
    totals: &str,
) -> (String, Vec<Arg<'a>>) {
    let mut f = Filters::new(vec![
        Arg::Text(scope.province.as_str()),
        Arg::Int(i64::from(scope.group.code())),
        Arg::Int(i64::from(lo)),
        Arg::Int(i64::from(hi)),
    ]);
    scope.narrow(&mut f, "department");
    let kinds: Vec<String> = kinds.iter().map(|k| k.code().to_string()).collect();
    let sql = format!(
        "SELECT {keys}, {totals} FROM {} WHERE province_code = $1 AND dimension = $2
         AND kind IN ({}) AND bucket >= $3 AND bucket < $4{} GROUP BY {keys}",
        table.name(),
        kinds.join(", "),
        f.and_all()
    );
    (sql, f.args)
}

/// Sums of the counters of `kinds` with buckets in `[lo, hi)` of `table`.
async fn sums(tx: &mut Tx, table: Table, scope: Scope<'_>, kinds: &[Kind], (lo, hi): (i32, i32)) -> Result<Vec<Sum>> {
    if lo >= hi || kinds.is_empty() {
        return Ok(Vec::new());
    }
    let (keys, totals) = (
        "value, channel, kind",
        "CAST(SUM(n) AS BIGINT), CAST(SUM(minutes) AS BIGINT)",
    );
    let (sql, args) = counters_sql(table, scope, kinds, (lo, hi), keys, totals);
    fetch_all(tx, &sql, &args).await
}

/// The counters of `kinds` over the days `[lo, hi)`: whole months from `stats_months`,
/// the days around them from `stats_days`.
async fn range(tx: &mut Tx, scope: Scope<'_>, kinds: &[Kind], lo: Day, hi: Day) -> Result<Vec<Sum>> {
    let mut out = Vec::new();
    for (table, span) in spans(lo, hi) {
        out.extend(kept_sums(tx, table, scope, kinds, span).await?.iter().cloned());
    }
    Ok(out)
}

/// What a kept sum was asked for: a scope's province, dimension, department and channel,
/// the kinds, the table and its buckets `[lo, hi)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct SumKey {
    table: Table,
    province: String,
    group: u8,
    department: Option<String>,
    channel: Option<u8>,
    kinds: Vec<u8>,
    buckets: (i32, i32),
}

/// A kept sum and the versions of its months when it was read.
#[derive(Debug)]
struct SumEntry {
    versions: Vec<(i64, i64)>,
    sums: std::sync::Arc<Vec<Sum>>,
}

/// The sums read so far, by what they were asked for.
#[derive(Debug, Default)]
struct KeptSums {
    entries: std::collections::HashMap<SumKey, SumEntry>,
    /// Summed rows held, over every entry.
    rows: usize,
}

/// Most summed rows kept (a sum is a few hundred rows for a dimension of departments,
/// some thousands for procedures); past it, the map starts afresh.
const KEPT_ROWS: usize = 200_000;

static KEPT: std::sync::LazyLock<std::sync::Mutex<KeptSums>> = std::sync::LazyLock::new(Default::default);

/// Sums of the counters of `kinds` in buckets `[lo, hi)` of `table` within `scope` (as
/// [`sums`]), kept in memory.
///
/// A dashboard over a year sums the same past months and cut days on every view (and
/// every period starting later sums the whole history before it, which grows with the
/// years kept): rows that do not change once their month is over. Every write that changes
/// a month's counters, by day or by month, gives the month a new random version in the same
/// transaction ([`add`], [`rebuild`]); a sum is kept with the versions of the months its
/// buckets fall in, as it read them, and used
/// again while those versions are the ones the reader's transaction sees (versions are
/// read first: on PostgreSQL, where each statement of a read-committed transaction sees
/// its own snapshot, a write between the two statements leaves the sum newer than its
/// versions, never older, so the next reader reads it again). A month with no version
/// has no counters. No clock is involved, so nodes and test clocks cannot disagree with it;
/// the versions are random, so two databases in one process never share one.
async fn kept_sums(
    tx: &mut Tx,
    table: Table,
    scope: Scope<'_>,
    kinds: &[Kind],
    (lo, hi): (i32, i32),
) -> Result<std::sync::Arc<Vec<Sum>>> {
    if lo >= hi || kinds.is_empty() {
        return Ok(std::sync::Arc::default());
    }
    let months = match table {
        Table::Months => (lo, hi),
        Table::Days => (month_of(lo), month_of(hi - 1) + 1),
    };
    let versions: Vec<(i64, i64)> = fetch_all(
        tx,
        "SELECT CAST(bucket AS BIGINT), version FROM stats_month_versions
         WHERE province_code = $1 AND bucket >= $2 AND bucket < $3 ORDER BY bucket",
        &[
            Arg::Text(scope.province.as_str()),
            Arg::Int(i64::from(months.0)),
            Arg::Int(i64::from(months.1)),
        ],
    )
    .await?;
    let key = SumKey {
        table,
        province: scope.province.as_str().to_owned(),
        group: scope.group.code(),
        department: scope.department.map(str::to_owned),
        channel: scope.channel.map(|c| c.code()),
        kinds: kinds.iter().map(|k| k.code()).collect(),
        buckets: (lo, hi),
    };
    {
        let cache = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = cache.entries.get(&key)
            && e.versions == versions
        {
            metrics::counter!("motcua_stats_kept_sums_total", "cache" => "hit").increment(1);
            return Ok(e.sums.clone());
        }
    }
    metrics::counter!("motcua_stats_kept_sums_total", "cache" => "miss").increment(1);
    let sums = std::sync::Arc::new(sums(tx, table, scope, kinds, (lo, hi)).await?);
    let mut cache = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if cache.rows + sums.len() > KEPT_ROWS {
        *cache = KeptSums::default();
    }
    cache.rows += sums.len();
    if let Some(old) = cache.entries.insert(
        key,
        SumEntry {
            versions,
            sums: sums.clone(),
        },
    ) {
        cache.rows = cache.rows.saturating_sub(old.sums.len());
    }
    Ok(sums)
}

/// A fresh random version for a month (std's per-instance random hasher keys, drawn from
/// the operating system once per thread and stepped on every use).
fn fresh_version() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish().cast_signed()
}

/// Gives each of `months` (province, month number) a new version.
async fn bump_months(tx: &mut Tx, months: &BTreeSet<(&str, i32)>) -> Result<()> {
    let months: Vec<&(&str, i32)> = months.iter().collect();
    for chunk in months.chunks(CHUNK) {
        let mut sql = "INSERT INTO stats_month_versions (province_code, bucket, version) VALUES ".to_owned();
        let row = crate::batch::placeholders(tx.backend(), 3);
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&row(i * 3));
        }
        sql.push_str(" ON CONFLICT (province_code, bucket) DO UPDATE SET version = excluded.version");
        exec!(&mut *tx, |c| {
            let mut q = sqlx::query(&sql);
            for (province, month) in chunk {
                q = q.bind(*province).bind(i64::from(*month)).bind(fresh_version());
            }
            q.execute(c).await
        })?;
    }
    Ok(())
}

/// The days `[lo, hi)` as the tables hold them: the whole months in between from
/// `stats_months` (months `[first, end)`), the cut days at either end from `stats_days`;
/// empty spans left out.
fn spans(lo: Day, hi: Day) -> Vec<(Table, (i32, i32))> {
    let mut first_month: MonthNo = month_of(lo);
    if first_day_of_month(first_month) != lo {
        first_month += 1;
    }
    let end_month: MonthNo = month_of(hi);
    let all = if first_month < end_month {
        vec![
            (Table::Days, (lo, first_day_of_month(first_month))),
            (Table::Months, (first_month, end_month)),
            (Table::Days, (first_day_of_month(end_month), hi)),
        ]
    } else {
        vec![(Table::Days, (lo, hi))]
    };
    all.into_iter().filter(|(_, (a, b))| a < b).collect()
}

/// A day long before any dossier (1900-01-01): the start of "everything before".
const BEGINNING: Day = -25_567;

/// The figures of `province` for `q`, one line per value of the grouping dimension that
/// has any figure, by value. The period must be whole days (Vietnam time).
pub async fn figures(tx: &mut Tx, province: &ProvinceCode, q: Query<'_>) -> Result<Vec<Line>> {
    let Period { from, to } = q.period;
    if !is_day_boundary(from) || !is_day_boundary(to) || from > to {
        return Err(StoreError::Io(
            "kỳ thống kê phải gồm các ngày trọn vẹn (từ 0 giờ đến 0 giờ, giờ Việt Nam)".into(),
        ));
    }
    if q.department.is_some() && !q.group.keeps_department() {
        return Err(StoreError::Io(format!(
            "số liệu theo {} không lọc được theo đơn vị giải quyết",
            q.group.name()
        )));
    }
    let (fd, td) = (day_of(from), day_of(to));
    let judged = q.period.judged_at(q.now);
    let jd = day_of(judged);
    let scope = Scope {
        province,
        group: q.group,
        department: q.department,
        channel: q.channel,
    };
    let mut lines: BTreeMap<String, Counts> = BTreeMap::new();
    // In progress at the end: received before the end minus ended before it.
    let mut in_progress: BTreeMap<String, i64> = BTreeMap::new();
    // Overdue at the judging day's start: entered minus left before that day.
    let mut overdue: BTreeMap<String, i64> = BTreeMap::new();
    let open = [Kind::Received, Kind::Exited];
    let due = [Kind::DueEntered, Kind::DueExited];
    // Three spans read once each: before the period, the period up to the judging day,
    // the rest of the period (the judging day is in the period unless the period lies
    // ahead, when the overdue facts are read on their own).
    let judged_inside = jd >= fd;
    let split = jd.clamp(fd, td);
    let mut before: Vec<Kind> = open.to_vec();
    if judged_inside {
        before.extend(due);
    }
    // Every fact dated inside the period counts there, except the overdue pair.
    let in_period: Vec<Kind> = Kind::ALL.into_iter().filter(|k| !due.contains(k)).collect();
    let mut to_split: Vec<Kind> = in_period.clone();
    if judged_inside {
        to_split.extend(due);
    }
    let mut spans: Vec<(Day, Day, &[Kind], bool)> = vec![
        (BEGINNING, fd, &before, false),
        (fd, split, &to_split, true),
        (split, td, &in_period, true),
    ];
    if !judged_inside {
        spans.push((BEGINNING, jd, &due, false));
    }
    for (lo, hi, kinds, inside) in spans {
        if lo >= hi {
            continue;
        }
        for (value, channel, kind, n, minutes) in range(tx, scope, kinds, lo, hi).await? {
            let kind = Kind::from_code(u8::try_from(kind).unwrap_or(0));
            match kind {
                Some(Kind::Received) => *in_progress.entry(value.clone()).or_default() += n,
                Some(Kind::Exited) => *in_progress.entry(value.clone()).or_default() -= n,
                Some(Kind::DueEntered) => *overdue.entry(value.clone()).or_default() += n,
                Some(Kind::DueExited) => *overdue.entry(value.clone()).or_default() -= n,
                _ => {}
            }
            let c = lines.entry(value).or_default();
            match (inside, kind) {
                (false, Some(Kind::Received)) => c.carried_over += n,
                (false, Some(Kind::Exited)) => c.carried_over -= n,
                (true, Some(Kind::Received)) => {
                    let i = usize::try_from(channel - 1).unwrap_or(0).min(2);
                    c.received[i] += n;
                }
                (true, Some(Kind::Early)) => {
                    c.early += n;
                    c.resolved_minutes += minutes;
                }
                (true, Some(Kind::OnTime)) => {
                    c.on_time += n;
                    c.resolved_minutes += minutes;
                }
                (true, Some(Kind::Late)) => {
                    c.late += n;
                    c.resolved_minutes += minutes;
                }
                (true, Some(Kind::Returned)) => c.returned += n,
                (true, Some(Kind::Refused)) => c.refused += n,
                (true, Some(Kind::Withdrawn)) => c.withdrawn += n,
                (true, Some(Kind::Stopped)) => c.stopped += n,
                (true, Some(Kind::Supplement)) => c.supplements += n,
                _ => {}
            }
        }
    }
    if judged < to {
        let day_start = midnight(jd).unwrap_or(judged);
        for (value, n) in overdue_today(tx, scope, day_start, judged).await? {
            *overdue.entry(value).or_default() += n;
        }
    }
    for (value, n) in in_progress {
        let late = overdue.remove(&value).unwrap_or(0);
        let c = lines.entry(value).or_default();
        c.overdue = late;
        c.in_progress_on_time = n - late;
    }
    for (value, late) in overdue {
        lines.entry(value).or_default().overdue = late;
    }
    Ok(lines
        .into_iter()
        .filter(|(_, c)| !c.is_empty())
        .map(|(value, counts)| Line { value, counts })
        .collect())
}

/// The column of `dossiers` holding a dimension's value.
fn column(d: Dimension) -> &'static str {
    match d {
        Dimension::Centre => "receiving_agency",
        Dimension::Department => "responsible_agency",
        Dimension::Field => "field_code",
        Dimension::Procedure => "procedure_code",
        Dimension::Officer => "COALESCE(officer_id, '')",
    }
}

/// When the period has not ended, unfinished dossiers are judged now, not at a day's
/// start: the day counters say `deadline::is_overdue` at today's midnight; this adds
/// those overdue now but not then (due today before now, clock running) and takes away
/// those overdue then but not now (due before midnight, finished since). Both sets are one
/// day's worth, read through `dossiers_by_due`; the conditions come from
/// [`crate::deadline`].
async fn overdue_today(
    tx: &mut Tx,
    scope: Scope<'_>,
    day_start: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    let (start, at) = (to_millis(day_start), to_millis(at));
    let province = scope.province.as_str();
    for (sign, condition, args) in [
        (
            1,
            format!("due_at >= $2 AND {}", crate::deadline::overdue_now("$3")),
            vec![Arg::Text(province), Arg::Int(start), Arg::Int(at)],
        ),
        (
            -1,
            crate::deadline::overdue_at_and_finished_since("$2"),
            vec![Arg::Text(province), Arg::Int(start)],
        ),
    ] {
        let mut f = Filters::new(args);
        scope.narrow(&mut f, "responsible_agency");
        let sql = format!(
            "SELECT {col}, CAST(COUNT(*) AS BIGINT) FROM dossiers
             WHERE province_code = $1 AND received_at IS NOT NULL AND {condition}{} GROUP BY {col}",
            f.and_all(),
            col = column(scope.group)
        );
        let rows: Vec<(String, i64)> = fetch_all(tx, &sql, &f.args).await?;
        out.extend(rows.into_iter().map(|(v, n)| (v, sign * n)));
    }
    Ok(out)
}

/// Granularity of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One point per day.
    Day,
    /// One point per month.
    Month,
}

/// One point of a trend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    /// The first day of the day or month.
    pub start: Date,
    /// Received.
    pub received: i64,
    /// Resolved (early, on time, late).
    pub resolved: i64,
}

/// Received and resolved per day or month of `period` (whole days; months are cut to
/// the period), for charts; every bucket of the period, zeros included.
pub async fn trend(
    tx: &mut Tx,
    province: &ProvinceCode,
    period: Period,
    step: Step,
    department: Option<&str>,
    channel: Option<Channel>,
) -> Result<Vec<Point>> {
    let (fd, td) = (day_of(period.from), day_of(period.to));
    if td - fd > 3660 {
        return Err(StoreError::Io("kỳ của biểu đồ dài quá mười năm".into()));
    }
    let kinds = [Kind::Received, Kind::Early, Kind::OnTime, Kind::Late];
    let scope = Scope {
        province,
        // Any one dimension counts each dossier once; the department's is the smallest.
        group: Dimension::Department,
        department,
        channel,
    };
    let rows: Vec<(i64, i64, i64)> = match step {
        Step::Day => trend_rows(tx, Table::Days, scope, &kinds, (fd, td)).await?,
        Step::Month => {
            // Whole months from the monthly table (one statement), the cut months at either
            // end from the days (one statement each), days summed into their months.
            let mut out = Vec::new();
            for (table, span) in spans(fd, td) {
                let rows = trend_rows(tx, table, scope, &kinds, span).await?;
                out.extend(rows.into_iter().map(|(bucket, k, n)| {
                    let month = match table {
                        Table::Months => bucket,
                        Table::Days => i64::from(month_of(Day::try_from(bucket).unwrap_or(Day::MAX))),
                    };
                    (month, k, n)
                }));
            }
            out
        }
    };
    let mut points: BTreeMap<i64, Point> = BTreeMap::new();
    let mut b = match step {
        Step::Day => fd,
        Step::Month => month_of(fd),
    };
    loop {
        let start_day = match step {
            Step::Day => b,
            Step::Month => first_day_of_month(b),
        };
        if start_day >= td {
            break;
        }
        if let Some(start) = core_stats::date_of(start_day.max(fd)) {
            points.insert(
                i64::from(b),
                Point {
                    start,
                    received: 0,
                    resolved: 0,
                },
            );
        }
        b += 1;
    }
    for (bucket, kind, n) in rows {
        if let Some(p) = points.get_mut(&bucket) {
            if kind == i64::from(Kind::Received.code()) {
                p.received += n;
            } else {
                p.resolved += n;
            }
        }
    }
    Ok(points.into_values().collect())
}

/// Bucket, kind and count of the counters of `kinds` in buckets `[lo, hi)` of `table`.
async fn trend_rows(
    tx: &mut Tx,
    table: Table,
    scope: Scope<'_>,
    kinds: &[Kind],
    span: (i32, i32),
) -> Result<Vec<(i64, i64, i64)>> {
    let (sql, args) = counters_sql(table, scope, kinds, span, "bucket, kind", "CAST(SUM(n) AS BIGINT)");
    fetch_all(tx, &sql, &args).await
}

/// Dossiers read per page when recounting.
const PAGE: i64 = 2_000;

/// Every dossier of `province`, oldest first (for recounts and checks).
pub async fn dossiers(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<Dossier>> {
    let mut out = Vec::new();
    each_dossier(tx, province, |d| out.push(d)).await?;
    Ok(out)
}

/// The counters `province`'s dossiers imply, computed from scratch.
pub async fn expected(tx: &mut Tx, province: &ProvinceCode) -> Result<Counters> {
    let mut days: BTreeMap<Key, Amount> = BTreeMap::new();
    each_dossier(tx, province, |d| core_stats::add(&mut days, &d, 1)).await?;
    Ok(with_months(days))
}

/// Calls `f` with each dossier of `province`, reading them a page at a time.
async fn each_dossier(tx: &mut Tx, province: &ProvinceCode, mut f: impl FnMut(Dossier)) -> Result<()> {
    let mut after = 0_i64;
    loop {
        let rows: Vec<(i64, String)> = on!(&mut *tx, |c| {
            sqlx::query_as("SELECT id, data FROM dossiers WHERE province_code = $1 AND id > $2 ORDER BY id LIMIT $3")
                .bind(province.as_str())
                .bind(after)
                .bind(PAGE)
                .fetch_all(c)
                .await
        })?;
        let Some((last, _)) = rows.last() else {
            break;
        };
        after = *last;
        for (_, data) in &rows {
            f(serde_json::from_str(data)?);
        }
    }
    Ok(())
}

/// The counters stored for `province` (rows that are not zero).
pub async fn stored(tx: &mut Tx, province: &ProvinceCode) -> Result<Counters> {
    let mut out = Counters::new();
    for table in [Table::Days, Table::Months] {
        let sql = format!(
            "SELECT dimension, kind, bucket, value, department, channel, n, minutes FROM {}
             WHERE province_code = $1 AND (n <> 0 OR minutes <> 0)",
            table.name()
        );
        type Row = (i64, i64, i64, String, String, i64, i64, i64);
        let rows: Vec<Row> = fetch_all(tx, &sql, &[Arg::Text(province.as_str())]).await?;
        for (dimension, kind, bucket, value, department, channel, n, minutes) in rows {
            let bad = || StoreError::Io(format!("unknown statistics counter {dimension}/{kind} in the database"));
            let key = Key {
                province: province.as_str().to_owned(),
                dimension: u8::try_from(dimension)
                    .ok()
                    .and_then(Dimension::from_code)
                    .ok_or_else(bad)?,
                value,
                department,
                channel: u8::try_from(channel).unwrap_or(0),
                kind: u8::try_from(kind).ok().and_then(Kind::from_code).ok_or_else(bad)?,
                day: i32::try_from(bucket).unwrap_or(0),
            };
            out.insert((table, key), Amount { n, minutes });
        }
    }
    Ok(out)
}

/// A counter whose stored value differs from the recount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Which table.
    pub table: Table,
    /// Which counter.
    pub key: Key,
    /// What the dossiers imply.
    pub expected: Amount,
    /// What is stored.
    pub stored: Amount,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = &self.key;
        write!(
            f,
            "{} {} {}={} department={} channel={} kind={:?} bucket={}: expected {}/{} min, stored {}/{} min",
            self.table.name(),
            k.province,
            k.dimension.name(),
            k.value,
            k.department,
            k.channel,
            k.kind,
            k.day,
            self.expected.n,
            self.expected.minutes,
            self.stored.n,
            self.stored.minutes
        )
    }
}

/// Recomputes `province`'s counters from its dossiers and lists every counter that
/// differs from the stored one (empty: the aggregates are right).
pub async fn recount(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<Mismatch>> {
    let expected = expected(tx, province).await?;
    let stored = stored(tx, province).await?;
    let keys: BTreeSet<&(Table, Key)> = expected.keys().chain(stored.keys()).collect();
    Ok(keys
        .into_iter()
        .filter_map(|k| {
            let e = expected.get(k).copied().unwrap_or_default();
            let s = stored.get(k).copied().unwrap_or_default();
            (e != s).then(|| Mismatch {
                table: k.0,
                key: k.1.clone(),
                expected: e,
                stored: s,
            })
        })
        .collect())
}

/// Replaces `province`'s counters with a recount; returns how many counters it wrote.
pub async fn rebuild(tx: &mut Tx, province: &ProvinceCode) -> Result<usize> {
    let expected = expected(tx, province).await?;
    // Months left without counters lose their version too; [`add`] gives the others new ones.
    for table in ["stats_days", "stats_months", "stats_month_versions"] {
        let sql = format!("DELETE FROM {table} WHERE province_code = $1");
        exec!(&mut *tx, |c| sqlx::query(&sql).bind(province.as_str()).execute(c).await)?;
    }
    add(tx, &expected).await?;
    Ok(expected.len())
}

/// The provinces that have dossiers.
pub async fn provinces(tx: &mut Tx) -> Result<Vec<ProvinceCode>> {
    let codes: Vec<String> = on!(&mut *tx, |c| {
        sqlx::query_scalar("SELECT DISTINCT province_code FROM dossiers ORDER BY province_code")
            .fetch_all(c)
            .await
    })?;
    codes
        .iter()
        .map(|c| ProvinceCode::parse(c).map_err(|e| StoreError::Io(e.to_string())))
        .collect()
}

/// Fills the counters once, for the dossiers written before migration 0014 (a no-op
/// afterwards: `stats_state.filled` says it was done). Called by [`Db::migrate`]; on
/// PostgreSQL a second node starting at once waits on the row and then skips.
pub async fn backfill(db: &Db) -> Result<()> {
    let mut tx = db.begin_write().await?;
    let claimed = exec!(&mut tx, |c| {
        sqlx::query("UPDATE stats_state SET filled = 1 WHERE id = 1 AND filled = 0")
            .execute(c)
            .await
    })?;
    if claimed == 0 {
        return Ok(());
    }
    for province in provinces(&mut tx).await? {
        let n = rebuild(&mut tx, &province).await?;
        tracing::info!(province = %province.as_str(), counters = n, "statistics filled from existing dossiers");
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monthly_counters_are_the_sums_of_the_daily_ones() {
        let key = |day| Key {
            province: "000.00.00.H43".into(),
            dimension: Dimension::Department,
            value: "A".into(),
            department: "A".into(),
            channel: 1,
            kind: Kind::Received,
            day,
        };
        let d = core_stats::day_number(time::macros::date!(2026 - 11 - 02));
        let days = BTreeMap::from([
            (key(d), Amount { n: 2, minutes: 0 }),
            (key(d + 1), Amount { n: 3, minutes: 0 }),
            (key(d + 30), Amount { n: 1, minutes: 0 }),
        ]);
        let all = with_months(days);
        let month = |m| all.get(&(Table::Months, key(m))).map(|a| a.n);
        assert_eq!(month(month_of(d)), Some(5));
        assert_eq!(month(month_of(d) + 1), Some(1));
        assert_eq!(all.len(), 5);
    }
}

#[cfg(all(test, feature = "testing"))]
mod cache_tests {
    use super::*;

    fn counters(day: Day, n: i64) -> Counters {
        let key = Key {
            province: "000.00.00.H43".into(),
            dimension: Dimension::Department,
            value: "A".into(),
            department: "A".into(),
            channel: 1,
            kind: Kind::Received,
            day,
        };
        with_months(BTreeMap::from([(key, Amount { n, minutes: 0 })]))
    }

    /// A month sum is read once and kept while its months are unchanged; a write to one of
    /// its months, in any later transaction, is seen by the next read; a rebuild too.
    #[tokio::test]
    async fn kept_sums_last_until_one_of_their_months_changes() {
        let t = crate::testing::fresh_db().await;
        let province = ProvinceCode::parse("000.00.00.H43").expect("province");
        let scope = Scope {
            province: &province,
            group: Dimension::Department,
            department: None,
            channel: None,
        };
        let d = core_stats::day_number(time::macros::date!(2025 - 03 - 10));
        let months = (month_of(d) - 2, month_of(d) + 1);
        let write = |day, n| {
            let db = t.db.clone();
            async move {
                let mut tx = db.begin_write().await.expect("transaction");
                add(&mut tx, &counters(day, n)).await.expect("add");
                tx.commit().await.expect("commit");
            }
        };
        let read = |table, span| {
            let db = t.db.clone();
            async move {
                let mut tx = db.begin_read().await.expect("transaction");
                kept_sums(&mut tx, table, scope, &[Kind::Received], span)
                    .await
                    .expect("sums")
            }
        };
        let n_of = |s: &[Sum]| s.iter().map(|r| r.3).sum::<i64>();

        let empty = read(Table::Months, months).await;
        assert_eq!(n_of(&empty), 0);
        write(d, 2).await;
        let first = read(Table::Months, months).await;
        assert_eq!(n_of(&first), 2, "a new month's counters are seen");
        let again = read(Table::Months, months).await;
        assert!(std::sync::Arc::ptr_eq(&first, &again), "unchanged months: the kept sum");
        write(d, 3).await;
        let after = read(Table::Months, months).await;
        assert_eq!(n_of(&after), 5, "a write to one of the months is seen");
        // A write to a month outside the range leaves the kept sum alone.
        write(d + 120, 7).await;
        assert!(std::sync::Arc::ptr_eq(&after, &read(Table::Months, months).await));
        // Days: a change that moves a counter between two days of one month leaves the
        // month's row as it was, and is seen all the same.
        let days = (d, d + 1);
        assert_eq!(n_of(&read(Table::Days, days).await), 5);
        {
            let mut tx = t.db.begin_write().await.expect("transaction");
            let mut moved = counters(d, -1);
            moved.extend(counters(d + 2, 1).into_iter().filter(|((t, _), _)| *t == Table::Days));
            moved.retain(|(t, _), _| *t == Table::Days);
            add(&mut tx, &moved).await.expect("add");
            tx.commit().await.expect("commit");
        }
        assert_eq!(
            n_of(&read(Table::Days, days).await),
            4,
            "a move within the month is seen"
        );
        assert_eq!(n_of(&read(Table::Months, months).await), 5);
        // A rebuild from the (absent) dossiers empties the months, and the sums with them.
        {
            let mut tx = t.db.begin_write().await.expect("transaction");
            rebuild(&mut tx, &province).await.expect("rebuild");
            tx.commit().await.expect("commit");
        }
        assert_eq!(n_of(&read(Table::Months, months).await), 0, "a rebuild is seen");
        assert_eq!(n_of(&read(Table::Days, days).await), 0, "a rebuild is seen");
    }
}
