//! Result files that motcua signs after a finish (issue 22, migration 0034): a row per
//! file, written in the finish's own transaction, so that the form queue finds every one
//! even after the process stopped between the commit and the signature. Signing replaces
//! the file's object and SHA-256 in `dossier_files` (and the SHA-256 and signature status
//! of its entry in the applicant's store) in one statement group; the unsigned original
//! stays in the object store, named here.

use time::OffsetDateTime;

use crate::documents::SignatureStatus;
use crate::{Result, StoreError, Tx, exec, from_millis, on, to_millis};

/// Where the signing of one result file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningState {
    /// Waiting for the form queue.
    Pending,
    /// Signed: the file's row names the signed object.
    Signed,
    /// The file could not be signed (not a PDF motcua can update); it stays as it was.
    Failed,
}

impl SigningState {
    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Signed => "signed",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(Self::Pending),
            "signed" => Ok(Self::Signed),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Io(format!(
                "unknown signing state «{other}» in result_signings"
            ))),
        }
    }
}

/// One result file to sign, or signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultSigning {
    /// The file (`dossier_files.id`).
    pub file_id: String,
    /// Its dossier.
    pub dossier_id: i64,
    /// The agency whose key signs: the one that finished the dossier.
    pub agency_code: String,
    /// The username of the leader who finished it, when their own key signs too.
    pub leader: Option<String>,
    /// When the finish committed: the signing time put in the signatures.
    pub requested_at: OffsetDateTime,
    /// Where it is.
    pub state: SigningState,
    /// When it was signed.
    pub signed_at: Option<OffsetDateTime>,
    /// The unsigned original's object, once signed.
    pub original_object_key: Option<String>,
    /// The unsigned original's SHA-256, once signed.
    pub original_sha256: Option<String>,
    /// Who signed, in order (`leader:<username>`, `agency:<code>`), comma-separated.
    pub signers: String,
    /// Why it failed.
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    file_id: String,
    dossier_id: i64,
    agency_code: String,
    leader: Option<String>,
    requested_at: i64,
    state: String,
    signed_at: Option<i64>,
    original_object_key: Option<String>,
    original_sha256: Option<String>,
    signers: String,
    error: Option<String>,
}

impl Row {
    fn into_record(self) -> Result<ResultSigning> {
        Ok(ResultSigning {
            file_id: self.file_id,
            dossier_id: self.dossier_id,
            agency_code: self.agency_code,
            leader: self.leader,
            requested_at: from_millis(self.requested_at),
            state: SigningState::parse(&self.state)?,
            signed_at: self.signed_at.map(from_millis),
            original_object_key: self.original_object_key,
            original_sha256: self.original_sha256,
            signers: self.signers,
            error: self.error,
        })
    }
}

const COLUMNS: &str = "file_id, dossier_id, agency_code, leader, requested_at, state, signed_at, \
     original_object_key, original_sha256, signers, error";

/// Asks for result file `file_id` of dossier `dossier_id` to be signed with `agency`'s key
/// (and `leader`'s), as of `at`. A file asked for already keeps its first request.
pub async fn request(
    tx: &mut Tx,
    file_id: &str,
    dossier_id: i64,
    agency: &str,
    leader: Option<&str>,
    at: OffsetDateTime,
) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO result_signings (file_id, dossier_id, agency_code, leader, requested_at, state)
             VALUES ($1, $2, $3, $4, $5, 'pending')
             ON CONFLICT (file_id) DO NOTHING",
        )
        .bind(file_id)
        .bind(dossier_id)
        .bind(agency)
        .bind(leader)
        .bind(to_millis(at))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Every signing of dossier `dossier_id`'s results, pending or done, by file id.
pub async fn of_dossier(tx: &mut Tx, dossier_id: i64) -> Result<Vec<ResultSigning>> {
    let sql = format!("SELECT {COLUMNS} FROM result_signings WHERE dossier_id = $1 ORDER BY file_id");
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(&sql).bind(dossier_id).fetch_all(c).await)?;
    rows.into_iter().map(Row::into_record).collect()
}

/// The signing of result file `file_id`, if one was asked for.
pub async fn get(tx: &mut Tx, file_id: &str) -> Result<Option<ResultSigning>> {
    let sql = format!("SELECT {COLUMNS} FROM result_signings WHERE file_id = $1");
    let row: Option<Row> = on!(tx, |c| sqlx::query_as(&sql).bind(file_id).fetch_optional(c).await)?;
    row.map(Row::into_record).transpose()
}

/// The dossiers with results still to sign (at most `limit`), oldest request first.
pub async fn pending_dossiers(tx: &mut Tx, limit: i64) -> Result<Vec<i64>> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar(
            "SELECT dossier_id FROM result_signings WHERE state = 'pending'
             GROUP BY dossier_id ORDER BY MIN(requested_at), dossier_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(c)
        .await
    })?)
}

/// The signed copy of a result file, to record.
#[derive(Debug, Clone)]
pub struct SignedCopy<'a> {
    /// The file.
    pub file_id: &'a str,
    /// The unsigned original's object and SHA-256 (what the file's row names now).
    pub original_object_key: &'a str,
    /// The unsigned original's SHA-256.
    pub original_sha256: &'a str,
    /// The signed copy's object.
    pub object_key: &'a str,
    /// Its SHA-256.
    pub sha256: &'a str,
    /// Its size in bytes.
    pub size: i64,
    /// Who signed, in order.
    pub signers: &'a str,
    /// Its signatures as the verifier reads them, for the applicant's store.
    pub signature: Option<&'a SignatureStatus>,
    /// When.
    pub at: OffsetDateTime,
}

/// Records the signed copy: the file's row names it (only if it still names the original:
/// `false` otherwise, and nothing changes), its entry in a store takes its SHA-256 and
/// signature status, and the signing is done.
pub async fn record_signed(tx: &mut Tx, s: &SignedCopy<'_>) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE dossier_files SET object_key = $2, sha256 = $3, size = $4
             WHERE id = $1 AND object_key = $5 AND sha256 = $6",
        )
        .bind(s.file_id)
        .bind(s.object_key)
        .bind(s.sha256)
        .bind(s.size)
        .bind(s.original_object_key)
        .bind(s.original_sha256)
        .execute(c)
        .await
    })?;
    if n == 0 {
        return Ok(false);
    }
    exec!(tx, |c| {
        sqlx::query(
            "UPDATE stored_documents SET sha256 = $2,
                 signature = COALESCE($3, signature), signature_signer = COALESCE($4, signature_signer),
                 signature_signed_at = COALESCE($5, signature_signed_at), signature_text = COALESCE($6, signature_text)
             WHERE file_id = $1",
        )
        .bind(s.file_id)
        .bind(s.sha256)
        .bind(s.signature.map(|x| x.verdict.as_str()))
        .bind(s.signature.and_then(|x| x.signer.as_deref()))
        .bind(s.signature.and_then(|x| x.signed_at).map(to_millis))
        .bind(s.signature.map(|x| x.text.as_str()))
        .execute(c)
        .await
    })?;
    exec!(tx, |c| {
        sqlx::query(
            "UPDATE result_signings SET state = 'signed', signed_at = $2, original_object_key = $3,
                 original_sha256 = $4, signers = $5, error = NULL
             WHERE file_id = $1",
        )
        .bind(s.file_id)
        .bind(to_millis(s.at))
        .bind(s.original_object_key)
        .bind(s.original_sha256)
        .bind(s.signers)
        .execute(c)
        .await
    })?;
    Ok(true)
}

/// Records that result file `file_id` cannot be signed, and why.
pub async fn record_failed(tx: &mut Tx, file_id: &str, error: &str) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query("UPDATE result_signings SET state = 'failed', error = $2 WHERE file_id = $1 AND state = 'pending'")
            .bind(file_id)
            .bind(error)
            .execute(c)
            .await
    })?;
    Ok(())
}
