//! Pages as a browser sees them, redirects shown rather than followed.

use std::collections::BTreeSet;

use reqwest::{Client, StatusCode};

use super::{Session, TestApp, header};

/// What the HTML of a page may weigh: under 100 KB.
pub const PAGE_BUDGET: usize = 100_000;

/// A browser that shows redirects instead of following them.
pub fn browser() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Opens `path` with the session cookie `cookie` (anonymous with `None`): status, where it
/// redirects to, body.
pub async fn visit(app: &TestApp, cookie: Option<&str>, path: &str) -> (StatusCode, Option<String>, String) {
    let mut req = browser().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.expect("page");
    let status = r.status();
    let location = header(&r, "location");
    (status, location, r.text().await.expect("text"))
}

/// A page as `s` sees it (anonymous with `None`): status, and the HTML, or where a
/// redirect sends the browser.
pub async fn page(app: &TestApp, s: Option<&Session>, path: &str) -> (StatusCode, String) {
    let (status, location, body) = visit(app, s.map(|s| s.cookie.as_str()), path).await;
    if status.is_redirection() {
        (status, location.unwrap_or_default())
    } else {
        (status, body)
    }
}

/// A page that must render (200) for `s`.
pub async fn page_ok(app: &TestApp, s: &Session, path: &str) -> String {
    let (status, body) = page(app, Some(s), path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

/// A page that must render (200) for `s` within [`PAGE_BUDGET`].
pub async fn light_page_ok(app: &TestApp, s: &Session, path: &str) -> String {
    let body = page_ok(app, s, path).await;
    assert!(body.len() < PAGE_BUDGET, "{path} weighs {} bytes", body.len());
    body
}

/// The dossier codes a list page links to.
pub fn listed_codes(html: &str) -> BTreeSet<String> {
    html.split("href=\"/ho-so/")
        .skip(1)
        .map(|s| s.split('"').next().expect("code").to_owned())
        .collect()
}
