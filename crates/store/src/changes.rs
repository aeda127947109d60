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
/// is the centre's code and, after a space, the ticket's id when one ticket changed, so
/// every node's display boards and phone pages of that centre update.
pub const QUEUE_CHANNEL: &str = "motcua_queue_changed";

/// What a notification was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A dossier changed: its code.
    Dossier(String),
    /// A centre's queue changed.
    Queue(QueueChange),
}

/// What changed in a centre's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueChange {
    /// The centre's code; `None`: any centre's queue may have changed (changes were missed).
    pub centre: Option<String>,
    /// The one ticket that changed (its id), when the change was to one ticket.
    pub ticket: Option<i64>,
}

impl QueueChange {
    /// Ticket `ticket` of `centre` changed.
    pub fn ticket(centre: &str, ticket: i64) -> Self {
        QueueChange {
            centre: Some(centre.to_owned()),
            ticket: Some(ticket),
        }
    }

    /// Anything may have changed, in every centre.
    pub fn everything() -> Self {
        QueueChange {
            centre: None,
            ticket: None,
        }
    }

    /// The notification's payload (see [`QUEUE_CHANNEL`]).
    fn payload(&self) -> String {
        match (&self.centre, self.ticket) {
            (Some(c), Some(t)) => format!("{c} {t}"),
            (Some(c), None) => c.clone(),
            (None, _) => String::new(),
        }
    }

    /// The change a payload tells; an empty or unreadable one says anything may have changed.
    fn parse(payload: &str) -> Self {
        match payload.split_once(' ') {
            Some((c, t)) if !c.is_empty() => QueueChange {
                centre: Some(c.to_owned()),
                ticket: t.parse().ok(),
            },
            None if !payload.is_empty() => QueueChange {
                centre: Some(payload.to_owned()),
                ticket: None,
            },
            _ => QueueChange::everything(),
        }
    }
}

/// Sends the notification of queue change `change` (PostgreSQL; delivered when `tx`
/// commits, and only then). Nothing on SQLite, where this process is the only writer.
pub async fn notify_queue(tx: &mut Tx, change: &QueueChange) -> Result<()> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(QUEUE_CHANNEL)
            .bind(change.payload())
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
                if n.channel() == QUEUE_CHANNEL {
                    Change::Queue(QueueChange::parse(n.payload()))
                } else {
                    Change::Dossier(n.payload().to_owned())
                }
            })),
            Err(e) => Err(StoreError::from(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::QueueChange;

    #[test]
    fn queue_changes_read_back_from_their_payload() {
        for c in [
            QueueChange::ticket("000.00.16.H43", 42),
            QueueChange {
                centre: Some("000.00.16.H43".to_owned()),
                ticket: None,
            },
            QueueChange::everything(),
        ] {
            assert_eq!(QueueChange::parse(&c.payload()), c);
        }
        // A payload from an older node (the centre alone) and a garbled ticket id.
        assert_eq!(QueueChange::parse("X").ticket, None);
        assert_eq!(QueueChange::parse("X abc").centre.as_deref(), Some("X"));
        assert_eq!(QueueChange::parse("X abc").ticket, None);
    }
}
