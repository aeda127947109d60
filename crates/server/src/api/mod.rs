//! The JSON API under `/api/v1`, and its OpenAPI document.

use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::error::AppError;
use crate::state::AppState;

pub mod catalogue;
pub mod extract;

/// Proof that the request carries the administrator token. Staff accounts and scoped API
/// tokens replace this bootstrap credential; until then it is the only way to write the
/// catalogue through the API.
pub struct AdminAccess;

impl FromRequestParts<AppState> for AdminAccess {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let expected = &state.config.admin_token;
        if expected.is_empty() {
            return Err(AppError::Unauthorized(
                "Chức năng ghi qua API chưa được bật (chưa cấu hình admin_token).".to_owned(),
            ));
        }
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compare digests so the comparison time does not depend on the secret's content.
        if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes()) {
            Ok(AdminAccess)
        } else {
            Err(AppError::Unauthorized(
                "Thiếu hoặc sai mã truy cập quản trị.".to_owned(),
            ))
        }
    }
}

/// The OpenAPI document of the whole API.
#[derive(OpenApi)]
#[openapi(
    info(title = "motcua API", description = "API của hệ thống một cửa motcua: danh mục thủ tục hành chính."),
    paths(
        catalogue::summary,
        catalogue::provinces,
        catalogue::agencies,
        catalogue::fields,
        catalogue::list_procedures,
        catalogue::get_procedure,
        catalogue::get_procedure_version,
        catalogue::create_procedure,
        catalogue::edit_procedure,
        catalogue::export,
        catalogue::import,
    ),
    modifiers(&Security),
    tags((name = "catalogue", description = "Danh mục cơ quan, lĩnh vực và thủ tục hành chính"))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as pretty JSON (what `/api/openapi.json` serves and the snapshot holds).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The API routes.
pub fn router(state: &AppState) -> Router<AppState> {
    let import_limit = state.config.max_import_bytes;
    // The import takes whole catalogue files, so it gets its own, larger body limit.
    let import = Router::new()
        .route("/api/v1/catalogue/import", axum::routing::post(catalogue::import))
        .layer(DefaultBodyLimit::max(import_limit))
        .layer(axum::Extension(extract::BodyLimit(import_limit)));
    Router::new()
        .merge(import)
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/catalogue/summary", get(catalogue::summary))
        .route("/api/v1/catalogue/export", get(catalogue::export))
        .route("/api/v1/provinces", get(catalogue::provinces))
        .route("/api/v1/agencies", get(catalogue::agencies))
        .route("/api/v1/fields", get(catalogue::fields))
        .route(
            "/api/v1/procedures",
            get(catalogue::list_procedures).post(catalogue::create_procedure),
        )
        .route(
            "/api/v1/procedures/{code}",
            get(catalogue::get_procedure).put(catalogue::edit_procedure),
        )
        .route(
            "/api/v1/procedures/{code}/versions/{version}",
            get(catalogue::get_procedure_version),
        )
}
