//! The data of the Decision 766 service index (docs/rules.md §6): the editable sub-criteria
//! (points, targets) and the counts its rates are made of per province and period
//! ([`counts`]), which `motcua_core::evaluation::service_index` scores. Each count is a
//! named query whose condition comes from core's definitions (the channel, the statuses
//! with a result, the satisfied levels, the cash method) or from a column written from
//! core's predicate (`has_digitised_documents`, `has_electronic_result`, migration 19); no
//! status number or JSON text is matched here.

use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::{Channel, Status};
use motcua_core::evaluation::{self, Criterion, Measure, Satisfaction, ServiceCounts};
use time::OffsetDateTime;

use crate::overview::{self, Metric, Period};
use crate::{Arg, Result, StoreError, Tx, exec, on, to_millis};

#[derive(sqlx::FromRow)]
struct CriterionRow {
    code: String,
    group_code: String,
    name: String,
    measure: String,
    max_points: i64,
    target_permille: i64,
    confirmed: i64,
    position: i64,
}

impl TryFrom<CriterionRow> for Criterion {
    type Error = StoreError;

    fn try_from(r: CriterionRow) -> Result<Self> {
        Ok(Criterion {
            measure: Measure::parse(&r.measure)
                .ok_or_else(|| StoreError::Io(format!("unknown service index measure {}", r.measure)))?,
            code: r.code,
            group: r.group_code,
            name: r.name,
            max_points: u32::try_from(r.max_points).unwrap_or(0),
            target_permille: u32::try_from(r.target_permille).unwrap_or(1000),
            confirmed: r.confirmed != 0,
            position: u32::try_from(r.position).unwrap_or(0),
        })
    }
}

/// The sub-criteria of the service index, in page order.
pub async fn criteria(tx: &mut Tx) -> Result<Vec<Criterion>> {
    let rows: Vec<CriterionRow> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT code, group_code, name, measure, max_points, target_permille, confirmed, position
             FROM service_index_criteria ORDER BY position, code",
        )
        .fetch_all(c)
        .await
    })?;
    rows.into_iter().map(Criterion::try_from).collect()
}

/// An edit of a sub-criterion.
#[derive(Debug, Clone)]
pub struct Edit<'a> {
    /// New name.
    pub name: &'a str,
    /// New points.
    pub max_points: u32,
    /// New target, per mille.
    pub target_permille: u32,
    /// Whether the values are now confirmed by the legal text.
    pub confirmed: bool,
    /// Who edits.
    pub by: &'a str,
    /// When.
    pub at: OffsetDateTime,
}

/// Applies `e` to criterion `code`; false when there is no such criterion.
pub async fn update_criterion(tx: &mut Tx, code: &str, e: &Edit<'_>) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE service_index_criteria SET name = $2, max_points = $3, target_permille = $4, confirmed = $5,
                 updated_at = $6, updated_by = $7
             WHERE code = $1",
        )
        .bind(code)
        .bind(e.name)
        .bind(i64::from(e.max_points))
        .bind(i64::from(e.target_permille))
        .bind(i64::from(e.confirmed))
        .bind(to_millis(e.at))
        .bind(e.by)
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// A count and the part of it that satisfies a condition, by one query over the period
/// (`$1` the province, `$2`–`$3` the period, then `args`).
async fn pair(tx: &mut Tx, sql: &str, province: &str, period: Period, args: &[Arg<'_>]) -> Result<(i64, i64)> {
    let (hits, of): (Option<i64>, i64) = on!(tx, |c| {
        let mut q = sqlx::query_as(sql)
            .bind(province)
            .bind(to_millis(period.from))
            .bind(to_millis(period.to));
        for arg in args {
            q = match arg {
                Arg::Text(s) => q.bind(*s),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q.fetch_one(c).await
    })?;
    Ok((hits.unwrap_or(0), of))
}

/// The dossiers accepted in the period, and those of them filed online and with a
/// digitised document (`motcua_core::evaluation::filed_online`,
/// `has_digitised_documents`, the latter kept in its own column).
async fn received(tx: &mut Tx, province: &str, period: Period) -> Result<(i64, i64, i64)> {
    let online = i64::from(Channel::Online.code());
    let (n, on, scanned): (i64, Option<i64>, Option<i64>) = on!(tx, |c| {
        sqlx::query_as(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN channel = $4 THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(has_digitised_documents) AS BIGINT)
             FROM dossiers WHERE province_code = $1 AND received_at >= $2 AND received_at < $3",
        )
        .bind(province)
        .bind(to_millis(period.from))
        .bind(to_millis(period.to))
        .bind(online)
        .fetch_one(c)
        .await
    })?;
    Ok((n, on.unwrap_or(0), scanned.unwrap_or(0)))
}

/// The dossiers whose result was ready in the period (`Status::has_result`), and those of
/// them with an electronic result file (`motcua_core::evaluation::has_electronic_result`,
/// its own column): (with the file, all).
async fn results(tx: &mut Tx, province: &str, period: Period) -> Result<(i64, i64)> {
    let sql = format!(
        "SELECT CAST(SUM(has_electronic_result) AS BIGINT), COUNT(*)
         FROM dossiers WHERE province_code = $1 AND finished_at >= $2 AND finished_at < $3 AND status IN ({})",
        crate::deadline::codes(&Status::WITH_RESULT)
    );
    pair(tx, &sql, province, period, &[]).await
}

/// Payment orders paid in the period, and those paid online
/// (`motcua_core::evaluation::paid_online`): (online, all).
async fn payments(tx: &mut Tx, province: &str, period: Period) -> Result<(i64, i64)> {
    pair(
        tx,
        "SELECT CAST(SUM(CASE WHEN method <> $4 THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
         FROM payment_orders WHERE province_code = $1 AND state = 'paid' AND settled_at >= $2 AND settled_at < $3",
        province,
        period,
        &[Arg::Text(evaluation::CASH)],
    )
    .await
}

/// Ratings given in the period, and those satisfied (`Satisfaction::is_satisfied`):
/// (satisfied, all).
async fn satisfied(tx: &mut Tx, province: &str, period: Period) -> Result<(i64, i64)> {
    let levels: Vec<&str> = Satisfaction::ALL
        .into_iter()
        .filter(|s| s.is_satisfied())
        .map(Satisfaction::as_str)
        .collect();
    let marks: Vec<String> = (0..levels.len()).map(|i| format!("${}", i + 4)).collect();
    let sql = format!(
        "SELECT CAST(SUM(CASE WHEN rating IN ({}) THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
         FROM dossier_ratings WHERE province_code = $1 AND rated_at >= $2 AND rated_at < $3",
        marks.join(", ")
    );
    let args: Vec<Arg<'_>> = levels.into_iter().map(Arg::Text).collect();
    pair(tx, &sql, province, period, &args).await
}

/// The counts of the Decision 766 service index for `province` over `period`, judged at
/// `now` (unfinished dossiers at the period's end): one named query per pair of counts,
/// each counting what the predicate named on its field of
/// [`motcua_core::evaluation::ServiceCounts`] defines; the on-time pair comes from the
/// overview's figures.
pub async fn counts(
    tx: &mut Tx,
    province: &ProvinceCode,
    period: Period,
    now: OffsetDateTime,
) -> Result<ServiceCounts> {
    let figures = overview::total(&overview::figures(tx, province, period, now).await?);
    let p = province.as_str();
    let (received, received_online, received_digitised) = received(tx, p, period).await?;
    let (results_electronic, results) = results(tx, p, period).await?;
    let (payments_online, payments) = payments(tx, p, period).await?;
    let (ratings_satisfied, ratings) = satisfied(tx, p, period).await?;
    let (public_info_full, public_info_answers) = crate::ratings::public_info_answers(tx, p, period).await?;
    Ok(ServiceCounts {
        resolved: figures.resolved(),
        resolved_in_time: figures.get(Metric::ResolvedEarly) + figures.get(Metric::ResolvedOnTime),
        received,
        received_online,
        received_digitised,
        results,
        results_electronic,
        payments,
        payments_online,
        ratings,
        ratings_satisfied,
        public_info_answers,
        public_info_full,
    })
}

/// The dossiers of `province` whose result was ready in `period` and responsible agency
/// is `agency` (ids), newest first, at most `limit`: what the per-agency score sheet scores.
pub async fn finished_of_agency(
    tx: &mut Tx,
    province: &str,
    agency: &str,
    period: Period,
    limit: i64,
) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT id FROM dossiers
         WHERE province_code = $1 AND responsible_agency = $2 AND finished_at >= $3 AND finished_at < $4
               AND status IN ({})
         ORDER BY finished_at DESC, id DESC LIMIT $5",
        crate::deadline::codes(&Status::WITH_RESULT)
    );
    Ok(on!(tx, |c| {
        sqlx::query_scalar(&sql)
            .bind(province)
            .bind(agency)
            .bind(to_millis(period.from))
            .bind(to_millis(period.to))
            .bind(limit)
            .fetch_all(c)
            .await
    })?)
}
