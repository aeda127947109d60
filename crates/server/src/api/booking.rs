//! Booking a queue number online: the centre's booking setup (system administrators), what
//! a centre offers and its free slots (public), a signed-in person's bookings, and the
//! kiosk's check-in of a booking code (by its device token in `X-Kiosk-Token`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use super::queue::KioskDevice;
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::booking::{self, BookingOffer, BookingSetup, BookingView, DayBookings, NewBooking, SlotView};
use crate::service::queue::{CentreParam, TicketView};
use crate::state::AppState;

/// The routes of online booking.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/queue/booking", get(setup).put(put_setup))
        .route("/api/v1/queue/booking/today", get(today))
        .route("/api/v1/bookings/offer", get(offer))
        .route("/api/v1/bookings/slots", get(slots))
        .route("/api/v1/bookings", get(mine).post(book))
        .route("/api/v1/bookings/{code}", get(one))
        .route("/api/v1/bookings/{code}/cancel", post(cancel))
        .route("/api/v1/kiosk/check-in", post(check_in))
}

/// `GET /api/v1/queue/booking`: the centre's slot length, daily limit per person, days
/// ahead and places per slot of each group.
#[utoipa::path(get, path = "/api/v1/queue/booking", params(CentreParam), tag = "queue",
    responses((status = 200, body = BookingSetup), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
) -> Result<Json<BookingSetup>, AppError> {
    Ok(Json(booking::setup(&state, &principal, &at).await?))
}

/// `PUT /api/v1/queue/booking`: replaces the centre's booking setup (audited).
#[utoipa::path(put, path = "/api/v1/queue/booking", params(CentreParam), request_body = BookingSetup, tag = "queue",
    responses((status = 200, body = BookingSetup), (status = 403, body = ErrorBody)))]
pub async fn put_setup(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
    ApiJson(req): ApiJson<BookingSetup>,
) -> Result<Json<BookingSetup>, AppError> {
    Ok(Json(booking::put_setup(&state, &principal, &at, req).await?))
}

/// `GET /api/v1/queue/booking/today`: today's bookings at the centre, counted (no-shows
/// are those whose slot ended without a check-in).
#[utoipa::path(get, path = "/api/v1/queue/booking/today", params(CentreParam), tag = "queue",
    responses((status = 200, body = DayBookings), (status = 403, body = ErrorBody)))]
pub async fn today(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(at): ApiQuery<CentreParam>,
) -> Result<Json<DayBookings>, AppError> {
    Ok(Json(booking::today(&state, &principal, &at).await?))
}

/// `GET /api/v1/bookings/offer`: the groups a centre takes bookings for and the working
/// days one may book.
#[utoipa::path(get, path = "/api/v1/bookings/offer", params(CentreParam), tag = "queue",
    responses((status = 200, body = BookingOffer), (status = 404, body = ErrorBody)), security(()))]
pub async fn offer(
    State(state): State<AppState>,
    ApiQuery(at): ApiQuery<CentreParam>,
) -> Result<Json<BookingOffer>, AppError> {
    Ok(Json(booking::offer(&state, &at).await?))
}

/// Which slots to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SlotQuery {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// The centre's agency code; the province's first centre when omitted.
    pub centre: Option<String>,
    /// The group's id.
    pub group: i64,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
}

/// `GET /api/v1/bookings/slots`: a group's slots on a day that may still be booked, with
/// their free places (none on a day that is not a working day or beyond the horizon).
#[utoipa::path(get, path = "/api/v1/bookings/slots", params(SlotQuery), tag = "queue",
    responses((status = 200, body = Vec<SlotView>), (status = 404, body = ErrorBody)),
    security(()))]
pub async fn slots(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SlotQuery>,
) -> Result<Json<Vec<SlotView>>, AppError> {
    let at = CentreParam {
        province: q.province,
        centre: q.centre,
    };
    Ok(Json(booking::slots(&state, &at, q.group, &q.day).await?))
}

/// `POST /api/v1/bookings`: books a slot for the signed-in person.
#[utoipa::path(post, path = "/api/v1/bookings", request_body = NewBooking, tag = "queue",
    responses((status = 201, body = BookingView), (status = 409, body = ErrorBody)))]
pub async fn book(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewBooking>,
) -> Result<(StatusCode, Json<BookingView>), AppError> {
    Ok((StatusCode::CREATED, Json(booking::book(&state, &p, req).await?)))
}

/// `GET /api/v1/bookings`: the signed-in person's bookings from today on.
#[utoipa::path(get, path = "/api/v1/bookings", tag = "queue", responses((status = 200, body = Vec<BookingView>)))]
pub async fn mine(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<BookingView>>, AppError> {
    Ok(Json(booking::mine(&state, &p).await?))
}

/// `GET /api/v1/bookings/{code}`: one of the signed-in person's bookings.
#[utoipa::path(get, path = "/api/v1/bookings/{code}", params(("code" = String, Path, description = "Mã lịch hẹn")),
    tag = "queue", responses((status = 200, body = BookingView), (status = 404, body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<BookingView>, AppError> {
    Ok(Json(booking::get(&state, &p, &code).await?))
}

/// `POST /api/v1/bookings/{code}/cancel`: cancels one of the signed-in person's bookings
/// before its slot starts.
#[utoipa::path(post, path = "/api/v1/bookings/{code}/cancel", params(("code" = String, Path, description = "Mã lịch hẹn")),
    tag = "queue", responses((status = 200, body = BookingView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<BookingView>, AppError> {
    Ok(Json(booking::cancel(&state, &p, &code).await?))
}

/// A booking code typed or scanned at the kiosk.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// The booking's code.
    pub code: String,
}

/// `POST /api/v1/kiosk/check-in`: checks a booking in at the kiosk's centre, in its
/// slot's window: the ticket, called first until the slot ends.
#[utoipa::path(post, path = "/api/v1/kiosk/check-in", request_body = CheckIn, tag = "queue",
    params(("X-Kiosk-Token" = String, Header, description = "The kiosk's device token")),
    responses((status = 201, body = TicketView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), security(()))]
pub async fn check_in(
    State(state): State<AppState>,
    KioskDevice(k): KioskDevice,
    ApiJson(req): ApiJson<CheckIn>,
) -> Result<(StatusCode, Json<TicketView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(booking::check_in(&state, &k, &req.code).await?),
    ))
}
