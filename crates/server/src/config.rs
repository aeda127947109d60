//! Configuration: defaults, then `motcua.toml`, then `MOTCUA_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything motcua can be told. The defaults make a bare `motcua serve` work with
/// SQLite under `./data` and nothing else installed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database and uploaded files.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for the embedded SQLite database.
    pub database_url: String,
    /// Most database connections (readers on SQLite).
    pub max_connections: u32,
    /// Load the demo province when the database holds no province.
    pub demo: bool,
    /// Province used when a request names none (`H43` or `000.00.00.H43`); empty means
    /// the first province in the database.
    pub default_province: String,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: String,
    /// Bearer token that allows catalogue writes through the API until staff accounts
    /// exist; empty disables API writes.
    pub admin_token: String,
    /// Longest time a request may take before it is answered 503.
    pub request_timeout_secs: u64,
    /// Largest accepted JSON body, in bytes (catalogue imports have their own limit).
    pub max_body_bytes: usize,
    /// Largest accepted catalogue import, in bytes.
    pub max_import_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            max_connections: 16,
            demo: true,
            default_province: String::new(),
            log_format: "pretty".to_owned(),
            admin_token: String::new(),
            request_timeout_secs: 30,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Loads the configuration: defaults ← `file` (if it exists) ← `MOTCUA_*` variables.
    pub fn load(file: &Path) -> Result<Self, Box<figment::Error>> {
        Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(file))
            // MOTCUA_TEST_* belong to the test harness; any other unknown MOTCUA_ variable
            // is refused, so a misspelt setting is caught rather than ignored.
            .merge(Env::prefixed("MOTCUA_").filter(|k| !k.as_str().to_ascii_lowercase().starts_with("test_")))
            .extract()
            .map_err(Box::new)
    }

    /// The SQLite database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("motcua.db")
    }

    /// Store settings derived from this configuration.
    pub fn db_config(&self) -> motcua_store::DbConfig {
        motcua_store::DbConfig {
            url: Some(self.database_url.clone()).filter(|u| !u.is_empty()),
            sqlite_path: self.sqlite_path(),
            max_connections: self.max_connections,
            busy_timeout: Duration::from_secs(10),
        }
    }
}
