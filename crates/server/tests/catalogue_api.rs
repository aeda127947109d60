//! The catalogue API end to end, on the backend the test run selects.

mod common;

use common::{TestApp, spawn_app, spawn_empty_app, url_encode};
use reqwest::Method;
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

fn codes(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["code"].as_str().expect("code").to_owned())
        .collect()
}

#[tokio::test]
async fn summary_has_the_published_figures() {
    let app = spawn_app().await;
    let (status, body) = app.get_json("/api/v1/catalogue/summary").await;
    assert_eq!(status, 200);
    assert_eq!(body["departments"], 15);
    assert_eq!(body["procedures"], 1388);
    assert_eq!(body["at_centre"], 1283);
    assert_eq!(body["name"], "Ninh Thuận");
    let (status, same) = app.get_json("/api/v1/catalogue/summary?province=H43").await;
    assert_eq!((status, &same), (200, &body));
    let (status, err) = app.get_json("/api/v1/catalogue/summary?province=H99").await;
    assert_eq!(status, 404, "{err}");
    let (status, err) = app.get_json("/api/v1/catalogue/summary?province=nonsense").await;
    assert_eq!(
        (status, err["code"].as_str(), err["field"].as_str()),
        (400, Some("invalid_code"), Some("province"))
    );
}

#[tokio::test]
async fn search_ignores_diacritics_case_and_unicode_form() {
    let app = spawn_app().await;
    let nfc = "cấp giấy phép xây dựng";
    let nfd: String = nfc.nfd().collect();
    assert_ne!(nfd, nfc);
    let mut results = Vec::new();
    for q in [
        "cap giay phep xay dung",
        nfc,
        "CẤP GIẤY PHÉP XÂY DỰNG",
        &nfd,
        "Cap Giay Phep Xay Dung",
    ] {
        let (status, body) = app
            .get_json(&format!("/api/v1/procedures?q={}&limit=100", url_encode(q)))
            .await;
        assert_eq!(status, 200, "{body}");
        results.push(codes(&body));
    }
    assert!(results[0].len() >= 3, "{:?}", results[0]);
    for r in &results[1..] {
        assert_eq!(r, &results[0]);
    }
    // Best match first: the leading results are building permits.
    let (_, body) = app
        .get_json(&format!(
            "/api/v1/procedures?q={}",
            url_encode("cap giay phep xay dung")
        ))
        .await;
    let first = body["items"][0]["name"].as_str().expect("name");
    assert!(first.starts_with("Cấp giấy phép xây dựng"), "{first}");
    // Codes are found too.
    let (_, body) = app.get_json("/api/v1/procedures?q=1.900010").await;
    assert_eq!(codes(&body)[0], "1.900010");
    // The đ/d folding.
    let (_, a) = app
        .get_json(&format!(
            "/api/v1/procedures?q={}&limit=100",
            url_encode("đăng ký doanh nghiệp")
        ))
        .await;
    let (_, b) = app
        .get_json("/api/v1/procedures?q=dang%20ky%20doanh%20nghiep&limit=100")
        .await;
    assert!(!codes(&a).is_empty());
    assert_eq!(codes(&a), codes(&b));
}

#[tokio::test]
async fn filters_apply() {
    let app = spawn_app().await;
    let (_, body) = app.get_json("/api/v1/procedures?agency=000.00.03.H43&limit=100").await;
    assert_eq!(body["total"], 55);
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["agency_code"] == "000.00.03.H43")
    );
    let (_, body) = app.get_json("/api/v1/procedures?field=XD-02&limit=100").await;
    assert!(
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["field_code"] == "XD-02")
    );
    let (_, full) = app.get_json("/api/v1/procedures?online=full&limit=1").await;
    let (_, partial) = app.get_json("/api/v1/procedures?online=partial&limit=1").await;
    assert_eq!(
        full["total"].as_u64().expect("n") + partial["total"].as_u64().expect("n"),
        1388
    );
    assert_eq!(full["items"][0]["online_mode"], "full");
    let (_, outside) = app.get_json("/api/v1/procedures?at_centre=false&limit=1").await;
    assert_eq!(outside["total"], 1388 - 1283);
    let (_, combined) = app
        .get_json(&format!(
            "/api/v1/procedures?q={}&agency=000.00.04.H43",
            url_encode("giấy phép")
        ))
        .await;
    assert!(
        combined["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|i| i["agency_code"] == "000.00.04.H43")
    );
}

async fn walk(app: &TestApp, query: &str, limit: usize) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/procedures?{query}&limit={limit}&cursor={c}"),
            None => format!("/api/v1/procedures?{query}&limit={limit}"),
        };
        let (status, body) = app.get_json(&path).await;
        assert_eq!(status, 200, "{body}");
        let page = codes(&body);
        assert!(page.len() <= limit);
        all.extend(page);
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    all
}

#[tokio::test]
async fn keyset_pagination_visits_everything_once() {
    let app = spawn_app().await;
    let all = walk(&app, "", 100).await;
    assert_eq!(all.len(), 1388);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, all, "listing without a query is by code, without repeats");

    let q = format!("q={}", url_encode("giấy chứng nhận"));
    let paged = walk(&app, &q, 7).await;
    let (_, one) = app.get_json(&format!("/api/v1/procedures?{q}&limit=100")).await;
    let total = one["total"].as_u64().expect("total") as usize;
    assert_eq!(paged.len(), total);
    assert_eq!(
        &paged[..codes(&one).len()],
        codes(&one).as_slice(),
        "pages follow the ranking"
    );
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_field() {
    let app = spawn_app().await;
    let long = "a".repeat(201);
    for (query, code, field) in [
        ("limit=0", "invalid_parameter", "limit"),
        ("limit=101", "invalid_parameter", "limit"),
        ("limit=abc", "invalid_parameter", "limit"),
        ("cursor=%%%", "invalid_parameter", ""),
        ("cursor=bm9wZQ", "invalid_cursor", "cursor"),
        ("agency=123", "invalid_code", "agency"),
        ("field=a%20b", "invalid_code", "field"),
        ("online=sometimes", "invalid_parameter", "online"),
        ("at_centre=maybe", "invalid_parameter", "at_centre"),
        (&format!("q={long}"), "invalid_parameter", "q"),
        ("colour=red", "invalid_parameter", "colour"),
    ] {
        let (status, body) = app.get_json(&format!("/api/v1/procedures?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        if !field.is_empty() {
            assert_eq!(body["code"], code, "{query}: {body}");
            assert_eq!(body["field"], field, "{query}: {body}");
        }
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, body) = app.get_json("/api/v1/procedures/not-a-code").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("code")));
    let (status, _) = app.get_json("/api/v1/procedures/2.999999").await;
    assert_eq!(status, 404);
    let (status, body) = app.get_json("/api/v1/procedures?province=H99").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "unknown API paths answer JSON"
    );
}

#[tokio::test]
async fn procedure_detail_and_agencies() {
    let app = spawn_app().await;
    let (status, p) = app.get_json("/api/v1/procedures/1.900001").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["code"], "1.900001");
    assert_eq!(p["version"], 1);
    assert!(p["content"]["documents"].as_array().expect("docs").len() >= 2);
    assert!(p["fees"].is_array());
    assert_eq!(p["versions"].as_array().expect("versions").len(), 1);
    let (_, agencies) = app.get_json("/api/v1/agencies").await;
    let items = agencies["items"].as_array().expect("items");
    assert_eq!(items.iter().filter(|a| a["kind"] == "department").count(), 15);
    assert!(
        items
            .iter()
            .any(|a| a["kind"] == "centre" && a["code"] == "000.00.16.H43")
    );
    let (_, fields) = app.get_json("/api/v1/fields?agency=000.00.02.H43").await;
    assert!(
        fields["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|f| f["agency"] == "000.00.02.H43")
    );
    let (_, provinces) = app.get_json("/api/v1/provinces").await;
    assert_eq!(provinces["items"][0]["code"], "000.00.00.H43");
}

fn sample_content() -> Value {
    json!({
        "name": "Cấp giấy phép thử nghiệm hệ thống",
        "field": "XD-01",
        "agency": "000.00.03.H43",
        "level": "province",
        "processing_time": {"amount": 5, "unit": "working_days"},
        "documents": [{"name": "Đơn đề nghị", "originals": 1, "copies": 0, "required": true}],
        "sets": 1,
        "fees": [{"kind": "charge", "name": "Lệ phí", "amount": 100000}],
        "results": ["Giấy phép"],
        "legal_basis": ["Luật Xây dựng"],
        "applicants": ["citizen"],
        "online_mode": "partial",
        "service_level": 3,
        "at_centre": true,
        "steps": [{"name": "Thẩm định", "role": "officer", "budget_hours": 32}]
    })
}

#[tokio::test]
async fn writes_need_the_admin_token() {
    let app = spawn_app().await;
    let r = app
        .client
        .post(app.url("/api/v1/procedures"))
        .json(&json!({"code": "2.000001", "content": sample_content()}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["code"], "unauthorized");
    let r = app
        .client
        .post(app.url("/api/v1/procedures"))
        .bearer_auth("wrong")
        .json(&json!({"code": "2.000001", "content": sample_content()}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn create_edit_and_versions() {
    let app = spawn_app().await;
    let (status, created) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000001", "content": sample_content(), "note": "Thêm mới"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["version"], 1);
    let (status, dup) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000001", "content": sample_content()}),
        )
        .await;
    assert_eq!((status, dup["code"].as_str()), (409, Some("conflict")));

    let mut edited = sample_content();
    let nfd_name: String = "Cấp giấy phép thử nghiệm đã sửa".nfd().collect();
    edited["name"] = json!(nfd_name);
    let (status, v2) = app
        .send_json(
            Method::PUT,
            "/api/v1/procedures/2.000001",
            &json!({"content": edited, "note": "Sửa tên", "expected_version": 1}),
        )
        .await;
    assert_eq!(status, 200, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["name"], "Cấp giấy phép thử nghiệm đã sửa", "stored in NFC");
    assert_eq!(v2["versions"].as_array().expect("v").len(), 2);
    // A stale editor gets a conflict.
    let (status, _) = app
        .send_json(
            Method::PUT,
            "/api/v1/procedures/2.000001",
            &json!({"content": sample_content(), "expected_version": 1}),
        )
        .await;
    assert_eq!(status, 409);
    // The old version stays readable.
    let (status, v1) = app.get_json("/api/v1/procedures/2.000001/versions/1").await;
    assert_eq!(status, 200);
    assert_eq!(v1["name"], "Cấp giấy phép thử nghiệm hệ thống");
    let (status, _) = app.get_json("/api/v1/procedures/2.000001/versions/3").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/api/v1/procedures/2.000001/versions/zero").await;
    assert_eq!(status, 400);
    // Search sees the edit at once.
    let (_, found) = app
        .get_json(&format!("/api/v1/procedures?q={}", url_encode("thu nghiem da sua")))
        .await;
    assert_eq!(codes(&found)[0], "2.000001", "the edited name ranks first");
    let (_, summary) = app.get_json("/api/v1/catalogue/summary").await;
    assert_eq!(summary["procedures"], 1389);
}

#[tokio::test]
async fn bad_bodies_are_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let post_raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/procedures"))
            .bearer_auth(common::ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let r = post_raw("{\"code\": ", "application/json").await.expect("send");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], "invalid_json");
    let r = post_raw("{}", "text/plain").await.expect("send");
    assert_eq!(r.json::<Value>().await.expect("json")["code"], "invalid_content_type");

    let mut unknown = sample_content();
    unknown["colour"] = json!("red");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000002", "content": unknown}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_field")), "{body}");
    assert!(body["field"].as_str().is_some_and(|f| f.contains("colour")), "{body}");

    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "bad", "content": sample_content()}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("code")), "{body}");

    let mut long = sample_content();
    long["name"] = json!("x".repeat(501));
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000002", "content": long}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("name")), "{body}");

    let mut wrong_field = sample_content();
    wrong_field["field"] = json!("TP-01");
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000002", "content": wrong_field}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("field")), "{body}");

    let mut over_budget = sample_content();
    over_budget["steps"][0]["budget_hours"] = json!(1000);
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000002", "content": over_budget}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("steps")), "{body}");

    // The communes a commune-level procedure applies in must be communes (2025 map); a
    // province-level procedure lists none.
    let mut not_a_commune = sample_content();
    not_a_commune["level"] = json!("commune");
    not_a_commune["communes"] = json!([not_a_commune["agency"].clone()]);
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000002", "content": not_a_commune}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("communes[0]")), "{body}");
    let mut province_level = sample_content();
    province_level["communes"] = json!(["000.31.00.H43"]);
    let (status, body) = app
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000002", "content": province_level}),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("communes")), "{body}");

    let huge = json!({"code": "2.000002", "content": sample_content(), "note": "x".repeat(300 * 1024)});
    let (status, body) = app.send_json(Method::POST, "/api/v1/procedures", &huge).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("too_large")), "{body}");

    let (status, _) = app.get_json("/api/v1/procedures/2.000002").await;
    assert_eq!(status, 404, "nothing was written");
}

#[tokio::test]
async fn export_then_import_round_trips_in_json_and_xlsx() {
    let source = spawn_app().await;
    // Give the catalogue some history first.
    let mut edited = sample_content();
    edited["processing_time"]["amount"] = json!(7);
    // Receivable at any centre of the province (2025 map): it travels in both formats.
    edited["receivable"] = json!("anywhere");
    let (status, _) = source
        .send_json(
            Method::POST,
            "/api/v1/procedures",
            &json!({"code": "2.000001", "content": sample_content()}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = source
        .send_json(Method::PUT, "/api/v1/procedures/2.000001", &json!({"content": edited}))
        .await;
    assert_eq!(status, 200);

    let json_export = source
        .client
        .get(source.url("/api/v1/catalogue/export"))
        .send()
        .await
        .expect("export");
    assert_eq!(json_export.status().as_u16(), 200);
    let json_bytes = json_export.bytes().await.expect("bytes");
    let xlsx_export = source
        .client
        .get(source.url("/api/v1/catalogue/export?format=xlsx"))
        .send()
        .await
        .expect("export");
    assert_eq!(
        xlsx_export.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let xlsx_bytes = xlsx_export.bytes().await.expect("bytes");

    for (bytes, content_type) in [
        (json_bytes.clone(), "application/json"),
        (
            xlsx_bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ] {
        let target = spawn_empty_app().await;
        let r = target
            .client
            .post(target.url("/api/v1/catalogue/import"))
            .bearer_auth(common::ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .expect("import");
        assert_eq!(r.status().as_u16(), 200, "{content_type}");
        let report: Value = r.json().await.expect("report");
        assert_eq!(report["provinces"][0]["versions_added"], 1390, "{report}");
        let again = target
            .client
            .get(target.url("/api/v1/catalogue/export"))
            .send()
            .await
            .expect("export")
            .bytes()
            .await
            .expect("bytes");
        let a: Value = serde_json::from_slice(&json_bytes).expect("json");
        let b: Value = serde_json::from_slice(&again).expect("json");
        assert_eq!(a, b, "{content_type} round trip");
        let (_, p) = target.get_json("/api/v1/procedures/2.000001").await;
        assert_eq!(p["version"], 2);
    }

    let (status, body) = source.get_json("/api/v1/catalogue/export?format=pdf").await;
    assert_eq!((status, body["field"].as_str()), (400, Some("format")));
}

#[tokio::test]
async fn a_conflicting_import_writes_nothing() {
    let app = spawn_app().await;
    let export: Value = app
        .client
        .get(app.url("/api/v1/catalogue/export"))
        .send()
        .await
        .expect("export")
        .json()
        .await
        .expect("json");
    let mut changed = export.clone();
    // A new agency (would be written first) and a rewritten history (must be refused).
    changed["provinces"][0]["agencies"]
        .as_array_mut()
        .expect("agencies")
        .push(json!({"code": "000.00.20.H43", "name": "Ban Quản lý các khu công nghiệp", "kind": "department", "parent": "000.00.00.H43"}));
    changed["provinces"][0]["procedures"][5]["versions"][0]["content"]["name"] = json!("Tên đã bị sửa trong lịch sử");
    let r = app
        .client
        .post(app.url("/api/v1/catalogue/import"))
        .bearer_auth(common::ADMIN_TOKEN)
        .json(&changed)
        .send()
        .await
        .expect("import");
    assert_eq!(r.status().as_u16(), 409);
    let (_, agencies) = app.get_json("/api/v1/agencies").await;
    assert!(
        !agencies["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|a| a["code"] == "000.00.20.H43")
    );
    let mut wrong_format = export;
    wrong_format["format_version"] = json!(99);
    let (status, body) = app
        .send_json(Method::POST, "/api/v1/catalogue/import", &wrong_format)
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("format_version")));
}

#[tokio::test]
async fn openapi_matches_the_committed_snapshot() {
    let app = spawn_app().await;
    let served = app.get_text("/api/openapi.json").await;
    let served: Value = serde_json::from_str(&served).expect("json");
    assert_eq!(served["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    for path in [
        "/api/v1/catalogue/summary",
        "/api/v1/agencies",
        "/api/v1/procedures",
        "/api/v1/procedures/{code}",
    ] {
        assert!(served["paths"].get(path).is_some(), "{path} documented");
    }
    // A parameter said to be in the path is in the path: a query parameter documented as a
    // path one (utoipa's default for `IntoParams`) is unusable to clients and starves
    // schemathesis of examples.
    let mut misplaced = Vec::new();
    for (path, ops) in served["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap_or_default();
                if p["in"] == "path" && !path.contains(&format!("{{{name}}}")) {
                    misplaced.push(format!("{method} {path}: {name}"));
                }
            }
        }
    }
    assert!(
        misplaced.is_empty(),
        "path parameters missing from their path: {misplaced:?}"
    );
    let snapshot_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api/openapi.json");
    let current = motcua_server::api::openapi_json();
    if std::env::var("MOTCUA_UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(snapshot_path, format!("{current}\n")).expect("write snapshot");
    }
    let committed = std::fs::read_to_string(snapshot_path)
        .expect("docs/api/openapi.json (set MOTCUA_UPDATE_SNAPSHOTS=1 to create)");
    // A plain comparison: the whole document in a failure message would drown the reason.
    assert!(
        committed.trim_end() == current,
        "OpenAPI changed: review `git diff docs/api/openapi.json` after running with MOTCUA_UPDATE_SNAPSHOTS=1"
    );
}

/// utoipa names a schema after its Rust type and silently keeps one of two types that share
/// a name: the one-time code's `Channel` once documented the registration answer with the
/// dossier's channels. Every type deriving `ToSchema` must have a name of its own (or an
/// explicit `#[schema(as = ...)]`).
#[test]
fn no_two_schema_types_share_a_name() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let crates = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut files = Vec::new();
    for krate in ["core", "server", "store"] {
        let src = crates.join(krate).join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(!files.is_empty(), "sources found under {}", crates.display());
    let mut seen: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut clashes = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read source");
        let mut derives_schema = false;
        let mut renamed = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[") {
                derives_schema |= line.contains("ToSchema");
                renamed |= line.starts_with("#[schema(as");
                continue;
            }
            if line.starts_with("///") || line.starts_with("//") || line.is_empty() {
                continue;
            }
            let item = line
                .strip_prefix("pub ")
                .or_else(|| line.strip_prefix("pub(crate) "))
                .unwrap_or(line);
            let name = item
                .strip_prefix("struct ")
                .or_else(|| item.strip_prefix("enum "))
                .map(|rest| {
                    rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or("")
                });
            if let (Some(name), true, false) = (name, derives_schema, renamed) {
                let here = file.display().to_string();
                if let Some(before) = seen.insert(name.to_owned(), here.clone()) {
                    clashes.push(format!("{name}: {before} and {here}"));
                }
            }
            derives_schema = false;
            renamed = false;
        }
    }
    assert!(seen.len() > 20, "schema types found: {}", seen.len());
    assert!(clashes.is_empty(), "schema types sharing a name: {clashes:#?}");
}
