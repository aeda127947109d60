//! Satisfaction ratings of dossiers (DOMAIN.md §6): one per dossier, given by its
//! applicant once the result is ready or returned.

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
    /// The account that rated, when signed in.
    pub rater_id: Option<String>,
    /// The officer who handed the result over, when known.
    pub officer_id: Option<String>,
    /// Their name.
    pub officer_name: Option<String>,
    /// The agency (counter) that handed the result over, when known.
    pub counter_agency: Option<String>,
    /// When.
    pub rated_at: OffsetDateTime,
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
}

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
        }
    }
}

/// Stores a rating. A dossier already rated is a [`StoreError::Conflict`]: each dossier
/// is rated once, so the figures per officer and per counter count it once.
pub async fn insert(tx: &mut Tx, r: &Rating) -> Result<()> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO dossier_ratings (dossier_id, dossier_code, province_code, rating, comment, channel,
                 rater_id, officer_id, officer_name, counter_agency, rated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (dossier_id) DO NOTHING",
        )
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
        sqlx::query_as(
            "SELECT dossier_id, dossier_code, province_code, rating, comment, channel, rater_id, officer_id,
                    officer_name, counter_agency, rated_at
             FROM dossier_ratings WHERE dossier_id = $1",
        )
        .bind(dossier_id)
        .fetch_optional(c)
        .await
    })?;
    Ok(row.map(Rating::from))
}
