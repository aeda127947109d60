//! Dossiers: intake at the counter and online, work lists, the lifecycle actions, the
//! history with the processing control sheet, and public tracking.
//!
//! Every change is one write transaction holding the dossier, its history row, one
//! audit record (the province's chain) and one outbox event ([`record`]).

pub mod actions;
pub mod directory;
pub mod history;
pub mod intake;
pub mod reception;
pub mod record;
pub mod reissue;
mod results;
pub mod tracking;
pub mod view;
pub mod work_list;

use motcua_core::dossier::{DelayRules, DossierCode};
use motcua_core::lifecycle::Person;
use motcua_store::accounts::UserKind;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use actions::{ActionRequest, act};
pub use directory::{Directory, Procedures, directory};
pub use history::{ControlRow, History, HistoryEntry, action_label, control_sheet, history};
pub use intake::{DocumentInput, NewDossier, file};
pub use record::transition;
pub use reissue::{Reissue, ReissuedForm, reissue};
pub use tracking::{TrackStep, Tracking, tracking, tracking_miss};
pub use view::{DossierView, FileView, audit_view, get, load_visible, reads_own, view};
pub use work_list::{
    DossierLine, DossierPage, WorkListQuery, WorkListRequest, due_filter, list, soon_after, work_list_filter,
};

use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn person_of(p: &Principal) -> Person {
    Person {
        id: p.actor(),
        name: p
            .user
            .as_ref()
            .map_or_else(|| p.actor_name(), |u| u.display_name.clone()),
    }
}

pub(crate) fn user_id(p: &Principal) -> Option<&str> {
    p.user.as_ref().map(|u| u.id.as_str())
}

fn is_citizen(p: &Principal) -> bool {
    p.user.as_ref().is_some_and(|u| u.kind == UserKind::Citizen)
}

fn parse_code(code: &str) -> Result<DossierCode, AppError> {
    DossierCode::parse(code).map_err(|e| AppError::code("code", e))
}

fn not_found(code: &str) -> AppError {
    AppError::NotFound(format!("Không tìm thấy hồ sơ {code}."))
}

pub(crate) fn delay_rules(state: &AppState) -> DelayRules {
    DelayRules {
        min_notice_working_days: state.config.delay_min_notice_working_days,
        max_extensions: state.config.delay_max_extensions,
        max_wait_working_days: state.config.supplement_wait_working_days,
    }
}
