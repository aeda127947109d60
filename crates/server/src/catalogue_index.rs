//! In-memory search over each province's current procedures.
//!
//! A province has about 1,400 procedures: scanning them in memory answers a search in
//! microseconds, far faster than any SQL over folded text. The index lives in a
//! [`ProvinceCache`], rebuilt when the province's data generation changes.

use std::sync::Arc;

use motcua_core::catalogue::{OnlineMode, ProcedureSummary};
use motcua_core::codes::{AgencyCode, FieldCode, ProvinceCode};
use motcua_core::search::{Query, candidate_grams};
use motcua_core::text::fold;
use motcua_store::{Db, catalogue};

use crate::error::AppError;
use crate::province_cache::ProvinceCache;

/// One procedure as the index holds it.
#[derive(Debug)]
pub struct Entry {
    /// What lists show.
    pub summary: ProcedureSummary,
    /// The folded name, matched against folded queries.
    folded_name: String,
    /// The name's and code's grams: most entries are rejected on these alone.
    grams: u128,
}

/// The index of one province at one catalogue generation.
#[derive(Debug)]
pub struct ProvinceIndex {
    /// Entries ordered by code.
    pub entries: Vec<Entry>,
}

/// Search filters and position.
#[derive(Debug, Default, Clone)]
pub struct SearchParams {
    /// Free text (name or code); `None` lists by code.
    pub query: Option<Query>,
    /// Only this responsible agency.
    pub agency: Option<AgencyCode>,
    /// Only this field.
    pub field: Option<FieldCode>,
    /// Only this online mode.
    pub online: Option<OnlineMode>,
    /// Only procedures received (or not) at the centre.
    pub at_centre: Option<bool>,
    /// Resume after this position.
    pub after: Option<Cursor>,
    /// Page size.
    pub limit: usize,
}

/// A position in a result list: the last item's score and code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Score of the last item returned (0 when listing without a query).
    pub score: u32,
    /// Code of the last item returned.
    pub code: String,
}

/// One page of results.
#[derive(Debug)]
pub struct Page<'a> {
    /// The items, best first.
    pub items: Vec<&'a ProcedureSummary>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
    /// How many procedures match in all.
    pub total: usize,
}

impl ProvinceIndex {
    fn build(summaries: Vec<ProcedureSummary>) -> Self {
        let entries = summaries
            .into_iter()
            .map(|s| {
                let folded_name = fold(&s.name);
                Entry {
                    grams: candidate_grams(&folded_name, s.code.as_str()),
                    folded_name,
                    summary: s,
                }
            })
            .collect();
        Self { entries }
    }

    /// Runs a search.
    pub fn search(&self, p: &SearchParams) -> Page<'_> {
        let mut hits: Vec<(u32, &Entry)> = self
            .entries
            .iter()
            .filter(|e| p.agency.as_ref().is_none_or(|a| &e.summary.agency_code == a))
            .filter(|e| p.field.as_ref().is_none_or(|f| &e.summary.field_code == f))
            .filter(|e| p.online.is_none_or(|o| e.summary.online_mode == o))
            .filter(|e| p.at_centre.is_none_or(|c| e.summary.at_centre == c))
            .filter_map(|e| match &p.query {
                Some(q) if !q.may_match(e.grams) => None,
                Some(q) => q.score(&e.folded_name, e.summary.code.as_str()).map(|s| (s, e)),
                None => Some((0, e)),
            })
            .collect();
        let total = hits.len();
        // Best score first, then by code: a total order, so cursors are stable.
        hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.summary.code.cmp(&b.1.summary.code)));
        let start = match &p.after {
            Some(c) => hits.partition_point(|(score, e)| {
                *score > c.score || (*score == c.score && e.summary.code.as_str() <= c.code.as_str())
            }),
            None => 0,
        };
        let page: Vec<(u32, &Entry)> = hits[start..].iter().take(p.limit).copied().collect();
        let next = if start + page.len() < hits.len() {
            page.last().map(|(score, e)| Cursor {
                score: *score,
                code: e.summary.code.to_string(),
            })
        } else {
            None
        };
        Page {
            items: page.into_iter().map(|(_, e)| &e.summary).collect(),
            next,
            total,
        }
    }
}

/// The indexes of every province, loaded on first use.
#[derive(Debug, Default)]
pub struct CatalogueIndex {
    cache: ProvinceCache<ProvinceIndex>,
}

impl CatalogueIndex {
    /// The current index of a province, rebuilt if the catalogue changed.
    pub async fn get(&self, db: &Db, province: &ProvinceCode) -> Result<Arc<ProvinceIndex>, AppError> {
        self.cache
            .get(db, province, async |tx| {
                Ok(ProvinceIndex::build(
                    catalogue::procedure_summaries(tx, province).await?,
                ))
            })
            .await
    }

    /// Drops a province's index after this process changed its catalogue.
    pub fn invalidate(&self, province: &ProvinceCode) {
        self.cache.invalidate(province);
    }
}
