//! The catalogue of a province: agencies, fields and versioned procedures (docs/rules.md §2).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use crate::money::Vnd;
use crate::text::{char_len, nfc};

/// A rule a catalogue entry broke, naming the field so forms and the API can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// Path of the offending field, e.g. `documents[2].name`.
    pub field: String,
    /// What is wrong, in Vietnamese, for the person who entered it.
    pub message: String,
}

impl Invalid {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Longest name accepted for any catalogue entry.
pub const MAX_NAME: usize = 500;
/// Longest free text (descriptions, conditions) accepted.
pub const MAX_TEXT: usize = 10_000;
/// Most list items (documents, fees, steps…) in one procedure.
pub const MAX_ITEMS: usize = 100;

/// The most communes a commune-level procedure may list (a province has a few hundred at most).
pub const MAX_COMMUNES: usize = 1000;

fn check_text(field: &str, value: &str, max: usize, required: bool) -> Result<(), Invalid> {
    if required && value.trim().is_empty() {
        return Err(Invalid::new(field, "không được để trống"));
    }
    if char_len(value) > max {
        return Err(Invalid::new(field, format!("dài quá {max} ký tự")));
    }
    Ok(())
}

/// A link shown to the public (a form to download): empty, a path on this server
/// (`/bieu-mau/…`), or an absolute `http(s)` address with a host and no credentials.
/// Anything else (`javascript:`, `data:`, `file:`, `//elsewhere`) is refused: the pages put
/// it in an `href`.
fn check_link(field: &str, value: &str) -> Result<(), Invalid> {
    if value.is_empty() {
        return Ok(());
    }
    let refused = || {
        Invalid::new(
            field,
            "phải là địa chỉ http:// hoặc https:// (hoặc đường dẫn bắt đầu bằng /), không chứa khoảng trắng",
        )
    };
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refused());
    }
    if value.starts_with('/') {
        return if value.starts_with("//") || value.starts_with("/\\") {
            Err(refused())
        } else {
            Ok(())
        };
    }
    let parsed = url::Url::parse(value).map_err(|_| refused())?;
    let web = matches!(parsed.scheme(), "http" | "https");
    if web
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none()
    {
        Ok(())
    } else {
        Err(refused())
    }
}

fn check_len<T>(field: &str, items: &[T]) -> Result<(), Invalid> {
    if items.len() > MAX_ITEMS {
        return Err(Invalid::new(field, format!("nhiều quá {MAX_ITEMS} mục")));
    }
    Ok(())
}

/// A province held by the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Province {
    /// People's Committee code, `000.00.00.Hxx`.
    pub code: ProvinceCode,
    /// Name, e.g. `Ninh Thuận`.
    pub name: String,
}

/// Catalogue counts of a province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = SummaryResponse))]
pub struct CatalogueSummary {
    /// Province code.
    pub province: String,
    /// Province name.
    pub name: String,
    /// Departments (Sở, ban, ngành).
    pub departments: i64,
    /// Agencies of every kind.
    pub agencies: i64,
    /// Fields.
    pub fields: i64,
    /// Procedures.
    pub procedures: i64,
    /// Procedures received at the centre.
    pub at_centre: i64,
    /// Fully online procedures.
    pub online_full: i64,
    /// Partly online procedures.
    pub online_partial: i64,
}

/// What an agency is in the one-stop organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgencyKind {
    /// The province's People's Committee, root of the tree.
    Province,
    /// The provincial Public Administrative Service Centre.
    Centre,
    /// A department (Sở, ban, ngành).
    Department,
    /// A commune-level one-stop centre (the Public Administrative Service Centre of a xã,
    /// phường or đặc khu); its parent is the [`AgencyKind::Commune`] it serves.
    CommuneCentre,
    /// The People's Committee of a xã, phường or đặc khu: the competent body for
    /// commune-level procedures (docs/map-2025.md §2.1). Its parent is the province.
    Commune,
    /// Any other agency (e.g. a unit that takes part in inter-agency procedures).
    Other,
}

impl AgencyKind {
    /// Whether agencies of this kind receive dossiers for others: the provincial centre,
    /// its branches, the commune centres.
    pub fn is_centre(self) -> bool {
        matches!(self, AgencyKind::Centre | AgencyKind::CommuneCentre)
    }

    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Centre => "centre",
            Self::Department => "department",
            Self::CommuneCentre => "commune_centre",
            Self::Commune => "commune",
            Self::Other => "other",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "province" => Self::Province,
            "centre" => Self::Centre,
            "department" => Self::Department,
            "commune_centre" => Self::CommuneCentre,
            "commune" => Self::Commune,
            "other" => Self::Other,
            _ => return None,
        })
    }
}

/// An agency (cơ quan) of a province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agency {
    /// QCVN 102 code.
    pub code: AgencyCode,
    /// Full name, e.g. `Sở Xây dựng`.
    pub name: String,
    /// Role in the one-stop organisation.
    pub kind: AgencyKind,
    /// Parent in the tree; `None` only for the province itself.
    #[serde(default)]
    pub parent: Option<AgencyCode>,
    /// Postal address.
    #[serde(default)]
    pub address: String,
    /// Public phone number.
    #[serde(default)]
    pub phone: String,
    /// Public email address.
    #[serde(default)]
    pub email: String,
    /// The 5-digit national code of a [`AgencyKind::Commune`] (mã đơn vị hành chính,
    /// Decision 19/2025/QĐ-TTg, e.g. `22366` for phường Nha Trang); empty for the others.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub admin_code: String,
    /// When the agency was merged or dissolved. A retired agency is never deleted
    /// (dossiers, statistics and audit records name it) but receives nothing and issues no
    /// dossier code. Set only by retiring it (`store::catalogue::retire_agency`), never by
    /// an edit.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub retired_at: Option<OffsetDateTime>,
    /// The agency that took over from a retired one (a merger); its old code resolves to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<AgencyCode>,
}

impl Agency {
    /// Whether the agency still works (not merged or dissolved).
    pub fn is_active(&self) -> bool {
        self.retired_at.is_none()
    }

    /// Normalises text to NFC and checks lengths, the national code and the rules of the
    /// tree this agency can check alone (the rules that need its parent are
    /// [`Agency::check_parent`]).
    pub fn normalize(&mut self) -> Result<(), Invalid> {
        self.name = nfc(&self.name);
        self.address = nfc(&self.address);
        self.phone = nfc(&self.phone);
        self.email = nfc(&self.email);
        self.admin_code = self.admin_code.trim().to_owned();
        check_text("name", &self.name, MAX_NAME, true)?;
        check_text("address", &self.address, MAX_NAME, false)?;
        check_text("phone", &self.phone, 40, false)?;
        check_text("email", &self.email, 254, false)?;
        match (&self.parent, self.kind) {
            (None, kind) if kind != AgencyKind::Province => {
                return Err(Invalid::new("parent", "chỉ UBND tỉnh được không có cơ quan cấp trên"));
            }
            (Some(_), AgencyKind::Province) => {
                return Err(Invalid::new(
                    "parent",
                    "UBND tỉnh là gốc của cây cơ quan, không có cấp trên",
                ));
            }
            (Some(parent), AgencyKind::Commune) if parent != self.code.province().as_agency() => {
                return Err(Invalid::new("parent", "UBND xã, phường, đặc khu trực thuộc UBND tỉnh"));
            }
            _ => {}
        }
        if !self.admin_code.is_empty() {
            if self.kind != AgencyKind::Commune {
                return Err(Invalid::new(
                    "admin_code",
                    "chỉ UBND xã, phường, đặc khu có mã đơn vị hành chính",
                ));
            }
            if self.admin_code.len() != 5 || !self.admin_code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Invalid::new("admin_code", "mã đơn vị hành chính gồm đúng 5 chữ số"));
            }
        }
        if self.successor.is_some() && self.retired_at.is_none() {
            return Err(Invalid::new(
                "successor",
                "chỉ cơ quan đã ngừng hoạt động mới có cơ quan kế thừa",
            ));
        }
        if self.successor.as_ref() == Some(&self.code) {
            return Err(Invalid::new("successor", "cơ quan không thể kế thừa chính nó"));
        }
        Ok(())
    }

    /// The rules of the tree between this agency and its parent (docs/map-2025.md §2.1):
    /// a commune centre belongs to a commune's People's Committee, a commune to the
    /// province, a centre (or a branch of it) to the province or to a centre. Other kinds
    /// may hang anywhere.
    pub fn check_parent(&self, parent: &Agency) -> Result<(), Invalid> {
        let allowed = match self.kind {
            AgencyKind::CommuneCentre => parent.kind == AgencyKind::Commune,
            AgencyKind::Commune => parent.kind == AgencyKind::Province,
            AgencyKind::Centre => matches!(parent.kind, AgencyKind::Province | AgencyKind::Centre),
            AgencyKind::Province | AgencyKind::Department | AgencyKind::Other => true,
        };
        if allowed {
            return Ok(());
        }
        let rule = match self.kind {
            AgencyKind::CommuneCentre => "Trung tâm cấp xã phải trực thuộc UBND xã, phường, đặc khu",
            AgencyKind::Commune => "UBND xã, phường, đặc khu phải trực thuộc UBND tỉnh",
            _ => "Trung tâm Phục vụ hành chính công phải trực thuộc UBND tỉnh hoặc Trung tâm cấp tỉnh",
        };
        Err(Invalid::new(
            "parent",
            format!("{rule} ({} là {})", parent.code, parent.name),
        ))
    }
}

/// An old agency code that resolves to a current agency: kept when an agency is merged
/// into another (docs/map-2025.md §2.2), so requests, bookmarks and imports that name the
/// old code still find the agency that took over. One hop: chains are flattened when an
/// alias is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyAlias {
    /// The code that no longer names a working agency.
    pub old_code: AgencyCode,
    /// The agency it resolves to.
    pub code: AgencyCode,
    /// When the alias was made.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A field (lĩnh vực): the sector grouping of procedures of an agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Field {
    /// Code, unique within the province.
    pub code: FieldCode,
    /// Name, e.g. `Hoạt động xây dựng`.
    pub name: String,
    /// The agency whose procedures the field groups.
    pub agency: AgencyCode,
}

impl Field {
    /// Normalises text to NFC and checks lengths.
    pub fn normalize(&mut self) -> Result<(), Invalid> {
        self.name = nfc(&self.name);
        check_text("name", &self.name, MAX_NAME, true)
    }
}

/// Administrative level a procedure is resolved at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Level {
    /// Provincial level.
    Province,
    /// Commune level.
    Commune,
}

impl Level {
    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Commune => "commune",
        }
    }
}

/// Where a procedure may be received (docs/map-2025.md §3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Receivable {
    /// Only at the competent level: the competent department, the provincial centre and
    /// its branches, or the competent commune's centre (what every procedure was before).
    #[default]
    Competent,
    /// At any working centre of the province, whatever the applicant's address ("không
    /// phụ thuộc địa giới hành chính").
    Anywhere,
}

impl Receivable {
    /// Whether only the competent level receives it (the default).
    pub fn is_competent(&self) -> bool {
        *self == Self::Competent
    }

    /// Stable text stored in the database (`procedures.receivable`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Competent => "competent",
            Self::Anywhere => "anywhere",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "competent" => Some(Self::Competent),
            "anywhere" => Some(Self::Anywhere),
            _ => None,
        }
    }
}

/// Unit of a processing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TimeUnit {
    /// Working days: whole working days of the centre's calendar (8 working hours with the
    /// usual sessions; the catalogue's nominal hours count 8 a day).
    WorkingDays,
    /// Working hours.
    WorkingHours,
}

/// Working hours in one working day.
pub const HOURS_PER_DAY: u32 = 8;

/// How a processing time reads: `15 ngày làm việc`, or `4 giờ làm việc` when it is not a
/// whole number of working days.
pub fn working_time(hours: u32) -> String {
    if hours.is_multiple_of(HOURS_PER_DAY) {
        format!("{} ngày làm việc", hours / HOURS_PER_DAY)
    } else {
        format!("{hours} giờ làm việc")
    }
}

/// Statutory processing time (thời hạn giải quyết).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessingTime {
    /// How many units.
    pub amount: u32,
    /// Days or hours.
    pub unit: TimeUnit,
}

impl ProcessingTime {
    /// A time in working days.
    pub const fn days(amount: u32) -> Self {
        Self {
            amount,
            unit: TimeUnit::WorkingDays,
        }
    }

    /// A time in working hours.
    pub const fn hours(amount: u32) -> Self {
        Self {
            amount,
            unit: TimeUnit::WorkingHours,
        }
    }

    /// Total working hours.
    pub fn working_hours(self) -> u32 {
        match self.unit {
            TimeUnit::WorkingDays => self.amount.saturating_mul(HOURS_PER_DAY),
            TimeUnit::WorkingHours => self.amount,
        }
    }

    /// Working minutes on a calendar whose working day lasts `minutes_per_day` (its
    /// sessions, [`crate::calendar::Calendar::minutes_per_working_day`]): a time in days is
    /// that many of the calendar's working days, whatever their length; a time in hours is
    /// 60 minutes an hour (docs/rules.md §4).
    pub fn working_minutes(self, minutes_per_day: u32) -> u64 {
        match self.unit {
            TimeUnit::WorkingDays => u64::from(self.amount) * u64::from(minutes_per_day),
            TimeUnit::WorkingHours => u64::from(self.amount) * 60,
        }
    }

    /// How it reads, as given: `15 ngày làm việc`, `4 giờ làm việc`.
    pub fn label(self) -> String {
        match self.unit {
            TimeUnit::WorkingDays => format!("{} ngày làm việc", self.amount),
            TimeUnit::WorkingHours => working_time(self.amount),
        }
    }

    /// Working days, fractional when given in hours (4 hours = 0.5).
    pub fn working_days(self) -> f64 {
        f64::from(self.working_hours()) / f64::from(HOURS_PER_DAY)
    }
}

/// Online service mode, current scale (Decree 42/2022 art. 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OnlineMode {
    /// Toàn trình: the whole process online, result online or by post.
    Full,
    /// Một phần: anything less.
    Partial,
}

impl OnlineMode {
    /// Stable text stored in the database and used in `?online=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Partial => "partial",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(Self::Full),
            "partial" => Some(Self::Partial),
            _ => None,
        }
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "Toàn trình",
            Self::Partial => "Một phần",
        }
    }
}

/// A downloadable form template attached to a required document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormTemplate {
    /// Form name or number, e.g. `Mẫu số 01/BXD`.
    pub name: String,
    /// Where the template can be downloaded.
    #[serde(default)]
    pub url: String,
}

/// One document of the dossier (thành phần hồ sơ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentRequirement {
    /// What the document is.
    pub name: String,
    /// Number of originals (bản chính) required.
    pub originals: u16,
    /// Number of copies (bản sao) required.
    pub copies: u16,
    /// Whether the dossier is incomplete without it.
    pub required: bool,
    /// Form template, if the document is filled on a prescribed form.
    #[serde(default)]
    pub form: Option<FormTemplate>,
    /// Extra guidance (e.g. which case it applies to).
    #[serde(default)]
    pub note: String,
}

/// Whether an amount is a fee (phí) or a charge (lệ phí).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FeeKind {
    /// Phí: pays for a service.
    Fee,
    /// Lệ phí: a state charge.
    Charge,
}

/// One fee item of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeeItem {
    /// Fee or charge.
    pub kind: FeeKind,
    /// Name, e.g. `Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ`.
    pub name: String,
    /// Amount in VND.
    pub amount: Vnd,
    /// The choice this amount applies to, when the amount depends on one
    /// (e.g. `Cấp mới` vs `Cấp lại`); `None` when it always applies.
    #[serde(default)]
    pub option: Option<String>,
}

/// Who may file the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ApplicantKind {
    /// A person (công dân).
    Citizen,
    /// An organisation or business (tổ chức, doanh nghiệp).
    Organisation,
}

/// Who performs a processing step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepRole {
    /// The counter at the centre (reception, hand-over, return).
    Counter,
    /// A department officer (examination).
    Officer,
    /// A department leader (approval, signature).
    Leader,
    /// Another agency taking part in an inter-agency procedure.
    OtherAgency,
}

/// One step of the processing workflow with its time budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessingStep {
    /// What is done, e.g. `Thẩm định hồ sơ`.
    pub name: String,
    /// Who does it.
    pub role: StepRole,
    /// The agency doing it; `None` means the procedure's responsible agency.
    #[serde(default)]
    pub agency: Option<AgencyCode>,
    /// Time budget in working hours.
    pub budget_hours: u32,
}

/// Everything a procedure says in one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcedureContent {
    /// Name, e.g. `Cấp giấy phép xây dựng nhà ở riêng lẻ`.
    pub name: String,
    /// The field it belongs to.
    pub field: FieldCode,
    /// The agency responsible for resolving it.
    pub agency: AgencyCode,
    /// Province or commune level.
    pub level: Level,
    /// Statutory processing time.
    pub processing_time: ProcessingTime,
    /// Required documents.
    pub documents: Vec<DocumentRequirement>,
    /// Number of sets of documents to submit.
    pub sets: u16,
    /// Fees and charges.
    pub fees: Vec<FeeItem>,
    /// Result documents (kết quả).
    pub results: Vec<String>,
    /// Legal basis (căn cứ pháp lý).
    pub legal_basis: Vec<String>,
    /// Who may apply.
    pub applicants: Vec<ApplicantKind>,
    /// Online mode on the current scale.
    pub online_mode: OnlineMode,
    /// Online level on the old scale (1–4, Decree 43/2011).
    pub service_level: u8,
    /// Whether the centre receives it (some are received only at the department).
    pub at_centre: bool,
    /// Where it may be received: at the competent level only (the default), or at any
    /// working centre of the province ("không phụ thuộc địa giới hành chính").
    #[serde(default, skip_serializing_if = "Receivable::is_competent")]
    pub receivable: Receivable,
    /// For a commune-level procedure, the communes (`commune` agencies) where it applies;
    /// empty means every commune of the province. One entry serves them all: the
    /// competent commune is chosen per dossier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communes: Vec<AgencyCode>,
    /// Processing steps with time budgets.
    pub steps: Vec<ProcessingStep>,
    /// How to carry it out (trình tự thực hiện).
    #[serde(default)]
    pub description: String,
    /// Conditions to meet (yêu cầu, điều kiện).
    #[serde(default)]
    pub conditions: String,
}

impl ProcedureContent {
    /// Whether applicants may file this procedure online (service level 3 or 4, or a
    /// fully online mode).
    pub fn accepts_online_filing(&self) -> bool {
        self.service_level >= 3 || self.online_mode == OnlineMode::Full
    }

    /// What decides where this procedure may be received ([`crate::map::receipt_places`]).
    pub fn receipt_rule(&self) -> crate::map::ReceiptRule {
        crate::map::ReceiptRule {
            level: self.level,
            at_centre: self.at_centre,
            receivable: self.receivable,
        }
    }

    /// Whether commune `commune` is one where this commune-level procedure applies
    /// (every commune when the list is empty). Always false for a province-level one.
    pub fn applies_in(&self, commune: &AgencyCode) -> bool {
        self.level == Level::Commune && (self.communes.is_empty() || self.communes.contains(commune))
    }

    /// Normalises every text to NFC and checks the procedure's own rules.
    /// Cross-references (agency, field) are checked by the store against the catalogue.
    pub fn normalize(&mut self) -> Result<(), Invalid> {
        self.name = nfc(&self.name);
        check_text("name", &self.name, MAX_NAME, true)?;
        self.description = nfc(&self.description);
        check_text("description", &self.description, MAX_TEXT, false)?;
        self.conditions = nfc(&self.conditions);
        check_text("conditions", &self.conditions, MAX_TEXT, false)?;
        if self.processing_time.amount == 0 {
            return Err(Invalid::new("processing_time.amount", "phải lớn hơn 0"));
        }
        if self.processing_time.working_hours() > 365 * HOURS_PER_DAY {
            return Err(Invalid::new("processing_time.amount", "quá một năm làm việc"));
        }
        if !(1..=4).contains(&self.service_level) {
            return Err(Invalid::new("service_level", "mức độ phải từ 1 đến 4"));
        }
        if self.online_mode == OnlineMode::Full && self.service_level < 4 {
            return Err(Invalid::new(
                "online_mode",
                "dịch vụ toàn trình phải có mức độ 4 (thanh toán và trả kết quả trực tuyến)",
            ));
        }
        if self.sets == 0 || self.sets > 20 {
            return Err(Invalid::new("sets", "số bộ hồ sơ phải từ 1 đến 20"));
        }
        check_len("documents", &self.documents)?;
        for (i, d) in self.documents.iter_mut().enumerate() {
            d.name = nfc(&d.name);
            d.note = nfc(&d.note);
            check_text(&format!("documents[{i}].name"), &d.name, MAX_NAME, true)?;
            check_text(&format!("documents[{i}].note"), &d.note, MAX_NAME, false)?;
            if d.originals + d.copies == 0 {
                return Err(Invalid::new(
                    format!("documents[{i}]"),
                    "phải yêu cầu ít nhất một bản chính hoặc bản sao",
                ));
            }
            if let Some(form) = &mut d.form {
                form.name = nfc(&form.name);
                form.url = nfc(&form.url);
                check_text(&format!("documents[{i}].form.name"), &form.name, MAX_NAME, true)?;
                check_text(&format!("documents[{i}].form.url"), &form.url, 2000, false)?;
                check_link(&format!("documents[{i}].form.url"), &form.url)?;
            }
        }
        check_len("fees", &self.fees)?;
        for (i, f) in self.fees.iter_mut().enumerate() {
            f.name = nfc(&f.name);
            check_text(&format!("fees[{i}].name"), &f.name, MAX_NAME, true)?;
            if let Some(option) = &mut f.option {
                *option = nfc(option);
                check_text(&format!("fees[{i}].option"), option, MAX_NAME, true)?;
            }
            if f.amount > Vnd::MAX {
                return Err(Invalid::new(format!("fees[{i}].amount"), "số tiền quá lớn"));
            }
        }
        for (name, list) in [("results", &mut self.results), ("legal_basis", &mut self.legal_basis)] {
            check_len(name, list)?;
            for (i, s) in list.iter_mut().enumerate() {
                *s = nfc(s);
                check_text(&format!("{name}[{i}]"), s, MAX_NAME, true)?;
            }
        }
        if self.applicants.is_empty() {
            return Err(Invalid::new("applicants", "phải có ít nhất một đối tượng thực hiện"));
        }
        if !self.communes.is_empty() && self.level != Level::Commune {
            return Err(Invalid::new(
                "communes",
                "chỉ thủ tục cấp xã mới có danh sách xã, phường áp dụng",
            ));
        }
        if self.communes.len() > MAX_COMMUNES {
            return Err(Invalid::new("communes", format!("tối đa {MAX_COMMUNES} xã, phường")));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in self.communes.iter().enumerate() {
            if !seen.insert(c) {
                return Err(Invalid::new(format!("communes[{i}]"), format!("{c} có hai lần")));
            }
        }
        check_len("steps", &self.steps)?;
        let mut budget: u32 = 0;
        for (i, s) in self.steps.iter_mut().enumerate() {
            s.name = nfc(&s.name);
            check_text(&format!("steps[{i}].name"), &s.name, MAX_NAME, true)?;
            budget = budget.saturating_add(s.budget_hours);
        }
        if budget > self.processing_time.working_hours() {
            return Err(Invalid::new(
                "steps",
                format!(
                    "tổng thời gian các bước ({budget} giờ) vượt thời hạn giải quyết ({} giờ)",
                    self.processing_time.working_hours()
                ),
            ));
        }
        Ok(())
    }
}

/// One immutable version of a procedure. Dossiers keep the version they were filed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcedureVersion {
    /// 1 for the first version, then consecutive.
    pub version: u32,
    /// When the version was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Why it was changed.
    #[serde(default)]
    pub note: String,
    /// The procedure as it stood in this version.
    pub content: ProcedureContent,
}

/// A procedure with its whole version history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcedureRecord {
    /// Procedure code, unique within the province.
    pub code: ProcedureCode,
    /// Every version, oldest first.
    pub versions: Vec<ProcedureVersion>,
}

/// The whole catalogue of one province: the unit of import and export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProvinceCatalogue {
    /// The province.
    pub province: Province,
    /// Its agencies, parents before children.
    pub agencies: Vec<Agency>,
    /// Old agency codes and the agencies they resolve to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<AgencyAlias>,
    /// Its fields.
    pub fields: Vec<Field>,
    /// Its procedures with their histories, ordered by code.
    pub procedures: Vec<ProcedureRecord>,
}

/// Name of the JSON export format, written in every file.
pub const EXPORT_FORMAT: &str = "motcua-catalogue";
/// Version of the JSON export format.
pub const EXPORT_VERSION: u32 = 1;

/// A catalogue file: one or more provinces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// Always [`EXPORT_VERSION`] for files this version writes.
    pub format_version: u32,
    /// The provinces.
    pub provinces: Vec<ProvinceCatalogue>,
}

impl CatalogueFile {
    /// Wraps catalogues in the current format.
    pub fn new(provinces: Vec<ProvinceCatalogue>) -> Self {
        Self {
            format: EXPORT_FORMAT.to_owned(),
            format_version: EXPORT_VERSION,
            provinces,
        }
    }

    /// Checks the header before anything is imported.
    pub fn check_header(&self) -> Result<(), Invalid> {
        if self.format != EXPORT_FORMAT {
            return Err(Invalid::new(
                "format",
                format!("không phải tệp danh mục motcua ({EXPORT_FORMAT})"),
            ));
        }
        if self.format_version != EXPORT_VERSION {
            return Err(Invalid::new(
                "format_version",
                format!(
                    "phiên bản định dạng {} không được hỗ trợ (hỗ trợ {EXPORT_VERSION})",
                    self.format_version
                ),
            ));
        }
        Ok(())
    }
}

impl Level {
    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "province" => Some(Self::Province),
            "commune" => Some(Self::Commune),
            _ => None,
        }
    }
}

/// The listing view of a procedure's current version: what search results and lists show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcedureSummary {
    /// Procedure code.
    pub code: ProcedureCode,
    /// Name.
    pub name: String,
    /// Responsible agency.
    pub agency_code: AgencyCode,
    /// Field.
    pub field_code: FieldCode,
    /// Province or commune level.
    pub level: Level,
    /// Statutory processing time in working days (fractional when set in hours).
    pub processing_days: f64,
    /// Statutory processing time in working hours.
    pub processing_hours: u32,
    /// Whether the centre receives it.
    pub at_centre: bool,
    /// Where it may be received: at the competent level only, or anywhere in the province.
    pub receivable: Receivable,
    /// Online mode (current scale).
    pub online_mode: OnlineMode,
    /// Online level (old scale, 1–4).
    pub service_level: u8,
    /// Fee items.
    pub fees: Vec<FeeItem>,
    /// Current version number.
    pub version: u32,
}

impl ProcedureSummary {
    /// The summary of one version's content.
    /// Where it may be received, as [`ProcedureContent::receipt_rule`] says.
    pub fn receipt_rule(&self) -> crate::map::ReceiptRule {
        crate::map::ReceiptRule {
            level: self.level,
            at_centre: self.at_centre,
            receivable: self.receivable,
        }
    }

    pub fn of(code: ProcedureCode, version: u32, c: &ProcedureContent) -> Self {
        let hours = c.processing_time.working_hours();
        Self {
            code,
            name: c.name.clone(),
            agency_code: c.agency.clone(),
            field_code: c.field.clone(),
            level: c.level,
            processing_days: c.processing_time.working_days(),
            processing_hours: hours,
            at_centre: c.at_centre,
            receivable: c.receivable,
            online_mode: c.online_mode,
            service_level: c.service_level,
            fees: c.fees.clone(),
            version,
        }
    }
}

/// Whether a department may finish a dossier of a procedure with a result that carries no
/// valid digital signature (issue 22): a setting of the procedure (not of one of its
/// versions), kept by the catalogue administrator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResultSignature {
    /// Any result file will do (motcua still signs PDFs when the agency has a key).
    #[default]
    Optional,
    /// Every result file must be a PDF with a valid signature, or one motcua signs at finish.
    Required,
}

impl ResultSignature {
    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Optional => "optional",
            Self::Required => "required",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "optional" => Some(Self::Optional),
            "required" => Some(Self::Required),
            _ => None,
        }
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Optional => "Không bắt buộc",
            Self::Required => "Bắt buộc kết quả có chữ ký số hợp lệ",
        }
    }

    /// Whether `file` may be a result of a finish under this setting; `signed_at_finish`
    /// says whether motcua will sign it with the agency's key once the finish commits. The
    /// rule (docs/operations.md, "Results that must be signed"): under `required` a result
    /// is a PDF; none of its signatures is altered, invalid or revoked (motcua never puts
    /// the agency's signature over a broken one); and it is signed at finish, or one of its
    /// signatures is intact, covers the whole file and chains to a trust anchor.
    pub fn check(self, file: &ResultFile, signed_at_finish: bool) -> Result<(), UnsignedResult> {
        if self == Self::Optional {
            return Ok(());
        }
        let signatures = match file {
            ResultFile::NotPdf => return Err(UnsignedResult::NotPdf),
            ResultFile::Pdf(signatures) => signatures,
        };
        if signatures.iter().any(|s| s.invalid) {
            return Err(UnsignedResult::Invalid);
        }
        if signatures.iter().any(|s| s.revoked) {
            return Err(UnsignedResult::Revoked);
        }
        if signatures.iter().any(|s| !s.intact) {
            return Err(UnsignedResult::Altered);
        }
        if signed_at_finish || signatures.iter().any(|s| s.covers_whole_file && s.trusted) {
            return Ok(());
        }
        Err(if signatures.is_empty() {
            UnsignedResult::NoSignature
        } else if signatures.iter().any(|s| s.trusted) {
            UnsignedResult::ChangedAfterSigning
        } else {
            UnsignedResult::UnknownIssuer
        })
    }
}

/// What the signature verifier found about one signature of a result file: the facts the
/// rule of [`ResultSignature::check`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureFacts {
    /// The signed bytes match the signature, which verifies under the signer's certificate.
    pub intact: bool,
    /// The signed range is the whole file but the signature's own hole.
    pub covers_whole_file: bool,
    /// The signer's certificate chains to a configured trust anchor.
    pub trusted: bool,
    /// The verifier refused it for a reason of its own (a certificate not valid at the
    /// signing time, an unknown algorithm, a malformed signature).
    pub invalid: bool,
    /// A certificate of its chain is revoked (OCSP or CRL said so).
    pub revoked: bool,
}

/// A result file as [`ResultSignature::check`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultFile {
    /// Not a PDF: it cannot carry a PDF signature.
    NotPdf,
    /// A PDF and what the verifier found about each of its signatures (none: unsigned).
    Pdf(Vec<SignatureFacts>),
}

/// Why a result file is refused under [`ResultSignature::Required`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnsignedResult {
    /// Not a PDF.
    NotPdf,
    /// A PDF without a signature, and motcua does not sign it.
    NoSignature,
    /// A signature does not match the file: it was altered after signing.
    Altered,
    /// A signature the verifier refused (expired certificate, malformed).
    Invalid,
    /// A signature whose certificate was revoked.
    Revoked,
    /// Signed by a trusted certificate, but content was added after the signature.
    ChangedAfterSigning,
    /// Signed only by certificates no trust anchor vouches for.
    UnknownIssuer,
}

impl UnsignedResult {
    /// Why, in Vietnamese, for the person finishing.
    pub fn message(self) -> &'static str {
        match self {
            Self::NotPdf => "không phải tệp PDF nên không mang chữ ký số",
            Self::NoSignature => "chưa có chữ ký số và cơ quan chưa cấu hình khóa ký số để hệ thống ký",
            Self::Altered => "đã bị sửa sau khi ký",
            Self::Invalid => "có chữ ký số không hợp lệ",
            Self::Revoked => "được ký bằng chứng thư số đã bị thu hồi",
            Self::ChangedAfterSigning => "có nội dung được thêm sau khi ký",
            Self::UnknownIssuer => "được ký bằng chứng thư số không do tổ chức được tin cậy cấp",
        }
    }
}

#[cfg(test)]
mod result_signature_tests {
    use super::{ResultFile, ResultSignature, SignatureFacts, UnsignedResult};

    const GOOD: SignatureFacts = SignatureFacts {
        intact: true,
        covers_whole_file: true,
        trusted: true,
        invalid: false,
        revoked: false,
    };

    fn pdf(s: &[SignatureFacts]) -> ResultFile {
        ResultFile::Pdf(s.to_vec())
    }

    #[test]
    fn optional_accepts_anything() {
        for f in [
            ResultFile::NotPdf,
            pdf(&[]),
            pdf(&[SignatureFacts { intact: false, ..GOOD }]),
        ] {
            assert_eq!(ResultSignature::Optional.check(&f, false), Ok(()));
        }
    }

    #[test]
    fn required_wants_an_intact_whole_file_trusted_signature_or_ours() {
        let req = ResultSignature::Required;
        assert_eq!(req.check(&pdf(&[GOOD]), false), Ok(()));
        assert_eq!(req.check(&pdf(&[]), false), Err(UnsignedResult::NoSignature));
        assert_eq!(req.check(&pdf(&[]), true), Ok(()));
        assert_eq!(req.check(&ResultFile::NotPdf, true), Err(UnsignedResult::NotPdf));
        let stranger = SignatureFacts { trusted: false, ..GOOD };
        assert_eq!(req.check(&pdf(&[stranger]), false), Err(UnsignedResult::UnknownIssuer));
        assert_eq!(req.check(&pdf(&[stranger]), true), Ok(()));
        let earlier = SignatureFacts {
            covers_whole_file: false,
            ..GOOD
        };
        assert_eq!(
            req.check(&pdf(&[earlier]), false),
            Err(UnsignedResult::ChangedAfterSigning)
        );
        // A leader's signature followed by the agency's: the last covers the file.
        assert_eq!(req.check(&pdf(&[earlier, GOOD]), false), Ok(()));
    }

    #[test]
    fn a_broken_signature_is_refused_even_when_motcua_would_sign() {
        let req = ResultSignature::Required;
        let altered = SignatureFacts { intact: false, ..GOOD };
        let invalid = SignatureFacts { invalid: true, ..GOOD };
        let revoked = SignatureFacts { revoked: true, ..GOOD };
        for signed_at_finish in [false, true] {
            assert_eq!(
                req.check(&pdf(&[altered, GOOD]), signed_at_finish),
                Err(UnsignedResult::Altered)
            );
            assert_eq!(
                req.check(&pdf(&[GOOD, invalid]), signed_at_finish),
                Err(UnsignedResult::Invalid)
            );
            assert_eq!(
                req.check(&pdf(&[revoked]), signed_at_finish),
                Err(UnsignedResult::Revoked)
            );
        }
    }

    #[test]
    fn the_setting_round_trips() {
        for s in [ResultSignature::Optional, ResultSignature::Required] {
            assert_eq!(ResultSignature::parse(s.as_str()), Some(s));
        }
        assert_eq!(ResultSignature::parse("maybe"), None);
        assert_eq!(ResultSignature::default(), ResultSignature::Optional);
    }
}

#[cfg(test)]
mod link_tests {
    use super::check_link;

    #[test]
    fn only_web_addresses_and_local_paths_are_links() {
        for good in [
            "",
            "https://thutuc.dichvucong.gov.vn/p/home/dvc-tthc-bieu-mau.html?ma=1",
            "http://sotuphap.ninhthuan.gov.vn/mau-01.docx",
            "/bieu-mau/mau-01.pdf",
        ] {
            assert!(check_link("url", good).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "ftp://example.vn/a",
            "//evil.example/x",
            "/\\evil.example/x",
            "https://user:pass@example.vn/",
            "https://example.vn/a b",
            "mau-01.pdf",
            "https://example.vn/\u{0}",
        ] {
            assert!(check_link("url", bad).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod level_tests {
    use super::*;
    use crate::map::ReceiptRule;

    fn code(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn content() -> ProcedureContent {
        crate::demo::ninh_thuan().procedures[0].versions[0].content.clone()
    }

    #[test]
    fn communes_belong_to_commune_level_procedures_only() {
        let mut c = content();
        c.level = Level::Province;
        c.communes = vec![code("000.31.00.H43")];
        assert_eq!(c.normalize().expect_err("province level").field, "communes");
        c.level = Level::Commune;
        assert!(c.normalize().is_ok());
        c.communes.push(code("000.31.00.H43"));
        assert_eq!(c.normalize().expect_err("twice").field, "communes[1]");
    }

    #[test]
    fn an_empty_list_applies_in_every_commune() {
        let mut c = content();
        c.level = Level::Commune;
        assert!(c.applies_in(&code("000.31.00.H43")));
        c.communes = vec![code("000.32.00.H43")];
        assert!(!c.applies_in(&code("000.31.00.H43")));
        assert!(c.applies_in(&code("000.32.00.H43")));
        c.level = Level::Province;
        assert!(!c.applies_in(&code("000.32.00.H43")));
    }

    #[test]
    fn the_receipt_rule_reads_level_centre_and_receivable() {
        let mut c = content();
        c.level = Level::Commune;
        c.at_centre = true;
        c.receivable = Receivable::Anywhere;
        assert_eq!(
            c.receipt_rule(),
            ReceiptRule {
                level: Level::Commune,
                at_centre: true,
                receivable: Receivable::Anywhere,
            }
        );
    }

    #[test]
    fn the_defaults_stay_out_of_the_stored_json() {
        // Versions stored before the 2025 map read back equal, and a version that keeps the
        // defaults is written as before (no new keys).
        let c = content();
        let json = serde_json::to_string(&c).expect("serialises");
        assert!(!json.contains("receivable") && !json.contains("communes"), "{json}");
        let mut anywhere = c.clone();
        anywhere.receivable = Receivable::Anywhere;
        anywhere.level = Level::Commune;
        anywhere.communes = vec![code("000.31.00.H43")];
        let json = serde_json::to_string(&anywhere).expect("serialises");
        assert!(json.contains(r#""receivable":"anywhere""#) && json.contains(r#""communes":["000.31.00.H43"]"#));
        let back: ProcedureContent = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, anywhere);
    }
}
