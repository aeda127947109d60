//! W6: the counter queue under load (issue 21). Usage:
//!
//! ```text
//! motcua-bench-queue BASE_URL OUT.json
//! ```
//!
//! with `BENCH_W6_*` settings in the environment (see `Settings`). It signs in as the demo's
//! administrator and counter officer, opens the centre all day and makes today a working
//! day, makes counters up to `counters` (each serving every group), issues a kiosk and a
//! board token, takes `phones` tickets and opens their phone pages' event streams plus
//! `boards` board streams, then for `duration` seconds (after `warmup`) takes and calls
//! tickets at `rate` requests a second in all (half takes, half calls on a counter picked in
//! turn), open loop: a request is sent on its tick whether or not earlier ones answered.
//!
//! It reports the calls' latency (request sent → answer read) and, for every call, the time
//! from sending it to each stream's first event that shows it: on the boards, the call in
//! the board's list of current calls; on a phone page, its own ticket called. Percentiles
//! are exact (every sample kept and sorted).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

/// What the run does, from `BENCH_W6_*` variables.
struct Settings {
    counters: usize,
    boards: usize,
    phones: usize,
    rate: u64,
    duration: u64,
    warmup: u64,
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(format!("BENCH_W6_{name}"))
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Self {
        Settings {
            counters: setting("COUNTERS", 50) as usize,
            boards: setting("BOARDS", 10) as usize,
            phones: setting("PHONES", 990) as usize,
            rate: setting("RATE", 200),
            duration: setting("DURATION", 10),
            warmup: setting("WARMUP", 3),
        }
    }
}

/// A signed-in session: its cookie and CSRF token.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

type Fail = Box<dyn std::error::Error + Send + Sync>;

async fn login(http: &reqwest::Client, base: &str, username: &str) -> Result<Session, Fail> {
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": "motcua-demo-2019"}))
        .send()
        .await?;
    let cookie = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("motcua_session="))
        .and_then(|v| v.split(';').next())
        .ok_or("no session cookie")?
        .to_owned();
    let body: Value = res.error_for_status()?.json().await?;
    let csrf = body["csrf_token"].as_str().ok_or("no csrf token")?.to_owned();
    Ok(Session { cookie, csrf })
}

/// A JSON call with `s`'s session; the answer (null when empty), or an error with its body.
async fn call(
    http: &reqwest::Client,
    s: &Session,
    method: reqwest::Method,
    url: String,
    body: Value,
) -> Result<Value, Fail> {
    let res = http
        .request(method, &url)
        .header("cookie", &s.cookie)
        .header("x-csrf-token", &s.csrf)
        .json(&body)
        .send()
        .await?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {text}").into());
    }
    Ok(if text.is_empty() { Value::Null } else { serde_json::from_str(&text)? })
}

/// Today in Vietnam, `YYYY-MM-DD`.
fn vietnam_today() -> String {
    let now = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(7, 0, 0).expect("offset"));
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

/// One event of a stream: its name and data.
struct Seen {
    at: Instant,
    numbers: Vec<String>,
}

/// Follows the event stream at `url` (with `cookie`) until `stop`, keeping for each event
/// the ticket numbers `pick` finds in it.
async fn follow(
    http: reqwest::Client,
    url: String,
    cookie: Option<String>,
    pick: fn(&Value) -> Vec<String>,
    stop: Instant,
) -> Result<Vec<Seen>, Fail> {
    let mut req = http.get(&url).header("accept", "text/event-stream");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await?.error_for_status()?;
    let mut body = res.bytes_stream();
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    loop {
        let left = stop.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let chunk = match tokio::time::timeout(left, body.next()).await {
            Ok(Some(chunk)) => chunk?,
            Ok(None) => return Err(format!("{url}: stream ended").into()),
            Err(_) => break,
        };
        let at = Instant::now();
        buf.extend_from_slice(&chunk);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let event: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&event);
            let data: String = text
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if let Ok(v) = serde_json::from_str::<Value>(&data) {
                seen.push(Seen { at, numbers: pick(&v) });
            }
        }
    }
    Ok(seen)
}

/// The numbers a board shows as being called now.
fn board_calls(v: &Value) -> Vec<String> {
    v["current"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["number"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// A phone page's own number, when its ticket has been called.
fn ticket_called(v: &Value) -> Vec<String> {
    match (v["state"].as_str(), v["number"].as_str()) {
        (Some("waiting"), _) | (None, _) | (_, None) => Vec::new(),
        (_, Some(n)) => vec![n.to_owned()],
    }
}

/// The `p`-th percentile of sorted `v` (nearest rank), in milliseconds.
fn percentile(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> Result<(), Fail> {
    let mut args = std::env::args().skip(1);
    let (Some(base), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: motcua-bench-queue BASE_URL OUT.json".into());
    };
    let s = Settings::from_env();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()?;

    // The centre: open all day today, `counters` counters serving every group.
    let admin = login(&http, &base, "quantri").await?;
    let officer = login(&http, &base, "tiepnhan").await?;
    let put = reqwest::Method::PUT;
    let post = reqwest::Method::POST;
    call(&http, &admin, put.clone(), format!("{base}/api/v1/calendar/week"),
        json!({"sessions": [{"start": "00:00", "end": "24:00"}], "weekdays": [1, 2, 3, 4, 5, 6, 7]})).await?;
    call(&http, &admin, put.clone(), format!("{base}/api/v1/calendar/days/{}", vietnam_today()),
        json!({"kind": "working_day", "reason": "Đo tải hàng đợi (W6)"})).await?;
    let setup = call(&http, &admin, reqwest::Method::GET, format!("{base}/api/v1/queue/setup"), Value::Null).await?;
    let groups: Vec<i64> = setup["groups"].as_array().ok_or("no groups")?.iter().filter_map(|g| g["id"].as_i64()).collect();
    let mut counters: Vec<i64> = Vec::new();
    for c in setup["counters"].as_array().ok_or("no counters")? {
        let (id, number) = (c["id"].as_i64().ok_or("counter id")?, c["number"].as_i64().ok_or("number")?);
        call(&http, &admin, put.clone(), format!("{base}/api/v1/queue/counters/{id}"),
            json!({"number": number, "name": format!("Quầy {number}"), "groups": groups, "active": true})).await?;
        counters.push(id);
    }
    let mut number = setup["counters"].as_array().map_or(0, Vec::len) as i64;
    while counters.len() < s.counters {
        number += 1;
        let c = call(&http, &admin, post.clone(), format!("{base}/api/v1/queue/counters"),
            json!({"number": number, "name": format!("Quầy {number}"), "groups": groups, "active": true})).await?;
        counters.push(c["id"].as_i64().ok_or("counter id")?);
    }
    counters.truncate(s.counters);
    let kiosk = call(&http, &admin, post.clone(), format!("{base}/api/v1/queue/kiosks"), json!({"name": "W6 kiosk"})).await?;
    let kiosk = kiosk["token"].as_str().ok_or("kiosk token")?.to_owned();
    let board = call(&http, &admin, post.clone(), format!("{base}/api/v1/queue/kiosks"), json!({"name": "W6 board"})).await?;
    let board = board["token"].as_str().ok_or("board token")?.to_owned();

    let take = {
        let (http, base, kiosk) = (http.clone(), base.clone(), kiosk.clone());
        move |group: i64| {
            let (http, base, kiosk) = (http.clone(), base.clone(), kiosk.clone());
            async move {
                let res = http
                    .post(format!("{base}/api/v1/kiosk/tickets"))
                    .header("x-kiosk-token", kiosk)
                    .json(&json!({"group": group}))
                    .send()
                    .await?;
                let status = res.status();
                let v: Value = res.json().await?;
                if !status.is_success() {
                    return Err::<Value, Fail>(format!("take: {status} {v}").into());
                }
                Ok(v)
            }
        }
    };

    // The phones: tickets taken before the run, each page followed.
    eprintln!("w6: taking {} tickets for the phone streams", s.phones);
    let mut pages = Vec::new();
    for i in 0..s.phones {
        let t = take(groups[i % groups.len()]).await?;
        pages.push(t["page"].as_str().ok_or("ticket page")?.to_owned());
    }
    let stop = Instant::now() + Duration::from_secs(s.warmup + s.duration + 5);
    let mut streams = Vec::new();
    for _ in 0..s.boards {
        streams.push(tokio::spawn(follow(
            http.clone(),
            format!("{base}/bang-hien-thi/su-kien"),
            Some(format!("motcua_board={board}")),
            board_calls,
            stop,
        )));
    }
    for page in &pages {
        streams.push(tokio::spawn(follow(http.clone(), format!("{base}{page}/su-kien"), None, ticket_called, stop)));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("w6: {} streams open; {} s warm-up, then {} s at {}/s", streams.len(), s.warmup, s.duration, s.rate);

    // The load: open loop, half takes and half calls.
    let sent: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let call_ms: Arc<Mutex<Vec<f64>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let empty_calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let period = Duration::from_secs_f64(1.0 / s.rate as f64);
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(s.warmup);
    let end = measure_from + Duration::from_secs(s.duration);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    let mut n: u64 = 0;
    while Instant::now() < end {
        tick.tick().await;
        n += 1;
        if n % 2 == 0 {
            let take = take.clone();
            let group = groups[(n as usize / 2) % groups.len()];
            let errors = errors.clone();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = take(group).await {
                    errors.lock().expect("errors").push(e.to_string());
                }
            }));
        } else {
            let counter = counters[(n as usize / 2) % counters.len()];
            let (http, officer, base) = (http.clone(), officer.clone(), base.clone());
            let (sent, call_ms, errors, empty) = (sent.clone(), call_ms.clone(), errors.clone(), empty_calls.clone());
            tasks.push(tokio::spawn(async move {
                let t0 = Instant::now();
                let url = format!("{base}/api/v1/queue/counters/{counter}/call");
                match call(&http, &officer, reqwest::Method::POST, url, json!({})).await {
                    Ok(v) => {
                        let took = t0.elapsed();
                        match v["number"].as_str() {
                            Some(number) => {
                                sent.lock().expect("sent").insert(number.to_owned(), t0);
                            }
                            None => {
                                empty.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                        if t0 >= measure_from {
                            call_ms.lock().expect("calls").push(ms(took));
                        }
                    }
                    Err(e) => errors.lock().expect("errors").push(e.to_string()),
                }
            }));
        }
    }
    let sent_requests = n;
    for t in tasks {
        t.await?;
    }
    let elapsed = start.elapsed();

    // Every stream's first sight of each call sent in the measured window.
    let sent = sent.lock().expect("sent").clone();
    let mut event_ms = Vec::new();
    let mut board_ms = Vec::new();
    let mut missed = 0u64;
    let mut stream_errors = 0u64;
    let boards = s.boards;
    for (i, st) in streams.into_iter().enumerate() {
        let seen = match st.await? {
            Ok(seen) => seen,
            Err(e) => {
                stream_errors += 1;
                eprintln!("w6: stream failed: {e}");
                continue;
            }
        };
        let mut first: HashMap<&str, Instant> = HashMap::new();
        for e in &seen {
            for number in &e.numbers {
                first.entry(number.as_str()).or_insert(e.at);
            }
        }
        if i < boards {
            for (number, t0) in &sent {
                if *t0 < measure_from {
                    continue;
                }
                match first.get(number.as_str()) {
                    Some(at) => {
                        let d = ms(at.saturating_duration_since(*t0));
                        event_ms.push(d);
                        board_ms.push(d);
                    }
                    // A board shows one call per counter: a call replaced before the
                    // board was drawn again was never on it.
                    None => missed += 1,
                }
            }
        } else {
            for (number, at) in &first {
                if let Some(t0) = sent.get(*number)
                    && *t0 >= measure_from
                {
                    event_ms.push(ms(at.saturating_duration_since(*t0)));
                }
            }
        }
    }
    let mut calls = call_ms.lock().expect("calls").clone();
    calls.sort_by(f64::total_cmp);
    event_ms.sort_by(f64::total_cmp);
    board_ms.sort_by(f64::total_cmp);
    let errors = errors.lock().expect("errors").clone();
    for e in errors.iter().take(5) {
        eprintln!("w6: error: {e}");
    }
    let report = json!({
        "counters": counters.len(),
        "streams": s.boards + s.phones,
        "boards": s.boards,
        "phones": s.phones,
        "rate": s.rate,
        "requests_sent": sent_requests,
        "seconds": elapsed.as_secs_f64(),
        "errors": errors.len(),
        "stream_errors": stream_errors,
        "empty_calls": empty_calls.load(std::sync::atomic::Ordering::Relaxed),
        "calls_measured": calls.len(),
        "call_p50_ms": percentile(&calls, 50.0),
        "call_p99_ms": percentile(&calls, 99.0),
        "events_measured": event_ms.len(),
        "event_p50_ms": percentile(&event_ms, 50.0),
        "event_p99_ms": percentile(&event_ms, 99.0),
        "board_event_p99_ms": percentile(&board_ms, 99.0),
        "board_calls_not_shown": missed,
    });
    std::fs::write(&out, serde_json::to_string(&report)?)?;
    println!("{report}");
    Ok(())
}
