//! The forms as the browser sends them by itself, with JavaScript off: login (good and bad
//! password, lock-out, `next`), logout (CSRF), registration and its confirmation, online
//! filing with files as multipart, the counter's intake, tracking, the page for steps that
//! need the script; and a scan of every template: a form posts, unless it is a GET form
//! without any password or personal-data field, so nothing typed lands in an address.

mod common;

use std::sync::{Arc, Mutex};

use common::api::{create_counter_officer, dossier, procedure_content};
use common::files::{PDF, upload_pdf};
use common::pages::browser;
use common::{LLTP, MONDAY, Session, TestApp, header, sign_in, spawn_app_at, spawn_app_at_with};
use motcua_server::bootstrap::DEMO_PASSWORD;
use reqwest::StatusCode;
use serde_json::Value;

/// An answer to a form post, not following redirects.
struct Answer {
    status: StatusCode,
    location: String,
    cookies: Vec<String>,
    body: String,
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status();
    let location = header(&r, "location").unwrap_or_default();
    let cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().expect("ascii").to_owned())
        .collect();
    Answer {
        status,
        location,
        cookies,
        body: r.text().await.expect("text"),
    }
}

/// Posts `fields` as `application/x-www-form-urlencoded`, as a browser sends a form.
async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    let mut req = browser().post(app.url(path)).form(fields);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    answer(req.send().await.expect("post")).await
}

/// A GET as the browser makes it (cookie, no redirects followed).
async fn browse(app: &TestApp, path: &str, cookie: Option<&str>) -> Answer {
    let mut req = browser().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    answer(req.send().await.expect("get")).await
}

/// One part of a multipart body: a text field, or a file with its name.
enum Part {
    Text(String, String),
    File(String, &'static str, &'static [u8]),
}

fn text(name: impl Into<String>, value: impl Into<String>) -> Part {
    Part::Text(name.into(), value.into())
}

/// Posts `parts` as `multipart/form-data`, written out as Chromium does.
async fn post_multipart(app: &TestApp, path: &str, cookie: &str, parts: &[Part]) -> Answer {
    let boundary = "----WebKitFormBoundaryNoScript7MA4YWxk";
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match p {
            Part::Text(name, value) => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
                body.extend_from_slice(value.as_bytes());
            }
            Part::File(name, file, bytes) => {
                body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
            }
        }
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let r = browser()
        .post(app.url(path))
        .header("cookie", cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .expect("post");
    answer(r).await
}

/// The `name=value` pair of a `Set-Cookie` header.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().expect("pair").to_owned()
}

async fn me(app: &TestApp, cookie: &str) -> StatusCode {
    browse(app, "/api/v1/auth/me", Some(cookie)).await.status
}

/// Checks a form's opening tag in `html` (found by `marker`): it posts to `action`.
fn assert_posts_to(html: &str, marker: &str, action: &str) {
    let at = html.find(marker).unwrap_or_else(|| panic!("{marker} in {html}"));
    let start = html[..at].rfind("<form").expect("form tag");
    let tag = &html[start..start + html[start..].find('>').expect("tag end")];
    assert!(tag.contains(r#"method="post""#), "{tag}");
    assert!(tag.contains(&format!(r#"action="{action}""#)), "{tag}");
}

// ---------------------------------------------------------------- login, logout

#[tokio::test]
async fn login_form_posts_and_signs_in_without_script() {
    let app = spawn_app_at(MONDAY).await;
    let form = browse(&app, "/dang-nhap?next=%2Fquay%3Ftab%3Dhen", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_posts_to(&form.body, r#"data-api="/api/v1/auth/login""#, "/dang-nhap");
    assert!(
        form.body
            .contains(r#"<input type="hidden" name="next" value="/quay?tab=hen" data-skip>"#),
        "{}",
        form.body
    );

    let signed_in = post_form(
        &app,
        "/dang-nhap",
        None,
        &[
            ("next", "/quay?tab=hen"),
            ("username", "tiepnhan"),
            ("password", DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    assert_eq!(signed_in.location, "/sau-dang-nhap?next=%2Fquay%3Ftab%3Dhen");
    let session = signed_in
        .cookies
        .iter()
        .find(|c| c.starts_with("motcua_session=") && !c.starts_with("motcua_session=;"))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let cookie = pair(session);
    assert_eq!(me(&app, &cookie).await, StatusCode::OK);
    // The page asked for, as after the script's login.
    let on = browse(&app, &signed_in.location, Some(&cookie)).await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    assert_eq!(on.location, "/quay?tab=hen");

    // `next` pointing elsewhere is not followed: the person's own home instead.
    let elsewhere = post_form(
        &app,
        "/dang-nhap",
        None,
        &[
            ("next", "//evil.example/"),
            ("username", "tiepnhan"),
            ("password", DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER);
    assert_eq!(elsewhere.location, "/sau-dang-nhap");

    // Login CSRF: the same form posted from another site signs nobody in; from this site
    // (the browser says so in Origin and Sec-Fetch-Site) it does.
    let host = app.base.trim_start_matches("http://").to_owned();
    let fields = [("username", "tiepnhan"), ("password", DEMO_PASSWORD)];
    for (origin, site, ok) in [
        ("https://evil.example", "cross-site", false),
        ("https://evil.example", "", false),
        ("null", "", false),
        ("", "cross-site", false),
        (app.base.as_str(), "same-origin", true),
    ] {
        let mut req = browser().post(app.url("/dang-nhap")).form(&fields);
        if !origin.is_empty() {
            req = req.header("origin", origin);
        }
        if !site.is_empty() {
            req = req.header("sec-fetch-site", site);
        }
        let a = answer(req.send().await.expect("post")).await;
        let session = a
            .cookies
            .iter()
            .any(|c| c.starts_with("motcua_session=") && !c.starts_with("motcua_session=;"));
        assert_eq!(session, ok, "{origin} {site} ({host}): {} {}", a.status, a.body);
        if !ok {
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin} {site}");
        }
    }
    // Asking for a registration code again is a pre-session form too: another site cannot
    // make a visitor's browser send codes.
    let resend = browser()
        .post(app.url("/dang-ky/gui-lai-ma"))
        .form(&[("registration_id", "r-1"), ("d", "email"), ("c", "a@example.vn")])
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("post");
    assert_eq!(resend.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_password_comes_back_with_the_message_and_lockout_holds() {
    let app = spawn_app_at_with(MONDAY, |c| c.login_max_failures = 3).await;
    let wrong = post_form(
        &app,
        "/dang-nhap",
        None,
        &[("username", "tiepnhan"), ("password", "not-the-password")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.cookies.is_empty(), "no session: {:?}", wrong.cookies);
    assert!(
        wrong.body.contains("Tên đăng nhập hoặc mật khẩu không đúng."),
        "{}",
        wrong.body
    );
    // The form again, with the name typed and never the password.
    assert!(wrong.body.contains(r#"value="tiepnhan""#));
    assert!(!wrong.body.contains("not-the-password"));
    assert_posts_to(&wrong.body, r#"data-api="/api/v1/auth/login""#, "/dang-nhap");

    for _ in 0..2 {
        post_form(
            &app,
            "/dang-nhap",
            None,
            &[("username", "tiepnhan"), ("password", "still-wrong")],
        )
        .await;
    }
    // Locked now: even the right password is refused, with the reason.
    let locked = post_form(
        &app,
        "/dang-nhap",
        None,
        &[("username", "tiepnhan"), ("password", DEMO_PASSWORD)],
    )
    .await;
    assert_eq!(locked.status, StatusCode::LOCKED, "{}", locked.body);
    assert!(locked.body.contains("Tài khoản tạm khóa"), "{}", locked.body);
    assert!(locked.cookies.is_empty());
}

#[tokio::test]
async fn logout_posts_with_the_csrf_token() {
    let app = spawn_app_at(MONDAY).await;
    let s = sign_in(&app, "tiepnhan").await;
    let page = browse(&app, "/quay", Some(&s.cookie)).await;
    assert_posts_to(&page.body, r#"data-api="/api/v1/auth/logout""#, "/dang-xuat");
    assert!(page.body.contains(&format!(
        r#"<input type="hidden" name="csrf_token" value="{}" data-skip>"#,
        s.csrf
    )));

    // Without the token (a form on another site), nothing happens.
    let forged = post_form(&app, "/dang-xuat", Some(&s.cookie), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let wrong = post_form(&app, "/dang-xuat", Some(&s.cookie), &[("csrf_token", "not-it")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(me(&app, &s.cookie).await, StatusCode::OK);

    let out = post_form(&app, "/dang-xuat", Some(&s.cookie), &[("csrf_token", &s.csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location, "/");
    assert!(
        out.cookies
            .iter()
            .any(|c| c.starts_with("motcua_session=;") && c.contains("Max-Age=0")),
        "{:?}",
        out.cookies
    );
    assert_eq!(me(&app, &s.cookie).await, StatusCode::UNAUTHORIZED);
    // A second press (session already ended) just clears the cookie again.
    let again = post_form(&app, "/dang-xuat", Some(&s.cookie), &[("csrf_token", &s.csrf)]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_forced_password_change_works_without_script() {
    let app = spawn_app_at(MONDAY).await;
    let admin = sign_in(&app, "quantri").await;
    let one_time = create_counter_officer(&app, &admin, "moi.quay").await;
    let signed_in = post_form(
        &app,
        "/dang-nhap",
        None,
        &[("next", "/quay"), ("username", "moi.quay"), ("password", &one_time)],
    )
    .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let cookie = pair(signed_in.cookies.first().expect("session"));
    let on = browse(&app, &signed_in.location, Some(&cookie)).await;
    assert_eq!(on.location, "/doi-mat-khau?next=%2Fsau-dang-nhap%3Fnext%3D%252Fquay");
    let form = browse(&app, &on.location, Some(&cookie)).await;
    assert_posts_to(&form.body, r#"data-api="/api/v1/auth/password""#, "/doi-mat-khau");
    let marker = r#"name="csrf_token" value=""#;
    let at = form.body.find(marker).expect("token field") + marker.len();
    let csrf = form.body[at..at + form.body[at..].find('"').expect("end")].to_owned();

    let wrong = post_form(
        &app,
        "/doi-mat-khau",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("next", "/quay"),
            ("current_password", "not-the-one-time"),
            ("new_password", "mat-khau-moi-cua-quay-1"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("Mật khẩu hiện tại không đúng."), "{}", wrong.body);
    assert!(!wrong.body.contains("not-the-one-time") && !wrong.body.contains("mat-khau-moi-cua-quay-1"));

    let forged = post_form(
        &app,
        "/doi-mat-khau",
        Some(&cookie),
        &[
            ("current_password", &one_time),
            ("new_password", "mat-khau-moi-cua-quay-1"),
        ],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let changed = post_form(
        &app,
        "/doi-mat-khau",
        Some(&cookie),
        &[
            ("csrf_token", &csrf),
            ("next", "/quay"),
            ("current_password", &one_time),
            ("new_password", "mat-khau-moi-cua-quay-1"),
        ],
    )
    .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
    assert_eq!(changed.location, "/quay");
    assert_eq!(browse(&app, "/quay", Some(&cookie)).await.status, StatusCode::OK);
}

// ---------------------------------------------------------------- registration

/// Posts the registration form (`/dang-ky`) with JavaScript off.
async fn register_form(app: &TestApp, name: &str, email: &str, phone: &str, password: &str) -> Answer {
    post_form(
        app,
        "/dang-ky",
        None,
        &[
            ("display_name", name),
            ("email", email),
            ("phone", phone),
            ("password", password),
        ],
    )
    .await
}

/// What the SMS gateway received.
#[derive(Clone, Default)]
struct Sms(Arc<Mutex<Vec<Value>>>);

impl Sms {
    async fn start() -> (Sms, String) {
        let sms = Sms::default();
        let got = sms.0.clone();
        let gateway = axum::Router::new().route(
            "/send",
            axum::routing::post(move |body: String| {
                let got = got.clone();
                async move {
                    got.lock()
                        .expect("lock")
                        .push(serde_json::from_str(&body).expect("json"));
                    axum::http::StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/send", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, gateway).await;
        });
        (sms, url)
    }

    /// The six-digit code of the last message.
    fn last_code(&self) -> String {
        let got = self.0.lock().expect("lock");
        let text = got.last().expect("a message")["text"]
            .as_str()
            .expect("text")
            .to_owned();
        text.split(|c: char| !c.is_ascii_digit())
            .find(|r| r.len() == 6)
            .expect("code")
            .to_owned()
    }

    fn count(&self) -> usize {
        self.0.lock().expect("lock").len()
    }
}

/// `?id=…` of a confirmation address.
fn query_param(location: &str, key: &str) -> String {
    let query = location.split_once('?').expect("query").1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn registration_and_confirmation_work_without_script() {
    let (sms, url) = Sms::start().await;
    let app = spawn_app_at_with(MONDAY, |c| {
        c.sms_url = url;
        c.sms_body_template = r#"{"to":"{phone}","text":"{message}"}"#.to_owned();
    })
    .await;
    let form = browse(&app, "/dang-ky", None).await;
    assert_posts_to(&form.body, r#"data-api="/api/v1/citizens/register""#, "/dang-ky");

    // Refused (password too short): the form comes back with the message and what was
    // typed, except the password.
    let refused = register_form(&app, "Lê Thị Hoa", "", "0912345670", "ngan").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("ít nhất 10 ký tự"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="Lê Thị Hoa""#) && refused.body.contains(r#"value="0912345670""#));
    assert!(!refused.body.contains(r#"value="ngan""#));
    assert_eq!(sms.count(), 0);

    let sent = register_form(&app, "Lê Thị Hoa", "", "0912345670", "mat-khau-cua-hoa-2026").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert!(sent.location.starts_with("/dang-ky/xac-nhan?id="), "{}", sent.location);
    assert!(!sent.location.contains("mat-khau") && !sent.location.contains("0912345670"));
    assert_eq!(query_param(&sent.location, "c"), "sms");
    let id = query_param(&sent.location, "id");
    let code = sms.last_code();

    let step2 = browse(&app, &sent.location, None).await;
    assert_eq!(step2.status, StatusCode::OK);
    assert_posts_to(
        &step2.body,
        r#"data-api="/api/v1/citizens/confirm""#,
        "/dang-ky/xac-nhan",
    );
    assert_posts_to(
        &step2.body,
        r#"data-api="/api/v1/citizens/resend""#,
        "/dang-ky/gui-lai-ma",
    );

    let wrong_code = if code == "000000" { "000001" } else { "000000" };
    let wrong = post_form(
        &app,
        "/dang-ky/xac-nhan",
        None,
        &[
            ("registration_id", &id),
            ("code", wrong_code),
            ("d", "0********0"),
            ("c", "sms"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("Mã xác nhận không đúng"), "{}", wrong.body);
    assert!(wrong.body.contains(&format!(r#"name="registration_id" value="{id}""#)));
    assert!(wrong.cookies.is_empty());

    // Asking for a new code too soon says why.
    let soon = post_form(
        &app,
        "/dang-ky/gui-lai-ma",
        None,
        &[("registration_id", &id), ("d", "0********0"), ("c", "sms")],
    )
    .await;
    assert_eq!(soon.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(soon.body.contains("giây nữa"), "{}", soon.body);

    let confirmed = post_form(
        &app,
        "/dang-ky/xac-nhan",
        None,
        &[
            ("registration_id", &id),
            ("code", &code),
            ("d", "0********0"),
            ("c", "sms"),
        ],
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", confirmed.body);
    assert_eq!(confirmed.location, "/ca-nhan");
    let cookie = pair(
        confirmed
            .cookies
            .iter()
            .find(|c| c.starts_with("motcua_session="))
            .expect("session"),
    );
    let mine = browse(&app, "/ca-nhan", Some(&cookie)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("Lê Thị Hoa"));
}

// ---------------------------------------------------------------- online filing

/// The filing form's fields for `content`, as the browser sends them: the CSRF token,
/// every row's hidden index, the applicant, the delivery.
fn filing_fields(s: &Session, content: &Value, name: &str) -> Vec<Part> {
    let kind = content["applicants"][0].as_str().expect("kind").to_owned();
    let id_number = if kind == "organisation" {
        "4500123456"
    } else {
        "058190000123"
    };
    let mut parts = vec![
        text("csrf_token", s.csrf.clone()),
        text("procedure", LLTP),
        text("applicant.kind", kind),
        text("applicant.name", name),
        text("applicant.id_number", id_number),
        text("applicant.phone", "0912345678"),
        text("applicant.email", ""),
        text("applicant.address", "Phan Rang - Tháp Chàm"),
    ];
    for i in 0..content["documents"].as_array().expect("documents").len() {
        parts.push(text(format!("documents.{i}.index"), i.to_string()));
    }
    parts.push(text("delivery", "post"));
    parts.push(text("note", "Nộp khi trình duyệt tắt JavaScript"));
    parts
}

/// A file chosen in row `i`'s file input.
fn file(i: usize, name: &'static str, bytes: &'static [u8]) -> Part {
    Part::File(format!("documents.{i}.file"), name, bytes)
}

#[tokio::test]
async fn online_filing_with_uploads_works_without_script() {
    let app = spawn_app_at(MONDAY).await;
    let citizen = sign_in(&app, "congdan").await;
    let content = procedure_content(&app, LLTP).await;
    let required: Vec<usize> = content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, _)| i)
        .collect();
    assert!(!required.is_empty());
    let path = format!("/ca-nhan/nop/{LLTP}");
    let form = browse(&app, &path, Some(&citizen.cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_posts_to(&form.body, r#"data-api="/api/v1/dossiers""#, &path);
    assert!(form.body.contains(r#"enctype="multipart/form-data""#));
    assert!(form.body.contains(r#"name="documents.0.file""#));

    // Signed out (an expired session): to the login page, which comes back here.
    let anonymous = post_multipart(&app, &path, "", &filing_fields(&citizen, &content, "X")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location, "/dang-nhap?next=%2Fca-nhan%2Fnop%2F1.900141");

    // Without the CSRF token: refused, nothing filed.
    let mut forged = filing_fields(&citizen, &content, "Nguyễn Văn Dân");
    forged.remove(0);
    let refused = post_multipart(&app, &path, &citizen.cookie, &forged).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // No file at all: refused with the list of what is missing, what was typed kept.
    let parts = filing_fields(&citizen, &content, "Nguyễn Văn Dân");
    let missing = post_multipart(&app, &path, &citizen.cookie, &parts).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", missing.body);
    assert!(missing.body.contains("Còn thiếu"), "{}", missing.body);
    // Every missing document at once: in the summary next to «Nộp hồ sơ», each linking to
    // its file field, which is marked invalid with its message; the first takes the focus.
    let summary = &missing.body[missing.body.find(r#"id="error-summary""#).expect("summary")..];
    let summary = &summary[..summary.find("</div>").expect("end")];
    assert!(
        summary.contains(&format!("{} chỗ cần sửa", required.len())),
        "{summary}"
    );
    for &i in &required {
        assert!(summary.contains(&format!(r##"href="#doc-{i}""##)), "{summary}");
        assert!(
            missing
                .body
                .contains(&format!(r#"aria-invalid="true" aria-describedby="doc-{i}-error""#)),
            "doc-{i} is marked"
        );
        assert!(missing.body.contains(&format!(r#"id="doc-{i}-error""#)));
    }
    let first_doc = format!(r#"aria-describedby="doc-{}-error" autofocus"#, required[0]);
    assert!(
        missing.body.contains(&first_doc),
        "the first faulty field takes the focus"
    );
    assert!(
        missing.body.find(r#"id="error-summary""#) > missing.body.find(r#"id="doc-0""#),
        "the summary stands by the action, after the fields"
    );
    assert!(missing.body.contains(r#"value="Nguyễn Văn Dân""#));
    assert!(missing.body.contains(r#"value="post" checked"#));
    assert!(missing.body.contains("Nộp khi trình duyệt tắt JavaScript</textarea>"));

    // The first required file, but no name: refused; the file already stored comes back
    // as a hidden id, so it need not be chosen again.
    let first = required[0];
    let mut parts = filing_fields(&citizen, &content, "");
    parts.push(file(first, "căn cước.pdf", PDF));
    let nameless = post_multipart(&app, &path, &citizen.cookie, &parts).await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nameless.body);
    assert!(nameless.body.contains("không được để trống"), "{}", nameless.body);
    let marker = format!(r#"name="documents.{first}.files[]" value=""#);
    let at = nameless.body.find(&marker).expect("the stored file is kept") + marker.len();
    let kept = nameless.body[at..at + nameless.body[at..].find('"').expect("end")].to_owned();
    assert!(nameless.body.contains("căn cước.pdf"));

    // A file of a type not accepted is refused with its name.
    let mut parts = filing_fields(&citizen, &content, "Nguyễn Văn Dân");
    parts.push(text(format!("documents.{first}.files[]"), kept.clone()));
    parts.push(file(first, "ghi-chu.txt", b"plain text, not a scan"));
    let bad = post_multipart(&app, &path, &citizen.cookie, &parts).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(bad.body.contains("ghi-chu.txt"), "{}", bad.body);

    // Someone else's stored file cannot be named.
    let other = sign_in(&app, "tiepnhan").await;
    let theirs = upload_pdf(&app, &other, "cua-nguoi-khac.pdf").await;

    // Then: the kept file and the other required ones.
    let mut parts = filing_fields(&citizen, &content, "Nguyễn Văn Dân");
    parts.push(text(format!("documents.{first}.files[]"), kept));
    parts.push(text(format!("documents.{first}.files[]"), theirs.clone()));
    for &i in &required[1..] {
        parts.push(file(i, "giấy tờ.pdf", PDF));
    }
    let filed = post_multipart(&app, &path, &citizen.cookie, &parts).await;
    check_filed(&app, &citizen, &filed, &required).await;
    let code = filed
        .location
        .trim_start_matches("/ca-nhan/ho-so/")
        .trim_end_matches("?moi=1");
    let v = dossier(&app, &citizen, code).await;
    assert!(!v["files"].to_string().contains(&theirs), "{v}");
}

async fn check_filed(app: &TestApp, citizen: &Session, filed: &Answer, required: &[usize]) {
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.body);
    let code = filed
        .location
        .strip_prefix("/ca-nhan/ho-so/")
        .and_then(|r| r.strip_suffix("?moi=1"))
        .unwrap_or_else(|| panic!("{}", filed.location))
        .to_owned();
    let v = dossier(app, citizen, &code).await;
    assert_eq!(v["channel"], "online");
    assert_eq!(v["status_code"], 1);
    assert_eq!(v["applicant"]["name"], "Nguyễn Văn Dân");
    assert_eq!(v["delivery"], "post");
    assert_eq!(v["files"].as_array().expect("files").len(), required.len());
    for d in v["documents"].as_array().expect("documents") {
        assert!(!d["files"].as_array().expect("files").is_empty(), "{d}");
    }
    let page = browse(app, &filed.location, Some(&citizen.cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&code));
}

// ---------------------------------------------------------------- counter, tracking

/// The intake form's fields, every required row ticked with its counts.
fn intake_fields(s: &Session, content: &Value, name: &str, outcome: &str) -> Vec<(String, String)> {
    let kind = content["applicants"][0].as_str().expect("kind").to_owned();
    let id_number = if kind == "organisation" {
        "4500123456"
    } else {
        "058190000456"
    };
    let mut f: Vec<(String, String)> = vec![
        ("csrf_token".into(), s.csrf.clone()),
        ("procedure".into(), LLTP.into()),
        ("province".into(), "000.00.00.H43".into()),
        ("accept".into(), "true".into()),
        ("applicant.kind".into(), kind),
        ("applicant.name".into(), name.into()),
        ("applicant.id_number".into(), id_number.into()),
        ("applicant.phone".into(), "0912 345 678".into()),
        ("applicant.email".into(), String::new()),
        ("applicant.address".into(), "12 Thống Nhất".into()),
    ];
    for (i, d) in content["documents"].as_array().expect("documents").iter().enumerate() {
        if d["required"] == true {
            f.push((format!("documents.{i}.index"), i.to_string()));
        }
        f.push((format!("documents.{i}.originals"), d["originals"].to_string()));
        f.push((format!("documents.{i}.copies"), d["copies"].to_string()));
    }
    f.push(("sets".into(), content["sets"].to_string()));
    f.push(("fee_option".into(), String::new()));
    f.push(("channel".into(), "counter".into()));
    f.push(("delivery".into(), "counter".into()));
    f.push(("note".into(), String::new()));
    f.push(("outcome".into(), outcome.into()));
    f
}

fn refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[tokio::test]
async fn counter_intake_and_tracking_work_without_script() {
    let app = spawn_app_at(MONDAY).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let content = procedure_content(&app, LLTP).await;
    let path = format!("/quay/tiep-nhan/{LLTP}");
    let form = browse(&app, &path, Some(&counter.cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_posts_to(&form.body, r#"id="intake""#, &path);
    assert!(form.body.contains(r#"name="outcome" value="register""#));

    // Refused (no name): the form again with the message and what was typed.
    let mut fields = intake_fields(&counter, &content, "", "accept");
    let refused = post_form(&app, &path, Some(&counter.cookie), &refs(&fields)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("không được để trống"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="12 Thống Nhất""#));

    // Accepted, with a scan of the first ticked row sent as multipart.
    fields = intake_fields(&counter, &content, "Trần Thị Bình", "accept");
    let first = content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .position(|d| d["required"] == true)
        .expect("a required document");
    let mut parts: Vec<Part> = fields.iter().map(|(k, v)| text(k.clone(), v.clone())).collect();
    parts.push(file(first, "bản quét.pdf", PDF));
    let accepted = post_multipart(&app, &path, &counter.cookie, &parts).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let code = accepted
        .location
        .strip_prefix("/quay/bien-nhan/")
        .unwrap_or_else(|| panic!("{}", accepted.location))
        .to_owned();
    let v = dossier(&app, &counter, &code).await;
    assert_eq!(v["channel"], "counter");
    assert_eq!(v["status_code"], 2, "accepted at once");
    assert_eq!(v["applicant"]["name"], "Trần Thị Bình");
    assert_eq!(v["applicant"]["phone"], "0912345678");
    assert_eq!(v["files"].as_array().expect("files").len(), 1);
    let receipt = browse(&app, &accepted.location, Some(&counter.cookie)).await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert!(receipt.body.contains("Trần Thị Bình"));

    // «Chỉ ghi nhận để kiểm tra»: registered only, on to the dossier page.
    fields = intake_fields(&counter, &content, "Phạm Văn Kiểm", "register");
    let registered = post_form(&app, &path, Some(&counter.cookie), &refs(&fields)).await;
    assert_eq!(registered.status, StatusCode::SEE_OTHER, "{}", registered.body);
    let other = registered.location.strip_prefix("/ho-so/").expect("dossier page");
    assert_eq!(dossier(&app, &counter, other).await["status_code"], 1);

    // Without the token: refused, nothing filed.
    fields.retain(|(k, _)| k != "csrf_token");
    let forged = post_form(&app, &path, Some(&counter.cookie), &refs(&fields)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Tracking is a GET form of the code and its tracking code only.
    let track = browse(&app, "/tra-cuu", None).await;
    assert!(
        track
            .body
            .contains(r#"<form id="track" class="stack narrow" method="get" action="/tra-cuu">"#)
    );
    let secret = v["tracking_secret"].as_str().expect("secret");
    let found = browse(&app, &format!("/tra-cuu?code={code}&secret={secret}"), None).await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(found.body.contains(&format!("Hồ sơ {code}")), "{}", found.body);
    assert!(
        found.body.contains("id=\"track-status\" data-status=\"2\""),
        "{}",
        found.body
    );
    assert!(!found.body.contains("Trần Thị Bình"), "tracking shows no personal data");
}

#[tokio::test]
async fn steps_that_need_the_script_say_so() {
    let app = spawn_app_at(MONDAY).await;
    let admin = sign_in(&app, "quantri").await;
    let users = browse(&app, "/quan-tri/nguoi-dung", Some(&admin.cookie)).await;
    assert_eq!(users.status, StatusCode::OK);
    assert_posts_to(&users.body, r#"data-api="/api/v1/admin/users""#, "/can-javascript");
    assert!(users.body.contains("<noscript>"));
    let answer = post_form(
        &app,
        "/can-javascript",
        Some(&admin.cookie),
        &[("username", "someone"), ("display_name", "Ai đó")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer.body.contains("Chức năng này cần bật JavaScript"),
        "{}",
        answer.body
    );
}

// ---------------------------------------------------------------- every template

/// Field names that carry a secret or personal data: such a form must never be a GET.
const PERSONAL: &[&str] = &[
    "password",
    "username",
    "display_name",
    "name",
    "id_number",
    "citizen_id",
    "phone",
    "email",
    "address",
    "code",
];

#[test]
fn every_form_posts_unless_it_is_a_harmless_get() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut pending = vec![root.clone()];
    let mut checked = 0;
    let mut problems = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("templates") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let html = std::fs::read_to_string(&path).expect("read");
            let name = path.strip_prefix(&root).expect("under root").display().to_string();
            let mut rest = html.as_str();
            while let Some(start) = rest.find("<form") {
                let form = &rest[start..];
                let end = form.find("</form>").unwrap_or(form.len());
                let body = &form[..end];
                let tag = &body[..body.find('>').unwrap_or(body.len())];
                checked += 1;
                let has = |attr: &str| tag.contains(&format!(" {attr}"));
                if has(r#"method="post""#) {
                    if !has("action=\"") {
                        problems.push(format!("{name}: a POST form without an action: {tag}"));
                    }
                } else if has(r#"method="get""#) {
                    let personal = body.contains(r#"type="password""#)
                        || PERSONAL
                            .iter()
                            .any(|f| body.contains(&format!(r#"name="{f}""#)) || body.contains(&format!(r#".{f}""#)));
                    // The tracking form asks for the dossier's code and its tracking code,
                    // which the receipt's QR code also carries in its address: not personal.
                    let tracking = tag.contains(r#"action="/tra-cuu""#);
                    if personal && !tracking {
                        problems.push(format!("{name}: a GET form with personal data: {tag}"));
                    }
                } else {
                    problems.push(format!("{name}: a form without method=\"post\" or \"get\": {tag}"));
                }
                rest = &form[end..];
            }
        }
    }
    assert!(checked > 30, "found only {checked} forms under {}", root.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn counter_intake_without_script_files_for_an_authorised_person() {
    let app = spawn_app_at(MONDAY).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let content = procedure_content(&app, LLTP).await;
    let path = format!("/quay/tiep-nhan/{LLTP}");
    let form = browse(&app, &path, Some(&counter.cookie)).await;
    assert!(form.body.contains(r#"name="submitter.authorisation.copies""#));
    let mut fields = intake_fields(&counter, &content, "Trần Thị Bình", "accept");
    fields.push(("submitter.name".to_owned(), "Lê Văn Cường".to_owned()));
    fields.push(("submitter.id_number".to_owned(), "058190000789".to_owned()));
    // No authorisation received: the form comes back, naming it, with what was typed.
    let refused = post_form(&app, &path, Some(&counter.cookie), &refs(&fields)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("văn bản ủy quyền"), "{}", refused.body);
    assert!(refused.body.contains(r#"value="Lê Văn Cường""#));
    fields.push(("submitter.authorisation.copies".to_owned(), "1".to_owned()));
    let accepted = post_form(&app, &path, Some(&counter.cookie), &refs(&fields)).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let code = accepted
        .location
        .strip_prefix("/quay/bien-nhan/")
        .expect("receipt page");
    let v = dossier(&app, &counter, code).await;
    assert_eq!(v["submitter"]["name"], "Lê Văn Cường", "{v}");
    assert_eq!(v["applicant"]["name"], "Trần Thị Bình");
}

// ---------------------------------------------------------------- rule versions

/// The administrator loads a rule version from a file with the page's own form (multipart,
/// CSRF token in the body): loaded, the page announces it; a bad file comes back with
/// every problem; a post without the token is refused.
#[tokio::test]
async fn a_rule_file_loads_from_the_page_without_script() {
    let app = spawn_app_at(MONDAY).await;
    let admin = sign_in(&app, "quantri").await;
    let page = browse(&app, "/quan-tri/quy-dinh", Some(&admin.cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_posts_to(&page.body, r#"id="rules-file""#, "/quan-tri/quy-dinh");
    assert!(page.body.contains(r#"enctype="multipart/form-data""#));

    let mut file: Value = serde_json::from_str(motcua_core::rules::SHIPPED[1]).expect("json");
    file["version"] = "2026-07".into();
    file["effective_from"] = "2026-07-01".into();
    file["sources"] = serde_json::json!(["Văn bản thử nghiệm"]);
    // A version may leave an index out: without index 8 the sheet is out of 16.
    file["indices"]
        .as_array_mut()
        .expect("indices")
        .retain(|x| x["code"] != "feedback");
    let bytes: &'static [u8] = Box::leak(serde_json::to_vec(&file).expect("bytes").into_boxed_slice());
    let parts = |csrf: &str, bytes: &'static [u8]| {
        vec![
            text("csrf_token", csrf.to_owned()),
            Part::File("file".to_owned(), "quy-dinh.json", bytes),
        ]
    };
    let forged = post_multipart(&app, "/quan-tri/quy-dinh", &admin.cookie, &parts("not-it", bytes)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let mut bad = file.clone();
    bad["version"] = "2026-08".into();
    bad["statuses"] = serde_json::json!([]);
    let bad: &'static [u8] = Box::leak(serde_json::to_vec(&bad).expect("bytes").into_boxed_slice());
    let refused = post_multipart(&app, "/quan-tri/quy-dinh", &admin.cookie, &parts(&admin.csrf, bad)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("Chưa gửi được"), "{}", refused.body);
    assert!(
        refused.body.contains("Trạng thái mã 1 phải có đúng một lần"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(r##"href="#rules-file""##), "{}", refused.body);

    let loaded = post_multipart(&app, "/quan-tri/quy-dinh", &admin.cookie, &parts(&admin.csrf, bytes)).await;
    assert_eq!(loaded.status, StatusCode::SEE_OTHER, "{}", loaded.body);
    assert_eq!(loaded.location, "/quan-tri/quy-dinh?da-nap=2026-07");
    let after = browse(&app, &loaded.location, Some(&admin.cookie)).await;
    assert!(
        after.body.contains("Đã nạp phiên bản quy định «2026-07»"),
        "{}",
        after.body
    );
    assert!(after.body.contains(r#"id="version-2026-07""#), "{}", after.body);
    assert!(after.body.contains("8 chỉ số, tối đa 16 điểm"), "{}", after.body);
    let again = post_multipart(&app, "/quan-tri/quy-dinh", &admin.cookie, &parts(&admin.csrf, bytes)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(
        again.body.contains("Đã có phiên bản quy định «2026-07»"),
        "{}",
        again.body
    );
}
