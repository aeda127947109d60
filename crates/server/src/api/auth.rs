//! Login, logout, the current user, password change.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use motcua_core::access::Grant;
use motcua_store::accounts::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{self, ClientIp, Credential, MaybePrincipal, Principal};
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiJson;
use crate::service::accounts::{self as service, SignedIn};
use crate::state::AppState;

/// Login form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// The signed-in account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Account id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// `staff` or `citizen`.
    pub kind: String,
    /// Roles and where they are held.
    pub grants: Vec<Grant>,
    /// The password must be changed before anything else.
    pub must_change_password: bool,
    /// Send this in the `X-CSRF-Token` header with every state-changing call.
    pub csrf_token: String,
}

fn me(user: &User, grants: Vec<Grant>, csrf_token: String) -> Me {
    Me {
        id: user.id.clone(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        kind: match user.kind {
            motcua_store::accounts::UserKind::Staff => "staff".to_owned(),
            motcua_store::accounts::UserKind::Citizen => "citizen".to_owned(),
        },
        grants,
        must_change_password: user.must_change_password,
        csrf_token,
    }
}

/// `POST /api/v1/auth/login`: starts a session (cookie) and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest, tag = "auth",
    responses((status = 200, body = Me), (status = 423, body = ErrorBody),
        (status = 429, body = ErrorBody)), security(()))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let signed_in = service::login(&state, &ip, &auth::user_agent(&headers), &body.username, &body.password).await?;
    session_response(&state, StatusCode::OK, signed_in)
}

/// The answer that hands a committed session to the browser: the account with its CSRF
/// token in the body, the session in an `HttpOnly` cookie.
pub(crate) fn session_response(
    state: &AppState,
    status: StatusCode,
    signed_in: SignedIn,
) -> Result<Response, AppError> {
    let SignedIn { user, grants, session } = signed_in;
    let mut response = (status, Json(me(&user, grants, session.csrf))).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, auth::session_cookie(state, &session.token)?);
    Ok(response)
}

/// `POST /api/v1/auth/logout`: ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 403, body = ErrorBody)), security(()))]
pub async fn logout(State(state): State<AppState>, MaybePrincipal(p): MaybePrincipal) -> Result<Response, AppError> {
    service::logout(&state, p.as_ref()).await?;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, auth::clear_cookie(&state));
    Ok(response)
}

/// `GET /api/v1/auth/me`: the signed-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me)), security(()))]
pub async fn current(principal: Principal) -> Result<Json<Me>, AppError> {
    let Principal {
        user,
        access,
        credential,
        ..
    } = principal;
    let (Some(user), Credential::Session { csrf_token, .. }) = (user, credential) else {
        return Err(AppError::Unauthorized(
            "Mã truy cập API không gắn với tài khoản người dùng.".to_owned(),
        ));
    };
    Ok(Json(me(&user, access.grants().to_vec(), csrf_token)))
}

/// Password change form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password (at least 10 characters).
    pub new_password: String,
}

/// `POST /api/v1/auth/password`: changes the password; every other session ends.
#[utoipa::path(post, path = "/api/v1/auth/password", request_body = PasswordChange, tag = "auth",
    responses((status = 204), (status = 403, body = ErrorBody)), security(()))]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Response, AppError> {
    service::change_password(&state, &principal, &body.current_password, &body.new_password).await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
