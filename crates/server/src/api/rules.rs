//! The JSON skin of the rule versions over [`crate::service::rules`]: the list, one
//! version in full, and an administrator's load of a new version from a file.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiBytes;
use crate::service::rules::{self as service, Version};
use crate::state::AppState;

/// The routes of this module.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rules", get(list))
        .route("/api/v1/rules/{version}", get(one))
        .route("/api/v1/admin/rules", post(load))
}

/// `GET /api/v1/rules`: every rule version (the evaluation indices, the service index's
/// sub-criteria and points, the forms' numbers and titles, the status labels), earliest
/// first, with the legal texts each comes from, the day it takes effect and the one in
/// force today marked. Public: the rules are the law's.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules",
    responses((status = 200, body = Vec<Version>)), security(()))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Version>>, AppError> {
    Ok(Json(service::versions(&state).await?))
}

/// `GET /api/v1/rules/{version}`: one version in full, in the format a rule file has.
#[utoipa::path(get, path = "/api/v1/rules/{version}", tag = "rules",
    params(("version" = String, Path, description = "Tên phiên bản quy định")),
    responses((status = 200, body = Object, description = "Phiên bản quy định, cùng định dạng với tệp quy định"),
        (status = 404, body = ErrorBody)), security(()))]
pub async fn one(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let set = service::version(&state, &version).await?;
    Ok(Json(
        serde_json::to_value(set).map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}

/// `POST /api/v1/admin/rules`: loads a new rule version from a rule file (the JSON of
/// `GET /api/v1/rules/{version}` with a new name and first day). Every problem of the file
/// is reported (422); a version of the same name or first day is refused (409). It
/// governs the periods from its first day on only. Administrator; audited.
#[utoipa::path(post, path = "/api/v1/admin/rules", tag = "rules",
    request_body(content = Object, description = "Tệp quy định (JSON)", content_type = "application/json"),
    responses((status = 200, body = Version),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn load(
    State(state): State<AppState>,
    p: Principal,
    ApiBytes(body): ApiBytes,
) -> Result<Json<Version>, AppError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::bad("invalid_body", "file", "Tệp quy định phải là văn bản UTF-8."))?;
    Ok(Json(service::load(&state, &p, text).await?))
}
