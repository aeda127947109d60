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
/// per-minute budget (the deployment's; an IPv6 client by its /64): 429 with the wait
/// when it is used up.
pub async fn count_login(state: &AppState, ip: &str) -> Result<(), AppError> {
    state
        .login_limiter
        .count(&state.db, ip, crate::now_ms())
        .await?
        .map_err(|wait| {
            AppError::too_many(
                format!(
                    "Quá nhiều lần đăng nhập từ địa chỉ này. Vui lòng thử lại sau {} giây.",
                    wait.as_secs().max(1)
                ),
                wait,
            )
        })
}

/// How long failed logins are remembered: a failure after this long without another (or
/// any change to the account) counts as the first again, for accounts and unknown names
/// alike. At least the lock-out itself.
const FAILURES_REMEMBERED_MS: i64 = 24 * 3_600_000;

/// The lock-out's answer while an account (or an unknown name) is locked until `until`.
fn locked(until: i64) -> AppError {
    AppError::Locked(format!(
        "Tài khoản tạm khóa đến {} do nhập sai mật khẩu nhiều lần. Hãy chờ hoặc liên hệ quản trị hệ thống để mở khóa.",
        hhmm(until)
    ))
}

/// The answer to a failed login that was counted: `failures` so far, and the lock it
/// set, if any.
fn failed(failures: i64, lock: Option<i64>, now_ms: i64) -> AppError {
    match lock.filter(|u| *u > now_ms) {
        Some(until) => AppError::Locked(format!(
            "Bạn đã nhập sai mật khẩu {failures} lần. Tài khoản tạm khóa đến {}; liên hệ quản trị hệ thống để mở khóa sớm hơn.",
            hhmm(until)
        )),
        None => wrong_credentials(),
    }
}

/// Signs in with `username` and `password` from `ip` (browser `user_agent`): rate limit per
/// address, lock-out after repeated failures, an audit record either way.
///
/// Every answer but success is one an unknown name could get too: an unknown name spends
/// a password check on a dummy hash and is counted and locked like an account
/// (`unknown_login_failures`); a disabled account is checked, counted and locked like an
/// enabled one and never signs in. The lock is read before the (slow) password check and
/// decided again, atomically, by the write that lets a right password in
/// (`record_login_success`): a right password that arrives while guesses sent with it lock
/// the account is counted as one more failure and answered as a wrong one would be.
pub async fn login(
    state: &AppState,
    ip: &str,
    user_agent: &str,
    username: &str,
    password: &str,
) -> Result<SignedIn, AppError> {
    count_login(state, ip).await?;
    let username = motcua_core::text::nfc(username).to_lowercase();
    if username.is_empty()
        || username.chars().count() > 100
        || username.chars().any(char::is_control)
        || password.chars().count() > auth::MAX_PASSWORD
    {
        // No account has such a name (nor a control character in it: PostgreSQL cannot
        // even store a NUL to count it), so this tells nothing.
        return Err(wrong_credentials());
    }
    let now = OffsetDateTime::now_utc();
    let now_ms = auth::millis(now);
    let mut tx = state.db.begin_read().await?;
    let found = accounts::user_by_username(&mut tx, &username).await?;
    let unknown_lock = match found {
        None => accounts::unknown_login_lock(&mut tx, &username).await?,
        Some(_) => None,
    };
    drop(tx);
    let Some((user, hash)) = found else {
        if let Some(until) = unknown_lock.filter(|u| *u > now_ms) {
            return Err(locked(until));
        }
        // Spend the same time as a real check, so timing does not reveal which names exist.
        let _ = verify_password(state, password, DUMMY_HASH).await;
        let mut tx = state.db.begin_write().await?;
        let (failures, lock) =
            accounts::record_unknown_login_failure(&mut tx, &username, lock_policy(state, now_ms), now).await?;
        tx.commit().await?;
        return Err(failed(failures, lock, now_ms));
    };
    if let Some(until) = user.locked_until.filter(|u| *u > now_ms) {
        return Err(locked(until));
    }
    let actor = Actor {
        id: user.id.clone(),
        name: format!("{} ({})", user.display_name, user.username),
        ip,
    };
    // A disabled account's password is checked too: the answer must take as long.
    if verify_password(state, password, &hash).await? && !user.disabled {
        let mut tx = state.db.begin_write().await?;
        if accounts::record_login_success(&mut tx, &user.id, now).await? {
            let session = start_session(state, &mut tx, &user.id, ip, user_agent, now_ms).await?;
            audit::record(&mut tx, &actor, Event::about_user("auth.login", &user)).await?;
            let grants = accounts::grants(&mut tx, &user.id).await?;
            tx.commit().await?;
            return Ok(SignedIn { user, grants, session });
        }
        // Locked while the password was being checked: nothing of this transaction stays,
        // and the attempt is answered as a wrong password would be now, so that the answer
        // does not tell that the password was right.
        drop(tx);
        tracing::warn!(user = %user.id, "a right password arrived after the account was locked");
    }
    let mut tx = state.db.begin_write().await?;
    let (failures, lock) = accounts::record_login_failure(&mut tx, &user.id, lock_policy(state, now_ms), now).await?;
    let mut after = serde_json::json!({ "failed_logins": failures });
    if user.disabled {
        after["disabled"] = serde_json::Value::Bool(true);
    }
    audit::record(
        &mut tx,
        &actor,
        Event {
            action: "auth.login_failed",
            object_type: "user",
            object_id: &user.id,
            province: user.province.as_deref(),
            before: None,
            after: Some(after),
        },
    )
    .await?;
    tx.commit().await?;
    if lock.is_some_and(|u| u > now_ms) {
        tracing::warn!(user = %user.id, "account locked after repeated failures");
    }
    Err(failed(failures, lock, now_ms))
}

/// How long a lock-out lasts, in milliseconds.
fn lock_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.lockout_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX)
}

/// How long failed logins are remembered, in milliseconds: [`FAILURES_REMEMBERED_MS`], or
/// the lock-out if that is longer.
fn remembered_ms(state: &AppState) -> i64 {
    FAILURES_REMEMBERED_MS.max(lock_ms(state))
}

/// The configured lock-out at `now_ms`.
fn lock_policy(state: &AppState, now_ms: i64) -> accounts::LockPolicy {
    accounts::LockPolicy {
        max_failures: i64::from(state.config.login_max_failures),
        lock_ms: lock_ms(state),
        forget_before: now_ms.saturating_sub(remembered_ms(state)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHash;

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        // An unknown name is checked against DUMMY_HASH: were it unparsable, or cheaper
        // than the hashes accounts have, the answer's time would tell the names apart.
        let dummy = PasswordHash::new(DUMMY_HASH).expect("a valid PHC string");
        let real = auth::hash_password_now("một mật khẩu bất kỳ").expect("hash");
        let real = PasswordHash::new(&real).expect("a real hash");
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
    }
}
