//! Uploaded files: the rows that track each object in the object store.
//!
//! A row is written before its object (`pending`), marked `staged` once the object is
//! durable, and `attached` when a dossier takes it. Rows that are still pending or
//! staged when they expire are swept together with their objects, so a failed or
//! abandoned upload leaves nothing behind.

use time::OffsetDateTime;

use crate::{Backend, Result, StoreError, Tx, exec, from_millis, on, to_millis};

/// Where a file is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// The row exists; the object may not be written yet.
    Pending,
    /// The object is stored; no dossier has taken it yet.
    Staged,
    /// Part of a dossier.
    Attached,
    /// Expired; its object is being removed.
    Deleting,
}

impl FileState {
    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Pending => "pending",
            FileState::Staged => "staged",
            FileState::Attached => "attached",
            FileState::Deleting => "deleting",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(FileState::Pending),
            "staged" => Ok(FileState::Staged),
            "attached" => Ok(FileState::Attached),
            "deleting" => Ok(FileState::Deleting),
            other => Err(StoreError::Io(format!("unknown file state «{other}» in the database"))),
        }
    }
}

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// Random identifier.
    pub id: String,
    /// The province of the dossier it belongs to, once attached.
    pub province_code: Option<String>,
    /// The dossier it belongs to, once attached.
    pub dossier_id: Option<i64>,
    /// Where it is in its life.
    pub state: FileState,
    /// Account (or token) that uploaded it.
    pub uploader_id: String,
    /// File name as given by the uploader.
    pub name: String,
    /// Type detected from the content (`pdf`, `jpeg`, …).
    pub file_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Key in the object store.
    pub object_key: String,
    /// When it was uploaded.
    pub created_at: OffsetDateTime,
    /// When an unattached file is swept.
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    province_code: Option<String>,
    dossier_id: Option<i64>,
    state: String,
    uploader_id: String,
    name: String,
    file_type: String,
    size: i64,
    sha256: String,
    object_key: String,
    created_at: i64,
    expires_at: Option<i64>,
}

impl Row {
    fn into_record(self) -> Result<FileRecord> {
        Ok(FileRecord {
            id: self.id,
            province_code: self.province_code,
            dossier_id: self.dossier_id,
            state: FileState::parse(&self.state)?,
            uploader_id: self.uploader_id,
            name: self.name,
            file_type: self.file_type,
            size: self.size,
            sha256: self.sha256,
            object_key: self.object_key,
            created_at: from_millis(self.created_at),
            expires_at: self.expires_at.map(from_millis),
        })
    }
}

const COLUMNS: &str = "id, province_code, dossier_id, state, uploader_id, name, file_type, size, sha256, object_key, created_at, expires_at";

/// Records a file before its object is written.
pub async fn insert(tx: &mut Tx, f: &FileRecord) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO dossier_files (id, province_code, dossier_id, state, uploader_id, name, file_type, size,
                 sha256, object_key, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&f.id)
        .bind(f.province_code.as_deref())
        .bind(f.dossier_id)
        .bind(f.state.as_str())
        .bind(&f.uploader_id)
        .bind(&f.name)
        .bind(&f.file_type)
        .bind(f.size)
        .bind(&f.sha256)
        .bind(&f.object_key)
        .bind(to_millis(f.created_at))
        .bind(f.expires_at.map(to_millis))
        .execute(c)
        .await
    })?;
    Ok(())
}

/// What one account keeps unattached: files not yet taken by a dossier and not expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unattached {
    /// How many files.
    pub files: i64,
    /// Their total size, in bytes.
    pub bytes: i64,
}

/// The files `uploader` keeps pending or staged that have not expired at `now` (expired
/// ones are the sweep's and no longer count). For a quota checked before [`insert`] in
/// the same transaction: on PostgreSQL this first takes a transaction lock on the
/// uploader, so two uploads of one account (on any node) cannot both pass the check; on
/// SQLite the single writer (`BEGIN IMMEDIATE`) already orders them.
pub async fn unattached_of(tx: &mut Tx, uploader: &str, now: OffsetDateTime) -> Result<Unattached> {
    if tx.backend() == Backend::Postgres {
        // The two-key form has its own key space, apart from `Tx::serialize_with`'s.
        exec!(tx, |c| {
            sqlx::query("SELECT pg_advisory_xact_lock(727019, hashtext($1))")
                .bind(uploader)
                .execute(c)
                .await
        })?;
    }
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so both backends give an i64.
    let (files, bytes): (i64, i64) = on!(tx, |c| {
        sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM dossier_files
             WHERE uploader_id = $1 AND state IN ('pending', 'staged') AND expires_at > $2",
        )
        .bind(uploader)
        .bind(to_millis(now))
        .fetch_one(c)
        .await
    })?;
    Ok(Unattached { files, bytes })
}

/// Marks a pending file staged: its object is durable.
pub async fn mark_staged(tx: &mut Tx, id: &str) -> Result<()> {
    let n = exec!(tx, |c| {
        sqlx::query("UPDATE dossier_files SET state = 'staged' WHERE id = $1 AND state = 'pending'")
            .bind(id)
            .execute(c)
            .await
    })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("tệp đang tải lên {id}")));
    }
    Ok(())
}

/// The file with `id`.
pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<FileRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM dossier_files WHERE id = $1");
    let row: Option<Row> = on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    row.map(Row::into_record).transpose()
}

/// Attaches staged files to a dossier. Fails (and the caller's transaction with it) if any
/// is not a staged file of `uploader` whose time is not up at `now`.
pub async fn attach(
    tx: &mut Tx,
    ids: &[String],
    uploader: &str,
    dossier_id: i64,
    province: &str,
    now: OffsetDateTime,
) -> Result<()> {
    for id in ids {
        let n = exec!(tx, |c| {
            sqlx::query(
                "UPDATE dossier_files SET state = 'attached', dossier_id = $1, province_code = $2, expires_at = NULL
                 WHERE id = $3 AND state = 'staged' AND uploader_id = $4
                   AND (expires_at IS NULL OR expires_at > $5)",
            )
            .bind(dossier_id)
            .bind(province)
            .bind(id)
            .bind(uploader)
            .bind(to_millis(now))
            .execute(c)
            .await
        })?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "tệp {id} không tồn tại, đã hết hạn, đã thuộc hồ sơ khác hoặc không do bạn tải lên"
            )));
        }
    }
    Ok(())
}

/// The files of a dossier, oldest first.
pub async fn of_dossier(tx: &mut Tx, dossier_id: i64) -> Result<Vec<FileRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM dossier_files WHERE dossier_id = $1 ORDER BY created_at, id");
    let rows: Vec<Row> = on!(tx, |c| sqlx::query_as(&sql).bind(dossier_id).fetch_all(c).await)?;
    rows.into_iter().map(Row::into_record).collect()
}

/// Unattached files whose time is up (at most `limit`).
pub async fn expired(tx: &mut Tx, now: OffsetDateTime, limit: i64) -> Result<Vec<FileRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dossier_files WHERE state IN ('pending', 'staged', 'deleting') AND expires_at < $1
         ORDER BY expires_at LIMIT $2"
    );
    let rows: Vec<Row> = on!(tx, |c| {
        sqlx::query_as(&sql).bind(to_millis(now)).bind(limit).fetch_all(c).await
    })?;
    rows.into_iter().map(Row::into_record).collect()
}

/// Marks an expired unattached file for removal (so no dossier can take it any more);
/// false if it was attached meanwhile.
pub async fn mark_deleting(tx: &mut Tx, id: &str) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query("UPDATE dossier_files SET state = 'deleting' WHERE id = $1 AND state <> 'attached'")
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}

/// Forgets an unattached file (its object is deleted by the caller first).
pub async fn delete_unattached(tx: &mut Tx, id: &str) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query("DELETE FROM dossier_files WHERE id = $1 AND state <> 'attached'")
            .bind(id)
            .execute(c)
            .await
    })?;
    Ok(n > 0)
}
