//! The rule versions an administrator loaded (docs/rules.md §9): each kept as loaded, its
//! JSON text and SHA-256, beside the versions motcua ships (`motcua_core::rules`).
//! Versions are only added, so their number is the generation a cache compares.

use motcua_core::rules::{RuleBook, RuleSet};
use time::OffsetDateTime;

use crate::{Result, StoreError, Tx, exec, from_millis, on, to_millis};

/// A loaded version as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The version.
    pub set: RuleSet,
    /// The SHA-256 (hex) of the file as loaded.
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: OffsetDateTime,
    /// Who loaded it.
    pub loaded_by: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    body: String,
    sha256: String,
    loaded_at: i64,
    loaded_by: String,
}

/// How many versions were loaded: grows with every load (none is ever removed).
pub async fn generation(tx: &mut Tx) -> Result<i64> {
    Ok(on!(tx, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM rule_sets").fetch_one(c).await
    })?)
}

/// Every loaded version, earliest in force first.
pub async fn loaded(tx: &mut Tx) -> Result<Vec<Loaded>> {
    let rows: Vec<Row> = on!(tx, |c| {
        sqlx::query_as("SELECT body, sha256, loaded_at, loaded_by FROM rule_sets ORDER BY effective_from")
            .fetch_all(c)
            .await
    })?;
    rows.into_iter()
        .map(|r| {
            let set =
                RuleSet::parse(&r.body).map_err(|p| StoreError::Io(format!("stored rule set is invalid: {p:?}")))?;
            Ok(Loaded {
                set,
                sha256: r.sha256,
                loaded_at: from_millis(r.loaded_at),
                loaded_by: r.loaded_by,
            })
        })
        .collect()
}

/// The book of the shipped and loaded versions.
pub async fn book(tx: &mut Tx) -> Result<RuleBook> {
    Ok(RuleBook::with(loaded(tx).await?.into_iter().map(|l| l.set)))
}

/// Stores a checked version loaded from `body` (the file's text). False when a version of
/// that name or day is stored already (the caller checks the shipped ones).
pub async fn insert(
    tx: &mut Tx,
    set: &RuleSet,
    body: &str,
    sha256: &str,
    by: &str,
    at: OffsetDateTime,
) -> Result<bool> {
    let day = set.effective_from.to_string();
    let n = exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO rule_sets (version, effective_from, body, sha256, loaded_at, loaded_by)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(&set.version)
        .bind(&day)
        .bind(body)
        .bind(sha256)
        .bind(to_millis(at))
        .bind(by)
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}
