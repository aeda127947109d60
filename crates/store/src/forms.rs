//! Official documents issued for dossiers (the forms of docs/rules.md §3), and the register's
//! pages: the dossiers an agency received in a period, in order.

use std::collections::HashMap;

use motcua_core::codes::{AgencyCode, ProvinceCode};
use time::OffsetDateTime;

use crate::dossiers::Stored;
use crate::{Arg, Result, Tx, exec, fetch_all, from_millis, on, to_millis};

/// A rendered form stored in the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormRecord {
    /// The dossier's row id.
    pub dossier_id: i64,
    /// The form's slug (`receipt`, `supplement-request`, …).
    pub kind: String,
    /// Which one of that kind: 1 for the receipt, the notice's number among those of its
    /// kind, or the history `seq` the control sheet covers.
    pub ordinal: i64,
    /// Which drawing of that document: 1 when first issued, one more for each re-issue.
    pub revision: i64,
    /// Where the PDF is kept.
    pub object_key: String,
    /// SHA-256 of the PDF, hex.
    pub sha256: String,
    /// Bytes.
    pub size: i64,
    /// When it was stored.
    pub created_at: OffsetDateTime,
    /// When a re-issue replaced it; `None` while it is the current one.
    pub replaced_at: Option<OffsetDateTime>,
    /// Who re-issued it (an actor id), when replaced.
    pub replaced_by: Option<String>,
}

type FormRow = (
    i64,
    String,
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

const COLUMNS: &str =
    "dossier_id, kind, ordinal, revision, object_key, sha256, size, created_at, replaced_at, replaced_by";

fn record(
    (dossier_id, kind, ordinal, revision, object_key, sha256, size, created_at, replaced_at, replaced_by): FormRow,
) -> FormRecord {
    FormRecord {
        dossier_id,
        kind,
        ordinal,
        revision,
        object_key,
        sha256,
        size,
        created_at: from_millis(created_at),
        replaced_at: replaced_at.map(from_millis),
        replaced_by,
    }
}

/// Records a stored form (its `replaced_*` fields are ignored: a new record is current).
/// Returns `false` when that revision was already recorded, or another revision of the
/// same document is current (rendering is deterministic, so a first issue recorded twice
/// names the same bytes; a re-issue goes through [`replace`]).
pub async fn insert(tx: &mut Tx, f: &FormRecord) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "INSERT INTO dossier_forms (dossier_id, kind, ordinal, revision, object_key, sha256, size, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT DO NOTHING",
        )
        .bind(f.dossier_id)
        .bind(&f.kind)
        .bind(f.ordinal)
        .bind(f.revision)
        .bind(&f.object_key)
        .bind(&f.sha256)
        .bind(f.size)
        .bind(to_millis(f.created_at))
        .execute(c)
        .await
    })?;
    Ok(n > 0)
}

/// Replaces the current revision `old` of a document by `new` (the next revision): `old`
/// is kept, marked replaced by `by` at `at`. Returns `false`, changing nothing, when `old`
/// is no longer the current revision (another re-issue came first).
pub async fn replace(tx: &mut Tx, old: &FormRecord, new: &FormRecord, by: &str, at: OffsetDateTime) -> Result<bool> {
    let n = exec!(tx, |c| {
        sqlx::query(
            "UPDATE dossier_forms SET replaced_at = $1, replaced_by = $2
             WHERE dossier_id = $3 AND kind = $4 AND ordinal = $5 AND revision = $6 AND replaced_at IS NULL",
        )
        .bind(to_millis(at))
        .bind(by)
        .bind(old.dossier_id)
        .bind(&old.kind)
        .bind(old.ordinal)
        .bind(old.revision)
        .execute(c)
        .await
    })?;
    if n == 0 {
        return Ok(false);
    }
    insert(tx, new).await
}

/// The current revision of the form recorded for `dossier_id`, `kind` and `ordinal`, if any.
pub async fn get(tx: &mut Tx, dossier_id: i64, kind: &str, ordinal: i64) -> Result<Option<FormRecord>> {
    let key = [Arg::Int(dossier_id), Arg::Text(kind), Arg::Int(ordinal)];
    revision_where(tx, "replaced_at IS NULL", &key).await
}

/// Revision `revision` of the form recorded for `dossier_id`, `kind` and `ordinal`,
/// current or replaced, if any.
pub async fn get_revision(
    tx: &mut Tx,
    dossier_id: i64,
    kind: &str,
    ordinal: i64,
    revision: i64,
) -> Result<Option<FormRecord>> {
    let key = [
        Arg::Int(dossier_id),
        Arg::Text(kind),
        Arg::Int(ordinal),
        Arg::Int(revision),
    ];
    revision_where(tx, "revision = $4", &key).await
}

/// The form recorded for the dossier, kind and ordinal that are `$1` to `$3` of `args`, in
/// the revision that the condition `which` picks: the current one, or the one numbered `$4`.
async fn revision_where(tx: &mut Tx, which: &str, args: &[Arg<'_>]) -> Result<Option<FormRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dossier_forms
         WHERE dossier_id = $1 AND kind = $2 AND ordinal = $3 AND {which}"
    );
    let rows: Vec<FormRow> = fetch_all(tx, &sql, args).await?;
    Ok(rows.into_iter().next().map(record))
}

/// Every form recorded for `dossier_id`, current and replaced, by kind, ordinal and revision.
pub async fn of_dossier(tx: &mut Tx, dossier_id: i64) -> Result<Vec<FormRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM dossier_forms WHERE dossier_id = $1 ORDER BY kind, ordinal, revision");
    let rows: Vec<FormRow> = on!(tx, |c| sqlx::query_as(&sql).bind(dossier_id).fetch_all(c).await)?;
    Ok(rows.into_iter().map(record).collect())
}

/// Which dossiers a register lists.
#[derive(Debug, Clone)]
pub struct RegisterFilter {
    /// The province.
    pub province: ProvinceCode,
    /// Dossiers this agency received or is responsible for.
    pub agency: AgencyCode,
    /// Received at or after.
    pub from: OffsetDateTime,
    /// Received before.
    pub to: OffsetDateTime,
}

/// Where a register page starts: after this (received_at, id).
pub type RegisterCursor = (OffsetDateTime, i64);

/// One page of the register: dossiers received in the period, oldest first, after
/// `after` (keyset on `(received_at, id)`, so pages stay cheap however far in).
pub async fn register_page(
    tx: &mut Tx,
    f: &RegisterFilter,
    after: Option<RegisterCursor>,
    limit: u32,
) -> Result<Vec<(Stored, OffsetDateTime)>> {
    let (after_at, after_id) = after.map_or((i64::MIN, i64::MIN), |(t, id)| (to_millis(t), id));
    let rows: Vec<(i64, i64, String)> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT id, received_at, data FROM dossiers
             WHERE province_code = $1 AND (receiving_agency = $2 OR responsible_agency = $2)
               AND received_at >= $3 AND received_at < $4
               AND (received_at > $5 OR (received_at = $5 AND id > $6))
             ORDER BY received_at, id LIMIT $7",
        )
        .bind(f.province.as_str())
        .bind(f.agency.as_str())
        .bind(to_millis(f.from))
        .bind(to_millis(f.to))
        .bind(after_at)
        .bind(after_id)
        .bind(i64::from(limit.max(1)))
        .fetch_all(c)
        .await
    })?;
    rows.into_iter()
        .map(|(id, received_at, data)| Ok((Stored::parse(id, &data)?, from_millis(received_at))))
        .collect()
}

/// For each dossier of `ids`, when its history first records `action` (e.g. the hand-over
/// to the department, `transfer`). Dossiers without one are absent.
pub async fn first_event_at(tx: &mut Tx, ids: &[i64], action: &str) -> Result<HashMap<i64, OffsetDateTime>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT dossier_id, MIN(at) FROM dossier_events WHERE action = $1 AND dossier_id IN ({})
         GROUP BY dossier_id",
        placeholders.join(", ")
    );
    let rows: Vec<(i64, i64)> = on!(tx, |c| {
        let mut q = sqlx::query_as(&sql).bind(action);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|(id, at)| (id, from_millis(at))).collect())
}
