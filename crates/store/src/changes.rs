//! Dossier changes told to every node, so that what a node keeps in memory about a dossier
//! (the public tracking answers) can be dropped when another node changes it.
//!
//! On PostgreSQL each change of a dossier sends `NOTIFY` on [`CHANNEL`] with the dossier's
//! code, in the transaction that makes the change: PostgreSQL delivers it to every
//! listening session when, and only if, that transaction commits. Inside a group commit
//! the batch sends the codes of all its jobs in one statement at its end
//! (`batch::Deferred`). On SQLite the serving process is the only writer and nothing is
//! sent.

use crate::batch::BatchTx;
use crate::{Backend, Db, Result, StoreError, Tx};

/// The notification channel of dossier changes; the payload is the dossier's code.
pub const CHANNEL: &str = "motcua_dossier_changed";

/// The notification channel of queue changes (a ticket taken, called, moved); the payload
/// is the centre's code, so every node's display boards of that centre update.
pub const QUEUE_CHANNEL: &str = "motcua_queue_changed";

/// What a notification was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A dossier changed: its code.
    Dossier(String),
    /// A centre's queue changed: the centre's code.
    Queue(String),
}

/// Sends the notification that `centre`'s queue changed (PostgreSQL; delivered when `tx`
/// commits, and only then). Nothing on SQLite, where this process is the only writer.
pub async fn notify_queue(tx: &mut Tx, centre: &str) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(QUEUE_CHANNEL)
            .bind(centre)
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// Records that dossier `code` changes in the batch `b`: its code is sent when the batch
/// commits (see the module documentation).
pub(crate) fn changed(b: &mut BatchTx, code: &str) {
    if b.backend() == Backend::Postgres {
        b.layers.job.changed.push(code.to_owned());
    }
}

/// Sends the notifications of `codes` (PostgreSQL; delivered when `tx` commits).
pub(crate) async fn notify(tx: &mut Tx, codes: &[String]) -> Result<()> {
    if codes.is_empty() {
        return Ok(());
    }
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify($1, code) FROM unnest($2::text[]) AS code")
            .bind(CHANNEL)
            .bind(codes)
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// A session listening for dossier changes (PostgreSQL).
#[derive(Debug)]
pub struct Listener(sqlx::postgres::PgListener);

impl Db {
    /// Starts listening for dossier and queue changes; `None` on SQLite, where there is no
    /// other writer. Holds one connection of the pool.
    pub async fn listen_changes(&self) -> Result<Option<Listener>> {
        match self {
            Db::Sqlite { .. } => Ok(None),
            Db::Postgres { pool, .. } => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen_all([CHANNEL, QUEUE_CHANNEL]).await?;
                Ok(Some(Listener(listener)))
            }
        }
    }
}

impl Listener {
    /// The next change; `None` when the connection was lost (it is made again on the next
    /// call), in which case changes may have been missed.
    pub async fn next(&mut self) -> Result<Option<Change>> {
        match self.0.try_recv().await {
            Ok(n) => Ok(n.map(|n| {
                let payload = n.payload().to_owned();
                if n.channel() == QUEUE_CHANNEL {
                    Change::Queue(payload)
                } else {
                    Change::Dossier(payload)
                }
            })),
            Err(e) => Err(StoreError::from(e)),
        }
    }
}
