//! Administration: staff accounts and their roles, API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use motcua_core::access::{Grant, Role};
use motcua_core::codes::AgencyCode;
use motcua_store::accounts::{self, ApiToken, NewUser, User, UserKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::catalogue::ProvinceParam;
use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, SCOPES, hash_password, random_id, random_token, secret_hash};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::admin::{self as service, AuditPage, AuditParams, TokenList, UserList, UserView, view};
use crate::state::AppState;

/// A role to grant at an agency.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The role.
    pub role: Role,
    /// Where it is held; the province itself when omitted.
    pub agency: Option<AgencyCode>,
}

/// A new staff account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Login name: lowercase letters, digits, `.`, `_`, `-`; 3–50 characters.
    pub username: String,
    /// Full name.
    pub display_name: String,
    /// Email.
    #[serde(default)]
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// Roles to grant.
    pub grants: Vec<GrantRequest>,
}

/// A created account with its one-time password (shown once).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    /// The account.
    pub user: UserView,
    /// Give this to the person; it must be changed at first login.
    pub one_time_password: String,
}

fn check_username(u: &str) -> Result<(), AppError> {
    let ok = (3..=50).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad(
            "invalid_field",
            "username",
            "Tên đăng nhập gồm 3–50 ký tự: chữ thường không dấu, số, dấu chấm, gạch dưới, gạch ngang.",
        ))
    }
}

/// `POST /api/v1/admin/users`: creates a staff account with a one-time password.
#[utoipa::path(post, path = "/api/v1/admin/users", params(ProvinceParam), request_body = NewStaff, tag = "admin",
    responses((status = 201, body = CreatedUser), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let username = body.username.trim().to_lowercase();
    check_username(&username)?;
    let display_name = motcua_core::text::nfc(&body.display_name);
    if display_name.is_empty() || display_name.chars().count() > 200 {
        return Err(AppError::bad(
            "invalid_field",
            "display_name",
            "Họ tên không được trống và không quá 200 ký tự.",
        ));
    }
    if body.grants.iter().any(|g| g.role == Role::Citizen) {
        return Err(AppError::bad(
            "invalid_field",
            "grants",
            "Tài khoản cán bộ không mang vai trò công dân.",
        ));
    }
    let password = random_token(12);
    let hash = hash_password(&state, &password).await?;
    let id = random_id();
    let mut tx = state.db.begin_write().await?;
    let user = accounts::create_user(
        &mut tx,
        &NewUser {
            id: &id,
            province: Some(&province),
            kind: UserKind::Staff,
            username: &username,
            display_name: &display_name,
            email: &motcua_core::text::nfc(&body.email),
            phone: &motcua_core::text::nfc(&body.phone),
            citizen_id: "",
            password_hash: &hash,
            must_change_password: true,
        },
        OffsetDateTime::now_utc(),
    )
    .await?;
    for g in &body.grants {
        let grant = Grant {
            role: g.role,
            province: province.clone(),
            agency: g.agency.clone().unwrap_or_else(|| province.as_agency().clone()),
        };
        accounts::add_grant(&mut tx, &id, &grant).await?;
    }
    let grants = accounts::grants(&mut tx, &id).await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "user.create",
            object_type: "user",
            object_id: &id,
            province: Some(province.as_str()),
            before: None,
            after: Some(serde_json::json!({ "username": username, "display_name": display_name, "grants": grants })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: view(&user, grants),
            one_time_password: password,
        }),
    ))
}

/// `GET /api/v1/admin/users`
#[utoipa::path(get, path = "/api/v1/admin/users", params(ProvinceParam), tag = "admin",
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<UserList>, AppError> {
    Ok(Json(service::users(&state, &principal, p.province.as_deref()).await?))
}

async fn user_in_province(
    state: &AppState,
    principal: &Principal,
    id: &str,
    province: Option<&str>,
) -> Result<User, AppError> {
    let province = state.province(province).await?;
    principal.require_admin(&province)?;
    let mut tx = state.db.begin_read().await?;
    let user = accounts::user_by_id(&mut tx, id)
        .await?
        .filter(|u| u.province.as_deref() == Some(province.as_str()))
        .ok_or_else(|| AppError::NotFound(format!("Không có tài khoản {id} trong tỉnh này.")))?;
    Ok(user)
}

/// A new one-time password.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Give this to the person; it must be changed at next login.
    pub one_time_password: String,
}

/// `POST /api/v1/admin/users/{id}/reset-password`: a new one-time password; sessions end.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/reset-password", params(("id" = String, Path), ProvinceParam), tag = "admin",
    responses((status = 200, body = PasswordReset), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<PasswordReset>, AppError> {
    let user = user_in_province(&state, &principal, &id, p.province.as_deref()).await?;
    let password = random_token(12);
    let hash = hash_password(&state, &password).await?;
    let mut tx = state.db.begin_write().await?;
    accounts::set_password(&mut tx, &user.id, &hash, true, OffsetDateTime::now_utc()).await?;
    accounts::delete_user_sessions(&mut tx, &user.id).await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event::about_user("user.reset_password", &user),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(PasswordReset {
        one_time_password: password,
    }))
}

/// `POST /api/v1/admin/users/{id}/unlock`: lifts a wrong-password lock.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/unlock", params(("id" = String, Path), ProvinceParam), tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<StatusCode, AppError> {
    let user = user_in_province(&state, &principal, &id, p.province.as_deref()).await?;
    let mut tx = state.db.begin_write().await?;
    accounts::unlock(&mut tx, &user.id, OffsetDateTime::now_utc()).await?;
    audit::record(&mut tx, &Actor::of(&principal), Event::about_user("user.unlock", &user)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The complete set of roles an account should hold in the province.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantSet {
    /// The roles; any other role the account holds in this province is withdrawn.
    pub grants: Vec<GrantRequest>,
}

/// `PUT /api/v1/admin/users/{id}/grants`: replaces the account's roles in the province.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/grants", params(("id" = String, Path), ProvinceParam),
    request_body = GrantSet, tag = "admin",
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_grants(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<GrantSet>,
) -> Result<Json<UserView>, AppError> {
    let user = user_in_province(&state, &principal, &id, p.province.as_deref()).await?;
    let province = state.province(p.province.as_deref()).await?;
    let wanted: Vec<Grant> = body
        .grants
        .iter()
        .map(|g| Grant {
            role: g.role,
            province: province.clone(),
            agency: g.agency.clone().unwrap_or_else(|| province.as_agency().clone()),
        })
        .collect();
    let mut tx = state.db.begin_write().await?;
    let before = accounts::grants(&mut tx, &user.id).await?;
    for g in before.iter().filter(|g| g.province == province && !wanted.contains(g)) {
        accounts::remove_grant(&mut tx, &user.id, g).await?;
    }
    for g in &wanted {
        accounts::add_grant(&mut tx, &user.id, g).await?;
    }
    let after = accounts::grants(&mut tx, &user.id).await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "user.grants",
            object_type: "user",
            object_id: &user.id,
            province: Some(province.as_str()),
            before: Some(serde_json::json!(before)),
            after: Some(serde_json::json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(view(&user, after)))
}

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (the system that uses it).
    pub name: String,
    /// Scopes: `catalogue:write`, `admin`, `dossiers:read`.
    pub scopes: Vec<String>,
    /// Days the token works, 1 to 365; 90 when omitted. A token made with a token expires
    /// no later than that one.
    #[schema(minimum = 1, maximum = 365)]
    pub expires_in_days: Option<u32>,
}

/// Days a new API token works when its creator names none.
pub const TOKEN_DAYS_DEFAULT: u32 = 90;
/// The longest a new API token may work, in days.
pub const TOKEN_DAYS_MAX: u32 = 365;

/// A created token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Token id (not secret).
    pub id: String,
    /// The secret, for `Authorization: Bearer …`. Not stored; cannot be shown again.
    pub token: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// When it stops working (epoch ms).
    pub expires_at: i64,
}

/// `POST /api/v1/admin/tokens`
#[utoipa::path(post, path = "/api/v1/admin/tokens", params(ProvinceParam), request_body = NewToken, tag = "admin",
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let name = motcua_core::text::nfc(&body.name);
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad(
            "invalid_field",
            "name",
            "Tên mã truy cập không được trống và không quá 200 ký tự.",
        ));
    }
    if body.scopes.is_empty() {
        return Err(AppError::bad(
            "invalid_field",
            "scopes",
            "Cần ít nhất một phạm vi quyền.",
        ));
    }
    if let Some(bad) = body.scopes.iter().find(|s| !SCOPES.iter().any(|(n, _)| n == s)) {
        let known: Vec<&str> = SCOPES.iter().map(|(n, _)| *n).collect();
        return Err(AppError::bad(
            "invalid_field",
            "scopes",
            format!("Phạm vi «{bad}» không tồn tại (có: {}).", known.join(", ")),
        ));
    }
    let days = body.expires_in_days.unwrap_or(TOKEN_DAYS_DEFAULT);
    if !(1..=TOKEN_DAYS_MAX).contains(&days) {
        return Err(AppError::bad(
            "invalid_field",
            "expires_in_days",
            format!("Thời hạn của mã truy cập phải từ 1 đến {TOKEN_DAYS_MAX} ngày."),
        ));
    }
    let secret = format!("mc_{}", random_token(32));
    let now = crate::now_ms();
    let token = ApiToken {
        id: random_id(),
        name,
        scopes: body.scopes.join(" "),
        province_code: Some(province.to_string()),
        created_by: principal.actor(),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
        expires_at: None,
    };
    let mut token = token;
    let mut expires_at = now.saturating_add(i64::from(days) * 86_400_000);
    let mut tx = state.db.begin_write().await?;
    // A token cannot outlive the token that made it (which stops it anyway when it goes).
    if let crate::auth::Credential::ApiToken { id, .. } = &principal.credential
        && let Some(maker_expires) = accounts::api_token_by_id(&mut tx, id, now)
            .await?
            .and_then(|t| t.expires_at)
    {
        expires_at = expires_at.min(maker_expires);
    }
    token.expires_at = Some(expires_at);
    accounts::create_api_token(&mut tx, &token, &secret_hash(&secret)).await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "token.create",
            object_type: "api_token",
            object_id: &token.id,
            province: Some(province.as_str()),
            before: None,
            after: Some(serde_json::json!({
                "name": token.name,
                "scopes": token.scopes,
                "expires_at": expires_at,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: token.id,
            token: secret,
            name: token.name,
            scopes: body.scopes,
            expires_at,
        }),
    ))
}

/// `GET /api/v1/admin/tokens`
#[utoipa::path(get, path = "/api/v1/admin/tokens", params(ProvinceParam), tag = "admin",
    responses((status = 200, body = TokenList), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<TokenList>, AppError> {
    Ok(Json(service::tokens(&state, &principal, p.province.as_deref()).await?))
}

/// `DELETE /api/v1/admin/tokens/{id}`: revokes a token at once.
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", params(("id" = String, Path), ProvinceParam), tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<StatusCode, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let mut tx = state.db.begin_write().await?;
    let belongs = accounts::list_api_tokens(&mut tx)
        .await?
        .iter()
        .any(|t| t.id == id && t.province_code.as_deref() == Some(province.as_str()));
    if !belongs || !accounts::revoke_api_token(&mut tx, &id, OffsetDateTime::now_utc()).await? {
        return Err(AppError::NotFound(format!("Không có mã truy cập {id} đang hiệu lực.")));
    }
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "token.revoke",
            object_type: "api_token",
            object_id: &id,
            province: Some(province.as_str()),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/admin/audit`: browse and filter the audit trail of a province.
#[utoipa::path(get, path = "/api/v1/admin/audit", params(AuditParams), tag = "admin",
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_trail(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, AppError> {
    Ok(Json(service::audit_trail(&state, &principal, p).await?))
}

/// An agency as an administrator enters it (the code is in the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyEdit {
    /// The same code as the path, optional: a form that puts the code in the address may
    /// send it too. A different code is refused.
    #[serde(default)]
    pub code: Option<String>,
    /// Full name, e.g. `Sở Xây dựng`.
    pub name: String,
    /// Role in the one-stop organisation.
    pub kind: motcua_core::catalogue::AgencyKind,
    /// Parent in the tree; only the province itself has none.
    #[serde(default)]
    pub parent: Option<AgencyCode>,
    /// Postal address.
    #[serde(default)]
    pub address: String,
    /// Public phone number.
    #[serde(default)]
    pub phone: String,
    /// Public email address.
    #[serde(default)]
    pub email: String,
}

fn same_code(path: &str, body: Option<&str>, field: &str) -> Result<(), AppError> {
    if body.is_some_and(|b| b.trim() != path) {
        return Err(AppError::bad(
            "invalid_field",
            field,
            "Mã trong nội dung khác mã trên địa chỉ.",
        ));
    }
    Ok(())
}

/// `PUT /api/v1/admin/agencies/{code}`: creates or updates an agency of the province
/// (catalogue administrators). Its parent must exist; the tree stays a tree.
#[utoipa::path(put, path = "/api/v1/admin/agencies/{code}", params(("code" = String, Path, description = "QCVN 102 agency code"), ProvinceParam),
    request_body = AgencyEdit, tag = "catalogue", security(("api_token" = []), ("session" = [])),
    responses((status = 200, body = motcua_core::catalogue::Agency), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_agency(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<AgencyEdit>,
) -> Result<Json<motcua_core::catalogue::Agency>, AppError> {
    same_code(&code, body.code.as_deref(), "code")?;
    let code = AgencyCode::parse(&code).map_err(|e| AppError::code("code", e))?;
    let province = state.province(p.province.as_deref()).await?;
    principal.require_catalogue(&province)?;
    let agency = motcua_core::catalogue::Agency {
        code: code.clone(),
        name: body.name,
        kind: body.kind,
        parent: body.parent,
        address: body.address,
        phone: body.phone,
        email: body.email,
    };
    let mut tx = state.db.begin_write().await?;
    let before = motcua_store::catalogue::agencies(&mut tx, &province)
        .await?
        .into_iter()
        .find(|a| a.code == code);
    motcua_store::catalogue::upsert_agency(&mut tx, &province, &agency).await?;
    let after = motcua_store::catalogue::agencies(&mut tx, &province)
        .await?
        .into_iter()
        .find(|a| a.code == code)
        .ok_or_else(|| AppError::Internal(format!("agency {code} vanished")))?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "agency.upsert",
            object_type: "agency",
            object_id: code.as_str(),
            province: Some(province.as_str()),
            before: before.map(|b| serde_json::json!(b)),
            after: Some(serde_json::json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    state.catalogue_changed(&province);
    Ok(Json(after))
}

/// A field as an administrator enters it (the code is in the path).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldEdit {
    /// The same code as the path, optional (see [`AgencyEdit::code`]).
    #[serde(default)]
    pub code: Option<String>,
    /// Name, e.g. `Hoạt động xây dựng`.
    pub name: String,
    /// The agency whose procedures the field groups.
    pub agency: AgencyCode,
}

/// `PUT /api/v1/admin/fields/{code}`: creates or updates a field of the province
/// (catalogue administrators). Its agency must exist.
#[utoipa::path(put, path = "/api/v1/admin/fields/{code}", params(("code" = String, Path, description = "Field code"), ProvinceParam),
    request_body = FieldEdit, tag = "catalogue", security(("api_token" = []), ("session" = [])),
    responses((status = 200, body = motcua_core::catalogue::Field), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_field(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(body): ApiJson<FieldEdit>,
) -> Result<Json<motcua_core::catalogue::Field>, AppError> {
    same_code(&code, body.code.as_deref(), "code")?;
    let code = motcua_core::codes::FieldCode::parse(&code).map_err(|e| AppError::code("code", e))?;
    let province = state.province(p.province.as_deref()).await?;
    principal.require_catalogue(&province)?;
    let field = motcua_core::catalogue::Field {
        code: code.clone(),
        name: body.name,
        agency: body.agency,
    };
    let mut tx = state.db.begin_write().await?;
    let before = motcua_store::catalogue::fields(&mut tx, &province)
        .await?
        .into_iter()
        .find(|f| f.code == code);
    motcua_store::catalogue::upsert_field(&mut tx, &province, &field).await?;
    let after = motcua_store::catalogue::fields(&mut tx, &province)
        .await?
        .into_iter()
        .find(|f| f.code == code)
        .ok_or_else(|| AppError::Internal(format!("field {code} vanished")))?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "field.upsert",
            object_type: "field",
            object_id: code.as_str(),
            province: Some(province.as_str()),
            before: before.map(|b| serde_json::json!(b)),
            after: Some(serde_json::json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    state.catalogue_changed(&province);
    Ok(Json(after))
}
