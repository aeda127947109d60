//! What the process-level tests share: a local receiver standing in for the national
//! portal, `motcua serve` started as a child process, and a login.

#![allow(dead_code, reason = "each test binary uses part of it")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_motcua");

/// A minimal HTTP/1.1 receiver: records each request's body; while `hold` is set it keeps
/// the connection open without answering (a send in flight), otherwise answers 200.
#[derive(Clone)]
pub struct Portal {
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    pub hold: Arc<Mutex<bool>>,
}

impl Portal {
    pub fn start() -> Self {
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

    pub fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("lock").clone()
    }

    pub fn wait_for(&self, n: usize) -> Vec<Value> {
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

pub struct Server {
    pub child: Child,
    pub base: String,
    /// Its standard output, line by line, after the line that says where it listens.
    pub lines: mpsc::Receiver<String>,
}

pub fn start(data_dir: &Path, database_url: &str, portal: &str) -> Server {
    let child = Command::new(BIN)
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
    listening(child)
}

/// Waits until the started `motcua serve` (its standard output piped) says where it listens.
pub fn listening(mut child: Child) -> Server {
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
    Server { child, base, lines }
}

/// Signs `username` in with the demo password: the session cookie and CSRF token.
pub async fn login(client: &reqwest::Client, base: &str, username: &str) -> (String, String) {
    try_login(client, base, username).await.expect("login")
}

/// [`login`], or `None` when the server does not answer it (it was killed meanwhile).
pub async fn try_login(client: &reqwest::Client, base: &str, username: &str) -> Option<(String, String)> {
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": motcua_server::bootstrap::DEMO_PASSWORD}))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())?
        .to_owned();
    let body: Value = r.json().await.ok()?;
    Some((cookie, body["csrf_token"].as_str()?.to_owned()))
}

/// The checklist of `procedure` as the counter receives it: every required document, with
/// the originals and copies it asks for.
pub async fn required_documents(base: &str, procedure: &str) -> Vec<Value> {
    let content: Value = reqwest::get(format!("{base}/api/v1/procedures/{procedure}"))
        .await
        .expect("procedure")
        .json()
        .await
        .expect("json");
    content["content"]["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, d)| json!({"index": i, "originals": d["originals"], "copies": d["copies"]}))
        .collect()
}

/// Runs `motcua <args>` on the data in `dir` (database `url`, empty for SQLite in `dir`)
/// with the extra environment `env`; whether it succeeded, and its output (stdout, then
/// stderr).
pub fn cli(dir: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("MOTCUA_DATA_DIR", dir)
        .env("MOTCUA_DATABASE_URL", url)
        .envs(env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("run motcua");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
