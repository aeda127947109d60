//! The working-day calendar of a province: read from the cache, deadlines computed on it,
//! and its special days edited by an administrator.

use std::sync::Arc;

use motcua_core::calendar::{Calendar, DayNote, WorkWeek, YearAdjustments};
use motcua_core::codes::ProvinceCode;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// The calendar of a province, from the cache.
pub async fn calendar(state: &AppState, province: &ProvinceCode) -> Result<Arc<Calendar>, AppError> {
    state
        .calendars
        .get(&state.db, province, async |tx| {
            Ok(motcua_store::calendar::calendar(tx, province).await?)
        })
        .await
}

pub(crate) fn calendar_error(field: &str, e: motcua_core::calendar::CalendarError) -> AppError {
    AppError::bad("invalid_parameter", field, e.to_string())
}

/// A computed deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deadline {
    /// When the time starts to run: `from`, or the next working session if `from` is
    /// outside one.
    pub start: String,
    /// The deadline (RFC 3339, +07:00); never outside a working session.
    pub due: String,
    /// Working minutes between `from` and `due`.
    pub working_minutes: u64,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Longest period a deadline is computed for (ten years of working days).
const MAX_DAYS: u64 = 2_500;

/// `from` plus `working_days` (or `working_hours`, exactly one of the two) on the calendar
/// of `province`.
pub async fn deadline(
    state: &AppState,
    province: &ProvinceCode,
    from: OffsetDateTime,
    working_days: Option<u64>,
    working_hours: Option<u64>,
) -> Result<Deadline, AppError> {
    let cal = calendar(state, province).await?;
    let minutes = match (working_days, working_hours) {
        (Some(d), None) if d <= MAX_DAYS => d * u64::from(cal.minutes_per_working_day()),
        (None, Some(h)) if h <= MAX_DAYS * 8 => h * 60,
        (Some(_), Some(_)) | (None, None) => {
            return Err(AppError::bad(
                "invalid_parameter",
                "working_days",
                "Cần đúng một trong hai tham số «working_days» hoặc «working_hours».",
            ));
        }
        _ => {
            return Err(AppError::bad(
                "invalid_parameter",
                "working_days",
                format!("Thời hạn tối đa {MAX_DAYS} ngày làm việc."),
            ));
        }
    };
    let start = cal.next_working_moment(from).map_err(|e| calendar_error("from", e))?;
    let due = cal
        .add_working_minutes(from, minutes)
        .map_err(|e| calendar_error("from", e))?;
    Ok(Deadline {
        start: rfc3339(start),
        due: rfc3339(due),
        working_minutes: cal.working_minutes_between(from, due),
    })
}

/// The special days of a year.
#[derive(Debug, Serialize, ToSchema)]
pub struct YearDays {
    /// The year.
    pub year: i32,
    /// Weekdays that are not worked: holidays, compensatory days, days off.
    pub non_working_weekdays: Vec<DayNote>,
    /// Weekend days that are worked (make-up days).
    pub working_weekend_days: Vec<DayNote>,
    /// The adjustments in force for the year (stored by an administrator, or announced).
    pub adjustments: YearAdjustments,
}

/// The special days of `year` in `province` (what `GET /api/v1/calendar/days` answers).
pub async fn year_days(state: &AppState, province: &ProvinceCode, year: i32) -> Result<YearDays, AppError> {
    let cal = calendar(state, province).await?;
    let non_working_weekdays = cal
        .non_working_days(year)
        .map_err(|e| calendar_error("year", e))?
        .to_vec();
    let working_weekend_days = cal
        .working_weekend_days(year)
        .map_err(|e| calendar_error("year", e))?
        .to_vec();
    let adjustments = cal
        .adjustments()
        .find(|a| a.year == year)
        .cloned()
        .unwrap_or_else(|| YearAdjustments::new(year));
    Ok(YearDays {
        year,
        non_working_weekdays,
        working_weekend_days,
        adjustments,
    })
}

/// What a day should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// An extra day off (a bridge, a swapped day).
    DayOff,
    /// A make-up working day (usually a Saturday), or a holiday cancelled.
    WorkingDay,
    /// Back to what the statutory rules say.
    Default,
}

/// Makes `date` a day off, a working day, or what the statutory rules say, in `province`
/// (system administrators); `reason` is required for the first two. Audited. Returns the
/// year's special days as they now stand.
pub async fn set_day(
    state: &AppState,
    principal: &Principal,
    province: &ProvinceCode,
    date: Date,
    kind: DayKind,
    reason: &str,
) -> Result<YearDays, AppError> {
    principal.require_admin(province)?;
    let reason = motcua_core::text::nfc(reason);
    if kind != DayKind::Default && (reason.is_empty() || reason.chars().count() > 200) {
        return Err(AppError::bad(
            "invalid_field",
            "reason",
            "Cần ghi lý do (không quá 200 ký tự).",
        ));
    }
    let year = date.year();
    let mut tx = state.db.begin_write().await?;
    let mut adjustments = motcua_store::calendar::effective_years(&mut tx, province)
        .await?
        .into_iter()
        .find(|a| a.year == year)
        .unwrap_or_else(|| YearAdjustments::new(year));
    let before = serde_json::to_value(&adjustments).map_err(|e| AppError::Internal(e.to_string()))?;
    adjustments.days_off.retain(|d| d.date != date);
    adjustments.working_days.retain(|d| d.date != date);
    match kind {
        DayKind::DayOff => adjustments.days_off.push(DayNote::new(date, reason)),
        DayKind::WorkingDay => adjustments.working_days.push(DayNote::new(date, reason)),
        DayKind::Default => {}
    }
    adjustments.days_off.sort_by_key(|d| d.date);
    adjustments.working_days.sort_by_key(|d| d.date);
    motcua_store::calendar::put_year(&mut tx, province, &adjustments, OffsetDateTime::now_utc()).await?;
    audit::record(
        &mut tx,
        &Actor::of(principal),
        Event {
            action: "calendar.day",
            object_type: "calendar_day",
            object_id: &date.to_string(),
            province: Some(province.as_str()),
            before: Some(before),
            after: Some(serde_json::to_value(&adjustments).map_err(|e| AppError::Internal(e.to_string()))?),
        },
    )
    .await?;
    tx.commit().await?;
    state.calendars.invalidate(province);
    year_days(state, province, year).await
}

/// The work week of `province`: its daily sessions and working weekdays.
pub async fn week(state: &AppState, province: &ProvinceCode) -> Result<WorkWeek, AppError> {
    Ok(calendar(state, province).await?.work_week().clone())
}

/// Sets the work week of `province` (system administrators): its sessions fix the length
/// of a working day, so the appointments of dossiers accepted from now on count days of
/// that length; appointments already given stay. Audited.
pub async fn set_week(
    state: &AppState,
    principal: &Principal,
    province: &ProvinceCode,
    week: WorkWeek,
) -> Result<WorkWeek, AppError> {
    principal.require_admin(province)?;
    week.validate().map_err(|e| calendar_error("sessions", e))?;
    let mut tx = state.db.begin_write().await?;
    let before = motcua_store::calendar::work_week(&mut tx, province).await?;
    motcua_store::calendar::put_work_week(&mut tx, province, &week, OffsetDateTime::now_utc()).await?;
    let json = |w: &WorkWeek| serde_json::to_value(w).map_err(|e| AppError::Internal(e.to_string()));
    audit::record(
        &mut tx,
        &Actor::of(principal),
        Event {
            action: "calendar.week",
            object_type: "calendar_week",
            object_id: province.as_str(),
            province: Some(province.as_str()),
            before: Some(json(&before)?),
            after: Some(json(&week)?),
        },
    )
    .await?;
    tx.commit().await?;
    state.calendars.invalidate(province);
    Ok(week)
}
