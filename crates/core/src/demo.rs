//! The demo province: Ninh Thuận as its centre described itself in 2019 (docs/rules.md §1).
//!
//! 15 departments, 1,388 provincial procedures of which exactly 1,283 are received at the
//! centre. About forty procedures are modelled closely on real, common ones (documents,
//! fees and deadlines as the national catalogue lists them); the rest are generated from
//! each department's fields and the licences they issue, combined with the usual actions
//! (issue, re-issue, amend, extend, …). The generator is deterministic: a fixed-seed
//! SplitMix64 drives every choice, so every run builds the identical catalogue.
//! Procedure codes are synthetic (`1.9xxxxx`), so they never pass for real national codes.
//!
//! The data lives in `crates/core/data/demo-ninh-thuan.json`, embedded at build time and
//! parsed once: the departments (name, abbreviation, procedure count, applicants, fields with
//! the licences each issues, typical documents, real procedures) and the actions. This module
//! holds only the generator; changing the data file changes the demo catalogue.

use std::sync::OnceLock;

use serde::Deserialize;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::catalogue::{
    Agency, AgencyKind, ApplicantKind, DocumentRequirement, FeeItem, FeeKind, Field, FormTemplate, Level, OnlineMode,
    ProcedureContent, ProcedureRecord, ProcedureVersion, ProcessingStep, ProcessingTime, Province, ProvinceCatalogue,
    Receivable, StepRole,
};
use crate::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use crate::money::Vnd;

/// Province unit code of the demo (Ninh Thuận; *unconfirmed*, docs/rules.md §2).
pub const UNIT: &str = "H43";
/// Number of provincial procedures the centre published.
pub const PROCEDURES: usize = 1388;
/// Number of them received at the centre.
pub const AT_CENTRE: usize = 1283;
/// When the demo catalogue's versions are dated: the centre's opening.
pub const CREATED_AT: OffsetDateTime = datetime!(2019-06-12 07:00 +07:00);

/// Deterministic SplitMix64: small, fast, and the same sequence on every platform (also
/// drives the bench's generated dossiers).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` small: the modulo bias is negligible).
    pub fn below(&mut self, n: usize) -> usize {
        // n is tiny, so the modulo bias is negligible for demo data.
        (self.next_u64() % n as u64) as usize
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The demo's data file: departments, their fields and licences, the generator's actions and
/// the real procedures, in the shape of [`DemoData`].
const DATA_JSON: &str = include_str!("../data/demo-ninh-thuan.json");

/// The demo's data, as read from `data/demo-ninh-thuan.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoData {
    /// The departments, in the order of their agency codes (`000.00.01.H43`, …).
    departments: Vec<DeptSpec>,
    /// Actions combined with each licence to name generated procedures.
    actions: Vec<String>,
}

/// One department of the demo: its fields and the licences (objects) each field issues.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeptSpec {
    name: String,
    abbrev: String,
    /// How many procedures the department has, real ones included.
    count: usize,
    applicants: Vec<ApplicantKind>,
    fields: Vec<FieldSpec>,
    /// Documents typical of the department, added to generated procedures.
    documents: Vec<String>,
    /// The department's real procedures, listed first in its catalogue.
    real: Vec<RealSpec>,
}

/// A field of a department and the licences it issues.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    name: String,
    licences: Vec<String>,
}

/// A real, common procedure modelled closely.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RealSpec {
    name: String,
    /// Index of the field in the department's `fields`, from 0.
    field: usize,
    /// Processing time in working days.
    days: u32,
    fees: Vec<FeeSpec>,
    documents: Vec<DocumentSpec>,
    results: Vec<String>,
    legal_basis: Vec<String>,
    applicants: Vec<ApplicantKind>,
    /// Online service level, 1–4.
    level: u8,
}

/// A fee item of a real procedure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeeSpec {
    kind: FeeKind,
    name: String,
    amount: u64,
    #[serde(default)]
    option: Option<String>,
}

/// A document of a real procedure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentSpec {
    name: String,
    originals: u16,
    copies: u16,
    required: bool,
    /// The form's name, when the document has one.
    #[serde(default)]
    form: Option<String>,
}

/// The demo's data, parsed once.
#[expect(
    clippy::expect_used,
    reason = "the data file is embedded at build time and a unit test parses it"
)]
fn data() -> &'static DemoData {
    static DATA: OnceLock<DemoData> = OnceLock::new();
    DATA.get_or_init(|| serde_json::from_str(DATA_JSON).expect("crates/core/data/demo-ninh-thuan.json is invalid"))
}

/// The applicant's identity document a generated procedure asks for: a person's …
const ID_COPY: &str = "Bản sao Căn cước công dân hoặc Hộ chiếu";
/// … or an organisation's.
const ERC_COPY: &str = "Bản sao Giấy chứng nhận đăng ký doanh nghiệp";

/// Builds the steps for a processing time: reception, examination, approval, return.
pub(crate) fn steps_for(time: ProcessingTime) -> Vec<ProcessingStep> {
    let total = time.working_hours();
    let step = |name: &str, role, budget_hours| ProcessingStep {
        name: name.to_owned(),
        role,
        agency: None,
        budget_hours,
    };
    if total < 12 {
        // Procedures of a day or less: one hour at each end, the rest split (the longer
        // schedule below needs at least twelve hours).
        let leader = (total.saturating_sub(2) / 3).max(1);
        let officer = total.saturating_sub(2 + leader);
        return vec![
            step("Tiếp nhận và chuyển hồ sơ", StepRole::Counter, 1),
            step("Thẩm định hồ sơ", StepRole::Officer, officer),
            step("Phê duyệt, ký kết quả", StepRole::Leader, leader),
            step("Trả kết quả", StepRole::Counter, 1),
        ];
    }
    let leader = (total / 5).clamp(4, 16);
    let officer = total - 4 - leader - 4;
    vec![
        step("Tiếp nhận và chuyển hồ sơ về phòng chuyên môn", StepRole::Counter, 4),
        step("Thẩm định hồ sơ, trình lãnh đạo", StepRole::Officer, officer),
        step("Phê duyệt, ký kết quả", StepRole::Leader, leader),
        step("Chuyển kết quả về Trung tâm và trả cho người nộp", StepRole::Counter, 4),
    ]
}

fn online_mode_for(level: u8) -> OnlineMode {
    if level == 4 {
        OnlineMode::Full
    } else {
        OnlineMode::Partial
    }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn code(n: usize) -> ProcedureCode {
    // Synthetic national-style codes: 1.9NNNNN never collides with real ones (1.00…, 2.00…).
    #[expect(clippy::expect_used, reason = "the format is fixed and valid by construction")]
    ProcedureCode::parse(&format!("1.9{n:05}")).expect("valid synthetic code")
}

fn agency(unit: &str, n: usize) -> AgencyCode {
    #[expect(clippy::expect_used, reason = "the format is fixed and valid by construction")]
    AgencyCode::parse(&format!("000.00.{n:02}.{unit}")).expect("valid agency code")
}

fn field_code(abbrev: &str, n: usize) -> FieldCode {
    #[expect(clippy::expect_used, reason = "the format is fixed and valid by construction")]
    FieldCode::parse(&format!("{abbrev}-{n:02}")).expect("valid field code")
}

/// Builds the demo catalogue of Ninh Thuận.
pub fn ninh_thuan() -> ProvinceCatalogue {
    #[expect(clippy::expect_used, reason = "constant, valid code")]
    let province_code = ProvinceCode::parse(UNIT).expect("valid province");
    let root = province_code.as_agency().clone();
    let centre = agency(UNIT, 16);
    let mut agencies = vec![
        Agency {
            code: root.clone(),
            name: "Ủy ban nhân dân tỉnh Ninh Thuận".to_owned(),
            kind: AgencyKind::Province,
            parent: None,
            address: "450 đường 16 tháng 4, Phan Rang - Tháp Chàm, Ninh Thuận".to_owned(),
            phone: "0259 3822 600".to_owned(),
            email: "ubnd@ninhthuan.gov.vn".to_owned(),
            admin_code: String::new(),
            retired_at: None,
            successor: None,
        },
        Agency {
            code: centre.clone(),
            name: "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận".to_owned(),
            kind: AgencyKind::Centre,
            parent: Some(root.clone()),
            address: "Số 02 đường 16 tháng 4, Phan Rang - Tháp Chàm, Ninh Thuận".to_owned(),
            phone: "0259 3838 555".to_owned(),
            email: "tttthc@ninhthuan.gov.vn".to_owned(),
            admin_code: String::new(),
            retired_at: None,
            successor: None,
        },
    ];
    let mut fields = Vec::new();
    let mut rng = Rng(0x4E49_4E48_5448_5541); // "NINHTHUA"
    let mut records = Vec::with_capacity(PROCEDURES);
    let mut serial = 1;

    let data = data();
    for (d, spec) in data.departments.iter().enumerate() {
        let dept_code = agency(UNIT, d + 1);
        agencies.push(Agency {
            code: dept_code.clone(),
            name: spec.name.clone(),
            kind: AgencyKind::Department,
            parent: Some(root.clone()),
            address: format!("Phan Rang - Tháp Chàm, Ninh Thuận ({})", spec.name),
            phone: format!("0259 38{:02} {:03}", 20 + d, 100 + d * 7),
            email: format!("{}@ninhthuan.gov.vn", spec.abbrev.to_lowercase()),
            admin_code: String::new(),
            retired_at: None,
            successor: None,
        });
        for (f, field) in spec.fields.iter().enumerate() {
            fields.push(Field {
                code: field_code(&spec.abbrev, f + 1),
                name: field.name.clone(),
                agency: dept_code.clone(),
            });
        }

        let mut contents: Vec<ProcedureContent> = Vec::with_capacity(spec.count);
        for real in &spec.real {
            contents.push(real_content(real, spec, &dept_code));
        }
        // Generated procedures: walk the licences of every field, action by action,
        // so each department's list mixes its fields as a real catalogue does.
        let objects: Vec<(usize, &str)> = spec
            .fields
            .iter()
            .enumerate()
            .flat_map(|(f, field)| field.licences.iter().map(move |o| (f, o.as_str())))
            .collect();
        'fill: for action in &data.actions {
            for &(f, object) in &objects {
                if contents.len() == spec.count {
                    break 'fill;
                }
                contents.push(generated_content(&mut rng, spec, &dept_code, f, action, object));
            }
        }
        assert_eq!(contents.len(), spec.count, "{} needs more licences", spec.name);
        // Seven procedures per department are received only at the department itself,
        // which gives the centre's published 1,283 of 1,388 (15 × 7 = 105).
        let at_department: Vec<usize> = (0..7).map(|k| spec.count - 1 - k * (spec.count / 8)).collect();
        for (i, mut content) in contents.into_iter().enumerate() {
            content.at_centre = !at_department.contains(&i);
            records.push(ProcedureRecord {
                code: code(serial),
                versions: vec![ProcedureVersion {
                    version: 1,
                    created_at: CREATED_AT,
                    note: "Công bố danh mục khi Trung tâm khai trương".to_owned(),
                    content,
                }],
            });
            serial += 1;
        }
    }

    ProvinceCatalogue {
        province: Province {
            code: province_code,
            name: "Ninh Thuận".to_owned(),
        },
        agencies,
        aliases: Vec::new(),
        fields,
        procedures: records,
    }
}

fn real_content(real: &RealSpec, spec: &DeptSpec, dept: &AgencyCode) -> ProcedureContent {
    let time = ProcessingTime::days(real.days);
    ProcedureContent {
        name: real.name.clone(),
        field: field_code(&spec.abbrev, real.field + 1),
        agency: dept.clone(),
        level: Level::Province,
        processing_time: time,
        documents: real
            .documents
            .iter()
            .map(|doc| DocumentRequirement {
                name: doc.name.clone(),
                originals: doc.originals,
                copies: doc.copies,
                required: doc.required,
                form: doc.form.as_ref().map(|f| FormTemplate {
                    name: f.clone(),
                    url: String::new(),
                }),
                note: String::new(),
            })
            .collect(),
        sets: 1,
        fees: real
            .fees
            .iter()
            .map(|fee| FeeItem {
                kind: fee.kind,
                name: fee.name.clone(),
                amount: Vnd(fee.amount),
                option: fee.option.clone(),
            })
            .collect(),
        results: real.results.clone(),
        legal_basis: real.legal_basis.clone(),
        applicants: real.applicants.clone(),
        online_mode: online_mode_for(real.level),
        service_level: real.level,
        at_centre: true,
        receivable: Receivable::Competent,
        communes: Vec::new(),
        steps: steps_for(time),
        description: description(&spec.name),
        conditions: String::new(),
    }
}

fn description(dept: &str) -> String {
    format!(
        "Bước 1: Tổ chức, cá nhân nộp hồ sơ tại Trung tâm Phục vụ hành chính công tỉnh hoặc trực tuyến trên Cổng dịch vụ công.\n\
         Bước 2: Công chức tiếp nhận kiểm tra hồ sơ, cấp Giấy tiếp nhận hồ sơ và hẹn trả kết quả.\n\
         Bước 3: {dept} thẩm định, giải quyết hồ sơ.\n\
         Bước 4: Tổ chức, cá nhân nhận kết quả tại Trung tâm, qua dịch vụ bưu chính công ích hoặc trực tuyến."
    )
}

fn generated_content(
    rng: &mut Rng,
    spec: &DeptSpec,
    dept: &AgencyCode,
    field: usize,
    action: &str,
    object: &str,
) -> ProcedureContent {
    const DAYS: &[u32] = &[3, 5, 5, 7, 10, 10, 15, 15, 20, 30];
    const AMOUNTS: &[u64] = &[
        50_000, 100_000, 150_000, 200_000, 300_000, 500_000, 1_000_000, 1_500_000, 3_000_000,
    ];
    let name = format!("{action} {}", lowercase_first(object));
    // Revocations and terminations are quicker and free; issuing takes longer than amending.
    let (time, fee) = match action {
        "Thu hồi" | "Chấm dứt hiệu lực" => (ProcessingTime::days(*rng.pick(&[3, 5, 7])), None),
        "Cấp lại" | "Cấp đổi" => (
            ProcessingTime::days(*rng.pick(&[3, 5, 7, 10])),
            Some(*rng.pick(&AMOUNTS[..5])),
        ),
        _ => (ProcessingTime::days(*rng.pick(DAYS)), Some(*rng.pick(AMOUNTS))),
    };
    let applicant_doc = if spec.applicants.contains(&ApplicantKind::Organisation) && rng.below(3) > 0 {
        ERC_COPY
    } else {
        ID_COPY
    };
    let mut documents = vec![
        DocumentRequirement {
            name: format!("Đơn đề nghị {}", lowercase_first(&name)),
            originals: 1,
            copies: 0,
            required: true,
            form: Some(FormTemplate {
                name: format!("Mẫu số {:02}", 1 + rng.below(12)),
                url: String::new(),
            }),
            note: String::new(),
        },
        DocumentRequirement {
            name: applicant_doc.to_owned(),
            originals: 0,
            copies: 1,
            required: true,
            form: None,
            note: String::new(),
        },
    ];
    if action != "Cấp" {
        documents.push(DocumentRequirement {
            name: format!("Bản gốc hoặc bản sao {} đã được cấp", lowercase_first(object)),
            originals: u16::from(action != "Cấp lại"),
            copies: u16::from(action == "Cấp lại"),
            required: action != "Cấp lại",
            form: None,
            note: if action == "Cấp lại" {
                "Trường hợp bị mất thì nộp văn bản trình bày lý do".to_owned()
            } else {
                String::new()
            },
        });
    }
    let extra = 1 + rng.below(spec.documents.len());
    for doc in spec.documents.iter().take(extra) {
        documents.push(DocumentRequirement {
            name: doc.clone(),
            originals: 1,
            copies: 0,
            required: rng.below(4) > 0,
            form: None,
            note: String::new(),
        });
    }
    let fees = fee
        .map(|amount| {
            vec![FeeItem {
                kind: if rng.below(2) == 0 {
                    FeeKind::Fee
                } else {
                    FeeKind::Charge
                },
                name: format!(
                    "{} {}",
                    if amount >= 500_000 {
                        "Phí thẩm định"
                    } else {
                        "Lệ phí"
                    },
                    lowercase_first(&name)
                ),
                amount: Vnd(amount),
                option: None,
            }]
        })
        .unwrap_or_default();
    // About a third fully online, the rest partly: the 2019 mix of levels 2, 3 and 4.
    let level = *rng.pick(&[2, 3, 3, 3, 4, 4]);
    ProcedureContent {
        name,
        field: field_code(&spec.abbrev, field + 1),
        agency: dept.clone(),
        level: Level::Province,
        processing_time: time,
        documents,
        sets: 1,
        fees,
        results: vec![if action == "Thu hồi" || action == "Chấm dứt hiệu lực" {
            format!("Quyết định {} {}", lowercase_first(action), lowercase_first(object))
        } else {
            object.to_owned()
        }],
        legal_basis: vec![format!(
            "Quy định chuyên ngành về {}",
            lowercase_first(&spec.fields[field].name)
        )],
        applicants: spec.applicants.clone(),
        online_mode: online_mode_for(level),
        service_level: level,
        at_centre: true,
        receivable: Receivable::Competent,
        communes: Vec::new(),
        steps: steps_for(time),
        description: description(&spec.name),
        conditions: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn published_figures() {
        let cat = ninh_thuan();
        let departments = cat.agencies.iter().filter(|a| a.kind == AgencyKind::Department).count();
        assert_eq!(departments, 15);
        assert_eq!(cat.procedures.len(), PROCEDURES);
        let at_centre = cat
            .procedures
            .iter()
            .filter(|p| p.versions[0].content.at_centre)
            .count();
        assert_eq!(at_centre, AT_CENTRE);
        let real: usize = data().departments.iter().map(|d| d.real.len()).sum();
        assert!(real >= 30);
    }

    #[test]
    fn deterministic_unique_and_valid() {
        let a = ninh_thuan();
        assert_eq!(a, ninh_thuan());
        let codes: HashSet<_> = a.procedures.iter().map(|p| &p.code).collect();
        assert_eq!(codes.len(), PROCEDURES);
        let names: HashSet<_> = a.procedures.iter().map(|p| &p.versions[0].content.name).collect();
        assert_eq!(names.len(), PROCEDURES, "procedure names must be unique");
        let fields: HashSet<_> = a.fields.iter().map(|f| &f.code).collect();
        for p in &a.procedures {
            let mut c = p.versions[0].content.clone();
            c.normalize().unwrap_or_else(|e| panic!("{}: {e}", p.code));
            assert_eq!(c, p.versions[0].content, "demo text must already be NFC");
            assert!(fields.contains(&c.field));
        }
    }

    #[test]
    fn embedded_data_parses_and_fits() {
        let data = data();
        assert_eq!(data.departments.len(), 15);
        assert_eq!(data.departments.iter().map(|d| d.count).sum::<usize>(), PROCEDURES);
        assert!(!data.actions.is_empty());
        for dept in &data.departments {
            assert!(!dept.documents.is_empty(), "{}", dept.name);
            for real in &dept.real {
                assert!(real.field < dept.fields.len(), "{}: no field {}", real.name, real.field);
                assert!((1..=4).contains(&real.level), "{}", real.name);
            }
        }
    }
}
