//! The counter officer's desk (Bộ phận Một cửa): find a procedure (typed, or its code
//! scanned), receive a dossier on the intake form, print the receipt; the online dossiers
//! waiting for reception, the results ready to hand over and today's appointments.
//!
//! Pages only read. The intake form posts to `POST /api/v1/dossiers` through `app.js`;
//! without the script the browser posts it (multipart, with the scans) to
//! `POST /quay/tiep-nhan/{procedure}`, which goes through the same API functions. Refusing,
//! asking to complete and returning happen on the shared dossier page `/ho-so/{code}`,
//! which every list here links to.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use motcua_core::access::Role;
use motcua_core::catalogue::{ApplicantKind, Level, OnlineMode, ProcedureSummary, working_time};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::dossier::{Channel, Status};
use motcua_core::lifecycle::{Delivery, Dossier};
use motcua_core::map::{self, ReceiptRule};
use motcua_core::money::Vnd;
use motcua_core::rules::RuleSet;
use motcua_store::dossiers::{self as store, Stored};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, Time};

use super::filing::{Desk, Kept, Typed};
use super::pages::Hit;
use super::{Frame, SignedIn, VN, due_state, page, require, when};
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::catalogue::{ProcedureParams, search_params};
use crate::service::dossiers::{Directory, WorkListQuery, directory, reception, work_list_filter};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/quay", get(desk))
        .route("/quay/tim-thu-tuc", get(search_fragment))
        .route("/quay/tiep-nhan/{procedure}", get(intake).post(intake_submit))
        .route(
            "/quay/tiep-nhan/{procedure}/kho-giay-to",
            axum::routing::post(intake_consult),
        )
        .route("/quay/bien-nhan/{code}", get(receipt))
        .route("/static/counter.js", get(script))
}

/// The intake form's script (the two buttons and the checklist ticks), compiled in.
const COUNTER_JS: &str = include_str!("../../static/counter.js");

/// `GET /static/counter.js`
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        COUNTER_JS,
    )
        .into_response()
}

/// Procedures shown by a search.
const SEARCH_LIMIT: usize = 10;
/// Rows of a list per page.
const PAGE_SIZE: usize = 25;
/// Dossiers counted per list (the store's largest page).
const COUNT_CAP: u32 = store::MAX_LIST_LIMIT;

/// The counter the viewer works at: their first counter-officer grant.
struct Counter {
    province: ProvinceCode,
    /// The counter's agency (the centre), or the province's own code for a province-wide grant.
    agency: AgencyCode,
}

impl Counter {
    /// The viewer's counter, or a 403 page for anyone who is not a counter officer.
    fn of(p: &Principal) -> Result<Counter, PageError> {
        let grant = p.access.grants().iter().find(|g| g.role == Role::CounterOfficer);
        require(grant.is_some(), "sử dụng quầy tiếp nhận hồ sơ")?;
        let g = grant.ok_or_else(|| AppError::Internal("grant vanished".to_owned()))?;
        Ok(Counter {
            province: g.province.clone(),
            agency: g.agency.clone(),
        })
    }

    /// Whether the grant covers the whole province rather than one agency.
    fn province_wide(&self) -> bool {
        &self.agency == self.province.as_agency()
    }

    /// Whether this counter receives a procedure under `rule` whose department is
    /// `agency`: the test intake applies (docs/map-2025.md §3), with the counter's own
    /// commune competent for a commune-level procedure.
    fn receives(&self, dir: &Directory, rule: ReceiptRule, agency: &AgencyCode) -> bool {
        self.province_wide() || reception::receives_at(dir, rule, agency, &self.agency)
    }
}

/// A working time as the counter reads it: `16:30`.
fn hour(t: OffsetDateTime) -> String {
    t.to_offset(VN)
        .format(time::macros::format_description!("[hour]:[minute]"))
        .unwrap_or_default()
}

fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Counter => "Nộp tại quầy",
        Channel::Online => "Nộp trực tuyến",
        Channel::Post => "Nộp qua bưu chính",
    }
}

fn delivery_short(d: Delivery) -> &'static str {
    match d {
        Delivery::Counter => "Trả tại quầy",
        Delivery::Post => "Gửi bưu chính",
        Delivery::Online => "Trả trực tuyến",
    }
}

// ---------------------------------------------------------------------------------------
// Procedure search

/// One procedure found.
struct Found {
    /// What every procedure list shows.
    hit: Hit,
    /// This counter receives it (otherwise the page says where to go).
    receivable: bool,
    /// The query was exactly its code.
    exact: bool,
}

/// What a search shows.
struct Search {
    q: String,
    error: Option<String>,
    total: usize,
    items: Vec<Found>,
}

/// Searches the catalogue index as the public search does. `None` for an empty query.
async fn search(state: &AppState, counter: &Counter, q: &str) -> Result<Option<Search>, PageError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(None);
    }
    let params = ProcedureParams {
        province: None,
        q: Some(q.to_owned()),
        agency: None,
        field: None,
        online: None,
        at_centre: None,
        limit: Some(SEARCH_LIMIT),
        cursor: None,
    };
    let mut out = Search {
        q: q.to_owned(),
        error: None,
        total: 0,
        items: Vec::new(),
    };
    let params = match search_params(&params) {
        Ok(p) => p,
        Err(e) => {
            out.error = Some(e.parts().2);
            return Ok(Some(out));
        }
    };
    let index = state.index.get(&state.db, &counter.province).await?;
    let dir = directory(state, &counter.province).await?;
    let page = index.search(&params);
    out.total = page.total;
    out.items = page
        .items
        .iter()
        .map(|s: &&ProcedureSummary| Found {
            hit: Hit::of(s, dir.name(s.agency_code.as_str())),
            receivable: counter.receives(&dir, s.receipt_rule(), &s.agency_code),
            exact: s.code.as_str().eq_ignore_ascii_case(q),
        })
        .collect();
    Ok(Some(out))
}

#[derive(Template)]
#[template(path = "counter/results.html")]
struct ResultsFragment {
    search: Option<Search>,
}

/// `?q=`: the search box.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /quay/tim-thu-tuc?q=`: the live results under the search box (an htmx fragment).
pub async fn search_fragment(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let counter = Counter::of(&p)?;
    let found = search(&state, &counter, q.q.as_deref().unwrap_or_default()).await?;
    Ok(page(&ResultsFragment { search: found }))
}

// ---------------------------------------------------------------------------------------
// The desk

/// The lists of the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    /// Status 1: filed online (or registered for checking), waiting for reception.
    Waiting,
    /// Status 9: result ready, to hand over.
    Results,
    /// Appointments due today.
    Today,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Waiting, Tab::Results, Tab::Today];

    fn slug(self) -> &'static str {
        match self {
            Tab::Waiting => "cho-tiep-nhan",
            Tab::Results => "tra-ket-qua",
            Tab::Today => "hen-hom-nay",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Waiting => "Chờ tiếp nhận",
            Tab::Results => "Có kết quả, chờ trả",
            Tab::Today => "Lịch hẹn trả hôm nay",
        }
    }

    fn of(slug: Option<&str>) -> Tab {
        Tab::ALL
            .into_iter()
            .find(|t| Some(t.slug()) == slug)
            .unwrap_or(Tab::Waiting)
    }
}

/// A link of the tab bar.
struct TabLink {
    slug: &'static str,
    label: &'static str,
    count: String,
    current: bool,
}

/// One dossier of a list.
struct Row {
    code: String,
    procedure: String,
    applicant: String,
    time: String,
    state: String,
    badge: &'static str,
    badge_class: &'static str,
}

/// The list shown.
struct ListView {
    title: &'static str,
    hint: &'static str,
    empty: &'static str,
    time_header: &'static str,
    rows: Vec<Row>,
    truncated: bool,
    cap: u32,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "counter/desk.html")]
struct DeskPage {
    frame: Frame,
    counter_name: String,
    today: String,
    q: String,
    search: Option<Search>,
    tabs: Vec<TabLink>,
    list: ListView,
}

/// `?q=&tab=&trang=`
#[derive(Debug, Deserialize)]
pub struct DeskQuery {
    q: Option<String>,
    tab: Option<String>,
    trang: Option<String>,
}

/// The dossiers of one list (the newest `COUNT_CAP`), in the order the list shows them.
async fn load(
    state: &AppState,
    p: &Principal,
    counter: &Counter,
    tab: Tab,
    now: OffsetDateTime,
) -> Result<Vec<Dossier>, PageError> {
    // Status 1 and 9 dossiers sit at the receiving counter; today's appointments may be
    // anywhere (a department still handling one is exactly what the counter must see), so
    // that list is the province's, narrowed to what this counter received.
    let own_agency = (!counter.province_wide()).then(|| counter.agency.as_str());
    let (statuses, agency) = match tab {
        Tab::Waiting => (vec![Status::New], own_agency),
        Tab::Results => (vec![Status::Done], own_agency),
        Tab::Today => (Vec::new(), None),
    };
    let mut filter = work_list_filter(
        state,
        p,
        WorkListQuery {
            province: Some(counter.province.as_str()),
            status: None,
            agency,
            overdue: None,
            assignee: None,
            procedure: None,
        },
    )
    .await?;
    filter.statuses = statuses;
    filter.limit = COUNT_CAP;
    if tab == Tab::Today {
        let midnight = now.to_offset(VN).replace_time(Time::MIDNIGHT);
        filter.due_from = Some(midnight);
        filter.due_until = Some(midnight + Duration::days(1));
    }
    let mut tx = state.db.begin_read().await?;
    let rows = store::list(&mut tx, &filter).await?;
    drop(tx);
    let mut dossiers: Vec<Dossier> = rows.into_iter().map(|s: Stored| s.dossier).collect();
    if tab == Tab::Today {
        // Appointments the counter keeps: not refused or withdrawn, received here.
        dossiers.retain(|d| {
            !matches!(d.status, Status::New | Status::Refused | Status::Withdrawn)
                && (own_agency.is_none() || Some(d.receiving_agency.as_str()) == own_agency)
        });
        dossiers.sort_by_key(|d| d.due_at);
    }
    Ok(dossiers)
}

fn row(tab: Tab, d: &Dossier, labels: &RuleSet, now: OffsetDateTime, soon: OffsetDateTime) -> Row {
    let mut r = Row {
        code: d.code.as_str().to_owned(),
        procedure: d.procedure_name.clone(),
        applicant: match &d.submitter {
            Some(s) => format!("{} (nộp thay: {})", d.applicant.name, s.name),
            None => d.applicant.name.clone(),
        },
        time: String::new(),
        state: String::new(),
        badge: "",
        badge_class: "",
    };
    match tab {
        Tab::Waiting => {
            r.time = when(d.created_at);
            r.state = channel_label(d.channel).to_owned();
        }
        Tab::Results => {
            r.time = d.due_at.map(when).unwrap_or_default();
            r.state = delivery_short(d.delivery).to_owned();
            if let Some(t) = d.timeliness(now) {
                r.badge = t.label();
                r.badge_class = match t {
                    motcua_core::dossier::Timeliness::Late => "due-late",
                    _ => "due-ok",
                };
            }
        }
        Tab::Today => {
            r.time = d.due_at.map(hour).unwrap_or_default();
            r.state = labels.status_label(d.status).to_owned();
            if let Some(state) = motcua_core::deadline::due_state(d.status, d.due_at, d.finished_at, now, soon) {
                let (class, label) = due_state(state);
                r.badge = label;
                r.badge_class = class;
            }
        }
    }
    r
}

/// `GET /quay`: the desk. A procedure code typed or scanned exactly opens its intake form.
pub async fn desk(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<DeskQuery>,
) -> Result<Response, PageError> {
    let counter = Counter::of(&p)?;
    let text = q.q.as_deref().unwrap_or_default().trim().to_owned();
    let found = search(&state, &counter, &text).await?;
    if let Some(hit) = found
        .as_ref()
        .and_then(|s| s.items.iter().find(|f| f.exact && f.receivable))
        && ProcedureCode::parse(&text).is_ok()
    {
        return Ok(Redirect::to(&format!("/quay/tiep-nhan/{}", hit.hit.code)).into_response());
    }
    let now = state.clock.now();
    let calendar = crate::service::calendar::calendar(&state, &counter.province).await?;
    let soon = motcua_core::deadline::soon_limit(&calendar, now).unwrap_or(now);
    let labels = crate::service::rules::now(&state).await?;
    let current = Tab::of(q.tab.as_deref());
    let mut tabs = Vec::with_capacity(Tab::ALL.len());
    let mut shown = Vec::new();
    for tab in Tab::ALL {
        let dossiers = load(&state, &p, &counter, tab, now).await?;
        let n = dossiers.len();
        tabs.push(TabLink {
            slug: tab.slug(),
            label: tab.label(),
            count: if n >= COUNT_CAP as usize {
                format!("{n}+")
            } else {
                n.to_string()
            },
            current: tab == current,
        });
        if tab == current {
            shown = dossiers;
        }
    }
    let pages = shown.len().div_ceil(PAGE_SIZE).max(1);
    let number = q
        .trang
        .as_deref()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let url = |n: usize| format!("/quay?tab={}&trang={n}", current.slug());
    let list = ListView {
        title: current.label(),
        hint: match current {
            Tab::Waiting => {
                "Hồ sơ nộp trực tuyến (và hồ sơ ghi nhận tại quầy để kiểm tra) chưa được tiếp nhận. Mở hồ sơ để tiếp nhận, từ chối hoặc yêu cầu bổ sung, hoàn thiện."
            }
            Tab::Results => {
                "Hồ sơ đã giải quyết xong, kết quả chờ trả cho người nộp tại quầy hoặc qua bưu chính. Mở hồ sơ để ghi nhận việc trả kết quả."
            }
            Tab::Today => "Hồ sơ có hẹn trả kết quả trong ngày hôm nay, theo giờ hẹn.",
        },
        empty: match current {
            Tab::Waiting => "Không có hồ sơ nào chờ tiếp nhận.",
            Tab::Results => "Không có kết quả nào chờ trả.",
            Tab::Today => "Hôm nay không có lịch hẹn trả kết quả.",
        },
        time_header: match current {
            Tab::Waiting => "Nộp lúc",
            Tab::Results => "Hẹn trả",
            Tab::Today => "Giờ hẹn",
        },
        truncated: shown.len() >= COUNT_CAP as usize,
        cap: COUNT_CAP,
        rows: shown
            .iter()
            .skip((number - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|d| row(current, d, &labels, now, soon))
            .collect(),
        prev: (number > 1).then(|| url(number - 1)),
        next: (number < pages).then(|| url(number + 1)),
    };
    let dir = directory(&state, &counter.province).await?;
    Ok(page(&DeskPage {
        frame: Frame::new(&state, Some(&p)).await?.with_htmx(),
        counter_name: dir.name(counter.agency.as_str()),
        today: super::day(now),
        q: text,
        search: found,
        tabs,
        list,
    }))
}

// ---------------------------------------------------------------------------------------
// Intake

/// One row of the checklist.
struct DocRow {
    index: usize,
    name: String,
    /// Ticked as received (a form sent back with an error).
    ticked: bool,
    /// As the procedure asks, or as typed.
    originals: String,
    copies: String,
    required: bool,
    note: String,
    form_name: String,
    form_url: String,
    /// Scans already stored for the row.
    kept: Vec<Kept>,
    /// Documents of the applicant's store the row may take, once the applicant consented:
    /// id, label, chosen.
    offers: Vec<(i64, String, bool)>,
    /// The scans were marked checked against the original (`original`, `certified_copy`).
    checked: String,
}

/// A fee option with what it costs.
struct FeeOption {
    option: String,
    items: String,
    total: String,
}

#[derive(Template)]
#[template(path = "counter/intake.html")]
struct IntakePage {
    /// The queue ticket being served, linked to the dossier filed (issue 21).
    ticket: Option<i64>,
    frame: Frame,
    code: String,
    province: String,
    name: String,
    agency: String,
    deadline: String,
    sets: u16,
    receivable: bool,
    guidance: String,
    kinds: Vec<(&'static str, &'static str)>,
    documents: Vec<DocRow>,
    fixed_fees: Vec<(String, String)>,
    fee_options: Vec<FeeOption>,
    /// What is due when no option applies.
    base_total: String,
    online_full: bool,
    /// What was typed (blank for a new intake).
    typed: Typed,
    /// Why the intake was refused, when the form comes back.
    error: String,
    /// Each problem, for the error summary and the fields.
    problems: super::form::Problems,
    /// The applicant's store was consulted with their consent (its ID number).
    consulted: String,
    /// A commune-level procedure received anywhere: the communes that may decide it (code,
    /// name, chosen); the counter's own commune chosen by default.
    communes: Vec<(String, String, bool)>,
    /// None of them is chosen yet (a counter that serves no commune).
    commune_open: bool,
}

fn sum(amounts: impl Iterator<Item = Vnd>) -> Vnd {
    amounts.fold(Vnd(0), |a, b| a.checked_add(b).unwrap_or(Vnd::MAX))
}

/// The intake form's query: `so`, the queue ticket called at the counter (issue 21).
#[derive(Debug, Default, Deserialize)]
pub struct IntakeQuery {
    so: Option<i64>,
}

/// `GET /quay/tiep-nhan/{procedure}`: the intake form of one procedure (`?so=<ticket>`:
/// for the queue ticket being served, which the filing links to the dossier).
pub async fn intake(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(procedure): Path<String>,
    Query(q): Query<IntakeQuery>,
) -> Result<Response, PageError> {
    intake_page(
        &state,
        &p,
        &procedure,
        None,
        String::new(),
        super::form::Problems::default(),
        q.so,
    )
    .await
}

/// `POST /quay/tiep-nhan/{procedure}/kho-giay-to`: the applicant agreed that the officer
/// consult their document store (`kho`: their ID number or tax code; `dong_y`: the
/// consent; `so`: the queue ticket). The intake form comes back with their ID number and,
/// under each checklist row, what their store offers (the look audited). Posted, not a
/// GET: an ID number never travels in an address.
pub async fn intake_consult(
    State(state): State<AppState>,
    Path(procedure): Path<String>,
    request: Request,
) -> Result<Response, PageError> {
    let (code, posted) = match posted_intake(&state, &procedure, request).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let form = &posted.form;
    let ticket = form.get("so").and_then(|s| s.trim().parse().ok());
    let typed = Typed {
        id_number: form.text("kho"),
        store_consent: form.has("dong_y"),
        ..Typed::default()
    };
    let refused = !typed.store_consent || typed.id_number.is_empty();
    let message = if refused {
        "Cần số định danh hoặc mã số thuế của người nộp và sự đồng ý của họ trước khi xem kho giấy tờ.".to_owned()
    } else {
        String::new()
    };
    let r = intake_page(
        &state,
        &posted.principal,
        code.as_str(),
        Some(typed),
        message,
        super::form::Problems::default(),
        ticket,
    )
    .await?;
    Ok(if refused {
        super::form::with_status(r, axum::http::StatusCode::UNPROCESSABLE_ENTITY)
    } else {
        r
    })
}

/// The intake form of `procedure` posted by a counter officer: the procedure's code and
/// the checked form, or the answer already made (a failed session check sends the officer
/// back to the form).
async fn posted_intake(
    state: &AppState,
    procedure: &str,
    request: Request,
) -> Result<Result<(ProcedureCode, super::filing::Posted), Response>, PageError> {
    let code = ProcedureCode::parse(procedure).map_err(|e| AppError::code("procedure", e))?;
    let back = format!("/quay/tiep-nhan/{code}");
    match super::filing::receive(state, request, &back).await? {
        Ok(posted) => {
            Counter::of(&posted.principal)?;
            Ok(Ok((code, posted)))
        }
        Err(answer) => Ok(Err(answer)),
    }
}

/// `POST /quay/tiep-nhan/{procedure}`: the intake form sent by the browser itself, as
/// multipart with the scans. Checked like every form of a session (cookie and CSRF token);
/// the scans go through the API's upload and the dossier through the API's filing, then on
/// to the receipt (accepted) or the dossier (only registered), as after the script's
/// intake. A refusal sends the form back with its message, what was typed and the scans
/// already stored.
pub async fn intake_submit(
    State(state): State<AppState>,
    Path(procedure): Path<String>,
    request: Request,
) -> Result<Response, PageError> {
    let (code, posted) = match posted_intake(&state, &procedure, request).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let p = posted.principal.clone();
    let (typed, filed) = super::filing::file(&state, &posted, code.as_str(), Desk::Counter).await?;
    match filed {
        Ok(dossier) if typed.accept => Ok(Redirect::to(&format!("/quay/bien-nhan/{dossier}")).into_response()),
        Ok(dossier) => Ok(Redirect::to(&format!("/ho-so/{dossier}")).into_response()),
        Err(e) => {
            let problems = super::form::Problems::of(&e);
            let (status, message) = super::form::refusal(e)?;
            let ticket = typed.ticket;
            let r = intake_page(&state, &p, code.as_str(), Some(typed), message, problems, ticket).await?;
            Ok(super::form::with_status(r, status))
        }
    }
}

/// The intake form of `procedure`, blank or as typed.
async fn intake_page(
    state: &AppState,
    p: &Principal,
    procedure: &str,
    typed: Option<Typed>,
    error: String,
    problems: super::form::Problems,
    ticket: Option<i64>,
) -> Result<Response, PageError> {
    let counter = Counter::of(p)?;
    let code = ProcedureCode::parse(procedure).map_err(|e| AppError::code("procedure", e))?;
    let version = {
        let mut tx = state.db.begin_read().await?;
        motcua_store::catalogue::procedure(&mut tx, &counter.province, &code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Không có thủ tục mã {code} trong danh mục của tỉnh.")))?
    };
    let c = &version.content;
    let dir = directory(state, &counter.province).await?;
    let receivable = counter.receives(&dir, c.receipt_rule(), &c.agency);
    let agency = dir.name(c.agency.as_str());
    let guidance = if receivable {
        String::new()
    } else {
        let places = reception::places_for(&dir, c.receipt_rule(), &c.agency, &counter.agency);
        match (c.level, places.as_slice()) {
            (Level::Commune, []) => "Thủ tục cấp xã này chỉ tiếp nhận tại Trung tâm Phục vụ hành chính công của xã, phường có thẩm quyền; quầy của bạn không tiếp nhận. Hướng dẫn người nộp đến đúng nơi.".to_owned(),
            (_, []) => format!("Thủ tục này hiện không có nơi tiếp nhận đang hoạt động; hướng dẫn người nộp liên hệ {agency}."),
            (_, places) => {
                let names: Vec<&str> = places.iter().map(String::as_str).collect();
                format!(
                    "Thủ tục này tiếp nhận tại {}; quầy của bạn không tiếp nhận. Hướng dẫn người nộp đến đúng nơi.",
                    map::listed(&names)
                )
            }
        }
    };
    let mut options: Vec<FeeOption> = Vec::new();
    for f in &c.fees {
        let Some(o) = &f.option else { continue };
        if options.iter().any(|x| &x.option == o) {
            continue;
        }
        let items: Vec<_> = c
            .fees
            .iter()
            .filter(|g| g.option.is_none() || g.option.as_ref() == Some(o))
            .collect();
        options.push(FeeOption {
            option: o.clone(),
            items: items
                .iter()
                .map(|g| format!("{} {}", g.name, g.amount))
                .collect::<Vec<_>>()
                .join("; "),
            total: sum(items.iter().map(|g| g.amount)).to_string(),
        });
    }
    // A form that only carries the applicant's ID number (the store consulted, before
    // anything was typed) is still a fresh one: a posted form always carries its delivery.
    let fresh = typed.as_ref().is_none_or(|t| t.delivery.is_empty());
    let blank = |t: Typed| Typed {
        kind: c
            .applicants
            .first()
            .map(|k| kind_value(*k).to_owned())
            .unwrap_or_default(),
        delivery: "counter".to_owned(),
        channel: "counter".to_owned(),
        sets: c.sets.to_string(),
        accept: true,
        ..t
    };
    let mut typed = match typed {
        Some(t) if !fresh => t,
        t => blank(t.unwrap_or_default()),
    };
    // The store's offers, only with the applicant's consent (each look audited).
    let offers = if typed.store_consent && !typed.id_number.trim().is_empty() {
        Some(
            crate::service::documents::offers(
                state,
                p,
                &crate::service::documents::OfferQuery {
                    procedure: code.to_string(),
                    province: Some(counter.province.to_string()),
                    id_number: Some(typed.id_number.clone()),
                    consent: true,
                },
            )
            .await?,
        )
    } else {
        None
    };
    let consulted = if offers.is_some() {
        typed.id_number.clone()
    } else {
        String::new()
    };
    let mut documents = Vec::with_capacity(c.documents.len());
    for (index, d) in c.documents.iter().enumerate() {
        let row = typed.rows.remove(&index).unwrap_or_default();
        documents.push(DocRow {
            index,
            name: d.name.clone(),
            ticked: row.ticked || !row.kept.is_empty(),
            originals: if fresh { d.originals.to_string() } else { row.originals },
            copies: if fresh { d.copies.to_string() } else { row.copies },
            required: d.required,
            note: d.note.clone(),
            form_name: d.form.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
            form_url: d
                .form
                .as_ref()
                .map(|f| f.url.clone())
                .filter(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'))
                .unwrap_or_default(),
            offers: offers
                .iter()
                .flatten()
                .filter(|o| usize::from(o.index) == index)
                .flat_map(|o| &o.documents)
                .map(|d| (d.id, super::documents::offer_label(d), row.stored.contains(&d.id)))
                .collect(),
            checked: row.checked,
            kept: row.kept,
        });
    }
    // A commune-level procedure received anywhere may be decided by another commune than
    // the counter's: the applicant's (docs/map-2025.md §13).
    let communes = if c.receipt_rule().receivable == motcua_core::catalogue::Receivable::Anywhere {
        let own = dir.tree.commune_of(&counter.agency).map(|a| a.code.as_str().to_owned());
        let chosen = Some(typed.commune.clone()).filter(|c| !c.is_empty()).or(own);
        reception::online_choices(&dir, c)
            .communes
            .into_iter()
            .map(|(code, name)| {
                let on = chosen.as_deref() == Some(code.as_str());
                (code.as_str().to_owned(), name, on)
            })
            .collect()
    } else {
        Vec::new()
    };
    let page_data = IntakePage {
        commune_open: !communes.iter().any(|c: &(String, String, bool)| c.2),
        communes,
        frame: Frame::new(state, Some(p)).await?,
        code: code.to_string(),
        province: counter.province.to_string(),
        name: c.name.clone(),
        agency,
        deadline: working_time(c.processing_time.working_hours()),
        sets: c.sets,
        receivable,
        guidance,
        kinds: c
            .applicants
            .iter()
            .map(|k| {
                let label = match k {
                    ApplicantKind::Citizen => "Công dân (cá nhân)",
                    ApplicantKind::Organisation => "Tổ chức, doanh nghiệp",
                };
                (kind_value(*k), label)
            })
            .collect(),
        documents,
        fixed_fees: c
            .fees
            .iter()
            .filter(|f| f.option.is_none())
            .map(|f| (f.name.clone(), f.amount.to_string()))
            .collect(),
        fee_options: options,
        base_total: sum(c.fees.iter().filter(|f| f.option.is_none()).map(|f| f.amount)).to_string(),
        online_full: c.online_mode == OnlineMode::Full,
        typed,
        error,
        problems,
        ticket,
        consulted,
    };
    Ok(page(&page_data))
}

/// The form value of an applicant kind.
fn kind_value(k: ApplicantKind) -> &'static str {
    match k {
        ApplicantKind::Citizen => "citizen",
        ApplicantKind::Organisation => "organisation",
    }
}

// ---------------------------------------------------------------------------------------
// After acceptance

/// A document as received.
struct Received {
    name: String,
    originals: u16,
    copies: u16,
    files: usize,
}

#[derive(Template)]
#[template(path = "counter/receipt.html")]
struct ReceiptPage {
    frame: Frame,
    code: String,
    accepted: bool,
    status: String,
    procedure: String,
    applicant: String,
    id_number: String,
    phone: String,
    received: String,
    due: String,
    delivery: &'static str,
    sets: u16,
    fee_total: String,
    fees: Vec<(String, String)>,
    secret: String,
    documents: Vec<Received>,
    /// The queue ticket the applicant was called with, if any.
    ticket: Option<String>,
    /// Where it was received: the centre's name, and its address (may be empty).
    place: (String, String),
    /// The agency that decides it, when another than the receiving one.
    competent: Option<String>,
}

/// `GET /quay/bien-nhan/{code}`: what was received, the appointment and the fees, with the
/// receipt (issued at acceptance) to print.
pub async fn receipt(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    Counter::of(&p)?;
    // The same read as the API's: one visibility rule, and the view of personal data is audited.
    let view = crate::service::dossiers::get(&state, &p, &code).await?;
    let status = view.status_label;
    let d = view.dossier;
    let ticket = crate::service::queue::ticket_number_of(&state, d.code.as_str()).await?;
    let dir = directory(&state, &d.province).await?;
    let place = (
        dir.name(d.receiving_agency.as_str()),
        dir.tree
            .get(&d.receiving_agency)
            .map(|a| a.address.clone())
            .unwrap_or_default(),
    );
    let competent = (d.responsible_agency != d.receiving_agency).then(|| dir.name(d.responsible_agency.as_str()));
    Ok(page(&ReceiptPage {
        frame: Frame::new(&state, Some(&p)).await?,
        code: d.code.as_str().to_owned(),
        accepted: d.received_at.is_some(),
        status,
        procedure: d.procedure_name.clone(),
        applicant: match &d.submitter {
            Some(s) => format!("{} (nộp thay: {})", d.applicant.name, s.name),
            None => d.applicant.name.clone(),
        },
        id_number: d.applicant.id_number.clone(),
        phone: d.applicant.phone.clone(),
        received: d.received_at.map(when).unwrap_or_default(),
        due: d.due_at.map(when).unwrap_or_default(),
        delivery: d.delivery.label(),
        sets: d.sets,
        fee_total: sum(d.fees.iter().map(|f| f.amount)).to_string(),
        fees: d.fees.iter().map(|f| (f.name.clone(), f.amount.to_string())).collect(),
        secret: d.tracking_secret.clone(),
        documents: d
            .documents
            .iter()
            .map(|r| Received {
                name: r.name.clone(),
                originals: r.originals,
                copies: r.copies,
                files: r.files.len(),
            })
            .collect(),
        ticket,
        place,
        competent,
    }))
}
