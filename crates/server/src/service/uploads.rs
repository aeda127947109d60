//! Uploaded files: scans at the counter, documents filed online, supplements and
//! results. A file is uploaded first (`POST /api/v1/uploads`, or with a form posted
//! without script), then named by its id in the dossier or action that takes it.
//!
//! Nothing is orphaned: the file's row is committed (`pending`) before its object is
//! written, marked `staged` after, and rows never taken by a dossier are swept with
//! their objects when they expire, including those a crash left pending.

use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use motcua_core::filetype::{self, FileType};
use motcua_core::lifecycle;
use motcua_core::text::nfc;
use motcua_store::{dossiers, files};
use sha2::{Digest, Sha256};
use time::Duration;
use tokio::io::AsyncWriteExt;

use crate::auth::{Principal, hex_encode, random_id};
use crate::error::AppError;
use crate::service::dossiers::FileView;
use crate::state::AppState;

fn object_error(e: crate::objects::ObjectError) -> AppError {
    if e.is_disk_full() {
        tracing::error!(error = %e, "disk full: an uploaded file cannot be written; free space on its file system");
        return AppError::disk_full();
    }
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

/// How much of a file's start its type is told from: `filetype::detect` looks no further
/// (text sniffing reads the first 8 KiB, a PDF header may start within the first 1 KiB),
/// except for a ZIP container, whose directory is at the end, and a BMP, whose header is
/// compared with the file's length; those are read whole (see [`needs_whole`]).
const HEAD: usize = 8192;
/// Room on top of a temporary file's writes: fewer, larger writes to the disk.
const SPOOL_BUFFER: usize = 256 * 1024;

/// `bytes` in KiB, rounded up: the unit of [`crate::state::Shared::upload_budget`].
pub fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}

/// Whether `detect` needs the whole file rather than its first [`HEAD`] bytes.
fn needs_whole(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"BM")
}

/// Where an upload's content is while it is checked and stored.
enum Content {
    /// Already in memory: a file of a form posted without JavaScript.
    Memory(Bytes),
    /// Written to a temporary file of the object store as it arrived.
    Spooled(tempfile::NamedTempFile),
}

/// An upload's content, checked: its type, size and hash.
struct Received {
    content: Content,
    kind: FileType,
    size: usize,
    sha256: String,
}

/// Receives one file as its body arrives, for `p`, under the name `name`. Its type is
/// detected from the content: PDF, JPEG, PNG, DOCX, XLSX or ODT; anything else is refused
/// with the reason. The file is kept for `upload_ttl_hours` unless a dossier takes it.
///
/// The body is never held whole in memory: the upload first reserves its declared length
/// (or `max_upload_bytes`) under `max_upload_bytes_in_flight`, waiting up to
/// `upload_wait_ms` (then [`AppError::Busy`]), and is then written to a temporary file as
/// it arrives, hashed on the way and cut off at the first chunk past `max_upload_bytes`
/// ([`AppError::TooLarge`]). An account keeps at most `max_staged_uploads_per_account`
/// files and `max_staged_upload_bytes_per_account` bytes unattached (a conflict past
/// either).
pub async fn receive(
    state: &AppState,
    p: &Principal,
    name: &str,
    declared: Option<u64>,
    body: Body,
) -> Result<FileView, AppError> {
    let max = state.config.max_upload_bytes;
    if declared.is_some_and(|n| n > max as u64) {
        return Err(AppError::TooLarge(max));
    }
    let declared = declared.map(|n| usize::try_from(n).unwrap_or(max));
    // Known to be over the quota already: refuse before taking in the body.
    check_quota(state, &p.actor(), declared.unwrap_or(0)).await?;
    let Some(permit) = reserve(state, declared.unwrap_or(max)).await else {
        return Err(busy(state));
    };
    let stored = async {
        let received = spool(state, body).await?;
        store(state, p, name, received).await
    }
    .await;
    drop(permit);
    stored
}

/// Too many bytes of uploads are arriving at once: wait and send again.
pub fn busy(state: &AppState) -> AppError {
    metrics::counter!("motcua_uploads_refused_busy_total").increment(1);
    AppError::Busy(
        "Máy chủ đang nhận quá nhiều tệp cùng lúc. Vui lòng thử tải lên lại sau ít giây.".to_owned(),
        state.config.upload_wait_ms.div_ceil(1000).max(1),
    )
}

/// A file `p` may download (their own upload, or a file of a dossier they may see), with
/// its content. Anyone's download of a dossier's file but the applicant's own is audited
/// like a view of the dossier: they are identity papers and the like.
pub async fn fetch(state: &AppState, p: &Principal, id: &str) -> Result<(files::FileRecord, Vec<u8>), AppError> {
    let missing = || AppError::NotFound("Không tìm thấy tệp.".to_owned());
    let mut tx = state.db.begin_read().await?;
    let f = files::get(&mut tx, id).await?.ok_or_else(missing)?;
    let dossier = match f.dossier_id {
        Some(dossier_id) => dossiers::by_id(&mut tx, dossier_id).await?,
        None => None,
    };
    let allowed = match (f.dossier_id, &dossier) {
        (Some(_), Some(d)) => lifecycle::can_view(d, &p.access, p.user.as_ref().map(|u| u.id.as_str())),
        (Some(_), None) => false,
        (None, _) => {
            f.uploader_id == p.actor()
                && f.state == files::FileState::Staged
                && f.expires_at.is_none_or(|at| at > state.clock.now())
        }
    };
    drop(tx);
    if !allowed {
        return Err(missing());
    }
    if let Some(d) = &dossier
        && !crate::service::dossiers::reads_own(p, d)
    {
        let mut tx = state.db.begin_write().await?;
        crate::audit::record(
            &mut tx,
            &crate::audit::Actor::of(p),
            crate::audit::Event {
                action: "dossier.file",
                object_type: "dossier",
                object_id: d.code.as_str(),
                province: Some(d.province.as_str()),
                before: None,
                after: Some(serde_json::json!({"file": f.id, "name": f.name})),
            },
        )
        .await?;
        tx.commit().await?;
    }
    let bytes = state
        .objects
        .get(&f.object_key)
        .await
        .map_err(object_error)?
        .ok_or_else(|| AppError::Internal(format!("object {} of file {} is missing", f.object_key, f.id)))?;
    // What the store gives back must be what was received: a file altered or damaged in
    // the store is never handed to staff or the applicant as if it were the original.
    if hex_encode(Sha256::digest(&bytes)) != f.sha256 {
        tracing::error!(
            file = f.id,
            key = f.object_key,
            "stored file does not match its SHA-256"
        );
        return Err(AppError::Internal(format!(
            "object {} of file {} does not match the SHA-256 recorded at upload",
            f.object_key, f.id
        )));
    }
    Ok((f, bytes))
}

/// Stores a file already in memory (one of a form posted without JavaScript) exactly as
/// [`receive`] stores a body: type, name, quota, then the object.
pub async fn upload_bytes(state: &AppState, p: &Principal, name: &str, bytes: Bytes) -> Result<FileView, AppError> {
    if bytes.len() > state.config.max_upload_bytes {
        return Err(AppError::TooLarge(state.config.max_upload_bytes));
    }
    let kind = detect(state, bytes.clone()).await?;
    let received = Received {
        kind,
        size: bytes.len(),
        sha256: hex_encode(Sha256::digest(&bytes)),
        content: Content::Memory(bytes),
    };
    store(state, p, name, received).await
}

/// Takes `bytes` (rounded up to KiB) of the room for uploads in flight, waiting at most
/// `upload_wait_ms`; `None` when it did not come free in time.
pub async fn reserve(state: &AppState, bytes: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let permits = u32::try_from(kib(bytes)).unwrap_or(u32::MAX);
    let wait = std::time::Duration::from_millis(state.config.upload_wait_ms);
    let acquire = Arc::clone(&state.upload_budget).acquire_many_owned(permits);
    // The semaphore is never closed: an error cannot happen, and would read as busy.
    tokio::time::timeout(wait, acquire).await.ok()?.ok()
}

/// Writes the body to a temporary file as it arrives (never more than one chunk and a
/// small buffer in memory), hashing it and refusing it at the first chunk past
/// `max_upload_bytes`, then detects its type.
async fn spool(state: &AppState, mut body: Body) -> Result<Received, AppError> {
    let max = state.config.max_upload_bytes;
    let unreadable = || AppError::bad("invalid_body", "body", "Không đọc được tệp gửi lên.");
    let spool = state.objects.spool().await.map_err(object_error)?;
    let file = spool.as_file().try_clone().map_err(|e| object_error(io(&spool, e)))?;
    let mut out = tokio::io::BufWriter::with_capacity(SPOOL_BUFFER, tokio::fs::File::from_std(file));
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(HEAD);
    let mut size = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(chunk) = frame.map_err(|_| unreadable())?.into_data() else {
            continue; // trailers
        };
        size = size.saturating_add(chunk.len());
        if size > max {
            return Err(AppError::TooLarge(max));
        }
        hasher.update(&chunk);
        if head.len() < HEAD {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD - head.len())]);
        }
        out.write_all(&chunk).await.map_err(|e| object_error(io(&spool, e)))?;
    }
    out.flush().await.map_err(|e| object_error(io(&spool, e)))?;
    drop(out);
    let kind = if size > head.len() && needs_whole(&head) {
        let path = spool.path().to_owned();
        let whole = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| object_error(io(&spool, e)))?;
        detect(state, Bytes::from(whole)).await?
    } else {
        filetype::detect(&head).map_err(|r| AppError::Unsupported(r.to_string()))?
    };
    Ok(Received {
        content: Content::Spooled(spool),
        kind,
        size,
        sha256: hex_encode(hasher.finalize()),
    })
}

fn io(spool: &tempfile::NamedTempFile, source: std::io::Error) -> crate::objects::ObjectError {
    crate::objects::ObjectError::Io {
        path: spool.path().to_owned(),
        source,
    }
}

/// The type of a whole file. A ZIP container is parsed and inflated (bounded, but CPU
/// work): off the async threads, as many at once as there are cores.
async fn detect(state: &AppState, bytes: Bytes) -> Result<FileType, AppError> {
    if !needs_whole(&bytes) {
        return filetype::detect(&bytes).map_err(|r| AppError::Unsupported(r.to_string()));
    }
    state
        .on_cpu(move || filetype::detect(&bytes))
        .await?
        .map_err(|r| AppError::Unsupported(r.to_string()))
}

/// Refuses an upload of `adding` bytes that would take `uploader` past the quota of
/// unattached files.
async fn check_quota(state: &AppState, uploader: &str, adding: usize) -> Result<(), AppError> {
    let mut tx = state.db.begin_read().await?;
    let kept = files::unattached_of(&mut tx, uploader, state.clock.now()).await?;
    drop(tx);
    within_quota(state, kept, adding)
}

fn within_quota(state: &AppState, kept: files::Unattached, adding: usize) -> Result<(), AppError> {
    let config = &state.config;
    let max_files = i64::from(config.max_staged_uploads_per_account);
    let max_bytes = i64::try_from(config.max_staged_upload_bytes_per_account).unwrap_or(i64::MAX);
    let adding = i64::try_from(adding).unwrap_or(i64::MAX);
    if kept.files < max_files && kept.bytes.saturating_add(adding) <= max_bytes {
        return Ok(());
    }
    metrics::counter!("motcua_uploads_refused_quota_total").increment(1);
    Err(AppError::Conflict(format!(
        "Bạn đang có {} tệp ({}) đã tải lên nhưng chưa gắn vào hồ sơ nào; mỗi tài khoản chỉ được giữ \
         tối đa {max_files} tệp, tổng cộng {}, chưa gắn vào hồ sơ. Hãy nộp hồ sơ kèm các tệp đã tải lên, \
         hoặc chờ các tệp cũ hết hạn (sau {} giờ kể từ khi tải lên), rồi tải tệp này lên lại.",
        kept.files,
        size_text(kept.bytes),
        size_text(max_bytes),
        config.upload_ttl_hours
    )))
}

/// A size for people: `512 KB`, `20,5 MB` (Vietnamese decimal comma).
fn size_text(bytes: i64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let bytes = bytes as f64;
    if bytes < 1024.0 * 1024.0 {
        format!("{} KB", (bytes / 1024.0).ceil())
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0)).replace('.', ",")
    }
}

/// Names and records the checked content (`pending`, within the account's quota, in one
/// transaction), writes its object, and marks it `staged`.
async fn store(state: &AppState, p: &Principal, name: &str, received: Received) -> Result<FileView, AppError> {
    let name = safe_name(name, received.kind)?;
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
        file_type: received.kind.name().to_owned(),
        size: i64::try_from(received.size).unwrap_or(i64::MAX),
        sha256: received.sha256,
        created_at: now,
        expires_at: Some(now + Duration::hours(ttl)),
    };
    let mut tx = state.db.begin_write().await?;
    let kept = files::unattached_of(&mut tx, &record.uploader_id, now).await?;
    within_quota(state, kept, received.size)?;
    files::insert(&mut tx, &record).await?;
    tx.commit().await?;
    let written = match received.content {
        Content::Memory(bytes) => state.objects.put(&record.object_key, bytes.to_vec()).await,
        Content::Spooled(spool) => state.objects.put_file(&record.object_key, spool).await,
    };
    if let Err(e) = written {
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
    Ok(FileView::of(files::FileRecord {
        state: files::FileState::Staged,
        ..record
    }))
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
