//! Evaluation (issue 8 items 3–4), on the backend the test run selects: the 9-index
//! scoring rules on constructed dossiers; ratings by the link on the result-ready notice
//! (with the rating code sent to the applicant alone), at the counter's kiosk (recording the officer), and their way into the
//! director's "not satisfied" list and the per-officer and per-counter results; the
//! per-dossier score sheet; the Decision 766 index against a hand computation, changed by
//! weights edited through the API; and who may see and do what.

mod common;

use common::api::{act_ok, code_of, get, post, procedure_content, procedure_of, put};
use common::files::upload_pdf;
use common::intake::{Reach, counter_intake, file_dossier};
use common::pages::page;
use common::{CONSTRUCTION, LLTP, Session, TestApp, sign_in, sign_in_each, spawn_app_at};
use motcua_core::dossier::{Status, Timeliness};
use motcua_core::evaluation::{self, Answers, Conduct, Facts, Mark, PublicInfo, Satisfaction};
use motcua_core::lifecycle::{Dossier, Notice, NoticeKind, Person};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

/// A Monday with nothing in the demo data around it.
const START: OffsetDateTime = datetime!(2027-03-01 08:00 +07:00);

// ---- The scoring rules on constructed dossiers ---------------------------------------------

fn constructed() -> Dossier {
    let catalogue = motcua_core::demo::ninh_thuan();
    let record = &catalogue.procedures[0];
    let version = record.versions.last().expect("a version");
    let centre = catalogue.agencies[1].code.clone();
    let mut d = Dossier::file(motcua_core::lifecycle::Filing {
        code: motcua_core::dossier::DossierCode::new(&centre, START.date(), 1).expect("code"),
        province: catalogue.province.code.clone(),
        procedure: &record.code,
        version: version.version,
        content: &version.content,
        receiving: centre,
        channel: motcua_core::dossier::Channel::Counter,
        applicant: motcua_core::lifecycle::Applicant {
            kind: motcua_core::catalogue::ApplicantKind::Citizen,
            name: "Nguyễn Văn An".into(),
            id_number: "058190000123".into(),
            phone: String::new(),
            email: String::new(),
            address: String::new(),
        },
        documents: Vec::new(),
        tracking_secret: "ABCDEFGH".into(),
        now: START,
    });
    d.received_at = Some(START);
    d.due_at = Some(datetime!(2027-03-05 08:00 +07:00));
    d.original_due_at = d.due_at;
    d
}

fn finished(mut d: Dossier, at: OffsetDateTime) -> Dossier {
    d.status = Status::Returned;
    d.finished_at = Some(at);
    d.returned_at = Some(at);
    d
}

fn points(m: &Mark) -> Option<u32> {
    m.points()
}

#[test]
fn total_time_early_on_time_late_and_unfinished() {
    let d = constructed();
    assert_eq!(points(&evaluation::total_time(&d)), None, "no result yet: not assessed");
    let early = finished(d.clone(), datetime!(2027-03-04 10:00 +07:00));
    assert_eq!(points(&evaluation::total_time(&early)), Some(2));
    let on_time = finished(d.clone(), datetime!(2027-03-05 07:30 +07:00));
    assert_eq!(points(&evaluation::total_time(&on_time)), Some(1));
    let late = finished(d.clone(), datetime!(2027-03-05 09:00 +07:00));
    assert_eq!(points(&evaluation::total_time(&late)), Some(0));
    // An apology moves the appointment, not the statutory time: finishing after the old
    // appointment is late for index 1 even within the new one.
    let mut moved = d;
    moved.notices.push(Notice {
        kind: NoticeKind::Apology,
        at: datetime!(2027-03-03 09:00 +07:00),
        by: Person {
            id: "x".into(),
            name: "X".into(),
        },
        reason: "Chờ ý kiến cơ quan phối hợp".into(),
        missing: Vec::new(),
        amount: None,
        old_due: moved.due_at,
        new_due: Some(datetime!(2027-03-10 08:00 +07:00)),
    });
    moved.due_at = Some(datetime!(2027-03-10 08:00 +07:00));
    moved.extensions = 1;
    let moved = finished(moved, datetime!(2027-03-09 10:00 +07:00));
    assert_eq!(points(&evaluation::total_time(&moved)), Some(0));
    // Index 6: apologised and kept the new appointment: 1.
    assert_eq!(points(&evaluation::apology(&moved)), Some(1));
    assert_eq!(points(&evaluation::apology(&early)), Some(2));
    assert_eq!(points(&evaluation::apology(&late)), Some(0));
    assert_eq!(points(&evaluation::apology(&constructed())), None);
}

#[test]
fn step_time_takes_the_worst_step() {
    use Timeliness::*;
    assert_eq!(points(&evaluation::step_time(&[Early, Early], &[])), Some(2));
    assert_eq!(points(&evaluation::step_time(&[Early, OnTime], &[])), Some(1));
    let forwarded = vec!["Sở Tư pháp".to_owned()];
    let m = evaluation::step_time(&[Early, Late, OnTime], &forwarded);
    assert_eq!(points(&m), Some(0));
    assert!(m.reason().contains("Sở Tư pháp"), "{}", m.reason());
    assert_eq!(points(&evaluation::step_time(&[], &[])), None);
}

#[test]
fn supplements_count_against_the_agency_after_one() {
    let d = constructed();
    assert_eq!(points(&evaluation::supplements(&d)), None);
    let mut f = finished(d, datetime!(2027-03-04 10:00 +07:00));
    assert_eq!(points(&evaluation::supplements(&f)), Some(2));
    f.supplements = 1;
    assert_eq!(points(&evaluation::supplements(&f)), Some(1));
    f.supplements = 2;
    assert_eq!(points(&evaluation::supplements(&f)), Some(0));
}

#[test]
fn citizen_indices_score_answers_and_are_not_assessed_without_them() {
    let mut a = Answers::default();
    let none = [
        evaluation::contacts(Some(&a)),
        evaluation::agencies(Some(&a)),
        evaluation::public_info(Some(&a)),
        evaluation::conduct(Some(&a)),
        evaluation::satisfaction(Some(&a)),
        evaluation::contacts(None),
    ];
    assert!(none.iter().all(|m| m.points().is_none()));
    for (n, want) in [(0, 2), (1, 1), (2, 0), (5, 0)] {
        a.contacts = Some(n);
        assert_eq!(points(&evaluation::contacts(Some(&a))), Some(want), "contacts {n}");
    }
    for (n, want) in [(0, 2), (1, 2), (2, 1), (3, 0)] {
        a.agencies = Some(n);
        assert_eq!(points(&evaluation::agencies(Some(&a))), Some(want), "agencies {n}");
    }
    for (p, want) in [
        (PublicInfo::Full, 2),
        (PublicInfo::Partial, 1),
        (PublicInfo::Missing, 0),
    ] {
        a.public_info = Some(p);
        assert_eq!(points(&evaluation::public_info(Some(&a))), Some(want));
    }
    for (c, want) in [(Conduct::Good, 2), (Conduct::Fair, 1), (Conduct::Poor, 0)] {
        a.conduct = Some(c);
        assert_eq!(points(&evaluation::conduct(Some(&a))), Some(want));
    }
    for (s, want) in [
        (Satisfaction::VerySatisfied, 2),
        (Satisfaction::Satisfied, 1),
        (Satisfaction::NotSatisfied, 0),
    ] {
        a.satisfaction = Some(s);
        assert_eq!(points(&evaluation::satisfaction(Some(&a))), Some(want));
    }
}

#[test]
fn a_sheet_totals_only_what_it_assessed() {
    let d = finished(constructed(), datetime!(2027-03-04 10:00 +07:00));
    let sheet = evaluation::evaluate(&Facts {
        dossier: &d,
        steps: &[Timeliness::Early, Timeliness::OnTime],
        forwarded: &[],
        answers: None,
    });
    // System indices: total time 2, steps 1, supplements 2, apology 2; five citizen
    // indices not assessed (not 0).
    assert_eq!(sheet.lines.len(), 9);
    assert_eq!(sheet.assessed(), 4);
    assert_eq!(sheet.total(), 7);
    assert_eq!(sheet.assessed_max(), 8);
    let answers = Answers {
        contacts: Some(1),
        agencies: Some(1),
        public_info: Some(PublicInfo::Full),
        conduct: Some(Conduct::Fair),
        satisfaction: Some(Satisfaction::NotSatisfied),
    };
    let sheet = evaluation::evaluate(&Facts {
        dossier: &d,
        steps: &[Timeliness::Early, Timeliness::OnTime],
        forwarded: &[],
        answers: Some(&answers),
    });
    assert_eq!(sheet.assessed(), 9);
    assert_eq!(sheet.total(), 7 + 1 + 2 + 2 + 1);
}

// ---- Through the application -----------------------------------------------------------------

/// Anonymous JSON post.
async fn post_anonymous(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app.client.post(app.url(path)).json(&body).send().await.expect("send");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

struct Staff {
    counter: Session,
    leader: Session,
}

async fn staff(app: &TestApp) -> Staff {
    Staff {
        counter: sign_in(app, "tiepnhan").await,
        leader: sign_in(app, "ld.xaydung").await,
    }
}

/// Files a dossier at the counter with every required document (with a scan of the first
/// when `scan` is given), the applicant reachable by phone: its code and tracking secret.
async fn file_with_scan(app: &TestApp, counter: &Session, code: &str, scan: Option<String>) -> (String, String) {
    let mut body = counter_intake(app, code, Reach::Phone).await;
    if let Some(id) = scan {
        body["documents"][0]["files"] = json!([id]);
    }
    let v = file_dossier(app, counter, body).await;
    (code_of(&v), v["tracking_secret"].as_str().expect("secret").to_owned())
}

/// Takes a received dossier of Sở Xây dựng to its result (a finish always carries an
/// electronic result file) and hands it over at the counter.
async fn to_returned(app: &TestApp, s: &Staff, code: &str) {
    act_ok(app, &s.counter, code, "transfer", json!({})).await;
    act_ok(app, &s.leader, code, "assign", json!({"user": "cv.xaydung"})).await;
    let result = upload_pdf(app, &s.leader, "giay-phep.pdf").await;
    act_ok(app, &s.leader, code, "finish", json!({"result_files": [result]})).await;
    act_ok(app, &s.counter, code, "return", json!({"method": "counter"})).await;
}

/// A dossier of Sở Xây dựng filed at the counter and returned; its code and a rating
/// code issued to its applicant.
async fn returned(app: &TestApp, s: &Staff) -> (String, String) {
    let procedure = procedure_of(app, CONSTRUCTION).await;
    let (code, _) = file_with_scan(app, &s.counter, &procedure, None).await;
    to_returned(app, s, &code).await;
    let rating = rating_code(app, &code).await;
    (code, rating)
}

/// Issues a rating code for dossier `code` as the result-ready notice does (its hash
/// stored, the code handed to the applicant). The notice itself carrying it by email and
/// SMS is proved in tests/outbox.rs.
async fn rating_code(app: &TestApp, code: &str) -> String {
    let rating = motcua_core::evaluation::rating_code(rand_bytes());
    let hash = motcua_core::evaluation::rating_code_hash(&rating);
    let mut tx = app.test_db.db.begin_write().await.expect("write");
    let stored = motcua_store::ratings::add_code(&mut tx, code, &hash, START)
        .await
        .expect("add code");
    tx.commit().await.expect("commit");
    assert!(stored, "no dossier {code}");
    rating
}

fn rand_bytes() -> [u8; 8] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0x5eed);
    let n = NEXT.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    n.to_le_bytes()
}

#[tokio::test]
async fn a_rating_link_needs_the_code_sent_to_the_applicant_not_the_receipts_secret() {
    let app = spawn_app_at(START).await;
    let s = staff(&app).await;
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    let (code, secret) = file_with_scan(&app, &s.counter, &procedure, None).await;
    let link = format!("/api/v1/track/{code}/rating");
    let rating = rating_code(&app, &code).await;

    // Before the result: refused with the reason.
    let (status, e) = post_anonymous(&app, &link, json!({"rating_code": rating, "rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");

    // The page asks for the rating code and looks nothing up: it tells nothing about the
    // dossier, not even whether the code exists.
    let (status, html) = page(&app, None, &format!("/danh-gia/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        format!(r#"data-api="/api/v1/track/{code}/rating""#),
        r#"name="rating_code""#.to_owned(),
        r#"name="contacts""#.to_owned(),
        r#"name="public_info""#.to_owned(),
        r#"<label for="survey-agencies">"#.to_owned(),
    ] {
        assert!(html.contains(&needle), "{needle}");
    }
    assert!(!html.contains(&secret) && !html.contains(&rating));
    let missing = format!("{}9999", &code[..code.len() - 4]);
    let (status, _) = page(&app, None, &format!("/danh-gia/{missing}")).await;
    assert_eq!(status, StatusCode::OK, "an unknown code looks the same");
    let (status, _) = page(&app, None, "/danh-gia/khong-phai-ma").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    to_returned(&app, &s, &code).await;

    // The tracking secret on the receipt, which staff handle and see, is no rating code:
    // the answer of a wrong code, the same as tracking's.
    let (status, by_secret) = post_anonymous(&app, &link, json!({"rating_code": secret, "rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{by_secret}");
    let (status, e) = post_anonymous(&app, &link, json!({"secret": secret, "rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the old field is refused: {e}");
    let (status, empty) = post_anonymous(&app, &link, json!({"rating_code": "", "rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, wrong_code) = post_anonymous(
        &app,
        &format!("/api/v1/track/{missing}/rating"),
        json!({"rating_code": rating, "rating": "satisfied"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(by_secret, wrong_code, "indistinguishable");
    assert_eq!(empty, wrong_code, "indistinguishable");
    let (_, tracked) = app.get_json(&format!("/api/v1/track/{code}?secret=ZZZZZZZZ")).await;
    assert_eq!(tracked["message"], by_secret["message"], "the same answer as tracking");
    // A rating code of another dossier does not rate this one.
    let (other, other_rating) = returned(&app, &s).await;
    let (status, _) = post_anonymous(&app, &link, json!({"rating_code": other_rating, "rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // No staff view carries the rating code.
    for who in [&s.counter, &s.leader] {
        let (status, v) = get(&app, who, &format!("/api/v1/dossiers/{code}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!v.to_string().contains(&rating), "{v}");
    }

    // What the form sends (the code typed in lower case still matches).
    let (status, v) = post_anonymous(
        &app,
        &link,
        json!({"rating_code": rating.to_lowercase(), "rating": "very_satisfied", "comment": "Nhanh, gọn",
               "contacts": 0, "agencies": 1, "public_info": "full", "conduct": "good"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["channel"], "link");
    assert_eq!(v["contacts"], 0);
    assert_eq!(v["public_info"], "full");
    assert!(
        v["officer"].as_str().is_some_and(|o| !o.is_empty()),
        "who handed it over: {v}"
    );
    // Once only.
    let (status, _) = post_anonymous(&app, &link, json!({"rating_code": rating, "rating": "not_satisfied"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Bad answers are named.
    let (status, e) = post_anonymous(
        &app,
        &format!("/api/v1/track/{other}/rating"),
        json!({"rating_code": other_rating, "rating": "satisfied", "contacts": 500}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "contacts");
}

#[tokio::test]
async fn the_kiosk_records_the_counter_officer() {
    let app = spawn_app_at(START).await;
    let s = staff(&app).await;
    let officer = sign_in(&app, "cv.xaydung").await;
    let (code, _) = returned(&app, &s).await;

    let (status, html) = page(&app, Some(&s.counter), "/quay/danh-gia").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-api="/api/v1/kiosk/rating""#));
    assert!(
        html.contains(&format!(r#"value="{code}""#)),
        "the dossier just returned is offered"
    );
    let (status, _) = page(&app, Some(&officer), "/quay/danh-gia").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, None, "/quay/danh-gia").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "anonymous: to the login page");

    let body = json!({"code": code, "rating": "satisfied", "conduct": "fair"});
    let (status, _) = post(&app, &officer, "/api/v1/kiosk/rating", body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = post(&app, &s.counter, "/api/v1/kiosk/rating", json!({"rating": "satisfied"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["field"], "code");
    let (status, v) = post(&app, &s.counter, "/api/v1/kiosk/rating", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["channel"], "kiosk");
    assert_eq!(
        v["recorded_by"], v["officer"],
        "the counter officer who returned it ran the kiosk"
    );
    assert!(v["recorded_by"].as_str().is_some_and(|n| !n.is_empty()));
    let (_, html) = page(&app, Some(&s.counter), "/quay/danh-gia").await;
    assert!(
        !html.contains(&format!(r#"value="{code}""#)),
        "rated: no longer offered"
    );
    // The staff view of the rating.
    let (status, v) = get(&app, &s.leader, &format!("/api/v1/dossiers/{code}/rating")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["channel"], "kiosk");
}

#[tokio::test]
async fn not_satisfied_reaches_the_director_and_results_count_per_officer() {
    let app = spawn_app_at(START).await;
    let s = staff(&app).await;
    let director = sign_in(&app, "giamdoc").await;
    let (good, _) = returned(&app, &s).await;
    let (bad, rating) = returned(&app, &s).await;
    let (status, v) = post(
        &app,
        &s.counter,
        "/api/v1/kiosk/rating",
        json!({"code": good, "rating": "very_satisfied"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let officer = v["officer"].as_str().expect("officer").to_owned();
    let (status, _) = post_anonymous(
        &app,
        &format!("/api/v1/track/{bad}/rating"),
        json!({"rating_code": rating, "rating": "not_satisfied", "comment": "Phải chờ lâu ở quầy"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let period = "period=khoang&from=2027-03-01&to=2027-03-31";
    let (status, html) = page(&app, Some(&director), &format!("/lanh-dao/khong-hai-long?{period}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Phải chờ lâu ở quầy"), "{html}");
    assert!(html.contains(&bad));
    assert!(!html.contains(&good), "only the not satisfied");
    assert!(html.contains("Đường dẫn, mã QR trên kết quả"));

    let (status, html) = page(&app, Some(&director), &format!("/lanh-dao/danh-gia?{period}")).await;
    assert_eq!(status, StatusCode::OK);
    let row = html
        .split("<tr>")
        .find(|r| r.contains(&format!(r#"<th scope="row">{officer}</th>"#)))
        .unwrap_or_else(|| panic!("a row for {officer}: {html}"));
    let cells: Vec<&str> = row
        .split(r#"<td class="num">"#)
        .skip(1)
        .map(|c| c.split('<').next().expect("cell"))
        .collect();
    assert_eq!(
        cells,
        ["2", "1", "0", "1", "50,0 %"],
        "total, very, satisfied, not, rate"
    );
    assert!(html.contains("Trung tâm"), "per counter: the centre");

    // Who may see: the department's leader sees the results, not the feedback list.
    let (status, _) = page(&app, Some(&s.leader), &format!("/lanh-dao/danh-gia?{period}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = page(&app, Some(&s.leader), "/lanh-dao/khong-hai-long").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for who in ["tiepnhan", "cv.xaydung", "congdan"] {
        let sess = sign_in(&app, who).await;
        for path in ["/lanh-dao/danh-gia", "/lanh-dao/khong-hai-long"] {
            let (status, _) = page(&app, Some(&sess), path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}");
        }
    }
}

#[tokio::test]
async fn the_dossier_sheet_scores_system_data_and_answers() {
    let app = spawn_app_at(START).await;
    let s = staff(&app).await;
    let director = sign_in(&app, "giamdoc").await;
    let (code, rating) = returned(&app, &s).await;
    let path = format!("/api/v1/dossiers/{code}/evaluation");
    let (status, v) = get(&app, &s.leader, &path).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let line = |v: &Value, code: &str| {
        v["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .find(|l| l["code"] == code)
            .cloned()
            .expect("line")
    };
    assert_eq!(line(&v, "total_time")["points"], 2, "finished the same day: early");
    assert_eq!(line(&v, "supplements")["points"], 2);
    assert_eq!(
        line(&v, "contacts")["points"],
        Value::Null,
        "not assessed without an answer"
    );
    assert_eq!(v["assessed"], 4);
    post_anonymous(
        &app,
        &format!("/api/v1/track/{code}/rating"),
        json!({"rating_code": rating, "rating": "satisfied", "contacts": 2, "agencies": 2}),
    )
    .await;
    let (_, v) = get(&app, &s.leader, &path).await;
    assert_eq!(line(&v, "contacts")["points"], 0);
    assert_eq!(line(&v, "agencies")["points"], 1);
    assert_eq!(line(&v, "satisfaction")["points"], 1);
    assert_eq!(line(&v, "conduct")["points"], Value::Null);
    assert_eq!(v["assessed"], 7);

    let (status, html) = page(&app, Some(&s.leader), &format!("/ho-so/{code}/phieu-danh-gia")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Chưa đánh giá") && html.contains("chưa xác nhận"));
    let citizen = sign_in(&app, "congdan").await;
    let (status, _) = get(&app, &citizen, &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let justice = sign_in(&app, "cv.tuphap").await;
    let (status, _) = get(&app, &justice, &path).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another department's dossier is invisible"
    );

    // The per-agency sheet counts it.
    let period = "period=khoang&from=2027-03-01&to=2027-03-31";
    let (status, html) = page(
        &app,
        Some(&director),
        &format!("/lanh-dao/phieu-danh-gia?agency={CONSTRUCTION}&{period}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("/ho-so/{code}/phieu-danh-gia")), "{html}");
    let (status, _) = page(
        &app,
        Some(&s.leader),
        &format!("/lanh-dao/phieu-danh-gia?agency={CONSTRUCTION}&{period}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the department's own leader");
    let (status, _) = page(&app, Some(&s.leader), "/lanh-dao/phieu-danh-gia?agency=000.00.02.H43").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not another department");
}

fn points_of(v: &Value, criterion: &str) -> Value {
    v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["criteria"].as_array().expect("criteria").iter())
        .find(|c| c["criterion"]["code"] == criterion)
        .map(|c| c["points_centi"].clone())
        .expect("criterion")
}

#[tokio::test]
async fn the_service_index_matches_a_hand_computation_and_follows_edited_weights() {
    let app = spawn_app_at(START).await;
    let s = staff(&app).await;
    let [director, admin, citizen] = sign_in_each(&app, ["giamdoc", "quantri", "congdan"]).await;
    let construction = procedure_of(&app, CONSTRUCTION).await;

    // A: at the counter with a scan, result file, rated by link very satisfied, info full.
    let scan = upload_pdf(&app, &s.counter, "to-khai.pdf").await;
    let (a, _) = file_with_scan(&app, &s.counter, &construction, Some(scan)).await;
    to_returned(&app, &s, &a).await;
    let a_rating = rating_code(&app, &a).await;
    let (status, _) = post_anonymous(
        &app,
        &format!("/api/v1/track/{a}/rating"),
        json!({"rating_code": a_rating, "rating": "very_satisfied", "public_info": "full"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // B: at the counter without scans, kiosk: not satisfied, info partial.
    let (b, _) = file_with_scan(&app, &s.counter, &construction, None).await;
    to_returned(&app, &s, &b).await;
    let (status, _) = post(
        &app,
        &s.counter,
        "/api/v1/kiosk/rating",
        json!({"code": b, "rating": "not_satisfied", "public_info": "partial"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // C: filed online with a scan per required document, accepted, still in progress.
    let content = procedure_content(&app, LLTP).await;
    let mut documents = Vec::new();
    for (i, d) in content["documents"].as_array().expect("documents").iter().enumerate() {
        if d["required"] == true {
            let id = upload_pdf(&app, &citizen, &format!("giay-to-{i}.pdf")).await;
            documents.push(json!({"index": i, "files": [id]}));
        }
    }
    assert!(!documents.is_empty(), "the online dossier carries scans");
    let kind = content["applicants"][0].as_str().expect("kind");
    let body = json!({"procedure": LLTP, "documents": documents, "delivery": "counter",
        "applicant": {"kind": kind, "name": "Nguyễn Văn Dân", "id_number": "058190000123", "phone": "0912345678"}});
    let (status, v) = post(&app, &citizen, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let c = v["code"].as_str().expect("code").to_owned();
    act_ok(&app, &s.counter, &c, "accept", json!({})).await;

    // By hand, over March 2027:
    //  transparency: 1 of 2 answers "full" = 50 % of a 100 % target × 18 = 9.00
    //  progress: 2 resolved, both early = 100 % → 20.00
    //  online share: 1 of 3 received = 33.3 %; target 80 % → 1/3 × 11 / 0.8 = 4.58
    //  online payment: no payments → nothing to measure (no points)
    //  scans: A and C of 3 received = 66.6 % of 100 % × 11 = 7.33
    //  electronic results: A and B of A, B = 100 % → 11.00
    //  satisfaction: 1 of 2 satisfied = 50 % × 18 = 9.00
    //  total = 9.00 + 20.00 + 4.58 + 7.33 + 11.00 + 9.00 = 60.91
    let query = "/api/v1/service-index?period=khoang&from=2027-03-01&to=2027-03-31";
    let (status, v) = get(&app, &director, query).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(points_of(&v, "public_info"), 900);
    assert_eq!(points_of(&v, "on_time"), 2000);
    assert_eq!(points_of(&v, "online_share"), 458);
    assert_eq!(points_of(&v, "online_payment"), Value::Null);
    assert_eq!(points_of(&v, "digitised_files"), 733);
    assert_eq!(points_of(&v, "digitised_results"), 1100);
    assert_eq!(points_of(&v, "satisfied"), 900);
    assert_eq!(v["total_centi"], 6091, "{v}");
    assert_eq!(v["max"], 100);

    // The page shows the groups, the inputs and the formula.
    let (status, html) = page(
        &app,
        Some(&director),
        "/lanh-dao/chi-so-phuc-vu?period=khoang&from=2027-03-01&to=2027-03-31",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for needle in ["60,91 / 100", "1 / 3", "tỷ lệ × điểm tối đa / chỉ tiêu", "Số hóa hồ sơ"] {
        assert!(html.contains(needle), "{needle}: {html}");
    }

    // The administrator lowers the online share's target to 40 %: 1/3 × 11 / 0.4 = 9.16.
    let edit = "/api/v1/admin/service-index/criteria/online_share";
    let body = json!({"max_points": 11, "target_percent": 40});
    for who in [&director, &s.counter] {
        let (status, _) = put(&app, who, edit, body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, e) = put(&app, &admin, edit, json!({"max_points": 11, "target_percent": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["field"], "target_percent");
    let (status, v) = put(&app, &admin, edit, body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["target_permille"], 400);
    let (_, v) = get(&app, &director, query).await;
    assert_eq!(points_of(&v, "online_share"), 916);
    assert_eq!(v["total_centi"], 6091 - 458 + 916);
    let (status, html) = page(&app, Some(&admin), "/quan-tri/chi-so-phuc-vu").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-api="/api/v1/admin/service-index/criteria/online_share""#));
    assert!(html.contains(r#"id="target-online_share""#) && html.contains(r#"value="40""#));

    // Who may see.
    let (status, _) = get(&app, &s.counter, query).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, Some(&s.leader), "/lanh-dao/chi-so-phuc-vu").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, Some(&director), "/quan-tri/chi-so-phuc-vu").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get(&app, &director, "/api/v1/admin/service-index/criteria").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
