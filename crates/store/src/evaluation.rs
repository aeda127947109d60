//! The data of the Decision 766 service index (docs/rules.md §6): the counts its rates are
//! made of per province and period ([`counts`]), which
//! `motcua_core::evaluation::service_index` scores. Each count is a named query whose
//! condition comes from core's definitions (the channel, the statuses with a result, the
//! "not satisfied" level, the cash method, the paid state) or from a column written from
//! core's predicate (`has_digitised_documents`, `has_electronic_result`, migration 19); the
//! catalogue's counts apply core's predicates to the current procedures' content. No status
//! number or JSON text is matched here.

use std::collections::BTreeSet;

use motcua_core::catalogue::ProcedureContent;
use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::{Channel, Status};
use motcua_core::evaluation::{self, Satisfaction, ServiceCounts};
use time::OffsetDateTime;

use crate::overview::{self, Metric, Period};
use crate::{Arg, Result, Tx, on, to_millis};

/// The outbox destination of the national portal sync (the server's `outbox::PORTAL`):
/// a dossier counts as synchronised (1.4) once a delivery to it succeeded.
pub const PORTAL_DESTINATION: &str = "portal";

/// The rows of `sql` with the period's bounds and `args` bound after the province: `$1` the
/// province, `$2`–`$3` the period, then `args`.
async fn rows<T>(tx: &mut Tx, sql: &str, province: &str, period: Period, args: &[Arg<'_>]) -> Result<Vec<T>>
where
    T: Send + Unpin,
    for<'r> T: sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    Ok(on!(tx, |c| {
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
        q.fetch_all(c).await
    })?)
}

/// The one row of an aggregate `sql` (bound as [`rows`]).
async fn one_row<T>(tx: &mut Tx, sql: &str, province: &str, period: Period, args: &[Arg<'_>]) -> Result<T>
where
    T: Send + Unpin,
    for<'r> T: sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    rows(tx, sql, province, period, args)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| crate::StoreError::Io("an aggregate query returned no row".to_owned()))
}

/// Procedure codes selected by `sql` over the period (bound as [`rows`]).
async fn codes(tx: &mut Tx, sql: &str, province: &str, period: Period, args: &[Arg<'_>]) -> Result<BTreeSet<String>> {
    let found: Vec<(String,)> = rows(tx, sql, province, period, args).await?;
    Ok(found.into_iter().map(|(code,)| code).collect())
}

/// ` AND …` narrowing a count to the dossiers received at `centre` (its code pushed on
/// `args`, so bound after the period), or nothing for the province's. `column` is the
/// dossier's receiving agency, or `dossier_id` for a table that refers to a dossier.
fn at_centre<'a>(centre: Option<&'a str>, args: &mut Vec<Arg<'a>>, column: &str) -> String {
    let Some(c) = centre else { return String::new() };
    args.push(Arg::Text(c));
    let n = 3 + args.len();
    if column == "dossier_id" {
        format!(" AND dossier_id IN (SELECT id FROM dossiers WHERE receiving_agency = ${n})")
    } else {
        format!(" AND {column} = ${n}")
    }
}

/// The dossiers accepted in the period, and those of them filed online, with a
/// digitised document, delivered to the national portal, and taking a document from the
/// applicant's store (`filed_online`, `has_digitised_documents`, the latter kept in its own
/// column; a delivery to [`PORTAL_DESTINATION`] that succeeded; `reuses_stored_documents`,
/// whose reuses intake records in `document_uses` with the dossier):
/// (all, online, digitised, synchronised, reused).
async fn received(
    tx: &mut Tx,
    province: &str,
    period: Period,
    centre: Option<&str>,
) -> Result<(i64, i64, i64, i64, i64)> {
    type Row = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let mut args = vec![
        Arg::Int(i64::from(Channel::Online.code())),
        Arg::Text(PORTAL_DESTINATION),
    ];
    let narrow = at_centre(centre, &mut args, "d.receiving_agency");
    let (n, on, scanned, synced, reused): Row = one_row(
        tx,
        &format!(
            "SELECT COUNT(*), CAST(SUM(CASE WHEN d.channel = $4 THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(d.has_digitised_documents) AS BIGINT),
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM deliveries v
                                           WHERE v.dossier_code = d.code AND v.destination = $5
                                                 AND v.delivered_at IS NOT NULL)
                         THEN 1 ELSE 0 END) AS BIGINT),
                CAST(SUM(CASE WHEN EXISTS (SELECT 1 FROM document_uses u WHERE u.dossier_code = d.code)
                         THEN 1 ELSE 0 END) AS BIGINT)
         FROM dossiers d WHERE d.province_code = $1 AND d.received_at >= $2 AND d.received_at < $3{narrow}"
        ),
        province,
        period,
        &args,
    )
    .await?;
    Ok((
        n,
        on.unwrap_or(0),
        scanned.unwrap_or(0),
        synced.unwrap_or(0),
        reused.unwrap_or(0),
    ))
}

/// The dossiers whose result was ready in the period (`Status::has_result`), and those of
/// them with an electronic result file (`motcua_core::evaluation::has_electronic_result`,
/// its own column): (with the file, all).
async fn results(tx: &mut Tx, province: &str, period: Period, centre: Option<&str>) -> Result<(i64, i64)> {
    let mut args = Vec::new();
    let narrow = at_centre(centre, &mut args, "receiving_agency");
    let sql = format!(
        "SELECT CAST(SUM(has_electronic_result) AS BIGINT), COUNT(*)
         FROM dossiers WHERE province_code = $1 AND finished_at >= $2 AND finished_at < $3 AND status IN ({}){narrow}",
        crate::deadline::codes(&Status::WITH_RESULT)
    );
    let (hits, of): (Option<i64>, i64) = one_row(tx, &sql, province, period, &args).await?;
    Ok((hits.unwrap_or(0), of))
}

/// The dossiers with a payment order paid in the period, and those with one paid online
/// (`motcua_core::evaluation::paid_online`): (online, all).
async fn paid(tx: &mut Tx, province: &str, period: Period, centre: Option<&str>) -> Result<(i64, i64)> {
    let mut args = vec![Arg::Text(evaluation::CASH), Arg::Text(crate::payments::PAID)];
    let narrow = at_centre(centre, &mut args, "dossier_id");
    one_row(
        tx,
        &format!(
            "SELECT COUNT(DISTINCT CASE WHEN method <> $4 THEN dossier_id END), COUNT(DISTINCT dossier_id)
             FROM payment_orders WHERE province_code = $1 AND state = $5 AND settled_at >= $2 AND settled_at < $3{narrow}"
        ),
        province,
        period,
        &args,
    )
    .await
}

/// The dossiers rated "not satisfied" in the period (one rating per dossier; the levels
/// that `Satisfaction::is_satisfied` refuses).
async fn not_satisfied(tx: &mut Tx, province: &str, period: Period, centre: Option<&str>) -> Result<i64> {
    let levels: Vec<&str> = Satisfaction::ALL
        .into_iter()
        .filter(|s| !s.is_satisfied())
        .map(Satisfaction::as_str)
        .collect();
    let marks: Vec<String> = (0..levels.len()).map(|i| format!("${}", i + 4)).collect();
    let mut args: Vec<Arg<'_>> = levels.into_iter().map(Arg::Text).collect();
    let narrow = at_centre(centre, &mut args, "dossier_id");
    let sql = format!(
        "SELECT COUNT(*) FROM dossier_ratings
         WHERE province_code = $1 AND rated_at >= $2 AND rated_at < $3 AND rating IN ({}){narrow}",
        marks.join(", ")
    );
    let (n,): (i64,) = one_row(tx, &sql, province, period, &args).await?;
    Ok(n)
}

/// The procedures with a dossier filed online and received in the period (3.2).
async fn procedures_filed_online(
    tx: &mut Tx,
    province: &str,
    period: Period,
    centre: Option<&str>,
) -> Result<BTreeSet<String>> {
    let mut args = vec![Arg::Int(i64::from(Channel::Online.code()))];
    let narrow = at_centre(centre, &mut args, "receiving_agency");
    codes(
        tx,
        &format!(
            "SELECT DISTINCT procedure_code FROM dossiers
             WHERE province_code = $1 AND received_at >= $2 AND received_at < $3 AND channel = $4{narrow}"
        ),
        province,
        period,
        &args,
    )
    .await
}

/// The procedures with a payment order paid online in the period (3.5b).
async fn procedures_paid_online(
    tx: &mut Tx,
    province: &str,
    period: Period,
    centre: Option<&str>,
) -> Result<BTreeSet<String>> {
    let mut args = vec![Arg::Text(evaluation::CASH), Arg::Text(crate::payments::PAID)];
    let narrow = at_centre(centre, &mut args, "d.receiving_agency");
    codes(
        tx,
        &format!(
            "SELECT DISTINCT d.procedure_code FROM payment_orders o JOIN dossiers d ON d.id = o.dossier_id
             WHERE o.province_code = $1 AND o.settled_at >= $2 AND o.settled_at < $3 AND o.state = $5
                   AND o.method <> $4{narrow}"
        ),
        province,
        period,
        &args,
    )
    .await
}

/// The current content of every procedure of the province's catalogue: (code, content).
async fn current_contents(tx: &mut Tx, province: &str) -> Result<Vec<(String, ProcedureContent)>> {
    let rows: Vec<(String, String)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT p.code, v.content FROM procedures p
             JOIN procedure_versions v
               ON v.province_code = p.province_code AND v.code = p.code AND v.version = p.current_version
             WHERE p.province_code = $1 ORDER BY p.code",
        )
        .bind(province)
        .fetch_all(c)
        .await
    })?;
    rows.into_iter()
        .map(|(code, json)| Ok((code, serde_json::from_str(&json)?)))
        .collect()
}

/// What the deployment provides that some rates depend on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Setup {
    /// The sync with the national portal is configured (1.4 is measured).
    pub portal_sync: bool,
    /// An online payment gateway is configured (3.5).
    pub online_payment: bool,
}

/// The counts of the Decision 766 service index for `province` over `period`, judged at
/// `now` (unfinished dossiers at the period's end): one named query per group of counts,
/// each counting what the predicate named on its field of
/// [`motcua_core::evaluation::ServiceCounts`] defines; the on-time and in-progress counts
/// come from the overview's figures, the catalogue's from the current procedures.
pub async fn counts(
    tx: &mut Tx,
    province: &ProvinceCode,
    period: Period,
    now: OffsetDateTime,
    setup: Setup,
) -> Result<ServiceCounts> {
    counts_at(tx, province, None, period, now, setup).await
}

/// [`counts`] of the dossiers received at `centre` (the province's when `None`): every
/// dossier count narrowed to its receiving agency, the on-time and in-progress counts
/// from the statistics per receiving centre (whole days only, as the dashboards'); the
/// catalogue's counts stay the province's, whose catalogue every centre serves.
pub async fn counts_at(
    tx: &mut Tx,
    province: &ProvinceCode,
    centre: Option<&str>,
    period: Period,
    now: OffsetDateTime,
    setup: Setup,
) -> Result<ServiceCounts> {
    let figures = match centre {
        None => overview::total(&overview::figures(tx, province, period, now).await?),
        Some(c) => {
            let query = crate::stats::Query {
                group: motcua_core::stats::Dimension::Centre,
                period,
                now,
                department: None,
                channel: None,
            };
            let lines = crate::stats::figures(tx, province, query).await?;
            overview::total(&overview::from_lines(
                lines.into_iter().filter(|l| l.value == c).collect(),
            ))
        }
    };
    let p = province.as_str();
    let (received, received_online, received_digitised, received_synced, received_reused) =
        received(tx, p, period, centre).await?;
    let (results_electronic, results) = results(tx, p, period, centre).await?;
    let (paid_online, paid) = paid(tx, p, period, centre).await?;
    let not_satisfied = not_satisfied(tx, p, period, centre).await?;
    let filed_online = procedures_filed_online(tx, p, period, centre).await?;
    let paid_online_procedures = procedures_paid_online(tx, p, period, centre).await?;
    let contents = current_contents(tx, p).await?;
    let mut counts = ServiceCounts {
        resolved: figures.resolved(),
        resolved_in_time: figures.get(Metric::ResolvedEarly) + figures.get(Metric::ResolvedOnTime),
        in_progress: figures.in_progress(),
        in_progress_on_time: figures.get(Metric::InProgressOnTime),
        received,
        received_online,
        received_digitised,
        received_reused,
        received_synced,
        results,
        results_electronic,
        paid,
        paid_online,
        not_satisfied,
        portal_sync: setup.portal_sync,
        online_payment: setup.online_payment,
        ..ServiceCounts::default()
    };
    counts.count_catalogue(
        contents.iter().map(|(code, c)| (code.as_str(), c)),
        &filed_online,
        &paid_online_procedures,
    );
    Ok(counts)
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
