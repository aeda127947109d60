//! The department desks: the staff dossier page every staff role opens (`/ho-so/{code}`:
//! what the dossier holds, its notices, forms, history and control sheet, and one form per
//! action the viewer may take now) and the department work list (`/xu-ly`).
//!
//! Helpers other areas may reuse: [`due_badge`] (the due-state badge of a dossier, on the
//! province calendar) and [`at_text`] (an RFC 3339 instant of an API view, in Vietnam time).

use axum::Router;
use axum::routing::{get, post};
use motcua_core::catalogue::AgencyKind;
use motcua_core::dossier::Timeliness;
use motcua_core::lifecycle::Dossier;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::service::dossiers::Directory;
use crate::state::AppState;

mod dossier;
mod work_list;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ho-so/{code}", get(dossier::show))
        .route("/ho-so/{code}/cap-lai-van-ban", post(dossier::reissue_submit))
        .route("/xu-ly", get(work_list::show))
}

/// A badge: CSS class and text (the text always says what the colour means).
#[derive(Debug, Clone)]
pub struct Badge {
    /// `due-ok`, `due-soon`, `due-late` or `status`.
    pub class: &'static str,
    /// What it says.
    pub label: &'static str,
}

/// How a dossier stands against its appointment (`motcua_core::deadline::standing`): for
/// one whose clock runs, on time / due soon (`soon` from `deadline::soon_limit`) /
/// overdue; for a finished one, how it finished; while the clock stands still, that it is
/// paused.
pub fn due_badge(d: &Dossier, now: OffsetDateTime, soon: OffsetDateTime) -> Option<Badge> {
    use motcua_core::deadline::Standing;
    Some(match motcua_core::deadline::standing(d, now, soon)? {
        Standing::Finished(t) => Badge {
            class: if t == Timeliness::Late { "due-late" } else { "due-ok" },
            label: match t {
                Timeliness::Early => "Xong trước hạn",
                Timeliness::OnTime => "Xong đúng hạn",
                Timeliness::Late => "Xong quá hạn",
            },
        },
        Standing::Paused => Badge {
            class: "status",
            label: "Tạm dừng tính thời gian",
        },
        Standing::Running(state) => {
            let (class, label) = super::due_state(state);
            Badge { class, label }
        }
    })
}

/// A choice of a select.
struct Choice {
    value: String,
    label: String,
}

/// The agencies of `dir` that `keep` lets through (by code and kind), as choices.
fn agency_choices(dir: &Directory, keep: impl Fn(&str, AgencyKind) -> bool) -> Vec<Choice> {
    dir.agencies
        .iter()
        .filter(|(code, (_, kind))| keep(code, *kind))
        .map(|(code, (name, _))| Choice {
            value: code.clone(),
            label: name.clone(),
        })
        .collect()
}

/// An RFC 3339 instant (as the API views carry them) as `dd/mm/yyyy HH:MM`, Vietnam time.
pub fn at_text(s: &str) -> String {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(super::when)
        .unwrap_or_else(|_| s.to_owned())
}

/// Vietnamese name of a channel.
pub fn channel_label(c: motcua_core::dossier::Channel) -> &'static str {
    match c {
        motcua_core::dossier::Channel::Counter => "Trực tiếp tại Bộ phận Một cửa",
        motcua_core::dossier::Channel::Online => "Trực tuyến",
        motcua_core::dossier::Channel::Post => "Qua dịch vụ bưu chính",
    }
}
