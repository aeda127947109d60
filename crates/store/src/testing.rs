//! Fresh databases for tests, on the backend the test run selects:
//! `MOTCUA_TEST_BACKEND=postgres` with `MOTCUA_TEST_PG_URL` (a URL to an administrative
//! database of a server the test command started) runs every test on PostgreSQL;
//! anything else runs on SQLite in a temporary directory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use motcua_core::catalogue::{ApplicantKind, ProcedureVersion};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::dossier::{Channel, DossierCode};
use motcua_core::lifecycle::{Applicant, Dossier, Filing};
use sqlx::Connection;
use time::OffsetDateTime;

use crate::{Backend, Db, DbConfig};

/// A dossier of `procedure` (as `version` says) filed at the counter of `receiving` by the
/// same citizen every time, for tests that need dossier rows; its fields are the test's to
/// change.
pub fn counter_dossier(
    code: DossierCode,
    province: ProvinceCode,
    receiving: AgencyCode,
    procedure: &ProcedureCode,
    version: &ProcedureVersion,
    now: OffsetDateTime,
) -> Dossier {
    Dossier::file(Filing {
        code,
        province,
        procedure,
        version: version.version,
        content: &version.content,
        receiving,
        competent: version.content.agency.clone(),
        channel: Channel::Counter,
        applicant: Applicant {
            kind: ApplicantKind::Citizen,
            name: "Nguyễn Văn An".into(),
            id_number: "058190000123".into(),
            phone: String::new(),
            email: String::new(),
            address: String::new(),
        },
        documents: Vec::new(),
        tracking_secret: "ABCDEFGH".into(),
        now,
    })
}

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    /// The database.
    pub db: Db,
    /// The configuration that opened it (reuse it to open the same database again).
    pub config: DbConfig,
    /// Keeps the SQLite directory alive.
    pub dir: tempfile::TempDir,
}

/// True when the test run targets PostgreSQL.
pub fn postgres_selected() -> bool {
    std::env::var("MOTCUA_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates a new empty PostgreSQL database on the test server and returns its URL.
///
/// # Panics
/// When `MOTCUA_TEST_PG_URL` is unset or the server refuses: a test run that asked for
/// PostgreSQL must not quietly fall back to SQLite.
pub async fn fresh_postgres_url() -> String {
    #[expect(clippy::expect_used, reason = "test setup: a clear failure is the point")]
    let admin = std::env::var("MOTCUA_TEST_PG_URL").expect("MOTCUA_TEST_PG_URL must be set for postgres tests");
    let name = format!(
        "motcua_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    );
    #[expect(clippy::expect_used, reason = "test setup")]
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL");
    #[expect(clippy::expect_used, reason = "test setup")]
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let _ = conn.close().await;
    match admin.rfind('/') {
        Some(i) => format!("{}/{name}", &admin[..i]),
        None => format!("{admin}/{name}"),
    }
}

/// True when a test PostgreSQL server is at hand (`MOTCUA_TEST_PG_URL` set), whichever
/// backend the run selects: tests that check the two backends against each other (or
/// against the same rule) run on both when it is.
pub fn postgres_available() -> bool {
    std::env::var("MOTCUA_TEST_PG_URL").is_ok_and(|u| !u.is_empty())
}

/// Opens a fresh, migrated database on the selected backend.
pub async fn fresh_db() -> TestDb {
    fresh_db_on(if postgres_selected() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    })
    .await
}

/// Opens a fresh, migrated database on `backend` (PostgreSQL needs `MOTCUA_TEST_PG_URL`).
pub async fn fresh_db_on(backend: Backend) -> TestDb {
    #[expect(clippy::expect_used, reason = "test setup")]
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = match backend {
        Backend::Postgres => Some(fresh_postgres_url().await),
        Backend::Sqlite => None,
    };
    let config = DbConfig {
        url,
        sqlite_path: dir.path().join("motcua.db"),
        max_connections: 8,
        busy_timeout: Duration::from_secs(5),
    };
    #[expect(clippy::expect_used, reason = "test setup")]
    let db = Db::connect(&config).await.expect("open test database");
    #[expect(clippy::expect_used, reason = "test setup")]
    db.migrate().await.expect("migrate test database");
    TestDb { db, config, dir }
}
