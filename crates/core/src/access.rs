//! Who may do what: roles scoped to agencies, and the masking of personal data.

use serde::{Deserialize, Serialize};

use crate::codes::{AgencyCode, ProvinceCode};

/// A role, always held at an agency (its scope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// A citizen or business filing dossiers; sees only their own.
    Citizen,
    /// Receives and returns dossiers at a centre's counter.
    CounterOfficer,
    /// Handles the dossiers of one department.
    DepartmentOfficer,
    /// Assigns, approves and signs off in one department; sees all of it.
    DepartmentLeader,
    /// Sees everything of the province; reports.
    CentreDirector,
    /// Edits the procedure catalogue of the province.
    CatalogueAdmin,
    /// Manages accounts, tokens, the calendar; reads the audit trail.
    SystemAdmin,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 7] = [
        Role::Citizen,
        Role::CounterOfficer,
        Role::DepartmentOfficer,
        Role::DepartmentLeader,
        Role::CentreDirector,
        Role::CatalogueAdmin,
        Role::SystemAdmin,
    ];

    /// Stable text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::CounterOfficer => "counter_officer",
            Role::DepartmentOfficer => "department_officer",
            Role::DepartmentLeader => "department_leader",
            Role::CentreDirector => "centre_director",
            Role::CatalogueAdmin => "catalogue_admin",
            Role::SystemAdmin => "system_admin",
        }
    }

    /// Parses the stored text.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Vietnamese label.
    pub fn label(self) -> &'static str {
        match self {
            Role::Citizen => "Công dân, tổ chức",
            Role::CounterOfficer => "Cán bộ tiếp nhận tại Bộ phận Một cửa",
            Role::DepartmentOfficer => "Chuyên viên xử lý của sở, ngành",
            Role::DepartmentLeader => "Lãnh đạo sở, ngành",
            Role::CentreDirector => "Giám đốc Trung tâm",
            Role::CatalogueAdmin => "Quản trị danh mục thủ tục",
            Role::SystemAdmin => "Quản trị hệ thống",
        }
    }

    /// Whether the role is held at a department (the others are held at the province or
    /// the centre).
    pub fn is_departmental(self) -> bool {
        matches!(self, Role::DepartmentOfficer | Role::DepartmentLeader)
    }
}

/// One role held at one agency of one province.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    /// The role.
    pub role: Role,
    /// The province.
    pub province: ProvinceCode,
    /// The agency the role is held at (the province's own code for province-wide roles).
    pub agency: AgencyCode,
}

/// Which dossiers of a province a grant, or a set of them, reaches (docs/map-2025.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every dossier of the province.
    Province,
    /// The dossiers received at, held by or the responsibility of one of these agencies
    /// (none when empty).
    Agencies(Vec<AgencyCode>),
}

impl Reach {
    /// Whether it reaches the dossiers of `agency`.
    pub fn covers(&self, agency: &AgencyCode) -> bool {
        match self {
            Reach::Province => true,
            Reach::Agencies(set) => set.contains(agency),
        }
    }
}

/// What a set of grants allows. Every permission check in motcua goes through here, so
/// the rules live in one place.
#[derive(Debug, Clone, Default)]
pub struct Access {
    grants: Vec<Grant>,
    /// What each grant reaches, in the order of `grants`.
    reaches: Vec<Reach>,
}

impl Access {
    /// The access given by `grants`, in a province whose centres all serve the whole
    /// province (no commune centres): [`Access::scoped`] with no commune.
    pub fn new(grants: Vec<Grant>) -> Self {
        Self::scoped(grants, |_, _| None)
    }

    /// The access given by `grants`, where `commune_of(province, agency)` names the commune
    /// a commune centre serves (`None` for any other agency). A role of the centre (the
    /// director, a counter officer) held at a commune centre reaches that centre and its
    /// commune; held at the province, the provincial centre or one of its branches, the
    /// whole province. Department staff reach their agency (a department, or a commune's
    /// People's Committee); the system administrator the province.
    pub fn scoped(grants: Vec<Grant>, commune_of: impl Fn(&ProvinceCode, &AgencyCode) -> Option<AgencyCode>) -> Self {
        let reaches = grants
            .iter()
            .map(|g| match g.role {
                Role::SystemAdmin => Reach::Province,
                Role::CentreDirector | Role::CounterOfficer => match commune_of(&g.province, &g.agency) {
                    Some(commune) => Reach::Agencies(vec![g.agency.clone(), commune]),
                    None => Reach::Province,
                },
                Role::DepartmentOfficer | Role::DepartmentLeader => Reach::Agencies(vec![g.agency.clone()]),
                Role::Citizen | Role::CatalogueAdmin => Reach::Agencies(Vec::new()),
            })
            .collect();
        Self { grants, reaches }
    }

    /// What the grants reach together in `province`.
    pub fn reach_in(&self, province: &ProvinceCode) -> Reach {
        self.united(province, |_| true).unwrap_or(Reach::Agencies(Vec::new()))
    }

    /// What the grants in `province` that `keep` keeps reach together; `None` when it
    /// keeps none.
    fn united(&self, province: &ProvinceCode, keep: impl Fn(&Grant) -> bool) -> Option<Reach> {
        let mut agencies: Option<Vec<AgencyCode>> = None;
        for (g, r) in self.grants.iter().zip(&self.reaches) {
            if &g.province != province || !keep(g) {
                continue;
            }
            match r {
                Reach::Province => return Some(Reach::Province),
                Reach::Agencies(set) => {
                    let all = agencies.get_or_insert_with(Vec::new);
                    for a in set {
                        if !all.contains(a) {
                            all.push(a.clone());
                        }
                    }
                }
            }
        }
        agencies.map(Reach::Agencies)
    }

    /// The grants.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Whether the holder has `role` anywhere in `province`.
    pub fn has_role_in(&self, role: Role, province: &ProvinceCode) -> bool {
        self.grants.iter().any(|g| g.role == role && &g.province == province)
    }

    /// Whether the holder may see the province-wide figures of `province` (the overview,
    /// reports, the service index): the centre's director and the system administrator.
    /// Counter officers see the province's dossiers to receive them, but the overview is
    /// the director's.
    /// The head of a commune centre oversees only their centre (their director's grant
    /// does not reach the province).
    pub fn may_oversee(&self, province: &ProvinceCode) -> bool {
        self.oversight(province) == Some(Reach::Province)
    }

    /// Whose figures the holder oversees in `province`: the province's (the provincial
    /// centre's director, the system administrator), the agencies a commune centre head's
    /// grant reaches (their centre and its commune), or nobody's (`None`).
    pub fn oversight(&self, province: &ProvinceCode) -> Option<Reach> {
        self.united(province, |g| matches!(g.role, Role::CentreDirector | Role::SystemAdmin))
    }

    /// Whether the holder has `role` in any province.
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// May edit the procedure catalogue of `province`.
    pub fn can_edit_catalogue(&self, province: &ProvinceCode) -> bool {
        self.has_role_in(Role::CatalogueAdmin, province) || self.has_role_in(Role::SystemAdmin, province)
    }

    /// May edit the procedure catalogue of some province (checked before an import file is
    /// unpacked; each province in it is then checked with [`Access::can_edit_catalogue`]).
    pub fn can_edit_some_catalogue(&self) -> bool {
        self.has_role(Role::CatalogueAdmin) || self.has_role(Role::SystemAdmin)
    }

    /// May manage accounts, tokens and the calendar of `province`.
    pub fn can_administer(&self, province: &ProvinceCode) -> bool {
        self.has_role_in(Role::SystemAdmin, province)
    }

    /// May read the audit trail of `province`.
    pub fn can_read_audit(&self, province: &ProvinceCode) -> bool {
        self.has_role_in(Role::SystemAdmin, province)
    }

    /// May see the dossiers handled by `agency` of `province`: the provincial centre's
    /// director and counter officers see the province's dossiers, a commune centre's those
    /// of the centre and its commune; department staff only their own agency's
    /// ([`Access::scoped`]).
    pub fn can_see_agency_dossiers(&self, province: &ProvinceCode, agency: &AgencyCode) -> bool {
        self.grants
            .iter()
            .zip(&self.reaches)
            .any(|(g, r)| &g.province == province && r.covers(agency))
    }

    /// Whether the holder is staff who may see personal data in full (identity papers,
    /// phone numbers) when handling a dossier; every such view is audited.
    pub fn may_unmask(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g.role,
                Role::CounterOfficer | Role::DepartmentOfficer | Role::DepartmentLeader | Role::CentreDirector
            )
        })
    }
}

/// Masks personal data for lists, logs and public pages (Decree 13/2023): everything but
/// the first and last character becomes `*`, e.g. `0912345675` → `0********5`.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 | 2 => "*".repeat(chars.len()),
        n => {
            let mut out = String::with_capacity(n);
            out.push(chars[0]);
            out.extend(std::iter::repeat_n('*', n - 2));
            out.push(chars[n - 1]);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, agency: &str) -> Grant {
        Grant {
            role,
            province: ProvinceCode::parse("H43").expect("p"),
            agency: AgencyCode::parse(agency).expect("a"),
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("king"), None);
    }

    #[test]
    fn department_staff_see_only_their_department() {
        let p = ProvinceCode::parse("H43").expect("p");
        let own = AgencyCode::parse("000.00.03.H43").expect("a");
        let other = AgencyCode::parse("000.00.04.H43").expect("a");
        let officer = Access::new(vec![grant(Role::DepartmentOfficer, "000.00.03.H43")]);
        assert!(officer.can_see_agency_dossiers(&p, &own));
        assert!(!officer.can_see_agency_dossiers(&p, &other));
        let director = Access::new(vec![grant(Role::CentreDirector, "000.00.16.H43")]);
        assert!(director.can_see_agency_dossiers(&p, &other));
        let elsewhere = ProvinceCode::parse("H56").expect("p");
        assert!(!director.can_see_agency_dossiers(&elsewhere, &other));
        let catalogue = Access::new(vec![grant(Role::CatalogueAdmin, "000.00.00.H43")]);
        assert!(catalogue.can_edit_catalogue(&p) && !catalogue.can_see_agency_dossiers(&p, &own));
    }

    #[test]
    fn a_commune_centre_reaches_itself_and_its_commune_only() {
        let p = ProvinceCode::parse("H43").expect("p");
        let code = |s: &str| AgencyCode::parse(s).expect("a");
        let (centre, commune, other) = (code("000.01.31.H43"), code("000.00.31.H43"), code("000.00.73.H43"));
        let commune_of = |_: &ProvinceCode, a: &AgencyCode| (a == &centre).then(|| commune.clone());
        let head = Access::scoped(vec![grant(Role::CentreDirector, "000.01.31.H43")], commune_of);
        assert!(head.can_see_agency_dossiers(&p, &centre));
        assert!(head.can_see_agency_dossiers(&p, &commune));
        assert!(!head.can_see_agency_dossiers(&p, &other));
        assert!(
            !head.may_oversee(&p),
            "the province's figures are the provincial director's"
        );
        assert_eq!(
            head.reach_in(&p),
            Reach::Agencies(vec![centre.clone(), commune.clone()])
        );
        assert_eq!(
            head.oversight(&p),
            Some(Reach::Agencies(vec![centre.clone(), commune.clone()])),
            "a commune centre's head oversees their centre and commune"
        );
        // A commune officer oversees nothing, whatever their grant reaches.
        let officer = Access::scoped(vec![grant(Role::DepartmentOfficer, "000.00.31.H43")], commune_of);
        assert_eq!(officer.oversight(&p), None);
        // The provincial centre's director and a commune officer, in one account.
        let both = Access::scoped(
            vec![
                grant(Role::DepartmentOfficer, "000.00.73.H43"),
                grant(Role::CentreDirector, "000.00.16.H43"),
            ],
            commune_of,
        );
        assert!(both.may_oversee(&p));
        assert_eq!(both.oversight(&p), Some(Reach::Province));
        assert_eq!(both.reach_in(&p), Reach::Province);
        let elsewhere = ProvinceCode::parse("H56").expect("p");
        assert_eq!(both.reach_in(&elsewhere), Reach::Agencies(Vec::new()));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("012345678905"), "0**********5");
        assert_eq!(mask("0912345675"), "0********5");
        assert_eq!(mask("ab"), "**");
        assert_eq!(mask(""), "");
    }
}
