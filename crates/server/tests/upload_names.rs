//! The name an uploaded file is kept under: characters that change the direction of text,
//! or control it, are taken out as the file comes in, so that `anh-cccd\u{202e}gpj.exe.pdf`
//! (shown by a browser as `anh-cccdfdp.exe.jpg`) is kept, listed and downloaded under
//! what it is.

mod common;

use common::files::{PDF, download, upload};
use common::{sign_in, spawn_app, url_encode};
use reqwest::StatusCode;

#[tokio::test]
async fn direction_and_control_characters_are_taken_out_of_an_uploaded_name() {
    let app = spawn_app().await;
    let citizen = sign_in(&app, "congdan").await;
    let (status, v) = upload(&app, &citizen, &url_encode("anh-cccd\u{202e}gpj.exe.pdf"), PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], "anh-cccdgpj.exe.pdf");
    let id = v["id"].as_str().expect("id");
    // As stored.
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let stored = motcua_store::files::get(&mut tx, id)
        .await
        .expect("read")
        .expect("file");
    drop(tx);
    assert_eq!(stored.name, "anh-cccdgpj.exe.pdf");
    // As downloaded.
    let (status, headers, _) = download(&app, Some(&citizen), &format!("/api/v1/files/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let disposition = headers["content-disposition"].to_str().expect("ascii");
    assert!(
        disposition.contains("UTF-8''anh-cccdgpj.exe.pdf") && !disposition.contains("%E2%80%AE"),
        "{disposition}"
    );
    // Every embedding, override and isolate, the marks and the Arabic letter mark, and
    // C0/C1 controls.
    for c in [
        '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        '\u{200e}', '\u{200f}', '\u{061c}', '\u{0007}', '\u{0085}',
    ] {
        let (status, v) = upload(&app, &citizen, &url_encode(&format!("to{c}khai.pdf")), PDF).await;
        assert_eq!(status, StatusCode::CREATED, "U+{:04X}: {v}", u32::from(c));
        assert_eq!(v["name"], "tokhai.pdf", "U+{:04X}", u32::from(c));
    }
    // A name of nothing else is no name.
    let (status, e) = upload(&app, &citizen, &url_encode("\u{202e}\u{2066}"), PDF).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name")),
        "{e}"
    );
}
