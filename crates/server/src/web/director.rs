//! Pages of the director area: the province-wide overview for a period (per department:
//! received, in progress within deadline / overdue, resolved early / on time / late,
//! on-time rate, returned), the list of dossiers behind each of its numbers, and the
//! overdue list. The figures come from one function, [`overview_figures`], over
//! `motcua_store::overview` (SQL aggregates today; issue 8's maintained aggregates later).

pub mod dashboard;

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use motcua_core::access::Reach;
use motcua_core::codes::ProvinceCode;
use motcua_core::lifecycle::Dossier;
use motcua_core::rules::RuleSet;
use motcua_store::overview::{self, Behind, Figures, Metric, Narrow, Period};
use serde::Deserialize;
use time::OffsetDateTime;

use self::dashboard::Lists;
use super::charts::{self, Bar};
use super::{Frame, SignedIn, encode, filters, page, require, when};
use crate::auth::Principal;
use crate::service::dossiers::{Directory, directory};
use crate::service::period::{Choice, PRESETS, PeriodQuery};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/lanh-dao", get(overview_page))
        .route("/lanh-dao/ho-so", get(list_page))
        .route("/lanh-dao/qua-han", get(overdue_page))
}

/// Whose figures the director's pages show ([`motcua_core::access::Access::oversight`]).
enum Oversight {
    /// The province's: the provincial centre's director, an administrator.
    Province,
    /// A commune centre head's own: the dossiers received at these centres or decided by
    /// these agencies (their centre and its commune), by code.
    Own(Vec<String>),
}

impl Oversight {
    /// Whether a list of `agency` (responsible) or `centre` (receiving) is theirs to see.
    fn covers(&self, agency: Option<&str>, centre: Option<&str>) -> bool {
        match self {
            Oversight::Province => true,
            Oversight::Own(set) => [agency, centre]
                .into_iter()
                .flatten()
                .any(|a| set.iter().any(|s| s == a)),
        }
    }

    /// The agency whose dossiers stand for a head's own when no other is named: their
    /// commune (the first agency reached that is not a centre), else their centre.
    fn main(&self, dir: &Directory) -> Option<String> {
        let Oversight::Own(set) = self else { return None };
        set.iter().find(|a| !dir.is_centre(a)).or_else(|| set.first()).cloned()
    }
}

async fn overseer(state: &AppState, p: &Principal) -> Result<(ProvinceCode, Oversight), PageError> {
    let province = state.province(None).await?;
    match p.access.oversight(&province) {
        Some(Reach::Province) => Ok((province, Oversight::Province)),
        Some(Reach::Agencies(set)) if !set.is_empty() => Ok((
            province,
            Oversight::Own(set.iter().map(|a| a.as_str().to_owned()).collect()),
        )),
        _ => Err(PageError::from(crate::error::AppError::Forbidden(
            "Bạn không có quyền xem số liệu tổng hợp toàn tỉnh.".to_owned(),
        ))),
    }
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
    /// The count as shown (`1.538`).
    pub text: String,
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

/// What a line's figures are narrowed to in the lists behind them: the responsible agency
/// (`agency=`) or the receiving centre (`centre=`).
#[derive(Clone, Copy)]
enum Key {
    Agency,
    Centre,
}

fn line(name: String, f: &Figures, narrowed: Option<(Key, &str)>, choice: &Choice) -> Line {
    let cell = |m: Metric| Cell {
        n: f.get(m),
        text: charts::num(f.get(m)),
        href: format!(
            "/lanh-dao/ho-so?metric={}&{}{}",
            m.name(),
            choice.query(),
            match narrowed {
                Some((Key::Agency, a)) => format!("&agency={}", encode(a)),
                Some((Key::Centre, c)) => format!("&centre={}", encode(c)),
                None => String::new(),
            }
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
        .map(|f| line(dir.name(&f.agency), f, Some((Key::Agency, &f.agency)), choice))
        .collect();
    let bars = sorted
        .iter()
        .filter_map(|f| f.on_time_permille().map(|p| (f, p)))
        .map(|(f, p)| Bar {
            label: dir.name(&f.agency),
            text: rate(Some(p)),
            permille: p,
            low: p < 900,
            note: "dưới 90 %".to_owned(),
            href: (f.get(Metric::ResolvedLate) > 0).then(|| {
                format!(
                    "/lanh-dao/ho-so?metric=late&{}&agency={}",
                    choice.query(),
                    encode(&f.agency)
                )
            }),
        })
        .collect();
    let total = overview::total(figures);
    (lines, line("Toàn tỉnh".to_owned(), &total, None, choice), bars)
}

/// The lines of the overview per receiving centre (the tree's order) and their total,
/// which is the province's: every dossier has one receiving agency.
fn centre_lines(dir: &Directory, figures: &[Figures], choice: &Choice) -> (Vec<Line>, Line) {
    let mut ordered: Vec<&Figures> = figures.iter().collect();
    let rank = |code: &str| {
        dir.tree
            .centres()
            .iter()
            .position(|c| c.code.as_str() == code)
            .unwrap_or(usize::MAX)
    };
    ordered.sort_by_key(|f| (rank(&f.agency), f.agency.clone()));
    let lines = ordered
        .iter()
        .map(|f| line(dir.name(&f.agency), f, Some((Key::Centre, &f.agency)), choice))
        .collect();
    // The total links nowhere: every dossier is in one centre's line.
    let mut total = line("Toàn tỉnh".to_owned(), &overview::total(figures), None, choice);
    unlink(&mut total);
    (lines, total)
}

/// A preset of the period form.
pub struct Preset {
    /// Value.
    pub key: &'static str,
    /// Label.
    pub label: &'static str,
}

/// What both dashboards (the director's overview and a department's) show around their
/// own tables: the period form and what its figures mean (`director/period_fields.html`),
/// and the charts (`director/charts.html`).
pub struct Dashboard {
    /// The period shown.
    pub choice: Choice,
    /// The period form's presets.
    pub presets: Vec<Preset>,
    /// When the dossiers not finished yet are judged.
    pub judged: String,
    /// Now, which the overdue chart is judged at whatever the period.
    pub now: String,
    /// Average working time of the resolved dossiers.
    pub average: String,
    /// Received and resolved over the period.
    pub trend: String,
    /// Channel mix.
    pub channels: String,
    /// Overdue now by department and age.
    pub overdue: String,
    /// Overdue dossiers now.
    pub overdue_total: i64,
}

impl Dashboard {
    /// The period `choice` judged at `now`, with its `charts`; the overdue chart names the
    /// departments from `dir` and links to `lists`.
    pub fn new(
        choice: Choice,
        now: OffsetDateTime,
        charts: DashboardCharts,
        dir: &Directory,
        lists: &Lists,
    ) -> Dashboard {
        Dashboard {
            presets: PRESETS.iter().map(|(key, label)| Preset { key, label }).collect(),
            judged: when(choice.period.judged_at(now)),
            now: when(now),
            average: charts.average,
            trend: charts.trend,
            channels: charts.channels,
            overdue: dashboard::overdue_chart("overdue", &charts.ages, |a| dir.name(a), lists),
            overdue_total: charts.overdue_total,
            choice,
        }
    }
}

#[derive(Template)]
#[template(path = "director/overview.html")]
struct OverviewPage {
    frame: Frame,
    dash: Dashboard,
    lines: Vec<Line>,
    total: Line,
    ontime: String,
    failed: i64,
    dead: i64,
    /// Per receiving centre, when the province has more than one.
    by_centre: Option<(Vec<Line>, Line)>,
    /// A commune centre head's own page: their centre's name (`None`: the province's).
    own: Option<String>,
}

/// `GET /lanh-dao`: the province-wide overview for a period, or a commune centre head's
/// own (their centre and their commune).
pub async fn overview_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let (province, oversight) = overseer(&state, &p).await?;
    let now = state.clock.now();
    let choice = super::dates::period(q).choice(now);
    let dir = directory(&state, &province).await?;
    // A head's charts are of their commune's dossiers; their lists stay theirs.
    let main = oversight.main(&dir);
    let lists = Lists {
        figure: "/lanh-dao/ho-so".to_owned(),
        overdue: "/lanh-dao/qua-han".to_owned(),
        extra: main
            .as_deref()
            .map(|a| format!("&agency={}", encode(a)))
            .unwrap_or_default(),
    };
    let outbox = async {
        if matches!(oversight, Oversight::Own(_)) {
            // The outbox is the province's operations, not a commune's.
            return Ok((0, 0));
        }
        let mut tx = state.db.begin_read().await?;
        let (_, failed, dead) = motcua_store::outbox::counts(&mut tx, Some(province.as_str())).await?;
        Ok::<_, PageError>((failed, dead))
    };
    let departments = async {
        match &oversight {
            Oversight::Province => Ok(None),
            Oversight::Own(_) => dashboard::figures(
                &state,
                &province,
                &choice,
                now,
                motcua_core::stats::Dimension::Department,
                None,
            )
            .await
            .map(Some),
        }
    };
    let by_centre = async {
        // A province with centres in its communes: the same figures per receiving centre.
        if dir.tree.centres().len() > 1 {
            dashboard::figures(
                &state,
                &province,
                &choice,
                now,
                motcua_core::stats::Dimension::Centre,
                None,
            )
            .await
            .map(Some)
        } else {
            Ok(None)
        }
    };
    // The charts' parts, the outbox counts and the figures are independent reads: made
    // at once, each on its own connection.
    let (charts, outbox, departments, centres) = tokio::join!(
        dashboard_charts(&state, &province, &choice, now, main.as_deref(), &lists),
        outbox,
        departments,
        by_centre
    );
    let (mut charts, (failed, dead), departments, centres) = (charts?, outbox?, departments?, centres?);
    let theirs = |figures: Vec<Figures>| match &oversight {
        Oversight::Province => figures,
        Oversight::Own(_) => figures
            .into_iter()
            .filter(|f| oversight.covers(Some(&f.agency), None))
            .collect(),
    };
    let by_centre = centres.map(|c| centre_lines(&dir, &theirs(motcua_store::overview::from_lines(c)), &choice));
    // The table's lines are the charts' figures per department (the same query), or a
    // head's agencies among the province's.
    let figures = theirs(motcua_store::overview::from_lines(
        departments.unwrap_or_else(|| std::mem::take(&mut charts.lines)),
    ));
    let (lines, mut total, bars) = lines(&dir, &figures, &choice);
    let own = match &oversight {
        Oversight::Province => None,
        Oversight::Own(set) => {
            // Their total is not the province's, and no list stands behind it.
            total.name = "Tổng".to_owned();
            let centre = set.iter().find(|a| dir.is_centre(a)).or(main.as_ref());
            Some(centre.map(|c| dir.name(c)).unwrap_or_default())
        }
    };
    let mut by_centre = by_centre;
    if own.is_some() {
        unlink(&mut total);
        if let Some((_, t)) = &mut by_centre {
            t.name = "Tổng".to_owned();
        }
    }
    Ok(page(&OverviewPage {
        frame: Frame::new(&state, Some(&p)).await?,
        ontime: charts::bar_chart(
            "ontime",
            &format!("Tỉ lệ giải quyết đúng hạn theo đơn vị, {}", choice.label),
            &bars,
        ),
        dash: Dashboard::new(choice, now, charts, &dir, &lists),
        lines,
        total,
        failed,
        dead,
        by_centre,
        own,
    }))
}

/// A line whose numbers link to no list (a head's total: their lists are per agency).
fn unlink(l: &mut Line) {
    for c in l.cells.iter_mut().chain(std::iter::once(&mut l.returned)) {
        c.href.clear();
    }
}

/// The charts every dashboard shows: the trend of the period, the channels of the
/// dossiers received, the overdue dossiers by age (now).
pub struct DashboardCharts {
    /// Received and resolved over the period.
    pub trend: String,
    /// Channel mix.
    pub channels: String,
    /// Overdue now by department and age ([`dashboard::overdue_ages`]), for
    /// [`dashboard::overdue_chart`].
    pub ages: Vec<(String, [i64; 4])>,
    /// Overdue dossiers now.
    pub overdue_total: i64,
    /// Average working time from receipt to result of the dossiers resolved in the period
    /// (supplement and payment waits left out), as text; `—` when none was resolved.
    pub average: String,
    /// The period's figures per department.
    pub lines: Vec<motcua_store::stats::Line>,
}

/// `2 ngày 3 giờ làm việc` from working minutes and the calendar's working day.
pub fn working_time(minutes: i64, per_day: i64) -> String {
    let per_day = per_day.max(1);
    match (minutes / per_day, (minutes % per_day) / 60) {
        (0, 0) => "dưới 1 giờ làm việc".to_owned(),
        (0, h) => format!("{h} giờ làm việc"),
        (d, 0) => format!("{d} ngày làm việc"),
        (d, h) => format!("{d} ngày {h} giờ làm việc"),
    }
}

/// Builds [`DashboardCharts`] for the province or one department; its reads are made at
/// once, each on its own connection.
pub async fn dashboard_charts(
    state: &AppState,
    province: &ProvinceCode,
    choice: &Choice,
    now: OffsetDateTime,
    department: Option<&str>,
    lists: &Lists,
) -> Result<DashboardCharts, PageError> {
    let grain = dashboard::grain(dashboard::days(choice.period));
    let (points, lines, ages, calendar) = tokio::join!(
        dashboard::trend(state, province, choice.period, grain, department),
        dashboard::figures(
            state,
            province,
            choice,
            now,
            motcua_core::stats::Dimension::Department,
            department,
        ),
        dashboard::overdue_ages(state, province, now, department),
        crate::service::calendar::calendar(state, province),
    );
    let (points, lines, ages, calendar) = (points?, lines?, ages?, calendar?);
    let trend = dashboard::trend_chart(
        "trend",
        &format!("Hồ sơ tiếp nhận và đã giải quyết, {}", choice.label),
        &points,
        grain,
        Some(lists),
    );
    let total = motcua_store::stats::total(&lines);
    let channels = dashboard::channel_chart("channels", &total, &choice.query(), Some(lists));
    let per_day = i64::from(calendar.minutes_per_working_day());
    Ok(DashboardCharts {
        average: total
            .average_minutes()
            .map_or_else(|| "—".to_owned(), |m| working_time(m, per_day)),
        trend,
        channels,
        overdue_total: ages.iter().map(|(_, c)| c.iter().sum::<i64>()).sum(),
        ages,
        lines,
    })
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
    /// Only dossiers filed through this channel (1 counter, 2 online, 3 post).
    channel: Option<String>,
    /// Only dossiers of this procedure.
    procedure: Option<String>,
    /// Only dossiers assigned to this officer (`-` for nobody).
    officer: Option<String>,
    /// Only dossiers received at this centre.
    centre: Option<String>,
}

impl ListQuery {
    /// The agency asked for.
    pub fn agency(&self) -> Option<&str> {
        self.agency.as_deref()
    }
}

impl OverdueQuery {
    /// The agency asked for.
    pub fn agency(&self) -> Option<&str> {
        self.agency.as_deref()
    }
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
    pub status: String,
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

fn row(dir: &Directory, rules: &RuleSet, d: &Dossier) -> Row {
    let at = |t: Option<OffsetDateTime>| t.map(when).unwrap_or_default();
    Row {
        code: d.code.as_str().to_owned(),
        procedure: d.procedure_name.clone(),
        applicant: d.applicant.name.clone(),
        status: rules.status_label(d.status).to_owned(),
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
    let (province, oversight) = overseer(&state, &p).await?;
    let agency = q.agency.clone().filter(|a| !a.is_empty());
    let centre = q.centre.as_deref().filter(|c| !c.is_empty());
    require(
        oversight.covers(agency.as_deref(), centre),
        "xem hồ sơ ngoài trung tâm và xã, phường của mình",
    )?;
    dossier_list(&state, &p, &province, q, agency, "/lanh-dao/ho-so", "/lanh-dao").await
}

/// The list of dossiers behind one number, of `agency` (all if `None`); `base` is the
/// list's own address, `home` the dashboard it came from. The caller checked access.
pub async fn dossier_list(
    state: &AppState,
    p: &Principal,
    province: &ProvinceCode,
    q: ListQuery,
    agency: Option<String>,
    base: &str,
    home: &str,
) -> Result<Response, PageError> {
    let state = state.clone();
    let province = province.clone();
    let now = state.clock.now();
    let choice = super::dates::period(PeriodQuery {
        period: q.period,
        from: q.from,
        to: q.to,
    })
    .choice(now);
    let metric = Metric::parse(q.metric.as_deref().unwrap_or("received")).ok_or_else(|| {
        PageError::from(crate::error::AppError::bad(
            "invalid_parameter",
            "metric",
            "Chỉ tiêu không hợp lệ.",
        ))
    })?;
    let bad = |field: &'static str, message: &'static str| {
        PageError::from(crate::error::AppError::bad("invalid_parameter", field, message))
    };
    let channel = match q.channel.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(
            c.parse::<u8>()
                .ok()
                .filter(|c| (1..=3).contains(c))
                .ok_or_else(|| bad("channel", "Kênh nộp hồ sơ không hợp lệ."))?,
        ),
    };
    let procedure = q.procedure.filter(|s| !s.is_empty());
    let officer = q
        .officer
        .filter(|s| !s.is_empty())
        .map(|o| if o == "-" { String::new() } else { o });
    let centre = q.centre.filter(|s| !s.is_empty());
    let narrow = Narrow {
        channel,
        procedure: procedure.as_deref(),
        officer: officer.as_deref(),
        centre: centre.as_deref(),
    };
    let rows = {
        let mut tx = state.db.begin_read().await?;
        overview::dossiers_narrowed(
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
            narrow,
        )
        .await?
    };
    let dir = directory(&state, &province).await?;
    let rules = crate::service::rules::now(&state).await?;
    let agency_name = agency
        .as_deref()
        .map_or_else(|| "Toàn tỉnh".to_owned(), |a| dir.name(a));
    let mut here = format!(
        "{base}?metric={}&{}{}",
        metric.name(),
        choice.query(),
        agency
            .as_deref()
            .map(|a| format!("&agency={}", encode(a)))
            .unwrap_or_default()
    );
    let mut narrowed = Vec::new();
    if let Some(c) = channel {
        here.push_str(&format!("&channel={c}"));
        if let Some((_, l)) = dashboard::CHANNELS.iter().find(|(ch, _)| ch.code() == c) {
            narrowed.push(format!("kênh {}", l.to_lowercase()));
        }
    }
    if let Some(pr) = &procedure {
        here.push_str(&format!("&procedure={}", encode(pr)));
        narrowed.push(format!("thủ tục {pr}"));
    }
    if let Some(o) = &officer {
        here.push_str(&format!(
            "&officer={}",
            if o.is_empty() { "-".to_owned() } else { encode(o) }
        ));
        let name = if o.is_empty() {
            "chưa phân công".to_owned()
        } else {
            let mut tx = state.db.begin_read().await?;
            motcua_store::accounts::user_by_id(&mut tx, o)
                .await?
                .map_or_else(|| o.clone(), |u| u.display_name)
        };
        narrowed.push(format!("cán bộ {name}"));
    }
    let narrowed = if narrowed.is_empty() {
        String::new()
    } else {
        format!(" ({})", narrowed.join(", "))
    };
    let next = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| format!("{here}&before={}", r.id)))
        .flatten();
    Ok(page(&ListPage {
        frame: Frame::new(&state, Some(p)).await?,
        title: format!("{}: {}{narrowed} — {}", metric.label(), agency_name, choice.label),
        back: format!(
            "{home}?{}{}",
            choice.query(),
            if home == "/lanh-dao" {
                String::new()
            } else {
                agency
                    .as_deref()
                    .map(|a| format!("&agency={}", encode(a)))
                    .unwrap_or_default()
            }
        ),
        choice,
        metric: metric.name(),
        agency: agency.unwrap_or_default(),
        agency_name,
        rows: rows.iter().map(|s| row(&dir, &rules, &s.dossier)).collect(),
        next,
    }))
}

/// `?agency=` of the overdue list.
#[derive(Debug, Deserialize)]
pub struct OverdueQuery {
    agency: Option<String>,
    /// Only this age bucket (`1`–`4`, see [`dashboard::AGES`]).
    age: Option<String>,
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
    base: String,
    home: String,
    age: String,
    age_label: String,
    ages: Vec<Preset>,
}

/// Most rows of the overdue list.
const OVERDUE_LIMIT: u32 = 500;

/// How late `due` is at `now`, in working time on the province calendar.
fn lateness(calendar: &motcua_core::calendar::Calendar, due: OffsetDateTime, now: OffsetDateTime) -> String {
    let minutes = i64::try_from(calendar.working_minutes_between(due, now)).unwrap_or(i64::MAX);
    working_time(minutes, i64::from(calendar.minutes_per_working_day()))
}

/// `GET /lanh-dao/qua-han`: the province's overdue dossiers, oldest appointment first,
/// with how many each department has.
pub async fn overdue_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<OverdueQuery>,
) -> Result<Response, PageError> {
    let (province, oversight) = overseer(&state, &p).await?;
    let mut agency = q.agency.clone().filter(|a| !a.is_empty());
    let own = matches!(oversight, Oversight::Own(_));
    if own {
        // A head's overdue list is one of their agencies' (their commune's by default).
        if agency.is_none() {
            agency = oversight.main(&*directory(&state, &province).await?);
        }
        require(
            oversight.covers(agency.as_deref(), None),
            "xem hồ sơ ngoài trung tâm và xã, phường của mình",
        )?;
    }
    overdue_list(&state, &p, &province, q, agency, own, "/lanh-dao/qua-han", "/lanh-dao").await
}

/// The overdue list of `agency` (all if `None`); `own` when it is a department's own page
/// (no other department is shown). The caller checked access.
#[allow(clippy::too_many_arguments, reason = "the scope of the list, spelled out")]
pub async fn overdue_list(
    state: &AppState,
    p: &Principal,
    province: &ProvinceCode,
    q: OverdueQuery,
    agency: Option<String>,
    own: bool,
    base: &str,
    home: &str,
) -> Result<Response, PageError> {
    let (state, province) = (state.clone(), province.clone());
    let now = state.clock.now();
    let age = match q.age.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(a) => Some(dashboard::age_of_key(a).ok_or_else(|| {
            PageError::from(crate::error::AppError::bad(
                "invalid_parameter",
                "age",
                "Nhóm số ngày trễ hẹn không hợp lệ.",
            ))
        })?),
    };
    let (mut stored, mut counts): (Vec<motcua_store::dossiers::Stored>, BTreeMap<String, i64>) = {
        let mut tx = state.db.begin_read().await?;
        let limit = if age.is_some() { 1000 } else { OVERDUE_LIMIT };
        overview::overdue(&mut tx, &province, now, agency.as_deref(), limit).await?
    };
    if own {
        counts.retain(|a, _| agency.as_deref() == Some(a.as_str()));
    }
    let dir = directory(&state, &province).await?;
    let rules = crate::service::rules::now(&state).await?;
    let calendar = crate::service::calendar::calendar(&state, &province).await?;
    let mut age_total = None;
    if let Some(bucket) = age {
        let in_bucket =
            |due: Option<OffsetDateTime>| due.is_some_and(|d| dashboard::age_bucket(&calendar, d, now) == bucket);
        stored.retain(|s| in_bucket(s.dossier.due_at));
        let all = {
            let mut tx = state.db.begin_read().await?;
            overview::overdue_due(&mut tx, &province, now, agency.as_deref()).await?
        };
        age_total = Some(all.iter().filter(|(_, d)| in_bucket(Some(*d))).count() as i64);
    }
    let mut departments: Vec<Department> = counts
        .iter()
        .map(|(code, n)| Department {
            code: code.clone(),
            name: dir.name(code),
            count: *n,
        })
        .collect();
    departments.sort_by_key(|d| (-d.count, d.name.clone()));
    if own {
        departments.clear();
    }
    let total = age_total.unwrap_or_else(|| {
        agency
            .as_deref()
            .map_or_else(|| counts.values().sum(), |a| counts.get(a).copied().unwrap_or(0))
    });
    let rows: Vec<Row> = stored
        .iter()
        .map(|s| {
            let mut r = row(&dir, &rules, &s.dossier);
            r.late = s
                .dossier
                .due_at
                .map(|due| lateness(&calendar, due, now))
                .unwrap_or_default();
            r
        })
        .collect();
    Ok(page(&OverduePage {
        frame: Frame::new(&state, Some(p)).await?,
        base: base.to_owned(),
        home: if own {
            format!("{home}?agency={}", encode(agency.as_deref().unwrap_or_default()))
        } else {
            home.to_owned()
        },
        age: age.map(|i| dashboard::AGES[i].0.to_owned()).unwrap_or_default(),
        age_label: age
            .map(|i| format!(", trễ {} làm việc", dashboard::AGES[i].1))
            .unwrap_or_default(),
        ages: dashboard::AGES
            .iter()
            .map(|(key, label)| Preset { key, label })
            .collect(),
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
