//! Plain-SQL migrations, one set per backend, applied in order and recorded.

use crate::{Backend, Db, Result, StoreError, Tx, exec, on};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// A migration from its number, name and file stem: the same stem under each backend's
/// folder, so the two sets cannot drift apart in numbering.
macro_rules! migration {
    ($version:literal, $name:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $name,
            sqlite: include_str!(concat!("../migrations/sqlite/", $file, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $file, ".sql")),
        }
    };
}

const MIGRATIONS: &[Migration] = &[
    migration!(1, "catalogue", "0001_catalogue"),
    migration!(2, "accounts", "0002_accounts"),
    migration!(3, "audit", "0003_audit"),
    migration!(4, "calendar", "0004_calendar"),
    migration!(5, "citizens", "0005_citizens"),
    migration!(6, "sso", "0006_sso"),
    migration!(7, "dossier_codes", "0007_dossier_codes"),
    migration!(8, "dossiers", "0008_dossiers"),
    migration!(9, "deliveries", "0009_deliveries"),
    migration!(10, "dossier_forms", "0010_dossier_forms"),
    migration!(11, "dossier_ratings", "0011_dossier_ratings"),
    migration!(12, "payment_orders", "0012_payment_orders"),
    migration!(14, "stats", "0014_stats"),
    migration!(15, "evaluation", "0015_evaluation"),
    migration!(16, "reports", "0016_reports"),
    migration!(17, "officer", "0017_officer"),
    migration!(18, "overdue", "0018_overdue"),
    migration!(19, "digitised", "0019_digitised"),
    migration!(20, "token_expiry", "0020_token_expiry"),
    migration!(21, "form_revisions", "0021_form_revisions"),
    migration!(22, "rate_counts", "0022_rate_counts"),
    migration!(23, "rating_codes", "0023_rating_codes"),
    migration!(24, "wait_until", "0024_wait_until"),
    migration!(25, "service_index_766", "0025_service_index_766"),
    migration!(26, "rule_sets", "0026_rule_sets"),
    migration!(27, "bank_statements", "0027_bank_statements"),
    migration!(28, "queue", "0028_queue"),
    migration!(29, "form_fingerprints", "0029_form_fingerprints"),
    migration!(30, "documents", "0030_documents"),
    migration!(31, "queue_bookings", "0031_queue_bookings"),
    migration!(32, "queue_contacts", "0032_queue_contacts"),
    migration!(33, "document_signatures", "0033_document_signatures"),
    migration!(34, "result_signatures", "0034_result_signatures"),
    migration!(35, "map_2025", "0035_map_2025"),
    migration!(36, "queue_waiting_order", "0036_queue_waiting_order"),
    migration!(
        37,
        "stats_centre_without_department",
        "0037_stats_centre_without_department"
    ),
    migration!(38, "stats_month_versions", "0038_stats_month_versions"),
];

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT NOT NULL PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)";

/// The number of every migration this binary carries, in the order they are applied.
pub fn versions() -> impl Iterator<Item = i64> {
    MIGRATIONS.iter().map(|m| m.version)
}

/// A write transaction holding the migration lock, with the table of applied migrations
/// in place.
async fn begin_locked(db: &Db) -> Result<Tx> {
    let mut tx = db.begin_write().await?;
    if let Tx::Postgres(t) = &mut tx {
        // Several nodes may start at once: one migrates, the others wait and then skip.
        sqlx::query("SELECT pg_advisory_xact_lock(727001)")
            .execute(&mut **t)
            .await?;
    }
    exec!(&mut tx, |c| sqlx::query(CREATE_TABLE).execute(c).await)?;
    Ok(tx)
}

/// Refuses a database that a newer motcua has migrated past the last migration this binary
/// knows: the older code would read and write tables whose meaning changed under it (a
/// node of the previous release restarted after the upgrade, a backup of the upgraded
/// database opened by the old binary). Nothing is written.
async fn refuse_newer(db: &Db) -> Result<()> {
    let mut tx = begin_locked(db).await?;
    let newest: Option<i64> = on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
            .fetch_one(c)
            .await
    })?;
    tx.commit().await?;
    let known = versions().max().unwrap_or(0);
    match newest {
        Some(newest) if newest > known => Err(StoreError::SchemaTooNew {
            database: newest,
            binary: known,
        }),
        _ => Ok(()),
    }
}

/// Applies every migration not yet recorded, each in its own transaction.
/// Returns how many were applied. A database migrated by a newer motcua is refused
/// ([`StoreError::SchemaTooNew`]) before anything is applied.
pub async fn run(db: &Db) -> Result<usize> {
    refuse_newer(db).await?;
    let mut applied = 0;
    for m in MIGRATIONS {
        let mut tx = begin_locked(db).await?;
        let done: Option<i64> = on!(&mut tx, |c| {
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(c)
                .await
        })?;
        if done.is_some() {
            continue;
        }
        let sql = match tx.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        exec!(&mut tx, |c| sqlx::raw_sql(sql).execute(c).await)?;
        let now = crate::to_millis(time::OffsetDateTime::now_utc());
        exec!(&mut tx, |c| {
            sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(now)
                .execute(c)
                .await
        })?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "migration applied");
        applied += 1;
    }
    Ok(applied)
}

/// One column of the schema, in a form comparable across backends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ColumnInfo {
    /// Table name.
    pub table: String,
    /// Column name.
    pub column: String,
    /// Type, lowercased (`bigint`, `text`, `boolean`).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
}

/// Lists every column of every table, sorted: used to prove the two schemas agree.
pub async fn schema(db: &Db) -> Result<Vec<ColumnInfo>> {
    let mut tx = db.begin_read().await?;
    let rows: Vec<(String, String, String, bool)> = match &mut tx {
        Tx::Sqlite(t) => {
            sqlx::query_as(
                "SELECT m.name, p.name,
                        CASE lower(p.type) WHEN 'integer' THEN 'bigint' ELSE lower(p.type) END,
                        p.\"notnull\" = 0 AND p.pk = 0
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut **t)
            .await?
        }
        Tx::Postgres(t) => {
            sqlx::query_as(
                "SELECT table_name::TEXT, column_name::TEXT, lower(data_type), is_nullable = 'YES'
                 FROM information_schema.columns WHERE table_schema = current_schema()",
            )
            .fetch_all(&mut **t)
            .await?
        }
    };
    let mut columns: Vec<ColumnInfo> = rows
        .into_iter()
        .map(|(table, column, data_type, nullable)| ColumnInfo {
            table,
            column,
            data_type,
            nullable,
        })
        .collect();
    columns.sort();
    Ok(columns)
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;

    /// Migration 37 merges the receiving centres' counters across responsible agencies
    /// (one row per centre, kind, bucket and channel, with an empty department), drops the
    /// sums that cancel out, and leaves the other dimensions as they are.
    #[tokio::test]
    async fn migration_37_merges_the_centres_counters_across_departments() {
        let t = crate::testing::fresh_db().await;
        let mut tx = t.db.begin_write().await.expect("transaction");
        for table in ["stats_days", "stats_months"] {
            let sql = format!(
                "INSERT INTO {table} (province_code, dimension, kind, bucket, value, department, channel, n, minutes) VALUES
                 ('H1', 1, 1, 5, 'c', 'a', 1, 2, 10), ('H1', 1, 1, 5, 'c', 'b', 1, 3, 5),
                 ('H1', 1, 2, 5, 'c', 'a', 1, 1, 0), ('H1', 1, 2, 5, 'c', 'b', 1, -1, 0),
                 ('H1', 1, 1, 5, 'c', 'a', 2, 4, 0), ('H1', 2, 1, 5, 'a', 'a', 1, 2, 10)"
            );
            exec!(&mut tx, |c| sqlx::raw_sql(&sql).execute(c).await).expect("rows");
        }
        let m = MIGRATIONS.iter().find(|m| m.version == 37).expect("migration 37");
        let sql = match tx.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        exec!(&mut tx, |c| sqlx::raw_sql(sql).execute(c).await).expect("migration");
        for table in ["stats_days", "stats_months"] {
            let sql = format!(
                "SELECT dimension, kind, value, department, channel, n, minutes FROM {table}
                 ORDER BY dimension, kind, value, department, channel"
            );
            let rows: Vec<(i64, i64, String, String, i64, i64, i64)> =
                on!(&mut tx, |c| sqlx::query_as(&sql).fetch_all(c).await).expect("read");
            let text = |s: &str| s.to_owned();
            assert_eq!(
                rows,
                vec![
                    (1, 1, text("c"), text(""), 1, 5, 15),
                    (1, 1, text("c"), text(""), 2, 4, 0),
                    (2, 1, text("a"), text("a"), 1, 2, 10),
                ],
                "{table}"
            );
        }
    }

    /// Migration 38 gives every province's month that has counters one version, and
    /// different months different versions.
    #[tokio::test]
    async fn migration_38_versions_every_month_with_counters() {
        let t = crate::testing::fresh_db().await;
        let mut tx = t.db.begin_write().await.expect("transaction");
        let sql = "DROP TABLE stats_month_versions;
             INSERT INTO stats_months (province_code, dimension, kind, bucket, value, department, channel, n, minutes) VALUES
             ('H1', 2, 1, 600, 'a', 'a', 1, 2, 0), ('H1', 3, 1, 600, 'f', '', 1, 2, 0),
             ('H1', 2, 1, 601, 'a', 'a', 1, 1, 0), ('H2', 2, 1, 600, 'b', 'b', 2, 4, 0)";
        exec!(&mut tx, |c| sqlx::raw_sql(sql).execute(c).await).expect("rows");
        let m = MIGRATIONS.iter().find(|m| m.version == 38).expect("migration 38");
        let sql = match tx.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        exec!(&mut tx, |c| sqlx::raw_sql(sql).execute(c).await).expect("migration");
        let rows: Vec<(String, i64, i64)> = on!(&mut tx, |c| sqlx::query_as(
            "SELECT province_code, CAST(bucket AS BIGINT), version FROM stats_month_versions ORDER BY province_code, bucket"
        )
        .fetch_all(c)
        .await)
        .expect("read");
        let months: Vec<(&str, i64)> = rows.iter().map(|(p, b, _)| (p.as_str(), *b)).collect();
        assert_eq!(months, vec![("H1", 600), ("H1", 601), ("H2", 600)]);
        let versions: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.2).collect();
        assert_eq!(versions.len(), 3, "{rows:?}");
    }
}
