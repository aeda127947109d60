//! Operations of the outbox for system administrators: deliveries that are pending,
//! failed or dead-lettered, with their errors and a retry; and the webhook subscriptions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use motcua_store::outbox::{self, Subscription};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::catalogue::ProvinceParam;
use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, random_token};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::outbox::rfc3339_ms;
use crate::service::deliveries::{DeliveryList, DeliveryView, load_list, parse_state, retry_delivery};
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
    responses((status = 200, body = DeliveryList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> Result<Json<DeliveryList>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
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
    responses((status = 200, body = DeliveryView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<DeliveryView>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let d = retry_delivery(&state, &principal, &province, id).await?;
    Ok(Json(DeliveryView::of(&d, crate::now_ms())))
}

/// A new webhook subscription.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed (`https://…`; `http://` for a receiver on a trusted network).
    pub url: String,
    /// Event kinds to receive (`dossier.accept`, …), or `["*"]` for all.
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The signing key (at least 16 characters); generated when omitted.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A webhook subscription (its secret only in the answer that creates it).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    pub id: i64,
    /// Where events are POSTed.
    pub url: String,
    /// Event kinds received (`*`: all).
    pub events: Vec<String>,
    /// What it is for.
    pub description: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// The signing key: `X-Motcua-Signature: sha256=<hex HMAC-SHA256 of the body>`.
    /// Shown once, at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl WebhookView {
    fn of(s: &Subscription, with_secret: bool) -> Self {
        Self {
            id: s.id,
            url: s.url.clone(),
            events: s.events.split_whitespace().map(str::to_owned).collect(),
            description: s.description.clone(),
            created_by: s.created_by.clone(),
            created_at: rfc3339_ms(s.created_at),
            secret: with_secret.then(|| s.secret.clone()),
        }
    }
}

/// Webhook subscriptions of a province.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first.
    pub items: Vec<WebhookView>,
}

fn valid_kind(kind: &str) -> bool {
    kind == "*"
        || (kind.len() <= 64
            && kind.contains('.')
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'_'))
}

/// `POST /api/v1/admin/webhooks`: subscribes a URL to event kinds.
#[utoipa::path(post, path = "/api/v1/admin/webhooks", params(ProvinceParam), request_body = NewWebhook, tag = "admin",
    responses((status = 201, body = WebhookView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
    ApiJson(req): ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookView>), AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let url = req.url.trim();
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or_default();
    if host.is_empty() || url.len() > 2000 || url.chars().any(char::is_whitespace) {
        return Err(AppError::bad(
            "invalid_field",
            "url",
            "Địa chỉ nhận phải bắt đầu bằng https:// (hoặc http://) và không chứa khoảng trắng.",
        ));
    }
    if req.events.is_empty() || req.events.len() > 50 || !req.events.iter().all(|k| valid_kind(k)) {
        return Err(AppError::bad(
            "invalid_field",
            "events",
            "Danh sách sự kiện phải có từ 1 đến 50 loại, ví dụ «dossier.accept», hoặc «*» để nhận tất cả.",
        ));
    }
    let secret = match req.secret {
        Some(s) if s.chars().count() < 16 || s.len() > 200 => {
            return Err(AppError::bad(
                "invalid_field",
                "secret",
                "Khóa ký phải dài từ 16 đến 200 ký tự.",
            ));
        }
        Some(s) => s,
        None => random_token(32),
    };
    let description = motcua_core::text::nfc(req.description.trim());
    if description.chars().count() > 200 {
        return Err(AppError::bad(
            "invalid_field",
            "description",
            "Mô tả dài quá 200 ký tự.",
        ));
    }
    let events = req.events.join(" ");
    let actor = principal.actor();
    let mut tx = state.db.begin_write().await?;
    let now = crate::now_ms();
    let id = outbox::create_subscription(
        &mut tx,
        &outbox::NewSubscription {
            province: province.as_str(),
            url,
            events: &events,
            secret: &secret,
            description: &description,
            created_by: &actor,
        },
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "webhook.create",
            object_type: "webhook",
            object_id: &id.to_string(),
            province: Some(province.as_str()),
            before: None,
            after: Some(serde_json::json!({"url": url, "events": req.events, "description": description})),
        },
    )
    .await?;
    let created = outbox::subscription(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("subscription vanished".to_owned()))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(WebhookView::of(&created, true))))
}

/// `GET /api/v1/admin/webhooks`: the province's webhook subscriptions.
#[utoipa::path(get, path = "/api/v1/admin/webhooks", params(ProvinceParam), tag = "admin",
    responses((status = 200, body = WebhookList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<Json<WebhookList>, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let mut tx = state.db.begin_read().await?;
    let items = outbox::subscriptions(&mut tx, province.as_str())
        .await?
        .iter()
        .map(|s| WebhookView::of(s, false))
        .collect();
    Ok(Json(WebhookList { items }))
}

/// `DELETE /api/v1/admin/webhooks/{id}`: ends a subscription; its deliveries not yet
/// sent are dead-lettered when their turn comes.
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", params(("id" = i64, Path), ProvinceParam), tag = "admin",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn delete_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<i64>,
    ApiQuery(p): ApiQuery<ProvinceParam>,
) -> Result<StatusCode, AppError> {
    let province = state.province(p.province.as_deref()).await?;
    principal.require_admin(&province)?;
    let mut tx = state.db.begin_write().await?;
    if !outbox::delete_subscription(&mut tx, id, province.as_str(), crate::now_ms()).await? {
        return Err(AppError::NotFound(format!("Không có đăng ký webhook số {id}.")));
    }
    audit::record(
        &mut tx,
        &Actor::of(&principal),
        Event {
            action: "webhook.delete",
            object_type: "webhook",
            object_id: &id.to_string(),
            province: Some(province.as_str()),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
