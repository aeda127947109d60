//! The document store's pages (docs/documents.md): «Kho giấy tờ của tôi» (`/kho-giay-to`:
//! a person's stores with their documents to download, an upload form, their own uploads
//! to remove, and who among staff looked into them), and the store of a dossier's
//! applicant for the staff handling it (`/ho-so/{code}/kho-giay-to`, every look audited).
//! Forms post without script; downloads are the API's `/api/v1/documents/{id}/file`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use motcua_core::documents::DocumentKind;
use serde::Deserialize;

use super::form::{self, FormData};
use super::{Frame, SignedIn, filters, page};
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::documents::{self, NewStoredDocument, StoreView, ViewRecord};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kho-giay-to", get(mine).post(upload))
        .route("/kho-giay-to/{id}/xoa", post(remove))
        .route("/ho-so/{code}/kho-giay-to", get(of_dossier))
}

/// A staff look, as the owner is shown it.
struct ViewLine {
    at: String,
    who: String,
    label: &'static str,
    dossier: Option<String>,
}

impl ViewLine {
    fn of(v: ViewRecord) -> Self {
        let at = time::OffsetDateTime::parse(&v.at, &time::format_description::well_known::Rfc3339)
            .map(super::when)
            .unwrap_or(v.at);
        ViewLine {
            at,
            who: v.who,
            label: v.label,
            dossier: v.dossier,
        }
    }
}

#[derive(Template)]
#[template(path = "documents/mine.html")]
struct MinePage {
    frame: Frame,
    stores: Vec<StoreView>,
    views: Vec<ViewLine>,
    kinds: Vec<DocumentKind>,
    /// What happened (after a post), or why it was refused.
    notice: String,
    error: String,
}

/// `?da=`: what the last post did.
#[derive(Debug, Deserialize)]
pub struct Done {
    da: Option<String>,
}

/// `GET /kho-giay-to`: «Kho giấy tờ của tôi».
pub async fn mine(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let notice = match q.da.as_deref() {
        Some("them") => "Đã thêm giấy tờ vào kho.",
        Some("xoa") => "Đã xóa giấy tờ khỏi kho.",
        _ => "",
    };
    mine_page(&state, &p, notice.to_owned(), String::new(), StatusCode::OK).await
}

async fn mine_page(
    state: &AppState,
    p: &Principal,
    notice: String,
    error: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    let t = MinePage {
        frame: Frame::new(state, Some(p)).await?,
        stores: documents::mine(state, p).await?,
        views: documents::views(state, p)
            .await?
            .into_iter()
            .map(ViewLine::of)
            .collect(),
        kinds: documents::kinds(state, None).await?,
        notice,
        error,
    };
    Ok(form::page_with_status(&t, status))
}

/// The form's fields as the service's command, the file stored first (as the API's
/// upload stores it).
async fn new_document(state: &AppState, p: &Principal, form: &FormData) -> Result<NewStoredDocument, AppError> {
    let file = form
        .files
        .iter()
        .find(|f| f.field == "file" && !f.bytes.is_empty())
        .ok_or_else(|| AppError::bad("invalid_field", "file", "Hãy chọn tệp giấy tờ (PDF, ảnh) để tải lên."))?;
    let stored = crate::service::uploads::upload_bytes(state, p, &file.name, file.bytes.clone()).await?;
    let opt = |name: &str| Some(form.text(name)).filter(|v| !v.trim().is_empty());
    Ok(NewStoredDocument {
        owner: opt("owner"),
        file: stored.id,
        kind: opt("kind"),
        title: form.text("title"),
        number: form.text("number"),
        issuer: form.text("issuer"),
        issued_on: opt("issued_on"),
        expires_on: opt("expires_on"),
    })
}

/// `POST /kho-giay-to`: enters an upload in the store (multipart, with the file).
pub async fn upload(State(state): State<AppState>, request: Request) -> Result<Response, PageError> {
    let posted = match super::filing::receive(&state, request, "/kho-giay-to").await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let p = &posted.principal;
    let done = match new_document(&state, p, &posted.form).await {
        Ok(req) => documents::upload(&state, p, req).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => Ok(Redirect::to("/kho-giay-to?da=them").into_response()),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            mine_page(&state, p, String::new(), message, status).await
        }
    }
}

/// `POST /kho-giay-to/{id}/xoa`: removes one's own upload (not one a dossier took).
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    request: Request,
) -> Result<Response, PageError> {
    let posted = match super::filing::receive(&state, request, "/kho-giay-to").await? {
        Ok(posted) => posted,
        Err(answer) => return Ok(answer),
    };
    let p = &posted.principal;
    match documents::remove(&state, p, id).await {
        Ok(()) => Ok(Redirect::to("/kho-giay-to?da=xoa").into_response()),
        Err(e) => {
            let (status, message) = form::refusal(e)?;
            mine_page(&state, p, String::new(), message, status).await
        }
    }
}

/// How a document offered for a checklist row is named on the filing forms: title,
/// number, issuer and validity.
pub fn offer_label(d: &crate::service::documents::DocumentView) -> String {
    let mut label = d.title.clone();
    if !d.number.is_empty() {
        label.push_str(&format!(", số {}", d.number));
    }
    if !d.issuer.is_empty() {
        label.push_str(&format!(", {}", d.issuer));
    }
    if let Some(day) = d.issued_on.as_deref().and_then(super::dates::parse) {
        label.push_str(&format!(", cấp ngày {}", super::dates::dmy(day)));
    }
    if let Some(day) = d.valid_until.as_deref().and_then(super::dates::parse) {
        label.push_str(&format!(" (hiệu lực đến {})", super::dates::dmy(day)));
    }
    label
}

#[derive(Template)]
#[template(path = "documents/dossier.html")]
struct DossierStorePage {
    frame: Frame,
    code: String,
    store: StoreView,
}

/// `GET /ho-so/{code}/kho-giay-to`: the applicant's store, for the staff handling dossier
/// `code` now (audited; 404 for anyone else).
pub async fn of_dossier(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let store = documents::of_dossier(&state, &p, &code).await?;
    Ok(page(&DossierStorePage {
        frame: Frame::new(&state, Some(&p)).await?,
        code,
        store,
    }))
}
