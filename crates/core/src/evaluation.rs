//! Evaluation of the service (docs/rules.md §6): the per-dossier score sheet of 9 indices
//! scored 2/1/0 (Decree 61/2018/NĐ-CP art. 31, Circular 01/2018/TT-VPCP art. 13), the
//! citizen's satisfaction, and the provincial service index of Decision 766/QĐ-TTg (2022).
//!
//! Everything here is pure: the server gathers the facts (the dossier, the closed steps
//! of its control sheet, the citizen's answers) and these functions score them. An index
//! that neither the system's data nor a citizen's answer can decide is *not assessed*,
//! never 0: a missing survey must not read as a bad service.
//!
//! Legal status of the details. docs/rules.md records the 9 indices scored 2/1/0 (max 18)
//! and names four of them: total time vs statutory (shorter 2, equal 1, longer 0), each
//! unit's time vs its step budget, the number of contacts the applicant needed (0, 1,
//! more than 1) and the number of agencies the applicant had to go to. The other five
//! indices' wording and every threshold not quoted there are *unconfirmed* and marked so
//! in [`INDICES`]. The Decision 766 group points (18/20/22/22/18) and the formula below a
//! target are confirmed; the split of a group into sub-criteria and the targets are
//! *unconfirmed* and kept as data an administrator edits ([`DEFAULT_CRITERIA`] only seeds them).

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The system's own records of the dossier.
    System,
    /// The citizen's answers (online, rating link, counter kiosk).
    Citizen,
}

impl Source {
    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Source::System => "Dữ liệu hệ thống",
            Source::Citizen => "Ý kiến người dân",
        }
    }
}

/// One of the 9 indices of the per-dossier evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// 1–9.
    pub number: u8,
    /// Stable code.
    pub code: &'static str,
    /// Vietnamese name.
    pub name: &'static str,
    /// Where the data comes from.
    pub source: Source,
    /// The scoring rule, as the sheet prints it.
    pub rule: &'static str,
    /// The legal source.
    pub legal: &'static str,
    /// Whether the index and its thresholds are confirmed (docs/rules.md §6); otherwise
    /// *unconfirmed* and shown so.
    pub confirmed: bool,
}

const ART: &str = "Nghị định 61/2018/NĐ-CP điều 31; Thông tư 01/2018/TT-VPCP điều 13";

/// The 9 indices, in the sheet's order.
pub const INDICES: [Index; 9] = [
    Index {
        number: 1,
        code: "total_time",
        name: "Tổng thời gian giải quyết so với thời gian quy định",
        source: Source::System,
        rule: "Trước hạn: 2; đúng hạn: 1; quá hạn: 0 (so với ngày hẹn trên phiếu tiếp nhận, cộng thời gian chờ bổ sung; không tính lần hẹn lại)",
        legal: ART,
        confirmed: true,
    },
    Index {
        number: 2,
        code: "step_time",
        name: "Thời gian thực hiện của từng cơ quan, đơn vị tham gia giải quyết",
        source: Source::System,
        rule: "Theo phiếu kiểm soát: mọi bước trước hạn: 2; có bước đúng hạn, không bước nào quá hạn: 1; có bước quá hạn: 0",
        legal: ART,
        confirmed: true,
    },
    Index {
        number: 3,
        code: "contacts",
        name: "Số lần phải liên hệ với nơi tiếp nhận để hoàn thiện hồ sơ",
        source: Source::Citizen,
        rule: "Không lần nào: 2; 1 lần: 1; hơn 1 lần: 0",
        legal: ART,
        confirmed: true,
    },
    Index {
        number: 4,
        code: "agencies",
        name: "Số cơ quan, đơn vị phải đến để hoàn thiện hồ sơ",
        source: Source::Citizen,
        rule: "Chỉ một nơi (hoặc không phải đến): 2; 2 nơi: 1; từ 3 nơi: 0 (ngưỡng chưa xác nhận)",
        legal: ART,
        confirmed: true,
    },
    Index {
        number: 5,
        code: "supplements",
        name: "Số lần cơ quan giải quyết yêu cầu bổ sung hồ sơ",
        source: Source::System,
        rule: "Không yêu cầu: 2; 1 lần: 1; hơn 1 lần: 0",
        legal: ART,
        confirmed: false,
    },
    Index {
        number: 6,
        code: "apology",
        name: "Xin lỗi và hẹn lại khi giải quyết quá hạn",
        source: Source::System,
        rule: "Trả đúng hẹn, không hẹn lại: 2; có văn bản xin lỗi, hẹn lại và trả đúng hẹn mới: 1; quá hạn: 0",
        legal: ART,
        confirmed: false,
    },
    Index {
        number: 7,
        code: "public_info",
        name: "Công khai thủ tục hành chính",
        source: Source::Citizen,
        rule: "Đầy đủ, chính xác: 2; chưa đầy đủ: 1; không công khai hoặc sai: 0",
        legal: ART,
        confirmed: false,
    },
    Index {
        number: 8,
        code: "conduct",
        name: "Thái độ, hướng dẫn của công chức khi tiếp nhận, giải quyết",
        source: Source::Citizen,
        rule: "Tận tình, rõ ràng: 2; bình thường: 1; chưa đúng mực hoặc yêu cầu ngoài quy định: 0",
        legal: ART,
        confirmed: false,
    },
    Index {
        number: 9,
        code: "satisfaction",
        name: "Mức độ hài lòng với kết quả giải quyết",
        source: Source::Citizen,
        rule: "Rất hài lòng: 2; hài lòng: 1; không hài lòng: 0",
        legal: ART,
        confirmed: false,
    },
];

/// The most an index scores.
pub const INDEX_MAX: u32 = 2;

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
    pub index: &'static Index,
    /// Its outcome.
    pub mark: Mark,
}

/// A dossier's score sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The 9 lines.
    pub lines: Vec<Line>,
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

/// 0 → 2, 1 → 1, more → 0: the shape of the "how many times" indices.
fn count_points(n: u32) -> u32 {
    match n {
        0 => 2,
        1 => 1,
        _ => 0,
    }
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

/// Index 1: total time against the statutory time.
pub fn total_time(d: &Dossier) -> Mark {
    let (Some(finished), Some(due)) = (d.finished_at.filter(|_| has_result(d)), statutory_due(d)) else {
        return not_assessed("Hồ sơ chưa có kết quả giải quyết.");
    };
    let t = Timeliness::judge(finished, due);
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

/// Index 3: contacts the applicant needed, from their answer.
pub fn contacts(answers: Option<&Answers>) -> Mark {
    match answers.and_then(|a| a.contacts) {
        Some(n) => scored(count_points(n), format!("Người dân trả lời: {n} lần.")),
        None => not_assessed("Người dân chưa trả lời câu hỏi này."),
    }
}

/// Index 4: agencies the applicant had to go to, from their answer.
pub fn agencies(answers: Option<&Answers>) -> Mark {
    match answers.and_then(|a| a.agencies) {
        Some(n) => scored(
            count_points(n.saturating_sub(1)),
            format!("Người dân trả lời: {n} cơ quan, đơn vị."),
        ),
        None => not_assessed("Người dân chưa trả lời câu hỏi này."),
    }
}

/// Index 5: supplement requests during handling (more than one counts against the
/// agency, docs/rules.md §3).
pub fn supplements(d: &Dossier) -> Mark {
    if !has_result(d) {
        return not_assessed("Hồ sơ chưa có kết quả giải quyết.");
    }
    scored(
        count_points(d.supplements),
        format!("{} lần yêu cầu bổ sung trong khi giải quyết.", d.supplements),
    )
}

/// Index 6: an apology with a new appointment when the deadline could not be met.
pub fn apology(d: &Dossier) -> Mark {
    let (Some(finished), Some(due)) = (d.finished_at.filter(|_| has_result(d)), d.due_at) else {
        return not_assessed("Hồ sơ chưa có kết quả giải quyết.");
    };
    let late_now = finished > due;
    match (d.extensions, late_now) {
        (_, true) => scored(0, "Trả kết quả sau ngày hẹn."),
        (0, false) => scored(2, "Trả kết quả đúng hẹn, không phải hẹn lại."),
        (n, false) => scored(
            1,
            format!("Đã gửi văn bản xin lỗi, hẹn lại {n} lần và trả đúng hẹn mới."),
        ),
    }
}

/// Index 7: the procedure's public information, from the citizen's answer.
pub fn public_info(answers: Option<&Answers>) -> Mark {
    match answers.and_then(|a| a.public_info) {
        Some(p) => scored(
            match p {
                PublicInfo::Full => 2,
                PublicInfo::Partial => 1,
                PublicInfo::Missing => 0,
            },
            format!("Người dân trả lời: {}.", p.label().to_lowercase()),
        ),
        None => not_assessed("Người dân chưa trả lời câu hỏi này."),
    }
}

/// Index 8: the officers' conduct, from the citizen's answer.
pub fn conduct(answers: Option<&Answers>) -> Mark {
    match answers.and_then(|a| a.conduct) {
        Some(c) => scored(
            match c {
                Conduct::Good => 2,
                Conduct::Fair => 1,
                Conduct::Poor => 0,
            },
            format!("Người dân trả lời: {}.", c.label().to_lowercase()),
        ),
        None => not_assessed("Người dân chưa trả lời câu hỏi này."),
    }
}

/// Index 9: satisfaction, from the citizen's rating.
pub fn satisfaction(answers: Option<&Answers>) -> Mark {
    match answers.and_then(|a| a.satisfaction) {
        Some(s) => scored(
            match s {
                Satisfaction::VerySatisfied => 2,
                Satisfaction::Satisfied => 1,
                Satisfaction::NotSatisfied => 0,
            },
            format!("Người dân đánh giá: {}.", s.label().to_lowercase()),
        ),
        None => not_assessed("Người dân chưa đánh giá hồ sơ."),
    }
}

/// The score sheet of a dossier.
pub fn evaluate(f: &Facts<'_>) -> Sheet {
    let marks = [
        total_time(f.dossier),
        step_time(f.steps, f.forwarded),
        contacts(f.answers),
        agencies(f.answers),
        supplements(f.dossier),
        apology(f.dossier),
        public_info(f.answers),
        conduct(f.answers),
        satisfaction(f.answers),
    ];
    Sheet {
        lines: INDICES
            .iter()
            .zip(marks)
            .map(|(index, mark)| Line { index, mark })
            .collect(),
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

/// A group of the service index with its points (confirmed, docs/rules.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    /// Stable code.
    pub code: &'static str,
    /// Vietnamese name.
    pub name: &'static str,
    /// Points of the group.
    pub points: u32,
}

/// The 5 groups of Decision 766, 100 points in all.
pub const GROUPS: [Group; 5] = [
    Group {
        code: "transparency",
        name: "Công khai, minh bạch",
        points: 18,
    },
    Group {
        code: "progress",
        name: "Tiến độ giải quyết, trả kết quả đúng hạn",
        points: 20,
    },
    Group {
        code: "online",
        name: "Cung cấp dịch vụ trực tuyến và thanh toán trực tuyến",
        points: 22,
    },
    Group {
        code: "digitisation",
        name: "Số hóa hồ sơ, kết quả giải quyết",
        points: 22,
    },
    Group {
        code: "satisfaction",
        name: "Mức độ hài lòng",
        points: 18,
    },
];

/// What a sub-criterion measures from the system's data: a rate numerator / denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Measure {
    /// Resolved early or on time / resolved (supplement time excluded; unfinished judged
    /// at period end), from the overview figures.
    OnTime,
    /// Dossiers received in the period that were filed online / all received.
    OnlineShare,
    /// Paid payment orders settled online (not cash) / all paid orders.
    OnlinePayment,
    /// Dossiers received with at least one uploaded (digitised) file / all received.
    DigitisedFiles,
    /// Dossiers finished with an electronic result file / all finished with a result.
    DigitisedResults,
    /// Ratings very satisfied or satisfied / all ratings.
    Satisfied,
    /// Citizens who found the procedure's public information complete / those who answered.
    PublicInfo,
}

impl Measure {
    /// Every measure.
    pub const ALL: [Measure; 7] = [
        Measure::OnTime,
        Measure::OnlineShare,
        Measure::OnlinePayment,
        Measure::DigitisedFiles,
        Measure::DigitisedResults,
        Measure::Satisfied,
        Measure::PublicInfo,
    ];

    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::OnTime => "on_time",
            Measure::OnlineShare => "online_share",
            Measure::OnlinePayment => "online_payment",
            Measure::DigitisedFiles => "digitised_files",
            Measure::DigitisedResults => "digitised_results",
            Measure::Satisfied => "satisfied",
            Measure::PublicInfo => "public_info",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// How the rate is computed, in Vietnamese (shown next to the points).
    pub fn formula(self) -> &'static str {
        match self {
            Measure::OnTime => "số hồ sơ giải quyết trước hạn và đúng hạn / số hồ sơ đã giải quyết",
            Measure::OnlineShare => "số hồ sơ nộp trực tuyến / tổng số hồ sơ tiếp nhận",
            Measure::OnlinePayment => "số giao dịch thanh toán trực tuyến / tổng số giao dịch đã thanh toán",
            Measure::DigitisedFiles => "số hồ sơ có thành phần được số hóa / tổng số hồ sơ tiếp nhận",
            Measure::DigitisedResults => "số hồ sơ có kết quả điện tử / số hồ sơ đã có kết quả",
            Measure::Satisfied => "số đánh giá hài lòng và rất hài lòng / tổng số đánh giá",
            Measure::PublicInfo => "số người trả lời thông tin công khai đầy đủ / số người trả lời",
        }
    }
}

impl Measure {
    /// The rate this measure reads from the period's counts.
    pub fn ratio(self, c: &ServiceCounts) -> Ratio {
        let r = |hits, of| Ratio { hits, of };
        match self {
            Measure::OnTime => r(c.resolved_in_time, c.resolved),
            Measure::OnlineShare => r(c.received_online, c.received),
            Measure::OnlinePayment => r(c.payments_online, c.payments),
            Measure::DigitisedFiles => r(c.received_digitised, c.received),
            Measure::DigitisedResults => r(c.results_electronic, c.results),
            Measure::Satisfied => r(c.ratings_satisfied, c.ratings),
            Measure::PublicInfo => r(c.public_info_full, c.public_info_answers),
        }
    }
}

/// The counts the service index's rates are made of, for one province and period. The
/// store answers each by a named query (`motcua_store::evaluation::counts`); what each
/// counts is defined here, by the predicate named on the field, and the store's tests
/// check the queries against these predicates on random dossiers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServiceCounts {
    /// Resolved in the period (the overview's figures, docs/rules.md §6).
    pub resolved: i64,
    /// Of those, early or on time ([`crate::stats::judgement`]).
    pub resolved_in_time: i64,
    /// Accepted in the period.
    pub received: i64,
    /// Of those, filed online ([`filed_online`]).
    pub received_online: i64,
    /// Of those, with at least one uploaded scan ([`has_digitised_documents`]).
    pub received_digitised: i64,
    /// With their result ready in the period ([`crate::dossier::Status::has_result`]).
    pub results: i64,
    /// Of those, with an electronic result file ([`has_electronic_result`]).
    pub results_electronic: i64,
    /// Payment orders paid in the period.
    pub payments: i64,
    /// Of those, paid online ([`paid_online`]).
    pub payments_online: i64,
    /// Ratings given in the period.
    pub ratings: i64,
    /// Of those, satisfied ([`Satisfaction::is_satisfied`]).
    pub ratings_satisfied: i64,
    /// Survey answers on public information in the period.
    pub public_info_answers: i64,
    /// Of those, "complete" ([`PublicInfo::Full`]).
    pub public_info_full: i64,
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

/// One sub-criterion scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionScore {
    /// The sub-criterion.
    pub criterion: Criterion,
    /// Its rate.
    pub ratio: Ratio,
    /// Points in hundredths; `None` when there is nothing to measure.
    pub points_centi: Option<i64>,
}

/// One group scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupScore {
    /// The group.
    pub group: Group,
    /// Points configured over its sub-criteria.
    pub configured: u32,
    /// Points scored, hundredths (sub-criteria with nothing to measure score nothing).
    pub scored_centi: i64,
    /// Its sub-criteria, in page order.
    pub criteria: Vec<CriterionScore>,
}

/// The service index of a province over a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIndex {
    /// The groups, in the order of [`GROUPS`].
    pub groups: Vec<GroupScore>,
    /// Total points, hundredths.
    pub total_centi: i64,
    /// The most it scores (the configured points).
    pub max: u32,
}

/// The Decision 766 service index (docs/rules.md §6) of the sub-criteria `criteria` over
/// the period's `counts`: each criterion's rate from its measure, its points by
/// [`criterion_points`], summed by group.
pub fn service_index(criteria: &[Criterion], counts: &ServiceCounts) -> ServiceIndex {
    let groups: Vec<GroupScore> = GROUPS
        .iter()
        .map(|g| {
            let criteria: Vec<CriterionScore> = criteria
                .iter()
                .filter(|c| c.group == g.code)
                .map(|c| {
                    let ratio = c.measure.ratio(counts);
                    CriterionScore {
                        criterion: c.clone(),
                        ratio,
                        points_centi: criterion_points(c, ratio),
                    }
                })
                .collect();
            GroupScore {
                group: *g,
                configured: criteria.iter().map(|c| c.criterion.max_points).sum(),
                scored_centi: criteria.iter().filter_map(|c| c.points_centi).sum(),
                criteria,
            }
        })
        .collect();
    ServiceIndex {
        total_centi: groups.iter().map(|g| g.scored_centi).sum(),
        max: groups.iter().map(|g| g.configured).sum(),
        groups,
    }
}

/// A sub-criterion of a group: its points and target. Editable data (the split and the
/// targets are *unconfirmed*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Criterion {
    /// Stable code.
    pub code: String,
    /// The group's code.
    pub group: String,
    /// Vietnamese name.
    pub name: String,
    /// What it measures.
    pub measure: Measure,
    /// Points at or above the target.
    pub max_points: u32,
    /// The target rate, in per mille (1000 = 100 %).
    pub target_permille: u32,
    /// Whether the points and target are confirmed by the text of the decision.
    pub confirmed: bool,
    /// Order on the page.
    pub position: u32,
}

/// The seed: each group split over the measures the system has (all *unconfirmed*;
/// the group totals are those of Decision 766).
pub fn default_criteria() -> Vec<Criterion> {
    let c = |position: u32, code: &str, group: &str, name: &str, measure, max_points, target_permille| Criterion {
        code: code.to_owned(),
        group: group.to_owned(),
        name: name.to_owned(),
        measure,
        max_points,
        target_permille,
        confirmed: false,
        position,
    };
    vec![
        c(
            1,
            "public_info",
            "transparency",
            "Thông tin thủ tục hành chính được công khai đầy đủ",
            Measure::PublicInfo,
            18,
            1000,
        ),
        c(
            2,
            "on_time",
            "progress",
            "Tỷ lệ hồ sơ giải quyết trước hạn, đúng hạn",
            Measure::OnTime,
            20,
            1000,
        ),
        c(
            3,
            "online_share",
            "online",
            "Tỷ lệ hồ sơ nộp trực tuyến",
            Measure::OnlineShare,
            11,
            800,
        ),
        c(
            4,
            "online_payment",
            "online",
            "Tỷ lệ thanh toán trực tuyến",
            Measure::OnlinePayment,
            11,
            500,
        ),
        c(
            5,
            "digitised_files",
            "digitisation",
            "Tỷ lệ hồ sơ được số hóa thành phần",
            Measure::DigitisedFiles,
            11,
            1000,
        ),
        c(
            6,
            "digitised_results",
            "digitisation",
            "Tỷ lệ kết quả giải quyết được số hóa",
            Measure::DigitisedResults,
            11,
            1000,
        ),
        c(
            7,
            "satisfied",
            "satisfaction",
            "Tỷ lệ người dân hài lòng",
            Measure::Satisfied,
            18,
            1000,
        ),
    ]
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

/// The points of a criterion for a rate, in hundredths of a point: the full points at or
/// above the target, otherwise rate × max / target (Decision 766, docs/rules.md §6);
/// `None` when there is nothing to measure.
pub fn criterion_points(c: &Criterion, r: Ratio) -> Option<i64> {
    let max = i64::from(c.max_points) * 100;
    if c.target_permille == 0 {
        return r.permille().map(|_| max);
    }
    // Exact in integers: hits / of × max / target, truncated to hundredths.
    (r.of > 0).then(|| {
        let hits = r.hits.clamp(0, r.of);
        let target = i64::from(c.target_permille);
        if hits * 1000 >= target * r.of {
            max
        } else {
            hits * 1000 * max / (target * r.of)
        }
    })
}

/// Checks an edited criterion: points 0–100, target 1–1000 ‰.
pub fn check_criterion(max_points: u32, target_permille: u32) -> Result<(), crate::catalogue::Invalid> {
    if max_points > 100 {
        return Err(crate::catalogue::Invalid::new(
            "max_points",
            "Số điểm tối đa phải từ 0 đến 100.",
        ));
    }
    if !(1..=1000).contains(&target_permille) {
        return Err(crate::catalogue::Invalid::new(
            "target_percent",
            "Chỉ tiêu phải lớn hơn 0 % và không quá 100 %.",
        ));
    }
    Ok(())
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

    #[test]
    fn indices_are_nine_with_max_eighteen() {
        assert_eq!(INDICES.len(), 9);
        assert_eq!(INDICES.iter().map(|_| INDEX_MAX).sum::<u32>(), 18);
        for (i, x) in INDICES.iter().enumerate() {
            assert_eq!(usize::from(x.number), i + 1);
        }
        assert_eq!(GROUPS.iter().map(|g| g.points).sum::<u32>(), 100);
        for g in GROUPS {
            let sum: u32 = default_criteria()
                .iter()
                .filter(|c| c.group == g.code)
                .map(|c| c.max_points)
                .sum();
            assert_eq!(sum, g.points, "{}", g.code);
        }
    }

    #[test]
    fn the_index_sums_the_criteria_of_each_group_from_the_counts() {
        let counts = ServiceCounts {
            resolved: 10,
            resolved_in_time: 9,
            received: 20,
            received_online: 8,
            received_digitised: 20,
            results: 10,
            results_electronic: 5,
            payments: 0,
            payments_online: 0,
            ratings: 4,
            ratings_satisfied: 4,
            public_info_answers: 2,
            public_info_full: 1,
        };
        let index = service_index(&default_criteria(), &counts);
        let group = |code: &str| index.groups.iter().find(|g| g.group.code == code).expect("group");
        // On time 90 % of a 100 % target: 18 of 20.
        assert_eq!(group("progress").scored_centi, 1800);
        // Online share 40 % of 80 %: 5.5 of 11; no payment: not measured.
        assert_eq!(group("online").scored_centi, 550);
        assert_eq!(group("online").criteria[1].points_centi, None);
        assert_eq!(group("digitisation").scored_centi, 1100 + 550);
        assert_eq!(group("satisfaction").scored_centi, 1800);
        assert_eq!(group("transparency").scored_centi, 900);
        assert_eq!(index.max, 100);
        assert_eq!(index.total_centi, 1800 + 550 + 1650 + 1800 + 900);
        assert!(Satisfaction::Satisfied.is_satisfied() && !Satisfaction::NotSatisfied.is_satisfied());
        assert!(paid_online("vnpay") && !paid_online(CASH));
    }

    #[test]
    fn below_the_target_points_are_proportional() {
        let c = Criterion {
            code: "x".into(),
            group: "online".into(),
            name: "x".into(),
            measure: Measure::OnlineShare,
            max_points: 11,
            target_permille: 800,
            confirmed: false,
            position: 1,
        };
        // 40 % of a target of 80 % gives half the points.
        assert_eq!(criterion_points(&c, Ratio { hits: 2, of: 5 }), Some(550));
        assert_eq!(criterion_points(&c, Ratio { hits: 4, of: 5 }), Some(1100));
        assert_eq!(criterion_points(&c, Ratio { hits: 5, of: 5 }), Some(1100));
        assert_eq!(criterion_points(&c, Ratio { hits: 0, of: 5 }), Some(0));
        assert_eq!(criterion_points(&c, Ratio { hits: 0, of: 0 }), None);
    }

    #[test]
    fn counts_and_tallies() {
        assert_eq!((count_points(0), count_points(1), count_points(7)), (2, 1, 0));
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
