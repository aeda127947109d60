//! The frame of every page: signing in through the login page, where each role lands,
//! the forced password change, the navigation by role, the static assets and the weight
//! budget of a page (HTML + CSS + JS under 100 KB before images).

mod common;

use common::api::create_counter_officer;
use common::pages::{PAGE_BUDGET, visit};
use common::{sign_in, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn the_login_page_posts_to_the_api_and_returns_where_it_was_asked() {
    let app = spawn_app().await;
    let (status, _, html) = visit(&app, None, "/dang-nhap?next=%2Fquay").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-api="/api/v1/auth/login""#), "{html}");
    assert!(html.contains(r#"data-next="/sau-dang-nhap?next=%2Fquay""#), "{html}");
    assert!(html.contains(r#"<label for="username">Tên đăng nhập</label>"#));
    // Only paths of this site are followed afterwards.
    let (_, _, html) = visit(&app, None, "/dang-nhap?next=https%3A%2F%2Fevil.example").await;
    assert!(html.contains(r#"data-next="/sau-dang-nhap""#), "{html}");
    let (_, _, html) = visit(&app, None, "/dang-nhap?next=%2F%2Fevil.example").await;
    assert!(html.contains(r#"data-next="/sau-dang-nhap""#), "{html}");
}

#[tokio::test]
async fn each_role_lands_on_its_own_area_after_signing_in() {
    let app = spawn_app().await;
    for (user, home) in [
        ("congdan", "/ca-nhan"),
        ("tiepnhan", "/quay"),
        ("cv.xaydung", "/xu-ly"),
        ("ld.xaydung", "/xu-ly"),
        ("giamdoc", "/lanh-dao"),
        ("quantri", "/quan-tri"),
        ("danhmuc", "/quan-tri"),
    ] {
        let s = sign_in(&app, user).await;
        let (status, location, _) = visit(&app, Some(&s.cookie), "/sau-dang-nhap").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{user}");
        assert_eq!(location.as_deref(), Some(home), "{user}");
        // A page asked for before signing in wins.
        let (_, location, _) = visit(&app, Some(&s.cookie), "/sau-dang-nhap?next=%2Fthu-tuc").await;
        assert_eq!(location.as_deref(), Some("/thu-tuc"), "{user}");
        // Already signed in: the login page sends the person on.
        let (status, location, _) = visit(&app, Some(&s.cookie), "/dang-nhap").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{user}");
        assert_eq!(location.as_deref(), Some(home), "{user}");
    }
}

#[tokio::test]
async fn the_navigation_shows_the_areas_of_the_roles_held_and_the_csrf_token() {
    let app = spawn_app().await;
    let (_, _, anonymous) = visit(&app, None, "/").await;
    assert!(anonymous.contains(r#"href="/dang-nhap">Đăng nhập</a>"#));
    assert!(!anonymous.contains("csrf-token"));
    assert!(!anonymous.contains(r#"href="/quay""#));
    let s = sign_in(&app, "tiepnhan").await;
    let (_, _, html) = visit(&app, Some(&s.cookie), "/").await;
    assert!(html.contains(r#"href="/quay">Quầy tiếp nhận</a>"#), "{html}");
    assert!(!html.contains(r#"href="/quan-tri""#));
    assert!(html.contains("Phạm Thị Nhận"));
    assert!(html.contains(&format!(r#"<meta name="csrf-token" content="{}">"#, s.csrf)));
    // An expired or forged cookie makes an anonymous visitor on public pages, not an error.
    let (status, _, html) = visit(&app, Some("motcua_session=forged"), "/thu-tuc").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"href="/dang-nhap">Đăng nhập</a>"#));
}

#[tokio::test]
async fn signed_in_pages_send_anonymous_visitors_to_the_login_page_and_back() {
    let app = spawn_app().await;
    for path in ["/ca-nhan", "/quay", "/xu-ly", "/lanh-dao", "/quan-tri", "/doi-mat-khau"] {
        let (status, location, _) = visit(&app, None, path).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let expected = format!(
            "/dang-nhap?next={}",
            form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
        );
        assert_eq!(location.as_deref(), Some(expected.as_str()), "{path}");
    }
}

#[tokio::test]
async fn a_person_who_must_change_their_password_is_sent_to_do_so_first() {
    let app = spawn_app().await;
    let admin = sign_in(&app, "quantri").await;
    let password = create_counter_officer(&app, &admin, "moi.tiepnhan").await;
    let s = common::login(&app, "moi.tiepnhan", &password).await.expect("login");
    let (status, location, _) = visit(&app, Some(&s.cookie), "/quay").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/doi-mat-khau?next=%2Fquay"));
    let (status, _, html) = visit(&app, Some(&s.cookie), "/doi-mat-khau?next=%2Fquay").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Bạn cần đặt mật khẩu mới"), "{html}");
    assert!(html.contains(r#"data-api="/api/v1/auth/password""#));
    assert!(html.contains(r#"data-next="/quay""#));
}

#[tokio::test]
async fn assets_are_served_compressed_and_pages_stay_under_the_weight_budget() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/static/app.js"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("js");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/javascript")
    );
    let size = |path: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url(path))
                .send()
                .await
                .expect("get")
                .bytes()
                .await
                .expect("bytes")
                .len()
        }
    };
    let css = size("/static/app.css").await;
    let js = size("/static/app.js").await;
    let htmx = size("/static/htmx.min.js").await;
    let area_scripts = [
        ("/static/counter.js", size("/static/counter.js").await),
        ("/quan-tri/admin.js", size("/quan-tri/admin.js").await),
    ];
    let weigh = |path: &str, html: &str| {
        // What the page loads: the stylesheet and app.js always, htmx where it asks for it,
        // and any area script.
        let mut total = html.len() + css + js;
        if html.contains("/static/htmx.min.js") {
            total += htmx;
        }
        for (script, bytes) in area_scripts {
            if html.contains(script) {
                total += bytes;
            }
        }
        assert!(total < PAGE_BUDGET, "{path}: {total} bytes of HTML + CSS + JS");
    };
    for path in [
        "/",
        "/thu-tuc",
        "/thu-tuc?q=ho+tich",
        "/thu-tuc/1.900141",
        "/dang-nhap",
        "/tra-cuu",
        "/thong-ke",
    ] {
        let (_, _, html) = visit(&app, None, path).await;
        weigh(path, &html);
    }
    for (user, path) in [
        ("congdan", "/ca-nhan"),
        ("congdan", "/ca-nhan/nop/1.900141"),
        ("tiepnhan", "/quay"),
        ("tiepnhan", "/quay/tiep-nhan/1.900141"),
        ("ld.xaydung", "/xu-ly"),
        ("giamdoc", "/lanh-dao"),
        ("quantri", "/quan-tri"),
    ] {
        let s = sign_in(&app, user).await;
        let (status, _, html) = visit(&app, Some(&s.cookie), path).await;
        assert_eq!(status, StatusCode::OK, "{user} {path}");
        weigh(path, &html);
    }
}
