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
    /// Starts listening for dossier changes; `None` on SQLite, where there is no other
    /// writer. Holds one connection of the pool.
    pub async fn listen_changes(&self) -> Result<Option<Listener>> {
        match self {
            Db::Sqlite { .. } => Ok(None),
            Db::Postgres { pool, .. } => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                Ok(Some(Listener(listener)))
            }
        }
    }
}

impl Listener {
    /// The code of the next changed dossier; `None` when the connection was lost (it is
    /// made again on the next call), in which case changes may have been missed.
    pub async fn next(&mut self) -> Result<Option<String>> {
        match self.0.try_recv().await {
            Ok(n) => Ok(n.map(|n| n.payload().to_owned())),
            Err(e) => Err(StoreError::from(e)),
        }
    }
}
