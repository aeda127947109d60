//! Dossiers: codes, the dossier rows, their history (the processing control sheet) and
//! work lists.

use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_core::dossier::{DossierCode, MAX_DAILY_SEQUENCE, Status, Timeliness};
use motcua_core::evaluation;
use motcua_core::lifecycle::{Dossier, Person};
use time::{Date, OffsetDateTime};

use crate::batch::{BatchTx, ProvisionalId, RowId, Sequence};
use crate::{Arg, Filters, Result, StoreError, Tx, exec, fetch_all, from_millis, on, to_millis};

/// Issues the next code of `agency` for `day` (the date received, in Vietnam time) in a
/// job of a group commit. The sequence row is read (and locked, made with 0 if new) by the
/// batch's first intake of the agency's day, which changes nothing a failed job would
/// have to undo (so it needs no savepoint); the intakes count on from there in memory and
/// the batch stores the last number when it commits (`batch::write_deferred`). Concurrent
/// batches wait on the sequence row (PostgreSQL) or the single writer (SQLite), so no two
/// dossiers ever share a code; the number is committed or rolled back with the dossier it
/// belongs to.
pub async fn next_code(
    b: &mut BatchTx,
    province: &ProvinceCode,
    agency: &AgencyCode,
    day: Date,
) -> Result<DossierCode> {
    let day_key = day_key(day);
    let key = (agency.as_str().to_owned(), day_key.clone());
    let seq = match b.layers.sequence(&key) {
        Some(seq) => seq,
        None => {
            let stored = upsert_sequence(b.unguarded(), province, agency, &day_key, 0).await?;
            Sequence { last: stored, stored }
        }
    };
    let last = checked_last(agency, &day_key, seq.last + 1)?;
    b.layers.job.sequences.insert(
        key,
        Sequence {
            last: i64::from(last),
            stored: seq.stored,
        },
    );
    DossierCode::new(agency, day, last).map_err(|e| StoreError::Io(e.to_string()))
}

/// Issues the next `n` codes of `agency` for `day` at once (one statement) in the
/// caller's own write transaction, as [`next_code`] would one by one; for bulk writers
/// such as `motcua generate`.
pub async fn reserve_codes(
    tx: &mut Tx,
    province: &ProvinceCode,
    agency: &AgencyCode,
    day: Date,
    n: u32,
) -> Result<Vec<DossierCode>> {
    let day_key = day_key(day);
    let last = upsert_sequence(tx, province, agency, &day_key, i64::from(n)).await?;
    let last = checked_last(agency, &day_key, last)?;
    (last + 1 - n..=last)
        .map(|sequence| DossierCode::new(agency, day, sequence).map_err(|e| StoreError::Io(e.to_string())))
        .collect()
}

fn day_key(day: Date) -> String {
    format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day())
}

/// `last` as a code number, refused past the four digits a code has.
fn checked_last(agency: &AgencyCode, day_key: &str, last: i64) -> Result<u32> {
    u32::try_from(last)
        .ok()
        .filter(|l| *l <= MAX_DAILY_SEQUENCE)
        .ok_or_else(|| {
            StoreError::Conflict(format!(
                "cơ quan {agency} đã cấp đủ {MAX_DAILY_SEQUENCE} mã hồ sơ trong ngày {day_key}; mã hồ sơ theo định dạng 4 chữ số không cấp thêm được"
            ))
        })
}

/// Adds `step` to the code sequence of `agency`'s day (made if new); the new last number.
/// A retired agency issues no code (docs/map-2025.md §4.2): the same statement checks it,
/// so a merger can never let a code be issued twice.
async fn upsert_sequence(
    tx: &mut Tx,
    province: &ProvinceCode,
    agency: &AgencyCode,
    day_key: &str,
    step: i64,
) -> Result<i64> {
    let last: Option<i64> = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO dossier_sequences (province_code, agency_code, day, last)
             SELECT $1, $2, $3, $4 WHERE NOT EXISTS (
                SELECT 1 FROM agencies WHERE province_code = $1 AND code = $2 AND retired_at IS NOT NULL)
             ON CONFLICT (agency_code, day) DO UPDATE SET last = dossier_sequences.last + $4
             RETURNING last",
        )
        .bind(province.as_str())
        .bind(agency.as_str())
        .bind(day_key)
        .bind(step)
        .fetch_optional(c)
        .await
    })?;
    last.ok_or_else(|| {
        StoreError::Conflict(format!(
            "cơ quan {agency} đã ngừng hoạt động (sáp nhập hoặc giải thể), không cấp mã hồ sơ mới"
        ))
    })
}

/// Stores the last code numbers issued, as (agency, day, last), in one statement (rows
/// the batch's transaction already wrote).
pub(crate) async fn store_sequences(tx: &mut Tx, sequences: &[(&str, &str, i64)]) -> Result<()> {
    if sequences.is_empty() {
        return Ok(());
    }
    let marks = crate::batch::placeholders(tx.backend(), 3);
    let rows: Vec<String> = (0..sequences.len()).map(|i| marks(i * 3)).collect();
    // VALUES columns are column1, column2, … on both engines.
    let sql = format!(
        "UPDATE dossier_sequences SET last = v.column3 FROM (VALUES {}) AS v
         WHERE dossier_sequences.agency_code = v.column1 AND dossier_sequences.day = v.column2",
        rows.join(", ")
    );
    exec!(tx, |c| {
        let mut q = sqlx::query(&sql);
        for (agency, day, last) in sequences {
            q = q.bind(*agency).bind(*day).bind(*last);
        }
        q.execute(c).await
    })?;
    Ok(())
}

/// A dossier as stored: its row id and the dossier.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Row id (internal; the code is the public identifier).
    pub id: i64,
    /// The dossier.
    pub dossier: Dossier,
}

impl Stored {
    /// The dossier of row `id`, from its stored JSON `data`.
    pub(crate) fn parse(id: i64, data: &str) -> Result<Stored> {
        Ok(Stored {
            id,
            dossier: serde_json::from_str(data)?,
        })
    }
}

/// Runs `sql`, which selects `id, data` from `dossiers`, with `args` bound in order.
pub(crate) async fn fetch_stored(tx: &mut Tx, sql: &str, args: &[Arg<'_>]) -> Result<Vec<Stored>> {
    let rows: Vec<(i64, String)> = fetch_all(tx, sql, args).await?;
    rows.into_iter().map(|(id, data)| Stored::parse(id, &data)).collect()
}

fn opt_ms(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(to_millis)
}

/// Stores a new dossier in a job of a group commit: the row is written with the batch's
/// others when it commits ([`crate::batch`]), so its id is not known yet. The
/// [`ProvisionalId`] returned serves this module's history functions ([`append_event`],
/// [`events_in_batch`]) in the same batch, nothing else. A caller that needs the stored
/// row's id for other statements (attaching files) uses [`insert_now`].
pub fn insert(b: &mut BatchTx, d: &Dossier) -> Result<ProvisionalId> {
    let id = b.layers.provisional_id();
    let row = dossier_row(d)?;
    b.layers.job.dossiers.push((id, row));
    b.layers.job.histories.insert(RowId::Provisional(id), Vec::new());
    crate::stats::apply(b, None, d);
    Ok(id)
}

/// [`insert`], the row written at once: the id is the stored row's. Its history is still
/// written when the batch commits.
pub async fn insert_now(b: &mut BatchTx, d: &Dossier) -> Result<i64> {
    let id = insert_uncounted(b.tx().await?, d).await?;
    b.layers.job.histories.insert(RowId::Stored(id), Vec::new());
    crate::stats::apply(b, None, d);
    Ok(id)
}

/// Writes the new dossiers a write batch deferred, many per statement; returns the real
/// id of each provisional one.
pub(crate) async fn insert_deferred(
    tx: &mut Tx,
    rows: Vec<(ProvisionalId, crate::batch::Row)>,
) -> Result<std::collections::HashMap<ProvisionalId, i64>> {
    let refs: Vec<&crate::batch::Row> = rows.iter().map(|(_, r)| r).collect();
    let ids = insert_rows(tx, &refs).await?;
    Ok(rows.iter().map(|(provisional, _)| *provisional).zip(ids).collect())
}

/// Inserts dossier rows ([`dossier_row`]), many per statement; returns their ids in the
/// rows' order.
async fn insert_rows(tx: &mut Tx, rows: &[&crate::batch::Row]) -> Result<Vec<i64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let returned = crate::batch::insert_rows_returning(tx, DOSSIER_COLUMNS, rows, "id, code").await?;
    // Matched by code (a row's first value) rather than trusting the order the database
    // returns rows in.
    let by_code: std::collections::HashMap<String, i64> = returned.into_iter().map(|(id, code)| (code, id)).collect();
    rows.iter()
        .map(|row| {
            let code = match row.values.first() {
                Some(crate::batch::Val::Text(Some(code))) => code.as_str(),
                _ => "",
            };
            by_code
                .get(code)
                .copied()
                .ok_or_else(|| StoreError::Io(format!("INSERT returned no id for {code}")))
        })
        .collect()
}

/// [`insert`] without the statistics: for bulk loads, which add the dossiers to a
/// [`crate::stats::Batch`] and write it in the same transaction.
pub async fn insert_uncounted(tx: &mut Tx, d: &Dossier) -> Result<i64> {
    let ids = insert_many_uncounted(tx, std::slice::from_ref(d)).await?;
    ids.first()
        .copied()
        .ok_or_else(|| StoreError::Io("INSERT returned no id".to_owned()))
}

/// The columns of a dossier row, in the order of [`dossier_row`]'s values.
const DOSSIER_COLUMNS: &str = "dossiers (code, province_code, procedure_code, field_code, receiving_agency, \
     responsible_agency, current_agency, assignee_id, owner_id, channel, status, applicant_name, tracking_secret, \
     created_at, received_at, due_at, finished_at, returned_at, version, data, officer_id, \
     has_digitised_documents, has_electronic_result, wait_until)";

/// The row of dossier `d` (its code first).
fn dossier_row(d: &Dossier) -> Result<crate::batch::Row> {
    use crate::batch::Val;
    let text = |t: &str| Val::Text(Some(t.to_owned()));
    let values = vec![
        text(d.code.as_str()),
        text(d.province.as_str()),
        text(d.procedure.as_str()),
        text(d.field.as_str()),
        text(d.receiving_agency.as_str()),
        text(d.responsible_agency.as_str()),
        text(d.current_agency.as_str()),
        Val::Text(d.assignee.as_ref().map(|p| p.id.clone())),
        Val::Text(d.owner.clone()),
        Val::Int(i64::from(d.channel.code())),
        Val::Int(i64::from(d.status.code())),
        text(&d.applicant.name),
        text(&d.tracking_secret),
        Val::Int(to_millis(d.created_at)),
        Val::OptInt(opt_ms(d.received_at)),
        Val::OptInt(opt_ms(d.due_at)),
        Val::OptInt(opt_ms(d.finished_at)),
        Val::OptInt(opt_ms(d.returned_at)),
        Val::Int(i64::from(d.version)),
        Val::Text(Some(serde_json::to_string(d)?)),
        Val::Text(motcua_core::stats::officer(d).map(|p| p.id.clone())),
        Val::Int(i64::from(evaluation::has_digitised_documents(d))),
        Val::Int(i64::from(evaluation::has_electronic_result(d))),
        Val::OptInt(opt_ms(d.wait_until)),
    ];
    Ok(crate::batch::Row {
        into: DOSSIER_COLUMNS,
        values,
    })
}

/// Stores new dossiers, many per statement, without counting them in the statistics
/// (the caller does: [`crate::stats::Batch`]); returns their row ids in `ds`' order.
pub async fn insert_many_uncounted(tx: &mut Tx, ds: &[Dossier]) -> Result<Vec<i64>> {
    let rows = ds.iter().map(dossier_row).collect::<Result<Vec<_>>>()?;
    let refs: Vec<&crate::batch::Row> = rows.iter().collect();
    insert_rows(tx, &refs).await
}

/// Writes a changed dossier, provided nobody changed it since version `expected` was read.
///
/// `before` is the dossier as read at version `expected`: the update only applies when
/// that is still what is stored, so the statistics move by `d` − `before` without reading
/// the row again.
pub async fn save(b: &mut BatchTx, id: i64, before: &Dossier, d: &Dossier, expected: u32) -> Result<()> {
    let data = serde_json::to_string(d)?;
    let n = exec!(b.tx().await?, |c| {
        sqlx::query(
            "UPDATE dossiers SET current_agency = $1, assignee_id = $2, status = $3, received_at = $4, due_at = $5,
                 finished_at = $6, returned_at = $7, version = $8, data = $9, officer_id = $12,
                 has_digitised_documents = $13, has_electronic_result = $14, wait_until = $15
             WHERE id = $10 AND version = $11",
        )
        .bind(d.current_agency.as_str())
        .bind(d.assignee.as_ref().map(|p| p.id.as_str()))
        .bind(i64::from(d.status.code()))
        .bind(opt_ms(d.received_at))
        .bind(opt_ms(d.due_at))
        .bind(opt_ms(d.finished_at))
        .bind(opt_ms(d.returned_at))
        .bind(i64::from(d.version))
        .bind(&data)
        .bind(id)
        .bind(i64::from(expected))
        .bind(motcua_core::stats::officer(d).map(|p| p.id.as_str()))
        .bind(i64::from(evaluation::has_digitised_documents(d)))
        .bind(i64::from(evaluation::has_electronic_result(d)))
        .bind(opt_ms(d.wait_until))
        .execute(c)
        .await
    })?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "hồ sơ {} vừa được người khác cập nhật; hãy tải lại rồi thực hiện lại",
            d.code
        )));
    }
    crate::stats::apply(b, Some(before), d);
    crate::changes::changed(b, d.code.as_str());
    Ok(())
}

/// The dossier with `code`, if any.
pub async fn by_code(tx: &mut Tx, code: &DossierCode) -> Result<Option<Stored>> {
    let row: Option<(i64, String)> = on!(tx, |c| {
        sqlx::query_as("SELECT id, data FROM dossiers WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(c)
            .await
    })?;
    row.map(|(id, data)| Stored::parse(id, &data)).transpose()
}

/// The dossier with row id `id`, if any.
pub async fn by_id(tx: &mut Tx, id: i64) -> Result<Option<Dossier>> {
    let row: Option<String> = on!(tx, |c| {
        sqlx::query_scalar("SELECT data FROM dossiers WHERE id = $1")
            .bind(id)
            .fetch_optional(c)
            .await
    })?;
    row.map(|data| Ok(serde_json::from_str(&data)?)).transpose()
}

/// One row of a dossier's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// 1, 2, … within the dossier.
    pub seq: i64,
    /// When.
    pub at: OffsetDateTime,
    /// `file` for the filing, else the action's URL name.
    pub action: String,
    /// Status before (none for the filing).
    pub from_status: Option<Status>,
    /// Status after.
    pub to_status: Status,
    /// Who acted.
    pub actor: Person,
    /// For which agency.
    pub agency: String,
    /// Hand-over: the receiving agency.
    pub to_agency: Option<String>,
    /// Hand-over: the receiving person.
    pub to_user: Option<Person>,
    /// Hand-over: when the step that starts is due.
    pub step_due_at: Option<OffsetDateTime>,
    /// Hand-over: how the step that ended finished.
    pub closed_step: Option<Timeliness>,
    /// What the actor wrote.
    pub note: String,
}

/// Appends `e` to the history of dossier `id` in a job of a group commit (its `seq` is
/// assigned here and returned). The history of a dossier filed in this batch waits in the
/// batch and is written when it commits; any other's is written now.
pub async fn append_event(b: &mut BatchTx, id: impl Into<RowId>, e: &EventRecord) -> Result<i64> {
    let id = id.into();
    if let Some(last) = b.layers.last_seq(id) {
        let seq = last + 1;
        b.layers
            .job
            .histories
            .entry(id)
            .or_default()
            .push(EventRecord { seq, ..e.clone() });
        return Ok(seq);
    }
    let RowId::Stored(id) = id else {
        return Err(StoreError::Io(format!(
            "history of a dossier not filed in this batch ({id:?})"
        )));
    };
    let seq: i64 = on!(b.tx().await?, |c| {
        sqlx::query_scalar(
            "INSERT INTO dossier_events (dossier_id, seq, at, action, from_status, to_status, actor_id, actor_name,
                 agency_code, to_agency, to_user_id, to_user_name, step_due_at, closed_step, note)
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14
             FROM dossier_events WHERE dossier_id = $1
             RETURNING seq",
        )
        .bind(id)
        .bind(to_millis(e.at))
        .bind(&e.action)
        .bind(e.from_status.map(|s| i64::from(s.code())))
        .bind(i64::from(e.to_status.code()))
        .bind(&e.actor.id)
        .bind(&e.actor.name)
        .bind(&e.agency)
        .bind(e.to_agency.as_deref())
        .bind(e.to_user.as_ref().map(|p| p.id.as_str()))
        .bind(e.to_user.as_ref().map(|p| p.name.as_str()))
        .bind(opt_ms(e.step_due_at))
        .bind(e.closed_step.map(Timeliness::as_str))
        .bind(&e.note)
        .fetch_one(c)
        .await
    })?;
    Ok(seq)
}

/// Writes the whole history of dossiers that have none yet (bulk loads): each dossier's
/// events get `seq` 1, 2, … in the order given, many rows per statement.
pub async fn insert_histories(tx: &mut Tx, histories: &[(i64, Vec<EventRecord>)]) -> Result<usize> {
    let numbered = histories
        .iter()
        .flat_map(|(id, events)| events.iter().zip(1_i64..).map(move |(e, seq)| (*id, seq, e)));
    insert_event_rows(tx, event_rows(numbered)).await
}

/// Inserts history rows whose `seq` is already set (the write batch's, at its end).
pub(crate) async fn insert_numbered_events(tx: &mut Tx, histories: &[(i64, Vec<EventRecord>)]) -> Result<usize> {
    let numbered = histories
        .iter()
        .flat_map(|(id, events)| events.iter().map(move |e| (*id, e.seq, e)));
    insert_event_rows(tx, event_rows(numbered)).await
}

/// History rows given as (dossier id, seq, event).
fn event_rows<'e>(events: impl Iterator<Item = (i64, i64, &'e EventRecord)>) -> Vec<crate::batch::Row> {
    use crate::batch::{Row, Val};
    let text = |t: &str| Val::Text(Some(t.to_owned()));
    events
        .map(|(id, seq, e)| Row {
            into: "dossier_events (dossier_id, seq, at, action, from_status, to_status, actor_id, actor_name, \
                   agency_code, to_agency, to_user_id, to_user_name, step_due_at, closed_step, note)",
            values: vec![
                Val::Int(id),
                Val::Int(seq),
                Val::Int(to_millis(e.at)),
                text(&e.action),
                Val::OptInt(e.from_status.map(|s| i64::from(s.code()))),
                Val::Int(i64::from(e.to_status.code())),
                text(&e.actor.id),
                text(&e.actor.name),
                text(&e.agency),
                Val::Text(e.to_agency.clone()),
                Val::Text(e.to_user.as_ref().map(|p| p.id.clone())),
                Val::Text(e.to_user.as_ref().map(|p| p.name.clone())),
                Val::OptInt(opt_ms(e.step_due_at)),
                Val::Text(e.closed_step.map(|t| t.as_str().to_owned())),
                text(&e.note),
            ],
        })
        .collect()
}

/// Inserts history rows, many per statement.
async fn insert_event_rows(tx: &mut Tx, rows: Vec<crate::batch::Row>) -> Result<usize> {
    let Some(first) = rows.first() else {
        return Ok(0);
    };
    let refs: Vec<&crate::batch::Row> = rows.iter().collect();
    crate::batch::insert_rows(tx, first.into, &refs).await?;
    Ok(rows.len())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    seq: i64,
    at: i64,
    action: String,
    from_status: Option<i64>,
    to_status: i64,
    actor_id: String,
    actor_name: String,
    agency_code: String,
    to_agency: Option<String>,
    to_user_id: Option<String>,
    to_user_name: Option<String>,
    step_due_at: Option<i64>,
    closed_step: Option<String>,
    note: String,
}

fn status_of(code: i64) -> Result<Status> {
    u8::try_from(code)
        .ok()
        .and_then(Status::from_code)
        .ok_or_else(|| StoreError::Io(format!("unknown dossier status {code} in the database")))
}

/// The history of dossier `id` in a job of a group commit: for a dossier filed in this
/// batch, all of its history is still in the batch.
pub async fn events_in_batch(b: &mut BatchTx, id: impl Into<RowId>) -> Result<Vec<EventRecord>> {
    let id = id.into();
    if let Some(history) = b.layers.history(id) {
        return Ok(history);
    }
    match id {
        RowId::Stored(id) => events(b.tx().await?, id).await,
        RowId::Provisional(p) => Err(StoreError::Io(format!(
            "history of a dossier not filed in this batch ({p:?})"
        ))),
    }
}

/// The history of dossier `id`, oldest first.
pub async fn events(tx: &mut Tx, id: i64) -> Result<Vec<EventRecord>> {
    let rows: Vec<EventRow> = on!(tx, |c| {
        sqlx::query_as(
            "SELECT seq, at, action, from_status, to_status, actor_id, actor_name, agency_code, to_agency,
                    to_user_id, to_user_name, step_due_at, closed_step, note
             FROM dossier_events WHERE dossier_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(c)
        .await
    })?;
    rows.into_iter()
        .map(|r| {
            Ok(EventRecord {
                seq: r.seq,
                at: from_millis(r.at),
                action: r.action,
                from_status: r.from_status.map(status_of).transpose()?,
                to_status: status_of(r.to_status)?,
                actor: Person {
                    id: r.actor_id,
                    name: r.actor_name,
                },
                agency: r.agency_code,
                to_agency: r.to_agency,
                to_user: r.to_user_id.map(|id| Person {
                    id,
                    name: r.to_user_name.unwrap_or_default(),
                }),
                step_due_at: r.step_due_at.map(from_millis),
                closed_step: r.closed_step.as_deref().and_then(Timeliness::parse),
                note: r.note,
            })
        })
        .collect()
}

/// Whose dossiers a list shows.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every dossier of the province.
    Province,
    /// Dossiers an agency holds now or is responsible for.
    Agency(String),
    /// Dossiers received at, held by or the responsibility of any of these agencies (a
    /// centre and its commune, docs/map-2025.md §5); none when the set is empty.
    Agencies(Vec<String>),
    /// Dossiers a citizen account filed.
    Owner(String),
}

/// A work list query.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// The province.
    pub province: ProvinceCode,
    /// Whose dossiers.
    pub scope: Scope,
    /// Only these statuses (any if empty).
    pub statuses: Vec<Status>,
    /// Only dossiers overdue at `now` (`motcua_core::deadline::is_overdue`).
    pub overdue: bool,
    /// Only dossiers due soon at `now`, this being the limit
    /// (`motcua_core::deadline::is_due_soon` with `soon` from `deadline::soon_limit`).
    pub due_soon: Option<OffsetDateTime>,
    /// Only dossiers that have waited for the applicant past the time given, at `now`
    /// (`motcua_core::deadline::waited_past_limit`).
    pub waited_past_limit: bool,
    /// Only dossiers held by this officer.
    pub assignee: Option<String>,
    /// Only (or, with `assignee`, also) dossiers waiting for assignment: in progress with
    /// no officer, at the scope's agency when the scope is an agency.
    pub unassigned: bool,
    /// Only this procedure.
    pub procedure: Option<String>,
    /// Only dossiers whose appointment (due instant) is at or after this.
    pub due_from: Option<OffsetDateTime>,
    /// Only dossiers whose appointment (due instant) is before this.
    pub due_until: Option<OffsetDateTime>,
    /// The instant "overdue" and "due soon" are judged at: now.
    pub now: OffsetDateTime,
    /// Keyset for [`ListOrder::Newest`]: only rows with an id below this (the previous
    /// page's last id).
    pub before_id: Option<i64>,
    /// Keyset for [`ListOrder::DueFirst`]: only rows after this position (the previous
    /// page's last [`due_key`]).
    pub after_due: Option<(i64, i64)>,
    /// The order of the rows.
    pub order: ListOrder,
    /// Page size.
    pub limit: u32,
}

impl ListFilter {
    /// Every dossier of `scope` in `province`, newest first, a page of the largest size,
    /// judged at `now`: the filter that the others narrow.
    pub fn new(province: ProvinceCode, scope: Scope, now: OffsetDateTime) -> Self {
        Self {
            province,
            scope,
            statuses: Vec::new(),
            overdue: false,
            due_soon: None,
            waited_past_limit: false,
            assignee: None,
            unassigned: false,
            procedure: None,
            due_from: None,
            due_until: None,
            now,
            before_id: None,
            after_due: None,
            order: ListOrder::Newest,
            limit: MAX_LIST_LIMIT,
        }
    }
}

/// The order of a work list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// Newest first (by row id).
    #[default]
    Newest,
    /// Earliest appointment first; dossiers without one last.
    DueFirst,
}

/// A dossier's position in a [`ListOrder::DueFirst`] list: its appointment (epoch ms,
/// `i64::MAX` when it has none) and its row id.
pub fn due_key(s: &Stored) -> (i64, i64) {
    (s.dossier.due_at.map_or(i64::MAX, to_millis), s.id)
}

/// Largest page of a work list.
pub const MAX_LIST_LIMIT: u32 = 200;

/// One page of dossiers, newest first.
pub async fn list(tx: &mut Tx, f: &ListFilter) -> Result<Vec<Stored>> {
    let mut w = Filters::new(vec![Arg::Text(f.province.as_str())]);
    w.and("province_code = $1".to_owned());
    match &f.scope {
        Scope::Province => {}
        Scope::Agency(a) => {
            let n = w.bind(Arg::Text(a));
            w.and(format!("(current_agency = {n} OR responsible_agency = {n})"));
        }
        Scope::Agencies(set) => {
            let set = in_list(&mut w, set);
            w.and(format!(
                "(receiving_agency IN {set} OR current_agency IN {set} OR responsible_agency IN {set})"
            ));
        }
        Scope::Owner(o) => w.and_if("owner_id =", Some(Arg::Text(o))),
    }
    if !f.statuses.is_empty() {
        let list: Vec<String> = f.statuses.iter().map(|s| s.code().to_string()).collect();
        w.and(format!("status IN ({})", list.join(", ")));
    }
    if f.overdue || f.due_soon.is_some() || f.waited_past_limit {
        let now = w.bind(Arg::Int(to_millis(f.now)));
        if f.waited_past_limit {
            w.and(crate::deadline::waited_past_limit(&now));
        }
        if f.overdue {
            w.and(crate::deadline::overdue_now(&now));
        }
        if let Some(soon) = f.due_soon {
            let soon = w.bind(Arg::Int(to_millis(soon)));
            w.and(crate::deadline::due_soon_now(&now, &soon));
        }
    }
    let waiting = f.unassigned.then(|| {
        let mut s = format!("(assignee_id IS NULL AND status = {}", Status::InProgress.code());
        match &f.scope {
            Scope::Agency(a) => s.push_str(&format!(" AND current_agency = {}", w.bind(Arg::Text(a)))),
            Scope::Agencies(set) => s.push_str(&format!(" AND current_agency IN {}", in_list(&mut w, set))),
            Scope::Province | Scope::Owner(_) => {}
        }
        s.push(')');
        s
    });
    match (&f.assignee, waiting) {
        (Some(a), waiting) => {
            let mine = format!("assignee_id = {}", w.bind(Arg::Text(a)));
            w.and(match waiting {
                Some(s) => format!("({mine} OR {s})"),
                None => mine,
            });
        }
        (None, Some(s)) => w.and(s),
        (None, None) => {}
    }
    w.and_if("procedure_code =", f.procedure.as_deref().map(Arg::Text));
    w.and_if("due_at >=", f.due_from.map(|t| Arg::Int(to_millis(t))));
    w.and_if("due_at <", f.due_until.map(|t| Arg::Int(to_millis(t))));
    let due = format!("COALESCE(due_at, {})", i64::MAX);
    let order = match f.order {
        ListOrder::Newest => {
            w.and_if("id <", f.before_id.map(Arg::Int));
            "id DESC".to_owned()
        }
        ListOrder::DueFirst => {
            if let Some((at, id)) = f.after_due {
                let a = w.bind(Arg::Int(at));
                let b = w.bind(Arg::Int(id));
                w.and(format!("({due} > {a} OR ({due} = {a} AND id > {b}))"));
            }
            format!("{due}, id")
        }
    };
    let limit = w.bind(Arg::Int(i64::from(f.limit.clamp(1, MAX_LIST_LIMIT))));
    let sql = format!(
        "SELECT id, data FROM dossiers WHERE {} ORDER BY {order} LIMIT {limit}",
        w.conditions.join(" AND ")
    );
    fetch_stored(tx, &sql, &w.args).await
}

/// `(…)`: the placeholders of `items` bound in `w`, for `column IN (…)`. An empty set
/// binds `NULL`, which no `IN` matches (SQL has no empty list).
fn in_list<'a>(w: &mut Filters<'a>, items: &'a [String]) -> String {
    if items.is_empty() {
        return "(NULL)".to_owned();
    }
    let placeholders: Vec<String> = items.iter().map(|a| w.bind(Arg::Text(a))).collect();
    format!("({})", placeholders.join(", "))
}

/// Codes and tracking secrets of about `limit` dossiers spread over the whole table (for
/// load tests of public tracking).
pub async fn tracking_sample(tx: &mut Tx, limit: i64) -> Result<Vec<(DossierCode, String)>> {
    let total: i64 = on!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM dossiers")
        .fetch_one(c)
        .await)?;
    let step = (total / limit.max(1)).max(1);
    let rows: Vec<(String, String)> = on!(tx, |c| {
        sqlx::query_as("SELECT code, tracking_secret FROM dossiers WHERE id % $1 = 0 ORDER BY id LIMIT $2")
            .bind(step)
            .bind(limit)
            .fetch_all(c)
            .await
    })?;
    rows.into_iter()
        .map(|(code, secret)| {
            let code = DossierCode::parse(&code).map_err(|e| StoreError::Io(e.to_string()))?;
            Ok((code, secret))
        })
        .collect()
}
