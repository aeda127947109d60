//! Pages of the director area: the province-wide overview for a period (per department:
//! received, in progress within deadline / overdue, resolved early / on time / late,
//! on-time rate, returned), the list of dossiers behind each of its numbers, and the
//! overdue list. The figures come from one function, [`overview_figures`], over
//! `motcua_store::overview` (SQL aggregates today; issue 8's maintained aggregates later).

pub mod period;

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use motcua_core::access::Role;
use motcua_core::codes::ProvinceCode;
use motcua_core::lifecycle::Dossier;
use motcua_store::overview::{self, Behind, Figures, Metric, Period};
use serde::Deserialize;
use time::OffsetDateTime;

use self::period::{Choice, PRESETS, PeriodQuery};
use super::{Frame, SignedIn, encode, page, require, when};
use crate::api::dossiers::{Directory, directory};
use crate::auth::Principal;
use crate::pages::PageError;
use crate::state::AppState;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lanh-dao", get(overview_page))
        .route("/lanh-dao/ho-so", get(list_page))
        .route("/lanh-dao/qua-han", get(overdue_page))
}

/// Whether `p` may see the province-wide figures: the centre's director (and the system
/// administrator). Counter officers see the province's dossiers to receive them, but the
/// overview is the director's.
pub fn may_oversee(p: &Principal, province: &ProvinceCode) -> bool {
    p.access.has_role_in(Role::CentreDirector, province) || p.access.has_role_in(Role::SystemAdmin, province)
}

async fn overseer(state: &AppState, p: &Principal) -> Result<ProvinceCode, PageError> {
    let province = state.province(None).await?;
    require(may_oversee(p, &province), "xem số liệu tổng hợp toàn tỉnh")?;
    Ok(province)
}

/// The figures of `province` for `period` judged at `now`: one per responsible agency, by
/// code. The only place the pages get their numbers from (issue 8 replaces its inside).
pub async fn overview_figures(
    state: &AppState,
    province: &ProvinceCode,
    period: Period,
    now: OffsetDateTime,
) -> Result<Vec<Figures>, PageError> {
    let mut tx = state.db.begin_read().await?;
    Ok(overview::figures(&mut tx, province, period, now).await?)
}

/// `12,3 %` from per mille; `—` when nothing was resolved.
pub fn rate(permille: Option<i64>) -> String {
    permille.map_or_else(|| "—".to_owned(), |p| format!("{},{} %", p / 10, p % 10))
}

/// A number of the overview and the list behind it.
pub struct Cell {
    /// The count.
    pub n: i64,
    /// The list of those dossiers.
    pub href: String,
    /// What it counts (for screen readers and the list's title).
    pub label: &'static str,
}

/// One line of the overview.
pub struct Line {
    /// The department's name ("Toàn tỉnh" for the total).
    pub name: String,
    /// Received, in progress (on time, overdue), resolved (early, on time, late).
    pub cells: Vec<Cell>,
    /// Resolved in all.
    pub resolved: i64,
    /// On-time rate as text.
    pub rate: String,
    /// Returned.
    pub returned: Cell,
}

fn line(name: String, f: &Figures, agency: Option<&str>, choice: &Choice) -> Line {
    let cell = |m: Metric| Cell {
        n: f.get(m),
        href: format!(
            "/lanh-dao/ho-so?metric={}&{}{}",
            m.name(),
            choice.query(),
            agency.map(|a| format!("&agency={}", encode(a))).unwrap_or_default()
        ),
        label: m.label(),
    };
    Line {
        name,
        cells: Metric::ALL[..6].iter().map(|m| cell(*m)).collect(),
        resolved: f.resolved(),
        rate: rate(f.on_time_permille()),
        returned: cell(Metric::Returned),
    }
}

/// One bar of the on-time chart.
pub struct Bar {
    /// Department.
    pub name: String,
    /// Rate as text.
    pub rate: String,
    /// Bar length in the SVG's units (0–100).
    pub width: i64,
    /// Below 90 %: drawn in the warning colour (and said in the text).
    pub low: bool,
}

/// The overview's per-department lines (named, biggest first) and the total line.
pub fn lines(dir: &Directory, figures: &[Figures], choice: &Choice) -> (Vec<Line>, Line, Vec<Bar>) {
    let mut sorted: Vec<&Figures> = figures.iter().collect();
    sorted.sort_by_key(|f| {
        (
            -f.get(Metric::Received) - f.in_progress() - f.resolved(),
            f.agency.clone(),
        )
    });
    let lines = sorted
        .iter()
        .map(|f| line(dir.name(&f.agency), f, Some(&f.agency), choice))
        .collect();
    let bars = sorted
        .iter()
        .filter_map(|f| f.on_time_permille().map(|p| (f, p)))
        .map(|(f, p)| Bar {
            name: dir.name(&f.agency),
            rate: rate(Some(p)),
            width: p / 10,
            low: p < 900,
        })
        .collect();
    let total = overview::total(figures);
    (lines, line("Toàn tỉnh".to_owned(), &total, None, choice), bars)
}

/// A preset of the period form.
pub struct Preset {
    /// Value.
    pub key: &'static str,
    /// Label.
    pub label: &'static str,
}

fn presets() -> Vec<Preset> {
    PRESETS.iter().map(|(key, label)| Preset { key, label }).collect()
}

#[derive(Template)]
#[template(path = "director/overview.html")]
struct OverviewPage {
    frame: Frame,
    choice: Choice,
    presets: Vec<Preset>,
    lines: Vec<Line>,
    total: Line,
    bars: Vec<Bar>,
    judged: String,
    failed: i64,
    dead: i64,
}

/// `GET /lanh-dao`: the province-wide overview for a period.
pub async fn overview_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let province = overseer(&state, &p).await?;
    let now = state.clock.now();
    let choice = q.choice(now);
    let figures = overview_figures(&state, &province, choice.period, now).await?;
    let (failed, dead) = {
        let mut tx = state.db.begin_read().await?;
        let (_, failed, dead) = motcua_store::outbox::counts(&mut tx, Some(province.as_str())).await?;
        (failed, dead)
    };
    let dir = directory(&state, &province).await?;
    let (lines, total, bars) = lines(&dir, &figures, &choice);
    Ok(page(&OverviewPage {
        frame: Frame::new(&state, Some(&p)).await?,
        judged: when(choice.period.judged_at(now)),
        presets: presets(),
        choice,
        lines,
        total,
        bars,
        failed,
        dead,
    }))
}

/// `?metric=&agency=&before=` with the period.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    metric: Option<String>,
    agency: Option<String>,
    before: Option<i64>,
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// One dossier of a list.
pub struct Row {
    /// Code.
    pub code: String,
    /// Procedure.
    pub procedure: String,
    /// Applicant.
    pub applicant: String,
    /// Status label.
    pub status: &'static str,
    /// Responsible department.
    pub department: String,
    /// Where it is now.
    pub holder: String,
    /// Accepted.
    pub received: String,
    /// Appointment.
    pub due: String,
    /// Result ready.
    pub finished: String,
    /// How late, for overdue dossiers ("3 ngày làm việc").
    pub late: String,
}

fn row(dir: &Directory, d: &Dossier) -> Row {
    let at = |t: Option<OffsetDateTime>| t.map(when).unwrap_or_default();
    Row {
        code: d.code.as_str().to_owned(),
        procedure: d.procedure_name.clone(),
        applicant: d.applicant.name.clone(),
        status: d.status.label(),
        department: dir.name(d.responsible_agency.as_str()),
        holder: dir.name(d.current_agency.as_str()),
        received: at(d.received_at),
        due: at(d.due_at),
        finished: at(d.finished_at),
        late: String::new(),
    }
}

/// Page size of the lists.
const PAGE: u32 = 50;

#[derive(Template)]
#[template(path = "director/list.html")]
struct ListPage {
    frame: Frame,
    title: String,
    choice: Choice,
    metric: &'static str,
    agency: String,
    agency_name: String,
    rows: Vec<Row>,
    next: Option<String>,
    back: String,
}

/// `GET /lanh-dao/ho-so`: the dossiers behind one number of the overview.
pub async fn list_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let province = overseer(&state, &p).await?;
    let now = state.clock.now();
    let choice = PeriodQuery {
        period: q.period,
        from: q.from,
        to: q.to,
    }
    .choice(now);
    let metric = Metric::parse(q.metric.as_deref().unwrap_or("received")).ok_or_else(|| {
        PageError::from(crate::error::AppError::bad(
            "invalid_parameter",
            "metric",
            "Chỉ tiêu không hợp lệ.",
        ))
    })?;
    let agency = q.agency.filter(|a| !a.is_empty());
    let rows = {
        let mut tx = state.db.begin_read().await?;
        overview::dossiers(
            &mut tx,
            &province,
            Behind {
                period: choice.period,
                now,
                metric,
                agency: agency.as_deref(),
                before_id: q.before,
                limit: PAGE,
            },
        )
        .await?
    };
    let dir = directory(&state, &province).await?;
    let agency_name = agency
        .as_deref()
        .map_or_else(|| "Toàn tỉnh".to_owned(), |a| dir.name(a));
    let here = format!(
        "/lanh-dao/ho-so?metric={}&{}{}",
        metric.name(),
        choice.query(),
        agency
            .as_deref()
            .map(|a| format!("&agency={}", encode(a)))
            .unwrap_or_default()
    );
    let next = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| format!("{here}&before={}", r.id)))
        .flatten();
    Ok(page(&ListPage {
        frame: Frame::new(&state, Some(&p)).await?,
        title: format!("{}: {} — {}", metric.label(), agency_name, choice.label),
        back: format!("/lanh-dao?{}", choice.query()),
        choice,
        metric: metric.name(),
        agency: agency.unwrap_or_default(),
        agency_name,
        rows: rows.iter().map(|s| row(&dir, &s.dossier)).collect(),
        next,
    }))
}

/// `?agency=` of the overdue list.
#[derive(Debug, Deserialize)]
pub struct OverdueQuery {
    agency: Option<String>,
}

/// A department on the overdue list.
pub struct Department {
    /// Code (for the filter link).
    pub code: String,
    /// Name.
    pub name: String,
    /// Overdue dossiers.
    pub count: i64,
}

#[derive(Template)]
#[template(path = "director/overdue.html")]
struct OverduePage {
    frame: Frame,
    departments: Vec<Department>,
    agency: String,
    agency_name: String,
    total: i64,
    shown: usize,
    truncated: bool,
    rows: Vec<Row>,
    now: String,
}

/// Most rows of the overdue list.
const OVERDUE_LIMIT: u32 = 500;

/// How late `due` is at `now`, in working time on the province calendar.
fn lateness(calendar: &motcua_core::calendar::Calendar, due: OffsetDateTime, now: OffsetDateTime) -> String {
    let minutes = calendar.working_minutes_between(due, now);
    let per_day = u64::from(calendar.minutes_per_working_day().max(1));
    match (minutes / per_day, (minutes % per_day) / 60) {
        (0, 0) => "dưới 1 giờ làm việc".to_owned(),
        (0, h) => format!("{h} giờ làm việc"),
        (d, 0) => format!("{d} ngày làm việc"),
        (d, h) => format!("{d} ngày {h} giờ làm việc"),
    }
}

/// `GET /lanh-dao/qua-han`: the province's overdue dossiers, oldest appointment first,
/// with how many each department has.
pub async fn overdue_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<OverdueQuery>,
) -> Result<Response, PageError> {
    let province = overseer(&state, &p).await?;
    let now = state.clock.now();
    let agency = q.agency.filter(|a| !a.is_empty());
    let (stored, counts): (_, BTreeMap<String, i64>) = {
        let mut tx = state.db.begin_read().await?;
        overview::overdue(&mut tx, &province, now, agency.as_deref(), OVERDUE_LIMIT).await?
    };
    let dir = directory(&state, &province).await?;
    let calendar = crate::api::calendar::calendar(&state, &province).await?;
    let mut departments: Vec<Department> = counts
        .iter()
        .map(|(code, n)| Department {
            code: code.clone(),
            name: dir.name(code),
            count: *n,
        })
        .collect();
    departments.sort_by_key(|d| (-d.count, d.name.clone()));
    let total = agency
        .as_deref()
        .map_or_else(|| counts.values().sum(), |a| counts.get(a).copied().unwrap_or(0));
    let rows: Vec<Row> = stored
        .iter()
        .map(|s| {
            let mut r = row(&dir, &s.dossier);
            r.late = s
                .dossier
                .due_at
                .map(|due| lateness(&calendar, due, now))
                .unwrap_or_default();
            r
        })
        .collect();
    Ok(page(&OverduePage {
        frame: Frame::new(&state, Some(&p)).await?,
        departments,
        agency_name: agency
            .as_deref()
            .map_or_else(|| "Toàn tỉnh".to_owned(), |a| dir.name(a)),
        agency: agency.unwrap_or_default(),
        total,
        shown: rows.len(),
        truncated: i64::try_from(rows.len()).unwrap_or(i64::MAX) < total,
        rows,
        now: when(now),
    }))
}
