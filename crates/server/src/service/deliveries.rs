//! The outbox's deliveries as system administrators follow them: pending, failed or
//! dead-lettered, with their errors, and a retry.

use motcua_core::codes::ProvinceCode;
use motcua_store::outbox::{self, Delivery, RetryRefused, StateFilter};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::outbox::rfc3339_ms;
use crate::state::AppState;

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
    /// The delivery `d` as shown at `now` (epoch ms).
    pub fn of(d: &Delivery, now: i64) -> Self {
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
