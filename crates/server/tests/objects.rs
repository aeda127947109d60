//! The object store for real, on both backends: a local directory, and an S3 bucket on a
//! local S3-compatible server (moto in server mode, from the virtual environment that
//! `scripts/deps.sh` fills). moto is run with authentication on, so it checks every
//! signature and refuses a wrong key or session token as S3 would.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use motcua_server::objects::{ObjectError, ObjectStore, S3Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// The Python of the virtual environment with moto: `MOTCUA_TEST_VENV`, else deps.sh's.
fn moto_python() -> PathBuf {
    let venv = std::env::var("MOTCUA_TEST_VENV").unwrap_or_else(|_| "/var/tmp/motcua-venv".to_owned());
    let python = PathBuf::from(&venv).join("bin/python");
    let ok = std::process::Command::new(&python)
        .args(["-c", "import moto.server"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "moto is not installed in {venv}: run scripts/deps.sh (it creates the virtual environment and installs moto[server])"
    );
    python
}

/// moto's server, stopped when dropped (and by itself when this test process goes away:
/// it exits when its standard input closes).
struct Moto {
    _child: Child,
    endpoint: String,
    http: reqwest::Client,
}

/// Runs moto's server and stops it when standard input closes.
const MOTO_SCRIPT: &str = "
import os, sys, threading
def watch():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
from moto.server import main
main(['-H', '127.0.0.1', '-p', sys.argv[1]])
";

impl Moto {
    async fn start() -> Self {
        let python = moto_python();
        let http = reqwest::Client::new();
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let mut child = Command::new(&python)
                .args(["-c", MOTO_SCRIPT, &port.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("start moto");
            let endpoint = format!("http://127.0.0.1:{port}");
            for _ in 0..300 {
                if child.try_wait().expect("moto status").is_some() {
                    break; // the port was taken meanwhile: try another
                }
                let up = http.get(format!("{endpoint}/moto-api/data.json")).send().await;
                if up.is_ok_and(|r| r.status().is_success()) {
                    return Self {
                        _child: child,
                        endpoint,
                        http,
                    };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("moto's server did not start");
    }

    /// One IAM or STS query action. Authentication is still off, so the signature is not
    /// checked; the credential scope only tells moto which service is meant.
    async fn action(&self, service: &str, params: &[(&str, &str)]) -> String {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=0"
        );
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("authorization", authorization)
            .header("x-amz-date", "20250101T000000Z")
            .form(params)
            .send()
            .await
            .expect("moto answers");
        let status = response.status();
        let body = response.text().await.expect("body");
        assert!(status.is_success(), "{params:?}: {status} {body}");
        body
    }
}

fn element(xml: &str, tag: &str) -> String {
    let start = xml
        .find(&format!("<{tag}>"))
        .unwrap_or_else(|| panic!("<{tag}> in {xml}"))
        + tag.len()
        + 2;
    let end = start + xml[start..].find(&format!("</{tag}>")).expect("closing tag");
    xml[start..end].to_owned()
}

const ALLOW_S3: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

/// Credentials moto knows: an IAM user's access key, and a role session's temporary
/// credentials; both may do anything on S3.
struct Keys {
    user: (String, String),
    session: (String, String, String),
}

async fn create_keys_and_bucket(moto: &Moto, bucket: &str) -> Keys {
    let v = ("Version", "2010-05-08");
    moto.action("iam", &[("Action", "CreateUser"), ("UserName", "motcua"), v])
        .await;
    let key = moto
        .action("iam", &[("Action", "CreateAccessKey"), ("UserName", "motcua"), v])
        .await;
    moto.action(
        "iam",
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "motcua"),
            ("PolicyName", "s3"),
            ("PolicyDocument", ALLOW_S3),
            v,
        ],
    )
    .await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    moto.action(
        "iam",
        &[
            ("Action", "CreateRole"),
            ("RoleName", "uploads"),
            ("AssumeRolePolicyDocument", trust),
            v,
        ],
    )
    .await;
    moto.action(
        "iam",
        &[
            ("Action", "PutRolePolicy"),
            ("RoleName", "uploads"),
            ("PolicyName", "s3"),
            ("PolicyDocument", ALLOW_S3),
            v,
        ],
    )
    .await;
    let session = moto
        .action(
            "sts",
            &[
                ("Action", "AssumeRole"),
                ("RoleArn", "arn:aws:iam::123456789012:role/uploads"),
                ("RoleSessionName", "motcua"),
                ("Version", "2011-06-15"),
            ],
        )
        .await;
    let created = moto
        .http
        .put(format!("{}/{bucket}", moto.endpoint))
        .send()
        .await
        .expect("create bucket");
    assert!(
        created.status().is_success(),
        "{}",
        created.text().await.unwrap_or_default()
    );
    // From now on moto checks every request's signature and permissions.
    let enforced = moto
        .http
        .post(format!("{}/moto-api/reset-auth", moto.endpoint))
        .body("0")
        .send()
        .await
        .expect("reset-auth");
    assert!(enforced.status().is_success());
    Keys {
        user: (element(&key, "AccessKeyId"), element(&key, "SecretAccessKey")),
        session: (
            element(&session, "AccessKeyId"),
            element(&session, "SecretAccessKey"),
            element(&session, "SessionToken"),
        ),
    }
}

/// What every backend must do.
async fn exercise(store: &ObjectStore) {
    assert_eq!(store.get("hs/2025/none.pdf").await.expect("get"), None);
    assert!(store.list("").await.expect("list").is_empty());

    let pdf = b"%PDF-1.7\n\xe2\xe3\xcf\xd3 binary \0\xff body".to_vec();
    store.put("hs/2025/a.pdf", pdf.clone()).await.expect("put");
    store.put("hs/2025/b.png", vec![7; 300_000]).await.expect("put large");
    store.put("hs/2026/c.docx", b"c".to_vec()).await.expect("put");
    store.put("tmp/u-1", Vec::new()).await.expect("put empty");
    assert_eq!(store.get("hs/2025/a.pdf").await.expect("get"), Some(pdf));
    assert_eq!(
        store.get("hs/2025/b.png").await.expect("get").map(|b| b.len()),
        Some(300_000)
    );
    assert_eq!(store.get("tmp/u-1").await.expect("get"), Some(Vec::new()));

    // Spooled files: a small one (one request to S3) and one of several parts (a
    // multipart upload to S3); the spool file is gone once stored.
    let big: Vec<u8> = (0..9 * 1024 * 1024 + 7).map(|i: u32| (i % 251) as u8).collect();
    for (key, content) in [("tmp/spooled-small", b"small".to_vec()), ("tmp/spooled-big", big)] {
        let mut spool = store.spool().await.expect("spool");
        spool.write_all(&content).expect("write the spool");
        let spool_path = spool.path().to_owned();
        store.put_file(key, spool).await.expect("put_file");
        assert!(!spool_path.exists(), "{}", spool_path.display());
        assert!(store.get(key).await.expect("get") == Some(content), "{key}");
        store.delete(key).await.expect("delete");
    }

    // Replacing keeps one object with the new content.
    store.put("hs/2026/c.docx", b"c2".to_vec()).await.expect("replace");
    assert_eq!(store.get("hs/2026/c.docx").await.expect("get"), Some(b"c2".to_vec()));

    assert_eq!(
        store.list("").await.expect("list"),
        ["hs/2025/a.pdf", "hs/2025/b.png", "hs/2026/c.docx", "tmp/u-1"]
    );
    assert_eq!(
        store.list("hs/2025/").await.expect("list"),
        ["hs/2025/a.pdf", "hs/2025/b.png"]
    );
    assert_eq!(
        store.list("hs/202").await.expect("list").len(),
        3,
        "a plain string prefix"
    );
    assert!(store.list("nothing/").await.expect("list").is_empty());

    store.delete("hs/2025/a.pdf").await.expect("delete");
    store.delete("hs/2025/a.pdf").await.expect("deleting again is fine");
    store.delete("never/existed").await.expect("deleting nothing is fine");
    assert_eq!(store.get("hs/2025/a.pdf").await.expect("get"), None);
    assert_eq!(
        store.list("hs/").await.expect("list"),
        ["hs/2025/b.png", "hs/2026/c.docx"]
    );

    for bad in ["../escape", "/etc/passwd", "a/../../b", "a b", ""] {
        assert!(
            matches!(store.put(bad, b"x".to_vec()).await, Err(ObjectError::InvalidKey(_))),
            "{bad}"
        );
        assert!(matches!(store.get(bad).await, Err(ObjectError::InvalidKey(_))), "{bad}");
        assert!(
            matches!(store.delete(bad).await, Err(ObjectError::InvalidKey(_))),
            "{bad}"
        );
    }
    assert!(matches!(store.list("../").await, Err(ObjectError::InvalidKey(_))));
}

#[tokio::test]
async fn local_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("objects");
    let store = ObjectStore::local(root.clone());
    exercise(&store).await;

    // The files are where the keys say, and nothing was written outside the root.
    assert_eq!(std::fs::read(root.join("hs/2026/c.docx")).expect("file"), b"c2");
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(outside, ["objects"]);
    // A leftover temporary file of an interrupted write is not an object.
    std::fs::write(root.join("hs/2026/c.docx~1-1.tmp"), b"partial").expect("write");
    assert_eq!(store.list("hs/2026/").await.expect("list"), ["hs/2026/c.docx"]);
    assert!(store.describe().contains(&root.display().to_string()));
}

#[tokio::test]
async fn local_directory_from_the_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = motcua_server::Config {
        data_dir: dir.path().to_owned(),
        ..motcua_server::Config::default()
    };
    let store = ObjectStore::from_config(&config).expect("store");
    store.put("a/b", b"x".to_vec()).await.expect("put");
    assert_eq!(std::fs::read(dir.path().join("objects/a/b")).expect("file"), b"x");
}

#[tokio::test]
async fn s3_bucket_on_a_real_s3_compatible_server() {
    let moto = Moto::start().await;
    let keys = create_keys_and_bucket(&moto, "motcua-h43").await;
    let settings = S3Settings {
        endpoint: moto.endpoint.clone(),
        bucket: "motcua-h43".to_owned(),
        region: "us-east-1".to_owned(),
        access_key: keys.user.0.clone(),
        secret_key: keys.user.1.clone(),
        session_token: None,
        path_style: true,
    };
    let store = ObjectStore::s3(settings.clone()).expect("store");
    exercise(&store).await;
    assert!(!store.describe().contains(&keys.user.1));

    // The same through the configuration.
    let config = motcua_server::Config {
        object_store: "s3".to_owned(),
        s3_endpoint: moto.endpoint.clone(),
        s3_bucket: "motcua-h43".to_owned(),
        s3_access_key: keys.user.0.clone(),
        s3_secret_key: keys.user.1.clone(),
        ..motcua_server::Config::default()
    };
    config.validate().expect("valid configuration");
    let configured = ObjectStore::from_config(&config).expect("store");
    assert_eq!(
        configured.list("hs/").await.expect("list"),
        ["hs/2025/b.png", "hs/2026/c.docx"]
    );

    // Temporary credentials: the session token is sent and signed.
    let session = ObjectStore::s3(S3Settings {
        access_key: keys.session.0.clone(),
        secret_key: keys.session.1.clone(),
        session_token: Some(keys.session.2.clone()),
        ..settings.clone()
    })
    .expect("store");
    session
        .put("tmp/session", b"s".to_vec())
        .await
        .expect("put with a session");
    assert_eq!(store.get("tmp/session").await.expect("get"), Some(b"s".to_vec()));

    // More keys than one listing page holds: the continuation token is followed.
    for i in 0..1005 {
        store.put(&format!("many/{i:04}"), Vec::new()).await.expect("put");
    }
    let many = store.list("many/").await.expect("list");
    assert_eq!(many.len(), 1005);
    assert_eq!(many.first().map(String::as_str), Some("many/0000"));
    assert_eq!(many.last().map(String::as_str), Some("many/1004"));

    // moto checks signatures: a wrong secret, or a wrong session token, is refused.
    let wrong_secret = ObjectStore::s3(S3Settings {
        secret_key: "not-the-secret".to_owned(),
        ..settings.clone()
    })
    .expect("store");
    let refused = wrong_secret.get("hs/2026/c.docx").await.expect_err("refused");
    assert!(
        matches!(&refused, ObjectError::Refused { status: 403, code, .. } if code == "SignatureDoesNotMatch"),
        "{refused}"
    );
    assert!(!refused.to_string().contains("not-the-secret"));
    let wrong_token = ObjectStore::s3(S3Settings {
        access_key: keys.session.0.clone(),
        secret_key: keys.session.1.clone(),
        session_token: Some("forged".to_owned()),
        ..settings.clone()
    })
    .expect("store");
    assert!(matches!(
        wrong_token.put("tmp/forged", b"x".to_vec()).await,
        Err(ObjectError::Refused { status: 400 | 403, .. })
    ));

    // A missing bucket is an error, not an empty answer.
    let no_bucket = ObjectStore::s3(S3Settings {
        bucket: "no-such-bucket".to_owned(),
        ..settings.clone()
    })
    .expect("store");
    let missing = no_bucket.get("hs/2026/c.docx").await.expect_err("no bucket");
    assert!(
        matches!(&missing, ObjectError::Refused { status: 404, code, .. } if code == "NoSuchBucket"),
        "{missing}"
    );

    // Nothing listens: unreachable, quickly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let nowhere = ObjectStore::s3(S3Settings {
        endpoint: format!("http://127.0.0.1:{port}"),
        ..settings
    })
    .expect("store");
    assert!(matches!(nowhere.get("a").await, Err(ObjectError::Unreachable(_))));
}

/// An endpoint that answers every request with a redirect to itself: the store reports the
/// redirect and does not follow it (a redirect must not carry a session token elsewhere).
#[tokio::test]
async fn redirects_are_not_followed() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut byte = [0; 1];
            while !head.ends_with(b"\r\n\r\n") && socket.read(&mut byte).await.is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{port}/elsewhere\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    let store = ObjectStore::s3(S3Settings {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket: "motcua-h43".to_owned(),
        region: "us-east-1".to_owned(),
        access_key: "AKIDEXAMPLE".to_owned(),
        secret_key: "secret".to_owned(),
        session_token: Some("token".to_owned()),
        path_style: true,
    })
    .expect("store");
    let redirected = store.get("hs/a.pdf").await.expect_err("a redirect is an error");
    assert!(
        matches!(redirected, ObjectError::Refused { status: 307, .. }),
        "{redirected}"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1, "the redirect was not followed");
}

/// Times a 20 MiB put, put_file and get against moto (a measurement, not a check):
/// `cargo test -p motcua-server --test objects -- --ignored --nocapture timing`.
#[tokio::test]
#[ignore = "a measurement, run by hand"]
async fn timing_20_mib_against_moto() {
    let moto = Moto::start().await;
    let keys = create_keys_and_bucket(&moto, "motcua-h43").await;
    let store = ObjectStore::s3(S3Settings {
        endpoint: moto.endpoint.clone(),
        bucket: "motcua-h43".to_owned(),
        region: "us-east-1".to_owned(),
        access_key: keys.user.0.clone(),
        secret_key: keys.user.1.clone(),
        session_token: None,
        path_style: true,
    })
    .expect("store");
    let body: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    for round in 0..3 {
        let start = std::time::Instant::now();
        store.put("big/put", body.clone()).await.expect("put");
        let put = start.elapsed();
        let mut spool = store.spool().await.expect("spool");
        spool.write_all(&body).expect("write");
        let start = std::time::Instant::now();
        store.put_file("big/file", spool).await.expect("put_file");
        let put_file = start.elapsed();
        let start = std::time::Instant::now();
        let got = store.get("big/file").await.expect("get").expect("there");
        let get = start.elapsed();
        assert!(got == body);
        let start = std::time::Instant::now();
        for i in 0..300 {
            store.put(&format!("small/{i}"), b"x".to_vec()).await.expect("put");
        }
        let small = start.elapsed() / 300;
        println!("round {round}: put {put:?}, put_file {put_file:?}, get {get:?}, small put {small:?}");
    }
}
