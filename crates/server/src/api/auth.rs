//! Login, logout, the current user, password change.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use motcua_core::access::Grant;
use motcua_store::Tx;
use motcua_store::accounts::{self, Session, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::extract::ApiJson;
use crate::audit::{self, Actor, Event};
use crate::auth::{
    self, ClientIp, Credential, MaybePrincipal, Principal, check_password_policy, hash_password, random_token,
    secret_hash, verify_password,
};
use crate::error::{AppError, ErrorBody};
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
            accounts::UserKind::Staff => "staff".to_owned(),
            accounts::UserKind::Citizen => "citizen".to_owned(),
        },
        grants,
        must_change_password: user.must_change_password,
        csrf_token,
    }
}

fn wrong_credentials() -> AppError {
    AppError::Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.".to_owned())
}

fn hhmm(ms: i64) -> String {
    motcua_store::from_millis(ms)
        .to_offset(time::macros::offset!(+7))
        .format(time::macros::format_description!(
            "[hour]:[minute] ngày [day]/[month]/[year]"
        ))
        .unwrap_or_default()
}

/// `POST /api/v1/auth/login`: starts a session (cookie) and returns the CSRF token.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest, tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 423, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    login_inner(state, headers, ip, body).await
}

/// Counts a login attempt (a password login, an SSO start) from `ip` against its
/// per-minute budget: 429 with the wait when it is used up.
pub(crate) fn count_login(state: &AppState, ip: &str) -> Result<(), AppError> {
    state.login_limiter.count(&ip.to_owned()).map_err(|wait| {
        AppError::too_many(
            format!(
                "Quá nhiều lần đăng nhập từ địa chỉ này. Vui lòng thử lại sau {} giây.",
                wait.as_secs().max(1)
            ),
            wait,
        )
    })
}

/// The login itself, shared with the login page.
pub async fn login_inner(
    state: AppState,
    headers: HeaderMap,
    ip: String,
    body: LoginRequest,
) -> Result<Response, AppError> {
    count_login(&state, &ip)?;
    let username = motcua_core::text::nfc(&body.username).to_lowercase();
    if username.is_empty() || username.chars().count() > 100 || body.password.chars().count() > auth::MAX_PASSWORD {
        return Err(wrong_credentials());
    }
    let now = OffsetDateTime::now_utc();
    let now_ms = auth::millis(now);
    let mut tx = state.db.begin_read().await?;
    let found = accounts::user_by_username(&mut tx, &username).await?;
    drop(tx);
    let Some((user, hash)) = found else {
        // Spend the same time as a real check, so timing does not reveal which names exist.
        let _ = verify_password(&state, &body.password, DUMMY_HASH).await;
        return Err(wrong_credentials());
    };
    if user.disabled {
        return Err(wrong_credentials());
    }
    if let Some(until) = user.locked_until.filter(|u| *u > now_ms) {
        return Err(AppError::Locked(format!(
            "Tài khoản tạm khóa đến {} do nhập sai mật khẩu nhiều lần. Hãy chờ hoặc liên hệ quản trị hệ thống để mở khóa.",
            hhmm(until)
        )));
    }
    let actor = Actor {
        id: user.id.clone(),
        name: format!("{} ({})", user.display_name, user.username),
        ip: &ip,
    };
    if !verify_password(&state, &body.password, &hash).await? {
        let mut tx = state.db.begin_write().await?;
        let lock_ms = i64::try_from(state.config.lockout_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
        let (failures, locked) = accounts::record_login_failure(
            &mut tx,
            &user.id,
            i64::from(state.config.login_max_failures),
            lock_ms,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            &actor,
            Event {
                action: "auth.login_failed",
                object_type: "user",
                object_id: &user.id,
                province: user.province.as_deref(),
                before: None,
                after: Some(serde_json::json!({ "failed_logins": failures })),
            },
        )
        .await?;
        tx.commit().await?;
        if let Some(until) = locked.filter(|u| *u > now_ms) {
            tracing::warn!(user = %user.id, "account locked after repeated failures");
            return Err(AppError::Locked(format!(
                "Bạn đã nhập sai mật khẩu {failures} lần. Tài khoản tạm khóa đến {}; liên hệ quản trị hệ thống để mở khóa sớm hơn.",
                hhmm(until)
            )));
        }
        return Err(wrong_credentials());
    }
    let mut tx = state.db.begin_write().await?;
    accounts::record_login_success(&mut tx, &user.id).await?;
    let session = start_session(&state, &mut tx, &user.id, &ip, &headers, now_ms).await?;
    audit::record(
        &mut tx,
        &actor,
        Event {
            action: "auth.login",
            object_type: "user",
            object_id: &user.id,
            province: user.province.as_deref(),
            before: None,
            after: None,
        },
    )
    .await?;
    let grants = accounts::grants(&mut tx, &user.id).await?;
    tx.commit().await?;
    session_response(&state, StatusCode::OK, &user, grants, session)
}

/// A session just stored, not yet handed to the browser.
pub(crate) struct NewSession {
    token: String,
    csrf: String,
}

impl NewSession {
    /// The `Set-Cookie` value that hands this session to the browser, for answers that
    /// redirect instead of returning JSON (single sign-on).
    pub(crate) fn cookie(&self, state: &AppState) -> Result<axum::http::HeaderValue, AppError> {
        auth::session_cookie(state, &self.token)
    }
}

/// Stores a new session for `user_id` in `tx`, as login does. The caller writes its audit
/// record, commits, and then answers with [`session_response`]: every way of signing in
/// (password, confirmed registration) thus gives the same cookie and CSRF token.
pub(crate) async fn start_session(
    state: &AppState,
    tx: &mut Tx,
    user_id: &str,
    ip: &str,
    headers: &HeaderMap,
    now_ms: i64,
) -> Result<NewSession, AppError> {
    let token = random_token(32);
    let csrf = random_token(24);
    let max_ms = i64::try_from(state.config.session_max_hours.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
    accounts::create_session(
        tx,
        &Session {
            token_hash: secret_hash(&token),
            user_id: user_id.to_owned(),
            csrf_token: csrf.clone(),
            created_at: now_ms,
            last_seen_at: now_ms,
            expires_at: now_ms.saturating_add(max_ms),
            ip: ip.to_owned(),
            user_agent: auth::user_agent(headers),
        },
    )
    .await?;
    Ok(NewSession { token, csrf })
}

/// The answer that hands a committed session to the browser: the account with its CSRF
/// token in the body, the session in an `HttpOnly` cookie.
pub(crate) fn session_response(
    state: &AppState,
    status: StatusCode,
    user: &User,
    grants: Vec<Grant>,
    session: NewSession,
) -> Result<Response, AppError> {
    let mut response = (status, Json(me(user, grants, session.csrf))).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, auth::session_cookie(state, &session.token)?);
    Ok(response)
}

/// A valid argon2id hash of a random string, verified against when the username is
/// unknown so that both paths cost the same.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Yo2LWnKZ0lBzHPYGl8iN1mJ5dQ9bXb8rN0kKJ3lJ8A";

/// `POST /api/v1/auth/logout`: ends the session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204), (status = 403, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, MaybePrincipal(p): MaybePrincipal) -> Result<Response, AppError> {
    if let Some(p) = p
        && let Credential::Session { token_hash, .. } = &p.credential
    {
        let mut tx = state.db.begin_write().await?;
        accounts::delete_session(&mut tx, token_hash).await?;
        audit::record(
            &mut tx,
            &Actor::of(&p),
            Event {
                action: "auth.logout",
                object_type: "user",
                object_id: &p.actor(),
                province: p.user.as_ref().and_then(|u| u.province.as_deref()),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
    }
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, auth::clear_cookie(&state));
    Ok(response)
}

/// `GET /api/v1/auth/me`: the signed-in account.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
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
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<Response, AppError> {
    let (Some(user), Credential::Session { token_hash, .. }) = (&principal.user, &principal.credential) else {
        return Err(AppError::Forbidden(
            "Chỉ người dùng đã đăng nhập mới đổi được mật khẩu.".to_owned(),
        ));
    };
    let mut tx = state.db.begin_read().await?;
    let hash = accounts::password_hash(&mut tx, &user.id).await?.unwrap_or_default();
    drop(tx);
    if !verify_password(&state, &body.current_password, &hash).await? {
        return Err(AppError::bad(
            "wrong_password",
            "current_password",
            "Mật khẩu hiện tại không đúng.",
        ));
    }
    check_password_policy(&body.new_password, &user.username)?;
    if body.new_password == body.current_password {
        return Err(AppError::bad(
            "weak_password",
            "new_password",
            "Mật khẩu mới phải khác mật khẩu cũ.",
        ));
    }
    let new_hash = hash_password(&state, &body.new_password).await?;
    let mut tx = state.db.begin_write().await?;
    accounts::set_password(&mut tx, &user.id, &new_hash, false, OffsetDateTime::now_utc()).await?;
    // Other sessions may belong to whoever knew the old password: end them, keep this one.
    let current = accounts::session(&mut tx, token_hash).await?;
    accounts::delete_user_sessions(&mut tx, &user.id).await?;
    if let Some(s) = current {
        accounts::create_session(&mut tx, &s).await?;
    }
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "auth.password_change",
            object_type: "user",
            object_id: &user.id,
            province: user.province.as_deref(),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
