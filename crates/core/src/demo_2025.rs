//! The second demo province: the merged Khánh Hòa of 1 July 2025 (issue 23,
//! docs/map-2025.md §7).
//!
//! The data lives in `crates/core/data/khanh-hoa-2025.toml`, embedded at build time: the
//! provincial People's Committee, its Public Administrative Service Centre, its departments,
//! and its 65 commune-level units (48 xã, 16 phường, 1 đặc khu), each made here into two
//! agencies: the unit's People's Committee (an [`AgencyKind::Commune`], the competent body
//! for commune-level procedures, carrying the unit's national code) and its centre (an
//! [`AgencyKind::CommuneCentre`] under it). The file's sources, notes and `confirmed` flags
//! document the data and are not product data: only names, kinds, codes and addresses are
//! kept. Agency codes are motcua's own scheme (the file's `[agency_code_scheme]`), not
//! published codes.
//!
//! A commune's address is its locality (`phường Nha Trang, Khánh Hòa`): no street
//! address of a commune's offices was found, and a receipt must say where it was issued.
//!
//! The catalogue (docs/map-2025.md §7), for now: the procedures of Ninh Thuận's Sở Tư pháp
//! and Sở Xây dựng under the merged province's departments of the same name, and three
//! commune-level procedures of civil status and certification defined once for every
//! commune. Which procedures are receivable anywhere is the demo's choice, not a published
//! list: the judicial record certificate (province level) and certified copies (commune
//! level). The departments' other procedures come with the rest of the demo (step 7).

use serde::Deserialize;

use crate::catalogue::{
    Agency, AgencyKind, ApplicantKind, DocumentRequirement, FeeItem, FeeKind, Field, Level, OnlineMode,
    ProcedureContent, ProcedureRecord, ProcedureVersion, ProcessingTime, Province, ProvinceCatalogue, Receivable,
};
use crate::codes::{AgencyCode, FieldCode, ProcedureCode, ProvinceCode};
use crate::money::Vnd;

/// Province unit code of the demo (Khánh Hòa; *unconfirmed*, inferred in the data file).
pub const UNIT: &str = "H32";

const DATA_TOML: &str = include_str!("../data/khanh-hoa-2025.toml");

/// The parts of the data file the demo uses; everything else in it is documentation.
#[derive(Deserialize)]
struct MapFile {
    format: String,
    format_version: u32,
    province: ProvinceSpec,
    agencies: Vec<AgencySpec>,
    commune_centres: CommuneCentres,
    units: Vec<UnitSpec>,
}

#[derive(Deserialize)]
struct ProvinceSpec {
    name: String,
    qcvn_unit: String,
    units: UnitCounts,
}

/// The published counts of commune-level units, checked against the list.
#[derive(Deserialize)]
struct UnitCounts {
    total: usize,
    xa: usize,
    phuong: usize,
    dac_khu: usize,
}

#[derive(Deserialize)]
struct AgencySpec {
    code: String,
    name: String,
    kind: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    address: String,
}

/// How the People's Committee and the centre of a unit are named: `{kind} {name}` filled in.
#[derive(Deserialize)]
struct CommuneCentres {
    name_pattern: String,
    people_committee_pattern: String,
}

#[derive(Deserialize)]
struct UnitSpec {
    /// The 5-digit national code.
    code: String,
    name: String,
    /// `xã`, `phường` or `đặc khu`.
    kind: String,
    agency_code: String,
    centre_code: String,
}

/// Why the embedded data file could not be read as the demo.
#[derive(Debug, thiserror::Error)]
#[error("crates/core/data/khanh-hoa-2025.toml: {0}")]
struct DataError(String);

fn parse_code(code: &str) -> Result<AgencyCode, DataError> {
    AgencyCode::parse(code).map_err(|e| DataError(e.to_string()))
}

fn agency(code: AgencyCode, name: String, kind: AgencyKind, parent: Option<AgencyCode>, address: String) -> Agency {
    Agency {
        code,
        name,
        kind,
        parent,
        address,
        phone: String::new(),
        email: String::new(),
        admin_code: String::new(),
        retired_at: None,
        successor: None,
    }
}

fn read(toml_text: &str) -> Result<ProvinceCatalogue, DataError> {
    let file: MapFile = toml::from_str(toml_text).map_err(|e| DataError(e.to_string()))?;
    if file.format != "motcua-map" || file.format_version != 1 {
        return Err(DataError(format!(
            "format {} version {} is not motcua-map version 1",
            file.format, file.format_version
        )));
    }
    let province = ProvinceCode::parse(&file.province.qcvn_unit).map_err(|e| DataError(e.to_string()))?;
    let mut agencies = Vec::with_capacity(file.agencies.len() + 2 * file.units.len());
    for a in file.agencies {
        let kind = AgencyKind::parse(&a.kind).ok_or_else(|| DataError(format!("unknown kind {}", a.kind)))?;
        let parent = a.parent.as_deref().map(parse_code).transpose()?;
        agencies.push(agency(parse_code(&a.code)?, a.name, kind, parent, a.address));
    }
    let fill = |pattern: &str, unit: &UnitSpec| pattern.replace("{kind}", &unit.kind).replace("{name}", &unit.name);
    for unit in &file.units {
        let commune = parse_code(&unit.agency_code)?;
        let address = format!("{} {}, {}", unit.kind, unit.name, file.province.name);
        let mut people_committee = agency(
            commune.clone(),
            fill(&file.commune_centres.people_committee_pattern, unit),
            AgencyKind::Commune,
            Some(province.as_agency().clone()),
            address.clone(),
        );
        people_committee.admin_code = unit.code.clone();
        agencies.push(people_committee);
        agencies.push(agency(
            parse_code(&unit.centre_code)?,
            fill(&file.commune_centres.name_pattern, unit),
            AgencyKind::CommuneCentre,
            Some(commune),
            address,
        ));
    }
    let counts = &file.province.units;
    let of_kind = |kind: &str| file.units.iter().filter(|u| u.kind == kind).count();
    let listed = (file.units.len(), of_kind("xã"), of_kind("phường"), of_kind("đặc khu"));
    if listed != (counts.total, counts.xa, counts.phuong, counts.dac_khu) {
        return Err(DataError(format!(
            "the units listed (total, xã, phường, đặc khu) = {listed:?} differ from [province].units"
        )));
    }
    let (fields, procedures) = catalogue(&province)?;
    Ok(ProvinceCatalogue {
        province: Province {
            code: province,
            name: file.province.name,
        },
        agencies,
        aliases: Vec::new(),
        fields,
        procedures,
    })
}

/// Sở Tư pháp of the merged province.
pub const JUSTICE: &str = "000.00.03.H32";
/// Sở Xây dựng of the merged province.
pub const CONSTRUCTION: &str = "000.00.07.H32";
/// The judicial record certificate (province level, receivable at any centre in the demo).
pub const JUDICIAL_RECORD: &str = "1.900141";
/// Birth registration (commune level, at the competent commune's centre only).
pub const BIRTH: &str = "1.990001";
/// Marriage registration (commune level, at the competent commune's centre only).
pub const MARRIAGE: &str = "1.990002";
/// Certified copies from originals (commune level, at any centre in the demo).
pub const CERTIFIED_COPY: &str = "1.990003";

/// The demo's fields and procedures: Ninh Thuận's Sở Tư pháp (`000.00.02.H43`) and Sở Xây
/// dựng (`000.00.03.H43`) procedures with their fields, moved to the merged province's
/// departments, and the commune-level ones.
fn catalogue(province: &ProvinceCode) -> Result<(Vec<Field>, Vec<ProcedureRecord>), DataError> {
    let moved = [
        ("000.00.02.H43", parse_code(JUSTICE)?),
        ("000.00.03.H43", parse_code(CONSTRUCTION)?),
    ];
    let old = crate::demo::ninh_thuan();
    let to = |a: &AgencyCode| {
        moved
            .iter()
            .find(|(from, _)| a.as_str() == *from)
            .map(|(_, to)| to.clone())
    };
    let mut fields: Vec<Field> = old
        .fields
        .iter()
        .filter_map(|f| to(&f.agency).map(|agency| Field { agency, ..f.clone() }))
        .collect();
    let mut procedures: Vec<ProcedureRecord> = old
        .procedures
        .into_iter()
        .filter_map(|mut r| {
            let content = &mut r.versions.first_mut()?.content;
            content.agency = to(&content.agency)?;
            if r.code.as_str() == JUDICIAL_RECORD {
                content.receivable = Receivable::Anywhere;
            }
            for v in &mut r.versions {
                v.created_at = EFFECTIVE_FROM;
                v.note = "Công bố danh mục của tỉnh Khánh Hòa sau sắp xếp (dữ liệu trình diễn)".to_owned();
            }
            Some(r)
        })
        .collect();
    let justice = parse_code(JUSTICE)?;
    let field = |code: &str, name: &str| -> Result<Field, DataError> {
        Ok(Field {
            code: FieldCode::parse(code).map_err(|e| DataError(e.to_string()))?,
            name: name.to_owned(),
            agency: justice.clone(),
        })
    };
    let civil = field("HT-XA", "Hộ tịch (cấp xã)")?;
    let copies = field("CT-XA", "Chứng thực (cấp xã)")?;
    for spec in commune_procedures(&civil.code, &copies.code, &justice) {
        let (code, content) = spec;
        procedures.push(ProcedureRecord {
            code: ProcedureCode::parse(code).map_err(|e| DataError(e.to_string()))?,
            versions: vec![ProcedureVersion {
                version: 1,
                created_at: EFFECTIVE_FROM,
                note: "Công bố danh mục thủ tục cấp xã sau sắp xếp (dữ liệu trình diễn)".to_owned(),
                content,
            }],
        });
    }
    fields.push(civil);
    fields.push(copies);
    procedures.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    let _ = province;
    Ok((fields, procedures))
}

/// When the two-level government took effect: the demo catalogue's publication.
const EFFECTIVE_FROM: time::OffsetDateTime = time::macros::datetime!(2025-07-01 07:00 +07:00);

fn doc(name: &str, originals: u16, copies: u16, required: bool) -> DocumentRequirement {
    DocumentRequirement {
        name: name.to_owned(),
        originals,
        copies,
        required,
        form: None,
        note: String::new(),
    }
}

/// The commune-level procedures, each defined once for every commune (`communes` empty).
/// Documents, time limits and fees as the Law on Civil Status 2014 (Luật Hộ tịch số
/// 60/2014/QH13), Decree 123/2015/NĐ-CP and Decree 23/2015/NĐ-CP set them; the fees of
/// certified copies as Circular 226/2016/TT-BTC.
fn commune_procedures(
    civil: &FieldCode,
    copies: &FieldCode,
    justice: &AgencyCode,
) -> Vec<(&'static str, ProcedureContent)> {
    let content = |name: &str, field: &FieldCode, days: u32, receivable: Receivable| ProcedureContent {
        name: name.to_owned(),
        field: field.clone(),
        agency: justice.clone(),
        level: Level::Commune,
        processing_time: ProcessingTime::days(days),
        documents: Vec::new(),
        sets: 1,
        fees: Vec::new(),
        results: Vec::new(),
        legal_basis: vec![
            "Luật Hộ tịch số 60/2014/QH13".to_owned(),
            "Nghị định số 123/2015/NĐ-CP".to_owned(),
        ],
        applicants: vec![ApplicantKind::Citizen],
        online_mode: OnlineMode::Full,
        service_level: 4,
        at_centre: true,
        receivable,
        communes: Vec::new(),
        steps: crate::demo::steps_for(ProcessingTime::days(days)),
        description:
            "Bước 1: Người yêu cầu nộp hồ sơ tại Trung tâm Phục vụ hành chính công của xã, phường hoặc trực tuyến.\n\
                      Bước 2: Công chức tiếp nhận kiểm tra hồ sơ, cấp Giấy tiếp nhận hồ sơ và hẹn trả kết quả.\n\
                      Bước 3: Ủy ban nhân dân xã, phường có thẩm quyền giải quyết.\n\
                      Bước 4: Người yêu cầu nhận kết quả tại Trung tâm đã nộp, qua bưu chính hoặc trực tuyến."
                .to_owned(),
        conditions: String::new(),
    };
    let mut birth = content("Đăng ký khai sinh", civil, 1, Receivable::Competent);
    birth.documents = vec![
        doc("Tờ khai đăng ký khai sinh", 1, 0, true),
        doc("Giấy chứng sinh hoặc văn bản thay giấy chứng sinh", 1, 0, true),
        doc("Văn bản ủy quyền (trường hợp ủy quyền)", 1, 0, false),
    ];
    birth.results = vec!["Giấy khai sinh (bản chính)".to_owned()];
    let mut marriage = content("Đăng ký kết hôn", civil, 5, Receivable::Competent);
    marriage.documents = vec![
        doc("Tờ khai đăng ký kết hôn", 1, 0, true),
        doc(
            "Giấy xác nhận tình trạng hôn nhân (khi không cư trú tại xã, phường đăng ký)",
            1,
            0,
            false,
        ),
    ];
    marriage.results = vec!["Giấy chứng nhận kết hôn".to_owned()];
    let mut copy = content(
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền của Việt Nam cấp",
        copies,
        1,
        Receivable::Anywhere,
    );
    copy.legal_basis = vec![
        "Nghị định số 23/2015/NĐ-CP".to_owned(),
        "Thông tư số 226/2016/TT-BTC".to_owned(),
    ];
    copy.documents = vec![
        doc("Bản chính giấy tờ, văn bản cần chứng thực", 1, 0, true),
        doc("Bản sao cần chứng thực", 0, 1, true),
    ];
    copy.fees = vec![FeeItem {
        kind: FeeKind::Fee,
        name: "Phí chứng thực bản sao từ bản chính (mỗi trang)".to_owned(),
        amount: Vnd(2_000),
        option: None,
    }];
    copy.results = vec!["Bản sao được chứng thực từ bản chính".to_owned()];
    copy.applicants = vec![ApplicantKind::Citizen, ApplicantKind::Organisation];
    vec![(BIRTH, birth), (MARRIAGE, marriage), (CERTIFIED_COPY, copy)]
}

/// Builds the demo catalogue of the merged Khánh Hòa: its agencies (145: the People's
/// Committee, the provincial centre, 13 departments, 65 communes and their 65 centres),
/// and the fields and procedures the module's header lists.
#[expect(
    clippy::expect_used,
    reason = "the data file is embedded at build time and a unit test reads it"
)]
pub fn khanh_hoa() -> ProvinceCatalogue {
    read(DATA_TOML).expect("the embedded Khánh Hòa map is valid")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::map::AgencyTree;

    #[test]
    fn the_map_has_its_published_shape() {
        let cat = khanh_hoa();
        assert_eq!(cat.province.code.as_str(), "000.00.00.H32");
        assert_eq!(cat.province.name, "Khánh Hòa");
        assert_eq!(cat.agencies.len(), 145);
        let kinds = |kind| cat.agencies.iter().filter(|a| a.kind == kind).count();
        assert_eq!(kinds(AgencyKind::Province), 1);
        assert_eq!(kinds(AgencyKind::Centre), 1);
        assert_eq!(kinds(AgencyKind::Department), 13);
        assert_eq!(kinds(AgencyKind::Commune), 65);
        assert_eq!(kinds(AgencyKind::CommuneCentre), 65);
        let prefixes = |prefix: &str| {
            cat.agencies
                .iter()
                .filter(|a| a.kind == AgencyKind::Commune && a.name.starts_with(prefix))
                .count()
        };
        assert_eq!(
            (
                prefixes("Ủy ban nhân dân xã "),
                prefixes("Ủy ban nhân dân phường "),
                prefixes("Ủy ban nhân dân đặc khu ")
            ),
            (48, 16, 1)
        );
    }

    #[test]
    fn codes_are_unique_text_is_nfc_and_every_agency_is_valid() {
        let cat = khanh_hoa();
        let codes: HashSet<_> = cat.agencies.iter().map(|a| &a.code).collect();
        assert_eq!(codes.len(), cat.agencies.len(), "agency codes are unique");
        let national: HashSet<_> = cat
            .agencies
            .iter()
            .filter(|a| a.kind == AgencyKind::Commune)
            .map(|a| a.admin_code.as_str())
            .collect();
        assert_eq!(national.len(), 65, "national codes are unique");
        let mut seen = HashSet::new();
        for a in &cat.agencies {
            assert_eq!(a.code.unit(), UNIT, "{}", a.code);
            let mut normalized = a.clone();
            normalized.normalize().unwrap_or_else(|e| panic!("{}: {e}", a.code));
            assert_eq!(&normalized, a, "demo text must already be NFC");
            if let Some(parent) = &a.parent {
                assert!(seen.contains(parent), "{}: parents come before children", a.code);
            }
            seen.insert(a.code.clone());
        }
    }

    #[test]
    fn the_tree_keeps_its_rules() {
        let cat = khanh_hoa();
        let tree = AgencyTree::new(&cat.agencies);
        for a in &cat.agencies {
            if let Some(parent) = tree.parent(a) {
                a.check_parent(parent).unwrap_or_else(|e| panic!("{}: {e}", a.code));
            }
        }
        assert_eq!(
            tree.provincial_centre().map(|a| a.name.as_str()),
            Some("Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa")
        );
        assert_eq!(tree.centres().len(), 66);
        let nha_trang_centre = AgencyCode::parse("000.01.31.H32").expect("code");
        let nha_trang = tree.commune_of(&nha_trang_centre).expect("phường Nha Trang");
        assert_eq!(nha_trang.name, "Ủy ban nhân dân phường Nha Trang");
        assert_eq!(nha_trang.admin_code, "22366");
        assert_eq!(nha_trang.address, "phường Nha Trang, Khánh Hòa");
        assert_eq!(
            tree.centre_of(&nha_trang.code).map(|c| c.name.as_str()),
            Some("Trung tâm Phục vụ hành chính công phường Nha Trang")
        );
        let ca_na = tree
            .get(&AgencyCode::parse("000.00.94.H32").expect("code"))
            .expect("Cà Ná");
        assert_eq!(
            (ca_na.name.as_str(), ca_na.admin_code.as_str()),
            ("Ủy ban nhân dân xã Cà Ná", "22909")
        );
    }

    #[test]
    fn a_file_whose_counts_disagree_is_refused() {
        let broken = DATA_TOML.replacen("xa = 48", "xa = 47", 1);
        assert!(broken != DATA_TOML, "the counts line is where the test expects it");
        let err = read(&broken).expect_err("counts differ");
        assert!(err.to_string().contains("differ"), "{err}");
    }
}
