//! Operations of the outbox for system administrators: deliveries that are pending,
//! failed or dead-lettered, with their errors and a retry; and the webhook subscriptions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use motcua_core::codes::ProvinceCode;
use motcua_store::outbox::{self, Delivery, RetryRefused, StateFilter, Subscription};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::catalogue::ProvinceParam;
use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, random_token};
use crate::error::{AppError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};
use crate::outbox::rfc3339_ms;
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

/// One event on its way to one destination.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Id (for the retry action).
    pub id: i64,
    /// The outbox event.
    pub event_id: i64,
    /// What happened, e.g. `dossier.accept`.
    pub kind: String,
    /// The dossier.
    pub dossier_code: Option<String>,
    /// `email`, `sms`, `portal` or `webhook:<subscription id>`.
    pub destination: String,
    /// `pending`, `failed`, `dead` or `delivered`.
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was last tried.
    pub last_attempt_at: Option<String>,
    /// When the next attempt is due (pending and failed deliveries).
    pub next_attempt_at: Option<String>,
    /// Whether a worker is sending it right now.
    pub in_flight: bool,
    /// When it was planned.
    pub created_at: String,
    /// When it arrived.
    pub delivered_at: Option<String>,
    /// When it was given up.
    pub dead_at: Option<String>,
}

/// Shown state of a delivery: `failed` is pending after a failed attempt.
pub fn shown_state(d: &Delivery) -> &'static str {
    match d.state.as_str() {
        "delivered" => "delivered",
        "dead" => "dead",
        _ if d.last_error.is_some() => "failed",
        _ => "pending",
    }
}

impl DeliveryView {
    fn of(d: &Delivery, now: i64) -> Self {
        let pending = d.state == "pending";
        Self {
            id: d.id,
            event_id: d.event_id,
            kind: d.kind.clone(),
            dossier_code: d.dossier_code.clone(),
            destination: d.destination.clone(),
            state: shown_state(d).to_owned(),
            attempts: d.attempts,
            last_error: d.last_error.clone(),
            last_attempt_at: d.last_attempt_at.map(rfc3339_ms),
            next_attempt_at: pending.then(|| rfc3339_ms(d.available_at)),
            in_flight: pending && d.claimed_until.is_some_and(|t| t > now),
            created_at: rfc3339_ms(d.created_at),
            delivered_at: d.delivered_at.map(rfc3339_ms),
            dead_at: d.dead_at.map(rfc3339_ms),
        }
    }
}

/// Undelivered deliveries of a province by state.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryCounts {
    /// Not tried yet (or being sent for the first time).
    pub pending: i64,
    /// Failed at least once, waiting for the next attempt.
    pub failed: i64,
    /// Given up after the configured attempts: needs an operator.
    pub dead: i64,
}

/// A page of deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Counts over the whole province.
    pub counts: DeliveryCounts,
    /// Newest first.
    pub items: Vec<DeliveryView>,
    /// `before` of the next page; absent on the last page.
    pub next_before: Option<i64>,
}

/// A province's deliveries in one state, with its counts.
pub async fn load_list(
    state: &AppState,
    province: &ProvinceCode,
    filter: StateFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<DeliveryList, AppError> {
    let mut tx = state.db.begin_read().await?;
    let (pending, failed, dead) = outbox::counts(&mut tx, Some(province.as_str())).await?;
    let rows = outbox::deliveries(&mut tx, province.as_str(), filter, before, limit).await?;
    let now = crate::now_ms();
    let next_before = (i64::try_from(rows.len()).unwrap_or(i64::MAX) == limit)
        .then(|| rows.last().map(|d| d.id))
        .flatten();
    Ok(DeliveryList {
        counts: DeliveryCounts { pending, failed, dead },
        items: rows.iter().map(|d| DeliveryView::of(d, now)).collect(),
        next_before,
    })
}

/// Parses a `state` parameter (default `failed`).
pub fn parse_state(state: Option<&str>) -> Result<StateFilter, AppError> {
    let name = state.unwrap_or("failed");
    StateFilter::parse(name).ok_or_else(|| {
        AppError::bad(
            "invalid_parameter",
            "state",
            "Trạng thái phải là pending, failed, dead hoặc delivered.",
        )
    })
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

/// Retries delivery `id` of `province` now, with a fresh budget of attempts, and audits it.
pub async fn retry_delivery(
    state: &AppState,
    principal: &Principal,
    province: &ProvinceCode,
    id: i64,
) -> Result<Delivery, AppError> {
    let mut tx = state.db.begin_write().await?;
    let now = crate::now_ms();
    let d = match outbox::retry(&mut tx, id, province.as_str(), now).await? {
        Ok(d) => d,
        Err(RetryRefused::NotFound) => {
            return Err(AppError::NotFound(format!("Không có lượt gửi số {id}.")));
        }
        Err(RetryRefused::Delivered) => {
            return Err(AppError::Conflict(format!("Lượt gửi số {id} đã gửi thành công.")));
        }
        Err(RetryRefused::InFlight) => {
            return Err(AppError::Conflict(format!(
                "Lượt gửi số {id} đang được gửi; hãy xem lại sau ít phút."
            )));
        }
    };
    audit::record(
        &mut tx,
        &Actor::of(principal),
        Event {
            action: "delivery.retry",
            object_type: "delivery",
            object_id: &id.to_string(),
            province: Some(province.as_str()),
            before: None,
            after: Some(serde_json::json!({"destination": d.destination, "event_id": d.event_id, "kind": d.kind})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(d)
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
