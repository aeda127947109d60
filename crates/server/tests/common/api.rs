//! The JSON API as a signed-in person calls it: posts, reads, actions on a dossier, the
//! catalogue's procedures.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{CENTRE, Session, TestApp, call, with_csrf};

/// Posts JSON as `s` (with the CSRF header): status and body.
pub async fn post(app: &TestApp, s: &Session, path: &str, body: Value) -> (StatusCode, Value) {
    with_csrf(app, s, Method::POST, path, Some(body)).await
}

/// GETs `path` as `s`: status and body.
pub async fn get(app: &TestApp, s: &Session, path: &str) -> (StatusCode, Value) {
    call(app, s, Method::GET, path, None, None).await
}

/// PUTs JSON as `s` (with the CSRF header): status and body.
pub async fn put(app: &TestApp, s: &Session, path: &str, body: Value) -> (StatusCode, Value) {
    with_csrf(app, s, Method::PUT, path, Some(body)).await
}

/// DELETEs `path` as `s` (with the CSRF header): status and body.
pub async fn delete(app: &TestApp, s: &Session, path: &str) -> (StatusCode, Value) {
    with_csrf(app, s, Method::DELETE, path, None).await
}

/// Takes `action` (`transfer`, `assign`, `finish`, …) on dossier `code` as `s`: status and
/// answer.
pub async fn act(app: &TestApp, s: &Session, code: &str, action: &str, body: Value) -> (StatusCode, Value) {
    post(app, s, &format!("/api/v1/dossiers/{code}/actions/{action}"), body).await
}

/// Takes `action` on dossier `code` as `s`, which must succeed (200): the answer.
pub async fn act_ok(app: &TestApp, s: &Session, code: &str, action: &str, body: Value) -> Value {
    let (status, v) = act(app, s, code, action, body).await;
    assert_eq!(status, StatusCode::OK, "{action} on {code}: {v}");
    v
}

/// Dossier `code` as `s` sees it (200).
pub async fn dossier(app: &TestApp, s: &Session, code: &str) -> Value {
    let (status, d) = get(app, s, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    d
}

/// The current content of procedure `code`: its applicants, checklist, fees, ….
pub async fn procedure_content(app: &TestApp, code: &str) -> Value {
    let (status, v) = app.get_json(&format!("/api/v1/procedures/{code}")).await;
    assert_eq!(status, 200, "{v}");
    v["content"].clone()
}

/// A procedure of `agency` received at the centre.
pub async fn procedure_of(app: &TestApp, agency: &str) -> String {
    let (status, v) = app
        .get_json(&format!("/api/v1/procedures?agency={agency}&at_centre=true&limit=1"))
        .await;
    assert_eq!(status, 200, "{v}");
    v["items"][0]["code"].as_str().expect("code").to_owned()
}

/// The code of the dossier an API answer describes.
pub fn code_of(v: &Value) -> String {
    v["code"].as_str().expect("code").to_owned()
}

/// The administrator `admin` creates a counter officer `username` at the centre (201):
/// the account's one-time password.
pub async fn create_counter_officer(app: &TestApp, admin: &Session, username: &str) -> String {
    let (status, created) = post(
        app,
        admin,
        "/api/v1/admin/users",
        json!({
            "username": username, "display_name": "Người Mới", "email": "moi@example.invalid",
            "grants": [{"role": "counter_officer", "agency": CENTRE}]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["one_time_password"]
        .as_str()
        .expect("one-time password")
        .to_owned()
}
