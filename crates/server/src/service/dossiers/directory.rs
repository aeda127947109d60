//! The agencies of a province and the current procedures intake uses, each cached per
//! catalogue generation.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use motcua_core::catalogue::{Agency, AgencyKind, ProcedureVersion};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::map::AgencyTree;
use motcua_store::catalogue;

use crate::error::AppError;
use crate::state::AppState;

/// The agencies of a province by code, as a tree, with the old codes that resolve to them
/// (cached per catalogue generation).
#[derive(Debug)]
pub struct Directory {
    /// Code → (name, kind).
    pub agencies: BTreeMap<String, (String, AgencyKind)>,
    /// The same agencies as a tree: centres, communes, what lies within what.
    pub tree: AgencyTree,
    /// Old code → the code it resolves to (docs/map-2025.md §2.2).
    aliases: HashMap<AgencyCode, AgencyCode>,
}

impl Directory {
    /// The agency's name, or its code when unknown.
    pub fn name(&self, code: &str) -> String {
        self.agencies
            .get(code)
            .map_or_else(|| code.to_owned(), |(n, _)| n.clone())
    }

    /// Whether `code` is one of the province's centres (the provincial centre, a branch, a
    /// commune's), working or retired.
    pub fn is_centre(&self, code: &str) -> bool {
        self.agencies.get(code).is_some_and(|(_, kind)| kind.is_centre())
    }

    /// The province's working centres as a choice (code, name, whether it is `chosen`), the
    /// provincial centre first; empty when it has only one, so there is nothing to choose.
    pub fn centre_choices(&self, chosen: Option<&str>) -> Vec<(String, String, bool)> {
        let centres = self.tree.centres();
        if centres.len() < 2 {
            return Vec::new();
        }
        centres
            .into_iter()
            .map(|a| {
                (
                    a.code.as_str().to_owned(),
                    a.name.clone(),
                    chosen == Some(a.code.as_str()),
                )
            })
            .collect()
    }

    /// The province's provincial one-stop centre.
    pub fn centre(&self) -> Option<AgencyCode> {
        self.tree.provincial_centre().map(|a| a.code.clone())
    }

    /// The agency `code` names now: the one an alias sends it to, else the agency with
    /// that code (retired or not), as `store::catalogue::resolve_agency` answers.
    pub fn resolve(&self, code: &AgencyCode) -> Option<&Agency> {
        self.tree.get(self.aliases.get(code).unwrap_or(code))
    }
}

/// The current versions of the procedures intake has used in a province, kept while the
/// province's catalogue generation stands ([`crate::province_cache::ProvinceCache`]): an
/// intake reads neither the version number nor the content (two statements and a JSON
/// parse of several kilobytes) again.
#[derive(Debug, Default)]
pub struct Procedures {
    by_code: RwLock<HashMap<String, Arc<ProcedureVersion>>>,
}

/// Most procedures kept per province (the demo has 1,388; each is a few kilobytes).
const MAX_CACHED_PROCEDURES: usize = 2_000;

/// The current version of procedure `code` of `province` (404 if none).
pub(super) async fn current_procedure(
    state: &AppState,
    province: &ProvinceCode,
    code: &ProcedureCode,
) -> Result<Arc<ProcedureVersion>, AppError> {
    let kept = state
        .procedures
        .get(&state.db, province, async |_| Ok(Procedures::default()))
        .await?;
    if let Some(v) = kept.by_code.read().ok().and_then(|m| m.get(code.as_str()).cloned()) {
        return Ok(v);
    }
    let version = {
        let mut tx = state.db.begin_read().await?;
        catalogue::procedure(&mut tx, province, code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("Không có thủ tục {code} trong danh mục của tỉnh.")))?
    };
    let version = Arc::new(version);
    if let Ok(mut m) = kept.by_code.write()
        && m.len() < MAX_CACHED_PROCEDURES
    {
        m.insert(code.as_str().to_owned(), Arc::clone(&version));
    }
    Ok(version)
}

/// The directory of `province`.
pub async fn directory(state: &AppState, province: &ProvinceCode) -> Result<Arc<Directory>, AppError> {
    state
        .directories
        .get(&state.db, province, async |tx| {
            let agencies = catalogue::agencies(tx, province).await?;
            let aliases = catalogue::agency_aliases(tx, province).await?;
            Ok(Directory {
                tree: AgencyTree::new(&agencies),
                agencies: agencies
                    .into_iter()
                    .map(|a| (a.code.as_str().to_owned(), (a.name, a.kind)))
                    .collect(),
                aliases: aliases.into_iter().map(|a| (a.old_code, a.code)).collect(),
            })
        })
        .await
}
