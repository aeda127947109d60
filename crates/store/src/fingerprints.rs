//! Issued documents found by their fingerprint (issue 22): whether a PDF someone holds is
//! one motcua issued, and which.

use crate::forms::{self, FormRecord};
use crate::{Result, Tx, on};

/// The documents recorded with SHA-256 `sha256` (hex, lowercase), current or replaced.
pub async fn by_sha256(tx: &mut Tx, sha256: &str) -> Result<Vec<FormRecord>> {
    let keys: Vec<(i64, String, i64, i64)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT dossier_id, kind, ordinal, revision FROM dossier_forms
             WHERE sha256 = $1 ORDER BY dossier_id, kind, ordinal, revision",
        )
        .bind(sha256)
        .fetch_all(c)
        .await
    })?;
    let mut out = Vec::with_capacity(keys.len());
    for (dossier_id, kind, ordinal, revision) in keys {
        if let Some(r) = forms::get_revision(tx, dossier_id, &kind, ordinal, revision).await? {
            out.push(r);
        }
    }
    Ok(out)
}
