//! Webhook subscriptions of a province (system administrators): a URL subscribed to event
//! kinds, to which the outbox POSTs signed events.

use motcua_store::outbox::{self, Subscription};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::admin::administered_province;
use super::trail::{province_event, record_and_commit};
use crate::audit::{self, Actor, Event};
use crate::auth::{Principal, random_token};
use crate::error::AppError;
use crate::outbox::rfc3339_ms;
use crate::state::AppState;

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

fn check_url(url: &str) -> Result<(), AppError> {
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
    Ok(())
}

fn check_events(events: &[String]) -> Result<(), AppError> {
    if events.is_empty() || events.len() > 50 || !events.iter().all(|k| valid_kind(k)) {
        return Err(AppError::bad(
            "invalid_field",
            "events",
            "Danh sách sự kiện phải có từ 1 đến 50 loại, ví dụ «dossier.accept», hoặc «*» để nhận tất cả.",
        ));
    }
    Ok(())
}

/// The signing key: the one given, or a new one when none is.
fn signing_key(given: Option<String>) -> Result<String, AppError> {
    match given {
        Some(s) if s.chars().count() < 16 || s.len() > 200 => Err(AppError::bad(
            "invalid_field",
            "secret",
            "Khóa ký phải dài từ 16 đến 200 ký tự.",
        )),
        Some(s) => Ok(s),
        None => Ok(random_token(32)),
    }
}

fn check_description(description: &str) -> Result<(), AppError> {
    if description.chars().count() > 200 {
        return Err(AppError::bad(
            "invalid_field",
            "description",
            "Mô tả dài quá 200 ký tự.",
        ));
    }
    Ok(())
}

/// Subscribes a URL to event kinds in the province asked for (administrators). The answer
/// shows the signing key, this once.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    province: Option<&str>,
    req: NewWebhook,
) -> Result<WebhookView, AppError> {
    let province = administered_province(state, principal, province).await?;
    let url = req.url.trim();
    check_url(url)?;
    check_events(&req.events)?;
    let secret = signing_key(req.secret)?;
    let description = motcua_core::text::nfc(req.description.trim());
    check_description(&description)?;
    let events = req.events.join(" ");
    let actor = principal.actor();
    let mut tx = state.db.begin_write().await?;
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
        crate::now_ms(),
    )
    .await?;
    let after = serde_json::json!({"url": url, "events": req.events, "description": description});
    let object_id = id.to_string();
    let event = Event {
        after: Some(after),
        ..province_event(&province, "webhook.create", "webhook", &object_id)
    };
    audit::record(&mut tx, &Actor::of(principal), event).await?;
    let created = outbox::subscription(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::Internal("subscription vanished".to_owned()))?;
    tx.commit().await?;
    Ok(WebhookView::of(&created, true))
}

/// The webhook subscriptions of the province asked for, oldest first (administrators).
pub async fn list(state: &AppState, principal: &Principal, province: Option<&str>) -> Result<WebhookList, AppError> {
    let province = administered_province(state, principal, province).await?;
    let mut tx = state.db.begin_read().await?;
    let items = outbox::subscriptions(&mut tx, province.as_str())
        .await?
        .iter()
        .map(|s| WebhookView::of(s, false))
        .collect();
    Ok(WebhookList { items })
}

/// Ends subscription `id` of the province asked for (administrators); its deliveries not
/// yet sent are dead-lettered when their turn comes.
pub async fn delete(state: &AppState, principal: &Principal, province: Option<&str>, id: i64) -> Result<(), AppError> {
    let province = administered_province(state, principal, province).await?;
    let mut tx = state.db.begin_write().await?;
    if !outbox::delete_subscription(&mut tx, id, province.as_str(), crate::now_ms()).await? {
        return Err(AppError::NotFound(format!("Không có đăng ký webhook số {id}.")));
    }
    record_and_commit(
        tx,
        principal,
        province_event(&province, "webhook.delete", "webhook", &id.to_string()),
    )
    .await
}
