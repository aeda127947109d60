//! The JSON skin of evaluation over [`crate::service::evaluation`]: the per-dossier score
//! sheet and the Decision 766 service index (their rules: `crate::api::rules`).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::service::evaluation::{self as service, IndexResult, SheetView};
use crate::service::period::PeriodQuery;
use crate::state::AppState;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/dossiers/{code}/evaluation", get(dossier_sheet))
        .route("/api/v1/track/{code}/rating", post(super::ratings::rate_by_link))
        .route("/api/v1/kiosk/rating", post(super::ratings::rate_at_kiosk))
        .route("/api/v1/service-index", get(service_index_api))
}

/// `GET /api/v1/dossiers/{code}/evaluation`: the dossier's score sheet of the 9 published
/// indices, each line with its legal source, the unit-level figures of its agency and the
/// satisfaction outside the 18 points (staff who may see the dossier).
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/evaluation", tag = "evaluation",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = SheetView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn dossier_sheet(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<SheetView>, AppError> {
    Ok(Json(service::dossier_sheet(&state, &p, &code).await?))
}

/// `?period=hom-nay|thang|nam|khoang&from=YYYY-MM-DD&to=YYYY-MM-DD` (this month by default)
/// and `?centre=`: one receiving centre's index.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexParams {
    /// `hom-nay`, `thang`, `nam` or `khoang`.
    pub period: Option<String>,
    /// First day (with `khoang`).
    pub from: Option<String>,
    /// Last day, inclusive (with `khoang`).
    pub to: Option<String>,
    /// The receiving centre (agency code) whose dossiers are scored; the whole province
    /// when absent (a commune centre's head: their centre, the only one they may ask for).
    pub centre: Option<String>,
}

/// `GET /api/v1/service-index`: the Decision 766 service index of the province (or of
/// one receiving centre) for a period, with each group's points, the inputs and the
/// formula (director, administrator; a commune centre's head for their centre).
#[utoipa::path(get, path = "/api/v1/service-index", tag = "evaluation", params(IndexParams),
    responses((status = 200, body = IndexResult), (status = 403, body = ErrorBody)))]
pub async fn service_index_api(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<IndexParams>,
) -> Result<Json<IndexResult>, AppError> {
    let asked = PeriodQuery {
        period: q.period,
        from: q.from,
        to: q.to,
    };
    Ok(Json(service::index_for(&state, &p, asked, q.centre.as_deref()).await?))
}
