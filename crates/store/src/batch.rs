//! Group commit: concurrent write jobs share one transaction and one commit.
//!
//! A commit costs a flush to disk (SQLite at synchronous=FULL, PostgreSQL with
//! synchronous_commit=on), and every dossier change also updates rows that all changes
//! share (the province's audit chain head, the day's code sequence), so one transaction
//! per request would serialise requests on those flushes. Instead a single task takes
//! the jobs waiting in its queue, runs each inside its own savepoint of one transaction
//! (a job that fails is rolled back alone), commits once, and only then answers every
//! job: a caller hears "done" only when its change is durable.
//!
//! A job is handed the batch's write context, a [`BatchTx`], and nothing else: the store
//! functions that take part in the group commit take a `&mut BatchTx` (so a job cannot
//! call the version that writes at once by mistake, nor the other way round), and every
//! other statement of the job gets its transaction from [`BatchTx::tx`], which opens the
//! job's savepoint before the job's first statement. A job whose writes are all deferred
//! costs no round trip to the database at all. A job cannot open a transaction of its own:
//! it has no [`Db`], only the batch's transaction (on SQLite, the only writer).
//!
//! Rows every job changes are written once per batch ([`Deferred`]): the statistics
//! counters a dossier change adds to, and the audit chain's head; and rows nothing in the
//! batch reads back from the table: new dossiers (which have a provisional id until then),
//! their history, audit records, outbox events. Each job's share is
//! kept apart until the job succeeds (a failed job's share is dropped with its savepoint)
//! and the batch writes the sum just before it commits; if that fails, nothing commits.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use motcua_core::stats::{Amount, Key};
use tokio::sync::{mpsc, oneshot};

use crate::{Backend, Db, StoreError, Tx, exec, on};

/// An audit chain's head as the batch's appends left it.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// Sequence number of the last record appended.
    pub(crate) seq: i64,
    /// Its hash.
    pub(crate) hash: String,
    /// The `seq` stored in `audit_heads` (locked by the batch's transaction).
    pub(crate) stored_seq: i64,
}

/// A value of a deferred row.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// Text, or NULL.
    Text(Option<String>),
    /// Integer.
    Int(i64),
    /// Integer, or NULL.
    OptInt(Option<i64>),
}

/// A row to insert at the end of the batch: `INSERT INTO {into} VALUES (…)`, where `into`
/// names the table and its columns (one per value).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// `table (col, col, …)`.
    pub(crate) into: &'static str,
    /// The values, in the columns' order.
    pub(crate) values: Vec<Val>,
}

/// A day's code sequence of a receiving agency as the batch's intakes left it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sequence {
    /// The last sequence number issued.
    pub(crate) last: i64,
    /// The `last` stored in `dossier_sequences` (the row is locked by the batch's
    /// transaction, or written by it).
    pub(crate) stored: i64,
}

/// Writes deferred to the end of the batch.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    /// Statistics counters to add (`stats::apply`'s differences, summed).
    pub(crate) stats: BTreeMap<Key, Amount>,
    /// Audit chain heads to store.
    pub(crate) heads: BTreeMap<String, Head>,
    /// Rows nothing in the batch reads back (audit records, outbox events), in the order
    /// they were made.
    pub(crate) rows: Vec<Row>,
    /// Code sequences by (agency, day) to store.
    pub(crate) sequences: BTreeMap<(String, String), Sequence>,
    /// The history of the dossiers filed in this batch (by row id), `seq` assigned: a
    /// filing's history rows are written with the batch's other rows
    /// (`dossiers::append_event`, `dossiers::events` read them from here).
    pub(crate) histories: BTreeMap<RowId, Vec<crate::dossiers::EventRecord>>,
    /// Codes of the dossiers changed, to notify other nodes of (`changes`, PostgreSQL).
    pub(crate) changed: Vec<String>,
    /// New dossiers by provisional id ([`Layers::provisional_id`]), written first at the
    /// batch's end; their history in `histories` is keyed by that id until then.
    pub(crate) dossiers: Vec<(ProvisionalId, Row)>,
}

impl Deferred {
    fn absorb(&mut self, job: Deferred) {
        sum_into(&mut self.stats, job.stats);
        self.heads.extend(job.heads);
        self.rows.extend(job.rows);
        self.sequences.extend(job.sequences);
        for (id, events) in job.histories {
            self.histories.entry(id).or_default().extend(events);
        }
        self.changed.extend(job.changed);
        self.dossiers.extend(job.dossiers);
    }
}

/// Adds `amounts` to the sums in `into`.
pub(crate) fn sum_into(into: &mut BTreeMap<Key, Amount>, amounts: impl IntoIterator<Item = (Key, Amount)>) {
    for (key, a) in amounts {
        let sum = into.entry(key).or_default();
        sum.n += a.n;
        sum.minutes += a.minutes;
    }
}

/// Most values bound in one statement (SQLite allows 32,766, PostgreSQL 65,535).
const MAX_VALUES: usize = 2_000;

/// The placeholders of one row of `width` values whose first is value number `before + 1`
/// of the statement: `(?, ?, …)` on SQLite, `($n, $n+1, …)` on PostgreSQL. SQLite gets
/// anonymous ones because sqlx asks SQLite for every numbered parameter's name, which
/// SQLite finds by a linear scan: binding `$n` costs the square of the parameters per
/// statement (two thirds of `motcua generate`'s time with 4,500 of them).
pub(crate) fn placeholders(backend: Backend, width: usize) -> impl Fn(usize) -> String {
    move |before| {
        let marks: Vec<String> = (1..=width)
            .map(|j| match backend {
                Backend::Sqlite => "?".to_owned(),
                Backend::Postgres => format!("${}", before + j),
            })
            .collect();
        format!("({})", marks.join(", "))
    }
}

/// `INSERT INTO {into} VALUES (…), (…)` for `rows` rows of `width` values each.
fn insert_sql(backend: Backend, into: &str, rows: usize, width: usize) -> String {
    let marks = placeholders(backend, width);
    let mut sql = format!("INSERT INTO {into} VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&marks(i * width));
    }
    sql
}

/// Binds the values of `rows` to `q`, row after row.
macro_rules! bind_rows {
    ($q:expr, $rows:expr) => {{
        let mut q = $q;
        for row in $rows {
            for v in &row.values {
                q = match v {
                    Val::Text(t) => q.bind(t.as_deref()),
                    Val::Int(i) => q.bind(*i),
                    Val::OptInt(i) => q.bind(*i),
                };
            }
        }
        q
    }};
}

/// The rows per statement for rows of `width` values.
fn rows_per_statement(width: usize) -> usize {
    (MAX_VALUES / width.max(1)).max(1)
}

/// Inserts `rows` (all of one `into`), several per statement.
pub(crate) async fn insert_rows(tx: &mut Tx, into: &str, rows: &[&Row]) -> Result<(), StoreError> {
    insert_rows_then(tx, into, rows, "").await
}

/// [`insert_rows`] with `then` after each statement's values (an `ON CONFLICT` clause).
pub(crate) async fn insert_rows_then(tx: &mut Tx, into: &str, rows: &[&Row], then: &str) -> Result<(), StoreError> {
    let width = rows.first().map_or(1, |r| r.values.len()).max(1);
    for chunk in rows.chunks(rows_per_statement(width)) {
        let sql = format!("{} {then}", insert_sql(tx.backend(), into, chunk.len(), width));
        exec!(&mut *tx, |c| bind_rows!(sqlx::query(&sql), chunk).execute(c).await)?;
    }
    Ok(())
}

/// [`insert_rows`] with `RETURNING {returning}`, which names an integer and a text column;
/// returns those of every row (in no promised order).
pub(crate) async fn insert_rows_returning(
    tx: &mut Tx,
    into: &str,
    rows: &[&Row],
    returning: &str,
) -> Result<Vec<(i64, String)>, StoreError> {
    let width = rows.first().map_or(1, |r| r.values.len()).max(1);
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_statement(width)) {
        let sql = format!(
            "{} RETURNING {returning}",
            insert_sql(tx.backend(), into, chunk.len(), width)
        );
        let got: Vec<(i64, String)> = on!(&mut *tx, |c| bind_rows!(sqlx::query_as(&sql), chunk).fetch_all(c).await)?;
        out.extend(got);
    }
    Ok(out)
}

/// A row id handed out by [`crate::dossiers::insert`] inside a batch for a dossier whose
/// row is written when the batch commits: it names the dossier to the batch's own history
/// functions and nothing else. It is not an `i64`, so it cannot reach a foreign key or any
/// function that expects a stored row's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProvisionalId(i64);

/// A dossier's row as a job of the batch knows it: stored (its id), or filed in this
/// batch and written when it commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowId {
    /// A stored row's id.
    Stored(i64),
    /// A row the batch writes when it commits.
    Provisional(ProvisionalId),
}

impl From<i64> for RowId {
    fn from(id: i64) -> Self {
        RowId::Stored(id)
    }
}

impl From<ProvisionalId> for RowId {
    fn from(id: ProvisionalId) -> Self {
        RowId::Provisional(id)
    }
}

/// What the batch's jobs defer, and the running job's share.
#[derive(Debug, Default)]
pub(crate) struct Layers {
    batch: Deferred,
    /// The running job's, merged into `batch` when it succeeds.
    pub(crate) job: Deferred,
    /// The last provisional id handed out (0, -1, -2, …).
    provisional: i64,
}

impl Layers {
    /// A new provisional row id for a row written at the batch's end.
    pub(crate) fn provisional_id(&mut self) -> ProvisionalId {
        self.provisional -= 1;
        ProvisionalId(self.provisional)
    }

    /// The chain's head as the batch's appends so far left it (none: read it from the table).
    pub(crate) fn head(&self, chain: &str) -> Option<Head> {
        self.job
            .heads
            .get(chain)
            .or_else(|| self.batch.heads.get(chain))
            .cloned()
    }

    /// The code sequence of `key` as the batch's intakes so far left it (none: read it
    /// from the table).
    pub(crate) fn sequence(&self, key: &(String, String)) -> Option<Sequence> {
        self.job
            .sequences
            .get(key)
            .or_else(|| self.batch.sequences.get(key))
            .copied()
    }

    /// The deferred history of dossier `id`, oldest first; `None` if the dossier was not
    /// filed in this batch (its history is in the table).
    pub(crate) fn history(&self, id: RowId) -> Option<Vec<crate::dossiers::EventRecord>> {
        let batch = self.batch.histories.get(&id);
        let job = self.job.histories.get(&id);
        if batch.is_none() && job.is_none() {
            return None;
        }
        Some(batch.into_iter().chain(job).flatten().cloned().collect())
    }

    /// The `seq` of the last deferred history row of dossier `id` (0 if it has none yet);
    /// `None` if the dossier was not filed in this batch.
    pub(crate) fn last_seq(&self, id: RowId) -> Option<i64> {
        let batch = self.batch.histories.get(&id);
        let job = self.job.histories.get(&id);
        if batch.is_none() && job.is_none() {
            return None;
        }
        let last = |h: Option<&Vec<crate::dossiers::EventRecord>>| h.and_then(|h| h.last()).map(|e| e.seq);
        Some(last(job).or_else(|| last(batch)).unwrap_or(0))
    }
}

/// The write context of a group commit: the batch's transaction and what its jobs defer
/// to its end. Each job is handed it in turn.
///
/// Invariants it keeps: a job's statements run inside the job's savepoint ([`BatchTx::tx`]
/// opens it before the first), so a failing job is undone alone; what a job defers is
/// kept apart until the job succeeds; rows a job makes with a [`ProvisionalId`] are
/// written, with their history, before anything else when the batch commits.
#[derive(Debug)]
pub struct BatchTx {
    tx: Tx,
    pub(crate) layers: Layers,
    /// The running job has opened its savepoint.
    guarded: bool,
    /// An earlier job's savepoint still exists (released when the next one opens, or by
    /// the commit).
    leftover: bool,
}

impl BatchTx {
    fn new(tx: Tx) -> Self {
        Self {
            tx,
            layers: Layers::default(),
            guarded: false,
            leftover: false,
        }
    }

    /// The transaction, for a statement of the running job: the job's savepoint is opened
    /// first if this is its first statement (releasing the previous job's and opening this
    /// one is one round trip).
    pub async fn tx(&mut self) -> Result<&mut Tx, StoreError> {
        if !self.guarded {
            let sql = if std::mem::take(&mut self.leftover) {
                "RELEASE SAVEPOINT job; SAVEPOINT job"
            } else {
                "SAVEPOINT job"
            };
            // Through `Executor::execute` with a `'static` text: the generic query builders
            // make this future not `Send` for every lifetime, which a job's must be.
            match &mut self.tx {
                Tx::Sqlite(t) => sqlx::Executor::execute(&mut **t, sql).await.map(|_| ())?,
                Tx::Postgres(t) => sqlx::Executor::execute(&mut **t, sql).await.map(|_| ())?,
            }
            self.guarded = true;
        }
        Ok(&mut self.tx)
    }

    /// The transaction without the job's savepoint: for statements whose effect a failed
    /// job may leave behind because it changes nothing anyone sees (reading and locking a
    /// row, or making one that stands for "nothing yet"). If such a statement itself
    /// fails, the batch fails on PostgreSQL (the transaction is aborted with no savepoint
    /// to return to) and every job in it is told so.
    pub(crate) fn unguarded(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// The backend the batch runs on.
    pub fn backend(&self) -> Backend {
        self.tx.backend()
    }

    /// Before a job: nothing of it yet.
    fn start_job(&mut self) {
        self.guarded = false;
    }

    /// After a job: its share joins the batch if it succeeded; otherwise its share is
    /// dropped and its statements (if it ran any) are rolled back.
    async fn end_job(&mut self, ok: bool) -> Result<(), StoreError> {
        let share = std::mem::take(&mut self.layers.job);
        if ok {
            self.layers.batch.absorb(share);
        } else if self.guarded {
            exec!(&mut self.tx, |c| sqlx::query("ROLLBACK TO SAVEPOINT job")
                .execute(c)
                .await)?;
        }
        // The job's savepoint (if it opened one) stays until the next opens one.
        self.leftover |= self.guarded;
        self.guarded = false;
        Ok(())
    }
}

/// A boxed future borrowing the transaction.
pub type JobFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Called with the commit's outcome once the batch is over.
type Finish = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// A job as the batch task sees it: run it, learn whether it succeeded, and how to tell
/// its caller.
type Job = Box<dyn for<'t> FnOnce(&'t mut BatchTx) -> JobFuture<'t, (bool, Finish)> + Send>;

/// Most jobs in one transaction.
pub const MAX_BATCH: usize = 256;

/// The advisory lock (PostgreSQL) a batch holds until it ends: see [`run_batch`].
const BATCH_LOCK: i64 = 727_003;

/// The handle callers submit jobs through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Job>,
    /// Why the last batch that failed before its jobs ran failed, for its jobs' callers.
    failure: Arc<Mutex<Option<StoreError>>>,
}

impl Batcher {
    /// Starts the batch task for `db` (on the current Tokio runtime). It ends when every
    /// handle is dropped.
    ///
    /// The task runs on a thread of its own (a single-threaded runtime): it talks to the
    /// database one statement at a time, and each answer must wake it at once. On the
    /// shared runtime it would wait behind the request tasks for every statement of every
    /// job, and that wait, not the disk, was what limited intake (see bench/RESULTS.md).
    pub fn start(db: Db) -> Self {
        let (queue, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let failure = Arc::new(Mutex::new(None));
        let told = Arc::clone(&failure);
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => {
                // Failing to start a thread means the process cannot serve at all.
                std::thread::Builder::new()
                    .name("motcua-writer".to_owned())
                    .spawn(move || runtime.block_on(run(db, rx, told)))
                    .expect("the operating system starts the write batch thread");
            }
            Err(e) => {
                // Without a runtime of its own, the shared one still runs it correctly.
                tracing::warn!(error = %e, "write batch runtime not started; batching on the shared runtime");
                tokio::spawn(run(db, rx, told));
            }
        }
        Self { queue, failure }
    }

    /// Runs `job` in the next batch and returns its result once the batch has committed.
    /// If the job fails, its changes are rolled back and the others' are kept; if the
    /// commit fails, every job of the batch fails.
    pub async fn submit<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut BatchTx) -> JobFuture<'t, Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, E>>();
        let wrapped: Job = Box::new(move |b: &mut BatchTx| {
            Box::pin(async move {
                let outcome = job(b).await;
                let ok = outcome.is_ok();
                let finish: Finish = Box::new(move |commit: Result<(), &StoreError>| {
                    let result = match (outcome, commit) {
                        (Ok(v), Ok(())) => Ok(v),
                        (Ok(_), Err(e)) => Err(E::from(commit_failed(e))),
                        (Err(e), _) => Err(e),
                    };
                    // The caller may have gone (client disconnected): nothing to tell.
                    let _ = reply.send(result);
                });
                (ok, finish)
            })
        });
        let gone = || E::from(StoreError::Io("the write queue has stopped".to_owned()));
        self.queue.send(wrapped).await.map_err(|_| gone())?;
        answer.await.unwrap_or_else(|_| {
            let failure = self.failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            Err(E::from(match failure.as_ref() {
                // A database that cannot serve now is told as such (the caller answers 503).
                Some(StoreError::Unavailable(m)) => StoreError::Unavailable(m.clone()),
                _ => StoreError::Io("the write batch failed before the job ran (see the log)".to_owned()),
            }))
        })
    }
}

/// What each job of a batch whose commit failed with `e` is told: a full disk as such (the
/// caller answers it differently from a fault), anything else as a failed commit.
fn commit_failed(e: &StoreError) -> StoreError {
    match e {
        StoreError::Full(m) => StoreError::Full(m.clone()),
        StoreError::Unavailable(m) => StoreError::Unavailable(format!("commit failed: {m}")),
        other => StoreError::Io(format!("commit failed: {other}")),
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, failure: Arc<Mutex<Option<StoreError>>>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut finishers: Vec<Finish> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        metrics::histogram!("motcua_write_batch_size").record(jobs.len() as f64);
        // Taken from the end: the first received runs first.
        jobs.reverse();
        if let Err(e) = run_batch(&db, &mut jobs, &mut finishers).await {
            tracing::error!(error = %e, ran = finishers.len(), unrun = jobs.len(), "write batch failed");
            // The jobs that ran are told the batch's error as a failed commit would be.
            for finish in finishers.drain(..) {
                finish(Err(&e));
            }
            // Dropping a job that never ran wakes its caller, who reads why here: the
            // reason is recorded before any is dropped.
            *failure.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
        }
        jobs.clear();
        finishers.clear();
    }
}

/// Runs `jobs` (last first) in one transaction. On success every job's finisher has been
/// called; on an error, `finishers` holds those of the jobs that ran and `jobs` those that
/// did not, for the caller to tell.
async fn run_batch(db: &Db, jobs: &mut Vec<Job>, finishers: &mut Vec<Finish>) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let mut tx = db.begin_write().await?;
    // Nodes sharing a PostgreSQL database each run batches, whose jobs lock the rows every
    // change shares (the day's code sequence, the audit chain's head) in job order: two
    // batches at once could lock them in opposite orders and deadlock. One batch at a time
    // across the nodes; they would queue on the chain's head anyway.
    tx.serialize_with(BATCH_LOCK).await?;
    let mut b = BatchTx::new(tx);
    let began = started.elapsed();
    while let Some(job) = jobs.pop() {
        b.start_job();
        let (ok, finish) = job(&mut b).await;
        finishers.push(finish);
        b.end_job(ok).await?;
    }
    let ran = started.elapsed();
    let BatchTx { mut tx, layers, .. } = b;
    let written = write_deferred(&mut tx, layers.batch).await;
    let wrote = started.elapsed();
    let commit = match written {
        Ok(()) => tx.commit().await,
        // Dropping the transaction rolls every job back.
        Err(e) => Err(e),
    };
    let committed = started.elapsed();
    // Where a batch's time goes: opening the transaction, the jobs, the deferred writes,
    // the commit (its flush to disk).
    for (phase, d) in [
        ("begin", began),
        ("jobs", ran - began),
        ("deferred", wrote - ran),
        ("commit", committed - wrote),
    ] {
        metrics::histogram!("motcua_write_batch_seconds", "phase" => phase).record(d.as_secs_f64());
    }
    if let Err(e) = &commit {
        tracing::error!(error = %e, jobs = finishers.len(), "write batch commit failed");
    }
    for finish in finishers.drain(..) {
        finish(commit.as_ref().map(|_| ()));
    }
    Ok(())
}

/// Writes what the batch's jobs deferred, in the batch's transaction.
async fn write_deferred(tx: &mut Tx, d: Deferred) -> Result<(), StoreError> {
    // New dossiers first: their history needs their real ids.
    let ids = crate::dossiers::insert_deferred(tx, d.dossiers).await?;
    let histories: Vec<(i64, Vec<crate::dossiers::EventRecord>)> = d
        .histories
        .into_iter()
        .map(|(id, events)| match id {
            RowId::Stored(id) => Ok((id, events)),
            RowId::Provisional(p) => ids
                .get(&p)
                .map(|real| (*real, events))
                .ok_or_else(|| StoreError::Io(format!("history of a dossier never written ({p:?})"))),
        })
        .collect::<Result<_, StoreError>>()?;
    crate::dossiers::insert_numbered_events(tx, &histories).await?;
    let sequences: Vec<(&str, &str, i64)> = d
        .sequences
        .iter()
        .filter(|(_, seq)| seq.last != seq.stored)
        .map(|((agency, day), seq)| (agency.as_str(), day.as_str(), seq.last))
        .collect();
    crate::dossiers::store_sequences(tx, &sequences).await?;
    // Each table's rows in the order they were made (ids then follow that order).
    let mut tables: Vec<&'static str> = Vec::new();
    for r in &d.rows {
        if !tables.contains(&r.into) {
            tables.push(r.into);
        }
    }
    for into in tables {
        let rows: Vec<&Row> = d.rows.iter().filter(|r| r.into == into).collect();
        insert_rows(tx, into, &rows).await?;
    }
    crate::changes::notify(tx, &d.changed).await?;
    crate::stats::add_differences(tx, d.stats).await?;
    for (chain, head) in d.heads {
        crate::audit::store_head(tx, &chain, &head).await?;
    }
    Ok(())
}
