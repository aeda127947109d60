//! The public check page `/xac-thuc` (issue 22): anyone uploads a PDF, or types the code
//! and secret printed on a motcua receipt, and reads whether motcua issued it and what its
//! digital signatures say. Plain forms: no script needed.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{Frame, Viewer, page, when};
use crate::auth::ClientIp;
use crate::error::AppError;
use crate::service::verify::{self, CheckView, CodeView, SignatureView};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area. The upload's size is limited by the handler.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/xac-thuc", get(show).post(upload).layer(DefaultBodyLimit::disable()))
        .route("/xac-thuc/ma-ho-so", axum::routing::post(by_code))
}

/// A signature as the page lists it.
pub struct SignatureLine {
    /// `✓`, `!`, `✗` or `?`.
    pub mark: &'static str,
    /// The machine verdict, for styling and tests.
    pub verdict: &'static str,
    /// The sentence.
    pub summary: String,
    /// Who issued the certificate.
    pub certificate_issuer: String,
    /// The signature time-stamp in one sentence, empty when there is none.
    pub timestamp: String,
}

fn lines(signatures: &[SignatureView]) -> Vec<SignatureLine> {
    signatures
        .iter()
        .map(|s| SignatureLine {
            mark: s.mark,
            verdict: s.verdict,
            summary: s.summary.clone(),
            certificate_issuer: s.certificate_issuer.clone().unwrap_or_default(),
            timestamp: s.timestamp.as_ref().map(|t| t.summary.clone()).unwrap_or_default(),
        })
        .collect()
}

/// One issued document as the page lists it.
pub struct DocumentLine {
    /// Title and number.
    pub title: String,
    /// When issued.
    pub issued_at: String,
    /// Replaced by a re-issue.
    pub replaced: bool,
    /// SHA-256.
    pub sha256: String,
    /// Its signatures.
    pub signatures: Vec<SignatureLine>,
}

#[derive(Template)]
#[template(path = "verify/check.html")]
struct CheckPage {
    frame: Frame,
    code: String,
    secret: String,
    error: Option<String>,
    /// The result of an uploaded file.
    file: Option<FileResult>,
    /// The result of a code.
    documents: Option<(String, Vec<DocumentLine>)>,
}

/// What the page says about an uploaded file.
pub struct FileResult {
    /// The file's name.
    pub name: String,
    /// The outcome in one sentence.
    pub summary: String,
    /// SHA-256.
    pub sha256: String,
    /// Issued by motcua.
    pub issued: bool,
    /// Its signatures.
    pub signatures: Vec<SignatureLine>,
}

fn file_result(name: String, v: CheckView) -> FileResult {
    FileResult {
        name,
        summary: v.summary,
        sha256: v.sha256,
        issued: !v.issued.is_empty(),
        signatures: lines(&v.signatures),
    }
}

fn document_lines(v: CodeView) -> (String, Vec<DocumentLine>) {
    let docs = v
        .documents
        .into_iter()
        .map(|d| DocumentLine {
            title: if d.issued.ordinal > 1 && d.issued.kind != "control-sheet" {
                format!("{} (số {})", d.issued.title, d.issued.ordinal)
            } else {
                d.issued.title.clone()
            },
            issued_at: when(d.issued.issued_at),
            replaced: d.issued.replaced,
            sha256: d.issued.sha256.clone(),
            signatures: lines(&d.signatures),
        })
        .collect();
    (v.dossier, docs)
}

/// `GET /xac-thuc`: the two forms.
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    Ok(page(&CheckPage::blank(&state, &viewer).await?))
}

impl CheckPage {
    /// The page with both forms empty.
    async fn blank(state: &AppState, viewer: &Viewer) -> Result<Self, PageError> {
        Ok(CheckPage {
            frame: Frame::new(state, viewer.0.as_ref()).await?,
            code: String::new(),
            secret: String::new(),
            error: None,
            file: None,
            documents: None,
        })
    }
}

/// `POST /xac-thuc/ma-ho-so` (`code`, `secret`): the documents motcua issued for that
/// dossier. Posted, not a query, so that the tracking secret stays out of addresses,
/// histories and logs.
pub async fn by_code(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    form: super::form::PreSessionForm,
) -> Result<Response, PageError> {
    let code = form.form.text("code").trim().to_owned();
    let secret = form.form.text("secret").trim().to_owned();
    let mut shown = CheckPage {
        code: code.clone(),
        secret: secret.clone(),
        ..CheckPage::blank(&state, &viewer).await?
    };
    match verify::check_code(&state, &ip.0, &code, &secret).await {
        Ok(v) => {
            shown.documents = Some(document_lines(v));
            Ok(page(&shown))
        }
        Err(e) => refused(e, shown),
    }
}

/// A refusal the person can act on (not found, too many tries, not a PDF, too large)
/// shown on the page; anything else is an error page.
fn refused(e: AppError, mut shown: CheckPage) -> Result<Response, PageError> {
    let (status, _, message, _) = e.parts();
    let shown_here = [
        StatusCode::NOT_FOUND,
        StatusCode::TOO_MANY_REQUESTS,
        StatusCode::BAD_REQUEST,
        StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::SERVICE_UNAVAILABLE,
    ];
    if !shown_here.contains(&status) {
        return Err(e.into());
    }
    shown.error = Some(message);
    Ok((status, page(&shown)).into_response())
}

/// `POST /xac-thuc`: checks the uploaded PDF (multipart, field `file`).
pub async fn upload(State(state): State<AppState>, viewer: Viewer, request: Request) -> Result<Response, PageError> {
    let shown = CheckPage::blank(&state, &viewer).await?;
    let (parts, body) = request.into_parts();
    let checked = async {
        let (bytes, _permit) = verify::read_body(&state, &parts.headers, body).await?;
        let form = super::form::parse(&parts.headers, &bytes)?;
        let file = form
            .files
            .into_iter()
            .find(|f| f.field == "file")
            .ok_or_else(|| AppError::bad("missing_file", "file", "Hãy chọn một tệp PDF để kiểm tra."))?;
        let view = verify::check_pdf(&state, file.bytes.to_vec()).await?;
        Ok::<_, AppError>(file_result(file.name, view))
    }
    .await;
    match checked {
        Ok(result) => Ok(page(&CheckPage {
            file: Some(result),
            ..shown
        })),
        Err(e) => refused(e, shown),
    }
}
