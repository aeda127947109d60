//! Pages of evaluation (docs/rules.md §6, issue 8 items 3–4): the public rating link on the
//! result-ready notice (`/danh-gia/{code}`, with the rating code that notice sent), the counter's kiosk rating screen
//! (`/quay/danh-gia`), satisfaction per officer and per counter and the "not satisfied"
//! feedback list (`/lanh-dao/danh-gia`, `/lanh-dao/khong-hai-long`), the score sheets of
//! the 9 published indices per dossier (`/ho-so/{code}/phieu-danh-gia`) and per agency
//! (`/lanh-dao/phieu-danh-gia`), the Decision 766 service index
//! (`/lanh-dao/chi-so-phuc-vu`), each scored by the rule version of its period (its
//! points and targets: `/quan-tri/quy-dinh`). Pages only read; the forms post to the JSON API
//! (`crate::service::ratings`, `crate::service::evaluation`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use motcua_core::access::Role;
use motcua_core::catalogue::AgencyKind;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::dossier::DossierCode;
use motcua_core::evaluation::{Index, IndexCode, Satisfaction, Tally};
use motcua_store::ratings::{self, By};
use serde::Deserialize;

use super::director::rate;
use super::{Frame, SignedIn, Viewer, filters, page, require, when, when_ms};
use crate::auth::Principal;
use crate::service::dossiers::directory;
use crate::service::evaluation::{self as eval, FORMULA, IndexResult};
use crate::service::period::{Choice, PRESETS, PeriodQuery};
use crate::state::AppState;
use crate::web::pages::PageError;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/danh-gia/{code}", get(link_page))
        .route("/quay/danh-gia", get(kiosk_page))
        .route("/lanh-dao/danh-gia", get(satisfaction_page))
        .route("/lanh-dao/khong-hai-long", get(not_satisfied_page))
        .route("/lanh-dao/phieu-danh-gia", get(agency_sheet_page))
        .route("/ho-so/{code}/phieu-danh-gia", get(dossier_sheet_page))
        .route("/lanh-dao/chi-so-phuc-vu", get(index_page))
        .route("/quan-tri/chi-so-phuc-vu", get(old_criteria_page))
}

/// A period preset as the period form lists it.
pub struct Preset {
    /// `thang`, …
    pub key: &'static str,
    /// Label.
    pub label: &'static str,
}

/// The period presets, as the period form lists them.
pub(crate) fn presets() -> Vec<Preset> {
    PRESETS.iter().map(|(key, label)| Preset { key, label }).collect()
}

/// `12,3 %` from a per mille, `—` when none.
fn percent(permille: Option<i64>) -> String {
    rate(permille)
}

/// `12,34` from hundredths.
fn centi(v: i64) -> String {
    format!("{},{:02}", v / 100, v % 100)
}

// ---- The rating link -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "evaluation/link.html")]
struct LinkPage {
    frame: Frame,
    code: String,
    error: Option<String>,
}

/// `GET /danh-gia/{code}`: the rating link of the result-ready notice. No login and no
/// look-up: the page asks for the rating code that notice sent to the applicant's own
/// email or phone, and the rating is checked when sent (`POST
/// /api/v1/track/{code}/rating`), so the page tells nothing about the dossier, not even
/// whether the code exists.
pub async fn link_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let frame = Frame::new(&state, viewer.0.as_ref()).await?;
    match DossierCode::parse(code.trim()) {
        Ok(code) => Ok(page(&LinkPage {
            frame,
            code: code.as_str().to_owned(),
            error: None,
        })),
        Err(_) => {
            let shown = LinkPage {
                frame,
                code: String::new(),
                error: Some("Mã hồ sơ trong đường dẫn không đúng.".to_owned()),
            };
            Ok((StatusCode::NOT_FOUND, page(&shown)).into_response())
        }
    }
}

// ---- The kiosk ---------------------------------------------------------------------------

/// A dossier just handed over and not rated yet.
pub struct Recent {
    /// Code.
    pub code: String,
    /// When it was handed over.
    pub at: String,
}

#[derive(Template)]
#[template(path = "evaluation/kiosk.html")]
struct KioskPage {
    frame: Frame,
    recent: Vec<Recent>,
    officer: String,
}

/// `GET /quay/danh-gia`: the kiosk screen a counter officer turns to the citizen at the
/// desk, to rate the dossier whose result was just handed over (today's, by this officer).
pub async fn kiosk_page(State(state): State<AppState>, SignedIn(p): SignedIn) -> Result<Response, PageError> {
    require(
        p.access.has_role(Role::CounterOfficer),
        "mở màn hình đánh giá tại quầy (dành cho cán bộ tiếp nhận, trả kết quả)",
    )?;
    let now = state.clock.now();
    let today = now.to_offset(super::VN).date().midnight().assume_offset(super::VN);
    let mut tx = state.db.begin_read().await?;
    let recent = ratings::unrated_returned_by(&mut tx, &p.actor(), today, 30)
        .await?
        .into_iter()
        .map(|u| Recent {
            code: u.code,
            at: when_ms(u.returned_at),
        })
        .collect();
    drop(tx);
    Ok(page(&KioskPage {
        frame: Frame::new(&state, Some(&p)).await?,
        recent,
        officer: p.user.as_ref().map(|u| u.display_name.clone()).unwrap_or_default(),
    }))
}

// ---- Satisfaction per officer and per counter ----------------------------------------------

fn is_leader(p: &Principal, province: &ProvinceCode) -> bool {
    p.access.has_role_in(Role::DepartmentLeader, province)
}

/// One line of a satisfaction table.
pub struct TallyLine {
    /// Officer or counter name.
    pub name: String,
    /// The counts.
    pub t: ratings::Tally,
    /// Satisfied rate.
    pub rate: String,
}

#[derive(Template)]
#[template(path = "evaluation/satisfaction.html")]
struct SatisfactionPage {
    frame: Frame,
    action: &'static str,
    presets: Vec<Preset>,
    choice: Choice,
    officers: Vec<TallyLine>,
    counters: Vec<TallyLine>,
    total: TallyLine,
    director: bool,
}

/// `GET /lanh-dao/danh-gia`: satisfaction per officer (who handed the result over) and
/// per counter, for a period (director, administrator, department leaders).
pub async fn satisfaction_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let director = p.access.may_oversee(&province);
    require(
        director || is_leader(&p, &province),
        "xem kết quả đánh giá mức độ hài lòng",
    )?;
    let choice = q.choice(state.clock.now());
    let dir = directory(&state, &province).await?;
    let mut tx = state.db.begin_read().await?;
    let by_officer = ratings::tallies(&mut tx, province.as_str(), choice.period, By::Officer).await?;
    let by_counter = ratings::tallies(&mut tx, province.as_str(), choice.period, By::Counter).await?;
    drop(tx);
    let mut total = ratings::Tally::default();
    for t in &by_officer {
        total.very_satisfied += t.very_satisfied;
        total.satisfied += t.satisfied;
        total.not_satisfied += t.not_satisfied;
    }
    let line = |name: String, t: ratings::Tally| TallyLine {
        name,
        rate: percent(t.satisfied_permille()),
        t,
    };
    Ok(page(&SatisfactionPage {
        frame: Frame::new(&state, Some(&p)).await?,
        action: "/lanh-dao/danh-gia",
        presets: presets(),
        officers: by_officer
            .into_iter()
            .map(|t| {
                let name = if t.key.is_empty() {
                    "(Chưa trả kết quả tại quầy)".to_owned()
                } else {
                    t.name.clone()
                };
                line(name, t)
            })
            .collect(),
        counters: by_counter
            .into_iter()
            .map(|t| {
                let name = if t.key.is_empty() {
                    "(Chưa trả kết quả tại quầy)".to_owned()
                } else {
                    dir.name(&t.key)
                };
                line(name, t)
            })
            .collect(),
        total: line("Toàn tỉnh".to_owned(), total),
        choice,
        director,
    }))
}

/// One "not satisfied" feedback.
pub struct Feedback {
    /// When.
    pub at: String,
    /// Dossier code.
    pub code: String,
    /// Who handed the result over.
    pub officer: String,
    /// Counter.
    pub counter: String,
    /// How it was given.
    pub channel: &'static str,
    /// What the citizen wrote.
    pub comment: String,
}

fn channel_label(c: &str) -> &'static str {
    match c {
        "online" => "Trực tuyến",
        "link" => "Đường dẫn, mã QR trên kết quả",
        "kiosk" => "Tại quầy",
        _ => "Khác",
    }
}

#[derive(Template)]
#[template(path = "evaluation/not_satisfied.html")]
struct NotSatisfiedPage {
    frame: Frame,
    action: &'static str,
    presets: Vec<Preset>,
    choice: Choice,
    items: Vec<Feedback>,
    limit: i64,
}

/// Most feedback lines a page lists.
const FEEDBACK_LIMIT: i64 = 500;

/// `GET /lanh-dao/khong-hai-long`: the director's list of "not satisfied" feedback for a
/// period, newest first.
pub async fn not_satisfied_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    require(p.access.may_oversee(&province), "xem ý kiến không hài lòng")?;
    let choice = q.choice(state.clock.now());
    let dir = directory(&state, &province).await?;
    let mut tx = state.db.begin_read().await?;
    let list = ratings::list(
        &mut tx,
        province.as_str(),
        choice.period,
        Some(Satisfaction::NotSatisfied.as_str()),
        FEEDBACK_LIMIT,
    )
    .await?;
    drop(tx);
    Ok(page(&NotSatisfiedPage {
        frame: Frame::new(&state, Some(&p)).await?,
        action: "/lanh-dao/khong-hai-long",
        presets: presets(),
        choice,
        items: list
            .into_iter()
            .map(|r| Feedback {
                at: when(r.rated_at),
                code: r.dossier_code,
                officer: r.officer_name.unwrap_or_default(),
                counter: r.counter_agency.map(|a| dir.name(&a)).unwrap_or_default(),
                channel: channel_label(&r.channel),
                comment: r.comment,
            })
            .collect(),
        limit: FEEDBACK_LIMIT,
    }))
}

// ---- Score sheets ----------------------------------------------------------------------------

/// One line of a dossier's sheet as shown.
pub struct SheetLine {
    /// The index.
    pub index: Index,
    /// Points, or none when not assessed.
    pub points: Option<u32>,
    /// Why.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "evaluation/dossier_sheet.html")]
struct DossierSheetPage {
    frame: Frame,
    code: String,
    procedure: String,
    status: String,
    lines: Vec<SheetLine>,
    total: u32,
    assessed: usize,
    assessed_max: u32,
    max: u32,
    agency_name: String,
    period_label: String,
    satisfaction: Option<&'static str>,
    rules_version: String,
    rules_title: String,
}

/// `GET /ho-so/{code}/phieu-danh-gia`: the score sheet of the 9 indices of a dossier,
/// each line with its rule, how motcua scores it, its points and reason and its legal
/// source, and the satisfaction outside the points (staff who may see the dossier).
pub async fn dossier_sheet_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    require(eval::is_staff(&p), "xem phiếu đánh giá việc giải quyết hồ sơ")?;
    let (stored, sheet, unit) = eval::sheet_for(&state, &p, &code).await?;
    let dir = directory(&state, &stored.dossier.province).await?;
    Ok(page(&DossierSheetPage {
        frame: Frame::new(&state, Some(&p)).await?,
        code: stored.dossier.code.as_str().to_owned(),
        procedure: stored.dossier.procedure_name.clone(),
        status: crate::service::rules::now(&state).await?.label(stored.dossier.status),
        total: sheet.total(),
        assessed: sheet.assessed(),
        assessed_max: sheet.assessed_max(),
        max: unit.rules.sheet_max(),
        rules_version: unit.rules.version.clone(),
        rules_title: unit.rules.title.clone(),
        agency_name: dir.name(&unit.agency),
        period_label: unit.period_label.clone(),
        satisfaction: sheet.satisfaction.map(Satisfaction::label),
        lines: sheet
            .lines
            .into_iter()
            .map(|l| SheetLine {
                index: l.index,
                points: l.mark.points(),
                reason: l.mark.reason().to_owned(),
            })
            .collect(),
    }))
}

/// `?agency=` and the period.
#[derive(Debug, Default, Deserialize)]
pub struct AgencyQuery {
    agency: Option<String>,
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// An agency the sheet may be shown for.
pub struct AgencyOption {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// One index of the per-agency sheet.
pub struct AgencyLine {
    /// The index.
    pub index: Index,
    /// Counts (per-dossier indices).
    pub t: Tally,
    /// Average points (`1,50`), `—` when nothing assessed.
    pub average: String,
    /// The agency's mark (unit-level indices 5, 8, 9: scored once).
    pub unit: Option<UnitMark>,
}

/// The mark of a unit-level index on the per-agency sheet.
pub struct UnitMark {
    /// Points, or none when not assessed.
    pub points: Option<u32>,
    /// Why.
    pub reason: String,
}

/// One scored dossier of the per-agency sheet.
pub struct Scored {
    /// Code.
    pub code: String,
    /// Points.
    pub total: u32,
    /// The most its assessed indices could score.
    pub max: u32,
}

#[derive(Template)]
#[template(path = "evaluation/agency_sheet.html")]
struct AgencySheetPage {
    frame: Frame,
    action: &'static str,
    presets: Vec<Preset>,
    choice: Choice,
    agencies: Vec<AgencyOption>,
    agency: String,
    agency_name: String,
    dossiers: usize,
    capped: bool,
    lines: Vec<AgencyLine>,
    scored: Vec<Scored>,
    satisfaction: [u32; 3],
    rules_version: String,
    rules_title: String,
}

/// `GET /lanh-dao/phieu-danh-gia?agency=`: the score sheet of an agency: each per-dossier
/// index's 2/1/0/not-assessed counts over the dossiers whose result was ready in the
/// period, the unit-level indices 5, 8 and 9 scored once for the agency over the period,
/// and the satisfaction outside the points (director: every department; a department's
/// leader: their own).
pub async fn agency_sheet_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<AgencyQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let director = p.access.may_oversee(&province);
    require(director || is_leader(&p, &province), "xem phiếu đánh giá của cơ quan")?;
    let dir = directory(&state, &province).await?;
    let agencies: Vec<AgencyOption> =
        dir.agencies
            .iter()
            .filter(|(code, (_, kind))| {
                if director {
                    matches!(
                        kind,
                        AgencyKind::Department | AgencyKind::CommuneCentre | AgencyKind::Other
                    )
                } else {
                    p.access.grants().iter().any(|g| {
                        g.role == Role::DepartmentLeader && g.province == province && g.agency.as_str() == *code
                    })
                }
            })
            .map(|(code, (name, _))| AgencyOption {
                code: code.clone(),
                name: name.clone(),
            })
            .collect();
    let agency = match q.agency.filter(|a| !a.is_empty()) {
        Some(a) => {
            require(
                agencies.iter().any(|o| o.code == a),
                "xem phiếu đánh giá của cơ quan này",
            )?;
            a
        }
        None => agencies.first().map(|o| o.code.clone()).unwrap_or_default(),
    };
    let choice = PeriodQuery {
        period: q.period,
        from: q.from,
        to: q.to,
    }
    .choice(state.clock.now());
    let sheet = eval::agency_sheet(&state, &province, &agency, choice.period, choice.label.clone()).await?;
    let marks = &sheet.unit.marks;
    Ok(page(&AgencySheetPage {
        frame: Frame::new(&state, Some(&p)).await?,
        action: "/lanh-dao/phieu-danh-gia",
        presets: presets(),
        agency_name: dir.name(&agency),
        agency,
        agencies,
        dossiers: sheet.dossiers,
        capped: sheet.capped,
        lines: sheet
            .lines
            .into_iter()
            .map(|(index, t)| AgencyLine {
                average: t
                    .average_centi()
                    .map_or_else(|| "—".to_owned(), |c| centi(i64::from(c))),
                t,
                unit: match index.code {
                    IndexCode::OneStop => Some(&marks.one_stop),
                    IndexCode::Feedback => Some(&marks.feedback),
                    IndexCode::OnlineService => Some(&marks.online_service),
                    _ => None,
                }
                .map(|m| UnitMark {
                    points: m.points(),
                    reason: m.reason().to_owned(),
                }),
                index,
            })
            .collect(),
        satisfaction: sheet.satisfaction,
        rules_version: sheet.unit.rules.version.clone(),
        rules_title: sheet.unit.rules.title.clone(),
        scored: sheet
            .codes
            .into_iter()
            .map(|(code, total, max)| Scored { code, total, max })
            .collect(),
        choice,
    }))
}

// ---- Decision 766 --------------------------------------------------------------------------

/// A criterion as the page shows it.
pub struct CriterionLine {
    /// The published number.
    pub code: String,
    /// The published title.
    pub name: String,
    /// Where it comes from.
    pub source: String,
    /// The published rate.
    pub formula: &'static str,
    /// How motcua computes it, or why it cannot.
    pub method: &'static str,
    /// Linear, or full at a threshold; and what it scores with nothing to measure.
    pub rule: String,
    /// `7 / 10`, `—` when not measured.
    pub inputs: String,
    /// Rate.
    pub rate: String,
    /// Max points.
    pub max: u32,
    /// Points scored (`5,50`), or why none.
    pub points: String,
    /// motcua has no data for it.
    pub not_measured: bool,
    /// Its points and formula are confirmed.
    pub confirmed: bool,
}

/// A group as the page shows it.
pub struct GroupLine {
    /// Name.
    pub name: String,
    /// Points of Decision 766.
    pub points: u32,
    /// Points configured.
    pub configured: u32,
    /// The points of its scored sub-criteria.
    pub measured_max: u32,
    /// Scored.
    pub scored: String,
    /// Its criteria.
    pub criteria: Vec<CriterionLine>,
}

#[derive(Template)]
#[template(path = "evaluation/index.html")]
struct IndexPage {
    frame: Frame,
    action: &'static str,
    presets: Vec<Preset>,
    choice: Choice,
    groups: Vec<GroupLine>,
    total: String,
    measured_max: u32,
    max: u32,
    formula: &'static str,
    admin: bool,
    rules_version: String,
    rules_title: String,
    /// The receiving centres whose index may be chosen (code, name, chosen), when more
    /// than the province's own is offered.
    centres: Vec<(String, String, bool)>,
    /// The centre scored, by name; empty for the province.
    centre: String,
}

/// `?centre=` of the service index page.
#[derive(Debug, Default, Deserialize)]
pub struct CentreQuery {
    centre: Option<String>,
}

/// What a sub-criterion's row says instead of points, or its points.
const NOT_MEASURED: &str = "không đo được trong motcua";

fn group_lines(r: IndexResult) -> Vec<GroupLine> {
    r.groups
        .into_iter()
        .map(|g| GroupLine {
            name: g.name,
            points: g.points,
            configured: g.configured,
            measured_max: g.measured_max,
            scored: centi(g.scored_centi),
            criteria: g
                .criteria
                .into_iter()
                .map(|c| {
                    let not_measured = c.outcome == "not_measured";
                    CriterionLine {
                        inputs: match (c.hits, c.of) {
                            (Some(h), Some(o)) => format!("{h} / {o}"),
                            _ => "—".to_owned(),
                        },
                        rate: percent(c.rate_permille),
                        max: c.criterion.max_points,
                        points: match c.points_centi {
                            Some(p) => centi(p),
                            None if not_measured => NOT_MEASURED.to_owned(),
                            None => "không phát sinh, không chấm".to_owned(),
                        },
                        not_measured,
                        formula: c.formula,
                        method: c.method,
                        rule: format!("{}; {}", c.rule, c.criterion.when_empty.label()),
                        confirmed: c.criterion.confirmed,
                        code: c.criterion.code,
                        name: c.criterion.name,
                        source: c.criterion.source,
                    }
                })
                .collect(),
        })
        .collect()
}

/// `GET /lanh-dao/chi-so-phuc-vu`: the Decision 766 service index of the province for a
/// period: each group's points, each published sub-criterion with its source, formula,
/// how motcua computes it, its inputs, rate and points, or "not measured" (director,
/// administrator).
pub async fn index_page(
    State(state): State<AppState>,
    SignedIn(p): SignedIn,
    Query(q): Query<PeriodQuery>,
    Query(c): Query<CentreQuery>,
) -> Result<Response, PageError> {
    let province = state.province(None).await?;
    let dir = crate::service::dossiers::directory(&state, &province).await?;
    let centre = eval::index_centre(&dir, &p, &province, c.centre.as_deref())?;
    let now = state.clock.now();
    let choice = q.choice(now);
    let result = eval::service_index(&state, &province, centre.as_ref(), choice.period, now).await?;
    // An overseer of the province chooses among its centres; a commune centre's head sees
    // theirs.
    let centres = if p.access.may_oversee(&province) {
        dir.centre_choices(centre.as_ref().map(AgencyCode::as_str))
    } else {
        Vec::new()
    };
    Ok(page(&IndexPage {
        centres,
        centre: centre.map(|c| dir.name(c.as_str())).unwrap_or_default(),
        frame: Frame::new(&state, Some(&p)).await?,
        action: "/lanh-dao/chi-so-phuc-vu",
        presets: presets(),
        total: centi(result.total_centi),
        measured_max: result.measured_max,
        max: result.max,
        rules_version: result.rules_version.clone(),
        rules_title: result.rules_title.clone(),
        groups: group_lines(result),
        choice,
        formula: FORMULA,
        admin: p.access.can_administer(&province),
    }))
}

/// `GET /quan-tri/chi-so-phuc-vu`: where the sub-criteria were edited in place; they are
/// part of the rule versions now (`/quan-tri/quy-dinh`).
pub async fn old_criteria_page() -> axum::response::Redirect {
    axum::response::Redirect::permanent("/quan-tri/quy-dinh")
}
