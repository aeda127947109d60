//! Group commit: jobs share a transaction; a failed job leaves nothing behind, including
//! the writes every job defers to the batch's end (the audit chain's head).

use motcua_store::StoreError;
use motcua_store::audit::{self, NewAuditRecord};
use motcua_store::batch::{BatchTx, Batcher, JobFuture};
use motcua_store::testing::fresh_db;
use time::OffsetDateTime;

fn record(object_id: &str) -> NewAuditRecord<'_> {
    NewAuditRecord {
        chain: "batch-test",
        actor: "tester",
        actor_name: "Người thử",
        ip: "127.0.0.1",
        action: "test.append",
        object_type: "test",
        object_id,
        province_code: None,
        before: None,
        after: None,
    }
}

/// Appends one record, then fails when `fail` is set.
async fn job(batcher: &Batcher, id: &'static str, fail: bool) -> Result<i64, StoreError> {
    batcher
        .submit(move |b: &mut BatchTx| -> JobFuture<'_, Result<i64, StoreError>> {
            Box::pin(async move {
                let entry = audit::append_in_batch(b, &record(id), OffsetDateTime::now_utc()).await?;
                if fail {
                    return Err(StoreError::Conflict(format!("job {id} fails after appending")));
                }
                Ok(entry.seq)
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_leaves_no_record_and_the_chain_stays_whole() {
    let t = fresh_db().await;
    let batcher = Batcher::start(t.db.clone());
    for round in 0..5 {
        // Submitted together, so that they usually share a batch.
        let (a, b, c, d) = tokio::join!(
            job(&batcher, "a", false),
            job(&batcher, "b", true),
            job(&batcher, "c", false),
            job(&batcher, "d", true),
        );
        assert!(b.is_err() && d.is_err(), "round {round}: failing jobs fail");
        let (a, c) = (a.expect("a"), c.expect("c"));
        assert_eq!(
            {
                let mut s = [a, c];
                s.sort_unstable();
                s
            },
            [2 * round + 1, 2 * round + 2],
            "round {round}: the kept records follow each other"
        );
    }
    let report = audit::verify(&t.db).await.expect("verify");
    assert!(report.is_ok(), "{:?}", report.first_break);
    assert_eq!(report.records, 10, "only the succeeded jobs' records");
    // A later write outside any batch continues the chain from the stored head.
    let mut tx = t.db.begin_write().await.expect("begin");
    let entry = audit::append(&mut tx, &record("e"), OffsetDateTime::now_utc())
        .await
        .expect("append");
    tx.commit().await.expect("commit");
    assert_eq!(entry.seq, 11);
    assert!(audit::verify(&t.db).await.expect("verify").is_ok());
}
