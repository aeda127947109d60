//! The report on the results of handling administrative procedures: generated for any
//! period on request (the workbook itself is `crate::reports`), and the stored monthly
//! reports. The
//! centre's director (and the system administrator) gets the whole province or any
//! agency; a department leader only their own department.

use motcua_core::access::Role;
use motcua_core::catalogue::Invalid;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_store::reports::{self as records, Report};
use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::AppError;
use crate::reports::{self as report, Scope};
use crate::state::AppState;

/// Longest period a report covers: five years.
pub const MAX_DAYS: i64 = 5 * 366;

/// Most monthly reports listed.
const LIST_LIMIT: i64 = 500;

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

/// The report on the results of handling administrative procedures from `from` to `to`
/// (inclusive) for `agency` or the whole province (docs/rules.md §6): its file name and
/// the workbook. The figures are the dashboard's.
pub async fn results(
    state: &AppState,
    p: &Principal,
    from: Option<&str>,
    to: Option<&str>,
    agency: Option<&str>,
) -> Result<(String, Vec<u8>), AppError> {
    let province = state.province(None).await?;
    let reach = require_reach(p, &province)?;
    let agency = agency_for(p, &reach, agency)?;
    let (first, last) = period(from, to)?;
    let scope = Scope {
        province,
        agency,
        first,
        last,
    };
    let bytes = report::generate(state, &scope, state.clock.now()).await?;
    Ok((scope.file_name(), bytes))
}

/// Stored monthly report `file` (`{id}.xlsx`), as generated, for whoever may see it: its
/// file name and the workbook.
pub async fn monthly_file(state: &AppState, p: &Principal, file: &str) -> Result<(String, Vec<u8>), AppError> {
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
    let reach = require_reach(p, &province)?;
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
    Ok((scope.file_name(), bytes))
}
