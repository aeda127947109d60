//! Results signed at finish, and procedures that require signed results (issue 22), on the
//! backend the test run selects. A leader of Sở Xây dựng finishes a dossier: after the
//! finish commits, the form queue signs each result PDF with the leader's own key and then
//! the department's (two incremental updates, a signature already in a file kept intact);
//! what is downloaded is the signed copy, recorded with its SHA-256; pyHanko and pdfsig
//! accept both signatures; the staff's and the applicant's pages say the result is signed.
//! A procedure set to `required` refuses a finish whose result is unsigned, altered after
//! signing, signed under a CA nobody trusts or not a PDF, and accepts one signed by pyHanko
//! with the test CA.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when it starts and the server reads the PIN from its
//! environment: each test makes the PKI and token, then runs itself as a child with both set.

mod common;

use std::path::PathBuf;

use common::api::{act, act_ok, code_of, get, procedure_content, put};
use common::files::{download, upload};
use common::intake::{file_at_counter, file_online};
use common::pages::page_ok;
use common::signing::{in_child, pdfsig, pyhanko_sign, pyhanko_validate, screenshot_pdf};
use common::{CONSTRUCTION, Session, TestApp, sign_in_each, spawn_app_at_with};
use motcua_server::config::SigningKey;
use motcua_sign::testing::{Pki, SOFTHSM_MODULE, TOKEN_LABEL};
use motcua_sign::{SignatureReport, Verdict};
use motcua_store::result_signings::{self, SigningState};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::datetime;

const CHILD: &str = "MOTCUA_SIGNED_RESULTS_TEST_DIR";
const PIN_ENV: &str = "MOTCUA_TEST_RESULTS_PIN";
/// The department's username of its leader in the demo data.
const LEADER: &str = "ld.xaydung";

/// A one-page PDF saying `text` (ASCII), with a classic cross-reference table: what a
/// department's word processor would hand over as a result.
fn one_page_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 16 Tf 72 760 Td ({text}) Tj ET");
    let objects = [
        "<</Type/Catalog/Pages 2 0 R>>".to_owned(),
        "<</Type/Pages/Kids[3 0 R]/Count 1>>".to_owned(),
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>".to_owned(),
        "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_owned(),
        format!("<</Length {}>>\nstream\n{content}\nendstream", content.len()),
    ];
    motcua_sign::testing::pdf_of_objects(&objects, "")
}

/// A signing key of the test token: `label`'s, for `agency` or for `user`.
fn token_key(label: &str, agency: &str, user: &str) -> SigningKey {
    SigningKey {
        agency: agency.to_owned(),
        user: user.to_owned(),
        module: PathBuf::from(SOFTHSM_MODULE),
        token_label: TOKEN_LABEL.to_owned(),
        slot: None,
        key_label: label.to_owned(),
        pin_env: PIN_ENV.to_owned(),
        certificate_file: PathBuf::new(),
    }
}

/// An online procedure of Sở Xây dựng received at the centre.
async fn online_construction_procedure(app: &TestApp) -> String {
    let (status, v) = app
        .get_json(&format!(
            "/api/v1/procedures?agency={CONSTRUCTION}&at_centre=true&online=full&limit=1"
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    v["items"][0]["code"].as_str().expect("an online procedure").to_owned()
}

/// Sets whether procedure `code` requires signed results, as the catalogue administrator
/// (the content as it stands: no new version): the answer.
async fn set_result_signature(app: &TestApp, admin: &Session, code: &str, setting: &str) -> Value {
    let content = procedure_content(app, code).await;
    let (status, v) = put(
        app,
        admin,
        &format!("/api/v1/procedures/{code}"),
        json!({"content": content, "result_signature": setting}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result_signature"], setting, "{v}");
    v
}

/// A dossier of `procedure` filed at the counter and handed to the department: its code.
async fn at_the_department(app: &TestApp, counter: &Session, procedure: &str) -> String {
    let code = code_of(&file_at_counter(app, counter, procedure).await);
    act_ok(app, counter, &code, "transfer", json!({})).await;
    code
}

/// Uploads `bytes` as `name` for `s`: the file id.
async fn upload_as(app: &TestApp, s: &Session, name: &str, bytes: &[u8]) -> String {
    let (status, v) = upload(app, s, name, bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_str().expect("id").to_owned()
}

/// The signing of result file `file_id` once the form queue has done it (polled for 30 s).
async fn signed(app: &TestApp, file_id: &str) -> result_signings::ResultSigning {
    for _ in 0..300 {
        let mut tx = app.test_db.db.begin_read().await.expect("read");
        let row = result_signings::get(&mut tx, file_id).await.expect("read");
        drop(tx);
        match row {
            Some(r) if r.state == SigningState::Signed => return r,
            Some(r) if r.state == SigningState::Failed => panic!("signing {file_id} failed: {r:?}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("result file {file_id} was never signed");
}

fn reports(pdf: &[u8], pki: &Pki, app: &TestApp) -> Vec<SignatureReport> {
    motcua_sign::verify_pdf(pdf, &pki.trust_anchors().expect("anchors"), app.clock.now())
}

#[tokio::test]
async fn a_leader_finishing_signs_the_results_with_their_key_then_the_departments() {
    let Some(dir) = in_child(
        "a_leader_finishing_signs_the_results_with_their_key_then_the_departments",
        CHILD,
        PIN_ENV,
    ) else {
        return;
    };
    let pki = Pki::load(&dir);
    for party in [&pki.agency, &pki.leader] {
        pki.put_certificate_on_token(party).expect("certificate on the token");
    }
    let anchors = pki.anchors.clone();
    // The department's key (the token's "agency" key) and its leader's own key.
    let app = spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), move |c| {
        c.signing_keys = vec![token_key("agency", CONSTRUCTION, ""), token_key("leader", "", LEADER)];
        c.trust_anchors_dir = anchors;
    })
    .await;
    let [citizen, counter, leader, admin, danhmuc] =
        sign_in_each(&app, ["congdan", "tiepnhan", LEADER, "quantri", "danhmuc"]).await;
    let procedure = online_construction_procedure(&app).await;
    // Required, yet an unsigned PDF is accepted: motcua signs it at finish.
    set_result_signature(&app, &danhmuc, &procedure, "required").await;
    let code = file_online(&app, &citizen, &procedure).await;
    act_ok(&app, &counter, &code, "accept", json!({})).await;
    act_ok(&app, &counter, &code, "transfer", json!({})).await;

    let unsigned = one_page_pdf("Giay phep xay dung so 12/GPXD");
    // A result signed beforehand by someone else (pyHanko, the test CA): its signature stays.
    let external = pyhanko_sign(&dir, &one_page_pdf("Ban ve da duoc tham dinh"), &pki.agency);
    let first = upload_as(&app, &leader, "giay-phep.pdf", &unsigned).await;
    let second = upload_as(&app, &leader, "ban-ve-da-ky.pdf", &external).await;
    act_ok(
        &app,
        &leader,
        &code,
        "finish",
        json!({"result_files": [first, second], "note": "Đã ký"}),
    )
    .await;

    // Signed after the commit, by the queue; the signing is recorded with both hashes.
    let row = signed(&app, &first).await;
    assert_eq!(row.signers, format!("leader:{LEADER},agency:{CONSTRUCTION}"));
    assert_eq!(
        row.original_sha256.as_deref(),
        Some(motcua_sign::fingerprint(&unsigned).as_str())
    );
    let (status, _, pdf) = download(&app, Some(&leader), &format!("/api/v1/files/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        pdf.len() > unsigned.len() && pdf.starts_with(&unsigned),
        "incremental updates of the original"
    );
    let file = {
        let mut tx = app.test_db.db.begin_read().await.expect("read");
        motcua_store::files::get(&mut tx, &first)
            .await
            .expect("read")
            .expect("file")
    };
    assert_eq!(
        file.sha256,
        motcua_sign::fingerprint(&pdf),
        "the recorded hash is the signed copy's"
    );
    assert_eq!(file.size, i64::try_from(pdf.len()).expect("size"));
    let (_, _, citizens) = download(&app, Some(&citizen), &format!("/api/v1/files/{first}")).await;
    assert_eq!(citizens, pdf, "the applicant downloads the same signed copy");

    // The leader's signature, then the department's; both intact and trusted, the last
    // covering the whole file, the first followed only by a signature.
    let found = reports(&pdf, &pki, &app);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].signer.as_deref(), Some(pki.leader.common_name.as_str()));
    assert_eq!(found[1].signer.as_deref(), Some(pki.agency.common_name.as_str()));
    assert!(found.iter().all(|r| r.intact && r.trusted), "{found:?}");
    assert_eq!(found[0].verdict, Verdict::Valid);
    assert!(!found[0].covers_whole_file);
    assert_eq!(found[0].later_changes, motcua_sign::LaterChanges::SignaturesOnly);
    assert_eq!(found[1].verdict, Verdict::Valid);
    for r in &found {
        assert_eq!(
            r.signed_at.map(|t| t.unix_timestamp()),
            Some(app.clock.now().unix_timestamp())
        );
    }

    screenshot_pdf(&pdf, "result-signed-by-leader-and-department");

    // Tools we did not write accept both.
    let (ok, text) = pyhanko_validate(&dir, &pdf, &pki.ca);
    assert!(ok, "pyHanko rejects the signed result:\n{text}");
    for said in [
        "The signature is cryptographically sound.",
        "The signer's certificate is trusted.",
        "The signature is judged VALID.",
    ] {
        assert_eq!(
            text.matches(said).count(),
            2,
            "pyHanko does not say {said:?} of both:\n{text}"
        );
    }
    // Of the leader's signature: what came after it is only signing.
    assert!(
        text.contains("All modifications relate to signing and form filling operations"),
        "{text}"
    );
    assert!(text.contains("The signature covers the entire file."), "{text}");
    for signer in [&pki.leader.common_name, &pki.agency.common_name] {
        assert!(text.contains(&format!("Common Name: {signer}")), "{text}");
    }
    let listing = pdfsig(&dir, &pdf);
    assert!(
        listing.contains("Signature #1") && listing.contains("Signature #2"),
        "{listing}"
    );
    assert!(listing.contains(&pki.leader.common_name) && listing.contains(&pki.agency.common_name));
    assert!(listing.contains("Total document signed"), "{listing}");
    assert_eq!(
        listing.matches("Signature Validation: Signature is Valid.").count(),
        2,
        "{listing}"
    );

    // The externally signed result: its own signature kept intact under ours.
    signed(&app, &second).await;
    let (_, _, pdf2) = download(&app, Some(&leader), &format!("/api/v1/files/{second}")).await;
    assert!(pdf2.starts_with(&external));
    let found2 = reports(&pdf2, &pki, &app);
    assert_eq!(found2.len(), 3, "pyHanko's, the leader's, the department's: {found2:?}");
    assert!(found2.iter().all(|r| r.intact && r.trusted), "{found2:?}");
    assert!(found2.iter().all(|r| r.verdict == Verdict::Valid), "{found2:?}");

    // The pages say the result is signed, and by whom.
    let staff = page_ok(&app, &leader, &format!("/ho-so/{code}")).await;
    let citizen_page = page_ok(&app, &citizen, &format!("/ca-nhan/ho-so/{code}")).await;
    for html in [&staff, &citizen_page] {
        assert!(html.contains("class=\"signature\" data-verdict="), "{html}");
        assert!(
            html.contains(&format!("✓ Đã ký bởi {}", pki.leader.common_name)),
            "{html}"
        );
        assert!(
            html.contains(&format!("✓ Đã ký bởi {}", pki.agency.common_name)),
            "{html}"
        );
    }

    // The applicant's store holds the signed copy's hash and what its signatures say.
    let (status, stores) = get(&app, &citizen, "/api/v1/documents").await;
    assert_eq!(status, StatusCode::OK, "{stores}");
    let docs = stores[0]["documents"].as_array().expect("documents").clone();
    let stored = docs
        .iter()
        .find(|d| d["file_name"] == "giay-phep.pdf")
        .expect("the result is in the applicant's store");
    assert_eq!(stored["sha256"], file.sha256.as_str(), "{stored}");
    let text = stored["signature"]["text"].as_str().expect("signature text");
    assert!(
        text.contains(&pki.leader.common_name) && text.contains(&pki.agency.common_name),
        "{stored}"
    );

    // Audited as the system's act.
    let (_, trail) = get(&app, &admin, "/api/v1/admin/audit?action=dossier.result_signed").await;
    assert_eq!(trail["items"].as_array().expect("items").len(), 2, "{trail}");
}

#[tokio::test]
async fn a_procedure_requiring_signed_results_refuses_what_is_not_validly_signed() {
    let Some(dir) = in_child(
        "a_procedure_requiring_signed_results_refuses_what_is_not_validly_signed",
        CHILD,
        PIN_ENV,
    ) else {
        return;
    };
    let pki = Pki::load(&dir);
    let anchors = pki.anchors.clone();
    // No key for Sở Xây dựng: motcua signs nothing it finishes.
    let app = spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), move |c| {
        c.trust_anchors_dir = anchors;
    })
    .await;
    let [counter, leader, admin, danhmuc] = sign_in_each(&app, ["tiepnhan", LEADER, "quantri", "danhmuc"]).await;
    let procedure = online_construction_procedure(&app).await;

    // Optional (the default): an unsigned PDF is a result like any other.
    let (_, detail) = get(&app, &danhmuc, &format!("/api/v1/procedures/{procedure}")).await;
    assert_eq!(detail["result_signature"], "optional", "{detail}");
    let code = at_the_department(&app, &counter, &procedure).await;
    let file = upload_as(&app, &leader, "chua-ky.pdf", &one_page_pdf("Quyet dinh")).await;
    act_ok(&app, &leader, &code, "finish", json!({"result_files": [file]})).await;

    // The catalogue administrator requires signed results: no new version, audited.
    let version = detail["version"].clone();
    let v = set_result_signature(&app, &danhmuc, &procedure, "required").await;
    assert_eq!(v["version"], version, "a setting, not a new version: {v}");
    let (_, trail) = get(&app, &admin, "/api/v1/admin/audit?action=procedure.result_signature").await;
    let items = trail["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{trail}");
    assert_eq!(items[0]["before"]["result_signature"], "optional", "{trail}");
    assert_eq!(items[0]["after"]["result_signature"], "required", "{trail}");
    // The same setting again records nothing.
    set_result_signature(&app, &danhmuc, &procedure, "required").await;
    let (_, trail) = get(&app, &admin, "/api/v1/admin/audit?action=procedure.result_signature").await;
    assert_eq!(trail["items"].as_array().expect("items").len(), 1, "{trail}");
    let form = page_ok(&app, &danhmuc, &format!("/quan-tri/thu-tuc/{procedure}")).await;
    assert!(
        form.contains(r#"<option value="required" selected>Bắt buộc kết quả có chữ ký số hợp lệ</option>"#),
        "{form}"
    );
    // Nothing else than the two values.
    let content = procedure_content(&app, &procedure).await;
    let (status, e) = put(
        &app,
        &danhmuc,
        &format!("/api/v1/procedures/{procedure}"),
        json!({"content": content, "result_signature": "sometimes"}),
    )
    .await;
    assert!(status.is_client_error(), "{e}");

    let base = one_page_pdf("Quyet dinh cap giay phep");
    let by_test_ca = pyhanko_sign(&dir, &base, &pki.agency);
    // The signed bytes altered: one letter of the text the signature covers.
    let mut altered = by_test_ca.clone();
    let at = altered
        .windows(6)
        .position(|w| w == b"Quyet ")
        .expect("the text is in the file");
    altered[at + 3] = b'a';
    // An attacker's own certificate, under a CA nobody configured.
    let by_stranger = pyhanko_sign(&dir, &base, &pki.stranger);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

    let code = at_the_department(&app, &counter, &procedure).await;
    for (name, bytes, why) in [
        ("chua-ky.pdf", base.as_slice(), "chưa có chữ ký số"),
        ("da-sua.pdf", altered.as_slice(), "đã bị sửa sau khi ký"),
        (
            "nguoi-la.pdf",
            by_stranger.as_slice(),
            "không do tổ chức được tin cậy cấp",
        ),
        ("anh.png", png.as_slice(), "không phải tệp PDF"),
    ] {
        let (status, up) = upload(&app, &leader, name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {up}");
        let file = up["id"].as_str().expect("id");
        let (status, e) = act(&app, &leader, &code, "finish", json!({"result_files": [file]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {e}");
        assert_eq!(e["code"], "unsigned_result", "{e}");
        assert_eq!(e["field"], "result_files", "{e}");
        let message = e["message"].as_str().expect("message");
        assert!(message.contains(name) && message.contains(why), "{name}: {message}");
        assert!(
            message.contains("yêu cầu văn bản kết quả có chữ ký số hợp lệ"),
            "{message}"
        );
    }
    // Refused: the dossier is still being handled.
    let (_, d) = get(&app, &leader, &format!("/api/v1/dossiers/{code}")).await;
    assert!(d["finished_at"].is_null(), "{d}");

    // One bad file among good ones refuses the finish, naming only the bad one.
    let good = upload_as(&app, &leader, "hop-le.pdf", &by_test_ca).await;
    let bad = upload_as(&app, &leader, "chua-ky-2.pdf", &base).await;
    let (status, e) = act(&app, &leader, &code, "finish", json!({"result_files": [good, bad]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(!e["message"].as_str().expect("m").contains("hop-le.pdf"), "{e}");

    // Signed by pyHanko with a certificate of the trusted test CA: accepted, and kept as is
    // (no key here signs it again).
    let good = upload_as(&app, &leader, "hop-le.pdf", &by_test_ca).await;
    act_ok(&app, &leader, &code, "finish", json!({"result_files": [good]})).await;
    let (_, _, kept) = download(&app, Some(&leader), &format!("/api/v1/files/{good}")).await;
    assert_eq!(kept, by_test_ca);
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    assert_eq!(result_signings::get(&mut tx, &good).await.expect("read"), None);
    drop(tx);
}

#[tokio::test]
async fn a_result_left_unsigned_by_a_stop_is_signed_when_the_server_is_back() {
    let Some(dir) = in_child(
        "a_result_left_unsigned_by_a_stop_is_signed_when_the_server_is_back",
        CHILD,
        PIN_ENV,
    ) else {
        return;
    };
    let pki = Pki::load(&dir);
    pki.put_certificate_on_token(&pki.agency)
        .expect("certificate on the token");
    let anchors = pki.anchors.clone();
    // The department's key cannot be opened (its PIN is not in the environment): the finish
    // commits, and its result stays unsigned, as if the server had stopped right then.
    let unusable = SigningKey {
        pin_env: "MOTCUA_TEST_NO_SUCH_PIN".to_owned(),
        ..token_key("agency", CONSTRUCTION, "")
    };
    let app = spawn_app_at_with(datetime!(2026-11-02 08:00 +07:00), {
        let anchors = anchors.clone();
        move |c| {
            c.signing_keys = vec![unusable];
            c.trust_anchors_dir = anchors;
        }
    })
    .await;
    let [counter, leader] = sign_in_each(&app, ["tiepnhan", LEADER]).await;
    let procedure = online_construction_procedure(&app).await;
    let code = at_the_department(&app, &counter, &procedure).await;
    let unsigned = one_page_pdf("Giay phep so 13/GPXD");
    let file = upload_as(&app, &leader, "giay-phep.pdf", &unsigned).await;
    act_ok(&app, &leader, &code, "finish", json!({"result_files": [file]})).await;

    // The queue has been through the dossier (the control sheet of the finish is issued)
    // and could not sign: the request waits, and the original is what is served.
    let last_seq = {
        let mut tx = app.test_db.db.begin_read().await.expect("read");
        let dossier_code = motcua_core::dossier::DossierCode::parse(&code).expect("code");
        let stored = motcua_store::dossiers::by_code(&mut tx, &dossier_code)
            .await
            .expect("read")
            .expect("dossier");
        let events = motcua_store::dossiers::events(&mut tx, stored.id)
            .await
            .expect("events");
        events.last().expect("history").seq
    };
    common::files::issued_forms(&app, &code, "the control sheet of the finish", |r| {
        r.kind == "control-sheet" && r.ordinal == last_seq
    })
    .await;
    let mut tx = app.test_db.db.begin_read().await.expect("read");
    let row = result_signings::get(&mut tx, &file)
        .await
        .expect("read")
        .expect("asked for in the finish's write");
    drop(tx);
    assert_eq!(row.state, SigningState::Pending, "{row:?}");
    let (_, _, served) = download(&app, Some(&leader), &format!("/api/v1/files/{file}")).await;
    assert_eq!(served, unsigned);

    // The server is back with its key: the maintenance task's first round finds the result
    // still waiting, and the queue signs it.
    let config = motcua_server::Config {
        data_dir: app.test_db.dir.path().to_owned(),
        signing_keys: vec![token_key("agency", CONSTRUCTION, "")],
        trust_anchors_dir: anchors,
        ..motcua_server::Config::default()
    };
    let mut state = motcua_server::AppState::new(app.test_db.db.clone(), config).expect("state");
    state.set_clock(app.clock.clone());
    let maintenance = motcua_server::spawn_maintenance(state);
    let row = signed(&app, &file).await;
    maintenance.abort();
    assert_eq!(row.signers, format!("agency:{CONSTRUCTION}"));
    let (_, _, pdf) = download(&app, Some(&leader), &format!("/api/v1/files/{file}")).await;
    assert!(pdf.starts_with(&unsigned) && pdf.len() > unsigned.len());
    let found = reports(&pdf, &pki, &app);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].verdict, Verdict::Valid);
    // Signed as of the finish, whenever it was signed.
    assert_eq!(
        found[0].signed_at.map(|t| t.unix_timestamp()),
        Some(datetime!(2026-11-02 08:00 +07:00).unix_timestamp())
    );
}
