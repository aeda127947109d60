//! Work lists: which dossiers a person may list, filtered by status, agency, assignee,
//! procedure and how close the appointment is.

use motcua_core::access::Reach;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::dossier::{Channel, Status};
use motcua_store::dossiers::{self, ListFilter, Scope};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::{is_citizen, rfc3339, user_id};
use crate::auth::Principal;
use crate::error::AppError;
use crate::state::AppState;

/// One line of a work list: no identity papers or phone numbers (open the dossier for those).
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierLine {
    /// Code.
    pub code: String,
    /// Procedure code.
    pub procedure: String,
    /// Procedure name.
    pub procedure_name: String,
    /// National status code.
    pub status_code: u8,
    /// Status.
    pub status: Status,
    /// Status label.
    pub status_label: String,
    /// Channel.
    pub channel: Channel,
    /// Applicant's name.
    pub applicant_name: String,
    /// The agency holding it.
    pub current_agency: String,
    /// The officer holding it.
    pub assignee: Option<String>,
    /// Filed.
    pub created_at: String,
    /// Accepted.
    pub received_at: Option<String>,
    /// Appointment.
    pub due_at: Option<String>,
    /// Overdue now: the appointment passed while the clock runs (not while waiting for a
    /// supplement or a payment; a finished dossier is late, not overdue).
    pub overdue: bool,
}

/// A page of a work list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierPage {
    /// The dossiers, newest first.
    pub items: Vec<DossierLine>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The filters a work list (or its export) is asked for, as given.
pub struct WorkListQuery<'a> {
    /// Province; the default province when `None`.
    pub province: Option<&'a str>,
    /// Status codes, comma-separated.
    pub status: Option<&'a str>,
    /// Agency holding or responsible.
    pub agency: Option<&'a str>,
    /// Only overdue dossiers.
    pub overdue: Option<bool>,
    /// `me`, `none` (waiting for assignment), `me,none`, or an account id.
    pub assignee: Option<&'a str>,
    /// Procedure code.
    pub procedure: Option<&'a str>,
}

/// The store filter for a work list, with the caller's scope: citizens their own dossiers,
/// department staff their department's (or an agency they may see), the centre the
/// province's. First page, default size; the caller sets the position and size.
pub async fn work_list_filter(state: &AppState, p: &Principal, q: WorkListQuery<'_>) -> Result<ListFilter, AppError> {
    let province = state.province(q.province).await?;
    let scope = if is_citizen(p) {
        Scope::Owner(user_id(p).unwrap_or_default().to_owned())
    } else if let Some(a) = q.agency.filter(|a| !a.is_empty()) {
        let agency = AgencyCode::parse(a).map_err(|e| AppError::code("agency", e))?;
        p.require(
            p.access.can_see_agency_dossiers(&province, &agency),
            "xem hồ sơ của cơ quan này",
        )?;
        Scope::Agency(agency.as_str().to_owned())
    } else {
        match p.access.reach_in(&province) {
            Reach::Province => Scope::Province,
            // Department staff: their own agency.
            Reach::Agencies(set) if set.len() == 1 => Scope::Agency(set[0].as_str().to_owned()),
            // A commune centre's staff: the centre and its commune.
            Reach::Agencies(set) if !set.is_empty() => {
                Scope::Agencies(set.iter().map(|a| a.as_str().to_owned()).collect())
            }
            Reach::Agencies(_) => {
                return Err(AppError::Forbidden(
                    "Bạn không có quyền xem hồ sơ của tỉnh này.".to_owned(),
                ));
            }
        }
    };
    let statuses = q
        .status
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse::<u8>()
                .ok()
                .and_then(Status::from_code)
                .ok_or_else(|| AppError::bad("invalid_parameter", "status", "Mã trạng thái phải từ 1 đến 10."))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut assignee = None;
    let mut unassigned = false;
    for a in q
        .assignee
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        let who = match a {
            "none" => {
                unassigned = true;
                continue;
            }
            "me" => p.actor(),
            id => id.to_owned(),
        };
        if assignee.replace(who).is_some() {
            return Err(AppError::bad(
                "invalid_parameter",
                "assignee",
                "Chỉ lọc được theo một cán bộ (có thể kèm «none»: hồ sơ chờ phân công).",
            ));
        }
    }
    Ok(ListFilter {
        province,
        scope,
        statuses,
        overdue: q.overdue.unwrap_or(false),
        due_soon: None,
        waited_past_limit: false,
        assignee,
        unassigned,
        procedure: q.procedure.filter(|s| !s.is_empty()).map(str::to_owned),
        due_from: None,
        due_until: None,
        now: state.clock.now(),
        before_id: None,
        after_due: None,
        order: dossiers::ListOrder::Newest,
        limit: 50,
    })
}

/// The instant up to which an appointment is "due soon" at `now` on the province's
/// calendar (`motcua_core::deadline::soon_limit`).
pub async fn soon_after(
    state: &AppState,
    province: &ProvinceCode,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, AppError> {
    let calendar = crate::service::calendar::calendar(state, province).await?;
    motcua_core::deadline::soon_limit(&calendar, now).map_err(|e| AppError::Internal(e.to_string()))
}

/// Narrows a work list by how close the appointment is: `overdue`, or `soon`
/// (`motcua_core::deadline::is_overdue`, `is_due_soon`); or to the dossiers whose applicant
/// has not answered a request within the time given, `wait_over`
/// (`motcua_core::deadline::waited_past_limit`).
pub async fn due_filter(state: &AppState, f: &mut ListFilter, due: Option<&str>) -> Result<(), AppError> {
    match due.map(str::trim).filter(|d| !d.is_empty()) {
        None => {}
        Some("overdue") => f.overdue = true,
        Some("soon") => f.due_soon = Some(soon_after(state, &f.province, f.now).await?),
        Some("wait_over") => f.waited_past_limit = true,
        Some(_) => {
            return Err(AppError::bad(
                "invalid_parameter",
                "due",
                "Hạn xử lý chỉ lọc theo «overdue» (quá hạn), «soon» (đến hạn trong 1 ngày làm việc) hoặc «wait_over» (người nộp đã quá thời hạn bổ sung, nộp phí).",
            ));
        }
    }
    Ok(())
}

/// A page of a work list as asked: the filters, how close the appointment is, where the
/// page starts and how long it is.
pub struct WorkListRequest<'a> {
    /// The filters.
    pub query: WorkListQuery<'a>,
    /// `overdue`, `soon` or `wait_over` ([`due_filter`]).
    pub due: Option<&'a str>,
    /// Continue after this position (`next_cursor` of the previous page).
    pub cursor: Option<&'a str>,
    /// Page size (default 50, at most [`dossiers::MAX_LIST_LIMIT`]).
    pub limit: Option<u32>,
}

/// A work list, newest first, keyset-paginated. Citizens see their own dossiers;
/// department staff their department's; the centre the province's.
pub async fn list(state: &AppState, p: &Principal, q: WorkListRequest<'_>) -> Result<DossierPage, AppError> {
    let before_id = q
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| AppError::bad("invalid_parameter", "cursor", "Vị trí trang không hợp lệ."))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, dossiers::MAX_LIST_LIMIT);
    let mut filter = work_list_filter(state, p, q.query).await?;
    due_filter(state, &mut filter, q.due).await?;
    filter.before_id = before_id;
    filter.limit = limit;
    let now = filter.now;
    let mut tx = state.db.begin_read().await?;
    let rows = dossiers::list(&mut tx, &filter).await?;
    drop(tx);
    let labels = crate::service::rules::now(state).await?;
    let next_cursor = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    let items = rows
        .into_iter()
        .map(|s| {
            let d = s.dossier;
            DossierLine {
                code: d.code.as_str().to_owned(),
                procedure: d.procedure.as_str().to_owned(),
                procedure_name: d.procedure_name.clone(),
                status_code: d.status.code(),
                status: d.status,
                status_label: labels.label(d.status),
                channel: d.channel,
                applicant_name: d.applicant.name.clone(),
                current_agency: d.current_agency.as_str().to_owned(),
                assignee: d.assignee.as_ref().map(|a| a.name.clone()),
                created_at: rfc3339(d.created_at),
                received_at: d.received_at.map(rfc3339),
                due_at: d.due_at.map(rfc3339),
                overdue: d.is_overdue(now),
            }
        })
        .collect();
    Ok(DossierPage { items, next_cursor })
}
