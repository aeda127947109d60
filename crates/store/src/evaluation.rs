//! The data of the Decision 766 service index (docs/rules.md §6): the editable sub-criteria
//! (points, targets) and the rates the system measures per province and period. The
//! on-time rate comes from [`crate::overview::figures`], the rest from here.

use motcua_core::evaluation::{Criterion, Measure, Ratio};
use time::OffsetDateTime;

use crate::overview::Period;
use crate::{Result, StoreError, Tx, exec, on, to_millis};

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

/// The rates the system measures for a province and period (all but the on-time rate).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rates {
    /// Received in the period and filed online / received in the period.
    pub online_share: Ratio,
    /// Payment orders paid in the period by an online method / all paid in the period.
    pub online_payment: Ratio,
    /// Received in the period with an uploaded document scan / received in the period.
    pub digitised_files: Ratio,
    /// Result ready in the period with an electronic result file / result ready in the period.
    pub digitised_results: Ratio,
    /// Ratings in the period very satisfied or satisfied / all ratings in the period.
    pub satisfied: Ratio,
    /// Survey answers in the period "public information complete" / answers.
    pub public_info: Ratio,
}

async fn pair(tx: &mut Tx, sql: &str, province: &str, period: Period) -> Result<Ratio> {
    let (hits, of): (Option<i64>, i64) = on!(tx, |c| {
        sqlx::query_as(sql)
            .bind(province)
            .bind(to_millis(period.from))
            .bind(to_millis(period.to))
            .fetch_one(c)
            .await
    })?;
    Ok(Ratio {
        hits: hits.unwrap_or(0),
        of,
    })
}

/// Measures the rates of `province` over `period`.
///
/// Whether a dossier has scans or an electronic result is read from its JSON document
/// (`data`), which `dossiers::insert`/`save` write with `serde_json::to_string` (compact,
/// fixed key names): a received document with files contains `"files":["`, a result with
/// files `"result_files":["`. A plain `LIKE` works the same on both backends.
pub async fn rates(tx: &mut Tx, province: &str, period: Period) -> Result<Rates> {
    let received = "FROM dossiers WHERE province_code = $1 AND received_at >= $2 AND received_at < $3";
    let online_share = pair(
        tx,
        &format!("SELECT CAST(SUM(CASE WHEN channel = 2 THEN 1 ELSE 0 END) AS BIGINT), COUNT(*) {received}"),
        province,
        period,
    )
    .await?;
    let digitised_files = pair(
        tx,
        &format!(
            "SELECT CAST(SUM(CASE WHEN data LIKE '%\"files\":[\"%' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*) {received}"
        ),
        province,
        period,
    )
    .await?;
    let digitised_results = pair(
        tx,
        "SELECT CAST(SUM(CASE WHEN data LIKE '%\"result_files\":[\"%' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
         FROM dossiers WHERE province_code = $1 AND finished_at >= $2 AND finished_at < $3 AND status IN (9, 10)",
        province,
        period,
    )
    .await?;
    let online_payment = pair(
        tx,
        "SELECT CAST(SUM(CASE WHEN method <> 'cash' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
         FROM payment_orders WHERE province_code = $1 AND state = 'paid' AND settled_at >= $2 AND settled_at < $3",
        province,
        period,
    )
    .await?;
    let satisfied = pair(
        tx,
        "SELECT CAST(SUM(CASE WHEN rating <> 'not_satisfied' THEN 1 ELSE 0 END) AS BIGINT), COUNT(*)
         FROM dossier_ratings WHERE province_code = $1 AND rated_at >= $2 AND rated_at < $3",
        province,
        period,
    )
    .await?;
    let (full, answered) = crate::ratings::public_info_answers(tx, province, period).await?;
    Ok(Rates {
        online_share,
        online_payment,
        digitised_files,
        digitised_results,
        satisfied,
        public_info: Ratio {
            hits: full,
            of: answered,
        },
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
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "SELECT id FROM dossiers
             WHERE province_code = $1 AND responsible_agency = $2 AND finished_at >= $3 AND finished_at < $4
                   AND status IN (9, 10)
             ORDER BY finished_at DESC, id DESC LIMIT $5",
        )
        .bind(province)
        .bind(agency)
        .bind(to_millis(period.from))
        .bind(to_millis(period.to))
        .bind(limit)
        .fetch_all(c)
        .await
    })?)
}
