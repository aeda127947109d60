//! Operations endpoints and the public pages.

mod common;

use common::spawn_app;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status().as_u16(), 200);
    let r = app.client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status().as_u16(), 200);
    app.client
        .get(app.url("/api/v1/catalogue/summary"))
        .send()
        .await
        .expect("summary");
    let metrics = app.get_text("/metrics").await;
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    assert!(metrics.contains("route=\"/api/v1/catalogue/summary\""), "{metrics}");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.test_db.db.close().await;
    let r = app.client.get(app.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status().as_u16(), 503);
}

#[tokio::test]
async fn pages_render_in_vietnamese() {
    let app = spawn_app().await;
    let r = app.client.get(app.url("/")).send().await.expect("home");
    assert_eq!(r.status().as_u16(), 200);
    let csp = r.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("frame-ancestors 'none'"));
    let home = r.text().await.expect("text");
    assert!(
        home.contains("Ninh Thuận")
            && home.contains("1.388")
            && !home.contains("1388")
            && home.contains("Tra cứu thủ tục hành chính")
    );
    assert!(home.len() < common::pages::PAGE_BUDGET);

    let list = app.get_text("/thu-tuc?q=cap+giay+phep+xay+dung").await;
    assert!(list.contains("Cấp giấy phép xây dựng"), "results shown");
    assert!(
        list.contains("value=\"cap giay phep xay dung\""),
        "the form keeps what was typed"
    );

    let bad = app.client.get(app.url("/thu-tuc?limit=0")).send().await.expect("bad");
    assert_eq!(bad.status().as_u16(), 400);
    assert!(bad.text().await.expect("text").contains("phải từ 1 đến"));

    let page = app
        .client
        .get(app.url("/thu-tuc/1.900141"))
        .send()
        .await
        .expect("procedure");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("text");
    assert!(
        page.contains("Thành phần hồ sơ") && page.contains("Phí, lệ phí") && page.contains("Phiếu lý lịch tư pháp"),
        "{page}"
    );

    let missing = app.client.get(app.url("/khong-co")).send().await.expect("404");
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing.text().await.expect("text").contains("Không tìm thấy trang"));

    let css = app.client.get(app.url("/static/app.css")).send().await.expect("css");
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}
