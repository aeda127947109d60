//! Checking documents (issue 22): the signatures of a PDF (an uploaded file, or one anyone
//! brings to the public check page `/xac-thuc`) against the configured trust anchors, and
//! whether motcua itself issued it — its SHA-256 matched against the fingerprints recorded
//! when each form was issued. A dossier code gives the documents issued under it.
//!
//! The verdicts are put in plain Vietnamese here, once, for both skins.

use motcua_core::dossier::DossierCode;
use motcua_core::forms::Form;
use motcua_sign::revocation::Source;
use motcua_sign::{LaterChanges, Revocation, SignatureReport, Verdict};
use motcua_store::{dossiers, fingerprints, forms};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::state::AppState;

/// One signature of a document, as a person should read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignatureView {
    /// `valid`, `changed_after_signing`, `altered`, `unknown_issuer`, `revoked` (a
    /// certificate of the chain is revoked and no trusted time-stamp proves the signature
    /// came first) or `invalid`.
    pub verdict: &'static str,
    /// `✓`, `!`, `✗` or `?`.
    pub mark: &'static str,
    /// The verdict in one Vietnamese sentence (`Đã ký bởi X của Y ngày …`).
    pub summary: String,
    /// Why it is invalid, when it is.
    pub reason: Option<String>,
    /// The signer's name (CN of the certificate).
    pub signer: Option<String>,
    /// The signer's organisation (O).
    pub organisation: Option<String>,
    /// Who issued the signer's certificate.
    pub certificate_issuer: Option<String>,
    /// The signing time: the trusted time-stamp's, else the claimed one.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub signed_at: Option<OffsetDateTime>,
    /// Whether the signed bytes are unchanged.
    pub intact: bool,
    /// Whether the signature covers the whole file.
    pub covers_whole_file: bool,
    /// What the file holds after the signed bytes: `none` (the signature covers the whole
    /// file), `signatures_only` (later revisions only add signatures; the verdict stays
    /// `valid`) or `other` (content added after signing).
    pub later_changes: &'static str,
    /// Whether the certificate chains to a configured trust anchor.
    pub trusted: bool,
    /// Revocation of the chain's certificates: `good` (OCSP or CRL says none is
    /// revoked), `revoked`, or `not_checked` (untrusted signature, no OCSP or CRL address,
    /// responder unreachable or its answer not acceptable).
    pub revocation: &'static str,
    /// The revocation status in one Vietnamese sentence (why not checked, since when
    /// revoked, where the answer came from).
    pub revocation_detail: String,
    /// When the revoked certificate was revoked, when `revocation` is `revoked` and the
    /// answer said.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
    /// The signature time-stamp (PAdES B-T), when the signature has one.
    pub timestamp: Option<TimestampView>,
}

/// A signature time-stamp, as a person should read it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimestampView {
    /// The time it states.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub time: Option<OffsetDateTime>,
    /// The time-stamp authority's name.
    pub authority: Option<String>,
    /// Whether it covers this signature and its own signature verifies.
    pub valid: bool,
    /// Whether the authority chains to a configured trust anchor (only then is its time the
    /// signing time).
    pub trusted: bool,
    /// In one Vietnamese sentence.
    pub summary: String,
}

/// A document motcua issued.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedView {
    /// The dossier's code.
    pub dossier: String,
    /// The document's kind (`receipt`, `refusal`, `payment-receipt`, …).
    pub kind: String,
    /// Its title.
    pub title: String,
    /// Which one of its kind.
    pub ordinal: i64,
    /// Which drawing of it (1 unless re-issued).
    pub revision: i64,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: OffsetDateTime,
    /// Whether a re-issue replaced it.
    pub replaced: bool,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// What a PDF is: its fingerprint, whether motcua issued it, its signatures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckView {
    /// The file's SHA-256, hex.
    pub sha256: String,
    /// The documents motcua issued with exactly these bytes (empty: not issued by motcua,
    /// or changed since).
    pub issued: Vec<IssuedView>,
    /// Every signature in the file, in the order they were made.
    pub signatures: Vec<SignatureView>,
    /// The outcome in one Vietnamese sentence.
    pub summary: String,
}

/// The documents issued under one dossier code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CodeView {
    /// The dossier's code.
    pub dossier: String,
    /// Its documents, with the signatures of each stored copy.
    pub documents: Vec<IssuedDocument>,
}

/// One issued document and its signatures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedDocument {
    /// The document.
    #[serde(flatten)]
    pub issued: IssuedView,
    /// The signatures of the stored copy.
    pub signatures: Vec<SignatureView>,
}

fn title(kind: &str) -> String {
    let t = match Form::from_slug(kind) {
        Some(Form::Receipt) => "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
        Some(Form::SupplementRequest) => "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
        Some(Form::Refusal) => "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
        Some(Form::Apology) => "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết",
        Some(Form::StopNotice) => "Thông báo dừng giải quyết hồ sơ",
        Some(Form::ControlSheet) => "Phiếu kiểm soát quá trình giải quyết hồ sơ",
        Some(Form::Register) => "Sổ theo dõi hồ sơ",
        None if kind == crate::forms::PAYMENT_RECEIPT_KIND => "Biên lai thu phí, lệ phí",
        None => kind,
    };
    t.to_owned()
}

/// `07/12/2026 lúc 12:35`, in Vietnam time.
fn when(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(time::macros::format_description!(
            "[day]/[month]/[year] lúc [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// A signature's report, in words.
pub fn view(r: &SignatureReport) -> SignatureView {
    let signer = r.signer.clone().unwrap_or_else(|| "(không rõ người ký)".to_owned());
    let of = r
        .organisation
        .as_deref()
        .map(|o| format!(" của {o}"))
        .unwrap_or_default();
    let stamped = r.timestamp.as_ref().filter(|t| t.valid && t.trusted);
    let on = r
        .signed_at
        .map(|t| match stamped.and_then(|s| s.authority.as_deref()) {
            Some(tsa) => format!(" ngày {} (theo dấu thời gian của {tsa})", when(t)),
            None => format!(" ngày {}", when(t)),
        })
        .unwrap_or_default();
    let (revocation, revocation_detail, revoked_at) = revocation_view(&r.revocation);
    let (verdict, mark, summary, reason) = match &r.verdict {
        Verdict::Valid if r.later_changes == LaterChanges::SignaturesOnly => (
            "valid",
            "✓",
            format!("Đã ký bởi {signer}{of}{on} (sau đó chỉ có thêm chữ ký)."),
            None,
        ),
        Verdict::Valid => ("valid", "✓", format!("Đã ký bởi {signer}{of}{on}."), None),
        Verdict::ChangedAfterSigning => (
            "changed_after_signing",
            "!",
            format!("Đã ký bởi {signer}{of}{on}; tệp có nội dung được thêm sau khi ký."),
            None,
        ),
        Verdict::Altered => ("altered", "✗", "Đã bị sửa sau khi ký.".to_owned(), None),
        Verdict::UnknownIssuer => (
            "unknown_issuer",
            "?",
            format!("Không rõ tổ chức cấp chứng thư số của {signer}{of}."),
            None,
        ),
        Verdict::Revoked => (
            "revoked",
            "✗",
            format!(
                "Chữ ký của {signer}{of}{on} không còn giá trị: {}",
                lower_first(&revocation_detail)
            ),
            Some(revocation_detail.clone()),
        ),
        Verdict::Invalid(why) => (
            "invalid",
            "✗",
            format!("Chữ ký không hợp lệ: {why}."),
            Some(why.clone()),
        ),
    };
    // What else a trusted signature's reader should know: revocation, a time-stamp that
    // holds but whose authority is not trusted.
    let mut summary = summary;
    if matches!(r.verdict, Verdict::Valid | Verdict::ChangedAfterSigning) {
        summary.push(' ');
        summary.push_str(&revocation_detail);
        if let Some(t) = r.timestamp.as_ref().filter(|t| t.valid && !t.trusted) {
            summary.push_str(&format!(
                " Dấu thời gian không được dùng: {}.",
                t.problem.as_deref().unwrap_or("không được tin cậy")
            ));
        }
    }
    let timestamp = r.timestamp.as_ref().map(|t| {
        let by = t.authority.as_deref().unwrap_or("(không rõ tổ chức)");
        let at = t.time.map(when).unwrap_or_default();
        let summary = match (t.valid, t.trusted) {
            (true, true) => format!("Dấu thời gian hợp lệ của {by}: {at}."),
            (true, false) => format!(
                "Dấu thời gian của {by} ({at}) không được tin cậy: {}.",
                t.problem.as_deref().unwrap_or("không rõ lý do")
            ),
            (false, _) => format!(
                "Dấu thời gian không hợp lệ: {}.",
                t.problem.as_deref().unwrap_or("không rõ lý do")
            ),
        };
        TimestampView {
            time: t.time,
            authority: t.authority.clone(),
            valid: t.valid,
            trusted: t.trusted,
            summary,
        }
    });
    SignatureView {
        verdict,
        mark,
        summary,
        reason,
        signer: r.signer.clone(),
        organisation: r.organisation.clone(),
        certificate_issuer: r.issuer.clone(),
        signed_at: r.signed_at,
        intact: r.intact,
        covers_whole_file: r.covers_whole_file,
        later_changes: r.later_changes.as_str(),
        trusted: r.trusted,
        revocation,
        revocation_detail,
        revoked_at,
        timestamp,
    }
}

/// `revocation`'s value, its sentence, and the revocation time.
fn revocation_view(r: &Revocation) -> (&'static str, String, Option<OffsetDateTime>) {
    match r {
        Revocation::Good { source } => (
            "good",
            format!(
                "Chứng thư số chưa bị thu hồi (đã tra cứu {}).",
                match source {
                    Source::Ocsp => "OCSP",
                    Source::Crl => "CRL",
                }
            ),
            None,
        ),
        Revocation::Revoked {
            certificate,
            at,
            proven_before,
        } => {
            let since = at.map(|t| format!(" ngày {}", when(t))).unwrap_or_default();
            let text = if *proven_before {
                format!(
                    "Chứng thư số {certificate} đã bị thu hồi{since}, sau thời điểm ký được dấu thời gian chứng minh."
                )
            } else {
                format!("Chứng thư số {certificate} đã bị thu hồi{since}.")
            };
            ("revoked", text, *at)
        }
        Revocation::NotChecked(why) => (
            "not_checked",
            format!("Chưa kiểm tra được tình trạng thu hồi chứng thư số: {why}."),
            None,
        ),
    }
}

/// `text` with its first letter in lower case, to follow a colon.
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

fn issued_view(code: &str, r: &forms::FormRecord) -> IssuedView {
    IssuedView {
        dossier: code.to_owned(),
        kind: r.kind.clone(),
        title: title(&r.kind),
        ordinal: r.ordinal,
        revision: r.revision,
        issued_at: r.created_at,
        replaced: r.replaced_at.is_some(),
        sha256: r.sha256.clone(),
    }
}

/// Reads a PDF sent to be checked: at most `max_upload_bytes`, counted against the uploads
/// in flight while the caller keeps the permit (anyone may send one).
pub async fn read_body(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(axum::body::Bytes, tokio::sync::OwnedSemaphorePermit), AppError> {
    // A multipart form around the file adds a little.
    let limit = state.config.max_upload_bytes.saturating_add(64 * 1024);
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::TooLarge(state.config.max_upload_bytes));
    }
    let share = declared.unwrap_or(limit).min(state.config.max_upload_bytes_in_flight);
    let permit = crate::service::uploads::reserve(state, share).await.ok_or_else(|| {
        AppError::Unavailable("Máy chủ đang nhận quá nhiều tệp cùng lúc. Vui lòng gửi lại sau ít giây.".to_owned())
    })?;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AppError::TooLarge(state.config.max_upload_bytes))?;
    Ok((bytes, permit))
}

/// The signatures of `pdf`, checked on the CPU pool (hashing a large file is CPU work),
/// then the revocation of trusted signers' certificates, asked over the network without
/// holding the CPU pool (bounded: `signing::REVOCATION_BUDGET`).
pub async fn signatures(state: &AppState, pdf: Vec<u8>) -> Result<Vec<SignatureView>, AppError> {
    let signing = std::sync::Arc::clone(&state.signing);
    let now = state.clock.now();
    let mut reports = state
        .on_cpu(move || motcua_sign::verify_pdf(&pdf, signing.anchors(), now))
        .await?;
    // OCSP answers and CRLs are dated by the world's clock, not the one the server is
    // given (tests run it in the past): their freshness is judged by the real time.
    state
        .signing
        .check_revocation(&mut reports, OffsetDateTime::now_utc())
        .await;
    Ok(reports.iter().map(view).collect())
}

/// Checks a PDF anyone brings: its signatures and whether motcua issued these bytes.
pub async fn check_pdf(state: &AppState, pdf: Vec<u8>) -> Result<CheckView, AppError> {
    if !pdf.starts_with(b"%PDF-") {
        return Err(AppError::bad("not_pdf", "file", "Tệp tải lên không phải là tệp PDF."));
    }
    let sha256 = motcua_sign::fingerprint(&pdf);
    let issued = {
        let mut tx = state.db.begin_read().await?;
        let records = fingerprints::by_sha256(&mut tx, &sha256).await?;
        let mut out = Vec::new();
        for r in records {
            if let Some(d) = dossiers::by_id(&mut tx, r.dossier_id).await? {
                out.push(issued_view(d.code.as_str(), &r));
            }
        }
        out
    };
    let signatures = signatures(state, pdf).await?;
    let summary = match (issued.first(), signatures.is_empty()) {
        (Some(i), _) => format!(
            "Văn bản do motcua cấp: {} của hồ sơ {}, cấp ngày {}.",
            i.title,
            i.dossier,
            when(i.issued_at)
        ),
        (None, true) => {
            "Không tìm thấy văn bản này trong các văn bản motcua đã cấp, và tệp không có chữ ký số.".to_owned()
        }
        (None, false) => {
            "Không tìm thấy văn bản này trong các văn bản motcua đã cấp; xem các chữ ký số bên dưới.".to_owned()
        }
    };
    Ok(CheckView {
        sha256,
        issued,
        signatures,
        summary,
    })
}

/// The documents motcua issued under dossier `code`, each with the signatures of its
/// stored copy. Like public tracking, it takes the secret printed on the receipt (what
/// documents a dossier has says how it went): a wrong code or secret is the tracking's
/// same rate-limited 404.
pub async fn check_code(state: &AppState, ip: &str, code: &str, secret: &str) -> Result<CodeView, AppError> {
    crate::service::dossiers::tracking(state, ip, code.trim(), secret.trim()).await?;
    let not_found = || AppError::NotFound(format!("Không có hồ sơ mã {code}."));
    let code = DossierCode::parse(code.trim()).map_err(|_| not_found())?;
    let (records, code) = {
        let mut tx = state.db.begin_read().await?;
        let stored = dossiers::by_code(&mut tx, &code).await?.ok_or_else(not_found)?;
        (forms::of_dossier(&mut tx, stored.id).await?, stored.dossier.code)
    };
    let mut documents = Vec::new();
    for r in records {
        let signatures = match state.objects.get(&r.object_key).await {
            Ok(Some(bytes)) => signatures(state, bytes).await?,
            Ok(None) => Vec::new(),
            Err(e) => return Err(AppError::Internal(format!("object store: {e}"))),
        };
        documents.push(IssuedDocument {
            issued: issued_view(code.as_str(), &r),
            signatures,
        });
    }
    Ok(CodeView {
        dossier: code.as_str().to_owned(),
        documents,
    })
}

/// What a dossier page shows beside an uploaded PDF.
#[derive(Debug, Clone)]
pub struct FileSignatures {
    /// The worst verdict of its signatures (`valid` … `invalid`), or `unsigned`.
    pub verdict: &'static str,
    /// Each signature's mark and sentence, or that it has none.
    pub text: String,
}

fn rank(verdict: &str) -> u8 {
    match verdict {
        "valid" => 0,
        "changed_after_signing" => 1,
        "unknown_issuer" => 2,
        "invalid" | "revoked" => 3,
        _ => 4,
    }
}

/// A file's signatures in one verdict (the worst, or `unsigned`) and one line of text.
pub fn summarise(views: &[SignatureView]) -> FileSignatures {
    if views.is_empty() {
        return FileSignatures {
            verdict: "unsigned",
            text: "Không có chữ ký số.".to_owned(),
        };
    }
    let worst = views
        .iter()
        .map(|v| v.verdict)
        .max_by_key(|v| rank(v))
        .unwrap_or("invalid");
    let text = views
        .iter()
        .map(|v| format!("{} {}", v.mark, v.summary))
        .collect::<Vec<_>>()
        .join(" ");
    FileSignatures { verdict: worst, text }
}

/// The signatures of each PDF among `files`, by file id, for the dossier pages. A file
/// whose object cannot be read is left out (and logged).
pub async fn file_signatures(
    state: &AppState,
    files: &[motcua_store::files::FileRecord],
) -> Result<std::collections::HashMap<String, FileSignatures>, AppError> {
    let mut out = std::collections::HashMap::new();
    for f in files.iter().filter(|f| f.file_type == "pdf") {
        let bytes = match state.objects.get(&f.object_key).await {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(file = f.id, error = %e, "cannot read a file to check its signatures");
                continue;
            }
        };
        let views = signatures(state, bytes).await?;
        out.insert(f.id.clone(), summarise(&views));
    }
    Ok(out)
}
