//! The disk fills up (issue 26 item 3), on SQLite: the data directory is a 32 MiB tmpfs
//! mounted by the test, a real `motcua serve` works on it, and a filler file takes every
//! free byte. Then a counter intake is refused with 507 `insufficient_storage` and the log
//! says the disk is full; an upload is refused the same way and leaves no file and no row
//! behind; reads keep working (public tracking, the catalogue, the work list, with a
//! session whose activity mark is due); `PRAGMA integrity_check` passes. Once the filler is
//! removed, intake and uploads work again, every acknowledged dossier is stored, and
//! `motcua audit verify` and `motcua stats verify` pass.
//!
//! Mounting needs root (CAP_SYS_ADMIN); without it the test says so and returns (a loop
//! image needs the same right to be mounted).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{Portal, Server, login, required_documents, start};
use motcua_store::testing::postgres_selected;
use serde_json::{Value, json};
use sqlx::Connection as _;

/// The procedure filed (Phiếu lý lịch tư pháp, at the centre).
const PROCEDURE: &str = "1.900141";
/// The size of the file system the data directory is on.
const SIZE_MIB: u64 = 32;

/// A tmpfs mounted on a new directory; unmounted when dropped, also when the test panics.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts it, or says why it cannot.
    fn mount(size_mib: u64) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size_mib}m,mode=0700"),
                "motcua-disk-full",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Still busy (a process that outlived a failed test): detach it now, it goes
            // when the last user does.
            let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
        }
    }
}

/// The server, killed when dropped (a failed assertion must not leave it running, nor keep
/// the mount busy).
struct Running(Server);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

impl Running {
    /// Stops it with SIGTERM and waits for a clean exit.
    fn terminate(&mut self) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.0.child.wait().expect("wait");
        assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    }

    /// The log lines written so far (after the line that says where it listens).
    fn log(&self, within: Duration) -> Vec<String> {
        let mut lines = Vec::new();
        let deadline = std::time::Instant::now() + within;
        while let Ok(line) = self
            .0
            .lines
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        {
            lines.push(line);
        }
        lines
    }
}

/// Writes zeros to `path` until the file system refuses with "no space left"; returns how
/// many bytes went in.
fn fill(path: &Path) -> u64 {
    use std::io::Write;
    let mut file = std::fs::File::create_new(path).expect("filler");
    let mut written = 0u64;
    for chunk in [1 << 20, 4096, 1] {
        let zeros = vec![0u8; chunk];
        loop {
            match file.write(&zeros) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
    }
    written
}

/// Bytes free on the file system of `path`, as `df` reports them.
fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .expect("df");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df output")
}

/// Every file under `dir`, at any depth.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Waits (up to two seconds) until no temporary file is left under `dir`: upload spools
/// and half-written objects (their names hold a `~`). The server's background work (the
/// receipts it issues, the monthly reports) may have one in flight for a moment.
async fn no_temporaries(dir: &Path) {
    let temporaries = || -> Vec<PathBuf> {
        files_under(dir)
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains('~')))
            .collect()
    };
    for _ in 0..20 {
        if temporaries().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("temporary files left behind: {:?}", temporaries());
}

fn sqlite_options(dir: &Path) -> sqlx::sqlite::SqliteConnectOptions {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("motcua.db"))
        .busy_timeout(Duration::from_secs(10))
}

/// `PRAGMA integrity_check` on the database, read-only, next to the server if it runs.
async fn integrity(dir: &Path) -> String {
    let mut conn = sqlx::SqliteConnection::connect_with(&sqlite_options(dir).read_only(true))
        .await
        .expect("open read-only");
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .expect("integrity_check");
    conn.close().await.expect("close");
    rows.join("; ")
}

/// One value of the database, read-only.
async fn count(dir: &Path, sql: &str) -> i64 {
    let mut conn = sqlx::SqliteConnection::connect_with(&sqlite_options(dir).read_only(true))
        .await
        .expect("open read-only");
    let n = sqlx::query_scalar(sql).fetch_one(&mut conn).await.expect(sql);
    conn.close().await.expect("close");
    n
}

/// Runs `motcua <args>` on the data and says whether it succeeded, with its output.
fn motcua(dir: &Path, args: &[&str]) -> (bool, String) {
    common::cli(dir, "", args, &[])
}

/// A small but genuine-looking PDF of about `size` bytes.
fn pdf(size: usize) -> Vec<u8> {
    let mut body = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n".to_vec();
    while body.len() + 8 < size {
        body.extend_from_slice(b"% padding line of the scanned page\n");
    }
    body.extend_from_slice(b"%%EOF\n");
    body
}

struct Counter {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
    documents: Vec<Value>,
}

impl Counter {
    async fn file(&self, n: usize) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/dossiers", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&json!({
                "procedure": PROCEDURE,
                "applicant": {"kind": "citizen", "name": format!("Khách {n}"), "id_number": "058190000456"},
                "documents": self.documents,
            }))
            .send()
            .await
            .expect("intake answered");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    async fn upload(&self, bytes: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/uploads?name=ban-chup.pdf", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload answered");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("read answered");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_clearly_and_loses_nothing() {
    if postgres_selected() {
        eprintln!("disk full: SQLite only (PostgreSQL keeps its data on its own server); skipped");
        return;
    }
    let fs = match Tmpfs::mount(SIZE_MIB) {
        Ok(fs) => fs,
        Err(reason) => {
            eprintln!("disk full: cannot make a small file system, skipped: {reason}");
            return;
        }
    };
    let dir = fs.path().to_owned();
    let portal = Portal::start();
    let mut server = Running(start(&dir, "", &portal.url));
    let base = server.0.base.clone();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let (cookie, csrf) = login(&client, &base, "tiepnhan").await;
    let counter = Counter {
        documents: required_documents(&base, PROCEDURE).await,
        client,
        base,
        cookie,
        csrf,
    };

    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for n in 0..3 {
        let (status, v) = counter.file(n).await;
        assert_eq!(status, 201, "{v}");
        acknowledged.push((
            v["code"].as_str().expect("code").to_owned(),
            v["tracking_secret"].as_str().expect("secret").to_owned(),
        ));
    }

    // Make the session's activity mark due (it is written at most once a minute), so the
    // reads below must do without writing it; and empty the write-ahead log, so the next
    // commit has to grow it rather than reuse space it already holds.
    {
        let mut conn = sqlx::SqliteConnection::connect_with(&sqlite_options(&dir))
            .await
            .expect("open");
        sqlx::query("UPDATE sessions SET last_seen_at = last_seen_at - 120000")
            .execute(&mut conn)
            .await
            .expect("age sessions");
        let mut emptied = false;
        for _ in 0..50 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut conn)
                .await
                .expect("checkpoint");
            if busy == 0 {
                emptied = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(emptied, "the write-ahead log could not be checkpointed");
        conn.close().await.expect("close");
    }
    let database_bytes = std::fs::metadata(dir.join("motcua.db")).expect("db").len();
    let _ = server.log(Duration::from_millis(200)); // what came before does not count

    // Fill the disk.
    let filler = dir.join("filler.bin");
    let filled = fill(&filler);
    let free = free_bytes(&dir);
    assert_eq!(free, 0, "the filler left {free} bytes free");

    // Intake is refused with 507 and a stable code. A commit may still fit in space the
    // database already holds; that is a normal acknowledgement, and it must be kept.
    let mut before_refusal = 0;
    let refusal = loop {
        let (status, v) = counter.file(100 + before_refusal).await;
        match status {
            201 => {
                acknowledged.push((
                    v["code"].as_str().expect("code").to_owned(),
                    v["tracking_secret"].as_str().expect("secret").to_owned(),
                ));
                before_refusal += 1;
                assert!(before_refusal < 50, "intake never refused on a full disk");
            }
            507 => break v,
            other => panic!(
                "intake on a full disk: {other} {v}; log: {:#?}",
                server.log(Duration::from_millis(500))
            ),
        }
    };
    assert_eq!(refusal["code"], "insufficient_storage", "{refusal}");
    assert!(
        refusal["message"]
            .as_str()
            .is_some_and(|m| m.contains("hết dung lượng")),
        "{refusal}"
    );
    for n in 0..3 {
        let (status, v) = counter.file(200 + n).await;
        assert_eq!((status, &v["code"]), (507, &json!("insufficient_storage")), "{v}");
    }

    // An upload cannot be written either, and leaves nothing behind.
    let files_before = count(&dir, "SELECT COUNT(*) FROM dossier_files").await;
    let (status, v) = counter.upload(pdf(256 * 1024)).await;
    assert_eq!((status, &v["code"]), (507, &json!("insufficient_storage")), "{v}");
    assert_eq!(
        files_under(&dir.join("objects/uploads")),
        Vec::<PathBuf>::new(),
        "upload leftovers"
    );
    no_temporaries(&dir.join("objects")).await;
    assert_eq!(count(&dir, "SELECT COUNT(*) FROM dossier_files").await, files_before);

    // The log says why.
    let log = server.log(Duration::from_millis(500));
    let said = |what: &str| {
        log.iter()
            .find(|l| l.contains("\"ERROR\"") && l.contains(what))
            .cloned()
    };
    let database_line = said("disk full: the database cannot grow")
        .unwrap_or_else(|| panic!("no error line about the full disk in {log:#?}"));
    assert!(
        said("disk full: an uploaded file cannot be written").is_some(),
        "{log:#?}"
    );

    // Reads keep working: tracking, the catalogue, the work list (whose session's activity
    // mark cannot be written now).
    let (code, secret) = &acknowledged[0];
    let (status, v) = counter.get(&format!("/api/v1/track/{code}?secret={secret}")).await;
    assert_eq!((status, v["code"].as_str()), (200, Some(code.as_str())), "{v}");
    let (status, v) = counter.get(&format!("/api/v1/procedures/{PROCEDURE}")).await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = counter.get("/api/v1/dossiers").await;
    assert_eq!(status, 200, "work list on a full disk: {v}");
    // Opening a dossier's personal data must be recorded in the audit trail first: with
    // nowhere to record it, it is refused, not shown unrecorded.
    let (status, v) = counter.get(&format!("/api/v1/dossiers/{code}")).await;
    assert_eq!((status, &v["code"]), (507, &json!("insufficient_storage")), "{v}");

    let check_full = integrity(&dir).await;
    assert_eq!(check_full, "ok");

    // Space comes back: intake and uploads resume at once.
    std::fs::remove_file(&filler).expect("remove filler");
    let (status, v) = counter.file(300).await;
    assert_eq!(status, 201, "intake after space was freed: {v}");
    acknowledged.push((
        v["code"].as_str().expect("code").to_owned(),
        v["tracking_secret"].as_str().expect("secret").to_owned(),
    ));
    let (status, v) = counter.upload(pdf(256 * 1024)).await;
    assert_eq!(status, 201, "upload after space was freed: {v}");
    let objects = files_under(&dir.join("objects/uploads"));
    assert_eq!(objects.len(), 1, "one object: {objects:?}");
    no_temporaries(&dir.join("objects")).await;
    assert_eq!(
        count(&dir, "SELECT COUNT(*) FROM dossier_files").await,
        files_before + 1
    );

    server.terminate();
    let check_after = integrity(&dir).await;
    assert_eq!(check_after, "ok");
    let stored = count(&dir, "SELECT COUNT(*) FROM dossiers").await;
    for (code, _) in &acknowledged {
        let n = count(&dir, &format!("SELECT COUNT(*) FROM dossiers WHERE code = '{code}'")).await;
        assert_eq!(n, 1, "{code} was acknowledged but is not stored");
    }
    assert_eq!(
        usize::try_from(stored).expect("count"),
        acknowledged.len(),
        "only acknowledged dossiers are stored"
    );
    for args in [["audit", "verify"], ["stats", "verify"]] {
        let (ok, out) = motcua(&dir, &args);
        assert!(ok, "motcua {}: {out}", args.join(" "));
    }
    eprintln!(
        "disk full: {SIZE_MIB} MiB tmpfs, database {database_bytes} bytes, filler {filled} bytes, {free} bytes free; \
         {before_refusal} intakes acknowledged in space already held, then 507 {}; upload 507, nothing left behind; \
         tracking, catalogue and work list answered 200; integrity_check {check_full} while full, {check_after} after; \
         intake and upload resumed once freed; {} acknowledged dossiers, {stored} stored; logged: {database_line}",
        refusal["code"],
        acknowledged.len()
    );
}
