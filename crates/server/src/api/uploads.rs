//! The JSON skin of uploads: `POST /api/v1/uploads` and `GET /api/v1/files/{id}` over
//! [`crate::service::uploads`].

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use motcua_core::filetype::FileType;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::service::dossiers::FileView;
use crate::service::uploads;
use crate::state::AppState;

/// Upload parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name, as the uploader knows it (shown in lists and downloads).
    pub name: String,
}

/// `POST /api/v1/uploads?name=`: uploads one file (the raw bytes as the body). Its type is
/// detected from the content: PDF, JPEG, PNG, DOCX, XLSX or ODT; anything else is refused
/// with the reason. The file is kept for `upload_ttl_hours` unless a dossier takes it.
///
/// The body is never held whole in memory: the upload first reserves its declared length
/// (or `max_upload_bytes`) under `max_upload_bytes_in_flight`, waiting up to
/// `upload_wait_ms` (then 503 with `Retry-After`), and is then written to a temporary file
/// as it arrives, hashed on the way and cut off at the first chunk past
/// `max_upload_bytes` (413). An account keeps at most
/// `max_staged_uploads_per_account` files and `max_staged_upload_bytes_per_account`
/// bytes unattached (409 past either).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "dossiers", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileView),
        (status = 409, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 503, body = ErrorBody, headers(("Retry-After" = u64, description = "Giây nên chờ trước khi gửi lại")))))]
pub async fn upload(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FileView>), AppError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let view = uploads::receive(&state, &p, &q.name, declared, body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /api/v1/files/{id}`: downloads a file: one's own upload, or a file of a dossier the
/// caller may see.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "dossiers",
    params(("id" = String, Path, description = "Mã tệp")),
    responses((status = 200, content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (f, bytes) = uploads::fetch(&state, &p, &id).await?;
    Ok(file_response(bytes, &f.file_type, &f.name))
}

/// A stored file as a download: its type, no caching, and its name (ASCII, and in full as
/// UTF-8).
pub(crate) fn file_response(bytes: Vec<u8>, file_type: &str, name: &str) -> Response {
    let kind = FileType::parse(file_type).map_or("application/octet-stream", FileType::mime);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        form_urlencoded::byte_serialize(name.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}
