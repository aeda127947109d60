//! The JSON skin of citizen self-registration over [`crate::service::citizens`].

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::auth::{Me, session_response};
use crate::auth::{self, ClientIp};
use crate::error::ErrorBody;
use crate::extract::ApiJson;
use crate::service::citizens::{
    self as service, CitizenError, CodeSent, ConfirmRequest, RegisterRequest, ResendRequest,
};
use crate::state::AppState;

/// The routes of this module, to merge into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/citizens/register", post(register))
        .route("/api/v1/citizens/confirm", post(confirm))
        .route("/api/v1/citizens/resend", post(resend))
}

impl IntoResponse for CitizenError {
    fn into_response(self) -> Response {
        match self {
            CitizenError::App(e) => e.into_response(),
            CitizenError::Coded {
                status,
                code,
                message,
                field,
            } => {
                let body = ErrorBody {
                    code: code.to_owned(),
                    message,
                    field: field.map(str::to_owned),
                    errors: Vec::new(),
                    places: Vec::new(),
                };
                (status, Json(body)).into_response()
            }
        }
    }
}

/// `POST /api/v1/citizens/register`: checks the form and sends a one-time code; the
/// account is created by `confirm`.
#[utoipa::path(post, path = "/api/v1/citizens/register", request_body = RegisterRequest, tag = "citizens",
    responses((status = 202, body = CodeSent), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)), security(()))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<Response, CitizenError> {
    let sent = service::register(&state, &ip, &body).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

/// `POST /api/v1/citizens/confirm`: checks the code, creates the citizen account and
/// signs it in (session cookie, CSRF token in the body), as login does.
#[utoipa::path(post, path = "/api/v1/citizens/confirm", request_body = ConfirmRequest, tag = "citizens",
    responses((status = 201, body = Me), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 429, body = ErrorBody)), security(()))]
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> Result<Response, CitizenError> {
    let signed_in = service::confirm(&state, &ip, &auth::user_agent(&headers), &body).await?;
    Ok(session_response(&state, StatusCode::CREATED, signed_in)?)
}

/// `POST /api/v1/citizens/resend`: sends a new code for a pending registration; the old
/// code stops working and the attempts start again.
#[utoipa::path(post, path = "/api/v1/citizens/resend", request_body = ResendRequest, tag = "citizens",
    responses((status = 202, body = CodeSent), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)), security(()))]
pub async fn resend(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<ResendRequest>,
) -> Result<Response, CitizenError> {
    let sent = service::resend(&state, &ip, &body).await?;
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routes_are_documented() {
        use utoipa::OpenApi;
        #[derive(OpenApi)]
        #[openapi(paths(register, confirm, resend))]
        struct Doc;
        let doc = Doc::openapi().to_json().expect("json");
        for needle in [
            "/api/v1/citizens/register",
            "/api/v1/citizens/confirm",
            "/api/v1/citizens/resend",
            "CodeSent",
            "RegisterRequest",
        ] {
            assert!(doc.contains(needle), "{needle}");
        }
    }
}
