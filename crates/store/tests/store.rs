//! Store tests; they run on the backend the test run selects (see `motcua_store::testing`).

use motcua_core::catalogue::{Agency, AgencyAlias, AgencyKind, OnlineMode, ProcedureContent};
use motcua_core::codes::{AgencyCode, ProcedureCode, ProvinceCode};
use motcua_core::dossier::{DossierCode, Status};
use motcua_core::map::AgencyTree;
use motcua_core::{demo, demo_2025};
use motcua_store::dossiers::{self, ListFilter, Scope};
use motcua_store::testing::{counter_dossier, fresh_db, postgres_selected};
use motcua_store::{Db, DbConfig, StoreError, catalogue, schema};
use time::OffsetDateTime;
use time::macros::{date, datetime};

async fn load_demo(db: &Db) {
    let mut tx = db.begin_write().await.expect("begin");
    catalogue::import_province(&mut tx, &demo::ninh_thuan(), OffsetDateTime::now_utc())
        .await
        .expect("import demo");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn demo_summary_matches_published_figures() {
    let t = fresh_db().await;
    load_demo(&t.db).await;
    let mut tx = t.db.begin_read().await.expect("read");
    let code = demo::ninh_thuan().province.code;
    let s = catalogue::summary(&mut tx, &code).await.expect("summary");
    assert_eq!((s.departments, s.procedures, s.at_centre), (15, 1388, 1283));
    assert_eq!(s.online_full + s.online_partial, 1388);
}

#[tokio::test]
async fn export_import_round_trip_is_lossless() {
    let a = fresh_db().await;
    load_demo(&a.db).await;
    let code = demo::ninh_thuan().province.code;
    // Give one procedure a history so versions travel too.
    let mut tx = a.db.begin_write().await.expect("begin");
    let pcode = ProcedureCode::parse("1.900001").expect("code");
    let mut content = catalogue::procedure(&mut tx, &code, &pcode)
        .await
        .expect("get")
        .expect("exists")
        .content;
    content.processing_time.amount += 2;
    catalogue::update_procedure(
        &mut tx,
        &code,
        &pcode,
        content,
        "Rút ngắn? Không, kéo dài",
        None,
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("update");
    tx.commit().await.expect("commit");

    let mut tx = a.db.begin_read().await.expect("read");
    let exported = catalogue::export_province(&mut tx, &code).await.expect("export");
    drop(tx);
    assert_eq!(
        exported
            .procedures
            .iter()
            .find(|p| p.code == pcode)
            .expect("p")
            .versions
            .len(),
        2
    );

    let b = fresh_db().await;
    let mut tx = b.db.begin_write().await.expect("begin");
    let report = catalogue::import_province(&mut tx, &exported, OffsetDateTime::now_utc())
        .await
        .expect("import");
    tx.commit().await.expect("commit");
    assert_eq!(report.versions_added, 1389);
    let mut tx = b.db.begin_read().await.expect("read");
    let again = catalogue::export_province(&mut tx, &code).await.expect("export again");
    assert_eq!(again, exported);

    // Importing the same file again changes nothing.
    drop(tx);
    let mut tx = b.db.begin_write().await.expect("begin");
    let report = catalogue::import_province(&mut tx, &exported, OffsetDateTime::now_utc())
        .await
        .expect("reimport");
    assert_eq!(report.versions_added, 0);
    assert_eq!(report.versions_unchanged, 1389);
}

#[tokio::test]
async fn editing_creates_versions_and_keeps_old_ones() {
    let t = fresh_db().await;
    load_demo(&t.db).await;
    let province = demo::ninh_thuan().province.code;
    let code = ProcedureCode::parse("1.900002").expect("code");
    let mut tx = t.db.begin_write().await.expect("begin");
    let v1 = catalogue::procedure(&mut tx, &province, &code)
        .await
        .expect("get")
        .expect("exists");
    let mut changed: ProcedureContent = v1.content.clone();
    changed.name = format!("{} (sửa đổi)", changed.name);
    changed.online_mode = OnlineMode::Partial;
    let v2 = catalogue::update_procedure(
        &mut tx,
        &province,
        &code,
        changed.clone(),
        "Sửa tên",
        Some(1),
        OffsetDateTime::now_utc(),
    )
    .await
    .expect("update");
    assert_eq!(v2.version, 2);
    // Saving identical content is not an edit.
    let same = catalogue::update_procedure(&mut tx, &province, &code, changed, "", None, OffsetDateTime::now_utc())
        .await
        .expect("noop");
    assert_eq!(same.version, 2);
    // A stale editor is refused.
    let stale = catalogue::update_procedure(
        &mut tx,
        &province,
        &code,
        v1.content.clone(),
        "",
        Some(1),
        OffsetDateTime::now_utc(),
    )
    .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    let old = catalogue::procedure_version(&mut tx, &province, &code, 1)
        .await
        .expect("v1")
        .expect("kept");
    assert_eq!(old.content, v1.content);
    assert_eq!(
        catalogue::procedure_versions(&mut tx, &province, &code)
            .await
            .expect("list")
            .len(),
        2
    );
}

#[tokio::test]
async fn invalid_references_are_refused_and_nothing_is_written() {
    let t = fresh_db().await;
    load_demo(&t.db).await;
    let province = demo::ninh_thuan().province.code;
    let mut bad = demo::ninh_thuan();
    bad.procedures.truncate(3);
    bad.procedures[2].code = ProcedureCode::parse("2.000001").expect("code");
    bad.procedures[2].versions[0].content.field = motcua_core::codes::FieldCode::parse("NOPE-01").expect("f");
    let mut tx = t.db.begin_write().await.expect("begin");
    let err = catalogue::import_province(&mut tx, &bad, OffsetDateTime::now_utc())
        .await
        .expect_err("must fail");
    match err {
        StoreError::Invalid(inv) => assert_eq!(inv.field, "procedures[2.000001].field"),
        other => panic!("unexpected {other:?}"),
    }
    drop(tx);
    let mut tx = t.db.begin_read().await.expect("read");
    let none = catalogue::procedure(&mut tx, &province, &ProcedureCode::parse("2.000001").expect("c"))
        .await
        .expect("get");
    assert!(none.is_none());
}

#[tokio::test]
async fn agency_tree_stays_a_tree() {
    let t = fresh_db().await;
    load_demo(&t.db).await;
    let province = demo::ninh_thuan().province.code;
    let mut tx = t.db.begin_write().await.expect("begin");
    let agencies = catalogue::agencies(&mut tx, &province).await.expect("agencies");
    let mut dept = agencies
        .iter()
        .find(|a| a.code.as_str() == "000.00.01.H43")
        .expect("dept")
        .clone();
    let mut child = dept.clone();
    child.code = motcua_core::codes::AgencyCode::parse("000.00.21.H43").expect("code");
    child.name = "Phòng Đăng ký kinh doanh".to_owned();
    child.kind = motcua_core::catalogue::AgencyKind::Other;
    child.parent = Some(dept.code.clone());
    catalogue::upsert_agency(&mut tx, &province, &child)
        .await
        .expect("child");
    // Making the department a child of its own child would close a loop.
    dept.parent = Some(child.code.clone());
    let err = catalogue::upsert_agency(&mut tx, &province, &dept)
        .await
        .expect_err("cycle");
    assert!(
        matches!(err, StoreError::Invalid(ref inv) if inv.field == "parent"),
        "{err:?}"
    );
    // The province itself has no parent.
    let mut root = agencies[0].clone();
    root.parent = Some(dept.code.clone());
    assert!(catalogue::upsert_agency(&mut tx, &province, &root).await.is_err());
}

#[tokio::test]
async fn schemas_of_both_backends_agree() {
    if !postgres_selected() {
        // Needs both servers: it runs in the PostgreSQL pass of the test command.
        return;
    }
    let pg = fresh_db().await;
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = Db::connect(&DbConfig {
        url: None,
        sqlite_path: dir.path().join("s.db"),
        max_connections: 2,
        busy_timeout: std::time::Duration::from_secs(1),
    })
    .await
    .expect("sqlite");
    sqlite.migrate().await.expect("migrate sqlite");
    let a = schema(&sqlite).await.expect("sqlite schema");
    let b = schema(&pg.db).await.expect("pg schema");
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let t = fresh_db().await;
    assert_eq!(t.db.migrate().await.expect("again"), 0);
}

#[tokio::test]
async fn sqlite_backup_while_open_and_restore() {
    if postgres_selected() {
        // pg_dump/pg_restore are exercised by the CLI test on PostgreSQL.
        return;
    }
    let t = fresh_db().await;
    load_demo(&t.db).await;
    let backup = t.dir.path().join("backup.db");
    t.db.backup(&backup).await.expect("backup while open");
    assert!(t.db.backup(&backup).await.is_err(), "never overwrites");
    let target = t.dir.path().join("restored.db");
    motcua_store::restore_sqlite(&backup, &target).await.expect("restore");
    let restored = Db::connect(&DbConfig {
        url: None,
        sqlite_path: target,
        max_connections: 2,
        busy_timeout: std::time::Duration::from_secs(1),
    })
    .await
    .expect("open restored");
    let mut tx = restored.begin_read().await.expect("read");
    let s = catalogue::summary(&mut tx, &demo::ninh_thuan().province.code)
        .await
        .expect("summary");
    assert_eq!(s.procedures, 1388);
    // A file that is not a backup is refused.
    let junk = t.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("write");
    assert!(
        motcua_store::restore_sqlite(&junk, &t.dir.path().join("x.db"))
            .await
            .is_err()
    );
}

/// A fresh database holding the Khánh Hòa map of 2025 (agencies only).
async fn with_khanh_hoa() -> (motcua_store::testing::TestDb, ProvinceCode) {
    let t = fresh_db().await;
    let map = demo_2025::khanh_hoa();
    let mut tx = t.db.begin_write().await.expect("begin");
    let report = catalogue::import_province(&mut tx, &map, OffsetDateTime::now_utc())
        .await
        .expect("import the map");
    tx.commit().await.expect("commit");
    assert_eq!(report.agencies, 145);
    (t, map.province.code)
}

fn agency_code(code: &str) -> AgencyCode {
    AgencyCode::parse(code).expect("agency code")
}

/// Phường Nha Trang and phường Bắc Nha Trang, with their centres (the map's codes).
const NHA_TRANG: &str = "000.00.31.H32";
const NHA_TRANG_CENTRE: &str = "000.01.31.H32";
const BAC_NHA_TRANG: &str = "000.00.30.H32";
const BAC_NHA_TRANG_CENTRE: &str = "000.01.30.H32";
const TAY_NHA_TRANG: &str = "000.00.32.H32";

#[tokio::test]
async fn the_2025_map_round_trips_with_its_national_codes() {
    let (t, province) = with_khanh_hoa().await;
    let mut tx = t.db.begin_read().await.expect("read");
    let exported = catalogue::export_province(&mut tx, &province).await.expect("export");
    drop(tx);
    assert_eq!(
        exported.agencies,
        demo_2025::khanh_hoa().agencies,
        "stored as the map says"
    );
    let nha_trang = exported
        .agencies
        .iter()
        .find(|a| a.code.as_str() == NHA_TRANG)
        .expect("phường Nha Trang");
    assert_eq!(
        (nha_trang.kind, nha_trang.admin_code.as_str()),
        (AgencyKind::Commune, "22366")
    );
    let tree = AgencyTree::new(&exported.agencies);
    assert_eq!(tree.centres().len(), 66);
    // Importing the same map again changes nothing.
    let mut tx = t.db.begin_write().await.expect("begin");
    catalogue::import_province(&mut tx, &exported, OffsetDateTime::now_utc())
        .await
        .expect("import again");
    let again = catalogue::export_province(&mut tx, &province)
        .await
        .expect("export again");
    assert_eq!(again, exported);
}

#[tokio::test]
async fn the_store_keeps_the_rules_of_the_tree() {
    let (t, province) = with_khanh_hoa().await;
    let mut tx = t.db.begin_write().await.expect("begin");
    let all = catalogue::agencies(&mut tx, &province).await.expect("agencies");
    let get = |code: &str| all.iter().find(|a| a.code.as_str() == code).expect("agency").clone();
    let invalid_field = |r: Result<(), StoreError>| match r {
        Err(StoreError::Invalid(inv)) => inv.field,
        other => panic!("expected a refusal, got {other:?}"),
    };
    // A commune centre belongs to a commune, not to a department.
    let mut centre = get(NHA_TRANG_CENTRE);
    centre.parent = Some(agency_code("000.00.03.H32"));
    assert_eq!(
        invalid_field(catalogue::upsert_agency(&mut tx, &province, &centre).await),
        "parent"
    );
    // A commune with a centre cannot become a department: its centre would break the rule.
    let mut commune = get(NHA_TRANG);
    commune.kind = AgencyKind::Department;
    commune.admin_code.clear();
    assert_eq!(
        invalid_field(catalogue::upsert_agency(&mut tx, &province, &commune).await),
        "kind"
    );
    // The national code is the commune's only, and has five digits.
    let mut commune = get(NHA_TRANG);
    commune.admin_code = "2236".to_owned();
    assert_eq!(
        invalid_field(catalogue::upsert_agency(&mut tx, &province, &commune).await),
        "admin_code"
    );
    // A rename keeps the code and the national code.
    let mut renamed = get(NHA_TRANG);
    renamed.name = "Ủy ban nhân dân phường Nha Trang (mới)".to_owned();
    catalogue::upsert_agency(&mut tx, &province, &renamed)
        .await
        .expect("rename");
    let stored = catalogue::agency(&mut tx, &province, &renamed.code)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!((stored.name, stored.admin_code), (renamed.name, "22366".to_owned()));
}

#[tokio::test]
async fn a_merged_commune_resolves_to_its_successor_and_its_centre_issues_no_code() {
    let (t, province) = with_khanh_hoa().await;
    let merged_on = datetime!(2026-01-01 00:00 +07:00);
    let (bac, bac_centre) = (agency_code(BAC_NHA_TRANG), agency_code(BAC_NHA_TRANG_CENTRE));
    let (nha_trang, nha_trang_centre) = (agency_code(NHA_TRANG), agency_code(NHA_TRANG_CENTRE));
    let mut tx = t.db.begin_write().await.expect("begin");
    // Codes issued before the merger stay issued.
    let before = dossiers::reserve_codes(&mut tx, &province, &bac_centre, date!(2025 - 12 - 31), 1)
        .await
        .expect("a code before the merger");
    // A commune whose centre still works cannot retire.
    let err = catalogue::retire_agency(&mut tx, &province, &bac, Some(&nha_trang), merged_on)
        .await
        .expect_err("its centre works");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    catalogue::retire_agency(&mut tx, &province, &bac_centre, Some(&nha_trang_centre), merged_on)
        .await
        .expect("retire the centre");
    catalogue::retire_agency(&mut tx, &province, &bac, Some(&nha_trang), merged_on)
        .await
        .expect("retire the commune");
    let err = catalogue::retire_agency(&mut tx, &province, &bac, Some(&nha_trang), merged_on)
        .await
        .expect_err("already retired");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    tx.commit().await.expect("commit");

    let mut tx = t.db.begin_write().await.expect("begin");
    let resolved = |a: Option<Agency>| a.map(|a| a.code.as_str().to_owned());
    for (asked, expected) in [
        (BAC_NHA_TRANG, NHA_TRANG),
        (BAC_NHA_TRANG_CENTRE, NHA_TRANG_CENTRE),
        (NHA_TRANG, NHA_TRANG),
    ] {
        let found = catalogue::resolve_agency(&mut tx, &province, &agency_code(asked))
            .await
            .expect("resolve");
        assert_eq!(resolved(found).as_deref(), Some(expected), "{asked}");
    }
    let unknown = catalogue::resolve_agency(&mut tx, &province, &agency_code("000.00.99.H32"))
        .await
        .expect("resolve");
    assert!(unknown.is_none());
    // The retired agency is kept, with its history, and marked.
    let kept = catalogue::agency(&mut tx, &province, &bac)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        (kept.retired_at, kept.successor.as_ref()),
        (Some(merged_on), Some(&nha_trang))
    );
    let tree = AgencyTree::new(&catalogue::agencies(&mut tx, &province).await.expect("agencies"));
    assert_eq!(tree.centres().len(), 65, "the retired centre receives nothing");
    // The retired centre issues no code, whichever way a code is asked for; the others do.
    let err = dossiers::reserve_codes(&mut tx, &province, &bac_centre, date!(2026 - 01 - 02), 1)
        .await
        .expect_err("a retired centre issues no code");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = dossiers::reserve_codes(&mut tx, &province, &bac_centre, date!(2025 - 12 - 31), 1)
        .await
        .expect_err("not even on a day it already issued codes");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let after = dossiers::reserve_codes(&mut tx, &province, &nha_trang_centre, date!(2025 - 12 - 31), 1)
        .await
        .expect("the successor issues codes");
    assert_ne!(before, after);
    // A new agency cannot take a code that now resolves elsewhere (the retired agency
    // itself may still be edited: a rename of its record).
    let mut retired = kept.clone();
    retired.name = format!("{} (đã sáp nhập)", kept.name);
    catalogue::upsert_agency(&mut tx, &province, &retired)
        .await
        .expect("edit a retired agency");
    let mut newcomer = tree.get(&agency_code(TAY_NHA_TRANG)).expect("agency").clone();
    newcomer.code = agency_code("000.00.95.H32");
    newcomer.admin_code.clear();
    catalogue::upsert_agency(&mut tx, &province, &newcomer)
        .await
        .expect("a new commune");
    let alias = AgencyAlias {
        old_code: agency_code("000.00.96.H32"),
        code: bac.clone(),
        at: merged_on,
    };
    catalogue::alias_agency(&mut tx, &province, &alias)
        .await
        .expect("an alias to a retired code");
    newcomer.code = alias.old_code.clone();
    let err = catalogue::upsert_agency(&mut tx, &province, &newcomer)
        .await
        .expect_err("the code resolves elsewhere");
    assert!(
        matches!(err, StoreError::Invalid(ref inv) if inv.field == "code"),
        "{err:?}"
    );
    // An alias to a retired agency was flattened to its successor; a working agency's
    // code cannot become an alias; nothing may hang from a retired agency.
    let aliases = catalogue::agency_aliases(&mut tx, &province).await.expect("aliases");
    let pairs: Vec<(&str, &str)> = aliases.iter().map(|a| (a.old_code.as_str(), a.code.as_str())).collect();
    assert_eq!(
        pairs,
        [
            (BAC_NHA_TRANG, NHA_TRANG),
            ("000.00.96.H32", NHA_TRANG),
            (BAC_NHA_TRANG_CENTRE, NHA_TRANG_CENTRE)
        ]
    );
    let working = AgencyAlias {
        old_code: nha_trang.clone(),
        code: agency_code(TAY_NHA_TRANG),
        at: merged_on,
    };
    assert!(catalogue::alias_agency(&mut tx, &province, &working).await.is_err());
    let mut orphan = tree.get(&agency_code("000.01.32.H32")).expect("a centre").clone();
    orphan.code = agency_code("000.02.30.H32");
    orphan.parent = Some(bac.clone());
    orphan.kind = AgencyKind::Other;
    let err = catalogue::upsert_agency(&mut tx, &province, &orphan)
        .await
        .expect_err("under a retired agency");
    assert!(
        matches!(err, StoreError::Invalid(ref inv) if inv.field == "parent"),
        "{err:?}"
    );
    tx.commit().await.expect("commit");

    // A second merger flattens the chain: every old code resolves in one hop.
    let mut tx = t.db.begin_write().await.expect("begin");
    let later = datetime!(2026-06-01 00:00 +07:00);
    catalogue::retire_agency(
        &mut tx,
        &province,
        &nha_trang_centre,
        Some(&agency_code("000.01.32.H32")),
        later,
    )
    .await
    .expect("retire the centre");
    catalogue::retire_agency(&mut tx, &province, &nha_trang, Some(&agency_code(TAY_NHA_TRANG)), later)
        .await
        .expect("retire the commune");
    let aliases = catalogue::agency_aliases(&mut tx, &province).await.expect("aliases");
    assert!(
        aliases
            .iter()
            .filter(|a| a.old_code.as_str().starts_with("000.00."))
            .all(|a| a.code.as_str() == TAY_NHA_TRANG),
        "{aliases:?}"
    );
    tx.commit().await.expect("commit");

    // The export carries retirements and aliases, and an import replays them.
    let mut tx = t.db.begin_read().await.expect("read");
    let exported = catalogue::export_province(&mut tx, &province).await.expect("export");
    drop(tx);
    assert_eq!(exported.aliases.len(), 5);
    let copy = fresh_db().await;
    let mut tx = copy.db.begin_write().await.expect("begin");
    let report = catalogue::import_province(&mut tx, &exported, OffsetDateTime::now_utc())
        .await
        .expect("import");
    assert_eq!((report.agencies_retired, report.aliases), (4, 5));
    let again = catalogue::export_province(&mut tx, &province)
        .await
        .expect("export the copy");
    assert_eq!(again, exported);
}

#[tokio::test]
async fn a_work_list_scoped_to_agencies_shows_what_they_received_hold_or_answer_for() {
    let (t, province) = with_khanh_hoa().await;
    let sample = demo::ninh_thuan();
    let record = &sample.procedures[0];
    let version = record.versions.last().expect("a version");
    let day = date!(2026 - 03 - 02);
    let file = |receiving: &str, responsible: &str, current: &str, n: u32| {
        let mut d = counter_dossier(
            DossierCode::new(&agency_code(receiving), day, n).expect("code"),
            province.clone(),
            agency_code(receiving),
            &record.code,
            version,
            OffsetDateTime::now_utc(),
        );
        d.responsible_agency = agency_code(responsible);
        d.current_agency = agency_code(current);
        d.status = Status::InProgress;
        d
    };
    let dept = "000.00.03.H32";
    let dossiers_filed = [
        // Received at Nha Trang's centre for its own commune, still at the centre.
        file(NHA_TRANG_CENTRE, NHA_TRANG, NHA_TRANG_CENTRE, 1),
        // Received at Bắc Nha Trang's centre for Nha Trang, now with Nha Trang.
        file(BAC_NHA_TRANG_CENTRE, NHA_TRANG, NHA_TRANG, 1),
        // Received at Nha Trang's centre for a department, now at the department.
        file(NHA_TRANG_CENTRE, dept, dept, 2),
        // Bắc Nha Trang's own.
        file(BAC_NHA_TRANG_CENTRE, BAC_NHA_TRANG, BAC_NHA_TRANG, 2),
    ];
    let mut tx = t.db.begin_write().await.expect("begin");
    dossiers::insert_many_uncounted(&mut tx, &dossiers_filed)
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    let mut tx = t.db.begin_read().await.expect("read");
    let list = |scope: Scope| ListFilter::new(province.clone(), scope, OffsetDateTime::now_utc());
    let mut codes = Vec::new();
    for scope in [
        Scope::Agencies(vec![NHA_TRANG_CENTRE.to_owned(), NHA_TRANG.to_owned()]),
        Scope::Agencies(vec![BAC_NHA_TRANG_CENTRE.to_owned(), BAC_NHA_TRANG.to_owned()]),
        Scope::Agencies(vec![dept.to_owned()]),
        Scope::Agencies(Vec::new()),
    ] {
        let mut found: Vec<String> = dossiers::list(&mut tx, &list(scope))
            .await
            .expect("list")
            .into_iter()
            .map(|s| s.dossier.code.as_str().to_owned())
            .collect();
        found.sort();
        codes.push(found);
    }
    let code = |i: usize| dossiers_filed[i].code.as_str().to_owned();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        codes[0],
        sorted(vec![code(0), code(1), code(2)]),
        "Nha Trang's centre and commune"
    );
    assert_eq!(
        codes[1],
        sorted(vec![code(1), code(3)]),
        "received at Bắc Nha Trang, or its own"
    );
    assert_eq!(codes[2], vec![code(2)]);
    assert!(codes[3].is_empty(), "an empty set sees nothing");
    // Waiting for assignment at the agencies means held by one of them: Nha Trang answers
    // for the first dossier too, but its centre still holds it.
    let mut waiting = list(Scope::Agencies(vec![NHA_TRANG.to_owned()]));
    waiting.unassigned = true;
    let found: Vec<String> = dossiers::list(&mut tx, &waiting)
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.dossier.code.as_str().to_owned())
        .collect();
    assert_eq!(found, vec![code(1)]);
}

#[tokio::test]
async fn one_commune_level_entry_serves_the_communes_it_lists_and_only_communes() {
    let (t, province) = with_khanh_hoa().await;
    let justice = agency_code(JUSTICE);
    let mut tx = t.db.begin_write().await.expect("begin");
    catalogue::upsert_field(
        &mut tx,
        &province,
        &motcua_core::catalogue::Field {
            code: motcua_core::codes::FieldCode::parse("HT").expect("field code"),
            name: "Hộ tịch".to_owned(),
            agency: justice.clone(),
        },
    )
    .await
    .expect("field");
    let mut content = demo::ninh_thuan().procedures[0].versions[0].content.clone();
    content.field = motcua_core::codes::FieldCode::parse("HT").expect("field code");
    content.agency = justice.clone();
    content.steps.clear();
    content.level = motcua_core::catalogue::Level::Commune;
    content.receivable = motcua_core::catalogue::Receivable::Anywhere;
    content.communes = vec![agency_code(NHA_TRANG), agency_code(BAC_NHA_TRANG)];
    let code = ProcedureCode::parse("1.001193.000.00.00.H32").expect("procedure code");
    let now = OffsetDateTime::now_utc();
    let stored = catalogue::create_procedure(&mut tx, &province, &code, content.clone(), "", now)
        .await
        .expect("a commune-level procedure for two communes");
    assert_eq!(stored.content.communes, content.communes);
    let summary = catalogue::procedure_summaries(&mut tx, &province)
        .await
        .expect("summaries")
        .into_iter()
        .find(|s| s.code == code)
        .expect("listed");
    assert_eq!(summary.receivable, motcua_core::catalogue::Receivable::Anywhere);

    // Only working communes of the province may be listed.
    let refused = |r: Result<motcua_core::catalogue::ProcedureVersion, StoreError>| match r {
        Err(StoreError::Invalid(inv)) => (inv.field, inv.message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    for (listed, reason) in [
        (NHA_TRANG_CENTRE, "không phải UBND xã, phường"),
        (JUSTICE, "không phải UBND xã, phường"),
        ("000.00.98.H32", "không có xã, phường"),
    ] {
        let mut c = content.clone();
        c.communes = vec![agency_code(NHA_TRANG), agency_code(listed)];
        let (field, message) = refused(catalogue::update_procedure(&mut tx, &province, &code, c, "", None, now).await);
        assert_eq!(field, "communes[1]", "{listed}");
        assert!(message.contains(reason), "{listed}: {message}");
    }
    catalogue::retire_agency(&mut tx, &province, &agency_code(BAC_NHA_TRANG_CENTRE), None, now)
        .await
        .expect("retire the centre");
    catalogue::retire_agency(
        &mut tx,
        &province,
        &agency_code(BAC_NHA_TRANG),
        Some(&agency_code(NHA_TRANG)),
        now,
    )
    .await
    .expect("retire the commune");
    let mut c = content.clone();
    c.name.push_str(" (sửa)");
    let (field, message) = refused(catalogue::update_procedure(&mut tx, &province, &code, c, "", None, now).await);
    assert_eq!(field, "communes[1]");
    assert!(message.contains("sáp nhập"), "{message}");
    // The version filed before the merger keeps its list.
    let kept = catalogue::procedure(&mut tx, &province, &code)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.content.communes, content.communes);
}

/// Sở Tư pháp of the Khánh Hòa map.
const JUSTICE: &str = "000.00.03.H32";
