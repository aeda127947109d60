//! The `motcua` binary as an operator uses it: serve, stop, back up, restore, import, export.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::Server;
use motcua_store::testing::{fresh_postgres_url, postgres_selected};

use common::BIN;

/// Environment for a motcua process on `data_dir` (and a fresh PostgreSQL database when
/// the run selects PostgreSQL).
fn command(data_dir: &Path, database_url: &str) -> Command {
    let mut c = Command::new(BIN);
    c.env("MOTCUA_DATA_DIR", data_dir)
        .env("MOTCUA_LISTEN", "127.0.0.1:0")
        .env("MOTCUA_DATABASE_URL", database_url)
        .env("MOTCUA_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .current_dir(data_dir);
    c
}

async fn database_url() -> String {
    if postgres_selected() {
        fresh_postgres_url().await
    } else {
        String::new()
    }
}

/// Starts `motcua serve` and waits for it to say where it listens.
fn start(data_dir: &Path, database_url: &str) -> Server {
    let child = command(data_dir, database_url)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn motcua serve");
    common::listening(child)
}

fn terminate(mut server: Server) -> Vec<String> {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    server.lines.try_iter().collect()
}

#[tokio::test]
async fn serve_loads_the_demo_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    let server = start(dir.path(), &url);
    let summary: serde_json::Value = reqwest::get(format!("{}/api/v1/catalogue/summary", server.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (
            summary["departments"].as_i64(),
            summary["procedures"].as_i64(),
            summary["at_centre"].as_i64()
        ),
        (Some(15), Some(1388), Some(1283))
    );
    let home = reqwest::get(&server.base).await.expect("home");
    assert_eq!(home.status().as_u16(), 200);
    // The server writes the audit heads down outside the database as it starts.
    let anchors = dir.path().join("audit-anchors.jsonl");
    let mut written = String::new();
    for _ in 0..100 {
        written = std::fs::read_to_string(&anchors).unwrap_or_default();
        if written.ends_with('\n') {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first: serde_json::Value = serde_json::from_str(written.lines().next().unwrap_or("")).expect("an anchor line");
    assert!(
        first["heads"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["seq"].as_i64() > Some(0))),
        "{written}"
    );

    if !postgres_selected() {
        // A second server on the same data directory is refused.
        let out = command(dir.path(), &url).arg("serve").output().expect("second serve");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("another motcua process"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let lines = terminate(server);
    assert!(lines.iter().any(|l| l.contains("stopped cleanly")), "{lines:?}");

    // A restart finds the data and does not load the demo twice.
    let server = start(dir.path(), &url);
    let summary: serde_json::Value = reqwest::get(format!("{}/api/v1/catalogue/summary", server.base))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(summary["procedures"].as_i64(), Some(1388));
    terminate(server);
}

#[tokio::test]
async fn backup_while_serving_then_restore() {
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    let server = start(dir.path(), &url);
    let backup = dir.path().join("backup.bin");
    let out = command(dir.path(), &url)
        .arg("backup")
        .arg(&backup)
        .output()
        .expect("backup");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(backup.metadata().expect("backup file").len() > 0);

    if !postgres_selected() {
        // Restoring under a running server is refused.
        let out = command(dir.path(), &url)
            .arg("restore")
            .arg(&backup)
            .output()
            .expect("restore");
        assert!(!out.status.success());
    }
    terminate(server);

    // Lose the catalogue, then restore it.
    if postgres_selected() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("connect");
        sqlx::raw_sql("DELETE FROM procedure_versions; DELETE FROM procedures;")
            .execute(&mut conn)
            .await
            .expect("delete");
    } else {
        std::fs::remove_file(dir.path().join("motcua.db")).expect("remove db");
        let _ = std::fs::remove_file(dir.path().join("motcua.db-wal"));
    }
    let out = command(dir.path(), &url)
        .arg("restore")
        .arg(&backup)
        .output()
        .expect("restore");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = command(dir.path(), &url)
        .arg("export")
        .arg(dir.path().join("after.json"))
        .output()
        .expect("export");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("after.json")).expect("read")).expect("json");
    assert_eq!(
        after["provinces"][0]["procedures"]
            .as_array()
            .expect("procedures")
            .len(),
        1388
    );
}

#[tokio::test]
async fn export_and_import_files() {
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    let out = command(dir.path(), &url).arg("demo").output().expect("demo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["cat.json", "cat.xlsx"] {
        let file = dir.path().join(name);
        let out = command(dir.path(), &url)
            .arg("export")
            .arg(&file)
            .output()
            .expect("export");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // Exporting over an existing file is refused.
        let out = command(dir.path(), &url)
            .arg("export")
            .arg(&file)
            .output()
            .expect("export");
        assert!(!out.status.success());

        let other = tempfile::tempdir().expect("dir");
        let other_url = database_url().await;
        let out = command(other.path(), &other_url)
            .arg("import")
            .arg(&file)
            .output()
            .expect("import");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1388 thủ tục mới"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // A file that is not a catalogue says why.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").expect("write");
    let out = command(dir.path(), &url)
        .arg("import")
        .arg(&junk)
        .output()
        .expect("import");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("junk.json"));
}

#[tokio::test]
async fn audit_verify_names_the_first_edited_record() {
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    let out = command(dir.path(), &url).arg("demo").output().expect("demo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = command(dir.path(), &url)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("toàn vẹn"));

    // Someone with access to the database file drops the guard and edits a record.
    tamper(
        dir.path(),
        &url,
        &["UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 1"],
    )
    .await;
    let out = command(dir.path(), &url)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(!out.status.success(), "an edited record fails verification");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("record 1"), "{stderr}");
}

/// Runs `statements` on the database directly, after dropping the audit log's guards: what
/// someone with access to the database file or server can do.
async fn tamper(dir: &std::path::Path, url: &str, statements: &[&str]) {
    if postgres_selected() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .expect("connect");
        sqlx::raw_sql("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
            .execute(&mut conn)
            .await
            .expect("drop trigger");
        for s in statements {
            sqlx::raw_sql(s).execute(&mut conn).await.expect("tamper");
        }
    } else {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("motcua.db"));
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .expect("open");
        for trigger in ["audit_log_no_update", "audit_log_no_delete"] {
            sqlx::raw_sql(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                .execute(&mut conn)
                .await
                .expect("drop trigger");
        }
        for s in statements {
            sqlx::raw_sql(s).execute(&mut conn).await.expect("tamper");
        }
    }
}

#[tokio::test]
async fn an_erased_trail_is_caught_by_the_anchor_file() {
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    let out = command(dir.path(), &url).arg("demo").output().expect("demo");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = command(dir.path(), &url)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Chưa có tệp neo"),
        "without an anchor file the operator is told what is not checked"
    );

    let out = command(dir.path(), &url)
        .args(["audit", "anchor"])
        .output()
        .expect("anchor");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The anchor is the last line printed (log lines may come before it).
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = stdout.lines().last().unwrap_or_default().to_owned();
    let file = std::fs::read_to_string(dir.path().join("audit-anchors.jsonl")).expect("anchor file");
    assert_eq!(file.trim(), line, "the printed line is the one appended");
    let anchor: serde_json::Value = serde_json::from_str(&line).expect("json");
    assert!(!anchor["heads"].as_array().expect("heads").is_empty(), "{line}");
    let out = command(dir.path(), &url)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Khớp với 1 lần neo"));

    // Every record and every head deleted: a trail that is empty, and verifies as one.
    tamper(dir.path(), &url, &["DELETE FROM audit_log", "DELETE FROM audit_heads"]).await;
    let out = command(dir.path(), &url)
        .args(["audit", "verify", "--anchors", "/nonexistent/anchors.jsonl"])
        .output()
        .expect("verify");
    assert!(!out.status.success(), "a named anchor file that is missing is an error");
    let out = command(dir.path(), &url)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(!out.status.success(), "the erased trail fails against the anchor file");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("differs from the anchor file") && stderr.contains("không còn"),
        "{stderr}"
    );
}
