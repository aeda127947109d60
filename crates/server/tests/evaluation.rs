//! Evaluation (issue 8 items 3–4, issue 25), on the backend the test run selects: the
//! scoring rules of the 9 published indices on constructed dossiers and agencies' figures,
//! against points worked by hand; ratings by the link on the result-ready notice
//! (with the rating code sent to the applicant alone), at the counter's kiosk (recording the officer), and their way into the
//! director's "not satisfied" list and the per-officer and per-counter results; the
//! per-dossier score sheet; the Decision 766 index against a hand computation, and a rule
//! version loaded from a file changing the periods from its first day only; and who may
//! see and do what.

mod common;

use common::api::{act_ok, code_of, get, post, procedure_content, procedure_of};
use common::files::upload_pdf;
use common::intake::{Reach, counter_intake, file_dossier};
use common::pages::page;
use common::{CONSTRUCTION, LLTP, Session, TestApp, sign_in, sign_in_each, spawn_app_at, spawn_app_at_with};
use motcua_core::dossier::{Status, Timeliness};
use motcua_core::evaluation::{self, Answers, Conduct, Facts, Mark, PublicInfo, Satisfaction, UnitFacts, UnitMarks};
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
        competent: version.content.agency.clone(),
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

/// Finished before the due day (Thursday, due Friday 08:00).
const EARLY: OffsetDateTime = datetime!(2027-03-04 10:00 +07:00);
/// Finished on the due day, before the due instant.
const ON_TIME: OffsetDateTime = datetime!(2027-03-05 07:30 +07:00);
/// Finished after the due instant.
const LATE: OffsetDateTime = datetime!(2027-03-05 09:00 +07:00);

fn notice(kind: NoticeKind) -> Notice {
    Notice {
        kind,
        at: datetime!(2027-03-02 09:00 +07:00),
        by: Person {
            id: "x".into(),
            name: "X".into(),
        },
        reason: "Thiếu giấy tờ".into(),
        missing: vec!["Bản vẽ".into()],
        amount: None,
        old_due: None,
        new_due: None,
    }
}

/// A completion request at reception: a supplement-request notice only.
fn asked_at_reception(mut d: Dossier) -> Dossier {
    d.notices.push(notice(NoticeKind::SupplementRequest));
    d
}

/// A supplement request during handling: the notice, and the handling count.
fn asked_during_handling(mut d: Dossier) -> Dossier {
    d.notices.push(notice(NoticeKind::SupplementRequest));
    d.supplements += 1;
    d
}

fn points(m: &Mark) -> Option<u32> {
    m.points()
}

fn answers(contacts: u32, agencies: u32, public_info: PublicInfo, conduct: Conduct, s: Satisfaction) -> Answers {
    Answers {
        contacts: Some(contacts),
        agencies: Some(agencies),
        public_info: Some(public_info),
        conduct: Some(conduct),
        satisfaction: Some(s),
    }
}

/// An agency's figures: 20 procedures, `at_centre` of them at the centre, `online` of
/// them offered online; `dossiers` received in the period, `filed_online` online, `late`
/// online ones late or overdue.
fn unit_facts(at_centre: i64, online: i64, dossiers: i64, filed_online: i64, late: i64) -> UnitFacts {
    UnitFacts {
        procedures: 20,
        procedures_at_centre: at_centre,
        procedures_online: online,
        procedures_decided_at_one_stop: None,
        commune_level: false,
        dossiers,
        dossiers_online: filed_online,
        online_overdue_or_late: late,
        feedback: None,
    }
}

#[test]
fn total_time_early_on_time_late_and_unfinished() {
    let d = constructed();
    assert_eq!(points(&evaluation::total_time(&d)), None, "no result yet: not assessed");
    assert_eq!(points(&evaluation::total_time(&finished(d.clone(), EARLY))), Some(2));
    assert_eq!(points(&evaluation::total_time(&finished(d.clone(), ON_TIME))), Some(1));
    assert_eq!(points(&evaluation::total_time(&finished(d.clone(), LATE))), Some(0));
    // An apology moves the appointment, not the statutory time: finishing after the old
    // appointment is late for index 1 (and 7) even within the new one.
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
    assert_eq!(points(&evaluation::conduct(&moved, None)), Some(0));
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
fn index_3_counts_supplement_requests_at_reception_and_during_handling() {
    let early = finished(constructed(), EARLY);
    let with = |contacts| Answers {
        contacts,
        ..Answers::default()
    };
    // (dossier, the applicant's answer) → points, worked by hand: 0 contacts 2, 1 contact
    // 1, more 0; the larger of the dossier's count and the answer.
    let table: Vec<(&str, Dossier, Option<u32>, Option<u32>)> = vec![
        ("early, no supplement", early.clone(), None, Some(2)),
        (
            "one during handling",
            asked_during_handling(early.clone()),
            None,
            Some(1),
        ),
        ("one at reception", asked_at_reception(early.clone()), None, Some(1)),
        (
            "two: at reception and during handling",
            asked_during_handling(asked_at_reception(early.clone())),
            None,
            Some(0),
        ),
        (
            "two during handling",
            asked_during_handling(asked_during_handling(early.clone())),
            None,
            Some(0),
        ),
        ("none recorded, answered 1", early.clone(), Some(1), Some(1)),
        ("none recorded, answered 2", early.clone(), Some(2), Some(0)),
        (
            "one recorded, answered 0",
            asked_during_handling(early.clone()),
            Some(0),
            Some(1),
        ),
        ("unfinished, no answer", constructed(), None, None),
    ];
    for (what, d, answer, want) in table {
        let a = with(answer);
        let m = evaluation::contacts(&d, Some(&a));
        assert_eq!(points(&m), want, "{what}: {}", m.reason());
    }
    let m = evaluation::contacts(&asked_during_handling(asked_at_reception(early)), None);
    assert!(
        m.reason()
            .contains("1 lần yêu cầu bổ sung, hoàn thiện khi tiếp nhận và 1 lần trong khi giải quyết"),
        "{}",
        m.reason()
    );
}

#[test]
fn citizen_answers_score_indices_4_6_and_7_by_the_published_levels() {
    let early = finished(constructed(), EARLY);
    let on_time = finished(constructed(), ON_TIME);
    let mut a = Answers::default();
    assert_eq!(points(&evaluation::agencies(Some(&a))), None);
    assert_eq!(points(&evaluation::agencies(None)), None);
    // Index 4: none 2; one (the one-stop unit) 1; more than one 0.
    for (n, want) in [(0, 2), (1, 1), (2, 0), (5, 0)] {
        a.agencies = Some(n);
        assert_eq!(points(&evaluation::agencies(Some(&a))), Some(want), "agencies {n}");
    }
    // Index 6: published electronically (the catalogue); posting known from the answer.
    for (published, answer, want) in [
        (true, None, Some(1)),
        (true, Some(PublicInfo::Full), Some(2)),
        (true, Some(PublicInfo::Partial), Some(1)),
        (true, Some(PublicInfo::Missing), Some(0)),
        (false, None, None),
        (false, Some(PublicInfo::Full), Some(1)),
        (false, Some(PublicInfo::Partial), Some(0)),
    ] {
        a.public_info = answer;
        let m = evaluation::publicity(published, Some(&a));
        assert_eq!(points(&m), want, "{published} {answer:?}: {}", m.reason());
    }
    assert!(
        evaluation::publicity(true, None)
            .reason()
            .contains("chỉ tính hình thức điện tử")
    );
    // Index 7: early 2, on time 1 when no misconduct is reported; a report of misconduct
    // is not substantiated: not assessed (never 0 on an unverified report).
    for (d, conduct, want) in [
        (&early, None, Some(2)),
        (&early, Some(Conduct::Good), Some(2)),
        (&early, Some(Conduct::Fair), Some(2)),
        (&on_time, Some(Conduct::Good), Some(1)),
        (&on_time, None, Some(1)),
        (&early, Some(Conduct::Poor), None),
        (&on_time, Some(Conduct::Poor), None),
    ] {
        a.conduct = conduct;
        let m = evaluation::conduct(d, Some(&a));
        assert_eq!(points(&m), want, "{conduct:?}: {}", m.reason());
    }
    a.conduct = Some(Conduct::Poor);
    assert!(
        evaluation::conduct(&early, Some(&a))
            .reason()
            .contains("phản ánh chưa được xác minh")
    );
    assert_eq!(
        points(&evaluation::conduct(&constructed(), None)),
        None,
        "no result yet"
    );
}

/// Fixture dossiers scored by hand: every index's points, the total and how many were
/// assessed, written out without the implementation.
#[test]
fn fixture_dossiers_scored_by_hand() {
    struct Row {
        what: &'static str,
        dossier: Dossier,
        steps: Vec<Timeliness>,
        answers: Option<Answers>,
        published: bool,
        unit: UnitFacts,
        want: [Option<u32>; 9],
        total: u32,
        assessed: usize,
    }
    use Timeliness::*;
    let rows = [
        Row {
            // 1 early 2; 2 all steps early 2; 3 no supplement 2; 4 no answer -; 5 all 20
            // procedures at the centre, nothing known of who approves 1; 6 electronic only
            // 1; 7 early, no report 2; 8 no register -; 9 25 % procedures online, 7/20 =
            // 35 % dossiers online, none late 2. Total 12 over 7 indices.
            what: "A: early, no supplement, no survey",
            dossier: finished(constructed(), EARLY),
            steps: vec![Early, Early],
            answers: None,
            published: true,
            unit: unit_facts(20, 5, 20, 7, 0),
            want: [
                Some(2),
                Some(2),
                Some(2),
                None,
                Some(1),
                Some(1),
                Some(2),
                None,
                Some(2),
            ],
            total: 12,
            assessed: 7,
        },
        Row {
            // 1 on the due day 1; 2 worst step on time 1; 3 one supplement during handling
            // (answer 0, the larger is 1) 1; 4 one body, the one-stop unit 1; 5 19/20 at
            // the centre 0; 6 posted and electronic 2; 7 on time, good conduct 1; 8 -;
            // 9 4/25 = 16 % online 1. Total 8 over 8; very satisfied is outside the points.
            what: "B: on time, one supplement, full survey",
            dossier: asked_during_handling(finished(constructed(), ON_TIME)),
            steps: vec![Early, OnTime],
            answers: Some(answers(
                0,
                1,
                PublicInfo::Full,
                Conduct::Good,
                Satisfaction::VerySatisfied,
            )),
            published: true,
            unit: unit_facts(19, 5, 25, 4, 0),
            want: [
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(0),
                Some(2),
                Some(1),
                None,
                Some(1),
            ],
            total: 8,
            assessed: 8,
        },
        Row {
            // 1 late 0; 2 a late step 0; 3 one at reception + one during handling, answer
            // 3: 3 contacts 0; 4 two bodies 0; 5 all at the centre 1; 6 not published or
            // wrong 0; 7 late 0; 8 -; 9 an overdue online dossier 0. Total 1 over 8.
            what: "C: late, two supplements, an overdue online dossier",
            dossier: asked_during_handling(asked_at_reception(finished(constructed(), LATE))),
            steps: vec![Early, Late],
            answers: Some(answers(
                3,
                2,
                PublicInfo::Missing,
                Conduct::Fair,
                Satisfaction::NotSatisfied,
            )),
            published: true,
            unit: unit_facts(20, 5, 20, 7, 1),
            want: [
                Some(0),
                Some(0),
                Some(0),
                Some(0),
                Some(1),
                Some(0),
                Some(0),
                None,
                Some(0),
            ],
            total: 1,
            assessed: 8,
        },
        Row {
            // 1 early 2; 2 early 2; 3 no supplement, answered 1 → 1; 4 no body 2; 5 1;
            // 6 partial: electronic only 1; 7 misconduct reported, not substantiated -;
            // 8 -; 9 3/20 = 15 % online 1. Total 10 over 7.
            what: "D: early, misconduct reported",
            dossier: finished(constructed(), EARLY),
            steps: vec![Early],
            answers: Some(answers(
                1,
                0,
                PublicInfo::Partial,
                Conduct::Poor,
                Satisfaction::Satisfied,
            )),
            published: true,
            unit: unit_facts(20, 5, 20, 3, 0),
            want: [
                Some(2),
                Some(2),
                Some(1),
                Some(2),
                Some(1),
                Some(1),
                None,
                None,
                Some(1),
            ],
            total: 10,
            assessed: 7,
        },
        Row {
            // Unfinished: 1, 2, 3, 7 not assessed; 4 -; 5 1; 6 1; 8 -; 9 no online
            // procedure 0. Total 2 over 3.
            what: "E: in progress, no online service",
            dossier: constructed(),
            steps: vec![],
            answers: None,
            published: true,
            unit: unit_facts(20, 0, 20, 0, 0),
            want: [None, None, None, None, Some(1), Some(1), None, None, Some(0)],
            total: 2,
            assessed: 3,
        },
    ];
    // Both shipped rule versions score the same nine indices the same way.
    let book = motcua_core::rules::RuleBook::shipped();
    for (set, r) in book
        .versions()
        .iter()
        .flat_map(|set| rows.iter().map(move |r| (set, r)))
    {
        let marks = UnitMarks::of(&r.unit);
        let facts = Facts {
            dossier: &r.dossier,
            steps: &r.steps,
            forwarded: &[],
            answers: r.answers.as_ref(),
            published: r.published,
            unit: &marks,
        };
        let sheet = evaluation::evaluate(&facts, &set.indices);
        let got: Vec<Option<u32>> = sheet.lines.iter().map(|l| l.mark.points()).collect();
        assert_eq!(got, r.want, "{}: {:#?}", r.what, sheet.lines);
        assert_eq!(sheet.total(), r.total, "{}", r.what);
        assert_eq!(sheet.assessed(), r.assessed, "{}", r.what);
        assert_eq!(
            sheet.satisfaction,
            r.answers.as_ref().and_then(|a| a.satisfaction),
            "{}",
            r.what
        );
        let numbers: Vec<u8> = sheet.lines.iter().map(|l| l.index.number).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
}

#[test]
fn index_9_worked_by_hand() {
    // 20 procedures, 5 online (25 %).
    for (dossiers, online, late, want) in [
        // 7/20 = 35 % online, none late: 2.
        (20, 7, 0, Some(2)),
        // 4/25 = 16 %: 1.
        (25, 4, 0, Some(1)),
        // 3/25 = 12 %: 0.
        (25, 3, 0, Some(0)),
        // 35 % but an online dossier overdue or late: 0.
        (20, 7, 1, Some(0)),
        // Nothing received: not assessed.
        (0, 0, 0, None),
    ] {
        let m = evaluation::online_service(&unit_facts(20, 5, dossiers, online, late));
        assert_eq!(points(&m), want, "{online}/{dossiers}, {late} late: {}", m.reason());
    }
    // 3 of 20 procedures online (15 %) with 35 % online dossiers: 1, not 2.
    assert_eq!(
        points(&evaluation::online_service(&unit_facts(20, 3, 20, 7, 0))),
        Some(1)
    );
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

fn line(v: &Value, code: &str) -> Value {
    v["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["code"] == code)
        .cloned()
        .unwrap_or_else(|| panic!("no line {code}: {v}"))
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
    let codes: Vec<&str> = v["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| l["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "total_time",
            "step_time",
            "contacts",
            "agencies",
            "one_stop",
            "publicity",
            "conduct",
            "feedback",
            "online_service"
        ]
    );
    // A dossier of March 2027 is scored by the version of Decree 118/2025, which keeps the
    // nine indices of Decree 61/2018 until they are compared with the new text.
    assert_eq!(v["rules_version"], "2025");
    for l in v["lines"].as_array().expect("lines") {
        let legal = l["legal"].as_str().expect("legal");
        assert!(
            legal.contains("Nghị định 118/2025/NĐ-CP") && legal.contains("Thông tư 03/2025/TT-VPCP"),
            "{l}"
        );
        assert!(legal.contains("chưa đối chiếu") && l["confirmed"] == false, "{l}");
    }
    // Before any survey, by hand: finished the day it was filed (early) 2; the control
    // sheet's steps: two early, two on time (each finished within its due day) 1;
    // no supplement request 2; bodies contacted: not assessed; Sở Xây dựng has 7
    // procedures received only at the department 0; published electronically only 1;
    // early and no report 2; feedback: not assessed; online service: in March 2027 the
    // department received this one dossier at the counter (0 % online) 0. Total 8 over 7.
    let want = [
        ("total_time", json!(2)),
        ("step_time", json!(1)),
        ("contacts", json!(2)),
        ("agencies", Value::Null),
        ("one_stop", json!(0)),
        ("publicity", json!(1)),
        ("conduct", json!(2)),
        ("feedback", Value::Null),
        ("online_service", json!(0)),
    ];
    for (index, points) in &want {
        assert_eq!(line(&v, index)["points"], *points, "{index}: {}", line(&v, index));
    }
    assert_eq!(
        (v["total"].clone(), v["assessed"].clone(), v["max"].clone()),
        (json!(8), json!(7), json!(18))
    );
    assert_eq!(line(&v, "online_service")["source"], "unit");
    assert_eq!(line(&v, "contacts")["source"], "system_and_citizen");
    assert_eq!(v["unit"]["agency"], CONSTRUCTION);
    assert_eq!(
        (v["unit"]["dossiers"].clone(), v["unit"]["dossiers_online"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(v["unit"]["from"], "2027-03-01T00:00:00+07:00");
    assert_eq!(v["satisfaction"], Value::Null);
    assert!(
        line(&v, "feedback")["reason"]
            .as_str()
            .expect("reason")
            .contains("chưa có sổ theo dõi phản ánh"),
        "{v}"
    );

    // The survey: 2 contacts 0; 2 bodies 0; misconduct reported: index 7 not assessed;
    // satisfied is shown, outside the points. Total 2 + 1 + 0 + 0 + 0 + 1 + 0 = 4 over 7.
    post_anonymous(
        &app,
        &format!("/api/v1/track/{code}/rating"),
        json!({"rating_code": rating, "rating": "satisfied", "contacts": 2, "agencies": 2, "conduct": "poor"}),
    )
    .await;
    let (_, v) = get(&app, &s.leader, &path).await;
    assert_eq!(line(&v, "contacts")["points"], 0);
    assert_eq!(line(&v, "agencies")["points"], 0);
    assert_eq!(
        line(&v, "conduct")["points"],
        Value::Null,
        "a report of misconduct is not substantiated"
    );
    assert_eq!(v["satisfaction"], "satisfied");
    assert_eq!((v["total"].clone(), v["assessed"].clone()), (json!(4), json!(7)));

    let (status, html) = page(&app, Some(&s.leader), &format!("/ho-so/{code}/phieu-danh-gia")).await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "Chưa đánh giá",
        "Thông tư 03/2025/TT-VPCP — chỉ số 9",
        "Chấm theo phiên bản quy định «2025»",
        "phản ánh chưa được xác minh",
        r#"id="index-online_service""#,
        "không tính vào 18 điểm): <strong>Hài lòng</strong>",
    ] {
        assert!(html.contains(needle), "{needle}: {html}");
    }
    assert!(!html.contains("điều 31"), "no unconfirmed article cited");
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

    // A second dossier with one supplement request during handling: index 3 is 1.
    let procedure = procedure_of(&app, CONSTRUCTION).await;
    let (second, _) = file_with_scan(&app, &s.counter, &procedure, None).await;
    let officer = sign_in(&app, "cv.xaydung").await;
    act_ok(&app, &s.counter, &second, "transfer", json!({})).await;
    act_ok(&app, &s.leader, &second, "assign", json!({"user": "cv.xaydung"})).await;
    act_ok(
        &app,
        &officer,
        &second,
        "request-supplement",
        json!({"missing": ["Bản vẽ thiết kế có chữ ký"], "reason": "Thiếu bản vẽ"}),
    )
    .await;
    let scan = upload_pdf(&app, &s.counter, "ban-ve.pdf").await;
    act_ok(
        &app,
        &s.counter,
        &second,
        "receive-supplement",
        json!({"files": [scan]}),
    )
    .await;
    let result = upload_pdf(&app, &s.leader, "giay-phep.pdf").await;
    act_ok(&app, &s.leader, &second, "finish", json!({"result_files": [result]})).await;
    let (_, v) = get(&app, &s.leader, &format!("/api/v1/dossiers/{second}/evaluation")).await;
    assert_eq!(line(&v, "contacts")["points"], 1, "{}", line(&v, "contacts"));
    assert!(
        line(&v, "contacts")["reason"]
            .as_str()
            .expect("reason")
            .contains("0 lần yêu cầu bổ sung, hoàn thiện khi tiếp nhận và 1 lần trong khi giải quyết"),
        "{v}"
    );

    // The per-agency sheet counts both, scores the unit-level indices once and shows the
    // satisfaction apart.
    let period = "period=khoang&from=2027-03-01&to=2027-03-31";
    let (status, html) = page(
        &app,
        Some(&director),
        &format!("/lanh-dao/phieu-danh-gia?agency={CONSTRUCTION}&{period}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        format!("/ho-so/{code}/phieu-danh-gia"),
        format!("/ho-so/{second}/phieu-danh-gia"),
        "Cấp cơ quan: ".to_owned(),
        "0/2 hồ sơ tiếp nhận trong kỳ nộp trực tuyến".to_owned(),
        "Thông tư 03/2025/TT-VPCP — chỉ số 5".to_owned(),
        "rất hài lòng 0, hài lòng 1, không hài lòng 0".to_owned(),
    ] {
        assert!(html.contains(&needle), "{needle}: {html}");
    }
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

/// Index 9 through the application, for Sở Tư pháp in March 2027: the share of online
/// dossiers and an overdue online dossier, worked by hand.
#[tokio::test]
async fn index_9_follows_the_agencys_online_dossiers_over_the_month() {
    let app = spawn_app_at(START).await;
    let [citizen, counter, director] = sign_in_each(&app, ["congdan", "tiepnhan", "giamdoc"]).await;
    // C: the judicial record filed online, accepted.
    let content = procedure_content(&app, LLTP).await;
    let mut documents = Vec::new();
    for (i, d) in content["documents"].as_array().expect("documents").iter().enumerate() {
        if d["required"] == true {
            let id = upload_pdf(&app, &citizen, &format!("giay-to-{i}.pdf")).await;
            documents.push(json!({"index": i, "files": [id]}));
        }
    }
    let kind = content["applicants"][0].as_str().expect("kind");
    let body = json!({"procedure": LLTP, "documents": documents, "delivery": "counter",
        "applicant": {"kind": kind, "name": "Nguyễn Văn Dân", "id_number": "058190000123", "phone": "0912345678"}});
    let (status, v) = post(&app, &citizen, "/api/v1/dossiers", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let online = code_of(&v);
    act_ok(&app, &counter, &online, "accept", json!({})).await;
    let at_counter = async || {
        let body = common::intake::judicial_record_intake(&app).await;
        file_dossier(&app, &counter, body).await;
    };
    at_counter().await;
    at_counter().await;
    let path = format!("/api/v1/dossiers/{online}/evaluation");
    let index_9 = async || {
        let (status, v) = get(&app, &director, &path).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        (line(&v, "online_service"), v["unit"].clone())
    };
    let (l, unit) = index_9().await;
    assert_eq!(unit["agency"], common::JUSTICE);
    // The demo catalogue: Sở Tư pháp has 140 procedures, 123 of them at level 3 or 4
    // (87.9 %, at least 20 %).
    assert_eq!(unit["procedures"], 140, "{unit}");
    assert_eq!(unit["procedures_online"], 123, "{unit}");
    // 1 online of 3 received = 33.3 % ≥ 30 %, none overdue: 2.
    assert_eq!(
        (unit["dossiers"].clone(), unit["dossiers_online"].clone()),
        (json!(3), json!(1))
    );
    assert_eq!(l["points"], 2, "{l}");
    // Three more at the counter: 1 of 6 = 16.7 %: 1.
    for _ in 0..3 {
        at_counter().await;
    }
    let (l, _) = index_9().await;
    assert_eq!(l["points"], 1, "{l}");
    // The online dossier runs past its appointment (10 working days from 1 March): on 25
    // March it is overdue, which scores 0 whatever the shares.
    app.clock.set(datetime!(2027-03-25 09:00 +07:00));
    let (l, unit) = index_9().await;
    assert_eq!(unit["online_overdue_or_late"], 1, "{unit}");
    assert_eq!(l["points"], 0, "{l}");
    assert!(l["reason"].as_str().expect("reason").contains("quá hạn"), "{l}");
}

fn criterion_of<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["criteria"].as_array().expect("criteria").iter())
        .find(|c| c["criterion"]["code"] == code)
        .expect("criterion")
}

fn points_of(v: &Value, code: &str) -> Value {
    criterion_of(v, code)["points_centi"].clone()
}

fn group_of<'a>(v: &'a Value, code: &str) -> &'a Value {
    v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["code"] == code)
        .expect("group")
}

/// The published sub-criteria scored on rates worked by hand (points in hundredths,
/// truncated): linear ones are max × rate, thresholded ones full from the threshold and
/// rate × max / threshold below it.
#[test]
fn decision_766_sub_criteria_worked_by_hand() {
    let book = motcua_core::rules::RuleBook::shipped();
    let criteria = &book.in_force(time::macros::date!(2026 - 01 - 01)).criteria;
    let c = |code: &str| criteria.iter().find(|c| c.code == code).expect("criterion");
    let table: [(&str, i64, i64, Option<i64>); 16] = [
        // 2.1: 45 of 50 on time: 20 × 0.9 = 18.00.
        ("2.1", 45, 50, Some(1800)),
        // 3.3: 30 % online: 6 × 30 / 50 = 3.60; 60 %: 6.00 (threshold 50 %).
        ("3.3", 30, 100, Some(360)),
        ("3.3", 60, 100, Some(600)),
        // 3.1: 40 % of procedures online: 2 × 40 / 80 = 1.00; 85 %: 2.00.
        ("3.1", 40, 100, Some(100)),
        ("3.1", 85, 100, Some(200)),
        // 5.4: 5 % overdue, 2 % not satisfied: 93 % ≥ 90 %: 6.00; 20 % off: 80 / 90 × 6 = 5.33.
        ("5.4", 93, 100, Some(600)),
        ("5.4", 80, 100, Some(533)),
        // 5.4 with no dossier: 0; 5.2 and 5.3 with no feedback: full.
        ("5.4", 0, 0, Some(0)),
        ("5.2", 0, 0, Some(600)),
        ("5.3", 0, 0, Some(600)),
        // 1.3: 7 of 8 procedures complete: 2 × 7 / 8 = 1.75.
        ("1.3", 7, 8, Some(175)),
        // 3.6: 1 of 4 dossiers paid online: 6 / 4 = 1.50.
        ("3.6", 1, 4, Some(150)),
        // 3.5b: 3 of 10 procedures with fees paid online: 2 × 30 / 80 = 0.75.
        ("3.5b", 3, 10, Some(75)),
        // 4.2: 2 of 3 dossiers digitised: 4 × 2 / 3 = 2.66.
        ("4.2", 2, 3, Some(266)),
        // 4.1: nothing finished: not scored.
        ("4.1", 0, 0, None),
        // 1.4: 19 of 20 synchronised: 6 × 0.95 = 5.70.
        ("1.4", 19, 20, Some(570)),
    ];
    for (code, hits, of, want) in table {
        assert_eq!(
            evaluation::criterion_points(c(code), evaluation::Ratio { hits, of }),
            want,
            "{code}: {hits}/{of}"
        );
    }
    // 1.4 counts the deliveries to the portal's outbox destination.
    assert_eq!(
        motcua_store::evaluation::PORTAL_DESTINATION,
        motcua_server::outbox::PORTAL
    );
    // Group totals of the published set: 18, 20, 22 (12 + 10), 22, 18.
    let group = |g: &str| -> u32 { criteria.iter().filter(|c| c.group == g).map(|c| c.max_points).sum() };
    assert_eq!(
        [
            group("transparency"),
            group("progress"),
            group("online"),
            group("digitisation"),
            group("satisfaction")
        ],
        [18, 20, 22, 22, 18]
    );
}

#[tokio::test]
async fn the_service_index_matches_a_hand_computation_and_a_new_rule_version_changes_later_periods_only() {
    // The sandbox payment gateway on (3.5 measured), no national portal (1.4 not measured).
    let app = spawn_app_at_with(START, |c| c.sandbox_gateway = Some(true)).await;
    let s = staff(&app).await;
    let [director, admin, citizen] = sign_in_each(&app, ["giamdoc", "quantri", "congdan"]).await;
    let construction = procedure_of(&app, CONSTRUCTION).await;

    // A: at the counter with a scan, result file, rated by link very satisfied.
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
    // B: at the counter without scans, kiosk: not satisfied.
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

    // By hand, over March 2027 (A, B resolved early; C in progress, not overdue):
    //  2.1: (2 + 1) / (2 + 1) = 100 % × 20 = 20.00
    //  3.3: 1 of 3 received online = 33.3 % of the 50 % threshold: 6 × (1/3) / 0.5 = 4.00
    //  3.6: no payment: nothing to measure, not scored
    //  4.1: A and B of A, B with an electronic result = 100 % × 6 = 6.00
    //  4.2: A and C of 3 received with scans = 66.6 % × 4 = 2.66
    //  5.4: 100 % − (0 overdue + 1 not satisfied) / 3 = 66.6 % of 90 %: 6 × (2/3) / 0.9 = 4.44
    //  4.3: no dossier took a document from a store: 0 (80 % to reach)
    //  1.1, 1.2, 1.4 (no portal), 4.2b, 4.4, 4.5a, 4.5b, 5.2, 5.3: not measured
    let query = "/api/v1/service-index?period=khoang&from=2027-03-01&to=2027-03-31";
    let (status, v) = get(&app, &director, query).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(points_of(&v, "2.1"), 2000, "{}", criterion_of(&v, "2.1"));
    assert_eq!(points_of(&v, "3.3"), 400, "{}", criterion_of(&v, "3.3"));
    assert_eq!(points_of(&v, "3.6"), Value::Null);
    assert_eq!(criterion_of(&v, "3.6")["outcome"], "no_data");
    assert_eq!(points_of(&v, "4.1"), 600);
    assert_eq!(points_of(&v, "4.2"), 266);
    assert_eq!(points_of(&v, "5.4"), 444, "{}", criterion_of(&v, "5.4"));
    assert_eq!(points_of(&v, "4.3"), 0, "{}", criterion_of(&v, "4.3"));
    for code in ["1.1", "1.2", "1.4", "4.2b", "4.4", "4.5a", "4.5b", "5.2", "5.3"] {
        let x = criterion_of(&v, code);
        assert_eq!(x["outcome"], "not_measured", "{code}: {x}");
        assert_eq!((&x["points_centi"], &x["hits"]), (&Value::Null, &Value::Null), "{code}");
    }
    // The catalogue's sub-criteria, on the demo catalogue of 1388 procedures (all with
    // every component; 1177 taking online filing; 1095 with a fee, payable online through
    // the sandbox gateway; C's the only one used online, none paid online):
    //  1.3: 1388 / 1388 × 2 = 2.00
    //  3.1: 1177 / 1388 = 84.8 % ≥ 80 %: 2.00
    //  3.2: 1 / 1177 × 4 = 0.0034: 0.00
    //  3.5: 1095 / 1095 ≥ 80 %: 2.00; 3.5b: 0 / 1095: 0.00
    let catalogue = |code: &str| {
        let x = criterion_of(&v, code);
        (x["hits"].clone(), x["of"].clone(), x["points_centi"].clone())
    };
    assert_eq!(catalogue("1.3"), (json!(1388), json!(1388), json!(200)));
    assert_eq!(catalogue("3.1"), (json!(1177), json!(1388), json!(200)));
    assert_eq!(catalogue("3.2"), (json!(1), json!(1177), json!(0)));
    assert_eq!(catalogue("3.5"), (json!(1095), json!(1095), json!(200)));
    assert_eq!(catalogue("3.5b"), (json!(0), json!(1095), json!(0)));
    // Groups: transparency 2.00 of 2 measured; progress 20.00 of 20; online 2 + 0 + 4 + 2
    // + 0 = 8.00 of 2 + 4 + 6 + 2 + 2 = 16; digitisation 6 + 2.66 + 0 = 8.66 of 12;
    // satisfaction 4.44 of 6. Total 43.10 of 56 measured, out of 100.
    let g = |code: &str| {
        let x = group_of(&v, code);
        (
            x["scored_centi"].clone(),
            x["measured_max"].clone(),
            x["points"].clone(),
        )
    };
    assert_eq!(g("transparency"), (json!(200), json!(2), json!(18)));
    assert_eq!(g("progress"), (json!(2000), json!(20), json!(20)));
    assert_eq!(g("online"), (json!(800), json!(16), json!(22)));
    assert_eq!(g("digitisation"), (json!(866), json!(12), json!(22)));
    assert_eq!(g("satisfaction"), (json!(444), json!(6), json!(18)));
    assert_eq!(v["total_centi"], 4310, "{v}");
    assert_eq!((&v["measured_max"], &v["max"]), (&json!(56), &json!(100)));
    let x = criterion_of(&v, "3.3");
    assert_eq!(
        x["criterion"]["name"],
        "Tỷ lệ hồ sơ thủ tục hành chính được tiếp nhận trực tuyến"
    );
    assert!(
        x["criterion"]["source"]
            .as_str()
            .expect("source")
            .starts_with("Quyết định 766/QĐ-TTg ngày 23/6/2022")
    );
    assert_eq!(x["criterion"]["target_permille"], 500);
    assert_eq!(criterion_of(&v, "5.4")["criterion"]["when_empty"], "zero");

    // The page shows each sub-criterion with its source, formula, rate and points, and the
    // ones motcua cannot measure.
    let (status, html) = page(
        &app,
        Some(&director),
        "/lanh-dao/chi-so-phuc-vu?period=khoang&from=2027-03-01&to=2027-03-31",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "43,10 / 56",
        "tối đa 100",
        "1 / 3",
        "33,3 %",
        "4,00",
        "3.3. Tỷ lệ hồ sơ thủ tục hành chính được tiếp nhận trực tuyến",
        "Đạt từ 50 % trở lên",
        "Nguồn: Quyết định 766/QĐ-TTg ngày 23/6/2022; cách tính theo Cổng Dịch vụ công quốc gia",
        "không đo được trong motcua",
        "5.2. Tiến độ xử lý phản ánh, kiến nghị",
        "không phát sinh, không chấm",
        "Số hóa hồ sơ",
        // The period's days as people read them, and in words.
        r#"value="01/03/2027""#,
        "ngày 31 tháng 3 năm 2027",
    ] {
        assert!(html.contains(needle), "{needle}: {html}");
    }
    // Days typed as dd/mm/yyyy choose the same period.
    let (status, typed) = page(
        &app,
        Some(&director),
        "/lanh-dao/chi-so-phuc-vu?period=khoang&from=01%2F03%2F2027&to=31%2F03%2F2027",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(typed.contains("43,10 / 56"), "{typed}");

    assert_eq!(
        v["rules_version"], "2025",
        "March 2027 is scored by the Decree 118/2025 rules"
    );

    // The law changes from 1 March 2027 (a version loaded from a file): 3.3 is full from
    // 25 %, so 33.3 % gives 6.00; 3.6 scores 0 when nothing is paid, so it enters the
    // measured maximum. Periods from that day on follow it; earlier ones do not.
    let (_, current) = get(&app, &director, "/api/v1/rules/2025").await;
    let mut file = current.clone();
    file["version"] = json!("2027-03");
    file["title"] = json!("Thử nghiệm: chỉ số phục vụ sửa đổi từ 01/3/2027");
    file["effective_from"] = json!("2027-03-01");
    file["sources"] = json!(["Văn bản sửa đổi (thử nghiệm)"]);
    let criteria = file["criteria"].as_array_mut().expect("criteria");
    for c in criteria.iter_mut() {
        if c["code"] == "3.3" {
            c["target_permille"] = json!(250);
        }
        if c["code"] == "3.6" {
            c["when_empty"] = json!("zero");
        }
    }
    let load = "/api/v1/admin/rules";
    for who in [&director, &s.counter] {
        let (status, _) = post(&app, who, load, file.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // A bad file: every problem reported, nothing stored.
    let mut bad = file.clone();
    bad["criteria"][4]["max_points"] = json!(19);
    bad["forms"] = json!([]);
    let (status, e) = post(&app, &admin, load, bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], "invalid_rules");
    let fields: Vec<&str> = e["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|x| x["field"].as_str())
        .collect();
    assert!(fields.contains(&"groups[1].points") && fields.contains(&"forms"), "{e}");
    let (status, e) = post(&app, &admin, load, json!("không phải tệp quy định")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    // A version of the same name, or one more on a day that has one, is refused.
    let mut same_name = file.clone();
    same_name["version"] = json!("2025");
    same_name["effective_from"] = json!("2027-06-01");
    let (status, _) = post(&app, &admin, load, same_name).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let mut same_day = file.clone();
    same_day["version"] = json!("2025-b");
    same_day["effective_from"] = json!("2025-07-01");
    let (status, _) = post(&app, &admin, load, same_day).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, loaded) = post(&app, &admin, load, file.clone()).await;
    assert_eq!(status, StatusCode::OK, "{loaded}");
    assert_eq!(
        (&loaded["version"], &loaded["shipped"], &loaded["in_force"]),
        (&json!("2027-03"), &json!(false), &json!(true))
    );
    let (status, _) = post(&app, &admin, load, file.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "loaded once only");
    let (_, list) = get(&app, &director, "/api/v1/rules").await;
    let names: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v["version"].as_str())
        .collect();
    assert_eq!(names, ["2018", "2025", "2027-03"]);
    // March from its first day: the new version.
    let (_, v) = get(&app, &director, query).await;
    assert_eq!(v["rules_version"], "2027-03");
    assert_eq!(points_of(&v, "3.3"), 600);
    assert_eq!(points_of(&v, "3.6"), 0);
    assert_eq!(v["total_centi"], 4310 - 400 + 600);
    assert_eq!(v["measured_max"], 56 + 6);
    // A period from the day before (the same dossiers): the rules in force then, unchanged.
    let (_, before) = get(
        &app,
        &director,
        "/api/v1/service-index?period=khoang&from=2027-02-28&to=2027-03-31",
    )
    .await;
    assert_eq!(before["rules_version"], "2025");
    assert_eq!(
        (&before["total_centi"], &before["measured_max"]),
        (&json!(4310), &json!(56))
    );
    // The load is in the audit trail with the file's digest.
    let (_, trail) = get(&app, &admin, "/api/v1/admin/audit?action=rules.load").await;
    let entry = &trail["items"][0];
    assert_eq!(entry["object_id"], "2027-03", "{trail}");
    assert_eq!(entry["after"]["sha256"], loaded["sha256"]);
    // The administrator's page lists the versions, the loaded one in force.
    let (status, html) = page(&app, Some(&admin), "/quan-tri/quy-dinh").await;
    assert_eq!(status, StatusCode::OK);
    for needle in [
        r#"id="version-2027-03""#,
        "Đang áp dụng",
        "Nghị định 118/2025/NĐ-CP",
        "Thông tư 01/2018/TT-VPCP, Mẫu số 05",
        r#"href="/api/v1/rules/2018""#,
        r#"enctype="multipart/form-data""#,
    ] {
        assert!(html.contains(needle), "{needle}: {html}");
    }
    let (status, html) = page(
        &app,
        Some(&director),
        "/lanh-dao/chi-so-phuc-vu?period=khoang&from=2027-03-01&to=2027-03-31",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("«2027-03»") && html.contains("45,10 / 62"), "{html}");

    // Who may see.
    let (status, _) = get(&app, &s.counter, query).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, Some(&s.leader), "/lanh-dao/chi-so-phuc-vu").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, Some(&director), "/quan-tri/quy-dinh").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
