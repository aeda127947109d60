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
//! A job must not open a transaction of its own: it runs while the batch holds the
//! write transaction (on SQLite, the only writer).

use std::future::Future;
use std::pin::Pin;

use tokio::sync::{mpsc, oneshot};

use crate::{Db, StoreError, Tx, exec};

/// A boxed future borrowing the transaction.
pub type JobFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Called with the commit's outcome once the batch is over.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;

/// A job as the batch task sees it: run it, learn whether it succeeded, and how to tell
/// its caller.
type Job = Box<dyn for<'t> FnOnce(&'t mut Tx) -> JobFuture<'t, (bool, Finish)> + Send>;

/// Most jobs in one transaction.
pub const MAX_BATCH: usize = 256;

/// The handle callers submit jobs through. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Batcher {
    queue: mpsc::Sender<Job>,
}

impl Batcher {
    /// Starts the batch task for `db` (on the current Tokio runtime). It ends when every
    /// handle is dropped.
    pub fn start(db: Db) -> Self {
        let (queue, rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(run(db, rx));
        Self { queue }
    }

    /// Runs `job` in the next batch and returns its result once the batch has committed.
    /// If the job fails, its changes are rolled back and the others' are kept; if the
    /// commit fails, every job of the batch fails.
    pub async fn submit<T, E, F>(&self, job: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> JobFuture<'t, Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, E>>();
        let wrapped: Job = Box::new(move |tx: &mut Tx| {
            Box::pin(async move {
                let outcome = job(tx).await;
                let ok = outcome.is_ok();
                let finish: Finish = Box::new(move |commit: Result<(), String>| {
                    let result = match (outcome, commit) {
                        (Ok(v), Ok(())) => Ok(v),
                        (Ok(_), Err(e)) => Err(E::from(StoreError::Io(format!("commit failed: {e}")))),
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
            Err(E::from(StoreError::Io(
                "the write batch failed before the job ran (see the log)".to_owned(),
            )))
        })
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        metrics::histogram!("motcua_write_batch_size").record(jobs.len() as f64);
        if let Err(e) = run_batch(&db, &mut jobs).await {
            // Jobs not yet run are dropped: their callers get an error.
            tracing::error!(error = %e, "write batch failed");
        }
        jobs.clear();
    }
}

async fn run_batch(db: &Db, jobs: &mut Vec<Job>) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    let mut finishers: Vec<Finish> = Vec::with_capacity(jobs.len());
    for job in jobs.drain(..) {
        exec!(&mut tx, |c| sqlx::query("SAVEPOINT job").execute(c).await)?;
        let (ok, finish) = job(&mut tx).await;
        if !ok {
            exec!(&mut tx, |c| sqlx::query("ROLLBACK TO SAVEPOINT job").execute(c).await)?;
        }
        exec!(&mut tx, |c| sqlx::query("RELEASE SAVEPOINT job").execute(c).await)?;
        finishers.push(finish);
    }
    let commit = tx.commit().await.map_err(|e| e.to_string());
    if let Err(e) = &commit {
        tracing::error!(error = %e, jobs = finishers.len(), "write batch commit failed");
    }
    for finish in finishers {
        finish(commit.clone());
    }
    Ok(())
}
