//! A dossier as the person asking sees it, and who may see it.

use motcua_core::dossier::{Action, Timeliness};
use motcua_core::lifecycle::{self, Dossier};
use motcua_store::dossiers::{self, Stored};
use motcua_store::files;
use serde::Serialize;
use utoipa::ToSchema;

use super::{not_found, parse_code, rfc3339, user_id};
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

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
    pub fn of(f: files::FileRecord) -> Self {
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
    /// National status label, as the rules in force today word it.
    pub status_label: String,
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
pub async fn view(
    state: &AppState,
    d: Dossier,
    files: Vec<files::FileRecord>,
    p: &Principal,
) -> Result<DossierView, AppError> {
    let now = state.clock.now();
    let rules = crate::service::rules::now(state).await?;
    let actions = Action::ALL
        .into_iter()
        .filter(|a| lifecycle::possible(&d, *a, now))
        .filter(|a| lifecycle::authorize(&d, *a, &p.access, user_id(p)).is_ok())
        .map(|a| a.name().to_owned())
        .collect();
    Ok(DossierView {
        status_code: d.status.code(),
        status_label: rules.label(d.status),
        overdue: d.is_overdue(now),
        timeliness: d.timeliness(now),
        actions,
        files: files.into_iter().map(FileView::of).collect(),
        dossier: d,
    })
}

pub async fn load_visible(
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

/// The dossier in full, for its applicant and the staff who may see it. Staff views of
/// personal data are recorded in the audit trail.
pub async fn get(state: &AppState, p: &Principal, code: &str) -> Result<DossierView, AppError> {
    let (stored, files) = load_visible(state, p, code).await?;
    let d = stored.dossier;
    audit_view(state, p, &d).await?;
    view(state, d, files, p).await
}

/// Whether `p` is the account that owns `d` (a citizen reading their own dossier): the one
/// read of a full record that is not audited. A caller without an account (an API token)
/// never is, not even for a dossier without an owner (filed at the counter).
pub fn reads_own(p: &Principal, d: &Dossier) -> bool {
    d.owner.is_some() && d.owner.as_deref() == user_id(p)
}

/// Records in the audit trail that `p` (staff, an API token: anyone but the applicant)
/// opened dossier `d` with its personal data.
pub async fn audit_view(state: &AppState, p: &Principal, d: &Dossier) -> Result<(), AppError> {
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
