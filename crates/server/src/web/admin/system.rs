//! System administration: accounts and roles, API tokens, the working-day calendar and
//! the audit trail. Lists come from the API's own handlers (same checks, same masking).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use motcua_core::access::Role;
use serde::Deserialize;
use time::{Date, Duration, Month, Weekday};

use super::{Admin, Choice};
use crate::service::admin::{self as admin_service, AuditParams};
use crate::state::AppState;
use crate::web::pages::PageError;
use crate::web::{Frame, SignedIn, encode, filters, page, when_ms};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/quan-tri/nguoi-dung", get(users))
        .route("/quan-tri/nguoi-dung/{id}", get(user))
        .route("/quan-tri/ma-truy-cap", get(tokens))
        .route("/quan-tri/lich", get(calendar))
        .route("/quan-tri/nhat-ky", get(audit))
}

/// Agencies of the province as select choices (tree order is not needed here: by name),
/// with their names by code.
async fn agencies(a: &Admin) -> Result<(Vec<Choice>, HashMap<String, String>), PageError> {
    let mut tx = a.state.db.begin_read().await?;
    let list = motcua_store::catalogue::agencies(&mut tx, &a.province).await?;
    let names = list.iter().map(|x| (x.code.to_string(), x.name.clone())).collect();
    let choices = list
        .into_iter()
        .filter(|x| x.code != *a.province.as_agency())
        .map(|x| Choice::new(x.code.to_string(), x.name))
        .collect();
    Ok((choices, names))
}

/// Staff roles (a citizen's role is never granted here).
fn role_choices() -> Vec<Choice> {
    Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Citizen)
        .map(|r| Choice::new(r.as_str(), r.label()))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Users

#[derive(Debug, Default, Deserialize)]
struct UserQuery {
    q: Option<String>,
}

struct GrantRow {
    i: usize,
    role: String,
    agency: String,
}

struct UserRow {
    id: String,
    username: String,
    name: String,
    contact: String,
    staff: bool,
    locked: bool,
    must_change: bool,
    roles: Vec<String>,
    grants: Vec<GrantRow>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    frame: Frame,
    q: String,
    users: Vec<UserRow>,
    roles: Vec<Choice>,
    agencies: Vec<Choice>,
}

fn user_row(
    u: admin_service::UserView,
    province: &motcua_core::codes::ProvinceCode,
    names: &HashMap<String, String>,
) -> UserRow {
    let province_agency = province.as_agency().to_string();
    let mut grants: Vec<GrantRow> = u
        .grants
        .iter()
        .filter(|g| g.province == *province)
        .enumerate()
        .map(|(i, g)| GrantRow {
            i,
            role: g.role.as_str().to_owned(),
            agency: if g.agency.to_string() == province_agency {
                String::new()
            } else {
                g.agency.to_string()
            },
        })
        .collect();
    let n = grants.len();
    grants.extend((n..n + 2).map(|i| GrantRow {
        i,
        role: String::new(),
        agency: String::new(),
    }));
    UserRow {
        roles: u
            .grants
            .iter()
            .map(|g| {
                let at = names
                    .get(g.agency.as_str())
                    .cloned()
                    .unwrap_or_else(|| g.agency.to_string());
                format!("{} — {at}", g.role.label())
            })
            .collect(),
        contact: [u.email.as_str(), u.phone.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
        staff: u.kind == "staff",
        locked: u.locked,
        must_change: u.must_change_password,
        id: u.id,
        username: u.username,
        name: u.display_name,
        grants,
    }
}

/// `GET /quan-tri/nguoi-dung`: accounts with their roles; the form creating one.
async fn users(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<UserQuery>,
) -> Result<Response, PageError> {
    let a = Admin::system(state, p).await?;
    let list = admin_service::users(&a.state, &a.principal, None).await?;
    let (agency_choices, names) = agencies(&a).await?;
    let needle = q.q.as_deref().unwrap_or_default().trim().to_lowercase();
    let users = list
        .items
        .into_iter()
        .filter(|u| {
            needle.is_empty()
                || u.username.to_lowercase().contains(&needle)
                || u.display_name.to_lowercase().contains(&needle)
        })
        .map(|u| user_row(u, &a.province, &names))
        .collect();
    Ok(page(&UsersPage {
        frame: a.frame().await?,
        q: q.q.unwrap_or_default(),
        users,
        roles: role_choices(),
        agencies: agency_choices,
    }))
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    frame: Frame,
    u: UserRow,
    roles: Vec<Choice>,
    agencies: Vec<Choice>,
}

/// `GET /quan-tri/nguoi-dung/{id}`: one account: new password, unlock, roles.
async fn user(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let a = Admin::system(state, p).await?;
    let list = admin_service::users(&a.state, &a.principal, None).await?;
    let found = list
        .items
        .into_iter()
        .find(|u| u.id == id)
        .ok_or_else(|| crate::error::AppError::NotFound(format!("Không có tài khoản {id} trong tỉnh này.")))?;
    let (agency_choices, names) = agencies(&a).await?;
    Ok(page(&UserPage {
        frame: a.frame().await?,
        u: user_row(found, &a.province, &names),
        roles: role_choices(),
        agencies: agency_choices,
    }))
}

// ---------------------------------------------------------------------------------------
// API tokens

struct TokenRow {
    id: String,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: String,
    expires: String,
    expired: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    frame: Frame,
    tokens: Vec<TokenRow>,
    scopes: Vec<Choice>,
}

/// `GET /quan-tri/ma-truy-cap`: API tokens; create (secret shown once), revoke.
async fn tokens(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    let a = Admin::system(state, p).await?;
    let list = admin_service::tokens(&a.state, &a.principal, None).await?;
    let now = crate::now_ms();
    let tokens = list
        .items
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            scopes: t.scopes.join(", "),
            created: when_ms(t.created_at),
            last_used: t.last_used_at.map(when_ms).unwrap_or_default(),
            revoked: t.revoked_at.map(when_ms).unwrap_or_default(),
            expires: t.expires_at.map(when_ms).unwrap_or_default(),
            expired: t.expires_at.is_some_and(|e| e <= now),
        })
        .collect();
    let scopes = crate::auth::SCOPES
        .iter()
        .map(|(name, role)| Choice::new(*name, format!("{name} — quyền của {}", role.label().to_lowercase())))
        .collect();
    Ok(page(&TokensPage {
        frame: a.frame().await?,
        tokens,
        scopes,
    }))
}

// ---------------------------------------------------------------------------------------
// Calendar

#[derive(Debug, Default, Deserialize)]
struct CalendarQuery {
    nam: Option<i32>,
    /// A day to edit (`YYYY-MM-DD`), preselected in the form.
    ngay: Option<String>,
}

struct Cell {
    /// 0 for the padding before the first day.
    day: u8,
    date: String,
    class: &'static str,
    title: String,
}

struct MonthGrid {
    name: String,
    weeks: Vec<Vec<Cell>>,
}

struct DayRow {
    date: String,
    iso: String,
    weekday: &'static str,
    reason: String,
}

#[derive(Template)]
#[template(path = "admin/calendar.html")]
struct CalendarPage {
    frame: Frame,
    year: i32,
    day: String,
    months: Vec<MonthGrid>,
    off: Vec<DayRow>,
    makeup: Vec<DayRow>,
    stored_off: Vec<DayRow>,
    stored_work: Vec<DayRow>,
}

fn weekday_label(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Thứ Hai",
        Weekday::Tuesday => "Thứ Ba",
        Weekday::Wednesday => "Thứ Tư",
        Weekday::Thursday => "Thứ Năm",
        Weekday::Friday => "Thứ Sáu",
        Weekday::Saturday => "Thứ Bảy",
        Weekday::Sunday => "Chủ nhật",
    }
}

fn dmy(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

fn day_rows(notes: &[motcua_core::calendar::DayNote]) -> Vec<DayRow> {
    notes
        .iter()
        .map(|n| DayRow {
            date: dmy(n.date),
            iso: n.date.to_string(),
            weekday: weekday_label(n.date.weekday()),
            reason: n.reason.clone(),
        })
        .collect()
}

/// `GET /quan-tri/lich?nam=2025`: the working-day calendar of a year, and the day form.
async fn calendar(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<CalendarQuery>,
) -> Result<Response, PageError> {
    let a = Admin::system(state, p).await?;
    let picked = q
        .ngay
        .as_deref()
        .and_then(|d| Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok());
    let year = q
        .nam
        .or(picked.map(Date::year))
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().to_offset(crate::web::VN).year());
    let days = crate::service::calendar::year_days(&a.state, &a.province, year).await?;
    let cal = crate::service::calendar::calendar(&a.state, &a.province).await?;
    let reasons: HashMap<Date, &str> = days
        .non_working_weekdays
        .iter()
        .chain(&days.working_weekend_days)
        .map(|n| (n.date, n.reason.as_str()))
        .collect();
    let mut months = Vec::with_capacity(12);
    for m in 1..=12u8 {
        let month = Month::try_from(m).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
        let first =
            Date::from_calendar_date(year, month, 1).map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
        let mut weeks: Vec<Vec<Cell>> = Vec::new();
        let mut week: Vec<Cell> = (0..first.weekday().number_days_from_monday())
            .map(|_| Cell {
                day: 0,
                date: String::new(),
                class: "",
                title: String::new(),
            })
            .collect();
        let mut d = first;
        while d.month() == month {
            let works = cal.work_week().works_on(d.weekday());
            let (class, title) = match (cal.is_working_day(d), works) {
                (true, true) => ("", String::new()),
                (true, false) => (
                    "makeup",
                    format!("Làm bù: {}", reasons.get(&d).copied().unwrap_or_default()),
                ),
                (false, true) => ("off", format!("Nghỉ: {}", reasons.get(&d).copied().unwrap_or_default())),
                (false, false) => ("weekend", "Nghỉ cuối tuần".to_owned()),
            };
            week.push(Cell {
                day: d.day(),
                date: d.to_string(),
                class,
                title,
            });
            if week.len() == 7 {
                weeks.push(std::mem::take(&mut week));
            }
            d += Duration::days(1);
        }
        if !week.is_empty() {
            weeks.push(week);
        }
        months.push(MonthGrid {
            name: format!("Tháng {m}"),
            weeks,
        });
    }
    Ok(page(&CalendarPage {
        frame: a.frame().await?,
        year,
        day: picked.map(|d| d.to_string()).unwrap_or_default(),
        months,
        off: day_rows(&days.non_working_weekdays),
        makeup: day_rows(&days.working_weekend_days),
        stored_off: day_rows(&days.adjustments.days_off),
        stored_work: day_rows(&days.adjustments.working_days),
    }))
}

// ---------------------------------------------------------------------------------------
// Audit trail

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    /// Actor id.
    nguoi: Option<String>,
    /// Action, e.g. `procedure.update`.
    #[serde(rename = "thao-tac")]
    action: Option<String>,
    /// Object type.
    #[serde(rename = "doi-tuong")]
    object_type: Option<String>,
    /// Object id.
    ma: Option<String>,
    /// From this day (`YYYY-MM-DD`, Vietnam time).
    tu: Option<String>,
    /// Up to and including this day.
    den: Option<String>,
    cursor: Option<String>,
}

struct AuditRow {
    at: String,
    actor: String,
    actor_id: String,
    action: String,
    object: String,
    ip: String,
    before: String,
    after: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPageView {
    frame: Frame,
    nguoi: String,
    action: String,
    object_type: String,
    ma: String,
    tu: String,
    den: String,
    actors: Vec<Choice>,
    actions: Vec<&'static str>,
    object_types: Vec<Choice>,
    rows: Vec<AuditRow>,
    next: Option<String>,
    first: bool,
    error: String,
}

const ACTIONS: &[&str] = &[
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.password_change",
    "calendar.day",
    "catalogue.import",
    "procedure.create",
    "procedure.update",
    "token.create",
    "token.revoke",
    "user.create",
    "user.grants",
    "user.reset_password",
    "user.unlock",
    "webhook.create",
    "webhook.delete",
    "delivery.retry",
];

/// The instant a Vietnam day starts, RFC 3339; `next` gives the following day's start.
fn day_start(day: &str, next: bool) -> Option<String> {
    let d = crate::web::dates::parse(day)?;
    let d = if next { d.next_day()? } else { d };
    Some(format!("{d}T00:00:00+07:00"))
}

/// Shortens a JSON value for display.
fn short_json(v: Option<&serde_json::Value>) -> String {
    let Some(v) = v else { return String::new() };
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.chars().count() > 600 {
        format!("{}…", s.chars().take(600).collect::<String>())
    } else {
        s
    }
}

/// `GET /quan-tri/nhat-ky`: the audit trail with filters and paging.
async fn audit(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let a = Admin::system(state, p).await?;
    let clean = |v: &Option<String>| v.clone().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut error = String::new();
    let from = clean(&q.tu).and_then(|d| {
        let r = day_start(&d, false);
        if r.is_none() {
            error = "Ngày «từ» không hợp lệ.".to_owned();
        }
        r
    });
    let to = clean(&q.den).and_then(|d| {
        let r = day_start(&d, true);
        if r.is_none() {
            error = "Ngày «đến» không hợp lệ.".to_owned();
        }
        r
    });
    let params = AuditParams {
        province: None,
        actor: clean(&q.nguoi),
        action: clean(&q.action),
        object_type: clean(&q.object_type),
        object_id: clean(&q.ma),
        from,
        to,
        limit: Some(30),
        cursor: clean(&q.cursor),
    };
    let mut rows = Vec::new();
    let mut next = None;
    if error.is_empty() {
        match admin_service::audit_trail(&a.state, &a.principal, params).await {
            Ok(page) => {
                rows = page
                    .items
                    .iter()
                    .map(|e| AuditRow {
                        at: when_ms(e.at_ms),
                        actor: e.actor_name.clone(),
                        actor_id: e.actor.clone(),
                        action: e.action.clone(),
                        object: format!("{} {}", e.object_type, e.object_id),
                        ip: e.ip.clone(),
                        before: short_json(e.before.as_ref()),
                        after: short_json(e.after.as_ref()),
                    })
                    .collect();
                next = page.next_cursor.map(|c| {
                    format!(
                        "/quan-tri/nhat-ky?nguoi={}&thao-tac={}&doi-tuong={}&ma={}&tu={}&den={}&cursor={}",
                        encode(q.nguoi.as_deref().unwrap_or_default()),
                        encode(q.action.as_deref().unwrap_or_default()),
                        encode(q.object_type.as_deref().unwrap_or_default()),
                        encode(q.ma.as_deref().unwrap_or_default()),
                        encode(q.tu.as_deref().unwrap_or_default()),
                        encode(q.den.as_deref().unwrap_or_default()),
                        encode(&c)
                    )
                });
            }
            Err(e) => error = e.parts().2,
        }
    }
    let mut actors: Vec<Choice> = {
        let mut tx = a.state.db.begin_read().await?;
        let users = motcua_store::accounts::list_users(&mut tx, Some(&a.province)).await?;
        let tokens = motcua_store::accounts::list_api_tokens(&mut tx).await?;
        users
            .into_iter()
            .map(|u| Choice::new(u.id, format!("{} ({})", u.display_name, u.username)))
            .chain(
                tokens
                    .into_iter()
                    .filter(|t| t.province_code.as_deref() == Some(a.province.as_str()))
                    .map(|t| Choice::new(format!("token:{}", t.id), format!("Mã truy cập: {}", t.name))),
            )
            .collect()
    };
    actors.push(Choice::new("system", "Hệ thống"));
    let object_types = [
        ("procedure", "Thủ tục"),
        ("catalogue", "Danh mục"),
        ("dossier", "Hồ sơ"),
        ("user", "Tài khoản"),
        ("api_token", "Mã truy cập"),
        ("calendar_day", "Ngày trong lịch"),
        ("webhook", "Webhook"),
        ("delivery", "Chuyển phát"),
        ("citizen_registration", "Đăng ký công dân"),
    ]
    .into_iter()
    .map(|(v, l)| Choice::new(v, l))
    .collect();
    Ok(page(&AuditPageView {
        frame: a.frame().await?,
        nguoi: q.nguoi.unwrap_or_default(),
        action: q.action.unwrap_or_default(),
        object_type: q.object_type.unwrap_or_default(),
        ma: q.ma.unwrap_or_default(),
        tu: q.tu.unwrap_or_default(),
        den: q.den.unwrap_or_default(),
        first: q.cursor.as_deref().is_none_or(str::is_empty),
        actors,
        actions: ACTIONS.to_vec(),
        object_types,
        rows,
        next,
        error,
    }))
}
