//! The JSON skin of the document store (docs/documents.md) over
//! [`crate::service::documents`]: the kind list, a person's own store (list, enter an
//! upload, download, remove, who viewed it), the offers of a procedure's checklist, and
//! the store of a dossier's applicant as the staff handling it see it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, put};
use axum::{Json, Router};
use motcua_core::documents::DocumentKind;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::documents::{
    self, DocumentView, Figures, FiguresQuery, KindList, LinkRequest, LinkView, NewStoredDocument, Offer, OfferQuery,
    StoreView, ViewRecord,
};
use crate::state::AppState;

/// The routes of the document store.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/documents", get(mine).post(upload))
        .route("/api/v1/documents/kinds", get(kinds))
        .route("/api/v1/documents/offers", get(offers))
        .route("/api/v1/documents/views", get(views))
        .route("/api/v1/documents/figures", get(figures))
        .route("/api/v1/documents/links", axum::routing::post(link))
        .route("/api/v1/documents/{id}", delete(remove))
        .route("/api/v1/documents/{id}/file", get(download))
        .route("/api/v1/dossiers/{code}/documents", get(of_dossier))
        .route("/api/v1/admin/document-kinds", put(put_kinds))
}

/// A province, when not the default one.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProvinceParam {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
}

/// `GET /api/v1/documents/kinds`: the kinds of document the province's administrator
/// lists (the built-in list until they set one).
#[utoipa::path(get, path = "/api/v1/documents/kinds", tag = "documents", params(ProvinceParam),
    responses((status = 200, body = Vec<DocumentKind>)))]
pub async fn kinds(
    State(state): State<AppState>,
    _p: Principal,
    ApiQuery(q): ApiQuery<ProvinceParam>,
) -> Result<Json<Vec<DocumentKind>>, AppError> {
    Ok(Json(documents::kinds(&state, q.province.as_deref()).await?))
}

/// `PUT /api/v1/admin/document-kinds`: replaces the province's kind list (system
/// administrator; checked whole, audited `document_kinds.update`).
#[utoipa::path(put, path = "/api/v1/admin/document-kinds", tag = "documents", request_body = KindList,
    responses((status = 200, body = Vec<DocumentKind>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_kinds(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<KindList>,
) -> Result<Json<Vec<DocumentKind>>, AppError> {
    Ok(Json(documents::put_kinds(&state, &p, req).await?))
}

/// `POST /api/v1/documents/links`: a counter officer, having checked the person's identity
/// document, links a citizen account (by login name, phone number or email) to the owner
/// keyed by the ID number (created if new); audited `documents.link`. The account then
/// opens that store.
#[utoipa::path(post, path = "/api/v1/documents/links", tag = "documents", request_body = LinkRequest,
    responses((status = 200, body = LinkView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<LinkView>, AppError> {
    Ok(Json(documents::link_account(&state, &p, req).await?))
}

/// `GET /api/v1/documents`: the caller's stores ("Kho giấy tờ của tôi"): the one keyed by
/// their own citizen ID and those of organisations linked to their account.
#[utoipa::path(get, path = "/api/v1/documents", tag = "documents",
    responses((status = 200, body = Vec<StoreView>), (status = 403, body = ErrorBody)))]
pub async fn mine(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<StoreView>>, AppError> {
    Ok(Json(documents::mine(&state, &p).await?))
}

/// `POST /api/v1/documents`: enters a file the caller uploaded (`POST /api/v1/uploads`)
/// in a store they open, with its kind, number, issuer and dates.
#[utoipa::path(post, path = "/api/v1/documents", tag = "documents", request_body = NewStoredDocument,
    responses((status = 201, body = DocumentView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    p: Principal,
    ApiJson(req): ApiJson<NewStoredDocument>,
) -> Result<(StatusCode, Json<DocumentView>), AppError> {
    Ok((StatusCode::CREATED, Json(documents::upload(&state, &p, req).await?)))
}

/// `DELETE /api/v1/documents/{id}`: removes the caller's own upload from their store; 409
/// when a dossier took it, or for a result or a checked scan (kept).
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents",
    params(("id" = i64, Path, description = "Mã giấy tờ trong kho")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(State(state): State<AppState>, p: Principal, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    documents::remove(&state, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose dossier a member of staff handles when downloading a stored document.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DossierParam {
    /// Staff: the dossier of the document's owner they handle now (required for them).
    pub dossier: Option<String>,
}

/// `GET /api/v1/documents/{id}/file`: downloads a stored document: its owner, or staff
/// handling a dossier of its owner (`?dossier=`; audited `documents.file`). 404 otherwise.
#[utoipa::path(get, path = "/api/v1/documents/{id}/file", tag = "documents",
    params(("id" = i64, Path, description = "Mã giấy tờ trong kho"), DossierParam),
    responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
    ApiQuery(q): ApiQuery<DossierParam>,
) -> Result<Response, AppError> {
    let (doc, bytes) = documents::download(&state, &p, id, q.dossier.as_deref()).await?;
    Ok(super::uploads::file_response(bytes, &doc.file_type, &doc.file_name))
}

/// `GET /api/v1/documents/views`: who among staff looked into the caller's stores, when,
/// handling which dossier (from the audit trail).
#[utoipa::path(get, path = "/api/v1/documents/views", tag = "documents",
    responses((status = 200, body = Vec<ViewRecord>), (status = 403, body = ErrorBody)))]
pub async fn views(State(state): State<AppState>, p: Principal) -> Result<Json<Vec<ViewRecord>>, AppError> {
    Ok(Json(documents::views(&state, &p).await?))
}

/// `GET /api/v1/documents/offers?procedure=`: for each row of the procedure's checklist
/// that the applicant's store can fill, its valid documents of a kind the row asks for
/// ("Dùng giấy tờ đã có"). The owner's account reads its own; a counter officer needs the
/// applicant's `consent=true` and is audited (`documents.consult`).
#[utoipa::path(get, path = "/api/v1/documents/offers", tag = "documents", params(OfferQuery),
    responses((status = 200, body = Vec<Offer>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn offers(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<OfferQuery>,
) -> Result<Json<Vec<Offer>>, AppError> {
    Ok(Json(documents::offers(&state, &p, &q).await?))
}

/// `GET /api/v1/dossiers/{code}/documents`: the store of the dossier's applicant, for the
/// staff handling the dossier now (its counter, the department responsible or holding
/// it; not once it is closed). Every look is audited (`documents.view`) and shown to the
/// owner. 404 for anyone else.
#[utoipa::path(get, path = "/api/v1/dossiers/{code}/documents", tag = "documents",
    params(("code" = String, Path, description = "Mã hồ sơ")),
    responses((status = 200, body = StoreView), (status = 404, body = ErrorBody)))]
pub async fn of_dossier(
    State(state): State<AppState>,
    p: Principal,
    Path(code): Path<String>,
) -> Result<Json<StoreView>, AppError> {
    Ok(Json(documents::of_dossier(&state, &p, &code).await?))
}

/// `GET /api/v1/documents/figures`: the digitisation figures of Decision 766's group 4 per
/// receiving agency and period: 4.3 dossiers reusing stored documents, 4.1 results
/// digitised, 4.2 received documents digitised, with the official formulas (the centre's
/// director and administrators).
#[utoipa::path(get, path = "/api/v1/documents/figures", tag = "documents", params(FiguresQuery),
    responses((status = 200, body = Figures), (status = 403, body = ErrorBody)))]
pub async fn figures(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<FiguresQuery>,
) -> Result<Json<Figures>, AppError> {
    Ok(Json(documents::figures(&state, &p, &q).await?))
}
