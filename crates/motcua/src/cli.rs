//! The subcommands. Each opens the database from the configuration, does one thing and
//! reports what it did.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use motcua_core::catalogue::CatalogueFile;
use motcua_core::codes::ProvinceCode;
use motcua_server::api::catalogue::parse_catalogue;
use motcua_server::api::forms::XLSX;
use motcua_server::audit::{self, Actor};
use motcua_server::config::DemoMap;
use motcua_server::service::catalogue::import_province_audited;
use motcua_server::{AppState, Config};
use motcua_store::{Backend, Db, catalogue};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Sets up logging: human-readable or JSON lines on stdout, filtered by `RUST_LOG` (default
/// `info`). Lines are handed to a writer thread that writes them in batches (one access log
/// line per request would otherwise cost a system call each); when its buffer is full,
/// the logging thread waits rather than drop lines. Keep the returned guard alive until
/// the process ends: dropping it writes out what is left.
pub fn init_logging(config: &Config) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("motcua-log")
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if config.log_format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
    guard
}

async fn open(config: &Config) -> Result<Db> {
    let db = Db::connect(&config.db_config()).await.context("opening the database")?;
    let applied = db.migrate().await.context("migrating the database")?;
    if applied > 0 {
        tracing::info!(applied, "database schema updated");
    }
    Ok(db)
}

/// Holds the data directory for one process at a time (SQLite only: PostgreSQL serves
/// several nodes). The lock is released when the process ends, however it ends.
fn lock_data_dir(config: &Config) -> Result<Option<File>> {
    if !config.database_url.is_empty() {
        return Ok(None);
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let path = config.data_dir.join("motcua.lock");
    let file = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(_) => bail!(
            "another motcua process is using {} (stop it first)",
            config.data_dir.display()
        ),
    }
}

/// SIGINT and SIGTERM, caught from the moment this is made: made before the server says
/// where it listens, so a supervisor (or a test) that stops it as soon as it answers is
/// never met by the default action of the signal, which would end the process without
/// finishing requests or closing the database.
struct ShutdownSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        tracing::info!("shutting down: no new connections, finishing requests in flight");
    }
}

/// `motcua serve`
pub async fn serve(mut config: Config, demo: bool) -> Result<()> {
    let _lock = lock_data_dir(&config)?;
    let signals = ShutdownSignals::install()?;
    let db = open(&config).await?;
    let start = motcua_server::first_start_with(&db, (demo && config.demo).then_some(config.demo_map))
        .await
        .context("preparing the database")?;
    report_first_start(&start, config.demo_map);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Port 0 asks for any free port: from here on the configuration says which one, so
    // that the default public address (links in receipts and emails) is this server's.
    config.listen = addr;
    let backend = match db.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    tracing::info!(backend, "listening on http://{addr}");
    let state = AppState::new(db, config).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(objects = %state.objects.describe(), "uploaded files stored");
    let maintenance = motcua_server::spawn_maintenance(state.clone());
    let anchors = motcua_server::spawn_audit_anchors(state.clone());
    let worker = motcua_server::outbox::Worker::new(state.clone())
        .context("setting up notifications and portal sync")?
        .spawn();
    let listening = motcua_server::changes::spawn(&state);
    // At shutdown the worker stops first (sends in flight finish and are recorded), then
    // the change listener gives its connection back, then the server drains its requests
    // and closes the database.
    let stopping = async move {
        signals.wait().await;
        worker.stop().await;
        if let Some(l) = listening {
            l.stop().await;
        }
    };
    motcua_server::serve(listener, state, stopping).await?;
    maintenance.abort();
    if let Some(a) = anchors {
        a.abort();
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

fn report_first_start(start: &motcua_server::FirstStart, map: DemoMap) {
    if start.demo_loaded {
        let (what, accounts): (&str, Vec<&str>) = match map {
            DemoMap::NinhThuan2019 => (
                "Ninh Thuận 2019, 1,388 procedures",
                motcua_server::bootstrap::DEMO_USERS.iter().map(|u| u.0).collect(),
            ),
            DemoMap::KhanhHoa2025 => (
                "Khánh Hòa 2025: a provincial centre and 65 commune centres",
                motcua_server::bootstrap::KHANH_HOA_USERS.iter().map(|u| u.0).collect(),
            ),
        };
        tracing::info!("demo province loaded ({what})");
        tracing::warn!(
            password = motcua_server::bootstrap::DEMO_PASSWORD,
            accounts = accounts.join(", "),
            "demo accounts created; never serve demo data in production"
        );
    }
    if let Some(password) = &start.admin_password {
        // Shown once, here: it is stored only hashed and must be changed at first login.
        tracing::warn!(
            username = "admin",
            one_time_password = %password,
            "first administrator created; change this password at first login"
        );
    }
}

/// `motcua migrate`
pub async fn migrate(config: Config) -> Result<()> {
    let db = open(&config).await?;
    db.close().await;
    println!("Cơ sở dữ liệu đã ở phiên bản mới nhất.");
    Ok(())
}

/// `motcua demo [--scenario NAME]`
pub async fn demo(config: Config, scenario: Option<&str>) -> Result<()> {
    if let Some(name) = scenario
        && name != motcua_tools::scenario::NAME
    {
        bail!(
            "không có kịch bản «{name}»; kịch bản có sẵn: {}",
            motcua_tools::scenario::NAME
        );
    }
    let _lock = if scenario.is_some() {
        lock_data_dir(&config)?
    } else {
        None
    };
    // The scenario is Ninh Thuận's; without one, the configured demo (`demo_map`).
    let map = if scenario.is_some() {
        DemoMap::NinhThuan2019
    } else {
        config.demo_map
    };
    let db = open(&config).await?;
    let start = motcua_server::first_start_with(&db, Some(map)).await?;
    report_first_start(&start, map);
    if start.demo_loaded {
        match map {
            DemoMap::NinhThuan2019 => {
                println!("Đã nạp tỉnh mẫu Ninh Thuận: 15 sở, 1.388 thủ tục (1.283 tiếp nhận tại Trung tâm).");
            }
            DemoMap::KhanhHoa2025 => println!(
                "Đã nạp tỉnh mẫu Khánh Hòa (sau sắp xếp 2025): Trung tâm của tỉnh, 13 sở, 65 xã, phường, đặc khu, mỗi nơi một Trung tâm."
            ),
        }
    } else {
        println!("Cơ sở dữ liệu đã có dữ liệu tỉnh; không nạp tỉnh mẫu.");
    }
    let result = match scenario {
        Some(_) => play_scenario(&db, config).await,
        None => Ok(()),
    };
    db.close().await;
    result
}

/// Plays `ninh-thuan-2019` and prints its progress and the director's figures.
async fn play_scenario(db: &Db, config: Config) -> Result<()> {
    use motcua_store::overview::Metric;
    use motcua_tools::scenario;
    let state = AppState::new(db.clone(), config).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "Kịch bản {}: Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận, 12/06–05/07/2019.",
        scenario::NAME
    );
    let report = scenario::run(&state, scenario::DEFAULT_SEED, |d| {
        if let Some(date) = d.date {
            println!(
                "  {:02}/{:02}/{}: tiếp nhận {} (trực tuyến {}), giải quyết xong {}, trả kết quả {}, yêu cầu bổ sung {}",
                date.day(),
                u8::from(date.month()),
                date.year(),
                d.received,
                d.online,
                d.finished,
                d.returned,
                d.supplements
            );
        }
    })
    .await?;
    let f = scenario::figures(&state).await?;
    println!(
        "Xong trong {:.0} giây: {} yêu cầu của {} người dùng.",
        report.seconds, report.requests, report.people
    );
    println!(
        "Số liệu 12/06–05/07/2019, tính đến 23:59:59 ngày 05/07/2019 (trang /lanh-dao?period=khoang&from=2019-06-12&to=2019-07-05):"
    );
    for m in Metric::ALL {
        println!("  {}: {}", m.label(), f.get(m));
    }
    println!(
        "  Tỉ lệ giải quyết đúng hạn: {}",
        motcua_server::web::director::rate(f.on_time_permille())
    );
    // The receipts and other documents are drawn in the background: finish them before
    // the database closes (anything left is drawn when first downloaded).
    let waiting = state.form_queue.waiting();
    if waiting > 0 {
        println!("Đang phát hành văn bản (phiếu tiếp nhận, phiếu kiểm soát…) của {waiting} hồ sơ…");
        if !state.form_queue.settle(std::time::Duration::from_secs(900)).await {
            println!("Chưa phát hành xong; văn bản còn lại sẽ được tạo khi tải về lần đầu.");
        }
    }
    Ok(())
}

/// `motcua generate --dossiers N [--years Y]`
pub async fn generate(config: Config, count: usize, years: u32, seed: u64, province: Option<&str>) -> Result<()> {
    let _lock = lock_data_dir(&config)?;
    let db = open(&config).await?;
    let province = match province {
        Some(p) => motcua_core::codes::ProvinceCode::parse(p).map_err(|e| anyhow::anyhow!("{e}"))?,
        None => {
            let mut tx = db.begin_read().await?;
            motcua_store::catalogue::provinces(&mut tx)
                .await?
                .into_iter()
                .next()
                .map(|p| p.code)
                .context("the database holds no province: run `motcua demo` first")?
        }
    };
    let plan = motcua_tools::generate::Plan {
        province,
        count,
        until: time::OffsetDateTime::now_utc(),
        years,
        seed,
    };
    let step = (count / 20).max(1);
    let mut next = step;
    let report = motcua_tools::generate::generate(&db, &plan, |done| {
        if done >= next || done == count {
            eprintln!("  {done}/{count} hồ sơ");
            next = done + step;
        }
    })
    .await?;
    db.close().await;
    println!(
        "Đã tạo {} hồ sơ ({} bước xử lý) trong {:.1} giây ({:.0} hồ sơ/giây).",
        report.dossiers,
        report.events,
        report.seconds,
        report.dossiers as f64 / report.seconds.max(0.001)
    );
    Ok(())
}

/// `motcua sample-codes --limit N`
pub async fn sample_codes(config: Config, limit: i64) -> Result<()> {
    let db = open(&config).await?;
    let sample = motcua_tools::generate::sample_codes(&db, limit).await?;
    db.close().await;
    for (code, secret) in sample {
        println!("{code},{secret}");
    }
    Ok(())
}

fn is_xlsx(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}

/// `motcua import FILE`
pub async fn import(config: Config, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let content_type = if is_xlsx(file) { XLSX } else { "application/json" };
    let parsed = parse_catalogue(content_type, &bytes).map_err(|e| {
        let (_, _, message, field) = e.parts();
        anyhow::anyhow!(
            "{}: {message}{}",
            file.display(),
            field.map(|f| format!(" ({f})")).unwrap_or_default()
        )
    })?;
    let db = open(&config).await?;
    let mut tx = db.begin_write().await?;
    let actor = Actor {
        id: "cli".to_owned(),
        name: "Dòng lệnh motcua import".to_owned(),
        ip: "",
    };
    for cat in &parsed.provinces {
        let r = import_province_audited(&mut tx, cat, &actor)
            .await
            .with_context(|| format!("importing province {}", cat.province.code))?;
        println!(
            "{} ({}): {} cơ quan, {} lĩnh vực, {} thủ tục mới, {} phiên bản mới, {} phiên bản không đổi",
            cat.province.name,
            cat.province.code,
            r.agencies,
            r.fields,
            r.procedures_created,
            r.versions_added,
            r.versions_unchanged
        );
    }
    tx.commit().await?;
    db.close().await;
    Ok(())
}

/// `motcua export FILE [--province P]`
pub async fn export(config: Config, file: &Path, province: Option<&str>) -> Result<()> {
    if file.exists() {
        bail!("{} already exists; choose a new file", file.display());
    }
    let db = open(&config).await?;
    let mut tx = db.begin_read().await?;
    let codes: Vec<ProvinceCode> = match province {
        Some(p) => vec![ProvinceCode::parse(p)?],
        None => catalogue::provinces(&mut tx)
            .await?
            .into_iter()
            .map(|p| p.code)
            .collect(),
    };
    let mut provinces = Vec::new();
    for code in &codes {
        provinces.push(catalogue::export_province(&mut tx, code).await?);
    }
    drop(tx);
    db.close().await;
    let out = CatalogueFile::new(provinces);
    let bytes = if is_xlsx(file) {
        motcua_docs::catalogue_xlsx::write(&out)?
    } else {
        serde_json::to_vec_pretty(&out)?
    };
    // Write beside the target and rename, so a failed export leaves no partial file.
    let tmp = file.with_extension("partial");
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))?;
    let procedures: usize = out.provinces.iter().map(|p| p.procedures.len()).sum();
    println!(
        "Đã xuất {} tỉnh, {procedures} thủ tục vào {}.",
        out.provinces.len(),
        file.display()
    );
    Ok(())
}

/// `motcua backup FILE`
pub async fn backup(config: Config, file: &Path) -> Result<()> {
    if config.database_url.is_empty() && !config.sqlite_path().exists() {
        bail!("no database at {} to back up", config.sqlite_path().display());
    }
    let db = Db::connect(&config.db_config()).await.context("opening the database")?;
    db.backup(file).await?;
    db.close().await;
    println!("Đã sao lưu vào {}.", file.display());
    Ok(())
}

/// `motcua restore FILE`
pub async fn restore(config: Config, file: &Path) -> Result<()> {
    if !file.exists() {
        bail!("{} does not exist", file.display());
    }
    if config.database_url.is_empty() {
        let _lock = lock_data_dir(&config)?;
        motcua_store::restore_sqlite(file, &config.sqlite_path()).await?;
    } else {
        motcua_store::restore_postgres(&config.database_url, file).await?;
    }
    println!("Đã khôi phục từ {}.", file.display());
    Ok(())
}

/// The backend the configuration names (SQLite unless a database URL is set).
fn backend_of(config: &Config) -> Backend {
    if config.database_url.is_empty() {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// `motcua backup --dir DIR [--keep N]`: a new backup in `dir` named by the time, written
/// under a `.partial` name and renamed once whole and on disk (so an interrupted backup is
/// never taken for the latest), then the oldest beyond the newest `keep` removed.
pub async fn backup_dated(config: Config, dir: &Path, keep: Option<u32>) -> Result<()> {
    if config.database_url.is_empty() && !config.sqlite_path().exists() {
        bail!("no database at {} to back up", config.sqlite_path().display());
    }
    let backend = backend_of(&config);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = crate::backups::name_at(backend, OffsetDateTime::now_utc())?;
    let target = dir.join(&name);
    let partial = dir.join(format!("{name}.partial"));
    if target.exists() {
        bail!("{} already exists", target.display());
    }
    let db = Db::connect(&config.db_config()).await.context("opening the database")?;
    let written = db.backup(&partial).await;
    db.close().await;
    let finished = written
        .map_err(anyhow::Error::from)
        .and_then(|()| crate::backups::sync(&partial))
        .and_then(|()| std::fs::rename(&partial, &target).with_context(|| format!("renaming to {}", target.display())))
        .and_then(|()| crate::backups::sync(&target));
    if let Err(e) = finished {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context(format!("backing up into {}", dir.display())));
    }
    println!("Đã sao lưu vào {}.", target.display());
    if let Some(keep) = keep {
        let removed = crate::backups::prune(dir, backend, keep as usize)?;
        for old in &removed {
            println!("Đã xoá bản sao lưu cũ {}.", old.display());
        }
        tracing::info!(kept = keep, removed = removed.len(), dir = %dir.display(), "old backups pruned");
    }
    Ok(())
}

/// `motcua restore --latest DIR`: restores the newest backup `motcua backup --dir` wrote there.
pub async fn restore_latest(config: Config, dir: &Path) -> Result<()> {
    let backend = backend_of(&config);
    let Some(file) = crate::backups::latest(dir, backend)? else {
        bail!(
            "no backup in {} (files named motcua-…Z.{})",
            dir.display(),
            crate::backups::extension(backend)
        );
    };
    restore(config, &file).await
}

/// `motcua audit verify`: fails (exit 1) and names the first broken record if a chain
/// does not hold, or if it lost or changed a record the anchor file wrote down.
pub async fn audit_verify(config: Config, anchors: Option<PathBuf>) -> Result<()> {
    let path = anchors.clone().unwrap_or_else(|| config.audit_anchor_path());
    let written = audit::read_anchors(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    if anchors.is_some() && written.is_none() {
        bail!("anchor file {} not found", path.display());
    }
    let db = open(&config).await?;
    let report = motcua_store::audit::verify(&db).await;
    let anchored = match &written {
        Some(a) => Some(motcua_store::audit::check_anchors(&db, a).await),
        None => None,
    };
    db.close().await;
    let report = report?;
    let anchored = anchored.transpose()?;
    if let Some(b) = &report.first_break {
        bail!(
            "audit chain broken at chain «{}», record {}: {} ({} records checked)",
            b.chain,
            b.seq,
            b.reason,
            report.records
        );
    }
    if let Some(b) = anchored.as_ref().and_then(|a| a.first_break.as_ref()) {
        bail!(
            "audit chain «{}» differs from the anchor file {} at record {}: {}",
            b.chain,
            path.display(),
            b.seq,
            b.reason
        );
    }
    println!(
        "Nhật ký toàn vẹn: {} bản ghi trong {} chuỗi, không có bản ghi nào bị sửa hoặc xóa.",
        report.records, report.chains
    );
    match anchored {
        Some(a) => println!(
            "Khớp với {} lần neo trong {} ({} bản ghi được neo).",
            a.anchors,
            path.display(),
            a.records
        ),
        None => println!(
            "Chưa có tệp neo {}: không kiểm tra được việc xoá các bản ghi mới nhất (chạy `motcua audit anchor`).",
            path.display()
        ),
    }
    Ok(())
}

/// `motcua audit anchor`: appends every chain's head to the anchor file and prints the line.
pub async fn audit_anchor(config: Config, to: Option<PathBuf>) -> Result<()> {
    let path = to.unwrap_or_else(|| config.audit_anchor_path());
    let db = open(&config).await?;
    let anchor = audit::anchor(&db, &path, OffsetDateTime::now_utc()).await;
    db.close().await;
    let anchor = anchor.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", anchor.to_line());
    eprintln!("Đã neo {} chuỗi vào {}.", anchor.heads.len(), path.display());
    Ok(())
}

/// `motcua stats verify`: recomputes the statistics of every province from its dossiers
/// and fails (exit 1), listing the first differences, if the maintained counters disagree.
pub async fn stats_verify(config: Config) -> Result<()> {
    let db = open(&config).await?;
    let mut tx = db.begin_read().await?;
    let mut wrong = 0;
    let provinces = motcua_store::stats::provinces(&mut tx).await?;
    for province in &provinces {
        let mismatches = motcua_store::stats::recount(&mut tx, province).await?;
        for m in mismatches.iter().take(20) {
            eprintln!("{m}");
        }
        wrong += mismatches.len();
    }
    drop(tx);
    db.close().await;
    if wrong > 0 {
        bail!("{wrong} statistics counters differ from a recount; `motcua stats rebuild` recomputes them");
    }
    println!(
        "Số liệu thống kê khớp với việc tính lại từ hồ sơ ({} tỉnh).",
        provinces.len()
    );
    Ok(())
}

/// `motcua stats rebuild`: recomputes the statistics of every province from its dossiers
/// (one transaction; writes wait meanwhile).
pub async fn stats_rebuild(config: Config) -> Result<()> {
    let db = open(&config).await?;
    let mut tx = db.begin_write().await?;
    let mut counters = 0;
    for province in motcua_store::stats::provinces(&mut tx).await? {
        counters += motcua_store::stats::rebuild(&mut tx, &province).await?;
    }
    tx.commit().await?;
    db.close().await;
    println!("Đã tính lại số liệu thống kê: {counters} bộ đếm.");
    Ok(())
}

/// `motcua stats time`: how long the director's figures take for the last twelve months
/// and for this calendar year, per province, from the maintained counters and by the
/// scan they replace (`runs` each; median and slowest). A measurement, not a check.
pub async fn stats_time(config: Config, runs: usize) -> Result<()> {
    use motcua_store::overview::{self, Period};
    let db = open(&config).await?;
    let vn = motcua_core::calendar::VIETNAM_OFFSET;
    let now = time::OffsetDateTime::now_utc();
    let today = now.to_offset(vn).date();
    let midnight = |d: time::Date| d.midnight().assume_offset(vn);
    let tomorrow = today.next_day().context("date out of range")?;
    let jan1 = time::Date::from_calendar_date(today.year(), time::Month::January, 1)?;
    let periods = [
        (
            "12 tháng gần nhất",
            Period {
                from: midnight(today - time::Duration::days(365)),
                to: midnight(tomorrow),
            },
        ),
        (
            "năm nay",
            Period {
                from: midnight(jan1),
                to: midnight(jan1.replace_year(today.year() + 1)?),
            },
        ),
    ];
    let mut tx = db.begin_read().await?;
    let provinces = motcua_store::stats::provinces(&mut tx).await?;
    drop(tx);
    let ms = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    for province in &provinces {
        for (label, period) in periods {
            let mut fast = Vec::new();
            let mut slow = Vec::new();
            let mut same = true;
            for _ in 0..runs.max(1) {
                let mut tx = db.begin_read().await?;
                let t = std::time::Instant::now();
                let a = overview::figures(&mut tx, province, period, now).await?;
                fast.push(t.elapsed().as_secs_f64() * 1000.0);
                let t = std::time::Instant::now();
                let b = overview::scan_figures(&mut tx, province, period, now).await?;
                slow.push(t.elapsed().as_secs_f64() * 1000.0);
                same &= a == b;
            }
            let (f50, fmax) = ms(fast);
            let (s50, smax) = ms(slow);
            println!(
                "{} {label}: bộ đếm p50 {f50:.1} ms (chậm nhất {fmax:.1}); quét hồ sơ p50 {s50:.1} ms (chậm nhất {smax:.1}); {}",
                province.as_str(),
                if same {
                    "kết quả giống nhau"
                } else {
                    "KẾT QUẢ KHÁC NHAU"
                }
            );
        }
    }
    db.close().await;
    Ok(())
}
