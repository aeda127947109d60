//! Administration: staff accounts and their roles, API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::catalogue::ProvinceParam;
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::admin::{
    self as service, AuditPage, AuditParams, CreatedToken, CreatedUser, GrantSet, NewStaff, NewToken, PasswordReset,
    TokenList, UserList, UserView,
};
use crate::service::catalogue::{self, AgencyEdit, AgencyRetirement, AliasEdit, FieldEdit};
use crate::state::AppState;

/// `POST /api/v1/admin/users`: creates a staff account with a one-time password.
#[utoipa::path(post, path = "/api/v1/admin/users", params(ProvinceParam), request_body = NewStaff, tag = "admin",
    responses((status = 201, body = CreatedUser), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(()))]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
    let created = service::create_user(&state, &principal, p.province.as_deref(), body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/admin/users`
#[utoipa::path(get, path = "/api/v1/admin/users", params(ProvinceParam), tag = "admin",
    responses((status = 200, body = UserList), (status = 403, body = ErrorBody)), security(()))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<UserList>, AppError> {
    Ok(Json(service::users(&state, &principal, p.province.as_deref()).await?))
}

/// `POST /api/v1/admin/users/{id}/reset-password`: a new one-time password; sessions end.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reset-password", params(("id" = String, Path), ProvinceParam), tag = "admin",
    responses((status = 200, body = PasswordReset), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(()))]
pub async fn reset_password(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<PasswordReset>, AppError> {
    Ok(Json(
        service::reset_password(&state, &principal, p.province.as_deref(), &id).await?,
    ))
}

/// `POST /api/v1/admin/users/{id}/unlock`: lifts a wrong-password lock.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/unlock", params(("id" = String, Path), ProvinceParam), tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(()))]
pub async fn unlock(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<StatusCode, AppError> {
    service::unlock(&state, &principal, p.province.as_deref(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/admin/users/{id}/grants`: replaces the account's roles in the province.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/grants", params(("id" = String, Path), ProvinceParam),
    request_body = GrantSet, tag = "admin",
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)), security(()))]
pub async fn set_grants(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<GrantSet>,
) -> Result<Json<UserView>, AppError> {
    Ok(Json(
        service::set_grants(&state, &principal, p.province.as_deref(), &id, body).await?,
    ))
}

/// `POST /api/v1/admin/tokens`
#[utoipa::path(post, path = "/api/v1/admin/tokens", params(ProvinceParam), request_body = NewToken, tag = "admin",
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody)), security(()))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let created = service::create_token(&state, &principal, p.province.as_deref(), body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/admin/tokens`
#[utoipa::path(get, path = "/api/v1/admin/tokens", params(ProvinceParam), tag = "admin",
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)), security(()))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<TokenList>, AppError> {
    Ok(Json(service::tokens(&state, &principal, p.province.as_deref()).await?))
}

/// `DELETE /api/v1/admin/tokens/{id}`: revokes a token at once.
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", params(("id" = String, Path), ProvinceParam), tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(()))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<StatusCode, AppError> {
    service::revoke_token(&state, &principal, p.province.as_deref(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/audit`: browse and filter the audit trail of a province.
#[utoipa::path(get, path = "/api/v1/admin/audit", params(AuditParams), tag = "admin",
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody)), security(()))]
pub async fn audit_trail(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(service::audit_trail(&state, &principal, p).await?))
}

/// `PUT /api/v1/admin/agencies/{code}`: creates or updates an agency of the province
/// (catalogue administrators). Its parent must exist; the tree stays a tree.
#[utoipa::path(put, path = "/api/v1/admin/agencies/{code}", params(("code" = String, Path, description = "QCVN 102 agency code"), ProvinceParam),
    request_body = AgencyEdit, tag = "catalogue", 
    responses((status = 200, body = motcua_core::catalogue::Agency), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_agency(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<AgencyEdit>,
) -> Result<Json<motcua_core::catalogue::Agency>, AppError> {
    Ok(Json(
        catalogue::put_agency(&state, &principal, p.province.as_deref(), &code, body).await?,
    ))
}

/// `POST /api/v1/admin/agencies/{code}/retire`: retires an agency of the province merged
/// into another (`successor`, whose code then answers for it) or dissolved (catalogue
/// administrators). It keeps its dossiers and history; its working units retire first.
#[utoipa::path(post, path = "/api/v1/admin/agencies/{code}/retire", params(("code" = String, Path, description = "QCVN 102 agency code"), ProvinceParam),
    request_body = AgencyRetirement, tag = "catalogue",
    responses((status = 200, body = motcua_core::catalogue::Agency), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn retire_agency(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<AgencyRetirement>,
) -> Result<Json<motcua_core::catalogue::Agency>, AppError> {
    Ok(Json(
        catalogue::retire_agency(&state, &principal, p.province.as_deref(), &code, body).await?,
    ))
}

/// `PUT /api/v1/admin/agency-aliases/{old_code}`: makes an old code (not a working
/// agency's) resolve to a working agency of the province (catalogue administrators).
#[utoipa::path(put, path = "/api/v1/admin/agency-aliases/{old_code}", params(("old_code" = String, Path, description = "The old QCVN 102 code"), ProvinceParam),
    request_body = AliasEdit, tag = "catalogue",
    responses((status = 200, body = motcua_core::catalogue::AgencyAlias), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_agency_alias(
    State(state): State<AppState>,
    principal: Principal,
    Path(old_code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<AliasEdit>,
) -> Result<Json<motcua_core::catalogue::AgencyAlias>, AppError> {
    Ok(Json(
        catalogue::alias_agency(&state, &principal, p.province.as_deref(), &old_code, body).await?,
    ))
}

/// `PUT /api/v1/admin/fields/{code}`: creates or updates a field of the province
/// (catalogue administrators). Its agency must exist.
#[utoipa::path(put, path = "/api/v1/admin/fields/{code}", params(("code" = String, Path, description = "Field code"), ProvinceParam),
    request_body = FieldEdit, tag = "catalogue", 
    responses((status = 200, body = motcua_core::catalogue::Field), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_field(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<FieldEdit>,
) -> Result<Json<motcua_core::catalogue::Field>, AppError> {
    Ok(Json(
        catalogue::put_field(&state, &principal, p.province.as_deref(), &code, body).await?,
    ))
}
