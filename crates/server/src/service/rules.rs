//! The rule versions (docs/rules.md §9, issue 25 item 3): the book of the shipped and
//! loaded versions that evaluation and the forms read the rules in force from, the list
//! both skins show, and the administrator's load of a new version from a file (checked,
//! stored as loaded, audited).
//!
//! The book is cached per process and rebuilt when the number of loaded versions in the
//! database changes (versions are only added), checked at most once per
//! [`crate::province_cache::RECHECK`], so a version loaded on another node is in force
//! here within a second.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use motcua_core::catalogue::Invalid;
use motcua_core::rules::{Conflict, RuleBook, RuleSet};
use motcua_store::Db;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::audit::{self, Actor, Event};
use crate::auth::Principal;
use crate::error::AppError;
use crate::province_cache::RECHECK;
use crate::state::AppState;

struct Cached {
    generation: i64,
    checked: Instant,
    book: Arc<RuleBook>,
}

/// The rule book of this process.
#[derive(Default)]
pub struct RuleCache {
    cached: RwLock<Option<Cached>>,
}

impl std::fmt::Debug for RuleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RuleCache")
    }
}

impl RuleCache {
    /// The book, rebuilt from the database when a version was loaded since it was read.
    pub async fn get(&self, db: &Db) -> Result<Arc<RuleBook>, AppError> {
        let fresh = |c: &Cached| c.checked.elapsed() < RECHECK;
        if let Some(c) = self.cached.read().ok().as_ref().and_then(|g| g.as_ref())
            && fresh(c)
        {
            return Ok(Arc::clone(&c.book));
        }
        let mut tx = db.begin_read().await?;
        let generation = motcua_store::rules::generation(&mut tx).await?;
        let known = self.cached.read().ok().and_then(|g| {
            g.as_ref()
                .filter(|c| c.generation == generation)
                .map(|c| Arc::clone(&c.book))
        });
        let book = match known {
            Some(book) => book,
            None => Arc::new(motcua_store::rules::book(&mut tx).await?),
        };
        drop(tx);
        if let Ok(mut g) = self.cached.write() {
            *g = Some(Cached {
                generation,
                checked: Instant::now(),
                book: Arc::clone(&book),
            });
        }
        Ok(book)
    }

    /// Forgets the book (after a load through this process).
    pub fn invalidate(&self) {
        if let Ok(mut g) = self.cached.write() {
            *g = None;
        }
    }
}

/// The book of the shipped and loaded versions.
pub async fn book(state: &AppState) -> Result<Arc<RuleBook>, AppError> {
    state.rules.get(&state.db).await
}

/// A version as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Version {
    /// Its name.
    pub version: String,
    /// What it is.
    pub title: String,
    /// The first day in force (`YYYY-MM-DD`).
    pub effective_from: String,
    /// The first day in force as people read it (dd/mm/yyyy).
    pub effective_label: String,
    /// The legal texts it comes from.
    pub sources: Vec<String>,
    /// Whether it is in force today.
    pub in_force: bool,
    /// Shipped with motcua (otherwise loaded by an administrator).
    pub shipped: bool,
    /// When it was loaded (RFC 3339), for a loaded one.
    pub loaded_at: Option<String>,
    /// Who loaded it, for a loaded one.
    pub loaded_by: Option<String>,
    /// The SHA-256 of the file as loaded, for a loaded one.
    pub sha256: Option<String>,
}

/// Every version, earliest first, with the one in force today marked (anyone: the rules
/// are public).
pub async fn versions(state: &AppState) -> Result<Vec<Version>, AppError> {
    let book = book(state).await?;
    let mut tx = state.db.begin_read().await?;
    let loaded = motcua_store::rules::loaded(&mut tx).await?;
    drop(tx);
    let today = motcua_core::rules::day_of(state.clock.now());
    let current = book.in_force(today).version.clone();
    Ok(book
        .versions()
        .iter()
        .map(|s| {
            let l = loaded.iter().find(|l| l.set.version == s.version);
            Version {
                version: s.version.clone(),
                title: s.title.clone(),
                effective_from: s.effective_from.to_string(),
                effective_label: motcua_core::calendar::vn_date(s.effective_from),
                sources: s.sources.clone(),
                in_force: s.version == current,
                shipped: l.is_none(),
                loaded_at: l.and_then(|l| l.loaded_at.format(&time::format_description::well_known::Rfc3339).ok()),
                loaded_by: l.map(|l| l.loaded_by.clone()),
                sha256: l.map(|l| l.sha256.clone()),
            }
        })
        .collect())
}

/// Version `name` in full.
pub async fn version(state: &AppState, name: &str) -> Result<RuleSet, AppError> {
    book(state)
        .await?
        .version(name)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("Không có phiên bản quy định «{name}».")))
}

/// Loads a new version from the text of a rule file (an administrator of the default
/// province; audited). Every problem of the file is reported at once (422); a version of
/// the same name or first day is refused (409). Nothing already scored changes except the
/// periods from its first day on.
pub async fn load(state: &AppState, p: &Principal, text: &str) -> Result<Version, AppError> {
    let province = state.province(None).await?;
    if !p.access.can_administer(&province) {
        return Err(AppError::Forbidden(
            "Chỉ quản trị hệ thống mới nạp được phiên bản quy định mới.".to_owned(),
        ));
    }
    let set = RuleSet::parse(text).map_err(|problems| {
        AppError::fields(
            "invalid_rules",
            problems.into_iter().map(|p| Invalid::new(p.field, p.message)).collect(),
        )
    })?;
    let conflict = |c: Conflict| {
        AppError::Conflict(match c {
            Conflict::SameName(v) => format!("Đã có phiên bản quy định «{v}»; hãy đặt tên khác."),
            Conflict::SameDay(v) => format!(
                "Phiên bản «{v}» đã có hiệu lực từ ngày {}; mỗi ngày chỉ một phiên bản bắt đầu có hiệu lực.",
                motcua_core::calendar::vn_date(set.effective_from)
            ),
        })
    };
    if let Some(c) = book(state).await?.conflict(&set) {
        return Err(conflict(c));
    }
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let now = state.clock.now();
    let actor = Actor::of(p);
    let mut tx = state.db.begin_write().await?;
    if !motcua_store::rules::insert(&mut tx, &set, text, &sha256, &actor.id, now).await? {
        // Loaded meanwhile by another request or node.
        return Err(AppError::Conflict(format!(
            "Phiên bản quy định «{}» hoặc một phiên bản có hiệu lực cùng ngày vừa được nạp.",
            set.version
        )));
    }
    audit::record(
        &mut tx,
        &actor,
        Event {
            action: "rules.load",
            object_type: "rule_set",
            object_id: &set.version,
            province: Some(province.as_str()),
            before: None,
            after: Some(json!({
                "version": set.version,
                "title": set.title,
                "effective_from": set.effective_from.to_string(),
                "sha256": sha256,
                "sources": set.sources,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    state.rules.invalidate();
    tracing::info!(version = set.version, effective_from = %set.effective_from, "rule set loaded");
    versions(state)
        .await?
        .into_iter()
        .find(|v| v.version == set.version)
        .ok_or_else(|| AppError::Internal("the loaded rule set is not in the book".to_owned()))
}

/// The rule version in force at an instant, held with its book.
#[derive(Debug, Clone)]
pub struct InForce {
    book: Arc<RuleBook>,
    at: time::OffsetDateTime,
}

impl std::ops::Deref for InForce {
    type Target = RuleSet;

    fn deref(&self) -> &RuleSet {
        self.book.in_force_at(self.at)
    }
}

impl InForce {
    /// The label of `status` under this version.
    pub fn label(&self, status: motcua_core::dossier::Status) -> String {
        self.status_label(status).to_owned()
    }
}

/// The rules in force now: what the pages and the API show today (the status labels).
pub async fn now(state: &AppState) -> Result<InForce, AppError> {
    Ok(InForce {
        book: book(state).await?,
        at: state.clock.now(),
    })
}
