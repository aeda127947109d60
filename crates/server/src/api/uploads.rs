//! Uploaded files: scans at the counter, documents filed online, supplements and
//! results. A file is uploaded first (`POST /api/v1/uploads`), then named by its id in
//! the dossier or action that takes it.
//!
//! Nothing is orphaned: the file's row is committed (`pending`) before its object is
//! written, marked `staged` after, and rows never taken by a dossier are swept with
//! their objects when they expire, including those a crash left pending.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use motcua_core::filetype::{self, FileType};
use motcua_core::lifecycle;
use motcua_core::text::nfc;
use motcua_store::{dossiers, files};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use time::Duration;
use utoipa::IntoParams;

use super::dossiers::FileView;
use super::extract::ApiQuery;
use crate::auth::{Principal, hex_encode, random_id};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;

/// Upload parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name, as the uploader knows it (shown in lists and downloads).
    pub name: String,
}

fn object_error(e: crate::objects::ObjectError) -> AppError {
    tracing::error!(error = %e, "object store failed");
    AppError::Unavailable("Kho lưu trữ tệp tạm thời không ghi được. Vui lòng thử lại sau.".to_owned())
}

fn safe_name(name: &str, kind: FileType) -> Result<String, AppError> {
    let name = nfc(name);
    let name: String = name
        .chars()
        .filter(|c| motcua_core::text::is_displayable(*c) && !matches!(c, '/' | '\\'))
        .collect();
    if name.trim().is_empty() {
        return Err(AppError::bad(
            "invalid_parameter",
            "name",
            "Tên tệp không được để trống.",
        ));
    }
    if name.chars().count() > 200 {
        return Err(AppError::bad("invalid_parameter", "name", "Tên tệp dài quá 200 ký tự."));
    }
    let ext = format!(".{}", kind.extension());
    Ok(if name.to_lowercase().ends_with(&ext) {
        name
    } else {
        format!("{name}{ext}")
    })
}

/// `POST /api/v1/uploads?name=`: uploads one file (the raw bytes as the body). Its type is
/// detected from the content: PDF, JPEG, PNG, DOCX, XLSX or ODT; anything else is refused
/// with the reason. The file is kept for `upload_ttl_hours` unless a dossier takes it.
#[utoipa::path(post, path = "/api/v1/uploads", tag = "dossiers", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn upload(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<UploadParams>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<FileView>), AppError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(state.config.max_upload_bytes)
        } else {
            AppError::bad("invalid_body", "body", "Không đọc được tệp gửi lên.")
        }
    })?;
    let kind = filetype::detect(&body).map_err(|r| AppError::Unsupported(r.to_string()))?;
    let name = safe_name(&q.name, kind)?;
    let sha256 = hex_encode(&Sha256::digest(&body));
    let now = state.clock.now();
    let id = random_id();
    let ttl = i64::try_from(state.config.upload_ttl_hours).unwrap_or(24);
    let record = files::FileRecord {
        object_key: format!("uploads/{}/{id}", now.year()),
        id,
        province_code: None,
        dossier_id: None,
        state: files::FileState::Pending,
        uploader_id: p.actor(),
        name,
        file_type: kind.name().to_owned(),
        size: i64::try_from(body.len()).unwrap_or(i64::MAX),
        sha256,
        created_at: now,
        expires_at: Some(now + Duration::hours(ttl)),
    };
    let mut tx = state.db.begin_write().await?;
    files::insert(&mut tx, &record).await?;
    tx.commit().await?;
    if let Err(e) = state.objects.put(&record.object_key, body.to_vec()).await {
        // Leave nothing behind: forget the row (and whatever part of the object exists).
        let _ = state.objects.delete(&record.object_key).await;
        if let Ok(mut tx) = state.db.begin_write().await
            && files::delete_unattached(&mut tx, &record.id).await.is_ok()
        {
            let _ = tx.commit().await;
        }
        return Err(object_error(e));
    }
    let mut tx = state.db.begin_write().await?;
    files::mark_staged(&mut tx, &record.id).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(FileView::of(files::FileRecord {
            state: files::FileState::Staged,
            ..record
        })),
    ))
}

/// `GET /api/v1/files/{id}`: downloads a file: one's own upload, or a file of a dossier the
/// caller may see.
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "dossiers",
    params(("id" = String, Path, description = "Mã tệp")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let missing = || AppError::NotFound("Không tìm thấy tệp.".to_owned());
    let mut tx = state.db.begin_read().await?;
    let f = files::get(&mut tx, &id).await?.ok_or_else(missing)?;
    let allowed = match f.dossier_id {
        Some(dossier_id) => dossiers::by_id(&mut tx, dossier_id)
            .await?
            .is_some_and(|d| lifecycle::can_view(&d, &p.access, p.user.as_ref().map(|u| u.id.as_str()))),
        None => f.uploader_id == p.actor() && f.state == files::FileState::Staged,
    };
    drop(tx);
    if !allowed {
        return Err(missing());
    }
    let bytes = state
        .objects
        .get(&f.object_key)
        .await
        .map_err(object_error)?
        .ok_or_else(|| AppError::Internal(format!("object {} of file {} is missing", f.object_key, f.id)))?;
    let kind = FileType::parse(&f.file_type).map_or("application/octet-stream", FileType::mime);
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    let ascii: String = f
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        form_urlencoded::byte_serialize(f.name.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Removes expired unattached files and their objects; returns how many.
pub async fn sweep(state: &AppState) -> Result<usize, AppError> {
    let mut removed = 0;
    loop {
        let mut tx = state.db.begin_read().await?;
        let batch = files::expired(&mut tx, state.clock.now(), 200).await?;
        drop(tx);
        if batch.is_empty() {
            return Ok(removed);
        }
        for f in &batch {
            // Tombstone first, so a dossier cannot take the file while its object goes.
            let mut tx = state.db.begin_write().await?;
            let doomed = files::mark_deleting(&mut tx, &f.id).await?;
            tx.commit().await?;
            if !doomed {
                continue;
            }
            state.objects.delete(&f.object_key).await.map_err(object_error)?;
            let mut tx = state.db.begin_write().await?;
            if files::delete_unattached(&mut tx, &f.id).await? {
                removed += 1;
            }
            tx.commit().await?;
        }
    }
}
