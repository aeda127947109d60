//! Work that must not compete with requests: documents issued after a transition.
//!
//! Rendering a form costs milliseconds of CPU (typesetting, the QR code, compression),
//! hundreds of times an intake's own cost. Issuing them right after each transition, on
//! the request threads, took most of the CPU under a burst of intakes and made every
//! request wait. Instead:
//! - [`FormQueue`]: the dossiers whose documents are to be issued wait in a bounded queue,
//!   served by one task, one dossier at a time. When the queue is full the dossier is
//!   skipped: nothing is lost, since a document not yet stored is rendered (the same bytes)
//!   and stored when it is first downloaded (`forms::document`).
//! - [`Idle`]: that task renders on one OS thread running at the lowest scheduling
//!   priority (batch policy, nice 19), so the renders use the CPU time requests leave over.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use motcua_core::dossier::DossierCode;

use crate::error::AppError;
use crate::state::AppState;

/// Dossiers waiting for their documents, at most.
const QUEUE: usize = 20_000;

type Job = Box<dyn FnOnce() + Send>;

/// One low-priority thread that runs CPU-heavy jobs in turn. Started on first use; the
/// thread ends when the last handle is dropped.
#[derive(Debug, Default, Clone)]
pub struct Idle {
    jobs: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl Idle {
    fn sender(&self) -> &mpsc::Sender<Job> {
        self.jobs.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let spawned = std::thread::Builder::new()
                .name("motcua-idle".to_owned())
                .spawn(move || {
                    lower_priority();
                    for job in rx {
                        job();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start the background rendering thread");
            }
            tx
        })
    }

    /// Runs `f` on the low-priority thread and waits for its result without blocking the
    /// async runtime.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.sender()
            .send(Box::new(move || {
                // The receiver may be gone (the request was cancelled): nothing to do then.
                let _ = tx.send(f());
            }))
            .map_err(|_| AppError::Internal("the background rendering thread has stopped".to_owned()))?;
        rx.await
            .map_err(|_| AppError::Internal("a background rendering job was lost".to_owned()))
    }
}

/// Makes the calling thread the last to get the CPU: on Linux the batch scheduling policy
/// at nice 19 (a share of about 1/70 of a busy core, never starved, unlike SCHED_IDLE).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use thread_priority::{
            NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
        if let Err(e) = set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, batch) {
            tracing::warn!(error = ?e, "cannot lower the rendering thread's priority");
        }
    }
}

/// The dossiers whose documents are to be issued; see the module documentation. A dossier
/// already waiting is not queued twice: its turn issues everything it has by then.
#[derive(Debug, Default, Clone)]
pub struct FormQueue {
    inner: Arc<QueueInner>,
}

#[derive(Debug, Default)]
struct QueueInner {
    tx: OnceLock<tokio::sync::mpsc::Sender<DossierCode>>,
    /// Codes in the queue.
    waiting: Mutex<HashSet<String>>,
    /// Dossiers being issued now (0 or 1).
    busy: AtomicUsize,
    /// Set at shutdown ([`FormQueue::stop`]): nothing more is issued.
    stopped: std::sync::atomic::AtomicBool,
}

impl FormQueue {
    /// Queues `code` for [`crate::forms::issue_missing`]; starts the serving task on first
    /// use (inside the runtime, since handlers call it). Returns at once.
    pub fn push(&self, state: &AppState, code: DossierCode) {
        let inner = &self.inner;
        let tx = inner.tx.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<DossierCode>(QUEUE);
            let state = state.clone();
            let queue = Arc::clone(inner);
            tokio::spawn(async move {
                while let Some(code) = rx.recv().await {
                    // Busy before looking at `stopped`: `stop` sets it, then waits for idle.
                    queue.busy.fetch_add(1, Ordering::SeqCst);
                    if queue.stopped.load(Ordering::SeqCst) {
                        queue.busy.fetch_sub(1, Ordering::SeqCst);
                        continue;
                    }
                    // Out of the waiting set before issuing: a change from now on queues it again.
                    queue.lock_waiting().remove(code.as_str());
                    if let Err(e) = crate::forms::issue_missing(&state, &code).await {
                        tracing::warn!(dossier = code.as_str(), error = %e, "issuing forms failed");
                    }
                    queue.busy.fetch_sub(1, Ordering::SeqCst);
                }
            });
            tx
        });
        let mut waiting = inner.lock_waiting();
        if waiting.contains(code.as_str()) {
            return;
        }
        let key = code.as_str().to_owned();
        match tx.try_send(code) {
            Ok(()) => {
                waiting.insert(key);
            }
            Err(_) => {
                metrics::counter!("motcua_forms_deferred_total").increment(1);
                tracing::debug!(
                    dossier = key,
                    "form queue full: the documents will be drawn when first downloaded"
                );
            }
        }
    }

    /// Waits until every queued dossier has been issued, at most `limit`; whether it got
    /// there. For commands that end the process after a burst of work.
    pub async fn settle(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.inner.lock_waiting().is_empty() && self.inner.busy.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Stops issuing, at shutdown before the database closes: the dossier being issued
    /// finishes (at most `limit`); those still waiting are drawn at their first download,
    /// as when the queue is full. How many were left waiting.
    pub async fn stop(&self, limit: std::time::Duration) -> usize {
        self.inner.stopped.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + limit;
        while self.inner.busy.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.inner.lock_waiting().len()
    }

    /// How many dossiers wait for their documents.
    pub fn waiting(&self) -> usize {
        self.inner.lock_waiting().len()
    }
}

impl QueueInner {
    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_in_turn_on_a_low_priority_thread() {
        let idle = Idle::default();
        assert_eq!(idle.run(|| 6 * 7).await.expect("ran"), 42);
        let (name, stat) = idle
            .run(|| {
                let name = std::thread::current().name().map(str::to_owned);
                (
                    name,
                    std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default(),
                )
            })
            .await
            .expect("ran");
        assert_eq!(name.as_deref(), Some("motcua-idle"));
        if cfg!(target_os = "linux") {
            // Field 19 of /proc/<tid>/stat is the nice value (fields counted after the
            // parenthesised command name, which may hold spaces).
            let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or_default();
            let nice = after.split_whitespace().nth(16).unwrap_or_default();
            assert_eq!(nice, "19", "{stat}");
        }
    }
}
