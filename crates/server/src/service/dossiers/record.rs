//! The one path every change of a dossier takes: the row saved against its version, a
//! history row, an audit record in the province's chain and an outbox event, in one
//! transaction.

use motcua_core::codes::AgencyCode;
use motcua_core::dossier::{Status, Timeliness};
use motcua_core::lifecycle::{self, ActionInput, Context, Dossier, Person, Transition};
use motcua_store::batch::{BatchTx, RowId};
use motcua_store::dossiers::{self, EventRecord};
use motcua_store::outbox::{self, NewEvent};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::rfc3339;
use crate::audit::{self, Actor, Event};
use crate::error::AppError;

/// The event payload written to the outbox for every change: what the national portal
/// sync and the notifications need to know (docs/rules.md §3), without reading back.
fn outbox_payload(d: &Dossier, action: &str, at: OffsetDateTime) -> Value {
    json!({
        "code": d.code,
        "province": d.province,
        "procedure": d.procedure,
        "procedure_name": d.procedure_name,
        "field": d.field,
        "channel": d.channel.code(),
        "applicant_kind": d.applicant.kind,
        "action": action,
        "status_code": d.status.code(),
        "at": rfc3339(at),
        "received_at": d.received_at.map(rfc3339),
        "due_at": d.due_at.map(rfc3339),
        "finished_at": d.finished_at.map(rfc3339),
        "returned_at": d.returned_at.map(rfc3339),
        "current_agency": d.current_agency,
        "version": d.version,
    })
}

/// Who did something to a dossier, for which agency, from where and when.
pub(super) struct By<'a> {
    pub(super) actor: &'a Person,
    pub(super) agency: &'a AgencyCode,
    pub(super) ip: &'a str,
    pub(super) now: OffsetDateTime,
}

/// One step of a dossier's life to record: the filing (`from` = `None`) or a transition.
pub(super) struct Step<'a> {
    pub(super) action: &'a str,
    pub(super) from: Option<Status>,
    pub(super) to: Status,
    pub(super) handover: Option<&'a lifecycle::Handover>,
    pub(super) closed_step: Option<Timeliness>,
    pub(super) note: &'a str,
}

impl<'a> Step<'a> {
    pub(super) fn of(t: &'a Transition) -> Self {
        Self {
            action: t.action.name(),
            from: Some(t.from),
            to: t.to,
            handover: t.handover.as_ref(),
            closed_step: t.closed_step,
            note: &t.note,
        }
    }
}

/// Records one step of dossier `id` (already in state `d`): history row, audit record in
/// the province's chain, outbox event.
pub(super) async fn record(
    b: &mut BatchTx,
    id: impl Into<RowId>,
    d: &Dossier,
    step: Step<'_>,
    by: &By<'_>,
) -> Result<(), AppError> {
    let handover = step.handover;
    dossiers::append_event(
        b,
        id,
        &EventRecord {
            seq: 0,
            at: by.now,
            action: step.action.to_owned(),
            from_status: step.from,
            to_status: step.to,
            actor: by.actor.clone(),
            agency: by.agency.as_str().to_owned(),
            to_agency: handover.map(|h| h.to_agency.as_str().to_owned()),
            to_user: handover.and_then(|h| h.to_person.clone()),
            step_due_at: handover.and_then(|h| h.step_due),
            closed_step: step.closed_step,
            note: step.note.to_owned(),
        },
    )
    .await?;
    let kind = format!("dossier.{}", step.action);
    audit::record_in_batch(
        b,
        &Actor {
            id: by.actor.id.clone(),
            name: by.actor.name.clone(),
            ip: by.ip,
        },
        Event {
            action: &kind,
            object_type: "dossier",
            object_id: d.code.as_str(),
            province: Some(d.province.as_str()),
            before: step.from.map(|s| json!({ "status": s.code() })),
            after: Some(json!({ "status": step.to.code(), "version": d.version, "note": step.note })),
        },
    )
    .await?;
    outbox::queue(
        b,
        &NewEvent {
            province: d.province.as_str(),
            dossier_code: Some(d.code.as_str()),
            kind: &kind,
            payload: &outbox_payload(d, step.action, by.now),
        },
        by.now,
    )?;
    Ok(())
}

/// Applies `input` to dossier `id` (as read in the batch `b`) and records it: saved
/// against its version, history row, audit record and outbox event, all in the job's
/// share of the group commit. The one path every
/// transition takes, whether a person acts through [`super::act`] or a payment
/// gateway's notification confirms a payment (`crate::service::payments`). Callers clear the dossier's
/// tracking cache entry (`state.tracking_cache.forget`) once the transaction commits.
pub async fn transition(
    b: &mut BatchTx,
    id: i64,
    dossier: &mut Dossier,
    input: ActionInput,
    ctx: &Context<'_>,
    ip: &str,
) -> Result<Transition, AppError> {
    let before = dossier.clone();
    let t = lifecycle::apply(dossier, input, ctx).map_err(|r| AppError::Refused(r.0))?;
    dossiers::save(b, id, &before, dossier, before.version).await?;
    let by = By {
        actor: &ctx.actor,
        agency: &ctx.agency,
        ip,
        now: ctx.now,
    };
    record(b, id, dossier, Step::of(&t), &by).await?;
    Ok(t)
}
