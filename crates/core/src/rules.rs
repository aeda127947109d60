//! The rules that move with the law, as versioned data (docs/rules.md §9): the per-dossier
//! evaluation indices, the groups and sub-criteria of the Decision 766 service index with
//! their points, the numbers and titles of the one-stop forms, and the status labels.
//!
//! A [`RuleSet`] names the legal texts it comes from and the day it takes effect; a
//! [`RuleBook`] holds every version and answers which one is in force on a day, so a
//! period is scored, and a form is printed, by the rules of its own time. motcua ships
//! two versions ([`SHIPPED`]); an administrator loads later ones from a file without a
//! release. What each index or sub-criterion *computes* stays code, chosen by its code
//! ([`crate::evaluation::IndexCode`], [`crate::evaluation::Measure`]): a version chooses
//! among those computations, names them, weighs them and cites them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::dossier::Status;
use crate::evaluation::{Criterion, Group, Index};
use crate::forms::Form;

/// The versions motcua ships: the Decree 61/2018 regime and the Decree 118/2025 one.
pub const SHIPPED: [&str; 2] = [
    include_str!("../data/rules/2018.json"),
    include_str!("../data/rules/2025.json"),
];

/// The largest rule file an administrator may load.
pub const MAX_FILE_BYTES: usize = 512 * 1024;

/// One version of the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Its name (`2018`, `2025`, …): letters, digits, `.`, `-` and `_`.
    pub version: String,
    /// What it is, in Vietnamese.
    pub title: String,
    /// The first day it is in force.
    #[serde(with = "crate::calendar::iso_date")]
    pub effective_from: Date,
    /// The legal texts it comes from, each with its number and date.
    pub sources: Vec<String>,
    /// The per-dossier evaluation indices, in the published order.
    pub indices: Vec<Index>,
    /// The service index's groups, in the published order.
    pub groups: Vec<Group>,
    /// The service index's sub-criteria, in page order.
    pub criteria: Vec<Criterion>,
    /// The printed number and title of each form.
    pub forms: Vec<FormRule>,
    /// The label of each status.
    pub statuses: Vec<StatusRule>,
}

/// How a form is printed under a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormRule {
    /// The form's slug ([`Form::slug`]).
    pub form: String,
    /// "Mẫu số …" in the corner; empty when the circular gives the document no number.
    pub number: String,
    /// The title printed on it.
    pub title: String,
    /// The text that defines it.
    pub legal: String,
}

/// A status's label under a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRule {
    /// The national code ([`Status::code`]).
    pub code: u8,
    /// The label shown and sent.
    pub label: String,
}

/// What is wrong with a rule file: a field path and a message in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where (`criteria[3].max_points`, …).
    pub field: String,
    /// What, in Vietnamese.
    pub message: String,
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
    }
}

impl RuleSet {
    /// Reads and checks a rule file (JSON). Every problem is reported, not only the first.
    pub fn parse(text: &str) -> Result<RuleSet, Vec<Problem>> {
        if text.len() > MAX_FILE_BYTES {
            return Err(vec![problem(
                "file",
                format!("Tệp quy định quá lớn (tối đa {} KiB).", MAX_FILE_BYTES / 1024),
            )]);
        }
        let set: RuleSet = serde_json::from_str(text)
            .map_err(|e| vec![problem("file", format!("Tệp quy định không đúng định dạng: {e}."))])?;
        let problems = set.problems();
        if problems.is_empty() { Ok(set) } else { Err(problems) }
    }

    /// Everything that makes the set unusable: names, duplicates, points that do not add
    /// up, forms or statuses missing.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        let valid_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        if self.version.is_empty() || self.version.len() > 40 || !self.version.chars().all(valid_name) {
            out.push(problem(
                "version",
                "Tên phiên bản gồm 1–40 chữ cái, chữ số, dấu chấm, gạch ngang hoặc gạch dưới.",
            ));
        }
        if self.title.trim().is_empty() {
            out.push(problem("title", "Chưa có tên phiên bản quy định."));
        }
        if self.sources.iter().all(|s| s.trim().is_empty()) {
            out.push(problem("sources", "Chưa nêu văn bản quy định làm căn cứ."));
        }
        self.index_problems(&mut out);
        self.criteria_problems(&mut out);
        self.form_problems(&mut out);
        self.status_problems(&mut out);
        out
    }

    fn index_problems(&self, out: &mut Vec<Problem>) {
        let mut codes = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        for (i, x) in self.indices.iter().enumerate() {
            if !codes.insert(x.code) {
                out.push(problem(format!("indices[{i}].code"), "Chỉ số bị lặp."));
            }
            if !numbers.insert(x.number) {
                out.push(problem(format!("indices[{i}].number"), "Số thứ tự chỉ số bị lặp."));
            }
            if x.name.trim().is_empty() || x.rule.trim().is_empty() || x.legal.trim().is_empty() {
                out.push(problem(
                    format!("indices[{i}]"),
                    "Chỉ số cần tên, cách cho điểm và căn cứ pháp lý.",
                ));
            }
        }
    }

    fn criteria_problems(&self, out: &mut Vec<Problem>) {
        let mut groups = BTreeSet::new();
        for (i, g) in self.groups.iter().enumerate() {
            if !groups.insert(g.code.as_str()) {
                out.push(problem(format!("groups[{i}].code"), "Nhóm bị lặp."));
            }
            let sum: u32 = self
                .criteria
                .iter()
                .filter(|c| c.group == g.code)
                .map(|c| c.max_points)
                .sum();
            if sum != g.points {
                out.push(problem(
                    format!("groups[{i}].points"),
                    format!(
                        "Nhóm «{}» có {} điểm nhưng các tiêu chí thành phần cộng lại {sum} điểm.",
                        g.name, g.points
                    ),
                ));
            }
        }
        let mut codes = BTreeSet::new();
        for (i, c) in self.criteria.iter().enumerate() {
            if c.code.trim().is_empty() || !codes.insert(c.code.as_str()) {
                out.push(problem(format!("criteria[{i}].code"), "Mã tiêu chí trống hoặc bị lặp."));
            }
            if !groups.contains(c.group.as_str()) {
                out.push(problem(
                    format!("criteria[{i}].group"),
                    "Tiêu chí thuộc nhóm không có trong phiên bản.",
                ));
            }
            if c.max_points > 100 {
                out.push(problem(
                    format!("criteria[{i}].max_points"),
                    "Điểm tối đa từ 0 đến 100.",
                ));
            }
            if !(1..=1000).contains(&c.target_permille) {
                out.push(problem(
                    format!("criteria[{i}].target_permille"),
                    "Ngưỡng đạt điểm tối đa từ 1 đến 1000 phần nghìn.",
                ));
            }
            if c.name.trim().is_empty() || c.source.trim().is_empty() {
                out.push(problem(format!("criteria[{i}]"), "Tiêu chí cần tên và nguồn."));
            }
        }
    }

    fn form_problems(&self, out: &mut Vec<Problem>) {
        for (i, f) in self.forms.iter().enumerate() {
            if Form::from_slug(&f.form).is_none() {
                out.push(problem(
                    format!("forms[{i}].form"),
                    format!("Không có biểu mẫu «{}».", f.form),
                ));
            }
            if f.title.trim().is_empty() {
                out.push(problem(format!("forms[{i}].title"), "Biểu mẫu cần tiêu đề."));
            }
        }
        for form in Form::ALL {
            let n = self.forms.iter().filter(|f| f.form == form.slug()).count();
            if n != 1 {
                out.push(problem(
                    "forms",
                    format!("Biểu mẫu «{}» phải có đúng một lần (có {n}).", form.slug()),
                ));
            }
        }
    }

    fn status_problems(&self, out: &mut Vec<Problem>) {
        for (i, s) in self.statuses.iter().enumerate() {
            if Status::from_code(s.code).is_none() {
                out.push(problem(
                    format!("statuses[{i}].code"),
                    format!("Không có trạng thái mã {}.", s.code),
                ));
            }
            if s.label.trim().is_empty() {
                out.push(problem(format!("statuses[{i}].label"), "Trạng thái cần tên."));
            }
        }
        for status in Status::ALL {
            let n = self.statuses.iter().filter(|s| s.code == status.code()).count();
            if n != 1 {
                out.push(problem(
                    "statuses",
                    format!("Trạng thái mã {} phải có đúng một lần (có {n}).", status.code()),
                ));
            }
        }
    }

    /// How `form` is printed (every form is present: [`RuleSet::problems`]).
    pub fn form(&self, form: Form) -> &FormRule {
        self.forms
            .iter()
            .find(|f| f.form == form.slug())
            .unwrap_or_else(|| unreachable!("a checked rule set has every form"))
    }

    /// The label of `status` (every status is present: [`RuleSet::problems`]).
    pub fn status_label(&self, status: Status) -> &str {
        self.statuses
            .iter()
            .find(|s| s.code == status.code())
            .map_or_else(|| status.label(), |s| s.label.as_str())
    }

    /// The most a dossier's sheet scores under this version.
    pub fn sheet_max(&self) -> u32 {
        u32::try_from(self.indices.len()).unwrap_or(0) * crate::evaluation::INDEX_MAX
    }
}

/// The day of instant `at` in Vietnam: the day whose rules govern it.
pub fn day_of(at: OffsetDateTime) -> Date {
    at.to_offset(crate::calendar::VIETNAM_OFFSET).date()
}

/// Every version, by the day it takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBook {
    sets: Vec<RuleSet>,
}

/// Why a version cannot join a book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// A version of that name is there already.
    SameName(String),
    /// A version takes effect on that day already.
    SameDay(String),
}

impl RuleBook {
    /// The shipped versions only.
    pub fn shipped() -> RuleBook {
        let sets = SHIPPED
            .iter()
            .map(|text| RuleSet::parse(text).unwrap_or_else(|p| panic!("a shipped rule set is invalid: {p:?}")))
            .collect();
        RuleBook::of(sets)
    }

    fn of(mut sets: Vec<RuleSet>) -> RuleBook {
        sets.sort_by_key(|s| s.effective_from);
        RuleBook { sets }
    }

    /// The shipped versions and `loaded` (checked ones, as stored). A loaded version that
    /// conflicts with one before it is left out (the store refuses such a load).
    pub fn with(loaded: impl IntoIterator<Item = RuleSet>) -> RuleBook {
        let mut book = RuleBook::shipped();
        for set in loaded {
            if book.conflict(&set).is_none() {
                book.sets.push(set);
            }
        }
        RuleBook::of(book.sets)
    }

    /// Why `set` cannot be added, if it cannot.
    pub fn conflict(&self, set: &RuleSet) -> Option<Conflict> {
        if let Some(s) = self.sets.iter().find(|s| s.version == set.version) {
            return Some(Conflict::SameName(s.version.clone()));
        }
        self.sets
            .iter()
            .find(|s| s.effective_from == set.effective_from)
            .map(|s| Conflict::SameDay(s.version.clone()))
    }

    /// The version in force on `day`: the latest that took effect on or before it, or
    /// the earliest for a day before every version.
    pub fn in_force(&self, day: Date) -> &RuleSet {
        self.sets
            .iter()
            .rev()
            .find(|s| s.effective_from <= day)
            .or_else(|| self.sets.first())
            .unwrap_or_else(|| unreachable!("a rule book holds the shipped versions"))
    }

    /// The version in force at instant `at` (its day in Vietnam).
    pub fn in_force_at(&self, at: OffsetDateTime) -> &RuleSet {
        self.in_force(day_of(at))
    }

    /// Every version, earliest first.
    pub fn versions(&self) -> &[RuleSet] {
        &self.sets
    }

    /// The version called `name`.
    pub fn version(&self, name: &str) -> Option<&RuleSet> {
        self.sets.iter().find(|s| s.version == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_shipped_versions_are_valid_and_take_turns() {
        let book = RuleBook::shipped();
        assert_eq!(book.versions().len(), 2);
        assert_eq!(book.in_force(date!(2019 - 01 - 01)).version, "2018");
        assert_eq!(book.in_force(date!(2025 - 06 - 30)).version, "2018");
        assert_eq!(book.in_force(date!(2025 - 07 - 01)).version, "2025");
        assert_eq!(
            book.in_force(date!(2010 - 01 - 01)).version,
            "2018",
            "before every version: the first"
        );
        for set in book.versions() {
            assert_eq!(set.problems(), vec![], "{}", set.version);
            assert_eq!(set.indices.len(), 9, "{}", set.version);
            assert_eq!(set.sheet_max(), 18);
            assert_eq!(set.groups.iter().map(|g| g.points).sum::<u32>(), 100);
            for s in Status::ALL {
                assert_eq!(set.status_label(s), s.label(), "{}", set.version);
            }
        }
    }

    #[test]
    fn forms_carry_the_circular_in_force() {
        let book = RuleBook::shipped();
        let old = book.in_force(date!(2024 - 01 - 01));
        let new = book.in_force(date!(2026 - 01 - 01));
        assert_eq!(old.form(Form::ControlSheet).number, "05");
        assert_eq!(new.form(Form::ControlSheet).number, "06");
        assert_eq!(
            old.form(Form::StopNotice).number,
            "",
            "Circular 01/2018 has no stop notice form"
        );
        assert_eq!(new.form(Form::StopNotice).number, "05");
        assert!(old.form(Form::Receipt).legal.contains("01/2018/TT-VPCP"));
        assert!(new.form(Form::Receipt).legal.contains("03/2025/TT-VPCP"));
    }

    #[test]
    fn a_bad_file_reports_every_problem() {
        let mut v: serde_json::Value = serde_json::from_str(SHIPPED[1]).expect("json");
        v["version"] = "bad name!".into();
        v["criteria"][0]["max_points"] = 7.into();
        v["criteria"][1]["target_permille"] = 0.into();
        v["forms"].as_array_mut().expect("forms").pop();
        v["statuses"][0]["code"] = 42.into();
        let problems = RuleSet::parse(&v.to_string()).expect_err("bad");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for f in [
            "version",
            "groups[0].points",
            "criteria[1].target_permille",
            "forms",
            "statuses[0].code",
            "statuses",
        ] {
            assert!(fields.contains(&f), "{f}: {problems:?}");
        }
        let unknown = RuleSet::parse(r#"{"version": "x", "surprise": 1}"#).expect_err("unknown field");
        assert_eq!(unknown[0].field, "file");
        assert!(RuleSet::parse(&"x".repeat(MAX_FILE_BYTES + 1)).is_err());
    }

    #[test]
    fn a_later_version_governs_from_its_day_only() {
        let mut later: RuleSet = serde_json::from_str(SHIPPED[1]).expect("json");
        later.version = "2027".into();
        later.effective_from = date!(2027 - 01 - 01);
        let book = RuleBook::shipped();
        assert_eq!(book.conflict(&later), None);
        let mut clash = later.clone();
        clash.effective_from = date!(2025 - 07 - 01);
        assert_eq!(book.conflict(&clash), Some(Conflict::SameDay("2025".into())));
        clash.version = "2018".into();
        assert_eq!(book.conflict(&clash), Some(Conflict::SameName("2018".into())));
        let book = RuleBook::with([later, clash]);
        assert_eq!(book.versions().len(), 3, "the clashing one is left out");
        assert_eq!(book.in_force(date!(2026 - 12 - 31)).version, "2025");
        assert_eq!(book.in_force(date!(2027 - 01 - 01)).version, "2027");
    }
}
