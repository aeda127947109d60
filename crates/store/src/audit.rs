//! The audit trail: append-only, hash-chained records of every state change.
//!
//! - **Same transaction.** [`append`] takes the caller's write transaction, so a record
//!   exists exactly when the change it describes was committed: a rollback takes both.
//! - **Chains.** Records belong to a named chain and are numbered 1, 2, 3… within it. Each
//!   record's hash covers the previous record's hash ([`motcua_core::audit::entry_hash`]).
//!   Appends to one chain are serialised by its row in `audit_heads`, so the chain is the
//!   unit of write throughput. The server uses one chain per province (named by the
//!   province code) and `system` for events that belong to none; a transaction appends to
//!   one chain, or to several in a fixed (sorted) order, so that PostgreSQL transactions
//!   cannot deadlock on two heads.
//! - **Heads.** `audit_heads` holds each chain's last `seq` and hash. Appends lock it
//!   (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite the single writer and `BEGIN
//!   IMMEDIATE` already serialise), and [`verify`] compares it with the last stored row, so
//!   deleting the newest records is detected too.
//! - **Append-only.** Triggers refuse `UPDATE` and `DELETE` (and `TRUNCATE` on PostgreSQL).
//!   Whoever controls the database can drop them, which is why the chain exists. The chain
//!   in turn cannot catch someone who rewrites a record *and* recomputes every later hash
//!   and the head, or who deletes the newest records and rewinds the head: for that the
//!   heads are written down outside the database ([`heads`], an [`Anchor`] per line of an
//!   anchor file) and compared with the chains ([`check_anchors`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use motcua_core::audit::{Anchor, AnchoredHead, AuditEntry, GENESIS_HASH, HashFields, canonical_json, entry_hash};
use motcua_core::catalogue::Invalid;
use serde::Serialize;
use time::OffsetDateTime;

use crate::batch::{self, BatchTx, Val};
use crate::{Arg, Backend, Db, Filters, Result, StoreError, Tx, exec, fetch_all, on, to_millis};

/// Most records one [`list`] call returns.
pub const MAX_LIST_LIMIT: usize = 500;

/// Records [`verify`] reads per query: enough to amortise round trips, few enough that
/// millions of records never sit in memory at once.
const VERIFY_PAGE: i64 = 10_000;

/// A record to append; see [`AuditEntry`] for what each field means.
#[derive(Debug, Clone, Copy)]
pub struct NewAuditRecord<'a> {
    /// Chain to append to (the province code, or `system`).
    pub chain: &'a str,
    /// User id, or [`motcua_core::audit::SYSTEM_ACTOR`].
    pub actor: &'a str,
    /// The actor's display name now.
    pub actor_name: &'a str,
    /// Client address, empty when there is none.
    pub ip: &'a str,
    /// What was done, e.g. `procedure.update`.
    pub action: &'a str,
    /// Kind of object changed.
    pub object_type: &'a str,
    /// Identifier of the object changed.
    pub object_id: &'a str,
    /// Province of the object, if any.
    pub province_code: Option<&'a str>,
    /// The object before the change, where it matters.
    pub before: Option<&'a serde_json::Value>,
    /// The object after the change, where it matters.
    pub after: Option<&'a serde_json::Value>,
}

/// One stored row, as read back for listing and verification.
#[derive(sqlx::FromRow)]
struct Row {
    chain: String,
    seq: i64,
    at: i64,
    actor: String,
    actor_name: String,
    ip: String,
    action: String,
    object_type: String,
    object_id: String,
    province_code: Option<String>,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

const COLUMNS: &str = "chain, seq, at, actor, actor_name, ip, action, object_type, object_id, \
                       province_code, before_json, after_json, prev_hash, hash";

impl Row {
    /// The fields as hashed: the stored JSON text as it is, never re-serialised.
    fn hash_fields(&self) -> HashFields<'_> {
        HashFields {
            chain: &self.chain,
            seq: self.seq,
            at_ms: self.at,
            actor: &self.actor,
            actor_name: &self.actor_name,
            ip: &self.ip,
            action: &self.action,
            object_type: &self.object_type,
            object_id: &self.object_id,
            province_code: self.province_code.as_deref(),
            before_json: self.before_json.as_deref(),
            after_json: self.after_json.as_deref(),
        }
    }

    fn into_entry(self) -> Result<AuditEntry> {
        let parse = |text: Option<String>| -> Result<Option<serde_json::Value>> {
            Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
        };
        Ok(AuditEntry {
            before: parse(self.before_json)?,
            after: parse(self.after_json)?,
            chain: self.chain,
            seq: self.seq,
            at_ms: self.at,
            actor: self.actor,
            actor_name: self.actor_name,
            ip: self.ip,
            action: self.action,
            object_type: self.object_type,
            object_id: self.object_id,
            province_code: self.province_code,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// Appends `rec` to its chain inside the caller's write transaction and returns the
/// stored entry. The chain stays locked until the transaction ends, so keep the
/// transaction short, and append to at most one chain per transaction (two transactions
/// taking two chains in opposite orders would deadlock on PostgreSQL).
///
/// `at` is recorded as given. It orders the browsing view; `seq` is the order of
/// commits within the chain, and the two can disagree by the length of a transaction.
pub async fn append(tx: &mut Tx, rec: &NewAuditRecord<'_>, at: OffsetDateTime) -> Result<AuditEntry> {
    check(rec)?;
    let (seq, hash) = lock_head(tx, rec.chain).await?;
    let (row, head, entry) = next_entry(rec, at, &hash, seq, seq);
    batch::insert_rows(tx, row.into, &[&row]).await?;
    store_head(tx, rec.chain, &head).await?;
    Ok(entry)
}

/// [`append`] in a job of a group commit: the chain's head is read (and locked) once per
/// batch and stored once before it commits, and the record is inserted with the batch's
/// other rows at its end (`batch::Deferred`).
pub async fn append_in_batch(b: &mut BatchTx, rec: &NewAuditRecord<'_>, at: OffsetDateTime) -> Result<AuditEntry> {
    check(rec)?;
    let (head_seq, head_hash, stored_seq) = match b.layers.head(rec.chain) {
        Some(h) => (h.seq, h.hash, h.stored_seq),
        None => {
            let (seq, hash) = lock_head(b.tx().await?, rec.chain).await?;
            (seq, hash, seq)
        }
    };
    let (row, head, entry) = next_entry(rec, at, &head_hash, head_seq, stored_seq);
    b.layers.job.rows.push(row);
    b.layers.job.heads.insert(rec.chain.to_owned(), head);
    Ok(entry)
}

fn check(rec: &NewAuditRecord<'_>) -> Result<()> {
    for (field, value) in [
        ("chain", rec.chain),
        ("actor", rec.actor),
        ("action", rec.action),
        ("object_type", rec.object_type),
    ] {
        if value.trim().is_empty() {
            return Err(Invalid::new(field, "không được để trống").into());
        }
    }
    Ok(())
}

/// The record that follows the head (`head_seq`, `head_hash`) of its chain: its row, the
/// chain's new head (`stored_seq` being the seq stored in `audit_heads`) and the entry.
fn next_entry(
    rec: &NewAuditRecord<'_>,
    at: OffsetDateTime,
    head_hash: &str,
    head_seq: i64,
    stored_seq: i64,
) -> (batch::Row, batch::Head, AuditEntry) {
    let seq = head_seq + 1;
    let at_ms = to_millis(at);
    let before_json = rec.before.map(canonical_json);
    let after_json = rec.after.map(canonical_json);
    let hash = entry_hash(
        head_hash,
        &HashFields {
            chain: rec.chain,
            seq,
            at_ms,
            actor: rec.actor,
            actor_name: rec.actor_name,
            ip: rec.ip,
            action: rec.action,
            object_type: rec.object_type,
            object_id: rec.object_id,
            province_code: rec.province_code,
            before_json: before_json.as_deref(),
            after_json: after_json.as_deref(),
        },
    );
    let text = |t: &str| Val::Text(Some(t.to_owned()));
    let row = batch::Row {
        into: "audit_log (chain, seq, at, actor, actor_name, ip, action, object_type, object_id, \
               province_code, before_json, after_json, prev_hash, hash)",
        values: vec![
            text(rec.chain),
            Val::Int(seq),
            Val::Int(at_ms),
            text(rec.actor),
            text(rec.actor_name),
            text(rec.ip),
            text(rec.action),
            text(rec.object_type),
            text(rec.object_id),
            Val::Text(rec.province_code.map(str::to_owned)),
            Val::Text(before_json),
            Val::Text(after_json),
            text(head_hash),
            text(&hash),
        ],
    };
    let head = batch::Head {
        seq,
        hash: hash.clone(),
        stored_seq,
    };
    let entry = AuditEntry {
        chain: rec.chain.to_owned(),
        seq,
        at_ms,
        actor: rec.actor.to_owned(),
        actor_name: rec.actor_name.to_owned(),
        ip: rec.ip.to_owned(),
        action: rec.action.to_owned(),
        object_type: rec.object_type.to_owned(),
        object_id: rec.object_id.to_owned(),
        province_code: rec.province_code.map(str::to_owned),
        before: rec.before.cloned(),
        after: rec.after.cloned(),
        prev_hash: head_hash.to_owned(),
        hash,
    };
    (row, head, entry)
}

/// Moves the chain's head from `head.stored_seq` to `head`. The seq condition is a guard:
/// the head is locked, so it can only fail if someone edited audit_heads behind our back,
/// and then writing on would fork the chain.
pub(crate) async fn store_head(tx: &mut Tx, chain: &str, head: &crate::batch::Head) -> Result<()> {
    let updated = exec!(tx, |c| {
        sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE chain = $1 AND seq = $4")
            .bind(chain)
            .bind(head.seq)
            .bind(&head.hash)
            .bind(head.stored_seq)
            .execute(c)
            .await
    })?;
    if updated != 1 {
        return Err(StoreError::Conflict(format!(
            "đầu chuỗi nhật ký «{chain}» đã thay đổi trong khi ghi"
        )));
    }
    Ok(())
}

/// Reads the chain's head, locked for the rest of the transaction, creating it (at seq 0
/// with the genesis hash) on the chain's first append.
async fn lock_head(tx: &mut Tx, chain: &str) -> Result<(i64, String)> {
    let select = match tx.backend() {
        // SQLite has no row locks and needs none: BEGIN IMMEDIATE holds the database's
        // write lock for the whole transaction.
        Backend::Sqlite => "SELECT seq, hash FROM audit_heads WHERE chain = $1",
        // At READ COMMITTED (the default), a waiting FOR UPDATE returns the row as the
        // previous holder committed it, so the next seq is always computed from the latest.
        Backend::Postgres => "SELECT seq, hash FROM audit_heads WHERE chain = $1 FOR UPDATE",
    };
    let head: Option<(i64, String)> = on!(tx, |c| sqlx::query_as(select).bind(chain).fetch_optional(c).await)?;
    if let Some(head) = head {
        return Ok(head);
    }
    // Two first appends may race here. ON CONFLICT DO NOTHING makes the loser wait for the
    // winner's insert and then insert nothing instead of failing; its SELECT … FOR UPDATE
    // (a new statement, so a new snapshot) then sees and locks the winner's committed head.
    exec!(tx, |c| {
        sqlx::query("INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING")
            .bind(chain)
            .bind(GENESIS_HASH)
            .execute(c)
            .await
    })?;
    let head: Option<(i64, String)> = on!(tx, |c| sqlx::query_as(select).bind(chain).fetch_optional(c).await)?;
    head.ok_or_else(|| StoreError::Conflict(format!("không tạo được đầu chuỗi nhật ký «{chain}»")))
}

/// The first record at which a chain stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The chain.
    pub chain: String,
    /// The first broken record: edited, out of place, or missing.
    pub seq: i64,
    /// What is wrong, in Vietnamese, for the operator.
    pub reason: String,
}

/// Outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Chains examined.
    pub chains: usize,
    /// Records that verified (in a broken chain, those before the break).
    pub records: u64,
    /// The first break found, chains taken in name order; `None` when all is intact.
    pub first_break: Option<Break>,
}

impl VerifyReport {
    /// True when no chain is broken.
    pub fn is_ok(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Checks every chain: record hashes recomputed from the stored fields, `seq` running
/// 1, 2, 3… without gaps, each `prev_hash` equal to the previous record's hash, and the
/// head equal to the last record. Chains are read in pages of 10,000 records.
///
/// Everything is read in one snapshot, so appends committed meanwhile neither count nor
/// break anything. Each chain stops at its first break; the other chains are still
/// checked, and the report names the first break in chain-name order.
pub async fn verify(db: &Db) -> Result<VerifyReport> {
    let mut tx = db.begin_read().await?;
    if let Tx::Postgres(t) = &mut tx {
        // PostgreSQL's default READ COMMITTED takes a new snapshot per statement: the head
        // could then be read after appends the pages did not see. One snapshot for the
        // whole check avoids false alarms. (A SQLite read transaction is one snapshot.)
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            .execute(&mut **t)
            .await?;
    }
    let heads: Vec<(String, i64, String)> = on!(&mut tx, |c| {
        sqlx::query_as("SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
            .fetch_all(c)
            .await
    })?;
    let mut chains: BTreeMap<String, Option<(i64, String)>> = heads
        .into_iter()
        .map(|(chain, seq, hash)| (chain, Some((seq, hash))))
        .collect();
    // A chain whose head row was deleted still has records: find every chain name in the
    // log by walking the primary key one chain at a time (cheap, unlike DISTINCT over
    // millions of rows).
    let mut last: Option<String> = None;
    loop {
        let next: Option<String> = match &last {
            None => on!(&mut tx, |c| {
                sqlx::query_scalar("SELECT MIN(chain) FROM audit_log")
                    .fetch_one(c)
                    .await
            })?,
            Some(after) => on!(&mut tx, |c| {
                sqlx::query_scalar("SELECT MIN(chain) FROM audit_log WHERE chain > $1")
                    .bind(after)
                    .fetch_one(c)
                    .await
            })?,
        };
        let Some(next) = next else { break };
        chains.entry(next.clone()).or_insert(None);
        last = Some(next);
    }

    let mut report = VerifyReport {
        chains: chains.len(),
        records: 0,
        first_break: None,
    };
    for (chain, head) in &chains {
        let found = verify_chain(&mut tx, chain, head.as_ref(), &mut report.records).await?;
        if report.first_break.is_none() {
            report.first_break = found;
        }
    }
    Ok(report)
}

/// Verifies one chain, adding the records that pass to `records`; returns its first break.
async fn verify_chain(
    tx: &mut Tx,
    chain: &str,
    head: Option<&(i64, String)>,
    records: &mut u64,
) -> Result<Option<Break>> {
    let broken = |seq: i64, reason: String| {
        Ok(Some(Break {
            chain: chain.to_owned(),
            seq,
            reason,
        }))
    };
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3");
    let mut last_seq = 0_i64;
    let mut last_hash = GENESIS_HASH.to_owned();
    loop {
        let page: Vec<Row> = on!(tx, |c| {
            sqlx::query_as(&sql)
                .bind(chain)
                .bind(last_seq)
                .bind(VERIFY_PAGE)
                .fetch_all(c)
                .await
        })?;
        let full = i64::try_from(page.len()).unwrap_or(i64::MAX) == VERIFY_PAGE;
        for row in page {
            let expected = last_seq + 1;
            if row.seq < expected {
                // Only a forged row can sit below 1: the rows come in seq order after last_seq.
                return broken(row.seq, format!("số thứ tự {} không hợp lệ", row.seq));
            }
            if row.seq > expected {
                return broken(
                    expected,
                    format!("thiếu bản ghi {expected} (bản ghi kế tiếp được lưu là {})", row.seq),
                );
            }
            if row.prev_hash != last_hash {
                return broken(
                    row.seq,
                    format!(
                        "prev_hash không khớp với mã băm của bản ghi {} (bản ghi bị sửa, chèn hoặc đổi chỗ)",
                        row.seq - 1
                    ),
                );
            }
            if entry_hash(&row.prev_hash, &row.hash_fields()) != row.hash {
                return broken(row.seq, "nội dung không khớp với mã băm (bản ghi đã bị sửa)".to_owned());
            }
            *records += 1;
            last_seq = row.seq;
            last_hash = row.hash;
        }
        if !full {
            break;
        }
    }
    match head {
        None => broken(
            last_seq,
            "chuỗi không có dòng đầu chuỗi trong audit_heads (đã bị xoá)".to_owned(),
        ),
        Some((head_seq, _)) if *head_seq > last_seq => broken(
            last_seq + 1,
            format!(
                "thiếu bản ghi {}: đầu chuỗi ghi nhận {head_seq} bản ghi nhưng chỉ có {last_seq} bản ghi được lưu",
                last_seq + 1
            ),
        ),
        Some((head_seq, _)) if *head_seq < last_seq => broken(
            head_seq + 1,
            format!(
                "bản ghi {} nằm sau đầu chuỗi (đầu chuỗi dừng ở {head_seq})",
                head_seq + 1
            ),
        ),
        Some((head_seq, head_hash)) if *head_hash != last_hash => broken(
            *head_seq,
            format!("mã băm ở đầu chuỗi không khớp với bản ghi {head_seq}"),
        ),
        Some(_) => Ok(None),
    }
}

/// Every chain's head now, in chain-name order: what an [`Anchor`] writes down.
pub async fn heads(db: &Db) -> Result<Vec<AnchoredHead>> {
    let mut tx = db.begin_read().await?;
    let rows: Vec<(String, i64, String)> = on!(&mut tx, |c| {
        sqlx::query_as("SELECT chain, seq, hash FROM audit_heads ORDER BY chain")
            .fetch_all(c)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(chain, seq, hash)| AnchoredHead { chain, seq, hash })
        .collect())
}

/// Outcome of [`check_anchors`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorReport {
    /// Anchors read.
    pub anchors: usize,
    /// Distinct anchored records looked up.
    pub records: usize,
    /// The first anchored record that is missing or differs, oldest anchor first.
    pub first_break: Option<Break>,
}

/// Compares the chains with anchors written down earlier ([`heads`]): every anchored record
/// must still be stored with the anchored hash. A record missing means the newest records
/// were deleted (and the head rewound) or the whole chain was; a different hash means the
/// history was rewritten and every later hash recomputed. Together with [`verify`], which
/// proves each chain links up to its head, this also vouches for every record before an
/// anchored one. Two anchors that name one record with different hashes are a break too
/// (the anchor file itself was edited, or the chain was rewritten between the two).
pub async fn check_anchors(db: &Db, anchors: &[Anchor]) -> Result<AnchorReport> {
    // (chain, seq) -> (hash, when first anchored); heads unchanged between anchors are
    // looked up once.
    let mut wanted: BTreeMap<(&str, i64), (&str, i64)> = BTreeMap::new();
    let mut report = AnchorReport {
        anchors: anchors.len(),
        records: 0,
        first_break: None,
    };
    let when = |ms: i64| motcua_core::calendar::vn_datetime(crate::from_millis(ms));
    for a in anchors {
        for h in &a.heads {
            if h.seq == 0 {
                continue; // an empty chain anchors nothing
            }
            match wanted.get(&(h.chain.as_str(), h.seq)) {
                None => {
                    wanted.insert((h.chain.as_str(), h.seq), (h.hash.as_str(), a.at_ms));
                }
                Some((hash, first)) if *hash != h.hash => {
                    report.first_break.get_or_insert(Break {
                        chain: h.chain.clone(),
                        seq: h.seq,
                        reason: format!(
                            "hai lần neo ({} và {}) ghi hai mã băm khác nhau cho bản ghi {}",
                            when(*first),
                            when(a.at_ms),
                            h.seq
                        ),
                    });
                }
                Some(_) => {}
            }
        }
    }
    let mut tx = db.begin_read().await?;
    for ((chain, seq), (hash, at_ms)) in &wanted {
        report.records += 1;
        if report.first_break.is_some() {
            continue;
        }
        let stored: Option<String> = on!(&mut tx, |c| {
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE chain = $1 AND seq = $2")
                .bind(*chain)
                .bind(*seq)
                .fetch_optional(c)
                .await
        })?;
        let reason = match stored {
            None => Some(format!(
                "bản ghi {seq} đã được neo lúc {} nhưng không còn trong nhật ký (các bản ghi cuối hoặc cả chuỗi đã bị xoá)",
                when(*at_ms)
            )),
            Some(stored) if stored != *hash => Some(format!(
                "mã băm của bản ghi {seq} khác với mã đã neo lúc {} (lịch sử đã bị viết lại)",
                when(*at_ms)
            )),
            Some(_) => None,
        };
        if let Some(reason) = reason {
            report.first_break = Some(Break {
                chain: (*chain).to_owned(),
                seq: *seq,
                reason,
            });
        }
    }
    Ok(report)
}

/// Position of a record in the browsing order, for the next page.
///
/// [`list`] orders by `(at, chain, seq)` descending: newest first across all chains,
/// which is what an administrator browsing the trail wants, and a total order because
/// `(chain, seq)` is the key. A keyset cursor on it, unlike an offset, neither repeats nor
/// skips records when new ones arrive between pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    /// `at` of the last record shown.
    pub at_ms: i64,
    /// Its chain.
    pub chain: String,
    /// Its seq.
    pub seq: i64,
}

impl AuditCursor {
    /// The cursor that continues after `entry`.
    pub fn after(entry: &AuditEntry) -> Self {
        AuditCursor {
            at_ms: entry.at_ms,
            chain: entry.chain.clone(),
            seq: entry.seq,
        }
    }
}

/// Text form `"<at_ms>:<seq>:<chain>"`; the chain comes last because it may contain `:`.
impl fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.at_ms, self.seq, self.chain)
    }
}

impl FromStr for AuditCursor {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new("cursor", "con trỏ phân trang không hợp lệ");
        let mut parts = s.splitn(3, ':');
        let at_ms = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let chain = parts.next().filter(|c| !c.is_empty()).ok_or_else(bad)?;
        Ok(AuditCursor {
            at_ms,
            chain: chain.to_owned(),
            seq,
        })
    }
}

/// What [`list`] returns: every field set narrows the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this chain.
    pub chain: Option<String>,
    /// Only this actor id.
    pub actor: Option<String>,
    /// Only this action (exact, e.g. `procedure.update`).
    pub action: Option<String>,
    /// Only this kind of object.
    pub object_type: Option<String>,
    /// Only this object id (usually with `object_type`).
    pub object_id: Option<String>,
    /// Only this province.
    pub province_code: Option<String>,
    /// Only records at or after this instant (ms since the epoch, inclusive).
    pub from_ms: Option<i64>,
    /// Only records before this instant (ms since the epoch, exclusive).
    pub to_ms: Option<i64>,
    /// Continue after this record (from the previous page's last entry).
    pub after: Option<AuditCursor>,
    /// Page size, clamped to 1..=[`MAX_LIST_LIMIT`].
    pub limit: usize,
}

impl Default for AuditFilter {
    /// No filter, first page of 50.
    fn default() -> Self {
        AuditFilter {
            chain: None,
            actor: None,
            action: None,
            object_type: None,
            object_id: None,
            province_code: None,
            from_ms: None,
            to_ms: None,
            after: None,
            limit: 50,
        }
    }
}

/// One page of records matching `filter`, newest first (see [`AuditCursor`] for the
/// order). A page shorter than the limit is the last; otherwise pass
/// [`AuditCursor::after`] of its last entry to get the next.
pub async fn list(tx: &mut Tx, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let mut w = Filters::default();
    let texts = [
        ("chain =", &filter.chain),
        ("actor =", &filter.actor),
        ("action =", &filter.action),
        ("object_type =", &filter.object_type),
        ("object_id =", &filter.object_id),
        ("province_code =", &filter.province_code),
    ];
    for (left, value) in texts {
        w.and_if(left, value.as_deref().map(Arg::Text));
    }
    w.and_if("at >=", filter.from_ms.map(Arg::Int));
    w.and_if("at <", filter.to_ms.map(Arg::Int));
    if let Some(cursor) = &filter.after {
        let at = w.bind(Arg::Int(cursor.at_ms));
        let chain = w.bind(Arg::Text(&cursor.chain));
        let seq = w.bind(Arg::Int(cursor.seq));
        // A row-value comparison: one range over the (at, chain, seq) index suffix on both
        // backends, instead of a chain of ORs.
        w.and(format!("(at, chain, seq) < ({at}, {chain}, {seq})"));
    }
    let limit = filter.limit.clamp(1, MAX_LIST_LIMIT);
    let limit = w.bind(Arg::Int(i64::try_from(limit).unwrap_or(50)));
    let where_clause = if w.conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", w.conditions.join(" AND "))
    };
    let sql =
        format!("SELECT {COLUMNS} FROM audit_log {where_clause} ORDER BY at DESC, chain DESC, seq DESC LIMIT {limit}");
    let rows: Vec<Row> = fetch_all(tx, &sql, &w.args).await?;
    rows.into_iter().map(Row::into_entry).collect()
}
