//! Accounts: signing in with a password, sessions, signing out and changing one's
//! password. The skins hand a session to the browser (a cookie) their own way.

use motcua_core::access::Grant;
use motcua_store::Tx;
use motcua_store::accounts::{self, Session, User};
use time::OffsetDateTime;

use crate::audit::{self, Actor, Event};
use crate::auth::{
    self, Credential, Principal, check_password_policy, hash_password, random_token, secret_hash, verify_password,
};
use crate::error::AppError;
use crate::state::AppState;

/// Someone just signed in: the account, its grants, and the session to hand over.
pub struct SignedIn {
    /// The account.
    pub user: User,
    /// Its grants.
    pub grants: Vec<Grant>,
    /// The session stored for it.
    pub session: NewSession,
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

/// Counts a login attempt (a password login, an SSO start) from `ip` against its
/// per-minute budget: 429 with the wait when it is used up.
pub fn count_login(state: &AppState, ip: &str) -> Result<(), AppError> {
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

/// Signs in with `username` and `password` from `ip` (browser `user_agent`): rate limit per
/// address, lock-out after repeated failures, the same time spent for unknown names, an
/// audit record either way.
pub async fn login(
    state: &AppState,
    ip: &str,
    user_agent: &str,
    username: &str,
    password: &str,
) -> Result<SignedIn, AppError> {
    count_login(state, ip)?;
    let username = motcua_core::text::nfc(username).to_lowercase();
    if username.is_empty() || username.chars().count() > 100 || password.chars().count() > auth::MAX_PASSWORD {
        return Err(wrong_credentials());
    }
    let now = OffsetDateTime::now_utc();
    let now_ms = auth::millis(now);
    let mut tx = state.db.begin_read().await?;
    let found = accounts::user_by_username(&mut tx, &username).await?;
    drop(tx);
    let Some((user, hash)) = found else {
        // Spend the same time as a real check, so timing does not reveal which names exist.
        let _ = verify_password(state, password, DUMMY_HASH).await;
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
        ip,
    };
    if !verify_password(state, password, &hash).await? {
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
    let session = start_session(state, &mut tx, &user.id, ip, user_agent, now_ms).await?;
    audit::record(&mut tx, &actor, Event::about_user("auth.login", &user)).await?;
    let grants = accounts::grants(&mut tx, &user.id).await?;
    tx.commit().await?;
    Ok(SignedIn { user, grants, session })
}

/// A session just stored, not yet handed to the browser.
pub struct NewSession {
    /// The session's secret, for the cookie only.
    pub token: String,
    /// The session's CSRF token.
    pub csrf: String,
}

impl NewSession {
    /// The `Set-Cookie` value that hands this session to the browser, for answers that
    /// redirect instead of returning JSON (single sign-on).
    pub fn cookie(&self, state: &AppState) -> Result<axum::http::HeaderValue, AppError> {
        auth::session_cookie(state, &self.token)
    }
}

/// Stores a new session for `user_id` in `tx`, as login does. The caller writes its audit
/// record, commits, and then hands the session to the browser (a skin's work): every way
/// of signing in (password, confirmed registration, single sign-on) thus gives the same
/// cookie and CSRF token.
pub async fn start_session(
    state: &AppState,
    tx: &mut Tx,
    user_id: &str,
    ip: &str,
    user_agent: &str,
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
            user_agent: user_agent.to_owned(),
        },
    )
    .await?;
    Ok(NewSession { token, csrf })
}

/// A valid argon2id hash of a random string, verified against when the username is
/// unknown so that both paths cost the same.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Yo2LWnKZ0lBzHPYGl8iN1mJ5dQ9bXb8rN0kKJ3lJ8A";

/// Ends the session `p` signed in with, if any (an API token has none to end).
pub async fn logout(state: &AppState, p: Option<&Principal>) -> Result<(), AppError> {
    if let Some(p) = p
        && let Credential::Session { token_hash, .. } = &p.credential
    {
        let mut tx = state.db.begin_write().await?;
        accounts::delete_session(&mut tx, token_hash).await?;
        audit::record(
            &mut tx,
            &Actor::of(p),
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
    Ok(())
}

/// Changes the password of the account signed in as `principal`; every other session of
/// the account ends.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current_password: &str,
    new_password: &str,
) -> Result<(), AppError> {
    let (Some(user), Credential::Session { token_hash, .. }) = (&principal.user, &principal.credential) else {
        return Err(AppError::Forbidden(
            "Chỉ người dùng đã đăng nhập mới đổi được mật khẩu.".to_owned(),
        ));
    };
    let mut tx = state.db.begin_read().await?;
    let hash = accounts::password_hash(&mut tx, &user.id).await?.unwrap_or_default();
    drop(tx);
    if !verify_password(state, current_password, &hash).await? {
        return Err(AppError::bad(
            "wrong_password",
            "current_password",
            "Mật khẩu hiện tại không đúng.",
        ));
    }
    check_password_policy(new_password, &user.username)?;
    if new_password == current_password {
        return Err(AppError::bad(
            "weak_password",
            "new_password",
            "Mật khẩu mới phải khác mật khẩu cũ.",
        ));
    }
    let new_hash = hash_password(state, new_password).await?;
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
        &Actor::of(principal),
        Event::about_user("auth.password_change", user),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
