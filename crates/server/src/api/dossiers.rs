//! Dossiers: intake at the counter and online, work lists, the lifecycle actions, the
//! history with the processing control sheet, and public tracking.
//!
//! Every change is one write transaction holding the dossier, its history row, one
//! audit record (the province's chain) and one outbox event.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, RwLock};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use motcua_core::access::Role;
use motcua_core::catalogue::{AgencyKind, Invalid, ProcedureContent, ProcedureVersion};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::dossier::{Action, Channel, DelayRules, DossierCode, Status, Timeliness};
use motcua_core::lifecycle::{
    self, ActionInput, Applicant, Context, Delivery, Dossier, Filing, Person, ReceivedDocument, Transition,
};
use motcua_core::money::Vnd;
use motcua_store::accounts::UserKind;
use motcua_store::batch::JobFuture;
use motcua_store::dossiers::{self, EventRecord, ListFilter, Scope, Stored};
use motcua_store::outbox::{self, NewEvent};
use motcua_store::{Tx, catalogue, files};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiQuery, parse_json};
use crate::audit::{self, Actor, Event};
use crate::auth::{ClientIp, Principal, same_secret};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use crate::tracking_cache::Cached;

/// The agencies of a province by code (cached per catalogue generation).
#[derive(Debug)]
pub struct Directory {
    /// Code → (name, kind).
    pub agencies: BTreeMap<String, (String, AgencyKind)>,
}

impl Directory {
    /// The agency's name, or its code when unknown.
    pub fn name(&self, code: &str) -> String {
        self.agencies
            .get(code)
            .map_or_else(|| code.to_owned(), |(n, _)| n.clone())
    }

    /// The province's one-stop centre.
    pub fn centre(&self) -> Option<AgencyCode> {
        self.agencies
            .iter()
            .find(|(_, (_, kind))| *kind == AgencyKind::Centre)
            .and_then(|(code, _)| AgencyCode::parse(code).ok())
    }
}

/// The current versions of the procedures intake has used in a province, kept while the
/// province's catalogue generation stands ([`crate::province_cache::ProvinceCache`]): an
/// intake reads neither the version number nor the content (two statements and a JSON
/// parse of several kilobytes) again.
#[derive(Debug, Default)]
pub struct Procedures {
    by_code: RwLock<HashMap<String, Arc<ProcedureVersion>>>,
}

/// Most procedures kept per province (the demo has 1,388; each is a few kilobytes).
const MAX_CACHED_PROCEDURES: usize = 2_000;

/// The current version of procedure `code` of `province` (404 if none).
async fn current_procedure(
    state: &AppState,
    province: &ProvinceCode,
    code: &ProcedureCode,
) -> Result<Arc<ProcedureVersion>, AppError> {
    let kept = state
        .procedures
        .get(&state.db, province, async |_| Ok(Procedures::default()))
        .await?;
    if let Some(v) = kept.by_code.read().ok().and_then(|m| m.get(code.as_str()).cloned()) {
        return Ok(v);
    }
    let version = {
        let mut tx = state.db.begin_read().await?;
        catalogue::procedure(&mut tx, province, code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Không có thủ tục {code} trong danh mục của tỉnh.")))?
    };
    let version = Arc::new(version);
    if let Ok(mut m) = kept.by_code.write()
        && m.len() < MAX_CACHED_PROCEDURES
    {
        m.insert(code.as_str().to_owned(), Arc::clone(&version));
    }
    Ok(version)
}

/// The directory of `province`.
pub async fn directory(state: &AppState, province: &ProvinceCode) -> Result<Arc<Directory>, AppError> {
    state
        .directories
        .get(&state.db, province, async |tx| {
            let agencies = catalogue::agencies(tx, province).await?;
            Ok(Directory {
                agencies: agencies
                    .into_iter()
                    .map(|a| (a.code.as_str().to_owned(), (a.name, a.kind)))
                    .collect(),
            })
        })
        .await
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn person_of(p: &Principal) -> Person {
    Person {
        id: p.actor(),
        name: p
            .user
            .as_ref()
            .map_or_else(|| p.actor_name(), |u| u.display_name.clone()),
    }
}

pub(crate) fn user_id(p: &Principal) -> Option<&str> {
    p.user.as_ref().map(|u| u.id.as_str())
}

fn is_citizen(p: &Principal) -> bool {
    p.user.as_ref().is_some_and(|u| u.kind == UserKind::Citizen)
}

fn parse_code(code: &str) -> Result<DossierCode, AppError> {
    DossierCode::parse(code).map_err(|e| AppError::code("code", e))
}

fn not_found(code: &str) -> AppError {
    AppError::NotFound(format!("Không tìm thấy hồ sơ {code}."))
}

pub(crate) fn delay_rules(state: &AppState) -> DelayRules {
    DelayRules {
        min_notice_working_days: state.config.delay_min_notice_working_days,
        max_extensions: state.config.delay_max_extensions,
    }
}

/// One document of the checklist at intake.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    /// Position in the procedure's document list (from 0).
    pub index: u16,
    /// Originals received (counter intake).
    #[serde(default)]
    pub originals: u16,
    /// Copies received (counter intake).
    #[serde(default)]
    pub copies: u16,
    /// Uploaded scans: ids from `POST /api/v1/uploads`.
    #[serde(default)]
    pub files: Vec<String>,
}

/// A new dossier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDossier {
    /// Procedure code, e.g. `1.900141`.
    pub procedure: String,
    /// Province code; the default province when omitted.
    #[serde(default)]
    pub province: Option<String>,
    /// The applicant.
    pub applicant: Applicant,
    /// The checklist: the documents received (counter) or uploaded (online).
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
    /// Counter intake only: `counter` (default) or `post` for dossiers that arrived by post.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// How the applicant wants the result (default: at the counter).
    #[serde(default)]
    pub delivery: Option<Delivery>,
    /// The fee option chosen, when the procedure's fees depend on one.
    #[serde(default)]
    pub fee_option: Option<String>,
    /// Counter intake only: fee items waived, each with its reason (one item by its place
    /// in the fees due, or all of them).
    #[serde(default)]
    pub exemptions: Vec<lifecycle::ExemptionRequest>,
    /// Sets of documents received (default: what the procedure asks).
    #[serde(default)]
    pub sets: Option<u16>,
    /// Counter intake only: accept at once (default), or `false` to register it for
    /// checking (status 1) and then accept, refuse or ask to complete.
    #[serde(default)]
    pub accept: Option<bool>,
    /// Free note.
    #[serde(default)]
    pub note: String,
}

/// A file of a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileView {
    /// Id (download at `/api/v1/files/{id}`).
    pub id: String,
    /// Name as uploaded.
    pub name: String,
    /// Type detected from the content.
    pub file_type: String,
    /// Bytes.
    pub size: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// When uploaded.
    pub uploaded_at: String,
}

impl FileView {
    pub(crate) fn of(f: files::FileRecord) -> Self {
        Self {
            id: f.id,
            name: f.name,
            file_type: f.file_type,
            size: f.size,
            sha256: f.sha256,
            uploaded_at: rfc3339(f.created_at),
        }
    }
}

/// A dossier in full, for the people handling it and its applicant.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierView {
    /// National status code, 1–10.
    pub status_code: u8,
    /// National status label.
    pub status_label: &'static str,
    /// Whether the dossier is overdue now: the appointment passed while its clock runs (not
    /// while it waits for a supplement or a payment; a finished dossier is late, not overdue).
    pub overdue: bool,
    /// Early, on time or late against the appointment (judged now if unfinished).
    pub timeliness: Option<Timeliness>,
    /// Actions the caller may take now.
    pub actions: Vec<String>,
    /// Everything else.
    #[serde(flatten)]
    pub dossier: Dossier,
    /// Uploaded files (scans, supplements, results).
    pub files: Vec<FileView>,
}

/// The dossier as `p` sees it, with the actions they may take now (those the status, the
/// agency holding it and their role allow).
pub(crate) fn view(state: &AppState, d: Dossier, files: Vec<files::FileRecord>, p: &Principal) -> DossierView {
    let now = state.clock.now();
    let actions = Action::ALL
        .into_iter()
        .filter(|a| lifecycle::possible(&d, *a))
        .filter(|a| lifecycle::authorize(&d, *a, &p.access, user_id(p)).is_ok())
        .map(|a| a.name().to_owned())
        .collect();
    DossierView {
        status_code: d.status.code(),
        status_label: d.status.label(),
        overdue: d.is_overdue(now),
        timeliness: d.timeliness(now),
        actions,
        files: files.into_iter().map(FileView::of).collect(),
        dossier: d,
    }
}

fn new_secret() -> String {
    let mut random = [0u8; 8];
    OsRng.fill_bytes(&mut random);
    lifecycle::tracking_secret(random)
}

/// What intake decided before the write transaction.
struct Intake {
    dossier: Dossier,
    file_ids: Vec<String>,
    accept: bool,
}

/// The checklist of a new dossier from what was declared. Online, a document is received
/// when a file was uploaded for it (rows without files are dropped); at the counter, when
/// originals, copies or scans were counted. Every required document must be there, except
/// when the counter only registers the dossier for checking (`complete_required` false):
/// an incomplete dossier is then registered (status 1) so that the officer can ask in
/// writing for everything missing (request completion) or refuse it.
fn checklist(
    content: &ProcedureContent,
    docs: Vec<DocumentInput>,
    online: bool,
    complete_required: bool,
) -> Result<Vec<ReceivedDocument>, AppError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.into_iter().enumerate() {
        let field = format!("documents[{i}]");
        let req = content.documents.get(usize::from(d.index)).ok_or_else(|| {
            AppError::bad(
                "invalid_field",
                format!("{field}.index"),
                format!(
                    "Thủ tục chỉ có {} thành phần hồ sơ (đánh số từ 0).",
                    content.documents.len()
                ),
            )
        })?;
        if !seen.insert(d.index) {
            return Err(AppError::bad(
                "invalid_field",
                format!("{field}.index"),
                format!("Thành phần hồ sơ số {} được khai hai lần.", d.index),
            ));
        }
        if online && d.files.is_empty() {
            continue;
        }
        out.push(ReceivedDocument {
            index: d.index,
            name: req.name.clone(),
            originals: d.originals,
            copies: d.copies,
            files: d.files,
        });
    }
    if !complete_required {
        return Ok(out);
    }
    let missing: Vec<&str> = content
        .documents
        .iter()
        .enumerate()
        .filter(|(_, r)| r.required)
        .filter(|(i, _)| {
            !out.iter().any(|d| {
                usize::from(d.index) == *i
                    && if online {
                        !d.files.is_empty()
                    } else {
                        d.originals + d.copies > 0 || !d.files.is_empty()
                    }
            })
        })
        .map(|(_, r)| r.name.as_str())
        .collect();
    if !missing.is_empty() {
        let how = if online {
            "Hồ sơ trực tuyến phải tải lên đủ các thành phần bắt buộc"
        } else {
            "Hồ sơ chưa đủ các thành phần bắt buộc nên chưa thể tiếp nhận; hãy chọn «Chỉ ghi nhận để kiểm tra» (accept: false) rồi lập phiếu yêu cầu bổ sung, hoàn thiện hoặc từ chối"
        };
        return Err(AppError::bad(
            "incomplete_dossier",
            "documents",
            format!("{how}. Còn thiếu: {}.", missing.join("; ")),
        ));
    }
    Ok(out)
}

async fn prepare_intake(state: &AppState, p: &Principal, req: NewDossier) -> Result<Intake, AppError> {
    let province = state.province(req.province.as_deref()).await?;
    let code = ProcedureCode::parse(&req.procedure).map_err(|e| AppError::code("procedure", e))?;
    let version = current_procedure(state, &province, &code).await?;
    let content = &version.content;
    let dir = directory(state, &province).await?;
    let receiving = if content.at_centre {
        dir.centre()
            .ok_or_else(|| AppError::Conflict("Tỉnh chưa khai báo Trung tâm Phục vụ hành chính công.".to_owned()))?
    } else {
        content.agency.clone()
    };
    let citizen = is_citizen(p);
    let channel = if citizen {
        if req.channel.is_some_and(|c| c != Channel::Online) || req.accept.is_some() {
            return Err(AppError::bad(
                "invalid_field",
                if req.accept.is_some() { "accept" } else { "channel" },
                "Công dân chỉ nộp hồ sơ trực tuyến; bộ phận một cửa sẽ kiểm tra và tiếp nhận.",
            ));
        }
        if !content.accepts_online_filing() {
            return Err(AppError::Refused(format!(
                "Thủ tục «{}» chưa cung cấp dịch vụ nộp hồ sơ trực tuyến; vui lòng nộp tại Bộ phận Một cửa.",
                content.name
            )));
        }
        Channel::Online
    } else {
        let counter = p.access.grants().iter().any(|g| {
            g.role == Role::CounterOfficer
                && g.province == province
                && (g.agency == receiving || &g.agency == province.as_agency())
        });
        if !counter {
            return Err(AppError::Forbidden(format!(
                "Chỉ cán bộ tiếp nhận của {} mới được tiếp nhận hồ sơ thủ tục này.",
                dir.name(receiving.as_str())
            )));
        }
        match req.channel.unwrap_or(Channel::Counter) {
            Channel::Online => {
                return Err(AppError::bad(
                    "invalid_field",
                    "channel",
                    "Hồ sơ trực tuyến do công dân tự nộp; tại quầy chọn «counter» hoặc «post».",
                ));
            }
            c => c,
        }
    };
    let applicant = req.applicant.normalise()?;
    if !content.applicants.contains(&applicant.kind) {
        return Err(AppError::Invalid(Invalid::new(
            "applicant.kind",
            "Thủ tục này không áp dụng cho loại đối tượng đã chọn.",
        )));
    }
    let documents = checklist(content, req.documents, citizen, citizen || req.accept.unwrap_or(true))?;
    let file_ids: Vec<String> = documents.iter().flat_map(|d| d.files.iter().cloned()).collect();
    let fees = lifecycle::fees_at_filing(content, req.fee_option.as_deref())
        .map_err(|e| AppError::bad("invalid_field", e.field, e.message))?;
    if citizen && !req.exemptions.is_empty() {
        return Err(AppError::bad(
            "invalid_field",
            "exemptions",
            "Chỉ cán bộ tiếp nhận mới được miễn phí, lệ phí khi tiếp nhận hồ sơ.",
        ));
    }
    let exemptions = lifecycle::exemptions_at_filing(&fees, &req.exemptions, &person_of(p), state.clock.now())?;
    let delivery = req.delivery.unwrap_or(Delivery::Counter);
    lifecycle::check_delivery(delivery, &applicant)?;
    let note = lifecycle::optional_text("note", &req.note)?;
    let now = state.clock.now();
    let mut dossier = Dossier::file(Filing {
        // Replaced by the allocated code inside the write transaction.
        code: DossierCode::new(&receiving, now.date(), 1).map_err(|e| AppError::Internal(e.to_string()))?,
        province: province.clone(),
        procedure: &code,
        version: version.version,
        content,
        receiving,
        channel,
        applicant,
        documents,
        tracking_secret: new_secret(),
        now,
    });
    dossier.owner = citizen.then(|| user_id(p).unwrap_or_default().to_owned());
    dossier.sets = req.sets.unwrap_or(content.sets);
    dossier.fees = fees;
    dossier.exemptions = exemptions;
    dossier.delivery = delivery;
    dossier.note = note;
    Ok(Intake {
        dossier,
        file_ids,
        accept: !citizen && req.accept.unwrap_or(true),
    })
}

/// Checks the files a request names: staged uploads of the caller, within the per-dossier
/// total. Returns them.
fn dossier_upload_limit(state: &AppState) -> i64 {
    i64::try_from(state.config.max_dossier_upload_bytes).unwrap_or(i64::MAX)
}

async fn check_files(
    tx: &mut Tx,
    ids: &[String],
    uploader: &str,
    already: i64,
    limit: i64,
) -> Result<Vec<files::FileRecord>, AppError> {
    let mut total = already;
    let mut found = Vec::with_capacity(ids.len());
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id) {
            return Err(AppError::bad(
                "invalid_field",
                "files",
                format!("Tệp {id} được khai hai lần."),
            ));
        }
        let f = files::get(tx, id)
            .await?
            .filter(|f| f.uploader_id == uploader && f.state == files::FileState::Staged)
            .ok_or_else(|| {
                AppError::bad(
                    "invalid_field",
                    format!("files[{i}]"),
                    format!("Tệp {id} không tồn tại, đã hết hạn, đã thuộc hồ sơ khác hoặc không do bạn tải lên."),
                )
            })?;
        total += f.size;
        found.push(f);
    }
    if total > limit {
        return Err(AppError::bad(
            "too_large",
            "files",
            format!("Tổng dung lượng tệp của một hồ sơ không được vượt quá {limit} byte."),
        ));
    }
    Ok(found)
}

/// The event payload written to the outbox for every change: what the national portal
/// sync and the notifications need to know (docs/rules.md §3), without reading back.
fn outbox_payload(d: &Dossier, action: &str, at: OffsetDateTime) -> Value {
    json!({
        "code": d.code,
        "province": d.province,
        "procedure": d.procedure,
        "procedure_name": d.procedure_name,
        "field": d.field,
        "channel": d.channel.code(),
        "applicant_kind": d.applicant.kind,
        "action": action,
        "status_code": d.status.code(),
        "at": rfc3339(at),
        "received_at": d.received_at.map(rfc3339),
        "due_at": d.due_at.map(rfc3339),
        "finished_at": d.finished_at.map(rfc3339),
        "returned_at": d.returned_at.map(rfc3339),
        "current_agency": d.current_agency,
        "version": d.version,
    })
}

/// Who did something to a dossier, for which agency, from where and when.
struct By<'a> {
    actor: &'a Person,
    agency: &'a AgencyCode,
    ip: &'a str,
    now: OffsetDateTime,
}

/// One step of a dossier's life to record: the filing (`from` = `None`) or a transition.
struct Step<'a> {
    action: &'a str,
    from: Option<Status>,
    to: Status,
    handover: Option<&'a lifecycle::Handover>,
    closed_step: Option<Timeliness>,
    note: &'a str,
}

impl<'a> Step<'a> {
    fn of(t: &'a Transition) -> Self {
        Self {
            action: t.action.name(),
            from: Some(t.from),
            to: t.to,
            handover: t.handover.as_ref(),
            closed_step: t.closed_step,
            note: &t.note,
        }
    }
}

/// Records one step of dossier `id` (already in state `d`): history row, audit record in
/// the province's chain, outbox event.
async fn record(tx: &mut Tx, id: i64, d: &Dossier, step: Step<'_>, by: &By<'_>) -> Result<(), AppError> {
    let handover = step.handover;
    dossiers::append_event(
        tx,
        id,
        &EventRecord {
            seq: 0,
            at: by.now,
            action: step.action.to_owned(),
            from_status: step.from,
            to_status: step.to,
            actor: by.actor.clone(),
            agency: by.agency.as_str().to_owned(),
            to_agency: handover.map(|h| h.to_agency.as_str().to_owned()),
            to_user: handover.and_then(|h| h.to_person.clone()),
            step_due_at: handover.and_then(|h| h.step_due),
            closed_step: step.closed_step,
            note: step.note.to_owned(),
        },
    )
    .await?;
    let kind = format!("dossier.{}", step.action);
    audit::record(
        tx,
        &Actor {
            id: by.actor.id.clone(),
            name: by.actor.name.clone(),
            ip: by.ip,
        },
        Event {
            action: &kind,
            object_type: "dossier",
            object_id: d.code.as_str(),
            province: Some(d.province.as_str()),
            before: step.from.map(|s| json!({ "status": s.code() })),
            after: Some(json!({ "status": step.to.code(), "version": d.version, "note": step.note })),
        },
    )
    .await?;
    outbox::queue(
        tx,
        &NewEvent {
            province: d.province.as_str(),
            dossier_code: Some(d.code.as_str()),
            kind: &kind,
            payload: &outbox_payload(d, step.action, by.now),
        },
        by.now,
    )
    .await?;
    Ok(())
}

/// `POST /api/v1/dossiers`: files a dossier. A counter officer's intake is accepted at
/// once (receipt and appointment issued) unless `accept` is false; a citizen's online
/// filing waits for the counter's check (status 1).
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", request_body = NewDossier,
    responses((status = 201, body = DossierView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn create(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewDossier>,
) -> Result<(StatusCode, Json<DossierView>), AppError> {
    let Intake {
        mut dossier,
        file_ids,
        accept,
    } = prepare_intake(&state, &p, req).await?;
    let calendar = super::calendar::calendar(&state, &dossier.province).await?;
    let actor = person_of(&p);
    let uploader = p.actor();
    let ip = p.ip.clone();
    let clock = state.clock.clone();
    let rules = delay_rules(&state);
    let limit = dossier_upload_limit(&state);
    // The write runs in the next group commit (see motcua_store::batch).
    let (dossier, attached) = state
        .writes
        .submit(
            move |tx: &mut Tx| -> JobFuture<'_, Result<(Dossier, Vec<files::FileRecord>), AppError>> {
                Box::pin(async move {
                    let attached = check_files(tx, &file_ids, &uploader, 0, limit).await?;
                    let now = clock.now();
                    dossier.created_at = now;
                    let day = now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date();
                    dossier.code = dossiers::next_code(tx, &dossier.province, &dossier.receiving_agency, day).await?;
                    let filed = dossier.clone();
                    let acceptance = if accept {
                        let ctx = Context {
                            now,
                            calendar: &calendar,
                            rules,
                            actor: actor.clone(),
                            agency: dossier.receiving_agency.clone(),
                        };
                        Some(
                            lifecycle::apply(&mut dossier, ActionInput::Accept, &ctx)
                                .map_err(|r| AppError::Refused(r.0))?,
                        )
                    } else {
                        None
                    };
                    // Without files the row is written at the batch's end (the id is
                    // provisional); files need the stored row's id now.
                    let id = if file_ids.is_empty() {
                        dossiers::insert(tx, &dossier).await?
                    } else {
                        let id = dossiers::insert_now(tx, &dossier).await?;
                        files::attach(tx, &file_ids, &uploader, id, dossier.province.as_str()).await?;
                        id
                    };
                    let by = By {
                        actor: &actor,
                        agency: &filed.receiving_agency,
                        ip: &ip,
                        now,
                    };
                    let filing = Step {
                        action: "file",
                        from: None,
                        to: Status::New,
                        handover: None,
                        closed_step: None,
                        note: &filed.note,
                    };
                    record(tx, id, &filed, filing, &by).await?;
                    if !filed.exemptions.is_empty() {
                        audit::record(
                            tx,
                            &Actor {
                                id: actor.id.clone(),
                                name: actor.name.clone(),
                                ip: &ip,
                            },
                            Event {
                                action: "dossier.fee_exemption",
                                object_type: "dossier",
                                object_id: filed.code.as_str(),
                                province: Some(filed.province.as_str()),
                                before: None,
                                after: Some(json!({ "exemptions": filed.exemptions, "fee_due": filed.fee_due() })),
                            },
                        )
                        .await?;
                    }
                    if let Some(t) = &acceptance {
                        record(tx, id, &dossier, Step::of(t), &by).await?;
                    }
                    Ok((dossier, attached))
                })
            },
        )
        .await?;
    crate::forms::issue_after(&state, &dossier);
    let files = attached
        .into_iter()
        .map(|mut f| {
            f.state = files::FileState::Attached;
            f
        })
        .collect();
    Ok((StatusCode::CREATED, Json(view(&state, dossier, files, &p))))
}

pub(crate) async fn load_visible(
    state: &AppState,
    p: &Principal,
    code: &str,
) -> Result<(Stored, Vec<files::FileRecord>), AppError> {
    let code = parse_code(code)?;
    let mut tx = state.db.begin_read().await?;
    let stored = dossiers::by_code(&mut tx, &code)
        .await?
        .ok_or_else(|| not_found(code.as_str()))?;
    if !lifecycle::can_view(&stored.dossier, &p.access, user_id(p)) {
        // Someone else's dossier is indistinguishable from no dossier.
        return Err(not_found(code.as_str()));
    }
    let files = files::of_dossier(&mut tx, stored.id).await?;
    Ok((stored, files))
}

/// `GET /api/v1/dossiers/{code}`: the dossier in full, for its applicant and the staff
/// who may see it. Staff views of personal data are recorded in the audit trail.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = DossierView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn get(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<DossierView>, AppError> {
    let (stored, files) = load_visible(&state, &p, &code).await?;
    let d = stored.dossier;
    audit_view(&state, &p, &d).await?;
    Ok(Json(view(&state, d, files, &p)))
}

/// Whether `p` is the account that owns `d` (a citizen reading their own dossier): the one
/// read of a full record that is not audited. A caller without an account (an API token)
/// never is, not even for a dossier without an owner (filed at the counter).
pub(crate) fn reads_own(p: &Principal, d: &Dossier) -> bool {
    d.owner.is_some() && d.owner.as_deref() == user_id(p)
}

/// Records in the audit trail that `p` (staff, an API token: anyone but the applicant)
/// opened dossier `d` with its personal data.
pub(crate) async fn audit_view(state: &AppState, p: &Principal, d: &Dossier) -> Result<(), AppError> {
    if reads_own(p, d) {
        return Ok(());
    }
    let mut tx = state.db.begin_write().await?;
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            action: "dossier.view",
            object_type: "dossier",
            object_id: d.code.as_str(),
            province: Some(d.province.as_str()),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Work list parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Province; the default province when omitted.
    pub province: Option<String>,
    /// Status codes, comma-separated (e.g. `2,4`).
    pub status: Option<String>,
    /// Only dossiers an agency holds or is responsible for.
    pub agency: Option<String>,
    /// Only dossiers past their appointment with the clock running.
    pub overdue: Option<bool>,
    /// `overdue` (as `overdue=true`) or `soon`: the clock running and the appointment
    /// within one working day from now.
    pub due: Option<String>,
    /// `me` for the dossiers the caller holds, `none` for those waiting for assignment,
    /// `me,none` for both, or an account id.
    pub assignee: Option<String>,
    /// Only this procedure.
    pub procedure: Option<String>,
    /// Page size (default 50, at most 200).
    pub limit: Option<u32>,
    /// Continue after this position (`next_cursor` of the previous page).
    pub cursor: Option<String>,
}

/// One line of a work list: no identity papers or phone numbers (open the dossier for those).
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierLine {
    /// Code.
    pub code: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name.
    pub procedure_name: String,
    /// National status code.
    pub status_code: u8,
    /// Status.
    pub status: Status,
    /// Status label.
    pub status_label: &'static str,
    /// Channel.
    pub channel: Channel,
    /// Applicant's name.
    pub applicant_name: String,
    /// The agency holding it.
    pub current_agency: String,
    /// The officer holding it.
    pub assignee: Option<String>,
    /// Filed.
    pub created_at: String,
    /// Accepted.
    pub received_at: Option<String>,
    /// Appointment.
    pub due_at: Option<String>,
    /// Overdue now: the appointment passed while the clock runs (not while waiting for a
    /// supplement or a payment; a finished dossier is late, not overdue).
    pub overdue: bool,
}

/// A page of a work list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierPage {
    /// The dossiers, newest first.
    pub items: Vec<DossierLine>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The filters a work list (or its export) is asked for, as given.
pub(crate) struct WorkListQuery<'a> {
    /// Province; the default province when `None`.
    pub province: Option<&'a str>,
    /// Status codes, comma-separated.
    pub status: Option<&'a str>,
    /// Agency holding or responsible.
    pub agency: Option<&'a str>,
    /// Only overdue dossiers.
    pub overdue: Option<bool>,
    /// `me`, `none` (waiting for assignment), `me,none`, or an account id.
    pub assignee: Option<&'a str>,
    /// Procedure code.
    pub procedure: Option<&'a str>,
}

/// The store filter for a work list, with the caller's scope: citizens their own dossiers,
/// department staff their department's (or an agency they may see), the centre the
/// province's. First page, default size; the caller sets the position and size.
pub(crate) async fn work_list_filter(
    state: &AppState,
    p: &Principal,
    q: WorkListQuery<'_>,
) -> Result<ListFilter, AppError> {
    let province = state.province(q.province).await?;
    let scope = if is_citizen(p) {
        Scope::Owner(user_id(p).unwrap_or_default().to_owned())
    } else if let Some(a) = q.agency.filter(|a| !a.is_empty()) {
        let agency = AgencyCode::parse(a).map_err(|e| AppError::code("agency", e))?;
        p.require(
            p.access.can_see_agency_dossiers(&province, &agency),
            "xem hồ sơ của cơ quan này",
        )?;
        Scope::Agency(agency.as_str().to_owned())
    } else if p.access.can_see_agency_dossiers(&province, province.as_agency()) {
        Scope::Province
    } else {
        // Department staff: their own department.
        p.access
            .grants()
            .iter()
            .find(|g| g.province == province && g.role.is_departmental())
            .map(|g| Scope::Agency(g.agency.as_str().to_owned()))
            .ok_or_else(|| AppError::Forbidden("Bạn không có quyền xem hồ sơ của tỉnh này.".to_owned()))?
    };
    let statuses = q
        .status
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<u8>()
                .ok()
                .and_then(Status::from_code)
                .ok_or_else(|| AppError::bad("invalid_parameter", "status", "Mã trạng thái phải từ 1 đến 10."))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut assignee = None;
    let mut unassigned = false;
    for a in q
        .assignee
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let who = match a {
            "none" => {
                unassigned = true;
                continue;
            }
            "me" => p.actor(),
            id => id.to_owned(),
        };
        if assignee.replace(who).is_some() {
            return Err(AppError::bad(
                "invalid_parameter",
                "assignee",
                "Chỉ lọc được theo một cán bộ (có thể kèm «none»: hồ sơ chờ phân công).",
            ));
        }
    }
    Ok(ListFilter {
        province,
        scope,
        statuses,
        overdue: q.overdue.unwrap_or(false),
        due_soon: None,
        assignee,
        unassigned,
        procedure: q.procedure.filter(|s| !s.is_empty()).map(str::to_owned),
        due_from: None,
        due_until: None,
        now: state.clock.now(),
        before_id: None,
        after_due: None,
        order: dossiers::ListOrder::Newest,
        limit: 50,
    })
}

/// The instant up to which an appointment is "due soon" at `now` on the province's
/// calendar (`motcua_core::deadline::soon_limit`).
pub(crate) async fn soon_after(
    state: &AppState,
    province: &ProvinceCode,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, AppError> {
    let calendar = super::calendar::calendar(state, province).await?;
    motcua_core::deadline::soon_limit(&calendar, now).map_err(|e| AppError::Internal(e.to_string()))
}

/// Narrows a work list by how close the appointment is: `overdue`, or `soon`
/// (`motcua_core::deadline::is_overdue`, `is_due_soon`).
pub(crate) async fn due_filter(state: &AppState, f: &mut ListFilter, due: Option<&str>) -> Result<(), AppError> {
    match due.map(str::trim).filter(|d| !d.is_empty()) {
        None => {}
        Some("overdue") => f.overdue = true,
        Some("soon") => f.due_soon = Some(soon_after(state, &f.province, f.now).await?),
        Some(_) => {
            return Err(AppError::bad(
                "invalid_parameter",
                "due",
                "Hạn xử lý chỉ lọc theo «overdue» (quá hạn) hoặc «soon» (đến hạn trong 1 ngày làm việc).",
            ));
        }
    }
    Ok(())
}

/// `GET /api/v1/dossiers`: a work list, newest first, keyset-paginated. Citizens see
/// their own dossiers; department staff their department's; the centre the province's.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", params(ListParams),
    responses((status = 200, body = DossierPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<Json<DossierPage>, AppError> {
    let before_id = q
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| AppError::bad("invalid_parameter", "cursor", "Vị trí trang không hợp lệ."))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, dossiers::MAX_LIST_LIMIT);
    let mut filter = work_list_filter(
        &state,
        &p,
        WorkListQuery {
            province: q.province.as_deref(),
            status: q.status.as_deref(),
            agency: q.agency.as_deref(),
            overdue: q.overdue,
            assignee: q.assignee.as_deref(),
            procedure: q.procedure.as_deref(),
        },
    )
    .await?;
    due_filter(&state, &mut filter, q.due.as_deref()).await?;
    filter.before_id = before_id;
    filter.limit = limit;
    let now = filter.now;
    let mut tx = state.db.begin_read().await?;
    let rows = dossiers::list(&mut tx, &filter).await?;
    drop(tx);
    let next_cursor = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    let items = rows
        .into_iter()
        .map(|s| {
            let d = s.dossier;
            DossierLine {
                code: d.code.as_str().to_owned(),
                procedure: d.procedure.as_str().to_owned(),
                procedure_name: d.procedure_name.clone(),
                status_code: d.status.code(),
                status: d.status,
                status_label: d.status.label(),
                channel: d.channel,
                applicant_name: d.applicant.name.clone(),
                current_agency: d.current_agency.as_str().to_owned(),
                assignee: d.assignee.as_ref().map(|a| a.name.clone()),
                created_at: rfc3339(d.created_at),
                received_at: d.received_at.map(rfc3339),
                due_at: d.due_at.map(rfc3339),
                overdue: d.is_overdue(now),
            }
        })
        .collect();
    Ok(Json(DossierPage { items, next_cursor }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MissingBody {
    missing: Vec<String>,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssignBody {
    user: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardBody {
    agency: String,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesBody {
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentRequestBody {
    amount: Vnd,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    amount: Vnd,
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApologyBody {
    reason: String,
    /// RFC 3339, or `YYYY-MM-DDTHH:MM` in Vietnam time.
    new_due: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StopBody {
    legal_ground: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    result_files: Vec<String>,
    #[serde(default)]
    note: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnBody {
    method: Delivery,
    #[serde(default)]
    tracking_number: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

/// An instant given as RFC 3339, or as a local date and time in Vietnam (`YYYY-MM-DDTHH:MM`,
/// what a browser's date-time field sends).
fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
        time::PrimitiveDateTime::parse(s, &local)
            .ok()
            .map(|t| t.assume_offset(motcua_core::calendar::VIETNAM_OFFSET))
    })
}

/// An action's body, parsed and checked; the files it attaches, if any.
async fn parse_input(
    state: &AppState,
    d: &Dossier,
    action: Action,
    body: &[u8],
) -> Result<(ActionInput, Vec<String>), AppError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let text = |f: &str, v: &str| lifecycle::required_text(f, v).map_err(AppError::from);
    let opt = |f: &str, v: &str| lifecycle::optional_text(f, v).map_err(AppError::from);
    Ok(match action {
        Action::Accept => {
            parse_json::<EmptyBody>(body)?;
            (ActionInput::Accept, Vec::new())
        }
        Action::Transfer => {
            parse_json::<EmptyBody>(body)?;
            (ActionInput::Transfer, Vec::new())
        }
        Action::Refuse => {
            let b: ReasonBody = parse_json(body)?;
            (
                ActionInput::Refuse {
                    reason: text("reason", &b.reason)?,
                },
                Vec::new(),
            )
        }
        Action::Withdraw => {
            let b: ReasonBody = parse_json(body)?;
            (
                ActionInput::Withdraw {
                    reason: text("reason", &b.reason)?,
                },
                Vec::new(),
            )
        }
        Action::RequestCompletion | Action::RequestSupplement => {
            let b: MissingBody = parse_json(body)?;
            let missing = lifecycle::missing_list("missing", &b.missing)?;
            let reason = opt("reason", &b.reason)?;
            let input = if action == Action::RequestCompletion {
                ActionInput::RequestCompletion { missing, reason }
            } else {
                ActionInput::RequestSupplement { missing, reason }
            };
            (input, Vec::new())
        }
        Action::Assign => {
            let b: AssignBody = parse_json(body)?;
            (
                ActionInput::Assign {
                    to: assignee(state, d, &b.user).await?,
                },
                Vec::new(),
            )
        }
        Action::ForwardOut => {
            let b: ForwardBody = parse_json(body)?;
            let agency = AgencyCode::parse(&b.agency).map_err(|e| AppError::code("agency", e))?;
            let dir = directory(state, &d.province).await?;
            if !dir.agencies.contains_key(agency.as_str()) {
                return Err(AppError::bad(
                    "invalid_field",
                    "agency",
                    format!("Không có cơ quan {agency} trong tỉnh."),
                ));
            }
            (
                ActionInput::ForwardOut {
                    agency,
                    note: opt("note", &b.note)?,
                },
                Vec::new(),
            )
        }
        Action::ForwardBack => {
            let b: NoteBody = parse_json(body)?;
            (
                ActionInput::ForwardBack {
                    note: opt("note", &b.note)?,
                },
                Vec::new(),
            )
        }
        Action::ReceiveSupplement => {
            let b: FilesBody = parse_json(body)?;
            let files = b.files.clone();
            (
                ActionInput::ReceiveSupplement {
                    files: b.files,
                    note: opt("note", &b.note)?,
                },
                files,
            )
        }
        Action::RequestPayment => {
            let b: PaymentRequestBody = parse_json(body)?;
            (
                ActionInput::RequestPayment {
                    amount: b.amount,
                    note: opt("note", &b.note)?,
                },
                Vec::new(),
            )
        }
        Action::ConfirmPayment => {
            let b: PaymentBody = parse_json(body)?;
            (
                ActionInput::ConfirmPayment {
                    amount: b.amount,
                    reference: text("reference", &b.reference)?,
                },
                Vec::new(),
            )
        }
        Action::Apologise => {
            let b: ApologyBody = parse_json(body)?;
            let new_due = parse_instant(&b.new_due).ok_or_else(|| {
                AppError::bad(
                    "invalid_field",
                    "new_due",
                    "Ngày hẹn mới phải theo RFC 3339 (ví dụ 2026-12-15T16:00:00+07:00) hoặc là giờ Việt Nam dạng 2026-12-15T16:00.",
                )
            })?;
            (
                ActionInput::Apologise {
                    reason: text("reason", &b.reason)?,
                    new_due,
                },
                Vec::new(),
            )
        }
        Action::Stop => {
            let b: StopBody = parse_json(body)?;
            (
                ActionInput::Stop {
                    legal_ground: text("legal_ground", &b.legal_ground)?,
                    reason: opt("reason", &b.reason)?,
                },
                Vec::new(),
            )
        }
        Action::Finish => {
            let b: FinishBody = parse_json(body)?;
            let files = b.result_files.clone();
            (
                ActionInput::Finish {
                    result_files: b.result_files,
                    note: opt("note", &b.note)?,
                },
                files,
            )
        }
        Action::Return => {
            let b: ReturnBody = parse_json(body)?;
            (
                ActionInput::Return {
                    method: b.method,
                    tracking_number: opt("tracking_number", &b.tracking_number)?,
                },
                Vec::new(),
            )
        }
    })
}

/// The officer a dossier is assigned to: staff of the agency holding it.
async fn assignee(state: &AppState, d: &Dossier, user: &str) -> Result<Person, AppError> {
    let mut tx = state.db.begin_read().await?;
    let found = match motcua_store::accounts::user_by_username(&mut tx, user).await? {
        Some((u, _)) => Some(u),
        None => motcua_store::accounts::user_by_id(&mut tx, user).await?,
    };
    let u = found.ok_or_else(|| AppError::bad("invalid_field", "user", format!("Không có tài khoản «{user}».")))?;
    let grants = motcua_store::accounts::grants(&mut tx, &u.id).await?;
    let staff = grants
        .iter()
        .any(|g| g.role.is_departmental() && g.province == d.province && g.agency == d.current_agency);
    if !staff || u.disabled {
        return Err(AppError::Refused(format!(
            "{} không phải cán bộ đang làm việc của cơ quan đang giữ hồ sơ ({}).",
            u.display_name, d.current_agency
        )));
    }
    Ok(Person {
        id: u.id,
        name: u.display_name,
    })
}

/// `POST /api/v1/dossiers/{code}/actions/{action}`: takes an action (accept, refuse,
/// request-completion, transfer, assign, forward, forward-back, request-supplement,
/// receive-supplement, request-payment, confirm-payment, apologise, withdraw, stop,
/// finish, return) with its data as a JSON body. An action that the status, the role or
/// the agency does not allow is refused with 409 and the reason.
#[utoipa::path(post, path = "/api/v1/dossiers/{code}/actions/{action}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ"), ("action" = String, Path, description = "Tên thao tác")),
    request_body(content = Object, description = "Dữ liệu của thao tác, ví dụ {\"reason\": \"…\"}"),
    responses((status = 200, body = DossierView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn act(
    State(state): State<AppState>,
    p: Principal,
    Path((code, action_name)): Path<(String, String)>,
    super::extract::ApiBytes(body): super::extract::ApiBytes,
) -> Result<Json<DossierView>, AppError> {
    let action = Action::from_name(&action_name).ok_or_else(|| {
        AppError::NotFound(format!(
            "Không có thao tác «{action_name}». Các thao tác: {}.",
            Action::ALL.map(Action::name).join(", ")
        ))
    })?;
    let (stored, _) = load_visible(&state, &p, &code).await?;
    lifecycle::authorize(&stored.dossier, action, &p.access, user_id(&p)).map_err(|r| AppError::Refused(r.0))?;
    // The status decides before the body is read: a refused action says why, whatever it carried.
    motcua_core::dossier::next_status(stored.dossier.status, action, stored.dossier.resume_status)
        .map_err(|r| AppError::Refused(r.0))?;
    let (input, file_ids) = parse_input(&state, &stored.dossier, action, &body).await?;
    let calendar = super::calendar::calendar(&state, &stored.dossier.province).await?;
    let actor = person_of(&p);
    let uploader = p.actor();
    let ip = p.ip.clone();
    let access = p.access.clone();
    let user = user_id(&p).map(str::to_owned);
    let clock = state.clock.clone();
    let rules = delay_rules(&state);
    let limit = dossier_upload_limit(&state);
    let code = stored.dossier.code;
    let (dossier, files) = state
        .writes
        .submit(
            move |tx: &mut Tx| -> JobFuture<'_, Result<(Dossier, Vec<files::FileRecord>), AppError>> {
                Box::pin(async move {
                    // Re-read inside the write: the action applies to the committed state, which
                    // may have moved on since the checks above (another agency took it, say).
                    let Stored { id, mut dossier } = dossiers::by_code(tx, &code)
                        .await?
                        .ok_or_else(|| not_found(code.as_str()))?;
                    let acting = lifecycle::authorize(&dossier, action, &access, user.as_deref())
                        .map_err(|r| AppError::Refused(r.0))?;
                    let existing = files::of_dossier(tx, id).await?;
                    let used: i64 = existing.iter().map(|f| f.size).sum();
                    check_files(tx, &file_ids, &uploader, used, limit).await?;
                    let ctx = Context {
                        now: clock.now(),
                        calendar: &calendar,
                        rules,
                        actor: actor.clone(),
                        agency: acting.agency.clone(),
                    };
                    transition(tx, id, &mut dossier, input, &ctx, &ip).await?;
                    files::attach(tx, &file_ids, &uploader, id, dossier.province.as_str()).await?;
                    let files = files::of_dossier(tx, id).await?;
                    Ok((dossier, files))
                })
            },
        )
        .await?;
    // After the commit, so that no tracking read can cache the state before the action.
    state.tracking_cache.forget(dossier.code.as_str());
    crate::forms::issue_after(&state, &dossier);
    Ok(Json(view(&state, dossier, files, &p)))
}

/// Applies `input` to dossier `id` (as read in `tx`) and records it: saved against its
/// version, history row, audit record and outbox event, all in `tx`. The one path every
/// transition takes, whether a person acts through [`act`] or a payment gateway's
/// notification confirms a payment (`crate::api::payments`). Callers clear the dossier's
/// tracking cache entry (`state.tracking_cache.forget`) once the transaction commits.
pub(crate) async fn transition(
    tx: &mut Tx,
    id: i64,
    dossier: &mut Dossier,
    input: ActionInput,
    ctx: &Context<'_>,
    ip: &str,
) -> Result<Transition, AppError> {
    let before = dossier.clone();
    let t = lifecycle::apply(dossier, input, ctx).map_err(|r| AppError::Refused(r.0))?;
    dossiers::save(tx, id, &before, dossier, before.version).await?;
    let by = By {
        actor: &ctx.actor,
        agency: &ctx.agency,
        ip,
        now: ctx.now,
    };
    record(tx, id, dossier, Step::of(&t), &by).await?;
    Ok(t)
}

/// One row of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// 1, 2, … in order.
    pub seq: i64,
    /// When.
    pub at: String,
    /// `file`, or the action's name.
    pub action: String,
    /// What happened, in Vietnamese.
    pub label: String,
    /// Status before.
    pub from_status: Option<u8>,
    /// Status after.
    pub to_status: u8,
    /// Who acted.
    pub actor: String,
    /// For which agency.
    pub agency: String,
    /// What they wrote.
    pub note: String,
}

/// One row of the processing control sheet (a hand-over and the step it started).
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlRow {
    /// The agency that handed over.
    pub from_agency: String,
    /// Who handed over.
    pub giver: String,
    /// The agency that received.
    pub to_agency: String,
    /// Its name.
    pub to_agency_name: String,
    /// Who received, when a person was named.
    pub receiver: Option<String>,
    /// When it was handed over (and received).
    pub handed_at: String,
    /// When the step that started is due.
    pub due_at: Option<String>,
    /// When the step ended (the next hand-over), if it has.
    pub finished_at: Option<String>,
    /// How the step finished against its budget.
    pub result: Option<Timeliness>,
    /// `Trước hạn`, `Đúng hạn`, `Quá hạn`.
    pub result_label: Option<&'static str>,
    /// The note of the hand-over.
    pub note: String,
}

/// A dossier's history and control sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The dossier's code.
    pub code: String,
    /// Every action, oldest first.
    pub events: Vec<HistoryEntry>,
    /// The processing control sheet (docs/rules.md §3, form 06).
    pub control_sheet: Vec<ControlRow>,
}

/// The Vietnamese label of a history row's action (`file` or an action's name).
pub(crate) fn action_label(name: &str) -> String {
    if name == "file" {
        "Nộp hồ sơ".to_owned()
    } else {
        Action::from_name(name).map_or_else(|| name.to_owned(), |a| a.label().to_owned())
    }
}

/// The control sheet from the history: each hand-over starts a step; the next hand-over
/// (or the return of the result) ends it and says how it finished.
pub(crate) fn control_sheet(events: &[EventRecord], dir: &Directory) -> Vec<ControlRow> {
    let mut rows: Vec<ControlRow> = Vec::new();
    for e in events {
        let ends_step = e.to_agency.is_some() && e.action != Action::Accept.name() || e.action == Action::Return.name();
        if ends_step && let Some(last) = rows.last_mut() {
            last.finished_at = Some(rfc3339(e.at));
            last.result = e.closed_step;
            last.result_label = e.closed_step.map(Timeliness::label);
        }
        if let Some(to) = &e.to_agency {
            rows.push(ControlRow {
                from_agency: e.agency.clone(),
                giver: e.actor.name.clone(),
                to_agency: to.clone(),
                to_agency_name: dir.name(to),
                receiver: e.to_user.as_ref().map(|u| u.name.clone()),
                handed_at: rfc3339(e.at),
                due_at: e.step_due_at.map(rfc3339),
                finished_at: None,
                result: None,
                result_label: None,
                note: e.note.clone(),
            });
        }
    }
    rows
}

/// `GET /api/v1/dossiers/{code}/history`: every action and the processing control sheet.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/history", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = History), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn history(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<History>, AppError> {
    let (stored, _) = load_visible(&state, &p, &code).await?;
    let mut tx = state.db.begin_read().await?;
    let events = dossiers::events(&mut tx, stored.id).await?;
    drop(tx);
    let dir = directory(&state, &stored.dossier.province).await?;
    Ok(Json(History {
        code: stored.dossier.code.as_str().to_owned(),
        control_sheet: control_sheet(&events, &dir),
        events: events
            .into_iter()
            .map(|e| HistoryEntry {
                seq: e.seq,
                at: rfc3339(e.at),
                label: action_label(&e.action),
                action: e.action,
                from_status: e.from_status.map(Status::code),
                to_status: e.to_status.code(),
                actor: e.actor.name,
                agency: e.agency,
                note: e.note,
            })
            .collect(),
    }))
}

/// Tracking parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TrackParams {
    /// The tracking secret printed on the receipt.
    pub secret: Option<String>,
}

/// One step as the public sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackStep {
    /// When.
    pub at: String,
    /// What happened.
    pub label: String,
    /// Where the dossier went (agency name), for hand-overs.
    pub agency: Option<String>,
    /// Status after the step.
    pub status_label: String,
    /// How the step that ended here finished.
    pub result: Option<Timeliness>,
}

/// What public tracking shows: no personal data.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Tracking {
    /// Code.
    pub code: String,
    /// Procedure.
    pub procedure_name: String,
    /// National status code.
    pub status_code: u8,
    /// Status label.
    pub status_label: String,
    /// Accepted.
    pub received_at: Option<String>,
    /// Appointment.
    pub due_at: Option<String>,
    /// Result ready.
    pub finished_at: Option<String>,
    /// Result handed over.
    pub returned_at: Option<String>,
    /// Where the dossier is now.
    pub current_agency: String,
    /// The steps so far.
    pub steps: Vec<TrackStep>,
}

/// `GET /api/v1/track/{code}?secret=`: public tracking with the second factor printed on
/// the receipt. A wrong or missing secret, or an unknown code, all get the same 404;
/// repeated misses from one address are slowed down with 429.
#[utoipa::path(get, path = "/api/v1/track/{code}", tag = "dossiers",
    params(("code" = String, Path, description = "Mã hồ sơ"), TrackParams),
    responses((status = 200, body = Tracking), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn track(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<TrackParams>,
) -> Result<Response, AppError> {
    let answer = tracking(&state, &ip, &code, q.secret.as_deref().unwrap_or_default()).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        answer.json.clone(),
    )
        .into_response())
}

/// The public tracking answer for `code` and `secret` asked from `ip`: from the tracking
/// cache when it holds the dossier, else read and kept there. A wrong or missing secret
/// and an unknown code give the same 404 and count as misses of `ip`; past the limit, 429.
/// Shared by the API and the `/tra-cuu` pages.
pub async fn tracking(state: &AppState, ip: &str, code: &str, secret: &str) -> Result<Arc<Cached>, AppError> {
    let miss = || tracking_miss(state, ip, code);
    let secret = secret.trim().to_ascii_uppercase();
    let Ok(code) = DossierCode::parse(code) else {
        return Err(miss());
    };
    let matches = |stored: &str| !secret.is_empty() && same_secret(&secret, stored);
    if let Some(cached) = state.tracking_cache.get(code.as_str()) {
        return if matches(&cached.secret) {
            Ok(cached)
        } else {
            Err(miss())
        };
    }
    let epoch = state.tracking_cache.epoch(code.as_str());
    let mut tx = state.db.begin_read().await?;
    let Some(stored) = dossiers::by_code(&mut tx, &code).await? else {
        return Err(miss());
    };
    if !matches(&stored.dossier.tracking_secret) {
        return Err(miss());
    }
    let events = dossiers::events(&mut tx, stored.id).await?;
    drop(tx);
    let view = tracking_view(state, &stored.dossier, events).await?;
    let json = serde_json::to_vec(&view).map_err(|e| AppError::Internal(format!("tracking view: {e}")))?;
    let cached = Arc::new(Cached {
        secret: stored.dossier.tracking_secret.as_str().into(),
        json: json.into(),
    });
    state
        .tracking_cache
        .put_unless_changed(code.as_str(), Arc::clone(&cached), epoch);
    Ok(cached)
}

/// The answer to a failed look-up by code and secret (tracking, a rating link) of `code`
/// from `ip`: 404, the same for a wrong code and a wrong secret; 429 with the wait once the
/// address, or the code, has used up `tracking_rate_per_minute` misses. Only misses count,
/// and each budget counts apart: a correct code and secret are never refused, so neither
/// a neighbour behind the same proxy nor someone guessing at one citizen's code can lock
/// others out.
pub(crate) fn tracking_miss(state: &AppState, ip: &str, code: &str) -> AppError {
    let code_key = motcua_core::text::fold(code);
    let by_address = state.tracking_misses_by_address.count(&ip.to_owned());
    let by_code = state.tracking_misses_by_code.count(&code_key);
    match (by_address, by_code) {
        (Ok(()), Ok(())) => AppError::NotFound("Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập.".to_owned()),
        (Err(a), Err(b)) => too_many_misses(a.max(b)),
        (Err(wait), _) | (_, Err(wait)) => too_many_misses(wait),
    }
}

fn too_many_misses(wait: std::time::Duration) -> AppError {
    AppError::too_many(
        format!(
            "Tra cứu sai quá nhiều lần. Vui lòng kiểm tra mã hồ sơ và mã tra cứu, thử lại sau {} giây.",
            wait.as_secs().max(1)
        ),
        wait,
    )
}

/// What the public sees of dossier `d` with its history `events`.
async fn tracking_view(state: &AppState, d: &Dossier, events: Vec<EventRecord>) -> Result<Tracking, AppError> {
    let dir = directory(state, &d.province).await?;
    Ok(Tracking {
        code: d.code.as_str().to_owned(),
        procedure_name: d.procedure_name.clone(),
        status_code: d.status.code(),
        status_label: d.status.label().to_owned(),
        received_at: d.received_at.map(rfc3339),
        due_at: d.due_at.map(rfc3339),
        finished_at: d.finished_at.map(rfc3339),
        returned_at: d.returned_at.map(rfc3339),
        current_agency: dir.name(d.current_agency.as_str()),
        steps: events
            .into_iter()
            .map(|e| TrackStep {
                at: rfc3339(e.at),
                label: action_label(&e.action),
                agency: e.to_agency.as_deref().map(|a| dir.name(a)),
                status_label: e.to_status.label().to_owned(),
                result: e.closed_step,
            })
            .collect(),
    })
}
