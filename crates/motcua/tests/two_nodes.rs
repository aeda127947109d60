//! Two nodes, one address (issue 26 item 4): two `motcua serve` processes on one PostgreSQL
//! database and one S3 bucket (moto's server), behind nginx started by the test with
//! round-robin and retry of idempotent requests to the other node. Checked, in turn:
//! - a session opened through one node works on the other, and ends on both when it ends;
//! - a change made through node A shows in node B's public tracking (API and page) and on
//!   its dossier page within one second (LISTEN/NOTIFY drops B's cached answer);
//! - under load through the proxy, each outbox event reaches the national portal once,
//!   although both nodes run the delivery worker;
//! - the form queues of both nodes render each form once, and a form issued by one node is
//!   served by the other from the bucket;
//! - a file uploaded through one node is served by the other;
//! - node A killed with SIGKILL under load: every acknowledged dossier is there, readers
//!   through the proxy see no error (nginx passes their requests to node B), and every
//!   change still reaches the portal (node B takes over A's deliveries);
//! - a rolling restart under load (node C joins, node B is drained in nginx and stopped
//!   with SIGTERM) fails no request, not even a write; then `motcua audit verify` and
//!   `motcua stats verify` pass on what the nodes wrote together.
//!
//! PostgreSQL only: several nodes need a shared database. The deployment recipe this test
//! proves is in docs/operations.md ("Several nodes behind one address").

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Portal, Server, listening, login, required_documents};
use motcua_store::testing::{fresh_postgres_url, postgres_selected};
use serde_json::{Value, json};

/// The procedure filed (Phiếu lý lịch tư pháp, at the centre).
const PROCEDURE: &str = "1.900141";
/// The bucket the nodes share.
const BUCKET: &str = "motcua-hai-nut";
/// Concurrent writers under load.
const WRITERS: usize = 6;
/// Dossiers each writer files (and transfers) in the load without kills.
const PER_WRITER: usize = 6;
/// Concurrent readers while a node is killed.
const READERS: usize = 3;
/// A small PDF, as uploaded.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// A child process killed (SIGKILL) and reaped when dropped, so that nothing the test
/// started outlives it, whatever assertion fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs moto's server on `argv[1]` and stops it when standard input closes (the test
/// process went away, however it ended).
const MOTO_SCRIPT: &str = "
import os, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(['-H', '127.0.0.1', '-p', sys.argv[1]])
";

/// moto's S3 server (from the virtual environment that scripts/deps.sh fills) with one
/// bucket.
struct Moto {
    _child: Killed,
    endpoint: String,
}

impl Moto {
    async fn start() -> Self {
        let venv = std::env::var("MOTCUA_TEST_VENV").unwrap_or_else(|_| "/var/tmp/motcua-venv".to_owned());
        let python = PathBuf::from(&venv).join("bin/python");
        assert!(python.exists(), "moto is not installed in {venv}: run scripts/deps.sh");
        let http = reqwest::Client::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Killed(
                Command::new(&python)
                    .args(["-c", MOTO_SCRIPT, &port.to_string()])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start moto"),
            );
            let endpoint = format!("http://127.0.0.1:{port}");
            for _ in 0..300 {
                if child.0.try_wait().expect("moto status").is_some() {
                    break; // the port was taken meanwhile: try another
                }
                let up = http.get(format!("{endpoint}/moto-api/data.json")).send().await;
                if up.is_ok_and(|r| r.status().is_success()) {
                    let created = http
                        .put(format!("{endpoint}/{BUCKET}"))
                        .send()
                        .await
                        .expect("create the bucket");
                    assert!(created.status().is_success(), "create the bucket: {}", created.status());
                    return Self {
                        _child: child,
                        endpoint,
                    };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("moto's server did not start");
    }

    /// The keys in the bucket.
    async fn keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        let mut after = String::new();
        loop {
            let xml = reqwest::Client::new()
                .get(format!("{}/{BUCKET}", self.endpoint))
                .query(&[("list-type", "2"), ("start-after", after.as_str())])
                .send()
                .await
                .expect("list the bucket")
                .text()
                .await
                .expect("listing");
            let page: Vec<String> = xml
                .split("<Key>")
                .skip(1)
                .filter_map(|s| s.split("</Key>").next())
                .map(str::to_owned)
                .collect();
            let Some(last) = page.last().cloned() else {
                return keys;
            };
            keys.extend(page);
            if !xml.contains("<IsTruncated>true</IsTruncated>") {
                return keys;
            }
            after = last;
        }
    }
}

/// A loopback port nothing listens on (as far as one can know before binding it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// One `motcua serve` node: its process (killed when dropped), address and data directory.
struct Node {
    name: &'static str,
    server: Option<Server>,
    base: String,
    dir: tempfile::TempDir,
}

impl Node {
    /// The settings every node shares (docs/operations.md, "The same on every node"); only
    /// the data directory and the listening address are its own.
    fn spawn(database_url: &str, moto: &Moto, portal: &str, public_url: &str) -> (Child, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("data dir");
        let child = Command::new(common::BIN)
            .arg("serve")
            .env("MOTCUA_DATA_DIR", dir.path())
            .env("MOTCUA_LISTEN", "127.0.0.1:0")
            .env("MOTCUA_DATABASE_URL", database_url)
            .env("MOTCUA_PUBLIC_URL", public_url)
            .env("MOTCUA_TRUSTED_PROXIES", "127.0.0.1")
            .env("MOTCUA_OBJECT_STORE", "s3")
            .env("MOTCUA_S3_ENDPOINT", &moto.endpoint)
            .env("MOTCUA_S3_BUCKET", BUCKET)
            .env("MOTCUA_S3_ACCESS_KEY", "motcua-test")
            .env("MOTCUA_S3_SECRET_KEY", "motcua-test-secret")
            .env("MOTCUA_LOG_FORMAT", "json")
            .env("MOTCUA_PORTAL_URL", portal)
            .env("MOTCUA_OUTBOX_LEASE_SECONDS", "3")
            .env("MOTCUA_OUTBOX_POLL_MILLIS", "100")
            .env("MOTCUA_OUTBOX_BACKOFF_SECONDS", "1")
            .env("RUST_LOG", "info")
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn motcua serve");
        (child, dir)
    }

    fn new(name: &'static str, (child, dir): (Child, tempfile::TempDir)) -> Self {
        let mut server = listening(child);
        let base = server.base.clone();
        // Its log, kept beside its data (and shown when the test fails).
        let log = dir.path().join("serve.log");
        let lines = std::mem::replace(&mut server.lines, std::sync::mpsc::channel().1);
        std::thread::spawn(move || {
            let Ok(mut file) = std::fs::File::create(log) else {
                return;
            };
            for line in lines {
                let _ = writeln!(file, "{line}");
            }
        });
        Node {
            name,
            server: Some(server),
            base,
            dir,
        }
    }

    fn port(&self) -> u16 {
        self.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port")
    }

    /// SIGKILL, and reaped (also when dropped: nothing here may panic).
    fn kill(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.child.kill();
            let _ = server.child.wait();
        }
    }

    /// SIGTERM (a graceful stop), and reaped: how it ended.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let mut server = self.server.take().expect("a running node");
        let term = Command::new("kill")
            .args(["-TERM", &server.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(term.success(), "SIGTERM to node {}", self.name);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait().expect("node status") {
                return status;
            }
            if Instant::now() >= deadline {
                self.server = Some(server);
                panic!("node {} did not stop within a minute of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its `/metrics` (asked directly, from loopback: no token needed).
    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// The sum of the samples of `name` in its `/metrics` (every label set).
    async fn metric(&self, name: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default();
            for line in log.lines().filter(|l| !l.contains(r#""level":"INFO""#)).take(40) {
                eprintln!("node {}: {line}", self.name);
            }
        }
    }
}

/// The nginx configuration the test runs (docs/operations.md gives the same for
/// production, with TLS): round-robin over the nodes; a request that fails to reach a node
/// or gets no answer from it goes to the next (nginx never passes a POST on once it was
/// sent); a node that failed is left out for a few seconds.
fn nginx_conf(dir: &Path, listen: u16, nodes: &[Upstream]) -> String {
    let d = dir.display();
    let servers: String = nodes
        .iter()
        .map(|u| match u {
            Upstream::Serving(p) => format!("        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n"),
            Upstream::Down(p) => format!("        server 127.0.0.1:{p} down;\n"),
        })
        .collect();
    format!(
        "worker_processes 1;
pid {d}/nginx.pid;
daemon off;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$upstream_addr';
    access_log {d}/access.log upstream;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream motcua {{
{servers}        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{listen};
        client_max_body_size 64m;
        location / {{
            proxy_pass http://motcua;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
            proxy_request_buffering off;
            proxy_buffering off;
        }}
        location = /metrics {{
            return 404;
        }}
    }}
}}
"
    )
}

/// A node in nginx's upstream block: sent requests, or drained (`down`).
#[derive(Debug, Clone, Copy)]
enum Upstream {
    Serving(u16),
    Down(u16),
}

/// nginx from Debian (scripts/deps.sh), run by the test in its own directory.
struct Nginx {
    /// The shell that runs nginx and stops it when its standard input closes.
    watch: Option<Child>,
    /// nginx's master process.
    master: u32,
    dir: tempfile::TempDir,
    listen: u16,
    base: String,
}

/// Runs nginx (`$0`, with its arguments) and stops it (SIGTERM: the master stops its
/// workers) when standard input closes: when the test drops it, or when the test process
/// goes away however it ended. Killing nginx's master outright would leave its workers
/// running.
const NGINX_WATCH: &str = r#""$0" "$@" &
nginx=$!
read -r _
kill -TERM "$nginx"
wait "$nginx""#;

impl Nginx {
    async fn start(listen: u16, nodes: &[Upstream]) -> Self {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("nginx is not installed: run scripts/deps.sh");
        let dir = tempfile::tempdir().expect("nginx dir");
        // When the test runs as root, nginx's workers run as `nobody`: they must reach
        // the temporary directories nginx makes (and gives them) in here.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        let conf = dir.path().join("nginx.conf");
        std::fs::File::create(&conf)
            .and_then(|mut f| f.write_all(nginx_conf(dir.path(), listen, nodes).as_bytes()))
            .expect("nginx.conf");
        let watch = Command::new("sh")
            .args(["-c", NGINX_WATCH, nginx, "-p"])
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            watch: Some(watch),
            master: 0,
            dir,
            listen,
            base: format!("http://127.0.0.1:{listen}"),
        };
        for _ in 0..100 {
            let pid = std::fs::read_to_string(nginx.dir.path().join("nginx.pid")).unwrap_or_default();
            if let Ok(master) = pid.trim().parse() {
                nginx.master = master;
                if reqwest::get(format!("{}/readyz", nginx.base))
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    return nginx;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let log = std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not answer on {}: {log}", nginx.base);
    }

    /// Writes the upstream block anew and has nginx reload it (SIGHUP): new workers take
    /// the new nodes; the old ones finish the requests they hold and exit. Returns once
    /// the old workers are gone, so that no request reaches a node taken out after this.
    async fn reload(&self, nodes: &[Upstream]) {
        let workers = || -> BTreeSet<String> {
            let children = format!("/proc/{pid}/task/{pid}/children", pid = self.master);
            std::fs::read_to_string(children)
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect()
        };
        let before = workers();
        std::fs::write(
            self.dir.path().join("nginx.conf"),
            nginx_conf(self.dir.path(), self.listen, nodes),
        )
        .expect("nginx.conf");
        let hup = Command::new("kill")
            .args(["-HUP", &self.master.to_string()])
            .status()
            .expect("kill -HUP");
        assert!(hup.success(), "nginx reload");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let now = workers();
            if !now.is_empty() && now.is_disjoint(&before) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nginx workers {before:?} still running: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many requests each node was asked, and how many requests went on to the next
    /// node, from the access log (one line per request: the nodes tried, "a:1, b:2").
    fn answered_by(&self) -> (BTreeMap<String, usize>, usize) {
        let log = std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default();
        let mut by = BTreeMap::new();
        let mut retried = 0;
        for line in log.lines() {
            retried += usize::from(line.contains(", "));
            for addr in line.split(", ") {
                *by.entry(addr.to_owned()).or_insert(0) += 1;
            }
        }
        (by, retried)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut watch) = self.watch.take() {
            drop(watch.stdin.take());
            let deadline = Instant::now() + Duration::from_secs(10);
            while watch.try_wait().ok().flatten().is_none() {
                if Instant::now() >= deadline {
                    if self.master != 0 {
                        let _ = Command::new("kill").args(["-KILL", &self.master.to_string()]).status();
                    }
                    let _ = watch.kill();
                    let _ = watch.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if std::thread::panicking() {
            let log = std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
            for line in log.lines().take(40) {
                eprintln!("nginx: {line}");
            }
        }
    }
}

/// A signed-in user's session, used on any node.
#[derive(Clone)]
struct Session {
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn open(base: &str, username: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let (cookie, csrf) = login(&http, base, username).await;
        Session { http, cookie, csrf }
    }

    /// The same session on a client that opens a connection per request. nginx closes
    /// its idle connections to clients when it reloads, and a request sent on one at that
    /// moment fails before nginx sees it (browsers send it again; this client would not):
    /// that is the client's connection, not what a reload or a node does to requests.
    fn without_keep_alive(&self) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        Session { http, ..self.clone() }
    }

    async fn get(&self, url: String) -> Result<reqwest::Response, reqwest::Error> {
        self.http.get(url).header("cookie", &self.cookie).send().await
    }

    async fn get_json(&self, url: String) -> (u16, Value) {
        let r = self.get(url).await.expect("get");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn get_text(&self, url: String) -> (u16, String) {
        let r = self.get(url).await.expect("get");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    async fn post(&self, url: String, body: &Value) -> Result<(u16, Value), reqwest::Error> {
        let r = self
            .http
            .post(url)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(body)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// Files a dossier at the counter on `base`: its answer (201) or the failure.
    async fn file(&self, base: &str, documents: &[Value], name: &str) -> Result<Value, String> {
        let body = json!({
            "procedure": PROCEDURE,
            "applicant": {"kind": "citizen", "name": name, "id_number": "058190000456"},
            "documents": documents,
        });
        match self.post(format!("{base}/api/v1/dossiers"), &body).await {
            Ok((201, v)) => Ok(v),
            Ok((status, v)) => Err(format!("{status} {v}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Hands dossier `code` to the department on `base`: its answer (200) or the failure.
    async fn transfer(&self, base: &str, code: &str) -> Result<Value, String> {
        match self
            .post(format!("{base}/api/v1/dossiers/{code}/actions/transfer"), &json!({}))
            .await
        {
            Ok((200, v)) => Ok(v),
            Ok((status, v)) => Err(format!("{status} {v}")),
            Err(e) => Err(e.to_string()),
        }
    }
}

fn code_of(v: &Value) -> String {
    v["code"].as_str().unwrap_or_else(|| panic!("a code in {v}")).to_owned()
}

fn status_of(v: &Value) -> u8 {
    v["status_code"]
        .as_u64()
        .and_then(|s| u8::try_from(s).ok())
        .unwrap_or_else(|| panic!("a status in {v}"))
}

/// What the database holds, read directly.
struct Database(sqlx::PgPool);

impl Database {
    /// Every dossier's code, status and the actions of its history, in order.
    async fn dossiers(&self) -> BTreeMap<String, (i64, Vec<String>)> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as("SELECT id, code, status FROM dossiers")
            .fetch_all(&self.0)
            .await
            .expect("dossiers");
        let events: Vec<(i64, String)> =
            sqlx::query_as("SELECT dossier_id, action FROM dossier_events ORDER BY dossier_id, seq")
                .fetch_all(&self.0)
                .await
                .expect("events");
        let mut by_id: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, action) in events {
            by_id.entry(id).or_default().push(action);
        }
        rows.into_iter()
            .map(|(id, code, status)| (code, (status, by_id.remove(&id).unwrap_or_default())))
            .collect()
    }

    /// Portal deliveries not yet delivered.
    async fn portal_undelivered(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox o WHERE o.planned_at IS NULL
             OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = o.id AND d.state <> 'delivered')",
        )
        .fetch_one(&self.0)
        .await
        .expect("undelivered")
    }

    /// Delivered portal deliveries per worker (which node sent them).
    async fn delivered_by(&self) -> BTreeMap<String, i64> {
        let rows: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT claimed_by, COUNT(*) FROM deliveries WHERE destination = 'portal' AND state = 'delivered'
             GROUP BY claimed_by",
        )
        .fetch_all(&self.0)
        .await
        .expect("deliveries");
        rows.into_iter().map(|(w, n)| (w.unwrap_or_default(), n)).collect()
    }

    /// The issued forms: (dossier code, kind, ordinal) → SHA-256.
    async fn forms(&self) -> BTreeMap<(String, String, i64), String> {
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT d.code, f.kind, f.ordinal, f.sha256 FROM dossier_forms f JOIN dossiers d ON d.id = f.dossier_id",
        )
        .fetch_all(&self.0)
        .await
        .expect("forms");
        rows.into_iter().map(|(c, k, o, s)| ((c, k, o), s)).collect()
    }
}

/// The (dossier code, action) of each portal request, counted.
fn portal_counts(portal: &Portal) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for b in portal.bodies() {
        let key = (
            b["MaHoSo"].as_str().unwrap_or_default().to_owned(),
            b["ThaoTac"].as_str().unwrap_or_default().to_owned(),
        );
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Every (dossier code, action) the database holds, counted: the changes the portal must
/// receive.
fn changes(dossiers: &BTreeMap<String, (i64, Vec<String>)>) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for (code, (_, actions)) in dossiers {
        for action in actions {
            *counts.entry((code.clone(), action.clone())).or_insert(0) += 1;
        }
    }
    counts
}

/// Waits until every change is delivered (no delivery left pending), at most `limit`.
async fn delivered(db: &Database, limit: Duration) {
    let deadline = Instant::now() + limit;
    while db.portal_undelivered().await > 0 {
        assert!(Instant::now() < deadline, "the outbox did not drain in {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `probe` every 10 ms until it holds: how long that took (at most `limit`).
async fn seen_within<F, Fut>(limit: Duration, what: &str, mut probe: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if probe().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what} not seen within {limit:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_behind_one_address() {
    if !postgres_selected() {
        eprintln!("two nodes: skipped on SQLite (several nodes need PostgreSQL: MOTCUA_TEST_BACKEND=postgres)");
        return;
    }
    let url = fresh_postgres_url().await;
    let db = Database(sqlx::PgPool::connect(&url).await.expect("postgres"));
    let moto = Moto::start().await;
    let portal = Portal::start();
    let proxy_port = free_port();
    let public_url = format!("http://127.0.0.1:{proxy_port}");
    // Both start together on the empty database: one migrates and loads the demo province,
    // the other waits for it (advisory locks).
    let spawned_a = Node::spawn(&url, &moto, &portal.url, &public_url);
    let spawned_b = Node::spawn(&url, &moto, &portal.url, &public_url);
    let mut a = Node::new("A", spawned_a);
    let b = Node::new("B", spawned_b);
    let nginx = Nginx::start(proxy_port, &[Upstream::Serving(a.port()), Upstream::Serving(b.port())]).await;
    let proxy = nginx.base.clone();
    eprintln!(
        "two nodes: A {}, B {}, nginx {proxy}, S3 {}",
        a.base, b.base, moto.endpoint
    );
    let documents = required_documents(&proxy, PROCEDURE).await;

    // 1. A session opened through the proxy (on whichever node) works on each node, for
    //    reading, pages and writes (its CSRF token too); ended on one, it is over on both.
    let counter = Session::open(&proxy, "tiepnhan").await;
    for node in [&a, &b] {
        let (status, me) = counter.get_json(format!("{}/api/v1/auth/me", node.base)).await;
        assert_eq!(
            (status, me["username"].as_str()),
            (200, Some("tiepnhan")),
            "node {}",
            node.name
        );
        let (status, _) = counter.get_text(format!("{}/quay", node.base)).await;
        assert_eq!(status, 200, "the counter's page on node {}", node.name);
        let filed = counter.file(&node.base, &documents, "Nguyễn Văn Phiên").await;
        assert!(
            filed.is_ok(),
            "a write with the session on node {}: {filed:?}",
            node.name
        );
    }
    let short = Session::open(&proxy, "tiepnhan").await;
    let (status, _) = short.get_json(format!("{}/api/v1/auth/me", a.base)).await;
    assert_eq!(status, 200);
    let ended = short.post(format!("{}/api/v1/auth/logout", b.base), &json!({})).await;
    assert!(matches!(ended, Ok((200 | 204, _))), "logout on B: {ended:?}");
    let (status, _) = short.get_json(format!("{}/api/v1/auth/me", a.base)).await;
    assert_eq!(status, 401, "a session ended on B is over on A");

    // 2. A change made on A shows on B within a second: B's public tracking answer (cached
    //    on B before the change), its tracking page and its dossier page.
    let mut slowest = Duration::ZERO;
    let mut readable = Vec::new();
    for i in 0..3 {
        let v = counter
            .file(&a.base, &documents, &format!("Trần Thị Theo Dõi {i}"))
            .await
            .expect("filed on A");
        let code = code_of(&v);
        let secret = v["tracking_secret"].as_str().expect("tracking secret").to_owned();
        readable.push((code.clone(), secret.clone()));
        let track = format!("{}/api/v1/track/{code}?secret={secret}", b.base);
        let page = format!("{}/tra-cuu/{code}?secret={secret}", b.base);
        let staff_page = format!("{}/ho-so/{code}", b.base);
        let (status, before) = counter.get_json(track.clone()).await;
        assert_eq!(status, 200, "{before}");
        // Asked twice: the second answer comes from B's cache.
        assert_eq!(counter.get_json(track.clone()).await.1, before);
        let (_, page_before) = counter.get_text(page.clone()).await;
        let steps = before["steps"].as_array().map_or(0, Vec::len);
        counter.transfer(&a.base, &code).await.expect("transferred on A");
        let started = Instant::now();
        let after = Arc::new(Mutex::new(Value::Null));
        let tracked = seen_within(Duration::from_secs(1), "the transfer in B's tracking", || {
            let (counter, track, after) = (counter.clone(), track.clone(), Arc::clone(&after));
            async move {
                let (_, v) = counter.get_json(track).await;
                let done = v["steps"].as_array().map_or(0, Vec::len) == steps + 1;
                *after.lock().expect("lock") = v;
                done
            }
        })
        .await;
        let agency = after.lock().expect("lock")["current_agency"]
            .as_str()
            .expect("agency")
            .to_owned();
        assert_ne!(before["current_agency"].as_str(), Some(agency.as_str()));
        seen_within(Duration::from_secs(1), "the transfer on B's tracking page", || {
            let (counter, page, agency, page_before) =
                (counter.clone(), page.clone(), agency.clone(), page_before.clone());
            async move {
                let (status, html) = counter.get_text(page).await;
                status == 200 && html != page_before && html.contains(&agency)
            }
        })
        .await;
        seen_within(Duration::from_secs(1), "the transfer on B's dossier page", || {
            let (counter, staff_page, agency) = (counter.clone(), staff_page.clone(), agency.clone());
            async move {
                let (status, html) = counter.get_text(staff_page).await;
                status == 200 && html.contains(&agency)
            }
        })
        .await;
        let all = started.elapsed();
        eprintln!("two nodes: change on A seen in B's tracking after {tracked:?}, on its pages after {all:?}");
        slowest = slowest.max(all);
    }
    assert!(
        slowest <= Duration::from_secs(1),
        "cross-node visibility took {slowest:?}"
    );

    // 3. Load through the proxy: each writer files and transfers its dossiers.
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (counter, proxy, documents) = (counter.clone(), proxy.clone(), documents.clone());
            tokio::spawn(async move {
                for i in 0..PER_WRITER {
                    let v = counter
                        .file(&proxy, &documents, &format!("Lê Văn Tải {w}-{i}"))
                        .await
                        .expect("filed through the proxy");
                    counter
                        .transfer(&proxy, &code_of(&v))
                        .await
                        .expect("transferred through the proxy");
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    let load = started.elapsed();
    let (answered, _) = nginx.answered_by();
    for node in [&a, &b] {
        let n = answered
            .get(&format!("127.0.0.1:{}", node.port()))
            .copied()
            .unwrap_or(0);
        assert!(
            n > WRITERS,
            "round-robin: node {} answered {n} requests ({answered:?})",
            node.name
        );
    }

    // Each change reaches the portal once, although both nodes run the worker.
    delivered(&db, Duration::from_secs(60)).await;
    // Anything sent twice would come within a few polls and a lease.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stored = db.dossiers().await;
    let expected = changes(&stored);
    let counts = portal_counts(&portal);
    let (changed, received): (usize, usize) = (expected.values().sum(), counts.values().sum());
    let twice: Vec<_> = counts.iter().filter(|(k, n)| expected.get(*k) < Some(*n)).collect();
    let missing: Vec<_> = expected.iter().filter(|(k, n)| counts.get(*k) < Some(*n)).collect();
    let by_worker = db.delivered_by().await;
    eprintln!(
        "two nodes: {} dossiers filed and transferred through the proxy in {load:?}; portal: {changed} changes \
         expected, {received} deliveries counted; delivered per worker {by_worker:?}; answered per node {answered:?}",
        WRITERS * PER_WRITER,
    );
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    assert_eq!(received, changed);
    assert_eq!(by_worker.len(), 2, "both nodes' workers delivered: {by_worker:?}");

    // 4. The form queues: every dossier gets its receipt and the control sheet of its
    //    transfer, and no form is rendered twice, though both nodes queued most dossiers
    //    (filed on one, transferred on the other).
    // The dossiers handed over, with the control sheet of their hand-over: its ordinal is
    // the `seq` of the transfer in their history.
    let transferred: Vec<(&String, i64)> = stored
        .iter()
        .filter_map(|(code, (_, actions))| {
            let seq = actions.iter().rposition(|a| a == "transfer")? + 1;
            Some((code, i64::try_from(seq).expect("seq")))
        })
        .collect();
    let lacking = |forms: &BTreeMap<(String, String, i64), String>| {
        transferred
            .iter()
            .find(|(code, seq)| {
                !forms.contains_key(&((*code).clone(), "receipt".to_owned(), 1))
                    || !forms.contains_key(&((*code).clone(), "control-sheet".to_owned(), *seq))
            })
            .map(|(code, _)| (*code).clone())
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let forms = db.forms().await;
        let Some(code) = lacking(&forms) else { break };
        if Instant::now() >= deadline {
            let of: Vec<_> = forms.keys().filter(|k| k.0 == code).collect();
            panic!("forms not issued in time: {} issued; {code} has {of:?}", forms.len());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A render is counted when drawn, its form when recorded a moment later; a form drawn
    // twice never gets a second record, so the counts never meet.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (forms_now, renders_a, renders_b) = loop {
        let forms = db.forms().await;
        let renders_a = a.metric("motcua_form_render_seconds_count").await;
        let renders_b = b.metric("motcua_form_render_seconds_count").await;
        if renders_a + renders_b == forms.len() as f64 || Instant::now() >= deadline {
            break (forms, renders_a, renders_b);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let rendered = renders_a + renders_b;
    eprintln!(
        "two nodes: forms: {} issued, {rendered} rendered (A {renders_a}, B {renders_b})",
        forms_now.len()
    );
    assert_eq!(rendered, forms_now.len() as f64, "each form rendered once");
    // A form issued by either node is served by both, from the bucket, as issued.
    for (code, _) in transferred.iter().take(4) {
        for kind in ["receipt", "control-sheet"] {
            let mut served = Vec::new();
            for node in [&a, &b] {
                let r = counter
                    .get(format!("{}/api/v1/dossiers/{code}/forms/{kind}.pdf", node.base))
                    .await
                    .expect("form");
                assert_eq!(r.status().as_u16(), 200, "{code} {kind} on {}", node.name);
                served.push(r.bytes().await.expect("bytes"));
            }
            assert_eq!(served[0], served[1], "{code} {kind}: the same bytes on both nodes");
        }
    }
    let rendered_after =
        a.metric("motcua_form_render_seconds_count").await + b.metric("motcua_form_render_seconds_count").await;
    assert_eq!(
        rendered_after, rendered,
        "downloads are served from the bucket, not drawn again"
    );

    // 5. Uploads: written through one node, served by the other (and through the proxy).
    let mut uploaded = Vec::new();
    for (i, (from, to)) in [
        (&a.base, &b.base),
        (&b.base, &a.base),
        (&proxy, &proxy),
        (&proxy, &proxy),
    ]
    .into_iter()
    .enumerate()
    {
        let body = [PDF, format!("% tệp {i}\n").as_bytes()].concat();
        let r = counter
            .http
            .post(format!("{from}/api/v1/uploads?name=giay-to-{i}.pdf"))
            .header("cookie", &counter.cookie)
            .header("x-csrf-token", &counter.csrf)
            .header("content-type", "application/pdf")
            .body(body.clone())
            .send()
            .await
            .expect("upload");
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 201, "upload {i}: {v}");
        let id = v["id"].as_str().expect("upload id").to_owned();
        let r = counter.get(format!("{to}/api/v1/files/{id}")).await.expect("download");
        assert_eq!(r.status().as_u16(), 200, "download {i}");
        assert_eq!(r.bytes().await.expect("bytes").as_ref(), body.as_slice(), "upload {i}");
        uploaded.push(id);
    }
    let keys = moto.keys().await;
    assert!(
        keys.iter().filter(|k| k.starts_with("forms/")).count() >= forms_now.len(),
        "every issued form is in the bucket: {} keys",
        keys.len()
    );
    eprintln!(
        "two nodes: {} uploads served across nodes; the bucket holds {} objects",
        uploaded.len(),
        keys.len()
    );

    // 6. Node A killed under load: writers and readers keep going through the proxy.
    let load = Load::start(&counter, &proxy, &documents, &readable);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (acked_before_kill, reads_before_kill) = load.progress();
    a.kill();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let killed = load.finish().await;
    let (_, retried) = nginx.answered_by();
    let (acked_after_kill, reads_after_kill) =
        (killed.acked.len() - acked_before_kill, killed.reads - reads_before_kill);
    assert!(acked_after_kill > 0, "node B took the writes after the kill");
    assert!(reads_after_kill > 0, "node B took the reads after the kill");
    assert!(
        killed.read_errors.is_empty(),
        "readers saw errors: {:?}",
        killed.read_errors
    );
    assert!(retried > 0, "nginx passed requests that met the dead node on to node B");
    let found = all_there(&db, &killed.acked).await;
    // Every change, those node A had claimed when it died included, reaches the portal.
    let (expected, received) = all_delivered(&db, &portal).await;
    eprintln!(
        "two nodes: node A killed under load: {} dossiers acknowledged ({acked_after_kill} after the kill), {found} \
         found; {} writes cut off and not acknowledged ({:?}); {} reads through the proxy ({reads_after_kill} after \
         the kill), {} errors, {retried} requests passed on to the next node; portal: {expected} changes expected, \
         {received} deliveries counted ({} repeated after the kill: delivery is at least once)",
        killed.acked.len(),
        killed.failed_writes.len(),
        killed.failed_writes,
        killed.reads,
        killed.read_errors.len(),
        received - expected
    );

    // 7. A rolling restart, as an upgrade without migrations goes: a new node joins, then
    //    node B is drained (marked down, nginx reloaded) and stopped with SIGTERM, under
    //    load. Nobody sees an error, not even a write.
    let spawned = Node::spawn(&url, &moto, &portal.url, &public_url);
    let c = Node::new("C", spawned);
    nginx
        .reload(&[Upstream::Serving(c.port()), Upstream::Serving(b.port())])
        .await;
    let load = Load::start(&counter, &proxy, &documents, &readable);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    nginx
        .reload(&[Upstream::Serving(c.port()), Upstream::Down(b.port())])
        .await;
    let mut b = b;
    let stopped = b.terminate();
    assert!(stopped.success(), "node B stopped cleanly: {stopped}");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let rolled = load.finish().await;
    assert!(
        rolled.failed_writes.is_empty() && rolled.read_errors.is_empty(),
        "a drained node's stop is seen by nobody: writes {:?}, reads {:?}",
        rolled.failed_writes,
        rolled.read_errors
    );
    let found = all_there(&db, &rolled.acked).await;
    let (expected, received) = all_delivered(&db, &portal).await;
    let (answered, _) = nginx.answered_by();
    eprintln!(
        "two nodes: rolling restart (C joins, B drained and stopped): {} dossiers acknowledged, {found} found, \
         0 writes lost; {} reads, 0 errors; answered per node {answered:?}; portal: {expected} changes expected, \
         {received} deliveries counted",
        rolled.acked.len(),
        rolled.reads
    );
    drop(nginx);
    drop(moto);

    // What the nodes wrote together holds: the audit chains and the statistics.
    drop(c);
    for args in [["audit", "verify"], ["stats", "verify"]] {
        let out = Command::new(common::BIN)
            .args(args)
            .env("MOTCUA_DATA_DIR", b.dir.path())
            .env("MOTCUA_DATABASE_URL", &url)
            .current_dir(b.dir.path())
            .output()
            .expect("run motcua");
        assert!(
            out.status.success(),
            "motcua {}: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("two nodes: slowest cross-node visibility {slowest:?}; audit verify and stats verify pass");
    db.0.close().await;
}

/// Writers filing and transferring dossiers, and readers reading them, through the proxy
/// until told to stop.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<BTreeMap<String, u8>>>,
    failed_writes: Arc<Mutex<Vec<String>>>,
    reads: Arc<AtomicUsize>,
    read_errors: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What a [`Load`] saw.
struct Seen {
    /// The acknowledged dossiers and the status of the last answer about each.
    acked: BTreeMap<String, u8>,
    /// Writes that got no acknowledgement, and why.
    failed_writes: Vec<String>,
    /// Complete successful reads.
    reads: usize,
    /// Reads that failed, and how.
    read_errors: Vec<String>,
}

impl Load {
    fn start(counter: &Session, proxy: &str, documents: &[Value], readable: &[(String, String)]) -> Self {
        let counter = &counter.without_keep_alive();
        let load = Load {
            stop: Arc::default(),
            acked: Arc::default(),
            failed_writes: Arc::default(),
            reads: Arc::default(),
            read_errors: Arc::default(),
            tasks: Vec::new(),
        };
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let (counter, proxy, documents) = (counter.clone(), proxy.to_owned(), documents.to_vec());
            let (stop, acked, failed) = (
                Arc::clone(&load.stop),
                Arc::clone(&load.acked),
                Arc::clone(&load.failed_writes),
            );
            tasks.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let name = format!("Phạm Thị Chịu Tải {w}-{i}");
                    let v = match counter.file(&proxy, &documents, &name).await {
                        Ok(v) => v,
                        Err(e) => {
                            failed.lock().expect("lock").push(format!("file: {e}"));
                            continue;
                        }
                    };
                    let code = code_of(&v);
                    acked.lock().expect("lock").insert(code.clone(), status_of(&v));
                    match counter.transfer(&proxy, &code).await {
                        Ok(v) => {
                            acked.lock().expect("lock").insert(code, status_of(&v));
                        }
                        Err(e) => failed.lock().expect("lock").push(format!("transfer {code}: {e}")),
                    }
                }
            }));
        }
        for r in 0..READERS {
            let (counter, proxy, readable) = (counter.clone(), proxy.to_owned(), readable.to_vec());
            let (stop, reads, errors) = (
                Arc::clone(&load.stop),
                Arc::clone(&load.reads),
                Arc::clone(&load.read_errors),
            );
            tasks.push(tokio::spawn(async move {
                let mut i = r;
                while !stop.load(Ordering::SeqCst) {
                    let (code, secret) = &readable[i % readable.len()];
                    let url = match i % 3 {
                        0 => format!("{proxy}/api/v1/track/{code}?secret={secret}"),
                        1 => format!("{proxy}/api/v1/dossiers/{code}"),
                        _ => format!("{proxy}/tra-cuu/{code}?secret={secret}"),
                    };
                    match counter.get(url.clone()).await {
                        Ok(resp) if resp.status().is_success() => match resp.bytes().await {
                            Ok(_) => {
                                reads.fetch_add(1, Ordering::SeqCst);
                            }
                            Err(e) => errors.lock().expect("lock").push(format!("{url}: body {e}")),
                        },
                        Ok(resp) => errors.lock().expect("lock").push(format!("{url}: {}", resp.status())),
                        Err(e) => errors.lock().expect("lock").push(format!("{url}: {e}")),
                    }
                    i += 1;
                }
            }));
        }
        Load { tasks, ..load }
    }

    /// Dossiers acknowledged and reads done so far.
    fn progress(&self) -> (usize, usize) {
        (
            self.acked.lock().expect("lock").len(),
            self.reads.load(Ordering::SeqCst),
        )
    }

    /// Stops the clients (each after its request in flight) and says what they saw.
    async fn finish(self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.tasks {
            t.await.expect("client task");
        }
        let seen = Seen {
            acked: self.acked.lock().expect("lock").clone(),
            failed_writes: self.failed_writes.lock().expect("lock").clone(),
            reads: self.reads.load(Ordering::SeqCst),
            read_errors: self.read_errors.lock().expect("lock").clone(),
        };
        assert!(seen.reads > 0 && !seen.acked.is_empty(), "the load did some work");
        seen
    }
}

/// Checks that every acknowledged dossier is stored, at or past its acknowledged status,
/// and that nothing is half there (every stored dossier's history starts with its
/// filing). Returns how many acknowledged dossiers were found.
async fn all_there(db: &Database, acked: &BTreeMap<String, u8>) -> usize {
    let stored = db.dossiers().await;
    for (code, (_, actions)) in &stored {
        assert_eq!(actions.first().map(String::as_str), Some("file"), "{code}: {actions:?}");
    }
    let mut found = 0;
    for (code, status) in acked {
        let (now, _) = stored
            .get(code)
            .unwrap_or_else(|| panic!("{code} acknowledged but not stored"));
        assert!(
            *now >= i64::from(*status),
            "{code}: acknowledged status {status}, found {now}"
        );
        found += 1;
    }
    assert_eq!(found, acked.len());
    found
}

/// Waits until the outbox has drained, and checks that every stored change reached the
/// portal: how many changes there are, and how many deliveries the portal counted.
async fn all_delivered(db: &Database, portal: &Portal) -> (usize, usize) {
    delivered(db, Duration::from_secs(60)).await;
    let expected = changes(&db.dossiers().await);
    let counts = portal_counts(portal);
    let missing: Vec<_> = expected.iter().filter(|(k, n)| counts.get(*k) < Some(*n)).collect();
    assert!(missing.is_empty(), "never delivered: {missing:?}");
    (expected.values().sum(), counts.values().sum())
}
