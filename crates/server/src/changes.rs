//! Dossier and queue changes made by any node (PostgreSQL): a listener that drops their
//! tracking answers from this node's cache (`crate::tracking_cache`,
//! `motcua_store::changes`) and tells this node's display boards that a centre's queue
//! changed (`AppState::queue_events`).
//!
//! The cache is off until the listener is connected, and is emptied and kept off whenever
//! the connection is lost, since changes made meanwhile are not told again.

use std::time::Duration;

use motcua_store::changes::{Change, QueueChange};
use tokio::task::JoinHandle;

use crate::state::AppState;

/// The running listener.
#[derive(Debug)]
pub struct Listening(JoinHandle<()>);

impl Listening {
    /// Stops listening and gives its connection back (before the database is closed).
    pub async fn stop(self) {
        self.0.abort();
        // Cancelled (the expected outcome) or ended: either way it is over.
        let _ = self.0.await;
    }
}

/// Starts the listener on PostgreSQL (the tracking cache is off until it is connected);
/// `None` on SQLite, where this process makes every change itself.
pub fn spawn(state: &AppState) -> Option<Listening> {
    if state.db.backend() != motcua_store::Backend::Postgres {
        return None;
    }
    let cache = state.tracking_cache.clone();
    let queue_events = state.queue_events.clone();
    cache.set_live(false);
    let db = state.db.clone();
    Some(Listening(tokio::spawn(async move {
        let mut wait = Duration::from_millis(250);
        loop {
            match db.listen_changes().await {
                Ok(Some(mut listener)) => {
                    cache.set_live(true);
                    // Queue changes made while not listening are unknown: the live views
                    // read their centres whole again.
                    drop(queue_events.send(QueueChange::everything()));
                    wait = Duration::from_millis(250);
                    loop {
                        match listener.next().await {
                            Ok(Some(Change::Dossier(code))) => cache.forget(&code),
                            // No board listening is not an error.
                            Ok(Some(Change::Queue(change))) => drop(queue_events.send(change)),
                            // Lost and made again: what changed meanwhile is unknown.
                            Ok(None) => {
                                tracing::warn!("dossier change listener reconnected; tracking cache emptied");
                                cache.clear();
                                drop(queue_events.send(QueueChange::everything()));
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "dossier change listener lost; tracking cache off");
                                cache.set_live(false);
                                break;
                            }
                        }
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for dossier changes; tracking cache off");
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
    })))
}
