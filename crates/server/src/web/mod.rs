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
pub mod board;
pub mod booking;
pub mod charts;
pub mod citizen;
pub mod counter;
pub mod department;
pub mod desk;
pub mod director;
pub mod documents;
pub mod evaluation;
pub mod filing;
pub mod form;
pub mod operations;
pub mod pages;
pub mod payment;
pub mod public;
pub mod queue;
pub mod reports;
pub mod verify;

/// Template filters shared by every page: `{{ n|num }}` prints a count the Vietnamese way
/// (`1.388`), `{{ iso|dmy }}` a `YYYY-MM-DD` day as `dd/mm/yyyy`, `{{ iso|day_words }}`
/// as "ngày 5 tháng 11 năm 2026". A module using one says `use crate::web::filters;`.
pub mod filters {
    use std::fmt::Display;

    /// A count with dots between thousands: `1.388` (anything not a whole number as it is).
    pub fn num<T: Display>(n: T, _: &dyn askama::Values) -> askama::Result<String> {
        let s = n.to_string();
        Ok(s.parse::<i64>().map_or(s, super::charts::num))
    }

    /// A `YYYY-MM-DD` day as `dd/mm/yyyy`; anything else as it is (what was typed).
    pub fn dmy<T: Display>(s: T, _: &dyn askama::Values) -> askama::Result<String> {
        let s = s.to_string();
        Ok(super::dates::parse(&s).map_or(s, super::dates::dmy))
    }

    /// A day (`YYYY-MM-DD` or `dd/mm/yyyy`) in words; empty when it is not a day.
    pub fn day_words<T: Display>(s: T, _: &dyn askama::Values) -> askama::Result<String> {
        Ok(super::dates::parse(&s.to_string())
            .map(super::dates::words)
            .unwrap_or_default())
    }
}

/// Days as people type and read them: `dd/mm/yyyy` (or `d/m/yyyy`, with `/`, `-` or `.`)
/// and the ISO `YYYY-MM-DD` a date field sends are both accepted; pages print
/// `dd/mm/yyyy` and say the chosen day in words.
pub mod dates {
    use time::Date;

    /// The day `s` names, either way round ([`motcua_core::calendar::parse_day`]).
    pub fn parse(s: &str) -> Option<Date> {
        motcua_core::calendar::parse_day(s)
    }

    /// The ISO form `YYYY-MM-DD` of a day typed either way; what was typed otherwise.
    pub fn to_iso(s: &str) -> String {
        parse(s).map_or_else(|| s.to_owned(), iso)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(d: Date) -> String {
        d.format(time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap_or_default()
    }

    /// `dd/mm/yyyy`.
    pub fn dmy(d: Date) -> String {
        d.format(time::macros::format_description!("[day]/[month]/[year]"))
            .unwrap_or_default()
    }

    /// A period query with its days as typed (`dd/mm/yyyy`) turned into the ISO days the
    /// period rules read.
    pub fn period(mut q: crate::service::period::PeriodQuery) -> crate::service::period::PeriodQuery {
        q.from = q.from.as_deref().map(to_iso);
        q.to = q.to.as_deref().map(to_iso);
        q
    }

    /// "ngày 5 tháng 11 năm 2026".
    pub fn words(d: Date) -> String {
        format!("ngày {} tháng {} năm {}", d.day(), u8::from(d.month()), d.year())
    }

    #[cfg(test)]
    mod tests {
        use time::Month;

        use super::*;

        #[test]
        fn both_ways_round() {
            let d = Date::from_calendar_date(2026, Month::November, 5).expect("a day");
            assert_eq!(parse("05/11/2026"), Some(d));
            assert_eq!(parse("5/11/2026"), Some(d));
            assert_eq!(parse(" 5-11-2026 "), Some(d));
            assert_eq!(parse("2026-11-05"), Some(d));
            assert_eq!(parse("31/02/2026"), None);
            assert_eq!(parse("11/05/26"), None);
            assert_eq!(parse("hôm qua"), None);
            assert_eq!(to_iso("05/11/2026"), "2026-11-05");
            assert_eq!(to_iso("x"), "x");
            assert_eq!(dmy(d), "05/11/2026");
            assert_eq!(words(d), "ngày 5 tháng 11 năm 2026");
        }
    }
}

tokio::task_local! {
    /// The path of the request being answered, for the header's current page.
    static PATH: String;
}

/// Remembers the request's path while it is answered, so that every page's frame marks
/// its own link in the navigation (`aria-current="page"`) without each handler saying.
pub async fn remember_path(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path().to_owned();
    PATH.scope(path, next.run(req)).await
}

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
        .merge(queue::routes())
        .merge(board::routes())
        .merge(booking::routes())
        .merge(documents::routes())
        .merge(verify::routes())
}

/// A link of the main navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where it goes.
    pub href: &'static str,
    /// What it says.
    pub label: &'static str,
    /// It is the page shown (`aria-current="page"`).
    pub current: bool,
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
    /// The path of the page shown (to mark its link in the header).
    pub path: String,
}

impl Frame {
    /// The frame for `viewer` (anonymous when `None`).
    pub async fn new(state: &AppState, viewer: Option<&Principal>) -> Result<Frame, PageError> {
        let province = state.province(None).await?;
        let here = PATH.try_with(Clone::clone).unwrap_or_default();
        let mut nav = nav_for(viewer);
        for l in &mut nav {
            l.current = l.href == here;
        }
        Ok(Frame {
            province_name: province_name(state, &province).await?,
            user_name: viewer
                .and_then(|p| p.user.as_ref())
                .map(|u| u.display_name.clone())
                .unwrap_or_default(),
            nav,
            csrf: viewer.map(csrf_of).unwrap_or_default(),
            htmx: false,
            path: here,
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
            current: false,
        },
        NavLink {
            href: "/tra-cuu",
            label: "Tra cứu hồ sơ",
            current: false,
        },
    ];
    let Some(p) = viewer else {
        return nav;
    };
    let has = |r: Role| p.access.has_role(r);
    let mut add = |href, label| {
        nav.push(NavLink {
            href,
            label,
            current: false,
        })
    };
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
