//! The subcommands. Each opens the database from the configuration, does one thing and
//! reports what it did.

use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result, bail};
use motcua_core::catalogue::CatalogueFile;
use motcua_core::codes::ProvinceCode;
use motcua_server::api::catalogue::{XLSX, parse_catalogue};
use motcua_server::audit::{self, Actor, Event};
use motcua_server::{AppState, Config};
use motcua_store::{Backend, Db, catalogue};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Sets up logging: human-readable or JSON lines, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi);
    if config.log_format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
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

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: no new connections, finishing requests in flight");
}

/// `motcua serve`
pub async fn serve(config: Config, demo: bool) -> Result<()> {
    let _lock = lock_data_dir(&config)?;
    let db = open(&config).await?;
    let start = motcua_server::first_start(&db, demo && config.demo)
        .await
        .context("preparing the database")?;
    report_first_start(&start);
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let backend = match db.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    tracing::info!(backend, "listening on http://{addr}");
    let state = AppState::new(db, config).map_err(|e| anyhow::anyhow!("{e}"))?;
    tracing::info!(objects = %state.objects.describe(), "uploaded files stored");
    let maintenance = motcua_server::spawn_maintenance(state.clone());
    let worker = motcua_server::outbox::Worker::new(state.clone())
        .context("setting up notifications and portal sync")?
        .spawn();
    // At shutdown the worker stops first (sends in flight finish and are recorded), then
    // the server drains its requests and closes the database.
    let stopping = async move {
        shutdown_signal().await;
        worker.stop().await;
    };
    motcua_server::serve(listener, state, stopping).await?;
    maintenance.abort();
    tracing::info!("stopped cleanly");
    Ok(())
}

fn report_first_start(start: &motcua_server::FirstStart) {
    if start.demo_loaded {
        tracing::info!("demo province loaded (Ninh Thuận, 1,388 procedures)");
        tracing::warn!(
            password = motcua_server::bootstrap::DEMO_PASSWORD,
            "demo accounts created (quantri, danhmuc, giamdoc, tiepnhan, cv.xaydung, ld.xaydung, cv.tuphap, congdan); \
             never serve demo data in production"
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

/// `motcua demo`
pub async fn demo(config: Config) -> Result<()> {
    let db = open(&config).await?;
    let start = motcua_server::first_start(&db, true).await?;
    report_first_start(&start);
    db.close().await;
    if start.demo_loaded {
        println!("Đã nạp tỉnh mẫu Ninh Thuận: 15 sở, 1.388 thủ tục (1.283 tiếp nhận tại Trung tâm).");
    } else {
        println!("Cơ sở dữ liệu đã có dữ liệu tỉnh; không nạp tỉnh mẫu.");
    }
    Ok(())
}

/// `motcua generate --dossiers N`
pub async fn generate(config: Config, count: usize, seed: u64, province: Option<&str>) -> Result<()> {
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
    let plan = motcua_server::generate::Plan {
        province,
        count,
        until: time::OffsetDateTime::now_utc(),
        seed,
    };
    let step = (count / 20).max(1);
    let mut next = step;
    let report = motcua_server::generate::generate(&db, &plan, |done| {
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
    let sample = motcua_server::generate::sample_codes(&db, limit).await?;
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
    for cat in &parsed.provinces {
        let r = catalogue::import_province(&mut tx, cat, OffsetDateTime::now_utc())
            .await
            .with_context(|| format!("importing province {}", cat.province.code))?;
        audit::record(
            &mut tx,
            &Actor {
                id: "cli".to_owned(),
                name: "Dòng lệnh motcua import".to_owned(),
                ip: "",
            },
            Event {
                action: "catalogue.import",
                object_type: "catalogue",
                object_id: cat.province.code.as_str(),
                province: Some(cat.province.code.as_str()),
                before: None,
                after: Some(serde_json::json!(r)),
            },
        )
        .await?;
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

/// `motcua audit verify`: fails (exit 1) and names the first broken record if the chain
/// does not hold.
pub async fn audit_verify(config: Config) -> Result<()> {
    let db = open(&config).await?;
    let report = motcua_store::audit::verify(&db).await?;
    db.close().await;
    match &report.first_break {
        None => {
            println!(
                "Nhật ký toàn vẹn: {} bản ghi trong {} chuỗi, không có bản ghi nào bị sửa hoặc xóa.",
                report.records, report.chains
            );
            Ok(())
        }
        Some(b) => bail!(
            "audit chain broken at chain «{}», record {}: {} ({} records checked)",
            b.chain,
            b.seq,
            b.reason,
            report.records
        ),
    }
}
