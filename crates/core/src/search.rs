//! Ranking of procedures against a search query, on folded text (see [`crate::text::fold`]).

use crate::text::{fold, words};

/// Longest query accepted, in characters.
pub const MAX_QUERY: usize = 200;

/// A query folded once and reused against every candidate.
#[derive(Debug, Clone)]
pub struct Query {
    folded: String,
    words: Vec<String>,
    grams: u128,
}

/// The characters and character pairs inside the words of a folded text, hashed into 128
/// bits. A query can only match a candidate whose grams include all of the query's: each
/// tier of [`Query::score`] needs every query word to be a prefix of a word of the name or
/// of the code, and a prefix's characters and pairs are the word's. Comparing two masks
/// rejects most of a catalogue before any text is scanned.
pub fn grams(folded: &str) -> u128 {
    let mut mask = 0u128;
    for w in words(folded) {
        let b = w.as_bytes();
        for (i, &c) in b.iter().enumerate() {
            mask |= 1u128 << (u32::from(c) % 128);
            if let Some(&d) = b.get(i + 1) {
                mask |= 1u128 << ((u32::from(c) * 31 + u32::from(d) * 7 + 11) % 128);
            }
        }
    }
    mask
}

/// The grams of a candidate: its folded name and its code (compared case-insensitively).
pub fn candidate_grams(folded_name: &str, code: &str) -> u128 {
    grams(folded_name) | grams(&code.to_ascii_lowercase())
}

impl Query {
    /// Folds the raw query; `None` when nothing searchable remains.
    pub fn new(raw: &str) -> Option<Self> {
        let folded = fold(raw);
        if folded.is_empty() {
            return None;
        }
        let words = words(&folded).map(str::to_owned).collect();
        let grams = grams(&folded);
        Some(Self { folded, words, grams })
    }

    /// Whether a candidate with these [`candidate_grams`] can match at all; when false,
    /// [`Query::score`] is certainly `None`.
    pub fn may_match(&self, candidate_grams: u128) -> bool {
        self.grams & !candidate_grams == 0
    }

    /// The folded query text.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// Scores a candidate given its folded name and its code (as stored, e.g. `1.000948`);
    /// `None` when it does not match. Higher is better.
    ///
    /// Tiers, best first: the exact code; the exact name or a code prefix; the name
    /// starting with the query; the query as a phrase inside the name; every query word
    /// starting some word of the name, in any order. Within a tier, shorter names rank
    /// higher, since they are closer to what was typed.
    pub fn score(&self, folded_name: &str, code: &str) -> Option<u32> {
        let q = self.folded.as_bytes();
        let code = code.as_bytes();
        let tier = if code.eq_ignore_ascii_case(q) {
            5
        } else if folded_name == self.folded
            || (self.folded.contains('.') && code.len() >= q.len() && code[..q.len()].eq_ignore_ascii_case(q))
        {
            4
        } else if starts_with_phrase(folded_name, &self.folded) {
            3
        } else if contains_phrase(folded_name, &self.folded) {
            2
        } else if self
            .words
            .iter()
            .all(|q| words(folded_name).any(|w| w.starts_with(q.as_str())))
        {
            1
        } else {
            return None;
        };
        let name_words = u32::try_from(words(folded_name).count()).unwrap_or(u32::MAX).min(255);
        Some(tier * 256 + (255 - name_words))
    }
}

fn starts_with_phrase(name: &str, phrase: &str) -> bool {
    name.starts_with(phrase)
}

fn contains_phrase(name: &str, phrase: &str) -> bool {
    name.match_indices(phrase)
        .any(|(i, _)| i == 0 || name.as_bytes()[i - 1] == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(q: &str, name: &str, code: &str) -> Option<u32> {
        Query::new(q).expect("query").score(&fold(name), code)
    }

    #[test]
    fn variants_score_alike() {
        let name = "Cấp giấy phép xây dựng nhà ở riêng lẻ";
        let a = score("cap giay phep xay dung", name, "1.000001");
        let b = score("cấp giấy phép xây dựng", name, "1.000001");
        let c = score("CẤP GIẤY PHÉP XÂY DỰNG", name, "1.000001");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert_eq!(b, c);
    }

    #[test]
    fn tiers_order() {
        let exact_code = score("1.000948", "Cấp phiếu", "1.000948").expect("code");
        let starts = score("cap giay phep", "Cấp giấy phép lao động", "1.1").expect("starts");
        let inside = score("giay phep", "Cấp giấy phép lao động", "1.1").expect("inside");
        let words_any = score("lao dong giay", "Cấp giấy phép lao động", "1.1").expect("words");
        assert!(exact_code > starts && starts > inside && inside > words_any);
        assert!(score("xay dung", "Cấp giấy phép lao động", "1.1").is_none());
        // shorter names first within a tier
        assert!(score("cap", "Cấp phép", "1").expect("a") > score("cap", "Cấp giấy phép dài hơn", "1").expect("b"));
        // phrases match at word starts only
        assert!(score("ep lao", "Cấp giấy phép lao động", "1.1").is_none());
    }

    #[test]
    fn the_gram_filter_never_hides_a_match() {
        let demo = crate::demo::ninh_thuan();
        let queries = [
            "cap giay phep xay dung",
            "ly lich tu phap",
            "ho tich",
            "dat dai",
            "1.900141",
            "1.00",
            "giay phep",
            "thanh lap doanh nghiep",
            "a",
            "xay",
            "dang ky kinh doanh",
            "cap lai",
            "phep lao",
            "ep lao",
            "1",
        ];
        let mut matched = 0;
        for q in queries {
            let query = Query::new(q).expect("query");
            for p in &demo.procedures {
                let current = p.versions.last().expect("a version");
                let name = fold(&current.content.name);
                let code = p.code.as_str();
                if query.score(&name, code).is_some() {
                    matched += 1;
                    assert!(query.may_match(candidate_grams(&name, code)), "{q} hid {code} {name}");
                }
            }
        }
        assert!(matched > 100, "the queries match something: {matched}");
    }

    #[test]
    fn empty_query_is_none() {
        assert!(Query::new("  -- ").is_none());
    }
}
