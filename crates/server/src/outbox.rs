//! Guaranteed delivery of outbox events: citizen notifications (email, SMS), the National
//! Public Service Portal sync and webhooks.
//!
//! Every dossier change writes one `outbox` row in its own transaction. The [`Worker`]
//! turns each event into one delivery per destination ("planning", one transaction), then
//! claims due deliveries under a lease, sends them with no transaction open, and records
//! the outcome: delivered, retried later with exponential backoff, or dead after
//! `outbox_max_attempts` (an operator retries it). Delivery is at least once: a worker
//! that dies between sending and recording leaves a lease that expires, and the delivery
//! is sent again, so receivers get an event id to recognise repeats. Order holds per
//! dossier and destination: a delivery waits until the dossier's earlier ones to the
//! same destination are delivered or dead. See docs/architecture.md, "Outbox".

pub mod messages;
pub mod portal;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use motcua_core::dossier::DossierCode;
use motcua_store::outbox::{self, Delivery, NewDelivery, QueuedEvent};
use motcua_store::{dossiers, ratings};
use sha2::Sha256;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::notify::{Mailer, NotifyError, SmsSender};
use crate::state::AppState;

/// Destination of the applicant's email.
pub const EMAIL: &str = "email";
/// Destination of the applicant's SMS.
pub const SMS: &str = "sms";
/// Destination of the authorised submitter's email (when someone filed for the applicant).
pub const SUBMITTER_EMAIL: &str = "email:submitter";
/// Destination of the authorised submitter's SMS.
pub const SUBMITTER_SMS: &str = "sms:submitter";

/// The people a dossier's notices reach: the applicant, and the authorised submitter
/// who filed for them; each by email and by SMS.
const CITIZEN_DESTINATIONS: [(&str, bool, bool); 4] = [
    // (destination, to the submitter, by email)
    (EMAIL, false, true),
    (SMS, false, false),
    (SUBMITTER_EMAIL, true, true),
    (SUBMITTER_SMS, true, false),
];

/// Whether `destination` is a citizen's (the applicant's or the submitter's) email or SMS.
fn to_citizen(destination: &str) -> bool {
    CITIZEN_DESTINATIONS.iter().any(|(d, ..)| *d == destination)
}

/// The address a citizen destination sends to for dossier `d` (empty when that person
/// gave none, `None` when it is no citizen destination or nobody filed for the applicant),
/// and whether it is an email address.
fn citizen_address<'a>(d: &'a motcua_core::lifecycle::Dossier, destination: &str) -> Option<(&'a str, bool)> {
    let &(_, submitter, email) = CITIZEN_DESTINATIONS.iter().find(|(x, ..)| *x == destination)?;
    let person = if submitter { d.submitter.as_ref()? } else { &d.applicant };
    Some((if email { &person.email } else { &person.phone }, email))
}

/// Destination of a queue ticket's SMS (the number given on the portal).
pub const TICKET_SMS: &str = "sms:ticket";
/// Destination of a queue ticket's email.
pub const TICKET_EMAIL: &str = "email:ticket";

/// Destination of the national portal sync.
pub const PORTAL: &str = "portal";
/// Prefix of a webhook subscription's destination (`webhook:<id>`).
pub const WEBHOOK_PREFIX: &str = "webhook:";
/// The header that carries a webhook's signature: `sha256=<hex HMAC-SHA256>` of the
/// timestamp, a dot and the body ([`signature`]).
pub const SIGNATURE_HEADER: &str = "x-motcua-signature";
/// The header that carries when a webhook attempt was signed, in Unix seconds: covered by
/// the signature, so a receiver can refuse an old message replayed ([`verify`]).
pub const TIMESTAMP_HEADER: &str = "x-motcua-timestamp";
/// The header that carries the event id, the same on every attempt, so a receiver can
/// recognise a repeat.
pub const EVENT_ID_HEADER: &str = "x-motcua-event-id";
/// The header that carries the event's kind.
pub const EVENT_KIND_HEADER: &str = "x-motcua-event";

/// The notice that carries the applicant's rating code ("result ready"; docs/rules.md §6).
pub const RATING_CODE_KIND: &str = "dossier.finish";

fn new_rating_code() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut random = [0u8; 8];
    OsRng.fill_bytes(&mut random);
    motcua_core::evaluation::rating_code(random)
}

/// The changes the applicant is told about (docs/rules.md §3): acceptance, supplement
/// requests (at reception and during handling), financial obligations, payment
/// received, apology with a new date, result ready, result returned.
pub const NOTIFIED_KINDS: &[&str] = &[
    "dossier.accept",
    "dossier.request-completion",
    "dossier.request-supplement",
    "dossier.request-payment",
    "dossier.confirm-payment",
    "dossier.apologise",
    "dossier.finish",
    "dossier.return",
];

/// Events planned per transaction.
const PLAN_BATCH: i64 = 500;
/// Deliveries claimed (and sent concurrently) per round.
const CLAIM_BATCH: i64 = 16;

/// Why one attempt failed. The text is for operators: it names hosts, never secrets,
/// and masks personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// What went wrong.
    pub message: String,
    /// Retrying cannot help (the subscription was deleted, the dossier is gone): the
    /// delivery is dead at once.
    pub permanent: bool,
}

impl SendError {
    fn retry(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }

    fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

impl From<motcua_store::StoreError> for SendError {
    fn from(e: motcua_store::StoreError) -> Self {
        SendError::retry(format!("database: {e}"))
    }
}

impl From<NotifyError> for SendError {
    fn from(e: NotifyError) -> Self {
        SendError::retry(e.to_string())
    }
}

/// The wait after the `attempts`-th failed attempt: `base × 2^(attempts−1)`, at most `max`.
pub fn backoff(base: Duration, max: Duration, attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
    base.saturating_mul(factor).min(max)
}

fn webhook_mac(secret: &str, timestamp: i64, body: &[u8]) -> Option<Hmac<Sha256>> {
    // HMAC takes keys of every length, so `None` never happens in practice.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// `sha256=<hex>`: the HMAC-SHA256, under `secret`, of `timestamp` (Unix seconds, in
/// decimal), a dot and `body`, as the signature header carries it. Signing the time with
/// the body lets a receiver refuse a genuine message replayed later ([`verify`]).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // An empty signature would be refused by any receiver rather than pass.
    webhook_mac(secret, timestamp, body).map_or_else(String::new, |mac| {
        format!("sha256={}", crate::auth::hex_encode(mac.finalize().into_bytes()))
    })
}

/// What a receiver checks, in this order (docs/operations.md, webhooks): the timestamp
/// header is a number within `tolerance` seconds of `now` (Unix seconds), and the
/// signature header is `sha256=` and the HMAC of that timestamp and `body`, compared in
/// constant time. Then it reads the event from the body only, and drops an `event_id`
/// it has seen. motcua's own tests verify with it; receivers can port it.
pub fn verify(secret: &str, timestamp: &str, signature: &str, body: &[u8], now: i64, tolerance: i64) -> bool {
    let Ok(t) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - t).abs() > tolerance {
        return false;
    }
    let Some(hex_mac) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(given) = hex::decode(hex_mac) else {
        return false;
    };
    webhook_mac(secret, t, body).is_some_and(|mac| mac.verify_slice(&given).is_ok())
}

/// A running worker; [`WorkerHandle::stop`] ends it cleanly.
#[derive(Debug)]
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    id: String,
}

impl WorkerHandle {
    /// Asks the worker to stop and waits until it has: sends in flight finish (each is
    /// cut off at half the lease), nothing new is claimed.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "delivery worker ended abnormally");
        }
        tracing::info!(worker = %self.id, "delivery worker stopped");
    }

    /// Kills the worker where it stands, as a crash would (tests use it: what it had
    /// claimed stays claimed until the lease expires).
    pub fn abort(&self) {
        self.task.abort();
    }

    /// The worker's name, as `claimed_by` records it.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Delivers outbox events. One per process is enough; several processes on one
/// PostgreSQL share the work without taking the same delivery twice.
pub struct Worker {
    state: AppState,
    id: String,
    mailer: Option<Mailer>,
    sms: Option<SmsSender>,
    http: reqwest::Client,
    portal: Option<portal::PortalClient>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker for `state`'s database and configuration. Fails when the email, SMS or
    /// portal settings cannot work.
    pub fn new(state: AppState) -> Result<Self, NotifyError> {
        let config = &state.config;
        let http = reqwest::Client::builder()
            .timeout(attempt_timeout(config))
            // A redirect would re-post a signed body (or the portal's credentials) to an
            // address nobody configured: a 3xx is a failed attempt, retried later.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| NotifyError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            mailer: Mailer::from_config(config)?,
            sms: SmsSender::from_config(config)?,
            portal: portal::PortalClient::from_config(config, http.clone()),
            http,
            id: format!("{}-{}", std::process::id(), crate::auth::random_token(6)),
            state,
        })
    }

    /// Starts the worker on the runtime.
    pub fn spawn(self) -> WorkerHandle {
        let (stop, stopped) = watch::channel(false);
        let id = self.id.clone();
        tracing::info!(worker = %id, "delivery worker started");
        let task = tokio::spawn(Arc::new(self).run(stopped));
        WorkerHandle { stop, task, id }
    }

    async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.state.config.outbox_poll_millis);
        loop {
            if *stopped.borrow() {
                return;
            }
            let busy = match self.round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery round failed; will retry");
                    0
                }
            };
            // A full batch means more may be due: go again at once.
            if busy < CLAIM_BATCH {
                tokio::select! {
                    () = tokio::time::sleep(poll) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
    }

    /// One round: plan new events, claim due deliveries, send them concurrently and
    /// record each outcome. Returns how many were claimed.
    pub async fn round(self: &Arc<Self>) -> Result<i64, motcua_store::StoreError> {
        while self.plan().await? == PLAN_BATCH {}
        let now = crate::now_ms();
        let lease = i64::try_from(self.state.config.outbox_lease_seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
        let mut tx = self.state.db.begin_write().await?;
        let claimed = outbox::claim(&mut tx, &self.id, now, now.saturating_add(lease), CLAIM_BATCH).await?;
        tx.commit().await?;
        let n = i64::try_from(claimed.len()).unwrap_or(i64::MAX);
        let mut sends = JoinSet::new();
        for d in claimed {
            let worker = Arc::clone(self);
            sends.spawn(async move { worker.deliver(d).await });
        }
        while let Some(done) = sends.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a delivery task failed");
            }
        }
        Ok(n)
    }

    /// Plans the oldest unplanned events: their deliveries and `planned_at`. Returns how
    /// many events it planned.
    ///
    /// On SQLite the events and what they need are read on a read connection (WAL readers
    /// neither wait for the writer nor hold it up), so the single write lock, which intake
    /// waits for, is held only for the two writes; planning an event twice is harmless
    /// (deliveries that exist are left, the mark is set again). PostgreSQL locks the events
    /// it plans against other nodes' planners (`SKIP LOCKED`), so it reads them in the
    /// writing transaction, which holds up nobody else's writes.
    async fn plan(&self) -> Result<i64, motcua_store::StoreError> {
        let db = &self.state.db;
        let (events, mut tx) = if db.backend() == motcua_store::Backend::Sqlite {
            let mut read = db.begin_read().await?;
            let events = self.destinations_of(&mut read, PLAN_BATCH).await?;
            drop(read);
            (events, db.begin_write().await?)
        } else {
            let mut tx = db.begin_write().await?;
            (self.destinations_of(&mut tx, PLAN_BATCH).await?, tx)
        };
        let now = crate::now_ms();
        // A rating code for each "result ready" notice that reaches the applicant's own
        // email or phone: its hash is kept with the dossier, the code itself rides with
        // those deliveries only (planned twice, the second code is never sent: harmless).
        let mut codes: HashMap<i64, String> = HashMap::new();
        for (e, to) in &events {
            let to_applicant = to.iter().any(|d| to_citizen(d));
            if e.kind == RATING_CODE_KIND
                && to_applicant
                && let Some(dossier) = e.dossier_code.as_deref()
            {
                let code = new_rating_code();
                let hash = motcua_core::evaluation::rating_code_hash(&code);
                if ratings::add_code(&mut tx, dossier, &hash, motcua_store::from_millis(now)).await? {
                    codes.insert(e.id, code);
                }
            }
        }
        let deliveries: Vec<NewDelivery<'_>> = events
            .iter()
            .flat_map(|(e, to)| {
                let code = codes.get(&e.id).map(String::as_str);
                to.iter().map(move |d| NewDelivery {
                    event: e,
                    destination: d,
                    secret: code.filter(|_| to_citizen(d)),
                })
            })
            .collect();
        outbox::add_deliveries(&mut tx, &deliveries, now).await?;
        let ids: Vec<i64> = events.iter().map(|(e, _)| e.id).collect();
        outbox::mark_planned(&mut tx, &ids, now).await?;
        tx.commit().await?;
        Ok(i64::try_from(events.len()).unwrap_or(i64::MAX))
    }

    /// The oldest `limit` unplanned events, each with where it goes. The subscriptions are
    /// read once per province.
    async fn destinations_of(
        &self,
        tx: &mut motcua_store::Tx,
        limit: i64,
    ) -> Result<Vec<(QueuedEvent, Vec<String>)>, motcua_store::StoreError> {
        let events = outbox::unplanned(tx, limit).await?;
        let mut subscriptions: HashMap<String, Vec<outbox::Subscription>> = HashMap::new();
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            if !subscriptions.contains_key(&e.province_code) {
                let of_province = outbox::subscriptions(tx, &e.province_code).await?;
                subscriptions.insert(e.province_code.clone(), of_province);
            }
            let of_province = subscriptions.get(&e.province_code).map_or(&[][..], Vec::as_slice);
            let to = self.destinations(tx, &e, of_province).await?;
            out.push((e, to));
        }
        Ok(out)
    }

    /// Where `e` goes: the portal for every dossier change, the applicant for the changes
    /// they are told about (by the channels they gave), and each webhook subscribed to it.
    async fn destinations(
        &self,
        tx: &mut motcua_store::Tx,
        e: &QueuedEvent,
        subscriptions: &[outbox::Subscription],
    ) -> Result<Vec<String>, motcua_store::StoreError> {
        let mut out = Vec::new();
        if e.kind == crate::service::queue::TURN_NEAR_KIND {
            // A person's own message: neither the portal nor webhooks hear of it.
            if self.state.config.notify_citizens
                && let Some(contact) = motcua_store::queue::contact(tx, ticket_of(e)).await?
            {
                if self.sms.is_some() && contact.phone.is_some() {
                    out.push(TICKET_SMS.to_owned());
                }
                if self.mailer.is_some() && contact.email.is_some() {
                    out.push(TICKET_EMAIL.to_owned());
                }
            }
            return Ok(out);
        }
        let about_dossier = e.kind.starts_with("dossier.") && e.dossier_code.is_some();
        if about_dossier && self.portal.is_some() {
            out.push(PORTAL.to_owned());
        }
        if about_dossier
            && self.state.config.notify_citizens
            && NOTIFIED_KINDS.contains(&e.kind.as_str())
            && (self.mailer.is_some() || self.sms.is_some())
            && let Some(code) = e.dossier_code.as_deref().and_then(|c| DossierCode::parse(c).ok())
            && let Some(stored) = dossiers::by_code(tx, &code).await?
        {
            for (destination, ..) in CITIZEN_DESTINATIONS {
                let reachable = match citizen_address(&stored.dossier, destination) {
                    Some((address, true)) => self.mailer.is_some() && !address.is_empty(),
                    Some((address, false)) => self.sms.is_some() && !address.is_empty(),
                    None => false,
                };
                if reachable {
                    out.push(destination.to_owned());
                }
            }
        }
        for s in subscriptions {
            if s.wants(&e.kind) {
                out.push(format!("{WEBHOOK_PREFIX}{}", s.id));
            }
        }
        Ok(out)
    }

    /// Sends one claimed delivery and records the outcome.
    async fn deliver(&self, d: Delivery) {
        let config = &self.state.config;
        let max = i64::from(config.outbox_max_attempts);
        let result = if d.attempts > max {
            // Claimed again after its last attempt's worker died: give up like any other.
            Err(SendError::retry(format!(
                "no outcome recorded for the last attempt (the worker stopped mid-send); {} attempts",
                d.attempts - 1
            )))
        } else {
            match tokio::time::timeout(attempt_timeout(config), self.send(&d)).await {
                Ok(r) => r,
                Err(_) => Err(SendError::retry("timed out")),
            }
        };
        let now = crate::now_ms();
        let outcome = match &result {
            Ok(()) => "delivered",
            Err(e) if e.permanent || d.attempts >= max => "dead",
            Err(_) => "retry",
        };
        let recorded = async {
            let mut tx = self.state.db.begin_write().await?;
            match &result {
                Ok(()) => {
                    outbox::delivered(&mut tx, d.id, &self.id, now).await?;
                }
                Err(e) => {
                    let retry_at = (outcome == "retry").then(|| {
                        let wait = backoff(
                            Duration::from_secs(config.outbox_backoff_seconds),
                            Duration::from_secs(config.outbox_backoff_max_seconds),
                            u32::try_from(d.attempts).unwrap_or(u32::MAX),
                        );
                        now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX))
                    });
                    outbox::failed(&mut tx, d.id, &self.id, now, &e.message, retry_at).await?;
                }
            }
            if outcome != "retry" {
                outbox::settle_event(&mut tx, d.event_id, now).await?;
            }
            tx.commit().await
        }
        .await;
        let destination = metric_destination(&d.destination);
        metrics::counter!("outbox_attempts_total", "destination" => destination, "outcome" => outcome).increment(1);
        match (&result, recorded) {
            (_, Err(e)) => {
                // The lease expires and the delivery is tried again: at least once.
                tracing::warn!(delivery = d.id, error = %e, "delivery outcome not recorded; it will be retried");
            }
            (Ok(()), Ok(())) => {
                tracing::info!(delivery = d.id, event = d.event_id, destination = %d.destination, kind = %d.kind, "delivered");
            }
            (Err(e), Ok(())) => {
                tracing::warn!(delivery = d.id, event = d.event_id, destination = %d.destination, attempts = d.attempts,
                    outcome, error = %e.message, "delivery failed");
            }
        }
    }

    async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let mut tx = self.state.db.begin_read().await?;
        let event = outbox::event(&mut tx, d.event_id)
            .await?
            .ok_or_else(|| SendError::permanent("the event no longer exists"))?;
        let payload: serde_json::Value =
            serde_json::from_str(&event.payload).map_err(|e| SendError::permanent(format!("event payload: {e}")))?;
        match d.destination.as_str() {
            PORTAL => {
                let body = portal::payload(&mut tx, &event, &payload).await?;
                drop(tx);
                let client = self
                    .portal
                    .as_ref()
                    .ok_or_else(|| SendError::retry("portal sync is not configured (portal_url)"))?;
                client.send(&event, &body).await
            }
            TICKET_SMS | TICKET_EMAIL => {
                let id = ticket_of(&event);
                let contact = motcua_store::queue::contact(&mut tx, id).await?.unwrap_or_default();
                let ticket = motcua_store::queue::ticket(&mut tx, id)
                    .await?
                    .ok_or_else(|| SendError::permanent("the ticket no longer exists"))?;
                let group = motcua_store::queue::group(&mut tx, ticket.group_id)
                    .await?
                    .map(|g| g.name)
                    .unwrap_or_default();
                let province = motcua_core::codes::ProvinceCode::parse(&ticket.province_code)
                    .map_err(|e| SendError::permanent(e.to_string()))?;
                let centre = motcua_store::catalogue::agencies(&mut tx, &province)
                    .await?
                    .into_iter()
                    .find(|a| a.code.as_str() == ticket.centre_code)
                    .map(|a| a.name)
                    .unwrap_or_default();
                drop(tx);
                let ahead = payload["ahead"].as_i64().unwrap_or(motcua_core::queue::NOTIFY_AHEAD);
                let page = format!(
                    "{}{}{}",
                    self.state.config.public_base(),
                    crate::service::queue::TICKET_PAGE,
                    ticket.public_token
                );
                let message = messages::Message::for_ticket(&ticket.number, &group, &centre, ahead, &page);
                if d.destination == TICKET_SMS {
                    let sms = self
                        .sms
                        .as_ref()
                        .ok_or_else(|| SendError::retry("SMS is not configured (sms_url)"))?;
                    // Erased once the ticket was finished or its day ended: nothing to send.
                    let phone = contact
                        .phone
                        .ok_or_else(|| SendError::permanent("the ticket's phone number was erased"))?;
                    sms.send(&phone, &message.sms).await?;
                } else {
                    let mailer = self
                        .mailer
                        .as_ref()
                        .ok_or_else(|| SendError::retry("email is not configured (smtp_host)"))?;
                    let email = contact
                        .email
                        .ok_or_else(|| SendError::permanent("the ticket's email address was erased"))?;
                    mailer.send(&message.email(&email)).await?;
                }
                Ok(())
            }
            citizen if to_citizen(citizen) => {
                let stored = load_dossier(&mut tx, &event).await?;
                let rating_code = outbox::secret_of(&mut tx, d.id).await?;
                drop(tx);
                let config = &self.state.config;
                let message =
                    messages::Message::for_event(&event.kind, &stored, &payload, config, rating_code.as_deref())
                        .ok_or_else(|| SendError::permanent(format!("no message for {}", event.kind)))?;
                let (address, email) = citizen_address(&stored, citizen)
                    .ok_or_else(|| SendError::permanent("nobody filed the dossier for the applicant"))?;
                if email {
                    let mailer = self
                        .mailer
                        .as_ref()
                        .ok_or_else(|| SendError::retry("email is not configured (smtp_host)"))?;
                    if address.is_empty() {
                        return Err(SendError::permanent("no email address was given"));
                    }
                    mailer.send(&message.email(address)).await?;
                } else {
                    let sms = self
                        .sms
                        .as_ref()
                        .ok_or_else(|| SendError::retry("SMS is not configured (sms_url)"))?;
                    if address.is_empty() {
                        return Err(SendError::permanent("no phone number was given"));
                    }
                    sms.send(address, &message.sms).await?;
                }
                Ok(())
            }
            other => {
                let id = other
                    .strip_prefix(WEBHOOK_PREFIX)
                    .and_then(|id| id.parse::<i64>().ok())
                    .ok_or_else(|| SendError::permanent(format!("unknown destination «{other}»")))?;
                let subscription = outbox::subscription(&mut tx, id)
                    .await?
                    .filter(|s| s.deleted_at.is_none())
                    .ok_or_else(|| SendError::permanent("the webhook subscription was deleted"))?;
                drop(tx);
                self.webhook(&subscription, &event, payload).await
            }
        }
    }

    async fn webhook(
        &self,
        s: &outbox::Subscription,
        event: &QueuedEvent,
        payload: serde_json::Value,
    ) -> Result<(), SendError> {
        let body = serde_json::to_vec(&serde_json::json!({
            "event_id": event.id,
            "kind": event.kind,
            "province": event.province_code,
            "dossier_code": event.dossier_code,
            "created_at": rfc3339_ms(event.created_at),
            "data": payload,
        }))
        .map_err(|e| SendError::permanent(format!("webhook body: {e}")))?;
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let request = self
            .http
            .post(&s.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature(&s.secret, timestamp, &body))
            .header(EVENT_ID_HEADER, event.id.to_string())
            .header(EVENT_KIND_HEADER, &event.kind)
            .body(body);
        post(request, &s.url, "").await
    }
}

/// Sends `request` to `url` (named `what` and its host in errors): delivered on any 2xx
/// answer; a failure to connect or any other answer is tried again later.
async fn post(request: reqwest::RequestBuilder, url: &str, what: &str) -> Result<(), SendError> {
    let host = crate::notify::url_host(url);
    let response = request
        .send()
        .await
        .map_err(|e| SendError::retry(format!("{host}: {}", http_failure(&e))))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(SendError::retry(format!("{what}{host} answered {status}")))
    }
}

/// The queue ticket a `queue.turn-near` event is about (its payload's `ticket`; 0, which
/// names no ticket, when missing).
fn ticket_of(e: &QueuedEvent) -> i64 {
    serde_json::from_str::<serde_json::Value>(&e.payload)
        .ok()
        .and_then(|v| v["ticket"].as_i64())
        .unwrap_or(0)
}

/// The dossier an event is about, as it is now (for contact details and notices; the
/// payload deliberately carries no personal data).
async fn load_dossier(
    tx: &mut motcua_store::Tx,
    event: &QueuedEvent,
) -> Result<motcua_core::lifecycle::Dossier, SendError> {
    let code = event
        .dossier_code
        .as_deref()
        .and_then(|c| DossierCode::parse(c).ok())
        .ok_or_else(|| SendError::permanent("the event names no dossier"))?;
    Ok(dossiers::by_code(tx, &code)
        .await?
        .ok_or_else(|| SendError::permanent(format!("dossier {code} not found")))?
        .dossier)
}

/// One attempt's limit: half the lease, at most 15 s, so a live worker always records
/// its outcome before another may take the delivery over.
fn attempt_timeout(config: &crate::Config) -> Duration {
    Duration::from_millis(config.outbox_lease_seconds.saturating_mul(500)).min(Duration::from_secs(15))
}

/// The destination as a metric label: `webhook` for every subscription (ids would grow
/// the label set without bound).
fn metric_destination(destination: &str) -> &'static str {
    match destination {
        EMAIL | SUBMITTER_EMAIL | TICKET_EMAIL => EMAIL,
        SMS | SUBMITTER_SMS | TICKET_SMS => SMS,
        PORTAL => PORTAL,
        _ => "webhook",
    }
}

/// What went wrong with an HTTP request, without the URL (which may hold a key).
pub(crate) fn http_failure(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    }
}

/// An instant in epoch milliseconds as RFC 3339 in Vietnam time.
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    motcua_store::from_millis(ms)
        .to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Sets the delivery gauges of `/metrics` from the database: deliveries pending, failed
/// (waiting for another attempt) and dead, over all provinces.
pub async fn record_gauges(state: &AppState) {
    let counts = async {
        let mut tx = state.db.begin_read().await?;
        outbox::counts(&mut tx, None).await
    }
    .await;
    match counts {
        Ok((pending, failed, dead)) => {
            for (label, n) in [("pending", pending), ("failed", failed), ("dead", dead)] {
                metrics::gauge!("outbox_deliveries", "state" => label).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "delivery counts unavailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(3600);
        let waits: Vec<u64> = (1..=12).map(|a| backoff(base, max, a).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
        assert_eq!(backoff(base, max, u32::MAX), max, "no overflow");
        assert_eq!(backoff(base, max, 0), base);
    }

    #[test]
    fn signatures_verify_and_change_with_time_body_and_key() {
        let body = br#"{"event_id":1}"#;
        let t = 1_800_000_000;
        let good = signature("khoa", t, body);
        // The HMAC of the bytes "1800000000.{body}", computed as a receiver would.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"khoa").expect("key");
        mac.update(br#"1800000000.{"event_id":1}"#);
        assert_eq!(good, format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
        assert!(verify("khoa", &t.to_string(), &good, body, t + 10, 300));
        // Replayed later than the tolerance, or with its time moved: refused.
        assert!(!verify("khoa", &t.to_string(), &good, body, t + 301, 300));
        assert!(!verify("khoa", &(t + 290).to_string(), &good, body, t + 301, 300));
        // Another body, key or a mangled header: refused.
        assert!(!verify("khoa", &t.to_string(), &good, br#"{"event_id":2}"#, t, 300));
        assert!(!verify("khac", &t.to_string(), &good, body, t, 300));
        assert!(!verify("khoa", &t.to_string(), &good[7..], body, t, 300));
        assert!(!verify("khoa", "soon", &good, body, t, 300));
        assert_ne!(signature("khoa", t + 1, body), good);
    }
}
