//! The store's error type.

use motcua_core::catalogue::Invalid;

/// What can go wrong in the store. The server maps each variant to a status.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("không tìm thấy {0}")]
    NotFound(String),
    /// The write conflicts with what is stored (duplicate, stale version, history mismatch).
    #[error("{0}")]
    Conflict(String),
    /// The data breaks a catalogue rule.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// Bad configuration (e.g. an unsupported database URL).
    #[error("cấu hình không hợp lệ: {0}")]
    Config(String),
    /// A file or tool failed (backup, restore).
    #[error("{0}")]
    Io(String),
    /// The database was migrated by a newer motcua than this one: this binary must not
    /// open it (run the newer release, or restore a backup taken before the upgrade).
    #[error(
        "cơ sở dữ liệu đã được nâng cấp tới lược đồ số {database}, mới hơn phiên bản motcua này \
         (lược đồ số {binary}): hãy chạy phiên bản motcua mới hơn, không mở cơ sở dữ liệu bằng phiên bản cũ"
    )]
    SchemaTooNew {
        /// The newest migration recorded in the database.
        database: i64,
        /// The newest migration this binary carries.
        binary: i64,
    },
    /// The database failed.
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Database(sqlx::Error),
    /// The database cannot serve now: unreachable, shutting down or starting, out of
    /// connections, or a standby not yet promoted (see `postgres::unreachable`). A client
    /// may try again later; the text is what the pool saw, for the log.
    #[error("cơ sở dữ liệu tạm thời không phục vụ được: {0}")]
    Unavailable(String),
    /// The disk is full: the database (or its write-ahead log) could not grow. Nothing of
    /// the failed write was kept; writes succeed again once space is freed.
    #[error("disk full: {0}")]
    Full(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // Constraint violations are conflicts with stored data, not server faults.
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict("bản ghi đã tồn tại".into());
            }
            if db.is_foreign_key_violation() {
                return StoreError::Conflict("tham chiếu tới bản ghi không tồn tại".into());
            }
        }
        if is_disk_full(&e) {
            return StoreError::Full(e.to_string());
        }
        if crate::postgres::unreachable(&e) {
            return StoreError::Unavailable(e.to_string());
        }
        StoreError::Database(e)
    }
}

/// Whether `e` says the disk is full: SQLite's `SQLITE_FULL` (13, which it also returns for
/// `ENOSPC` on the database file, the WAL or the shared-memory index), PostgreSQL's
/// `disk_full` (53100), or `ENOSPC`/`EDQUOT` on the connection's own I/O.
fn is_disk_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("13" | "53100")),
        sqlx::Error::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
        ),
        _ => false,
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Io(format!("stored document could not be read: {e}"))
    }
}
