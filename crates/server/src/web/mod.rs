//! The web interface for people signed in (and the public pages that know who is looking):
//! server-rendered askama pages in Vietnamese. Pages only read; every change goes through
//! the JSON API from the page's forms (`static/app.js` sends them with the session's CSRF
//! token and shows each error next to its field), so the rules live in one place.
//!
//! Every form also posts by itself (`method="post"`), so that without the script nothing
//! typed ends up in an address. Login, logout, password change, registration, online
//! filing and counter intake have routes that take those posts and call the same API
//! functions ([`form`], [`filing`]); the other forms post to `/can-javascript`, which says
//! the step needs JavaScript, and their pages say so in a `<noscript>`.
//!
//! One module per area, each with its own `routes()`, templates under `templates/<area>/`
//! and styles in `static/<area>.css` (served together as `/static/app.css`).

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use motcua_core::access::Role;
use motcua_core::codes::ProvinceCode;
use time::OffsetDateTime;

use crate::auth::{Credential, MaybePrincipal, Principal};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::pages::PageError;

pub mod account;
pub mod admin;
pub mod charts;
pub mod citizen;
pub mod counter;
pub mod department;
pub mod desk;
pub mod director;
pub mod evaluation;
pub mod filing;
pub mod form;
pub mod operations;
pub mod pages;
pub mod payment;
pub mod public;
pub mod reports;

/// Every page route of the signed-in areas.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(account::routes())
        .merge(public::routes())
        .merge(citizen::routes())
        .merge(counter::routes())
        .merge(desk::routes())
        .merge(director::routes())
        .merge(department::routes())
        .merge(admin::routes())
        .merge(payment::routes())
        .merge(evaluation::routes())
        .merge(reports::routes())
}

/// A link of the main navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
}

/// What every page's frame (`base.html`) shows: the province, who is signed in, the
/// navigation their roles open, and the CSRF token the page's forms send.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// The province's name, for the header and titles.
    pub province_name: String,
    /// The signed-in person's name; empty when anonymous.
    pub user_name: String,
    /// Links for the viewer's roles.
    pub nav: Vec<NavLink>,
    /// The session's CSRF token (empty when anonymous).
    pub csrf: String,
    /// Load htmx on this page (live filters); off by default to keep pages light.
    pub htmx: bool,
}

impl Frame {
    /// The frame for `viewer` (anonymous when `None`).
    pub async fn new(state: &AppState, viewer: Option<&Principal>) -> Result<Frame, PageError> {
        let province = state.province(None).await?;
        Ok(Frame {
            province_name: province_name(state, &province).await?,
            user_name: viewer
                .and_then(|p| p.user.as_ref())
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            nav: nav_for(viewer),
            csrf: viewer.map(csrf_of).unwrap_or_default(),
            htmx: false,
        })
    }

    /// The same frame, loading htmx.
    pub fn with_htmx(mut self) -> Frame {
        self.htmx = true;
        self
    }
}

/// The name of `province` ("Ninh Thuận"), empty if unknown.
pub async fn province_name(state: &AppState, province: &ProvinceCode) -> Result<String, AppError> {
    let mut tx = state.db.begin_read().await?;
    Ok(motcua_store::catalogue::province(&mut tx, province)
        .await?
        .map(|p| p.name)
        .unwrap_or_default())
}

/// The CSRF token of a session principal (empty for API tokens).
pub fn csrf_of(p: &Principal) -> String {
    match &p.credential {
        Credential::Session { csrf_token, .. } => csrf_token.clone(),
        Credential::ApiToken { .. } => String::new(),
    }
}

/// The navigation for a viewer: public links, then one entry per area their roles open.
pub fn nav_for(viewer: Option<&Principal>) -> Vec<NavLink> {
    let mut nav = vec![
        NavLink {
            href: "/thu-tuc",
            label: "Thủ tục",
        },
        NavLink {
            href: "/tra-cuu",
            label: "Tra cứu hồ sơ",
        },
    ];
    let Some(p) = viewer else {
        return nav;
    };
    let has = |r: Role| p.access.has_role(r);
    let mut add = |href, label| nav.push(NavLink { href, label });
    if has(Role::Citizen)
        || p.user
            .as_ref()
            .is_some_and(|u| u.kind == motcua_store::accounts::UserKind::Citizen)
    {
        add("/ca-nhan", "Hồ sơ của tôi");
    }
    if has(Role::CounterOfficer) {
        add("/quay", "Quầy tiếp nhận");
    }
    if has(Role::DepartmentOfficer) || has(Role::DepartmentLeader) {
        add("/xu-ly", "Hồ sơ cần xử lý");
    }
    if has(Role::CentreDirector) {
        add("/lanh-dao", "Tổng quan");
    }
    if has(Role::DepartmentLeader) {
        add("/don-vi", "Số liệu đơn vị");
    }
    if has(Role::CatalogueAdmin) || has(Role::SystemAdmin) {
        add("/quan-tri", "Quản trị");
    }
    nav
}

/// Where a person lands after signing in, by their first role.
pub fn home_of(p: &Principal) -> &'static str {
    nav_for(Some(p)).get(2).map_or("/", |l| l.href)
}

/// The viewer of a public page: the signed-in person, or anonymous. An expired or bad
/// session cookie makes an anonymous viewer here (a public page never fails for it).
pub struct Viewer(pub Option<Principal>);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Viewer(
            MaybePrincipal::from_request_parts(parts, state)
                .await
                .ok()
                .and_then(|m| m.0),
        ))
    }
}

/// A signed-in person, for pages behind login. Anonymous visitors (or an expired session)
/// are sent to the login page, which brings them back here afterwards; a person who must
/// change their password is sent to do so first.
pub struct SignedIn(pub Principal);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let back = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned());
        let to_login = || Redirect::to(&login_url(&back)).into_response();
        match MaybePrincipal::from_request_parts(parts, state).await {
            Ok(MaybePrincipal(Some(p))) => Ok(SignedIn(p)),
            Ok(MaybePrincipal(None)) => Err(to_login()),
            Err(AppError::ForbiddenCode {
                code: "password_change_required",
                ..
            }) => Err(Redirect::to(&format!("/doi-mat-khau?next={}", encode(&back))).into_response()),
            Err(AppError::Unauthorized(_)) => Err(to_login()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// The login page's address that returns to `back` afterwards.
pub fn login_url(back: &str) -> String {
    format!("/dang-nhap?next={}", encode(back))
}

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A `next=` target is only followed when it is a path of this site.
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .map(str::to_owned)
}

/// Fails with a 403 page unless `allowed`.
pub fn require(allowed: bool, what: &str) -> Result<(), PageError> {
    if allowed {
        Ok(())
    } else {
        Err(PageError::from(AppError::Forbidden(format!(
            "Bạn không có quyền {what}."
        ))))
    }
}

/// Renders a page that depends on who is looking: never cached.
pub fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Html(html),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi hiển thị trang").into_response()
        }
    }
}

/// The province's offset (Vietnam, UTC+7, no daylight saving).
pub const VN: time::UtcOffset = time::macros::offset!(+7);

/// `dd/mm/yyyy HH:MM` in Vietnam time, from epoch milliseconds.
pub fn when_ms(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(when)
        .unwrap_or_default()
}

/// `dd/mm/yyyy HH:MM` in Vietnam time.
pub fn when(t: OffsetDateTime) -> String {
    motcua_core::calendar::vn_datetime(t)
}

/// `dd/mm/yyyy` in Vietnam time.
pub fn day(t: OffsetDateTime) -> String {
    t.to_offset(VN)
        .format(time::macros::format_description!("[day]/[month]/[year]"))
        .unwrap_or_default()
}

/// How a dossier whose clock runs stands against its appointment
/// (`motcua_core::deadline::due_state`), as a CSS class and a label: `due-ok` (on time),
/// `due-soon` (due within one working day), `due-late` (overdue).
pub fn due_state(state: motcua_core::deadline::DueState) -> (&'static str, &'static str) {
    use motcua_core::deadline::DueState;
    match state {
        DueState::Overdue => ("due-late", "Quá hạn"),
        DueState::DueSoon => ("due-soon", "Sắp đến hạn"),
        DueState::OnTime => ("due-ok", "Trong hạn"),
    }
}
