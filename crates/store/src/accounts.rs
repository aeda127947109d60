//! Accounts repository: users, role grants, sessions and API tokens.
//! Secrets never reach this module in clear: it stores and compares hashes only.

use motcua_core::access::{Grant, Role};
use motcua_core::codes::{AgencyCode, ProvinceCode};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Arg, Result, StoreError, Tx, exec, execute, on, to_millis};

/// Staff or citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    /// Staff of the centre or a department.
    Staff,
    /// A citizen or business representative.
    Citizen,
}

impl UserKind {
    fn as_str(self) -> &'static str {
        match self {
            UserKind::Staff => "staff",
            UserKind::Citizen => "citizen",
        }
    }
}

/// An account as stored (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Random identifier.
    pub id: String,
    /// Home province (staff); `None` for citizens, who may file anywhere.
    pub province: Option<String>,
    /// Staff or citizen.
    pub kind: UserKind,
    /// Login name.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Email address, may be empty.
    pub email: String,
    /// Phone number, may be empty.
    pub phone: String,
    /// Citizen ID (CCCD), may be empty.
    pub citizen_id: String,
    /// The password must be changed before anything else.
    pub must_change_password: bool,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// Locked until this instant (epoch ms), if locked.
    pub locked_until: Option<i64>,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// Creation instant (epoch ms).
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    province_code: Option<String>,
    kind: String,
    username: String,
    display_name: String,
    email: String,
    phone: String,
    citizen_id: String,
    password_hash: String,
    must_change_password: bool,
    failed_logins: i64,
    locked_until: Option<i64>,
    disabled: bool,
    created_at: i64,
}

impl UserRow {
    fn split(self) -> (User, String) {
        (
            User {
                id: self.id,
                province: self.province_code,
                kind: if self.kind == "citizen" {
                    UserKind::Citizen
                } else {
                    UserKind::Staff
                },
                username: self.username,
                display_name: self.display_name,
                email: self.email,
                phone: self.phone,
                citizen_id: self.citizen_id,
                must_change_password: self.must_change_password,
                failed_logins: self.failed_logins,
                locked_until: self.locked_until,
                disabled: self.disabled,
                created_at: self.created_at,
            },
            self.password_hash,
        )
    }
}

const USER_COLUMNS: &str = "id, province_code, kind, username, display_name, email, phone, citizen_id, password_hash, \
     must_change_password, failed_logins, locked_until, disabled, created_at";

/// What it takes to create an account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Random identifier chosen by the caller.
    pub id: &'a str,
    /// Home province.
    pub province: Option<&'a ProvinceCode>,
    /// Staff or citizen.
    pub kind: UserKind,
    /// Login name (unique).
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Email.
    pub email: &'a str,
    /// Phone.
    pub phone: &'a str,
    /// Citizen ID.
    pub citizen_id: &'a str,
    /// Argon2 hash of the password (PHC string).
    pub password_hash: &'a str,
    /// Whether the password must be changed at first login.
    pub must_change_password: bool,
}

/// Number of accounts.
pub async fn count_users(tx: &mut Tx) -> Result<i64> {
    Ok(on!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(c)
        .await)?)
}

/// Number of staff accounts.
pub async fn count_staff(tx: &mut Tx) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE kind = 'staff'")
            .fetch_one(c)
            .await
    })?)
}

/// Creates an account. A taken username is a conflict.
pub async fn create_user(tx: &mut Tx, u: &NewUser<'_>, now: OffsetDateTime) -> Result<User> {
    if user_by_username(tx, u.username).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "tên đăng nhập «{}» đã được dùng",
            u.username
        )));
    }
    let now = to_millis(now);
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO users (id, province_code, kind, username, display_name, email, phone, citizen_id,
                password_hash, must_change_password, failed_logins, locked_until, disabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, NULL, FALSE, $11, $11)",
        )
        .bind(u.id)
        .bind(u.province.map(ProvinceCode::as_str))
        .bind(u.kind.as_str())
        .bind(u.username)
        .bind(u.display_name)
        .bind(u.email)
        .bind(u.phone)
        .bind(u.citizen_id)
        .bind(u.password_hash)
        .bind(u.must_change_password)
        .bind(now)
        .execute(c)
        .await
    })?;
    user_by_id(tx, u.id).await?.ok_or_else(|| no_account(u.id))
}

/// The error for account `id`, which does not exist.
fn no_account(id: &str) -> StoreError {
    StoreError::NotFound(format!("tài khoản {id}"))
}

/// What an update of account `id` that changed `n` rows means: done, or no such account.
fn changed(n: u64, id: &str) -> Result<()> {
    if n == 0 {
        return Err(no_account(id));
    }
    Ok(())
}

/// Finds an account by login name, with its password hash.
pub async fn user_by_username(tx: &mut Tx, username: &str) -> Result<Option<(User, String)>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let row: Option<UserRow> = on!(tx, |c| sqlx::query_as(&sql).bind(username).fetch_optional(c).await)?;
    Ok(row.map(UserRow::split))
}

/// Finds an account by id.
pub async fn user_by_id(tx: &mut Tx, id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    Ok(row.map(|r| r.split().0))
}

/// The password hash of an account.
pub async fn password_hash(tx: &mut Tx, id: &str) -> Result<Option<String>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await
    })?)
}

/// Lists the accounts of a province (all accounts when `None`), by username.
pub async fn list_users(tx: &mut Tx, province: Option<&ProvinceCode>) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE $1 IS NULL OR province_code = $1 ORDER BY username LIMIT 10000"
    );
    let rows: Vec<UserRow> = on!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(province.map(ProvinceCode::as_str))
            .fetch_all(c)
            .await
    })?;
    Ok(rows.into_iter().map(|r| r.split().0).collect())
}

/// Replaces the password hash; `must_change` forces a change at next login (admin reset).
pub async fn set_password(tx: &mut Tx, id: &str, hash: &str, must_change: bool, now: OffsetDateTime) -> Result<()> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE users SET password_hash = $2, must_change_password = $3, failed_logins = 0, locked_until = NULL,
                updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(hash)
        .bind(must_change)
        .bind(to_millis(now))
        .execute(c)
        .await
    })?;
    changed(n, id)
}

/// How failed logins lock a name: after `max_failures` consecutive failures, for
/// `lock_ms`; a failure when nothing changed since `forget_before` (epoch ms) counts as
/// the first again.
#[derive(Debug, Clone, Copy)]
pub struct LockPolicy {
    /// Failures in a row that lock.
    pub max_failures: i64,
    /// How long a lock lasts, in ms.
    pub lock_ms: i64,
    /// Failures older than this (epoch ms) are forgotten.
    pub forget_before: i64,
}

/// Counts a failed login of account `id` under policy `p`. Returns the failure count and the
/// lock end, if locked.
pub async fn record_login_failure(
    tx: &mut Tx,
    id: &str,
    p: LockPolicy,
    at: OffsetDateTime,
) -> Result<(i64, Option<i64>)> {
    let now = to_millis(at);
    // Every right-hand side reads the row as it was, so the count is computed once.
    let row: (i64, Option<i64>) = on!(tx, |c| {
        sqlx::query_as(
            "UPDATE users SET
                failed_logins = CASE WHEN updated_at < $5 THEN 1 ELSE failed_logins + 1 END,
                locked_until = CASE WHEN (CASE WHEN updated_at < $5 THEN 1 ELSE failed_logins + 1 END) >= $2
                    THEN $3 ELSE locked_until END,
                updated_at = $4
             WHERE id = $1
             RETURNING failed_logins, locked_until",
        )
        .bind(id)
        .bind(p.max_failures)
        .bind(now + p.lock_ms)
        .bind(now)
        .bind(p.forget_before)
        .fetch_one(c)
        .await
    })?;
    Ok(row)
}

/// Clears the failure count after a successful password check, unless the account is
/// locked at `now`: a lock set by failures that were counted while this login's password
/// was being checked. Returns whether the login may go on; decided by the one conditional
/// `UPDATE`, so a lock and a success cannot both win.
pub async fn record_login_success(tx: &mut Tx, id: &str, now: OffsetDateTime) -> Result<bool> {
    let sql = "UPDATE users SET failed_logins = 0, locked_until = NULL
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)";
    Ok(execute(tx, sql, &[Arg::Text(id), Arg::Int(to_millis(now))]).await? > 0)
}

/// The end of the lock on a login name that belongs to no account, if one was set
/// (see [`record_unknown_login_failure`]).
pub async fn unknown_login_lock(tx: &mut Tx, username: &str) -> Result<Option<i64>> {
    let row: Option<Option<i64>> = on!(tx, |c| {
        sqlx::query_scalar("SELECT locked_until FROM unknown_login_failures WHERE username = $1")
            .bind(username)
            .fetch_optional(c)
            .await
    })?;
    Ok(row.flatten())
}

/// Counts a failed login under `name`, a login name that belongs to no account, exactly as
/// [`record_login_failure`] counts one for an account. Names not tried since the policy's
/// `forget_before` are forgotten. Returns the failure count and the lock end.
pub async fn record_unknown_login_failure(
    tx: &mut Tx,
    name: &str,
    p: LockPolicy,
    at: OffsetDateTime,
) -> Result<(i64, Option<i64>)> {
    let now = to_millis(at);
    exec!(tx, |c| {
        sqlx::query("DELETE FROM unknown_login_failures WHERE updated_at < $1")
            .bind(p.forget_before)
            .execute(c)
            .await
    })?;
    let row: (i64, Option<i64>) = on!(tx, |c| {
        sqlx::query_as(
            "INSERT INTO unknown_login_failures (username, failed_logins, locked_until, updated_at)
             VALUES ($1, 1, CASE WHEN 1 >= $2 THEN $3 ELSE NULL END, $4)
             ON CONFLICT (username) DO UPDATE SET
                failed_logins = unknown_login_failures.failed_logins + 1,
                locked_until = CASE WHEN unknown_login_failures.failed_logins + 1 >= $2
                    THEN $3 ELSE unknown_login_failures.locked_until END,
                updated_at = $4
             RETURNING failed_logins, locked_until",
        )
        .bind(name)
        .bind(p.max_failures)
        .bind(now + p.lock_ms)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    Ok(row)
}

/// Unlocks an account (administrator).
pub async fn unlock(tx: &mut Tx, id: &str, now: OffsetDateTime) -> Result<()> {
    let sql = "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $1";
    changed(execute(tx, sql, &[Arg::Text(id), Arg::Int(to_millis(now))]).await?, id)
}

/// The grants of an account.
pub async fn grants(tx: &mut Tx, user_id: &str) -> Result<Vec<Grant>> {
    let rows: Vec<(String, String, String)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT role, province_code, agency_code FROM role_grants WHERE user_id = $1 ORDER BY role, agency_code",
        )
        .bind(user_id)
        .fetch_all(c)
        .await
    })?;
    rows.into_iter()
        .map(|(role, province, agency)| {
            Ok(Grant {
                role: Role::parse(&role).ok_or_else(|| StoreError::Io(format!("stored role «{role}» is unknown")))?,
                province: ProvinceCode::parse(&province).map_err(|e| StoreError::Io(e.to_string()))?,
                agency: AgencyCode::parse(&agency).map_err(|e| StoreError::Io(e.to_string()))?,
            })
        })
        .collect()
}

/// Grants a role at an agency (idempotent). The agency must exist in the province, or be
/// the province itself.
pub async fn add_grant(tx: &mut Tx, user_id: &str, g: &Grant) -> Result<()> {
    if g.agency != *g.province.as_agency() {
        let n: i64 = on!(tx, |c| {
            sqlx::query_scalar("SELECT COUNT(*) FROM agencies WHERE province_code = $1 AND code = $2")
                .bind(g.province.as_str())
                .bind(g.agency.as_str())
                .fetch_one(c)
                .await
        })?;
        if n == 0 {
            return Err(motcua_core::catalogue::Invalid::new(
                "agency",
                format!("không có cơ quan {} trong danh mục", g.agency),
            )
            .into());
        }
    }
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO role_grants (user_id, role, province_code, agency_code) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id, role, agency_code) DO NOTHING",
        )
        .bind(user_id)
        .bind(g.role.as_str())
        .bind(g.province.as_str())
        .bind(g.agency.as_str())
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Withdraws a role.
pub async fn remove_grant(tx: &mut Tx, user_id: &str, g: &Grant) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND role = $2 AND agency_code = $3")
            .bind(user_id)
            .bind(g.role.as_str())
            .bind(g.agency.as_str())
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// A browser session as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    /// SHA-256 (hex) of the cookie value.
    pub token_hash: String,
    /// Whose session.
    pub user_id: String,
    /// The CSRF token bound to this session.
    pub csrf_token: String,
    /// Login instant (epoch ms).
    pub created_at: i64,
    /// Last request (epoch ms, updated at most once a minute).
    pub last_seen_at: i64,
    /// Absolute expiry (epoch ms).
    pub expires_at: i64,
    /// Address at login.
    pub ip: String,
    /// Browser at login.
    pub user_agent: String,
}

/// Stores a new session.
pub async fn create_session(tx: &mut Tx, s: &Session) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.token_hash)
        .bind(&s.user_id)
        .bind(&s.csrf_token)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .bind(s.expires_at)
        .bind(&s.ip)
        .bind(&s.user_agent)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Finds a session by the hash of its cookie.
pub async fn session(tx: &mut Tx, token_hash: &str) -> Result<Option<Session>> {
    Ok(on!(tx, |c| {
        sqlx::query_as(
            "SELECT token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent
             FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(c)
        .await
    })?)
}

/// Records activity on a session.
pub async fn touch_session(tx: &mut Tx, token_hash: &str, now_ms: i64) -> Result<()> {
    let sql = "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1";
    execute(tx, sql, &[Arg::Text(token_hash), Arg::Int(now_ms)]).await?;
    Ok(())
}

/// Ends a session.
pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> Result<()> {
    let sql = "DELETE FROM sessions WHERE token_hash = $1";
    execute(tx, sql, &[Arg::Text(token_hash)]).await?;
    Ok(())
}

/// Ends every session of an account (password change or reset).
pub async fn delete_user_sessions(tx: &mut Tx, user_id: &str) -> Result<u64> {
    execute(tx, "DELETE FROM sessions WHERE user_id = $1", &[Arg::Text(user_id)]).await
}

/// Removes sessions past their absolute expiry or idle for longer than `idle_ms`.
pub async fn purge_sessions(tx: &mut Tx, now_ms: i64, idle_ms: i64) -> Result<u64> {
    Ok(exec!(tx, |c| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(now_ms)
            .bind(now_ms - idle_ms)
            .execute(c)
            .await
    })?)
}

/// An API token as stored (without its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    /// Identifier (not secret).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// The province it acts in.
    pub province_code: Option<String>,
    /// The administrator who created it.
    pub created_by: String,
    /// Creation (epoch ms).
    pub created_at: i64,
    /// Revocation (epoch ms), if revoked.
    pub revoked_at: Option<i64>,
    /// Last use (epoch ms).
    pub last_used_at: Option<i64>,
    /// When it stops working (epoch ms). `None` only for a token stored without one by
    /// something other than the administration API (which always sets it).
    pub expires_at: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "id, name, scopes, province_code, created_by, created_at, revoked_at, last_used_at, expires_at";

/// Stores a new API token (its hash only), which stops working at its `expires_at`.
pub async fn create_api_token(tx: &mut Tx, t: &ApiToken, token_hash: &str) -> Result<()> {
    insert_api_token(tx, t, token_hash, t.expires_at).await
}

async fn insert_api_token(tx: &mut Tx, t: &ApiToken, token_hash: &str, expires_at: Option<i64>) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO api_tokens (id, token_hash, name, scopes, province_code, created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(token_hash)
        .bind(&t.name)
        .bind(&t.scopes)
        .bind(&t.province_code)
        .bind(&t.created_by)
        .bind(t.created_at)
        .bind(expires_at)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Finds a live token by its hash: not revoked and not expired at `now_ms`. Whether its
/// maker may still stand behind it is the caller's question ([`api_token_by_id`],
/// [`user_by_id`]).
pub async fn api_token_by_hash(tx: &mut Tx, token_hash: &str, now_ms: i64) -> Result<Option<ApiToken>> {
    live_api_token(tx, "token_hash", token_hash, now_ms).await
}

/// Finds a live token by its id (the token that made another): not revoked and not
/// expired at `now_ms`.
pub async fn api_token_by_id(tx: &mut Tx, id: &str, now_ms: i64) -> Result<Option<ApiToken>> {
    live_api_token(tx, "id", id, now_ms).await
}

/// The token whose `column` (a unique one) is `value`, if it is live at `now_ms`.
async fn live_api_token(tx: &mut Tx, column: &str, value: &str, now_ms: i64) -> Result<Option<ApiToken>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens
         WHERE {column} = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
    );
    Ok(on!(tx, |c| sqlx::query_as(&sql)
        .bind(value)
        .bind(now_ms)
        .fetch_optional(c)
        .await)?)
}

/// Lists tokens, newest first.
pub async fn list_api_tokens(tx: &mut Tx) -> Result<Vec<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id");
    Ok(on!(tx, |c| sqlx::query_as(&sql).fetch_all(c).await)?)
}

/// Revokes a token. Returns false if there was no live token with that id.
pub async fn revoke_api_token(tx: &mut Tx, id: &str, now: OffsetDateTime) -> Result<bool> {
    let sql = "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
    Ok(execute(tx, sql, &[Arg::Text(id), Arg::Int(to_millis(now))]).await? > 0)
}

/// Records a token's use (at most once a minute is enough; the caller decides).
pub async fn touch_api_token(tx: &mut Tx, id: &str, now_ms: i64) -> Result<()> {
    let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
    execute(tx, sql, &[Arg::Text(id), Arg::Int(now_ms)]).await?;
    Ok(())
}

/// The staff of a department: the enabled accounts holding one of `roles` at `agency` of
/// `province`, by name, each with the roles (among `roles`) they hold there.
pub async fn staff_at(
    tx: &mut Tx,
    province: &ProvinceCode,
    agency: &AgencyCode,
    roles: &[Role],
) -> Result<Vec<(User, Vec<Role>)>> {
    let grants: Vec<(String, String)> = on!(tx, |c| {
        sqlx::query_as("SELECT user_id, role FROM role_grants WHERE province_code = $1 AND agency_code = $2")
            .bind(province.as_str())
            .bind(agency.as_str())
            .fetch_all(c)
            .await
    })?;
    let mut held: std::collections::BTreeMap<String, Vec<Role>> = std::collections::BTreeMap::new();
    for (user, role) in grants {
        if let Some(r) = Role::parse(&role).filter(|r| roles.contains(r)) {
            held.entry(user).or_default().push(r);
        }
    }
    let mut out = Vec::with_capacity(held.len());
    for (id, roles) in held {
        if let Some(u) = user_by_id(tx, &id).await?.filter(|u| !u.disabled) {
            out.push((u, roles));
        }
    }
    out.sort_by(|a, b| a.0.display_name.cmp(&b.0.display_name));
    Ok(out)
}
