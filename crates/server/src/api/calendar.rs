//! The working-day calendar: deadlines computed by the server, the non-working days of a
//! year, and administrators' edits of days off and make-up working days.

use axum::Json;
use axum::extract::{Path, State};
use motcua_core::calendar::WorkWeek;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use super::catalogue::ProvinceParam;
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::calendar::{self, DayKind, Deadline, YearDays};
use crate::state::AppState;

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

/// `GET /api/v1/calendar/deadline`: `from` plus N working days (or hours).
#[utoipa::path(get, path = "/api/v1/calendar/deadline", params(DeadlineParams), tag = "calendar",
    responses((status = 200, body = Deadline), (status = 404, body = ErrorBody)), security(()))]
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
    Ok(Json(
        calendar::deadline(&state, &province, from, p.working_days, p.working_hours).await?,
    ))
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

/// `GET /api/v1/calendar/days?year=YYYY`: non-working weekdays and make-up working days.
#[utoipa::path(get, path = "/api/v1/calendar/days", params(YearParams), tag = "calendar",
    responses((status = 200, body = YearDays), (status = 404, body = ErrorBody)), security(()))]
pub async fn days(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<YearParams>,
) -> Result<Json<YearDays>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    Ok(Json(calendar::year_days(&state, &province, p.year).await?))
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
    request_body = DayEdit, tag = "calendar", 
    responses((status = 200, body = YearDays),
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
    Ok(Json(
        calendar::set_day(&state, &principal, &province, date, body.kind, &body.reason).await?,
    ))
}

/// `GET /api/v1/calendar/week`: the province's working sessions and weekdays (the length
/// of its working day is the sum of the sessions).
#[utoipa::path(get, path = "/api/v1/calendar/week", params(ProvinceParam), tag = "calendar",
    responses((status = 200, body = WorkWeek), (status = 404, body = ErrorBody)), security(()))]
pub async fn week(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<WorkWeek>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    Ok(Json(calendar::week(&state, &province).await?))
}

/// `PUT /api/v1/calendar/week`: sets the province's working sessions and weekdays (system
/// administrators); appointments given from now on count working days of the new length.
#[utoipa::path(put, path = "/api/v1/calendar/week", params(ProvinceParam),
    request_body = WorkWeek, tag = "calendar", 
    responses((status = 200, body = WorkWeek),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_week(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<WorkWeek>,
) -> Result<Json<WorkWeek>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    Ok(Json(calendar::set_week(&state, &principal, &province, body).await?))
}
