//! Store tests; they run on the backend the test run selects (see `motcua_store::testing`).

use motcua_core::catalogue::{OnlineMode, ProcedureContent};
use motcua_core::codes::ProcedureCode;
use motcua_core::demo;
use motcua_store::testing::{fresh_db, postgres_selected};
use motcua_store::{Db, DbConfig, StoreError, catalogue, schema};
use time::OffsetDateTime;

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
