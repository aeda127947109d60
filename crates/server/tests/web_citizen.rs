//! The citizen area: registration pages, my dossiers, online filing with the body the
//! filing form builds, my dossier with its supplement, withdrawal and rating forms, and the
//! satisfaction rating API (once, after the result, by the owner only), on the backend the
//! test run selects.

mod common;

use common::intake::{file_online, filing_body, supplement};

use common::api::{act_ok, get, post, procedure_content};
use common::files::upload_pdf;
use common::pages::page;
use common::{CONSTRUCTION, LLTP, Session, TestApp, login, sign_in, sign_in_each, spawn_app_at};
use motcua_server::bootstrap::DEMO_PASSWORD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

/// Procedures of the demo catalogue received at the centre (of `agency` when given).
async fn procedures(app: &TestApp, agency: Option<&str>) -> Vec<Value> {
    let filter = agency.map(|a| format!("&agency={a}")).unwrap_or_default();
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, v) = app
            .get_json(&format!("/api/v1/procedures?at_centre=true&limit=100{filter}{cursor}"))
            .await;
        assert_eq!(status, 200, "{v}");
        all.extend(v["items"].as_array().expect("items").iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return all,
        }
    }
}

fn online(p: &Value) -> bool {
    p["service_level"].as_u64().expect("level") >= 3 || p["online_mode"] == "full"
}

/// A second citizen account ("congdan2", the demo password), made as registration would.
async fn second_citizen(app: &TestApp) -> Session {
    let db = &app.test_db.db;
    let mut tx = db.begin_write().await.expect("begin");
    let (_, hash) = motcua_store::accounts::user_by_username(&mut tx, "congdan")
        .await
        .expect("read")
        .expect("congdan");
    let user = motcua_store::accounts::create_user(
        &mut tx,
        &motcua_store::accounts::NewUser {
            id: "citizen-two",
            province: None,
            kind: motcua_store::accounts::UserKind::Citizen,
            username: "congdan2",
            display_name: "Lê Thị Hai",
            email: "",
            phone: "",
            citizen_id: "",
            password_hash: &hash,
            must_change_password: false,
        },
        time::OffsetDateTime::now_utc(),
    )
    .await
    .expect("user");
    let province = motcua_core::codes::ProvinceCode::parse("000.00.00.H43").expect("province");
    motcua_store::accounts::add_grant(
        &mut tx,
        &user.id,
        &motcua_core::access::Grant {
            role: motcua_core::access::Role::Citizen,
            agency: province.as_agency().clone(),
            province,
        },
    )
    .await
    .expect("grant");
    tx.commit().await.expect("commit");
    login(app, "congdan2", DEMO_PASSWORD).await.expect("login")
}

#[tokio::test]
async fn registration_pages_post_to_the_citizen_api() {
    let app = spawn_app_at(datetime!(2026-12-01 14:00 +07:00)).await;
    let (status, html) = page(&app, None, "/dang-ky").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        r#"data-api="/api/v1/citizens/register""#,
        r#"name="display_name""#,
        r#"name="email""#,
        r#"name="phone""#,
        r#"name="password""#,
        "registration_id",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let (status, html) = page(&app, None, "/dang-ky/xac-nhan?id=abc&d=n***a%40example.vn&c=email").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        r#"data-api="/api/v1/citizens/confirm""#,
        r#"data-api="/api/v1/citizens/resend""#,
        r#"name="registration_id" value="abc""#,
        r#"name="code""#,
        "n***a@example.vn",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    // The register form's fields are exactly what the API takes: an unknown registration
    // answers with a field-less 404, a bad form names its field.
    let r = app
        .client
        .post(app.url("/api/v1/citizens/register"))
        .json(&json!({"display_name": "Nguyễn Văn Dân", "email": "khong-hop-le", "password": "mat-khau-dai-du-1"}))
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.expect("json");
    assert_eq!(e["field"], "email", "{e}");
    // Without an id, back to step 1; signed in, straight to my dossiers.
    let (status, location) = page(&app, None, "/dang-ky/xac-nhan").await;
    assert!(status.is_redirection() && location == "/dang-ky", "{status} {location}");
    let citizen = sign_in(&app, "congdan").await;
    let (status, location) = page(&app, Some(&citizen), "/dang-ky").await;
    assert!(status.is_redirection() && location == "/ca-nhan", "{status} {location}");
}

#[tokio::test]
async fn a_citizen_files_online_and_sees_only_their_own_dossiers() {
    let app = spawn_app_at(datetime!(2026-12-01 14:00 +07:00)).await;
    let citizen = sign_in(&app, "congdan").await;

    // Anonymous visitors are sent to log in; staff are not citizens.
    let (status, location) = page(&app, None, "/ca-nhan").await;
    assert!(
        status.is_redirection() && location.starts_with("/dang-nhap?next="),
        "{status} {location}"
    );
    let counter = sign_in(&app, "tiepnhan").await;
    let (status, _) = page(&app, Some(&counter), "/ca-nhan").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, Some(&counter), &format!("/ca-nhan/nop/{LLTP}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, html) = page(&app, Some(&citizen), "/ca-nhan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Bạn chưa có hồ sơ nào"), "{html}");

    // The procedure page offers online filing; the filing form has a row per document.
    let (status, html) = page(&app, None, &format!("/thu-tuc/{LLTP}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"href="/ca-nhan/nop/{LLTP}""#)),
        "online filing button"
    );
    let content = procedure_content(&app, LLTP).await;
    let (status, html) = page(&app, Some(&citizen), &format!("/ca-nhan/nop/{LLTP}")).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        r#"id="filing""#,
        r#"data-api="/api/v1/dossiers""#,
        r#"data-draft="nop-ho-so:1.900141""#,
        r#"class="draft-note"#,
        r#"id="submit-dossier""#,
        r#"name="procedure" value="1.900141""#,
        r#"name="applicant.name""#,
        r#"name="applicant.id_number""#,
        r#"name="delivery" value="counter""#,
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    for i in 0..content["documents"].as_array().expect("documents").len() {
        assert!(html.contains(&format!(r#"id="doc-{i}""#)), "doc-{i}");
        assert!(
            html.contains(&format!(r#"data-upload="documents.{i}.files[]""#)),
            "upload {i}"
        );
        assert!(html.contains(&format!(r#"name="documents.{i}.index" value="{i}" data-type="int""#)));
    }
    // Prefilled from the account.
    let name = citizen.me["display_name"].as_str().expect("name");
    assert!(
        html.contains(&format!(r#"name="applicant.name" value="{name}""#)),
        "prefill"
    );

    // A refused submit (nothing uploaded) names the documents; then the full body is accepted.
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", filing_body(LLTP, &content, &[])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "incomplete_dossier");
    // Each missing document is its own field error, so the page marks each file field.
    let required: Vec<String> = content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, _)| format!("documents[{i}]"))
        .collect();
    let fields: Vec<String> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|x| x["field"].as_str().expect("field").to_owned())
        .collect();
    assert_eq!(fields, required, "{e}");
    assert_eq!(e["field"], json!(required[0]));
    let code = file_online(&app, &citizen, LLTP).await;

    let (status, html) = page(&app, Some(&citizen), "/ca-nhan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"href="/ca-nhan/ho-so/{code}""#)), "{html}");
    assert!(html.contains("Mới đăng ký"));
    let (status, html) = page(&app, Some(&citizen), &format!("/ca-nhan/ho-so/{code}?moi=1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Đã nộp hồ sơ thành công"));
    assert!(html.contains(r#"id="withdraw""#), "withdraw form");
    assert!(html.contains(&format!(r#"data-api="/api/v1/dossiers/{code}/actions/withdraw""#)));
    assert!(html.contains("Nộp hồ sơ"), "history");
    assert!(!html.contains(r#"id="rating""#), "no rating before the result");

    // Another citizen: 404 on the page and the API; the first citizen's list is theirs only.
    let other = second_citizen(&app).await;
    let (status, _) = page(&app, Some(&other), &format!("/ca-nhan/ho-so/{code}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, &other, &format!("/api/v1/dossiers/{code}/rating")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, html) = page(&app, Some(&other), "/ca-nhan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&code));
    // Staff who may see the dossier still have no citizen page for it.
    let (status, _) = page(&app, Some(&counter), &format!("/ca-nhan/ho-so/{code}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Withdrawing with the body the form sends.
    let v = act_ok(
        &app,
        &citizen,
        &code,
        "withdraw",
        json!({"reason": "Không còn nhu cầu"}),
    )
    .await;
    assert_eq!(v["status_code"], 7);
    let (_, html) = page(&app, Some(&citizen), &format!("/ca-nhan/ho-so/{code}")).await;
    assert!(!html.contains(r#"id="withdraw""#));
}

#[tokio::test]
async fn procedures_not_filed_online_are_explained() {
    let app = spawn_app_at(datetime!(2026-12-01 14:00 +07:00)).await;
    let citizen = sign_in(&app, "congdan").await;
    let offline = procedures(&app, None)
        .await
        .into_iter()
        .find(|p| !online(p))
        .expect("a procedure not filed online");
    let code = offline["code"].as_str().expect("code");
    let (status, html) = page(&app, Some(&citizen), &format!("/ca-nhan/nop/{code}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("chưa nhận hồ sơ trực tuyến"), "{html}");
    assert!(!html.contains(r#"id="filing""#));
    let (_, html) = page(&app, None, &format!("/thu-tuc/{code}")).await;
    assert!(!html.contains("/ca-nhan/nop/"), "no online filing button");
}

#[tokio::test]
async fn supplement_answered_then_rated_once_after_the_result() {
    let app = spawn_app_at(datetime!(2026-12-01 09:00 +07:00)).await;
    let [citizen, counter, leader, officer] =
        sign_in_each(&app, ["congdan", "tiepnhan", "ld.xaydung", "cv.xaydung"]).await;
    let procedure = procedures(&app, Some(CONSTRUCTION))
        .await
        .into_iter()
        .find(online)
        .expect("an online procedure of Sở Xây dựng");
    let procedure = procedure["code"].as_str().expect("code").to_owned();
    let code = file_online(&app, &citizen, &procedure).await;
    act_ok(&app, &counter, &code, "accept", json!({})).await;
    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    act_ok(&app, &leader, &code, "assign", json!({"user": "cv.xaydung"})).await;

    // Before the result: no rating.
    let rating = format!("/api/v1/dossiers/{code}/rating");
    let (status, e) = post(&app, &citizen, &rating, json!({"rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().expect("m").contains("đã có kết quả"), "{e}");

    // The department asks for a supplement; the page shows what is asked and the form.
    app.clock.set(datetime!(2026-12-01 10:00 +07:00));
    act_ok(
        &app,
        &officer,
        &code,
        "request-supplement",
        json!({"missing": ["Bản vẽ mặt bằng có chữ ký"], "reason": "Bản vẽ thiếu chữ ký"}),
    )
    .await;
    let (status, html) = page(&app, Some(&citizen), "/ca-nhan").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("/ca-nhan/ho-so/{code}#bo-sung")),
        "to do: supplement"
    );
    let (status, html) = page(&app, Some(&citizen), &format!("/ca-nhan/ho-so/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Bản vẽ mặt bằng có chữ ký"));
    assert!(html.contains(r#"id="supplement""#));
    assert!(html.contains(&format!(
        r#"data-api="/api/v1/dossiers/{code}/actions/receive-supplement""#
    )));
    assert!(html.contains(r#"data-upload="files[]""#));
    // The citizen answers with what the form sends: the uploaded ids and a note.
    app.clock.set(datetime!(2026-12-02 09:00 +07:00));
    let v = supplement(&app, &citizen, &code, "ban-ve-co-chu-ky.pdf", "Đã bổ sung bản vẽ").await;
    assert_eq!(v["status_code"], 4);
    let (_, html) = page(&app, Some(&citizen), &format!("/ca-nhan/ho-so/{code}")).await;
    assert!(!html.contains(r#"id="supplement""#));
    assert!(html.contains("ban-ve-co-chu-ky.pdf"), "the supplement is listed");

    // Result ready, then returned at the counter.
    let result = upload_pdf(&app, &leader, "giay-phep.pdf").await;
    act_ok(&app, &leader, &code, "finish", json!({"result_files": [result]})).await;
    act_ok(&app, &counter, &code, "return", json!({"method": "counter"})).await;
    let (_, html) = page(&app, Some(&citizen), "/ca-nhan").await;
    assert!(html.contains(&format!("/ca-nhan/ho-so/{code}#danh-gia")), "to do: rate");
    let (_, html) = page(&app, Some(&citizen), &format!("/ca-nhan/ho-so/{code}")).await;
    for needle in [
        r#"id="rating""#,
        r#"value="very_satisfied""#,
        r#"value="satisfied""#,
        r#"value="not_satisfied""#,
        "giay-phep.pdf",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    assert!(html.contains(&format!(r#"data-api="/api/v1/dossiers/{code}/rating""#)));

    // Staff may not rate; a missing choice names the field; the owner rates once.
    let (status, e) = post(&app, &counter, &rating, json!({"rating": "very_satisfied"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    let (status, e) = post(&app, &citizen, &rating, json!({"comment": "Nhanh"})).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("rating")),
        "{e}"
    );
    let long = "a".repeat(1001);
    let (status, e) = post(&app, &citizen, &rating, json!({"rating": "satisfied", "comment": long})).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("comment")),
        "{e}"
    );
    let (status, v) = post(
        &app,
        &citizen,
        &rating,
        json!({"rating": "very_satisfied", "comment": "Cán bộ hướng dẫn tận tình"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["rating"], "very_satisfied", "{v}");
    assert_eq!(v["channel"], "online");
    assert_eq!(v["rating_label"], "Rất hài lòng");
    assert!(
        v["officer"].as_str().is_some_and(|o| !o.is_empty()),
        "the officer who returned it: {v}"
    );
    let (status, e) = post(&app, &citizen, &rating, json!({"rating": "not_satisfied"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(e["message"].as_str().expect("m").contains("một lần"), "{e}");
    let (status, v) = get(&app, &citizen, &rating).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["rating"], "very_satisfied");
    assert_eq!(v["comment"], "Cán bộ hướng dẫn tận tình");
    let (status, v) = get(&app, &counter, &rating).await;
    assert_eq!((status, v["rating"].as_str()), (StatusCode::OK, Some("very_satisfied")));
    let (_, html) = page(&app, Some(&citizen), &format!("/ca-nhan/ho-so/{code}")).await;
    assert!(html.contains("Bạn đã đánh giá") && !html.contains(r#"id="rating""#));

    // The rating is in the province's audit chain, which still verifies.
    let report = motcua_store::audit::verify(&app.test_db.db).await.expect("verify");
    assert!(report.first_break.is_none(), "{report:?}");
}
