//! One error type for every handler. It becomes a JSON body
//! `{"code", "message", "field"}` with a stable machine code and a Vietnamese message;
//! internals are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use motcua_core::catalogue::Invalid;
use motcua_core::codes::CodeError;
use motcua_store::StoreError;
use serde::Serialize;

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request: bad JSON, unknown field, bad parameter.
    #[error("{message}")]
    BadRequest {
        /// Stable machine code.
        code: &'static str,
        /// Vietnamese message.
        message: String,
        /// The offending field or parameter.
        field: Option<String>,
    },
    /// Well-formed but breaks a rule.
    #[error("{0}")]
    Invalid(Invalid),
    /// Well-formed but breaks several rules: every problem of the request at once (at
    /// least one), in the order of the fields.
    #[error("{}", .all.first().map(|i| i.to_string()).unwrap_or_default())]
    Fields {
        /// Stable machine code (`invalid`, or a more precise one such as
        /// `incomplete_dossier`).
        code: &'static str,
        /// The problems.
        all: Vec<Invalid>,
    },
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with stored state.
    #[error("{0}")]
    Conflict(String),
    /// The dossier's status, the caller's role or agency does not allow the action.
    #[error("{0}")]
    Refused(String),
    /// The procedure may not be received where it was filed: why, and where it may
    /// (422, code `not_receivable_here`, the places in `places`).
    #[error("{message}")]
    NotHere {
        /// Vietnamese message naming the places.
        message: String,
        /// Where it may be received.
        places: Vec<PlaceBody>,
    },
    /// Needs credentials it did not bring.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// Not allowed, with a specific machine code (e.g. `password_change_required`).
    #[error("{message}")]
    ForbiddenCode {
        /// Stable machine code.
        code: &'static str,
        /// Vietnamese message.
        message: String,
    },
    /// The account is locked.
    #[error("{0}")]
    Locked(String),
    /// Too many attempts: the message, and the seconds to wait (`Retry-After`).
    #[error("{0}")]
    TooManyRequests(String, u64),
    /// The content is of a kind not accepted (e.g. an uploaded file's type).
    #[error("{0}")]
    Unsupported(String),
    /// The body is larger than allowed.
    #[error("nội dung gửi lên quá lớn")]
    TooLarge(usize),
    /// The server cannot serve now (e.g. the database is down).
    #[error("{0}")]
    Unavailable(String),
    /// Too busy now: the message, and the seconds to wait (`Retry-After`).
    #[error("{0}")]
    Busy(String, u64),
    /// The disk is full: nothing of the request was stored (507 Insufficient Storage, code
    /// `insufficient_storage`). It lasts until an operator frees space, so no `Retry-After`.
    #[error("{0}")]
    InsufficientStorage(String),
    /// A fault of ours; the detail goes to the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The `Retry-After` of a 503 for an unavailable dependency (the database down or failing
/// over, the file store, the SSO provider): a client tries again after a few seconds.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// The JSON error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `invalid_parameter`.
    pub code: String,
    /// Message for a person, in Vietnamese.
    pub message: String,
    /// The field or parameter at fault, when there is one (the first, when there are
    /// several).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field at fault with its message, when the request was checked as a whole (a
    /// form reports all its problems at once); `field` is the first, `message` sums them up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Where the procedure may be received, when it may not be received where it was filed
    /// (code `not_receivable_here`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub places: Vec<PlaceBody>,
}

/// A place where a procedure may be received.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaceBody {
    /// The agency's code (a centre, or the department that receives it itself).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its address (may be empty).
    pub address: String,
}

impl AppError {
    /// The refusal of a dossier filed where its procedure may not be received.
    pub fn not_here(procedure: &str, not_here: motcua_core::map::NotHere) -> Self {
        AppError::NotHere {
            message: not_here.message(procedure),
            places: not_here
                .places
                .into_iter()
                .map(|p| PlaceBody {
                    code: p.code.as_str().to_owned(),
                    name: p.name,
                    address: p.address,
                })
                .collect(),
        }
    }
}

/// One field at fault.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, e.g. `applicant.name` or `documents[2]`.
    pub field: String,
    /// What is wrong, in Vietnamese.
    pub message: String,
}

impl AppError {
    /// A bad parameter or field.
    pub fn bad(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A code that failed to parse, attributed to `field`.
    pub fn code(field: &str, e: CodeError) -> Self {
        AppError::bad("invalid_code", field, e.to_string())
    }

    /// Status, machine code, message and field of this error.
    pub fn parts(&self) -> (StatusCode, &'static str, String, Option<String>) {
        match self {
            AppError::BadRequest { code, message, field } => {
                (StatusCode::BAD_REQUEST, code, message.clone(), field.clone())
            }
            AppError::Invalid(inv) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                inv.message.clone(),
                Some(inv.field.clone()),
            ),
            AppError::Fields { code, all } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                match all.as_slice() {
                    [one] => one.message.clone(),
                    many => format!(
                        "Có {} chỗ cần sửa: {}",
                        many.len(),
                        many.iter().map(|i| i.message.as_str()).collect::<Vec<_>>().join(" ")
                    ),
                },
                all.first().map(|i| i.field.clone()),
            ),
            AppError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone(), None),
            AppError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone(), None),
            AppError::Refused(m) => (StatusCode::CONFLICT, "transition_refused", m.clone(), None),
            AppError::NotHere { message, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_receivable_here",
                message.clone(),
                None,
            ),
            AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m.clone(), None),
            AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone(), None),
            AppError::ForbiddenCode { code, message } => (StatusCode::FORBIDDEN, code, message.clone(), None),
            AppError::Locked(m) => (StatusCode::LOCKED, "account_locked", m.clone(), None),
            AppError::TooManyRequests(m, _) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m.clone(), None),
            AppError::Unsupported(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", m.clone(), None),
            AppError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("Nội dung gửi lên vượt quá giới hạn {limit} byte."),
                None,
            ),
            AppError::Unavailable(m) | AppError::Busy(m, _) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", m.clone(), None)
            }
            AppError::InsufficientStorage(m) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                m.clone(),
                None,
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Hệ thống gặp lỗi ngoài ý muốn. Vui lòng thử lại sau.".to_owned(),
                None,
            ),
        }
    }
}

impl AppError {
    /// 429 with `message`, to be tried again after `wait` (whole seconds, at least one).
    pub fn too_many(message: impl Into<String>, wait: std::time::Duration) -> Self {
        AppError::TooManyRequests(message.into(), wait.as_secs().max(1))
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(format!("Không tìm thấy {what}.")),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(inv) => AppError::Invalid(inv),
            // The database cannot be reached, is shutting down or starting, or is a standby
            // not yet promoted: a passing condition, not a fault of the request.
            StoreError::Unavailable(detail) => {
                tracing::error!(error = %detail, "database unavailable");
                AppError::Unavailable(
                    "Hệ thống tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau.".to_owned(),
                )
            }
            StoreError::Full(detail) => {
                tracing::error!(error = %detail, "disk full: the database cannot grow; free space on its file system");
                AppError::disk_full()
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl AppError {
    /// 507: the disk is full, nothing was stored.
    pub fn disk_full() -> Self {
        AppError::InsufficientStorage(
            "Máy chủ hết dung lượng lưu trữ nên chưa lưu được yêu cầu này. Các dữ liệu đã lưu trước đó vẫn an toàn; \
             vui lòng báo quản trị hệ thống và thử lại sau."
                .to_owned(),
        )
    }
}

impl AppError {
    /// Every problem in `all` (one or more) as one error, with machine code `code`.
    pub fn fields(code: &'static str, all: Vec<Invalid>) -> Self {
        AppError::Fields { code, all }
    }

    /// The field problems this error reports: each of [`AppError::Fields`], the one of an
    /// invalid field or a bad parameter.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        match self {
            AppError::Fields { all, .. } => all.iter().map(|i| (i.field.clone(), i.message.clone())).collect(),
            AppError::Invalid(i) => vec![(i.field.clone(), i.message.clone())],
            AppError::BadRequest {
                message,
                field: Some(field),
                ..
            } => vec![(field.clone(), message.clone())],
            _ => Vec::new(),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> Self {
        AppError::Invalid(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(mut self) -> Response {
        let (status, code, message, field) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let errors = match &self {
            AppError::Fields { all, .. } => all
                .iter()
                .map(|i| FieldError {
                    field: i.field.clone(),
                    message: i.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let places = match &mut self {
            AppError::NotHere { places, .. } => std::mem::take(places),
            _ => Vec::new(),
        };
        let body = ErrorBody {
            code: code.to_owned(),
            message,
            field,
            errors,
            places,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let AppError::TooManyRequests(_, wait) | AppError::Busy(_, wait) = &self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*wait));
        }
        if let AppError::Unavailable(_) = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        response
    }
}
