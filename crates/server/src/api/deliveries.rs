//! Operations of the outbox for system administrators: deliveries that are pending,
//! failed or dead-lettered, with their errors and a retry; and the webhook subscriptions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::catalogue::ProvinceParam;
use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::admin::administered_province;
use crate::service::deliveries::{DeliveryList, DeliveryView, load_list, parse_state, retry_delivery};
use crate::service::webhooks::{self, NewWebhook, WebhookList, WebhookView};
use crate::state::AppState;

/// Most deliveries in one page.
const MAX_LIMIT: i64 = 200;

/// Filters of the delivery list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// Province code; the default province when omitted.
    pub province: Option<String>,
    /// `pending` (not tried yet), `failed` (failed, waiting for another attempt), `dead`
    /// (given up; needs an operator) or `delivered`. Default `failed`.
    pub state: Option<String>,
    /// Only deliveries with a smaller id (the `next_before` of the previous page).
    pub before: Option<i64>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

/// `GET /api/v1/admin/deliveries`: notifications, portal syncs and webhooks by state,
/// with their last error.
#[utoipa::path(get, path = "/api/v1/admin/deliveries", params(DeliveryParams), tag = "admin",
    responses((status = 200, body = DeliveryList),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> Result<Json<DeliveryList>, AppError> {
    let province = administered_province(&state, &principal, p.province.as_deref()).await?;
    let filter = parse_state(p.state.as_deref())?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad(
            "invalid_parameter",
            "limit",
            format!("Số dòng mỗi trang phải từ 1 đến {MAX_LIMIT}."),
        ));
    }
    Ok(Json(load_list(&state, &province, filter, p.before, limit).await?))
}

/// `POST /api/v1/admin/deliveries/{id}/retry`: sends a failed or dead delivery again now,
/// with a fresh budget of attempts.
#[utoipa::path(post, path = "/api/v1/admin/deliveries/{id}/retry", params(("id" = i64, Path), ProvinceParam),
    tag = "admin",
    responses((status = 200, body = DeliveryView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<DeliveryView>, AppError> {
    let province = administered_province(&state, &principal, p.province.as_deref()).await?;
    let d = retry_delivery(&state, &principal, &province, id).await?;
    Ok(Json(DeliveryView::of(&d, crate::now_ms())))
}

/// `POST /api/v1/admin/webhooks`: subscribes a URL to event kinds.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", params(ProvinceParam), request_body = NewWebhook, tag = "admin",
    responses((status = 201, body = WebhookView),
        (status = 403, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(req): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), AppError> {
    let created = webhooks::create(&state, &principal, p.province.as_deref(), req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `GET /api/v1/admin/webhooks`: the province's webhook subscriptions.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", params(ProvinceParam), tag = "admin",
    responses((status = 200, body = WebhookList), (status = 403, body = ErrorBody)))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<WebhookList>, AppError> {
    Ok(Json(webhooks::list(&state, &principal, p.province.as_deref()).await?))
}

/// `DELETE /api/v1/admin/webhooks/{id}`: ends a subscription; its deliveries not yet
/// sent are dead-lettered when their turn comes.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", params(("id" = i64, Path), ProvinceParam), tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<StatusCode, AppError> {
    webhooks::delete(&state, &principal, p.province.as_deref(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
