//! Backups that restore (issue 26 item 6), on the backend the run selects: counter officers
//! file dossiers and hand some to the department through a real `motcua serve`; between
//! the batches of work the daily backup command runs while it serves
//! (`motcua backup --dir DIR --keep 2`, three times, so the oldest is pruned); then the
//! newest backup is restored with `motcua restore --latest DIR` into a fresh data directory
//! (SQLite) or a fresh database (PostgreSQL), where `motcua audit verify` (also against the
//! original's anchor file) and `motcua stats verify` pass, and every dossier, every event
//! of its history and the audit trail are those of the original.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{Portal, Server, login, required_documents, start};
use motcua_store::testing::{fresh_postgres_url, postgres_selected};
use serde_json::json;
use sqlx::Connection as _;

/// The procedure filed (Phiếu lý lịch tư pháp, at the centre).
const PROCEDURE: &str = "1.900141";

/// The server, killed when dropped (a failed assertion must not leave it running).
struct Running(Server);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

/// Runs `motcua <args>` on a data directory and database; whether it succeeded, and its
/// standard output and error.
fn motcua(dir: &Path, url: &str, args: &[&str]) -> (bool, String) {
    common::cli(dir, url, args, &[("MOTCUA_LOG_FORMAT", "json")])
}

/// The rows of `sql` (one text column) from the database of `dir` / `url`, read-only.
async fn texts(dir: &Path, url: &str, sql: &str) -> Vec<String> {
    if url.is_empty() {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("motcua.db"))
            .read_only(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.expect("sqlite");
        let rows = sqlx::query_scalar(sql).fetch_all(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
        rows
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("postgres");
        let rows = sqlx::query_scalar(sql).fetch_all(&mut conn).await.expect(sql);
        conn.close().await.expect("close");
        rows
    }
}

/// What must survive a backup and restore: each dossier with its status, each event of
/// each history, each audit record (chain, sequence, hash).
#[derive(Debug, PartialEq)]
struct Snapshot {
    dossiers: Vec<String>,
    events: Vec<String>,
    audit: Vec<String>,
}

async fn snapshot(dir: &Path, url: &str) -> Snapshot {
    Snapshot {
        dossiers: texts(
            dir,
            url,
            "SELECT code || '|' || CAST(status AS TEXT) FROM dossiers ORDER BY code",
        )
        .await,
        events: texts(
            dir,
            url,
            "SELECT d.code || '|' || CAST(e.seq AS TEXT) || '|' || e.action || '|' || CAST(e.to_status AS TEXT) \
             FROM dossier_events e JOIN dossiers d ON d.id = e.dossier_id ORDER BY d.code, e.seq",
        )
        .await,
        audit: texts(
            dir,
            url,
            "SELECT chain || '|' || CAST(seq AS TEXT) || '|' || hash FROM audit_log ORDER BY chain, seq",
        )
        .await,
    }
}

/// Files `n` dossiers at the counter and hands the first `transfers` of them to the
/// department; returns the codes filed.
async fn work(
    client: &reqwest::Client,
    base: &str,
    (cookie, csrf): &(String, String),
    batch: usize,
    n: usize,
    transfers: usize,
) -> Vec<String> {
    let documents = required_documents(base, PROCEDURE).await;
    let mut codes = Vec::new();
    for i in 0..n {
        let r = client
            .post(format!("{base}/api/v1/dossiers"))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&json!({
                "procedure": PROCEDURE,
                "applicant": {"kind": "citizen", "name": format!("Khách {batch}-{i}"), "id_number": "058190000456"},
                "documents": documents,
            }))
            .send()
            .await
            .expect("intake");
        assert_eq!(r.status().as_u16(), 201);
        let v: serde_json::Value = r.json().await.expect("json");
        codes.push(v["code"].as_str().expect("code").to_owned());
    }
    for code in codes.iter().take(transfers) {
        let r = client
            .post(format!("{base}/api/v1/dossiers/{code}/actions/transfer"))
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .json(&json!({}))
            .send()
            .await
            .expect("transfer");
        assert_eq!(r.status().as_u16(), 200, "{code}");
    }
    codes
}

/// The backups in `dir` (names starting `motcua-`, without `.partial`), sorted.
fn backups_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("backup dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("motcua-"))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_latest_daily_backup_restores_into_a_fresh_database() {
    let source = tempfile::tempdir().expect("dir");
    let url = if postgres_selected() {
        fresh_postgres_url().await
    } else {
        String::new()
    };
    let backups = tempfile::tempdir().expect("backup dir");
    let bak = backups.path().join("motcua");
    let portal = Portal::start();
    let server = Running(start(source.path(), &url, &portal.url));
    let base = server.0.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let session = login(&client, &base, "tiepnhan").await;

    // Three days of work, a backup after each, taken while serving; the directory is made
    // by the first, and keeps the newest two.
    let mut filed = Vec::new();
    let mut outputs = Vec::new();
    for day in 0..3 {
        filed.extend(work(&client, &base, &session, day, 2, 1).await);
        let (ok, out) = motcua(
            source.path(),
            &url,
            &["backup", "--dir", &bak.to_string_lossy(), "--keep", "2"],
        );
        assert!(ok, "backup {day}: {out}");
        if day == 0 {
            // Something of the operator's own in the directory: never chosen, never pruned.
            std::fs::write(bak.join("motcua-notes.txt"), "sổ theo dõi sao lưu").expect("notes");
        }
        outputs.push((backups_in(&bak), out));
    }
    let (first, _) = &outputs[0];
    let (third, out) = &outputs[2];
    assert_eq!(first.len(), 2, "the first backup and the notes: {first:?}");
    let newest = third
        .iter()
        .filter(|n| *n != "motcua-notes.txt")
        .max()
        .expect("a backup")
        .clone();
    assert_eq!(
        third.iter().filter(|n| *n != "motcua-notes.txt").count(),
        2,
        "--keep 2 leaves two backups: {third:?}"
    );
    assert!(third.contains(&"motcua-notes.txt".to_owned()), "{third:?}");
    let oldest = first.iter().find(|n| *n != "motcua-notes.txt").expect("first backup");
    assert!(!third.contains(oldest), "the oldest was pruned: {third:?}");
    assert!(
        out.contains("Đã xoá bản sao lưu cũ") && out.contains(oldest.as_str()),
        "{out}"
    );
    let extension = if url.is_empty() { ".db" } else { ".dump" };
    assert!(newest.ends_with(&format!("Z{extension}")), "{newest}");

    let mut server = server;
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.0.child.id().to_string())
        .status();
    let exit = server.0.child.wait().expect("wait");
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    let original = snapshot(source.path(), &url).await;
    assert_eq!(original.dossiers.len(), filed.len());

    // Nothing to restore in an empty directory: said, not guessed.
    let empty = tempfile::tempdir().expect("empty");
    let fresh = tempfile::tempdir().expect("fresh data dir");
    let fresh_url = if url.is_empty() {
        String::new()
    } else {
        fresh_postgres_url().await
    };
    let (ok, out) = motcua(
        fresh.path(),
        &fresh_url,
        &["restore", "--latest", &empty.path().to_string_lossy()],
    );
    assert!(!ok && out.contains("no backup in"), "{out}");

    // The newest restores into a fresh data directory or database, and checks out.
    let (ok, out) = motcua(
        fresh.path(),
        &fresh_url,
        &["restore", "--latest", &bak.to_string_lossy()],
    );
    assert!(ok, "restore: {out}");
    assert!(out.contains(&newest), "restored the newest, {newest}: {out}");
    for args in [
        vec!["audit", "verify"],
        vec!["stats", "verify"],
        vec![
            "audit",
            "verify",
            "--anchors",
            &source.path().join("audit-anchors.jsonl").to_string_lossy(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let (ok, out) = motcua(fresh.path(), &fresh_url, &args);
        assert!(ok, "motcua {} on the restored copy: {out}", args.join(" "));
    }
    let restored = snapshot(fresh.path(), &fresh_url).await;
    assert_eq!(restored.dossiers, original.dossiers);
    assert_eq!(restored.events, original.events);
    // Nothing here writes to the trail after the last backup, but the server's own
    // background work might: the copy holds every record it has, as the original has it.
    assert!(
        restored.audit.iter().all(|r| original.audit.contains(r)),
        "the restored trail is the original's: {:?} vs {:?}",
        restored.audit,
        original.audit
    );
    let same_trail = restored.audit == original.audit;
    eprintln!(
        "backup/restore ({}): {} dossiers, {} events, {} audit records; backups kept {:?}, restored {newest}; \
         audit verify (with and without the original's anchors) and stats verify pass; trail {}",
        if url.is_empty() { "SQLite" } else { "PostgreSQL" },
        restored.dossiers.len(),
        restored.events.len(),
        restored.audit.len(),
        third,
        if same_trail {
            "identical"
        } else {
            "the original's up to the backup"
        }
    );
}
