//! In-memory search over each province's current procedures.
//!
//! A province has about 1,400 procedures: scanning them in memory answers a search in
//! microseconds, far faster than any SQL over folded text. The index lives in a
//! [`ProvinceCache`], rebuilt when the province's data generation changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

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
    /// Answers already given at this generation, as sent (JSON), by [`SearchParams::key`].
    /// Searches repeat a great deal (the same few words typed at every counter and on the
    /// portal); a repeated one costs a map lookup. The answers die with the index when the
    /// catalogue changes, so none can be stale.
    answers: Mutex<HashMap<String, Bytes>>,
}

/// Most answers one index keeps; when full it starts again from empty (cheap, and the
/// frequent searches come back at once).
const ANSWERS: usize = 4096;

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

impl SearchParams {
    /// A key naming the search's answer: two searches with the same key get the same page
    /// (the query counts by its folded text, as the search does).
    pub fn key(&self) -> String {
        let mut k = String::with_capacity(64);
        let opt = |k: &mut String, v: Option<&str>| {
            k.push_str(v.unwrap_or("-"));
            k.push('\u{1f}');
        };
        opt(&mut k, self.query.as_ref().map(Query::folded));
        opt(&mut k, self.agency.as_ref().map(AgencyCode::as_str));
        opt(&mut k, self.field.as_ref().map(FieldCode::as_str));
        opt(&mut k, self.online.map(OnlineMode::as_str));
        opt(&mut k, self.at_centre.map(|c| if c { "1" } else { "0" }));
        let after = self.after.as_ref().map(|c| format!("{}:{}", c.score, c.code));
        opt(&mut k, after.as_deref());
        k.push_str(&self.limit.to_string());
        k
    }
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
        Self {
            entries,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// The answer given earlier to the search with this key, if kept.
    pub fn answer(&self, key: &str) -> Option<Bytes> {
        self.answers.lock().ok()?.get(key).cloned()
    }

    /// Keeps `body` as the answer to the search with this key.
    pub fn keep_answer(&self, key: String, body: Bytes) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= ANSWERS {
                answers.clear();
            }
            answers.insert(key, body);
        }
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
