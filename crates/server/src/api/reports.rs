//! The report on the results of handling administrative procedures over HTTP (issue 8
//! item 5): generated for any period on request, and the stored monthly reports. The
//! centre's director (and the system administrator) gets the whole province or any
//! agency; a department leader only their own department.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use motcua_core::access::Role;
use motcua_core::catalogue::Invalid;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_store::reports::{self as records, Report};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Principal;
use crate::error::{AppError, ErrorBody};
use crate::extract::ApiQuery;
use crate::reports::{self as report, Scope, XLSX};
use crate::state::AppState;

/// Longest period a report covers: five years.
pub const MAX_DAYS: i64 = 5 * 366;

/// Most monthly reports listed.
const LIST_LIMIT: i64 = 500;

/// The routes of the reports.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/results.xlsx", get(results_xlsx))
        .route("/api/v1/reports/monthly", get(monthly))
        .route("/api/v1/reports/monthly/{file}", get(monthly_file))
}

/// Whose reports a caller may see in a province.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The whole province and every agency (the centre's director, the administrator).
    All,
    /// Only these agencies (the departments the caller leads); empty: none.
    Agencies(Vec<String>),
}

impl Reach {
    /// What `p` may see in `province`.
    pub fn of(p: &Principal, province: &ProvinceCode) -> Reach {
        if p.access.may_oversee(province) {
            return Reach::All;
        }
        Reach::Agencies(
            p.access
                .grants()
                .iter()
                .filter(|g| g.role == Role::DepartmentLeader && &g.province == province)
                .map(|g| g.agency.as_str().to_owned())
                .collect(),
        )
    }

    /// Whether the report of `agency` (`None`: the whole province) may be seen.
    pub fn covers(&self, agency: Option<&str>) -> bool {
        match (self, agency) {
            (Reach::All, _) => true,
            (Reach::Agencies(own), Some(a)) => own.iter().any(|x| x == a),
            (Reach::Agencies(_), None) => false,
        }
    }

    /// Whether any report may be seen.
    pub fn any(&self) -> bool {
        match self {
            Reach::All => true,
            Reach::Agencies(own) => !own.is_empty(),
        }
    }
}

const WHAT: &str = "xem báo cáo kết quả giải quyết thủ tục hành chính";

/// The reach of `p` in `province`, or 403 when it is nothing.
pub fn require_reach(p: &Principal, province: &ProvinceCode) -> Result<Reach, AppError> {
    let reach = Reach::of(p, province);
    p.require(reach.any(), WHAT)?;
    Ok(reach)
}

/// The agency a request is about: the one asked for (if the caller may see it), else the
/// whole province for the director, or the department a leader leads.
pub fn agency_for(p: &Principal, reach: &Reach, asked: Option<&str>) -> Result<Option<String>, AppError> {
    match asked.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => {
            let code = AgencyCode::parse(a).map_err(|e| AppError::code("agency", e))?;
            p.require(reach.covers(Some(code.as_str())), "xem báo cáo của cơ quan này")?;
            Ok(Some(code.as_str().to_owned()))
        }
        None => match reach {
            Reach::All => Ok(None),
            Reach::Agencies(own) => Ok(own.first().cloned()),
        },
    }
}

fn parse_day(field: &str, s: Option<&str>) -> Result<Date, AppError> {
    let s = s.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| {
        AppError::bad(
            "missing_parameter",
            field,
            "Hãy chọn ngày (dạng YYYY-MM-DD, ví dụ 2019-06-12).",
        )
    })?;
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        AppError::bad(
            "invalid_parameter",
            field,
            "Ngày phải có dạng YYYY-MM-DD, ví dụ 2019-06-12.",
        )
    })
}

/// Checks a period: `from..=to`, in order, at most five years.
pub fn period(from: Option<&str>, to: Option<&str>) -> Result<(Date, Date), AppError> {
    let first = parse_day("from", from)?;
    let last = parse_day("to", to)?;
    if last < first {
        return Err(Invalid::new("to", "Ngày cuối kỳ phải sau hoặc trùng ngày đầu kỳ.").into());
    }
    if (last - first).whole_days() >= MAX_DAYS {
        return Err(Invalid::new("to", "Kỳ báo cáo dài nhất là 5 năm; hãy chọn kỳ ngắn hơn.").into());
    }
    Ok((first, last))
}

fn attachment(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(XLSX));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    response
}

/// Report parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultsParams {
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, included (at most 5 years after the first).
    pub to: Option<String>,
    /// Only this responsible agency (a department leader's own by default); the whole
    /// province when omitted by the centre's director.
    pub agency: Option<String>,
}

/// `GET /api/v1/reports/results.xlsx?from=&to=[&agency=]`: the report on the results of
/// handling administrative procedures for a period (docs/rules.md §6): sheets per department,
/// per department and procedure, per field. The figures are the dashboard's.
#[utoipa::path(get, path = "/api/v1/reports/results.xlsx", tag = "reports", params(ResultsParams),
    responses((status = 200, description = "Báo cáo kết quả giải quyết thủ tục hành chính (XLSX)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn results_xlsx(
    State(state): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ResultsParams>,
) -> Result<Response, AppError> {
    let province = state.province(None).await?;
    let reach = require_reach(&p, &province)?;
    let agency = agency_for(&p, &reach, q.agency.as_deref())?;
    let (first, last) = period(q.from.as_deref(), q.to.as_deref())?;
    let scope = Scope {
        province,
        agency,
        first,
        last,
    };
    let bytes = report::generate(&state, &scope, state.clock.now()).await?;
    Ok(attachment(bytes, &scope.file_name()))
}

/// A stored monthly report.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthlyReport {
    /// Id.
    pub id: i64,
    /// The responsible agency; absent for the whole province.
    pub agency: Option<String>,
    /// Its name, or the province's.
    pub name: String,
    /// `Tháng 6/2019`.
    pub label: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// Size in bytes.
    pub size: i64,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// When it was generated (RFC 3339).
    pub created_at: String,
    /// Where to download it.
    pub url: String,
}

/// The list of monthly reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthlyList {
    /// Newest month first; the province's report before the agencies'.
    pub items: Vec<MonthlyReport>,
}

/// The monthly reports `p` may see in the default province, newest first.
pub async fn visible_monthly(state: &AppState, p: &Principal) -> Result<Vec<MonthlyReport>, AppError> {
    let province = state.province(None).await?;
    let reach = require_reach(p, &province)?;
    let mut tx = state.db.begin_read().await?;
    let rows: Vec<Report> = match &reach {
        Reach::All => records::list(&mut tx, province.as_str(), None, LIST_LIMIT).await?,
        Reach::Agencies(own) => {
            let mut all = Vec::new();
            for a in own {
                all.extend(records::list(&mut tx, province.as_str(), Some(a), LIST_LIMIT).await?);
            }
            all.sort_by(|a, b| b.from.cmp(&a.from).then(a.agency.cmp(&b.agency)));
            all
        }
    };
    drop(tx);
    let lh = crate::forms::Letterhead::load(state, &province).await?;
    Ok(rows
        .into_iter()
        .filter(|r| reach.covers(r.agency.as_deref()))
        .map(|r| MonthlyReport {
            id: r.id,
            name: r
                .agency
                .as_deref()
                .map_or_else(|| format!("Toàn tỉnh {}", lh.province_name), |a| lh.name(a)),
            agency: r.agency,
            label: report::month_label(r.from),
            from: r.from.to_string(),
            to: r.to.to_string(),
            size: r.size.unwrap_or_default(),
            sha256: r.sha256.unwrap_or_default(),
            created_at: r
                .completed_at
                .unwrap_or(r.created_at)
                .to_offset(motcua_core::calendar::VIETNAM_OFFSET)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            url: format!("/api/v1/reports/monthly/{}.xlsx", r.id),
        })
        .collect())
}

/// `GET /api/v1/reports/monthly`: the monthly reports generated so far that the caller
/// may see (the director: all; a department leader: their department's).
#[utoipa::path(get, path = "/api/v1/reports/monthly", tag = "reports",
    responses((status = 200, body = MonthlyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn monthly(State(state): State<AppState>, p: Principal) -> Result<Json<MonthlyList>, AppError> {
    Ok(Json(MonthlyList {
        items: visible_monthly(&state, &p).await?,
    }))
}

/// `GET /api/v1/reports/monthly/{id}.xlsx`: one stored monthly report, as generated.
#[utoipa::path(get, path = "/api/v1/reports/monthly/{file}", tag = "reports",
    params(("file" = String, Path, description = "Số của báo cáo và đuôi .xlsx, ví dụ 12.xlsx")),
    responses((status = 200, description = "Báo cáo tháng (XLSX)",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("session" = []), ("api_token" = [])))]
pub async fn monthly_file(
    State(state): State<AppState>,
    p: Principal,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let missing = || AppError::NotFound(format!("Không có báo cáo «{file}»."));
    let id: i64 = file
        .strip_suffix(".xlsx")
        .and_then(|s| s.parse().ok())
        .ok_or_else(missing)?;
    let r = {
        let mut tx = state.db.begin_read().await?;
        records::get(&mut tx, id).await?
    };
    let r = r.filter(Report::is_complete).ok_or_else(missing)?;
    let province = ProvinceCode::parse(&r.province_code).map_err(|e| AppError::Internal(e.to_string()))?;
    let reach = require_reach(&p, &province)?;
    p.require(reach.covers(r.agency.as_deref()), "xem báo cáo của cơ quan này")?;
    let key = r.object_key.clone().unwrap_or_default();
    let bytes = state
        .objects
        .get(&key)
        .await
        .map_err(|e| AppError::Internal(format!("reading report {key}: {e}")))?
        .ok_or_else(|| AppError::Internal(format!("report file {key} is missing from the object store")))?;
    let scope = Scope {
        province,
        agency: r.agency.clone(),
        first: r.from,
        last: r.to,
    };
    Ok(attachment(bytes, &scope.file_name()))
}
