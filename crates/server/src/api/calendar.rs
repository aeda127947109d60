//! The working-day calendar: deadlines computed by the server, the non-working days of a
//! year, and administrators' edits of days off and make-up working days.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use motcua_core::calendar::{Calendar, DayNote, YearAdjustments};
use motcua_core::codes::ProvinceCode;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::catalogue::ProvinceParam;
use super::extract::{ApiJson, ApiQuery};
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
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

fn calendar_error(field: &str, e: motcua_core::calendar::CalendarError) -> AppError {
    AppError::bad("invalid_parameter", field, e.to_string())
}

/// Deadline parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// Start instant, RFC 3339 (e.g. `2026-02-13T09:00:00+07:00`).
    pub from: String,
    /// Working days to add (1 day = the work week's daily working time, 8 h by default).
    pub working_days: Option<u64>,
    /// Working hours to add (instead of days).
    pub working_hours: Option<u64>,
    /// Province code; the default province when omitted.
    pub province: Option<String>,
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

/// Longest period the deadline endpoint computes (ten years of working days).
const MAX_DAYS: u64 = 2_500;

/// `GET /api/v1/calendar/deadline`: `from` plus N working days (or hours).
#[utoipa::path(get, path = "/api/v1/calendar/deadline", params(DeadlineParams), tag = "calendar",
    responses((status = 200, body = Deadline), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deadline(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<DeadlineParams>,
) -> Result<Json<Deadline>, AppError> {
    let from = OffsetDateTime::parse(&p.from, &Rfc3339).map_err(|_| {
        AppError::bad(
            "invalid_parameter",
            "from",
            "«from» phải là thời điểm RFC 3339, ví dụ 2026-02-13T09:00:00+07:00.",
        )
    })?;
    let province = state.province(p.province.as_deref()).await?;
    let cal = calendar(&state, &province).await?;
    let minutes = match (p.working_days, p.working_hours) {
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
    Ok(Json(Deadline {
        start: rfc3339(start),
        due: rfc3339(due),
        working_minutes: cal.working_minutes_between(from, due),
    }))
}

/// Which year.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    /// The year (1900–2199).
    pub year: i32,
    /// Province code; the default province when omitted.
    pub province: Option<String>,
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

/// `GET /api/v1/calendar/days?year=YYYY`: non-working weekdays and make-up working days.
#[utoipa::path(get, path = "/api/v1/calendar/days", params(YearParams), tag = "calendar",
    responses((status = 200, body = YearDays), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn days(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<YearParams>,
) -> Result<Json<YearDays>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    Ok(Json(year_days(&state, &province, p.year).await?))
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

/// An edit of one day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DayEdit {
    /// What the day should be.
    pub kind: DayKind,
    /// Why (required for days off and working days), e.g. `Nghỉ bù ngày 26/4`.
    #[serde(default)]
    pub reason: String,
    /// The same date as the path (`YYYY-MM-DD`), optional: a form that puts the date in
    /// the address may send it too. A different date is refused.
    #[serde(default)]
    pub date: Option<String>,
}

/// `PUT /api/v1/calendar/days/{date}`: makes a date a day off, a working day, or the
/// default (system administrators).
#[utoipa::path(put, path = "/api/v1/calendar/days/{date}", params(("date" = String, Path, description = "YYYY-MM-DD"), ProvinceParam),
    request_body = DayEdit, tag = "calendar", security(("api_token" = []), ("session" = [])),
    responses((status = 200, body = YearDays), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_day(
    State(state): State<AppState>,
    principal: Principal,
    Path(date): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<DayEdit>,
) -> Result<Json<YearDays>, AppError> {
    let date = Date::parse(&date, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| AppError::bad("invalid_parameter", "date", "Ngày phải có dạng YYYY-MM-DD."))?;
    if body.date.as_deref().is_some_and(|d| d != date.to_string()) {
        return Err(AppError::bad(
            "invalid_field",
            "date",
            "Ngày trong nội dung khác ngày trên địa chỉ.",
        ));
    }
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let reason = motcua_core::text::nfc(&body.reason);
    if body.kind != DayKind::Default && (reason.is_empty() || reason.chars().count() > 200) {
        return Err(AppError::bad(
            "invalid_field",
            "reason",
            "Cần ghi lý do (không quá 200 ký tự).",
        ));
    }
    let year = date.year();
    let mut tx = state.db.begin_write().await?;
    let mut adjustments = motcua_store::calendar::effective_years(&mut tx, &province)
        .await?
        .into_iter()
        .find(|a| a.year == year)
        .unwrap_or_else(|| YearAdjustments::new(year));
    let before = serde_json::to_value(&adjustments).map_err(|e| AppError::Internal(e.to_string()))?;
    adjustments.days_off.retain(|d| d.date != date);
    adjustments.working_days.retain(|d| d.date != date);
    match body.kind {
        DayKind::DayOff => adjustments.days_off.push(DayNote::new(date, reason)),
        DayKind::WorkingDay => adjustments.working_days.push(DayNote::new(date, reason)),
        DayKind::Default => {}
    }
    adjustments.days_off.sort_by_key(|d| d.date);
    adjustments.working_days.sort_by_key(|d| d.date);
    motcua_store::calendar::put_year(&mut tx, &province, &adjustments, OffsetDateTime::now_utc()).await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
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
    state.calendars.invalidate(&province);
    Ok(Json(year_days(&state, &province, year).await?))
}
