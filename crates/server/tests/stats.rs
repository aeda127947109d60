//! The maintained statistics (issue 8) on the backend the test run selects: random
//! sequences of transitions through the real API, under a clock that moves, leave
//! aggregates that equal a recount from scratch, equal a straightforward computation
//! over the dossiers written here (independent of `motcua_core::stats`) for many periods,
//! groupings and filters, and give the director's overview the same numbers as the scan
//! it replaces, each number holding exactly the dossiers its list shows.

mod common;

use common::stats::add_counts;

use std::collections::BTreeMap;

use common::api::{act, act_ok, code_of, procedure_of};
use common::files::upload_pdf;
use common::intake::{Reach, counter_intake, file_dossier, finish};
use common::{CONSTRUCTION, JUSTICE, LLTP, Session, TestApp, sign_in, sign_in_each, spawn_app_at, vn_midnight};
use motcua_core::calendar::VIETNAM_OFFSET;
use motcua_core::codes::ProvinceCode;
use motcua_core::dossier::{Channel, Status};
use motcua_core::lifecycle::{Dossier, NoticeKind};
use motcua_core::stats::Dimension;
use motcua_store::overview::{self, Behind, Metric, Period};
use motcua_store::stats::{self, Counts, Query};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

/// A small deterministic generator (the sequence is the same on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct World {
    app: TestApp,
    counter: Session,
    leader: Session,
    justice: Session,
    procedures: Vec<String>,
    /// Code → (status code, department).
    dossiers: Vec<(String, i64, &'static str)>,
}

impl World {
    async fn file(&mut self, rng: &mut Rng) {
        let procedure = self.procedures[rng.below(self.procedures.len())].clone();
        let department = if procedure == LLTP { JUSTICE } else { CONSTRUCTION };
        let mut body = counter_intake(&self.app, &procedure, Reach::Nowhere).await;
        body["channel"] = json!(if rng.below(4) == 0 { "post" } else { "counter" });
        body["accept"] = json!(rng.below(3) != 0);
        let v = file_dossier(&self.app, &self.counter, body).await;
        self.dossiers.push((
            v["code"].as_str().expect("code").to_owned(),
            v["status_code"].as_i64().expect("status"),
            department,
        ));
    }

    /// One transition possible from the dossier's status, chosen at random.
    async fn act(&mut self, rng: &mut Rng, i: usize) {
        let (code, status, department) = self.dossiers[i].clone();
        let construction = department == CONSTRUCTION;
        let dept = if construction { &self.leader } else { &self.justice };
        let supplement = json!({"missing": ["Bản vẽ có chữ ký"], "reason": "Thiếu chữ ký"});
        let choices: Vec<(&Session, &str, Value)> = match status {
            1 => vec![
                (&self.counter, "accept", json!({})),
                (&self.counter, "accept", json!({})),
                (&self.counter, "refuse", json!({"reason": "Không thuộc thẩm quyền"})),
                (&self.counter, "request-completion", supplement.clone()),
                (&self.counter, "withdraw", json!({"reason": "Xin rút"})),
            ],
            2 => vec![
                (&self.counter, "transfer", json!({})),
                (&self.counter, "transfer", json!({})),
                (&self.counter, "withdraw", json!({"reason": "Xin rút"})),
            ],
            4 if construction => vec![
                (&self.leader, "assign", json!({"user": "cv.xaydung"})),
                (&self.leader, "request-supplement", supplement.clone()),
                (&self.leader, "finish", Value::Null),
                (&self.leader, "finish", Value::Null),
                (
                    &self.leader,
                    "stop",
                    json!({"legal_ground": "Điều 19 Nghị định 61/2018/NĐ-CP", "reason": "Không bổ sung"}),
                ),
                (&self.leader, "request-payment", json!({"amount": 150000})),
                (&self.counter, "withdraw", json!({"reason": "Xin rút"})),
            ],
            4 => vec![
                (dept, "request-supplement", supplement.clone()),
                (dept, "request-payment", json!({"amount": 150000})),
                (&self.counter, "withdraw", json!({"reason": "Xin rút"})),
            ],
            5 => vec![
                (&self.counter, "receive-supplement", json!({"note": "Đã nhận"})),
                (&self.counter, "receive-supplement", json!({"note": "Đã nhận"})),
                (&self.counter, "withdraw", json!({"reason": "Xin rút"})),
            ],
            6 => vec![(dept, "confirm-payment", json!({"amount": 150000, "reference": "BL-1"}))],
            9 => vec![(&self.counter, "return", json!({"method": "counter"}))],
            _ => return,
        };
        // Withdrawals end dossiers early: rarer than the rest, so most get resolved.
        let mut pick = choices[rng.below(choices.len())].clone();
        if pick.1 == "withdraw" && rng.below(4) != 0 {
            pick = choices[0].clone();
        }
        let (who, action, mut body) = pick;
        if action == "finish" {
            let result = upload_pdf(&self.app, &self.leader, "ket-qua.pdf").await;
            body = json!({"result_files": [result], "note": "Đã ký"});
        }
        let (http, v) = act(&self.app, who, &code, action, body).await;
        assert_eq!(http, StatusCode::OK, "{action} on {code} ({status}): {v}");
        self.dossiers[i].1 = v["status_code"].as_i64().expect("status");
    }
}

fn value_of(d: &Dossier, dim: Dimension) -> String {
    match dim {
        Dimension::Centre => d.receiving_agency.as_str().to_owned(),
        Dimension::Department => d.responsible_agency.as_str().to_owned(),
        Dimension::Field => d.field.as_str().to_owned(),
        Dimension::Procedure => d.procedure.as_str().to_owned(),
        // Who handled it in the responsible department, else who holds it.
        Dimension::Officer => d
            .handled_by
            .as_ref()
            .or(d.assignee.as_ref())
            .map(|p| p.id.clone())
            .unwrap_or_default(),
    }
}

/// The figures of docs/rules.md §6 computed the plain way, dossier by dossier, at the instant.
fn straightforward(all: &[Dossier], q: &Query<'_>) -> BTreeMap<String, Counts> {
    let (from, to) = (q.period.from, q.period.to);
    let at = to.min(q.now);
    let within = |t: Option<OffsetDateTime>| t.is_some_and(|t| from <= t && t < to);
    let mut out: BTreeMap<String, Counts> = BTreeMap::new();
    for d in all {
        if q.department.is_some_and(|x| x != d.responsible_agency.as_str()) || q.channel.is_some_and(|c| c != d.channel)
        {
            continue;
        }
        let mut c = Counts::default();
        if let Some(r) = d.received_at {
            let open_at = |cut: OffsetDateTime| r < cut && d.finished_at.is_none_or(|f| f >= cut);
            if open_at(from) {
                c.carried_over = 1;
            }
            if within(Some(r)) {
                let i = match d.channel {
                    Channel::Counter => 0,
                    Channel::Online => 1,
                    Channel::Post => 2,
                };
                c.received[i] = 1;
            }
            if open_at(to) {
                let paused = d.finished_at.is_none()
                    && matches!(d.status, Status::SupplementRequested | Status::AwaitingPayment);
                if d.due_at.is_some_and(|due| due < at) && !paused {
                    c.overdue = 1;
                } else {
                    c.in_progress_on_time = 1;
                }
            }
        }
        if matches!(d.status, Status::Done | Status::Returned) && within(d.finished_at) {
            let (f, due) = (d.finished_at.expect("finished"), d.due_at.expect("due"));
            if d.supplements > 1 || f > due {
                c.late = 1;
            } else if f.to_offset(VIETNAM_OFFSET).date() < due.to_offset(VIETNAM_OFFSET).date() {
                c.early = 1;
            } else {
                c.on_time = 1;
            }
            // The lifecycle records the working time at the finish (less the waits); it
            // can never exceed the elapsed time.
            let worked = i64::try_from(d.working_minutes.expect("working time recorded at the finish")).expect("fits");
            assert!(
                worked <= (f - d.received_at.expect("received")).whole_minutes(),
                "{}",
                d.code
            );
            c.resolved_minutes = worked;
        }
        if within(d.returned_at) {
            c.returned = 1;
        }
        if within(d.finished_at) {
            match d.status {
                Status::Refused => c.refused = 1,
                Status::Withdrawn => c.withdrawn = 1,
                Status::Stopped => c.stopped = 1,
                _ => {}
            }
        }
        c.supplements = d
            .notices
            .iter()
            .filter(|n| n.kind == NoticeKind::SupplementRequest && within(Some(n.at)))
            .count() as i64;
        if c != Counts::default() {
            add_counts(out.entry(value_of(d, q.group)).or_default(), &c);
        }
    }
    out
}

/// Everything the aggregates must agree with, at the app's current instant.
async fn check(w: &World, label: &str) {
    let now = w.app.clock.now();
    let db = &w.app.test_db.db;
    let province = ProvinceCode::parse("000.00.00.H43").expect("province");
    let mut tx = db.begin_read().await.expect("begin");
    let mismatches = stats::recount(&mut tx, &province).await.expect("recount");
    assert!(
        mismatches.is_empty(),
        "{label}: {} counters differ, e.g. {}",
        mismatches.len(),
        mismatches[0]
    );
    let all = stats::dossiers(&mut tx, &province).await.expect("dossiers");
    let today = now.to_offset(VIETNAM_OFFSET).date();
    let first_of_month = today.replace_day(1).expect("day");
    let periods = [
        (date!(2026 - 11 - 01), date!(2027 - 01 - 01)),
        (date!(2026 - 11 - 01), date!(2026 - 12 - 01)),
        (date!(2026 - 11 - 02), date!(2026 - 11 - 03)),
        (date!(2026 - 11 - 05), date!(2026 - 12 - 10)),
        (date!(2026 - 10 - 01), date!(2027 - 12 - 31)),
        (date!(2026 - 11 - 09), date!(2026 - 11 - 16)),
        (today, today.next_day().expect("day")),
        (today.previous_day().expect("day"), today),
        (first_of_month, today.next_day().expect("day")),
        (date!(2025 - 01 - 01), date!(2026 - 01 - 01)),
        // Ahead of now: judged at its start, before the period.
        (today + time::Duration::days(40), today + time::Duration::days(75)),
    ];
    let filters: [(Dimension, Option<&str>, Option<Channel>); 8] = [
        (Dimension::Department, None, None),
        (Dimension::Centre, None, None),
        (Dimension::Field, None, None),
        (Dimension::Procedure, None, None),
        (Dimension::Officer, None, None),
        (Dimension::Procedure, Some(CONSTRUCTION), None),
        (Dimension::Department, None, Some(Channel::Post)),
        (Dimension::Officer, Some(JUSTICE), Some(Channel::Counter)),
    ];
    for (first, end) in periods {
        let period = Period {
            from: vn_midnight(first),
            to: vn_midnight(end),
        };
        for (group, department, channel) in filters {
            let q = Query {
                group,
                period,
                now,
                department,
                channel,
            };
            let got: BTreeMap<String, Counts> = stats::figures(&mut tx, &province, q)
                .await
                .expect("figures")
                .into_iter()
                .map(|l| (l.value, l.counts))
                .collect();
            assert_eq!(
                got,
                straightforward(&all, &q),
                "{label}: {first}..{end} by {group:?} {department:?} {channel:?}"
            );
        }
        // The director's overview: the aggregates give what the scan gives, and each
        // number holds exactly the dossiers of its list.
        let figures = overview::figures(&mut tx, &province, period, now)
            .await
            .expect("figures");
        let scanned = overview::scan_figures(&mut tx, &province, period, now)
            .await
            .expect("scan");
        assert_eq!(figures, scanned, "{label}: overview {first}..{end}");
        for f in &figures {
            for metric in Metric::ALL {
                let listed = overview::dossiers(
                    &mut tx,
                    &province,
                    Behind {
                        period,
                        now,
                        metric,
                        agency: Some(&f.agency),
                        before_id: None,
                        limit: 1000,
                    },
                )
                .await
                .expect("list");
                assert_eq!(
                    listed.len() as i64,
                    f.get(metric),
                    "{label}: {metric:?} of {} in {first}..{end}",
                    f.agency
                );
            }
        }
    }
    // The trend adds up to the period's figures.
    let period = Period {
        from: vn_midnight(date!(2026 - 11 - 01)),
        to: vn_midnight(date!(2027 - 01 - 01)),
    };
    let q = Query {
        group: Dimension::Department,
        period,
        now,
        department: None,
        channel: None,
    };
    let total = stats::total(&stats::figures(&mut tx, &province, q).await.expect("figures"));
    for step in [stats::Step::Day, stats::Step::Month] {
        let points = stats::trend(&mut tx, &province, period, step, None, None)
            .await
            .expect("trend");
        assert_eq!(points.len(), if step == stats::Step::Day { 61 } else { 2 }, "{step:?}");
        assert_eq!(points.iter().map(|p| p.received).sum::<i64>(), total.received_total());
        assert_eq!(points.iter().map(|p| p.resolved).sum::<i64>(), total.resolved());
    }
}

#[tokio::test]
async fn random_transitions_keep_the_aggregates_equal_to_a_recount_and_to_the_plain_computation() {
    // Monday 2 November 2026, 08:00.
    let start = datetime!(2026-11-02 08:00 +07:00);
    let app = spawn_app_at(start).await;
    let [counter, leader, justice] = sign_in_each(&app, ["tiepnhan", "ld.xaydung", "cv.tuphap"]).await;
    let mut procedures = vec![LLTP.to_owned(), procedure_of(&app, CONSTRUCTION).await];
    let (status, v) = app
        .get_json(&format!(
            "/api/v1/procedures?agency={CONSTRUCTION}&at_centre=true&limit=3"
        ))
        .await;
    assert_eq!(status, 200, "{v}");
    procedures.push(v["items"][2]["code"].as_str().expect("code").to_owned());
    let mut w = World {
        app,
        counter,
        leader,
        justice,
        procedures,
        dossiers: Vec::new(),
    };
    let seed = std::env::var("MOTCUA_STATS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026_u64);
    let mut rng = Rng(seed);
    let mut now = start;
    let steps = 150;
    for step in 0..steps {
        // The clock moves by 0 to 14 hours; dossiers pile up in the first weeks.
        now += Duration::minutes(rng.below(14 * 60) as i64);
        w.app.clock.set(now);
        if w.dossiers.is_empty() || (step < steps / 2 && rng.below(3) == 0) || rng.below(6) == 0 {
            w.file(&mut rng).await;
        } else {
            let i = rng.below(w.dossiers.len());
            w.act(&mut rng, i).await;
        }
        if step % 10 == 9 {
            check(&w, &format!("after step {step}, seed {seed}")).await;
        }
    }
    // Finishes on the due day and after the appointment, which random steps rarely hit.
    {
        let mut tx = w.app.test_db.db.begin_read().await.expect("begin");
        let province = ProvinceCode::parse("000.00.00.H43").expect("province");
        let mut open: Vec<(OffsetDateTime, String)> = stats::dossiers(&mut tx, &province)
            .await
            .expect("dossiers")
            .into_iter()
            .filter(|d| d.status == Status::InProgress && d.responsible_agency.as_str() == CONSTRUCTION)
            .filter_map(|d| d.due_at.map(|due| (due, d.code.as_str().to_owned())))
            .filter(|(due, _)| *due > now + Duration::minutes(1))
            .collect();
        drop(tx);
        open.sort();
        for (k, (due, code)) in open.into_iter().take(4).enumerate() {
            let at = if k % 2 == 0 {
                due - Duration::minutes(1)
            } else {
                due + Duration::minutes(30)
            };
            if at <= now {
                continue;
            }
            now = at;
            w.app.clock.set(now);
            let i = w.dossiers.iter().position(|d| d.0 == code).expect("known");
            let v = finish(&w.app, &w.leader, &code, "ket-qua.pdf").await;
            w.dossiers[i].1 = v["status_code"].as_i64().expect("status");
            check(&w, &format!("finished {}", v["timeliness"])).await;
        }
    }
    // Just after an open dossier's appointment: today's part of the overdue figure comes
    // from the dossiers, not the day counters.
    {
        let mut tx = w.app.test_db.db.begin_read().await.expect("begin");
        let province = ProvinceCode::parse("000.00.00.H43").expect("province");
        let open = stats::dossiers(&mut tx, &province).await.expect("dossiers");
        let due = open
            .iter()
            .filter(|d| d.finished_at.is_none() && d.status == Status::InProgress)
            .filter_map(|d| d.due_at)
            .filter(|due| *due > now)
            .min();
        drop(tx);
        if let Some(due) = due {
            now = due + Duration::minutes(1);
            w.app.clock.set(now);
            check(&w, "a minute after an appointment").await;
        }
    }
    // A while later, with nothing done: dossiers left open run overdue.
    now += Duration::days(9) + Duration::minutes(137);
    w.app.clock.set(now);
    check(&w, "nine days later").await;
    // Every figure was exercised.
    let mut tx = w.app.test_db.db.begin_read().await.expect("begin");
    let province = ProvinceCode::parse("000.00.00.H43").expect("province");
    let q = Query {
        group: Dimension::Department,
        period: Period {
            from: vn_midnight(date!(2026 - 11 - 01)),
            to: vn_midnight(date!(2027 - 01 - 01)),
        },
        now: now - Duration::days(9),
        department: None,
        channel: None,
    };
    let t = stats::total(&stats::figures(&mut tx, &province, q).await.expect("figures"));
    for (name, n) in [
        ("early", t.early),
        ("on time", t.on_time),
        ("late", t.late),
        ("overdue", t.overdue),
        ("in progress", t.in_progress_on_time),
        ("returned", t.returned),
        ("refused", t.refused),
        ("withdrawn", t.withdrawn),
        ("stopped", t.stopped),
        ("supplements", t.supplements),
        ("by post", t.received[2]),
    ] {
        assert!(n > 0, "no {name}: {t:?}");
    }
    drop(tx);
    let statuses: std::collections::BTreeSet<i64> = w.dossiers.iter().map(|d| d.1).collect();
    assert!(statuses.len() >= 7, "the sequence reaches most statuses: {statuses:?}");
}

#[tokio::test]
async fn a_broken_counter_is_reported_and_rebuild_repairs_it() {
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let counter = sign_in(&app, "tiepnhan").await;
    let v = file_dossier(
        &app,
        &counter,
        json!({"procedure": LLTP, "applicant": {"kind": "citizen", "name": "Nguyễn Văn An", "id_number": "058190000123"},
               "documents": [], "accept": false}),
    )
    .await;
    let code = code_of(&v);
    act_ok(
        &app,
        &counter,
        &code,
        "request-completion",
        json!({"missing": ["Tờ khai"], "reason": "Thiếu tờ khai"}),
    )
    .await;
    let province = ProvinceCode::parse("000.00.00.H43").expect("province");
    let db = &app.test_db.db;
    let mut tx = db.begin_write().await.expect("begin");
    assert!(stats::recount(&mut tx, &province).await.expect("recount").is_empty());
    // One supplement request: one counter per dimension and table.
    assert_eq!(stats::stored(&mut tx, &province).await.expect("stored").len(), 10);
    motcua_store::exec!(&mut tx, |c| {
        sqlx::query("UPDATE stats_days SET n = n + 1 WHERE dimension = 2")
            .execute(c)
            .await
    })
    .expect("break");
    motcua_store::exec!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO stats_months (province_code, dimension, kind, bucket, value, department, channel, n, minutes)
             VALUES ('000.00.00.H43', 4, 1, 24310, 'x', 'y', 1, 7, 0)",
        )
        .execute(c)
        .await
    })
    .expect("stray");
    let wrong = stats::recount(&mut tx, &province).await.expect("recount");
    assert_eq!(wrong.len(), 2, "{wrong:?}");
    assert_eq!((wrong[0].expected.n, wrong[0].stored.n), (1, 2), "{}", wrong[0]);
    assert_eq!((wrong[1].expected.n, wrong[1].stored.n), (0, 7), "{}", wrong[1]);
    stats::rebuild(&mut tx, &province).await.expect("rebuild");
    assert!(stats::recount(&mut tx, &province).await.expect("recount").is_empty());
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn bulk_generation_counts_its_dossiers_in_batches() {
    // `motcua generate` writes dossiers without the per-row hook and adds their counters
    // per batch (`stats::Batch`): the result must equal a recount all the same.
    let app = spawn_app_at(datetime!(2026-11-02 08:00 +07:00)).await;
    let province = ProvinceCode::parse("000.00.00.H43").expect("province");
    let plan = motcua_tools::generate::Plan {
        province: province.clone(),
        count: 2_500,
        until: datetime!(2026-11-02 08:00 +07:00),
        years: 3,
        seed: 7,
    };
    let report = motcua_tools::generate::generate(&app.test_db.db, &plan, |_| {})
        .await
        .expect("generate");
    assert_eq!(report.dossiers, 2_500);
    let mut tx = app.test_db.db.begin_read().await.expect("begin");
    let mismatches = stats::recount(&mut tx, &province).await.expect("recount");
    assert!(
        mismatches.is_empty(),
        "{} counters differ, e.g. {:?}",
        mismatches.len(),
        mismatches.first()
    );
    let stored = stats::stored(&mut tx, &province).await.expect("stored");
    assert!(!stored.is_empty(), "the generated dossiers are counted");
    // Codes: each day's numbered 1, 2, … without gaps or repeats (on PostgreSQL two writers
    // share the year), and each row's data holds its own code.
    let rows: Vec<(String, String)> = motcua_store::on!(&mut tx, |c| sqlx::query_as(
        "SELECT code, data FROM dossiers ORDER BY code"
    )
    .fetch_all(c)
    .await)
    .expect("codes");
    assert_eq!(rows.len(), 2_500);
    let mut per_day: std::collections::BTreeMap<String, Vec<u32>> = std::collections::BTreeMap::new();
    for (code, data) in &rows {
        let d: motcua_core::lifecycle::Dossier = serde_json::from_str(data).expect("dossier");
        assert_eq!(d.code.as_str(), code, "the row of {code} holds another dossier");
        let (day, n) = code.rsplit_once('-').expect("code");
        per_day
            .entry(day.to_owned())
            .or_default()
            .push(n.parse().expect("number"));
    }
    for (day, numbers) in per_day {
        let expected: Vec<u32> = (1..=u32::try_from(numbers.len()).expect("count")).collect();
        assert_eq!(numbers, expected, "codes of {day}");
    }
}
