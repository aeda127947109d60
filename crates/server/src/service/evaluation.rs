//! Evaluation (docs/rules.md §6, issue 8 item 4, issue 25): the per-dossier score sheet
//! of the published indices, the per-agency sheet, and the Decision 766 service index of
//! the province, each scored by the rule version in force on its period's first day
//! (`crate::service::rules`, docs/rules.md §9).
//!
//! The computations are in `motcua_core::evaluation`; this module gathers the facts (the dossier,
//! its control sheet's closed steps, its rating with the survey answers, whether its
//! procedure is in the public catalogue; the agency's figures over a period for the
//! unit-level indices 5, 8 and 9; the province's rates for a period) and computes the
//! results both skins show.

use motcua_core::access::Role;
use motcua_core::catalogue::AgencyKind;
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::dossier::{Action, Channel};
use motcua_core::evaluation::{self, Criterion, Facts, Index, Satisfaction, Sheet, Tally, UnitFacts, UnitMarks};
use motcua_core::rules::RuleSet;
use motcua_core::stats::Dimension;
use motcua_store::overview::Period;
use motcua_store::{Tx, dossiers, ratings};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::AppError;
use crate::service::dossiers::{Directory, directory, load_visible};
use crate::service::period::PeriodQuery;
use crate::state::AppState;

// ---- The agency's figures (indices 5, 8, 9) ----------------------------------------------

/// The unit-level facts and marks of one agency over one period.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The agency (responsible for the dossiers).
    pub agency: String,
    /// The period the figures cover.
    pub period: Period,
    /// The period as shown ("Tháng 3/2027", …).
    pub period_label: String,
    /// The figures.
    pub facts: UnitFacts,
    /// Indices 5, 8 and 9 scored from them.
    pub marks: UnitMarks,
    /// The procedures of the public catalogue (every one is published electronically).
    published: std::collections::BTreeSet<String>,
    /// The rules in force on the period's first day (docs/rules.md §9).
    pub rules: RuleSet,
}

impl Unit {
    /// Whether procedure `code` is in the public catalogue.
    pub fn publishes(&self, code: &str) -> bool {
        self.published.contains(code)
    }
}

/// Gathers the figures of `agency` over `period` (whole days): its procedures from the
/// catalogue (how many, received at the centre, offered online), its dossiers received in
/// the period and those filed online, and its online dossiers resolved late in the period
/// or overdue at its end (the statistics' figures, docs/rules.md §6). motcua keeps no
/// register of feedback and complaints, nor which procedures the one-stop unit approves
/// itself: those stay unknown.
pub async fn unit(
    state: &AppState,
    province: &ProvinceCode,
    dir: &Directory,
    agency: &str,
    period: Period,
    period_label: String,
) -> Result<Unit, AppError> {
    let index = state.index.get(&state.db, province).await?;
    let mut facts = UnitFacts {
        commune_level: dir
            .agencies
            .get(agency)
            .is_some_and(|(_, kind)| *kind == AgencyKind::CommuneCentre),
        ..UnitFacts::default()
    };
    let mut published = std::collections::BTreeSet::new();
    for e in &index.entries {
        let s = &e.summary;
        published.insert(s.code.as_str().to_owned());
        if s.agency_code.as_str() == agency {
            facts.procedures += 1;
            facts.procedures_at_centre += i64::from(s.at_centre);
            facts.procedures_online += i64::from(evaluation::offered_online(s));
        }
    }
    let now = state.clock.now();
    let query = |channel| motcua_store::stats::Query {
        group: Dimension::Department,
        period,
        now,
        department: Some(agency),
        channel,
    };
    let mut tx = state.db.begin_read().await?;
    let all = motcua_store::stats::total(&motcua_store::stats::figures(&mut tx, province, query(None)).await?);
    let online = motcua_store::stats::total(
        &motcua_store::stats::figures(&mut tx, province, query(Some(Channel::Online))).await?,
    );
    drop(tx);
    let rules = crate::service::rules::book(state)
        .await?
        .in_force_at(period.from)
        .clone();
    facts.dossiers = all.received_total();
    facts.dossiers_online = online.received_total();
    facts.online_overdue_or_late = online.overdue + online.late;
    Ok(Unit {
        agency: agency.to_owned(),
        period,
        period_label,
        marks: UnitMarks::of(&facts),
        facts,
        published,
        rules,
    })
}

/// The period whose unit-level figures a dossier's sheet carries: the month its result
/// was ready in (the month of the per-agency sheet that counts it), or this month before
/// the result.
pub fn dossier_period(d: &motcua_core::lifecycle::Dossier, now: OffsetDateTime) -> (Period, String) {
    let at = d.finished_at.filter(|_| d.status.has_result()).unwrap_or(now);
    let month = crate::service::period::this_month(at);
    (month.period, month.label)
}

// ---- Per-dossier sheet ----------------------------------------------------------------

/// Scores a stored dossier: its control sheet's closed steps, the agencies it was
/// forwarded to (named), the citizen's answers when rated, and the unit-level marks of
/// its agency (`unit`).
pub async fn score(tx: &mut Tx, stored: &dossiers::Stored, dir: &Directory, unit: &Unit) -> Result<Sheet, AppError> {
    let events = dossiers::events(tx, stored.id).await?;
    let steps: Vec<_> = events.iter().filter_map(|e| e.closed_step).collect();
    let forwarded: Vec<String> = events
        .iter()
        .filter(|e| e.action == Action::ForwardOut.name())
        .filter_map(|e| e.to_agency.as_deref().map(|a| dir.name(a)))
        .collect();
    let rating = ratings::of_dossier(tx, stored.id).await?;
    let answers = rating.as_ref().map(crate::service::ratings::answers);
    let facts = Facts {
        dossier: &stored.dossier,
        steps: &steps,
        forwarded: &forwarded,
        answers: answers.as_ref(),
        published: unit.publishes(stored.dossier.procedure.as_str()),
        unit: &unit.marks,
    };
    Ok(evaluation::evaluate(&facts, &unit.rules.indices))
}

/// One index of a sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    /// The index as the rule version words it (number, code, name, source, rule,
    /// method, legal source, confirmed).
    #[serde(flatten)]
    pub index: Index,
    /// 0–2, or null when not assessed.
    pub points: Option<u32>,
    /// Why.
    pub reason: String,
}

/// The agency's figures behind the unit-level indices.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitView {
    /// The agency's code.
    pub agency: String,
    /// Period start (RFC 3339).
    pub from: String,
    /// Period end, exclusive (RFC 3339).
    pub to: String,
    /// The agency's procedures in the catalogue.
    pub procedures: i64,
    /// Of those, received at the centre.
    pub procedures_at_centre: i64,
    /// Of those, offered online (level 3, 4 or fully online).
    pub procedures_online: i64,
    /// Dossiers received in the period.
    pub dossiers: i64,
    /// Of those, filed online.
    pub dossiers_online: i64,
    /// Online dossiers resolved late in the period or overdue at its end.
    pub online_overdue_or_late: i64,
}

/// A dossier's score sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetView {
    /// The dossier.
    pub code: String,
    /// Points over the assessed indices.
    pub total: u32,
    /// Indices assessed.
    pub assessed: usize,
    /// The most the assessed indices could score.
    pub assessed_max: u32,
    /// The most the sheet scores (18 under the shipped rules).
    pub max: u32,
    /// The rule version it is scored by: the one in force on the first day of its period.
    pub rules_version: String,
    /// That version's title.
    pub rules_title: String,
    /// A line per index of that version, in the published order.
    pub lines: Vec<LineView>,
    /// The applicant's satisfaction, when rated: a separate survey, outside the 18 points.
    pub satisfaction: Option<Satisfaction>,
    /// The agency's figures of the unit-level indices 5, 8 and 9.
    pub unit: UnitView,
}

fn rfc(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The JSON view of a sheet.
pub fn sheet_view(code: &str, s: &Sheet, unit: &Unit) -> SheetView {
    let u = &unit.facts;
    SheetView {
        code: code.to_owned(),
        total: s.total(),
        assessed: s.assessed(),
        assessed_max: s.assessed_max(),
        max: unit.rules.sheet_max(),
        rules_version: unit.rules.version.clone(),
        rules_title: unit.rules.title.clone(),
        lines: s
            .lines
            .iter()
            .map(|l| LineView {
                index: l.index.clone(),
                points: l.mark.points(),
                reason: l.mark.reason().to_owned(),
            })
            .collect(),
        satisfaction: s.satisfaction,
        unit: UnitView {
            agency: unit.agency.clone(),
            from: rfc(unit.period.from),
            to: rfc(unit.period.to),
            procedures: u.procedures,
            procedures_at_centre: u.procedures_at_centre,
            procedures_online: u.procedures_online,
            dossiers: u.dossiers,
            dossiers_online: u.dossiers_online,
            online_overdue_or_late: u.online_overdue_or_late,
        },
    }
}

/// Whether `p` is staff (the score sheet is the agencies' tool, not the applicant's).
pub fn is_staff(p: &Principal) -> bool {
    p.access.grants().iter().any(|g| {
        matches!(
            g.role,
            Role::CounterOfficer
                | Role::DepartmentOfficer
                | Role::DepartmentLeader
                | Role::CentreDirector
                | Role::SystemAdmin
        )
    })
}

/// Loads a dossier the staff member may see and scores it, with the unit-level figures
/// of its agency for the month of its result ([`dossier_period`]).
pub async fn sheet_for(
    state: &AppState,
    p: &Principal,
    code: &str,
) -> Result<(dossiers::Stored, Sheet, Unit), AppError> {
    if !is_staff(p) {
        return Err(AppError::Forbidden(
            "Chỉ cán bộ, công chức mới xem được phiếu đánh giá việc giải quyết hồ sơ.".to_owned(),
        ));
    }
    let (stored, _) = load_visible(state, p, code).await?;
    let province = &stored.dossier.province;
    let dir = directory(state, province).await?;
    let (period, label) = dossier_period(&stored.dossier, state.clock.now());
    let agency = stored.dossier.responsible_agency.as_str().to_owned();
    let unit = unit(state, province, &dir, &agency, period, label).await?;
    let mut tx = state.db.begin_read().await?;
    let sheet = score(&mut tx, &stored, &dir, &unit).await?;
    Ok((stored, sheet, unit))
}

/// The score sheet of the 9 indices of dossier `code` (staff who may see the dossier).
pub async fn dossier_sheet(state: &AppState, p: &Principal, code: &str) -> Result<SheetView, AppError> {
    let (stored, sheet, unit) = sheet_for(state, p, code).await?;
    Ok(sheet_view(stored.dossier.code.as_str(), &sheet, &unit))
}

// ---- Per-agency sheet -------------------------------------------------------------------

/// Most dossiers a per-agency sheet scores (the newest of the period).
pub const AGENCY_SHEET_LIMIT: i64 = 1_000;

/// The per-agency sheet: each per-dossier index's counts over the dossiers whose result
/// was ready in the period, and the unit-level indices scored once for the agency.
pub struct AgencySheet {
    /// Dossiers scored.
    pub dossiers: usize,
    /// Whether the period had more than [`AGENCY_SHEET_LIMIT`] (only the newest scored).
    pub capped: bool,
    /// Per index (the unit-level ones count the same mark for every dossier).
    pub lines: Vec<(Index, Tally)>,
    /// The agency's figures and the unit-level marks.
    pub unit: Unit,
    /// Satisfaction of the scored dossiers rated (very satisfied, satisfied, not
    /// satisfied): outside the 18 points.
    pub satisfaction: [u32; 3],
    /// Each dossier scored: code, points, the most its assessed indices could score.
    pub codes: Vec<(String, u32, u32)>,
}

/// Scores the dossiers of `agency` whose result was ready in `period`.
pub async fn agency_sheet(
    state: &AppState,
    province: &ProvinceCode,
    agency: &str,
    period: Period,
    period_label: String,
) -> Result<AgencySheet, AppError> {
    let dir = directory(state, province).await?;
    let unit = unit(state, province, &dir, agency, period, period_label).await?;
    let mut tx = state.db.begin_read().await?;
    let ids = motcua_store::evaluation::finished_of_agency(
        &mut tx,
        province.as_str(),
        agency,
        period,
        AGENCY_SHEET_LIMIT + 1,
    )
    .await?;
    let capped = ids.len() as i64 > AGENCY_SHEET_LIMIT;
    let mut tallies = vec![Tally::default(); unit.rules.indices.len()];
    let mut satisfaction = [0u32; 3];
    let mut codes = Vec::new();
    for id in ids.into_iter().take(AGENCY_SHEET_LIMIT as usize) {
        let Some(dossier) = dossiers::by_id(&mut tx, id).await? else {
            continue;
        };
        let stored = dossiers::Stored { id, dossier };
        let sheet = score(&mut tx, &stored, &dir, &unit).await?;
        for (t, l) in tallies.iter_mut().zip(&sheet.lines) {
            t.add(&l.mark);
        }
        if let Some(s) = sheet.satisfaction
            && let Some(i) = Satisfaction::ALL.iter().position(|x| *x == s)
        {
            satisfaction[i] += 1;
        }
        codes.push((
            stored.dossier.code.as_str().to_owned(),
            sheet.total(),
            sheet.assessed_max(),
        ));
    }
    Ok(AgencySheet {
        dossiers: codes.len(),
        capped,
        lines: unit.rules.indices.iter().cloned().zip(tallies).collect(),
        unit,
        satisfaction,
        codes,
    })
}

// ---- Decision 766 service index -------------------------------------------------------

/// One sub-criterion's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CriterionResult {
    /// The criterion as configured (published number, title, points, target, rule when
    /// empty, source).
    pub criterion: Criterion,
    /// `scored`, `no_data` (nothing to measure in the period, not scored) or
    /// `not_measured` (motcua has no data for it: no points, left out of the measured
    /// maximum).
    pub outcome: &'static str,
    /// The rate's numerator; null when not measured.
    pub hits: Option<i64>,
    /// The rate's denominator; null when not measured.
    pub of: Option<i64>,
    /// The rate, per mille; null when not measured or nothing to measure.
    pub rate_permille: Option<i64>,
    /// Points in hundredths; null when not scored.
    pub points_centi: Option<i64>,
    /// The published rate (the national portal's formula).
    pub formula: &'static str,
    /// How motcua computes it, or why it cannot.
    pub method: &'static str,
    /// The scoring rule: linear, or full at a threshold.
    pub rule: String,
}

/// One group's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupResult {
    /// Group code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Points of the group in Decision 766.
    pub points: u32,
    /// Points of its sub-criteria (equals `points`: a rule set is checked for it).
    pub configured: u32,
    /// The points of its scored sub-criteria (what `scored_centi` is out of).
    pub measured_max: u32,
    /// Points scored, hundredths.
    pub scored_centi: i64,
    /// The sub-criteria.
    pub criteria: Vec<CriterionResult>,
}

/// The service index of a province over a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndexResult {
    /// The province.
    pub province: String,
    /// The receiving centre whose dossiers it scores; absent for the whole province's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centre: Option<String>,
    /// Period start (RFC 3339).
    pub from: String,
    /// Period end, exclusive (RFC 3339).
    pub to: String,
    /// Total points scored, hundredths.
    pub total_centi: i64,
    /// The most the scored sub-criteria give: the total is out of this.
    pub measured_max: u32,
    /// The most it scores (sum of the configured points, 100 as published).
    pub max: u32,
    /// The rule version it is scored by: the one in force on the period's first day.
    pub rules_version: String,
    /// That version's title.
    pub rules_title: String,
    /// The groups.
    pub groups: Vec<GroupResult>,
    /// How points are given.
    pub formula: &'static str,
}

/// The formula, as the page and the API show it.
pub const FORMULA: &str = "Điểm = điểm tối đa × tỷ lệ; tiêu chí có ngưỡng đạt điểm tối đa từ ngưỡng trở lên, dưới ngưỡng: điểm = tỷ lệ × điểm tối đa / ngưỡng";

/// What the deployment provides that some rates depend on: the national portal sync
/// (1.4) and an online payment gateway (3.5).
pub fn setup(state: &AppState) -> motcua_store::evaluation::Setup {
    motcua_store::evaluation::Setup {
        portal_sync: !state.config.portal_url.trim().is_empty(),
        online_payment: crate::payments::vnpay(&state.config).is_some(),
    }
}

/// Computes the Decision 766 index of `province` over `period`, judged at `now`: of the
/// dossiers received at `centre`, or of the whole province's for `None`.
pub async fn service_index(
    state: &AppState,
    province: &ProvinceCode,
    centre: Option<&AgencyCode>,
    period: Period,
    now: OffsetDateTime,
) -> Result<IndexResult, AppError> {
    let book = crate::service::rules::book(state).await?;
    let rules = book.in_force_at(period.from);
    let mut tx = state.db.begin_read().await?;
    let counts = motcua_store::evaluation::counts_at(
        &mut tx,
        province,
        centre.map(AgencyCode::as_str),
        period,
        now,
        setup(state),
    )
    .await?;
    drop(tx);
    let index = evaluation::service_index(&rules.groups, &rules.criteria, &counts);
    let groups: Vec<GroupResult> = index
        .groups
        .into_iter()
        .map(|g| GroupResult {
            code: g.group.code,
            name: g.group.name,
            points: g.group.points,
            configured: g.configured,
            measured_max: g.measured_max,
            scored_centi: g.scored_centi,
            criteria: g
                .criteria
                .into_iter()
                .map(|c| CriterionResult {
                    outcome: c.outcome.as_str(),
                    hits: c.ratio.map(|r| r.hits),
                    of: c.ratio.map(|r| r.of),
                    rate_permille: c.ratio.and_then(|r| r.permille()),
                    points_centi: c.outcome.points_centi(),
                    formula: c.criterion.measure.formula(),
                    method: c.criterion.measure.method(),
                    rule: c.criterion.rule(),
                    criterion: c.criterion,
                })
                .collect(),
        })
        .collect();
    Ok(IndexResult {
        province: province.as_str().to_owned(),
        centre: centre.map(|c| c.as_str().to_owned()),
        from: rfc(period.from),
        to: rfc(period.to),
        total_centi: index.total_centi,
        measured_max: index.measured_max,
        max: index.max,
        rules_version: rules.version.clone(),
        rules_title: rules.title.clone(),
        groups,
        formula: FORMULA,
    })
}

/// The Decision 766 service index of the province for the period asked (this month by
/// default), with each group's points, the inputs and the formula (director, administrator),
/// or of one receiving centre's dossiers ([`index_centre`]).
pub async fn index_for(
    state: &AppState,
    p: &Principal,
    asked: PeriodQuery,
    centre: Option<&str>,
) -> Result<IndexResult, AppError> {
    let province = state.province(None).await?;
    let dir = directory(state, &province).await?;
    let centre = index_centre(&dir, p, &province, centre)?;
    let now = state.clock.now();
    let choice = asked.choice(now);
    if let Some(e) = choice.error {
        return Err(AppError::bad("invalid_field", "from", e));
    }
    service_index(state, &province, centre.as_ref(), choice.period, now).await
}

/// Whose service index `p` may see in `province` ([`crate::service::oversight`]).
pub fn index_centre(
    dir: &Directory,
    p: &Principal,
    province: &ProvinceCode,
    asked: Option<&str>,
) -> Result<Option<AgencyCode>, AppError> {
    crate::service::oversight::centre_asked(dir, p, province, asked, "chỉ số phục vụ")
}
