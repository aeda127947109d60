//! The document store of citizens and organisations (issue 24 items 1–2): the kinds of
//! document the administrator lists, which kind a procedure's document or result is, when
//! a stored document is still valid, and how a dossier records the reuse of one.
//!
//! A store belongs to an owner keyed by their identity number (a person's CCCD, an
//! organisation's tax code). It holds three sources of documents: results motcua issued,
//! documents an officer checked against the original at the counter, and the owner's own
//! uploads. Which kind a document of a procedure's checklist is, the catalogue does not
//! say; the kind list does, by phrases found in the document's name (folded: without
//! diacritics or case), so the catalogue needs no change when the list grows.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::catalogue::{ApplicantKind, DocumentRequirement, Invalid};
use crate::text::{char_len, fold, nfc};

/// Most kinds in a province's list.
pub const MAX_KINDS: usize = 200;
/// Most phrases of one kind.
pub const MAX_PHRASES: usize = 20;

/// One kind of document in the administrator's list (CCCD, birth certificate, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentKind {
    /// Stable code: lowercase ASCII letters, digits and `-` (e.g. `cccd`).
    pub code: String,
    /// Name shown to people (e.g. `Căn cước công dân`).
    pub name: String,
    /// Phrases that identify the kind in a procedure's document or result name (e.g.
    /// `căn cước`, `chứng minh nhân dân`); compared folded, as whole words.
    pub phrases: Vec<String>,
    /// How long a document of this kind stays valid from its issue when it carries no
    /// expiry date of its own (e.g. 6 for a judicial record certificate); `None`: until
    /// the expiry date it carries, or for ever.
    #[serde(default)]
    pub validity_months: Option<u32>,
}

/// The kinds a province uses until its administrator sets its own list.
pub fn default_kinds() -> Vec<DocumentKind> {
    let kind = |code: &str, name: &str, phrases: &[&str], validity_months: Option<u32>| DocumentKind {
        code: code.to_owned(),
        name: name.to_owned(),
        phrases: phrases.iter().map(|p| (*p).to_owned()).collect(),
        validity_months,
    };
    vec![
        kind(
            "cccd",
            "Căn cước công dân, thẻ căn cước",
            &["căn cước", "chứng minh nhân dân"],
            None,
        ),
        kind("ho-chieu", "Hộ chiếu", &["hộ chiếu"], None),
        kind(
            "giay-khai-sinh",
            "Giấy khai sinh",
            &["giấy khai sinh", "trích lục khai sinh"],
            None,
        ),
        kind(
            "giay-chung-nhan-ket-hon",
            "Giấy chứng nhận kết hôn",
            &["giấy chứng nhận kết hôn"],
            None,
        ),
        kind(
            "gcn-quyen-su-dung-dat",
            "Giấy chứng nhận quyền sử dụng đất",
            &["giấy chứng nhận quyền sử dụng đất"],
            None,
        ),
        kind(
            "gcn-dang-ky-doanh-nghiep",
            "Giấy chứng nhận đăng ký doanh nghiệp",
            &["giấy chứng nhận đăng ký doanh nghiệp"],
            None,
        ),
        kind(
            "giay-phep-xay-dung",
            "Giấy phép xây dựng",
            &["giấy phép xây dựng"],
            None,
        ),
        kind(
            "chung-chi-hanh-nghe",
            "Chứng chỉ hành nghề",
            &["chứng chỉ hành nghề"],
            None,
        ),
        kind(
            "ly-lich-tu-phap",
            "Phiếu lý lịch tư pháp",
            &["phiếu lý lịch tư pháp"],
            Some(6),
        ),
        kind(
            "van-bang",
            "Văn bằng, chứng chỉ đào tạo",
            &["văn bằng", "bằng cử nhân"],
            None,
        ),
    ]
}

/// Checks a province's whole kind list: codes well formed and distinct, names and phrases
/// given, text in NFC. Returns the list normalised, or every problem.
pub fn check_kinds(mut kinds: Vec<DocumentKind>) -> Result<Vec<DocumentKind>, Vec<Invalid>> {
    let mut problems = Vec::new();
    if kinds.len() > MAX_KINDS {
        problems.push(Invalid::new(
            "kinds",
            format!("Danh mục có tối đa {MAX_KINDS} loại giấy tờ."),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, k) in kinds.iter_mut().enumerate() {
        let at = |f: &str| format!("kinds[{i}].{f}");
        k.code = k.code.trim().to_owned();
        k.name = nfc(&k.name);
        let code_ok = !k.code.is_empty()
            && k.code.len() <= 50
            && k.code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            problems.push(Invalid::new(
                at("code"),
                "Mã loại giấy tờ gồm 1–50 chữ thường không dấu, chữ số hoặc dấu «-».",
            ));
        } else if !seen.insert(k.code.clone()) {
            problems.push(Invalid::new(at("code"), format!("Mã «{}» bị trùng.", k.code)));
        }
        if k.name.is_empty() || char_len(&k.name) > 200 {
            problems.push(Invalid::new(at("name"), "Tên loại giấy tờ phải có 1–200 ký tự."));
        }
        k.phrases = k.phrases.iter().map(|p| nfc(p)).filter(|p| !p.is_empty()).collect();
        if k.phrases.is_empty() || k.phrases.len() > MAX_PHRASES {
            problems.push(Invalid::new(
                at("phrases"),
                format!("Cần 1–{MAX_PHRASES} cụm từ nhận biết loại giấy tờ trong tên thành phần hồ sơ."),
            ));
        }
        if k.phrases.iter().any(|p| fold(p).len() < 3 || char_len(p) > 200) {
            problems.push(Invalid::new(
                at("phrases"),
                "Mỗi cụm từ nhận biết có từ 3 đến 200 ký tự.",
            ));
        }
        if k.validity_months.is_some_and(|m| m == 0 || m > 1200) {
            problems.push(Invalid::new(
                at("validity_months"),
                "Thời hạn giá trị từ 1 đến 1200 tháng.",
            ));
        }
    }
    if problems.is_empty() { Ok(kinds) } else { Err(problems) }
}

/// Whether the folded `phrase` occurs in the folded `text` as whole words.
fn contains_words(text: &str, phrase: &str) -> bool {
    let text = format!(" {text} ");
    let phrase = format!(" {phrase} ");
    text.contains(&phrase)
}

/// The kinds a name (of a checklist document or a result) speaks of, best first: the one
/// whose matching phrase is longest, then in the list's order.
pub fn kinds_named<'a>(kinds: &'a [DocumentKind], name: &str) -> Vec<&'a DocumentKind> {
    let folded = fold(name);
    let mut found: Vec<(usize, usize, &DocumentKind)> = kinds
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            k.phrases
                .iter()
                .map(|p| fold(p))
                .filter(|p| contains_words(&folded, p))
                .map(|p| p.len())
                .max()
                .map(|len| (len, i, k))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.into_iter().map(|(_, _, k)| k).collect()
}

/// Words that open the name of a document written for the dossier itself (an application,
/// a declaration, a statement): never one a store holds, whatever it mentions.
const WRITTEN_FOR_THE_DOSSIER: &[&str] = &[
    "don",
    "to khai",
    "giay de nghi",
    "ban ke khai",
    "ban khai",
    "van ban de nghi",
];

/// The kinds a checklist document may be taken from the store as. A document filled on a
/// prescribed form, or whose name says it is written for this dossier (an application, a
/// declaration), is never taken from a store.
pub fn kinds_for_requirement<'a>(kinds: &'a [DocumentKind], req: &DocumentRequirement) -> Vec<&'a DocumentKind> {
    let folded = fold(&req.name);
    let written = WRITTEN_FOR_THE_DOSSIER
        .iter()
        .any(|w| folded == *w || folded.starts_with(&format!("{w} ")));
    if req.form.is_some() || written {
        return Vec::new();
    }
    kinds_named(kinds, &req.name)
}

/// The kind a procedure's result is stored as: the best kind its name speaks of, if any.
pub fn kind_of_result<'a>(kinds: &'a [DocumentKind], result_name: &str) -> Option<&'a DocumentKind> {
    kinds_named(kinds, result_name).into_iter().next()
}

/// Whether staff holding `access` handle dossier `d` now, and so may consult its
/// applicant's store: the dossier is not closed (refused, withdrawn, stopped, returned),
/// and they are a counter officer of its province at the agency that received it (or
/// province-wide), or department staff of the agency responsible for it or holding it.
/// The centre's director and administrators see dossiers but do not handle them.
pub fn handles(d: &crate::lifecycle::Dossier, access: &crate::access::Access) -> bool {
    use crate::access::Role;
    if d.status.is_final() {
        return false;
    }
    access.grants().iter().any(|g| {
        g.province == d.province
            && match g.role {
                Role::CounterOfficer => g.agency == d.receiving_agency || &g.agency == d.province.as_agency(),
                Role::DepartmentOfficer | Role::DepartmentLeader => {
                    g.agency == d.responsible_agency || g.agency == d.current_agency
                }
                Role::Citizen | Role::CentreDirector | Role::CatalogueAdmin | Role::SystemAdmin => false,
            }
    })
}

/// Where a stored document came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DocumentSource {
    /// A result motcua issued (entered at finish).
    Result,
    /// A scan an officer checked against the original at the counter.
    Checked,
    /// Uploaded by the owner.
    Upload,
}

impl DocumentSource {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentSource::Result => "result",
            DocumentSource::Checked => "checked",
            DocumentSource::Upload => "upload",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [DocumentSource::Result, DocumentSource::Checked, DocumentSource::Upload]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// In Vietnamese.
    pub fn label(self) -> &'static str {
        match self {
            DocumentSource::Result => "Kết quả giải quyết do cơ quan cấp",
            DocumentSource::Checked => "Đã đối chiếu với bản chính tại Bộ phận Một cửa",
            DocumentSource::Upload => "Do chủ sở hữu tự tải lên",
        }
    }
}

/// What an officer compared a scan with at the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Original {
    /// The original (bản chính).
    Original,
    /// A certified copy (bản sao có chứng thực).
    CertifiedCopy,
}

impl Original {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Original::Original => "original",
            Original::CertifiedCopy => "certified_copy",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [Original::Original, Original::CertifiedCopy]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// In Vietnamese.
    pub fn label(self) -> &'static str {
        match self {
            Original::Original => "bản chính",
            Original::CertifiedCopy => "bản sao có chứng thực",
        }
    }
}

/// An owner's key: a person's citizen ID (12 digits) or an organisation's tax code (10 or
/// 13 digits), spaces and dashes removed.
pub fn owner_key(kind: ApplicantKind, id_number: &str) -> Result<String, Invalid> {
    let key = id_number.trim().replace([' ', '-'], "");
    let digits = key.bytes().all(|b| b.is_ascii_digit());
    let ok = match kind {
        ApplicantKind::Citizen => key.len() == 12 && digits,
        ApplicantKind::Organisation => (key.len() == 10 || key.len() == 13) && digits,
    };
    if ok {
        Ok(key)
    } else {
        Err(Invalid::new(
            "id_number",
            match kind {
                ApplicantKind::Citizen => "Số định danh cá nhân phải gồm đúng 12 chữ số.",
                ApplicantKind::Organisation => "Mã số thuế phải gồm 10 hoặc 13 chữ số.",
            },
        ))
    }
}

/// The day a document stops being valid: its own expiry date, else its issue date plus
/// the kind's validity, else never.
pub fn valid_until(issued_on: Option<Date>, expires_on: Option<Date>, kind: Option<&DocumentKind>) -> Option<Date> {
    if expires_on.is_some() {
        return expires_on;
    }
    let months = kind?.validity_months?;
    let issued = issued_on?;
    Some(add_months(issued, months))
}

/// `d` plus `months` calendar months, the day clamped to the month's last.
fn add_months(d: Date, months: u32) -> Date {
    let total = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + i64::from(months);
    let year = i32::try_from(total.div_euclid(12)).unwrap_or(i32::MAX);
    let month =
        time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1)).unwrap_or(time::Month::January);
    let last = month.length(year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// Whether a document valid until `until` is expired on `today` (a document is valid on
/// its last day).
pub fn is_expired(until: Option<Date>, today: Date) -> bool {
    until.is_some_and(|u| u < today)
}

/// A document taken from the applicant's store for one row of a dossier's checklist,
/// recorded in the dossier by reference (the stored document's id and fingerprint), not as
/// a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reuse {
    /// Position in the procedure's document list.
    pub index: u16,
    /// The stored document's id (`/api/v1/documents/{id}`).
    pub document: i64,
    /// Its kind's code.
    pub kind: String,
    /// Its title (e.g. `Giấy phép xây dựng`).
    pub title: String,
    /// Its number, if it has one.
    #[serde(default)]
    pub number: String,
    /// SHA-256 of its file when it was reused.
    pub sha256: String,
    /// At the counter: the officer who recorded the applicant's consent to consult the
    /// store; `None` online (the applicant chose it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_by: Option<String>,
}

/// Checks the descriptive fields of a document entered in a store: title, number and
/// issuer lengths (NFC), an expiry not before the issue.
pub fn check_details(
    title: &str,
    number: &str,
    issuer: &str,
    issued_on: Option<Date>,
    expires_on: Option<Date>,
) -> Result<(String, String, String), Vec<Invalid>> {
    let (title, number, issuer) = (nfc(title), nfc(number), nfc(issuer));
    let mut problems = Vec::new();
    if title.is_empty() || char_len(&title) > 300 {
        problems.push(Invalid::new("title", "Tên giấy tờ phải có 1–300 ký tự."));
    }
    if char_len(&number) > 100 {
        problems.push(Invalid::new("number", "Số, ký hiệu dài quá 100 ký tự."));
    }
    if char_len(&issuer) > 300 {
        problems.push(Invalid::new("issuer", "Cơ quan cấp dài quá 300 ký tự."));
    }
    if let (Some(i), Some(e)) = (issued_on, expires_on)
        && e < i
    {
        problems.push(Invalid::new("expires_on", "Ngày hết hạn không được trước ngày cấp."));
    }
    if problems.is_empty() {
        Ok((title, number, issuer))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn req(name: &str) -> DocumentRequirement {
        DocumentRequirement {
            name: name.to_owned(),
            originals: 0,
            copies: 1,
            required: true,
            form: None,
            note: String::new(),
        }
    }

    #[test]
    fn requirements_find_their_kinds_by_phrase() {
        let kinds = default_kinds();
        let codes = |name: &str| -> Vec<String> {
            kinds_for_requirement(&kinds, &req(name))
                .into_iter()
                .map(|k| k.code.clone())
                .collect()
        };
        assert_eq!(codes("Bản sao Căn cước công dân hoặc Hộ chiếu"), ["cccd", "ho-chieu"]);
        assert_eq!(
            codes("Bản sao Giấy chứng nhận đăng ký doanh nghiệp"),
            ["gcn-dang-ky-doanh-nghiep"]
        );
        assert_eq!(
            codes("Bản gốc hoặc bản sao chứng chỉ hành nghề kiểm định xây dựng hạng II đã được cấp"),
            ["chung-chi-hanh-nghe"]
        );
        // Written for the dossier: never from a store, whatever it names.
        assert!(codes("Đơn đề nghị cấp giấy phép xây dựng").is_empty());
        assert!(codes("Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp").is_empty());
        // Proof of a land right is not the certificate itself.
        assert!(codes("Giấy tờ chứng minh quyền sử dụng đất").is_empty());
        let mut with_form = req("Bản sao giấy khai sinh");
        with_form.form = Some(crate::catalogue::FormTemplate {
            name: "Mẫu 01".to_owned(),
            url: String::new(),
        });
        assert!(kinds_for_requirement(&kinds, &with_form).is_empty());
    }

    #[test]
    fn results_take_the_longest_phrase() {
        let kinds = default_kinds();
        assert_eq!(
            kind_of_result(&kinds, "Phiếu lý lịch tư pháp số 1 hoặc số 2").map(|k| k.code.as_str()),
            Some("ly-lich-tu-phap")
        );
        assert_eq!(kind_of_result(&kinds, "Quyết định thu hồi giấy phép môi trường"), None);
    }

    #[test]
    fn validity_comes_from_the_document_or_its_kind() {
        let kinds = default_kinds();
        let lltp = kinds.iter().find(|k| k.code == "ly-lich-tu-phap");
        let until = valid_until(Some(date!(2026 - 08 - 31)), None, lltp);
        assert_eq!(until, Some(date!(2027 - 02 - 28)));
        assert!(!is_expired(until, date!(2027 - 02 - 28)));
        assert!(is_expired(until, date!(2027 - 03 - 01)));
        assert_eq!(
            valid_until(Some(date!(2020 - 01 - 01)), Some(date!(2030 - 01 - 01)), lltp),
            Some(date!(2030 - 01 - 01))
        );
        assert_eq!(valid_until(Some(date!(2020 - 01 - 01)), None, kinds.first()), None);
        assert!(!is_expired(None, date!(2099 - 01 - 01)));
    }

    #[test]
    fn the_list_is_checked_whole() {
        assert!(check_kinds(default_kinds()).is_ok());
        let mut bad = default_kinds();
        bad.push(bad[0].clone());
        bad.push(DocumentKind {
            code: "Có Dấu".to_owned(),
            name: String::new(),
            phrases: vec!["ab".to_owned()],
            validity_months: Some(0),
        });
        let problems = check_kinds(bad).expect_err("bad list");
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"kinds[10].code"), "{fields:?}");
        assert!(fields.contains(&"kinds[11].code"));
        assert!(fields.contains(&"kinds[11].name"));
        assert!(fields.contains(&"kinds[11].phrases"));
        assert!(fields.contains(&"kinds[11].validity_months"));
    }

    #[test]
    fn owners_are_keyed_by_id_number_or_tax_code() {
        assert_eq!(
            owner_key(ApplicantKind::Citizen, " 058 190-000123").as_deref(),
            Ok("058190000123")
        );
        assert!(owner_key(ApplicantKind::Citizen, "4500123456").is_err());
        assert_eq!(
            owner_key(ApplicantKind::Organisation, "4500123456").as_deref(),
            Ok("4500123456")
        );
    }
}
