//! Official documents over HTTP: a dossier's forms as PDF (ready for the counter's
//! printer), the register of an agency for a period as PDF and XLSX, and the dossier work
//! list as XLSX.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::dossier::{Channel, Status};
use motcua_core::rules::RuleSet;
use motcua_docs::dossier_xlsx::{Cell, Column, DOSSIER_COLUMNS, ExportError, REGISTER_COLUMNS, SheetWriter};
use motcua_pdf::Form;
use motcua_store::dossiers::{self, Stored};
use motcua_store::forms::{RegisterCursor, RegisterFilter, register_page};
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime, Time};
use utoipa::IntoParams;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::forms::{self, Letterhead, short_date};
use crate::state::AppState;

/// Most dossiers a register PDF lists; longer periods are exported as XLSX.
pub const MAX_REGISTER_PDF_ROWS: usize = 2_000;
/// Dossiers read from the database at a time by exports.
const PAGE: u32 = 200;

/// Which document of a kind.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FormParams {
    /// The number of the notice among those of its kind (1, 2, …), or for the control
    /// sheet the history step it was drawn at; the latest when omitted.
    pub n: Option<i64>,
    /// Which drawing of it: 1 for the first issue, 2, … for re-issues; the current one
    /// when omitted (earlier drawings are kept as they were issued).
    pub r: Option<i64>,
}

/// `bytes` as a download of `content_type` named `name`, shown `inline` or saved as an
/// `attachment` (`disposition`), not kept by caches.
pub(crate) fn attachment(bytes: Vec<u8>, content_type: &'static str, disposition: &str, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{name}\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}

/// The ASCII file name of a dossier's document: `<code>-<kind>.pdf`.
fn file_name(code: &str, form: Form, ordinal: i64, latest: bool) -> String {
    if latest || matches!(form, Form::Receipt) {
        format!("{code}-{}.pdf", form.slug())
    } else {
        format!("{code}-{}-{ordinal}.pdf", form.slug())
    }
}

/// `GET /api/v1/dossiers/{code}/forms/{kind}.pdf`: a dossier's official document as PDF,
/// shown inline so the counter's browser opens it ready to print. `kind` is `receipt`,
/// `supplement-request`, `refusal`, `apology`, `stop-notice` or `control-sheet`. The same
/// people who may see the dossier may download it. The stored copy is returned; a
/// document not yet stored is drawn, stored and recorded now. 404 when the dossier has no
/// such document (yet).
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/forms/{file}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ"),
        ("file" = String, Path, description = "Loại văn bản và đuôi .pdf, ví dụ receipt.pdf"), FormParams),
    responses((status = 200, description = "Văn bản PDF", content_type = "application/pdf"), (status = 404, body = ErrorBody)))]
pub async fn dossier_form(
    State(state): State<AppState>,
    p: Principal,
    Path((code, file)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<FormParams>,
) -> Result<Response, AppError> {
    let kinds = || {
        forms::DOSSIER_FORMS
            .iter()
            .map(|f| format!("{}.pdf", f.slug()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let form = file
        .strip_suffix(".pdf")
        .and_then(Form::from_slug)
        .filter(|f| forms::DOSSIER_FORMS.contains(f))
        .ok_or_else(|| AppError::NotFound(format!("Không có văn bản «{file}». Các văn bản: {}.", kinds())))?;
    let (stored, _) = crate::service::dossiers::load_visible(&state, &p, &code).await?;
    let (pdf, ordinal) = forms::document(&state, &stored, form, q.n, q.r).await?;
    let d = &stored.dossier;
    if !crate::service::dossiers::reads_own(&p, d) {
        // Forms carry identity papers and phone numbers: staff downloads are audited like views.
        let mut tx = state.db.begin_write().await?;
        audit::record(
            &mut tx,
            &Actor::of(&p),
            Event {
                action: "dossier.form",
                object_type: "dossier",
                object_id: d.code.as_str(),
                province: Some(d.province.as_str()),
                before: None,
                after: Some(json!({"form": form.slug(), "n": ordinal, "r": q.r})),
            },
        )
        .await?;
        tx.commit().await?;
    }
    let name = file_name(d.code.as_str(), form, ordinal, q.n.is_none());
    Ok(attachment(pdf, "application/pdf", "inline", &name))
}

/// `POST /api/v1/dossiers/{code}/reissue-forms`: draws the dossier's issued documents
/// again with today's settings (the public address in the receipt's QR code, agencies'
/// names). Each document whose drawing changes gets a new revision; the one issued before
/// is kept, marked replaced, and can still be downloaded with `?r=`. Only a system
/// administrator of the dossier's province; audited (`dossier.forms_reissued`).
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/reissue-forms", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = crate::service::dossiers::Reissue), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reissue(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<axum::Json<crate::service::dossiers::Reissue>, AppError> {
    Ok(axum::Json(crate::service::dossiers::reissue(&state, &p, &code).await?))
}

/// Register parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RegisterParams {
    /// Province; the default province when omitted.
    pub province: Option<String>,
    /// The agency whose register it is (dossiers it received or is responsible for); the
    /// province's one-stop centre when omitted.
    pub agency: Option<String>,
    /// First day received, `YYYY-MM-DD` (default: the first of this month).
    pub from: Option<String>,
    /// Last day received, `YYYY-MM-DD`, included (default: today).
    pub to: Option<String>,
}

/// A register request, checked.
pub struct RegisterQuery {
    /// The dossiers listed.
    pub filter: RegisterFilter,
    /// The first and last day, as asked.
    pub days: (Date, Date),
}

fn parse_day(field: &str, s: &str) -> Result<Date, AppError> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        AppError::bad(
            "invalid_parameter",
            field,
            "Ngày phải có dạng YYYY-MM-DD, ví dụ 2026-02-13.",
        )
    })
}

fn start_of(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT)
        .assume_offset(motcua_core::calendar::VIETNAM_OFFSET)
}

/// Records in the audit trail that `p` exported a list of dossiers with their applicants'
/// personal data (names, addresses, phone numbers): a bulk read is audited like a view.
async fn audit_export(
    state: &AppState,
    p: &Principal,
    province: &ProvinceCode,
    action: &'static str,
    object_id: &str,
    what: Value,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            action,
            object_type: "dossier_list",
            object_id,
            province: Some(province.as_str()),
            before: None,
            after: Some(what),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the export of the register `rq` in `format`.
async fn audit_register(state: &AppState, p: &Principal, rq: &RegisterQuery, format: &str) -> Result<(), AppError> {
    let what = json!({"agency": rq.filter.agency, "from": rq.days.0.to_string(), "to": rq.days.1.to_string(), "format": format});
    audit_export(
        state,
        p,
        &rq.filter.province,
        "dossier.register_export",
        rq.filter.agency.as_str(),
        what,
    )
    .await
}

/// Checks a register request and the caller's right to see the agency's dossiers.
pub async fn register_query(state: &AppState, p: &Principal, q: RegisterParams) -> Result<RegisterQuery, AppError> {
    let province = state.province(q.province.as_deref()).await?;
    let agency = match q.agency.as_deref().filter(|a| !a.is_empty()) {
        Some(a) => AgencyCode::parse(a).map_err(|e| AppError::code("agency", e))?,
        // The caller's own centre when they work at one, else the provincial centre.
        None => {
            let dir = crate::service::dossiers::directory(state, &province).await?;
            p.access
                .grants()
                .iter()
                .filter(|g| g.province == province)
                .map(|g| &g.agency)
                .find(|a| dir.tree.get(a).is_some_and(|a| a.kind.is_centre()))
                .cloned()
                .or_else(|| dir.centre())
                .ok_or_else(|| AppError::NotFound("Tỉnh chưa khai báo Trung tâm Phục vụ hành chính công.".to_owned()))?
        }
    };
    p.require(
        p.access.can_see_agency_dossiers(&province, &agency),
        "xem sổ theo dõi hồ sơ của cơ quan này",
    )?;
    let today = state
        .clock
        .now()
        .to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .date();
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day("from", s)?,
        None => today.replace_day(1).unwrap_or(today),
    };
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day("to", s)?,
        None => today,
    };
    if to < from {
        return Err(AppError::bad(
            "invalid_parameter",
            "to",
            "Ngày cuối kỳ phải sau hoặc trùng ngày đầu kỳ.",
        ));
    }
    Ok(RegisterQuery {
        filter: RegisterFilter {
            province,
            agency,
            from: start_of(from),
            to: start_of(to) + Duration::days(1),
        },
        days: (from, to),
    })
}

/// Reads a register page by page (keyset on the time received and the id).
pub struct RegisterPager {
    filter: RegisterFilter,
    after: Option<RegisterCursor>,
    done: bool,
}

impl RegisterPager {
    /// A pager at the start of the register.
    pub fn new(filter: RegisterFilter) -> Self {
        Self {
            filter,
            after: None,
            done: false,
        }
    }

    /// The next page: each dossier with when it was first handed to the department.
    /// `None` after the last page.
    pub async fn next(&mut self, state: &AppState) -> Result<Option<Vec<(Stored, Option<OffsetDateTime>)>>, AppError> {
        if self.done {
            return Ok(None);
        }
        let mut tx = state.db.begin_read().await?;
        let page = register_page(&mut tx, &self.filter, self.after, PAGE).await?;
        let ids: Vec<i64> = page.iter().map(|(s, _)| s.id).collect();
        let transfers = motcua_store::forms::first_event_at(&mut tx, &ids, "transfer").await?;
        drop(tx);
        self.done = page.len() < PAGE as usize;
        self.after = page.last().map(|(s, at)| (*at, s.id));
        if page.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            page.into_iter()
                .map(|(s, _)| {
                    let t = transfers.get(&s.id).copied();
                    (s, t)
                })
                .collect(),
        ))
    }
}

/// One line of the register for the PDF.
fn register_line(
    no: usize,
    s: &Stored,
    transferred: Option<OffsetDateTime>,
    lh: &Letterhead,
    rules: &RuleSet,
) -> Value {
    let d = &s.dossier;
    let contact = [d.applicant.address.as_str(), d.applicant.phone.as_str()]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let note = match d.status {
        Status::Refused | Status::Withdrawn | Status::Stopped => rules.status_label(d.status).to_owned(),
        _ if d.extensions > 0 => format!("Gia hạn {} lần", d.extensions),
        _ => String::new(),
    };
    json!({
        "no": no,
        "code": d.code.as_str(),
        "procedure": d.procedure_name,
        "sets": d.sets,
        "applicant": d.applicant.name,
        "contact": contact,
        "agency": lh.name(d.responsible_agency.as_str()),
        "received": d.received_at.map(short_date).unwrap_or_default(),
        "due": d.due_at.map(short_date).unwrap_or_default(),
        "transferred": transferred.map(short_date).unwrap_or_default(),
        "finished": d.finished_at.filter(|_| forms::has_result(d.status)).map(short_date).unwrap_or_default(),
        "returned": d.returned_at.map(short_date).unwrap_or_default(),
        "note": note,
    })
}

fn day_text(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// `GET /api/v1/register.pdf?agency=&from=&to=`: the register (sổ theo dõi hồ sơ, form 07)
/// of an agency for a period: one line per dossier received, oldest first. For staff who
/// may see that agency's dossiers; at most 2 000 lines (use `register.xlsx` beyond).
#[utoipa::path(get, path = "/api/v1/register.pdf", tag = "dossiers", params(RegisterParams),
    responses((status = 200, description = "Sổ theo dõi hồ sơ (PDF)", content_type = "application/pdf"), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn register_pdf(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<RegisterParams>,
) -> Result<Response, AppError> {
    let rq = register_query(&state, &p, q).await?;
    audit_register(&state, &p, &rq, "pdf").await?;
    let lh = Letterhead::load(&state, &rq.filter.province).await?;
    let rules = crate::service::rules::now(&state).await?;
    let mut rows: Vec<Value> = Vec::new();
    let mut pager = RegisterPager::new(rq.filter.clone());
    while let Some(page) = pager.next(&state).await? {
        for (s, transferred) in page {
            if rows.len() >= MAX_REGISTER_PDF_ROWS {
                return Err(AppError::Invalid(motcua_core::catalogue::Invalid::new(
                    "to",
                    format!(
                        "Kỳ đã chọn có hơn {MAX_REGISTER_PDF_ROWS} hồ sơ; hãy chọn kỳ ngắn hơn hoặc tải sổ dạng Excel (register.xlsx)."
                    ),
                )));
            }
            rows.push(register_line(rows.len() + 1, &s, transferred, &lh, &rules));
        }
    }
    let now = state.clock.now();
    let (from, to) = rq.days;
    let agency = rq.filter.agency.as_str();
    let place = format!(
        "{}, ngày {:02} tháng {:02} năm {}",
        lh.province_name,
        now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).day(),
        u8::from(now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).month()),
        now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).year()
    );
    let rules = crate::service::rules::book(&state).await?;
    let data = json!({
        "form": forms::form_heading(&rules, Form::Register, now),
        "issuer": lh.issuer(agency),
        "place_date": place,
        "number": "",
        "from": day_text(from),
        "to": day_text(to),
        "rows": rows,
    });
    let ident = format!("register/{agency}/{from}/{to}");
    let pdf = forms::render(&state, Form::Register, data, now, ident).await?;
    let name = format!("so-theo-doi-{agency}-{from}-{to}.pdf");
    Ok(attachment(pdf, "application/pdf", "inline", &name))
}

/// Streams `body` as the response (used by the XLSX exports, written to a temporary file).
pub fn file_response(file: tokio::fs::File, content_type: &'static str, name: &str) -> Response {
    let stream = tokio_util::io::ReaderStream::new(file);
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}

/// The media type of XLSX workbooks (every download of one, and its OpenAPI description).
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

type Page = Vec<Vec<Cell>>;

/// A workbook being written on a blocking thread, one page at a time, into an anonymous
/// temporary file. Holds one [`AppState::cpu`] permit until finished.
struct XlsxExport {
    pages: tokio::sync::mpsc::Sender<Page>,
    writer: tokio::task::JoinHandle<Result<std::fs::File, AppError>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl XlsxExport {
    async fn start(state: &AppState, sheet: &'static str, columns: &'static [Column]) -> Result<Self, AppError> {
        let permit = state.cpu_permit().await?;
        // Two pages in flight at most: the database read and the writing overlap, memory stays flat.
        let (pages, mut rx) = tokio::sync::mpsc::channel::<Page>(2);
        let writer = tokio::task::spawn_blocking(move || -> Result<std::fs::File, AppError> {
            let fail = |e: ExportError| match e {
                ExportError::TooManyRows => {
                    AppError::Invalid(motcua_core::catalogue::Invalid::new("to", e.to_string()))
                }
                other => AppError::Internal(other.to_string()),
            };
            let mut w = SheetWriter::new(sheet, columns).map_err(fail)?;
            while let Some(page) = rx.blocking_recv() {
                for row in &page {
                    w.push(row).map_err(fail)?;
                }
            }
            let mut file = tempfile::tempfile().map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
            w.finish(&mut file).map_err(fail)?;
            std::io::Seek::rewind(&mut file).map_err(|e| AppError::Internal(format!("temporary file: {e}")))?;
            Ok(file)
        });
        Ok(Self {
            pages,
            writer,
            _permit: permit,
        })
    }

    /// Hands a page to the writer; `false` when the writer has stopped (it failed, and
    /// [`XlsxExport::finish`] says why).
    async fn send(&self, page: Page) -> bool {
        self.pages.send(page).await.is_ok()
    }

    /// Closes the workbook; returns the file, rewound.
    async fn finish(self) -> Result<tokio::fs::File, AppError> {
        drop(self.pages);
        let file = self
            .writer
            .await
            .map_err(|e| AppError::Internal(format!("export task: {e}")))??;
        Ok(tokio::fs::File::from_std(file))
    }
}

/// `GET /api/v1/register.xlsx?agency=&from=&to=`: the register of an agency for a period
/// as an Excel workbook (one line per dossier received, dates as Excel dates, fees as
/// numbers, the header frozen), streamed however long the period.
#[utoipa::path(get, path = "/api/v1/register.xlsx", tag = "dossiers", params(RegisterParams),
    responses((status = 200, description = "Sổ theo dõi hồ sơ (XLSX)",
            content_type = XLSX), (status = 403, body = ErrorBody)))]
pub async fn register_xlsx(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<RegisterParams>,
) -> Result<Response, AppError> {
    let rq = register_query(&state, &p, q).await?;
    audit_register(&state, &p, &rq, "xlsx").await?;
    let lh = Letterhead::load(&state, &rq.filter.province).await?;
    let rules = crate::service::rules::now(&state).await?;
    let export = XlsxExport::start(&state, "Sổ theo dõi hồ sơ", REGISTER_COLUMNS).await?;
    let mut pager = RegisterPager::new(rq.filter.clone());
    let mut no: i64 = 0;
    while let Some(page) = pager.next(&state).await? {
        let rows = page
            .into_iter()
            .map(|(s, transferred)| {
                no += 1;
                register_cells(no, &s, transferred, &lh, &rules)
            })
            .collect();
        if !export.send(rows).await {
            break;
        }
    }
    let file = export.finish().await?;
    let (from, to) = rq.days;
    let name = format!("so-theo-doi-{}-{from}-{to}.xlsx", rq.filter.agency.as_str());
    Ok(file_response(file, XLSX, &name))
}

fn fee_total(d: &motcua_core::lifecycle::Dossier) -> Cell {
    let total = d
        .fees
        .iter()
        .try_fold(motcua_core::money::Vnd(0), |sum, f| sum.checked_add(f.amount))
        .unwrap_or(motcua_core::money::Vnd::MAX);
    Cell::Money(total)
}

fn register_cells(
    no: i64,
    s: &Stored,
    transferred: Option<OffsetDateTime>,
    lh: &Letterhead,
    rules: &RuleSet,
) -> Vec<Cell> {
    let line = register_line(0, s, None, lh, rules);
    let d = &s.dossier;
    let text = |k: &str| Cell::text(line[k].as_str().unwrap_or_default());
    vec![
        Cell::Number(no),
        Cell::text(d.code.as_str()),
        Cell::text(d.procedure_name.clone()),
        Cell::Number(i64::from(d.sets)),
        Cell::text(d.applicant.name.clone()),
        text("contact"),
        text("agency"),
        Cell::datetime(d.received_at),
        Cell::datetime(d.due_at),
        Cell::datetime(transferred),
        Cell::datetime(d.finished_at.filter(|_| forms::has_result(d.status))),
        Cell::datetime(d.returned_at),
        fee_total(d),
        text("note"),
    ]
}

super::dossiers::work_list_params! {
    /// Filters of the dossier export: those of `GET /api/v1/dossiers`, without paging.
    pub struct ExportParams {}
}

/// `GET /api/v1/dossiers.xlsx`: the work list as an Excel workbook, with the filters of
/// `GET /api/v1/dossiers` (newest first, every page), streamed however many dossiers match.
#[utoipa::path(get, path = "/api/v1/dossiers.xlsx", tag = "dossiers", params(ExportParams),
    responses((status = 200, description = "Danh sách hồ sơ (XLSX)",
            content_type = XLSX), (status = 403, body = ErrorBody)))]
pub async fn dossiers_xlsx(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ExportParams>,
) -> Result<Response, AppError> {
    let mut filter = crate::service::dossiers::work_list_filter(&state, &p, q.query()).await?;
    crate::service::dossiers::due_filter(&state, &mut filter, q.due.as_deref()).await?;
    filter.limit = dossiers::MAX_LIST_LIMIT;
    let province = filter.province.clone();
    let what = json!({
        "status": q.status, "agency": q.agency, "overdue": q.overdue, "due": q.due,
        "assignee": q.assignee, "procedure": q.procedure, "format": "xlsx",
    });
    audit_export(
        &state,
        &p,
        &province,
        "dossier.list_export",
        q.agency.as_deref().unwrap_or_default(),
        what,
    )
    .await?;
    let now = filter.now;
    let dir = crate::service::dossiers::directory(&state, &province).await?;
    let rules = crate::service::rules::now(&state).await?;
    let export = XlsxExport::start(&state, "Danh sách hồ sơ", DOSSIER_COLUMNS).await?;
    loop {
        let page = {
            let mut read = state.db.begin_read().await?;
            dossiers::list(&mut read, &filter).await?
        };
        let full = page.len() == filter.limit as usize;
        filter.before_id = page.last().map(|s| s.id);
        let rows = page
            .iter()
            .map(|s| {
                let d = &s.dossier;
                vec![
                    Cell::text(d.code.as_str()),
                    Cell::text(d.procedure.as_str()),
                    Cell::text(d.procedure_name.clone()),
                    Cell::Number(i64::from(d.status.code())),
                    Cell::text(rules.label(d.status)),
                    Cell::text(match d.channel {
                        Channel::Counter => "Trực tiếp",
                        Channel::Online => "Trực tuyến",
                        Channel::Post => "Bưu chính",
                    }),
                    Cell::text(d.applicant.name.clone()),
                    Cell::text(dir.name(d.current_agency.as_str())),
                    Cell::text(d.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_default()),
                    Cell::DateTime(d.created_at),
                    Cell::datetime(d.received_at),
                    Cell::datetime(d.due_at),
                    Cell::datetime(d.finished_at.filter(|_| forms::has_result(d.status))),
                    Cell::datetime(d.returned_at),
                    fee_total(d),
                    Cell::text(if d.is_overdue(now) { "Có" } else { "" }),
                ]
            })
            .collect();
        if !export.send(rows).await || !full {
            break;
        }
    }
    let file = export.finish().await?;
    Ok(file_response(file, XLSX, "danh-sach-ho-so.xlsx"))
}
