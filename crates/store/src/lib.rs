//! The motcua database: one [`Db`] over SQLite (embedded, the default) and PostgreSQL.
//!
//! Queries are written once in SQL both dialects accept (`$1` placeholders work in
//! SQLite too) and run through the [`on!`] macro, which expands the same body for each
//! backend's connection type. The dialect differences that remain (how a write
//! transaction starts, how migrations lock, how backups are taken) live in this file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

pub mod accounts;
pub mod audit;
pub mod batch;
pub mod booking;
pub mod calendar;
pub mod catalogue;
pub mod changes;
mod deadline;
pub mod documents;
pub mod dossiers;
mod error;
pub mod evaluation;
pub mod files;
pub mod fingerprints;
pub mod forms;
pub mod limits;
mod migrate;
pub mod otp;
pub mod outbox;
pub mod overview;
pub mod payments;
pub mod postgres;
pub mod queue;
pub mod ratings;
pub mod reports;
pub mod result_signings;
pub mod rules;
pub mod sso;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::StoreError;
pub use migrate::{schema, versions as migration_versions};

/// Result of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs `$body` with `$c` bound to the transaction's connection, whichever the backend.
/// The body is compiled once per backend, so it must be valid for both.
#[macro_export]
macro_rules! on {
    ($tx:expr, |$c:ident| $body:expr) => {{
        let tx: &mut $crate::Tx = $tx;
        match tx {
            $crate::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    }};
}

/// Like [`on!`] for a body that ends in `.execute(c).await`: the backend-specific query
/// result becomes the number of rows affected, so both arms have one type.
#[macro_export]
macro_rules! exec {
    ($tx:expr, |$c:ident| $body:expr) => {
        $crate::on!($tx, |$c| $body.map(|r| r.rows_affected()))
    };
}

/// A bind parameter of a query assembled at run time (filters that are present become
/// conditions, so each query shape can use its index).
pub(crate) enum Arg<'a> {
    Text(&'a str),
    Int(i64),
}

/// The conditions and bind parameters of a query assembled at run time: only the filters
/// given become conditions, so each query shape can use its index (a catch-all
/// `$1 IS NULL OR …` would hide them from PostgreSQL's generic plans).
#[derive(Default)]
pub(crate) struct Filters<'a> {
    /// The conditions, to be joined with `AND`.
    pub conditions: Vec<String>,
    /// The parameters: `$1` first.
    pub args: Vec<Arg<'a>>,
}

impl<'a> Filters<'a> {
    /// No condition yet; `args` are `$1`, `$2`, … of the query's fixed part.
    pub fn new(args: Vec<Arg<'a>>) -> Self {
        Filters {
            conditions: Vec::new(),
            args,
        }
    }

    /// Adds `arg` as the next parameter and returns its placeholder (`$n`).
    pub fn bind(&mut self, arg: Arg<'a>) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    /// Adds a condition.
    pub fn and(&mut self, condition: String) {
        self.conditions.push(condition);
    }

    /// Adds `{left} $n` with `arg` as `$n` (e.g. `left` = `"at >="`), when there is an `arg`.
    pub fn and_if(&mut self, left: &str, arg: Option<Arg<'a>>) {
        if let Some(arg) = arg {
            let p = self.bind(arg);
            self.and(format!("{left} {p}"));
        }
    }

    /// Each condition preceded by ` AND `: what follows a fixed `WHERE` clause.
    pub fn and_all(&self) -> String {
        self.conditions.iter().map(|c| format!(" AND {c}")).collect()
    }
}

/// The query `$q` with `$args` (a slice of [`Arg`]) bound in order.
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                Arg::Text(s) => q.bind(*s),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// Runs the statement `sql` with `args` bound in order; returns how many rows it changed.
pub(crate) async fn execute(tx: &mut Tx, sql: &str, args: &[Arg<'_>]) -> Result<u64> {
    Ok(exec!(tx, |c| bind_args!(sqlx::query(sql), args).execute(c).await)?)
}

/// Runs `sql` with `args` bound in order and reads every row as a `T`.
pub(crate) async fn fetch_all<T>(tx: &mut Tx, sql: &str, args: &[Arg<'_>]) -> Result<Vec<T>>
where
    T: Send + Unpin,
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    Ok(on!(tx, |c| bind_args!(sqlx::query_as::<_, T>(sql), args)
        .fetch_all(c)
        .await)?)
}

/// Which database engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// `postgres://…` for PostgreSQL; otherwise ignored and SQLite is used.
    pub url: Option<String>,
    /// SQLite database file (created if missing).
    pub sqlite_path: PathBuf,
    /// Most connections in the (read) pool.
    pub max_connections: u32,
    /// How long a writer waits for the SQLite write lock before giving up.
    pub busy_timeout: Duration,
}

/// The database. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite: one writer connection (SQLite admits one writer at a time, so writes queue
    /// in-process instead of failing with SQLITE_BUSY) and a pool of readers under WAL.
    Sqlite {
        /// The single writer.
        write: SqlitePool,
        /// Read-only connections.
        read: SqlitePool,
        /// The database file.
        path: PathBuf,
    },
    /// PostgreSQL: one pool.
    Postgres {
        /// The pool.
        pool: PgPool,
        /// The URL it was opened with, for the client tools (`pg_dump`).
        url: String,
        /// Which of the URL's hosts the pool uses, and whether the server is reachable.
        link: std::sync::Arc<postgres::Link>,
    },
}

/// An open transaction on either backend. Dropped without [`Tx::commit`], it rolls back.
#[derive(Debug)]
pub enum Tx {
    /// SQLite transaction.
    Sqlite(Transaction<'static, Sqlite>),
    /// PostgreSQL transaction.
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    /// Commits. On SQLite at synchronous=FULL the commit is on disk when this returns.
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Serialises this transaction with every other one that takes the same `key`, until it
    /// ends: a PostgreSQL advisory lock (several nodes may race to do the same one-off work,
    /// e.g. at first start). On SQLite the single writer already serialises writes.
    pub async fn serialize_with(&mut self, key: i64) -> Result<()> {
        if let Tx::Postgres(t) = self {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(key)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// The backend this transaction runs on.
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

impl Db {
    /// Opens the database, creating the SQLite file and its directory if missing.
    /// Does not migrate: call [`Db::migrate`].
    pub async fn connect(config: &DbConfig) -> Result<Db> {
        match config.url.as_deref() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let (pool, link) = postgres::Link::open(url, config.max_connections.max(2)).await?;
                Ok(Db::Postgres {
                    pool,
                    url: url.to_owned(),
                    link,
                })
            }
            // SQLite is configured by the data directory, not a URL, so that the file, its
            // lock and its backups are always in one known place.
            Some(other) if !other.is_empty() => Err(StoreError::Config(format!(
                "database URL must start with postgres:// (got «{}:…»); leave it empty to use SQLite in the data directory",
                other.split(':').next().unwrap_or_default()
            ))),
            _ => Self::open_sqlite(&config.sqlite_path, config).await,
        }
    }

    async fn open_sqlite(path: &Path, config: &DbConfig) -> Result<Db> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged commit survives power loss, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(config.busy_timeout)
            // Savepoints (one per job of a group commit) keep their undo journal in memory,
            // not in a temporary file written on every change.
            .pragma("temp_store", "memory")
            .foreign_keys(true);
        // The writer opens first so the file exists and is in WAL mode before readers attach.
        // A pooled SQLite connection is a file handle, not a network link that can drop:
        // checking it before each use (sqlx's default) was a round trip to its thread per
        // transaction for nothing.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            // A COMMIT that fails with SQLITE_FULL (a full disk) or an I/O error rolls the
            // transaction back inside SQLite, but sqlx still counts it open and its ROLLBACK
            // then fails, so every later `BEGIN IMMEDIATE` would be refused for good. Such a
            // connection is closed here instead, and the pool opens a fresh one. (The count
            // is settled by then: sqlx pings a connection as it returns, after the rollback.)
            .before_acquire(|conn, _| Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) }))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.clone().create_if_missing(true))
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(base.read_only(true))
            .await?;
        Ok(Db::Sqlite {
            write,
            read,
            path: path.to_owned(),
        })
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`: it takes the write
    /// lock up front, so a transaction that reads before it writes cannot fail to upgrade.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres { pool, link, .. } => Tx::Postgres(link.begin(pool, None).await?),
        })
    }

    /// Starts a read-only transaction: one consistent snapshot for everything read in it.
    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            Db::Postgres { pool, link, .. } => Tx::Postgres(link.begin(pool, Some("BEGIN READ ONLY")).await?),
        })
    }

    /// Applies pending migrations (idempotent; safe with several nodes on PostgreSQL).
    pub async fn migrate(&self) -> Result<usize> {
        let applied = migrate::run(self).await?;
        // Counters of dossiers written before the statistics existed (issue 8).
        stats::backfill(self).await?;
        Ok(applied)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        let mut tx = self.begin_read().await?;
        exec!(&mut tx, |c| sqlx::query("SELECT 1").execute(c).await)?;
        Ok(())
    }

    /// Closes every connection, waiting for those in use to be returned.
    /// On SQLite the last connection to close checkpoints the WAL into the main file.
    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres { pool, .. } => pool.close().await,
        }
    }

    /// Writes a consistent copy of the database to `target` while it keeps serving.
    /// SQLite: `VACUUM INTO` (a compact, standalone database file). PostgreSQL: `pg_dump`
    /// in its custom format, which `motcua restore` feeds to `pg_restore`.
    pub async fn backup(&self, target: &Path) -> Result<()> {
        if target.exists() {
            return Err(StoreError::Io(format!(
                "{} already exists; choose a new file",
                target.display()
            )));
        }
        match self {
            Db::Sqlite { read, .. } => {
                let target = target
                    .to_str()
                    .ok_or_else(|| StoreError::Io("backup path must be valid UTF-8".into()))?;
                sqlx::query("VACUUM INTO $1").bind(target).execute(read).await?;
                Ok(())
            }
            Db::Postgres { url, .. } => {
                run_tool(
                    "pg_dump",
                    &[
                        "--format=custom",
                        "--no-owner",
                        "--file",
                        &target.to_string_lossy(),
                        url,
                    ],
                )
                .await
            }
        }
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Db::Sqlite { path, .. } => Some(path),
            Db::Postgres { .. } => None,
        }
    }
}

/// Restores a PostgreSQL backup made by [`Db::backup`] into the database at `url`,
/// replacing the objects it contains.
pub async fn restore_postgres(url: &str, source: &Path) -> Result<()> {
    run_tool(
        "pg_restore",
        &[
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            url,
            &source.to_string_lossy(),
        ],
    )
    .await
}

/// Checks a SQLite backup and puts it in place of the database file at `target`.
/// The caller must make sure no server uses `target` (see the data directory lock).
pub async fn restore_sqlite(source: &Path, target: &Path) -> Result<()> {
    // Open the backup read-only and check it is a motcua database in good health.
    let options = SqliteConnectOptions::new().filename(source).read_only(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await?;
    let migrated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(&pool)
        .await
        .map_err(|_| {
            StoreError::Invalid(motcua_core::catalogue::Invalid::new(
                "file",
                "không phải bản sao lưu motcua",
            ))
        })?;
    pool.close().await;
    if check != "ok" || migrated == 0 {
        return Err(StoreError::Io(format!(
            "{}: backup failed its integrity check ({check})",
            source.display()
        )));
    }
    // Copy next to the target, then rename: the old database stays whole until the swap.
    let staging = target.with_extension("restoring");
    std::fs::copy(source, &staging).map_err(|e| StoreError::Io(format!("{}: {e}", staging.display())))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(&side).map_err(|e| StoreError::Io(format!("{}: {e}", side.display())))?;
        }
    }
    std::fs::rename(&staging, target).map_err(|e| StoreError::Io(format!("{}: {e}", target.display())))?;
    Ok(())
}

/// Splits the password out of a PostgreSQL URL, so it can travel to the client tools in
/// `PGPASSWORD` instead of on their command line, where any local user could read it.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_owned(), None);
    };
    match userinfo.split_once(':') {
        Some((user, password)) => (format!("{scheme}://{user}@{host}{tail}"), Some(password.to_owned())),
        None => (url.to_owned(), None),
    }
}

async fn run_tool(tool: &str, args: &[&str]) -> Result<()> {
    let mut command = tokio::process::Command::new(tool);
    let mut clean_args = Vec::with_capacity(args.len());
    for arg in args {
        if arg.starts_with("postgres://") || arg.starts_with("postgresql://") {
            let (url, password) = split_password(arg);
            if let Some(p) = password {
                command.env("PGPASSWORD", percent_decode(&p));
            }
            clean_args.push(url);
        } else {
            clean_args.push((*arg).to_owned());
        }
    }
    let out = command.args(&clean_args).output().await.map_err(|e| {
        StoreError::Io(format!(
            "{tool} could not be started ({e}); install the PostgreSQL client tools"
        ))
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(StoreError::Io(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Decodes `%XX` escapes (URL passwords may contain reserved characters).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(Ok(v)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16))
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `FOR UPDATE OF <of> SKIP LOCKED` on PostgreSQL, where several nodes and requests claim
/// rows at once (outbox workers, counters calling the next ticket): rows another
/// transaction is claiming are skipped rather than waited for or taken twice. On SQLite the
/// single writer already serialises them, and the clause does not exist.
pub(crate) fn skip_locked(tx: &Tx, of: &str) -> String {
    match tx.backend() {
        Backend::Sqlite => String::new(),
        Backend::Postgres => format!(" FOR UPDATE OF {of} SKIP LOCKED"),
    }
}

/// Milliseconds since the Unix epoch: how instants are stored on both backends.
pub fn to_millis(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Inverse of [`to_millis`].
pub fn from_millis(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_url() {
        assert_eq!(
            split_password("postgres://u:p%40ss@h:5432/db"),
            ("postgres://u@h:5432/db".to_owned(), Some("p%40ss".to_owned()))
        );
        assert_eq!(percent_decode("p%40ss"), "p@ss");
        assert_eq!(
            split_password("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), None)
        );
    }
}
