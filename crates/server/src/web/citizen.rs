//! Pages of the citizen area: registration (`/dang-ky`), my dossiers (`/ca-nhan`), online
//! filing step by step (`/ca-nhan/nop/{procedure}`) and one of my dossiers
//! (`/ca-nhan/ho-so/{code}`: status, appointment, history, answering a supplement
//! request, withdrawing, rating the service).
//!
//! With the page's script running, every form posts to the JSON API through `app.js`:
//! registration to `/api/v1/citizens/*`, filing to `POST /api/v1/dossiers` (each checklist
//! row uploads its files at once and keeps their ids; `data-draft` keeps what was typed and
//! uploaded in the browser, so a reload or a refused submit loses nothing), the dossier's
//! actions to `/api/v1/dossiers/{code}/actions/*` and the rating to
//! `/api/v1/dossiers/{code}/rating`. Without the script, registration (`POST /dang-ky`,
//! `/dang-ky/xac-nhan`, `/dang-ky/gui-lai-ma`) and filing (`POST /ca-nhan/nop/{procedure}`,
//! multipart with the files) are posted here and go through the same API functions; the
//! dossier's actions need the script (they post to `/can-javascript`, which says so).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use motcua_core::catalogue::{ApplicantKind, OnlineMode, working_time};
use motcua_core::codes::ProcedureCode;
use motcua_core::dossier::Status;
use motcua_core::lifecycle::NoticeKind;
use motcua_store::accounts::UserKind;
use motcua_store::{catalogue, dossiers, ratings};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::filing::{Desk, Kept, Typed};
use super::form::{self, PreSessionForm, page_with_status};
use super::{Frame, SignedIn, Viewer, day, encode, page, require, when};
use crate::auth::{ClientIp, Principal};
use crate::error::AppError;
use crate::service::citizens::{self, CitizenError, CodeChannel, ConfirmRequest, RegisterRequest, ResendRequest};
use crate::service::dossiers::{WorkListQuery, directory, load_visible, work_list_filter};
use crate::service::ratings::{Satisfaction, ratable};
use crate::state::AppState;
use crate::web::pages::{PageError, fee_rows};

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dang-ky", get(register).post(register_submit))
        .route("/dang-ky/xac-nhan", get(confirm).post(confirm_submit))
        .route("/dang-ky/gui-lai-ma", axum::routing::post(resend_submit))
        .route("/ca-nhan", get(mine))
        .route("/ca-nhan/nop/{procedure}", get(file).post(file_submit))
        .route("/ca-nhan/ho-so/{code}", get(dossier))
}

/// Most dossiers listed on `/ca-nhan`.
const LIST_LIMIT: u32 = 100;

fn is_citizen(p: &Principal) -> bool {
    p.user.as_ref().is_some_and(|u| u.kind == UserKind::Citizen)
}

fn user_id(p: &Principal) -> &str {
    p.user.as_ref().map_or("", |u| u.id.as_str())
}

/// An RFC 3339 instant (as the API's views carry them) in Vietnam time, `dd/mm/yyyy HH:MM`.
fn when_rfc(s: &str) -> String {
    OffsetDateTime::parse(s, &Rfc3339).map(when).unwrap_or_default()
}

// ---------------------------------------------------------------- registration

#[derive(Template)]
#[template(path = "citizen/register.html")]
struct RegisterPage {
    frame: Frame,
    /// What was typed, when the form comes back with an error (never the password).
    display_name: String,
    email: String,
    phone: String,
    error: String,
}

/// Status and message of a refused registration step, for the page that shows it.
fn citizen_error(e: CitizenError) -> Result<(StatusCode, String), PageError> {
    match e {
        CitizenError::App(e) => form::refusal(e),
        CitizenError::Coded { status, message, .. } => Ok((status, message)),
    }
}

/// The confirmation step's address: the pending registration, where its code went and how.
fn confirm_url(id: &str, destination: &str, channel: &str) -> String {
    format!(
        "/dang-ky/xac-nhan?id={}&d={}&c={}",
        encode(id),
        encode(destination),
        encode(channel)
    )
}

/// `GET /dang-ky`: the registration form (step 1: name, email or phone, password).
pub async fn register(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if viewer.0.is_some() {
        return Ok(Redirect::to("/ca-nhan").into_response());
    }
    Ok(page(&RegisterPage {
        frame: Frame::new(&state, None).await?,
        display_name: String::new(),
        email: String::new(),
        phone: String::new(),
        error: String::new(),
    }))
}

/// `POST /dang-ky`: step 1 sent by the browser itself: the API's registration (same
/// checks, limits and audit record) sends the code, then on to step 2; a refusal sends the
/// form back with its message and what was typed, except the password.
pub async fn register_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PreSessionForm { form, .. }: PreSessionForm,
) -> Result<Response, PageError> {
    let optional = |name: &str| Some(form.text(name)).filter(|v| !v.trim().is_empty());
    let request = RegisterRequest {
        display_name: form.text("display_name"),
        email: optional("email"),
        phone: optional("phone"),
        password: form.text("password"),
        province: None,
    };
    match citizens::register(&state, &ip, &request).await {
        Ok(sent) => {
            let channel = match sent.channel {
                CodeChannel::Email => "email",
                CodeChannel::Sms => "sms",
            };
            Ok(Redirect::to(&confirm_url(&sent.registration_id, &sent.destination, channel)).into_response())
        }
        Err(e) => {
            let (status, message) = citizen_error(e)?;
            let page_data = RegisterPage {
                frame: Frame::new(&state, None).await?,
                display_name: request.display_name,
                email: request.email.unwrap_or_default(),
                phone: request.phone.unwrap_or_default(),
                error: message,
            };
            Ok(page_with_status(&page_data, status))
        }
    }
}

/// `?id=&d=&c=`: the pending registration, where its code went and how.
#[derive(Debug, Deserialize)]
pub struct Pending {
    id: Option<String>,
    d: Option<String>,
    c: Option<String>,
    /// Set after a new code was sent.
    #[serde(rename = "da-gui")]
    resent: Option<String>,
}

#[derive(Template)]
#[template(path = "citizen/confirm.html")]
struct ConfirmPage {
    frame: Frame,
    registration_id: String,
    destination: String,
    by_sms: bool,
    /// The confirmation was refused (wrong code, expired…).
    error: String,
    /// A new code could not be sent.
    resend_error: String,
    /// A new code was just sent.
    resent: bool,
}

impl ConfirmPage {
    /// Step 2 of the pending registration `registration_id`, whose code went to
    /// `destination` by `channel`.
    async fn new(
        state: &AppState,
        registration_id: String,
        destination: String,
        channel: Option<&str>,
    ) -> Result<ConfirmPage, PageError> {
        Ok(ConfirmPage {
            frame: Frame::new(state, None).await?,
            registration_id,
            destination,
            by_sms: channel == Some("sms"),
            error: String::new(),
            resend_error: String::new(),
            resent: false,
        })
    }

    /// Step 2 again, for the registration a form of it posted.
    async fn of(state: &AppState, form: &form::FormData) -> Result<ConfirmPage, PageError> {
        Self::new(state, form.text("registration_id"), form.text("d"), form.get("c")).await
    }
}

/// `GET /dang-ky/xac-nhan?id=…`: step 2, the code received by email or SMS (and resending it).
pub async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Pending>,
) -> Result<Response, PageError> {
    if viewer.0.is_some() {
        return Ok(Redirect::to("/ca-nhan").into_response());
    }
    let Some(id) = q.id.filter(|i| !i.trim().is_empty()) else {
        return Ok(Redirect::to("/dang-ky").into_response());
    };
    let mut page_data = ConfirmPage::new(&state, id, q.d.unwrap_or_default(), q.c.as_deref()).await?;
    page_data.resent = q.resent.is_some();
    Ok(page(&page_data))
}

/// `POST /dang-ky/xac-nhan`: step 2 sent by the browser itself: the API's confirmation
/// creates the account and starts its session (the same cookie), then on to `/ca-nhan`; a
/// refusal sends the form back with its message.
pub async fn confirm_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PreSessionForm { form, user_agent }: PreSessionForm,
) -> Result<Response, PageError> {
    let request = ConfirmRequest {
        registration_id: form.text("registration_id"),
        code: form.text("code"),
    };
    match citizens::confirm(&state, &ip, &user_agent, &request).await {
        Ok(signed_in) => Ok(form::redirect_setting_session(&state, "/ca-nhan", &signed_in)?),
        Err(e) => {
            let (status, message) = citizen_error(e)?;
            let mut page_data = ConfirmPage::of(&state, &form).await?;
            page_data.error = message;
            Ok(page_with_status(&page_data, status))
        }
    }
}

/// `POST /dang-ky/gui-lai-ma`: «Gửi lại mã» sent by the browser itself, through the API's
/// resend; then back to step 2, which says a new code was sent, or shows why not. Like the
/// other pre-session forms, only from this site's own pages (`form::same_site`): another
/// site cannot make a visitor's browser send codes.
pub async fn resend_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PreSessionForm { form, .. }: PreSessionForm,
) -> Result<Response, PageError> {
    let request = ResendRequest {
        registration_id: form.text("registration_id"),
    };
    match citizens::resend(&state, &ip, &request).await {
        Ok(_) => {
            let back = confirm_url(&form.text("registration_id"), &form.text("d"), &form.text("c"));
            Ok(Redirect::to(&format!("{back}&da-gui=1")).into_response())
        }
        Err(e) => {
            let (status, message) = citizen_error(e)?;
            let mut page_data = ConfirmPage::of(&state, &form).await?;
            page_data.resend_error = message;
            Ok(page_with_status(&page_data, status))
        }
    }
}

// ---------------------------------------------------------------- my dossiers

/// Something the applicant should do about a dossier, with where to do it.
struct Todo {
    href: String,
    label: &'static str,
}

struct Line {
    code: String,
    procedure_name: String,
    status_code: u8,
    status_label: String,
    filed: String,
    appointment: String,
    overdue: bool,
    todo: Vec<Todo>,
}

#[derive(Template)]
#[template(path = "citizen/mine.html")]
struct MinePage {
    frame: Frame,
    lines: Vec<Line>,
    more: bool,
}

/// What the applicant must do now, by status (and whether the result was rated).
fn todo(code: &str, status: Status, rated: bool) -> Vec<Todo> {
    let at = |anchor: &str, label| Todo {
        href: format!("/ca-nhan/ho-so/{code}#{anchor}"),
        label,
    };
    let mut out = Vec::new();
    match status {
        Status::SupplementRequested => out.push(at("bo-sung", "Bổ sung hồ sơ")),
        Status::AwaitingPayment => out.push(at("nghia-vu-tai-chinh", "Nộp phí, lệ phí")),
        Status::Done => out.push(at("ket-qua", "Nhận kết quả")),
        _ => {}
    }
    if ratable(status) && !rated {
        out.push(at("danh-gia", "Đánh giá mức độ hài lòng"));
    }
    out
}

/// `GET /ca-nhan`: the signed-in citizen's dossiers, newest first, with what each asks of them.
pub async fn mine(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    require(is_citizen(&p), "xem khu vực dành cho công dân, doanh nghiệp")?;
    let mut filter = work_list_filter(
        &state,
        &p,
        WorkListQuery {
            province: None,
            status: None,
            agency: None,
            overdue: None,
            assignee: None,
            procedure: None,
        },
    )
    .await?;
    filter.limit = LIST_LIMIT;
    let now = filter.now;
    let mut tx = state.db.begin_read().await?;
    let rows = dossiers::list(&mut tx, &filter).await?;
    let labels = crate::service::rules::now(&state).await?;
    let mut lines = Vec::with_capacity(rows.len());
    for s in &rows {
        let d = &s.dossier;
        let rated = ratable(d.status) && ratings::of_dossier(&mut tx, s.id).await?.is_some();
        lines.push(Line {
            code: d.code.as_str().to_owned(),
            procedure_name: d.procedure_name.clone(),
            status_code: d.status.code(),
            status_label: labels.label(d.status),
            filed: when(d.created_at),
            appointment: d.due_at.map(day).unwrap_or_default(),
            overdue: d.is_overdue(now),
            todo: todo(d.code.as_str(), d.status, rated),
        });
    }
    drop(tx);
    Ok(page(&MinePage {
        frame: Frame::new(&state, Some(&p)).await?,
        more: rows.len() == LIST_LIMIT as usize,
        lines,
    }))
}

// ---------------------------------------------------------------- online filing

struct DocRow {
    index: usize,
    name: String,
    required: bool,
    originals: u16,
    copies: u16,
    note: String,
    form: String,
    /// Files already stored for the row (a post sent back with an error).
    kept: Vec<Kept>,
    /// Documents of the applicant's store the row may take («Dùng giấy tờ đã có»): id,
    /// label, chosen.
    offers: Vec<(i64, String, bool)>,
}

#[derive(Template)]
#[template(path = "citizen/file.html")]
struct FilePage {
    frame: Frame,
    code: String,
    name: String,
    agency: String,
    deadline: String,
    /// Value, label, chosen.
    kinds: Vec<(&'static str, &'static str, bool)>,
    documents: Vec<DocRow>,
    fee_options: Vec<String>,
    fees: Vec<(String, String, String)>,
    full_online: bool,
    draft: String,
    applicant_name: String,
    id_number: String,
    phone: String,
    email: String,
    address: String,
    /// Someone filing for the applicant under an authorisation, as typed.
    submitter: super::filing::SubmitterTyped,
    delivery: String,
    /// The communes that may decide it, when the citizen must name theirs: code, name,
    /// chosen.
    communes: Vec<(String, String, bool)>,
    /// The centres that may receive it and hand the result back, when there is a choice:
    /// code, name, chosen.
    centres: Vec<(String, String, bool)>,
    fee_option: String,
    note: String,
    /// Why the filing was refused, when the form comes back.
    error: String,
    /// Each problem, for the error summary and the fields.
    problems: form::Problems,
}

#[derive(Template)]
#[template(path = "citizen/not_online.html")]
struct NotOnlinePage {
    frame: Frame,
    code: String,
    name: String,
}

fn kind_label(k: ApplicantKind) -> (&'static str, &'static str) {
    match k {
        ApplicantKind::Citizen => ("citizen", "Cá nhân (công dân)"),
        ApplicantKind::Organisation => ("organisation", "Tổ chức, doanh nghiệp"),
    }
}

/// `GET /ca-nhan/nop/{procedure}`: the online filing form, in steps (procedure → applicant
/// → documents → delivery → review and submit). 403 with an explanation when the
/// procedure is not filed online.
pub async fn file(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    file_page(&state, &p, &code, None, String::new(), form::Problems::default()).await
}

/// `POST /ca-nhan/nop/{procedure}`: the filing form sent by the browser itself, as
/// multipart with the chosen files. Checked like every form of a session (cookie and CSRF
/// token); the files go through the API's upload and the dossier through the API's filing,
/// then on to the new dossier as after the script's filing. A refusal sends the form back
/// with its message, what was typed and the files already stored.
pub async fn file_submit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    request: Request,
) -> Result<Response, PageError> {
    let procedure = ProcedureCode::parse(&code).map_err(|e| AppError::code("procedure", e))?;
    let back = format!("/ca-nhan/nop/{procedure}");
    let posted = match super::filing::receive(&state, request, &back).await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let p = posted.principal.clone();
    require(
        is_citizen(&p),
        "nộp hồ sơ trực tuyến (chỉ dành cho tài khoản công dân, doanh nghiệp)",
    )?;
    let (typed, filed) = super::filing::file(&state, &posted, procedure.as_str(), Desk::Online).await?;
    match filed {
        Ok(code) => Ok(Redirect::to(&format!("/ca-nhan/ho-so/{code}?moi=1")).into_response()),
        Err(e) => {
            let problems = form::Problems::of(&e);
            let (status, message) = form::refusal(e)?;
            let r = file_page(&state, &p, procedure.as_str(), Some(typed), message, problems).await?;
            Ok(form::with_status(r, status))
        }
    }
}

/// The filing form of procedure `code`, blank (from the account's details) or as typed.
async fn file_page(
    state: &AppState,
    p: &Principal,
    code: &str,
    typed: Option<Typed>,
    error: String,
    problems: form::Problems,
) -> Result<Response, PageError> {
    require(
        is_citizen(p),
        "nộp hồ sơ trực tuyến (chỉ dành cho tài khoản công dân, doanh nghiệp)",
    )?;
    let code = ProcedureCode::parse(code).map_err(|e| AppError::code("procedure", e))?;
    let province = state.province(None).await?;
    let version = {
        let mut tx = state.db.begin_read().await?;
        catalogue::procedure(&mut tx, &province, &code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Không có thủ tục mã {code}.")))?
    };
    let c = &version.content;
    let frame = Frame::new(state, Some(p)).await?;
    if !c.accepts_online_filing() {
        let mut r = page(&NotOnlinePage {
            frame,
            code: code.to_string(),
            name: c.name.clone(),
        });
        *r.status_mut() = StatusCode::FORBIDDEN;
        return Ok(r);
    }
    let dir = directory(state, &province).await?;
    let mut fee_options: Vec<String> = c.fees.iter().filter_map(|f| f.option.clone()).collect();
    fee_options.dedup();
    let user = p.user.as_ref();
    let field = |f: fn(&motcua_store::accounts::User) -> &String| user.map(f).cloned().unwrap_or_default();
    let mut typed = typed.unwrap_or_else(|| Typed {
        name: field(|u| &u.display_name),
        id_number: field(|u| &u.citizen_id),
        phone: field(|u| &u.phone),
        email: field(|u| &u.email),
        delivery: "counter".to_owned(),
        ..Typed::default()
    });
    // What the applicant's store offers the checklist (the account's own stores only; none
    // for an ID number the account does not open).
    let offers = crate::service::documents::offers(
        state,
        p,
        &crate::service::documents::OfferQuery {
            procedure: code.to_string(),
            province: None,
            id_number: Some(typed.id_number.clone()).filter(|i| !i.trim().is_empty()),
            consent: false,
        },
    )
    .await
    .unwrap_or_default();
    let choices = crate::service::dossiers::reception::online_choices(&dir, c);
    let chosen = |list: Vec<(motcua_core::codes::AgencyCode, String)>, typed: &str| {
        list.into_iter()
            .map(|(code, name)| {
                let code = code.as_str().to_owned();
                let on = code == typed;
                (code, name, on)
            })
            .collect::<Vec<_>>()
    };
    let communes = chosen(choices.communes, &typed.commune);
    let centres = chosen(choices.centres, &typed.centre);
    let page_data = FilePage {
        communes,
        centres,
        frame,
        code: code.to_string(),
        name: c.name.clone(),
        agency: dir.name(c.agency.as_str()),
        deadline: working_time(c.processing_time.working_hours()),
        kinds: c
            .applicants
            .iter()
            .map(|k| {
                let (value, label) = kind_label(*k);
                (value, label, typed.kind == value)
            })
            .collect(),
        documents: c
            .documents
            .iter()
            .enumerate()
            .map(|(index, d)| DocRow {
                index,
                name: d.name.clone(),
                required: d.required,
                originals: d.originals,
                copies: d.copies,
                note: d.note.clone(),
                form: d.form.as_ref().map(|f| f.name.clone()).unwrap_or_default(),
                offers: {
                    let chosen = typed.rows.get(&index).map(|r| r.stored.clone()).unwrap_or_default();
                    offers
                        .iter()
                        .filter(|o| usize::from(o.index) == index)
                        .flat_map(|o| &o.documents)
                        .map(|d| (d.id, super::documents::offer_label(d), chosen.contains(&d.id)))
                        .collect()
                },
                kept: typed.rows.remove(&index).map(|r| r.kept).unwrap_or_default(),
            })
            .collect(),
        fee_options,
        fees: fee_rows(&c.fees),
        full_online: c.online_mode == OnlineMode::Full,
        draft: format!("nop-ho-so:{code}"),
        applicant_name: typed.name,
        id_number: typed.id_number,
        phone: typed.phone,
        email: typed.email,
        address: typed.address,
        submitter: typed.submitter,
        delivery: typed.delivery,
        fee_option: typed.fee_option,
        note: typed.note,
        error,
        problems,
    };
    Ok(page(&page_data))
}

// ---------------------------------------------------------------- one dossier

struct FileLink {
    id: String,
    name: String,
    /// For a result PDF: what its digital signatures say (`None` for other files).
    signature: Option<crate::service::verify::FileSignatures>,
}

struct DocLine {
    name: String,
    files: Vec<FileLink>,
}

struct EventLine {
    at: String,
    label: String,
    note: String,
}

struct RatingLine {
    label: &'static str,
    comment: String,
    at: String,
}

#[derive(Template)]
#[template(path = "citizen/dossier.html")]
struct DossierPage {
    frame: Frame,
    fresh: bool,
    code: String,
    procedure: String,
    procedure_name: String,
    status_code: u8,
    status_label: String,
    overdue: bool,
    /// The result is ready and waits to be handed over.
    awaits_hand_over: bool,
    filed: String,
    received: String,
    appointment: String,
    finished: String,
    returned: String,
    delivery: &'static str,
    tracking_secret: String,
    current_agency: String,
    documents: Vec<DocLine>,
    /// Checklist documents taken from the applicant's store.
    reused: super::documents::ReusedDocuments,
    results: Vec<FileLink>,
    supplement_missing: Vec<String>,
    supplement_reason: String,
    /// When the time given to answer the request runs out, in words (empty: no limit).
    wait_until: String,
    payment_due: String,
    payment_note: String,
    events: Vec<EventLine>,
    can_supplement: bool,
    can_withdraw: bool,
    can_rate: bool,
    rating: Option<RatingLine>,
    has_receipt: bool,
    has_supplement_request: bool,
}

/// What the signatures of each result PDF among `result_files` of dossier `dossier_id` say,
/// by file id: the applicant sees that their result is signed, and by whom.
async fn result_signatures(
    state: &AppState,
    dossier_id: i64,
    result_files: &[String],
) -> Result<std::collections::HashMap<String, crate::service::verify::FileSignatures>, AppError> {
    let records: Vec<motcua_store::files::FileRecord> = {
        let mut tx = state.db.begin_read().await?;
        motcua_store::files::of_dossier(&mut tx, dossier_id).await?
    };
    let results: Vec<_> = records.into_iter().filter(|f| result_files.contains(&f.id)).collect();
    crate::service::verify::file_signatures(state, &results).await
}

/// `?moi=1`: the dossier was just filed.
#[derive(Debug, Deserialize)]
pub struct Fresh {
    moi: Option<String>,
}

/// `GET /ca-nhan/ho-so/{code}`: one of my dossiers: status, appointment, documents,
/// history, and what I can do now (supplement, withdraw, rate). Someone else's dossier is
/// a 404, as in the API.
pub async fn dossier(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
    Query(q): Query<Fresh>,
) -> Result<Response, PageError> {
    require(is_citizen(&p), "xem khu vực dành cho công dân, doanh nghiệp")?;
    let (stored, _) = load_visible(&state, &p, &code).await?;
    if stored.dossier.owner.as_deref() != Some(user_id(&p)) {
        return Err(AppError::NotFound(format!("Không tìm thấy hồ sơ {code}.")).into());
    }
    let code = stored.dossier.code.as_str().to_owned();
    // The actions the applicant may take now, and the history.
    let v = crate::service::dossiers::get(&state, &p, &code).await?;
    let h = crate::service::dossiers::history(&state, &p, &code).await?;
    let rating = {
        let mut tx = state.db.begin_read().await?;
        ratings::of_dossier(&mut tx, stored.id).await?
    };
    let d = &v.dossier;
    let dir = directory(&state, &d.province).await?;
    let name_of = |id: &str| {
        v.files
            .iter()
            .find(|f| f.id == id)
            .map_or_else(|| id.to_owned(), |f| f.name.clone())
    };
    let links = |ids: &[String]| {
        ids.iter()
            .map(|id| FileLink {
                id: id.clone(),
                name: name_of(id),
                signature: None,
            })
            .collect::<Vec<_>>()
    };
    let supplement = d
        .notices
        .iter()
        .rev()
        .find(|n| n.kind == NoticeKind::SupplementRequest)
        .filter(|_| d.status == Status::SupplementRequested);
    let payment = d
        .notices
        .iter()
        .rev()
        .find(|n| n.kind == NoticeKind::PaymentRequest)
        .filter(|_| d.status == Status::AwaitingPayment);
    let can = |a: &str| v.actions.iter().any(|x| x == a);
    let reused = super::documents::ReusedDocuments::of(&state, d).await?;
    let page_data = DossierPage {
        frame: Frame::new(&state, Some(&p)).await?,
        fresh: q.moi.is_some(),
        procedure: d.procedure.as_str().to_owned(),
        procedure_name: d.procedure_name.clone(),
        status_code: v.status_code,
        status_label: v.status_label,
        overdue: v.overdue,
        awaits_hand_over: d.status.awaits_hand_over(),
        filed: when(d.created_at),
        received: d.received_at.map(when).unwrap_or_default(),
        appointment: d.due_at.map(when).unwrap_or_default(),
        finished: d.finished_at.map(when).unwrap_or_default(),
        returned: d.returned_at.map(when).unwrap_or_default(),
        delivery: d.delivery.label(),
        tracking_secret: d.tracking_secret.clone(),
        current_agency: dir.name(d.current_agency.as_str()),
        // The filing form sends every checklist row; rows with nothing received are not shown.
        reused,
        documents: d
            .documents
            .iter()
            .filter(|doc| !doc.files.is_empty() || doc.originals > 0 || doc.copies > 0)
            .map(|doc| DocLine {
                name: doc.name.clone(),
                files: links(&doc.files),
            })
            .collect(),
        results: if d.status.has_result() {
            let mut results = links(&d.result_files);
            let signatures = result_signatures(&state, stored.id, &d.result_files).await?;
            for r in &mut results {
                r.signature = signatures.get(&r.id).cloned();
            }
            results
        } else {
            Vec::new()
        },
        supplement_missing: supplement.map(|n| n.missing.clone()).unwrap_or_default(),
        supplement_reason: supplement.map(|n| n.reason.clone()).unwrap_or_default(),
        wait_until: d.wait_until.map(when).unwrap_or_default(),
        payment_due: d.payment_due.map(|a| a.to_string()).unwrap_or_default(),
        payment_note: payment.map(|n| n.reason.clone()).unwrap_or_default(),
        events: h
            .events
            .iter()
            .map(|e| EventLine {
                at: when_rfc(&e.at),
                label: e.label.clone(),
                note: e.note.clone(),
            })
            .collect(),
        can_supplement: can("receive-supplement"),
        can_withdraw: can("withdraw"),
        can_rate: ratable(d.status) && rating.is_none(),
        rating: rating.map(|r| RatingLine {
            label: Satisfaction::parse(&r.rating).map_or("", Satisfaction::label),
            comment: r.comment,
            at: when(r.rated_at),
        }),
        has_receipt: d.received_at.is_some(),
        has_supplement_request: supplement.is_some(),
        code,
    };
    Ok(page(&page_data))
}
