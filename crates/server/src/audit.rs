//! Writing the audit trail from handlers: one record per state change, in the same
//! transaction as the change.

use motcua_store::Tx;
use motcua_store::audit::{self, NewAuditRecord};
use motcua_store::batch::{BatchTx, JobFuture};
use serde_json::Value;
use time::OffsetDateTime;

use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// Chain used for account and system events, which belong to no single province.
pub const SYSTEM_CHAIN: &str = "system";

/// Who acted, as the audit trail names them.
pub struct Actor<'a> {
    /// Account id, `token:<id>`, `anonymous` or `system`.
    pub id: String,
    /// Readable name.
    pub name: String,
    /// Client address.
    pub ip: &'a str,
}

/// An [`Actor`] holding its own address: what a job of the group commit (which outlives
/// the request's borrow) carries to write its audit record.
#[derive(Debug, Clone)]
pub struct OwnedActor {
    id: String,
    name: String,
    ip: String,
}

impl OwnedActor {
    /// The authenticated caller.
    pub fn of(p: &Principal) -> Self {
        Self {
            id: p.actor(),
            name: p.actor_name(),
            ip: p.ip.clone(),
        }
    }

    /// As the audit trail takes it.
    pub fn actor(&self) -> Actor<'_> {
        Actor {
            id: self.id.clone(),
            name: self.name.clone(),
            ip: &self.ip,
        }
    }
}

impl<'a> Actor<'a> {
    /// The authenticated caller.
    pub fn of(p: &'a Principal) -> Self {
        Self {
            id: p.actor(),
            name: p.actor_name(),
            ip: &p.ip,
        }
    }

    /// The system itself (first start, demo loading).
    pub fn system() -> Self {
        Self {
            id: "system".to_owned(),
            name: "Hệ thống".to_owned(),
            ip: "",
        }
    }
}

/// What happened to what.
pub struct Event<'a> {
    /// Dotted action name, e.g. `procedure.update`.
    pub action: &'a str,
    /// Kind of object, e.g. `procedure`.
    pub object_type: &'a str,
    /// Its identifier.
    pub object_id: &'a str,
    /// The province it belongs to; also selects the chain.
    pub province: Option<&'a str>,
    /// State before, where it matters.
    pub before: Option<Value>,
    /// State after, where it matters.
    pub after: Option<Value>,
}

impl<'a> Event<'a> {
    /// `action` on the account `user`, with nothing more to say than that it happened
    /// (a login, a password change or reset, an unlock), in the account's province chain.
    pub fn about_user(action: &'a str, user: &'a motcua_store::accounts::User) -> Self {
        Event {
            action,
            object_type: "user",
            object_id: &user.id,
            province: user.province.as_deref(),
            before: None,
            after: None,
        }
    }
}

/// Records `event` by `p` as a job of its own in the group commit: for a use case whose
/// only write is its audit record (a download of personal data, an import that settled
/// through jobs of its own). The event is copied, since the job outlives the request.
pub async fn record_alone(state: &AppState, p: &Principal, event: Event<'_>) -> Result<(), AppError> {
    let actor = OwnedActor::of(p);
    let (action, object_type, object_id) = (
        event.action.to_owned(),
        event.object_type.to_owned(),
        event.object_id.to_owned(),
    );
    let province = event.province.map(str::to_owned);
    let (before, after) = (event.before, event.after);
    state
        .writes
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<(), AppError>> {
            Box::pin(async move {
                let event = Event {
                    action: &action,
                    object_type: &object_type,
                    object_id: &object_id,
                    province: province.as_deref(),
                    before,
                    after,
                };
                record_in_batch(b, &actor.actor(), event).await
            })
        })
        .await
}

/// Appends one record in `tx`. Province events go to the province's chain, others to
/// [`SYSTEM_CHAIN`].
pub async fn record(tx: &mut Tx, actor: &Actor<'_>, event: Event<'_>) -> Result<(), AppError> {
    audit::append(tx, &new_record(actor, &event), OffsetDateTime::now_utc()).await?;
    Ok(())
}

/// [`record`] in a job of a group commit (`motcua_store::batch`): the record is written
/// with the batch's others when it commits.
pub async fn record_in_batch(b: &mut BatchTx, actor: &Actor<'_>, event: Event<'_>) -> Result<(), AppError> {
    audit::append_in_batch(b, &new_record(actor, &event), OffsetDateTime::now_utc()).await?;
    Ok(())
}

fn new_record<'a>(actor: &'a Actor<'_>, event: &'a Event<'_>) -> NewAuditRecord<'a> {
    NewAuditRecord {
        chain: event.province.unwrap_or(SYSTEM_CHAIN),
        actor: &actor.id,
        actor_name: &actor.name,
        ip: actor.ip,
        action: event.action,
        object_type: event.object_type,
        object_id: event.object_id,
        province_code: event.province,
        before: event.before.as_ref(),
        after: event.after.as_ref(),
    }
}

/// Writes every chain's head now at the end of the anchor file `path` (see [`write_anchor`])
/// and returns the anchor. See [`motcua_store::audit::check_anchors`].
pub async fn anchor(
    db: &motcua_store::Db,
    path: &std::path::Path,
    at: OffsetDateTime,
) -> Result<motcua_core::audit::Anchor, AppError> {
    let anchor = motcua_core::audit::Anchor {
        at_ms: motcua_store::to_millis(at),
        heads: audit::heads(db).await?,
    };
    write_anchor(path, &anchor).await?;
    Ok(anchor)
}

/// Appends `anchor` as one line to the anchor file `path` (created with its directory if
/// missing), synced to disk before returning.
pub async fn write_anchor(path: &std::path::Path, anchor: &motcua_core::audit::Anchor) -> Result<(), AppError> {
    let mut line = anchor.to_line();
    line.push('\n');
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || append_line(&path, line.as_bytes()))
        .await
        .map_err(|e| AppError::Internal(format!("anchor writer stopped: {e}")))?
        .map_err(|e| AppError::Internal(format!("cannot write the audit anchor file: {e}")))
}

fn append_line(path: &std::path::Path, line: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // O_APPEND: one write of one line, so anchors written by several processes never
    // interleave within a line.
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(line)?;
    f.sync_all()
}

/// Reads every anchor of the anchor file `path`; `None` when there is no such file.
pub fn read_anchors(path: &std::path::Path) -> Result<Option<Vec<motcua_core::audit::Anchor>>, AppError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AppError::Internal(format!("cannot read {}: {e}", path.display()))),
    };
    motcua_core::audit::Anchor::parse_all(&text)
        .map(Some)
        .map_err(|e| AppError::Internal(format!("{}: {e}", path.display())))
}
