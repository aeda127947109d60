//! The result files of a finish and their signatures (issue 22): whether the procedure
//! lets the department finish with them (`procedures.result_signature`, the rule of
//! [`ResultSignature::check`]), and which of them motcua signs once the finish commits —
//! asked for in the finish's own write (`result_signings`), signed by the form queue
//! (`crate::forms::sign_results`).

use motcua_core::catalogue::{Invalid, ResultFile, ResultSignature, SignatureFacts};
use motcua_core::codes::AgencyCode;
use motcua_core::lifecycle::Dossier;
use motcua_store::files::{self, FileRecord, FileState};
use motcua_store::{Tx, catalogue, result_signings};
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// Who signs the results of a finish once it commits.
#[derive(Debug, Clone)]
pub(super) struct ResultSigners {
    /// The agency finishing: its key (or the `*` key) signs, when configured.
    agency: AgencyCode,
    /// Whether that agency has a key.
    agency_key: bool,
    /// The finishing leader's username, when they have a key of their own.
    leader: Option<String>,
}

impl ResultSigners {
    /// Who signs results of `agency` finished by `p`, as configured.
    pub(super) fn of(state: &AppState, p: &Principal, agency: &AgencyCode) -> Self {
        let leader = p
            .user
            .as_ref()
            .map(|u| u.username.clone())
            .filter(|u| state.signing.has_leader_key(u, agency.as_str()));
        Self {
            agency: agency.clone(),
            agency_key: state.signing.signs_for(agency.as_str()),
            leader,
        }
    }

    /// Whether motcua signs a result PDF at finish.
    fn any(&self) -> bool {
        self.agency_key || self.leader.is_some()
    }

    /// Asks, in the finish's write, for each PDF among `file_ids` (of dossier `dossier_id`,
    /// whose files are `files`) to be signed as of `now`. Nothing when no key signs.
    pub(super) async fn request(
        &self,
        tx: &mut Tx,
        dossier_id: i64,
        file_ids: &[String],
        files: &[FileRecord],
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        if !self.any() {
            return Ok(());
        }
        for f in files
            .iter()
            .filter(|f| f.file_type == "pdf" && file_ids.contains(&f.id))
        {
            result_signings::request(tx, &f.id, dossier_id, self.agency.as_str(), self.leader.as_deref(), now).await?;
        }
        Ok(())
    }
}

/// Refuses a finish of `d` with `file_ids` when its procedure requires signed results and
/// one of them is not (docs/operations.md, "Results that must be signed"). Files that are not
/// `p`'s own staged uploads are left to the write, which refuses them.
pub(super) async fn check(
    state: &AppState,
    p: &Principal,
    d: &Dossier,
    file_ids: &[String],
    signers: &ResultSigners,
) -> Result<(), AppError> {
    let (setting, records) = {
        let mut tx = state.db.begin_read().await?;
        let setting = catalogue::result_signature(&mut tx, &d.province, &d.procedure)
            .await?
            .unwrap_or_default();
        if setting == ResultSignature::Optional {
            return Ok(());
        }
        let mut records = Vec::with_capacity(file_ids.len());
        for id in file_ids {
            records.push(files::get(&mut tx, id).await?);
        }
        (setting, records)
    };
    let mut problems = Vec::new();
    for record in records {
        let Some(f) = record.filter(|f| f.uploader_id == p.actor() && f.state == FileState::Staged) else {
            continue;
        };
        let file = facts(state, &f).await?;
        let signed_at_finish = f.file_type == "pdf" && signers.any();
        if let Err(why) = setting.check(&file, signed_at_finish) {
            // The finish form marks its file field, whichever file it is.
            problems.push(Invalid::new(
                "result_files",
                format!(
                    "Tệp kết quả «{}» {}: thủ tục này yêu cầu văn bản kết quả có chữ ký số hợp lệ (còn nguyên vẹn, ký toàn bộ tệp, chứng thư số do tổ chức được tin cậy cấp).",
                    f.name,
                    why.message()
                ),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::fields("unsigned_result", problems))
    }
}

/// What the verifier finds in file `f`, as the rule reads it.
async fn facts(state: &AppState, f: &FileRecord) -> Result<ResultFile, AppError> {
    if f.file_type != "pdf" {
        return Ok(ResultFile::NotPdf);
    }
    let bytes = state
        .objects
        .get(&f.object_key)
        .await
        .map_err(|e| AppError::Internal(format!("object store: {e}")))?
        .ok_or_else(|| AppError::Internal(format!("object {} of file {} is missing", f.object_key, f.id)))?;
    let views = crate::service::verify::signatures(state, bytes).await?;
    Ok(ResultFile::Pdf(
        views
            .iter()
            .map(|v| SignatureFacts {
                intact: v.intact,
                covers_whole_file: v.covers_whole_file,
                trusted: v.trusted,
                invalid: v.verdict == "invalid",
                revoked: v.verdict == "revoked",
            })
            .collect(),
    ))
}
