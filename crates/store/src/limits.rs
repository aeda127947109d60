//! Per-minute counts shared by every node of a deployment, for the server's rate limits
//! (`rate_counts`, migration 0022): fixed one-minute windows, one row per scope, key and
//! window, counted by one upsert.

use crate::{Result, Tx, exec, on};

/// Length of a window, in milliseconds.
pub const WINDOW_MS: i64 = 60_000;

/// The start of the window `now_ms` falls in.
pub fn window_of(now_ms: i64) -> i64 {
    now_ms - now_ms.rem_euclid(WINDOW_MS)
}

/// Counts one use of `scope`'s budget by `key` in the window of `now_ms` and returns the
/// window's count including this one.
pub async fn count(tx: &mut Tx, scope: &str, key: &str, now_ms: i64) -> Result<i64> {
    let window = window_of(now_ms);
    let n = on!(tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO rate_counts (scope, key, window_start, count) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (scope, key, window_start) DO UPDATE SET count = rate_counts.count + 1 \
             RETURNING count",
        )
        .bind(scope)
        .bind(key)
        .bind(window)
        .fetch_one(c)
        .await
    })?;
    Ok(n)
}

/// Removes the counts of windows that ended before `now_ms - WINDOW_MS`; returns how many.
pub async fn purge(tx: &mut Tx, now_ms: i64) -> Result<u64> {
    let before = window_of(now_ms) - WINDOW_MS;
    let n = exec!(tx, |c| {
        sqlx::query("DELETE FROM rate_counts WHERE window_start < $1")
            .bind(before)
            .execute(c)
            .await
    })?;
    Ok(n)
}
