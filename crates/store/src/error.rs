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
    /// The database failed.
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Database(sqlx::Error),
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
        StoreError::Database(e)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Io(format!("stored document could not be read: {e}"))
    }
}
