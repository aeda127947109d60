//! A real SMTP server for the emails the application sends: aiosmtpd, run from
//! `tests/support/smtp_sink.py`, storing each message it receives as a JSON file.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncBufReadExt;

/// A running aiosmtpd that stores what it receives as JSON files.
pub struct SmtpSink {
    _child: tokio::process::Child,
    dir: tempfile::TempDir,
    /// The port it listens on (127.0.0.1, no TLS).
    pub port: u16,
}

/// The Python with aiosmtpd: `MOTCUA_TEST_PYTHON`, else Debian's (`python3-aiosmtpd`
/// installs there, and a `python3` earlier on the PATH may be another one), else `python3`.
fn python() -> String {
    let candidates = std::env::var("MOTCUA_TEST_PYTHON")
        .into_iter()
        .chain(["/usr/bin/python3".to_owned(), "python3".to_owned()]);
    for p in candidates {
        let ok = std::process::Command::new(&p)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return p;
        }
    }
    panic!("no Python with aiosmtpd: install python3-aiosmtpd (scripts/deps.sh)");
}

impl SmtpSink {
    /// Starts the sink on a free port.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = tokio::process::Command::new(python())
            .arg(&script)
            .arg(dir.path())
            // The sink exits when its stdin closes, i.e. when this test process is gone.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start smtp_sink.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(20),
            tokio::io::BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("smtp sink started in time")
        .expect("read port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("port, got «{line}»"));
        Self {
            _child: child,
            dir,
            port,
        }
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("read dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json"))
            .collect()
    }

    /// Waits (up to 30 s) until `n` messages have arrived and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        for _ in 0..600 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} emails, got {:?}", self.messages());
    }
}
