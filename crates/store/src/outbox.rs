//! The outbox: events to deliver to other systems (notifications, the national portal,
//! webhooks), written in the same transaction as the change they report.

use time::OffsetDateTime;

use crate::{Result, Tx, on, to_millis};

/// An event to deliver.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The province it belongs to.
    pub province: &'a str,
    /// The dossier it is about, if any.
    pub dossier_code: Option<&'a str>,
    /// What happened, e.g. `dossier.accept`.
    pub kind: &'a str,
    /// The event as JSON.
    pub payload: &'a serde_json::Value,
}

/// Queues `e`; returns its id (ids grow in commit order per dossier).
pub async fn enqueue(tx: &mut Tx, e: &NewEvent<'_>, now: OffsetDateTime) -> Result<i64> {
    let payload = serde_json::to_string(e.payload)?;
    let now = to_millis(now);
    let id: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO outbox (province_code, dossier_code, kind, payload, created_at, available_at, attempts)
             VALUES ($1, $2, $3, $4, $5, $5, 0) RETURNING id",
        )
        .bind(e.province)
        .bind(e.dossier_code)
        .bind(e.kind)
        .bind(&payload)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    Ok(id)
}

/// A queued event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedEvent {
    /// Id.
    pub id: i64,
    /// Province.
    pub province_code: String,
    /// Dossier.
    pub dossier_code: Option<String>,
    /// Kind.
    pub kind: String,
    /// JSON payload.
    pub payload: String,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// The events of one dossier, in order (for checks and the operations page).
pub async fn of_dossier(tx: &mut Tx, dossier_code: &str) -> Result<Vec<QueuedEvent>> {
    let rows = on!(tx, |c| {
        sqlx::query_as(
            "SELECT id, province_code, dossier_code, kind, payload, attempts FROM outbox
             WHERE dossier_code = $1 ORDER BY id",
        )
        .bind(dossier_code)
        .fetch_all(c)
        .await
    })?;
    Ok(rows)
}
