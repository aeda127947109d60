//! The JSON skin of satisfaction ratings over [`crate::service::ratings`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::auth::{ClientIp, Principal};
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiJson;
use crate::service::ratings::{self as service, KioskRating, LinkRating, NewRating, RatingView};
use crate::state::AppState;

/// `GET /api/v1/dossiers/{code}/rating`: the dossier's rating, for its applicant and the
/// staff who may see the dossier; 404 (`not_rated`) while there is none.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/rating", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = RatingView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<RatingView>, AppError> {
    Ok(Json(service::rating(&state, &p, &code).await?))
}

/// `POST /api/v1/dossiers/{code}/rating`: the applicant rates the service once the result
/// is ready (status 9) or returned (10). Once per dossier: a second rating is refused
/// with 409; staff are refused with 403.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/rating", tag = "dossiers", request_body = NewRating,
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 201, body = RatingView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rate(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<NewRating>,
) -> Result<(StatusCode, Json<RatingView>), AppError> {
    Ok((StatusCode::CREATED, Json(service::rate(&state, &p, &code, body).await?)))
}

/// `POST /api/v1/track/{code}/rating`: the rating link on the result (and its QR code),
/// without login. The tracking secret proves the rater holds the receipt; a wrong code
/// or secret gets the same 404 as public tracking and counts against the same rate limit.
#[utoipa::path(post, path = "/api/v1/track/{code}/rating", tag = "dossiers", request_body = LinkRating,
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 201, body = RatingView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)), security(()))]
pub async fn rate_by_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<LinkRating>,
) -> Result<(StatusCode, Json<RatingView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(service::rate_by_link(&state, &ip, &code, body).await?),
    ))
}

/// `POST /api/v1/kiosk/rating`: the counter's kiosk screen, where the citizen at the desk
/// rates the dossier whose result was just handed over. Only a counter officer of the
/// dossier's receiving agency (or of the whole province) runs it; the officer is recorded.
#[utoipa::path(post, path = "/api/v1/kiosk/rating", tag = "dossiers", request_body = KioskRating,
    responses((status = 201, body = RatingView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rate_at_kiosk(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<KioskRating>,
) -> Result<(StatusCode, Json<RatingView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(service::rate_at_kiosk(&state, &p, body).await?),
    ))
}
