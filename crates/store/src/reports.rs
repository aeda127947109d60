//! The record of the monthly reports (issue 8 item 5, migration 0016): one row per
//! province (agency `None`) or responsible agency and month, claimed once under a unique
//! key, then completed with the stored file's object key, SHA-256 and size. A claim that
//! was never completed (the server stopped in between) is completed by the next run.

use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::{Result, StoreError, Tx, exec, from_millis, on, to_millis};

/// A report as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Row id.
    pub id: i64,
    /// The province.
    pub province_code: String,
    /// The responsible agency; `None` for the whole province.
    pub agency: Option<String>,
    /// First day (Vietnam time).
    pub from: Date,
    /// Last day, included.
    pub to: Date,
    /// Where the file is in the object store (`None` until completed).
    pub object_key: Option<String>,
    /// SHA-256 of the file, lowercase hex (`None` until completed).
    pub sha256: Option<String>,
    /// Size of the file in bytes (`None` until completed).
    pub size: Option<i64>,
    /// When it was claimed.
    pub created_at: OffsetDateTime,
    /// When the file was stored.
    pub completed_at: Option<OffsetDateTime>,
}

impl Report {
    /// Whether the file is stored.
    pub fn is_complete(&self) -> bool {
        self.object_key.is_some() && self.sha256.is_some()
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    province_code: String,
    agency: Option<String>,
    period_from: String,
    period_to: String,
    object_key: Option<String>,
    sha256: Option<String>,
    size: Option<i64>,
    created_at: i64,
    completed_at: Option<i64>,
}

const COLUMNS: &str =
    "id, province_code, agency, period_from, period_to, object_key, sha256, size, created_at, completed_at";

fn day_text(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn parse_day(s: &str) -> Result<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|e| StoreError::Io(format!("reports: bad date {s:?}: {e}")))
}

impl TryFrom<Row> for Report {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Report {
            id: r.id,
            province_code: r.province_code,
            agency: r.agency,
            from: parse_day(&r.period_from)?,
            to: parse_day(&r.period_to)?,
            object_key: r.object_key,
            sha256: r.sha256,
            size: r.size,
            created_at: from_millis(r.created_at),
            completed_at: r.completed_at.map(from_millis),
        })
    }
}

fn convert(rows: Vec<Row>) -> Result<Vec<Report>> {
    rows.into_iter().map(Report::try_from).collect()
}

/// Claims the report of `agency` (`None`: the whole province) for `from..=to`. `false`
/// when it was already claimed (by this server earlier or by another one).
pub async fn claim(
    tx: &mut Tx,
    province: &str,
    agency: Option<&str>,
    from: Date,
    to: Date,
    now: OffsetDateTime,
) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO reports (province_code, agency, period_from, period_to, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(province)
        .bind(agency)
        .bind(day_text(from))
        .bind(day_text(to))
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// Records the stored file of claim `id`. `false` when it was completed meanwhile (by
/// another server): the caller's file is then not the recorded one.
pub async fn complete(
    tx: &mut Tx,
    id: i64,
    object_key: &str,
    sha256: &str,
    size: i64,
    now: OffsetDateTime,
) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE reports SET object_key = $2, sha256 = $3, size = $4, completed_at = $5
             WHERE id = $1 AND object_key IS NULL",
        )
        .bind(id)
        .bind(object_key)
        .bind(sha256)
        .bind(size)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// Every report of `province` for the period `from..=to`, complete or not.
pub async fn of_period(tx: &mut Tx, province: &str, from: Date, to: Date) -> Result<Vec<Report>> {
    let rows: Vec<Row> = on!(tx, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM reports WHERE province_code = $1 AND period_from = $2 AND period_to = $3
             ORDER BY id"
        ))
        .bind(province)
        .bind(day_text(from))
        .bind(day_text(to))
        .fetch_all(c)
        .await
    })?;
    convert(rows)
}

/// The claims of `province` never completed, oldest first.
pub async fn incomplete(tx: &mut Tx, province: &str) -> Result<Vec<Report>> {
    let rows: Vec<Row> = on!(tx, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM reports WHERE province_code = $1 AND object_key IS NULL ORDER BY id"
        ))
        .bind(province)
        .fetch_all(c)
        .await
    })?;
    convert(rows)
}

/// The completed reports of `province`, newest period first: all of them, or only those
/// of `agency` when given. At most `limit`.
pub async fn list(tx: &mut Tx, province: &str, agency: Option<&str>, limit: i64) -> Result<Vec<Report>> {
    let rows: Vec<Row> = on!(tx, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM reports
             WHERE province_code = $1 AND object_key IS NOT NULL AND ($2 IS NULL OR agency = $2)
             ORDER BY period_from DESC, agency IS NOT NULL, agency, id LIMIT $3"
        ))
        .bind(province)
        .bind(agency)
        .bind(limit)
        .fetch_all(c)
        .await
    })?;
    convert(rows)
}

/// One report by id.
pub async fn get(tx: &mut Tx, id: i64) -> Result<Option<Report>> {
    let row: Option<Row> = on!(tx, |c| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM reports WHERE id = $1"))
            .bind(id)
            .fetch_optional(c)
            .await
    })?;
    row.map(Report::try_from).transpose()
}
