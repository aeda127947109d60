//! The 2025 map (issue 23, docs/map-2025.md §4): dossiers received at any centre of the
//! merged Khánh Hòa, routed to the competent commune or department and back, refused where
//! their procedure may not be received, numbered per receiving centre. On the backend the
//! test run selects, with the Khánh Hòa demo loaded beside Ninh Thuận.

mod common;

use common::api::{act_ok, get, post, put};
use common::files::upload_pdf;
use common::intake::{finish, required_documents};
use common::{Session, TestApp, sign_in, sign_in_each, spawn_app_at};
use motcua_core::demo_2025::{BIRTH, CERTIFIED_COPY, JUDICIAL_RECORD, JUSTICE};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

const PROVINCE: &str = "000.00.00.H32";
const PROVINCIAL_CENTRE: &str = "000.00.20.H32";
const NHA_TRANG: &str = "000.00.31.H32";
const NHA_TRANG_CENTRE: &str = "000.01.31.H32";
const PHAN_RANG: &str = "000.00.73.H32";
const PHAN_RANG_CENTRE: &str = "000.01.73.H32";

async fn app() -> TestApp {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    assert!(
        motcua_server::load_khanh_hoa_demo(&app.test_db.db)
            .await
            .expect("Khánh Hòa demo")
    );
    app
}

/// The intake of `procedure` in Khánh Hòa with its required documents received.
async fn intake(app: &TestApp, procedure: &str) -> Value {
    let (status, p) = app
        .get_json(&format!("/api/v1/procedures/{procedure}?province={PROVINCE}"))
        .await;
    assert_eq!(status, 200, "{p}");
    let documents = required_documents(&p["content"]);
    json!({
        "procedure": procedure,
        "province": PROVINCE,
        "applicant": {"kind": "citizen", "name": "Nguyễn Thị Biển", "id_number": "056190000321",
                      "phone": "0912345678", "address": "phường Nha Trang, Khánh Hòa"},
        "documents": documents,
    })
}

async fn file(app: &TestApp, s: &Session, body: Value) -> Value {
    let (status, v) = post(app, s, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

/// The agencies of the hand-overs on a dossier's control sheet, in order.
async fn handovers(app: &TestApp, s: &Session, code: &str) -> Vec<String> {
    let (status, h) = get(app, s, &format!("/api/v1/dossiers/{code}/history")).await;
    assert_eq!(status, StatusCode::OK, "{h}");
    h["control_sheet"]
        .as_array()
        .expect("control sheet")
        .iter()
        .filter_map(|r| r["to_agency"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_commune_procedure_filed_at_another_communes_centre_reaches_the_competent_commune_and_comes_back() {
    let app = app().await;
    let [counter, leader, officer] =
        sign_in_each(&app, ["phanrang.tiepnhan", "nhatrang.lanhdao", "nhatrang.congchuc"]).await;
    let mut body = intake(&app, CERTIFIED_COPY).await;
    body["commune"] = json!(NHA_TRANG);
    let filed = file(&app, &counter, body).await;
    let code = filed["code"].as_str().expect("code").to_owned();
    assert!(
        code.starts_with(PHAN_RANG_CENTRE),
        "{code}: the receiving centre's code"
    );
    assert_eq!(filed["receiving_agency"], PHAN_RANG_CENTRE);
    assert_eq!(filed["responsible_agency"], NHA_TRANG);

    act_ok(&app, &counter, &code, "transfer", json!({})).await;
    let v = act_ok(&app, &leader, &code, "assign", json!({"user": "nhatrang.congchuc"})).await;
    assert_eq!(v["current_agency"], NHA_TRANG);
    let (status, _) = get(&app, &officer, &format!("/api/v1/dossiers/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    let v = finish(&app, &leader, &code, "ban-sao.pdf").await;
    assert_eq!(v["status_code"], 9);
    assert_eq!(v["current_agency"], PHAN_RANG_CENTRE, "back at the receiving centre");
    let v = act_ok(&app, &counter, &code, "return", json!({"method": "counter"})).await;
    assert_eq!(v["status_code"], 10);
    let sheet = handovers(&app, &counter, &code).await;
    // Received at Phan Rang's centre, handed to Nha Trang (transfer, assignment), back.
    assert_eq!(sheet, [PHAN_RANG_CENTRE, NHA_TRANG, NHA_TRANG, PHAN_RANG_CENTRE]);

    // Without a commune chosen, the receiving centre's own commune decides it.
    let own = file(&app, &counter, intake(&app, CERTIFIED_COPY).await).await;
    assert_eq!(own["responsible_agency"], PHAN_RANG);
}

#[tokio::test]
async fn a_provincial_procedure_filed_at_a_commune_centre_reaches_the_department() {
    let app = app().await;
    let [counter, justice] = sign_in_each(&app, ["nhatrang.tiepnhan", "kh.ld.tuphap"]).await;
    let filed = file(&app, &counter, intake(&app, JUDICIAL_RECORD).await).await;
    let code = filed["code"].as_str().expect("code").to_owned();
    assert!(code.starts_with(NHA_TRANG_CENTRE), "{code}");
    assert_eq!(filed["responsible_agency"], JUSTICE);
    let v = act_ok(&app, &counter, &code, "transfer", json!({})).await;
    assert_eq!(v["current_agency"], JUSTICE);
    let v = act_ok(&app, &justice, &code, "assign", json!({"user": "kh.cv.tuphap"})).await;
    assert_eq!(v["status_code"], 4);
    let v = finish(&app, &justice, &code, "phieu-lltp.pdf").await;
    assert_eq!(
        v["current_agency"], NHA_TRANG_CENTRE,
        "the result goes back to the commune centre"
    );
    let sheet = handovers(&app, &counter, &code).await;
    assert_eq!(sheet, [NHA_TRANG_CENTRE, JUSTICE, JUSTICE, NHA_TRANG_CENTRE]);
}

#[tokio::test]
async fn a_procedure_received_only_at_its_competent_level_is_refused_elsewhere_with_the_places() {
    let app = app().await;
    let counter = sign_in(&app, "phanrang.tiepnhan").await;
    // Birth registration of a Nha Trang family at Phan Rang's centre.
    let mut body = intake(&app, BIRTH).await;
    body["commune"] = json!(NHA_TRANG);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "not_receivable_here");
    assert_eq!(
        e["message"],
        "Thủ tục «Đăng ký khai sinh» chỉ được tiếp nhận tại Trung tâm Phục vụ hành chính công phường Nha Trang."
    );
    assert_eq!(e["places"][0]["code"], NHA_TRANG_CENTRE);
    assert_eq!(e["places"][0]["address"], "phường Nha Trang, Khánh Hòa");
    // At Nha Trang's own centre it is received.
    let there = sign_in(&app, "nhatrang.tiepnhan").await;
    let filed = file(&app, &there, body).await;
    assert_eq!(filed["responsible_agency"], NHA_TRANG);

    // A provincial procedure received only at the provincial centre, offered at a commune's.
    let (status, list) = get(
        &app,
        &counter,
        &format!("/api/v1/procedures?province={PROVINCE}&agency=000.00.07.H32&limit=50"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let permit = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|p| p["at_centre"] == true && p["receivable"] == "competent")
        .expect("a construction procedure received at the provincial centre");
    let permit = permit["code"].as_str().expect("code");
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", intake(&app, permit).await).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_receivable_here")),
        "{e}"
    );
    assert_eq!(e["places"][0]["code"], PROVINCIAL_CENTRE, "{e}");

    // A commune that is not one, and a commune on a provincial procedure.
    let mut body = intake(&app, BIRTH).await;
    body["commune"] = json!(PROVINCIAL_CENTRE);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("commune")),
        "{e}"
    );
    let mut body = intake(&app, JUDICIAL_RECORD).await;
    body["commune"] = json!(NHA_TRANG);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("commune")),
        "{e}"
    );

    // A counter officer names only a centre they work at.
    let mut body = intake(&app, CERTIFIED_COPY).await;
    body["centre"] = json!(NHA_TRANG_CENTRE);
    let (status, e) = post(&app, &counter, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
}

#[tokio::test]
async fn two_centres_number_the_same_day_apart() {
    let app = app().await;
    let [nha_trang, phan_rang] = sign_in_each(&app, ["nhatrang.tiepnhan", "phanrang.tiepnhan"]).await;
    let mut codes = Vec::new();
    for _ in 0..2 {
        for s in [&nha_trang, &phan_rang] {
            let v = file(&app, s, intake(&app, CERTIFIED_COPY).await).await;
            codes.push(v["code"].as_str().expect("code").to_owned());
        }
    }
    assert_eq!(
        codes,
        [
            format!("{NHA_TRANG_CENTRE}-261102-0001"),
            format!("{PHAN_RANG_CENTRE}-261102-0001"),
            format!("{NHA_TRANG_CENTRE}-261102-0002"),
            format!("{PHAN_RANG_CENTRE}-261102-0002"),
        ]
    );
    // Concurrent intakes at both centres: every code distinct.
    let bodies = [intake(&app, CERTIFIED_COPY).await, intake(&app, CERTIFIED_COPY).await];
    let runs = (0..10).map(|i| {
        let s = if i % 2 == 0 { &nha_trang } else { &phan_rang };
        post(&app, s, "/api/v1/dossiers", bodies[i % 2].clone())
    });
    let answers = futures_util::future::join_all(runs).await;
    let mut all: Vec<String> = answers
        .into_iter()
        .map(|(status, v)| {
            assert_eq!(status, StatusCode::CREATED, "{v}");
            v["code"].as_str().expect("code").to_owned()
        })
        .chain(codes)
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 14);
}

#[tokio::test]
async fn online_filing_chooses_the_centre_and_the_commune() {
    let app = app().await;
    let citizen = sign_in(&app, "congdan").await;
    let mut body = intake(&app, CERTIFIED_COPY).await;
    let mut documents = Vec::new();
    for (i, name) in ["ban-chinh.pdf", "ban-sao.pdf"].into_iter().enumerate() {
        let id = upload_pdf(&app, &citizen, name).await;
        documents.push(json!({"index": i, "files": [id]}));
    }
    body["documents"] = json!(documents);
    // A commune-level procedure needs its commune when no commune centre is chosen.
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("commune")),
        "{e}"
    );
    // The citizen's commune decides it; they collect the result at Phan Rang's centre.
    body["commune"] = json!(NHA_TRANG);
    body["centre"] = json!(PHAN_RANG_CENTRE);
    let filed = file(&app, &citizen, body).await;
    assert_eq!(filed["channel"], "online");
    assert_eq!(filed["receiving_agency"], PHAN_RANG_CENTRE);
    assert_eq!(filed["responsible_agency"], NHA_TRANG);

    // Birth registration only at the competent commune's centre, online too.
    let mut body = intake(&app, BIRTH).await;
    let mut documents = Vec::new();
    for (i, name) in ["to-khai.pdf", "giay-chung-sinh.pdf"].into_iter().enumerate() {
        let id = upload_pdf(&app, &citizen, name).await;
        documents.push(json!({"index": i, "files": [id]}));
    }
    body["documents"] = json!(documents);
    body["commune"] = json!(NHA_TRANG);
    body["centre"] = json!(PHAN_RANG_CENTRE);
    let (status, e) = post(&app, &citizen, "/api/v1/dossiers", body.clone()).await;
    assert_eq!(
        (status, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("not_receivable_here")),
        "{e}"
    );
    assert_eq!(e["places"][0]["code"], NHA_TRANG_CENTRE, "{e}");
    // Without a centre chosen it goes to the one place that receives it.
    body.as_object_mut().expect("body").remove("centre");
    let filed = file(&app, &citizen, body).await;
    assert_eq!(filed["receiving_agency"], NHA_TRANG_CENTRE);
}

/// The values of the options of the select `id` on a page; `None` when it has none.
fn options(html: &str, id: &str) -> Option<Vec<String>> {
    let start = html.find(&format!("<select id=\"{id}\""))?;
    let select = &html[start..start + html[start..].find("</select>").expect("select end")];
    Some(
        select
            .split("<option value=\"")
            .skip(1)
            .map(|o| o[..o.find('"').expect("value end")].to_owned())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

/// The value of the option chosen in the select `id`, if any.
fn chosen(html: &str, id: &str) -> Option<String> {
    let start = html.find(&format!("<select id=\"{id}\""))?;
    let select = &html[start..start + html[start..].find("</select>").expect("select end")];
    select
        .split("<option value=\"")
        .skip(1)
        .find(|o| o.contains("\" selected>"))
        .map(|o| o[..o.find('"').expect("value end")].to_owned())
}

#[tokio::test]
async fn the_online_form_asks_for_the_commune_and_the_centre_where_there_is_a_choice() {
    let app = common::spawn_khanh_hoa_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let citizen = sign_in(&app, "kh.congdan").await;
    let form = |procedure: &'static str| {
        let (app, citizen) = (&app, &citizen);
        async move { common::pages::page_ok(app, citizen, &format!("/ca-nhan/nop/{procedure}")).await }
    };
    // Certified copies: decided by the citizen's commune, received at any centre.
    let html = form(CERTIFIED_COPY).await;
    let communes = options(&html, "commune").expect("a commune to choose");
    assert!(communes.contains(&NHA_TRANG.to_owned()) && communes.contains(&PHAN_RANG.to_owned()));
    let centres = options(&html, "centre").expect("a centre to choose");
    assert_eq!(centres[0], PROVINCIAL_CENTRE, "the provincial centre first");
    assert!(centres.contains(&NHA_TRANG_CENTRE.to_owned()) && centres.contains(&PHAN_RANG_CENTRE.to_owned()));
    assert!(!centres.contains(&NHA_TRANG.to_owned()), "communes are not centres");
    // Birth registration: the commune chosen decides the centre.
    let html = form(BIRTH).await;
    assert!(options(&html, "commune").is_some_and(|c| c.contains(&NHA_TRANG.to_owned())));
    assert_eq!(options(&html, "centre"), None);
    assert!(html.contains("id=\"centre-note\""));
    // The judicial record certificate: the department decides, any centre receives.
    let html = form(JUDICIAL_RECORD).await;
    assert_eq!(options(&html, "commune"), None);
    assert_eq!(
        options(&html, "centre").map(|c| c.len()),
        Some(centres.len()),
        "every centre of the province"
    );

    // At a counter, a commune-level procedure received anywhere asks for the deciding
    // commune: the counter's own by default, none at the provincial centre.
    let [phan_rang, provincial] = sign_in_each(&app, ["phanrang.tiepnhan", "kh.tiepnhan"]).await;
    let path = format!("/quay/tiep-nhan/{CERTIFIED_COPY}");
    let html = common::pages::page_ok(&app, &phan_rang, &path).await;
    assert!(options(&html, "commune").is_some_and(|c| c.contains(&NHA_TRANG.to_owned())));
    assert_eq!(chosen(&html, "commune").as_deref(), Some(PHAN_RANG));
    let html = common::pages::page_ok(&app, &provincial, &path).await;
    assert!(html.contains("— Chọn xã, phường —"));
    assert_eq!(chosen(&html, "commune"), None);
    // Received only at the commune's own centre: nothing to choose.
    let html = common::pages::page_ok(&app, &phan_rang, &format!("/quay/tiep-nhan/{BIRTH}")).await;
    assert_eq!(options(&html, "commune"), None);
}

#[tokio::test]
async fn a_commune_head_sees_their_communes_dossiers_and_no_other() {
    let app = app().await;
    let [phan_rang, head, other_head, director, justice] = sign_in_each(
        &app,
        [
            "phanrang.tiepnhan",
            "nhatrang.truongtt",
            "phanrang.truongtt",
            "kh.giamdoc",
            "kh.cv.tuphap",
        ],
    )
    .await;
    // Phan Rang's own dossier, and one received there for Nha Trang.
    let own = file(&app, &phan_rang, intake(&app, CERTIFIED_COPY).await).await;
    let own = own["code"].as_str().expect("code").to_owned();
    let mut body = intake(&app, CERTIFIED_COPY).await;
    body["commune"] = json!(NHA_TRANG);
    let theirs = file(&app, &phan_rang, body).await;
    let theirs = theirs["code"].as_str().expect("code").to_owned();

    let (status, _) = get(&app, &head, &format!("/api/v1/dossiers/{own}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another commune's dossier is not shown");
    let (status, _) = get(&app, &head, &format!("/api/v1/dossiers/{theirs}")).await;
    assert_eq!(status, StatusCode::OK, "their commune decides it");
    for (who, sees) in [
        (&head, vec![theirs.clone()]),
        (&other_head, vec![theirs.clone(), own.clone()]),
        (&director, vec![theirs.clone(), own.clone()]),
        (&justice, vec![]),
    ] {
        let (status, list) = get(&app, who, &format!("/api/v1/dossiers?province={PROVINCE}")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let mut codes: Vec<&str> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|d| d["code"].as_str())
            .collect();
        codes.sort_unstable();
        let mut want: Vec<&str> = sees.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(codes, want, "{}", who.me["username"]);
    }
    // Asking for another centre's list by name is refused.
    let (status, _) = get(
        &app,
        &head,
        &format!("/api/v1/dossiers?province={PROVINCE}&agency={PHAN_RANG_CENTRE}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The province-wide index is the provincial director's; a commune head gets their
    // centre's, and no other.
    let (status, v) = get(&app, &director, &format!("/api/v1/service-index?province={PROVINCE}")).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v.get("centre"), None, "{v}");
}

#[tokio::test]
async fn the_khanh_hoa_demo_loads_on_a_first_start_with_its_accounts_and_first_administrator() {
    let test_db = motcua_store::testing::fresh_db().await;
    let start = motcua_server::first_start_with(&test_db.db, Some(motcua_server::config::DemoMap::KhanhHoa2025))
        .await
        .expect("first start");
    assert!(start.demo_loaded);
    assert!(
        start.admin_password.is_some(),
        "the first administrator comes before the demo accounts"
    );
    let mut tx = test_db.db.begin_read().await.expect("read");
    let provinces = motcua_store::catalogue::provinces(&mut tx).await.expect("provinces");
    assert_eq!(
        provinces.iter().map(|p| p.code.as_str()).collect::<Vec<_>>(),
        [PROVINCE]
    );
    let agencies = motcua_store::catalogue::agencies(&mut tx, &provinces[0].code)
        .await
        .expect("agencies");
    assert_eq!(agencies.len(), 145);
    for (username, ..) in motcua_server::bootstrap::KHANH_HOA_USERS {
        assert!(
            motcua_store::accounts::user_by_username(&mut tx, username)
                .await
                .expect("user")
                .is_some(),
            "{username}"
        );
    }
    drop(tx);
    // A second start changes nothing.
    let again = motcua_server::first_start_with(&test_db.db, Some(motcua_server::config::DemoMap::KhanhHoa2025))
        .await
        .expect("second start");
    assert!(!again.demo_loaded && again.admin_password.is_none());
}

/// The rows of the table `id` of a page: each row's header and its cells' numbers (links'
/// text or plain), in order.
fn table_rows(html: &str, id: &str) -> Vec<(String, Vec<i64>)> {
    let html = html.replace("&#38;", "&").replace("&amp;", "&");
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &html[start..start + html[start..].find("</table>").expect("table end")];
    let strip = |cell: &str| {
        let mut out = String::new();
        let mut inside = false;
        for ch in cell.chars() {
            match ch {
                '<' => inside = true,
                '>' => inside = false,
                c if !inside => out.push(c),
                _ => {}
            }
        }
        out.trim().to_owned()
    };
    table
        .split("<tr")
        .skip(1)
        .filter(|row| row.contains("scope=\"row\""))
        .map(|row| {
            let name =
                strip(&row[row.find("scope=\"row\">").expect("row header") + 12..row.find("</th>").expect("th")]);
            let numbers = row
                .split("<td class=\"num")
                .skip(1)
                .map(|cell| strip(&cell[cell.find('>').expect("td") + 1..cell.find("</td>").expect("td end")]))
                .filter_map(|text| text.replace('.', "").parse::<i64>().ok())
                .collect();
            (name, numbers)
        })
        .collect()
}

/// The service index `who` gets for `period`, of `centre` or the default.
async fn index_of(app: &TestApp, who: &Session, period: &str, centre: Option<&str>) -> Value {
    let path = format!(
        "/api/v1/service-index?{period}{}",
        centre.map(|c| format!("&centre={c}")).unwrap_or_default()
    );
    let (status, v) = get(app, who, &path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {v}");
    v
}

#[tokio::test]
async fn the_province_directors_figures_are_the_sum_of_the_centres() {
    let app = common::spawn_khanh_hoa_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [provincial, nha_trang, phan_rang, director, head] = sign_in_each(
        &app,
        [
            "kh.tiepnhan",
            "nhatrang.tiepnhan",
            "phanrang.tiepnhan",
            "kh.giamdoc",
            "nhatrang.truongtt",
        ],
    )
    .await;
    let mut at_nha_trang = Vec::new();
    for (s, procedure, n) in [
        (&provincial, JUDICIAL_RECORD, 2),
        (&nha_trang, CERTIFIED_COPY, 3),
        (&phan_rang, CERTIFIED_COPY, 1),
        (&phan_rang, JUDICIAL_RECORD, 1),
    ] {
        for _ in 0..n {
            let v = file(&app, s, intake(&app, procedure).await).await;
            if s.me["username"] == "nhatrang.tiepnhan" {
                at_nha_trang.push(v["code"].as_str().expect("code").to_owned());
            }
        }
    }
    let period = "period=khoang&from=2026-11-01&to=2026-11-30";
    let html = common::pages::page_ok(&app, &director, &format!("/lanh-dao?{period}")).await;
    let centres = table_rows(&html, "by-centre");
    let departments = table_rows(&html, "overview");
    let (total, lines) = centres.split_last().expect("a total row");
    assert_eq!(total.0, "Toàn tỉnh");
    let received: Vec<(&str, i64)> = lines.iter().map(|(n, c)| (n.as_str(), c[0])).collect();
    assert_eq!(
        received,
        [
            ("Trung tâm Phục vụ hành chính công tỉnh Khánh Hòa", 2),
            ("Trung tâm Phục vụ hành chính công phường Nha Trang", 3),
            ("Trung tâm Phục vụ hành chính công phường Phan Rang", 2),
        ]
    );
    // Every column of the total is the sum of the centres' and equals the province's total
    // by department.
    for (i, sum) in total.1.iter().enumerate() {
        assert_eq!(*sum, lines.iter().map(|l| l.1[i]).sum::<i64>(), "column {i}");
    }
    assert_eq!(Some(total), departments.last(), "the same province total both ways");
    assert_eq!(total.1[0], 7);

    // The number of a centre lists exactly its dossiers.
    let list = common::pages::page_ok(
        &app,
        &director,
        &format!("/lanh-dao/ho-so?metric=received&{period}&centre={NHA_TRANG_CENTRE}"),
    )
    .await;
    let listed = common::pages::listed_codes(&list);
    assert_eq!(listed, at_nha_trang.into_iter().collect());

    // A commune centre's head sees their own: their centre's line, their commune's, and
    // the lists behind them; nothing of another centre or the province's.
    let own = common::pages::page_ok(&app, &head, &format!("/lanh-dao?{period}")).await;
    assert!(own.contains("id=\"own-scope\""), "{own}");
    let centres = table_rows(&own, "by-centre");
    assert_eq!(
        centres,
        [
            (
                "Trung tâm Phục vụ hành chính công phường Nha Trang".to_owned(),
                lines[1].1.clone()
            ),
            ("Tổng".to_owned(), lines[1].1.clone()),
        ]
    );
    let communes = table_rows(&own, "overview");
    assert_eq!(communes.len(), 2, "their commune and the total: {communes:?}");
    assert_eq!(communes[0].1[0], 3, "the certified copies Nha Trang decides");
    assert_eq!(communes[1].0, "Tổng");
    assert!(!own.contains("Toàn tỉnh") && !own.contains("Phan Rang"), "{own}");
    let list = common::pages::page_ok(
        &app,
        &head,
        &format!("/lanh-dao/ho-so?metric=received&{period}&agency={NHA_TRANG}"),
    )
    .await;
    assert_eq!(common::pages::listed_codes(&list).len(), 3);
    common::pages::page_ok(&app, &head, "/lanh-dao/qua-han").await;
    for refused in [
        format!("/lanh-dao/ho-so?metric=received&{period}&centre={PHAN_RANG_CENTRE}"),
        format!("/lanh-dao/ho-so?metric=received&{period}"),
        format!("/lanh-dao/qua-han?agency={PHAN_RANG}"),
        format!("/lanh-dao/chi-so-phuc-vu?centre={PHAN_RANG_CENTRE}"),
    ] {
        let (status, _) = common::pages::page(&app, Some(&head), &refused).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    }
    // The service index of their centre, and of the province per centre for the director:
    // every count of dossiers received is the sum of the centres'.
    let index = common::pages::page_ok(&app, &head, &format!("/lanh-dao/chi-so-phuc-vu?{period}")).await;
    assert!(
        index.contains("<strong>Trung tâm Phục vụ hành chính công phường Nha Trang</strong>"),
        "{index}"
    );
    let received_of = |v: &Value| -> Vec<(String, i64)> {
        v["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .flat_map(|g| g["criteria"].as_array().expect("criteria").clone())
            .filter_map(|c| Some((c["criterion"]["code"].as_str()?.to_owned(), c["of"].as_i64()?)))
            .collect()
    };
    let province_index = index_of(&app, &director, period, None).await;
    let own_index = index_of(&app, &head, period, None).await;
    assert_eq!(own_index["centre"], NHA_TRANG_CENTRE, "a head's own centre by default");
    let (status, _) = get(
        &app,
        &head,
        &format!("/api/v1/service-index?{period}&centre={PHAN_RANG_CENTRE}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let per_received: Vec<String> = received_of(&province_index)
        .into_iter()
        .filter(|(_, of)| *of == 7)
        .map(|(code, _)| code)
        .collect();
    assert!(
        !per_received.is_empty(),
        "a rate over the dossiers received: {province_index}"
    );
    let mut sums: std::collections::BTreeMap<String, i64> = Default::default();
    for centre in [PROVINCIAL_CENTRE, NHA_TRANG_CENTRE, PHAN_RANG_CENTRE] {
        let v = index_of(&app, &director, period, Some(centre)).await;
        assert_eq!(v["centre"], centre);
        for (code, of) in received_of(&v) {
            *sums.entry(code).or_default() += of;
        }
        if centre == NHA_TRANG_CENTRE {
            assert_eq!(received_of(&v), received_of(&own_index));
        }
    }
    for code in per_received {
        assert_eq!(sums[&code], 7, "criterion {code}");
    }
    // A commune officer oversees nothing.
    let officer = sign_in(&app, "nhatrang.congchuc").await;
    let (status, _) = common::pages::page(&app, Some(&officer), "/lanh-dao").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn generation_spreads_a_year_over_every_centre_where_each_procedure_may_be_received() {
    let app = common::spawn_khanh_hoa_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let province = motcua_core::codes::ProvinceCode::parse(PROVINCE).expect("province");
    let plan = motcua_tools::generate::Plan {
        province: province.clone(),
        count: 4_000,
        until: datetime!(2026-11-02 08:00 +07:00),
        years: 1,
        seed: 11,
    };
    let report = motcua_tools::generate::generate(&app.test_db.db, &plan, |_| {})
        .await
        .expect("generate");
    assert_eq!(report.dossiers, 4_000);
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let mismatches = motcua_store::stats::recount(&mut tx, &province).await.expect("recount");
    assert!(mismatches.is_empty(), "{:?}", mismatches.first());
    let agencies = motcua_store::catalogue::agencies(&mut tx, &province)
        .await
        .expect("agencies");
    let tree = motcua_core::map::AgencyTree::new(&agencies);
    let dossiers = motcua_store::stats::dossiers(&mut tx, &province)
        .await
        .expect("dossiers");
    let mut centres = std::collections::BTreeSet::new();
    let mut codes = std::collections::BTreeSet::new();
    let mut at_communes = 0;
    for d in &dossiers {
        let version = motcua_store::catalogue::procedure(&mut tx, &province, &d.procedure)
            .await
            .expect("procedure")
            .expect("known");
        motcua_core::map::check_receivable(
            version.content.receipt_rule(),
            &tree,
            &d.responsible_agency,
            &d.receiving_agency,
        )
        .unwrap_or_else(|e| panic!("{}: {}", d.code, e.message(&version.content.name)));
        assert!(d.code.as_str().starts_with(d.receiving_agency.as_str()), "{}", d.code);
        if tree.commune_of(&d.receiving_agency).is_some() {
            at_communes += 1;
        }
        centres.insert(d.receiving_agency.clone());
        codes.insert(d.code.clone());
    }
    assert_eq!(codes.len(), 4_000, "codes are unique");
    assert!(centres.len() > 50, "{} centres received dossiers", centres.len());
    assert!(at_communes > 1_000, "{at_communes} at commune centres");
}

#[tokio::test]
async fn a_merged_centre_retires_keeps_its_dossiers_and_its_code_resolves_to_its_successor() {
    let app = app().await;
    let [catalogue, director, phan_rang, admin] =
        sign_in_each(&app, ["kh.danhmuc", "kh.giamdoc", "phanrang.tiepnhan", "kh.quantri"]).await;
    let before = file(&app, &phan_rang, intake(&app, CERTIFIED_COPY).await).await;
    let before = before["code"].as_str().expect("code").to_owned();
    let retire = |code: &str| format!("/api/v1/admin/agencies/{code}/retire?province={PROVINCE}");

    // Only a catalogue administrator retires; a unit with working units under it waits.
    let (status, _) = post(
        &app,
        &director,
        &retire(PHAN_RANG_CENTRE),
        json!({"successor": NHA_TRANG_CENTRE}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = post(&app, &catalogue, &retire(PHAN_RANG), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains(PHAN_RANG_CENTRE)),
        "{e}"
    );
    let (status, e) = post(
        &app,
        &catalogue,
        &retire(PHAN_RANG_CENTRE),
        json!({"successor": "000.00.98.H32"}),
    )
    .await;
    assert!(status.is_client_error(), "an unknown successor: {status} {e}");

    // The administration page offers it (JavaScript posts the form to the same API).
    let form = common::pages::page_ok(&app, &catalogue, &format!("/quan-tri/co-quan?sua={PHAN_RANG_CENTRE}")).await;
    assert!(form.contains(&format!(
        "data-api=\"/api/v1/admin/agencies/{PHAN_RANG_CENTRE}/retire\""
    )));
    assert!(options(&form, "retire-successor").is_some_and(|o| o.contains(&NHA_TRANG_CENTRE.to_owned())));
    // Phan Rang's centre merges into Nha Trang's.
    let (status, retired) = post(
        &app,
        &catalogue,
        &retire(PHAN_RANG_CENTRE),
        json!({"successor": NHA_TRANG_CENTRE}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    assert!(retired["retired_at"].is_string(), "{retired}");
    let (status, e) = post(&app, &catalogue, &retire(PHAN_RANG_CENTRE), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "retired once: {e}");
    let page = common::pages::page_ok(&app, &catalogue, &format!("/quan-tri/co-quan?sua={PHAN_RANG_CENTRE}")).await;
    assert!(page.contains("Ngừng hoạt động từ"), "the tree marks it");
    assert!(!page.contains("id=\"agency-retire\""), "nothing more to retire");
    let (status, audit) = get(
        &app,
        &admin,
        &format!("/api/v1/admin/audit?province={PROVINCE}&action=agency.retire"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    assert!(audit.to_string().contains(PHAN_RANG_CENTRE), "{audit}");

    // It receives nothing more; its dossier keeps its code and is found; its old code
    // names its successor's list.
    let (status, e) = post(&app, &phan_rang, "/api/v1/dossiers", intake(&app, CERTIFIED_COPY).await).await;
    assert!(
        status.is_client_error(),
        "a retired centre receives nothing: {status} {e}"
    );
    let (status, d) = get(&app, &director, &format!("/api/v1/dossiers/{before}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["receiving_agency"], PHAN_RANG_CENTRE);
    let mut body = intake(&app, CERTIFIED_COPY).await;
    body["centre"] = json!(PHAN_RANG_CENTRE);
    let nha_trang = sign_in(&app, "nhatrang.tiepnhan").await;
    let moved = file(&app, &nha_trang, body).await;
    assert_eq!(
        moved["receiving_agency"], NHA_TRANG_CENTRE,
        "the old code names its successor"
    );

    // An old code of another unit resolves too; a working agency's code cannot be one.
    let (status, alias) = put(
        &app,
        &catalogue,
        &format!("/api/v1/admin/agency-aliases/000.00.98.H32?province={PROVINCE}"),
        json!({"code": PHAN_RANG_CENTRE}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{alias}");
    assert_eq!(
        alias["code"], NHA_TRANG_CENTRE,
        "an alias lands on the working agency in one hop"
    );
    let (status, e) = put(
        &app,
        &catalogue,
        &format!("/api/v1/admin/agency-aliases/{NHA_TRANG}?province={PROVINCE}"),
        json!({"code": NHA_TRANG_CENTRE}),
    )
    .await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("old_code")),
        "{e}"
    );
}

#[tokio::test]
async fn commune_centres_have_their_own_queue_in_the_demo() {
    let app = common::spawn_khanh_hoa_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let [nha_trang, provincial] = sign_in_each(&app, ["nhatrang.tiepnhan", "kh.tiepnhan"]).await;
    let counters = |html: &str| html.matches("Quầy ").count();
    let own = common::pages::page_ok(&app, &nha_trang, "/quay/hang-doi").await;
    let province = common::pages::page_ok(&app, &provincial, "/quay/hang-doi").await;
    assert!(counters(&own) >= 2, "{own}");
    assert!(
        counters(&province) > counters(&own),
        "the provincial centre has more counters"
    );
    // The portal takes tickets at a commune centre, with its own groups.
    let (status, html) = common::pages::page(&app, None, &format!("/lay-so?tt={NHA_TRANG_CENTRE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Trung tâm Phục vụ hành chính công phường Nha Trang"),
        "{html}"
    );
    assert!(html.contains("Đất đai, xây dựng và lĩnh vực khác"), "{html}");
    let (status, _) = common::pages::page(&app, None, &format!("/lay-so?tt={NHA_TRANG}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a commune is not a centre");

    // Its figures: the commune head's own, any centre's for the provincial director.
    let [head, director] = sign_in_each(&app, ["nhatrang.truongtt", "kh.giamdoc"]).await;
    for (who, asked, centre) in [
        (&head, "", NHA_TRANG_CENTRE),
        (&director, "", PROVINCIAL_CENTRE),
        (&director, NHA_TRANG_CENTRE, NHA_TRANG_CENTRE),
    ] {
        let (status, f) = get(&app, who, &format!("/api/v1/queue/figures?centre={asked}")).await;
        assert_eq!(status, StatusCode::OK, "{f}");
        assert_eq!(f["centre"], centre, "{}", who.me["username"]);
    }
    let (status, _) = get(
        &app,
        &head,
        &format!("/api/v1/queue/figures?centre={PROVINCIAL_CENTRE}"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let page = common::pages::page_ok(&app, &head, "/lanh-dao/xep-hang").await;
    assert!(page.contains("Trung tâm Phục vụ hành chính công phường Nha Trang"));
    let page = common::pages::page_ok(
        &app,
        &director,
        &format!("/lanh-dao/xep-hang?centre={NHA_TRANG_CENTRE}"),
    )
    .await;
    assert_eq!(chosen(&page, "centre").as_deref(), Some(NHA_TRANG_CENTRE));
}
