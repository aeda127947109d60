//! An event committed before `motcua serve` is killed with SIGKILL, while its delivery to
//! the national portal is in flight, is delivered by the next start: the dead process's
//! lease expires and the new one sends it again (at least once), before later events of
//! the same dossier (in order). The portal is a plain local HTTP receiver.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use motcua_store::testing::{fresh_postgres_url, postgres_selected};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_motcua");

/// A minimal HTTP/1.1 receiver: records each request's body; while `hold` is set it keeps
/// the connection open without answering (a send in flight), otherwise answers 200.
#[derive(Clone)]
struct Portal {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    hold: Arc<Mutex<bool>>,
}

impl Portal {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let portal = Portal {
            url: format!("http://{}/dvcqg", listener.local_addr().expect("addr")),
            bodies: Arc::new(Mutex::new(Vec::new())),
            hold: Arc::new(Mutex::new(false)),
        };
        let me = portal.clone();
        std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if let Some((stream, body)) = read_request(stream) {
                    me.bodies.lock().expect("lock").push(body);
                    if *me.hold.lock().expect("lock") {
                        held.push(stream);
                    } else {
                        let mut stream = stream;
                        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    }
                }
            }
        });
        portal
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("lock").clone()
    }

    fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..1200 {
            let b = self.bodies();
            if b.len() >= n {
                return b;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("expected {n} portal requests, got {:?}", self.bodies());
    }
}

/// Reads one request (headers, then `content-length` bytes of JSON body).
fn read_request(stream: TcpStream) -> Option<(TcpStream, Value)> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((reader.into_inner(), serde_json::from_slice(&body).ok()?))
}

struct Server {
    child: Child,
    base: String,
    _lines: mpsc::Receiver<String>,
}

fn start(data_dir: &Path, database_url: &str, portal: &str) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("MOTCUA_DATA_DIR", data_dir)
        .env("MOTCUA_LISTEN", "127.0.0.1:0")
        .env("MOTCUA_DATABASE_URL", database_url)
        .env("MOTCUA_LOG_FORMAT", "json")
        .env("MOTCUA_PORTAL_URL", portal)
        .env("MOTCUA_OUTBOX_LEASE_SECONDS", "2")
        .env("MOTCUA_OUTBOX_POLL_MILLIS", "100")
        .env("MOTCUA_OUTBOX_BACKOFF_SECONDS", "1")
        .env("RUST_LOG", "info")
        .current_dir(data_dir)
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
        let line = lines.recv_timeout(Duration::from_secs(120)).expect("server output");
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on ".len()..];
            break rest.split('"').next().expect("address").to_owned();
        }
    };
    Server {
        child,
        base,
        _lines: lines,
    }
}

async fn login(client: &reqwest::Client, base: &str, username: &str) -> (String, String) {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": motcua_server::bootstrap::DEMO_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert!(r.status().is_success());
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_owned();
    let body: Value = r.json().await.expect("json");
    (cookie, body["csrf_token"].as_str().expect("csrf").to_owned())
}

#[tokio::test]
async fn an_event_in_flight_when_the_server_is_killed_is_delivered_after_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let url = if postgres_selected() {
        fresh_postgres_url().await
    } else {
        String::new()
    };
    let portal = Portal::start();
    *portal.hold.lock().expect("lock") = true;
    let mut server = start(dir.path(), &url, &portal.url);

    // File a dossier at the counter: two changes (filed, accepted), committed.
    let client = reqwest::Client::new();
    let (cookie, csrf) = login(&client, &server.base, "tiepnhan").await;
    let content: Value = client
        .get(format!("{}/api/v1/procedures/1.900141", server.base))
        .send()
        .await
        .expect("procedure")
        .json()
        .await
        .expect("json");
    let documents: Vec<Value> = content["content"]["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, d)| json!({"index": i, "originals": d["originals"], "copies": d["copies"]}))
        .collect();
    let r = client
        .post(format!("{}/api/v1/dossiers", server.base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "procedure": "1.900141",
            "applicant": {"kind": "citizen", "name": "Trần Thị Bình", "id_number": "058190000456"},
            "documents": documents,
        }))
        .send()
        .await
        .expect("file");
    assert_eq!(r.status().as_u16(), 201);
    let filed: Value = r.json().await.expect("json");
    let code = filed["code"].as_str().expect("code").to_owned();

    // The worker is sending the first change; the portal holds it. Kill -9 now: the
    // send never completes and nothing records its outcome.
    portal.wait_for(1);
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reap");
    assert_eq!(portal.bodies().len(), 1, "the second change waits behind the first");

    // Restart: once the dead process's lease expires, the first change is sent again,
    // then the second.
    *portal.hold.lock().expect("lock") = false;
    let mut server = start(dir.path(), &url, &portal.url);
    let bodies = portal.wait_for(3);
    std::thread::sleep(Duration::from_millis(500));
    let bodies = if bodies.len() > 3 { portal.bodies() } else { bodies };
    let actions: Vec<&str> = bodies.iter().map(|b| b["ThaoTac"].as_str().expect("action")).collect();
    assert_eq!(actions, ["file", "file", "accept"]);
    assert!(bodies.iter().all(|b| b["MaHoSo"] == json!(code)));
    assert_eq!(bodies[2]["TrangThaiHoSo"], 2);

    // The database agrees: both delivered, the first after two attempts.
    let config = motcua_store::DbConfig {
        url: Some(url.clone()).filter(|u| !u.is_empty()),
        sqlite_path: dir.path().join("motcua.db"),
        max_connections: 2,
        busy_timeout: Duration::from_secs(10),
    };
    let db = motcua_store::Db::connect(&config).await.expect("open");
    let mut tx = db.begin_read().await.expect("tx");
    let delivered = motcua_store::outbox::deliveries(
        &mut tx,
        "000.00.00.H43",
        motcua_store::outbox::StateFilter::Delivered,
        None,
        10,
    )
    .await
    .expect("deliveries");
    drop(tx);
    db.close().await;
    let attempts: Vec<(String, i64)> = delivered.iter().rev().map(|d| (d.kind.clone(), d.attempts)).collect();
    assert_eq!(
        attempts,
        [("dossier.file".to_owned(), 2), ("dossier.accept".to_owned(), 1)]
    );

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = server.child.wait().expect("wait");
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
}
