//! The SQL of the deadline rules and of the service index's counts agrees with core's
//! definitions: on random dossiers and instants, every query that filters or counts by
//! "overdue" or "due soon" (work lists, overdue lists, the overview's figures scanned and
//! aggregated) returns exactly what `motcua_core::deadline` says, and the Decision 766
//! counts equal the counts by `motcua_core::evaluation`'s predicates (the migration that
//! fills their columns included). Instants lie on a 6-hour grid from a Vietnamese midnight,
//! so appointments, finishes and judging instants often coincide and fall on midnights:
//! the boundaries are where two definitions would disagree.
//!
//! Runs on SQLite, and on PostgreSQL as well when `MOTCUA_TEST_PG_URL` is set
//! (`scripts/with-postgres.sh cargo test -p motcua-store --test deadline_sql`).

use std::collections::{BTreeMap, BTreeSet};

use motcua_core::catalogue::ProcedureContent;
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::deadline;
use motcua_core::dossier::{Channel, DossierCode, Status, Timeliness};
use motcua_core::evaluation::{self, Satisfaction};
use motcua_core::lifecycle::{Dossier, ReceivedDocument};
use motcua_core::rules::{RuleBook, RuleSet};
use motcua_core::stats::judgement;
use motcua_store::dossiers::{self, ListFilter, Scope};
use motcua_store::evaluation::Setup;
use motcua_store::overview::{self, Figures, Metric, Period};
use motcua_store::testing::{TestDb, counter_dossier, fresh_db_on, postgres_available};
use motcua_store::{
    Backend, Db, Tx, catalogue, evaluation as store_evaluation, outbox, payments, rules as store_rules,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The grid's origin: Monday 2 November 2026, midnight in Vietnam.
const T0: OffsetDateTime = datetime!(2026-11-02 00:00 +07:00);
/// The grid's step: four per day, so every fourth instant is a midnight.
const STEP_HOURS: i64 = 6;
/// Nothing finishes after this grid instant; "now" is at or after it.
const LAST_FINISH: u32 = 200;
/// The grid's end (60 days).
const END: u32 = 240;

fn at(g: u32) -> OffsetDateTime {
    T0 + Duration::hours(STEP_HOURS * i64::from(g))
}

/// The shape of a random dossier, in grid steps.
#[derive(Debug, Clone)]
struct Shape {
    status: Status,
    /// Whether a dossier that may or may not have been accepted (a supplement asked at
    /// reception, a withdrawal) was.
    accepted: bool,
    received: u32,
    due_after: u32,
    finish_after: u32,
    return_after: u32,
    channel: Channel,
    scanned: bool,
    electronic: bool,
    department: usize,
    supplements: u32,
    /// When a waiting dossier's time to answer runs out, if it has a limit.
    wait: Option<u32>,
    /// Which of the setting's procedures.
    procedure: usize,
    /// A payment order: online (else cash), paid (else failed), settled at.
    payment: Option<(bool, bool, u32)>,
    /// A rating: not satisfied (else satisfied), given at.
    rating: Option<(bool, u32)>,
    /// An event to the national portal: delivered (else still pending).
    synced: Option<bool>,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        proptest::sample::select(Status::ALL.to_vec()),
        any::<bool>(),
        0u32..120,
        0u32..120,
        0u32..160,
        0u32..20,
        proptest::sample::select(vec![Channel::Counter, Channel::Online, Channel::Post]),
        any::<bool>(),
        any::<bool>(),
        0usize..2,
        0u32..3,
        (
            proptest::option::of(0u32..=END),
            0usize..PROCEDURES,
            proptest::option::of((any::<bool>(), any::<bool>(), 0u32..=END)),
            proptest::option::of((any::<bool>(), 0u32..=END)),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                status,
                accepted,
                received,
                due_after,
                finish_after,
                return_after,
                channel,
                scanned,
                electronic,
                department,
                supplements,
                (wait, procedure, payment, rating, synced),
            )| Shape {
                status,
                accepted,
                received,
                due_after,
                finish_after,
                return_after,
                channel,
                scanned,
                electronic,
                department,
                supplements,
                wait,
                procedure,
                payment,
                rating,
                synced,
            },
        )
}

/// How many of the demo catalogue's procedures the dossiers are spread over.
const PROCEDURES: usize = 6;

/// A random set of dossiers and the instants they are judged at.
#[derive(Debug, Clone)]
struct World {
    shapes: Vec<Shape>,
    now: u32,
    soon_after: u32,
    /// The end of a period of any length (not a midnight, most of the time).
    period_end: u32,
    /// The end of a period of whole days (days from `T0`).
    day_end: u32,
}

fn world() -> impl Strategy<Value = World> {
    (
        proptest::collection::vec(shape(), 0..40),
        LAST_FINISH..=END,
        0u32..9,
        0u32..=END,
        0u32..=END / 4,
    )
        .prop_map(|(shapes, now, soon_after, period_end, day_end)| World {
            shapes,
            now,
            soon_after,
            period_end,
            day_end,
        })
}

/// What the dossiers are made from: the demo province (its catalogue stored), its first
/// procedures, a centre and two departments.
struct Setting {
    province: ProvinceCode,
    procedures: Vec<(String, ProcedureContent)>,
    template: Dossier,
    centre: AgencyCode,
    departments: [AgencyCode; 2],
}

fn setting() -> Setting {
    let catalogue = motcua_core::demo::ninh_thuan();
    let record = &catalogue.procedures[0];
    let version = record.versions.last().expect("a version");
    let centre = catalogue.agencies[1].code.clone();
    let template = counter_dossier(
        DossierCode::new(&centre, T0.date(), 1).expect("code"),
        catalogue.province.code.clone(),
        centre.clone(),
        &record.code,
        version,
        T0,
    );
    Setting {
        province: catalogue.province.code.clone(),
        procedures: catalogue
            .procedures
            .iter()
            .take(PROCEDURES)
            .map(|p| {
                let content = p.versions.last().expect("a version").content.clone();
                (p.code.as_str().to_owned(), content)
            })
            .collect(),
        template,
        centre,
        departments: [catalogue.agencies[2].code.clone(), catalogue.agencies[3].code.clone()],
    }
}

/// The dossier of `shape`, the `n`-th of its world, as the lifecycle would have left it:
/// an appointment only once accepted, a finish only in a final status or with the result.
fn dossier(s: &Setting, n: usize, shape: &Shape) -> Dossier {
    let mut d = s.template.clone();
    let sequence = u32::try_from(n + 1).expect("sequence");
    d.code = DossierCode::new(&s.centre, T0.date(), sequence).expect("code");
    d.status = shape.status;
    d.channel = shape.channel;
    d.procedure = ProcedureCode::parse(&s.procedures[shape.procedure].0).expect("procedure");
    d.responsible_agency = s.departments[shape.department].clone();
    d.current_agency = d.responsible_agency.clone();
    d.created_at = at(shape.received);
    let accepted = match shape.status {
        Status::New | Status::Refused => false,
        Status::SupplementRequested | Status::Withdrawn => shape.accepted,
        _ => true,
    };
    d.received_at = accepted.then(|| at(shape.received));
    d.due_at = accepted.then(|| at(shape.received + shape.due_after));
    d.original_due_at = d.due_at;
    let finished = shape.status.is_final() || shape.status.has_result();
    let finish = (shape.received + shape.finish_after).min(LAST_FINISH);
    d.finished_at = finished.then(|| at(finish));
    d.returned_at = (shape.status == Status::Returned).then(|| at((finish + shape.return_after).min(LAST_FINISH)));
    d.supplements = shape.supplements;
    d.wait_until = deadline::CLOCK_PAUSED
        .contains(&shape.status)
        .then(|| shape.wait.map(at))
        .flatten();
    d.documents = vec![ReceivedDocument {
        index: 0,
        name: "Đơn đề nghị".into(),
        originals: 1,
        copies: 0,
        files: if shape.scanned {
            vec!["scan-1".into()]
        } else {
            Vec::new()
        },
    }];
    d.result_files = if shape.electronic {
        vec!["result-1".into()]
    } else {
        Vec::new()
    };
    d
}

/// Runs `sql` (several statements) in a write transaction.
async fn run_sql(db: &Db, sql: &str) {
    let mut tx = db.begin_write().await.expect("begin");
    match &mut tx {
        Tx::Sqlite(t) => {
            sqlx::raw_sql(sql).execute(&mut **t).await.expect("sql");
        }
        Tx::Postgres(t) => {
            sqlx::raw_sql(sql).execute(&mut **t).await.expect("sql");
        }
    }
    tx.commit().await.expect("commit");
}

/// The payment method of an order paid online or not.
fn method(online: bool) -> &'static str {
    if online { "vnpay" } else { evaluation::CASH }
}

/// The rating level of a "not satisfied" or a "satisfied" rating.
fn satisfaction(not: bool) -> Satisfaction {
    if not {
        Satisfaction::NotSatisfied
    } else {
        Satisfaction::Satisfied
    }
}

/// The current content of every procedure of the demo catalogue, as stored.
fn catalogue_contents() -> Vec<(String, ProcedureContent)> {
    motcua_core::demo::ninh_thuan()
        .procedures
        .iter()
        .map(|p| {
            let content = p.versions.last().expect("a version").content.clone();
            (p.code.as_str().to_owned(), content)
        })
        .collect()
}

/// Stores what the world attaches to its dossiers: a delivery to the national portal
/// (delivered or pending), a payment order (paid or failed, online or cash), a rating.
async fn attach(db: &Db, s: &Setting, w: &World, ds: &[Dossier]) {
    let mut tx = db.begin_write().await.expect("begin");
    for (n, (d, sh)) in ds.iter().zip(&w.shapes).enumerate() {
        let id = dossiers::by_code(&mut tx, &d.code)
            .await
            .expect("by code")
            .expect("stored")
            .id;
        let code = d.code.as_str();
        let province = s.province.as_str();
        if let Some(delivered) = sh.synced {
            let event = outbox::enqueue(
                &mut tx,
                &outbox::NewEvent {
                    province,
                    dossier_code: Some(code),
                    kind: "dossier.accept",
                    payload: &serde_json::json!({}),
                },
                T0,
            )
            .await
            .expect("event");
            let (state, at) = if delivered {
                ("'delivered'", "1")
            } else {
                ("'pending'", "NULL")
            };
            exec_sql(
                &mut tx,
                &format!(
                    "INSERT INTO deliveries (event_id, province_code, dossier_code, kind, destination, state, attempts,
                         available_at, created_at, delivered_at)
                     VALUES ({event}, '{province}', '{code}', 'dossier.accept', '{}', {state}, 1, 0, 0, {at})",
                    store_evaluation::PORTAL_DESTINATION
                ),
            )
            .await;
        }
        if let Some((online, paid, settled)) = sh.payment {
            let order = payments::Order {
                id: format!("order-{n}"),
                dossier_id: id,
                dossier_code: code.to_owned(),
                province_code: province.to_owned(),
                agency_code: d.receiving_agency.as_str().to_owned(),
                method: method(online).to_owned(),
                amount: 50_000,
                state: if paid { payments::PAID } else { payments::FAILED }.to_owned(),
                created_by: "test".into(),
                created_at: T0,
                expires_at: at(END),
                gateway_txn: Some(format!("txn-{n}")),
                bank_code: None,
                response_code: None,
                settled_at: Some(at(settled)),
                settled_by: Some("test".into()),
                note: String::new(),
            };
            payments::insert(&mut tx, &order).await.expect("order");
        }
        if let Some((not, rated)) = sh.rating {
            exec_sql(
                &mut tx,
                &format!(
                    "INSERT INTO dossier_ratings (dossier_id, dossier_code, province_code, rating, comment, channel, rated_at)
                     VALUES ({id}, '{code}', '{province}', '{}', '', 'online', {})",
                    satisfaction(not).as_str(),
                    motcua_store::to_millis(at(rated))
                ),
            )
            .await;
        }
    }
    tx.commit().await.expect("commit");
}

/// Runs one statement without parameters in `tx`.
async fn exec_sql(tx: &mut Tx, sql: &str) {
    match tx {
        Tx::Sqlite(t) => {
            sqlx::raw_sql(sql).execute(&mut **t).await.expect("sql");
        }
        Tx::Postgres(t) => {
            sqlx::raw_sql(sql).execute(&mut **t).await.expect("sql");
        }
    }
}

fn codes<'a>(ds: impl IntoIterator<Item = &'a Dossier>) -> BTreeSet<String> {
    ds.into_iter().map(|d| d.code.as_str().to_owned()).collect()
}

fn count(ds: &[Dossier], f: impl Fn(&Dossier) -> bool) -> i64 {
    i64::try_from(ds.iter().filter(|d| f(d)).count()).expect("count")
}

fn list_filter(province: &ProvinceCode, now: OffsetDateTime) -> ListFilter {
    ListFilter::new(province.clone(), Scope::Province, now)
}

/// The figures in progress at the end of the period `[from, to)` judged at `now`, by the
/// core rules: (on time, overdue).
fn in_progress_by_core(ds: &[Dossier], to: OffsetDateTime, now: OffsetDateTime) -> (i64, i64) {
    let judged = to.min(now);
    let in_progress = |d: &Dossier| d.received_at.is_some_and(|r| r < to) && d.finished_at.is_none_or(|f| f >= to);
    let overdue = |d: &Dossier| deadline::is_overdue(d.status, d.due_at, d.finished_at, judged);
    (
        count(ds, |d| in_progress(d) && d.due_at.is_some() && !overdue(d)),
        count(ds, |d| in_progress(d) && overdue(d)),
    )
}

/// Resolved in `[from, to)` by core's judgement: (early, on time, late).
fn resolved_by_core(ds: &[Dossier], from: OffsetDateTime, to: OffsetDateTime) -> [i64; 3] {
    let judged = |t: Timeliness| {
        count(ds, |d| {
            d.finished_at.is_some_and(|f| from <= f && f < to) && judgement(d) == Some(t)
        })
    };
    [
        judged(Timeliness::Early),
        judged(Timeliness::OnTime),
        judged(Timeliness::Late),
    ]
}

/// One case: stores the world's dossiers in an emptied database and compares.
async fn check(db: &Db, s: &Setting, w: &World) -> Result<(), TestCaseError> {
    run_sql(
        db,
        "DELETE FROM stats_days; DELETE FROM stats_months; DELETE FROM stats_month_versions; DELETE FROM payment_orders; DELETE FROM dossier_ratings;
         DELETE FROM deliveries; DELETE FROM outbox; DELETE FROM dossiers;",
    )
    .await;
    let ds: Vec<Dossier> = w.shapes.iter().enumerate().map(|(n, sh)| dossier(s, n, sh)).collect();
    // Stored as a bulk load does: the rows, and their statistics counted alongside.
    let mut tx = db.begin_write().await.expect("begin");
    dossiers::insert_many_uncounted(&mut tx, &ds).await.expect("insert");
    let mut counted = motcua_store::stats::Batch::default();
    for d in &ds {
        counted.add(d);
    }
    counted.write(&mut tx).await.expect("statistics");
    tx.commit().await.expect("commit");
    attach(db, s, w, &ds).await;

    let now = at(w.now);
    let soon = at(w.now + w.soon_after);
    let mut tx = db.begin_read().await.expect("read");

    // The work lists: overdue, and due soon.
    let mut f = list_filter(&s.province, now);
    f.overdue = true;
    let rows = dossiers::list(&mut tx, &f).await.expect("list");
    prop_assert_eq!(
        codes(rows.iter().map(|r| &r.dossier)),
        codes(ds.iter().filter(|d| d.is_overdue(now))),
        "overdue list at {}",
        now
    );
    let mut f = list_filter(&s.province, now);
    f.due_soon = Some(soon);
    let rows = dossiers::list(&mut tx, &f).await.expect("list");
    prop_assert_eq!(
        codes(rows.iter().map(|r| &r.dossier)),
        codes(
            ds.iter()
                .filter(|d| deadline::is_due_soon(d.status, d.due_at, d.finished_at, now, soon))
        ),
        "due soon at {} until {}",
        now,
        soon
    );

    // The work list of dossiers waiting past the time the applicant was given.
    let mut f = list_filter(&s.province, now);
    f.waited_past_limit = true;
    let rows = dossiers::list(&mut tx, &f).await.expect("list");
    prop_assert_eq!(
        codes(rows.iter().map(|r| &r.dossier)),
        codes(
            ds.iter()
                .filter(|d| deadline::waited_past_limit(d.status, d.wait_until, now))
        ),
        "waited past the limit at {}",
        now
    );

    // The overdue lists and the age chart's input, with their counts per department.
    let (rows, per_agency) = overview::overdue(&mut tx, &s.province, now, None, 1000)
        .await
        .expect("overdue");
    let overdue_now: Vec<&Dossier> = ds.iter().filter(|d| d.is_overdue(now)).collect();
    prop_assert_eq!(
        codes(rows.iter().map(|r| &r.dossier)),
        codes(overdue_now.iter().copied())
    );
    let mut by_core: BTreeMap<String, i64> = BTreeMap::new();
    for d in &overdue_now {
        *by_core.entry(d.responsible_agency.as_str().to_owned()).or_default() += 1;
    }
    prop_assert_eq!(&per_agency, &by_core);
    let dues = overview::overdue_due(&mut tx, &s.province, now, None)
        .await
        .expect("overdue due");
    let mut dues: Vec<(String, OffsetDateTime)> = dues;
    dues.sort();
    let mut expected: Vec<(String, OffsetDateTime)> = overdue_now
        .iter()
        .filter_map(|d| d.due_at.map(|due| (d.responsible_agency.as_str().to_owned(), due)))
        .collect();
    expected.sort();
    prop_assert_eq!(dues, expected);

    // The overview's figures scanned over a period of any length, judged at its end.
    let from = T0 - Duration::days(1);
    let to = at(w.period_end);
    let scanned = overview::total(
        &overview::scan_figures(&mut tx, &s.province, Period { from, to }, now)
            .await
            .expect("scan"),
    );
    let (on_time, late) = in_progress_by_core(&ds, to, now);
    prop_assert_eq!(
        (
            scanned.get(Metric::InProgressOnTime),
            scanned.get(Metric::InProgressOverdue)
        ),
        (on_time, late),
        "in progress at {} judged at {}",
        to,
        to.min(now)
    );
    prop_assert_eq!(
        [
            scanned.get(Metric::ResolvedEarly),
            scanned.get(Metric::ResolvedOnTime),
            scanned.get(Metric::ResolvedLate),
        ],
        resolved_by_core(&ds, from, to)
    );

    // The same from the maintained aggregates, over whole days.
    let to = T0 + Duration::days(i64::from(w.day_end));
    let period = Period { from, to };
    let aggregated: Figures = overview::total(
        &overview::figures(&mut tx, &s.province, period, now)
            .await
            .expect("figures"),
    );
    let scanned = overview::total(
        &overview::scan_figures(&mut tx, &s.province, period, now)
            .await
            .expect("scan"),
    );
    let (on_time, late) = in_progress_by_core(&ds, to, now);
    prop_assert_eq!(
        (
            aggregated.get(Metric::InProgressOnTime),
            aggregated.get(Metric::InProgressOverdue)
        ),
        (on_time, late),
        "aggregates in progress at {} judged at {}",
        to,
        to.min(now)
    );
    prop_assert_eq!(
        aggregated.counts,
        scanned.counts,
        "aggregates and scan, period to {}",
        to
    );

    // The service index's counts over the whole grid.
    let all = Period {
        from,
        to: at(END) + Duration::days(1),
    };
    let counts = store_evaluation::counts(&mut tx, &s.province, all, now, Setup::default())
        .await
        .expect("counts");
    let received = |d: &Dossier| d.received_at.is_some();
    let with_result = |d: &Dossier| d.status.has_result() && d.finished_at.is_some();
    let expected = (
        count(&ds, received),
        count(&ds, |d| received(d) && evaluation::filed_online(d)),
        count(&ds, |d| received(d) && evaluation::has_digitised_documents(d)),
        count(&ds, |d| received(d) && evaluation::reuses_stored_documents(d)),
        count(&ds, with_result),
        count(&ds, |d| with_result(d) && evaluation::has_electronic_result(d)),
    );
    let got = |c: &evaluation::ServiceCounts| {
        (
            c.received,
            c.received_online,
            c.received_digitised,
            c.received_reused,
            c.results,
            c.results_electronic,
        )
    };
    prop_assert_eq!(got(&counts), expected);
    let [early, on_time, late] = resolved_by_core(&ds, all.from, all.to);
    prop_assert_eq!(
        (counts.resolved, counts.resolved_in_time),
        (early + on_time + late, early + on_time)
    );
    let (in_time, overdue) = in_progress_by_core(&ds, all.to, now);
    prop_assert_eq!(
        (counts.in_progress, counts.in_progress_on_time),
        (in_time + overdue, in_time)
    );
    // What is attached to the dossiers: portal deliveries, payment orders, ratings (every
    // instant of the grid lies in the period).
    let shaped = || ds.iter().zip(&w.shapes);
    let n =
        |f: &dyn Fn(&Dossier, &Shape) -> bool| i64::try_from(shaped().filter(|(d, sh)| f(d, sh)).count()).expect("n");
    let paid = |sh: &Shape| sh.payment.is_some_and(|(_, paid, _)| paid);
    let paid_online = |sh: &Shape| {
        sh.payment
            .is_some_and(|(online, paid, _)| paid && evaluation::paid_online(method(online)))
    };
    prop_assert_eq!(
        (
            counts.received_synced,
            counts.paid,
            counts.paid_online,
            counts.not_satisfied
        ),
        (
            n(&|d, sh| received(d) && sh.synced == Some(true)),
            n(&|_, sh| paid(sh)),
            n(&|_, sh| paid_online(sh)),
            n(&|_, sh| sh.rating.is_some_and(|(not, _)| !satisfaction(not).is_satisfied())),
        )
    );
    // The catalogue's counts: core's predicates over the stored procedures, with the
    // procedures of the dossiers filed online and received, and of those paid online.
    let filed_online: BTreeSet<String> = shaped()
        .filter(|(d, _)| received(d) && evaluation::filed_online(d))
        .map(|(d, _)| d.procedure.as_str().to_owned())
        .collect();
    let paid_online_procedures: BTreeSet<String> = shaped()
        .filter(|(_, sh)| paid_online(sh))
        .map(|(d, _)| d.procedure.as_str().to_owned())
        .collect();
    let mut by_core = evaluation::ServiceCounts::default();
    by_core.count_catalogue(
        catalogue_contents().iter().map(|(c, p)| (c.as_str(), p)),
        &filed_online,
        &paid_online_procedures,
    );
    let catalogue = |c: &evaluation::ServiceCounts| {
        [
            c.procedures,
            c.procedures_complete,
            c.procedures_online,
            c.procedures_online_used,
            c.procedures_with_fees,
            c.procedures_paid_online,
        ]
    };
    prop_assert_eq!(catalogue(&counts), catalogue(&by_core));
    drop(tx);

    // Migration 19 fills the columns of rows stored before it from their JSON documents:
    // emptied and filled again, they count the same.
    run_sql(
        db,
        "UPDATE dossiers SET has_digitised_documents = 0, has_electronic_result = 0",
    )
    .await;
    let migration = match db.backend() {
        Backend::Sqlite => include_str!("../migrations/sqlite/0019_digitised.sql"),
        Backend::Postgres => include_str!("../migrations/postgres/0019_digitised.sql"),
    };
    let fill = &migration[migration.find("UPDATE").expect("the migration fills the columns")..];
    run_sql(db, fill).await;
    let mut tx = db.begin_read().await.expect("read");
    let refilled = store_evaluation::counts(&mut tx, &s.province, all, now, Setup::default())
        .await
        .expect("counts");
    prop_assert_eq!(got(&refilled), expected, "after the migration's fill");
    Ok(())
}

fn agree_on(backend: Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let s = setting();
    let t: TestDb = rt.block_on(fresh_db_on(backend));
    rt.block_on(async {
        let catalogue = motcua_core::demo::ninh_thuan();
        let mut tx = t.db.begin_write().await.expect("begin");
        catalogue::import_province(&mut tx, &catalogue, T0)
            .await
            .expect("catalogue");
        tx.commit().await.expect("commit");
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&world(), |w| rt.block_on(check(&t.db, &s, &w)));
    if let Err(e) = result {
        panic!("{backend:?}: {e}");
    }
}

#[test]
fn deadline_and_service_index_sql_agree_with_core_on_sqlite() {
    agree_on(Backend::Sqlite);
}

#[test]
fn deadline_and_service_index_sql_agree_with_core_on_postgres() {
    if !postgres_available() {
        eprintln!("MOTCUA_TEST_PG_URL is not set: skipped (scripts/with-postgres.sh runs it)");
        return;
    }
    agree_on(Backend::Postgres);
}

/// A loaded rule version is kept as loaded and joins the shipped ones; a second version
/// of the same name or day is not stored; the generation grows with each load.
fn rules_kept_on(backend: Backend) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let t: TestDb = fresh_db_on(backend).await;
        let mut tx = t.db.begin_write().await.expect("begin");
        assert_eq!(store_rules::generation(&mut tx).await.expect("generation"), 0);
        assert_eq!(store_rules::book(&mut tx).await.expect("book"), RuleBook::shipped());
        let mut set: RuleSet = serde_json::from_str(motcua_core::rules::SHIPPED[1]).expect("json");
        set.version = "2027".into();
        set.effective_from = time::macros::date!(2027 - 01 - 01);
        set.criteria[4].max_points = 20;
        let body = serde_json::to_string(&set).expect("json");
        assert!(
            store_rules::insert(&mut tx, &set, &body, "ab12", "quantri", T0)
                .await
                .expect("insert")
        );
        let mut same_day = set.clone();
        same_day.version = "2027b".into();
        assert!(
            !store_rules::insert(&mut tx, &same_day, &body, "cd34", "quantri", T0)
                .await
                .expect("insert")
        );
        assert!(
            !store_rules::insert(&mut tx, &set, &body, "ab12", "quantri", T0)
                .await
                .expect("insert")
        );
        assert_eq!(store_rules::generation(&mut tx).await.expect("generation"), 1);
        let loaded = store_rules::loaded(&mut tx).await.expect("loaded");
        assert_eq!(loaded.len(), 1);
        assert_eq!(
            (
                loaded[0].set.clone(),
                loaded[0].sha256.as_str(),
                loaded[0].loaded_by.as_str()
            ),
            (set, "ab12", "quantri")
        );
        assert_eq!(loaded[0].loaded_at, T0);
        let book = store_rules::book(&mut tx).await.expect("book");
        assert_eq!(book.versions().len(), 3);
        assert_eq!(book.in_force(time::macros::date!(2027 - 06 - 01)).version, "2027");
        assert_eq!(book.in_force(time::macros::date!(2026 - 06 - 01)).version, "2025");
    });
}

#[test]
fn loaded_rules_are_kept_on_sqlite() {
    rules_kept_on(Backend::Sqlite);
}

#[test]
fn loaded_rules_are_kept_on_postgres() {
    if !postgres_available() {
        eprintln!("MOTCUA_TEST_PG_URL is not set: skipped (scripts/with-postgres.sh runs it)");
        return;
    }
    rules_kept_on(Backend::Postgres);
}
