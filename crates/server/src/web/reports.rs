//! `/lanh-dao/bao-cao`: the report on the results of handling administrative procedures
//! (issue 8 item 5). A period form (with presets: last month, this month, this quarter,
//! this year) that downloads the XLSX of `GET /api/v1/reports/results.xlsx`, and the
//! monthly reports generated so far. The centre's director sees the whole province (and
//! may pick one department); a department leader sees their own department.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use time::{Date, Month, OffsetDateTime};

use super::{Frame, SignedIn, encode, filters, page, require};
use crate::reports::{month_label, previous_month};
use crate::service::reports::{self as api, MonthlyReport, Reach};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this page.
pub fn routes() -> Router<AppState> {
    Router::new().route("/lanh-dao/bao-cao", get(reports_page))
}

/// `?from=&to=&agency=&tai=1`: the form's fields; `tai` asks for the download.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// First day.
    pub from: Option<String>,
    /// Last day, included.
    pub to: Option<String>,
    /// The department (the director's choice; a leader's own).
    pub agency: Option<String>,
    /// Set by the download button.
    pub tai: Option<String>,
}

/// A preset period with its download link.
pub struct Preset {
    /// "Tháng trước (Tháng 10/2026)".
    pub label: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// The XLSX.
    pub href: String,
}

/// A choice of the department select.
pub struct Choice {
    /// Agency code; empty for the whole province.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Selected.
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "reports/index.html")]
struct ReportsPage {
    frame: Frame,
    /// Whose report: the province's name or the department's.
    subject: String,
    from: String,
    to: String,
    choices: Vec<Choice>,
    presets: Vec<Preset>,
    /// The period error and the field it concerns.
    error: Option<(String, String)>,
    monthly: Vec<MonthlyReport>,
}

fn iso(d: Date) -> String {
    d.to_string()
}

fn href(from: Date, to: Date, agency: Option<&str>) -> String {
    let mut h = format!("/api/v1/reports/results.xlsx?from={from}&to={to}");
    if let Some(a) = agency {
        h.push_str("&agency=");
        h.push_str(&encode(a));
    }
    h
}

/// Last month, this month, this quarter and this year (up to today) in Vietnam time.
fn presets(now: OffsetDateTime, agency: Option<&str>) -> Vec<Preset> {
    let today = now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date();
    let (lm_first, lm_last) = previous_month(now);
    let month = today.replace_day(1).unwrap_or(today);
    let quarter_month = Month::try_from(((u8::from(today.month()) - 1) / 3) * 3 + 1).unwrap_or(Month::January);
    let quarter = Date::from_calendar_date(today.year(), quarter_month, 1).unwrap_or(month);
    let year = Date::from_calendar_date(today.year(), Month::January, 1).unwrap_or(month);
    let q = (u8::from(today.month()) - 1) / 3 + 1;
    [
        (format!("Tháng trước ({})", month_label(lm_first)), lm_first, lm_last),
        (format!("Tháng này ({})", month_label(month)), month, today),
        (format!("Quý này (Quý {q}/{})", today.year()), quarter, today),
        (format!("Năm nay ({})", today.year()), year, today),
    ]
    .into_iter()
    .map(|(label, from, to)| Preset {
        label,
        from: iso(from),
        to: iso(to),
        href: href(from, to, agency),
    })
    .collect()
}

/// `GET /lanh-dao/bao-cao`: the page; with `tai=1` and a valid period, the download.
pub async fn reports_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<ReportQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let reach = Reach::of(&p, &province);
    require(reach.any(), "xem báo cáo kết quả giải quyết thủ tục hành chính")?;
    let agency = api::agency_for(&p, &reach, q.agency.as_deref())?;
    let now = state.clock.now();
    let today = now.to_offset(motcua_core::calendar::VIETNAM_OFFSET).date();
    let mut error = None;
    // Days typed as dd/mm/yyyy count as the ISO days the report reads.
    let from_iso = q.from.as_deref().map(super::dates::to_iso);
    let to_iso = q.to.as_deref().map(super::dates::to_iso);
    if q.tai.is_some() {
        match api::period(from_iso.as_deref(), to_iso.as_deref()) {
            Ok((from, to)) => return Ok(Redirect::to(&href(from, to, agency.as_deref())).into_response()),
            Err(e) => {
                let (_, _, message, field) = e.parts();
                error = Some((field.unwrap_or_else(|| "from".to_owned()), message));
            }
        }
    }
    let dir = crate::service::dossiers::directory(&state, &province).await?;
    let province_name = super::province_name(&state, &province).await?;
    let choices: Vec<Choice> = match &reach {
        Reach::All => std::iter::once((String::new(), format!("Toàn tỉnh {province_name}")))
            .chain(
                dir.agencies
                    .iter()
                    .filter(|(_, (_, kind))| *kind == motcua_core::catalogue::AgencyKind::Department)
                    .map(|(code, (name, _))| (code.clone(), name.clone())),
            )
            .collect::<Vec<_>>(),
        Reach::Agencies(own) => own.iter().map(|a| (a.clone(), dir.name(a))).collect(),
    }
    .into_iter()
    .map(|(code, name)| Choice {
        selected: agency.as_deref().unwrap_or_default() == code,
        code,
        name,
    })
    .collect();
    let subject = agency
        .as_deref()
        .map_or_else(|| format!("Toàn tỉnh {province_name}"), |a| dir.name(a));
    let monthly = api::visible_monthly(&state, &p)
        .await?
        .into_iter()
        .filter(|m| agency.is_none() || m.agency == agency)
        .collect();
    let month = today.replace_day(1).unwrap_or(today);
    let t = ReportsPage {
        frame: Frame::new(&state, Some(&p)).await?,
        subject,
        from: q.from.clone().unwrap_or_else(|| iso(month)),
        to: q.to.clone().unwrap_or_else(|| iso(today)),
        choices,
        presets: presets(now, agency.as_deref()),
        error,
        monthly,
    };
    Ok(page(&t))
}
