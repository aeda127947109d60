//! Dossier codes never collide, also under concurrent intake, on the selected backend.

use std::collections::HashSet;

use motcua_core::codes::AgencyCode;
use motcua_core::demo;
use motcua_core::dossier::DossierCode;
use motcua_store::testing::{counter_dossier, fresh_db};
use motcua_store::{StoreError, catalogue, dossiers};
use time::OffsetDateTime;
use time::macros::date;

/// The next code of `agency` for `day`, in the caller's own transaction (outside a group
/// commit codes are reserved, here one at a time).
async fn one_code(
    tx: &mut motcua_store::Tx,
    province: &motcua_core::codes::ProvinceCode,
    agency: &AgencyCode,
    day: time::Date,
) -> Result<DossierCode, StoreError> {
    let mut codes = dossiers::reserve_codes(tx, province, agency, day, 1).await?;
    Ok(codes.pop().expect("one code"))
}

/// A fresh database holding the demo province (the dossiers' foreign key).
async fn with_province() -> (motcua_store::testing::TestDb, motcua_core::catalogue::Province) {
    let t = fresh_db().await;
    let province = demo::ninh_thuan().province;
    let mut tx = t.db.begin_write().await.expect("begin");
    catalogue::upsert_province(&mut tx, &province, OffsetDateTime::now_utc())
        .await
        .expect("province");
    tx.commit().await.expect("commit");
    (t, province)
}

#[tokio::test]
async fn thousands_of_concurrent_intakes_get_distinct_consecutive_codes() {
    let (t, province) = with_province().await;

    let centre = AgencyCode::parse("000.00.16.H43").expect("agency");
    let other = AgencyCode::parse("000.00.03.H43").expect("agency");
    let day = date!(2019 - 06 - 12);
    let tasks = 40;
    let per_task = 50;
    let mut handles = Vec::new();
    for task in 0..tasks {
        let db = t.db.clone();
        let code = province.code.clone();
        let agency = if task % 4 == 0 { other.clone() } else { centre.clone() };
        handles.push(tokio::spawn(async move {
            let mut issued = Vec::new();
            for i in 0..per_task {
                let mut tx = db.begin_write().await.expect("begin");
                let c = one_code(&mut tx, &code, &agency, day).await.expect("code");
                // Every seventh intake fails after taking its number: nothing is issued.
                if (task + i) % 7 == 0 {
                    drop(tx);
                } else {
                    tx.commit().await.expect("commit");
                    issued.push(c);
                }
            }
            issued
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("task"));
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no code issued twice");
    for agency in [&centre, &other] {
        let mut seqs: Vec<u32> = all
            .iter()
            .filter(|c| c.agency() == agency.as_str())
            .map(|c| c.as_str()[c.as_str().len() - 4..].parse().expect("seq"))
            .collect();
        seqs.sort_unstable();
        let expected: Vec<u32> = (1..=u32::try_from(seqs.len()).expect("n")).collect();
        assert_eq!(seqs, expected, "codes of {agency} are consecutive from 0001");
    }
    assert!(all.iter().all(|c| c.as_str().contains("-190612-")));
}

#[tokio::test]
async fn the_sequence_restarts_each_day_and_stops_at_9999() {
    let t = fresh_db().await;
    let province = demo::ninh_thuan().province;
    let agency = AgencyCode::parse("000.00.16.H43").expect("agency");
    let mut tx = t.db.begin_write().await.expect("begin");
    catalogue::upsert_province(&mut tx, &province, OffsetDateTime::now_utc())
        .await
        .expect("province");
    let a = one_code(&mut tx, &province.code, &agency, date!(2026 - 11 - 27))
        .await
        .expect("a");
    let b = one_code(&mut tx, &province.code, &agency, date!(2026 - 11 - 28))
        .await
        .expect("b");
    assert_eq!(a.as_str(), "000.00.16.H43-261127-0001");
    assert_eq!(b.as_str(), "000.00.16.H43-261128-0001");
    motcua_store::exec!(&mut tx, |c| sqlx::query(
        "UPDATE dossier_sequences SET last = 9999 WHERE day = '2026-11-28'"
    )
    .execute(c)
    .await)
    .expect("age");
    let full = one_code(&mut tx, &province.code, &agency, date!(2026 - 11 - 28)).await;
    assert!(matches!(full, Err(StoreError::Conflict(_))), "{full:?}");
}

#[tokio::test]
async fn codes_reserved_in_bulk_continue_the_sequence_and_respect_the_limit() {
    let t = fresh_db().await;
    let province = demo::ninh_thuan().province;
    let agency = AgencyCode::parse("000.00.16.H43").expect("agency");
    let day = date!(2026 - 11 - 27);
    let mut tx = t.db.begin_write().await.expect("begin");
    catalogue::upsert_province(&mut tx, &province, OffsetDateTime::now_utc())
        .await
        .expect("province");
    let first = one_code(&mut tx, &province.code, &agency, day).await.expect("first");
    let three = dossiers::reserve_codes(&mut tx, &province.code, &agency, day, 3)
        .await
        .expect("three");
    let next = one_code(&mut tx, &province.code, &agency, day).await.expect("next");
    let all: Vec<&str> = std::iter::once(&first)
        .chain(&three)
        .chain(std::iter::once(&next))
        .map(|c| c.as_str())
        .collect();
    assert_eq!(
        all,
        [
            "000.00.16.H43-261127-0001",
            "000.00.16.H43-261127-0002",
            "000.00.16.H43-261127-0003",
            "000.00.16.H43-261127-0004",
            "000.00.16.H43-261127-0005",
        ]
    );
    // 9,995 more would pass 9,999: refused as a whole.
    let over = dossiers::reserve_codes(&mut tx, &province.code, &agency, day, 9_995).await;
    assert!(matches!(over, Err(StoreError::Conflict(_))), "{over:?}");
}

/// A filing as the intake handler writes it inside a group commit: a code, the dossier
/// row and two history rows; fails after all that when `fail` is set.
async fn file_in_batch(
    batcher: &motcua_store::batch::Batcher,
    province: motcua_core::codes::ProvinceCode,
    agency: AgencyCode,
    fail: bool,
) -> Result<String, StoreError> {
    use motcua_core::dossier::Status;
    use motcua_core::lifecycle::Person;
    use motcua_store::batch::{BatchTx, JobFuture};
    batcher
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<String, StoreError>> {
            Box::pin(async move {
                let now = OffsetDateTime::now_utc();
                let catalogue = demo::ninh_thuan();
                let record = &catalogue.procedures[0];
                let version = record.versions.last().expect("a version");
                let code = dossiers::next_code(b, &province, &agency, date!(2019 - 06 - 12)).await?;
                let d = counter_dossier(code.clone(), province, agency.clone(), &record.code, version, now);
                let id = dossiers::insert(b, &d)?;
                let event = |action: &str, from: Option<Status>, to: Status| dossiers::EventRecord {
                    seq: 0,
                    at: now,
                    action: action.to_owned(),
                    from_status: from,
                    to_status: to,
                    actor: Person {
                        id: "officer".into(),
                        name: "Cán bộ".into(),
                    },
                    agency: agency.as_str().to_owned(),
                    to_agency: None,
                    to_user: None,
                    step_due_at: None,
                    closed_step: None,
                    note: String::new(),
                };
                let first = dossiers::append_event(b, id, &event("file", None, Status::New)).await?;
                let second =
                    dossiers::append_event(b, id, &event("accept", Some(Status::New), Status::Accepted)).await?;
                assert_eq!((first, second), (1, 2), "a filing's history starts at 1");
                // Read back inside the batch, before anything is written.
                let history = dossiers::events_in_batch(b, id).await?;
                assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
                assert_eq!(history[1].action, "accept");
                if fail {
                    return Err(StoreError::Conflict(format!("{code} fails after filing")));
                }
                Ok(code.as_str().to_owned())
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intakes_sharing_a_group_commit_get_consecutive_codes_and_whole_histories() {
    let (t, province) = with_province().await;
    let batcher = motcua_store::batch::Batcher::start(t.db.clone());
    let centre = AgencyCode::parse("000.00.16.H43").expect("agency");
    let other = AgencyCode::parse("000.00.03.H43").expect("agency");
    let mut handles = Vec::new();
    for i in 0..300 {
        let batcher = batcher.clone();
        let province = province.code.clone();
        let agency = if i % 3 == 0 { other.clone() } else { centre.clone() };
        // Every fifth intake fails after taking its number and writing its history.
        handles.push(tokio::spawn(async move {
            file_in_batch(&batcher, province, agency, i % 5 == 2).await
        }));
    }
    let mut kept = Vec::new();
    let mut failed = 0;
    for h in handles {
        match h.await.expect("task") {
            Ok(k) => kept.push(k),
            Err(_) => failed += 1,
        }
    }
    assert_eq!((kept.len(), failed), (240, 60));
    for agency in [&centre, &other] {
        let mut seqs: Vec<u32> = kept
            .iter()
            .filter(|c| c.contains(agency.as_str()))
            .map(|c| c[c.len() - 4..].parse().expect("seq"))
            .collect();
        seqs.sort_unstable();
        let expected: Vec<u32> = (1..=u32::try_from(seqs.len()).expect("n")).collect();
        assert_eq!(
            seqs, expected,
            "codes of {agency} are consecutive from 0001: failed intakes left no gap"
        );
    }
    // Each kept dossier has its two history rows in the table; nothing else was written.
    let mut tx = t.db.begin_read().await.expect("read");
    for code in &kept {
        let stored = dossiers::by_code(&mut tx, &DossierCode::parse(code).expect("code"))
            .await
            .expect("read")
            .expect("the dossier is stored");
        assert_eq!(stored.dossier.code.as_str(), code);
        let history = dossiers::events(&mut tx, stored.id).await.expect("events");
        assert_eq!(
            history.iter().map(|e| (e.seq, e.action.as_str())).collect::<Vec<_>>(),
            [(1, "file"), (2, "accept")],
            "{code}"
        );
    }
    drop(tx);
    // The stored sequences are where the batches left them: the next code outside any
    // batch follows the last one issued, for each agency.
    for agency in [&centre, &other] {
        let issued = kept.iter().filter(|c| c.contains(agency.as_str())).count();
        let mut tx = t.db.begin_write().await.expect("begin");
        let next = one_code(&mut tx, &province.code, agency, date!(2019 - 06 - 12))
            .await
            .expect("code");
        tx.commit().await.expect("commit");
        assert_eq!(
            next.as_str()[next.as_str().len() - 4..].parse::<usize>().expect("seq"),
            issued + 1,
            "{agency}"
        );
    }
}
