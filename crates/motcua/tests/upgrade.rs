//! Upgrades (issue 26 item 5): the database of the previous release, with its data, is
//! upgraded by this binary while no node of the old version runs, and everything the old
//! version showed is still there.
//!
//! The previous release is fixed as the tree issue 26 was filed against (commit `e98f22c`,
//! whose last schema migration is [`FROM_MIGRATION`]; the project has cut no tagged
//! release yet). Its data was made by that version's own binary through its API, then
//! dumped, one fixture per backend (`tests/fixtures/upgrade/`): six dossiers at different
//! points of their lives with full histories (supplements, an inter-agency step, a fee
//! paid in cash at the counter with its receipt, an apology with a new appointment,
//! results returned by post and at the counter, a withdrawal, kiosk ratings), the staff
//! accounts that moved them, an API token, the audit trail and the anchor file the old
//! server wrote. What the old version answered for each dossier (its view and its
//! history) was recorded beside the dump. [`make_fixture`] made them; run it through
//! `scripts/upgrade-fixture.sh` to make them again at each release (docs/operations.md,
//! "Upgrades").
//!
//! The test loads the dump into a fresh data directory or PostgreSQL database, runs
//! `motcua migrate`, checks the schema is now at the latest migration, that `audit verify`
//! (with the old anchor file) and `stats verify` pass, serves, compares every dossier's
//! view and full history (every event in order, with its times) with what the old version
//! answered, does new work on the old data (a new intake, a fee paid, a supplement, results
//! signed and returned) and checks the portal receives the new changes and none of the old
//! ones again. A second test checks a database migrated by a newer motcua is refused.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Portal, Server};
use motcua_store::testing::{fresh_postgres_url, postgres_selected};
use serde_json::{Value, json};

/// Where the fixtures are.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/upgrade");
/// The last schema migration of the previous release.
const FROM_MIGRATION: i64 = 26;
/// The demo province's centre, its Department of Justice and Department of Construction.
const CENTRE: &str = "000.00.16.H43";
const JUSTICE: &str = "000.00.02.H43";
const CONSTRUCTION: &str = "000.00.03.H43";
/// Judicial record certificate (Sở Tư pháp).
const JUDICIAL_RECORD: &str = "1.900141";
/// Building permit (Sở Xây dựng), with a fee.
const BUILDING_PERMIT: &str = "1.900281";
/// The password every fixture account was given.
const PASSWORD: &str = motcua_server::bootstrap::DEMO_PASSWORD;
/// A minimal but real PDF, uploaded as scans and signed results.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Fields of an unfinished dossier's view computed from the moment it is read, not stored:
/// they change with the day the test runs, whatever the version (once the dossier is
/// finished they are fixed, and compared). Whether it is overdue, early or late so far,
/// and the actions offered (a dossier that waited past the applicant's time limit may be
/// stopped).
const MOMENT_FIELDS: &[&str] = &["overdue", "timeliness", "actions"];

/// `sqlite` or `postgres`: the backend this run selects, and the fixture it uses.
fn backend() -> &'static str {
    if postgres_selected() { "postgres" } else { "sqlite" }
}

fn fixture(suffix: &str) -> PathBuf {
    Path::new(FIXTURES).join(format!("{}.{suffix}", backend()))
}

async fn database_url() -> String {
    if postgres_selected() {
        fresh_postgres_url().await
    } else {
        String::new()
    }
}

/// `bin` on `data_dir` (and `database_url` when on PostgreSQL).
fn command(bin: &str, data_dir: &Path, database_url: &str) -> Command {
    let mut c = Command::new(bin);
    c.env("MOTCUA_DATA_DIR", data_dir)
        .env("MOTCUA_LISTEN", "127.0.0.1:0")
        .env("MOTCUA_DATABASE_URL", database_url)
        .env("MOTCUA_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .current_dir(data_dir);
    c
}

/// Runs `bin args` to its end.
fn run(bin: &str, data_dir: &Path, database_url: &str, args: &[&str]) -> Output {
    command(bin, data_dir, database_url)
        .args(args)
        .output()
        .expect("run motcua")
}

/// Runs `bin args`, which must succeed: its standard output.
fn run_ok(bin: &str, data_dir: &Path, database_url: &str, args: &[&str]) -> String {
    let out = run(bin, data_dir, database_url, args);
    assert!(
        out.status.success(),
        "motcua {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running `motcua serve`, killed when dropped unless stopped: a failed assertion must
/// not leave it running.
struct Node(Option<Server>);

impl Node {
    fn base(&self) -> String {
        self.0.as_ref().map(|s| s.base.clone()).unwrap_or_default()
    }

    /// Stops it as its supervisor does (SIGTERM), which must end it cleanly.
    fn stop(mut self) {
        let mut server = self.0.take().expect("running");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(server.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = server.child.wait().expect("wait");
        assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(server) = &mut self.0 {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
    }
}

/// `bin serve` delivering to `portal`, once it says where it listens.
fn serve(bin: &str, data_dir: &Path, database_url: &str, portal: &Portal) -> Node {
    let child = command(bin, data_dir, database_url)
        .args(["serve", "--no-demo"])
        .env("MOTCUA_PORTAL_URL", &portal.url)
        .env("MOTCUA_OUTBOX_POLL_MILLIS", "100")
        .env("MOTCUA_OUTBOX_BACKOFF_SECONDS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn motcua serve");
    Node(Some(common::listening(child)))
}

/// One signed-in user of a server.
struct Session {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn sign_in(base: &str, username: &str, password: &str) -> Session {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let r = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("login");
        assert!(r.status().is_success(), "{username} signs in: {}", r.status());
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("session cookie")
            .to_owned();
        let body: Value = r.json().await.expect("json");
        let csrf = body["csrf_token"].as_str().expect("csrf token").to_owned();
        Session {
            client,
            base: base.to_owned(),
            cookie,
            csrf,
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(body) = body {
            r = r.json(body);
        }
        let r = r.send().await.expect("send");
        let status = r.status().as_u16();
        let text = r.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// GET `path`, which must answer 200.
    async fn get(&self, path: &str) -> Value {
        let (status, v) = self.send(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    /// POST `body` to `path`, which must succeed.
    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.send(reqwest::Method::POST, path, Some(&body)).await;
        assert!((200..300).contains(&status), "POST {path} {body}: {status} {v}");
        v
    }

    /// Action `action` on dossier `code`: the dossier after it.
    async fn act(&self, code: &str, action: &str, body: Value) -> Value {
        self.post(&format!("/api/v1/dossiers/{code}/actions/{action}"), body)
            .await
    }

    /// Uploads the test PDF as `name`: the upload's id.
    async fn upload(&self, name: &str) -> String {
        let r = self
            .client
            .post(format!("{}/api/v1/uploads?name={name}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .body(PDF.to_vec())
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status().as_u16(), 201, "upload {name}");
        let v: Value = r.json().await.expect("json");
        v["id"].as_str().expect("upload id").to_owned()
    }

    /// A counter intake of `procedure` with every required document received.
    async fn file_at_counter(&self, procedure: &str, applicant: Value) -> String {
        let documents = common::required_documents(&self.base, procedure).await;
        let v = self
            .post(
                "/api/v1/dossiers",
                json!({"procedure": procedure, "applicant": applicant, "documents": documents}),
            )
            .await;
        v["code"].as_str().expect("code").to_owned()
    }
}

/// Where `new` differs from `old` on what `old` holds: every key of an object (a key
/// `new` adds is a new feature, not a loss), every element of an array (same length),
/// every scalar. `skip` names keys of the outermost object left out.
fn differences(old: &Value, new: &Value, path: &str, skip: &[&str], out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            for (k, v) in o {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                match n.get(k) {
                    Some(nv) => differences(v, nv, &format!("{path}.{k}"), &[], out),
                    None => out.push(format!("{path}.{k}: gone (was {v})")),
                }
            }
        }
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => {
            for (i, (ov, nv)) in o.iter().zip(n).enumerate() {
                differences(ov, nv, &format!("{path}[{i}]"), &[], out);
            }
        }
        _ if old == new => {}
        _ => out.push(format!("{path}: was {old}, now {new}")),
    }
}

/// The schema migrations recorded in the database, in order.
async fn recorded_migrations(dir: &Path, url: &str) -> Vec<i64> {
    let sql = "SELECT version FROM schema_migrations ORDER BY version";
    if postgres_selected() {
        let pool = sqlx::PgPool::connect(url).await.expect("postgres");
        let v = sqlx::query_scalar(sql).fetch_all(&pool).await.expect("versions");
        pool.close().await;
        v
    } else {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", dir.join("motcua.db").display()))
            .await
            .expect("sqlite");
        let v = sqlx::query_scalar(sql).fetch_all(&pool).await.expect("versions");
        pool.close().await;
        v
    }
}

/// Runs `sql` (a script of many statements) on the database: a fixture's dump, or a change
/// made behind motcua's back.
async fn execute(dir: &Path, url: &str, sql: &str) {
    if postgres_selected() {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
            .await
            .expect("connect");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("execute");
        <sqlx::PgConnection as sqlx::Connection>::close(conn)
            .await
            .expect("close");
    } else {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("motcua.db"))
            .create_if_missing(true);
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
            .await
            .expect("open");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("execute");
        <sqlx::SqliteConnection as sqlx::Connection>::close(conn)
            .await
            .expect("close");
    }
}

/// The portal's requests as (dossier code, action) pairs.
fn portal_changes(portal: &Portal) -> Vec<(String, String)> {
    portal
        .bodies()
        .iter()
        .map(|b| {
            (
                b["MaHoSo"].as_str().unwrap_or_default().to_owned(),
                b["ThaoTac"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// What the old version answered for one dossier.
struct Recorded<'a> {
    story: &'a str,
    code: &'a str,
    view: &'a Value,
    history: &'a Value,
    rating: &'a Value,
}

fn recorded(expected: &Value) -> Vec<Recorded<'_>> {
    expected["dossiers"]
        .as_array()
        .expect("dossiers")
        .iter()
        .map(|d| Recorded {
            story: d["story"].as_str().expect("story"),
            code: d["code"].as_str().expect("code"),
            view: &d["view"],
            history: &d["history"],
            rating: &d["rating"],
        })
        .collect()
}

fn code_of<'a>(expected: &'a [Recorded<'a>], story: &str) -> &'a str {
    expected
        .iter()
        .find(|d| d.story == story)
        .unwrap_or_else(|| panic!("the fixture has no dossier «{story}»"))
        .code
}

#[tokio::test]
async fn the_previous_release_upgrades_with_its_dossiers_and_histories() {
    let started = Instant::now();
    let expected: Value =
        serde_json::from_slice(&std::fs::read(fixture("expected.json")).expect("expected answers")).expect("json");
    assert_eq!(
        expected["migration"], FROM_MIGRATION,
        "the fixture is the release it says"
    );
    let dossiers = recorded(&expected);
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;

    // The previous release's database, as its stopped node left it, and its anchor file.
    let dump = std::fs::read_to_string(fixture("sql")).expect("dump");
    execute(dir.path(), &url, &dump).await;
    std::fs::copy(fixture("anchors.jsonl"), dir.path().join("audit-anchors.jsonl")).expect("anchor file");
    let before = recorded_migrations(dir.path(), &url).await;
    assert_eq!(before.last(), Some(&FROM_MIGRATION), "{before:?}");

    // This binary migrates it.
    let out = run_ok(common::BIN, dir.path(), &url, &["migrate"]);
    let all: Vec<i64> = motcua_store::migration_versions().collect();
    let after = recorded_migrations(dir.path(), &url).await;
    assert_eq!(after, all, "every migration of this binary is recorded");
    // Right after the fixture is refreshed at a release there is nothing new to apply.
    let new: Vec<i64> = all.iter().copied().filter(|v| *v > FROM_MIGRATION).collect();
    let applied = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "database schema updated")
        .and_then(|l| l["applied"].as_u64());
    assert_eq!(applied.unwrap_or(0), new.len() as u64, "{out}");
    // Migrating again finds nothing to do.
    let again = run_ok(common::BIN, dir.path(), &url, &["migrate"]);
    assert!(!again.contains("database schema updated"), "{again}");

    // The trail still verifies, against the anchors the old server wrote; the statistics
    // still count the dossiers.
    let audit = run_ok(common::BIN, dir.path(), &url, &["audit", "verify"]);
    assert!(audit.contains("toàn vẹn") && audit.contains("Khớp với"), "{audit}");
    run_ok(common::BIN, dir.path(), &url, &["stats", "verify"]);

    let portal = Portal::start();
    let server = serve(common::BIN, dir.path(), &url, &portal);
    let base = server.base();
    let upgraded_at = time::OffsetDateTime::now_utc();

    // Every dossier as the old version showed it: its view and its full history.
    let counter = Session::sign_in(&base, "tiepnhan", PASSWORD).await;
    let mut events_before = Vec::new();
    for d in &dossiers {
        let view = counter.get(&format!("/api/v1/dossiers/{}", d.code)).await;
        let mut diffs = Vec::new();
        let skip = if d.view["finished_at"].is_null() {
            MOMENT_FIELDS
        } else {
            &[]
        };
        differences(d.view, &view, d.story, skip, &mut diffs);
        let history = counter.get(&format!("/api/v1/dossiers/{}/history", d.code)).await;
        differences(d.history, &history, d.story, &[], &mut diffs);
        if !d.rating.is_null() {
            let rating = counter.get(&format!("/api/v1/dossiers/{}/rating", d.code)).await;
            differences(d.rating, &rating, d.story, &[], &mut diffs);
        }
        assert!(
            diffs.is_empty(),
            "{} ({}) changed in the upgrade:\n{}",
            d.story,
            d.code,
            diffs.join("\n")
        );
        let events = d.history["events"].as_array().expect("events");
        assert!(!events.is_empty());
        events_before.push(events.len());
    }
    let admin = Session::sign_in(&base, "admin", PASSWORD).await;
    let tokens = admin.get("/api/v1/admin/tokens").await;
    let mut diffs = Vec::new();
    differences(&expected["tokens"], &tokens, "tokens", &[], &mut diffs);
    assert!(
        diffs.is_empty(),
        "API tokens changed in the upgrade:\n{}",
        diffs.join("\n")
    );

    // New work on the upgraded data: a new intake, and the old dossiers moved on.
    let new_code = counter
        .file_at_counter(
            JUDICIAL_RECORD,
            json!({"kind": "citizen", "name": "Trần Thị Mới", "id_number": "058190000789",
                   "phone": "0912345679", "address": "Phan Rang - Tháp Chàm"}),
        )
        .await;
    assert!(
        dossiers.iter().all(|d| d.code != new_code),
        "a new intake gets a code of its own: {new_code}"
    );
    let v = counter.act(&new_code, "transfer", json!({})).await;
    assert_eq!(v["current_agency"], JUSTICE);

    let justice_leader = Session::sign_in(&base, "ld.tuphap", PASSWORD).await;
    let building_leader = Session::sign_in(&base, "ld.xaydung", PASSWORD).await;
    let in_progress = code_of(&dossiers, "in_progress");
    let result = justice_leader.upload("phieu-ly-lich-tu-phap.pdf").await;
    let v = justice_leader
        .act(
            in_progress,
            "finish",
            json!({"result_files": [result], "note": "Đã ký sau nâng cấp"}),
        )
        .await;
    assert_eq!(v["status_code"], 9, "{v}");
    let v = counter.act(in_progress, "return", json!({"method": "counter"})).await;
    assert_eq!(v["status_code"], 10, "{v}");

    let awaiting_payment = code_of(&dossiers, "awaiting_payment");
    let order = counter
        .post(
            &format!("/api/v1/dossiers/{awaiting_payment}/payments"),
            json!({"method": "cash", "reference": "BL-0102"}),
        )
        .await;
    assert_eq!(order["state"], "paid", "{order}");
    let result = building_leader.upload("giay-phep-xay-dung.pdf").await;
    let v = building_leader
        .act(
            awaiting_payment,
            "finish",
            json!({"result_files": [result], "note": "Đã ký"}),
        )
        .await;
    assert_eq!(v["status_code"], 9, "{v}");

    let awaiting_supplement = code_of(&dossiers, "awaiting_supplement");
    let scan = counter.upload("ban-ve-bo-sung.pdf").await;
    let v = counter
        .act(
            awaiting_supplement,
            "receive-supplement",
            json!({"files": [scan], "note": "Đã nhận bản vẽ sau nâng cấp"}),
        )
        .await;
    assert_eq!(v["status_code"], 4, "{v}");

    // The old history is still the start of each moved dossier's history; what follows
    // happened after the upgrade.
    let mut after_upgrade: BTreeSet<(String, String)> = BTreeSet::new();
    for (d, before) in dossiers.iter().zip(&events_before) {
        let history = counter.get(&format!("/api/v1/dossiers/{}/history", d.code)).await;
        let events = history["events"].as_array().expect("events");
        let mut diffs = Vec::new();
        differences(
            &d.history["events"],
            &Value::Array(events[..*before].to_vec()),
            d.story,
            &[],
            &mut diffs,
        );
        assert!(diffs.is_empty(), "{}: {}", d.story, diffs.join("\n"));
        for e in &events[*before..] {
            let at = time::OffsetDateTime::parse(
                e["at"].as_str().expect("event time"),
                &time::format_description::well_known::Rfc3339,
            )
            .expect("time");
            assert!(at >= upgraded_at - time::Duration::seconds(1), "{}: {e}", d.story);
            after_upgrade.insert((d.code.to_owned(), e["action"].as_str().expect("action").to_owned()));
        }
    }
    let history = counter.get(&format!("/api/v1/dossiers/{new_code}/history")).await;
    for e in history["events"].as_array().expect("events") {
        after_upgrade.insert((new_code.clone(), e["action"].as_str().expect("action").to_owned()));
    }

    // The portal receives the changes made after the upgrade, and nothing the old node
    // had already sent.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: BTreeSet<(String, String)> = portal_changes(&portal).into_iter().collect();
        if after_upgrade.is_subset(&got) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every change after the upgrade reached the portal: {after_upgrade:?}, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = portal_changes(&portal);
    for change in &sent {
        assert!(
            after_upgrade.contains(change),
            "{change:?} was sent by the old node already, and again after the upgrade"
        );
    }
    server.stop();

    // The work after the upgrade keeps the trail and the statistics sound.
    let audit = run_ok(common::BIN, dir.path(), &url, &["audit", "verify"]);
    assert!(audit.contains("toàn vẹn"), "{audit}");
    run_ok(common::BIN, dir.path(), &url, &["stats", "verify"]);
    eprintln!(
        "upgrade: {} from migration {FROM_MIGRATION} to {} ({} applied); {} dossiers and their histories \
         as the old version showed them; {} changes after the upgrade sent to the portal once; {:.1} s",
        backend(),
        all.last().copied().unwrap_or_default(),
        new.len(),
        dossiers.len(),
        sent.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_motcua_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    run_ok(common::BIN, dir.path(), &url, &["migrate"]);
    let latest = motcua_store::migration_versions().max().expect("migrations");
    let future = latest + 1;
    execute(
        dir.path(),
        &url,
        &format!(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ({future}, 'from_a_newer_release', 0)"
        ),
    )
    .await;
    for args in [&["migrate"][..], &["serve", "--no-demo"], &["stats", "verify"]] {
        // Spawned and waited for with a limit: a `serve` that wrongly starts must fail the
        // test, not hang it.
        let mut child = command(common::BIN, dir.path(), &url)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn motcua");
        let limit = Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("motcua {} kept running on a newer database", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out = child.wait_with_output().expect("output");
        assert!(!out.status.success(), "motcua {} on a newer database", args.join(" "));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "lược đồ số {future}, mới hơn phiên bản motcua này (lược đồ số {latest})"
            )),
            "motcua {} says why: {stderr}",
            args.join(" ")
        );
    }
    let recorded = recorded_migrations(dir.path(), &url).await;
    assert_eq!(recorded.last(), Some(&future), "nothing was changed");
    assert_eq!(recorded.len(), motcua_store::migration_versions().count() + 1);
}

/// The applicant of a fixture dossier: a citizen reachable by phone, or a company.
fn applicant(n: u32, company: bool) -> Value {
    if company {
        json!({"kind": "organisation", "name": format!("Công ty TNHH Xây dựng Số {n}"), "id_number": format!("45001234{n:02}"),
               "phone": "0259 3822 111", "email": format!("lienhe{n}@example.vn"), "address": "Phan Rang - Tháp Chàm"})
    } else {
        json!({"kind": "citizen", "name": format!("Nguyễn Văn Số {n}"), "id_number": format!("0581900001{n:02}"),
               "phone": "0912345678", "address": "Ninh Hải, Ninh Thuận"})
    }
}

/// The staff of the fixture: username, name, role, agency.
const STAFF: &[(&str, &str, &str, &str)] = &[
    ("tiepnhan", "Phạm Thị Nhận", "counter_officer", CENTRE),
    ("ld.xaydung", "Vũ Thị Lãnh", "department_leader", CONSTRUCTION),
    ("cv.xaydung", "Hoàng Văn Dựng", "department_officer", CONSTRUCTION),
    ("ld.tuphap", "Bùi Thị Tư", "department_leader", JUSTICE),
    ("cv.tuphap", "Đỗ Văn Pháp", "department_officer", JUSTICE),
];

/// Makes this backend's fixture with the previous release's binary
/// (`MOTCUA_UPGRADE_OLD_BIN`, built from commit `MOTCUA_UPGRADE_RELEASE`): a province from
/// `catalogue.json`, its staff created through the administration API, six dossiers moved
/// through the API, then the database dumped as the stopped node left it (`sqlite3 .dump`,
/// `pg_dump --inserts`), with its anchor file and what the old version answered for each
/// dossier. Run by `scripts/upgrade-fixture.sh`.
#[tokio::test]
#[ignore = "makes the fixtures from a build of the previous release: scripts/upgrade-fixture.sh"]
async fn make_fixture() {
    let old = std::env::var("MOTCUA_UPGRADE_OLD_BIN").expect("MOTCUA_UPGRADE_OLD_BIN: the previous release's binary");
    let release = std::env::var("MOTCUA_UPGRADE_RELEASE").expect("MOTCUA_UPGRADE_RELEASE: its commit");
    let dir = tempfile::tempdir().expect("dir");
    let url = database_url().await;
    let catalogue = Path::new(FIXTURES).join("catalogue.json");
    run_ok(&old, dir.path(), &url, &["import", catalogue.to_str().expect("path")]);
    // The first administrator, with the one-time password it logs once.
    let out = run_ok(&old, dir.path(), &url, &["demo"]);
    let one_time = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find_map(|l| l["one_time_password"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no first administrator created: {out}"));

    let portal = Portal::start();
    let server = serve(&old, dir.path(), &url, &portal);
    let base = server.base();
    let admin = Session::sign_in(&base, "admin", &one_time).await;
    let change = json!({"current_password": one_time, "new_password": PASSWORD});
    admin.post("/api/v1/auth/password", change).await;
    for (username, name, role, agency) in STAFF {
        let created = admin
            .post(
                "/api/v1/admin/users",
                json!({"username": username, "display_name": name, "email": format!("{username}@example.invalid"),
                       "grants": [{"role": role, "agency": agency}]}),
            )
            .await;
        let password = created["one_time_password"].as_str().expect("one-time password");
        let s = Session::sign_in(&base, username, password).await;
        s.post(
            "/api/v1/auth/password",
            json!({"current_password": password, "new_password": PASSWORD}),
        )
        .await;
    }
    admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "Cổng dịch vụ công tỉnh", "scopes": ["dossiers:read"], "expires_in_days": 365}),
        )
        .await;
    let sign_in = |u: &'static str| Session::sign_in(&base, u, PASSWORD);
    let counter = sign_in("tiepnhan").await;
    let building_leader = sign_in("ld.xaydung").await;
    let building = sign_in("cv.xaydung").await;
    let justice_leader = sign_in("ld.tuphap").await;
    let justice = sign_in("cv.tuphap").await;
    let mut stories: Vec<(&str, String)> = Vec::new();

    // A building permit through every step: supplement, an opinion of another department,
    // the fee paid in cash, an apology with a new appointment, the result by post, rated.
    let code = counter.file_at_counter(BUILDING_PERMIT, applicant(1, true)).await;
    counter.act(&code, "transfer", json!({})).await;
    building_leader
        .act(&code, "assign", json!({"user": "cv.xaydung"}))
        .await;
    building
        .act(
            &code,
            "request-supplement",
            json!({"missing": ["Bản vẽ mặt bằng công trình có chữ ký của chủ đầu tư"], "reason": "Bản vẽ thiếu chữ ký"}),
        )
        .await;
    let scan = counter.upload("ban-ve.pdf").await;
    counter
        .act(
            &code,
            "receive-supplement",
            json!({"files": [scan], "note": "Đã nhận bản vẽ"}),
        )
        .await;
    building
        .act(
            &code,
            "forward",
            json!({"agency": JUSTICE, "note": "Xin ý kiến về hồ sơ pháp lý"}),
        )
        .await;
    justice.act(&code, "forward-back", json!({"note": "Thống nhất"})).await;
    building
        .act(
            &code,
            "request-payment",
            json!({"amount": 150000, "note": "Lệ phí cấp giấy phép xây dựng"}),
        )
        .await;
    let order = counter
        .post(
            &format!("/api/v1/dossiers/{code}/payments"),
            json!({"method": "cash", "reference": "BL-0101"}),
        )
        .await;
    assert_eq!(order["state"], "paid", "{order}");
    let due = counter.get(&format!("/api/v1/dossiers/{code}")).await["due_at"]
        .as_str()
        .expect("due")
        .replace('+', "%2B");
    let later = counter
        .get(&format!("/api/v1/calendar/deadline?from={due}&working_days=3"))
        .await;
    building_leader
        .act(
            &code,
            "apologise",
            json!({"reason": "Cần khảo sát thực địa", "new_due": later["due"]}),
        )
        .await;
    let result = building_leader.upload("giay-phep.pdf").await;
    building_leader
        .act(&code, "finish", json!({"result_files": [result], "note": "Đã ký"}))
        .await;
    counter
        .act(
            &code,
            "return",
            json!({"method": "post", "tracking_number": "EB123456789VN"}),
        )
        .await;
    counter
        .post(
            "/api/v1/kiosk/rating",
            json!({"code": code, "rating": "satisfied", "comment": "Cán bộ hướng dẫn tận tình"}),
        )
        .await;
    stories.push(("returned_by_post", code));

    // A judicial record certificate handled and returned at the counter, rated.
    let code = counter.file_at_counter(JUDICIAL_RECORD, applicant(2, false)).await;
    counter.act(&code, "transfer", json!({})).await;
    justice_leader.act(&code, "assign", json!({"user": "cv.tuphap"})).await;
    let result = justice_leader.upload("phieu-llttp.pdf").await;
    justice_leader
        .act(&code, "finish", json!({"result_files": [result], "note": "Đã ký"}))
        .await;
    counter.act(&code, "return", json!({"method": "counter"})).await;
    counter
        .post(
            "/api/v1/kiosk/rating",
            json!({"code": code, "rating": "very_satisfied"}),
        )
        .await;
    stories.push(("returned_at_counter", code));

    // Left at the steps the new version takes up: a fee asked for, a certificate being
    // handled, a supplement awaited.
    let code = counter.file_at_counter(BUILDING_PERMIT, applicant(3, true)).await;
    counter.act(&code, "transfer", json!({})).await;
    building_leader
        .act(&code, "assign", json!({"user": "cv.xaydung"}))
        .await;
    building
        .act(
            &code,
            "request-payment",
            json!({"amount": 150000, "note": "Lệ phí cấp giấy phép xây dựng"}),
        )
        .await;
    stories.push(("awaiting_payment", code));

    let code = counter.file_at_counter(JUDICIAL_RECORD, applicant(4, false)).await;
    counter.act(&code, "transfer", json!({})).await;
    justice_leader.act(&code, "assign", json!({"user": "cv.tuphap"})).await;
    stories.push(("in_progress", code));

    let code = counter.file_at_counter(BUILDING_PERMIT, applicant(5, true)).await;
    counter.act(&code, "transfer", json!({})).await;
    building_leader
        .act(&code, "assign", json!({"user": "cv.xaydung"}))
        .await;
    building
        .act(
            &code,
            "request-supplement",
            json!({"missing": ["Giấy tờ chứng minh quyền sử dụng đất"], "reason": "Thiếu giấy tờ đất"}),
        )
        .await;
    stories.push(("awaiting_supplement", code));

    // Withdrawn at the applicant's request.
    let code = counter.file_at_counter(JUDICIAL_RECORD, applicant(6, false)).await;
    counter.act(&code, "transfer", json!({})).await;
    counter
        .act(&code, "withdraw", json!({"reason": "Người nộp xin rút hồ sơ"}))
        .await;
    stories.push(("withdrawn", code));

    // Every change reaches the portal before the node stops.
    let mut dossiers = Vec::new();
    let mut changes = 0;
    for (story, code) in &stories {
        let view = counter.get(&format!("/api/v1/dossiers/{code}")).await;
        let history = counter.get(&format!("/api/v1/dossiers/{code}/history")).await;
        changes += history["events"].as_array().expect("events").len();
        let (status, rating) = counter
            .send(reqwest::Method::GET, &format!("/api/v1/dossiers/{code}/rating"), None)
            .await;
        let rating = if status == 200 { rating } else { Value::Null };
        dossiers.push(json!({"story": story, "code": code, "view": view, "history": history, "rating": rating}));
    }
    let tokens = admin.get("/api/v1/admin/tokens").await;
    portal.wait_for(changes);
    server.stop();
    // The heads of the whole trail written down, as the hourly anchor would have: the
    // upgraded trail is checked against them.
    run_ok(&old, dir.path(), &url, &["audit", "anchor"]);

    let versions = recorded_migrations(dir.path(), &url).await;
    assert_eq!(
        versions.last(),
        Some(&FROM_MIGRATION),
        "FROM_MIGRATION is the previous release's last migration"
    );
    let dump = if postgres_selected() {
        let out = Command::new("pg_dump")
            .args(["--inserts", "--no-owner", "--no-privileges", "--dbname", &url])
            .output()
            .expect("pg_dump");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // psql meta-commands (`\restrict`) are not SQL; the test loads the dump without psql.
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .lines()
            .filter(|l| !l.starts_with('\\'))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    } else {
        let out = Command::new("sqlite3")
            .arg(dir.path().join("motcua.db"))
            .arg(".dump")
            .output()
            .expect("sqlite3");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let header = format!(
        "-- motcua upgrade fixture: the database of commit {release} (schema migration {FROM_MIGRATION}) on {},\n\
         -- made by crates/motcua/tests/upgrade.rs make_fixture (scripts/upgrade-fixture.sh).\n",
        backend()
    );
    std::fs::write(fixture("sql"), header + &dump).expect("write dump");
    std::fs::copy(dir.path().join("audit-anchors.jsonl"), fixture("anchors.jsonl")).expect("anchor file");
    let expected = json!({
        "release": release,
        "migration": FROM_MIGRATION,
        "dossiers": dossiers,
        "tokens": tokens,
    });
    std::fs::write(
        fixture("expected.json"),
        serde_json::to_string_pretty(&expected).expect("json") + "\n",
    )
    .expect("write expected answers");
}
