//! A dossier's history and its processing control sheet.

use motcua_core::dossier::{Action, Status, Timeliness};
use motcua_store::dossiers::{self, EventRecord};
use serde::Serialize;
use utoipa::ToSchema;

use super::directory::{Directory, directory};
use super::rfc3339;
use super::view::load_visible;
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// One row of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// 1, 2, … in order.
    pub seq: i64,
    /// When.
    pub at: String,
    /// `file`, or the action's name.
    pub action: String,
    /// What happened, in Vietnamese.
    pub label: String,
    /// Status before.
    pub from_status: Option<u8>,
    /// Status after.
    pub to_status: u8,
    /// Who acted.
    pub actor: String,
    /// For which agency.
    pub agency: String,
    /// What they wrote.
    pub note: String,
}

/// One row of the processing control sheet (a hand-over and the step it started).
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlRow {
    /// The agency that handed over.
    pub from_agency: String,
    /// Who handed over.
    pub giver: String,
    /// The agency that received.
    pub to_agency: String,
    /// Its name.
    pub to_agency_name: String,
    /// Who received, when a person was named.
    pub receiver: Option<String>,
    /// When it was handed over (and received).
    pub handed_at: String,
    /// When the step that started is due.
    pub due_at: Option<String>,
    /// When the step ended (the next hand-over), if it has.
    pub finished_at: Option<String>,
    /// How the step finished against its budget.
    pub result: Option<Timeliness>,
    /// `Trước hạn`, `Đúng hạn`, `Quá hạn`.
    pub result_label: Option<&'static str>,
    /// The note of the hand-over.
    pub note: String,
}

/// A dossier's history and control sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The dossier's code.
    pub code: String,
    /// Every action, oldest first.
    pub events: Vec<HistoryEntry>,
    /// The processing control sheet (docs/rules.md §3, form 06).
    pub control_sheet: Vec<ControlRow>,
}

/// The Vietnamese label of a history row's action (`file` or an action's name).
pub fn action_label(name: &str) -> String {
    if name == "file" {
        "Nộp hồ sơ".to_owned()
    } else {
        Action::from_name(name).map_or_else(|| name.to_owned(), |a| a.label().to_owned())
    }
}

/// The control sheet from the history: each hand-over starts a step; the next hand-over
/// (or the return of the result) ends it and says how it finished.
pub fn control_sheet(events: &[EventRecord], dir: &Directory) -> Vec<ControlRow> {
    let mut rows: Vec<ControlRow> = Vec::new();
    for e in events {
        let ends_step = e.to_agency.is_some() && e.action != Action::Accept.name() || e.action == Action::Return.name();
        if ends_step && let Some(last) = rows.last_mut() {
            last.finished_at = Some(rfc3339(e.at));
            last.result = e.closed_step;
            last.result_label = e.closed_step.map(Timeliness::label);
        }
        if let Some(to) = &e.to_agency {
            rows.push(ControlRow {
                from_agency: e.agency.clone(),
                giver: e.actor.name.clone(),
                to_agency: to.clone(),
                to_agency_name: dir.name(to),
                receiver: e.to_user.as_ref().map(|u| u.name.clone()),
                handed_at: rfc3339(e.at),
                due_at: e.step_due_at.map(rfc3339),
                finished_at: None,
                result: None,
                result_label: None,
                note: e.note.clone(),
            });
        }
    }
    rows
}

/// Every action on dossier `code` and its processing control sheet.
pub async fn history(state: &AppState, p: &Principal, code: &str) -> Result<History, AppError> {
    let (stored, _) = load_visible(state, p, code).await?;
    let mut tx = state.db.begin_read().await?;
    let events = dossiers::events(&mut tx, stored.id).await?;
    drop(tx);
    let dir = directory(state, &stored.dossier.province).await?;
    Ok(History {
        code: stored.dossier.code.as_str().to_owned(),
        control_sheet: control_sheet(&events, &dir),
        events: events
            .into_iter()
            .map(|e| HistoryEntry {
                seq: e.seq,
                at: rfc3339(e.at),
                label: action_label(&e.action),
                action: e.action,
                from_status: e.from_status.map(Status::code),
                to_status: e.to_status.code(),
                actor: e.actor.name,
                agency: e.agency,
                note: e.note,
            })
            .collect(),
    })
}
