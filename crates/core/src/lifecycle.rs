//! The dossier as the lifecycle sees it, who may act on it, and the one function that
//! applies an action (docs/rules.md §3–§4). Pure: the server loads the dossier, calls
//! [`authorize`] and [`apply`], and stores the result with its event in one transaction.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::access::{Access, Role};
use crate::calendar::Calendar;
use crate::catalogue::{ApplicantKind, FeeItem, Invalid, ProcedureContent, ProcessingTime, StepRole};
use crate::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use crate::deadline::{CLOCK_PAUSED, waited_past_limit};
use crate::dossier::{
    Action, Channel, DelayRules, DossierCode, Refusal, Status, Timeliness, check_apology, next_status,
    resume_appointment,
};
use crate::money::Vnd;
use crate::text::{char_len, nfc};

/// Longest free text in a dossier (reasons, notes, addresses).
pub const MAX_NOTE: usize = 2_000;
/// Most items in a list of missing documents.
pub const MAX_MISSING: usize = 50;

/// Someone named in a dossier: an officer who holds it, or who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    /// Account id (or `token:<id>` for API tokens).
    pub id: String,
    /// Name shown to people.
    pub name: String,
}

/// The person or organisation the dossier is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Applicant {
    /// Citizen or organisation.
    pub kind: ApplicantKind,
    /// Full name, or the organisation's name.
    pub name: String,
    /// Citizen ID (CCCD, 12 digits) for a person; tax code (10 or 13 digits) for an organisation.
    pub id_number: String,
    /// Phone number.
    #[serde(default)]
    pub phone: String,
    /// Email address.
    #[serde(default)]
    pub email: String,
    /// Address.
    #[serde(default)]
    pub address: String,
}

impl Applicant {
    /// Normalises the text (NFC, trimmed) and checks every field.
    pub fn normalise(self) -> Result<Self, Invalid> {
        self.normalise_as("applicant")
    }

    /// [`Applicant::normalise`], naming the fields `{field}.name`, `{field}.phone`, …: the
    /// first problem.
    pub fn normalise_as(self, field: &str) -> Result<Self, Invalid> {
        self.checked_as(field).map_err(|mut all| all.swap_remove(0))
    }

    /// [`Applicant::normalise_as`] with every problem at once, in the fields' order.
    pub fn checked_as(mut self, field: &str) -> Result<Self, Vec<Invalid>> {
        let at = |name: &str| format!("{field}.{name}");
        self.name = nfc(&self.name);
        self.id_number = self.id_number.trim().replace([' ', '-'], "");
        self.phone = self.phone.trim().replace([' ', '.', '-'], "");
        self.email = self.email.trim().to_owned();
        self.address = nfc(&self.address);
        let mut problems = Vec::new();
        if self.name.is_empty() {
            problems.push(Invalid::new(at("name"), "Họ tên người nộp hồ sơ không được để trống."));
        } else if char_len(&self.name) > 200 {
            problems.push(Invalid::new(at("name"), "Họ tên dài quá 200 ký tự."));
        }
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        match self.kind {
            ApplicantKind::Citizen if !(self.id_number.len() == 12 && digits(&self.id_number)) => {
                problems.push(Invalid::new(
                    at("id_number"),
                    "Số định danh cá nhân (căn cước công dân) phải gồm đúng 12 chữ số.",
                ));
            }
            ApplicantKind::Organisation
                if !((self.id_number.len() == 10 || self.id_number.len() == 13) && digits(&self.id_number)) =>
            {
                problems.push(Invalid::new(
                    at("id_number"),
                    "Mã số thuế của tổ chức phải gồm 10 hoặc 13 chữ số.",
                ));
            }
            _ => {}
        }
        let phone = self.phone.strip_prefix('+').unwrap_or(&self.phone);
        let phone_ok = digits(phone) && (9..=15).contains(&phone.len());
        if !self.phone.is_empty() && !phone_ok {
            problems.push(Invalid::new(
                at("phone"),
                "Số điện thoại chỉ gồm chữ số (9 đến 15 số), ví dụ 0912345678.",
            ));
        }
        if !self.email.is_empty() && !valid_email(&self.email) {
            problems.push(Invalid::new(at("email"), "Địa chỉ thư điện tử không hợp lệ."));
        }
        if char_len(&self.address) > 500 {
            problems.push(Invalid::new(at("address"), "Địa chỉ dài quá 500 ký tự."));
        }
        if problems.is_empty() { Ok(self) } else { Err(problems) }
    }
}

/// Checks an authorised submitter (người được ủy quyền) filing for `applicant`: a person
/// (citizen ID, 12 digits) other than the applicant, with the authorisation received:
/// counted at the counter (an original or a copy, or a scan), uploaded online. Returns the
/// submitter normalised (fields named `submitter.…`).
pub fn check_submitter(
    applicant: &Applicant,
    submitter: Applicant,
    authorisation: &ReceivedDocument,
    online: bool,
) -> Result<Applicant, Vec<Invalid>> {
    let checked = Applicant {
        kind: ApplicantKind::Citizen,
        ..submitter
    }
    .checked_as("submitter");
    let (submitter, mut problems) = match checked {
        Ok(s) if applicant.kind == ApplicantKind::Citizen && s.id_number == applicant.id_number => (
            None,
            vec![Invalid::new(
                "submitter.id_number",
                "Người được ủy quyền trùng với người đứng tên hồ sơ; nếu tự nộp thì bỏ phần người được ủy quyền.",
            )],
        ),
        Ok(s) => (Some(s), Vec::new()),
        Err(p) => (None, p),
    };
    if !authorisation.is_received(online) {
        problems.push(Invalid::new(
            "submitter.authorisation",
            if online {
                "Người được ủy quyền phải tải lên văn bản ủy quyền."
            } else {
                "Người được ủy quyền phải nộp văn bản ủy quyền (bản chính hoặc bản sao)."
            },
        ));
    }
    match submitter {
        Some(s) if problems.is_empty() => Ok(s),
        _ => Err(problems),
    }
}

fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(char::is_whitespace)
}

/// [`ReceivedDocument::index`] of the supplements received while handling (not part of
/// the procedure's checklist).
pub const SUPPLEMENT_INDEX: u16 = u16::MAX;

/// [`ReceivedDocument::index`] of the authorisation an authorised submitter files with
/// (văn bản ủy quyền; not part of the procedure's checklist).
pub const AUTHORISATION_INDEX: u16 = u16::MAX - 1;

/// The name of the authorisation document.
pub const AUTHORISATION_NAME: &str = "Văn bản ủy quyền";

/// One document of the procedure's checklist as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReceivedDocument {
    /// Position in the procedure's document list.
    pub index: u16,
    /// The document's name (from the procedure).
    pub name: String,
    /// Originals received.
    pub originals: u16,
    /// Copies received.
    pub copies: u16,
    /// Uploaded scans (file ids).
    #[serde(default)]
    pub files: Vec<String>,
}

impl ReceivedDocument {
    /// Whether the document counts as received: online, when a file was uploaded for it;
    /// at the counter, when originals, copies or a scan were counted.
    pub fn is_received(&self, online: bool) -> bool {
        !self.files.is_empty() || (!online && (self.originals > 0 || self.copies > 0))
    }
}

/// How the result is handed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Delivery {
    /// At the counter.
    Counter,
    /// By public post.
    Post,
    /// Online (electronic result).
    Online,
}

impl Delivery {
    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Delivery::Counter => "Trả kết quả tại Bộ phận Một cửa",
            Delivery::Post => "Trả kết quả qua dịch vụ bưu chính công ích",
            Delivery::Online => "Trả kết quả trực tuyến",
        }
    }
}

/// The kind of a written notice the dossier produced (the forms of docs/rules.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoticeKind {
    /// Supplement request at reception or during handling.
    SupplementRequest,
    /// Refusal at reception.
    Refusal,
    /// Apology and new appointment.
    Apology,
    /// Stop notice.
    StopNotice,
    /// Request to pay fees or taxes.
    PaymentRequest,
    /// Withdrawal at the applicant's request.
    Withdrawal,
}

/// A written notice issued to the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    /// Which notice.
    pub kind: NoticeKind,
    /// When it was issued.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who issued it.
    pub by: Person,
    /// The reason (or the legal ground for a stop).
    pub reason: String,
    /// Documents to add or correct (supplement requests).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Amount asked (payment requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Vnd>,
    /// The appointment before an apology.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub old_due: Option<OffsetDateTime>,
    /// The new appointment of an apology.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub new_due: Option<OffsetDateTime>,
}

/// Time budgets of the processing steps, in working hours, by who does them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepBudgets {
    /// The counter (reception and hand-over to the department).
    pub counter: Option<u32>,
    /// The department's officer (examination).
    pub officer: Option<u32>,
    /// The department's leader (assignment, approval).
    pub leader: Option<u32>,
    /// Another agency of an inter-agency procedure.
    pub other_agency: Option<u32>,
}

impl StepBudgets {
    /// The budgets a procedure's steps define: the counter's first step (reception and
    /// hand-over; its last step, the return, is not timed against the department), and
    /// the sum of the other roles' steps.
    pub fn of(content: &ProcedureContent) -> Self {
        let mut b = StepBudgets::default();
        for step in &content.steps {
            let slot = match step.role {
                StepRole::Counter if b.counter.is_some() => continue,
                StepRole::Counter => &mut b.counter,
                StepRole::Officer => &mut b.officer,
                StepRole::Leader => &mut b.leader,
                StepRole::OtherAgency => &mut b.other_agency,
            };
            *slot = Some(slot.unwrap_or(0).saturating_add(step.budget_hours));
        }
        b
    }
}

/// How the result was handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Handed {
    /// Counter, post or online.
    pub method: Delivery,
    /// The postal tracking number, for results sent by post.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tracking_number: String,
}

/// A dossier: everything the lifecycle needs and everything the forms print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dossier {
    /// The legal code.
    pub code: DossierCode,
    /// The province.
    pub province: ProvinceCode,
    /// The procedure.
    pub procedure: ProcedureCode,
    /// The procedure version it was filed under.
    pub procedure_version: u32,
    /// The procedure's name (as of that version).
    pub procedure_name: String,
    /// The procedure's field.
    pub field: FieldCode,
    /// Statutory processing time, nominal working hours (8 a day; for lists and figures).
    pub processing_hours: u32,
    /// Statutory processing time as the procedure gives it: the appointment counts days
    /// as the calendar's working days ([`Dossier::statutory_minutes`]). Absent on dossiers
    /// filed before it was kept, whose hours then count as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_time: Option<ProcessingTime>,
    /// The agency that received it (the centre, or the department for procedures the
    /// centre does not receive).
    pub receiving_agency: AgencyCode,
    /// The department responsible for resolving it.
    pub responsible_agency: AgencyCode,
    /// The agency that holds it now.
    pub current_agency: AgencyCode,
    /// The officer who holds it now.
    pub assignee: Option<Person>,
    /// The responsible department's officer while another agency holds the dossier.
    #[serde(default)]
    pub lead_assignee: Option<Person>,
    /// The responsible department's officer who last held it: who handled the dossier, kept
    /// after the result is ready (when `assignee` is cleared). The officer of the statistics.
    #[serde(default)]
    pub handled_by: Option<Person>,
    /// The citizen account that filed it online.
    pub owner: Option<String>,
    /// How it was filed.
    pub channel: Channel,
    /// The national status.
    pub status: Status,
    /// The status to return to after a supplement or payment.
    pub resume_status: Option<Status>,
    /// The applicant: the dossier's owner, in whose name it is filed.
    pub applicant: Applicant,
    /// The person who filed it on the applicant's behalf under an authorisation (người
    /// được ủy quyền), whose authorisation document is among the documents
    /// ([`AUTHORISATION_INDEX`]); `None` when the applicant filed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter: Option<Applicant>,
    /// The checklist as received.
    pub documents: Vec<ReceivedDocument>,
    /// Checklist documents taken from the applicant's document store, by reference
    /// (docs/documents.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reused: Vec<crate::documents::Reuse>,
    /// Sets of documents received.
    pub sets: u16,
    /// The fee items due.
    pub fees: Vec<FeeItem>,
    /// Fee items waived at intake (nothing is due for them).
    #[serde(default)]
    pub exemptions: Vec<FeeExemption>,
    /// How the applicant wants the result.
    pub delivery: Delivery,
    /// The second factor for public tracking, printed on the receipt.
    pub tracking_secret: String,
    /// Time budgets of the steps.
    pub budgets: StepBudgets,
    /// When it was filed.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was accepted (the receipt's time).
    #[serde(with = "time::serde::rfc3339::option")]
    pub received_at: Option<OffsetDateTime>,
    /// The appointment to return the result.
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    /// The appointment on the receipt, before any move.
    #[serde(with = "time::serde::rfc3339::option")]
    pub original_due_at: Option<OffsetDateTime>,
    /// Due instant of the current step.
    #[serde(with = "time::serde::rfc3339::option")]
    pub step_due_at: Option<OffsetDateTime>,
    /// When the clock stopped (supplement or payment), while it stands still.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paused_at: Option<OffsetDateTime>,
    /// Working minutes the clock has stood still in all (after acceptance only).
    #[serde(default)]
    pub paused_minutes: u64,
    /// While the dossier waits for the applicant: when the time given to answer runs out
    /// ([`crate::deadline::wait_limit`]); past it, the dossier may be stopped. Absent with
    /// no limit, and on dossiers paused before the limit was kept.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub wait_until: Option<OffsetDateTime>,
    /// Working time from receipt to result on the province calendar, the waits for a
    /// supplement or a payment left out; set when the dossier is finished (result,
    /// withdrawal, stop). The statistics' average time.
    #[serde(default)]
    pub working_minutes: Option<u64>,
    /// When the result was ready (or handling ended otherwise).
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// When the result was handed over.
    #[serde(with = "time::serde::rfc3339::option")]
    pub returned_at: Option<OffsetDateTime>,
    /// How many times the appointment was moved by an apology.
    pub extensions: u32,
    /// How many supplement requests were made during handling.
    pub supplements: u32,
    /// Written notices, oldest first.
    pub notices: Vec<Notice>,
    /// Result documents (file ids).
    pub result_files: Vec<String>,
    /// Amount requested and not yet paid.
    pub payment_due: Option<Vnd>,
    /// Payments confirmed: (amount, reference).
    #[serde(default)]
    pub payments: Vec<(Vnd, String)>,
    /// How the result was handed over.
    pub handed: Option<Handed>,
    /// Free note from reception.
    #[serde(default)]
    pub note: String,
    /// Bumped by every change; guards against lost updates.
    pub version: u32,
}

/// What a new dossier starts from.
pub struct Filing<'a> {
    /// Its code (allocated by the store).
    pub code: DossierCode,
    /// The province.
    pub province: ProvinceCode,
    /// The procedure's code.
    pub procedure: &'a ProcedureCode,
    /// The procedure version filed under.
    pub version: u32,
    /// What that version says.
    pub content: &'a ProcedureContent,
    /// The receiving agency.
    pub receiving: AgencyCode,
    /// The agency competent to decide it: the procedure's department for a province-level
    /// procedure, the commune chosen for a commune-level one (docs/map-2025.md §4.1).
    pub competent: AgencyCode,
    /// How it was filed.
    pub channel: Channel,
    /// The applicant (normalised).
    pub applicant: Applicant,
    /// The checklist as received.
    pub documents: Vec<ReceivedDocument>,
    /// The tracking secret.
    pub tracking_secret: String,
    /// When it was filed.
    pub now: OffsetDateTime,
}

impl Dossier {
    /// The statutory processing time in working minutes on a calendar whose working day
    /// lasts `minutes_per_day`.
    pub fn statutory_minutes(&self, minutes_per_day: u32) -> u64 {
        self.processing_time.map_or(u64::from(self.processing_hours) * 60, |t| {
            t.working_minutes(minutes_per_day)
        })
    }

    /// The statutory processing time, as it reads.
    pub fn statutory_label(&self) -> String {
        self.processing_time.map_or_else(
            || crate::catalogue::working_time(self.processing_hours),
            ProcessingTime::label,
        )
    }

    /// A dossier just filed (status 1), with the fee items that always apply, the
    /// procedure's number of sets and the result at the counter; the caller adjusts those
    /// and the owner.
    pub fn file(f: Filing<'_>) -> Self {
        Dossier {
            code: f.code,
            province: f.province,
            procedure: f.procedure.clone(),
            procedure_version: f.version,
            procedure_name: f.content.name.clone(),
            field: f.content.field.clone(),
            processing_hours: f.content.processing_time.working_hours(),
            processing_time: Some(f.content.processing_time),
            current_agency: f.receiving.clone(),
            receiving_agency: f.receiving,
            responsible_agency: f.competent,
            assignee: None,
            lead_assignee: None,
            handled_by: None,
            working_minutes: None,
            owner: None,
            channel: f.channel,
            status: Status::New,
            resume_status: None,
            applicant: f.applicant,
            submitter: None,
            documents: f.documents,
            reused: Vec::new(),
            sets: f.content.sets,
            fees: f.content.fees.iter().filter(|x| x.option.is_none()).cloned().collect(),
            exemptions: Vec::new(),
            delivery: Delivery::Counter,
            tracking_secret: f.tracking_secret,
            budgets: StepBudgets::of(f.content),
            created_at: f.now,
            received_at: None,
            due_at: None,
            original_due_at: None,
            step_due_at: None,
            paused_at: None,
            paused_minutes: 0,
            wait_until: None,
            finished_at: None,
            returned_at: None,
            extensions: 0,
            supplements: 0,
            notices: Vec::new(),
            result_files: Vec::new(),
            payment_due: None,
            payments: Vec::new(),
            handed: None,
            note: String::new(),
            version: 1,
        }
    }

    /// How the dossier finished (or stands, if unfinished) against its appointment.
    pub fn timeliness(&self, now: OffsetDateTime) -> Option<Timeliness> {
        let due = self.due_at?;
        Some(Timeliness::judge(self.finished_at.unwrap_or(now), due))
    }

    /// Whether the dossier is overdue at `now`: the appointment passed while its clock runs
    /// ([`crate::deadline::is_overdue`]; paused and finished dossiers are not overdue).
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        crate::deadline::is_overdue(self.status, self.due_at, self.finished_at, now)
    }

    /// The sum of the fee items.
    pub fn fee_total(&self) -> Vnd {
        Vnd(self.fees.iter().map(|f| f.amount.0).sum())
    }

    /// The exemption of fee item `index`, if it was waived.
    pub fn exemption(&self, index: usize) -> Option<&FeeExemption> {
        self.exemptions.iter().find(|e| e.item == index)
    }

    /// The sum of the fee items not waived: what the applicant owes for them.
    pub fn fee_due(&self) -> Vnd {
        Vnd(self
            .fees
            .iter()
            .enumerate()
            .filter(|(i, _)| self.exemption(*i).is_none())
            .map(|(_, f)| f.amount.0)
            .sum())
    }
}

/// A fee item waived at intake by a counter officer, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeExemption {
    /// The item's place in the dossier's `fees`, from 0.
    pub item: usize,
    /// The item's name, as it was.
    pub name: String,
    /// The amount waived.
    pub amount: Vnd,
    /// Why (e.g. the legal ground and the category of applicant).
    pub reason: String,
    /// Who granted it.
    pub by: Person,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// An exemption asked for at intake: one fee item (by its place in the fees due, from
/// 0) or, without `item`, all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExemptionRequest {
    /// The fee item's place in the fees due, from 0; none means every item.
    #[serde(default)]
    pub item: Option<usize>,
    /// Why: required.
    #[serde(default)]
    pub reason: String,
}

/// Checks exemptions asked for at intake against the fee items due and records them:
/// each needs a reason and an existing item, and an item is waived once.
pub fn exemptions_at_filing(
    fees: &[FeeItem],
    requests: &[ExemptionRequest],
    by: &Person,
    at: OffsetDateTime,
) -> Result<Vec<FeeExemption>, Invalid> {
    let mut out: Vec<FeeExemption> = Vec::new();
    for (n, r) in requests.iter().enumerate() {
        let reason = required_text(&format!("exemptions[{n}].reason"), &r.reason).map_err(|_| {
            Invalid::new(
                format!("exemptions[{n}].reason"),
                "Miễn phí, lệ phí phải ghi rõ lý do (căn cứ và đối tượng được miễn).",
            )
        })?;
        let items: Vec<usize> = match r.item {
            Some(i) if i < fees.len() => vec![i],
            Some(i) => {
                return Err(Invalid::new(
                    format!("exemptions[{n}].item"),
                    format!("Không có khoản phí, lệ phí số {i} (hồ sơ có {} khoản).", fees.len()),
                ));
            }
            None if fees.is_empty() => {
                return Err(Invalid::new(
                    format!("exemptions[{n}].item"),
                    "Hồ sơ không có khoản phí, lệ phí nào để miễn.",
                ));
            }
            None => (0..fees.len()).collect(),
        };
        for i in items {
            if out.iter().any(|e| e.item == i) {
                return Err(Invalid::new(
                    format!("exemptions[{n}].item"),
                    format!("Khoản «{}» đã được miễn.", fees[i].name),
                ));
            }
            out.push(FeeExemption {
                item: i,
                name: fees[i].name.clone(),
                amount: fees[i].amount,
                reason: reason.clone(),
                by: by.clone(),
                at,
            });
        }
    }
    Ok(out)
}

/// The fee items due at filing: those of the procedure that always apply, plus those of
/// the option chosen. When the fee depends on the option alone (every item belongs to
/// one: `Cấp mới`, `Cấp lại`…), one must be chosen (`fee_option`); when some items always
/// apply, the options are additions (e.g. a charge per extra copy) and choosing none is
/// fine. An option the procedure does not have is refused.
pub fn fees_at_filing(content: &ProcedureContent, option: Option<&str>) -> Result<Vec<FeeItem>, Invalid> {
    let mut options: Vec<&str> = Vec::new();
    for o in content.fees.iter().filter_map(|f| f.option.as_deref()) {
        if !options.contains(&o) {
            options.push(o);
        }
    }
    let option = option.map(str::trim).filter(|o| !o.is_empty());
    match option {
        None if !options.is_empty() && content.fees.iter().all(|f| f.option.is_some()) => {
            return Err(Invalid::new(
                "fee_option",
                format!(
                    "Phí, lệ phí của thủ tục tùy theo phương án: xin chọn phương án phí, lệ phí (một trong: {}).",
                    options.join("; ")
                ),
            ));
        }
        Some(o) if !options.contains(&o) => {
            return Err(Invalid::new(
                "fee_option",
                if options.is_empty() {
                    "Thủ tục không có phương án phí, lệ phí nào để chọn.".to_owned()
                } else {
                    format!(
                        "Phương án «{o}» không có trong thủ tục; các phương án: {}.",
                        options.join("; ")
                    )
                },
            ));
        }
        _ => {}
    }
    Ok(content
        .fees
        .iter()
        .filter(|f| f.option.is_none() || f.option.as_deref() == option)
        .cloned()
        .collect())
}

/// How the result is delivered, checked against the applicant: the public post needs an
/// address to deliver to.
pub fn check_delivery(delivery: Delivery, applicant: &Applicant) -> Result<(), Invalid> {
    if delivery == Delivery::Post && applicant.address.trim().is_empty() {
        return Err(Invalid::new(
            "applicant.address",
            "Nhận kết quả qua dịch vụ bưu chính công ích cần địa chỉ nhận: xin nhập địa chỉ của người nộp.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod filing_fee_tests {
    use super::*;
    use crate::catalogue::FeeKind;

    fn content(fees: Vec<(u64, Option<&str>)>) -> ProcedureContent {
        let mut c = crate::demo::ninh_thuan().procedures[0].versions[0].content.clone();
        c.fees = fees
            .into_iter()
            .map(|(amount, option)| FeeItem {
                kind: FeeKind::Charge,
                name: format!("Lệ phí {amount}"),
                amount: Vnd(amount),
                option: option.map(str::to_owned),
            })
            .collect();
        c
    }

    #[test]
    fn a_fee_that_depends_on_the_option_alone_needs_one_chosen() {
        let c = content(vec![(100_000, Some("Cấp mới")), (50_000, Some("Cấp lại"))]);
        let e = fees_at_filing(&c, None).expect_err("an option is needed");
        assert_eq!(e.field, "fee_option");
        assert!(e.message.contains("Cấp mới; Cấp lại"), "{}", e.message);
        assert_eq!(fees_at_filing(&c, Some("  ")).expect_err("blank").field, "fee_option");
        let due = fees_at_filing(&c, Some("Cấp lại")).expect("chosen");
        assert_eq!(due.iter().map(|f| f.amount.0).collect::<Vec<_>>(), [50_000]);
        assert_eq!(
            fees_at_filing(&c, Some("Khác")).expect_err("unknown").field,
            "fee_option"
        );
    }

    #[test]
    fn optional_additions_to_a_fee_that_always_applies_may_be_left_out() {
        let c = content(vec![(200_000, None), (5_000, Some("Mỗi bản từ bản thứ 3"))]);
        let due = fees_at_filing(&c, None).expect("none chosen");
        assert_eq!(due.iter().map(|f| f.amount.0).collect::<Vec<_>>(), [200_000]);
        let due = fees_at_filing(&c, Some("Mỗi bản từ bản thứ 3")).expect("chosen");
        assert_eq!(due.iter().map(|f| f.amount.0).collect::<Vec<_>>(), [200_000, 5_000]);
        // No fees at all: nothing to choose, nothing due.
        assert!(fees_at_filing(&content(vec![]), None).expect("free").is_empty());
        assert_eq!(
            fees_at_filing(&content(vec![]), Some("x"))
                .expect_err("no options")
                .field,
            "fee_option"
        );
    }

    #[test]
    fn an_exemption_needs_a_reason_and_an_item_and_zeroes_what_is_due() {
        let fees = fees_at_filing(&content(vec![(200_000, None), (50_000, None)]), None).expect("fees");
        let by = Person {
            id: "u1".into(),
            name: "Trần Thị Tiếp".into(),
        };
        let at = time::macros::datetime!(2026-11-02 08:00 +07:00);
        let ask = |item: Option<usize>, reason: &str| ExemptionRequest {
            item,
            reason: reason.into(),
        };
        let e = exemptions_at_filing(&fees, &[ask(Some(1), "  ")], &by, at).expect_err("reason");
        assert_eq!(e.field, "exemptions[0].reason");
        let e = exemptions_at_filing(&fees, &[ask(Some(2), "Hộ nghèo")], &by, at).expect_err("item");
        assert_eq!(e.field, "exemptions[0].item");
        let e = exemptions_at_filing(&fees, &[ask(None, "A"), ask(Some(0), "B")], &by, at).expect_err("twice");
        assert_eq!(e.field, "exemptions[1].item");
        let one = exemptions_at_filing(&fees, &[ask(Some(1), "Hộ nghèo")], &by, at).expect("one");
        assert_eq!(one.len(), 1);
        assert_eq!(
            (one[0].item, one[0].amount, one[0].reason.as_str()),
            (1, Vnd(50_000), "Hộ nghèo")
        );
        let all = exemptions_at_filing(&fees, &[ask(None, "Người có công")], &by, at).expect("all");
        assert_eq!(all.iter().map(|e| e.item).collect::<Vec<_>>(), [0, 1]);
        // Stored dossiers from before exemptions read back with none.
        let mut d: serde_json::Value = serde_json::json!({});
        d["exemptions"] = serde_json::json!(one);
        let back: Vec<FeeExemption> = serde_json::from_value(d["exemptions"].clone()).expect("round trip");
        assert_eq!(back, one);
    }

    #[test]
    fn delivery_by_post_needs_the_applicants_address() {
        let mut a = Applicant {
            kind: crate::catalogue::ApplicantKind::Citizen,
            name: "Nguyễn Văn An".into(),
            id_number: "058190000123".into(),
            phone: String::new(),
            email: String::new(),
            address: "  ".into(),
        };
        let e = check_delivery(Delivery::Post, &a).expect_err("no address");
        assert_eq!(e.field, "applicant.address");
        assert!(check_delivery(Delivery::Counter, &a).is_ok());
        a.address = "12 Thống Nhất, Phan Rang - Tháp Chàm".into();
        assert!(check_delivery(Delivery::Post, &a).is_ok());
    }
}

/// The data an action carries. Three fields arrive as text and the rules need them typed:
/// the officer to assign, the agency to forward to and the new appointment. So the one
/// definition is generic over them: [`ActionInput`] is the checked form the rules take, and
/// a skin's request as the person gave it is `ActionData<String, String, String>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionData<Officer, Agency, Instant> {
    /// Accept at reception.
    Accept,
    /// Refuse at reception.
    Refuse {
        /// Why.
        reason: String,
    },
    /// Ask to complete at reception.
    RequestCompletion {
        /// Everything missing.
        missing: Vec<String>,
        /// Why.
        reason: String,
    },
    /// Hand over to the responsible department.
    Transfer,
    /// Assign to an officer of the holding agency.
    Assign {
        /// The officer (checked by the caller to be staff of the holding agency).
        to: Officer,
    },
    /// Forward to another agency.
    ForwardOut {
        /// The other agency.
        agency: Agency,
        /// Why or what for.
        note: String,
    },
    /// Hand back to the responsible department.
    ForwardBack {
        /// The other agency's opinion or result.
        note: String,
    },
    /// Ask the applicant to supplement.
    RequestSupplement {
        /// Everything to add or correct.
        missing: Vec<String>,
        /// Why.
        reason: String,
    },
    /// The supplement arrived.
    ReceiveSupplement {
        /// Files added (ids, checked by the caller).
        files: Vec<String>,
        /// Note.
        note: String,
    },
    /// Ask for fees or taxes.
    RequestPayment {
        /// Amount.
        amount: Vnd,
        /// What for.
        note: String,
    },
    /// Payment confirmed.
    ConfirmPayment {
        /// Amount paid.
        amount: Vnd,
        /// Receipt or transaction number.
        reference: String,
    },
    /// Apologise and move the appointment.
    Apologise {
        /// Why the deadline cannot be met.
        reason: String,
        /// The new appointment.
        new_due: Instant,
    },
    /// Withdraw at the applicant's request.
    Withdraw {
        /// Why.
        reason: String,
    },
    /// Stop handling.
    Stop {
        /// The legal ground.
        legal_ground: String,
        /// Explanation.
        reason: String,
    },
    /// The result is ready.
    Finish {
        /// Result documents (ids, checked by the caller).
        result_files: Vec<String>,
        /// Note.
        note: String,
    },
    /// Hand the result over.
    Return {
        /// How.
        method: Delivery,
        /// Postal tracking number (post only).
        tracking_number: String,
    },
}

/// An action's data, checked: what the rules take.
pub type ActionInput = ActionData<Person, AgencyCode, OffsetDateTime>;

impl<Officer, Agency, Instant> ActionData<Officer, Agency, Instant> {
    /// The action this data is for.
    pub fn action(&self) -> Action {
        match self {
            Self::Accept => Action::Accept,
            Self::Refuse { .. } => Action::Refuse,
            Self::RequestCompletion { .. } => Action::RequestCompletion,
            Self::Transfer => Action::Transfer,
            Self::Assign { .. } => Action::Assign,
            Self::ForwardOut { .. } => Action::ForwardOut,
            Self::ForwardBack { .. } => Action::ForwardBack,
            Self::RequestSupplement { .. } => Action::RequestSupplement,
            Self::ReceiveSupplement { .. } => Action::ReceiveSupplement,
            Self::RequestPayment { .. } => Action::RequestPayment,
            Self::ConfirmPayment { .. } => Action::ConfirmPayment,
            Self::Apologise { .. } => Action::Apologise,
            Self::Withdraw { .. } => Action::Withdraw,
            Self::Stop { .. } => Action::Stop,
            Self::Finish { .. } => Action::Finish,
            Self::Return { .. } => Action::Return,
        }
    }
}

/// Checks a required free text: NFC, not empty, not too long.
pub fn required_text(field: &str, value: &str) -> Result<String, Invalid> {
    let v = nfc(value);
    if v.is_empty() {
        return Err(Invalid::new(field, "Không được để trống."));
    }
    if char_len(&v) > MAX_NOTE {
        return Err(Invalid::new(field, format!("Dài quá {MAX_NOTE} ký tự.")));
    }
    Ok(v)
}

/// Checks an optional free text.
pub fn optional_text(field: &str, value: &str) -> Result<String, Invalid> {
    let v = nfc(value);
    if char_len(&v) > MAX_NOTE {
        return Err(Invalid::new(field, format!("Dài quá {MAX_NOTE} ký tự.")));
    }
    Ok(v)
}

/// Checks a list of missing documents: at least one, each a required text.
pub fn missing_list(field: &str, items: &[String]) -> Result<Vec<String>, Invalid> {
    if items.is_empty() {
        return Err(Invalid::new(
            field,
            "Phải liệt kê đầy đủ, một lần, mọi giấy tờ cần bổ sung, hoàn thiện.",
        ));
    }
    if items.len() > MAX_MISSING {
        return Err(Invalid::new(field, format!("Nhiều quá {MAX_MISSING} mục.")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, s)| required_text(&format!("{field}[{i}]"), s))
        .collect()
}

/// Who acts, and for which agency, as [`authorize`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    /// The agency the actor acts for.
    pub agency: AgencyCode,
    /// The role they act in.
    pub role: Role,
}

/// Whether the holder of `access` (account `user`) may see the dossier: the applicant who
/// filed it, the centre's director and counter staff of the province, and the staff of
/// the departments responsible for or holding it.
pub fn can_view(d: &Dossier, access: &Access, user: Option<&str>) -> bool {
    if d.owner.is_some() && d.owner.as_deref() == user {
        return true;
    }
    access.can_see_agency_dossiers(&d.province, &d.responsible_agency)
        || access.can_see_agency_dossiers(&d.province, &d.current_agency)
        || access.can_see_agency_dossiers(&d.province, &d.receiving_agency)
}

/// Whether `action` can follow as the dossier stands, whoever asks: its status allows it,
/// and the agency holding it is the right one (only the responsible department forwards,
/// asks for a supplement or payment, apologises, stops or finishes; only another agency
/// hands back). [`apply`] checks the same and says why not; [`authorize`] checks who.
pub fn possible(d: &Dossier, action: Action, now: OffsetDateTime) -> bool {
    if !action.allowed_from().contains(&d.status) {
        return false;
    }
    let lead_holds = d.current_agency == d.responsible_agency;
    let waiting = CLOCK_PAUSED.contains(&d.status);
    let past_limit = waited_past_limit(d.status, d.wait_until, now);
    match action {
        Action::ForwardBack => !lead_holds,
        Action::ForwardOut
        | Action::RequestSupplement
        | Action::RequestPayment
        | Action::Apologise
        | Action::Finish => lead_holds,
        Action::RequestCompletion => !completion_requested(d),
        Action::Refuse => !waiting || (d.received_at.is_none() && past_limit),
        Action::Stop => lead_holds && (!waiting || (d.received_at.is_some() && past_limit)),
        _ => true,
    }
}

/// Whether the completion request at reception was already made: the rule is to list
/// everything missing at once, so it is made once; a dossier still incomplete after it
/// is refused (docs/rules.md §3).
pub fn completion_requested(d: &Dossier) -> bool {
    d.received_at.is_none() && d.notices.iter().any(|n| n.kind == NoticeKind::SupplementRequest)
}

/// Whether the role and the agency allow `action` on `d` by the holder of `access`
/// (account `user`). The status is checked by [`apply`].
pub fn authorize(d: &Dossier, action: Action, access: &Access, user: Option<&str>) -> Result<Acting, Refusal> {
    let province_agency = d.province.as_agency();
    for &role in action.allowed_roles() {
        let found = match role {
            Role::Citizen => (d.owner.is_some() && d.owner.as_deref() == user).then(|| d.receiving_agency.clone()),
            Role::CounterOfficer => access
                .grants()
                .iter()
                .find(|g| {
                    g.role == role
                        && g.province == d.province
                        && (g.agency == d.receiving_agency || &g.agency == province_agency)
                })
                .map(|_| d.receiving_agency.clone()),
            _ => access
                .grants()
                .iter()
                .find(|g| g.role == role && g.province == d.province && g.agency == d.current_agency)
                .map(|_| d.current_agency.clone()),
        };
        if let Some(agency) = found {
            return Ok(Acting { agency, role });
        }
    }
    let who = action
        .allowed_roles()
        .iter()
        .map(|r| match r {
            Role::Citizen => "người nộp hồ sơ".to_owned(),
            Role::CounterOfficer => format!("cán bộ tiếp nhận của {}", d.receiving_agency),
            other => format!("{} của {}", other.label().to_lowercase(), d.current_agency),
        })
        .collect::<Vec<_>>()
        .join(" hoặc ");
    Err(Refusal(format!(
        "Chỉ {who} mới được thực hiện «{}» với hồ sơ này.",
        action.label()
    )))
}

/// The circumstances of an action.
pub struct Context<'a> {
    /// When it happens.
    pub now: OffsetDateTime,
    /// The working-day calendar of the province.
    pub calendar: &'a Calendar,
    /// Limits on apologies.
    pub rules: DelayRules,
    /// Who acts.
    pub actor: Person,
    /// For which agency (from [`authorize`]).
    pub agency: AgencyCode,
}

/// A hand-over on the processing control sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    /// The agency that receives the dossier.
    pub to_agency: AgencyCode,
    /// The person who receives it, when known.
    pub to_person: Option<Person>,
    /// When the step that starts here is due.
    pub step_due: Option<OffsetDateTime>,
}

/// What an action did: the event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The action.
    pub action: Action,
    /// Status before.
    pub from: Status,
    /// Status after.
    pub to: Status,
    /// The hand-over it made, if any.
    pub handover: Option<Handover>,
    /// How the step that this hand-over ended finished against its budget.
    pub closed_step: Option<Timeliness>,
    /// What the actor wrote.
    pub note: String,
}

fn step_due(ctx: &Context<'_>, hours: Option<u32>, overall: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    let by_budget = hours.and_then(|h| ctx.calendar.add_working_hours(ctx.now, u64::from(h)).ok());
    match (by_budget, overall) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(message.into()))
}

/// Applies `input` to `d` (already authorised): checks the status and the action's own
/// rules, moves the clock, and returns the event to record. On a refusal `d` is unchanged.
pub fn apply(d: &mut Dossier, input: ActionInput, ctx: &Context<'_>) -> Result<Transition, Refusal> {
    let action = input.action();
    let from = d.status;
    let to = next_status(from, action, d.resume_status)?;
    let mut next = d.clone();
    let now = ctx.now;
    let mut handover = None;
    let mut note = String::new();
    let notice = |kind, reason: &str| Notice {
        kind,
        at: now,
        by: ctx.actor.clone(),
        reason: reason.to_owned(),
        missing: Vec::new(),
        amount: None,
        old_due: None,
        new_due: None,
    };
    let lead_holds = d.current_agency == d.responsible_agency;
    match input {
        ActionInput::Accept => {
            let due = ctx
                .calendar
                .add_working_minutes(now, d.statutory_minutes(ctx.calendar.minutes_per_working_day()))
                .map_err(|e| Refusal(e.to_string()))?;
            next.received_at = Some(now);
            next.due_at = Some(due);
            next.original_due_at = Some(due);
            next.step_due_at = step_due(ctx, d.budgets.counter, Some(due));
            handover = Some(Handover {
                to_agency: d.receiving_agency.clone(),
                to_person: Some(ctx.actor.clone()),
                step_due: next.step_due_at,
            });
        }
        ActionInput::Refuse { reason } => {
            if from == Status::SupplementRequested {
                check_wait_over(d, now, "từ chối tiếp nhận")?;
                if d.received_at.is_some() {
                    return refuse("Hồ sơ đã được tiếp nhận: hãy dừng giải quyết thay vì từ chối tiếp nhận.");
                }
                end_wait(&mut next, ctx);
            }
            next.notices.push(notice(NoticeKind::Refusal, &reason));
            next.finished_at = Some(now);
            note = reason;
        }
        ActionInput::RequestCompletion { missing, reason } => {
            if completion_requested(d) {
                return refuse(
                    "Đã yêu cầu bổ sung, hoàn thiện hồ sơ một lần; mọi nội dung cần bổ sung phải được nêu đầy đủ trong một lần. \
                     Nếu hồ sơ vẫn chưa đầy đủ, hãy từ chối tiếp nhận và nêu rõ lý do.",
                );
            }
            let mut n = notice(NoticeKind::SupplementRequest, &reason);
            n.missing = missing;
            next.notices.push(n);
            next.resume_status = Some(from);
            next.paused_at = Some(now);
            next.wait_until = wait_until(ctx)?;
            note = reason;
        }
        ActionInput::Transfer => {
            next.current_agency = d.responsible_agency.clone();
            next.assignee = None;
            next.step_due_at = step_due(ctx, d.budgets.leader, d.due_at);
            handover = Some(Handover {
                to_agency: d.responsible_agency.clone(),
                to_person: None,
                step_due: next.step_due_at,
            });
        }
        ActionInput::Assign { to } => {
            next.assignee = Some(to.clone());
            next.step_due_at = step_due(ctx, d.budgets.officer, d.due_at);
            handover = Some(Handover {
                to_agency: d.current_agency.clone(),
                to_person: Some(to),
                step_due: next.step_due_at,
            });
        }
        ActionInput::ForwardOut { agency, note: n } => {
            if !lead_holds {
                return refuse("Hồ sơ đang ở cơ quan phối hợp; chỉ cơ quan chủ trì mới chuyển tiếp được.");
            }
            if agency == d.current_agency {
                return refuse("Không thể chuyển hồ sơ cho chính cơ quan đang giữ hồ sơ.");
            }
            next.lead_assignee = d.assignee.clone();
            next.assignee = None;
            next.current_agency = agency.clone();
            next.step_due_at = step_due(ctx, d.budgets.other_agency, d.due_at);
            handover = Some(Handover {
                to_agency: agency,
                to_person: None,
                step_due: next.step_due_at,
            });
            note = n;
        }
        ActionInput::ForwardBack { note: n } => {
            if lead_holds {
                return refuse("Hồ sơ đang ở cơ quan chủ trì, không có gì để trả lại.");
            }
            next.current_agency = d.responsible_agency.clone();
            next.assignee = d.lead_assignee.clone();
            next.lead_assignee = None;
            let budget = if next.assignee.is_some() {
                d.budgets.officer
            } else {
                d.budgets.leader
            };
            next.step_due_at = step_due(ctx, budget, d.due_at);
            handover = Some(Handover {
                to_agency: d.responsible_agency.clone(),
                to_person: next.assignee.clone(),
                step_due: next.step_due_at,
            });
            note = n;
        }
        ActionInput::RequestSupplement { missing, reason } => {
            if !lead_holds {
                return refuse("Chỉ cơ quan chủ trì giải quyết mới được yêu cầu bổ sung hồ sơ.");
            }
            let mut n = notice(NoticeKind::SupplementRequest, &reason);
            n.missing = missing;
            next.notices.push(n);
            next.resume_status = Some(from);
            next.paused_at = Some(now);
            next.wait_until = wait_until(ctx)?;
            next.supplements += 1;
            note = reason;
        }
        ActionInput::ReceiveSupplement { files, note: n } => {
            resume_clock(&mut next, ctx)?;
            if !files.is_empty() {
                next.documents.push(ReceivedDocument {
                    index: SUPPLEMENT_INDEX,
                    name: "Hồ sơ bổ sung".to_owned(),
                    originals: 0,
                    copies: 0,
                    files,
                });
            }
            note = n;
        }
        ActionInput::RequestPayment { amount, note: n } => {
            if !lead_holds {
                return refuse("Chỉ cơ quan chủ trì giải quyết mới được yêu cầu thực hiện nghĩa vụ tài chính.");
            }
            if amount.0 == 0 || amount > Vnd::MAX {
                return refuse("Số tiền phải nộp phải lớn hơn 0.");
            }
            let mut notice = notice(NoticeKind::PaymentRequest, &n);
            notice.amount = Some(amount);
            next.notices.push(notice);
            next.payment_due = Some(amount);
            next.resume_status = Some(from);
            next.paused_at = Some(now);
            next.wait_until = wait_until(ctx)?;
            note = n;
        }
        ActionInput::ConfirmPayment { amount, reference } => {
            if Some(amount) != d.payment_due {
                return refuse(format!(
                    "Số tiền xác nhận ({amount}) khác số tiền phải nộp ({}).",
                    d.payment_due.unwrap_or_default()
                ));
            }
            resume_clock(&mut next, ctx)?;
            next.payment_due = None;
            next.payments.push((amount, reference.clone()));
            note = reference;
        }
        ActionInput::Apologise { reason, new_due } => {
            if !lead_holds {
                return refuse("Chỉ cơ quan chủ trì giải quyết mới được xin lỗi và hẹn lại ngày trả kết quả.");
            }
            let due = d
                .due_at
                .ok_or_else(|| Refusal("Hồ sơ chưa có ngày hẹn trả kết quả.".to_owned()))?;
            check_apology(ctx.calendar, ctx.rules, now, due, new_due, d.extensions)?;
            let mut n = notice(NoticeKind::Apology, &reason);
            n.old_due = Some(due);
            n.new_due = Some(new_due);
            next.notices.push(n);
            next.due_at = Some(new_due);
            next.extensions += 1;
            note = reason;
        }
        ActionInput::Withdraw { reason } => {
            next.notices.push(notice(NoticeKind::Withdrawal, &reason));
            next.finished_at = Some(now);
            end_wait(&mut next, ctx);
            note = reason;
        }
        ActionInput::Stop { legal_ground, reason } => {
            if !lead_holds {
                return refuse("Chỉ cơ quan chủ trì giải quyết mới được dừng giải quyết hồ sơ.");
            }
            if CLOCK_PAUSED.contains(&from) {
                if d.received_at.is_none() {
                    return refuse("Hồ sơ chưa được tiếp nhận: hãy từ chối tiếp nhận thay vì dừng giải quyết.");
                }
                check_wait_over(d, now, "dừng giải quyết")?;
                end_wait(&mut next, ctx);
            }
            let mut n = notice(NoticeKind::StopNotice, &legal_ground);
            n.missing = if reason.is_empty() { Vec::new() } else { vec![reason] };
            next.notices.push(n);
            next.finished_at = Some(now);
            note = legal_ground;
        }
        ActionInput::Finish { result_files, note: n } => {
            if !lead_holds {
                return refuse("Hồ sơ đang ở cơ quan phối hợp; cơ quan phối hợp phải trả lại trước khi phê duyệt.");
            }
            if result_files.is_empty() {
                return refuse("Phải đính kèm ít nhất một văn bản kết quả giải quyết.");
            }
            next.result_files = result_files;
            next.finished_at = Some(now);
            next.current_agency = d.receiving_agency.clone();
            next.assignee = None;
            next.step_due_at = step_due(ctx, d.budgets.counter, None).or(d.due_at);
            handover = Some(Handover {
                to_agency: d.receiving_agency.clone(),
                to_person: None,
                step_due: next.step_due_at,
            });
            note = n;
        }
        ActionInput::Return {
            method,
            tracking_number,
        } => {
            if method == Delivery::Post && tracking_number.trim().is_empty() {
                return refuse("Trả kết quả qua bưu chính phải có số hiệu bưu gửi.");
            }
            next.returned_at = Some(now);
            next.handed = Some(Handed {
                method,
                tracking_number: tracking_number.trim().to_owned(),
            });
            next.step_due_at = None;
            note = tracking_number;
        }
    }
    // A hand-over (or the return to the applicant) ends the step that was running; the
    // reception step starts with the acceptance, so nothing ended there.
    let closed_step = if (handover.is_some() && action != Action::Accept) || action == Action::Return {
        d.step_due_at.map(|due| Timeliness::judge(now, due))
    } else {
        None
    };
    if !crate::deadline::CLOCK_PAUSED.contains(&to) {
        next.resume_status = None;
    }
    next.status = to;
    next.version += 1;
    // Who handled it: the responsible department's officer holding it before or after
    // this step (finishing clears the assignee; the handler stays).
    let handler = [&next, &*d]
        .into_iter()
        .find(|h| h.current_agency == h.responsible_agency && h.assignee.is_some())
        .and_then(|h| h.assignee.clone());
    if handler.is_some() {
        next.handled_by = handler;
    }
    if d.finished_at.is_none()
        && let (Some(received), Some(finished)) = (next.received_at, next.finished_at)
    {
        let worked = ctx.calendar.working_minutes_between(received, finished);
        next.working_minutes = Some(worked.saturating_sub(next.paused_minutes));
    }
    *d = next;
    Ok(Transition {
        action,
        from,
        to,
        handover,
        closed_step,
        note,
    })
}

/// When the applicant's time to answer a request made now runs out.
fn wait_until(ctx: &Context<'_>) -> Result<Option<OffsetDateTime>, Refusal> {
    crate::deadline::wait_limit(ctx.calendar, ctx.now, ctx.rules.max_wait_working_days)
        .map_err(|e| Refusal(e.to_string()))
}

/// Refuses to end a wait (by `what`) before the time given to the applicant has run out.
fn check_wait_over(d: &Dossier, now: OffsetDateTime, what: &str) -> Result<(), Refusal> {
    if waited_past_limit(d.status, d.wait_until, now) {
        return Ok(());
    }
    Err(Refusal(match d.wait_until {
        Some(until) => format!(
            "Người nộp còn thời hạn bổ sung hoặc thực hiện nghĩa vụ tài chính đến {}; chỉ được {what} khi đã quá thời hạn này mà không nhận được.",
            crate::calendar::vn_datetime(until)
        ),
        None => format!("Hồ sơ đang chờ người nộp mà không có thời hạn; không thể {what} khi người nộp chưa quá hạn."),
    }))
}

/// Ends a wait without resuming (withdrawn, stopped or refused while waiting): the time
/// waited after acceptance counts as paused, as on resuming.
fn end_wait(d: &mut Dossier, ctx: &Context<'_>) {
    if let Some(paused) = d.paused_at.take()
        && d.received_at.is_some()
    {
        d.paused_minutes += ctx.calendar.working_minutes_between(paused, ctx.now);
    }
    d.wait_until = None;
}

/// Restarts the clock after a supplement or payment: the appointment and the current
/// step's due instant move by exactly the working time it stood still.
fn resume_clock(d: &mut Dossier, ctx: &Context<'_>) -> Result<(), Refusal> {
    d.wait_until = None;
    let Some(paused) = d.paused_at.take() else {
        return Ok(());
    };
    let calendar = ctx.calendar;
    // Only a pause after acceptance stops the statutory clock; a completion request at
    // reception comes before the clock starts, so it takes nothing off the handling time.
    if d.received_at.is_some() {
        d.paused_minutes += calendar.working_minutes_between(paused, ctx.now);
    }
    let moved = |t: Option<OffsetDateTime>| -> Result<Option<OffsetDateTime>, Refusal> {
        t.map(|t| resume_appointment(calendar, t, paused, ctx.now).map_err(|e| Refusal(e.to_string())))
            .transpose()
    };
    d.due_at = moved(d.due_at)?;
    d.step_due_at = moved(d.step_due_at)?;
    Ok(())
}

/// A tracking secret: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L),
/// about 40 bits, drawn from `random` (the caller supplies OS randomness).
pub fn tracking_secret(random: [u8; 8]) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}
