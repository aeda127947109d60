//! The lifecycle actions taken on a dossier by the people handling it.

use motcua_core::codes::AgencyCode;
use motcua_core::dossier::Action;
use motcua_core::lifecycle::{self, ActionData, ActionInput, Context, Dossier, Person};
use motcua_store::batch::{BatchTx, JobFuture};
use motcua_store::dossiers::{self, Stored};
use motcua_store::files;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::directory::directory;
use super::intake::{check_files, dossier_upload_limit};
use super::record::transition;
use super::results::{self, ResultSigners};
use super::view::{DossierView, load_visible, view};
use super::{delay_rules, not_found, person_of, user_id};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

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

/// What a person asks an action to do, as they gave it (a skin reads it from a JSON body
/// or a form): the officer, agency and new appointment still as text (username or account
/// id; agency code; RFC 3339 or `YYYY-MM-DDTHH:MM` in Vietnam time), the upload ids not yet
/// checked. [`act`] checks it against the dossier and the rules.
pub type ActionRequest = ActionData<String, String, String>;

/// The request checked against dossier `d`: the lifecycle's input and the files it attaches.
async fn input_of(
    state: &AppState,
    d: &Dossier,
    request: ActionRequest,
) -> Result<(ActionInput, Vec<String>), AppError> {
    let text = |f: &str, v: &str| lifecycle::required_text(f, v).map_err(AppError::from);
    let opt = |f: &str, v: &str| lifecycle::optional_text(f, v).map_err(AppError::from);
    Ok(match request {
        ActionRequest::Accept => (ActionInput::Accept, Vec::new()),
        ActionRequest::Transfer => (ActionInput::Transfer, Vec::new()),
        ActionRequest::Refuse { reason } => (
            ActionInput::Refuse {
                reason: text("reason", &reason)?,
            },
            Vec::new(),
        ),
        ActionRequest::Withdraw { reason } => (
            ActionInput::Withdraw {
                reason: text("reason", &reason)?,
            },
            Vec::new(),
        ),
        ActionRequest::RequestCompletion { missing, reason } => (
            ActionInput::RequestCompletion {
                missing: lifecycle::missing_list("missing", &missing)?,
                reason: opt("reason", &reason)?,
            },
            Vec::new(),
        ),
        ActionRequest::RequestSupplement { missing, reason } => (
            ActionInput::RequestSupplement {
                missing: lifecycle::missing_list("missing", &missing)?,
                reason: opt("reason", &reason)?,
            },
            Vec::new(),
        ),
        ActionRequest::Assign { to } => (
            ActionInput::Assign {
                to: assignee(state, d, &to).await?,
            },
            Vec::new(),
        ),
        ActionRequest::ForwardOut { agency, note } => {
            let agency = AgencyCode::parse(&agency).map_err(|e| AppError::code("agency", e))?;
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
                    note: opt("note", &note)?,
                },
                Vec::new(),
            )
        }
        ActionRequest::ForwardBack { note } => (
            ActionInput::ForwardBack {
                note: opt("note", &note)?,
            },
            Vec::new(),
        ),
        ActionRequest::ReceiveSupplement { files, note } => {
            let attached = files.clone();
            (
                ActionInput::ReceiveSupplement {
                    files,
                    note: opt("note", &note)?,
                },
                attached,
            )
        }
        ActionRequest::RequestPayment { amount, note } => (
            ActionInput::RequestPayment {
                amount,
                note: opt("note", &note)?,
            },
            Vec::new(),
        ),
        ActionRequest::ConfirmPayment { amount, reference } => (
            ActionInput::ConfirmPayment {
                amount,
                reference: text("reference", &reference)?,
            },
            Vec::new(),
        ),
        ActionRequest::Apologise { reason, new_due } => {
            let new_due = parse_instant(&new_due).ok_or_else(|| {
                AppError::bad(
                    "invalid_field",
                    "new_due",
                    "Ngày hẹn mới phải theo RFC 3339 (ví dụ 2026-12-15T16:00:00+07:00) hoặc là giờ Việt Nam dạng 2026-12-15T16:00.",
                )
            })?;
            (
                ActionInput::Apologise {
                    reason: text("reason", &reason)?,
                    new_due,
                },
                Vec::new(),
            )
        }
        ActionRequest::Stop { legal_ground, reason } => (
            ActionInput::Stop {
                legal_ground: text("legal_ground", &legal_ground)?,
                reason: opt("reason", &reason)?,
            },
            Vec::new(),
        ),
        ActionRequest::Finish { result_files, note } => {
            let attached = result_files.clone();
            (
                ActionInput::Finish {
                    result_files,
                    note: opt("note", &note)?,
                },
                attached,
            )
        }
        ActionRequest::Return {
            method,
            tracking_number,
        } => (
            ActionInput::Return {
                method,
                tracking_number: opt("tracking_number", &tracking_number)?,
            },
            Vec::new(),
        ),
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

/// Takes `action` on dossier `code` for `p`. An action that the status, the role or the
/// agency does not allow is refused with the reason before the request is looked at:
/// `request` is what the skin read from the body or form (its error, if it could not),
/// and a refused action says why whatever it carried. `result` is what a finish says of
/// its result for the applicant's document store (ignored by other actions).
pub async fn act(
    state: &AppState,
    p: &Principal,
    code: &str,
    action: Action,
    request: Result<ActionRequest, AppError>,
    result: crate::service::documents::ResultChoice,
) -> Result<DossierView, AppError> {
    let (stored, _) = load_visible(state, p, code).await?;
    let acting =
        lifecycle::authorize(&stored.dossier, action, &p.access, user_id(p)).map_err(|r| AppError::Refused(r.0))?;
    motcua_core::dossier::next_status(stored.dossier.status, action, stored.dossier.resume_status)
        .map_err(|r| AppError::Refused(r.0))?;
    let request = request?;
    if request.action() != action {
        return Err(AppError::Internal(format!(
            "action {} asked with the request of {}",
            action.name(),
            request.action().name()
        )));
    }
    let (input, file_ids) = input_of(state, &stored.dossier, request).await?;
    let calendar = crate::service::calendar::calendar(state, &stored.dossier.province).await?;
    let actor = person_of(p);
    let uploader = p.actor();
    let ip = p.ip.clone();
    let access = p.access.clone();
    let user = user_id(p).map(str::to_owned);
    let clock = state.clock.clone();
    let rules = delay_rules(state);
    let limit = dossier_upload_limit(state);
    // A result enters the applicant's document store in the finish's own write, and the
    // signing of its PDFs is asked for there too.
    let results = match action {
        Action::Finish => {
            let signers = ResultSigners::of(state, p, &acting.agency);
            results::check(state, p, &stored.dossier, &file_ids, &signers).await?;
            let plan = crate::service::documents::result_plan(state, &stored.dossier, &file_ids, result).await?;
            Some((plan, signers))
        }
        _ => None,
    };
    let code = stored.dossier.code;
    let (dossier, files) = state
        .writes
        .submit(
            move |b: &mut BatchTx| -> JobFuture<'_, Result<(Dossier, Vec<files::FileRecord>), AppError>> {
                Box::pin(async move {
                    // Re-read inside the write: the action applies to the committed state, which
                    // may have moved on since the checks above (another agency took it, say).
                    let Stored { id, mut dossier } = dossiers::by_code(b.tx().await?, &code)
                        .await?
                        .ok_or_else(|| not_found(code.as_str()))?;
                    let acting = lifecycle::authorize(&dossier, action, &access, user.as_deref())
                        .map_err(|r| AppError::Refused(r.0))?;
                    let existing = files::of_dossier(b.tx().await?, id).await?;
                    let used: i64 = existing.iter().map(|f| f.size).sum();
                    let now = clock.now();
                    check_files(b.tx().await?, &file_ids, &uploader, used, limit, now).await?;
                    let ctx = Context {
                        now,
                        calendar: &calendar,
                        rules,
                        actor: actor.clone(),
                        agency: acting.agency.clone(),
                    };
                    transition(b, id, &mut dossier, input, &ctx, &ip).await?;
                    let tx = b.tx().await?;
                    files::attach(tx, &file_ids, &uploader, id, dossier.province.as_str(), now).await?;
                    if let Some((plan, _)) = &results {
                        crate::service::documents::enter_results(tx, &dossier, plan, now).await?;
                    }
                    let files = files::of_dossier(tx, id).await?;
                    if let Some((_, signers)) = &results {
                        signers.request(tx, id, &file_ids, &files, now).await?;
                    }
                    Ok((dossier, files))
                })
            },
        )
        .await?;
    // After the commit, so that no tracking read can cache the state before the action.
    state.tracking_cache.forget(dossier.code.as_str());
    crate::forms::issue_after(state, &dossier);
    view(state, dossier, files, p).await
}
