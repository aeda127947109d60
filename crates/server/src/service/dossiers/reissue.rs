//! Re-issuing a dossier's documents: when a setting they print was wrong (the public
//! address in the receipt's QR code, an agency's name), a system administrator of the
//! province draws them again. Each document whose drawing changes gets a new revision;
//! the one issued before is kept, marked replaced, and can still be downloaded as it was
//! (`?r=`). One audit record names every replaced and new copy with its SHA-256.

use motcua_store::forms;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::load_visible;
use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// One document drawn again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReissuedForm {
    /// The document's kind (`receipt`, `control-sheet`, `payment-receipt`, …).
    pub kind: String,
    /// Which one of its kind (as in the download's `n`).
    pub ordinal: i64,
    /// The new drawing's revision (as in the download's `r`); the one before is kept.
    pub revision: i64,
    /// SHA-256 of the new PDF, hex.
    pub sha256: String,
}

/// What a re-issue did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reissue {
    /// The dossier.
    pub code: String,
    /// The documents drawn again, each now at a new revision.
    pub reissued: Vec<ReissuedForm>,
    /// Documents whose drawing came out the same: left as they were.
    pub unchanged: usize,
}

/// Draws the documents of dossier `code` again and records those that changed as new
/// revisions. Only a system administrator of the dossier's province may.
pub async fn reissue(state: &AppState, p: &Principal, code: &str) -> Result<Reissue, AppError> {
    let (stored, _) = load_visible(state, p, code).await?;
    let d = &stored.dossier;
    if !p.access.can_administer(&d.province) {
        return Err(AppError::Forbidden(
            "Chỉ quản trị hệ thống của tỉnh được cấp lại văn bản của hồ sơ.".to_owned(),
        ));
    }
    let (redrawn, unchanged) = crate::forms::redraw(state, &stored).await?;
    let reissued: Vec<ReissuedForm> = redrawn
        .iter()
        .map(|r| ReissuedForm {
            kind: r.new.kind.clone(),
            ordinal: r.new.ordinal,
            revision: r.new.revision,
            sha256: r.new.sha256.clone(),
        })
        .collect();
    if !redrawn.is_empty() {
        let actor = Actor::of(p);
        let now = state.clock.now();
        let mut tx = state.db.begin_write().await?;
        for r in &redrawn {
            if !forms::replace(&mut tx, &r.old, &r.new, &actor.id, now).await? {
                return Err(AppError::Conflict(format!(
                    "Văn bản của hồ sơ {} vừa được cấp lại bởi người khác. Hãy tải lại trang để xem.",
                    d.code.as_str()
                )));
            }
        }
        let summary = |records: Vec<&forms::FormRecord>| {
            records
                .into_iter()
                .map(|f| json!({"kind": f.kind, "n": f.ordinal, "r": f.revision, "sha256": f.sha256}))
                .collect::<Vec<_>>()
        };
        audit::record(
            &mut tx,
            &actor,
            Event {
                action: "dossier.forms_reissued",
                object_type: "dossier",
                object_id: d.code.as_str(),
                province: Some(d.province.as_str()),
                before: Some(json!(summary(redrawn.iter().map(|r| &r.old).collect()))),
                after: Some(json!(summary(redrawn.iter().map(|r| &r.new).collect()))),
            },
        )
        .await?;
        tx.commit().await?;
        tracing::info!(dossier = d.code.as_str(), forms = redrawn.len(), "forms re-issued");
    }
    Ok(Reissue {
        code: d.code.as_str().to_owned(),
        reissued,
        unchanged,
    })
}
