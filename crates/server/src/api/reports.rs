//! The JSON skin of the reports over [`crate::service::reports`].

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use super::forms::XLSX;
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::service::reports::{self as service, MonthlyList};
use crate::state::AppState;

/// The routes of the reports.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/results.xlsx", get(results_xlsx))
        .route("/api/v1/reports/monthly", get(monthly))
        .route("/api/v1/reports/monthly/{file}", get(monthly_file))
}

/// An XLSX download named `name`, not kept by caches.
pub(crate) fn attachment(bytes: Vec<u8>, name: &str) -> Response {
    super::forms::attachment(bytes, XLSX, "attachment", name)
}

/// Report parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultsParams {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, included (at most 5 years after the first).
    pub to: Option<String>,
    /// Only this responsible agency (a department leader's own by default); the whole
    /// province when omitted by the centre's director.
    pub agency: Option<String>,
}

/// `GET /api/v1/reports/results.xlsx?from=&to=[&agency=]`: the report on the results of
/// handling administrative procedures for a period (docs/rules.md §6): sheets per department,
/// per department and procedure, per field. The figures are the dashboard's.
#[utoipa::path(get, path = "/api/v1/reports/results.xlsx", tag = "reports", params(ResultsParams),
    responses((status = 200, description = "Báo cáo kết quả giải quyết thủ tục hành chính (XLSX)",
            content_type = XLSX), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn results_xlsx(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ResultsParams>,
) -> Result<Response, AppError> {
    let (name, bytes) = service::results(&state, &p, q.from.as_deref(), q.to.as_deref(), q.agency.as_deref()).await?;
    Ok(attachment(bytes, &name))
}

/// `GET /api/v1/reports/monthly`: the monthly reports generated so far that the caller
/// may see (the director: all; a department leader: their department's).
#[utoipa::path(get, path = "/api/v1/reports/monthly", tag = "reports",
    responses((status = 200, body = MonthlyList), (status = 403, body = ErrorBody)))]
pub async fn monthly(State(state): State<AppState>, p: Principal) -> Result<Json<MonthlyList>, AppError> {
    Ok(Json(MonthlyList {
        items: service::visible_monthly(&state, &p).await?,
    }))
}

/// `GET /api/v1/reports/monthly/{id}.xlsx`: one stored monthly report, as generated.
#[utoipa::path(get, path = "/api/v1/reports/monthly/{file}", tag = "reports",
    params(("file" = String, Path, description = "Số của báo cáo và đuôi .xlsx, ví dụ 12.xlsx")),
    responses((status = 200, description = "Báo cáo tháng (XLSX)",
            content_type = XLSX), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn monthly_file(
    State(state): State<AppState>,
    p: Principal,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let (name, bytes) = service::monthly_file(&state, &p, &file).await?;
    Ok(attachment(bytes, &name))
}
