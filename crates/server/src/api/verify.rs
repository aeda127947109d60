//! The JSON skin of document checking (issue 22) over [`crate::service::verify`]: anyone
//! may send a PDF, or a dossier code with the secret printed on its receipt.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::ClientIp;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::service::verify::{self, CheckView, CodeView};
use crate::state::AppState;

/// The routes of this area. The PDF's size is limited by the handler (`max_upload_bytes`),
/// not by the default body limit.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/verify", post(check_pdf).layer(DefaultBodyLimit::disable()))
        .route("/api/v1/verify/{code}", get(check_code))
}

/// `POST /api/v1/verify`: checks a PDF (the raw bytes as the body): whether motcua issued
/// exactly this file (its SHA-256 against those recorded when documents were issued), and
/// every digital signature in it — intact or altered, the signer, whether the certificate
/// chains to the configured trust anchors and was valid when signing (the time-stamp's time
/// when a trusted signature time-stamp is present), and whether a certificate of the chain
/// is revoked (OCSP or CRL, when reachable; `revocation: not_checked` otherwise).
#[utoipa::path(post, path = "/api/v1/verify", tag = "verify",
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The PDF's bytes"),
    responses((status = 200, body = CheckView), (status = 413, body = ErrorBody),
        (status = 503, body = ErrorBody)), security(()))]
pub async fn check_pdf(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CheckView>, AppError> {
    let (bytes, _permit) = verify::read_body(&state, &headers, body).await?;
    Ok(Json(verify::check_pdf(&state, bytes.to_vec()).await?))
}

/// Parameters of a check by code.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CodeParams {
    /// The tracking secret printed on the receipt.
    pub secret: Option<String>,
}

/// `GET /api/v1/verify/{code}?secret=`: the documents motcua issued under a dossier code,
/// with the SHA-256 and the signatures of each. A wrong code or secret gets public
/// tracking's 404 (and its 429 when repeated).
#[utoipa::path(get, path = "/api/v1/verify/{code}", tag = "verify",
    params(("code" = String, Path, description = "Mã hồ sơ"), CodeParams),
    responses((status = 200, body = CodeView), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(()))]
pub async fn check_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<CodeParams>,
) -> Result<Json<CodeView>, AppError> {
    Ok(Json(
        verify::check_code(&state, &ip, &code, q.secret.as_deref().unwrap_or_default()).await?,
    ))
}
