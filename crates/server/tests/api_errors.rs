//! Every error of the API is the documented JSON shape (issue 19), also the ones axum
//! answers before a handler runs: a body over the route's limit, a method the route does
//! not take; and every 429 says when to come back.

mod common;

use common::api::post;

use common::{sign_in, spawn_app};
use reqwest::StatusCode;
use serde_json::Value;

async fn json_error(r: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = r.status();
    let headers = r.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = r.text().await.expect("body");
    assert!(
        content_type.starts_with("application/json"),
        "{status} {content_type}: {text}"
    );
    let body: Value = serde_json::from_str(&text).expect("json");
    assert!(body["code"].is_string() && body["message"].is_string(), "{body}");
    (status, headers, body)
}

#[tokio::test]
async fn body_limit_and_method_refusals_are_json() {
    let app = spawn_app().await;
    let counter = sign_in(&app, "tiepnhan").await;
    // Over the route's body limit (256 KiB in tests), on a route that reads raw bytes and on
    // one that reads JSON.
    let big = vec![b'x'; 5 * 1024 * 1024];
    for path in [
        "/api/v1/dossiers/000.00.16.H43-261102-0001/actions/accept",
        "/api/v1/auth/login",
    ] {
        let r = app
            .client
            .post(app.url(path))
            .header("cookie", &counter.cookie)
            .header("x-csrf-token", &counter.csrf)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .expect("post");
        let (status, _, body) = json_error(r).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        assert_eq!(body["code"], "too_large", "{body}");
    }
    // A method the route does not take: 405, JSON, and the methods it does take.
    let r = app
        .client
        .delete(app.url("/api/v1/procedures"))
        .send()
        .await
        .expect("delete");
    let (status, headers, body) = json_error(r).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert!(headers.contains_key("allow"), "{headers:?}");
    // A handler's own error is left as it is.
    let (status, body) = post(&app, &counter, "/api/v1/dossiers", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_ne!(body["code"], "invalid_request", "the handler's code is kept: {body}");
}

#[tokio::test]
async fn a_nul_in_an_address_or_a_json_string_is_a_400_on_every_backend() {
    // Found by schemathesis on PostgreSQL, which cannot compare or store text with a NUL:
    // `GET /api/v1/admin/audit?actor=…%00…` answered 500.
    let app = spawn_app().await;
    let admin = sign_in(&app, "quantri").await;
    for path in [
        "/api/v1/admin/audit?actor=%F1%89%A7%B0%00v%17y",
        "/api/v1/admin/tokens/ab%00cd",
        "/api/v1/procedures?q=gi%00a",
    ] {
        let r = app
            .client
            .get(app.url(path))
            .header("cookie", &admin.cookie)
            .send()
            .await
            .expect("get");
        let (status, _, body) = json_error(r).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["code"], "invalid_parameter", "{body}");
    }
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(r#"{"username": "quantri\u0000", "password": "x"}"#)
        .send()
        .await
        .expect("post");
    let (status, _, body) = json_error(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid_json", "{body}");
}
