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
//! says what it does instead. The Decision 766 group points (18/20/22/22/18) and the
//! formula below a target are confirmed; the split of a group into sub-criteria and the
//! targets are *unconfirmed* and kept as data an administrator edits ([`default_criteria`]
//! only seeds them).

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

/// One of the 9 indices of the per-dossier evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// 1–9, the published order.
    pub number: u8,
    /// Stable code.
    pub code: &'static str,
    /// The published name (Vietnamese).
    pub name: &'static str,
    /// Where the data comes from.
    pub source: Source,
    /// The published 2/1/0 rule, as the sheet prints it.
    pub rule: &'static str,
    /// How motcua applies the rule with the data it has (and what it cannot know).
    pub method: &'static str,
    /// The legal source, printed on the sheet's line.
    pub legal: &'static str,
    /// Whether the index's wording and its 2/1/0 levels are confirmed (docs/rules.md §6:
    /// the list and the levels are; the article numbers are not, and `legal` says so).
    pub confirmed: bool,
}

impl Index {
    /// Whether the index judges the agency over a period rather than the dossier (the
    /// same mark for every dossier of the agency in the period).
    pub fn unit_level(&self) -> bool {
        self.source == Source::Unit
    }
}

/// The legal source of index `n`: the decree (as amended) and the circular whose scoring
/// table gives the 2/1/0 levels. The article numbers are unconfirmed, so none is cited.
macro_rules! legal {
    ($n:literal) => {
        concat!(
            "Nghị định 61/2018/NĐ-CP (sửa đổi, bổ sung bởi Nghị định 107/2021/NĐ-CP); Thông tư 01/2018/TT-VPCP — chỉ số ",
            $n,
            " (số điều, khoản chưa xác nhận)"
        )
    };
}

/// The 9 published indices, in the published order (Decree 61/2018/NĐ-CP as amended,
/// scoring table of Circular 01/2018/TT-VPCP; docs/rules.md §6).
pub const INDICES: [Index; 9] = [
    Index {
        number: 1,
        code: "total_time",
        name: "Tổng thời gian giải quyết thủ tục hành chính so với thời gian cho phép theo quy định của pháp luật",
        source: Source::System,
        rule: "Ngắn hơn thời gian quy định: 2; bằng thời gian quy định: 1; dài hơn thời gian quy định: 0",
        method: "So thời điểm có kết quả với ngày hẹn trên phiếu tiếp nhận (cộng thời gian chờ người nộp bổ sung; không tính lần hẹn lại sau văn bản xin lỗi): trước ngày hẹn 2, trong ngày hẹn 1, sau giờ hẹn 0.",
        legal: legal!("1"),
        confirmed: true,
    },
    Index {
        number: 2,
        code: "step_time",
        name: "Thời gian thực hiện của từng cơ quan, đơn vị tham gia giải quyết (kể cả đơn vị phối hợp) so với quy định",
        source: Source::System,
        rule: "Cơ quan, đơn vị xử lý ngắn hơn thời hạn quy định: 2; bằng thời hạn: 1; dài hơn thời hạn: 0",
        method: "Theo phiếu kiểm soát quá trình giải quyết, bước chậm nhất quyết định: mọi bước trước hạn 2; có bước đúng hạn, không bước nào quá hạn 1; có bước quá hạn 0.",
        legal: legal!("2"),
        confirmed: true,
    },
    Index {
        number: 3,
        code: "contacts",
        name: "Số lần phải liên hệ với nơi tiếp nhận hồ sơ để hoàn thiện hồ sơ thủ tục hành chính (kể cả liên hệ theo hình thức trực tuyến)",
        source: Source::SystemAndCitizen,
        rule: "Không phải liên hệ lần nào: 2; một lần: 1; hơn một lần: 0, trừ trường hợp nguyên nhân do lỗi của người nộp hồ sơ",
        method: "Đếm các lần yêu cầu bổ sung, hoàn thiện hồ sơ ghi trên hồ sơ (khi tiếp nhận và trong khi giải quyết); khi người nộp trả lời khảo sát, lấy số lớn hơn. Hệ thống không biết lần nào do lỗi của người nộp nên không trừ lần nào.",
        legal: legal!("3"),
        confirmed: true,
    },
    Index {
        number: 4,
        code: "agencies",
        name: "Số lượng cơ quan, đơn vị, tổ chức phải liên hệ để hoàn thiện hồ sơ thủ tục hành chính (kể cả liên hệ theo hình thức trực tuyến)",
        source: Source::Citizen,
        rule: "Không phải liên hệ cơ quan, đơn vị, tổ chức nào: 2; chỉ liên hệ một nơi là Bộ phận Một cửa: 1; hơn một cơ quan, đơn vị, tổ chức: 0",
        method: "Theo câu trả lời khảo sát của người nộp: 0 nơi 2; 1 nơi (Bộ phận Một cửa) 1; từ 2 nơi 0. Chưa trả lời: chưa đánh giá.",
        legal: legal!("4"),
        confirmed: true,
    },
    Index {
        number: 5,
        code: "one_stop",
        name: "Thực hiện tổ chức tiếp nhận hồ sơ, giải quyết, trả kết quả tại Bộ phận Một cửa",
        source: Source::Unit,
        rule: "Bộ phận Một cửa tự tiếp nhận, thẩm định, phê duyệt kết quả tối thiểu 20% số thủ tục thuộc danh mục (cấp xã: 100%): 2; 100% thủ tục (trừ trường hợp điểm a, b khoản 5 Điều 14 Nghị định 61/2018/NĐ-CP) được tiếp nhận và trả kết quả tại Bộ phận Một cửa: 1; dưới 100%: 0",
        method: "Tính cho cơ quan giải quyết từ danh mục thủ tục: mọi thủ tục của cơ quan tiếp nhận tại Trung tâm 1, còn thủ tục không tiếp nhận tại Trung tâm 0. Hệ thống chưa có số thủ tục do Bộ phận Một cửa tự phê duyệt nên không chấm mức 2, và không biết thủ tục nào được miễn theo khoản 5 Điều 14 nên tính mọi thủ tục.",
        legal: legal!("5"),
        confirmed: true,
    },
    Index {
        number: 6,
        code: "publicity",
        name: "Công khai các thủ tục hành chính",
        source: Source::SystemAndCitizen,
        rule: "Công khai chính xác, đầy đủ, kịp thời bằng cả niêm yết và điện tử: 2; bằng niêm yết hoặc điện tử: 1; không được công khai chính xác, đầy đủ, kịp thời: 0",
        method: "Thủ tục có trong danh mục công khai của hệ thống là đã công khai điện tử. Việc niêm yết hệ thống không biết, nên dùng câu trả lời của người nộp: đầy đủ, chính xác 2; chưa đầy đủ 1; không công khai hoặc sai 0. Chưa trả lời: 1 (chỉ tính hình thức điện tử).",
        legal: legal!("6"),
        confirmed: true,
    },
    Index {
        number: 7,
        code: "conduct",
        name: "Thái độ của cán bộ, công chức, viên chức khi hướng dẫn lập hồ sơ, tiếp nhận hồ sơ và giải quyết thủ tục hành chính",
        source: Source::SystemAndCitizen,
        rule: "Tiếp nhận, xử lý, trả kết quả sớm hơn thời hạn và không có phản ánh, kiến nghị về hành vi, thái độ nhũng nhiễu, gây phiền hà, không thực hiện hoặc thực hiện không đúng quy định: 2; đúng thời hạn và không có phản ánh, kiến nghị đó: 1; có phản ánh, kiến nghị đó (trừ phản ánh được xác minh, kết luận là không đúng hoặc vu cáo): 0",
        method: "Khi không có phản ánh: theo thời hạn như chỉ số 1 (trước hạn 2, đúng hạn 1, quá hạn 0 vì không đạt mức 1). Người nộp đánh giá thái độ «chưa đúng mực hoặc yêu cầu ngoài quy định» là phản ánh chưa được xác minh (hệ thống chưa có sổ theo dõi phản ánh, kiến nghị): chưa đánh giá.",
        legal: legal!("7"),
        confirmed: true,
    },
    Index {
        number: 8,
        code: "feedback",
        name: "Tiếp thu, giải trình đối với các ý kiến phản ánh, kiến nghị của tổ chức, cá nhân",
        source: Source::Unit,
        rule: "Không có phản ánh, kiến nghị hoặc 100% được xử lý đúng thời hạn và không có phản ánh, kiến nghị kéo dài: 2; tối thiểu 90% đúng thời hạn và không có phản ánh, kiến nghị kéo dài: 1; dưới 90% hoặc có phản ánh, kiến nghị kéo dài: 0",
        method: "Cần sổ theo dõi phản ánh, kiến nghị của cơ quan trong kỳ. Hệ thống chưa có nên chưa đánh giá; ý kiến «không hài lòng» khi đánh giá hồ sơ không được coi là phản ánh, kiến nghị.",
        legal: legal!("8"),
        confirmed: true,
    },
    Index {
        number: 9,
        code: "online_service",
        name: "Tiến độ và chất lượng cung cấp dịch vụ công trực tuyến của cơ quan có thẩm quyền",
        source: Source::Unit,
        rule: "Tối thiểu 20% thủ tục đủ điều kiện được cung cấp dịch vụ công trực tuyến mức độ 3, 4, hồ sơ trực tuyến đạt tối thiểu 30% tổng số hồ sơ và không có hồ sơ trực tuyến không giải quyết hoặc giải quyết quá hạn: 2; có dịch vụ công trực tuyến mức độ 3, 4, hồ sơ trực tuyến từ 15% đến dưới 30% và không có hồ sơ trực tuyến quá hạn: 1; không có dịch vụ công trực tuyến mức độ 3, 4, hoặc hồ sơ trực tuyến dưới 15%, hoặc có hồ sơ trực tuyến quá hạn: 0",
        method: "Tính cho cơ quan giải quyết trong kỳ: thủ tục nhận hồ sơ trực tuyến (mức độ 3, 4; toàn trình) trên số thủ tục của cơ quan trong danh mục; hồ sơ nộp trực tuyến trên số hồ sơ tiếp nhận trong kỳ; hồ sơ trực tuyến giải quyết quá hạn trong kỳ hoặc còn quá hạn cuối kỳ. Hồ sơ trực tuyến từ 30% nhưng thủ tục trực tuyến dưới 20%: 1.",
        legal: legal!("9"),
        confirmed: true,
    },
];

/// The most an index scores.
pub const INDEX_MAX: u32 = 2;

/// The most a sheet scores (9 × 2 = 18).
pub const SHEET_MAX: u32 = 18;

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
    pub index: &'static Index,
    /// Its outcome.
    pub mark: Mark,
}

/// A dossier's score sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet {
    /// The 9 lines.
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

/// The score sheet of a dossier: the 9 indices in the published order, with the
/// satisfaction rating (outside the points).
pub fn evaluate(f: &Facts<'_>) -> Sheet {
    let marks = [
        total_time(f.dossier),
        step_time(f.steps, f.forwarded),
        contacts(f.dossier, f.answers),
        agencies(f.answers),
        f.unit.one_stop.clone(),
        publicity(f.published, f.answers),
        conduct(f.dossier, f.answers),
        f.unit.feedback.clone(),
        f.unit.online_service.clone(),
    ];
    Sheet {
        lines: INDICES
            .iter()
            .zip(marks)
            .map(|(index, mark)| Line { index, mark })
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
    fn indices_are_the_nine_published_with_max_eighteen() {
        assert_eq!(INDICES.len(), 9);
        assert_eq!(INDICES.iter().map(|_| INDEX_MAX).sum::<u32>(), SHEET_MAX);
        let codes: Vec<&str> = INDICES.iter().map(|x| x.code).collect();
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
        for (i, x) in INDICES.iter().enumerate() {
            assert_eq!(usize::from(x.number), i + 1);
            assert!(x.confirmed, "the list and the levels are confirmed");
            assert!(
                x.legal.starts_with("Nghị định 61/2018/NĐ-CP") && x.legal.contains("Thông tư 01/2018/TT-VPCP"),
                "{}",
                x.legal
            );
            assert!(x.legal.contains("chưa xác nhận"), "article numbers are not confirmed");
            assert!(!x.legal.contains("điều 31") && !x.legal.contains("điều 13"));
        }
        // Not indices: the satisfaction survey, the apology, the supplement count.
        for gone in ["satisfaction", "apology", "supplements"] {
            assert!(!codes.contains(&gone), "{gone}");
        }
        let unit: Vec<u8> = INDICES.iter().filter(|x| x.unit_level()).map(|x| x.number).collect();
        assert_eq!(unit, [5, 8, 9]);
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
