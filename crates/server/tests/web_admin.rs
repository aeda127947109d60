//! The administration pages: who may see them, and that their forms' API calls work with
//! the bodies the forms build (read from the rendered form, serialised as app.js does).

mod common;

use common::api::{delete, put};

use common::pages::{light_page_ok, page};
use common::{Session, TestApp, sign_in, sign_in_each, spawn_app, with_csrf};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CATALOGUE_PAGES: &[&str] = &[
    "/quan-tri",
    "/quan-tri/thu-tuc",
    "/quan-tri/thu-tuc/moi",
    "/quan-tri/co-quan",
];
const SYSTEM_PAGES: &[&str] = &[
    "/quan-tri/nguoi-dung",
    "/quan-tri/lich?nam=2025",
    "/quan-tri/ma-truy-cap",
    "/quan-tri/nhat-ky",
];

async fn first_procedure(app: &TestApp) -> String {
    let (status, list) = app.get_json("/api/v1/procedures?limit=1").await;
    assert_eq!(status, 200);
    list["items"][0]["code"].as_str().expect("code").to_owned()
}

// ---------------------------------------------------------------------------------------
// A small reader of the rendered forms, and app.js's serialisation of them.

/// One control of a form, in document order.
#[derive(Debug, Clone)]
struct Control {
    name: String,
    value: String,
    kind: String,
    data_type: String,
    checked: bool,
    required: bool,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The attributes of the tag starting at `s` (just after its name), and where it ends.
fn attributes(s: &str) -> (Vec<(String, String)>, usize) {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return (out, i + 1);
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' && bytes[i] != b'>' {
            i += 1;
        }
        let name = s[start..i].to_owned();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            let quote = bytes[i];
            assert_eq!(quote, b'"', "unquoted attribute {name}");
            let end = i + 1 + s[i + 1..].find('"').expect("closing quote");
            out.push((name, unescape(&s[i + 1..end])));
            i = end + 1;
        } else {
            out.push((name, String::new()));
        }
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The form with `id` in `html`: its `data-api`, `data-method` and controls.
fn read_form(html: &str, id: &str) -> (String, String, Vec<Control>) {
    let start = html
        .find(&format!("<form id=\"{id}\""))
        .unwrap_or_else(|| panic!("form #{id}"));
    let end = start + html[start..].find("</form>").expect("form end");
    let form = &html[start..end];
    let (form_attrs, _) = attributes(&form[5..]);
    let api = attr(&form_attrs, "data-api").expect("data-api").to_owned();
    let method = attr(&form_attrs, "data-method").unwrap_or("POST").to_owned();
    let mut controls = Vec::new();
    let mut pos = 0;
    while let Some(off) = form[pos..].find('<') {
        let at = pos + off + 1;
        let tag: String = form[at..].chars().take_while(char::is_ascii_alphanumeric).collect();
        let (attrs, len) = attributes(&form[at + tag.len()..]);
        pos = at + tag.len() + len;
        let Some(name) = attr(&attrs, "name") else { continue };
        let mut c = Control {
            name: name.to_owned(),
            value: attr(&attrs, "value").unwrap_or_default().to_owned(),
            kind: attr(&attrs, "type").unwrap_or(&tag).to_owned(),
            data_type: attr(&attrs, "data-type").unwrap_or_default().to_owned(),
            checked: attr(&attrs, "checked").is_some(),
            required: attr(&attrs, "required").is_some(),
        };
        match tag.as_str() {
            "textarea" => {
                let close = pos + form[pos..].find("</textarea>").expect("textarea end");
                c.value = unescape(&form[pos..close]);
                c.kind = "textarea".to_owned();
            }
            "select" => {
                let close = pos + form[pos..].find("</select>").expect("select end");
                let options = &form[pos..close];
                let mut first = None;
                let mut selected = None;
                let mut p = 0;
                while let Some(o) = options[p..].find("<option") {
                    let (oa, len) = attributes(&options[p + o + 7..]);
                    let v = attr(&oa, "value").unwrap_or_default().to_owned();
                    first.get_or_insert(v.clone());
                    if attr(&oa, "selected").is_some() {
                        selected = Some(v);
                    }
                    p += o + 7 + len;
                }
                c.value = selected.or(first).unwrap_or_default();
                c.kind = "select".to_owned();
            }
            "input" | "button" => {}
            _ => continue,
        }
        if c.kind == "submit" || c.kind == "button" || c.kind == "file" {
            continue;
        }
        controls.push(c);
    }
    (api, method, controls)
}

/// Sets a control's value as a person would type it.
fn set(controls: &mut [Control], name: &str, value: &str) {
    let c = controls
        .iter_mut()
        .find(|c| c.name == name && c.kind != "hidden")
        .unwrap_or_else(|| panic!("no control {name}"));
    c.value = value.to_owned();
}

/// Ticks the checkbox `name` with `value`.
fn tick(controls: &mut [Control], name: &str, value: &str) {
    let c = controls
        .iter_mut()
        .find(|c| c.name == name && c.value == value)
        .unwrap_or_else(|| panic!("no checkbox {name}={value}"));
    c.checked = true;
}

fn set_path(body: &mut Value, path: &str, value: Value) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = body;
    for (i, part) in parts.iter().enumerate() {
        let (key, append) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (*part, false),
        };
        let last = i == parts.len() - 1;
        let next_is_index = !last && parts[i + 1].trim_end_matches("[]").parse::<usize>().is_ok();
        if let Ok(idx) = key.parse::<usize>() {
            let arr = cur.as_array_mut().expect("array");
            while arr.len() <= idx {
                arr.push(Value::Null);
            }
            if last {
                arr[idx] = value;
                return;
            }
            if !arr[idx].is_object() && !arr[idx].is_array() {
                arr[idx] = if next_is_index { json!([]) } else { json!({}) };
            }
            cur = &mut arr[idx];
            continue;
        }
        let obj = cur.as_object_mut().expect("object");
        if last {
            if append {
                let list = obj.entry(key).or_insert_with(|| json!([]));
                if !list.is_array() {
                    *list = json!([]);
                }
                list.as_array_mut().expect("array").push(value);
            } else {
                obj.insert(key.to_owned(), value);
            }
            return;
        }
        assert!(!append, "appending objects is not used by these forms");
        let entry = obj.entry(key).or_insert(Value::Null);
        if !entry.is_object() && !entry.is_array() {
            *entry = if next_is_index { json!([]) } else { json!({}) };
        }
        cur = entry;
    }
}

fn compact(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.into_iter().filter(|x| !x.is_null()).map(compact).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, compact(v))).collect()),
        v => v,
    }
}

/// The JSON body app.js builds from these controls.
fn form_body(controls: &[Control]) -> Value {
    let mut body = json!({});
    for c in controls {
        let value = if c.kind == "checkbox" || c.kind == "radio" {
            if c.data_type == "bool" && c.kind == "checkbox" {
                Value::Bool(c.checked)
            } else if !c.checked {
                continue;
            } else {
                Value::String(c.value.clone())
            }
        } else {
            if c.value.trim().is_empty() && !c.required {
                continue;
            }
            match c.data_type.as_str() {
                "int" => c
                    .value
                    .trim()
                    .parse::<i64>()
                    .map_or_else(|_| Value::String(c.value.clone()), Value::from),
                "bool" => Value::Bool(c.value == "true"),
                "lines" => Value::Array(
                    c.value
                        .split('\n')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(|l| Value::String(l.to_owned()))
                        .collect(),
                ),
                "json" => serde_json::from_str(&c.value).unwrap_or(Value::String(c.value.clone())),
                _ => Value::String(c.value.clone()),
            }
        };
        set_path(&mut body, &c.name, value);
    }
    compact(body)
}

/// `{key}` of a `data-api` filled from the body, as app.js does.
fn fill(template: &str, body: &Value) -> String {
    let mut out = template.to_owned();
    while let Some(start) = out.find('{') {
        let end = start + out[start..].find('}').expect("closing brace");
        let key = &out[start + 1..end];
        let v = body
            .pointer(&format!("/{}", key.replace('.', "/")))
            .cloned()
            .unwrap_or(Value::Null);
        let text = match v {
            Value::String(s) => s,
            Value::Null => String::new(),
            v => v.to_string(),
        };
        out.replace_range(start..=end, &text);
    }
    out
}

async fn submit(app: &TestApp, s: &Session, api: &str, method: &str, body: &Value) -> (StatusCode, Value) {
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    with_csrf(app, s, method, &fill(api, body), Some(body.clone())).await
}

// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn pages_open_to_the_right_roles_only() {
    let app = spawn_app().await;
    let code = first_procedure(&app).await;
    let edit = format!("/quan-tri/thu-tuc/{code}");
    let [quantri, danhmuc, tiepnhan, congdan] = sign_in_each(&app, ["quantri", "danhmuc", "tiepnhan", "congdan"]).await;

    for path in CATALOGUE_PAGES.iter().copied().chain([edit.as_str()]) {
        light_page_ok(&app, &quantri, path).await;
        light_page_ok(&app, &danhmuc, path).await;
    }
    for path in SYSTEM_PAGES {
        light_page_ok(&app, &quantri, path).await;
        let (status, body) = page(&app, Some(&danhmuc), path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(body.contains("Bạn không có quyền"), "{body}");
    }
    for path in CATALOGUE_PAGES
        .iter()
        .chain(SYSTEM_PAGES)
        .copied()
        .chain([edit.as_str()])
    {
        for s in [&tiepnhan, &congdan] {
            let (status, _) = page(&app, Some(s), path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        let (status, location) = page(&app, None, path).await;
        assert!(status.is_redirection(), "{path}: {status}");
        assert!(location.starts_with("/dang-nhap?next=%2Fquan-tri"), "{location}");
    }

    // The home shows what each administrator may open.
    let home = light_page_ok(&app, &quantri, "/quan-tri").await;
    for link in [
        "/quan-tri/thu-tuc",
        "/quan-tri/co-quan",
        "/quan-tri/nguoi-dung",
        "/quan-tri/lich",
        "/quan-tri/ma-truy-cap",
        "/quan-tri/nhat-ky",
        "/van-hanh/chuyen-phat",
    ] {
        assert!(home.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let home = light_page_ok(&app, &danhmuc, "/quan-tri").await;
    assert!(home.contains("/quan-tri/thu-tuc") && !home.contains("/quan-tri/nguoi-dung"));

    // The agency tree and the procedure list show the demo catalogue.
    let agencies = light_page_ok(&app, &danhmuc, "/quan-tri/co-quan").await;
    assert!(agencies.contains("Sở Xây dựng"), "agency tree");
    let list = light_page_ok(&app, &danhmuc, &format!("/quan-tri/thu-tuc?q={code}")).await;
    assert!(list.contains(&format!("/quan-tri/thu-tuc/{code}")));
    let (status, _) = page(&app, Some(&danhmuc), "/quan-tri/thu-tuc/1.999999.000.00.00.H43").await;
    assert!(status.is_client_error(), "{status}");
}

#[tokio::test]
async fn the_procedure_form_saves_a_new_version_and_refuses_a_stale_one() {
    let app = spawn_app().await;
    let code = first_procedure(&app).await;
    let danhmuc = sign_in(&app, "danhmuc").await;
    let path = format!("/quan-tri/thu-tuc/{code}");
    let html = light_page_ok(&app, &danhmuc, &path).await;
    assert!(html.contains("Phiên bản hiện tại: <strong>1</strong>"), "version 1");

    // Submitting the form untouched but for a few fields keeps everything else as it was.
    let (api, method, mut controls) = read_form(&html, "procedure-edit");
    assert_eq!(
        (api.as_str(), method.as_str()),
        (format!("/api/v1/procedures/{code}").as_str(), "PUT")
    );
    let (_, before) = app.get_json(&format!("/api/v1/procedures/{code}")).await;
    let untouched = form_body(&controls);
    assert_eq!(untouched["expected_version"], 1);
    // Sent untouched, the form says exactly what the procedure says: no new version.
    let (status, same) = submit(&app, &danhmuc, &api, &method, &untouched).await;
    assert_eq!(status, StatusCode::OK, "{same}");
    assert_eq!(same["version"], 1, "the form round-trips the content");

    let docs = before["content"]["documents"].as_array().expect("documents").len();
    set(&mut controls, "content.name", "Tên thủ tục đã sửa qua trang quản trị");
    set(&mut controls, "note", "Sửa thử");
    set(
        &mut controls,
        &format!("content.documents.{docs}.name"),
        "Giấy tờ thêm mới",
    );
    set(&mut controls, &format!("content.documents.{docs}.originals"), "1");
    set(&mut controls, &format!("content.documents.{docs}.copies"), "0");
    set(&mut controls, &format!("content.documents.{docs}.required"), "false");
    let body = form_body(&controls);
    let (status, saved) = submit(&app, &danhmuc, &api, &method, &body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["content"]["documents"].as_array().expect("docs").len(), docs + 1);

    let html = light_page_ok(&app, &danhmuc, &format!("{path}?da-luu=2")).await;
    assert!(html.contains("Đã lưu phiên bản 2."));
    assert!(html.contains("Phiên bản hiện tại: <strong>2</strong>"));
    assert!(html.contains("Tên thủ tục đã sửa qua trang quản trị"));
    assert!(html.contains("Giấy tờ thêm mới"));
    assert!(html.contains("<td>Sửa thử</td>"), "the version list shows the note");

    // The same form, sent again from the page as it was before (version 1): refused.
    let (status, err) = submit(&app, &danhmuc, &api, &method, &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(
        err["message"].as_str().expect("message").contains("đã được sửa"),
        "{err}"
    );

    // A domain error names the field the form marks.
    let (_, _, mut controls) = read_form(&html, "procedure-edit");
    set(&mut controls, "content.name", " ");
    let c = controls.iter_mut().find(|c| c.name == "content.name").expect("name");
    c.required = true;
    let (status, err) = submit(&app, &danhmuc, &api, &method, &form_body(&controls)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        html.contains(&format!("data-field=\"{}\"", err["field"].as_str().expect("field"))),
        "{err}"
    );

    // More empty rows on request, and an older version loaded into the form.
    let html = light_page_ok(&app, &danhmuc, &format!("{path}?rows=5&phien-ban=1")).await;
    // Version 1 had `docs` documents: they, then five empty rows.
    assert!(html.contains(&format!("name=\"content.documents.{}.name\"", docs + 4)));
    assert!(!html.contains(&format!("name=\"content.documents.{}.name\"", docs + 5)));
    assert!(html.contains("nội dung của phiên bản 1"));
    assert!(
        !html.contains("Tên thủ tục đã sửa qua trang quản trị"),
        "version 1's name is in the form"
    );
}

#[tokio::test]
async fn a_new_procedure_from_the_form() {
    let app = spawn_app().await;
    let danhmuc = sign_in(&app, "danhmuc").await;
    let html = light_page_ok(&app, &danhmuc, "/quan-tri/thu-tuc/moi").await;
    let (api, method, mut controls) = read_form(&html, "procedure-edit");
    assert_eq!((api.as_str(), method.as_str()), ("/api/v1/procedures", "POST"));
    let (_, some) = app
        .get_json(&format!("/api/v1/procedures/{}", first_procedure(&app).await))
        .await;
    set(&mut controls, "code", "1.999001.000.00.00.H43");
    set(&mut controls, "content.name", "Thủ tục thử nghiệm");
    set(
        &mut controls,
        "content.agency",
        some["content"]["agency"].as_str().expect("agency"),
    );
    set(
        &mut controls,
        "content.field",
        some["content"]["field"].as_str().expect("field"),
    );
    set(&mut controls, "content.processing_time.amount", "5");
    set(&mut controls, "content.documents.0.name", "Đơn đề nghị");
    set(&mut controls, "content.documents.0.originals", "1");
    set(&mut controls, "content.documents.0.copies", "0");
    set(&mut controls, "content.documents.0.required", "true");
    set(&mut controls, "content.fees.0.kind", "charge");
    set(&mut controls, "content.fees.0.name", "Lệ phí");
    set(&mut controls, "content.fees.0.amount", "50000");
    set(&mut controls, "content.steps.0.name", "Thẩm định");
    set(&mut controls, "content.steps.0.role", "officer");
    set(&mut controls, "content.steps.0.budget_hours", "16");
    set(&mut controls, "content.results", "Giấy chứng nhận");
    let (status, created) = submit(&app, &danhmuc, &api, &method, &form_body(&controls)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["content"]["fees"][0]["amount"], 50000);
    let html = light_page_ok(&app, &danhmuc, "/quan-tri/thu-tuc/1.999001.000.00.00.H43").await;
    assert!(html.contains("Thủ tục thử nghiệm") && html.contains("Lệ phí"));
}

#[tokio::test]
async fn a_calendar_day_edit_shows_on_the_calendar() {
    let app = spawn_app().await;
    let quantri = sign_in(&app, "quantri").await;
    let html = light_page_ok(&app, &quantri, "/quan-tri/lich?nam=2025&ngay=2025-05-05").await;
    assert!(html.contains("value=\"2025-05-05\""), "the picked day is in the form");
    let (api, method, mut controls) = read_form(&html, "calendar-day");
    set(&mut controls, "kind", "day_off");
    set(&mut controls, "reason", "Nghỉ thử nghiệm của tỉnh");
    let body = form_body(&controls);
    assert_eq!(
        body,
        json!({"date": "2025-05-05", "kind": "day_off", "reason": "Nghỉ thử nghiệm của tỉnh"})
    );
    let (status, days) = submit(&app, &quantri, &api, &method, &body).await;
    assert_eq!(status, StatusCode::OK, "{days}");
    assert_eq!(days["year"], 2025);

    let html = light_page_ok(&app, &quantri, "/quan-tri/lich?nam=2025").await;
    assert!(html.contains("Nghỉ thử nghiệm của tỉnh"));
    assert!(html.contains("05/05/2025"));
    // Public holidays are there without any edit.
    assert!(html.contains("02/09/2025"), "National Day");

    // A mismatched date is refused; a reason is required.
    let (status, _) = put(
        &app,
        &quantri,
        "/api/v1/calendar/days/2025-05-06",
        json!({"date": "2025-05-07", "kind": "default"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Back to the default through the adjustment's own form.
    let (status, _) = put(
        &app,
        &quantri,
        "/api/v1/calendar/days/2025-05-05",
        json!({"kind": "default"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let html = light_page_ok(&app, &quantri, "/quan-tri/lich?nam=2025").await;
    assert!(!html.contains("Nghỉ thử nghiệm của tỉnh"));
}

#[tokio::test]
async fn users_and_tokens_from_their_forms() {
    let app = spawn_app().await;
    let quantri = sign_in(&app, "quantri").await;
    let html = light_page_ok(&app, &quantri, "/quan-tri/nguoi-dung").await;
    assert!(
        html.contains("tiepnhan") && html.contains("Cán bộ tiếp nhận"),
        "users with roles"
    );
    let (api, method, mut controls) = read_form(&html, "user-create");
    set(&mut controls, "username", "cv.thu");
    set(&mut controls, "display_name", "Cán Bộ Thử");
    set(&mut controls, "grants.0.role", "counter_officer");
    let body = form_body(&controls);
    assert_eq!(body["grants"], json!([{"role": "counter_officer"}]));
    let (status, created) = submit(&app, &quantri, &api, &method, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["one_time_password"].as_str().is_some_and(|p| p.len() >= 12));
    let html = light_page_ok(&app, &quantri, "/quan-tri/nguoi-dung?q=cv.thu").await;
    assert!(html.contains("Cán Bộ Thử") && html.contains("Phải đổi mật khẩu"));
    assert!(!html.contains("tiepnhan"), "the search filters");
    let id = created["user"]["id"].as_str().expect("id");
    let account = format!("/quan-tri/nguoi-dung/{id}");
    assert!(html.contains(&format!("href=\"{account}\"")));

    // The account's page: its forms, for system administrators only.
    let html = light_page_ok(&app, &quantri, &account).await;
    assert!(html.contains(&format!("data-api=\"/api/v1/admin/users/{id}/reset-password\"")));
    let danhmuc = sign_in(&app, "danhmuc").await;
    assert_eq!(page(&app, Some(&danhmuc), &account).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        page(&app, Some(&quantri), "/quan-tri/nguoi-dung/khong-co").await.0,
        StatusCode::NOT_FOUND
    );

    // The grants form of that user: add a second role.
    let (api, method, mut controls) = read_form(&html, "user-grants");
    set(&mut controls, "grants.1.role", "centre_director");
    let (status, user) = submit(&app, &quantri, &api, &method, &form_body(&controls)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["grants"].as_array().expect("grants").len(), 2);

    // Reset password, through the button's target.
    let (status, reset) = with_csrf(
        &app,
        &quantri,
        Method::POST,
        &format!("/api/v1/admin/users/{id}/reset-password"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert!(reset["one_time_password"].is_string());

    // Tokens: create from the form, see it listed, revoke it.
    let html = light_page_ok(&app, &quantri, "/quan-tri/ma-truy-cap").await;
    let (api, method, mut controls) = read_form(&html, "token-create");
    set(&mut controls, "name", "Cổng dịch vụ công thử");
    tick(&mut controls, "scopes[]", "dossiers:read");
    let body = form_body(&controls);
    assert_eq!(
        body,
        json!({"name": "Cổng dịch vụ công thử", "scopes": ["dossiers:read"], "expires_in_days": 90}),
        "a term of 90 days unless changed"
    );
    // A term past the longest is refused at the field.
    set(&mut controls, "expires_in_days", "400");
    let (status, e) = submit(&app, &quantri, &api, &method, &form_body(&controls)).await;
    assert_eq!(
        (status, e["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("expires_in_days")),
        "{e}"
    );
    assert!(html.contains(r#"max="365""#));
    let (status, token) = submit(&app, &quantri, &api, &method, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let day = 86_400_000;
    let term = token["expires_at"].as_i64().expect("expires_at") - motcua_server::now_ms();
    assert!((89 * day..=90 * day).contains(&term), "{token}");
    assert!(token["token"].as_str().is_some_and(|t| t.starts_with("mc_")));
    let token_id = token["id"].as_str().expect("id");
    let html = light_page_ok(&app, &quantri, "/quan-tri/ma-truy-cap").await;
    assert!(html.contains("Cổng dịch vụ công thử") && html.contains("Đang hiệu lực"));
    assert!(
        !html.contains(token["token"].as_str().expect("secret")),
        "the secret is never listed"
    );
    let revoke = format!("/api/v1/admin/tokens/{token_id}");
    assert!(html.contains(&format!("data-api=\"{revoke}\" data-method=\"DELETE\"")));
    let (status, _) = delete(&app, &quantri, &revoke).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let html = light_page_ok(&app, &quantri, "/quan-tri/ma-truy-cap").await;
    assert!(html.contains("Đã thu hồi"));

    // The audit trail shows all this, and filters.
    let html = light_page_ok(&app, &quantri, "/quan-tri/nhat-ky").await;
    for action in ["user.create", "user.grants", "token.create", "token.revoke"] {
        assert!(html.contains(&format!("<code>{action}</code>")), "{action}");
    }
    let html = light_page_ok(&app, &quantri, "/quan-tri/nhat-ky?thao-tac=token.revoke").await;
    assert!(html.contains("<code>token.revoke</code>") && !html.contains("<code>user.create</code>"));
    let html = light_page_ok(&app, &quantri, "/quan-tri/nhat-ky?tu=2000-01-01&den=2000-01-02").await;
    assert!(html.contains("Không có bản ghi nào khớp."));
    let html = light_page_ok(&app, &quantri, "/quan-tri/nhat-ky?tu=hom-qua").await;
    assert!(html.contains("không hợp lệ"));
}

#[tokio::test]
async fn agencies_and_fields_from_their_forms() {
    let app = spawn_app().await;
    let danhmuc = sign_in(&app, "danhmuc").await;
    let html = light_page_ok(&app, &danhmuc, "/quan-tri/co-quan").await;
    let (api, method, mut controls) = read_form(&html, "agency-edit");
    set(&mut controls, "code", "000.00.40.H43");
    set(&mut controls, "name", "Sở Thử nghiệm");
    set(&mut controls, "phone", "0259 000 000");
    let body = form_body(&controls);
    assert_eq!(body["parent"], "000.00.00.H43", "a new agency sits under the province");
    let (status, agency) = submit(&app, &danhmuc, &api, &method, &body).await;
    assert_eq!(status, StatusCode::OK, "{agency}");
    assert_eq!(agency["kind"], "department");

    // Edit it: the form comes back filled.
    let html = light_page_ok(&app, &danhmuc, "/quan-tri/co-quan?sua=000.00.40.H43").await;
    assert!(html.contains("Sở Thử nghiệm") && html.contains("Sửa cơ quan 000.00.40.H43"));
    let (api, method, mut controls) = read_form(&html, "agency-edit");
    set(&mut controls, "name", "Sở Thử nghiệm và Đổi mới");
    let (status, agency) = submit(&app, &danhmuc, &api, &method, &form_body(&controls)).await;
    assert_eq!(status, StatusCode::OK, "{agency}");
    assert_eq!(agency["phone"], "0259 000 000", "what was not changed stays");

    // A field of it.
    let (api, method, mut controls) = read_form(&html, "field-edit");
    set(&mut controls, "code", "G40-TN");
    set(&mut controls, "name", "Lĩnh vực thử");
    set(&mut controls, "agency", "000.00.40.H43");
    let (status, field) = submit(&app, &danhmuc, &api, &method, &form_body(&controls)).await;
    assert_eq!(status, StatusCode::OK, "{field}");
    let html = light_page_ok(&app, &danhmuc, "/quan-tri/co-quan").await;
    assert!(html.contains("Sở Thử nghiệm và Đổi mới") && html.contains("Lĩnh vực thử"));

    // The tree stays a tree; a counter officer may not edit it.
    let (status, err) = put(
        &app,
        &danhmuc,
        "/api/v1/admin/agencies/000.00.40.H43",
        json!({"name": "X", "kind": "department", "parent": "000.00.41.H43"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "parent");
    let tiepnhan = sign_in(&app, "tiepnhan").await;
    let (status, _) = put(
        &app,
        &tiepnhan,
        "/api/v1/admin/fields/G40-TN",
        json!({"name": "X", "agency": "000.00.40.H43"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_secret_script_is_served() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/quan-tri/admin.js"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/javascript")
    );
    assert!(r.text().await.expect("text").contains("api:done"));
}
