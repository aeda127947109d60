//! `GET /xu-ly`: the department work list.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use motcua_core::access::Role;
use motcua_core::catalogue::AgencyKind;
use motcua_core::codes::AgencyCode;
use motcua_core::dossier::Status;
use motcua_store::accounts;
use motcua_store::dossiers::{self, ListOrder};
use serde::Deserialize;

use super::{Badge, Choice, agency_choices, due_badge};
use crate::error::AppError;
use crate::service::dossiers::{self as api, WorkListQuery};
use crate::state::AppState;
use crate::web::pages::PageError;
use crate::web::{Frame, SignedIn, encode, page, require, when};

/// Rows per page.
const PAGE_SIZE: u32 = 30;

/// The filters, as the form sends them (every field may be empty).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// A status code, 1–10.
    #[serde(default)]
    status: String,
    /// `overdue` or `soon`.
    #[serde(default)]
    due: String,
    /// Leaders: `none` (waiting for assignment) or an account id.
    #[serde(default)]
    assignee: String,
    /// Officers: `all` for the whole department (default: mine and those waiting).
    #[serde(default)]
    scope: String,
    /// A procedure code.
    #[serde(default)]
    procedure: String,
    /// The director: the department to look at.
    #[serde(default)]
    agency: String,
    /// `due` for the earliest appointment first (default: newest first).
    #[serde(default)]
    order: String,
    /// Where the page starts (from "Trang sau").
    #[serde(default)]
    cursor: String,
}

struct Row {
    code: String,
    procedure: String,
    applicant: String,
    received: String,
    due: String,
    badge: Option<Badge>,
    /// A department handles it (with no assignee: waiting for assignment).
    is_being_handled: bool,
    status: String,
    assignee: String,
}

#[derive(Template)]
#[template(path = "desk/work_list.html")]
struct WorkListPage {
    frame: Frame,
    heading: String,
    q: ListQuery,
    officer: bool,
    director: bool,
    statuses: Vec<Choice>,
    staff: Vec<Choice>,
    procedures: Vec<Choice>,
    agencies: Vec<Choice>,
    rows: Vec<Row>,
    next: Option<String>,
    xlsx: String,
}

/// The query string of `pairs` (empty values left out).
fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn bad_cursor() -> AppError {
    AppError::bad("invalid_parameter", "cursor", "Vị trí trang không hợp lệ.")
}

/// `GET /xu-ly`: the dossiers of the viewer's department (officers: theirs and those
/// waiting for assignment, or the whole department; leaders: the whole department), or of
/// a department the centre's director picks.
pub async fn show(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let director = p.access.has_role_in(Role::CentreDirector, &province);
    let asked_agency = (!q.agency.trim().is_empty())
        .then(|| AgencyCode::parse(q.agency.trim()))
        .transpose()
        .map_err(|e| AppError::code("agency", e))?;
    // The department looked at: the one asked for, else the viewer's own.
    let own = p
        .access
        .grants()
        .iter()
        .find(|g| g.province == province && g.role.is_departmental())
        .map(|g| g.agency.clone());
    require(
        own.is_some() || director,
        "xem danh sách hồ sơ của sở, ngành (chỉ dành cho cán bộ, lãnh đạo sở, ngành và lãnh đạo Trung tâm)",
    )?;
    let agency = asked_agency.clone().or_else(|| own.clone());
    let holds = |role: Role| {
        agency.as_ref().is_some_and(|a| {
            p.access
                .grants()
                .iter()
                .any(|g| g.role == role && g.province == province && &g.agency == a)
        })
    };
    let leader = holds(Role::DepartmentLeader);
    let officer = !leader && holds(Role::DepartmentOfficer);
    // Officers: theirs and those waiting for assignment, or the whole department; leaders
    // and the director: everyone's, or one officer's.
    let assignee = match (officer, q.scope == "all") {
        (true, false) => "me,none".to_owned(),
        (true, true) => String::new(),
        (false, _) => q.assignee.trim().to_owned(),
    };
    let mut filter = api::work_list_filter(
        &state,
        &p,
        WorkListQuery {
            province: None,
            status: Some(q.status.trim()),
            agency: asked_agency.as_ref().map(AgencyCode::as_str),
            overdue: None,
            assignee: Some(&assignee),
            procedure: Some(q.procedure.trim()),
        },
    )
    .await?;
    api::due_filter(&state, &mut filter, Some(q.due.trim())).await?;
    filter.limit = PAGE_SIZE;
    let cursor = q.cursor.trim();
    if q.order == "due" {
        filter.order = ListOrder::DueFirst;
        if !cursor.is_empty() {
            let (at, id) = cursor.split_once('.').ok_or_else(bad_cursor)?;
            filter.after_due = Some((
                at.parse().map_err(|_| bad_cursor())?,
                id.parse().map_err(|_| bad_cursor())?,
            ));
        }
    } else if !cursor.is_empty() {
        filter.before_id = Some(cursor.parse().map_err(|_| bad_cursor())?);
    }
    let now = filter.now;
    let soon = api::soon_after(&state, &province, now).await?;
    let stored = {
        let mut tx = state.db.begin_read().await?;
        dossiers::list(&mut tx, &filter).await?
    };
    let next_cursor = (stored.len() == PAGE_SIZE as usize)
        .then(|| stored.last())
        .flatten()
        .map(|s| match filter.order {
            ListOrder::Newest => s.id.to_string(),
            ListOrder::DueFirst => {
                let (at, id) = dossiers::due_key(s);
                format!("{at}.{id}")
            }
        });
    let labels = crate::service::rules::now(&state).await?;
    let rows = stored
        .iter()
        .map(|s| {
            let d = &s.dossier;
            Row {
                code: d.code.as_str().to_owned(),
                procedure: d.procedure_name.clone(),
                applicant: d.applicant.name.clone(),
                received: d.received_at.map(when).unwrap_or_default(),
                due: d.due_at.map(when).unwrap_or_default(),
                badge: due_badge(d, now, soon),
                is_being_handled: d.status.is_being_handled(),
                status: labels.label(d.status),
                assignee: d.assignee.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let dir = api::directory(&state, &province).await?;
    let staff = match (&agency, officer) {
        (Some(a), false) => {
            let mut tx = state.db.begin_read().await?;
            accounts::staff_at(
                &mut tx,
                &province,
                a,
                &[Role::DepartmentOfficer, Role::DepartmentLeader],
            )
            .await?
            .into_iter()
            .map(|(u, _)| Choice {
                value: u.id,
                label: u.display_name,
            })
            .collect()
        }
        _ => Vec::new(),
    };
    let procedures = match &agency {
        Some(a) => {
            let index = state.index.get(&state.db, &province).await?;
            let mut list: Vec<Choice> = index
                .entries
                .iter()
                .filter(|e| &e.summary.agency_code == a)
                .map(|e| Choice {
                    value: e.summary.code.as_str().to_owned(),
                    label: e.summary.name.clone(),
                })
                .collect();
            list.sort_by(|x, y| x.label.cmp(&y.label));
            list
        }
        None => Vec::new(),
    };
    let agencies = if director {
        agency_choices(&dir, |_, kind| {
            matches!(kind, AgencyKind::Department | AgencyKind::Other)
        })
    } else {
        Vec::new()
    };
    let heading = match &agency {
        Some(a) => format!("Hồ sơ cần xử lý — {}", dir.name(a.as_str())),
        None => "Hồ sơ cần xử lý — toàn tỉnh".to_owned(),
    };
    let filters = [
        ("status", q.status.trim()),
        ("due", q.due.trim()),
        ("assignee", assignee.as_str()),
        ("procedure", q.procedure.trim()),
        ("agency", q.agency.trim()),
    ];
    let xlsx = format!("/api/v1/dossiers.xlsx{}", query_string(&filters));
    let next = next_cursor.map(|c| {
        format!(
            "/xu-ly{}",
            query_string(&[
                ("status", q.status.trim()),
                ("due", q.due.trim()),
                ("assignee", q.assignee.trim()),
                ("scope", q.scope.trim()),
                ("procedure", q.procedure.trim()),
                ("agency", q.agency.trim()),
                ("order", q.order.trim()),
                ("cursor", &c),
            ])
        )
    });
    let statuses = Status::ALL
        .into_iter()
        .map(|s| Choice {
            value: s.code().to_string(),
            label: format!("{} · {}", s.code(), labels.status_label(s)),
        })
        .collect();
    Ok(page(&WorkListPage {
        // A plain GET form that reloads on change: the list page stays light without htmx.
        frame: Frame::new(&state, Some(&p)).await?,
        heading,
        q,
        officer,
        director,
        statuses,
        staff,
        procedures,
        agencies,
        rows,
        next,
        xlsx,
    }))
}
