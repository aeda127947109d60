//! Counter intake through the API: the applicant, the checklist received, filing; and the
//! steps that take a file: a supplement handed in, the leader's signed result.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::api::{act_ok, post, procedure_content};
use super::files::upload_pdf;
use super::{LLTP, Session, TestApp};

/// How the applicant of a test dossier can be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not at all: a name and an identity number only.
    Nowhere,
    /// By phone (a company's landline, a person's mobile), at an address.
    Phone,
    /// By phone and email, at an address.
    PhoneAndEmail,
    /// By mobile phone and email whoever applies, so that both an SMS and an email go out.
    MobileAndEmail,
}

/// The applicant the procedure's first kind of applicant calls for (a company or a
/// person), reachable as `reach` says.
pub fn applicant(content: &Value, reach: Reach) -> Value {
    let organisation = content["applicants"][0] == "organisation";
    let mut a = if organisation {
        json!({"kind": "organisation", "name": "Công ty TNHH Nắng Gió", "id_number": "4500123456"})
    } else {
        json!({"kind": "citizen", "name": "Nguyễn Văn An", "id_number": "058190000123"})
    };
    if reach == Reach::Nowhere {
        return a;
    }
    let mobile = !organisation || reach == Reach::MobileAndEmail;
    a["phone"] = json!(if mobile { "0912345678" } else { "0259 3822 111" });
    match reach {
        Reach::PhoneAndEmail if organisation => a["email"] = json!("lienhe@nanggio.vn"),
        Reach::PhoneAndEmail | Reach::MobileAndEmail => a["email"] = json!("an@example.vn"),
        Reach::Nowhere | Reach::Phone => {}
    }
    a["address"] = json!("Phan Rang - Tháp Chàm");
    a
}

/// Every required document of the checklist in `content`, received with the originals
/// and copies it asks for.
pub fn required_documents(content: &Value) -> Vec<Value> {
    content["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .enumerate()
        .filter(|(_, d)| d["required"] == true)
        .map(|(i, d)| json!({"index": i, "originals": d["originals"], "copies": d["copies"]}))
        .collect()
}

/// The counter's intake of `procedure` with every required document received, for an
/// applicant reachable as `reach`: the body to file (a test adds what it needs).
pub async fn counter_intake(app: &TestApp, procedure: &str, reach: Reach) -> Value {
    let content = procedure_content(app, procedure).await;
    json!({
        "procedure": procedure,
        "applicant": applicant(&content, reach),
        "documents": required_documents(&content),
    })
}

/// The counter's intake of the judicial record ([`LLTP`]) with every required document
/// received, for a citizen reachable by phone.
pub async fn judicial_record_intake(app: &TestApp) -> Value {
    let content = procedure_content(app, LLTP).await;
    json!({
        "procedure": LLTP,
        "applicant": {"kind": "citizen", "name": "Nguyễn Văn An", "id_number": "058190000123",
                      "phone": "0912345678", "address": "Phan Rang - Tháp Chàm"},
        "documents": required_documents(&content),
    })
}

/// Files the dossier `body` describes as `s` (201): the new dossier.
pub async fn file_dossier(app: &TestApp, s: &Session, body: Value) -> Value {
    let (status, v) = post(app, s, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v
}

/// Files a dossier of `procedure` at the counter with every required document received,
/// for an applicant reachable by phone and email: the new dossier.
pub async fn file_at_counter(app: &TestApp, counter: &Session, procedure: &str) -> Value {
    let body = counter_intake(app, procedure, Reach::PhoneAndEmail).await;
    file_dossier(app, counter, body).await
}

/// The leader signs dossier `code`'s result: uploads it as `result_name` and finishes
/// ("Đã ký"); the answer.
pub async fn finish(app: &TestApp, leader: &Session, code: &str, result_name: &str) -> Value {
    let result = upload_pdf(app, leader, result_name).await;
    act_ok(
        app,
        leader,
        code,
        "finish",
        json!({"result_files": [result], "note": "Đã ký"}),
    )
    .await
}

/// `s` hands in the supplement dossier `code` waits for: a scan uploaded as `scan_name`,
/// with `note`; the answer.
pub async fn supplement(app: &TestApp, s: &Session, code: &str, scan_name: &str, note: &str) -> Value {
    let scan = upload_pdf(app, s, scan_name).await;
    act_ok(
        app,
        s,
        code,
        "receive-supplement",
        json!({"files": [scan], "note": note}),
    )
    .await
}

/// The body `#filing` builds: every checklist row's hidden index (`documents.N.index`,
/// `data-type="int"`) and the ids its upload input kept (`documents.N.files[]`), the
/// applicant's fields, the delivery radio. Rows without files stay in the list.
pub fn filing_body(code: &str, content: &Value, files: &[(usize, String)]) -> Value {
    let documents: Vec<Value> = (0..content["documents"].as_array().expect("documents").len())
        .map(|i| {
            let mine: Vec<&String> = files.iter().filter(|(j, _)| *j == i).map(|(_, id)| id).collect();
            if mine.is_empty() {
                json!({"index": i})
            } else {
                json!({"index": i, "files": mine})
            }
        })
        .collect();
    let kind = content["applicants"][0].as_str().expect("kind");
    let id_number = if kind == "organisation" {
        "4500123456"
    } else {
        "058190000123"
    };
    json!({
        "procedure": code,
        "applicant": {"kind": kind, "name": "Nguyễn Văn Dân", "id_number": id_number,
                      "phone": "0912345678", "email": "dan@example.vn", "address": "Phan Rang - Tháp Chàm"},
        "documents": documents,
        "delivery": "counter",
        "note": "Nộp qua trang Nộp hồ sơ trực tuyến"
    })
}

/// Files `code` online as `citizen`, uploading one PDF for each required document.
pub async fn file_online(app: &TestApp, citizen: &Session, code: &str) -> String {
    let content = procedure_content(app, code).await;
    let mut files = Vec::new();
    for (i, d) in content["documents"].as_array().expect("documents").iter().enumerate() {
        if d["required"] == true {
            files.push((i, upload_pdf(app, citizen, &format!("giay-to-{i}.pdf")).await));
        }
    }
    let (status, v) = post(app, citizen, "/api/v1/dossiers", filing_body(code, &content, &files)).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["channel"], "online");
    assert_eq!(v["status_code"], 1);
    v["code"].as_str().expect("code").to_owned()
}

/// A dossier of Sở Xây dựng received at the counter, handed to the department, whose
/// leader asks for `fee` đồng: its code (status 6, awaiting payment).
pub async fn awaiting_payment(app: &TestApp, fee: u64) -> String {
    let [counter, leader] = super::sign_in_each(app, ["tiepnhan", "ld.xaydung"]).await;
    let procedure = super::api::procedure_of(app, super::CONSTRUCTION).await;
    let body = counter_intake(app, &procedure, Reach::Phone).await;
    let code = super::api::code_of(&file_dossier(app, &counter, body).await);
    act_ok(app, &counter, &code, "transfer", json!({})).await;
    let v = act_ok(
        app,
        &leader,
        &code,
        "request-payment",
        json!({"amount": fee, "note": "Lệ phí cấp giấy phép"}),
    )
    .await;
    assert_eq!(v["status_code"], 6);
    code
}
