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

/// What a set of grants allows. Every permission check in motcua goes through here, so
/// the rules live in one place.
#[derive(Debug, Clone, Default)]
pub struct Access {
    grants: Vec<Grant>,
}

impl Access {
    /// The access given by `grants`.
    pub fn new(grants: Vec<Grant>) -> Self {
        Self { grants }
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
    pub fn may_oversee(&self, province: &ProvinceCode) -> bool {
        self.has_role_in(Role::CentreDirector, province) || self.has_role_in(Role::SystemAdmin, province)
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

    /// May see the dossiers handled by `agency` of `province`: the centre's director and
    /// counter officers see the province's dossiers; department staff only their own
    /// department's.
    pub fn can_see_agency_dossiers(&self, province: &ProvinceCode, agency: &AgencyCode) -> bool {
        self.grants.iter().any(|g| {
            &g.province == province
                && match g.role {
                    Role::CentreDirector | Role::CounterOfficer | Role::SystemAdmin => true,
                    Role::DepartmentOfficer | Role::DepartmentLeader => &g.agency == agency,
                    Role::Citizen | Role::CatalogueAdmin => false,
                }
        })
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
    fn masking() {
        assert_eq!(mask("012345678905"), "0**********5");
        assert_eq!(mask("0912345675"), "0********5");
        assert_eq!(mask("ab"), "**");
        assert_eq!(mask(""), "");
    }
}
