//! Administration as the pages and the API read it: accounts with their roles, API
//! tokens, the audit trail.

use motcua_core::access::{Grant, mask};
use motcua_store::accounts::{self, User, UserKind};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

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
    let province = state.province(province).await?;
    principal.require_admin(&province)?;
    let mut tx = state.db.begin_read().await?;
    let users = accounts::list_users(&mut tx, Some(&province)).await?;
    let mut items = Vec::with_capacity(users.len());
    for u in &users {
        let grants = accounts::grants(&mut tx, &u.id).await?;
        items.push(view(u, grants));
    }
    Ok(UserList { items })
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
    let province = state.province(province).await?;
    principal.require_admin(&province)?;
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
