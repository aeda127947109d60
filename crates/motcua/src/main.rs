//! The `motcua` binary: reads the configuration and calls the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

mod backups;
mod cli;

/// jemalloc instead of glibc's allocator: see bench/RESULTS.md (allocation was a fifth of
/// the cached tracking path's time, and glibc's per-thread arenas keep freed memory).
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// motcua — phần mềm Bộ phận Một cửa (one-stop public administrative service centre).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Configuration file (default: ./motcua.toml if present; `MOTCUA_*` variables override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web interface and the API (creates and migrates the database on first start).
    Serve {
        /// Do not load the demo province into an empty database.
        #[arg(long)]
        no_demo: bool,
    },
    /// Create or update the database schema, then exit.
    Migrate,
    /// Load the demo province (Ninh Thuận) if the database holds no province.
    Demo {
        /// Then play a reference scenario on it: `ninh-thuan-2019` (the centre's first
        /// month, 12/06–05/07/2019, through the application's own requests).
        #[arg(long)]
        scenario: Option<String>,
    },
    /// Import a catalogue file (.json or .xlsx); all of it or nothing.
    Import {
        /// The file to import.
        file: PathBuf,
    },
    /// Export a province's catalogue with every procedure version (.json or .xlsx by extension).
    Export {
        /// Where to write; the format follows the extension.
        file: PathBuf,
        /// Province (`H43` or `000.00.00.H43`); every province when omitted.
        #[arg(long)]
        province: Option<String>,
    },
    /// Write a consistent copy of the database while it may be serving.
    Backup {
        /// Target file (must not exist); or `--dir`.
        #[arg(required_unless_present = "dir", conflicts_with = "dir")]
        file: Option<PathBuf>,
        /// Write it into this directory instead, named by the time it is taken (UTC):
        /// `motcua-20260115T020000.000Z.db` (SQLite) or `.dump` (PostgreSQL).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// With `--dir`: then keep only the newest N backups there, removing older ones.
        #[arg(long, value_name = "N", requires = "dir", value_parser = clap::value_parser!(u32).range(1..))]
        keep: Option<u32>,
    },
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Generate a year of dossiers through the real lifecycle (benchmarks, demonstrations).
    Generate {
        /// How many dossiers.
        #[arg(long, default_value_t = 10_000)]
        dossiers: usize,
        /// Over how many years before now (365 days each) they are spread.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
        years: u32,
        /// Seed of the random choices.
        #[arg(long, default_value_t = 2019)]
        seed: u64,
        /// Province (`H43` or `000.00.00.H43`); the default province when omitted.
        #[arg(long)]
        province: Option<String>,
    },
    /// Print `code,secret` of some dossiers, spread over the table (for tracking load tests).
    SampleCodes {
        /// How many.
        #[arg(long, default_value_t = 1_000)]
        limit: i64,
    },
    /// Statistics: check or recompute the maintained counters.
    Stats {
        #[command(subcommand)]
        command: StatsCommand,
    },
    /// Replace the database with a backup (the server must be stopped).
    Restore {
        /// Backup file made by `motcua backup`; or `--latest`.
        #[arg(required_unless_present = "latest", conflicts_with = "latest")]
        file: Option<PathBuf>,
        /// Restore the newest backup that `motcua backup --dir` wrote in this directory.
        #[arg(long, value_name = "DIR")]
        latest: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum StatsCommand {
    /// Recompute every counter from the dossiers; exit 1 if any stored one differs.
    Verify,
    /// Recompute every counter from the dossiers and store them.
    Rebuild,
    /// Time the director's yearly figures: maintained counters against the scan.
    Time {
        /// Runs of each.
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain of every audit record and compare the chains with the
    /// anchor file; name the first broken record.
    Verify {
        /// Anchor file to compare with (default: the configured `audit_anchor_file`).
        #[arg(long)]
        anchors: Option<PathBuf>,
    },
    /// Write every chain's head at the end of the anchor file now, and print it.
    Anchor {
        /// Anchor file to append to (default: the configured `audit_anchor_file`).
        #[arg(long)]
        to: Option<PathBuf>,
    },
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let config = match motcua_server::Config::load(args.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("motcua: configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _log_guard = cli::init_logging(&config);
    for name in motcua_server::Config::unknown_env_vars() {
        tracing::warn!(variable = %name, "ignoring an environment variable that names no setting (misspelt?)");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("motcua: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match args.command {
            Command::Serve { no_demo } => cli::serve(config, !no_demo).await,
            Command::Migrate => cli::migrate(config).await,
            Command::Demo { scenario } => cli::demo(config, scenario.as_deref()).await,
            Command::Import { file } => cli::import(config, &file).await,
            Command::Export { file, province } => cli::export(config, &file, province.as_deref()).await,
            Command::Backup { file, dir, keep } => match (file, dir) {
                (Some(file), _) => cli::backup(config, &file).await,
                (None, Some(dir)) => cli::backup_dated(config, &dir, keep).await,
                (None, None) => Err(anyhow::anyhow!("name a backup FILE or a --dir")),
            },
            Command::Restore { file, latest } => match (file, latest) {
                (Some(file), _) => cli::restore(config, &file).await,
                (None, Some(dir)) => cli::restore_latest(config, &dir).await,
                (None, None) => Err(anyhow::anyhow!("name a backup FILE or --latest DIR")),
            },
            Command::Generate {
                dossiers,
                years,
                seed,
                province,
            } => cli::generate(config, dossiers, years, seed, province.as_deref()).await,
            Command::SampleCodes { limit } => cli::sample_codes(config, limit).await,
            Command::Audit {
                command: AuditCommand::Verify { anchors },
            } => cli::audit_verify(config, anchors).await,
            Command::Audit {
                command: AuditCommand::Anchor { to },
            } => cli::audit_anchor(config, to).await,
            Command::Stats {
                command: StatsCommand::Verify,
            } => cli::stats_verify(config).await,
            Command::Stats {
                command: StatsCommand::Rebuild,
            } => cli::stats_rebuild(config).await,
            Command::Stats {
                command: StatsCommand::Time { runs },
            } => cli::stats_time(config, runs).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("motcua: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
