//! Satisfaction ratings of dossiers (docs/rules.md §6): one per dossier, given by its
//! applicant once the result is ready or returned — online, by the link on the result
//! (the tracking secret), or on the counter's kiosk screen — with the optional answers to
//! the survey indices of the per-dossier evaluation. Also the figures per officer and per
//! counter, and the list of "not satisfied" feedback.

use crate::overview::Period;
use crate::{Result, StoreError, Tx, exec, from_millis, on, to_millis};
use time::OffsetDateTime;

/// A rating as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    /// The dossier's row id.
    pub dossier_id: i64,
    /// The dossier's code.
    pub dossier_code: String,
    /// The province.
    pub province_code: String,
    /// `very_satisfied`, `satisfied` or `not_satisfied`.
    pub rating: String,
    /// What the applicant wrote (may be empty).
    pub comment: String,
    /// `online`, `kiosk` or `link`.
    pub channel: String,
    /// The account that rated, when signed in (online ratings).
    pub rater_id: Option<String>,
    /// The officer who handed the result over, when known.
    pub officer_id: Option<String>,
    /// Their name.
    pub officer_name: Option<String>,
    /// The agency (counter) that handed the result over, when known.
    pub counter_agency: Option<String>,
    /// When.
    pub rated_at: OffsetDateTime,
    /// The counter officer whose kiosk screen took the rating (kiosk ratings).
    pub recorded_by_id: Option<String>,
    /// Their name.
    pub recorded_by_name: Option<String>,
    /// Survey: contacts needed to complete the dossier.
    pub contacts: Option<i64>,
    /// Survey: agencies gone to.
    pub agencies: Option<i64>,
    /// Survey: `full`, `partial` or `missing`.
    pub public_info: Option<String>,
    /// Survey: `good`, `fair` or `poor`.
    pub conduct: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    dossier_id: i64,
    dossier_code: String,
    province_code: String,
    rating: String,
    comment: String,
    channel: String,
    rater_id: Option<String>,
    officer_id: Option<String>,
    officer_name: Option<String>,
    counter_agency: Option<String>,
    rated_at: i64,
    recorded_by_id: Option<String>,
    recorded_by_name: Option<String>,
    contacts: Option<i64>,
    agencies: Option<i64>,
    public_info: Option<String>,
    conduct: Option<String>,
}

const COLUMNS: &str = "dossier_id, dossier_code, province_code, rating, comment, channel, rater_id, officer_id,
    officer_name, counter_agency, rated_at, recorded_by_id, recorded_by_name, contacts, agencies, public_info, conduct";

impl From<Row> for Rating {
    fn from(r: Row) -> Self {
        Rating {
            dossier_id: r.dossier_id,
            dossier_code: r.dossier_code,
            province_code: r.province_code,
            rating: r.rating,
            comment: r.comment,
            channel: r.channel,
            rater_id: r.rater_id,
            officer_id: r.officer_id,
            officer_name: r.officer_name,
            counter_agency: r.counter_agency,
            rated_at: from_millis(r.rated_at),
            recorded_by_id: r.recorded_by_id,
            recorded_by_name: r.recorded_by_name,
            contacts: r.contacts,
            agencies: r.agencies,
            public_info: r.public_info,
            conduct: r.conduct,
        }
    }
}

/// Stores a rating. A dossier already rated is a [`StoreError::Conflict`]: each dossier
/// is rated once, so the figures per officer and per counter count it once.
pub async fn insert(tx: &mut Tx, r: &Rating) -> Result<()> {
    let n = exec!(tx, |c| {
        sqlx::query(&format!(
            "INSERT INTO dossier_ratings ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT (dossier_id) DO NOTHING"
        ))
        .bind(r.dossier_id)
        .bind(&r.dossier_code)
        .bind(&r.province_code)
        .bind(&r.rating)
        .bind(&r.comment)
        .bind(&r.channel)
        .bind(r.rater_id.as_deref())
        .bind(r.officer_id.as_deref())
        .bind(r.officer_name.as_deref())
        .bind(r.counter_agency.as_deref())
        .bind(to_millis(r.rated_at))
        .bind(r.recorded_by_id.as_deref())
        .bind(r.recorded_by_name.as_deref())
        .bind(r.contacts)
        .bind(r.agencies)
        .bind(r.public_info.as_deref())
        .bind(r.conduct.as_deref())
        .execute(c)
        .await
    })?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "hồ sơ {} đã được đánh giá",
            r.dossier_code
        )));
    }
    Ok(())
}

/// The rating of dossier `dossier_id`, if it was rated.
pub async fn of_dossier(tx: &mut Tx, dossier_id: i64) -> Result<Option<Rating>> {
    let row: Option<Row> = on!(tx, |c| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM dossier_ratings WHERE dossier_id = $1"))
            .bind(dossier_id)
            .fetch_optional(c)
            .await
    })?;
    Ok(row.map(Rating::from))
}

/// The ratings of `province` given in `period` with `rating` (any when `None`), newest
/// first, at most `limit`.
pub async fn list(
    tx: &mut Tx,
    province: &str,
    period: Period,
    rating: Option<&str>,
    limit: i64,
) -> Result<Vec<Rating>> {
    let rows: Vec<Row> = on!(tx, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM dossier_ratings
             WHERE province_code = $1 AND rated_at >= $2 AND rated_at < $3 AND ($4 IS NULL OR rating = $4)
             ORDER BY rated_at DESC, dossier_id DESC LIMIT $5"
        ))
        .bind(province)
        .bind(to_millis(period.from))
        .bind(to_millis(period.to))
        .bind(rating)
        .bind(limit)
        .fetch_all(c)
        .await
    })?;
    Ok(rows.into_iter().map(Rating::from).collect())
}

/// Ratings counted for one officer or one counter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// The officer's account id, or the counter's agency code ("" when unknown).
    pub key: String,
    /// The officer's name (for officers).
    pub name: String,
    /// Very satisfied.
    pub very_satisfied: i64,
    /// Satisfied.
    pub satisfied: i64,
    /// Not satisfied.
    pub not_satisfied: i64,
}

impl Tally {
    /// All ratings.
    pub fn total(&self) -> i64 {
        self.very_satisfied + self.satisfied + self.not_satisfied
    }

    /// Very satisfied or satisfied, in per mille; `None` without ratings.
    pub fn satisfied_permille(&self) -> Option<i64> {
        let n = self.total();
        (n > 0).then(|| (self.very_satisfied + self.satisfied) * 1000 / n)
    }
}

/// Who the figures are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// The officer who handed the result over.
    Officer,
    /// The counter (agency) that handed the result over.
    Counter,
}

#[derive(sqlx::FromRow)]
struct TallyRow {
    key: Option<String>,
    name: Option<String>,
    very: i64,
    good: i64,
    bad: i64,
}

/// The ratings of `province` given in `period`, counted per officer or per counter;
/// most ratings first.
pub async fn tallies(tx: &mut Tx, province: &str, period: Period, by: By) -> Result<Vec<Tally>> {
    let (key, name) = match by {
        By::Officer => ("officer_id", "MAX(officer_name)"),
        By::Counter => ("counter_agency", "MAX(counter_agency)"),
    };
    let sql = format!(
        "SELECT {key} AS key, {name} AS name,
                CAST(SUM(CASE WHEN rating = 'very_satisfied' THEN 1 ELSE 0 END) AS BIGINT) AS very,
                CAST(SUM(CASE WHEN rating = 'satisfied' THEN 1 ELSE 0 END) AS BIGINT) AS good,
                CAST(SUM(CASE WHEN rating = 'not_satisfied' THEN 1 ELSE 0 END) AS BIGINT) AS bad
         FROM dossier_ratings
         WHERE province_code = $1 AND rated_at >= $2 AND rated_at < $3
         GROUP BY {key}"
    );
    let rows: Vec<TallyRow> = on!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(province)
            .bind(to_millis(period.from))
            .bind(to_millis(period.to))
            .fetch_all(c)
            .await
    })?;
    let mut out: Vec<Tally> = rows
        .into_iter()
        .map(|r| Tally {
            key: r.key.unwrap_or_default(),
            name: r.name.unwrap_or_default(),
            very_satisfied: r.very,
            satisfied: r.good,
            not_satisfied: r.bad,
        })
        .collect();
    out.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.key.cmp(&b.key)));
    Ok(out)
}

/// Survey answers on public information over a period: (answered "full", answered).
pub async fn public_info_answers(tx: &mut Tx, province: &str, period: Period) -> Result<(i64, i64)> {
    let row: (Option<i64>, i64) = on!(tx, |c| {
        sqlx::query_as(
            "SELECT CAST(SUM(CASE WHEN public_info = 'full' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
             FROM dossier_ratings
             WHERE province_code = $1 AND rated_at >= $2 AND rated_at < $3 AND public_info IS NOT NULL",
        )
        .bind(province)
        .bind(to_millis(period.from))
        .bind(to_millis(period.to))
        .fetch_one(c)
        .await
    })?;
    Ok((row.0.unwrap_or(0), row.1))
}

/// A dossier whose result an officer handed over and that nobody rated yet: what the
/// counter's kiosk screen offers to rate.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Unrated {
    /// The dossier's code.
    pub code: String,
    /// The applicant's name.
    pub applicant_name: String,
    /// When the result was handed over (ms).
    pub returned_at: i64,
}

/// The dossiers `officer` handed over since `since` that are not rated, newest first.
pub async fn unrated_returned_by(
    tx: &mut Tx,
    officer: &str,
    since: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Unrated>> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "SELECT d.code, d.applicant_name, e.at AS returned_at
             FROM dossier_events e
             JOIN dossiers d ON d.id = e.dossier_id
             LEFT JOIN dossier_ratings r ON r.dossier_id = d.id
             WHERE e.action = 'return' AND e.actor_id = $1 AND e.at >= $2 AND r.dossier_id IS NULL
             ORDER BY e.at DESC, d.id DESC LIMIT $3",
        )
        .bind(officer)
        .bind(to_millis(since))
        .bind(limit)
        .fetch_all(c)
        .await
    })?)
}

/// Keeps the SHA-256 `code_hash` of a rating code issued for the dossier `dossier_code`
/// (nothing when no such dossier exists); returns whether it was stored.
pub async fn add_code(tx: &mut Tx, dossier_code: &str, code_hash: &str, now: OffsetDateTime) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO rating_codes (dossier_id, code_hash, issued_at) \
             SELECT id, $2, $3 FROM dossiers WHERE code = $1 \
             ON CONFLICT (dossier_id, code_hash) DO NOTHING",
        )
        .bind(dossier_code)
        .bind(code_hash)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Whether `code_hash` is the hash of a rating code issued for dossier `dossier_id`.
pub async fn code_matches(tx: &mut Tx, dossier_id: i64, code_hash: &str) -> Result<bool> {
    let found: Option<i64> = on!(tx, |c| {
        sqlx::query_scalar("SELECT dossier_id FROM rating_codes WHERE dossier_id = $1 AND code_hash = $2")
            .bind(dossier_id)
            .bind(code_hash)
            .fetch_optional(c)
            .await
    })?;
    Ok(found.is_some())
}
