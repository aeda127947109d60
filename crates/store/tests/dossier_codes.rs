//! Dossier codes never collide, also under concurrent intake, on the selected backend.

use std::collections::HashSet;

use motcua_core::codes::AgencyCode;
use motcua_core::demo;
use motcua_store::testing::fresh_db;
use motcua_store::{StoreError, catalogue, dossiers};
use time::OffsetDateTime;
use time::macros::date;

#[tokio::test]
async fn thousands_of_concurrent_intakes_get_distinct_consecutive_codes() {
    let t = fresh_db().await;
    let province = demo::ninh_thuan().province;
    let mut tx = t.db.begin_write().await.expect("begin");
    catalogue::upsert_province(&mut tx, &province, OffsetDateTime::now_utc())
        .await
        .expect("province");
    tx.commit().await.expect("commit");

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
                let c = dossiers::next_code(&mut tx, &code, &agency, day).await.expect("code");
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
    let a = dossiers::next_code(&mut tx, &province.code, &agency, date!(2026 - 11 - 27))
        .await
        .expect("a");
    let b = dossiers::next_code(&mut tx, &province.code, &agency, date!(2026 - 11 - 28))
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
    let full = dossiers::next_code(&mut tx, &province.code, &agency, date!(2026 - 11 - 28)).await;
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
    let first = dossiers::next_code(&mut tx, &province.code, &agency, day)
        .await
        .expect("first");
    let three = dossiers::reserve_codes(&mut tx, &province.code, &agency, day, 3)
        .await
        .expect("three");
    let next = dossiers::next_code(&mut tx, &province.code, &agency, day)
        .await
        .expect("next");
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
