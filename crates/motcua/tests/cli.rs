//! The `motcua` binary as an operator uses it: serve, stop, back up, restore, import, export.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use motcua_store::testing::{fresh_postgres_url, postgres_selected};

const BIN: &str = env!("CARGO_BIN_EXE_motcua");

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

struct Server {
    child: Child,
    base: String,
    lines: mpsc::Receiver<String>,
}

/// Starts `motcua serve` and waits for it to say where it listens.
fn start(data_dir: &Path, database_url: &str) -> Server {
    let mut child = command(data_dir, database_url)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn motcua serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).expect("server output");
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on ".len()..];
            break rest.split('"').next().expect("address").to_owned();
        }
    };
    Server { child, base, lines }
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
    let tamper = "UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 1";
    if postgres_selected() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("connect");
        sqlx::raw_sql("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
            .execute(&mut conn)
            .await
            .expect("drop trigger");
        sqlx::raw_sql(tamper).execute(&mut conn).await.expect("tamper");
    } else {
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("motcua.db"));
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .expect("open");
        sqlx::raw_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            .execute(&mut conn)
            .await
            .expect("drop trigger");
        sqlx::raw_sql(tamper).execute(&mut conn).await.expect("tamper");
    }
    let out = command(dir.path(), &url)
        .args(["audit", "verify"])
        .output()
        .expect("verify");
    assert!(!out.status.success(), "an edited record fails verification");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("record 1"), "{stderr}");
}
