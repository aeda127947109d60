//! The outbox: events to deliver to other systems (notifications, the national portal,
//! webhooks), written in the same transaction as the change they report; their
//! deliveries, one per destination; and the webhook subscriptions.
//!
//! A worker *plans* an event (inserts one delivery per destination and sets `planned_at`)
//! in one transaction, then *claims* due deliveries under a lease, sends them outside any
//! transaction, and records the outcome. See docs/architecture.md, "Outbox".

use time::OffsetDateTime;

use crate::batch::BatchTx;
use crate::{Backend, Result, Tx, exec, on, to_millis};

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

/// Queues `e` like [`enqueue`], but inside a group commit with the batch's other events at
/// its end (one statement for the lot; ids still follow the order events were queued in).
pub fn queue(b: &mut BatchTx, e: &NewEvent<'_>, now: OffsetDateTime) -> Result<()> {
    let payload = serde_json::to_string(e.payload)?;
    let now = to_millis(now);
    let row = crate::batch::Row {
        into: "outbox (province_code, dossier_code, kind, payload, created_at, available_at, attempts)",
        values: vec![
            crate::batch::Val::Text(Some(e.province.to_owned())),
            crate::batch::Val::Text(e.dossier_code.map(str::to_owned)),
            crate::batch::Val::Text(Some(e.kind.to_owned())),
            crate::batch::Val::Text(Some(payload)),
            crate::batch::Val::Int(now),
            crate::batch::Val::Int(now),
            crate::batch::Val::Int(0),
        ],
    };
    b.layers.job.rows.push(row);
    Ok(())
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
    /// When it was queued (epoch ms).
    pub created_at: i64,
}

/// The events of one dossier, in order (for checks and the operations page).
pub async fn of_dossier(tx: &mut Tx, dossier_code: &str) -> Result<Vec<QueuedEvent>> {
    let rows = on!(tx, |c| {
        sqlx::query_as(
            "SELECT id, province_code, dossier_code, kind, payload, attempts, created_at FROM outbox
             WHERE dossier_code = $1 ORDER BY id",
        )
        .bind(dossier_code)
        .fetch_all(c)
        .await
    })?;
    Ok(rows)
}

/// The oldest events not yet planned, at most `limit`, locked for this transaction on
/// PostgreSQL (another worker skips them).
pub async fn unplanned(tx: &mut Tx, limit: i64) -> Result<Vec<QueuedEvent>> {
    let sql = format!(
        "SELECT o.id, o.province_code, o.dossier_code, o.kind, o.payload, o.attempts, o.created_at FROM outbox o
         WHERE o.planned_at IS NULL ORDER BY o.id LIMIT $1{}",
        crate::skip_locked(tx, "o")
    );
    let rows = on!(tx, |c| sqlx::query_as(&sql).bind(limit).fetch_all(c).await)?;
    Ok(rows)
}

/// Adds the delivery of `event` to `destination` (nothing if it exists already).
pub async fn add_delivery(tx: &mut Tx, event: &QueuedEvent, destination: &str, now: i64) -> Result<()> {
    let d = NewDelivery {
        event,
        destination,
        secret: None,
    };
    add_deliveries(tx, &[d], now).await
}

/// A delivery to plan: the event, where it goes, and the secret it carries to the
/// applicant (a rating code), held until it is delivered.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    /// The event.
    pub event: &'a QueuedEvent,
    /// `email`, `sms`, `portal` or `webhook:<subscription id>`.
    pub destination: &'a str,
    /// What only this message may carry; never listed, cleared once delivered.
    pub secret: Option<&'a str>,
}

/// Adds the deliveries of events to destinations (those that exist already are left),
/// many per statement.
pub async fn add_deliveries(tx: &mut Tx, deliveries: &[NewDelivery<'_>], now: i64) -> Result<()> {
    use crate::batch::{Row, Val};
    let text = |t: &str| Val::Text(Some(t.to_owned()));
    let rows: Vec<Row> = deliveries
        .iter()
        .map(
            |NewDelivery {
                 event,
                 destination,
                 secret,
             }| Row {
                into: "deliveries (event_id, province_code, dossier_code, kind, destination, state, attempts, \
                   available_at, created_at, secret)",
                values: vec![
                    Val::Int(event.id),
                    text(&event.province_code),
                    Val::Text(event.dossier_code.clone()),
                    text(&event.kind),
                    text(destination),
                    text("pending"),
                    Val::Int(0),
                    Val::Int(now),
                    Val::Int(now),
                    Val::Text(secret.map(str::to_owned)),
                ],
            },
        )
        .collect();
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let refs: Vec<&Row> = rows.iter().collect();
    crate::batch::insert_rows_then(tx, first.into, &refs, "ON CONFLICT (event_id, destination) DO NOTHING").await
}

/// Marks events planned (one statement); those with no delivery at all are settled at once.
pub async fn mark_planned(tx: &mut Tx, event_ids: &[i64], now: i64) -> Result<()> {
    let backend = tx.backend();
    let at = match backend {
        Backend::Sqlite => "?",
        Backend::Postgres => "$1",
    };
    for chunk in event_ids.chunks(1_000) {
        let ids = crate::batch::placeholders(backend, chunk.len());
        let sql = format!(
            "UPDATE outbox SET planned_at = {at},
                 delivered_at = CASE WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = outbox.id) THEN NULL ELSE {at} END
             WHERE id IN {}",
            ids(1)
        );
        exec!(tx, |c| {
            // The time first (twice for SQLite's anonymous `?`), then the ids.
            let mut q = sqlx::query(&sql).bind(now);
            if backend == Backend::Sqlite {
                q = q.bind(now);
            }
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(c).await
        })?;
    }
    Ok(())
}

/// One event to one destination.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// The outbox event.
    pub event_id: i64,
    /// Province.
    pub province_code: String,
    /// The dossier the event is about.
    pub dossier_code: Option<String>,
    /// The event's kind, e.g. `dossier.accept`.
    pub kind: String,
    /// `email`, `sms`, `portal` or `webhook:<subscription id>`.
    pub destination: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Attempts so far (each claim counts one).
    pub attempts: i64,
    /// Not tried before this instant (epoch ms).
    pub available_at: i64,
    /// While a worker is sending it: the end of that worker's lease (epoch ms).
    pub claimed_until: Option<i64>,
    /// The worker that claimed it last (holding the lease while `claimed_until` is set).
    pub claimed_by: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was last tried (epoch ms).
    pub last_attempt_at: Option<i64>,
    /// When it was planned (epoch ms).
    pub created_at: i64,
    /// When it was delivered (epoch ms).
    pub delivered_at: Option<i64>,
    /// When it was given up (epoch ms).
    pub dead_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str = "id, event_id, province_code, dossier_code, kind, destination, state, attempts, \
     available_at, claimed_until, claimed_by, last_error, last_attempt_at, created_at, delivered_at, dead_at";

/// Claims up to `limit` due deliveries for `worker` until `lease_until`, counting one
/// attempt each. A delivery is due when it is pending, its backoff has passed, nobody
/// holds a live lease on it, and it is first in line: no earlier delivery of the same
/// dossier to the same destination is still pending and no earlier event of the dossier
/// is still unplanned. So one claim returns at most one delivery per dossier and
/// destination, and those go out in event order. Commit before sending.
pub async fn claim(tx: &mut Tx, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Delivery>> {
    let sql = format!(
        "UPDATE deliveries SET claimed_until = $1, claimed_by = $2, attempts = attempts + 1, last_attempt_at = $3
         WHERE id IN (
             SELECT d.id FROM deliveries d
             WHERE d.state = 'pending' AND d.available_at <= $3
               AND (d.claimed_until IS NULL OR d.claimed_until <= $3)
               AND NOT EXISTS (SELECT 1 FROM deliveries e
                               WHERE e.dossier_code = d.dossier_code AND e.destination = d.destination
                                 AND e.event_id < d.event_id AND e.state = 'pending')
               AND NOT EXISTS (SELECT 1 FROM outbox o
                               WHERE o.dossier_code = d.dossier_code AND o.id < d.event_id AND o.planned_at IS NULL)
             ORDER BY d.id LIMIT $4{})
         RETURNING {DELIVERY_COLUMNS}",
        crate::skip_locked(tx, "d")
    );
    let mut rows: Vec<Delivery> = on!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(lease_until)
            .bind(worker)
            .bind(now)
            .bind(limit)
            .fetch_all(c)
            .await
    })?;
    rows.sort_by_key(|d| d.id);
    Ok(rows)
}

/// The event a delivery carries.
pub async fn event(tx: &mut Tx, id: i64) -> Result<Option<QueuedEvent>> {
    let row = on!(tx, |c| {
        sqlx::query_as(
            "SELECT id, province_code, dossier_code, kind, payload, attempts, created_at FROM outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await
    })?;
    Ok(row)
}

/// How many events of `dossier_code` were queued up to and including `event_id`: each
/// change of a dossier writes one history row and one event, so this is how much of the
/// history the event has seen.
pub async fn position_in_dossier(tx: &mut Tx, dossier_code: &str, event_id: i64) -> Result<i64> {
    let n: i64 = on!(tx, |c| {
        sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM outbox WHERE dossier_code = $1 AND id <= $2")
            .bind(dossier_code)
            .bind(event_id)
            .fetch_one(c)
            .await
    })?;
    Ok(n)
}

/// Records a successful delivery by `worker` (whoever holds the lease now: it did
/// arrive). `claimed_by` keeps the last worker that tried, for operators.
pub async fn delivered(tx: &mut Tx, id: i64, worker: &str, now: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE deliveries SET state = 'delivered', delivered_at = $2, claimed_until = NULL, claimed_by = $3,
                 secret = NULL
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .bind(now)
        .bind(worker)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// The secret delivery `id` carries (see [`NewDelivery::secret`]), while it is not delivered.
pub async fn secret_of(tx: &mut Tx, id: i64) -> Result<Option<String>> {
    let secret: Option<Option<String>> = on!(tx, |c| {
        sqlx::query_scalar("SELECT secret FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await
    })?;
    Ok(secret.flatten())
}

/// Records a failed attempt by `worker`: tried again from `retry_at`, or dead (`None`).
/// Does nothing if the worker's lease was lost to another worker meanwhile.
pub async fn failed(tx: &mut Tx, id: i64, worker: &str, now: i64, error: &str, retry_at: Option<i64>) -> Result<bool> {
    let (state, available_at, dead_at) = match retry_at {
        Some(t) => ("pending", t, None),
        None => ("dead", now, Some(now)),
    };
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE deliveries SET state = $3, available_at = $4, dead_at = $5, last_error = $6, claimed_until = NULL
             WHERE id = $1 AND claimed_by = $2 AND state = 'pending'",
        )
        .bind(id)
        .bind(worker)
        .bind(state)
        .bind(available_at)
        .bind(dead_at)
        .bind(error)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}

/// Once no delivery of `event_id` is pending, records on the event whether all arrived
/// (`delivered_at`) or some were given up (`dead_at`).
pub async fn settle_event(tx: &mut Tx, event_id: i64, now: i64) -> Result<()> {
    exec!(tx, |c| {
        sqlx::query(
            "UPDATE outbox SET
                 delivered_at = CASE WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = $1 AND state = 'dead')
                                THEN NULL ELSE $2 END,
                 dead_at = CASE WHEN EXISTS (SELECT 1 FROM deliveries WHERE event_id = $1 AND state = 'dead')
                           THEN $2 ELSE NULL END
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_id = $1 AND state = 'pending')",
        )
        .bind(event_id)
        .bind(now)
        .execute(c)
        .await
    })?;
    Ok(())
}

/// Which deliveries a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    /// Waiting for their first attempt (or being sent for the first time).
    Pending,
    /// Pending after at least one failed attempt: waiting for the next.
    Failed,
    /// Given up; wait for an operator.
    Dead,
    /// Arrived.
    Delivered,
}

impl StateFilter {
    /// The name used in URLs.
    pub fn name(self) -> &'static str {
        match self {
            StateFilter::Pending => "pending",
            StateFilter::Failed => "failed",
            StateFilter::Dead => "dead",
            StateFilter::Delivered => "delivered",
        }
    }

    /// The filter named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Failed, Self::Dead, Self::Delivered]
            .into_iter()
            .find(|s| s.name() == name)
    }

    fn condition(self) -> &'static str {
        match self {
            StateFilter::Pending => "state = 'pending' AND last_error IS NULL",
            StateFilter::Failed => "state = 'pending' AND last_error IS NOT NULL",
            StateFilter::Dead => "state = 'dead'",
            StateFilter::Delivered => "state = 'delivered'",
        }
    }
}

/// A province's deliveries in one state, newest first, before `before_id` if given.
pub async fn deliveries(
    tx: &mut Tx,
    province: &str,
    state: StateFilter,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries
         WHERE province_code = $1 AND {} AND id < $2 ORDER BY id DESC LIMIT $3",
        state.condition()
    );
    let rows = on!(tx, |c| {
        sqlx::query_as(&sql)
            .bind(province)
            .bind(before_id.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(c)
            .await
    })?;
    Ok(rows)
}

/// The deliveries of one event, by destination.
pub async fn deliveries_of_event(tx: &mut Tx, event_id: i64) -> Result<Vec<Delivery>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id = $1 ORDER BY destination");
    let rows = on!(tx, |c| sqlx::query_as(&sql).bind(event_id).fetch_all(c).await)?;
    Ok(rows)
}

/// One delivery.
pub async fn delivery(tx: &mut Tx, id: i64) -> Result<Option<Delivery>> {
    let sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = $1");
    let row = on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    Ok(row)
}

/// Counts of undelivered deliveries, as (pending, failed, dead); of one province, or of
/// all with `None`.
pub async fn counts(tx: &mut Tx, province: Option<&str>) -> Result<(i64, i64, i64)> {
    let rows: Vec<(String, i64, i64)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT state, CAST(CASE WHEN last_error IS NULL THEN 0 ELSE 1 END AS BIGINT), CAST(COUNT(*) AS BIGINT)
             FROM deliveries WHERE state IN ('pending', 'dead') AND ($1 IS NULL OR province_code = $1)
             GROUP BY state, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END",
        )
        .bind(province)
        .fetch_all(c)
        .await
    })?;
    let (mut pending, mut failed, mut dead) = (0, 0, 0);
    for (state, errored, n) in rows {
        match (state.as_str(), errored) {
            ("dead", _) => dead += n,
            ("pending", 0) => pending += n,
            _ => failed += n,
        }
    }
    Ok((pending, failed, dead))
}

/// Why an operator's retry was not done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryRefused {
    /// No such delivery in the province.
    NotFound,
    /// It has arrived already.
    Delivered,
    /// A worker is sending it right now.
    InFlight,
}

/// An operator's retry: the delivery is due now with a fresh budget of attempts (its last
/// error is kept until the next attempt replaces or clears it).
pub async fn retry(tx: &mut Tx, id: i64, province: &str, now: i64) -> Result<Result<Delivery, RetryRefused>> {
    let Some(d) = delivery(tx, id).await?.filter(|d| d.province_code == province) else {
        return Ok(Err(RetryRefused::NotFound));
    };
    if d.state == "delivered" {
        return Ok(Err(RetryRefused::Delivered));
    }
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, available_at = $2, dead_at = NULL,
                 claimed_until = NULL
             WHERE id = $1 AND state <> 'delivered' AND (claimed_until IS NULL OR claimed_until <= $2)",
        )
        .bind(id)
        .bind(now)
        .execute(c)
        .await
    })?;
    if n == 0 {
        return Ok(Err(RetryRefused::InFlight));
    }
    exec!(tx, |c| {
        sqlx::query("UPDATE outbox SET delivered_at = NULL, dead_at = NULL WHERE id = $1")
            .bind(d.event_id)
            .execute(c)
            .await
    })?;
    Ok(delivery(tx, id).await?.ok_or(RetryRefused::NotFound))
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Subscription {
    /// Id.
    pub id: i64,
    /// Province whose events it receives.
    pub province_code: String,
    /// Where events are POSTed.
    pub url: String,
    /// Event kinds, space-separated (`*` for all).
    pub events: String,
    /// HMAC-SHA256 key of the signature.
    pub secret: String,
    /// What it is for.
    pub description: String,
    /// Who created it.
    pub created_by: String,
    /// When (epoch ms).
    pub created_at: i64,
    /// When it was deleted (epoch ms); deleted subscriptions receive nothing more.
    pub deleted_at: Option<i64>,
}

impl Subscription {
    /// Whether events of `kind` go to this subscription.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.split_whitespace().any(|e| e == "*" || e == kind)
    }
}

/// A new webhook subscription.
#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    /// Province.
    pub province: &'a str,
    /// URL.
    pub url: &'a str,
    /// Kinds, space-separated.
    pub events: &'a str,
    /// Signing key.
    pub secret: &'a str,
    /// Description.
    pub description: &'a str,
    /// Creator.
    pub created_by: &'a str,
}

/// Stores a subscription; returns its id.
pub async fn create_subscription(tx: &mut Tx, s: &NewSubscription<'_>, now: i64) -> Result<i64> {
    let id: i64 = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO webhook_subscriptions (province_code, url, events, secret, description, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(s.province)
        .bind(s.url)
        .bind(s.events)
        .bind(s.secret)
        .bind(s.description)
        .bind(s.created_by)
        .bind(now)
        .fetch_one(c)
        .await
    })?;
    Ok(id)
}

const SUBSCRIPTION_COLUMNS: &str =
    "id, province_code, url, events, secret, description, created_by, created_at, deleted_at";

/// A province's live subscriptions, oldest first.
pub async fn subscriptions(tx: &mut Tx, province: &str) -> Result<Vec<Subscription>> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions
         WHERE province_code = $1 AND deleted_at IS NULL ORDER BY id"
    );
    let rows = on!(tx, |c| sqlx::query_as(&sql).bind(province).fetch_all(c).await)?;
    Ok(rows)
}

/// One subscription, deleted or not.
pub async fn subscription(tx: &mut Tx, id: i64) -> Result<Option<Subscription>> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1");
    let row = on!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    Ok(row)
}

/// Deletes a live subscription of `province`; false if there is none.
pub async fn delete_subscription(tx: &mut Tx, id: i64, province: &str, now: i64) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE webhook_subscriptions SET deleted_at = $3
             WHERE id = $1 AND province_code = $2 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(province)
        .bind(now)
        .execute(c)
        .await
    })?;
    Ok(n == 1)
}
