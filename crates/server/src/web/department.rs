//! The department dashboard (`/don-vi`): a department leader's figures of their own
//! department for a period — in all, per procedure and per officer — with the trend, the
//! channels of the dossiers received and the overdue dossiers by age; each number links
//! to the list of its dossiers (`/don-vi/ho-so`, `/don-vi/qua-han`), always restricted to
//! that department. The centre's director (and the system administrator) may open it for
//! any department with `?agency=`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use motcua_core::access::Role;
use motcua_core::codes::ProvinceCode;
use motcua_core::stats::Dimension;
use motcua_store::stats::Counts;
use serde::Deserialize;

use super::charts::{self, Bar};
use super::director::dashboard::{self, Lists};
use super::director::{Cell, Dashboard, ListQuery, OverdueQuery, dashboard_charts, dossier_list, overdue_list, rate};
use super::{Frame, SignedIn, encode, filters, page, require};
use crate::auth::Principal;
use crate::service::dossiers::directory;
use crate::service::period::PeriodQuery;
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/don-vi", get(dashboard_page))
        .route("/don-vi/ho-so", get(list_page))
        .route("/don-vi/qua-han", get(overdue_page))
}

/// The departments `p` leads in `province`.
pub fn led_by(p: &Principal, province: &ProvinceCode) -> Vec<String> {
    p.access
        .grants()
        .iter()
        .filter(|g| g.role == Role::DepartmentLeader && &g.province == province)
        .map(|g| g.agency.as_str().to_owned())
        .collect()
}

/// The department `p` may look at: the one asked for if they lead it or oversee the
/// province; otherwise the first they lead. `None` when an overseer asked for none.
async fn department(
    state: &AppState,
    p: &Principal,
    asked: Option<&str>,
) -> Result<(ProvinceCode, Option<String>), PageError> {
    let province = state.province(None).await?;
    let led = led_by(p, &province);
    let oversees = p.access.may_oversee(&province);
    require(oversees || !led.is_empty(), "xem số liệu của đơn vị")?;
    let asked = asked.filter(|a| !a.is_empty());
    match asked {
        Some(a) if led.iter().any(|l| l == a) || oversees => Ok((province, Some(a.to_owned()))),
        Some(_) => Err(forbidden("xem số liệu của đơn vị khác")),
        None if oversees && led.is_empty() => Ok((province, None)),
        None => Ok((province, led.into_iter().next())),
    }
}

fn forbidden(what: &str) -> PageError {
    PageError::from(crate::error::AppError::Forbidden(format!("Bạn không có quyền {what}.")))
}

/// `?agency=`, beside the period ([`PeriodQuery`]).
#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    agency: Option<String>,
}

/// One line of a per-procedure or per-officer table.
pub struct Line {
    /// Procedure or officer.
    pub name: String,
    /// Received, in progress (on time, overdue), resolved (early, on time, late).
    pub cells: Vec<Cell>,
    /// On-time rate.
    pub rate: String,
    /// Returned.
    pub returned: Cell,
}

/// The cells of `c`, each linking to `/don-vi/ho-so` with `query` (period, agency) and
/// `more` (`&procedure=…`).
fn line(name: String, c: &Counts, query: &str, more: &str) -> Line {
    let cell = |metric: &'static str, label: &'static str, n: i64| Cell {
        n,
        text: charts::num(n),
        href: format!("/don-vi/ho-so?metric={metric}&{query}{more}"),
        label,
    };
    Line {
        name,
        cells: vec![
            cell("received", "Tiếp nhận trong kỳ", c.received_total()),
            cell("in_progress", "Đang giải quyết trong hạn", c.in_progress_on_time),
            cell("overdue", "Đang giải quyết quá hạn", c.overdue),
            cell("early", "Đã giải quyết trước hạn", c.early),
            cell("on_time", "Đã giải quyết đúng hạn", c.on_time),
            cell("late", "Đã giải quyết quá hạn", c.late),
        ],
        rate: rate(c.on_time_permille()),
        returned: cell("returned", "Đã trả kết quả", c.returned),
    }
}

/// A department another may be chosen from (directors).
pub struct Choosable {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

#[derive(Template)]
#[template(path = "department/dashboard.html")]
struct DashboardPage {
    frame: Frame,
    dash: Dashboard,
    agency: String,
    agency_name: String,
    departments: Vec<Choosable>,
    total: Line,
    procedures: Vec<Line>,
    officers: Vec<Line>,
    officer_rates: String,
}

/// `GET /don-vi`: a department's dashboard.
pub async fn dashboard_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<DashboardQuery>,
    Query(period): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let (province, agency) = department(&state, &p, q.agency.as_deref()).await?;
    let now = state.clock.now();
    let choice = super::dates::period(period).choice(now);
    let dir = directory(&state, &province).await?;
    let mut departments: Vec<Choosable> = if p.access.may_oversee(&province) {
        dir.agencies
            .iter()
            .filter(|(_, (_, kind))| *kind == motcua_core::catalogue::AgencyKind::Department)
            .map(|(code, (name, _))| Choosable {
                code: code.clone(),
                name: name.clone(),
            })
            .collect()
    } else {
        led_by(&p, &province)
            .into_iter()
            .map(|code| Choosable {
                name: dir.name(&code),
                code,
            })
            .collect()
    };
    departments.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(agency) = agency.or_else(|| departments.first().map(|d| d.code.clone())) else {
        return Err(forbidden("xem số liệu khi tỉnh chưa có đơn vị nào"));
    };
    let query = format!("{}&agency={}", choice.query(), encode(&agency));
    let lists = Lists {
        figure: "/don-vi/ho-so".to_owned(),
        overdue: "/don-vi/qua-han".to_owned(),
        extra: format!("&agency={}", encode(&agency)),
    };
    let (charts, by_procedure, by_officer) = tokio::join!(
        dashboard_charts(&state, &province, &choice, now, Some(&agency), &lists),
        dashboard::figures(&state, &province, &choice, now, Dimension::Procedure, Some(&agency)),
        dashboard::figures(&state, &province, &choice, now, Dimension::Officer, Some(&agency)),
    );
    let (charts, by_procedure, by_officer) = (charts?, by_procedure?, by_officer?);
    let total = motcua_store::stats::total(&by_procedure);
    let procedure_names: std::collections::BTreeMap<String, String> = {
        let mut tx = state.db.begin_read().await?;
        motcua_store::catalogue::procedure_summaries(&mut tx, &province)
            .await?
            .into_iter()
            .map(|s| (s.code.as_str().to_owned(), s.name))
            .collect()
    };
    let officer_names: std::collections::BTreeMap<String, String> = {
        let mut tx = state.db.begin_read().await?;
        motcua_store::accounts::list_users(&mut tx, Some(&province))
            .await?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect()
    };
    let busiest = |c: &Counts| -(c.received_total() + c.in_progress() + c.resolved());
    let mut procedures: Vec<(&String, &Counts)> = by_procedure.iter().map(|l| (&l.value, &l.counts)).collect();
    procedures.sort_by_key(|(v, c)| (busiest(c), (*v).clone()));
    let mut officers: Vec<(&String, &Counts)> = by_officer.iter().map(|l| (&l.value, &l.counts)).collect();
    officers.sort_by_key(|(v, c)| (busiest(c), (*v).clone()));
    let officer_name = |id: &str| {
        if id.is_empty() {
            "Chưa phân công".to_owned()
        } else {
            officer_names.get(id).cloned().unwrap_or_else(|| id.to_owned())
        }
    };
    let officer_rates: Vec<Bar> = officers
        .iter()
        .filter_map(|(id, c)| {
            dashboard::on_time_bar(
                officer_name(id),
                c,
                (c.late > 0).then(|| {
                    format!(
                        "/don-vi/ho-so?metric=late&{query}&officer={}",
                        if id.is_empty() { "-".to_owned() } else { encode(id) }
                    )
                }),
            )
        })
        .collect();
    Ok(page(&DashboardPage {
        frame: Frame::new(&state, Some(&p)).await?,
        agency_name: dir.name(&agency),
        total: line("Cả đơn vị".to_owned(), &total, &query, ""),
        procedures: procedures
            .iter()
            .map(|(code, c)| {
                let name = procedure_names.get(*code).cloned().unwrap_or_else(|| (*code).clone());
                line(name, c, &query, &format!("&procedure={}", encode(code)))
            })
            .collect(),
        officers: officers
            .iter()
            .map(|(id, c)| {
                let key = if id.is_empty() { "-".to_owned() } else { encode(id) };
                line(officer_name(id), c, &query, &format!("&officer={key}"))
            })
            .collect(),
        officer_rates: charts::bar_chart(
            "officer-rates",
            &format!("Tỉ lệ giải quyết đúng hạn theo cán bộ, {}", choice.label),
            &officer_rates,
        ),
        dash: Dashboard::new(choice, now, charts, &dir, &lists),
        departments,
        agency,
    }))
}

/// `GET /don-vi/ho-so`: the dossiers behind one number of a department's dashboard.
pub async fn list_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let (province, agency) = department(&state, &p, q.agency()).await?;
    require(agency.is_some(), "xem hồ sơ khi chưa chọn đơn vị")?;
    dossier_list(&state, &p, &province, q, agency, "/don-vi/ho-so", "/don-vi").await
}

/// `GET /don-vi/qua-han`: a department's overdue dossiers.
pub async fn overdue_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<OverdueQuery>,
) -> Result<Response, PageError> {
    let (province, agency) = department(&state, &p, q.agency()).await?;
    require(agency.is_some(), "xem hồ sơ khi chưa chọn đơn vị")?;
    overdue_list(&state, &p, &province, q, agency, true, "/don-vi/qua-han", "/don-vi").await
}
