//! Intake: a dossier filed at the counter or online, checked against its procedure,
//! numbered and recorded in one group-committed write.

use std::collections::HashSet;
use time::OffsetDateTime;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use motcua_core::catalogue::{ApplicantKind, Invalid, ProcedureContent};
use motcua_core::codes::ProcedureCode;
use motcua_core::dossier::{Channel, DossierCode, Status};
use motcua_core::lifecycle::{self, ActionInput, Applicant, Context, Delivery, Dossier, Filing, ReceivedDocument};
use motcua_store::batch::{BatchTx, JobFuture, RowId};
use motcua_store::{Tx, dossiers, files};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::directory::{current_procedure, directory};
use super::reception::{self, Asked, Receiver, Reception};
use super::record::{By, Step, record};
use super::view::{DossierView, view};
use super::{delay_rules, is_citizen, person_of, user_id};
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

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
    /// Documents taken from the applicant's document store instead of an upload: ids from
    /// `GET /api/v1/documents/offers` ("Dùng giấy tờ đã có"). At the counter, only with
    /// `store_consent`.
    #[serde(default)]
    pub stored: Vec<i64>,
    /// Counter intake only: the officer checked this row's scans against the original;
    /// they enter the applicant's document store.
    #[serde(default)]
    pub checked: Option<crate::service::documents::CheckedInput>,
}

/// A new dossier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDossier {
    /// Procedure code, e.g. `1.900141`.
    pub procedure: String,
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// The applicant.
    pub applicant: Applicant,
    /// The checklist: the documents received (counter) or uploaded (online).
    #[serde(default)]
    pub documents: Vec<DocumentInput>,
    /// Counter intake only: `counter` (default) or `post` for dossiers that arrived by post.
    pub channel: Option<Channel>,
    /// How the applicant wants the result (default: at the counter).
    pub delivery: Option<Delivery>,
    /// The fee option chosen, when the procedure's fees depend on one.
    pub fee_option: Option<String>,
    /// Counter intake only: fee items waived, each with its reason (one item by its place
    /// in the fees due, or all of them).
    #[serde(default)]
    pub exemptions: Vec<lifecycle::ExemptionRequest>,
    /// Sets of documents received (default: what the procedure asks).
    pub sets: Option<u16>,
    /// Counter intake only: accept at once (default), or `false` to register it for
    /// checking (status 1) and then accept, refuse or ask to complete.
    pub accept: Option<bool>,
    /// Someone filing on the applicant's behalf under an authorisation (người được ủy
    /// quyền), with the authorisation; they are told of the dossier's changes too.
    pub submitter: Option<SubmitterInput>,
    /// Free note.
    #[serde(default)]
    pub note: String,
    /// Counter intake only: the queue ticket (its id) the applicant was called with. The
    /// ticket is linked to the dossier, whose history and receipt show its number.
    #[serde(default)]
    pub ticket: Option<i64>,
    /// Counter intake only: the applicant agreed that the officer consult and use their
    /// document store (recorded with each document taken).
    #[serde(default)]
    pub store_consent: bool,
    /// Where it is received (an agency code): at the counter, which of the officer's
    /// counters (needed only when they work at several); online, the centre chosen to
    /// check the dossier and hand the result back. Default: the officer's counter, or
    /// online the first place where the procedure is received.
    #[serde(default)]
    pub centre: Option<String>,
    /// Commune-level procedures: the competent commune (the code of its People's
    /// Committee). Default: the commune of the receiving centre.
    #[serde(default)]
    pub commune: Option<String>,
}

/// An authorised submitter as given at filing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitterInput {
    /// Full name.
    pub name: String,
    /// Citizen ID (CCCD, 12 digits).
    pub id_number: String,
    /// Phone number.
    #[serde(default)]
    pub phone: String,
    /// Email address.
    #[serde(default)]
    pub email: String,
    /// Address.
    #[serde(default)]
    pub address: String,
    /// The authorisation document (văn bản ủy quyền): counted at the counter, uploaded
    /// online (required).
    #[serde(default)]
    pub authorisation: AuthorisationInput,
}

/// The authorisation document as received.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AuthorisationInput {
    /// Originals received (counter intake).
    pub originals: u16,
    /// Copies received (counter intake).
    pub copies: u16,
    /// Uploaded scans: ids from `POST /api/v1/uploads`.
    pub files: Vec<String>,
}

/// The submitter of `req`, checked against `applicant`, and the authorisation as a
/// received document; `None` when the applicant files themself.
fn submitter_of(
    req: Option<SubmitterInput>,
    applicant: &Applicant,
    online: bool,
) -> Result<Option<(Applicant, ReceivedDocument)>, Vec<Invalid>> {
    let Some(s) = req else {
        return Ok(None);
    };
    let authorisation = ReceivedDocument {
        index: lifecycle::AUTHORISATION_INDEX,
        name: lifecycle::AUTHORISATION_NAME.to_owned(),
        originals: s.authorisation.originals,
        copies: s.authorisation.copies,
        files: s.authorisation.files,
    };
    let person = Applicant {
        kind: ApplicantKind::Citizen,
        name: s.name,
        id_number: s.id_number,
        phone: s.phone,
        email: s.email,
        address: s.address,
    };
    let submitter = lifecycle::check_submitter(applicant, person, &authorisation, online)?;
    Ok(Some((submitter, authorisation)))
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
    /// Scans checked against the original, to enter the applicant's store.
    checked: Vec<crate::service::documents::Checked>,
}

/// What the checklist asks of the document store: rows taken from it, scans checked
/// against the original.
#[derive(Default)]
struct StoreParts {
    wanted: Vec<crate::service::documents::Wanted>,
    checked: Vec<(u16, crate::service::documents::CheckedInput)>,
}

/// The checklist of a new dossier from what was declared. Online, a document is received
/// when a file was uploaded for it (rows without files are dropped); at the counter, when
/// originals, copies or scans were counted. Either way a row that takes documents from the
/// applicant's store counts as received (the store's part is returned apart). Every required document must be there, except
/// when the counter only registers the dossier for checking (`complete_required` false):
/// an incomplete dossier is then registered (status 1) so that the officer can ask in
/// writing for everything missing (request completion) or refuse it.
fn checklist(
    content: &ProcedureContent,
    docs: Vec<DocumentInput>,
    online: bool,
    complete_required: bool,
) -> Result<(Vec<ReceivedDocument>, Vec<Invalid>, StoreParts), AppError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(docs.len());
    let mut store = StoreParts::default();
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
        if !d.stored.is_empty() {
            store.wanted.push(crate::service::documents::Wanted {
                index: d.index,
                ids: d.stored.clone(),
            });
        }
        if let Some(c) = d.checked {
            if online || d.files.is_empty() {
                return Err(AppError::bad(
                    "invalid_field",
                    format!("{field}.checked"),
                    "Chỉ cán bộ tiếp nhận đánh dấu bản quét đã đối chiếu với bản chính, và cần có bản quét.",
                ));
            }
            store.checked.push((d.index, c));
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
        return Ok((out, Vec::new(), store));
    }
    let mut missing: Vec<Invalid> = content
        .documents
        .iter()
        .enumerate()
        .filter(|(_, r)| r.required)
        .filter(|(i, _)| !out.iter().any(|d| usize::from(d.index) == *i && d.is_received(online)))
        .filter(|(i, _)| !store.wanted.iter().any(|w| usize::from(w.index) == *i))
        .map(|(i, r)| {
            let message = if online {
                format!("Còn thiếu «{}»: hãy tải lên giấy tờ bắt buộc này.", r.name)
            } else {
                format!("Còn thiếu «{}» (bắt buộc).", r.name)
            };
            Invalid::new(format!("documents[{i}]"), message)
        })
        .collect();
    if !online && let Some(last) = missing.last_mut() {
        last.message.push_str(
            " Hồ sơ chưa đủ nên chưa thể tiếp nhận; nếu người nộp chưa mang đủ, chọn «Chỉ ghi nhận để kiểm tra» (accept: false) rồi lập phiếu yêu cầu bổ sung, hoàn thiện hoặc từ chối.",
        );
    }
    Ok((out, missing, store))
}

async fn prepare_intake(state: &AppState, p: &Principal, req: NewDossier) -> Result<Intake, AppError> {
    let province = state.province(req.province.as_deref()).await?;
    let code = ProcedureCode::parse(&req.procedure).map_err(|e| AppError::code("procedure", e))?;
    let version = current_procedure(state, &province, &code).await?;
    let content = &version.content;
    let dir = directory(state, &province).await?;
    let citizen = is_citizen(p);
    let receiver = if citizen {
        Receiver::Online
    } else {
        Receiver::counter_of(p, &province)
            .ok_or_else(|| AppError::Forbidden("Chỉ cán bộ tiếp nhận mới được tiếp nhận hồ sơ tại quầy.".to_owned()))?
    };
    let asked = Asked {
        centre: req.centre.as_deref().filter(|c| !c.is_empty()),
        commune: req.commune.as_deref().filter(|c| !c.is_empty()),
    };
    let Reception { receiving, competent } = reception::receive(&dir, content, &receiver, asked)?;
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
    // Every problem of the form is reported at once, in the order of its fields.
    let mut problems = Vec::new();
    let given = req.applicant.clone();
    let applicant = req.applicant.checked_as("applicant").unwrap_or_else(|p| {
        problems.extend(p);
        given
    });
    if !content.applicants.contains(&applicant.kind) {
        problems.push(Invalid::new(
            "applicant.kind",
            "Thủ tục này không áp dụng cho loại đối tượng đã chọn.",
        ));
    }
    let (mut documents, missing, store_parts) =
        checklist(content, req.documents, citizen, citizen || req.accept.unwrap_or(true))?;
    let submitter = submitter_of(req.submitter, &applicant, citizen).unwrap_or_else(|p| {
        problems.extend(p);
        None
    });
    let submitter = submitter.map(|(person, authorisation)| {
        documents.push(authorisation);
        person
    });
    problems.extend(missing);
    let delivery = req.delivery.unwrap_or(Delivery::Counter);
    if let Err(e) = lifecycle::check_delivery(delivery, &applicant) {
        problems.push(e);
    }
    let note = lifecycle::optional_text("note", &req.note).unwrap_or_else(|e| {
        problems.push(e);
        String::new()
    });
    if !problems.is_empty() {
        let incomplete = problems.iter().all(|p| p.field.starts_with("documents["));
        return Err(AppError::fields(
            if incomplete { "incomplete_dossier" } else { "invalid" },
            problems,
        ));
    }
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
    let reused = crate::service::documents::check_reuse(
        state,
        p,
        content,
        &province,
        &applicant.id_number,
        &store_parts.wanted,
        req.store_consent,
    )
    .await?;
    let checked = if store_parts.checked.is_empty() {
        Vec::new()
    } else {
        let kinds = crate::service::documents::kinds(state, Some(province.as_str())).await?;
        store_parts
            .checked
            .into_iter()
            .map(|(index, c)| crate::service::documents::check_checked(content, &kinds, index, c))
            .collect::<Result<Vec<_>, _>>()?
    };
    let now = state.clock.now();
    let mut dossier = Dossier::file(Filing {
        // Replaced by the allocated code inside the write transaction.
        code: DossierCode::new(&receiving, now.date(), 1).map_err(|e| AppError::Internal(e.to_string()))?,
        province: province.clone(),
        procedure: &code,
        version: version.version,
        content,
        receiving,
        competent,
        channel,
        applicant,
        documents,
        tracking_secret: new_secret(),
        now,
    });
    dossier.owner = citizen.then(|| user_id(p).unwrap_or_default().to_owned());
    dossier.submitter = submitter;
    dossier.sets = req.sets.unwrap_or(content.sets);
    dossier.fees = fees;
    dossier.exemptions = exemptions;
    dossier.delivery = delivery;
    dossier.note = note;
    dossier.reused = reused;
    let mut checked = checked;
    crate::service::documents::verify_checked(state, &dossier, &mut checked).await?;
    Ok(Intake {
        dossier,
        file_ids,
        accept: !citizen && req.accept.unwrap_or(true),
        checked,
    })
}

/// Checks the files a request names: staged uploads of the caller, within the per-dossier
/// total. Returns them.
pub(super) fn dossier_upload_limit(state: &AppState) -> i64 {
    i64::try_from(state.config.max_dossier_upload_bytes).unwrap_or(i64::MAX)
}

pub(super) async fn check_files(
    tx: &mut Tx,
    ids: &[String],
    uploader: &str,
    already: i64,
    limit: i64,
    now: OffsetDateTime,
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
            // An upload past its time is gone, even before the sweep removes it.
            .filter(|f| {
                f.uploader_id == uploader
                    && f.state == files::FileState::Staged
                    && f.expires_at.is_none_or(|at| at > now)
            })
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

/// Files a dossier. A counter officer's intake is accepted at once (receipt and
/// appointment issued) unless `accept` is false; a citizen's online filing waits for the
/// counter's check (status 1).
pub async fn file(state: &AppState, p: &Principal, req: NewDossier) -> Result<DossierView, AppError> {
    let ticket = req.ticket;
    let Intake {
        mut dossier,
        file_ids,
        accept,
        checked,
    } = prepare_intake(state, p, req).await?;
    let ticket = match ticket {
        Some(id) => Some(crate::service::queue::ticket_for_intake(state, p, id, &dossier.receiving_agency).await?),
        None => None,
    };
    let calendar = crate::service::calendar::calendar(state, &dossier.province).await?;
    let actor = person_of(p);
    let uploader = p.actor();
    let ip = p.ip.clone();
    let clock = state.clock.clone();
    let rules = delay_rules(state);
    let limit = dossier_upload_limit(state);
    // The write runs in the next group commit (see motcua_store::batch).
    let (dossier, attached) = state
        .writes
        .submit(
            move |b: &mut BatchTx| -> JobFuture<'_, Result<(Dossier, Vec<files::FileRecord>), AppError>> {
                Box::pin(async move {
                    let now = clock.now();
                    let attached = check_files(b.tx().await?, &file_ids, &uploader, 0, limit, now).await?;
                    dossier.created_at = now;
                    let day = now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date();
                    dossier.code = dossiers::next_code(b, &dossier.province, &dossier.receiving_agency, day).await?;
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
                    let id: RowId = if file_ids.is_empty() {
                        dossiers::insert(b, &dossier)?.into()
                    } else {
                        let id = dossiers::insert_now(b, &dossier).await?;
                        files::attach(b.tx().await?, &file_ids, &uploader, id, dossier.province.as_str(), now).await?;
                        id.into()
                    };
                    // The store's part, in the same write: the documents taken (by
                    // reference), the scans checked against the original.
                    if !dossier.reused.is_empty() || !checked.is_empty() {
                        let tx = b.tx().await?;
                        crate::service::documents::record_reuse(tx, &dossier, now).await?;
                        crate::service::documents::enter_checked(tx, &dossier, &checked, &actor, now).await?;
                    }
                    let by = By {
                        actor: &actor,
                        agency: &filed.receiving_agency,
                        ip: &ip,
                        now,
                    };
                    let filing_note = match &ticket {
                        Some((ticket_id, number)) => {
                            let linked = motcua_store::queue::link_dossier(
                                b.tx().await?,
                                *ticket_id,
                                filed.code.as_str(),
                                motcua_store::to_millis(now),
                            )
                            .await?;
                            if !linked {
                                return Err(AppError::Conflict(format!(
                                    "Số thứ tự {number} không còn ở quầy hoặc đã gắn với hồ sơ khác."
                                )));
                            }
                            if filed.note.is_empty() {
                                format!("Số thứ tự {number}")
                            } else {
                                format!("Số thứ tự {number}. {}", filed.note)
                            }
                        }
                        None => filed.note.clone(),
                    };
                    let filing = Step {
                        action: "file",
                        from: None,
                        to: Status::New,
                        handover: None,
                        closed_step: None,
                        note: &filing_note,
                    };
                    record(b, id, &filed, filing, &by).await?;
                    if !filed.exemptions.is_empty() {
                        audit::record_in_batch(
                            b,
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
                        record(b, id, &dossier, Step::of(t), &by).await?;
                    }
                    Ok((dossier, attached))
                })
            },
        )
        .await?;
    crate::forms::issue_after(state, &dossier);
    let files = attached
        .into_iter()
        .map(|mut f| {
            f.state = files::FileState::Attached;
            f
        })
        .collect();
    view(state, dossier, files, p).await
}
