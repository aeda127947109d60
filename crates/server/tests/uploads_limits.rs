//! The bounds on uploads: the bytes of upload bodies in flight across the server
//! (`max_upload_bytes_in_flight`: 503 with `Retry-After` past it), the size of one body
//! however it is framed (`max_upload_bytes`: the JSON 413, chunked bodies included), and
//! what one account may keep unattached (`max_staged_upload_bytes_per_account`,
//! `max_staged_uploads_per_account`: 409 until files are attached or expire).

mod common;

use common::api::post;
use common::files::{download, send_upload};
use common::intake::judicial_record_intake;
use common::{Session, TestApp, header, sign_in, spawn_app_at_with, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::macros::datetime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A minimal PDF padded with spaces to `len` bytes.
fn pdf(len: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec();
    assert!(len >= pdf.len());
    pdf.resize(len, b' ');
    pdf
}

/// Uploads `bytes` as file `name` for `s`: status, `Retry-After`, body.
async fn try_upload(app: &TestApp, s: &Session, name: &str, bytes: Vec<u8>) -> (StatusCode, Option<String>, Value) {
    let r = send_upload(app, s, name, bytes).await;
    let status = r.status();
    let retry_after = header(&r, "retry-after");
    (status, retry_after, r.json().await.expect("json"))
}

/// Uploads `bytes` as file `name` for `s` (201): the upload's id.
async fn upload_ok(app: &TestApp, s: &Session, name: &str, bytes: Vec<u8>) -> String {
    let (status, _, v) = try_upload(app, s, name, bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{name}: {v}");
    v["id"].as_str().expect("id").to_owned()
}

/// A counter intake of the judicial record procedure whose first required document
/// carries `files`.
async fn file_with(app: &TestApp, counter: &Session, files: &[&str]) -> (StatusCode, Value) {
    let mut body = judicial_record_intake(app).await;
    body["documents"][0]["files"] = json!(files);
    post(app, counter, "/api/v1/dossiers", body).await
}

/// An upload sent by hand over HTTP/1.1, so that its framing (chunked) and its pace (a
/// body that stops half way) are the test's to choose. `framing` is the header that says
/// how the body is delimited.
async fn open_upload(app: &TestApp, s: &Session, name: &str, framing: &str) -> TcpStream {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/v1/uploads?name={name} HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nX-CSRF-Token: {}\r\n\
         Content-Type: application/octet-stream\r\n{framing}\r\nConnection: close\r\n\r\n",
        s.cookie, s.csrf
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
}

/// Reads one response off a hand-made connection: status, `Retry-After`, JSON body. Reads
/// only as far as the body's `Content-Length`: a server that refused a body early closes
/// the connection with the rest unread, which may end in a reset after the answer.
async fn read_response(stream: &mut TcpStream) -> (u16, Option<String>, Value) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let header = |name: &str| {
                head.lines().skip(1).find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
            };
            let length: usize = header("content-length")
                .expect("content-length")
                .parse()
                .expect("length");
            if buf.len() >= end + 4 + length {
                let status = head.split(' ').nth(1).expect("status").parse().expect("status code");
                let body = serde_json::from_slice(&buf[end + 4..end + 4 + length]).expect("json body");
                return (status, header("retry-after"), body);
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) => panic!(
                "connection closed before a whole response: {}",
                String::from_utf8_lossy(&buf)
            ),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("reading the response: {e}; got {}", String::from_utf8_lossy(&buf)),
        }
    }
}

/// Sends `body` as HTTP/1.1 chunks of `piece` bytes, then the last chunk.
async fn send_chunked(stream: &mut TcpStream, body: &[u8], piece: usize) {
    for part in body.chunks(piece) {
        stream
            .write_all(format!("{:x}\r\n", part.len()).as_bytes())
            .await
            .expect("chunk size");
        stream.write_all(part).await.expect("chunk");
        stream.write_all(b"\r\n").await.expect("chunk end");
    }
    stream.write_all(b"0\r\n\r\n").await.expect("last chunk");
}

#[tokio::test]
async fn unattached_uploads_are_limited_per_account_until_attached_or_expired() {
    let app = spawn_app_at_with(datetime!(2026-03-02 09:00 +07:00), |c| {
        c.max_upload_bytes = 4096;
        c.max_staged_upload_bytes_per_account = 8000;
        c.max_staged_uploads_per_account = 3;
        c.upload_ttl_hours = 1;
        c.session_idle_minutes = 24 * 60;
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;
    let a = upload_ok(&app, &counter, "a.pdf", pdf(3000)).await;
    let b = upload_ok(&app, &counter, "b.pdf", pdf(3000)).await;
    let (status, _, _) = download(&app, Some(&counter), &format!("/api/v1/files/{b}")).await;
    assert_eq!(status, StatusCode::OK, "the uploader fetches a staged file back");
    // 9000 bytes would be kept unattached: over the 8000 allowed.
    let (status, _, e) = try_upload(&app, &counter, "c.pdf", pdf(3000)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["code"], "conflict");
    let message = e["message"].as_str().expect("message");
    assert!(
        message.contains("chưa gắn vào hồ sơ") && message.contains("hết hạn"),
        "{message}"
    );
    // A smaller one still fits in bytes…
    upload_ok(&app, &counter, "d.pdf", pdf(1000)).await;
    // …but not a fourth file, however small.
    let (status, _, e) = try_upload(&app, &counter, "e.pdf", pdf(200)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    // The quota is the account's: another account uploads freely.
    let other = sign_in(&app, "cv.tuphap").await;
    upload_ok(&app, &other, "khac.pdf", pdf(3000)).await;

    // Attached files no longer count.
    let (status, v) = file_with(&app, &counter, &[&a]).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    upload_ok(&app, &counter, "c.pdf", pdf(3000)).await;
    let (status, _, e) = try_upload(&app, &counter, "f.pdf", pdf(200)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");

    // Nor do expired ones (the sweep removes them).
    app.clock.set(datetime!(2026-03-02 10:01 +07:00));
    // An expired upload is gone before the sweep runs: it can be neither attached nor fetched.
    let (status, v) = file_with(&app, &counter, &[&b]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| m.contains("hết hạn")), "{v}");
    let (status, _, _) = download(&app, Some(&counter), &format!("/api/v1/files/{b}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for name in ["g.pdf", "h.pdf"] {
        upload_ok(&app, &counter, name, pdf(3000)).await;
    }
    let (status, _, e) = try_upload(&app, &counter, "i.pdf", pdf(3000)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
}

#[tokio::test]
async fn uploads_past_the_bytes_in_flight_wait_then_get_503_while_smaller_ones_pass() {
    let app = spawn_app_with(|c| {
        c.max_upload_bytes = 64 * 1024;
        c.max_upload_bytes_in_flight = 100 * 1024;
        c.upload_wait_ms = 300;
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;
    // A 64 KiB upload that sends its first bytes and then stalls holds 64 KiB of the 100.
    let slow_body = pdf(64 * 1024);
    let mut slow = open_upload(
        &app,
        &counter,
        "cham.pdf",
        &format!("Content-Length: {}", slow_body.len()),
    )
    .await;
    slow.write_all(&slow_body[..1000]).await.expect("first bytes");
    // Once it holds its share (the server takes it right after the headers), 40 KiB more
    // do not fit: 503 with Retry-After after the short wait.
    let mut refused = None;
    for _ in 0..50 {
        let (status, retry_after, v) = try_upload(&app, &counter, "lon.pdf", pdf(40 * 1024)).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some((retry_after, v));
            break;
        }
        assert_eq!(status, StatusCode::CREATED, "{v}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (retry_after, v) = refused.expect("a 503 while the slow upload holds its share");
    assert_eq!(retry_after.as_deref(), Some("1"), "{v}");
    assert_eq!(v["code"], "unavailable");
    assert!(
        v["message"].as_str().expect("message").contains("thử tải lên lại"),
        "{v}"
    );
    // 30 KiB still fit beside the slow one, several in turn.
    for i in 0..3 {
        upload_ok(&app, &counter, &format!("nho{i}.pdf"), pdf(30 * 1024)).await;
    }
    // The slow upload completes and is stored whole; its share is free again.
    slow.write_all(&slow_body[1000..]).await.expect("rest");
    let (status, _, v) = read_response(&mut slow).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["size"], slow_body.len());
    assert_eq!(v["sha256"], hex(&Sha256::digest(&slow_body)));
    upload_ok(&app, &counter, "lon.pdf", pdf(40 * 1024)).await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_body_past_the_limit_is_refused_with_the_json_413_however_it_is_framed() {
    let app = spawn_app_with(|c| {
        c.max_upload_bytes = 64 * 1024;
        c.max_upload_bytes_in_flight = 128 * 1024;
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;

    // Chunked, no Content-Length: refused at the first chunk past the limit.
    let mut stream = open_upload(&app, &counter, "lon.pdf", "Transfer-Encoding: chunked").await;
    send_chunked(&mut stream, &pdf(100 * 1024), 1024).await;
    let (status, _, e) = read_response(&mut stream).await;
    assert_eq!(status, 413, "{e}");
    assert_eq!(e["code"], "too_large");
    assert!(e["message"].as_str().expect("message").contains("65536"), "{e}");

    // A declared length past the limit is refused before the body is read.
    let (status, _, e) = try_upload(&app, &counter, "lon.pdf", pdf(64 * 1024 + 1)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["code"], "too_large");

    // Exactly the limit, chunked, is stored whole: what downloads is what was sent.
    let body = pdf(64 * 1024);
    let mut stream = open_upload(&app, &counter, "vua.pdf", "Transfer-Encoding: chunked").await;
    send_chunked(&mut stream, &body, 7000).await;
    let (status, _, v) = read_response(&mut stream).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["file_type"], "pdf");
    assert_eq!(v["sha256"], hex(&Sha256::digest(&body)));
    let path = format!("/api/v1/files/{}", v["id"].as_str().expect("id"));
    let (status, _, got) = download(&app, Some(&counter), &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, body);

    // The type of a long body is told from its start: a program padded past the first
    // 8 KiB is still a program.
    let mut program = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    program.resize(20 * 1024, 0);
    let (status, _, e) = try_upload(&app, &counter, "virus.pdf", program).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert!(e["message"].as_str().expect("message").contains("EXE"), "{e}");
}

#[tokio::test]
async fn a_stored_file_altered_behind_the_servers_back_is_never_served() {
    let app = spawn_app_with(|_| {}).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let id = upload_ok(&app, &counter, "cccd.pdf", pdf(2000)).await;
    let (status, _, bytes) = download(&app, Some(&counter), &format!("/api/v1/files/{id}")).await;
    assert_eq!((status, bytes.len()), (StatusCode::OK, 2000));
    // Someone with access to the store's directory changes the bytes.
    let key = {
        let mut tx = app.test_db.db.begin_read().await.expect("read");
        motcua_store::files::get(&mut tx, &id)
            .await
            .expect("get")
            .expect("file")
            .object_key
    };
    let path = app.test_db.dir.path().join("objects").join(&key);
    let mut altered = std::fs::read(&path).expect("stored object");
    altered[1990] = b'X';
    std::fs::write(&path, &altered).expect("alter");
    let (status, _, body) = download(&app, Some(&counter), &format!("/api/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        !body.windows(8).any(|w| w == b"%PDF-1.4"),
        "none of the altered bytes are sent"
    );
}
