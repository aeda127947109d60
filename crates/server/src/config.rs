//! Configuration: defaults, then `motcua.toml`, then `MOTCUA_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Names of the settings, as `MOTCUA_<NAME>` variables spell them (lowercased).
const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "max_connections",
    "demo",
    "default_province",
    "log_format",
    "session_idle_minutes",
    "session_max_hours",
    "login_max_failures",
    "lockout_minutes",
    "login_rate_per_minute",
    "secure_cookies",
    "public_url",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_from",
    "sms_url",
    "sms_authorization",
    "sms_body_template",
    "dev_log_codes",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "request_timeout_secs",
    "max_body_bytes",
    "max_import_bytes",
];

/// Accepts text, and also a number or boolean where text is expected: environment
/// variables like `MOTCUA_SMTP_PASSWORD=12345` arrive parsed as numbers.
fn string_like<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Int(i128),
        Float(f64),
        Bool(bool),
    }
    Ok(match Scalar::deserialize(d)? {
        Scalar::Text(s) => s,
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
    })
}

/// Everything motcua can be told. The defaults make a bare `motcua serve` work with
/// SQLite under `./data` and nothing else installed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database (and, later, uploaded files).
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for the embedded SQLite database.
    #[serde(deserialize_with = "string_like")]
    pub database_url: String,
    /// Most database connections (readers on SQLite).
    pub max_connections: u32,
    /// Load the demo province when the database holds no province.
    pub demo: bool,
    /// Province used when a request names none (`H43` or `000.00.00.H43`); empty means
    /// the first province in the database.
    #[serde(deserialize_with = "string_like")]
    pub default_province: String,
    /// `pretty` for people, `json` for log collectors.
    #[serde(deserialize_with = "string_like")]
    pub log_format: String,
    /// Minutes without a request after which a session ends.
    pub session_idle_minutes: u64,
    /// Hours after login after which a session ends, however active.
    pub session_max_hours: u64,
    /// Consecutive wrong passwords that lock an account.
    pub login_max_failures: u32,
    /// Minutes an account stays locked (an administrator can unlock sooner).
    pub lockout_minutes: u64,
    /// Login attempts allowed per client address per minute.
    pub login_rate_per_minute: u32,
    /// Mark cookies `Secure` (HTTPS only). Set it whenever motcua is served over HTTPS.
    pub secure_cookies: bool,
    /// The address people reach motcua at, for links in emails and QR codes.
    #[serde(deserialize_with = "string_like")]
    pub public_url: String,
    /// SMTP server for email (one-time codes, notifications); empty disables email.
    #[serde(deserialize_with = "string_like")]
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls`.
    #[serde(deserialize_with = "string_like")]
    pub smtp_security: String,
    /// SMTP user name (empty: no authentication).
    #[serde(deserialize_with = "string_like")]
    pub smtp_username: String,
    /// SMTP password.
    #[serde(deserialize_with = "string_like")]
    pub smtp_password: String,
    /// Sender address of outgoing email.
    #[serde(deserialize_with = "string_like")]
    pub smtp_from: String,
    /// SMS provider endpoint (HTTP POST); empty disables SMS.
    #[serde(deserialize_with = "string_like")]
    pub sms_url: String,
    /// Value of the `Authorization` header sent to the SMS provider.
    #[serde(deserialize_with = "string_like")]
    pub sms_authorization: String,
    /// JSON body template for the SMS provider; `{phone}` and `{message}` are replaced
    /// (JSON-escaped).
    #[serde(deserialize_with = "string_like")]
    pub sms_body_template: String,
    /// Development only: write one-time codes to the log instead of (as well as) sending
    /// them. Never enable in production.
    pub dev_log_codes: bool,
    /// OpenID Connect issuer of the national single sign-on; empty disables SSO.
    #[serde(deserialize_with = "string_like")]
    pub oidc_issuer: String,
    /// OIDC client id registered with the issuer.
    #[serde(deserialize_with = "string_like")]
    pub oidc_client_id: String,
    /// OIDC client secret.
    #[serde(deserialize_with = "string_like")]
    pub oidc_client_secret: String,
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
            session_idle_minutes: 30,
            session_max_hours: 12,
            login_max_failures: 5,
            lockout_minutes: 15,
            login_rate_per_minute: 20,
            secure_cookies: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_security: "none".to_owned(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: "motcua@localhost".to_owned(),
            sms_url: String::new(),
            sms_authorization: String::new(),
            sms_body_template: r#"{"to":"{phone}","text":"{message}"}"#.to_owned(),
            dev_log_codes: false,
            oidc_issuer: String::new(),
            oidc_client_id: String::new(),
            oidc_client_secret: String::new(),
            request_timeout_secs: 30,
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Loads the configuration: defaults ← the file ← `MOTCUA_*` variables, then checks it.
    /// `file` must exist when given; without it, `./motcua.toml` is read if present.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) if !f.is_file() => return Err(format!("configuration file {} not found", f.display())),
            Some(f) => figment = figment.merge(Toml::file_exact(f)),
            None if Path::new("motcua.toml").is_file() => figment = figment.merge(Toml::file_exact("motcua.toml")),
            None => {}
        }
        let config: Config = figment
            // Only the variables that name a setting: other MOTCUA_* variables (the test
            // harness's, a developer's) are reported by `unknown_env_vars`, not fatal.
            .merge(Env::prefixed("MOTCUA_").filter(|k| KEYS.contains(&k.as_str().to_ascii_lowercase().as_str())))
            .extract()
            .map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.log_format.as_str(), "pretty" | "json") {
            return Err(format!(
                "log_format must be \"pretty\" or \"json\", not \"{}\"",
                self.log_format
            ));
        }
        if !matches!(self.smtp_security.as_str(), "none" | "starttls" | "tls") {
            return Err(format!(
                "smtp_security must be none, starttls or tls, not \"{}\"",
                self.smtp_security
            ));
        }
        if self.max_connections == 0 {
            return Err("max_connections must be at least 1".to_owned());
        }
        if self.request_timeout_secs == 0 {
            return Err("request_timeout_secs must be at least 1".to_owned());
        }
        if [
            self.session_idle_minutes,
            self.session_max_hours,
            u64::from(self.login_max_failures),
            self.lockout_minutes,
            u64::from(self.login_rate_per_minute),
        ]
        .contains(&0)
        {
            return Err(
                "session_idle_minutes, session_max_hours, login_max_failures, lockout_minutes and \
                 login_rate_per_minute must be at least 1"
                    .to_owned(),
            );
        }
        if self.max_body_bytes < 1024 || self.max_import_bytes < 1024 {
            return Err("max_body_bytes and max_import_bytes must be at least 1024".to_owned());
        }
        Ok(())
    }

    /// `MOTCUA_*` variables in the environment that name no setting (likely misspelt),
    /// apart from the test harness's own `MOTCUA_TEST_*` and `MOTCUA_UPDATE_SNAPSHOTS`.
    pub fn unknown_env_vars() -> Vec<String> {
        std::env::vars_os()
            .filter_map(|(k, _)| k.into_string().ok())
            .filter(|k| {
                k.strip_prefix("MOTCUA_").is_some_and(|rest| {
                    let rest = rest.to_ascii_lowercase();
                    !KEYS.contains(&rest.as_str()) && !rest.starts_with("test_") && rest != "update_snapshots"
                })
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_accepted_as_text_and_nonsense_is_refused() {
        let c: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("default_province = 43\nlog_format = \"json\""))
            .extract()
            .expect("config");
        assert_eq!(c.default_province, "43");
        assert!(c.validate().is_ok());
        let bad = Config {
            log_format: "fancy".to_owned(),
            ..Config::default()
        };
        assert!(bad.validate().is_err());
        let typo: Result<Config, _> = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("databse_url = \"x\""))
            .extract();
        assert!(typo.is_err(), "a misspelt key in the file is refused");
    }
}
