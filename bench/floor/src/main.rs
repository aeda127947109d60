//! Floors for `bench/run.sh`: the same machine's limits, measured in the same run.
//!
//! ```text
//! motcua-bench-floor http ADDR
//!     A minimal axum server: `GET /` answers 200 "Hello, World!". Serves until killed.
//! motcua-bench-floor sqlite DIR SECONDS [BATCH] [ROW_BYTES]
//!     Inserts rows of ROW_BYTES (default 1024) into a fresh SQLite database in DIR,
//!     BATCH rows (default 100) per transaction, WAL, synchronous=FULL, for SECONDS
//!     after a one-second warm-up. Prints one JSON line with the rate.
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("http") if args.len() == 2 => http(&args[1]),
        Some("sqlite") if (3..=5).contains(&args.len()) => sqlite(&args[1..]),
        _ => Err("usage: motcua-bench-floor http ADDR | sqlite DIR SECONDS [BATCH] [ROW_BYTES]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motcua-bench-floor: {e}");
            ExitCode::FAILURE
        }
    }
}

fn http(addr: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(async {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("listening on {addr}: {e}"))?;
        eprintln!("motcua-bench-floor: listening on http://{addr}");
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| format!("serving: {e}"))
    })
}

fn parse<T: std::str::FromStr>(value: Option<&String>, default: T, name: &str) -> Result<T, String> {
    match value {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{name}: not a number: {v}")),
    }
}

/// About `bytes` of text that does not compress to nothing (SQLite does not compress,
/// but keep the row honest anyway), shaped like a dossier's JSON.
fn payload(bytes: usize, n: u64) -> String {
    let mut s = format!(
        "{{\"procedure\":\"1.900141\",\"applicant\":{{\"kind\":\"citizen\",\"name\":\"Nguyễn Văn An\",\"id_number\":\"0581{n:08}\"}},\"notes\":\""
    );
    let mut x = n.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    while s.len() + 2 < bytes {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s.push(char::from(b'a' + ((x >> 33) % 26) as u8));
    }
    s.push_str("\"}");
    s
}

fn sqlite(args: &[String]) -> Result<(), String> {
    let dir = PathBuf::from(&args[0]);
    let seconds: f64 = parse(args.get(1), 10.0, "SECONDS")?;
    let batch: u64 = parse(args.get(2), 100, "BATCH")?;
    let row_bytes: usize = parse(args.get(3), 1024, "ROW_BYTES")?;
    if batch == 0 || row_bytes < 64 || seconds <= 0.0 {
        return Err("BATCH must be at least 1, ROW_BYTES at least 64, SECONDS above 0".to_owned());
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("floor.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let mut conn = rusqlite::Connection::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if mode != "wal" {
        return Err(format!("journal_mode is {mode}, not wal"));
    }
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(|e| e.to_string())?;
    let sync: i64 = conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if sync != 2 {
        return Err(format!("synchronous is {sync}, not 2 (FULL)"));
    }
    // A dossier-like row: a rowid, a unique code, a few scalars and ~1 KB of JSON.
    conn.execute_batch(
        "CREATE TABLE rows (
             id INTEGER PRIMARY KEY,
             code TEXT NOT NULL UNIQUE,
             province_code TEXT NOT NULL,
             status INTEGER NOT NULL,
             created_at BIGINT NOT NULL,
             content TEXT NOT NULL
         )",
    )
    .map_err(|e| e.to_string())?;

    let mut n: u64 = 0;
    let mut run = |conn: &mut rusqlite::Connection, until: Instant| -> Result<(u64, u64), String> {
        let (mut rows, mut commits) = (0u64, 0u64);
        while Instant::now() < until {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| e.to_string())?;
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO rows (code, province_code, status, created_at, content) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )
                    .map_err(|e| e.to_string())?;
                for _ in 0..batch {
                    n += 1;
                    let code = format!("000.00.16.H43-190101-{n:08}");
                    let content = payload(row_bytes - 80, n);
                    insert
                        .execute(rusqlite::params![
                            code,
                            "000.00.00.H43",
                            2,
                            1_546_300_800_000i64 + n as i64,
                            content
                        ])
                        .map_err(|e| e.to_string())?;
                }
            }
            tx.commit().map_err(|e| e.to_string())?;
            rows += batch;
            commits += 1;
        }
        Ok((rows, commits))
    };
    run(&mut conn, Instant::now() + Duration::from_secs(1))?;
    let start = Instant::now();
    let (rows, commits) = run(&mut conn, start + Duration::from_secs_f64(seconds))?;
    let elapsed = start.elapsed().as_secs_f64();
    let row_len: f64 = conn
        .query_row(
            "SELECT AVG(LENGTH(CAST(code AS BLOB)) + LENGTH(CAST(content AS BLOB)) + 40) FROM rows",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    println!(
        "{{\"rows\":{rows},\"commits\":{commits},\"seconds\":{elapsed:.3},\"rows_per_sec\":{:.1},\"commits_per_sec\":{:.1},\"batch\":{batch},\"avg_row_bytes\":{row_len:.0},\"sqlite_version\":\"{}\"}}",
        rows as f64 / elapsed,
        commits as f64 / elapsed,
        rusqlite::version()
    );
    Ok(())
}
