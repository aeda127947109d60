//! Evaluation of the service (docs/rules.md §6): the per-dossier score sheet of the 9
//! published indices scored 2/1/0, 18 at most (Decree 61/2018/NĐ-CP as amended by Decree
//! 107/2021/NĐ-CP; the scoring table of Circular 01/2018/TT-VPCP), the citizen's
//! satisfaction (a separate survey, outside the 18 points), and the provincial service
//! index of Decision 766/QĐ-TTg (2022).
//!
//! Everything here is pure: the server gathers the facts (the dossier, the closed steps
//! of its control sheet, the citizen's answers, whether its procedure is in the public
//! catalogue, and the agency's figures over a period, [`UnitFacts`]) and these functions
//! score them. Indices 5, 8 and 9 judge the agency, not the dossier: [`UnitMarks::of`]
//! scores them once per agency and period and every dossier of the agency in the period
//! carries the same marks. An index that neither the system's data nor a citizen's
//! answer can decide is *not assessed*, never 0: a missing survey must not read as a bad
//! service.
//!
//! Legal status of the details. The list of the nine indices and their 2/1/0 levels are
//! confirmed (the published wording, as a provincial system reproduces it); the article
//! and clause numbers are not, so each line cites the decree and the circular without
//! them ([`Index::legal`]). Where motcua lacks the data a level needs, [`Index::method`]
//! says what it does instead. The Decision 766 index follows the national portal's
//! published method (groups 18/20/22/22/18, 21 sub-criteria with their points, formulas
//! and thresholds, docs/rules.md §6); the Decision's annex itself was not read, so each
//! sub-criterion says whether its points are confirmed. The indices, groups and
//! sub-criteria are data of the rule set in force ([`crate::rules`]). Sub-criteria motcua has no data for are *not
//! measured*: no points, and left out of the maximum the score is shown against.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::dossier::{Channel, Timeliness};
use crate::lifecycle::{Dossier, NoticeKind};

/// How satisfied the applicant is with a dossier's handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Satisfaction {
    /// Rất hài lòng.
    VerySatisfied,
    /// Hài lòng.
    Satisfied,
    /// Không hài lòng.
    NotSatisfied,
}

impl Satisfaction {
    /// All levels, best first.
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::NotSatisfied,
    ];

    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "very_satisfied",
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::NotSatisfied => "not_satisfied",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this counts as satisfied in the service index (very satisfied or satisfied).
    pub fn is_satisfied(self) -> bool {
        self != Satisfaction::NotSatisfied
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "Rất hài lòng",
            Satisfaction::Satisfied => "Hài lòng",
            Satisfaction::NotSatisfied => "Không hài lòng",
        }
    }
}

/// The citizen's answer on whether the procedure's public information was complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PublicInfo {
    /// Complete and correct.
    Full,
    /// Partly.
    Partial,
    /// Not published, or wrong.
    Missing,
}

impl PublicInfo {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            PublicInfo::Full => "full",
            PublicInfo::Partial => "partial",
            PublicInfo::Missing => "missing",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [PublicInfo::Full, PublicInfo::Partial, PublicInfo::Missing]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            PublicInfo::Full => "Đầy đủ, chính xác",
            PublicInfo::Partial => "Chưa đầy đủ",
            PublicInfo::Missing => "Không được công khai hoặc sai",
        }
    }
}

/// The citizen's answer on the conduct of the officers who served them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Conduct {
    /// Courteous, clear guidance.
    Good,
    /// Acceptable.
    Fair,
    /// Discourteous, or asked for something outside the rules.
    Poor,
}

impl Conduct {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Conduct::Good => "good",
            Conduct::Fair => "fair",
            Conduct::Poor => "poor",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [Conduct::Good, Conduct::Fair, Conduct::Poor]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Conduct::Good => "Tận tình, hướng dẫn rõ ràng",
            Conduct::Fair => "Bình thường",
            Conduct::Poor => "Chưa đúng mực hoặc yêu cầu ngoài quy định",
        }
    }
}

/// What the citizen answered on the rating form (every answer optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    /// How many times they had to contact the place of reception to complete the dossier.
    pub contacts: Option<u32>,
    /// How many agencies they had to go to.
    pub agencies: Option<u32>,
    /// Whether the procedure's public information was complete.
    pub public_info: Option<PublicInfo>,
    /// The officers' conduct.
    pub conduct: Option<Conduct>,
    /// Their satisfaction.
    pub satisfaction: Option<Satisfaction>,
}

/// Where an index's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The system's own records of the dossier.
    System,
    /// The citizen's answers (online, rating link, counter kiosk).
    Citizen,
    /// The system's records, completed or corrected by the citizen's answers.
    SystemAndCitizen,
    /// The agency's figures over the period (the catalogue and its dossiers): the same
    /// for every dossier of the agency in the period.
    Unit,
}

impl Source {
    /// Stable text (the API's `source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::System => "system",
            Source::Citizen => "citizen",
            Source::SystemAndCitizen => "system_and_citizen",
            Source::Unit => "unit",
        }
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Source::System => "Dữ liệu hệ thống",
            Source::Citizen => "Ý kiến người dân",
            Source::SystemAndCitizen => "Dữ liệu hệ thống và ý kiến người dân",
            Source::Unit => "Số liệu của cơ quan trong kỳ",
        }
    }
}

/// What an index computes: one per published index. A rule set ([`crate::rules`]) says
/// which are in force, with their names, levels and sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum IndexCode {
    /// 1: total time against the statutory time.
    TotalTime,
    /// 2: each unit's time against its time limit.
    StepTime,
    /// 3: contacts with the place of reception to complete the dossier.
    Contacts,
    /// 4: bodies contacted to complete the dossier.
    Agencies,
    /// 5: reception, handling and return at the one-stop unit (the agency).
    OneStop,
    /// 6: publicity of the procedures.
    Publicity,
    /// 7: the officers' attitude.
    Conduct,
    /// 8: receiving and explaining feedback and complaints (the agency).
    Feedback,
    /// 9: progress and quality of the online services (the agency).
    OnlineService,
}

impl IndexCode {
    /// Stable text (the API's `code`).
    pub fn as_str(self) -> &'static str {
        match self {
            IndexCode::TotalTime => "total_time",
            IndexCode::StepTime => "step_time",
            IndexCode::Contacts => "contacts",
            IndexCode::Agencies => "agencies",
            IndexCode::OneStop => "one_stop",
            IndexCode::Publicity => "publicity",
            IndexCode::Conduct => "conduct",
            IndexCode::Feedback => "feedback",
            IndexCode::OnlineService => "online_service",
        }
    }
}

/// One index of the per-dossier evaluation, as a rule set words it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Index {
    /// Its place in the published order.
    pub number: u8,
    /// What it computes.
    pub code: IndexCode,
    /// The published name (Vietnamese).
    pub name: String,
    /// Where the data comes from.
    pub source: Source,
    /// The published 2/1/0 rule, as the sheet prints it.
    pub rule: String,
    /// How motcua applies the rule with the data it has (and what it cannot know).
    pub method: String,
    /// The legal source, printed on the sheet's line.
    pub legal: String,
    /// Whether the index's wording and its 2/1/0 levels are confirmed against the text
    /// the rule set cites (docs/rules.md §6).
    pub confirmed: bool,
}

impl Index {
    /// Whether the index judges the agency over a period rather than the dossier (the
    /// same mark for every dossier of the agency in the period).
    pub fn unit_level(&self) -> bool {
        self.source == Source::Unit
    }
}

/// The most an index scores.
pub const INDEX_MAX: u32 = 2;

/// The agency's figures behind the unit-level indices 5, 8 and 9, for one period: what
/// the server gathers from the catalogue and the dossiers (docs/rules.md §6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitFacts {
    /// The agency's procedures in the catalogue.
    pub procedures: i64,
    /// Of those, received at the centre (`ProcedureContent::at_centre`).
    pub procedures_at_centre: i64,
    /// Of those, offered online ([`offered_online`]).
    pub procedures_online: i64,
    /// Of those, examined and approved by the one-stop unit itself; `None` when not known
    /// (motcua keeps no such data yet, so index 5 never scores 2).
    pub procedures_decided_at_one_stop: Option<i64>,
    /// Whether the one-stop unit is at commune level (its level-2 share is 100 %, not 20 %).
    pub commune_level: bool,
    /// The agency's dossiers received in the period.
    pub dossiers: i64,
    /// Of those, filed online ([`filed_online`]).
    pub dossiers_online: i64,
    /// Online dossiers of the agency resolved late in the period, or unresolved past their
    /// appointment at its end.
    pub online_overdue_or_late: i64,
    /// Citizens' feedback and complaints (phản ánh, kiến nghị) of the period; `None`
    /// when not known (motcua keeps no register of them yet).
    pub feedback: Option<FeedbackCounts>,
}

/// Citizens' feedback and complaints about an agency over a period (index 8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackCounts {
    /// Received.
    pub received: i64,
    /// Of those, handled within the time limit.
    pub on_time: i64,
    /// Prolonged (kéo dài).
    pub prolonged: i64,
}

/// Whether a procedure is offered online in the sense of index 9 ("mức độ 3, 4"): filing
/// online accepted, i.e. level 3 or 4 on the old scale, or the full online mode (the same
/// test as `ProcedureContent::accepts_online_filing`).
pub fn offered_online(p: &crate::catalogue::ProcedureSummary) -> bool {
    p.service_level >= 3 || p.online_mode == crate::catalogue::OnlineMode::Full
}

/// The marks of the unit-level indices, computed once per agency and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitMarks {
    /// Index 5.
    pub one_stop: Mark,
    /// Index 8.
    pub feedback: Mark,
    /// Index 9.
    pub online_service: Mark,
}

impl UnitMarks {
    /// Scores indices 5, 8 and 9 from the agency's figures.
    pub fn of(u: &UnitFacts) -> Self {
        UnitMarks {
            one_stop: one_stop(u),
            feedback: feedback(u.feedback),
            online_service: online_service(u),
        }
    }
}

/// What the server gathers about a dossier to score it.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The dossier.
    pub dossier: &'a Dossier,
    /// How each closed step of the control sheet finished against its budget, in order.
    pub steps: &'a [Timeliness],
    /// The agencies the dossier was forwarded to (inter-agency handling), in order.
    pub forwarded: &'a [String],
    /// The citizen's answers, when they rated the dossier.
    pub answers: Option<&'a Answers>,
    /// Whether the dossier's procedure is in the public catalogue (published
    /// electronically).
    pub published: bool,
    /// The marks of the unit-level indices of the dossier's responsible agency.
    pub unit: &'a UnitMarks,
}

/// The outcome of one index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mark {
    /// Scored 0, 1 or 2.
    Scored {
        /// The points.
        points: u32,
        /// Why, in Vietnamese.
        reason: String,
    },
    /// Neither the system nor the citizen gives what the rule needs.
    NotAssessed {
        /// Why, in Vietnamese.
        reason: String,
    },
}

impl Mark {
    /// The points, when scored.
    pub fn points(&self) -> Option<u32> {
        match self {
            Mark::Scored { points, .. } => Some(*points),
            Mark::NotAssessed { .. } => None,
        }
    }

    /// The explanation.
    pub fn reason(&self) -> &str {
        match self {
            Mark::Scored { reason, .. } | Mark::NotAssessed { reason } => reason,
        }
    }
}

/// One line of a dossier's score sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The index.
    pub index: Index,
    /// Its outcome.
    pub mark: Mark,
}

/// A dossier's score sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// A line per index of the rule set in force.
    pub lines: Vec<Line>,
    /// The applicant's satisfaction, when rated: a separate survey, shown with the sheet
    /// but outside its 18 points.
    pub satisfaction: Option<Satisfaction>,
}

impl Sheet {
    /// Points over the assessed indices.
    pub fn total(&self) -> u32 {
        self.lines.iter().filter_map(|l| l.mark.points()).sum()
    }

    /// How many indices were assessed.
    pub fn assessed(&self) -> usize {
        self.lines.iter().filter(|l| l.mark.points().is_some()).count()
    }

    /// The most the assessed indices could score.
    pub fn assessed_max(&self) -> u32 {
        u32::try_from(self.assessed()).unwrap_or(0) * INDEX_MAX
    }
}

fn scored(points: u32, reason: impl Into<String>) -> Mark {
    Mark::Scored {
        points,
        reason: reason.into(),
    }
}

fn not_assessed(reason: impl Into<String>) -> Mark {
    Mark::NotAssessed { reason: reason.into() }
}

fn timeliness_points(t: Timeliness) -> u32 {
    match t {
        Timeliness::Early => 2,
        Timeliness::OnTime => 1,
        Timeliness::Late => 0,
    }
}

/// 0 → 2, 1 → 1, more → 0: the shape of the "how many" indices 3 and 4.
fn count_points(n: u32) -> u32 {
    match n {
        0 => 2,
        1 => 1,
        _ => 0,
    }
}

/// `hits / of` as a Vietnamese percentage with one decimal (`33,3 %`).
fn percent(hits: i64, of: i64) -> String {
    if of <= 0 {
        return "—".to_owned();
    }
    let permille = hits.clamp(0, of) * 1000 / of;
    format!("{},{} %", permille / 10, permille % 10)
}

/// Whether `hits / of` reaches `pct` percent (exactly, in integers; `of` > 0).
fn reaches(hits: i64, of: i64, pct: i64) -> bool {
    of > 0 && hits * 100 >= pct * of
}

/// Whether the dossier has its result (ready or returned): the time indices judge the
/// finished handling only.
fn has_result(d: &Dossier) -> bool {
    d.status.has_result() && d.finished_at.is_some()
}

/// The appointment the statutory time gives: the receipt's appointment moved only by the
/// time the applicant took to supplement, i.e. the appointment before the first apology
/// moved it (the apology's `old_due`), or the current one when there was none.
pub fn statutory_due(d: &Dossier) -> Option<OffsetDateTime> {
    d.notices
        .iter()
        .find(|n| n.kind == NoticeKind::Apology)
        .and_then(|n| n.old_due)
        .or(d.due_at)
}

/// How the finished handling stands against the statutory time; `None` before the result.
fn judged(d: &Dossier) -> Option<Timeliness> {
    let finished = d.finished_at.filter(|_| has_result(d))?;
    Some(Timeliness::judge(finished, statutory_due(d)?))
}

/// Index 1: total time against the statutory time.
pub fn total_time(d: &Dossier) -> Mark {
    let Some(t) = judged(d) else {
        return not_assessed("Hồ sơ chưa có kết quả giải quyết.");
    };
    scored(
        timeliness_points(t),
        format!("Có kết quả {} so với thời gian quy định.", t.label().to_lowercase()),
    )
}

/// Index 2: each unit's time against its step budget, from the control sheet's closed
/// steps; the worst step decides.
pub fn step_time(steps: &[Timeliness], forwarded: &[String]) -> Mark {
    let Some(worst) = steps.iter().map(|t| timeliness_points(*t)).min() else {
        return not_assessed("Phiếu kiểm soát chưa có bước nào kết thúc.");
    };
    let late = steps.iter().filter(|t| **t == Timeliness::Late).count();
    let on_time = steps.iter().filter(|t| **t == Timeliness::OnTime).count();
    let mut reason = format!(
        "{} bước đã kết thúc: {} trước hạn, {} đúng hạn, {} quá hạn",
        steps.len(),
        steps.len() - late - on_time,
        on_time,
        late
    );
    if !forwarded.is_empty() {
        reason.push_str(&format!(
            " (kể cả {} cơ quan phối hợp: {})",
            forwarded.len(),
            forwarded.join(", ")
        ));
    }
    reason.push('.');
    scored(worst, reason)
}

/// The supplement requests on the dossier: (at reception, during handling). Every request
/// is a notice of kind [`NoticeKind::SupplementRequest`]; [`Dossier::supplements`] counts
/// those made during handling.
pub fn supplement_requests(d: &Dossier) -> (u32, u32) {
    let all = d
        .notices
        .iter()
        .filter(|n| n.kind == NoticeKind::SupplementRequest)
        .count();
    let all = u32::try_from(all).unwrap_or(u32::MAX);
    let during = d.supplements.min(all);
    (all - during, during)
}

/// Index 3: how many times the applicant had to contact the place of reception to
/// complete the dossier: the supplement requests on the dossier (at reception and during
/// handling), or the applicant's answer when it is higher.
pub fn contacts(d: &Dossier, answers: Option<&Answers>) -> Mark {
    let answered = answers.and_then(|a| a.contacts);
    if !has_result(d) && answered.is_none() {
        return not_assessed("Hồ sơ chưa có kết quả giải quyết (số lần yêu cầu bổ sung còn có thể tăng).");
    }
    let (at_reception, during) = supplement_requests(d);
    let recorded = at_reception + during;
    let n = recorded.max(answered.unwrap_or(0));
    let mut reason = format!(
        "Hồ sơ ghi {at_reception} lần yêu cầu bổ sung, hoàn thiện khi tiếp nhận và {during} lần trong khi giải quyết"
    );
    if let Some(a) = answered {
        reason.push_str(&format!("; người nộp trả lời {a} lần; tính {n} lần (số lớn hơn)"));
    }
    reason.push('.');
    if n > 1 {
        reason.push_str(" Hệ thống không biết lần nào do lỗi của người nộp hồ sơ nên không trừ.");
    }
    scored(count_points(n), reason)
}

/// Index 4: bodies the applicant had to contact to complete the dossier, from their
/// answer: none 2, one (the one-stop unit) 1, more 0.
pub fn agencies(answers: Option<&Answers>) -> Mark {
    match answers.and_then(|a| a.agencies) {
        Some(n) => scored(
            count_points(n),
            match n {
                0 => "Người nộp trả lời: không phải liên hệ cơ quan, đơn vị nào.".to_owned(),
                1 => "Người nộp trả lời: 1 nơi (Bộ phận Một cửa).".to_owned(),
                n => format!("Người nộp trả lời: {n} cơ quan, đơn vị, tổ chức."),
            },
        ),
        None => not_assessed("Người nộp chưa trả lời câu hỏi này."),
    }
}

/// Index 5 (unit level): reception, handling and return at the one-stop unit, from the
/// catalogue of the agency.
pub fn one_stop(u: &UnitFacts) -> Mark {
    if u.procedures <= 0 {
        return not_assessed("Cơ quan không có thủ tục nào trong danh mục.");
    }
    let (n, at) = (u.procedures, u.procedures_at_centre.clamp(0, u.procedures));
    let (share, level) = if u.commune_level {
        (100, "cấp xã")
    } else {
        (20, "cấp tỉnh")
    };
    if let Some(decided) = u.procedures_decided_at_one_stop
        && at == n
        && reaches(decided, n, share)
    {
        return scored(
            2,
            format!(
                "Bộ phận Một cửa ({level}) tự thẩm định, phê duyệt {decided}/{n} thủ tục ({}), đạt tối thiểu {share}%.",
                percent(decided, n)
            ),
        );
    }
    let not_known = match u.procedures_decided_at_one_stop {
        Some(_) => String::new(),
        None => {
            " Hệ thống chưa có số thủ tục do Bộ phận Một cửa tự thẩm định, phê duyệt nên không xét mức 2.".to_owned()
        }
    };
    if at == n {
        scored(
            1,
            format!("Cả {n} thủ tục của cơ quan đều tiếp nhận và trả kết quả tại Trung tâm.{not_known}"),
        )
    } else {
        scored(
            0,
            format!(
                "{at}/{n} thủ tục của cơ quan tiếp nhận tại Trung tâm ({}): {} thủ tục không tiếp nhận tại Trung tâm. Hệ thống không biết thủ tục nào thuộc trường hợp điểm a, b khoản 5 Điều 14 Nghị định 61/2018/NĐ-CP nên tính mọi thủ tục.",
                percent(at, n),
                n - at
            ),
        )
    }
}

/// Index 6: publicity of the procedure. Electronic publication is the public catalogue;
/// posting at the one-stop unit is known only from the applicant's answer.
pub fn publicity(published: bool, answers: Option<&Answers>) -> Mark {
    let answer = answers.and_then(|a| a.public_info);
    let electronic = if published {
        "Thủ tục được công khai điện tử trong danh mục thủ tục của hệ thống"
    } else {
        "Thủ tục không có trong danh mục công khai của hệ thống"
    };
    match (published, answer) {
        (_, Some(PublicInfo::Missing)) => scored(
            0,
            format!("{electronic}; người nộp trả lời thông tin không được công khai hoặc sai."),
        ),
        (true, Some(PublicInfo::Full)) => scored(
            2,
            format!(
                "{electronic}; người nộp trả lời thông tin được công khai đầy đủ, chính xác (tính là có niêm yết)."
            ),
        ),
        (true, Some(PublicInfo::Partial)) => scored(
            1,
            format!("{electronic}; người nộp trả lời thông tin chưa đầy đủ: chỉ tính hình thức điện tử."),
        ),
        (true, None) => scored(
            1,
            format!(
                "{electronic}. Hệ thống không biết việc niêm yết tại Bộ phận Một cửa và người nộp chưa trả lời: chỉ tính hình thức điện tử."
            ),
        ),
        (false, Some(PublicInfo::Full)) => scored(
            1,
            format!("{electronic}; người nộp trả lời thông tin được công khai đầy đủ, chính xác: tính một hình thức."),
        ),
        (false, Some(PublicInfo::Partial)) => {
            scored(0, format!("{electronic}; người nộp trả lời thông tin chưa đầy đủ."))
        }
        (false, None) => not_assessed(format!("{electronic} và người nộp chưa trả lời.")),
    }
}

/// Index 7: the officers' attitude: the timeliness of the handling when there is no
/// complaint; a complaint in the applicant's answer is not substantiated, so the index
/// is then not assessed.
pub fn conduct(d: &Dossier, answers: Option<&Answers>) -> Mark {
    let answer = answers.and_then(|a| a.conduct);
    if answer == Some(Conduct::Poor) {
        return not_assessed(
            "Người nộp phản ánh thái độ chưa đúng mực hoặc yêu cầu ngoài quy định; phản ánh chưa được xác minh (hệ thống chưa có sổ theo dõi phản ánh, kiến nghị) nên chưa chấm.",
        );
    }
    let Some(t) = judged(d) else {
        return not_assessed("Hồ sơ chưa có kết quả giải quyết.");
    };
    let complaint = match answer {
        Some(c) => format!("người nộp đánh giá thái độ: {}", c.label().to_lowercase()),
        None => "người nộp không trả lời câu hỏi về thái độ".to_owned(),
    };
    let reason = match t {
        Timeliness::Early => {
            format!("Giải quyết sớm hơn thời hạn, không có phản ánh về thái độ, hành vi ({complaint}).")
        }
        Timeliness::OnTime => format!("Giải quyết đúng thời hạn, không có phản ánh về thái độ, hành vi ({complaint})."),
        Timeliness::Late => {
            format!("Giải quyết quá thời hạn: không đạt điều kiện «đúng thời hạn» của mức 1 ({complaint}).")
        }
    };
    scored(timeliness_points(t), reason)
}

/// Index 8 (unit level): receiving and explaining citizens' feedback and complaints.
pub fn feedback(f: Option<FeedbackCounts>) -> Mark {
    let Some(f) = f else {
        return not_assessed(
            "Hệ thống chưa có sổ theo dõi phản ánh, kiến nghị của tổ chức, cá nhân nên chưa đánh giá được (ý kiến «không hài lòng» khi đánh giá hồ sơ không phải là phản ánh, kiến nghị).",
        );
    };
    if f.prolonged > 0 {
        return scored(0, format!("{} phản ánh, kiến nghị kéo dài.", f.prolonged));
    }
    if f.received <= 0 {
        return scored(2, "Không có phản ánh, kiến nghị trong kỳ.");
    }
    let rate = percent(f.on_time, f.received);
    let head = format!(
        "{}/{} phản ánh, kiến nghị xử lý đúng thời hạn ({rate}), không có phản ánh, kiến nghị kéo dài",
        f.on_time, f.received
    );
    if f.on_time >= f.received {
        scored(2, format!("{head}."))
    } else if reaches(f.on_time, f.received, 90) {
        scored(1, format!("{head}: từ 90% trở lên."))
    } else {
        scored(0, format!("{head}: dưới 90%."))
    }
}

/// Index 9 (unit level): progress and quality of the agency's online public services
/// over the period.
pub fn online_service(u: &UnitFacts) -> Mark {
    if u.procedures <= 0 {
        return not_assessed("Cơ quan không có thủ tục nào trong danh mục.");
    }
    let offered = u.procedures_online.clamp(0, u.procedures);
    let procs = format!(
        "{offered}/{} thủ tục nhận hồ sơ trực tuyến ({})",
        u.procedures,
        percent(offered, u.procedures)
    );
    if offered == 0 {
        return scored(
            0,
            format!("{procs}: không cung cấp dịch vụ công trực tuyến mức độ 3, 4."),
        );
    }
    if u.online_overdue_or_late > 0 {
        return scored(
            0,
            format!(
                "{procs}; {} hồ sơ trực tuyến giải quyết quá hạn hoặc còn quá hạn trong kỳ.",
                u.online_overdue_or_late
            ),
        );
    }
    if u.dossiers <= 0 {
        return not_assessed(format!(
            "{procs}; cơ quan không tiếp nhận hồ sơ nào trong kỳ nên chưa tính được tỷ lệ hồ sơ trực tuyến."
        ));
    }
    let online = u.dossiers_online.clamp(0, u.dossiers);
    let head = format!(
        "{procs}; {online}/{} hồ sơ tiếp nhận trong kỳ nộp trực tuyến ({}); không có hồ sơ trực tuyến quá hạn",
        u.dossiers,
        percent(online, u.dossiers)
    );
    let procedures_20 = reaches(offered, u.procedures, 20);
    if reaches(online, u.dossiers, 30) {
        if procedures_20 {
            scored(2, format!("{head}."))
        } else {
            scored(
                1,
                format!("{head}: hồ sơ trực tuyến từ 30% nhưng thủ tục trực tuyến dưới 20%."),
            )
        }
    } else if reaches(online, u.dossiers, 15) {
        scored(1, format!("{head}: hồ sơ trực tuyến từ 15% đến dưới 30%."))
    } else {
        scored(0, format!("{head}: hồ sơ trực tuyến dưới 15%."))
    }
}

/// The mark of index `code` for the dossier of `f`.
pub fn mark(code: IndexCode, f: &Facts<'_>) -> Mark {
    match code {
        IndexCode::TotalTime => total_time(f.dossier),
        IndexCode::StepTime => step_time(f.steps, f.forwarded),
        IndexCode::Contacts => contacts(f.dossier, f.answers),
        IndexCode::Agencies => agencies(f.answers),
        IndexCode::OneStop => f.unit.one_stop.clone(),
        IndexCode::Publicity => publicity(f.published, f.answers),
        IndexCode::Conduct => conduct(f.dossier, f.answers),
        IndexCode::Feedback => f.unit.feedback.clone(),
        IndexCode::OnlineService => f.unit.online_service.clone(),
    }
}

/// The score sheet of a dossier under `indices` (those of the rule set in force, in
/// their published order), with the satisfaction rating (outside the points).
pub fn evaluate(f: &Facts<'_>, indices: &[Index]) -> Sheet {
    Sheet {
        lines: indices
            .iter()
            .map(|index| Line {
                index: index.clone(),
                mark: mark(index.code, f),
            })
            .collect(),
        satisfaction: f.answers.and_then(|a| a.satisfaction),
    }
}

/// Counts of one index over many dossiers (the per-agency sheet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Dossiers scored 2, 1, 0.
    pub by_points: [u32; 3],
    /// Dossiers not assessed.
    pub not_assessed: u32,
}

impl Tally {
    /// Adds one dossier's mark.
    pub fn add(&mut self, m: &Mark) {
        match m.points() {
            Some(p) => self.by_points[2 - p.min(2) as usize] += 1,
            None => self.not_assessed += 1,
        }
    }

    /// Assessed dossiers.
    pub fn assessed(&self) -> u32 {
        self.by_points.iter().sum()
    }

    /// Average points over the assessed dossiers, in hundredths of a point.
    pub fn average_centi(&self) -> Option<u32> {
        let n = self.assessed();
        (n > 0).then(|| (self.by_points[0] * 200 + self.by_points[1] * 100) / n)
    }
}

// ---- Decision 766/QĐ-TTg: the provincial service index --------------------------------

/// A group of the service index with its points (docs/rules.md §6: the national portal's
/// groups; confirmed as the portal's, the Decision's annex not read). Data of the rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Stable code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Points of the group.
    pub points: u32,
}

/// What a sub-criterion scores when its rate has nothing to measure (denominator 0) in
/// the period. The portal's rule is known for 5.2, 5.3 (full) and 5.4 (zero); the others
/// are not scored (docs/rules.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WhenEmpty {
    /// The full points.
    Full,
    /// No points, counted in the maximum.
    Zero,
    /// Not scored: left out of both the score and the measured maximum.
    NotScored,
}

impl WhenEmpty {
    /// Every rule.
    pub const ALL: [WhenEmpty; 3] = [WhenEmpty::Full, WhenEmpty::Zero, WhenEmpty::NotScored];

    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            WhenEmpty::Full => "full",
            WhenEmpty::Zero => "zero",
            WhenEmpty::NotScored => "not_scored",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            WhenEmpty::Full => "không phát sinh: đạt điểm tối đa",
            WhenEmpty::Zero => "không phát sinh: 0 điểm",
            WhenEmpty::NotScored => "không phát sinh: không chấm",
        }
    }
}

/// What a sub-criterion measures: one per published sub-criterion. [`Measure::ratio`]
/// says which ones motcua computes from its own data; the others are *not measured*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Measure {
    /// 1.1 procedures published (công bố) on time.
    PublishedOnTime,
    /// 1.2 procedures updated and made public on the national database on time.
    UpdatedOnTime,
    /// 1.3 procedures whose published content has every component ([`content_complete`]).
    ContentComplete,
    /// 1.4 dossiers received and synchronised with the national portal.
    PortalSync,
    /// 2.1 dossiers handled early or on time.
    OnTime,
    /// 3.1 procedures offered as an online public service ([`offers_online_service`]).
    OnlineProcedures,
    /// 3.2 online services with at least one online dossier in the period.
    OnlineServicesUsed,
    /// 3.3 dossiers filed online.
    OnlineShare,
    /// 3.5 procedures with fees payable online.
    PaymentIntegrated,
    /// 3.5b procedures with fees that had an online payment in the period.
    PaymentUsed,
    /// 3.6 dossiers whose fees were paid online.
    OnlinePayment,
    /// 4.1 dossiers with an electronic result.
    DigitisedResults,
    /// 4.2 dossiers digitised.
    DigitisedFiles,
    /// Electronic certified copies from originals (no number in the portal's document).
    CertifiedCopies,
    /// 4.3 dossiers reusing digitised data.
    ReusedData,
    /// 4.4 digitised dossiers shared for reuse.
    SharedData,
    /// 4.5a procedures connected to the national population database.
    PopulationProcedures,
    /// 4.5b dossiers using data of the national population database.
    PopulationDossiers,
    /// 5.2 feedback and complaints handled on time.
    FeedbackOnTime,
    /// 5.3 satisfaction with the handling of feedback and complaints.
    FeedbackSatisfied,
    /// 5.4 satisfaction with the reception and handling of dossiers.
    DossierSatisfaction,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Measure; 21] = [
        Measure::PublishedOnTime,
        Measure::UpdatedOnTime,
        Measure::ContentComplete,
        Measure::PortalSync,
        Measure::OnTime,
        Measure::OnlineProcedures,
        Measure::OnlineServicesUsed,
        Measure::OnlineShare,
        Measure::PaymentIntegrated,
        Measure::PaymentUsed,
        Measure::OnlinePayment,
        Measure::DigitisedResults,
        Measure::DigitisedFiles,
        Measure::CertifiedCopies,
        Measure::ReusedData,
        Measure::SharedData,
        Measure::PopulationProcedures,
        Measure::PopulationDossiers,
        Measure::FeedbackOnTime,
        Measure::FeedbackSatisfied,
        Measure::DossierSatisfaction,
    ];

    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::PublishedOnTime => "published_on_time",
            Measure::UpdatedOnTime => "updated_on_time",
            Measure::ContentComplete => "content_complete",
            Measure::PortalSync => "portal_sync",
            Measure::OnTime => "on_time",
            Measure::OnlineProcedures => "online_procedures",
            Measure::OnlineServicesUsed => "online_services_used",
            Measure::OnlineShare => "online_share",
            Measure::PaymentIntegrated => "payment_integrated",
            Measure::PaymentUsed => "payment_used",
            Measure::OnlinePayment => "online_payment",
            Measure::DigitisedResults => "digitised_results",
            Measure::DigitisedFiles => "digitised_files",
            Measure::CertifiedCopies => "certified_copies",
            Measure::ReusedData => "reused_data",
            Measure::SharedData => "shared_data",
            Measure::PopulationProcedures => "population_procedures",
            Measure::PopulationDossiers => "population_dossiers",
            Measure::FeedbackOnTime => "feedback_on_time",
            Measure::FeedbackSatisfied => "feedback_satisfied",
            Measure::DossierSatisfaction => "dossier_satisfaction",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The published rate (the national portal's formula), in Vietnamese.
    pub fn formula(self) -> &'static str {
        match self {
            Measure::PublishedOnTime => {
                "số TTHC công bố đúng hạn / tổng số TTHC đã công bố trong kỳ (đúng hạn: quyết định công bố không muộn hơn ngày hiệu lực của văn bản quy định trừ 5 ngày làm việc)"
            }
            Measure::UpdatedOnTime => {
                "số TTHC công khai đúng hạn trên Cơ sở dữ liệu quốc gia về TTHC / tổng số TTHC phải cập nhật, công khai trong kỳ (đúng hạn: trong 5 ngày làm việc từ ngày quyết định công bố)"
            }
            Measure::ContentComplete => {
                "số TTHC công khai đủ các bộ phận tạo thành (tên, trình tự, cách thức, hồ sơ, thời hạn, đối tượng, cơ quan thực hiện) / tổng số TTHC"
            }
            Measure::PortalSync => {
                "số hồ sơ có ngày tiếp nhận trong kỳ đã đồng bộ lên Cổng Dịch vụ công quốc gia / tổng số hồ sơ tiếp nhận trong kỳ"
            }
            Measure::OnTime => {
                "số hồ sơ đã và đang xử lý trước hạn, đúng hạn, trong hạn / tổng số hồ sơ tiếp nhận, xử lý trong kỳ (trừ thời gian chờ bổ sung; yêu cầu bổ sung hơn 01 lần tính quá hạn)"
            }
            Measure::OnlineProcedures => {
                "số TTHC cung cấp dịch vụ công trực tuyến (toàn trình hoặc một phần) / tổng số TTHC thuộc thẩm quyền"
            }
            Measure::OnlineServicesUsed => {
                "số dịch vụ công trực tuyến có hồ sơ tiếp nhận trực tuyến trong kỳ / số dịch vụ công trực tuyến"
            }
            Measure::OnlineShare => "số hồ sơ tiếp nhận trực tuyến / tổng số hồ sơ tiếp nhận trong kỳ",
            Measure::PaymentIntegrated => {
                "số TTHC có nghĩa vụ tài chính được tích hợp thanh toán trực tuyến / tổng số TTHC có nghĩa vụ tài chính"
            }
            Measure::PaymentUsed => {
                "số TTHC có nghĩa vụ tài chính có giao dịch thanh toán trực tuyến trong kỳ / tổng số TTHC có nghĩa vụ tài chính"
            }
            Measure::OnlinePayment => {
                "số hồ sơ thanh toán trực tuyến / tổng số hồ sơ có nghĩa vụ tài chính đã nộp trong kỳ"
            }
            Measure::DigitisedResults => {
                "số hồ sơ có cấp kết quả giải quyết điện tử / tổng số hồ sơ có kết quả trong kỳ"
            }
            Measure::DigitisedFiles => "số hồ sơ thực hiện số hóa / tổng số hồ sơ tiếp nhận trong kỳ",
            Measure::CertifiedCopies => "cung cấp dịch vụ chứng thực bản sao điện tử từ bản chính",
            Measure::ReusedData => "số hồ sơ khai thác, sử dụng lại thông tin, dữ liệu số hóa / tổng số hồ sơ",
            Measure::SharedData => {
                "số hồ sơ được số hóa có kết nối, chia sẻ dữ liệu phục vụ tái sử dụng / tổng số hồ sơ được số hóa"
            }
            Measure::PopulationProcedures => {
                "số TTHC triển khai kết nối, chia sẻ dữ liệu dân cư / tổng số TTHC phải kết nối"
            }
            Measure::PopulationDossiers => {
                "số hồ sơ sử dụng thông tin, dữ liệu từ Cơ sở dữ liệu quốc gia về dân cư / tổng số hồ sơ"
            }
            Measure::FeedbackOnTime => "số phản ánh, kiến nghị xử lý đúng hạn / tổng số phản ánh, kiến nghị trong kỳ",
            Measure::FeedbackSatisfied => {
                "(tổng số phản ánh, kiến nghị − số bị phản hồi không hài lòng, tiếp tục phản ánh hoặc quá hạn) / tổng số phản ánh, kiến nghị"
            }
            Measure::DossierSatisfaction => {
                "100 % − (tỷ lệ hồ sơ giải quyết quá hạn + tỷ lệ hồ sơ có phản ánh, kiến nghị hoặc đánh giá không hài lòng)"
            }
        }
    }

    /// How motcua computes the rate from its own data, or why it cannot.
    pub fn method(self) -> &'static str {
        match self {
            Measure::PublishedOnTime | Measure::UpdatedOnTime => {
                "Không đo được trong motcua: hệ thống không lưu quyết định công bố và ngày hiệu lực của văn bản quy định."
            }
            Measure::ContentComplete => {
                "Danh mục TTHC hiện hành của tỉnh: TTHC có tên, trình tự (các bước hoặc mô tả), thành phần hồ sơ, thời hạn, đối tượng, cơ quan thực hiện (cách thức thực hiện luôn có)."
            }
            Measure::PortalSync => {
                "Hồ sơ tiếp nhận trong kỳ có ít nhất một lần gửi lên Cổng Dịch vụ công quốc gia thành công (hàng đợi đồng bộ của motcua). Khi chưa cấu hình đồng bộ với Cổng: không đo."
            }
            Measure::OnTime => {
                "Số liệu tổng hợp của motcua: hồ sơ có kết quả trong kỳ (trước hạn, đúng hạn) và hồ sơ đang giải quyết chưa quá hạn ở cuối kỳ / hồ sơ có kết quả trong kỳ và hồ sơ đang giải quyết ở cuối kỳ. Hồ sơ đang giải quyết xét theo ngày hẹn."
            }
            Measure::OnlineProcedures => {
                "Danh mục TTHC: TTHC nhận hồ sơ trực tuyến (toàn trình, hoặc một phần mức độ 3 trở lên) / tổng số TTHC."
            }
            Measure::OnlineServicesUsed => {
                "TTHC nhận hồ sơ trực tuyến có ít nhất một hồ sơ nộp trực tuyến được tiếp nhận trong kỳ / TTHC nhận hồ sơ trực tuyến."
            }
            Measure::OnlineShare => {
                "Hồ sơ nộp trực tuyến được tiếp nhận trong kỳ / tổng số hồ sơ tiếp nhận trong kỳ (không nhân tỷ lệ đồng bộ như Cổng)."
            }
            Measure::PaymentIntegrated => {
                "TTHC có khoản phí, lệ phí khác 0. Khi đã cấu hình cổng thanh toán, motcua cho thanh toán trực tuyến mọi khoản phải nộp nên mọi TTHC đó đều tính; chưa cấu hình: không TTHC nào. Cổng thanh toán của motcua không phải nền tảng thanh toán của Cổng Dịch vụ công quốc gia, nên Cổng có thể tính khác."
            }
            Measure::PaymentUsed => {
                "TTHC có khoản phí, lệ phí khác 0 có lệnh thanh toán trực tuyến đã nộp trong kỳ / TTHC có khoản phí, lệ phí khác 0."
            }
            Measure::OnlinePayment => {
                "Hồ sơ có lệnh thanh toán trực tuyến đã nộp trong kỳ / hồ sơ có lệnh thanh toán đã nộp trong kỳ (trực tuyến hoặc tiền mặt)."
            }
            Measure::DigitisedResults => {
                "Hồ sơ có kết quả trong kỳ kèm tệp kết quả điện tử / hồ sơ có kết quả trong kỳ."
            }
            Measure::DigitisedFiles => {
                "Hồ sơ tiếp nhận trong kỳ có ít nhất một thành phần kèm bản quét, tệp điện tử / hồ sơ tiếp nhận trong kỳ."
            }
            Measure::CertifiedCopies => {
                "Không đo được trong motcua: hệ thống không cung cấp dịch vụ chứng thực điện tử."
            }
            Measure::ReusedData => {
                "Hồ sơ tiếp nhận trong kỳ dùng lại ít nhất một giấy tờ trong kho giấy tờ của người nộp (kết quả đã cấp, giấy tờ đã đối chiếu bản chính hoặc tự tải lên) thay cho nộp lại / hồ sơ tiếp nhận trong kỳ."
            }
            Measure::SharedData => {
                "Không đo được trong motcua: hệ thống chưa kết nối, chia sẻ kho dữ liệu số hóa với Cổng Dịch vụ công quốc gia."
            }
            Measure::PopulationProcedures | Measure::PopulationDossiers => {
                "Không đo được trong motcua: hệ thống chưa kết nối Cơ sở dữ liệu quốc gia về dân cư."
            }
            Measure::FeedbackOnTime | Measure::FeedbackSatisfied => {
                "Không đo được trong motcua: hệ thống chưa có sổ theo dõi phản ánh, kiến nghị."
            }
            Measure::DossierSatisfaction => {
                "Trên hồ sơ của chỉ số 2.1: 100 % − (hồ sơ quá hạn + hồ sơ được đánh giá «không hài lòng» trong kỳ) / hồ sơ tiếp nhận, xử lý. motcua chưa có sổ phản ánh, kiến nghị nên chỉ tính đánh giá không hài lòng."
            }
        }
    }

    /// The rate this measure reads from the period's counts; `None` when motcua cannot
    /// measure it (no such data, or the portal sync not configured).
    pub fn ratio(self, c: &ServiceCounts) -> Option<Ratio> {
        let r = |hits, of| Some(Ratio { hits, of });
        let handled = c.resolved + c.in_progress;
        let in_time = c.resolved_in_time + c.in_progress_on_time;
        match self {
            Measure::ContentComplete => r(c.procedures_complete, c.procedures),
            Measure::PortalSync => c.portal_sync.then_some(Ratio {
                hits: c.received_synced,
                of: c.received,
            }),
            Measure::OnTime => r(in_time, handled),
            Measure::OnlineProcedures => r(c.procedures_online, c.procedures),
            Measure::OnlineServicesUsed => r(c.procedures_online_used, c.procedures_online),
            Measure::OnlineShare => r(c.received_online, c.received),
            Measure::PaymentIntegrated => r(
                if c.online_payment { c.procedures_with_fees } else { 0 },
                c.procedures_with_fees,
            ),
            Measure::PaymentUsed => r(c.procedures_paid_online, c.procedures_with_fees),
            Measure::OnlinePayment => r(c.paid_online, c.paid),
            Measure::DigitisedResults => r(c.results_electronic, c.results),
            Measure::DigitisedFiles => r(c.received_digitised, c.received),
            Measure::ReusedData => r(c.received_reused, c.received),
            // 100 % − (overdue + not satisfied) / handled, the two rates summed as published.
            Measure::DossierSatisfaction => r((in_time - c.not_satisfied).max(0), handled),
            Measure::PublishedOnTime
            | Measure::UpdatedOnTime
            | Measure::CertifiedCopies
            | Measure::SharedData
            | Measure::PopulationProcedures
            | Measure::PopulationDossiers
            | Measure::FeedbackOnTime
            | Measure::FeedbackSatisfied => None,
        }
    }

    /// Whether motcua can measure this at all (with the portal sync configured).
    pub fn measurable(self) -> bool {
        self.ratio(&ServiceCounts {
            portal_sync: true,
            ..ServiceCounts::default()
        })
        .is_some()
    }
}

/// The counts the service index's rates are made of, for one province and period. The
/// store answers each by a named query (`motcua_store::evaluation::counts`); what each
/// counts is defined here, by the predicate named on the field, and the store's tests
/// check the queries against these predicates on random dossiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServiceCounts {
    /// Procedures of the province's current catalogue.
    pub procedures: i64,
    /// Of those, with every published component ([`content_complete`]).
    pub procedures_complete: i64,
    /// Of those, offered online ([`offers_online_service`]).
    pub procedures_online: i64,
    /// Of the online ones, with a dossier filed online and received in the period.
    pub procedures_online_used: i64,
    /// Procedures with a fee ([`has_fees`]).
    pub procedures_with_fees: i64,
    /// Of those, with a payment order paid online ([`paid_online`]) in the period.
    pub procedures_paid_online: i64,
    /// Resolved in the period (the overview's figures, docs/rules.md §6).
    pub resolved: i64,
    /// Of those, early or on time ([`crate::stats::judgement`]).
    pub resolved_in_time: i64,
    /// Unfinished at the period's end (the overview's figures).
    pub in_progress: i64,
    /// Of those, not overdue then ([`crate::deadline::is_overdue`]).
    pub in_progress_on_time: i64,
    /// Accepted in the period.
    pub received: i64,
    /// Of those, filed online ([`filed_online`]).
    pub received_online: i64,
    /// Of those, with at least one uploaded scan ([`has_digitised_documents`]).
    pub received_digitised: i64,
    /// Of those, taking at least one document from the applicant's document store
    /// ([`reuses_stored_documents`]).
    pub received_reused: i64,
    /// Of those, delivered at least once to the national portal.
    pub received_synced: i64,
    /// With their result ready in the period ([`crate::dossier::Status::has_result`]).
    pub results: i64,
    /// Of those, with an electronic result file ([`has_electronic_result`]).
    pub results_electronic: i64,
    /// Dossiers with a payment order paid in the period.
    pub paid: i64,
    /// Of those, with one paid online ([`paid_online`]).
    pub paid_online: i64,
    /// Dossiers rated "not satisfied" in the period ([`Satisfaction::is_satisfied`]).
    pub not_satisfied: i64,
    /// Whether the sync with the national portal is configured (1.4 is measured only then).
    pub portal_sync: bool,
    /// Whether an online payment gateway is configured (3.5).
    pub online_payment: bool,
}

/// Whether a procedure's published content has every component of a procedure (Decree
/// 63/2010/NĐ-CP art. 8 cl. 2 as the portal's 1.3 lists them): name, sequence (steps or
/// a description), method (always recorded: at the centre, online mode), documents, time
/// limit, applicants, agency (always recorded).
pub fn content_complete(c: &crate::catalogue::ProcedureContent) -> bool {
    !c.name.trim().is_empty()
        && (!c.steps.is_empty() || !c.description.trim().is_empty())
        && !c.documents.is_empty()
        && c.processing_time.amount > 0
        && !c.applicants.is_empty()
}

/// Whether a procedure is offered as an online public service in the sense of 3.1:
/// applicants may file it online (fully online, or partly online at level 3 or more).
pub fn offers_online_service(c: &crate::catalogue::ProcedureContent) -> bool {
    c.accepts_online_filing()
}

/// Whether a procedure has a financial obligation: a fee or charge above 0.
pub fn has_fees(c: &crate::catalogue::ProcedureContent) -> bool {
    c.fees.iter().any(|f| f.amount.0 > 0)
}

impl ServiceCounts {
    /// Adds the catalogue's counts: `procedures` (code and current content), the codes of
    /// the procedures with a dossier filed online and received in the period, and those
    /// with a payment order paid online in the period.
    pub fn count_catalogue<'a>(
        &mut self,
        procedures: impl IntoIterator<Item = (&'a str, &'a crate::catalogue::ProcedureContent)>,
        filed_online: &std::collections::BTreeSet<String>,
        paid_online: &std::collections::BTreeSet<String>,
    ) {
        for (code, c) in procedures {
            self.procedures += 1;
            self.procedures_complete += i64::from(content_complete(c));
            if offers_online_service(c) {
                self.procedures_online += 1;
                self.procedures_online_used += i64::from(filed_online.contains(code));
            }
            if has_fees(c) {
                self.procedures_with_fees += 1;
                self.procedures_paid_online += i64::from(paid_online.contains(code));
            }
        }
    }
}

/// Whether the dossier was filed online (only those count in the online share,
/// docs/rules.md §6).
pub fn filed_online(d: &Dossier) -> bool {
    d.channel == Channel::Online
}

/// Whether a received document of the dossier has an uploaded scan (a digitised part).
pub fn has_digitised_documents(d: &Dossier) -> bool {
    d.documents.iter().any(|doc| !doc.files.is_empty())
}

/// Whether the dossier took a document from its applicant's document store instead of a
/// new upload or paper (4.3, docs/documents.md).
pub fn reuses_stored_documents(d: &Dossier) -> bool {
    !d.reused.is_empty()
}

/// Whether the dossier's result has an electronic file.
pub fn has_electronic_result(d: &Dossier) -> bool {
    !d.result_files.is_empty()
}

/// The payment method that is not online: cash at the counter.
pub const CASH: &str = "cash";

/// Whether a payment order paid by `method` was paid online (anything but [`CASH`]).
pub fn paid_online(method: &str) -> bool {
    method != CASH
}

/// How a sub-criterion came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// motcua cannot measure it: no points, left out of the measured maximum.
    NotMeasured,
    /// Nothing to measure in the period and the rule is [`WhenEmpty::NotScored`].
    NoData,
    /// Points, in hundredths.
    Scored(i64),
}

impl Outcome {
    /// The points in hundredths, if scored.
    pub fn points_centi(self) -> Option<i64> {
        match self {
            Outcome::Scored(p) => Some(p),
            _ => None,
        }
    }

    /// Stable text (the API's `outcome`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NotMeasured => "not_measured",
            Outcome::NoData => "no_data",
            Outcome::Scored(_) => "scored",
        }
    }
}

/// One sub-criterion scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionScore {
    /// The sub-criterion.
    pub criterion: Criterion,
    /// Its rate; `None` when not measured.
    pub ratio: Option<Ratio>,
    /// What it scored.
    pub outcome: Outcome,
}

/// One group scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupScore {
    /// The group.
    pub group: Group,
    /// Points configured over its sub-criteria.
    pub configured: u32,
    /// The points of its sub-criteria that were scored (the measured maximum).
    pub measured_max: u32,
    /// Points scored, hundredths.
    pub scored_centi: i64,
    /// Its sub-criteria, in page order.
    pub criteria: Vec<CriterionScore>,
}

/// The service index of a province over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIndex {
    /// The groups, in the rule set's order.
    pub groups: Vec<GroupScore>,
    /// Total points scored, hundredths.
    pub total_centi: i64,
    /// The most the scored sub-criteria give (what the total is out of).
    pub measured_max: u32,
    /// The most it scores (the configured points, 100 as published).
    pub max: u32,
}

/// The Decision 766 service index (docs/rules.md §6) of the sub-criteria `criteria` over
/// the period's `counts`: each criterion's rate from its measure, its points by
/// [`criterion_points`], summed by group; those motcua cannot measure score nothing and
/// are left out of the measured maximum.
pub fn service_index(groups: &[Group], criteria: &[Criterion], counts: &ServiceCounts) -> ServiceIndex {
    let groups: Vec<GroupScore> = groups
        .iter()
        .map(|g| {
            let criteria: Vec<CriterionScore> = criteria
                .iter()
                .filter(|c| c.group == g.code)
                .map(|c| {
                    let ratio = c.measure.ratio(counts);
                    let outcome = match ratio {
                        None => Outcome::NotMeasured,
                        Some(r) => criterion_points(c, r).map_or(Outcome::NoData, Outcome::Scored),
                    };
                    CriterionScore {
                        criterion: c.clone(),
                        ratio,
                        outcome,
                    }
                })
                .collect();
            GroupScore {
                group: g.clone(),
                configured: criteria.iter().map(|c| c.criterion.max_points).sum(),
                measured_max: criteria
                    .iter()
                    .filter(|c| c.outcome.points_centi().is_some())
                    .map(|c| c.criterion.max_points)
                    .sum(),
                scored_centi: criteria.iter().filter_map(|c| c.outcome.points_centi()).sum(),
                criteria,
            }
        })
        .collect();
    ServiceIndex {
        total_centi: groups.iter().map(|g| g.scored_centi).sum(),
        measured_max: groups.iter().map(|g| g.measured_max).sum(),
        max: groups.iter().map(|g| g.configured).sum(),
        groups,
    }
}

/// A sub-criterion of a group: data of the rule set in force ([`crate::rules`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Criterion {
    /// The published number (`1.1`, `3.5b`, …).
    pub code: String,
    /// The group's code.
    pub group: String,
    /// The published title (Vietnamese).
    pub name: String,
    /// What it measures.
    pub measure: Measure,
    /// Points at or above the target.
    pub max_points: u32,
    /// The rate at which the full points are reached, per mille: 1000 is linear (points
    /// = max × rate); below 1000, points = max × rate / target under it.
    pub target_permille: u32,
    /// What it scores when there is nothing to measure in the period.
    pub when_empty: WhenEmpty,
    /// Where its title, points and formula come from.
    pub source: String,
    /// Whether its points and formula are confirmed (as the national portal's method;
    /// the Decision's annex was not read, docs/rules.md §6).
    pub confirmed: bool,
    /// Order on the page.
    pub position: u32,
}

impl Criterion {
    /// The scoring rule, in Vietnamese: linear, or full at a threshold.
    pub fn rule(&self) -> String {
        if self.target_permille >= 1000 {
            "Điểm = điểm tối đa × tỷ lệ".to_owned()
        } else {
            let p = self.target_permille;
            let t = if p.is_multiple_of(10) {
                format!("{} %", p / 10)
            } else {
                format!("{},{} %", p / 10, p % 10)
            };
            format!("Đạt từ {t} trở lên: điểm tối đa; dưới {t}: điểm = tỷ lệ × điểm tối đa / {t}")
        }
    }
}

/// A rate: numerator over denominator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Ratio {
    /// Numerator.
    pub hits: i64,
    /// Denominator.
    pub of: i64,
}

impl Ratio {
    /// The rate in per mille; `None` when the denominator is 0.
    pub fn permille(self) -> Option<i64> {
        (self.of > 0).then(|| self.hits.clamp(0, self.of) * 1000 / self.of)
    }
}

/// The points of a criterion for a measured rate, in hundredths of a point (truncated):
/// the full points at or above the target, otherwise rate × max / target (linear when
/// the target is 100 %); with nothing to measure, what [`Criterion::when_empty`] says
/// (`None`: not scored).
pub fn criterion_points(c: &Criterion, r: Ratio) -> Option<i64> {
    let max = i64::from(c.max_points) * 100;
    if r.of <= 0 {
        return match c.when_empty {
            WhenEmpty::Full => Some(max),
            WhenEmpty::Zero => Some(0),
            WhenEmpty::NotScored => None,
        };
    }
    let hits = r.hits.clamp(0, r.of);
    let target = i64::from(c.target_permille.clamp(1, 1000));
    // Exact in integers: hits / of × max / target, truncated to hundredths.
    Some(if hits * 1000 >= target * r.of {
        max
    } else {
        hits * 1000 * max / (target * r.of)
    })
}

/// A rating code: what a rating by link must give, sent only to the applicant's own email
/// or phone with the "result ready" notice (docs/rules.md §6), never printed or shown to
/// staff. The alphabet and length of a tracking secret (about 40 bits), drawn from
/// `random` (the caller supplies OS randomness).
pub fn rating_code(random: [u8; 8]) -> String {
    crate::lifecycle::tracking_secret(random)
}

/// The SHA-256 (hex) under which a rating code is kept: of the code as typed, trimmed and
/// uppercased, so `abcd2345 ` finds `ABCD2345`.
pub fn rating_code_hash(code: &str) -> String {
    use sha2::{Digest, Sha256};
    let normal = code.trim().to_ascii_uppercase();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped rule set in force on `day`.
    fn rules_on(day: time::Date) -> crate::rules::RuleSet {
        crate::rules::RuleBook::shipped().in_force(day).clone()
    }

    /// The rule set of today (Decree 118/2025).
    fn rules() -> crate::rules::RuleSet {
        rules_on(time::macros::date!(2026 - 01 - 01))
    }

    #[test]
    fn indices_are_the_nine_published_with_max_eighteen() {
        for (set, decree) in [
            (rules_on(time::macros::date!(2020 - 01 - 01)), "Nghị định 61/2018/NĐ-CP"),
            (rules(), "Nghị định 118/2025/NĐ-CP"),
        ] {
            let indices = &set.indices;
            assert_eq!(indices.len(), 9);
            assert_eq!(set.sheet_max(), 18);
            let codes: Vec<&str> = indices.iter().map(|x| x.code.as_str()).collect();
            assert_eq!(
                codes,
                [
                    "total_time",
                    "step_time",
                    "contacts",
                    "agencies",
                    "one_stop",
                    "publicity",
                    "conduct",
                    "feedback",
                    "online_service"
                ]
            );
            for (i, x) in indices.iter().enumerate() {
                assert_eq!(usize::from(x.number), i + 1);
                assert!(x.legal.starts_with(decree), "{}", x.legal);
                assert!(!x.legal.contains("điều 31") && !x.legal.contains("điều 13"));
            }
            // Not indices: the satisfaction survey, the apology, the supplement count.
            for gone in ["satisfaction", "apology", "supplements"] {
                assert!(!codes.contains(&gone), "{gone}");
            }
            let unit: Vec<u8> = indices.iter().filter(|x| x.unit_level()).map(|x| x.number).collect();
            assert_eq!(unit, [5, 8, 9]);
            assert_eq!(set.groups.iter().map(|g| g.points).sum::<u32>(), 100);
            for g in &set.groups {
                let sum: u32 = set
                    .criteria
                    .iter()
                    .filter(|c| c.group == g.code)
                    .map(|c| c.max_points)
                    .sum();
                assert_eq!(sum, g.points, "{}", g.code);
            }
        }
        // 2018: the list and the levels are confirmed, the article numbers are not; 2025
        // keeps them unconfirmed until compared with Decree 118/2025.
        for x in &rules_on(time::macros::date!(2020 - 01 - 01)).indices {
            assert!(x.confirmed, "the list and the levels are confirmed");
            assert!(x.legal.contains("Thông tư 01/2018/TT-VPCP") && x.legal.contains("chưa xác nhận"));
        }
        for x in &rules().indices {
            assert!(!x.confirmed && x.legal.contains("chưa đối chiếu"), "{}", x.legal);
        }
    }

    /// A unit with 20 procedures, all at the centre, 5 online (25 %), 20 dossiers.
    fn unit() -> UnitFacts {
        UnitFacts {
            procedures: 20,
            procedures_at_centre: 20,
            procedures_online: 5,
            procedures_decided_at_one_stop: None,
            commune_level: false,
            dossiers: 20,
            dossiers_online: 7,
            online_overdue_or_late: 0,
            feedback: None,
        }
    }

    #[test]
    fn index_9_by_hand() {
        // (procedures, online procedures, dossiers, online dossiers, online overdue or late) → points.
        type Row = (i64, i64, i64, i64, i64, Option<u32>);
        let table: [Row; 12] = [
            // 25 % procedures online, 35 % dossiers online, none late: 2.
            (20, 5, 20, 7, 0, Some(2)),
            // Exactly 20 % and 30 %: 2.
            (10, 2, 10, 3, 0, Some(2)),
            // 16 % dossiers online: 1.
            (20, 5, 25, 4, 0, Some(1)),
            // Exactly 15 %: 1; just under 30 % (29/100): 1.
            (20, 5, 20, 3, 0, Some(1)),
            (20, 5, 100, 29, 0, Some(1)),
            // 14 % dossiers online: 0.
            (20, 5, 50, 7, 0, Some(0)),
            // One online dossier overdue or late: 0 whatever the shares.
            (20, 5, 20, 7, 1, Some(0)),
            // No procedure offered online: 0.
            (20, 0, 20, 0, 0, Some(0)),
            // 40 % dossiers online but only 10 % of procedures online (2/20): 1.
            (20, 2, 20, 8, 0, Some(1)),
            // 19 % of procedures (19/100) and 35 % dossiers: 1.
            (100, 19, 20, 7, 0, Some(1)),
            // No dossier received: not assessed; no procedure: not assessed.
            (20, 5, 0, 0, 0, None),
            (0, 0, 20, 7, 0, None),
        ];
        for (procedures, online, dossiers, dossiers_online, late, want) in table {
            let u = UnitFacts {
                procedures,
                procedures_online: online,
                procedures_at_centre: procedures,
                dossiers,
                dossiers_online,
                online_overdue_or_late: late,
                ..unit()
            };
            let m = online_service(&u);
            assert_eq!(m.points(), want, "{u:?}: {}", m.reason());
        }
        let m = online_service(&unit());
        assert!(
            m.reason().contains("5/20 thủ tục") && m.reason().contains("25,0 %"),
            "{}",
            m.reason()
        );
        assert!(
            m.reason().contains("7/20 hồ sơ") && m.reason().contains("35,0 %"),
            "{}",
            m.reason()
        );
    }

    #[test]
    fn index_5_by_hand() {
        // (procedures, at the centre, decided at the one-stop unit, commune) → points.
        type Row = (i64, i64, Option<i64>, bool, Option<u32>);
        let table: [Row; 8] = [
            // Every procedure at the centre, nothing known of who approves: 1.
            (20, 20, None, false, Some(1)),
            // One procedure received only at the department: 0.
            (20, 19, None, false, Some(0)),
            // Province: 4 of 20 (20 %) approved at the one-stop unit: 2; 3 of 20 (15 %): 1.
            (20, 20, Some(4), false, Some(2)),
            (20, 20, Some(3), false, Some(1)),
            // Commune: all must be: 20 of 20: 2; 19 of 20: 1.
            (20, 20, Some(20), true, Some(2)),
            (20, 20, Some(19), true, Some(1)),
            // Not all received at the centre: 0 even with a share approved there.
            (20, 19, Some(10), false, Some(0)),
            // No procedure: not assessed.
            (0, 0, None, false, None),
        ];
        for (procedures, at_centre, decided, commune, want) in table {
            let u = UnitFacts {
                procedures,
                procedures_at_centre: at_centre,
                procedures_decided_at_one_stop: decided,
                commune_level: commune,
                ..unit()
            };
            let m = one_stop(&u);
            assert_eq!(m.points(), want, "{u:?}: {}", m.reason());
        }
        assert!(one_stop(&unit()).reason().contains("không xét mức 2"));
        assert!(
            one_stop(&UnitFacts {
                procedures_at_centre: 13,
                ..unit()
            })
            .reason()
            .contains("7 thủ tục không tiếp nhận")
        );
    }

    #[test]
    fn index_8_by_hand() {
        let f = |received, on_time, prolonged| {
            Some(FeedbackCounts {
                received,
                on_time,
                prolonged,
            })
        };
        // (counts) → points.
        let table = [
            (None, None),
            (f(0, 0, 0), Some(2)),
            (f(10, 10, 0), Some(2)),
            (f(10, 9, 0), Some(1)),
            (f(20, 17, 0), Some(0)),
            (f(10, 10, 1), Some(0)),
        ];
        for (counts, want) in table {
            assert_eq!(feedback(counts).points(), want, "{counts:?}");
        }
        assert!(feedback(None).reason().contains("chưa có sổ theo dõi phản ánh"));
        // The unit marks come from the unit's facts, once.
        let marks = UnitMarks::of(&unit());
        assert_eq!(
            (
                marks.one_stop.points(),
                marks.feedback.points(),
                marks.online_service.points()
            ),
            (Some(1), None, Some(2))
        );
    }

    fn criterion(code: &str) -> Criterion {
        rules()
            .criteria
            .into_iter()
            .find(|c| c.code == code)
            .expect("criterion")
    }

    #[test]
    fn the_published_sub_criteria_make_the_groups() {
        let set = rules();
        let all = &set.criteria;
        let codes: Vec<&str> = all.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "1.1", "1.2", "1.3", "1.4", "2.1", "3.1", "3.2", "3.3", "3.5", "3.5b", "3.6", "4.1", "4.2", "4.2b",
                "4.3", "4.4", "4.5a", "4.5b", "5.2", "5.3", "5.4"
            ]
        );
        // Points by hand: 6+4+2+6; 20; 2+4+6 + 2+2+6; 6+4+2+2+4+2+2; 6+6+6.
        let sums: Vec<u32> = set
            .groups
            .iter()
            .map(|g| all.iter().filter(|c| c.group == g.code).map(|c| c.max_points).sum())
            .collect();
        assert_eq!(sums, [18, 20, 22, 22, 18]);
        assert_eq!(
            set.groups.iter().map(|g| g.points).collect::<Vec<_>>(),
            [18, 20, 22, 22, 18]
        );
        for (i, c) in all.iter().enumerate() {
            assert_eq!(c.position as usize, i + 1);
            assert!(
                c.source
                    .starts_with("Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia"),
                "{}",
                c.code
            );
        }
        // Every measure once.
        let mut measures: Vec<&str> = all.iter().map(|c| c.measure.as_str()).collect();
        measures.sort_unstable();
        measures.dedup();
        assert_eq!(measures.len(), Measure::ALL.len());
        // Thresholds: 3.1, 3.5, 3.5b, 4.3 at 80 %, 3.3 at 50 %, 5.4 at 90 %; the rest linear.
        let thresholds: Vec<(&str, u32)> = all
            .iter()
            .filter(|c| c.target_permille < 1000)
            .map(|c| (c.code.as_str(), c.target_permille))
            .collect();
        assert_eq!(
            thresholds,
            [
                ("3.1", 800),
                ("3.3", 500),
                ("3.5", 800),
                ("3.5b", 800),
                ("4.3", 800),
                ("5.4", 900)
            ]
        );
        assert_eq!(
            criterion("3.3").rule(),
            "Đạt từ 50 % trở lên: điểm tối đa; dưới 50 %: điểm = tỷ lệ × điểm tối đa / 50 %"
        );
        assert_eq!(criterion("2.1").rule(), "Điểm = điểm tối đa × tỷ lệ");
        // What motcua cannot measure.
        let not_measured: Vec<&str> = all
            .iter()
            .filter(|c| !c.measure.measurable())
            .map(|c| c.code.as_str())
            .collect();
        assert_eq!(
            not_measured,
            ["1.1", "1.2", "4.2b", "4.4", "4.5a", "4.5b", "5.2", "5.3"]
        );
        for m in Measure::ALL {
            assert_eq!(Measure::parse(m.as_str()), Some(m));
            assert_eq!(
                m.measurable(),
                !m.method().starts_with("Không đo được trong motcua"),
                "{m:?}"
            );
        }
        for w in WhenEmpty::ALL {
            assert_eq!(WhenEmpty::parse(w.as_str()), Some(w));
        }
    }

    #[test]
    fn sub_criteria_by_hand() {
        // (criterion, hits, of) → points in hundredths, worked by hand.
        let table: [(&str, i64, i64, Option<i64>); 22] = [
            // 2.1: 45 of 50 = 90 % × 20 = 18.00.
            ("2.1", 45, 50, Some(1800)),
            ("2.1", 50, 50, Some(2000)),
            // 3.3: 30 % of a 50 % threshold: 6 × 30 / 50 = 3.60; 60 %: 6.00; 50 %: 6.00.
            ("3.3", 30, 100, Some(360)),
            ("3.3", 60, 100, Some(600)),
            ("3.3", 50, 100, Some(600)),
            // 3.1: 40 % of 80 %: 2 × 40 / 80 = 1.00; 80 %: 2.00.
            ("3.1", 40, 100, Some(100)),
            ("3.1", 80, 100, Some(200)),
            // 5.4: 93 % ≥ 90 %: 6.00; 80 %: 80 / 90 × 6 = 5.33; 90 %: 6.00.
            ("5.4", 93, 100, Some(600)),
            ("5.4", 80, 100, Some(533)),
            ("5.4", 90, 100, Some(600)),
            // 1.3: 3 of 4 × 2 = 1.50; 1.4: 19 of 20 × 6 = 5.70.
            ("1.3", 3, 4, Some(150)),
            ("1.4", 19, 20, Some(570)),
            // 3.2: 1 of 4 × 4 = 1.00; 3.5b: 50 % of 80 % × 2 = 1.25; 3.6: 1 of 3 × 6 = 2.00.
            ("3.2", 1, 4, Some(100)),
            ("3.5b", 1, 2, Some(125)),
            ("3.6", 1, 3, Some(200)),
            // 4.1: 5 of 10 × 6 = 3.00; 4.2: 12 of 20 × 4 = 2.40 (linear).
            ("4.1", 5, 10, Some(300)),
            ("4.2", 12, 20, Some(240)),
            // Nothing to measure: 5.4 scores 0, 5.2 and 5.3 full, the others are not scored.
            ("5.4", 0, 0, Some(0)),
            ("5.2", 0, 0, Some(600)),
            ("5.3", 0, 0, Some(600)),
            ("2.1", 0, 0, None),
            ("3.3", 0, 0, None),
        ];
        for (code, hits, of, want) in table {
            assert_eq!(
                criterion_points(&criterion(code), Ratio { hits, of }),
                want,
                "{code} {hits}/{of}"
            );
        }
    }

    #[test]
    fn the_index_sums_the_criteria_of_each_group_from_the_counts() {
        let counts = ServiceCounts {
            procedures: 4,
            procedures_complete: 3,
            procedures_online: 2,
            procedures_online_used: 1,
            procedures_with_fees: 2,
            procedures_paid_online: 1,
            resolved: 40,
            resolved_in_time: 36,
            in_progress: 10,
            in_progress_on_time: 9,
            received: 20,
            received_online: 6,
            received_digitised: 12,
            received_reused: 8,
            received_synced: 19,
            results: 10,
            results_electronic: 5,
            paid: 3,
            paid_online: 1,
            not_satisfied: 2,
            portal_sync: true,
            online_payment: true,
        };
        let index = {
            let set = rules();
            service_index(&set.groups, &set.criteria, &counts)
        };
        let group = |code: &str| index.groups.iter().find(|g| g.group.code == code).expect("group");
        let points = |code: &str| {
            index
                .groups
                .iter()
                .flat_map(|g| &g.criteria)
                .find(|c| c.criterion.code == code)
                .expect("criterion")
                .outcome
        };
        // 1.1, 1.2 not measured; 1.3: 3/4 × 2 = 1.50; 1.4: 19/20 × 6 = 5.70.
        assert_eq!(points("1.1"), Outcome::NotMeasured);
        assert_eq!(
            (group("transparency").scored_centi, group("transparency").measured_max),
            (720, 8)
        );
        // 2.1: (36 + 9) / (40 + 10) = 90 % × 20 = 18.00.
        assert_eq!(group("progress").scored_centi, 1800);
        // 3.1: 50 % of 80 % × 2 = 1.25; 3.2: 1/2 × 4 = 2.00; 3.3: 30 % of 50 % × 6 = 3.60;
        // 3.5: 2/2 → 2.00; 3.5b: 50 % of 80 % × 2 = 1.25; 3.6: 1/3 × 6 = 2.00. Sum 12.10.
        assert_eq!(points("3.1"), Outcome::Scored(125));
        assert_eq!((group("online").scored_centi, group("online").measured_max), (1210, 22));
        // 4.1: 5/10 × 6 = 3.00; 4.2: 12/20 × 4 = 2.40; 4.3: 40 % of 80 % × 2 = 1.00; the
        // rest not measured.
        assert_eq!(
            (group("digitisation").scored_centi, group("digitisation").measured_max),
            (640, 12)
        );
        // 5.4: 100 % − (5 overdue + 2 not satisfied) / 50 = 86 % of 90 % × 6 = 5.73.
        assert_eq!(
            (group("satisfaction").scored_centi, group("satisfaction").measured_max),
            (573, 6)
        );
        assert_eq!(points("5.2"), Outcome::NotMeasured);
        assert_eq!(index.total_centi, 720 + 1800 + 1210 + 640 + 573);
        assert_eq!((index.measured_max, index.max), (68, 100));

        // Without the portal sync 1.4 is not measured; without a gateway 3.5 scores 0.
        let bare = ServiceCounts {
            portal_sync: false,
            online_payment: false,
            ..counts
        };
        let index = {
            let set = rules();
            service_index(&set.groups, &set.criteria, &bare)
        };
        assert_eq!(index.total_centi, 4943 - 570 - 200);
        assert_eq!(index.measured_max, 68 - 6);
        assert!(Satisfaction::Satisfied.is_satisfied() && !Satisfaction::NotSatisfied.is_satisfied());
        assert!(paid_online("vnpay") && !paid_online(CASH));
    }

    #[test]
    fn the_catalogue_counts_follow_the_content() {
        let catalogue = crate::demo::ninh_thuan();
        let mut contents: Vec<(String, crate::catalogue::ProcedureContent)> = catalogue
            .procedures
            .iter()
            .take(3)
            .map(|p| {
                (
                    p.code.as_str().to_owned(),
                    p.versions.last().expect("version").content.clone(),
                )
            })
            .collect();
        // One online with a fee, one not online and free, one incomplete.
        contents[0].1.service_level = 3;
        contents[0].1.fees = vec![crate::catalogue::FeeItem {
            kind: crate::catalogue::FeeKind::Charge,
            name: "Lệ phí".into(),
            amount: crate::money::Vnd(50_000),
            option: None,
        }];
        contents[1].1.service_level = 2;
        contents[1].1.online_mode = crate::catalogue::OnlineMode::Partial;
        contents[1].1.fees = vec![crate::catalogue::FeeItem {
            kind: crate::catalogue::FeeKind::Fee,
            name: "Miễn phí".into(),
            amount: crate::money::Vnd(0),
            option: None,
        }];
        contents[2].1.applicants.clear();
        contents[2].1.service_level = 4;
        contents[2].1.fees.clear();
        let first = contents[0].0.clone();
        let used: std::collections::BTreeSet<String> = [first.clone(), contents[1].0.clone()].into();
        let mut c = ServiceCounts::default();
        c.count_catalogue(contents.iter().map(|(k, v)| (k.as_str(), v)), &used, &[first].into());
        assert_eq!(
            (
                c.procedures,
                c.procedures_complete,
                c.procedures_online,
                c.procedures_online_used,
                c.procedures_with_fees,
                c.procedures_paid_online
            ),
            (3, 2, 2, 1, 1, 1)
        );
    }

    #[test]
    fn counts_and_tallies() {
        assert_eq!((count_points(0), count_points(1), count_points(7)), (2, 1, 0));
        assert_eq!(
            (percent(1, 3), percent(7, 20), percent(0, 0)),
            ("33,3 %".to_owned(), "35,0 %".to_owned(), "—".to_owned())
        );
        let mut t = Tally::default();
        t.add(&scored(2, ""));
        t.add(&scored(1, ""));
        t.add(&not_assessed(""));
        assert_eq!(t.assessed(), 2);
        assert_eq!(t.not_assessed, 1);
        assert_eq!(t.average_centi(), Some(150));
    }

    #[test]
    fn a_rating_code_is_found_however_it_is_typed() {
        let code = rating_code([0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(code.len(), 8);
        let typed = format!("  {} ", code.to_ascii_lowercase());
        assert_eq!(rating_code_hash(&typed), rating_code_hash(&code));
        assert_ne!(rating_code_hash(&code), rating_code_hash("22222222"));
        assert_eq!(rating_code_hash(&code).len(), 64);
    }
}
