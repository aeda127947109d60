//! Server-rendered public pages (Vietnamese): home with search, the procedure list and a
//! procedure's page. They work without JavaScript.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use motcua_core::catalogue::{AgencyKind, ApplicantKind, FeeItem, ProcedureSummary, StepRole, working_time};
use motcua_core::codes::ProcedureCode;
use motcua_store::catalogue;

use crate::error::AppError;
use crate::service::catalogue::{ProcedureParams, encode_cursor, search_params};
use crate::state::AppState;
use crate::web::charts::num;
use crate::web::{Frame, Viewer, filters};

/// The stylesheet, compiled in so the binary serves its pages with nothing beside it: the
/// public pages' rules, then the shared and per-area rules of the signed-in pages.
const APP_CSS: &str = concat!(
    include_str!("../../static/app.css"),
    include_str!("../../static/web.css"),
    include_str!("../../static/citizen.css"),
    include_str!("../../static/counter.css"),
    include_str!("../../static/desk.css"),
    include_str!("../../static/director.css"),
    include_str!("../../static/admin.css"),
    include_str!("../../static/payment.css"),
    include_str!("../../static/evaluation.css"),
    include_str!("../../static/queue.css"),
);
/// The pages' script (forms over the JSON API, uploads, drafts).
const APP_JS: &str = include_str!("../../static/app.js");
/// htmx 2 (BSD-0, vendored from npm `htmx.org`), for live filters.
const HTMX_JS: &str = include_str!("../../static/htmx.min.js");

/// The site's icon (32 px, a white door on the header's red), written for motcua.
const FAVICON: &[u8] = include_bytes!("../../static/favicon.ico");

/// `GET /favicon.ico`
pub async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// `GET /static/app.css`
pub async fn css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `GET /static/kiosk.css`: the queue kiosk's pages only (big touch targets, the 80 mm
/// ticket), kept out of the stylesheet every page loads.
pub async fn kiosk_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("../../static/kiosk.css"))
}

/// `GET /static/app.js`
pub async fn js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /static/htmx.min.js`
pub async fn htmx() -> Response {
    asset("text/javascript; charset=utf-8", HTMX_JS)
}

/// An error shown as a page rather than JSON.
pub struct PageError(AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<motcua_store::StoreError> for PageError {
    fn from(e: motcua_store::StoreError) -> Self {
        PageError(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    title: String,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.page(Frame::default())
    }
}

impl PageError {
    /// The error as a page in `frame` (the province's name in its title, the viewer's
    /// navigation) where the handler has one.
    pub fn page(self, frame: Frame) -> Response {
        let (status, _, message, _) = self.0.parts();
        if status.is_server_error() {
            tracing::error!(error = %self.0, "page failed");
        }
        let title = match status {
            StatusCode::NOT_FOUND => "Không tìm thấy trang",
            s if s.is_client_error() => "Yêu cầu không hợp lệ",
            _ => "Hệ thống đang gặp sự cố",
        };
        let page = ErrorPage {
            frame,
            title: title.to_owned(),
            message,
        };
        (status, render(&page)).into_response()
    }
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Lỗi hiển thị trang").into_response()
        }
    }
}

/// The page frame for the viewer and the province's departments (code, name), for filters.
async fn frame(state: &AppState, viewer: &Viewer) -> Result<(Frame, Vec<(String, String)>), PageError> {
    let frame = Frame::new(state, viewer.0.as_ref()).await?;
    let province = state.province(None).await?;
    let mut tx = state.db.begin_read().await?;
    let departments = catalogue::agencies(&mut tx, &province)
        .await?
        .into_iter()
        .filter(|a| a.kind == AgencyKind::Department)
        .map(|a| (a.code.to_string(), a.name))
        .collect();
    Ok((frame, departments))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    summary_line: String,
    departments: i64,
    procedures: i64,
    at_centre: i64,
    online_full: i64,
    departments_list: Vec<(String, String)>,
    q: String,
    agency: String,
    online: String,
}

/// `GET /`
pub async fn home(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    let (frame, departments_list) = frame(&state, &viewer).await?;
    let province = state.province(None).await?;
    let mut tx = state.db.begin_read().await?;
    let s = catalogue::summary(&mut tx, &province).await?;
    Ok(render(&HomePage {
        summary_line: format!(
            "Tìm thủ tục, xem hồ sơ cần chuẩn bị, phí, lệ phí và thời hạn giải quyết trước khi đến Trung tâm hoặc nộp trực tuyến. {} thủ tục của {} cơ quan.",
            num(s.procedures),
            num(s.departments)
        ),
        frame,
        departments: s.departments,
        procedures: s.procedures,
        at_centre: s.at_centre,
        online_full: s.online_full,
        departments_list,
        q: String::new(),
        agency: String::new(),
        online: String::new(),
    }))
}

/// One procedure in a list of search results (the public list and the counter's search).
pub struct Hit {
    /// The procedure's code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The responsible agency's name (its code when unknown).
    pub agency: String,
    /// The statutory time, in words.
    pub deadline: String,
    /// Online filing, in words.
    pub online: &'static str,
    /// Received at the centre.
    pub at_centre: bool,
}

impl Hit {
    /// What a list of procedures shows of `s`, its agency called `agency`.
    pub fn of(s: &ProcedureSummary, agency: String) -> Hit {
        Hit {
            code: s.code.to_string(),
            name: s.name.clone(),
            agency,
            deadline: working_time(s.processing_hours),
            online: s.online_mode.label(),
            at_centre: s.at_centre,
        }
    }
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    frame: Frame,
    departments_list: Vec<(String, String)>,
    q: String,
    agency: String,
    online: String,
    error: Option<String>,
    total: usize,
    items: Vec<Hit>,
    next_url: Option<String>,
}

/// `GET /thu-tuc`: search results, with the form keeping what was typed.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let (frame, departments_list) = frame(&state, &viewer).await?;
    let names: std::collections::HashMap<String, String> = departments_list.iter().cloned().collect();
    let raw = query.unwrap_or_default();
    let parsed: Result<ProcedureParams, _> = serde_urlencoded::from_str(&raw);
    let mut page = ListPage {
        frame,
        departments_list,
        q: String::new(),
        agency: String::new(),
        online: String::new(),
        error: None,
        total: 0,
        items: Vec::new(),
        next_url: None,
    };
    let params = match parsed {
        Ok(p) => p,
        Err(_) => {
            page.error = Some("Địa chỉ tìm kiếm không hợp lệ.".to_owned());
            return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
        }
    };
    page.q = params.q.clone().unwrap_or_default();
    page.agency = params.agency.clone().unwrap_or_default();
    page.online = params.online.clone().unwrap_or_default();
    let search = match search_params(&params) {
        Ok(s) => s,
        Err(e) => {
            page.error = Some(e.parts().2);
            return Ok((StatusCode::BAD_REQUEST, render(&page)).into_response());
        }
    };
    let province = state.province(params.province.as_deref()).await?;
    let index = state.index.get(&state.db, &province).await?;
    let result = index.search(&search);
    page.total = result.total;
    page.items = result
        .items
        .iter()
        .map(|s: &&ProcedureSummary| {
            let agency = names
                .get(s.agency_code.as_str())
                .cloned()
                .unwrap_or_else(|| s.agency_code.to_string());
            Hit::of(s, agency)
        })
        .collect();
    // The next page keeps every filter of this one and moves the cursor on.
    page.next_url = result.next.as_ref().map(|c| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            if k != "cursor" && !v.is_empty() {
                q.append_pair(&k, &v);
            }
        }
        q.append_pair("cursor", &encode_cursor(c));
        format!("/thu-tuc?{}", q.finish())
    });
    Ok(render(&page))
}

struct DocRow {
    name: String,
    originals: u16,
    copies: u16,
    required: bool,
    note: String,
    form: String,
}

#[derive(Template)]
#[template(path = "procedure.html")]
struct ProcedurePage {
    frame: Frame,
    code: String,
    name: String,
    agency: String,
    field: String,
    deadline: String,
    place: String,
    online: String,
    /// Whether the page offers online filing (the rule the intake applies).
    online_filing: bool,
    applicants: String,
    sets: u16,
    documents: Vec<DocRow>,
    fees: Vec<(String, String, String)>,
    description: Vec<String>,
    steps: Vec<(String, String, String)>,
    results: Vec<String>,
    legal_basis: Vec<String>,
    version: u32,
    updated: String,
}

/// A procedure's fees as its pages list them: name, the case it applies to, amount.
pub fn fee_rows(fees: &[FeeItem]) -> Vec<(String, String, String)> {
    fees.iter()
        .map(|f| {
            (
                f.name.clone(),
                f.option.clone().unwrap_or_else(|| "Mọi trường hợp".to_owned()),
                f.amount.to_string(),
            )
        })
        .collect()
}

/// `GET /thu-tuc/{code}`: everything a person needs before coming.
pub async fn procedure(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let code = ProcedureCode::parse(&code).map_err(|e| AppError::code("code", e))?;
    let province = state.province(None).await?;
    let mut tx = state.db.begin_read().await?;
    let p = catalogue::procedure(&mut tx, &province, &code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Không có thủ tục mã {code}.")))?;
    let agencies = catalogue::agencies(&mut tx, &province).await?;
    let fields = catalogue::fields(&mut tx, &province).await?;
    drop(tx);
    let c = &p.content;
    let agency_name = |code: &motcua_core::codes::AgencyCode| {
        agencies
            .iter()
            .find(|a| &a.code == code)
            .map_or_else(|| code.to_string(), |a| a.name.clone())
    };
    let centre = agencies.iter().find(|a| a.kind == AgencyKind::Centre);
    let place = if c.at_centre {
        centre.map_or_else(String::new, |a| format!("{} — {}", a.name, a.address))
    } else {
        format!("{} (không tiếp nhận tại Trung tâm)", agency_name(&c.agency))
    };
    let online = format!(
        "{} (mức độ {}){}",
        c.online_mode.label(),
        c.service_level,
        if c.accepts_online_filing() {
            " — có thể nộp hồ sơ trực tuyến"
        } else {
            ""
        }
    );
    let page = ProcedurePage {
        frame: Frame::new(&state, viewer.0.as_ref()).await?,
        code: code.to_string(),
        name: c.name.clone(),
        agency: agency_name(&c.agency),
        field: fields
            .iter()
            .find(|f| f.code == c.field)
            .map_or_else(|| c.field.to_string(), |f| f.name.clone()),
        deadline: working_time(c.processing_time.working_hours()),
        place,
        online,
        online_filing: c.accepts_online_filing(),
        applicants: c
            .applicants
            .iter()
            .map(|a| match a {
                ApplicantKind::Citizen => "Công dân",
                ApplicantKind::Organisation => "Tổ chức, doanh nghiệp",
            })
            .collect::<Vec<_>>()
            .join(", "),
        sets: c.sets,
        documents: c
            .documents
            .iter()
            .map(|d| DocRow {
                name: d.name.clone(),
                originals: d.originals,
                copies: d.copies,
                required: d.required,
                note: d.note.clone(),
                form: d.form.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
            })
            .collect(),
        fees: fee_rows(&c.fees),
        description: c
            .description
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.trim().is_empty())
            .collect(),
        steps: c
            .steps
            .iter()
            .map(|s| {
                let who = match s.role {
                    StepRole::Counter => "Bộ phận Một cửa".to_owned(),
                    StepRole::Officer => "Chuyên viên phòng chuyên môn".to_owned(),
                    StepRole::Leader => "Lãnh đạo cơ quan".to_owned(),
                    StepRole::OtherAgency => s
                        .agency
                        .as_ref()
                        .map_or_else(|| "Cơ quan phối hợp".to_owned(), &agency_name),
                };
                (s.name.clone(), who, working_time(s.budget_hours))
            })
            .collect(),
        results: c.results.clone(),
        legal_basis: c.legal_basis.clone(),
        version: p.version,
        updated: p
            .created_at
            .to_offset(time::macros::offset!(+7))
            .format(time::macros::format_description!("[day]/[month]/[year]"))
            .unwrap_or_default(),
    };
    Ok(render(&page))
}

/// Fallback for unknown paths: a JSON 404 under `/api/`, a Vietnamese page elsewhere.
pub async fn not_found(State(state): State<AppState>, viewer: Viewer, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return AppError::NotFound(format!("Không có địa chỉ API {}.", uri.path())).into_response();
    }
    let error = PageError(AppError::NotFound(
        "Trang bạn tìm không tồn tại hoặc đã được chuyển đi.".to_owned(),
    ));
    // The province in the title and the viewer's navigation, as on every other page.
    match Frame::new(&state, viewer.0.as_ref()).await {
        Ok(frame) => error.page(frame),
        Err(_) => error.into_response(),
    }
}
