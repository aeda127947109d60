//! Evaluation (docs/rules.md §6, issue 8 item 4): the per-dossier score sheet of the 9
//! indices (Decree 61/2018 art. 31, Circular 01/2018 art. 13), the per-agency sheet, and
//! the Decision 766 service index of the province with its editable sub-criteria.
//!
//! The rules are in `motcua_core::evaluation`; this module gathers the facts (the dossier,
//! its control sheet's closed steps, its rating with the survey answers; the province's
//! rates for a period) and computes the results both skins show.

use motcua_core::access::Role;
use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::Action;
use motcua_core::evaluation::{self, Criterion, Facts, INDEX_MAX, INDICES, Index, Sheet, Tally};
use motcua_store::overview::Period;
use motcua_store::{Tx, dossiers, ratings};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::service::dossiers::{Directory, directory, load_visible};
use crate::service::period::PeriodQuery;
use crate::state::AppState;

// ---- Per-dossier sheet ----------------------------------------------------------------

/// Scores a stored dossier: its control sheet's closed steps, the agencies it was
/// forwarded to (named), and the citizen's answers when rated.
pub async fn score(tx: &mut Tx, stored: &dossiers::Stored, dir: &Directory) -> Result<Sheet, AppError> {
    let events = dossiers::events(tx, stored.id).await?;
    let steps: Vec<_> = events.iter().filter_map(|e| e.closed_step).collect();
    let forwarded: Vec<String> = events
        .iter()
        .filter(|e| e.action == Action::ForwardOut.name())
        .filter_map(|e| e.to_agency.as_deref().map(|a| dir.name(a)))
        .collect();
    let rating = ratings::of_dossier(tx, stored.id).await?;
    let answers = rating.as_ref().map(crate::service::ratings::answers);
    Ok(evaluation::evaluate(&Facts {
        dossier: &stored.dossier,
        steps: &steps,
        forwarded: &forwarded,
        answers: answers.as_ref(),
    }))
}

/// One index of a sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    /// 1–9.
    pub number: u8,
    /// Stable code.
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// `system` or `citizen`.
    pub source: &'static str,
    /// The scoring rule.
    pub rule: &'static str,
    /// The legal source.
    pub legal: &'static str,
    /// False when the index or its thresholds are unconfirmed.
    pub confirmed: bool,
    /// 0–2, or null when not assessed.
    pub points: Option<u32>,
    /// Why.
    pub reason: String,
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
    /// The most the sheet scores (18).
    pub max: u32,
    /// The 9 lines.
    pub lines: Vec<LineView>,
}

fn source_name(i: &Index) -> &'static str {
    match i.source {
        evaluation::Source::System => "system",
        evaluation::Source::Citizen => "citizen",
    }
}

/// The JSON view of a sheet.
pub fn sheet_view(code: &str, s: &Sheet) -> SheetView {
    SheetView {
        code: code.to_owned(),
        total: s.total(),
        assessed: s.assessed(),
        assessed_max: s.assessed_max(),
        max: INDEX_MAX * 9,
        lines: s
            .lines
            .iter()
            .map(|l| LineView {
                number: l.index.number,
                code: l.index.code,
                name: l.index.name,
                source: source_name(l.index),
                rule: l.index.rule,
                legal: l.index.legal,
                confirmed: l.index.confirmed,
                points: l.mark.points(),
                reason: l.mark.reason().to_owned(),
            })
            .collect(),
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

/// Loads a dossier the staff member may see and scores it.
pub async fn sheet_for(state: &AppState, p: &Principal, code: &str) -> Result<(dossiers::Stored, Sheet), AppError> {
    if !is_staff(p) {
        return Err(AppError::Forbidden(
            "Chỉ cán bộ, công chức mới xem được phiếu đánh giá việc giải quyết hồ sơ.".to_owned(),
        ));
    }
    let (stored, _) = load_visible(state, p, code).await?;
    let dir = directory(state, &stored.dossier.province).await?;
    let mut tx = state.db.begin_read().await?;
    let sheet = score(&mut tx, &stored, &dir).await?;
    Ok((stored, sheet))
}

/// The score sheet of the 9 indices of dossier `code` (staff who may see the dossier).
pub async fn dossier_sheet(state: &AppState, p: &Principal, code: &str) -> Result<SheetView, AppError> {
    let (stored, sheet) = sheet_for(state, p, code).await?;
    Ok(sheet_view(stored.dossier.code.as_str(), &sheet))
}

// ---- Per-agency sheet -------------------------------------------------------------------

/// Most dossiers a per-agency sheet scores (the newest of the period).
pub const AGENCY_SHEET_LIMIT: i64 = 1_000;

/// The per-agency sheet: each index's counts over the dossiers whose result was ready in
/// the period.
pub struct AgencySheet {
    /// Dossiers scored.
    pub dossiers: usize,
    /// Whether the period had more than [`AGENCY_SHEET_LIMIT`] (only the newest scored).
    pub capped: bool,
    /// Per index.
    pub lines: Vec<(&'static Index, Tally)>,
    /// Each dossier scored: code, points, the most its assessed indices could score.
    pub codes: Vec<(String, u32, u32)>,
}

/// Scores the dossiers of `agency` whose result was ready in `period`.
pub async fn agency_sheet(
    state: &AppState,
    province: &ProvinceCode,
    agency: &str,
    period: Period,
) -> Result<AgencySheet, AppError> {
    let dir = directory(state, province).await?;
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
    let mut tallies = [Tally::default(); 9];
    let mut codes = Vec::new();
    for id in ids.into_iter().take(AGENCY_SHEET_LIMIT as usize) {
        let Some(dossier) = dossiers::by_id(&mut tx, id).await? else {
            continue;
        };
        let stored = dossiers::Stored { id, dossier };
        let sheet = score(&mut tx, &stored, &dir).await?;
        for (t, l) in tallies.iter_mut().zip(&sheet.lines) {
            t.add(&l.mark);
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
        lines: INDICES.iter().zip(tallies).collect(),
        codes,
    })
}

// ---- Decision 766 service index -------------------------------------------------------

/// One sub-criterion's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CriterionResult {
    /// The criterion as configured.
    pub criterion: Criterion,
    /// The rate's numerator.
    pub hits: i64,
    /// The rate's denominator.
    pub of: i64,
    /// The rate, per mille; null when there is nothing to measure.
    pub rate_permille: Option<i64>,
    /// Points in hundredths; null when there is nothing to measure.
    pub points_centi: Option<i64>,
    /// How the rate is computed.
    pub formula: &'static str,
}

/// One group's result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupResult {
    /// Group code.
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// Points of the group in Decision 766.
    pub points: u32,
    /// Points configured over its sub-criteria (equals `points` unless edited otherwise).
    pub configured: u32,
    /// Points scored, hundredths (sub-criteria with nothing to measure score nothing).
    pub scored_centi: i64,
    /// The sub-criteria.
    pub criteria: Vec<CriterionResult>,
}

/// The service index of a province over a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndexResult {
    /// The province.
    pub province: String,
    /// Period start (RFC 3339).
    pub from: String,
    /// Period end, exclusive (RFC 3339).
    pub to: String,
    /// Total points, hundredths.
    pub total_centi: i64,
    /// The most it scores (sum of the configured points).
    pub max: u32,
    /// The groups.
    pub groups: Vec<GroupResult>,
    /// The formula below a target.
    pub formula: &'static str,
}

/// The formula, as the page and the API show it.
pub const FORMULA: &str =
    "Điểm = điểm tối đa khi tỷ lệ đạt chỉ tiêu; dưới chỉ tiêu: điểm = tỷ lệ × điểm tối đa / chỉ tiêu";

fn rfc(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Computes the Decision 766 index of `province` over `period`, judged at `now`.
pub async fn service_index(
    state: &AppState,
    province: &ProvinceCode,
    period: Period,
    now: OffsetDateTime,
) -> Result<IndexResult, AppError> {
    let mut tx = state.db.begin_read().await?;
    let criteria = motcua_store::evaluation::criteria(&mut tx).await?;
    let counts = motcua_store::evaluation::counts(&mut tx, province, period, now).await?;
    drop(tx);
    let index = evaluation::service_index(&criteria, &counts);
    let groups: Vec<GroupResult> = index
        .groups
        .into_iter()
        .map(|g| GroupResult {
            code: g.group.code,
            name: g.group.name,
            points: g.group.points,
            configured: g.configured,
            scored_centi: g.scored_centi,
            criteria: g
                .criteria
                .into_iter()
                .map(|c| CriterionResult {
                    formula: c.criterion.measure.formula(),
                    hits: c.ratio.hits,
                    of: c.ratio.of,
                    rate_permille: c.ratio.permille(),
                    points_centi: c.points_centi,
                    criterion: c.criterion,
                })
                .collect(),
        })
        .collect();
    Ok(IndexResult {
        province: province.as_str().to_owned(),
        from: rfc(period.from),
        to: rfc(period.to),
        total_centi: index.total_centi,
        max: index.max,
        groups,
        formula: FORMULA,
    })
}

fn require_admin(state_province: &ProvinceCode, p: &Principal) -> Result<(), AppError> {
    if p.access.can_administer(state_province) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Chỉ quản trị hệ thống mới sửa được điểm và chỉ tiêu của chỉ số phục vụ.".to_owned(),
        ))
    }
}

/// An edit of a sub-criterion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionEdit {
    /// New name (unchanged when absent).
    #[serde(default)]
    pub name: Option<String>,
    /// Points at or above the target (0–100).
    pub max_points: u32,
    /// Target rate in percent (1–100).
    pub target_percent: u32,
    /// Whether the values are confirmed by the legal text.
    #[serde(default)]
    pub confirmed: bool,
}

/// The Decision 766 service index of the province for the period asked (this month by
/// default), with each group's points, the inputs and the formula (director, administrator).
pub async fn index_for(state: &AppState, p: &Principal, asked: PeriodQuery) -> Result<IndexResult, AppError> {
    let province = state.province(None).await?;
    if !p.access.may_oversee(&province) {
        return Err(AppError::Forbidden(
            "Chỉ lãnh đạo Trung tâm và quản trị hệ thống mới xem được chỉ số phục vụ.".to_owned(),
        ));
    }
    let now = state.clock.now();
    let choice = asked.choice(now);
    if let Some(e) = choice.error {
        return Err(AppError::bad("invalid_field", "from", e));
    }
    service_index(state, &province, choice.period, now).await
}

/// The sub-criteria of the service index with their points and targets (administrator).
pub async fn criteria(state: &AppState, p: &Principal) -> Result<Vec<Criterion>, AppError> {
    let province = state.province(None).await?;
    require_admin(&province, p)?;
    let mut tx = state.db.begin_read().await?;
    Ok(motcua_store::evaluation::criteria(&mut tx).await?)
}

/// Edits sub-criterion `code`'s points and target when the rules change (administrator;
/// audited).
pub async fn edit_criterion(
    state: &AppState,
    p: &Principal,
    code: &str,
    body: CriterionEdit,
) -> Result<Criterion, AppError> {
    let province = state.province(None).await?;
    require_admin(&province, p)?;
    let target_permille = body.target_percent.saturating_mul(10);
    evaluation::check_criterion(body.max_points, target_permille)
        .map_err(|e| AppError::bad("invalid_field", e.field.clone(), e.message.clone()))?;
    let mut tx = state.db.begin_write().await?;
    let before = motcua_store::evaluation::criteria(&mut tx)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| AppError::NotFound(format!("Không có tiêu chí «{code}».")))?;
    let name = match body.name.as_deref().map(motcua_core::text::nfc) {
        Some(n) if n.is_empty() => {
            return Err(AppError::bad(
                "invalid_field",
                "name",
                "Tên tiêu chí không được để trống.",
            ));
        }
        Some(n) if n.chars().count() > 200 => {
            return Err(AppError::bad(
                "invalid_field",
                "name",
                "Tên tiêu chí dài quá 200 ký tự.",
            ));
        }
        Some(n) => n,
        None => before.name.clone(),
    };
    let actor = crate::service::dossiers::person_of(p);
    motcua_store::evaluation::update_criterion(
        &mut tx,
        code,
        &motcua_store::evaluation::Edit {
            name: &name,
            max_points: body.max_points,
            target_permille,
            confirmed: body.confirmed,
            by: &actor.id,
            at: state.clock.now(),
        },
    )
    .await?;
    let after = Criterion {
        name,
        max_points: body.max_points,
        target_permille,
        confirmed: body.confirmed,
        ..before.clone()
    };
    audit::record(
        &mut tx,
        &Actor::of(p),
        Event {
            action: "service_index.criterion.edit",
            object_type: "service_index_criterion",
            object_id: code,
            province: Some(province.as_str()),
            before: Some(json!(before)),
            after: Some(json!(after)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
