//! Administration as the pages and the API use it: accounts with their roles, API
//! tokens, the audit trail.

use motcua_core::access::{Grant, Role, mask};
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_store::Tx;
use motcua_store::accounts::{self, ApiToken, NewUser, User, UserKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::trail::{province_event, record_and_commit};
use crate::audit::Event;
use crate::auth::{Credential, Principal, SCOPES, hash_password, random_id, random_token, secret_hash};
use crate::error::AppError;
use crate::state::AppState;

/// The province asked for (the default one when `requested` is `None`), once `principal`
/// is shown to administer it.
pub async fn administered_province(
    state: &AppState,
    principal: &Principal,
    requested: Option<&str>,
) -> Result<ProvinceCode, AppError> {
    let province = state.province(requested).await?;
    principal.require_admin(&province)?;
    Ok(province)
}

/// An account as administrators see it: personal data masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Account id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Full name.
    pub display_name: String,
    /// Email, masked.
    pub email: String,
    /// Phone, masked.
    pub phone: String,
    /// `staff` or `citizen`.
    pub kind: String,
    /// Whether a wrong-password streak has locked the account now.
    pub locked: bool,
    /// Must change the password at next login.
    pub must_change_password: bool,
    /// Roles.
    pub grants: Vec<Grant>,
}

/// How administrators see account `u`, holding `grants`.
pub fn view(u: &User, grants: Vec<Grant>) -> UserView {
    UserView {
        id: u.id.clone(),
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: mask(&u.email),
        phone: mask(&u.phone),
        kind: match u.kind {
            UserKind::Staff => "staff".to_owned(),
            UserKind::Citizen => "citizen".to_owned(),
        },
        locked: u.locked_until.is_some_and(|t| t > crate::now_ms()),
        must_change_password: u.must_change_password,
        grants,
    }
}

/// Accounts of a province.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// The accounts, by username.
    pub items: Vec<UserView>,
}

/// The accounts of the province asked for, with their roles (administrators).
pub async fn users(state: &AppState, principal: &Principal, province: Option<&str>) -> Result<UserList, AppError> {
    let province = administered_province(state, principal, province).await?;
    let mut tx = state.db.begin_read().await?;
    let users = accounts::list_users(&mut tx, Some(&province)).await?;
    let mut items = Vec::with_capacity(users.len());
    for u in &users {
        let grants = accounts::grants(&mut tx, &u.id).await?;
        items.push(view(u, grants));
    }
    Ok(UserList { items })
}

/// A role to grant at an agency.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The role.
    pub role: Role,
    /// Where it is held; the province itself when omitted.
    pub agency: Option<AgencyCode>,
}

impl GrantRequest {
    /// The grant asked for in `province`.
    fn in_province(&self, province: &ProvinceCode) -> Grant {
        Grant {
            role: self.role,
            province: province.clone(),
            agency: self.agency.clone().unwrap_or_else(|| province.as_agency().clone()),
        }
    }
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

fn check_display_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad(
            "invalid_field",
            "display_name",
            "Họ tên không được trống và không quá 200 ký tự.",
        ));
    }
    Ok(())
}

fn check_staff_grants(grants: &[GrantRequest]) -> Result<(), AppError> {
    if grants.iter().any(|g| g.role == Role::Citizen) {
        return Err(AppError::bad(
            "invalid_field",
            "grants",
            "Tài khoản cán bộ không mang vai trò công dân.",
        ));
    }
    Ok(())
}

/// Creates a staff account in the province asked for, with the roles `cmd` names and a
/// one-time password to change at first login (administrators).
pub async fn create_user(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    cmd: NewStaff,
) -> Result<CreatedUser, AppError> {
    let province = administered_province(state, principal, province).await?;
    let username = cmd.username.trim().to_lowercase();
    check_username(&username)?;
    let display_name = motcua_core::text::nfc(&cmd.display_name);
    check_display_name(&display_name)?;
    check_staff_grants(&cmd.grants)?;
    let password = random_token(12);
    let hash = hash_password(state, &password).await?;
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
            email: &motcua_core::text::nfc(&cmd.email),
            phone: &motcua_core::text::nfc(&cmd.phone),
            citizen_id: "",
            password_hash: &hash,
            must_change_password: true,
        },
        OffsetDateTime::now_utc(),
    )
    .await?;
    for g in &cmd.grants {
        accounts::add_grant(&mut tx, &id, &g.in_province(&province)).await?;
    }
    let grants = accounts::grants(&mut tx, &id).await?;
    let after = serde_json::json!({ "username": username, "display_name": display_name, "grants": grants });
    let event = Event {
        after: Some(after),
        ..province_event(&province, "user.create", "user", &id)
    };
    record_and_commit(tx, principal, event).await?;
    Ok(CreatedUser {
        user: view(&user, grants),
        one_time_password: password,
    })
}

/// The province asked for and its account `id`, once `principal` is shown to administer
/// the province.
async fn account_in_province(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    id: &str,
) -> Result<(ProvinceCode, User), AppError> {
    let province = administered_province(state, principal, province).await?;
    let mut tx = state.db.begin_read().await?;
    let user = accounts::user_by_id(&mut tx, id)
        .await?
        .filter(|u| u.province.as_deref() == Some(province.as_str()))
        .ok_or_else(|| AppError::NotFound(format!("Không có tài khoản {id} trong tỉnh này.")))?;
    Ok((province, user))
}

/// A new one-time password.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Give this to the person; it must be changed at next login.
    pub one_time_password: String,
}

/// Gives account `id` of the province asked for a new one-time password and ends its
/// sessions (administrators).
pub async fn reset_password(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    id: &str,
) -> Result<PasswordReset, AppError> {
    let (_, user) = account_in_province(state, principal, province, id).await?;
    let password = random_token(12);
    let hash = hash_password(state, &password).await?;
    let mut tx = state.db.begin_write().await?;
    accounts::set_password(&mut tx, &user.id, &hash, true, OffsetDateTime::now_utc()).await?;
    accounts::delete_user_sessions(&mut tx, &user.id).await?;
    record_and_commit(tx, principal, Event::about_user("user.reset_password", &user)).await?;
    Ok(PasswordReset {
        one_time_password: password,
    })
}

/// Lifts the wrong-password lock of account `id` of the province asked for (administrators).
pub async fn unlock(state: &AppState, principal: &Principal, province: Option<&str>, id: &str) -> Result<(), AppError> {
    let (_, user) = account_in_province(state, principal, province, id).await?;
    let mut tx = state.db.begin_write().await?;
    accounts::unlock(&mut tx, &user.id, OffsetDateTime::now_utc()).await?;
    record_and_commit(tx, principal, Event::about_user("user.unlock", &user)).await
}

/// The complete set of roles an account should hold in the province.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantSet {
    /// The roles; any other role the account holds in this province is withdrawn.
    pub grants: Vec<GrantRequest>,
}

/// Makes the roles of account `id` in the province asked for exactly those of `cmd`; its
/// roles in other provinces stay (administrators).
pub async fn set_grants(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    id: &str,
    cmd: GrantSet,
) -> Result<UserView, AppError> {
    let (province, user) = account_in_province(state, principal, province, id).await?;
    let wanted: Vec<Grant> = cmd.grants.iter().map(|g| g.in_province(&province)).collect();
    let mut tx = state.db.begin_write().await?;
    let before = accounts::grants(&mut tx, &user.id).await?;
    for g in before.iter().filter(|g| g.province == province && !wanted.contains(g)) {
        accounts::remove_grant(&mut tx, &user.id, g).await?;
    }
    for g in &wanted {
        accounts::add_grant(&mut tx, &user.id, g).await?;
    }
    let after = accounts::grants(&mut tx, &user.id).await?;
    let event = Event {
        before: Some(serde_json::json!(before)),
        after: Some(serde_json::json!(after)),
        ..province_event(&province, "user.grants", "user", &user.id)
    };
    record_and_commit(tx, principal, event).await?;
    Ok(view(&user, after))
}

/// Tokens, without secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first.
    pub items: Vec<TokenView>,
}

/// A token as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Creation instant (epoch ms).
    pub created_at: i64,
    /// Revocation instant (epoch ms), if revoked.
    pub revoked_at: Option<i64>,
    /// Last use (epoch ms).
    pub last_used_at: Option<i64>,
    /// When it stops working (epoch ms).
    pub expires_at: Option<i64>,
}

/// The API tokens of the province asked for, newest first (administrators).
pub async fn tokens(state: &AppState, principal: &Principal, province: Option<&str>) -> Result<TokenList, AppError> {
    let province = administered_province(state, principal, province).await?;
    let mut tx = state.db.begin_read().await?;
    let items = accounts::list_api_tokens(&mut tx)
        .await?
        .into_iter()
        .filter(|t| t.province_code.as_deref() == Some(province.as_str()))
        .map(|t| TokenView {
            id: t.id,
            name: t.name,
            scopes: t.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
        })
        .collect();
    Ok(TokenList { items })
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

fn check_token_name(name: &str) -> Result<(), AppError> {
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad(
            "invalid_field",
            "name",
            "Tên mã truy cập không được trống và không quá 200 ký tự.",
        ));
    }
    Ok(())
}

fn check_scopes(scopes: &[String]) -> Result<(), AppError> {
    if scopes.is_empty() {
        return Err(AppError::bad(
            "invalid_field",
            "scopes",
            "Cần ít nhất một phạm vi quyền.",
        ));
    }
    if let Some(bad) = scopes.iter().find(|s| !SCOPES.iter().any(|(n, _)| n == s)) {
        let known: Vec<&str> = SCOPES.iter().map(|(n, _)| *n).collect();
        return Err(AppError::bad(
            "invalid_field",
            "scopes",
            format!("Phạm vi «{bad}» không tồn tại (có: {}).", known.join(", ")),
        ));
    }
    Ok(())
}

/// The days a new token works: `requested`, or [`TOKEN_DAYS_DEFAULT`].
fn token_days(requested: Option<u32>) -> Result<u32, AppError> {
    let days = requested.unwrap_or(TOKEN_DAYS_DEFAULT);
    if !(1..=TOKEN_DAYS_MAX).contains(&days) {
        return Err(AppError::bad(
            "invalid_field",
            "expires_in_days",
            format!("Thời hạn của mã truy cập phải từ 1 đến {TOKEN_DAYS_MAX} ngày."),
        ));
    }
    Ok(days)
}

/// When a token `principal` makes at `now` for `days` stops working (epoch ms). A token
/// cannot outlive the token that made it (which stops it anyway when it goes).
async fn token_expiry(tx: &mut Tx, principal: &Principal, now: i64, days: u32) -> Result<i64, AppError> {
    let expires_at = now.saturating_add(i64::from(days) * 86_400_000);
    if let Credential::ApiToken { id, .. } = &principal.credential
        && let Some(maker_expires) = accounts::api_token_by_id(tx, id, now).await?.and_then(|t| t.expires_at)
    {
        return Ok(expires_at.min(maker_expires));
    }
    Ok(expires_at)
}

/// Creates an API token of the province asked for (administrators). The answer holds the
/// secret, which is not stored.
pub async fn create_token(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    cmd: NewToken,
) -> Result<CreatedToken, AppError> {
    let province = administered_province(state, principal, province).await?;
    let name = motcua_core::text::nfc(&cmd.name);
    check_token_name(&name)?;
    check_scopes(&cmd.scopes)?;
    let days = token_days(cmd.expires_in_days)?;
    let secret = format!("mc_{}", random_token(32));
    let now = crate::now_ms();
    let mut tx = state.db.begin_write().await?;
    let expires_at = token_expiry(&mut tx, principal, now, days).await?;
    let token = ApiToken {
        id: random_id(),
        name,
        scopes: cmd.scopes.join(" "),
        province_code: Some(province.to_string()),
        created_by: principal.actor(),
        created_at: now,
        revoked_at: None,
        last_used_at: None,
        expires_at: Some(expires_at),
    };
    accounts::create_api_token(&mut tx, &token, &secret_hash(&secret)).await?;
    let after = serde_json::json!({
        "name": token.name,
        "scopes": token.scopes,
        "expires_at": expires_at,
    });
    let event = Event {
        after: Some(after),
        ..province_event(&province, "token.create", "api_token", &token.id)
    };
    record_and_commit(tx, principal, event).await?;
    Ok(CreatedToken {
        id: token.id,
        token: secret,
        name: token.name,
        scopes: cmd.scopes,
        expires_at,
    })
}

/// Revokes API token `id` of the province asked for at once (administrators).
pub async fn revoke_token(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    id: &str,
) -> Result<(), AppError> {
    let province = administered_province(state, principal, province).await?;
    let mut tx = state.db.begin_write().await?;
    let belongs = accounts::list_api_tokens(&mut tx)
        .await?
        .iter()
        .any(|t| t.id == id && t.province_code.as_deref() == Some(province.as_str()));
    if !belongs || !accounts::revoke_api_token(&mut tx, id, OffsetDateTime::now_utc()).await? {
        return Err(AppError::NotFound(format!("Không có mã truy cập {id} đang hiệu lực.")));
    }
    record_and_commit(
        tx,
        principal,
        province_event(&province, "token.revoke", "api_token", id),
    )
    .await
}

/// Filters of the audit trail.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// Only this actor (account id or `token:<id>`).
    pub actor: Option<String>,
    /// Only this action, e.g. `procedure.update`.
    pub action: Option<String>,
    /// Only this kind of object, e.g. `procedure`.
    pub object_type: Option<String>,
    /// Only this object.
    pub object_id: Option<String>,
    /// From this instant (RFC 3339, inclusive).
    pub from: Option<String>,
    /// Up to this instant (RFC 3339, exclusive).
    pub to: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One page of the audit trail, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Records.
    pub items: Vec<motcua_core::audit::AuditEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn instant_ms(field: &str, value: Option<&str>) -> Result<Option<i64>, AppError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                .map(motcua_store::to_millis)
                .map_err(|_| {
                    AppError::bad(
                        "invalid_parameter",
                        field,
                        "Thời điểm phải theo RFC 3339, ví dụ 2026-01-31T08:00:00+07:00.",
                    )
                })
        })
        .transpose()
}

/// The audit trail of a province, filtered, newest first, a page at a time.
pub async fn audit_trail(state: &AppState, principal: &Principal, p: AuditParams) -> Result<AuditPage, AppError> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use motcua_store::audit::{AuditCursor, AuditFilter, MAX_LIST_LIMIT};

    let province = state.province(p.province.as_deref()).await?;
    principal.require(
        principal.access.can_read_audit(&province),
        "xem nhật ký hệ thống của tỉnh này",
    )?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_LIST_LIMIT).contains(&limit) {
        return Err(AppError::bad(
            "invalid_parameter",
            "limit",
            format!("«limit» phải từ 1 đến {MAX_LIST_LIMIT}."),
        ));
    }
    let after = p
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.parse::<AuditCursor>().ok())
                .ok_or_else(|| AppError::bad("invalid_cursor", "cursor", "Con trỏ phân trang không hợp lệ."))
        })
        .transpose()?;
    let filter = AuditFilter {
        chain: None,
        actor: p.actor.filter(|v| !v.is_empty()),
        action: p.action.filter(|v| !v.is_empty()),
        object_type: p.object_type.filter(|v| !v.is_empty()),
        object_id: p.object_id.filter(|v| !v.is_empty()),
        province_code: Some(province.to_string()),
        from_ms: instant_ms("from", p.from.as_deref())?,
        to_ms: instant_ms("to", p.to.as_deref())?,
        after,
        // One more than asked tells whether a next page exists.
        limit: limit + 1,
    };
    let mut tx = state.db.begin_read().await?;
    let mut items = motcua_store::audit::list(&mut tx, &filter).await?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|e| URL_SAFE_NO_PAD.encode(AuditCursor::after(e).to_string()))
    } else {
        None
    };
    Ok(AuditPage { items, next_cursor })
}
