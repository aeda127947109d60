//! Calendar repository: each province's work week and yearly adjustments, stored as JSON
//! documents of the core types.

use motcua_core::calendar::{Calendar, CalendarError, WorkWeek, YearAdjustments, announced_adjustments};
use motcua_core::catalogue::Invalid;
use motcua_core::codes::ProvinceCode;
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Arg, Result, StoreError, Tx, execute, on, to_millis};

/// The province's work week, or the default (07:00–11:30, 13:30–17:00, Monday–Friday).
pub async fn work_week(tx: &mut Tx, province: &ProvinceCode) -> Result<WorkWeek> {
    let row: Option<String> = on!(tx, |c| {
        sqlx::query_scalar("SELECT work_week FROM calendar_settings WHERE province_code = $1")
            .bind(province.as_str())
            .fetch_optional(c)
            .await
    })?;
    Ok(match row {
        Some(json) => serde_json::from_str(&json)?,
        None => WorkWeek::default(),
    })
}

/// The stored adjustments of every year of a province that has any.
pub async fn stored_years(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<YearAdjustments>> {
    let rows: Vec<String> = on!(tx, |c| {
        sqlx::query_scalar("SELECT adjustments FROM calendar_years WHERE province_code = $1 ORDER BY year")
            .bind(province.as_str())
            .fetch_all(c)
            .await
    })?;
    rows.iter().map(|j| Ok(serde_json::from_str(j)?)).collect()
}

/// The adjustments in force: the stored year where there is one, else the announced one.
pub async fn effective_years(tx: &mut Tx, province: &ProvinceCode) -> Result<Vec<YearAdjustments>> {
    let mut years = stored_years(tx, province).await?;
    for announced in announced_adjustments() {
        if !years.iter().any(|y| y.year == announced.year) {
            years.push(announced);
        }
    }
    years.sort_by_key(|y| y.year);
    Ok(years)
}

/// The province's calendar.
pub async fn calendar(tx: &mut Tx, province: &ProvinceCode) -> Result<Calendar> {
    let week = work_week(tx, province).await?;
    let years = effective_years(tx, province).await?;
    Calendar::new(week, years).map_err(|e| StoreError::Io(format!("stored calendar is invalid: {e}")))
}

/// Stores the province's work week after checking it.
pub async fn put_work_week(tx: &mut Tx, province: &ProvinceCode, week: &WorkWeek, now: OffsetDateTime) -> Result<()> {
    let json = checked_json("sessions", week.validate(), week)?;
    let sql = "INSERT INTO calendar_settings (province_code, work_week, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (province_code) DO UPDATE SET work_week = excluded.work_week,
            updated_at = excluded.updated_at";
    let args = [Arg::Text(province.as_str()), Arg::Text(&json), Arg::Int(to_millis(now))];
    upsert(tx, province, sql, &args).await
}

/// Stores one year's adjustments after checking that the calendar they make is valid.
pub async fn put_year(tx: &mut Tx, province: &ProvinceCode, year: &YearAdjustments, now: OffsetDateTime) -> Result<()> {
    let json = checked_json("date", year.validate(), year)?;
    let sql = "INSERT INTO calendar_years (province_code, year, adjustments, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (province_code, year) DO UPDATE SET adjustments = excluded.adjustments,
            updated_at = excluded.updated_at";
    let args = [
        Arg::Text(province.as_str()),
        Arg::Int(i64::from(year.year)),
        Arg::Text(&json),
        Arg::Int(to_millis(now)),
    ];
    upsert(tx, province, sql, &args).await
}

/// `value` as the JSON to store once its check (`checked`) passed; a failure names `field`.
fn checked_json(field: &str, checked: Result<(), CalendarError>, value: &impl Serialize) -> Result<String> {
    checked.map_err(|e| Invalid::new(field, e.to_string()))?;
    Ok(serde_json::to_string(value)?)
}

/// Runs the upsert `sql` with `args`; then the caches of the province's data (catalogue
/// search, calendar) reload.
async fn upsert(tx: &mut Tx, province: &ProvinceCode, sql: &str, args: &[Arg<'_>]) -> Result<()> {
    execute(tx, sql, args).await?;
    crate::catalogue::bump_generation(tx, province).await
}
