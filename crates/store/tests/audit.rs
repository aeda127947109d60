//! Audit trail tests; they run on the backend the test run selects (see
//! `motcua_store::testing`).

use std::sync::Arc;

use motcua_core::audit::{Anchor, AuditEntry, GENESIS_HASH, SYSTEM_ACTOR};
use motcua_store::audit::{self, AuditCursor, AuditFilter, MAX_LIST_LIMIT, NewAuditRecord, VerifyReport};
use motcua_store::testing::{TestDb, fresh_db};
use motcua_store::{Backend, Db, StoreError, Tx, exec, on};
use serde_json::json;
use time::OffsetDateTime;

const T0: i64 = 1_750_000_000_000;

fn at(ms: i64) -> OffsetDateTime {
    motcua_store::from_millis(ms)
}

/// Appends one ordinary record numbered `i` to `chain` at `T0 + i` seconds.
async fn append_one(tx: &mut Tx, chain: &str, i: i64) -> AuditEntry {
    let before = json!({"name": format!("v{i}"), "fees": [1, 2]});
    let after = json!({"name": format!("v{}", i + 1), "fees": [1, 2, 3], "note": "Sửa đổi"});
    let object_id = format!("1.{:06}", 900_000 + i % 5);
    let actor = format!("u-{}", i % 3);
    audit::append(
        tx,
        &NewAuditRecord {
            chain,
            actor: &actor,
            actor_name: "Nguyễn Văn A",
            ip: "192.0.2.1",
            action: "procedure.update",
            object_type: "procedure",
            object_id: &object_id,
            province_code: Some("000.00.00.H43"),
            before: Some(&before),
            after: Some(&after),
        },
        at(T0 + i * 1000),
    )
    .await
    .expect("append")
}

/// Appends `n` records to `chain` in one committed transaction.
async fn append_committed(db: &Db, chain: &str, from: i64, n: i64) {
    let mut tx = db.begin_write().await.expect("begin");
    for i in from..from + n {
        append_one(&mut tx, chain, i).await;
    }
    tx.commit().await.expect("commit");
}

/// Runs one statement in its own committed write transaction.
async fn run(db: &Db, sql: &str) -> Result<u64, StoreError> {
    let mut tx = db.begin_write().await?;
    let n = exec!(&mut tx, |c| sqlx::query(sql).execute(c).await)?;
    tx.commit().await?;
    Ok(n)
}

/// What an attacker with write access to the database does first.
async fn drop_triggers(db: &Db) {
    let sql: &[&str] = match db.backend() {
        Backend::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
        Backend::Postgres => &[
            "DROP TRIGGER audit_log_no_change ON audit_log",
            "DROP TRIGGER audit_log_no_truncate ON audit_log",
        ],
    };
    for s in sql {
        run(db, s).await.expect("drop trigger");
    }
}

async fn verify(db: &Db) -> VerifyReport {
    audit::verify(db).await.expect("verify")
}

/// A database with 10 records in `main` and 5 in `other`, triggers dropped.
async fn tamperable() -> TestDb {
    let t = fresh_db().await;
    append_committed(&t.db, "main", 1, 10).await;
    append_committed(&t.db, "other", 1, 5).await;
    let report = verify(&t.db).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.chains, report.records), (2, 15));
    drop_triggers(&t.db).await;
    t
}

/// Tampers with `sql` (statements separated by `;`) and returns where verify breaks.
async fn break_after(sql: &str) -> (String, i64, String) {
    let t = tamperable().await;
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        run(&t.db, statement).await.expect("tamper");
    }
    let report = verify(&t.db).await;
    let b = report.first_break.expect("tampering must be detected");
    (b.chain, b.seq, b.reason)
}

async fn seqs(db: &Db, chain: &str) -> Vec<i64> {
    let mut tx = db.begin_read().await.expect("read");
    on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT seq FROM audit_log WHERE chain = $1 ORDER BY seq")
            .bind(chain)
            .fetch_all(c)
            .await
    })
    .expect("seqs")
}

async fn head(db: &Db, chain: &str) -> Option<(i64, String)> {
    let mut tx = db.begin_read().await.expect("read");
    on!(&mut tx, |c| {
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE chain = $1")
            .bind(chain)
            .fetch_optional(c)
            .await
    })
    .expect("head")
}

#[tokio::test]
async fn an_empty_trail_verifies() {
    let t = fresh_db().await;
    let report = verify(&t.db).await;
    assert_eq!(
        report,
        VerifyReport {
            chains: 0,
            records: 0,
            first_break: None
        }
    );
}

#[tokio::test]
async fn hundred_records_in_two_chains_verify() {
    let t = fresh_db().await;
    // 10 transactions of 10 records, alternating chains.
    for batch in 0..10 {
        let chain = if batch % 2 == 0 { "main" } else { "h43" };
        append_committed(&t.db, chain, batch * 10, 10).await;
    }
    assert_eq!(seqs(&t.db, "main").await, (1..=50).collect::<Vec<_>>());
    assert_eq!(seqs(&t.db, "h43").await, (1..=50).collect::<Vec<_>>());
    let report = verify(&t.db).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.chains, report.records), (2, 100));

    // The entries link up and the head is the last one.
    let mut tx = t.db.begin_read().await.expect("read");
    let mut all = audit::list(
        &mut tx,
        &AuditFilter {
            chain: Some("main".into()),
            limit: 100,
            ..AuditFilter::default()
        },
    )
    .await
    .expect("list");
    all.reverse();
    assert_eq!(all[0].prev_hash, GENESIS_HASH);
    for pair in all.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert_eq!(head(&t.db, "main").await, Some((50, all[49].hash.clone())));
}

#[tokio::test]
async fn append_returns_what_is_stored() {
    let t = fresh_db().await;
    let mut tx = t.db.begin_write().await.expect("begin");
    let before = json!({"b": 1, "a": {"y": null, "x": [true, 1.5, "Đ"]}});
    let returned = audit::append(
        &mut tx,
        &NewAuditRecord {
            chain: "main",
            actor: SYSTEM_ACTOR,
            actor_name: "Hệ thống",
            ip: "",
            action: "catalogue.import",
            object_type: "province",
            object_id: "000.00.00.H43",
            province_code: None,
            before: Some(&before),
            after: None,
        },
        at(T0),
    )
    .await
    .expect("append");
    tx.commit().await.expect("commit");
    assert_eq!((returned.seq, returned.at_ms), (1, T0));
    let mut tx = t.db.begin_read().await.expect("read");
    let stored = audit::list(&mut tx, &AuditFilter::default()).await.expect("list");
    assert_eq!(stored, vec![returned]);
    // Stored as canonical text: sorted keys, no whitespace.
    let text: String = on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT before_json FROM audit_log")
            .fetch_one(c)
            .await
    })
    .expect("text");
    assert_eq!(text, r#"{"a":{"x":[true,1.5,"Đ"],"y":null},"b":1}"#);
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_record_and_no_head_change() {
    let t = fresh_db().await;
    append_committed(&t.db, "main", 1, 3).await;
    let head_before = head(&t.db, "main").await;

    let mut tx = t.db.begin_write().await.expect("begin");
    append_one(&mut tx, "main", 4).await;
    append_one(&mut tx, "main", 5).await;
    // A chain's very first append, rolled back too: not even its head may remain.
    append_one(&mut tx, "fresh", 1).await;
    drop(tx);

    assert_eq!(seqs(&t.db, "main").await, vec![1, 2, 3]);
    assert_eq!(head(&t.db, "main").await, head_before);
    assert_eq!(seqs(&t.db, "fresh").await, Vec::<i64>::new());
    assert_eq!(head(&t.db, "fresh").await, None);
    let report = verify(&t.db).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.chains, report.records), (1, 3));

    // The next append continues from the committed head.
    append_committed(&t.db, "main", 4, 1).await;
    assert_eq!(seqs(&t.db, "main").await, vec![1, 2, 3, 4]);
    assert!(verify(&t.db).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_appends_to_one_chain_have_no_gaps() {
    let t = fresh_db().await;
    let db = t.db.clone();
    // All tasks start together on a chain that does not exist yet, so on PostgreSQL the
    // first appends race to create its head, and the rest contend for its lock.
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for task in 0..8_i64 {
        let db = db.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            for i in 0..50 {
                let mut tx = db.begin_write().await.expect("begin");
                append_one(&mut tx, "busy", task * 1000 + i).await;
                tx.commit().await.expect("commit");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(seqs(&t.db, "busy").await, (1..=400).collect::<Vec<_>>());
    let report = verify(&t.db).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!((report.chains, report.records), (1, 400));
}

#[tokio::test]
async fn triggers_refuse_update_and_delete() {
    let t = fresh_db().await;
    append_committed(&t.db, "main", 1, 3).await;
    let mut refused = vec![
        "UPDATE audit_log SET actor = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ];
    if t.db.backend() == Backend::Postgres {
        refused.push("TRUNCATE audit_log");
    }
    for sql in refused {
        let err = run(&t.db, sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(seqs(&t.db, "main").await, vec![1, 2, 3]);
    assert!(verify(&t.db).await.is_ok());
    // Dropping them is what an attacker with database access does; the chain catches it.
    drop_triggers(&t.db).await;
    run(&t.db, "UPDATE audit_log SET actor = 'x' WHERE seq = 2")
        .await
        .expect("no trigger");
    assert_eq!(verify(&t.db).await.first_break.map(|b| b.seq), Some(2));
}

#[tokio::test]
async fn edited_after_json_is_detected() {
    let (chain, seq, reason) = break_after(
        r#"UPDATE audit_log SET after_json = '{"fees":[1,2,3],"name":"v999","note":"Sửa đổi"}' WHERE chain = 'main' AND seq = 4"#,
    )
    .await;
    assert_eq!((chain.as_str(), seq), ("main", 4), "{reason}");
}

#[tokio::test]
async fn an_equivalent_but_reformatted_json_is_detected() {
    // Same JSON value, different text: still an edit of the stored record.
    let t = tamperable().await;
    let mut tx = t.db.begin_read().await.expect("read");
    let text: String = on!(&mut tx, |c| {
        sqlx::query_scalar("SELECT after_json FROM audit_log WHERE chain = 'main' AND seq = 6")
            .fetch_one(c)
            .await
    })
    .expect("text");
    drop(tx);
    let spaced = text.replace(',', ", ");
    let mut tx = t.db.begin_write().await.expect("begin");
    exec!(&mut tx, |c| {
        sqlx::query("UPDATE audit_log SET after_json = $1 WHERE chain = 'main' AND seq = 6")
            .bind(&spaced)
            .execute(c)
            .await
    })
    .expect("tamper");
    tx.commit().await.expect("commit");
    assert_eq!(verify(&t.db).await.first_break.map(|b| b.seq), Some(6));
}

#[tokio::test]
async fn edited_actor_is_detected() {
    let (chain, seq, reason) =
        break_after("UPDATE audit_log SET actor = 'u-admin' WHERE chain = 'main' AND seq = 7").await;
    assert_eq!((chain.as_str(), seq), ("main", 7), "{reason}");
}

#[tokio::test]
async fn a_deleted_middle_record_is_detected() {
    let (chain, seq, reason) = break_after("DELETE FROM audit_log WHERE chain = 'main' AND seq = 5").await;
    assert_eq!((chain.as_str(), seq), ("main", 5), "{reason}");
    assert!(reason.contains("thiếu bản ghi 5"), "{reason}");
}

#[tokio::test]
async fn a_deleted_last_record_is_detected_by_the_head() {
    let (chain, seq, reason) = break_after("DELETE FROM audit_log WHERE chain = 'main' AND seq = 10").await;
    assert_eq!((chain.as_str(), seq), ("main", 10), "{reason}");
    assert!(reason.contains("đầu chuỗi"), "{reason}");
}

#[tokio::test]
async fn a_head_rewound_over_a_deleted_tail_must_match_the_last_record() {
    // Deleting the tail and rewinding the head's seq is caught by the head's hash. (Also
    // rewriting the head's hash would leave a valid, shorter chain: the documented limit
    // of a chain without an anchor outside the database.)
    let (chain, seq, reason) = break_after(
        "DELETE FROM audit_log WHERE chain = 'main' AND seq >= 9; \
         UPDATE audit_heads SET seq = 8 WHERE chain = 'main'",
    )
    .await;
    assert_eq!((chain.as_str(), seq), ("main", 8), "{reason}");
}

#[tokio::test]
async fn a_deleted_head_is_detected() {
    let (chain, seq, reason) = break_after("DELETE FROM audit_heads WHERE chain = 'other'").await;
    assert_eq!((chain.as_str(), seq), ("other", 5), "{reason}");
}

#[tokio::test]
async fn swapped_hashes_are_detected() {
    // Records 6 and 7 trade their stored hashes.
    let t = tamperable().await;
    let mut tx = t.db.begin_read().await.expect("read");
    let hashes: Vec<(i64, String)> = on!(&mut tx, |c| {
        sqlx::query_as("SELECT seq, hash FROM audit_log WHERE chain = 'main' AND seq IN (6, 7) ORDER BY seq")
            .fetch_all(c)
            .await
    })
    .expect("hashes");
    drop(tx);
    let mut tx = t.db.begin_write().await.expect("begin");
    for (seq, hash) in [(6, &hashes[1].1), (7, &hashes[0].1)] {
        exec!(&mut tx, |c| {
            sqlx::query("UPDATE audit_log SET hash = $1 WHERE chain = 'main' AND seq = $2")
                .bind(hash)
                .bind(seq)
                .execute(c)
                .await
        })
        .expect("swap");
    }
    tx.commit().await.expect("commit");
    let b = verify(&t.db).await.first_break.expect("detected");
    assert_eq!((b.chain.as_str(), b.seq), ("main", 6), "{}", b.reason);
}

#[tokio::test]
async fn reordered_records_are_detected() {
    // Records 6 and 7 trade places (their seq numbers), everything else intact.
    let (chain, seq, reason) = break_after(
        "UPDATE audit_log SET seq = -7 WHERE chain = 'main' AND seq = 7; \
         UPDATE audit_log SET seq = 7 WHERE chain = 'main' AND seq = 6; \
         UPDATE audit_log SET seq = 6 WHERE chain = 'main' AND seq = -7",
    )
    .await;
    assert_eq!((chain.as_str(), seq), ("main", 6), "{reason}");
}

#[tokio::test]
async fn a_forged_record_after_the_head_is_detected() {
    // Copy record 10 as a record 11 with a matching prev_hash but no head update.
    let (chain, seq, reason) = break_after(&format!(
        "INSERT INTO audit_log ({cols}) SELECT chain, 11, at, actor, actor_name, ip, action, object_type, \
         object_id, province_code, before_json, after_json, hash, hash FROM audit_log \
         WHERE chain = 'main' AND seq = 10",
        cols = "chain, seq, at, actor, actor_name, ip, action, object_type, object_id, province_code, \
                before_json, after_json, prev_hash, hash"
    ))
    .await;
    assert_eq!((chain.as_str(), seq), ("main", 11), "{reason}");
}

#[tokio::test]
async fn verify_pages_through_long_chains() {
    // More than one verification page (10,000 records), tampered after the boundary.
    let t = fresh_db().await;
    append_committed(&t.db, "long", 1, 10_005).await;
    let report = verify(&t.db).await;
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.records, 10_005);
    drop_triggers(&t.db).await;
    run(&t.db, "UPDATE audit_log SET ip = '203.0.113.9' WHERE seq = 10003")
        .await
        .expect("tamper");
    let report = verify(&t.db).await;
    assert_eq!(report.first_break.map(|b| b.seq), Some(10_003));
    assert_eq!(report.records, 10_002);
}

#[tokio::test]
async fn invalid_records_are_refused() {
    let t = fresh_db().await;
    let mut tx = t.db.begin_write().await.expect("begin");
    let err = audit::append(
        &mut tx,
        &NewAuditRecord {
            chain: "",
            actor: SYSTEM_ACTOR,
            actor_name: "",
            ip: "",
            action: "x.y",
            object_type: "x",
            object_id: "1",
            province_code: None,
            before: None,
            after: None,
        },
        at(T0),
    )
    .await
    .expect_err("empty chain");
    assert!(
        matches!(err, StoreError::Invalid(ref inv) if inv.field == "chain"),
        "{err:?}"
    );
}

/// Records with distinct actors, actions, objects, provinces and times in two chains.
async fn browsing_fixture(db: &Db) -> Vec<AuditEntry> {
    let mut all = Vec::new();
    let mut tx = db.begin_write().await.expect("begin");
    for i in 0..60_i64 {
        let chain = if i % 2 == 0 { "main" } else { "h43" };
        let actor = format!("u-{}", i % 4);
        let action = if i % 3 == 0 {
            "procedure.create"
        } else {
            "procedure.update"
        };
        let object_type = if i % 5 == 0 { "agency" } else { "procedure" };
        let object_id = format!("obj-{}", i % 6);
        let province = if i % 2 == 0 { Some("000.00.00.H43") } else { None };
        let after = json!({"i": i});
        // Every fourth pair shares a millisecond, so the (chain, seq) tie-break matters.
        let ms = T0 + (i / 2) * 60_000;
        all.push(
            audit::append(
                &mut tx,
                &NewAuditRecord {
                    chain,
                    actor: &actor,
                    actor_name: "Cán bộ",
                    ip: "198.51.100.7",
                    action,
                    object_type,
                    object_id: &object_id,
                    province_code: province,
                    before: None,
                    after: Some(&after),
                },
                at(ms),
            )
            .await
            .expect("append"),
        );
    }
    tx.commit().await.expect("commit");
    // The expected browsing order: newest first, then chain and seq descending.
    all.sort_by(|a, b| (b.at_ms, &b.chain, b.seq).cmp(&(a.at_ms, &a.chain, a.seq)));
    all
}

async fn list_all_pages(db: &Db, filter: &AuditFilter) -> Vec<AuditEntry> {
    let mut tx = db.begin_read().await.expect("read");
    let mut filter = filter.clone();
    let mut out: Vec<AuditEntry> = Vec::new();
    loop {
        let page = audit::list(&mut tx, &filter).await.expect("list");
        assert!(page.len() <= filter.limit);
        let done = page.len() < filter.limit;
        if let Some(last) = page.last() {
            // The cursor survives its text form (what an API would hand out).
            let cursor = AuditCursor::after(last);
            let parsed: AuditCursor = cursor.to_string().parse().expect("cursor");
            assert_eq!(parsed, cursor);
            filter.after = Some(parsed);
        }
        out.extend(page);
        if done {
            return out;
        }
    }
}

#[tokio::test]
async fn list_filters() {
    let t = fresh_db().await;
    let all = browsing_fixture(&t.db).await;
    let check = |filter: AuditFilter, keep: &dyn Fn(&AuditEntry) -> bool| {
        let expected: Vec<AuditEntry> = all.iter().filter(|e| keep(e)).cloned().collect();
        let db = t.db.clone();
        async move {
            let got = list_all_pages(&db, &filter).await;
            assert!(!expected.is_empty(), "{filter:?} must match something");
            assert_eq!(got, expected, "{filter:?}");
        }
    };
    let f = AuditFilter::default;
    check(f(), &|_| true).await;
    check(
        AuditFilter {
            chain: Some("h43".into()),
            ..f()
        },
        &|e| e.chain == "h43",
    )
    .await;
    check(
        AuditFilter {
            actor: Some("u-1".into()),
            ..f()
        },
        &|e| e.actor == "u-1",
    )
    .await;
    check(
        AuditFilter {
            action: Some("procedure.create".into()),
            ..f()
        },
        &|e| e.action == "procedure.create",
    )
    .await;
    check(
        AuditFilter {
            object_type: Some("agency".into()),
            object_id: Some("obj-0".into()),
            ..f()
        },
        &|e| e.object_type == "agency" && e.object_id == "obj-0",
    )
    .await;
    check(
        AuditFilter {
            province_code: Some("000.00.00.H43".into()),
            ..f()
        },
        &|e| e.province_code.as_deref() == Some("000.00.00.H43"),
    )
    .await;
    let (from, to) = (T0 + 5 * 60_000, T0 + 12 * 60_000);
    check(
        AuditFilter {
            from_ms: Some(from),
            to_ms: Some(to),
            ..f()
        },
        &|e| e.at_ms >= from && e.at_ms < to,
    )
    .await;
    check(
        AuditFilter {
            chain: Some("main".into()),
            actor: Some("u-2".into()),
            from_ms: Some(from),
            ..f()
        },
        &|e| e.chain == "main" && e.actor == "u-2" && e.at_ms >= from,
    )
    .await;
    // Nothing matches: an empty page, not an error.
    let mut tx = t.db.begin_read().await.expect("read");
    let none = audit::list(
        &mut tx,
        &AuditFilter {
            actor: Some("nobody".into()),
            ..f()
        },
    )
    .await
    .expect("list");
    assert!(none.is_empty());
}

#[tokio::test]
async fn list_paginates_without_repeats_or_gaps() {
    let t = fresh_db().await;
    let all = browsing_fixture(&t.db).await;
    for limit in [1, 7, 30, 60, 61] {
        let got = list_all_pages(
            &t.db,
            &AuditFilter {
                limit,
                ..AuditFilter::default()
            },
        )
        .await;
        assert_eq!(got, all, "limit {limit}");
    }
    // Records appended between pages do not disturb the pages that follow.
    let mut tx = t.db.begin_read().await.expect("read");
    let first = audit::list(
        &mut tx,
        &AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        },
    )
    .await
    .expect("page 1");
    drop(tx);
    append_committed(&t.db, "main", 10_000, 3).await;
    let mut tx = t.db.begin_read().await.expect("read");
    let second = audit::list(
        &mut tx,
        &AuditFilter {
            limit: 10,
            after: first.last().map(AuditCursor::after),
            ..AuditFilter::default()
        },
    )
    .await
    .expect("page 2");
    assert_eq!(second, all[10..20].to_vec());
}

#[tokio::test]
async fn list_limits_are_clamped() {
    let t = fresh_db().await;
    let mut tx = t.db.begin_write().await.expect("begin");
    for i in 0..(MAX_LIST_LIMIT as i64 + 5) {
        append_one(&mut tx, "main", i).await;
    }
    tx.commit().await.expect("commit");
    let mut tx = t.db.begin_read().await.expect("read");
    for (asked, got) in [
        (0, 1),
        (MAX_LIST_LIMIT + 1, MAX_LIST_LIMIT),
        (usize::MAX, MAX_LIST_LIMIT),
    ] {
        let page = audit::list(
            &mut tx,
            &AuditFilter {
                limit: asked,
                ..AuditFilter::default()
            },
        )
        .await
        .expect("list");
        assert_eq!(page.len(), got, "limit {asked}");
    }
}

#[test]
fn cursors_parse_strictly() {
    let c: AuditCursor = "1750000000000:42:chain:with:colons".parse().expect("cursor");
    assert_eq!(
        c,
        AuditCursor {
            at_ms: 1_750_000_000_000,
            chain: "chain:with:colons".into(),
            seq: 42
        }
    );
    for bad in ["", "1", "1:2", "1:2:", "x:2:c", "1:y:c"] {
        assert!(bad.parse::<AuditCursor>().is_err(), "{bad:?}");
    }
}

/// An anchor of every chain's head now.
async fn anchor_now(db: &Db, at_ms: i64) -> Anchor {
    Anchor {
        at_ms,
        heads: audit::heads(db).await.expect("heads"),
    }
}

/// Deletes records 9 and 10 of `main` and rewinds its head, hash and all, to record 8: a
/// shorter chain that verifies.
async fn delete_main_tail_and_rewind(db: &Db) {
    let hash8: String = {
        let mut tx = db.begin_read().await.expect("read");
        on!(&mut tx, |c| {
            sqlx::query_scalar("SELECT hash FROM audit_log WHERE chain = 'main' AND seq = 8")
                .fetch_one(c)
                .await
        })
        .expect("record 8")
    };
    run(db, "DELETE FROM audit_log WHERE chain = 'main' AND seq >= 9")
        .await
        .expect("delete");
    run(
        db,
        &format!("UPDATE audit_heads SET seq = 8, hash = '{hash8}' WHERE chain = 'main'"),
    )
    .await
    .expect("rewind");
}

async fn check(db: &Db, anchors: &[Anchor]) -> audit::AnchorReport {
    audit::check_anchors(db, anchors).await.expect("check anchors")
}

#[tokio::test]
async fn anchors_of_an_untouched_trail_hold_as_it_grows() {
    let t = fresh_db().await;
    let empty = anchor_now(&t.db, T0).await;
    append_committed(&t.db, "main", 1, 10).await;
    let first = anchor_now(&t.db, T0 + 1).await;
    assert_eq!(first.heads.len(), 1);
    append_committed(&t.db, "main", 11, 3).await;
    append_committed(&t.db, "other", 1, 2).await;
    let second = anchor_now(&t.db, T0 + 2).await;
    let report = check(&t.db, &[empty, first.clone(), first, second]).await;
    assert_eq!(report.first_break, None, "{report:?}");
    assert_eq!(
        (report.anchors, report.records),
        (4, 3),
        "unchanged heads are looked up once"
    );
}

#[tokio::test]
async fn an_anchor_catches_a_deleted_tail_under_a_rewound_head() {
    let t = tamperable().await;
    let anchor = anchor_now(&t.db, T0).await;
    delete_main_tail_and_rewind(&t.db).await;
    assert!(verify(&t.db).await.is_ok(), "the chain alone cannot tell");
    let b = check(&t.db, &[anchor]).await.first_break.expect("the anchor tells");
    assert_eq!((b.chain.as_str(), b.seq), ("main", 10), "{}", b.reason);
    assert!(b.reason.contains("không còn"), "{}", b.reason);
}

#[tokio::test]
async fn an_anchor_catches_a_deleted_chain() {
    let t = tamperable().await;
    let anchor = anchor_now(&t.db, T0).await;
    run(&t.db, "DELETE FROM audit_log WHERE chain = 'other'")
        .await
        .expect("delete");
    run(&t.db, "DELETE FROM audit_heads WHERE chain = 'other'")
        .await
        .expect("delete head");
    assert!(verify(&t.db).await.is_ok(), "the chain alone cannot tell");
    let b = check(&t.db, &[anchor]).await.first_break.expect("the anchor tells");
    assert_eq!((b.chain.as_str(), b.seq), ("other", 5), "{}", b.reason);
}

#[tokio::test]
async fn an_anchor_catches_a_rewritten_tail() {
    // The tail deleted, the head rewound, and new records appended in their place: a chain
    // that verifies, with other records under the anchored numbers.
    let t = tamperable().await;
    let anchor = anchor_now(&t.db, T0).await;
    delete_main_tail_and_rewind(&t.db).await;
    append_committed(&t.db, "main", 100, 2).await;
    assert_eq!(seqs(&t.db, "main").await, (1..=10).collect::<Vec<_>>());
    assert!(verify(&t.db).await.is_ok(), "the chain alone cannot tell");
    let b = check(&t.db, &[anchor]).await.first_break.expect("the anchor tells");
    assert_eq!((b.chain.as_str(), b.seq), ("main", 10), "{}", b.reason);
    assert!(b.reason.contains("viết lại"), "{}", b.reason);
}

#[tokio::test]
async fn two_anchors_disagreeing_on_one_record_are_a_break() {
    let t = fresh_db().await;
    append_committed(&t.db, "main", 1, 3).await;
    let genuine = anchor_now(&t.db, T0).await;
    let mut edited = genuine.clone();
    edited.at_ms = T0 + 60_000;
    edited.heads[0].hash = "f".repeat(64);
    let b = check(&t.db, &[genuine, edited])
        .await
        .first_break
        .expect("disagreement");
    assert_eq!((b.chain.as_str(), b.seq), ("main", 3), "{}", b.reason);
    assert!(b.reason.contains("hai lần neo"), "{}", b.reason);
}
