//! The counter queue's pages: the administrator's setup (`/quan-tri/xep-hang`), the
//! kiosk (`/may-lay-so`, a touch screen with no login that holds a device token in a
//! cookie) and its rating screen (`/may-lay-so/danh-gia`), the printed ticket (80 mm
//! receipt paper, with a QR code), the ticket's public page (`/so-thu-tu/{token}`), the
//! portal's page for taking a ticket in the hall with the code of the day (`/lay-so`) and
//! the counter officer's queue panel (`/quay/hang-doi`).
//!
//! The kiosk's forms post by themselves (no script needed on a kiosk); every other change
//! is a `data-api` form calling the JSON API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use motcua_core::queue::TicketState;

use super::form::PreSessionForm;
use super::{Frame, SignedIn, Viewer, page, when_ms};
use crate::error::AppError;
use crate::service::queue::{
    self, CentreParam, CounterPanel, CounterView, GroupView, KioskMenu, KioskView, QueueSetup, TicketView,
};
use crate::state::AppState;
use crate::web::filters;
use crate::web::pages::PageError;

/// The cookie a kiosk keeps its device token in.
const KIOSK_COOKIE: &str = "motcua_kiosk";

/// The routes of the queue's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/quan-tri/xep-hang", get(admin_page))
        .route("/may-lay-so", get(kiosk_page).post(kiosk_take))
        .route("/may-lay-so/uu-tien", get(kiosk_priority_page))
        .route("/may-lay-so/lich-hen", axum::routing::post(kiosk_check_in))
        .route("/may-lay-so/kich-hoat", get(activate_page).post(activate))
        .route("/may-lay-so/danh-gia", get(kiosk_rating_page).post(kiosk_rate))
        .route(queue::PORTAL_PAGE, get(portal_page).post(portal_take))
        .route("/may-lay-so/in/{token}", get(print_page))
        .route("/may-lay-so/in.js", get(print_script))
        .route("/so-thu-tu/{token}", get(public_page))
        .route("/so-thu-tu/{token}/su-kien", get(public_events))
        .route("/so-thu-tu/ticket.js", get(ticket_script))
        .route("/quay/hang-doi", get(counters_page))
        .route("/lanh-dao/xep-hang", get(figures_page))
        .route("/quay/hang-doi/{id}", get(panel_page))
        .route("/quay/hang-doi/tiep-nhan", get(start_intake))
}

// ---------------------------------------------------------------------------------------
// Administration

#[derive(Template)]
#[template(path = "queue/admin.html")]
struct AdminPage {
    frame: Frame,
    setup: QueueSetup,
    kinds: String,
    booking: crate::service::booking::BookingSetup,
    today: crate::service::booking::DayBookings,
}

impl AdminPage {
    fn capacity(&self, g: &GroupView) -> i64 {
        self.booking
            .capacities
            .iter()
            .find(|c| c.group == g.id)
            .map_or(0, |c| c.capacity)
    }

    fn letters(&self, c: &CounterView) -> String {
        self.setup
            .groups
            .iter()
            .filter(|g| c.groups.contains(&g.id))
            .map(|g| format!("{} ({})", g.name, g.letter))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn serves(&self, c: &CounterView, g: &GroupView) -> bool {
        c.groups.contains(&g.id)
    }

    fn created(&self, k: &KioskView) -> String {
        when_ms(k.created_at)
    }

    fn revoked(&self, k: &KioskView) -> String {
        k.revoked_at.map(when_ms).unwrap_or_default()
    }
}

/// `GET /quan-tri/xep-hang`: service groups, counters, priority settings and kiosks of the
/// province's centre (system administrators).
async fn admin_page(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    let at = CentreParam::default();
    let setup = queue::setup(&state, &p, &at).await?;
    let kinds = setup.settings.priority_kinds.join("\n");
    Ok(page(&AdminPage {
        frame: Frame::new(&state, Some(&p)).await?,
        setup,
        kinds,
        booking: crate::service::booking::setup(&state, &p, &at).await?,
        today: crate::service::booking::today(&state, &p, &at).await?,
    }))
}

// ---------------------------------------------------------------------------------------
// The kiosk

/// Where a device (a kiosk, a board) keeps its token: the cookie's name, the path the
/// cookie is sent to, which is also the device's page.
pub(super) struct DeviceCookie {
    /// The cookie's name.
    pub name: &'static str,
    /// Its path, and the device's page.
    pub path: &'static str,
}

/// The kiosk's cookie.
const KIOSK: DeviceCookie = DeviceCookie {
    name: KIOSK_COOKIE,
    path: "/may-lay-so",
};

/// The device whose token is in `c`'s cookie; `None` without one, or with a token that is
/// unknown or revoked.
pub(super) async fn device_of(
    state: &AppState,
    headers: &HeaderMap,
    c: &DeviceCookie,
) -> Result<Option<motcua_store::queue::Kiosk>, AppError> {
    match crate::auth::cookie(headers, c.name) {
        Some(token) => match queue::kiosk(state, &token).await {
            Ok(k) => Ok(Some(k)),
            Err(AppError::Unauthorized(_)) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}

/// A device's activation: the token typed is checked and kept in `c`'s cookie (HttpOnly,
/// SameSite=Strict, only sent to the device's path), and the device goes to its page;
/// `None` when the token is unknown or revoked.
pub(super) async fn activated(state: &AppState, typed: &str, c: &DeviceCookie) -> Result<Option<Response>, AppError> {
    let token = typed.trim();
    if token.is_empty() || queue::kiosk(state, token).await.is_err() {
        return Ok(None);
    }
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    let cookie = HeaderValue::from_str(&format!(
        "{}={token}; Path={}; HttpOnly; SameSite=Strict; Max-Age=315360000{secure}",
        c.name, c.path
    ))
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut r = Redirect::to(c.path).into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(Some(r))
}

/// The kiosk asking, by the device token in its cookie; a kiosk without a valid one is
/// sent to be activated.
struct ActiveKiosk(motcua_store::queue::Kiosk);

impl axum::extract::FromRequestParts<AppState> for ActiveKiosk {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        match device_of(state, &parts.headers, &KIOSK).await {
            Ok(Some(k)) => Ok(ActiveKiosk(k)),
            Ok(None) => Err(Redirect::to("/may-lay-so/kich-hoat").into_response()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// The kiosk's answer once a ticket is issued: its page for printing.
fn to_print(t: &TicketView) -> Response {
    let token = t.page.trim_start_matches(queue::TICKET_PAGE);
    Redirect::to(&format!("/may-lay-so/in/{token}")).into_response()
}

#[derive(Template)]
#[template(path = "queue/kiosk.html")]
struct KioskPage {
    menu: KioskMenu,
    priority: bool,
    error: String,
    /// The QR code of the portal's page with the code of the day.
    hall_qr: String,
}

impl KioskPage {
    /// The portal's page, to type (its address without the code).
    fn portal(&self) -> &str {
        portal_address(&self.menu.hall)
    }
}

/// The portal's page of a code of the day, without the query (what a person types).
pub(super) fn portal_address(hall: &queue::HallCode) -> &str {
    hall.url.split('?').next().unwrap_or_default()
}

/// `GET /may-lay-so`: the kiosk's screen (a kiosk without a device token is sent to be
/// activated).
async fn kiosk_page(State(state): State<AppState>, ActiveKiosk(k): ActiveKiosk) -> Result<Response, PageError> {
    kiosk_screen(&state, &k, false, String::new()).await
}

/// `GET /may-lay-so/uu-tien`: the same, for a priority ticket.
async fn kiosk_priority_page(
    State(state): State<AppState>,
    ActiveKiosk(k): ActiveKiosk,
) -> Result<Response, PageError> {
    kiosk_screen(&state, &k, true, String::new()).await
}

async fn kiosk_screen(
    state: &AppState,
    k: &motcua_store::queue::Kiosk,
    priority: bool,
    error: String,
) -> Result<Response, PageError> {
    let menu = queue::kiosk_menu(state, k).await?;
    let hall_qr = motcua_pdf::qr_svg(&menu.hall.url).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(page(&KioskPage {
        menu,
        priority,
        error,
        hall_qr,
    }))
}

/// `POST /may-lay-so` (`group`, optional `priority_kind`): takes a ticket and shows it
/// for printing.
async fn kiosk_take(
    State(state): State<AppState>,
    ActiveKiosk(k): ActiveKiosk,
    form: PreSessionForm,
) -> Result<Response, PageError> {
    let form = form.form;
    let priority = form.get("priority_kind").map(str::to_owned).filter(|p| !p.is_empty());
    let Ok(group) = form.text("group").parse::<i64>() else {
        return kiosk_screen(&state, &k, priority.is_some(), "Vui lòng chọn lĩnh vực.".to_owned()).await;
    };
    let req = queue::TakeTicket {
        group,
        priority_kind: priority.clone(),
    };
    match queue::take_ticket(&state, &k, req).await {
        Ok(t) => Ok(to_print(&t)),
        Err(e @ (AppError::Refused(_) | AppError::BadRequest { .. })) => {
            kiosk_screen(&state, &k, priority.is_some(), e.to_string()).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /may-lay-so/lich-hen` (`ma`): checks an online booking in (the code typed, or
/// read by the kiosk's scanner into the field) and shows its ticket for printing.
async fn kiosk_check_in(
    State(state): State<AppState>,
    ActiveKiosk(k): ActiveKiosk,
    form: PreSessionForm,
) -> Result<Response, PageError> {
    match crate::service::booking::check_in(&state, &k, &form.form.text("ma")).await {
        Ok(t) => Ok(to_print(&t)),
        Err(e @ (AppError::Refused(_) | AppError::BadRequest { .. } | AppError::NotFound(_))) => {
            kiosk_screen(&state, &k, false, e.to_string()).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "queue/kiosk-rating.html")]
struct KioskRatingPage {
    centre_name: String,
    levels: Vec<(&'static str, &'static str)>,
    typed: String,
    error: String,
    thanks: String,
}

fn rating_levels() -> Vec<(&'static str, &'static str)> {
    motcua_core::evaluation::Satisfaction::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect()
}

async fn kiosk_rating_screen(
    state: &AppState,
    k: &motcua_store::queue::Kiosk,
    typed: String,
    error: String,
    thanks: String,
) -> Result<Response, PageError> {
    let province =
        motcua_core::codes::ProvinceCode::parse(&k.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let (_, centre_name) = queue::centre_of(state, &province, Some(&k.centre_code)).await?;
    Ok(page(&KioskRatingPage {
        centre_name,
        levels: rating_levels(),
        typed,
        error,
        thanks,
    }))
}

/// `GET /may-lay-so/danh-gia`: the kiosk's screen for rating a served ticket.
async fn kiosk_rating_page(State(state): State<AppState>, ActiveKiosk(k): ActiveKiosk) -> Result<Response, PageError> {
    kiosk_rating_screen(&state, &k, String::new(), String::new(), String::new()).await
}

/// `POST /may-lay-so/danh-gia` (`so`: the ticket's number or its QR code's address;
/// `muc`: the level): records the rating once, and thanks the person.
async fn kiosk_rate(
    State(state): State<AppState>,
    ActiveKiosk(k): ActiveKiosk,
    form: PreSessionForm,
) -> Result<Response, PageError> {
    let typed = form.form.text("so");
    let level = motcua_core::evaluation::Satisfaction::parse(&form.form.text("muc"));
    let Some(rating) = level else {
        return kiosk_rating_screen(
            &state,
            &k,
            typed,
            "Vui lòng chọn mức độ hài lòng.".to_owned(),
            String::new(),
        )
        .await;
    };
    let req = queue::TicketRatingInput {
        ticket: typed.clone(),
        rating,
    };
    match queue::rate_ticket(&state, &k, req).await {
        Ok(r) => {
            let thanks = format!(
                "Cảm ơn ông/bà đã đánh giá số thứ tự {}: «{}».",
                r.number, r.rating_label
            );
            kiosk_rating_screen(&state, &k, String::new(), String::new(), thanks).await
        }
        Err(
            e @ (AppError::Refused(_) | AppError::Conflict(_) | AppError::NotFound(_) | AppError::BadRequest { .. }),
        ) => {
            let status = e.parts().0;
            let mut r = kiosk_rating_screen(&state, &k, typed, e.to_string(), String::new()).await?;
            *r.status_mut() = status;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// The portal, for someone in the hall

#[derive(Template)]
#[template(path = "queue/portal.html")]
struct PortalPage {
    frame: Frame,
    menu: queue::PortalMenu,
    /// What was typed (kept when the page comes back with an error).
    code: String,
    group: i64,
    phone: String,
    email: String,
    error: String,
}

/// The portal page's query: the centre and the code of the day (what the hall's QR code
/// fills in).
#[derive(Debug, Default, serde::Deserialize)]
struct PortalQuery {
    #[serde(default)]
    tt: Option<String>,
    #[serde(default)]
    ma: Option<String>,
}

/// `GET /lay-so?tt=<centre>&ma=<code>`: take a ticket from a phone in the centre's hall:
/// the code of the day (filled in by the hall's QR code), the group, an optional phone
/// number or email for a message when three tickets are ahead.
async fn portal_page(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Query(q): Query<PortalQuery>,
) -> Result<Response, PageError> {
    let menu = queue::portal_menu(&state, q.tt.as_deref()).await?;
    Ok(page(&PortalPage {
        frame: Frame::new(&state, v.as_ref()).await?,
        menu,
        code: q
            .ma
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .take(6)
            .collect(),
        group: 0,
        phone: String::new(),
        email: String::new(),
        error: String::new(),
    }))
}

/// What the portal's form sent, kept to show it again with an error.
struct PortalForm {
    centre: Option<String>,
    code: String,
    group: i64,
    phone: String,
    email: String,
}

/// The portal's page again, with `error`, what was typed, and `status`.
async fn portal_again(
    state: &AppState,
    v: Option<&crate::auth::Principal>,
    f: PortalForm,
    error: String,
    status: axum::http::StatusCode,
) -> Result<Response, PageError> {
    let menu = queue::portal_menu(state, f.centre.as_deref()).await?;
    let mut r = page(&PortalPage {
        frame: Frame::new(state, v).await?,
        menu,
        code: f.code,
        group: f.group,
        phone: f.phone,
        email: f.email,
        error,
    });
    *r.status_mut() = status;
    Ok(r)
}

/// `POST /lay-so` (`tt`, `ma`, `nhom`, `so_dien_thoai`, `email`): takes the ticket and
/// opens its page; a refusal comes back on the form with what was typed.
async fn portal_take(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    form: PreSessionForm,
) -> Result<Response, PageError> {
    let f = form.form;
    let typed = PortalForm {
        centre: Some(f.text("tt")).filter(|c| !c.trim().is_empty()),
        code: f.text("ma"),
        group: f.text("nhom").trim().parse::<i64>().unwrap_or(0),
        phone: f.text("so_dien_thoai"),
        email: f.text("email"),
    };
    if typed.group == 0 {
        let error = "Vui lòng chọn lĩnh vực cần giải quyết.".to_owned();
        return portal_again(&state, v.as_ref(), typed, error, axum::http::StatusCode::BAD_REQUEST).await;
    }
    let req = queue::PortalTicket {
        centre: typed.centre.clone(),
        code: typed.code.clone(),
        group: typed.group,
        phone: Some(typed.phone.clone()),
        email: Some(typed.email.clone()),
    };
    match queue::take_portal_ticket(&state, &ip, req).await {
        Ok(t) => Ok(Redirect::to(&t.page).into_response()),
        Err(
            e @ (AppError::Refused(_)
            | AppError::BadRequest { .. }
            | AppError::ForbiddenCode { .. }
            | AppError::TooManyRequests(..)),
        ) => {
            let status = e.parts().0;
            let mut r = portal_again(&state, v.as_ref(), typed, e.to_string(), status).await?;
            if let AppError::TooManyRequests(_, wait) = e
                && let Ok(v) = HeaderValue::from_str(&wait.to_string())
            {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "queue/activate.html")]
struct ActivatePage {
    error: String,
}

/// `GET /may-lay-so/kich-hoat`: where an administrator types the kiosk's device token.
async fn activate_page() -> Response {
    page(&ActivatePage { error: String::new() })
}

/// `POST /may-lay-so/kich-hoat` (`ma`): checks the token and keeps it in the kiosk's
/// cookie (HttpOnly, SameSite=Strict, only sent to `/may-lay-so`).
async fn activate(State(state): State<AppState>, form: PreSessionForm) -> Result<Response, PageError> {
    Ok(activated(&state, &form.form.text("ma"), &KIOSK)
        .await?
        .unwrap_or_else(|| {
            page(&ActivatePage {
                error: "Mã thiết bị không đúng hoặc đã bị thu hồi.".to_owned(),
            })
        }))
}

#[derive(Template)]
#[template(path = "queue/print.html")]
struct PrintPage {
    t: TicketView,
    centre_name: String,
    ahead: i64,
    taken: String,
    qr: String,
    url: String,
}

/// `GET /may-lay-so/in/{token}`: the ticket laid out for 80 mm receipt paper, printed as
/// it opens, with a QR code of its public page; back to the kiosk's screen afterwards.
async fn print_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let p = queue::public_ticket(&state, &token).await?;
    let url = format!("{}{}", state.config.public_base(), p.ticket.page);
    let qr = motcua_pdf::qr_svg(&url).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(page(&PrintPage {
        taken: when_ms(p.ticket.taken_at),
        t: p.ticket,
        centre_name: p.centre_name,
        ahead: p.ahead,
        qr,
        url,
    }))
}

/// `GET /may-lay-so/in.js`: prints the ticket page when it opens (no inline script under
/// the Content-Security-Policy).
async fn print_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        "window.addEventListener(\"load\", function () { window.print(); });\n",
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "queue/ticket.html")]
struct PublicPage {
    frame: Frame,
    t: TicketView,
    centre_name: String,
    ahead: i64,
    state_label: &'static str,
    waiting: bool,
    wait: String,
    token: String,
}

/// The estimate as the page says it.
fn wait_text(minutes: Option<i64>) -> String {
    match minutes {
        Some(m) if m <= 1 => "Sắp đến lượt ông/bà.".to_owned(),
        Some(m) => format!("Thời gian chờ ước tính: khoảng {m} phút."),
        None => "Chưa đủ dữ liệu để ước tính thời gian chờ.".to_owned(),
    }
}

/// What the phone page updates itself with.
#[derive(serde::Serialize)]
struct Live {
    number: String,
    state: TicketState,
    state_label: &'static str,
    counter: Option<i64>,
    ahead: i64,
    wait: String,
    dossier_code: Option<String>,
}

impl Live {
    fn of(p: &queue::PublicTicket) -> Self {
        let waiting = p.ticket.state == TicketState::Waiting;
        Live {
            number: p.ticket.number.clone(),
            state: p.ticket.state,
            state_label: p.ticket.state.label(),
            counter: p.ticket.counter,
            ahead: p.ahead,
            wait: if waiting {
                wait_text(p.estimated_wait_minutes)
            } else {
                String::new()
            },
            dossier_code: p.ticket.dossier_code.clone(),
        }
    }
}

/// `GET /so-thu-tu/{token}/su-kien`: the ticket's place in line as server-sent events
/// (`ticket`), at once and after every change of its centre's queue.
async fn public_events(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let now = queue::public_ticket(&state, &token).await?;
    let view = crate::service::queue_live::tickets(&state, &now.centre_code);
    let first = ticket_shown(&now).ok_or_else(|| AppError::Internal("ticket not serialisable".to_owned()))?;
    // The ticket's own call is sent at once; its place in line at most once a second. A
    // view whose ticket is the same `Arc` as before did not change it: what it showed is
    // reused, so a change elsewhere in the centre costs a phone's stream a pointer check.
    let mut seen: Option<(std::sync::Arc<queue::PublicTicket>, Shown)> = None;
    let sse = super::board::follow(
        view,
        "ticket",
        Some(first),
        std::time::Duration::from_secs(1),
        move |tickets| {
            let t = tickets.get(&token)?;
            if let Some((before, shown)) = &seen
                && std::sync::Arc::ptr_eq(before, t)
            {
                return Some(shown.clone());
            }
            let shown = ticket_shown(t)?;
            seen = Some((t.clone(), shown.clone()));
            Some(shown)
        },
    );
    Ok(sse.into_response())
}

/// What a phone page shows of its ticket: its state, counter and recalls (a change is sent
/// at once) and the page's JSON.
fn ticket_shown(p: &queue::PublicTicket) -> Option<Shown> {
    let key = (p.ticket.state, p.ticket.counter, p.ticket.recalls);
    Some((key, serde_json::to_string(&Live::of(p)).ok()?))
}

/// What a phone page's stream shows: the key sent at once, and the JSON.
type Shown = super::board::Shown<(TicketState, Option<i64>, i64)>;

/// `GET /so-thu-tu/ticket.js`: keeps the phone page up to date.
async fn ticket_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../static/ticket.js"),
    )
        .into_response()
}

/// `GET /so-thu-tu/{token}`: a ticket's public page (what its QR code opens).
async fn public_page(
    State(state): State<AppState>,
    Viewer(v): Viewer,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let p = queue::public_ticket(&state, &token).await?;
    Ok(page(&PublicPage {
        frame: Frame::new(&state, v.as_ref()).await?,
        state_label: p.ticket.state.label(),
        waiting: p.ticket.state == TicketState::Waiting,
        wait: wait_text(p.estimated_wait_minutes),
        t: p.ticket,
        centre_name: p.centre_name,
        ahead: p.ahead,
        token,
    }))
}

// ---------------------------------------------------------------------------------------
// The counter

#[derive(Template)]
#[template(path = "queue/counters.html")]
struct CountersPage {
    frame: Frame,
    counters: Vec<CounterView>,
}

/// `GET /quay/hang-doi`: the counters of the officer's centre, to sit at one.
async fn counters_page(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    let counters = queue::officer_counters(&state, &p).await?;
    Ok(page(&CountersPage {
        frame: Frame::new(&state, Some(&p)).await?,
        counters,
    }))
}

#[derive(Template)]
#[template(path = "queue/panel.html")]
struct PanelPage {
    frame: Frame,
    panel: CounterPanel,
}

impl PanelPage {
    fn label(&self, t: &TicketView) -> &'static str {
        t.state.label()
    }

    fn called(&self, t: &TicketView) -> bool {
        t.state == TicketState::Called
    }

    fn serving(&self, t: &TicketView) -> bool {
        t.state == TicketState::Serving
    }

    fn may_skip(&self, t: &TicketView) -> bool {
        t.recalls >= self.panel.recalls_before_no_show
    }
}

/// `GET /quay/hang-doi/{id}`: the counter's queue panel: call the next ticket, recall,
/// start, finish, no-show, transfer.
async fn panel_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let panel = queue::panel(&state, &p, id).await?;
    Ok(page(&PanelPage {
        frame: Frame::new(&state, Some(&p)).await?,
        panel,
    }))
}

/// The panel's "start an intake" form: the ticket and the procedure's code.
#[derive(Debug, serde::Deserialize)]
struct StartIntake {
    so: i64,
    thu_tuc: String,
}

/// `GET /quay/hang-doi/tiep-nhan?so=<ticket>&thu_tuc=<procedure>`: opens the intake form
/// of the procedure for the ticket being served.
async fn start_intake(SignedIn(_): SignedIn, Query(q): Query<StartIntake>) -> Result<Response, PageError> {
    let code = motcua_core::codes::ProcedureCode::parse(q.thu_tuc.trim()).map_err(|e| AppError::code("thu_tuc", e))?;
    Ok(Redirect::to(&format!("/quay/tiep-nhan/{code}?so={}", q.so)).into_response())
}

// ---------------------------------------------------------------------------------------
// The figures

#[derive(Template)]
#[template(path = "queue/figures.html")]
struct FiguresPage {
    frame: Frame,
    action: &'static str,
    presets: Vec<super::evaluation::Preset>,
    choice: crate::service::period::Choice,
    f: crate::service::queue_figures::QueueReport,
    sections: Vec<(&'static str, Vec<crate::service::queue_figures::Row>)>,
    hours: Vec<usize>,
    /// Per day of the week: its name and, per hour shown, the count and its shade (0–4).
    heat: Vec<(&'static str, Vec<(i64, i64)>)>,
    /// The centres an overseer of the province may choose (code, name, chosen); empty
    /// with a single centre or for a commune centre's head.
    centres: Vec<(String, String, bool)>,
}

/// `GET /lanh-dao/xep-hang`: the queue's figures for a period, the peak hours' heat map
/// and the workbook's link (director, system administrators).
async fn figures_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<crate::service::period::PeriodQuery>,
    Query(c): Query<crate::service::oversight::CentreQuery>,
) -> Result<Response, PageError> {
    use crate::service::queue_figures::{WEEKDAYS, figures};
    let (f, choice) = figures(&state, &p, &q, c.centre.as_deref()).await?;
    // The hours anyone arrived in, from the first to the last.
    let busy: Vec<usize> = (0..24).filter(|h| f.heat.iter().any(|d| d[*h] > 0)).collect();
    let hours: Vec<usize> = match (busy.first(), busy.last()) {
        (Some(a), Some(b)) => (*a..=*b).collect(),
        _ => Vec::new(),
    };
    let max = f.heat.iter().flatten().copied().max().unwrap_or(0).max(1);
    let heat = WEEKDAYS
        .iter()
        .zip(&f.heat)
        .map(|(d, row)| {
            let cells = hours
                .iter()
                .map(|h| {
                    let n = row[*h];
                    let shade = if n == 0 { 0 } else { 1 + (n * 4 - 1) / max };
                    (n, shade.min(4))
                })
                .collect();
            (*d, cells)
        })
        .collect();
    let sections = vec![
        ("Tổng", vec![f.total.clone()]),
        ("Theo nhóm dịch vụ", f.groups.clone()),
        ("Theo quầy", f.counters.clone()),
        ("Theo cán bộ", f.officers.clone()),
        ("Theo giờ lấy số", f.hours.clone()),
        ("Theo ngày trong tuần", f.weekdays.clone()),
    ];
    let province = state.province(None).await?;
    let dir = crate::service::dossiers::directory(&state, &province).await?;
    let centres = if p.access.may_oversee(&province) {
        dir.centre_choices(Some(&f.centre))
    } else {
        Vec::new()
    };
    Ok(page(&FiguresPage {
        centres,
        frame: Frame::new(&state, Some(&p)).await?,
        action: "/lanh-dao/xep-hang",
        presets: super::evaluation::presets(),
        choice,
        f,
        sections,
        hours,
        heat,
    }))
}
