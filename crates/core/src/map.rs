//! The map of a province as a tree of agencies (docs/map-2025.md §2.1, §3): which centres
//! receive dossiers, which commune a commune centre serves, whether an agency lies within
//! another, and where a procedure may be received.
//!
//! Built from the province's agency list (`&[Agency]`, parents before children or not):
//! everything here is a pure function of that list, so the server asks the same questions
//! of the same tree whichever path it serves.

use std::collections::HashMap;

use crate::catalogue::{Agency, AgencyKind, Level, Receivable};
use crate::codes::AgencyCode;

/// Deepest tree walked: a guard against a loop in data that skipped the store's checks.
const MAX_DEPTH: usize = 64;

/// Most place names a refusal lists before "và N nơi khác".
const MAX_NAMED_PLACES: usize = 5;

/// A province's agencies as a tree.
#[derive(Debug, Clone, Default)]
pub struct AgencyTree {
    agencies: Vec<Agency>,
    index: HashMap<AgencyCode, usize>,
}

impl AgencyTree {
    /// The tree of `agencies` (one province's, in catalogue order).
    pub fn new(agencies: &[Agency]) -> Self {
        let agencies = agencies.to_vec();
        let index = agencies.iter().enumerate().map(|(i, a)| (a.code.clone(), i)).collect();
        Self { agencies, index }
    }

    /// Every agency, retired ones included, in catalogue order.
    pub fn agencies(&self) -> &[Agency] {
        &self.agencies
    }

    /// The agency with this code.
    pub fn get(&self, code: &AgencyCode) -> Option<&Agency> {
        self.index.get(code).map(|&i| &self.agencies[i])
    }

    /// The parent of `agency`, when it has one in the tree.
    pub fn parent(&self, agency: &Agency) -> Option<&Agency> {
        agency.parent.as_ref().and_then(|p| self.get(p))
    }

    /// The province's People's Committee, the root of the tree.
    pub fn root(&self) -> Option<&Agency> {
        self.agencies.iter().find(|a| a.kind == AgencyKind::Province)
    }

    /// The provincial Public Administrative Service Centre: the first working centre that
    /// hangs from the root (its branches hang from it).
    pub fn provincial_centre(&self) -> Option<&Agency> {
        self.agencies.iter().find(|a| {
            a.kind == AgencyKind::Centre
                && a.is_active()
                && self.parent(a).is_some_and(|p| p.kind == AgencyKind::Province)
        })
    }

    /// Every working centre that receives dossiers: the provincial centre first, then its
    /// branches, then the commune centres, each group in catalogue order.
    pub fn centres(&self) -> Vec<&Agency> {
        let provincial = self.provincial_centre();
        let rank = |a: &Agency| match a.kind {
            _ if provincial.is_some_and(|p| p.code == a.code) => 0,
            AgencyKind::Centre => 1,
            _ => 2,
        };
        let mut centres: Vec<&Agency> = self
            .agencies
            .iter()
            .filter(|a| a.is_active() && a.kind.is_centre())
            .collect();
        centres.sort_by_key(|a| rank(a));
        centres
    }

    /// The working communes (People's Committees of xã, phường, đặc khu), in catalogue order.
    pub fn communes(&self) -> impl Iterator<Item = &Agency> {
        self.agencies
            .iter()
            .filter(|a| a.kind == AgencyKind::Commune && a.is_active())
    }

    /// The commune a commune centre serves; `None` for any other agency.
    pub fn commune_of(&self, centre: &AgencyCode) -> Option<&Agency> {
        let centre = self.get(centre)?;
        if centre.kind != AgencyKind::CommuneCentre {
            return None;
        }
        self.parent(centre).filter(|p| p.kind == AgencyKind::Commune)
    }

    /// The working centre of a commune; `None` when it has none (or `commune` is not one).
    pub fn centre_of(&self, commune: &AgencyCode) -> Option<&Agency> {
        self.agencies
            .iter()
            .find(|a| a.kind == AgencyKind::CommuneCentre && a.is_active() && a.parent.as_ref() == Some(commune))
    }

    /// Whether `agency` is `scope` or lies under it in the tree.
    pub fn is_within(&self, agency: &AgencyCode, scope: &AgencyCode) -> bool {
        let mut cursor = Some(agency);
        for _ in 0..MAX_DEPTH {
            match cursor {
                Some(code) if code == scope => return true,
                Some(code) => cursor = self.get(code).and_then(|a| a.parent.as_ref()),
                None => return false,
            }
        }
        false
    }
}

/// What decides where a procedure may be received: its level, whether the centre
/// receives it at all, and whether it is receivable anywhere in the province.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptRule {
    /// The level that resolves it.
    pub level: Level,
    /// Whether it is received at a centre (rather than at the department itself).
    pub at_centre: bool,
    /// At the competent level only, or anywhere.
    pub receivable: Receivable,
}

/// Where a procedure may be received for a dossier whose competent agency is `competent`
/// (a department for a province-level procedure, a commune for a commune-level one):
///
/// | level | `at_centre` | `receivable` | received at |
/// |---|---|---|---|
/// | province | false | — | the competent department only |
/// | province | true | competent | the provincial centre and its branches |
/// | province | true | anywhere | every working centre of the province |
/// | commune | — | competent | the centre of the competent commune |
/// | commune | — | anywhere | every working centre of the province |
pub fn receipt_places<'t>(rule: ReceiptRule, tree: &'t AgencyTree, competent: &AgencyCode) -> Vec<&'t Agency> {
    match (rule.level, rule.at_centre, rule.receivable) {
        (Level::Province, false, _) => tree.get(competent).filter(|a| a.is_active()).into_iter().collect(),
        (Level::Province, true, Receivable::Competent) => tree
            .centres()
            .into_iter()
            .filter(|a| a.kind == AgencyKind::Centre)
            .collect(),
        (Level::Commune, _, Receivable::Competent) => tree.centre_of(competent).into_iter().collect(),
        (_, _, Receivable::Anywhere) => tree.centres(),
    }
}

/// One place where a procedure may be received, as a refusal shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The agency's code.
    pub code: AgencyCode,
    /// Its name.
    pub name: String,
    /// Its postal address (may be empty).
    pub address: String,
}

/// A dossier offered where its procedure may not be received: the places where it may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotHere {
    /// Where it may be received (empty when no working agency receives it).
    pub places: Vec<Place>,
}

impl NotHere {
    /// The reason for the person at the counter or online, in Vietnamese: at most five
    /// place names, then how many more.
    pub fn message(&self, procedure: &str) -> String {
        if self.places.is_empty() {
            return format!("Thủ tục «{procedure}» hiện không có nơi tiếp nhận đang hoạt động.");
        }
        let names: Vec<&str> = self.places.iter().map(|p| p.name.as_str()).collect();
        format!("Thủ tục «{procedure}» chỉ được tiếp nhận tại {}.", listed(&names))
    }
}

/// Place names as a refusal lists them: at most five, then "và N nơi khác".
pub fn listed(names: &[&str]) -> String {
    let mut out = names
        .iter()
        .take(MAX_NAMED_PLACES)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let rest = names.len().saturating_sub(MAX_NAMED_PLACES);
    if rest > 0 {
        out.push_str(&format!(" và {rest} nơi khác"));
    }
    out
}

/// Whether `centre` may receive a dossier of a procedure under `rule` whose competent
/// agency is `competent`; if not, where it may.
pub fn check_receivable(
    rule: ReceiptRule,
    tree: &AgencyTree,
    competent: &AgencyCode,
    centre: &AgencyCode,
) -> Result<(), NotHere> {
    let places = receipt_places(rule, tree, competent);
    if places.iter().any(|p| &p.code == centre) {
        return Ok(());
    }
    Err(NotHere {
        places: places
            .into_iter()
            .map(|a| Place {
                code: a.code.clone(),
                name: a.name.clone(),
                address: a.address.clone(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn code(s: &str) -> AgencyCode {
        AgencyCode::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn agency(c: &str, kind: AgencyKind, parent: Option<&str>) -> Agency {
        Agency {
            code: code(c),
            name: format!("Cơ quan {c}"),
            kind,
            parent: parent.map(code),
            address: String::new(),
            phone: String::new(),
            email: String::new(),
            admin_code: String::new(),
            retired_at: None,
            successor: None,
        }
    }

    const ROOT: &str = "000.00.00.H32";
    const CENTRE: &str = "000.00.20.H32";
    const BRANCH: &str = "000.01.20.H32";
    const DEPT: &str = "000.00.03.H32";
    const COMMUNE_A: &str = "000.00.31.H32";
    const CENTRE_A: &str = "000.01.31.H32";
    const COMMUNE_B: &str = "000.00.40.H32";
    const CENTRE_B: &str = "000.01.40.H32";

    /// A province with its centre and a branch, a department and two communes with their
    /// centres; listed children first, as an import may list them.
    fn province() -> Vec<Agency> {
        vec![
            agency(CENTRE_B, AgencyKind::CommuneCentre, Some(COMMUNE_B)),
            agency(BRANCH, AgencyKind::Centre, Some(CENTRE)),
            agency(ROOT, AgencyKind::Province, None),
            agency(CENTRE, AgencyKind::Centre, Some(ROOT)),
            agency(DEPT, AgencyKind::Department, Some(ROOT)),
            agency(COMMUNE_A, AgencyKind::Commune, Some(ROOT)),
            agency(CENTRE_A, AgencyKind::CommuneCentre, Some(COMMUNE_A)),
            agency(COMMUNE_B, AgencyKind::Commune, Some(ROOT)),
        ]
    }

    fn codes<'a>(agencies: impl IntoIterator<Item = &'a Agency>) -> Vec<&'a str> {
        agencies.into_iter().map(|a| a.code.as_str()).collect()
    }

    #[test]
    fn tree_queries() {
        let tree = AgencyTree::new(&province());
        assert_eq!(tree.root().map(|a| a.code.as_str()), Some(ROOT));
        assert_eq!(tree.provincial_centre().map(|a| a.code.as_str()), Some(CENTRE));
        assert_eq!(codes(tree.centres()), [CENTRE, BRANCH, CENTRE_B, CENTRE_A]);
        assert_eq!(codes(tree.communes()), [COMMUNE_A, COMMUNE_B]);
        assert_eq!(
            tree.commune_of(&code(CENTRE_A)).map(|a| a.code.as_str()),
            Some(COMMUNE_A)
        );
        assert_eq!(
            tree.commune_of(&code(CENTRE)),
            None,
            "a provincial centre serves no commune"
        );
        assert_eq!(tree.commune_of(&code(COMMUNE_A)), None);
        assert_eq!(
            tree.centre_of(&code(COMMUNE_B)).map(|a| a.code.as_str()),
            Some(CENTRE_B)
        );
        assert_eq!(tree.centre_of(&code(DEPT)), None);
        assert!(tree.is_within(&code(CENTRE_A), &code(COMMUNE_A)));
        assert!(tree.is_within(&code(CENTRE_A), &code(ROOT)));
        assert!(tree.is_within(&code(DEPT), &code(DEPT)));
        assert!(!tree.is_within(&code(CENTRE_A), &code(COMMUNE_B)));
        assert!(
            !tree.is_within(&code(COMMUNE_A), &code(CENTRE_A)),
            "a parent is not within its child"
        );
        assert!(
            !tree.is_within(&code("000.00.99.H32"), &code(ROOT)),
            "unknown agencies are nowhere"
        );
    }

    #[test]
    fn retired_agencies_receive_nothing() {
        let mut agencies = province();
        for a in &mut agencies {
            if [CENTRE_B, BRANCH].contains(&a.code.as_str()) {
                a.retired_at = Some(datetime!(2025-07-01 00:00 UTC));
            }
        }
        let tree = AgencyTree::new(&agencies);
        assert_eq!(codes(tree.centres()), [CENTRE, CENTRE_A]);
        assert_eq!(tree.centre_of(&code(COMMUNE_B)), None);
        assert!(
            tree.get(&code(CENTRE_B)).is_some(),
            "a retired agency stays in the tree"
        );
        // A retired provincial centre leaves the province without one until another is made.
        agencies[3].retired_at = Some(datetime!(2025-07-01 00:00 UTC));
        assert_eq!(AgencyTree::new(&agencies).provincial_centre(), None);
    }

    #[test]
    fn a_loop_in_unchecked_data_ends() {
        let agencies = vec![
            agency(CENTRE, AgencyKind::Centre, Some(BRANCH)),
            agency(BRANCH, AgencyKind::Centre, Some(CENTRE)),
        ];
        let tree = AgencyTree::new(&agencies);
        assert!(!tree.is_within(&code(CENTRE), &code(ROOT)));
        assert_eq!(tree.provincial_centre(), None);
    }

    fn rule(level: Level, at_centre: bool, receivable: Receivable) -> ReceiptRule {
        ReceiptRule {
            level,
            at_centre,
            receivable,
        }
    }

    #[test]
    fn receipt_places_follow_the_table() {
        let tree = AgencyTree::new(&province());
        let places = |r, competent| codes(receipt_places(r, &tree, &code(competent)));
        for receivable in [Receivable::Competent, Receivable::Anywhere] {
            assert_eq!(places(rule(Level::Province, false, receivable), DEPT), [DEPT]);
            assert_eq!(
                places(rule(Level::Commune, true, receivable), COMMUNE_A),
                places(rule(Level::Commune, false, receivable), COMMUNE_A),
                "at_centre does not matter at commune level"
            );
        }
        assert_eq!(
            places(rule(Level::Province, true, Receivable::Competent), DEPT),
            [CENTRE, BRANCH]
        );
        let everywhere = [CENTRE, BRANCH, CENTRE_B, CENTRE_A];
        assert_eq!(
            places(rule(Level::Province, true, Receivable::Anywhere), DEPT),
            everywhere
        );
        assert_eq!(
            places(rule(Level::Commune, true, Receivable::Competent), COMMUNE_A),
            [CENTRE_A]
        );
        assert_eq!(
            places(rule(Level::Commune, true, Receivable::Anywhere), COMMUNE_A),
            everywhere
        );
    }

    #[test]
    fn refusal_names_the_places() {
        let tree = AgencyTree::new(&province());
        let competent_only = rule(Level::Commune, true, Receivable::Competent);
        assert_eq!(
            check_receivable(competent_only, &tree, &code(COMMUNE_A), &code(CENTRE_A)),
            Ok(())
        );
        let refused = check_receivable(competent_only, &tree, &code(COMMUNE_A), &code(CENTRE_B))
            .expect_err("commune B's centre does not receive commune A's procedure");
        assert_eq!(codes_of(&refused), [CENTRE_A]);
        assert_eq!(
            refused.message("Đăng ký khai sinh"),
            format!("Thủ tục «Đăng ký khai sinh» chỉ được tiếp nhận tại Cơ quan {CENTRE_A}.")
        );
        let anywhere = rule(Level::Commune, true, Receivable::Anywhere);
        assert_eq!(
            check_receivable(anywhere, &tree, &code(COMMUNE_A), &code(CENTRE_B)),
            Ok(())
        );
        // The department receives its own procedures, never another's dossier at a centre.
        let province_level = rule(Level::Province, true, Receivable::Competent);
        assert!(check_receivable(province_level, &tree, &code(DEPT), &code(CENTRE_A)).is_err());
        assert!(check_receivable(province_level, &tree, &code(DEPT), &code(DEPT)).is_err());
    }

    fn codes_of(refused: &NotHere) -> Vec<&str> {
        refused.places.iter().map(|p| p.code.as_str()).collect()
    }

    #[test]
    fn refusal_lists_five_names_then_a_count() {
        let place = |i: usize| Place {
            code: code(&format!("000.01.{:02}.H32", 30 + i)),
            name: format!("Nơi {i}"),
            address: String::new(),
        };
        let seven = NotHere {
            places: (1..=7).map(place).collect(),
        };
        assert_eq!(
            seven.message("T"),
            "Thủ tục «T» chỉ được tiếp nhận tại Nơi 1, Nơi 2, Nơi 3, Nơi 4, Nơi 5 và 2 nơi khác."
        );
        let five = NotHere {
            places: (1..=5).map(place).collect(),
        };
        assert!(!five.message("T").contains("nơi khác"));
        assert_eq!(
            NotHere { places: Vec::new() }.message("T"),
            "Thủ tục «T» hiện không có nơi tiếp nhận đang hoạt động."
        );
    }

    #[test]
    fn tree_rules_between_parent_and_child() {
        let all = province();
        let tree = AgencyTree::new(&all);
        for a in &all {
            if let Some(parent) = tree.parent(a) {
                assert_eq!(a.check_parent(parent), Ok(()), "{}", a.code);
            }
        }
        let get = |c: &str| tree.get(&code(c)).unwrap_or_else(|| panic!("{c}"));
        let refused = |child: &str, parent: &str| get(child).check_parent(get(parent)).is_err();
        assert!(refused(CENTRE_A, ROOT), "a commune centre belongs to a commune");
        assert!(refused(CENTRE_A, DEPT));
        assert!(refused(COMMUNE_A, CENTRE), "a commune belongs to the province");
        assert!(refused(CENTRE, DEPT), "a centre belongs to the province or a centre");
        assert!(refused(CENTRE, COMMUNE_A));
        assert!(!refused(DEPT, CENTRE), "other kinds hang anywhere");
    }

    #[test]
    fn normalize_checks_the_national_code_and_retirement() {
        let mut commune = agency(COMMUNE_A, AgencyKind::Commune, Some(ROOT));
        commune.admin_code = " 22366 ".to_owned();
        assert_eq!(commune.normalize(), Ok(()));
        assert_eq!(commune.admin_code, "22366");
        for bad in ["2236", "223660", "2236a"] {
            commune.admin_code = bad.to_owned();
            assert_eq!(
                commune.normalize().map_err(|e| e.field),
                Err("admin_code".to_owned()),
                "{bad}"
            );
        }
        let mut dept = agency(DEPT, AgencyKind::Department, Some(ROOT));
        dept.admin_code = "22366".to_owned();
        assert!(dept.normalize().is_err(), "only a commune has a national code");
        let mut moved = agency(COMMUNE_A, AgencyKind::Commune, Some(CENTRE));
        assert!(moved.normalize().is_err(), "a commune hangs from the province root");
        let mut heir = agency(DEPT, AgencyKind::Department, Some(ROOT));
        heir.successor = Some(code(COMMUNE_A));
        assert!(heir.normalize().is_err(), "a successor only for a retired agency");
        heir.retired_at = Some(datetime!(2025-07-01 00:00 UTC));
        assert_eq!(heir.normalize(), Ok(()));
        heir.successor = Some(code(DEPT));
        assert!(heir.normalize().is_err(), "an agency does not succeed itself");
    }
}
