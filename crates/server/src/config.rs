//! Configuration: defaults, then `motcua.toml`, then `MOTCUA_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The demo data a first start may load.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DemoMap {
    /// Ninh Thuận as organised in 2019: one provincial centre, 15 departments, 1,388
    /// procedures.
    #[default]
    #[serde(rename = "ninh-thuan-2019")]
    NinhThuan2019,
    /// The merged Khánh Hòa of 1 July 2025: a provincial centre, 13 departments, 65
    /// communes each with its centre.
    #[serde(rename = "khanh-hoa-2025")]
    KhanhHoa2025,
}

/// Names of the settings, as `MOTCUA_<NAME>` variables spell them (lowercased).
const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "max_connections",
    "demo",
    "demo_map",
    "default_province",
    "log_format",
    "session_idle_minutes",
    "session_max_hours",
    "login_max_failures",
    "lockout_minutes",
    "login_rate_per_minute",
    "secure_cookies",
    "trusted_proxies",
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
    "object_store",
    "objects_dir",
    "s3_endpoint",
    "s3_bucket",
    "s3_region",
    "s3_access_key",
    "s3_secret_key",
    "s3_path_style",
    "max_upload_bytes",
    "max_dossier_upload_bytes",
    "upload_ttl_hours",
    "max_upload_bytes_in_flight",
    "upload_wait_ms",
    "max_staged_upload_bytes_per_account",
    "max_staged_uploads_per_account",
    "delay_min_notice_working_days",
    "delay_max_extensions",
    "supplement_wait_working_days",
    "tracking_rate_per_minute",
    "tracking_cache_mb",
    "tracking_cache_ttl_ms",
    "outbox_max_attempts",
    "outbox_backoff_seconds",
    "outbox_backoff_max_seconds",
    "outbox_lease_seconds",
    "outbox_poll_millis",
    "notify_citizens",
    "portal_url",
    "portal_token",
    "portal_username",
    "portal_password",
    "forms_dir",
    "vnpay_tmn_code",
    "vnpay_hash_secret",
    "vnpay_url",
    "vnpay_return_url",
    "vnpay_ipn_url",
    "vnpay_api_url",
    "payment_order_ttl_minutes",
    "sandbox_gateway",
    "bank_accounts",
    "metrics_token",
    "audit_anchor_file",
    "audit_anchor_minutes",
    "signing_keys",
    "trust_anchors_dir",
    "tsa_url",
    "tsa_username",
    "tsa_password",
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
    /// Directory for the SQLite database (and, by default, uploaded files).
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; empty for the embedded SQLite database.
    #[serde(deserialize_with = "string_like")]
    pub database_url: String,
    /// Most database connections (readers on SQLite).
    pub max_connections: u32,
    /// Load the demo province when the database holds no province.
    pub demo: bool,
    /// Which demo `demo` loads: `ninh-thuan-2019` (the reference centre, one province-wide
    /// centre) or `khanh-hoa-2025` (the merged province of the 2025 map, with a centre in
    /// every commune; docs/map-2025.md).
    pub demo_map: DemoMap,
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
    /// Mark cookies `Secure` (HTTPS only). When it is not set, [`Config::load`] turns it on
    /// for an `https://` `public_url`; set to false with one, the configuration is refused.
    pub secure_cookies: bool,
    /// The reverse proxies in front of motcua whose `X-Forwarded-For` is believed: addresses
    /// or networks (`10.0.0.5`, `10.0.0.0/8`, `::1`), separated by commas or spaces. The
    /// client address (for rate limits and the audit trail) is the last address of that
    /// header that is not one of them, read only when the connection comes from one of them.
    /// Empty (the default): the header is ignored and the connection's address is the
    /// client's.
    #[serde(deserialize_with = "string_like")]
    pub trusted_proxies: String,
    /// The address people reach motcua at, for links in emails and QR codes. Empty: the
    /// listening address ([`Config::public_base`]), which is allowed only when `listen` is
    /// a loopback address.
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
    /// Where uploaded files are kept: `local` (a directory, `objects_dir`) or `s3` (an
    /// S3-compatible bucket, the `s3_*` settings).
    #[serde(deserialize_with = "string_like")]
    pub object_store: String,
    /// Directory of uploaded files with `object_store = "local"`; empty means
    /// `<data_dir>/objects` (see [`Config::objects_root`]).
    pub objects_dir: PathBuf,
    /// S3 endpoint, `https://host[:port]` (no path), with `object_store = "s3"`.
    #[serde(deserialize_with = "string_like")]
    pub s3_endpoint: String,
    /// S3 bucket name.
    #[serde(deserialize_with = "string_like")]
    pub s3_bucket: String,
    /// S3 signing region.
    #[serde(deserialize_with = "string_like")]
    pub s3_region: String,
    /// S3 access key id.
    #[serde(deserialize_with = "string_like")]
    pub s3_access_key: String,
    /// S3 secret access key.
    #[serde(deserialize_with = "string_like")]
    pub s3_secret_key: String,
    /// Address the bucket path-style (`endpoint/bucket/key`, MinIO, Ceph) rather than
    /// virtual-hosted (`bucket.endpoint/key`).
    pub s3_path_style: bool,
    /// Largest accepted uploaded file, in bytes.
    pub max_upload_bytes: usize,
    /// Largest total of the files of one dossier, in bytes (at least `max_upload_bytes`).
    pub max_dossier_upload_bytes: usize,
    /// Hours an uploaded file that no dossier refers to is kept before it is removed.
    pub upload_ttl_hours: u64,
    /// Bytes of upload bodies the whole server takes in at once (at least
    /// `max_upload_bytes`): each upload reserves its declared `Content-Length` (or
    /// `max_upload_bytes` when it declares none) before its body is read, so memory and
    /// temporary disk stay bounded however many arrive together.
    pub max_upload_bytes_in_flight: usize,
    /// Milliseconds an upload waits for room under `max_upload_bytes_in_flight` before it
    /// is answered 503 with `Retry-After`.
    pub upload_wait_ms: u64,
    /// Bytes of uploads one account may keep unattached (pending or staged) at once;
    /// past it, an upload is refused until some are attached to a dossier or expire.
    pub max_staged_upload_bytes_per_account: u64,
    /// Files one account may keep unattached at once.
    pub max_staged_uploads_per_account: u32,
    /// Working days before the deadline by which a delay must be announced to the citizen.
    pub delay_min_notice_working_days: u32,
    /// How many times one dossier's deadline may be extended.
    pub delay_max_extensions: u32,
    /// Working days an applicant is given to answer a completion, supplement or payment
    /// request; past them, an unanswered dossier may be stopped (refused before
    /// acceptance) and the work lists show it. 0 for no limit.
    pub supplement_wait_working_days: u32,
    /// Failed public tracking lookups (a wrong code or secret) allowed per client address
    /// per minute, and as many per dossier code; then 429. A correct code and secret are
    /// never refused.
    pub tracking_rate_per_minute: u32,
    /// Memory for cached public tracking answers, in MiB (0 turns the cache off).
    pub tracking_cache_mb: usize,
    /// With PostgreSQL, the longest a cached tracking answer is served, in milliseconds: a
    /// bound in case a change notification from another node goes astray (changes are
    /// told to every node as they commit, see `crate::changes`). With SQLite this process
    /// is the only writer and answers do not expire.
    pub tracking_cache_ttl_ms: u64,
    /// Attempts at one delivery (notification, portal sync, webhook) before it is
    /// dead-lettered and waits for an operator.
    pub outbox_max_attempts: u32,
    /// Wait before the second attempt, in seconds; each further attempt waits twice as long.
    pub outbox_backoff_seconds: u64,
    /// Longest wait between two attempts, in seconds.
    pub outbox_backoff_max_seconds: u64,
    /// Seconds a worker holds a delivery it is sending; a worker that dies mid-send loses
    /// it after this, and another takes it over. One attempt is cut off at half of it.
    pub outbox_lease_seconds: u64,
    /// How often the delivery worker looks for new events, in milliseconds.
    pub outbox_poll_millis: u64,
    /// Notify applicants of their dossier's progress by email and SMS (each channel only
    /// when it is configured and the applicant gave an address or number).
    pub notify_citizens: bool,
    /// National Public Service Portal endpoint that receives every dossier change (HTTP
    /// POST of JSON); empty disables the sync.
    #[serde(deserialize_with = "string_like")]
    pub portal_url: String,
    /// Bearer token for the portal (`Authorization: Bearer …`); or use username/password.
    #[serde(deserialize_with = "string_like")]
    pub portal_token: String,
    /// User name for HTTP basic authentication at the portal.
    #[serde(deserialize_with = "string_like")]
    pub portal_username: String,
    /// Password for HTTP basic authentication at the portal.
    #[serde(deserialize_with = "string_like")]
    pub portal_password: String,
    /// A directory of typst templates that replace the built-in forms of the same file
    /// name (`receipt.typ`, `common.typ`, …), so a province can adjust its forms without
    /// recompiling; empty uses the built-in templates.
    pub forms_dir: PathBuf,
    /// VNPay terminal code (`vnp_TmnCode`) of the merchant account; with the sandbox
    /// gateway, empty means `MOTCUA01`.
    #[serde(deserialize_with = "string_like")]
    pub vnpay_tmn_code: String,
    /// VNPay hash secret (never logged); with the sandbox gateway, empty means a random
    /// secret for this process.
    #[serde(deserialize_with = "string_like")]
    pub vnpay_hash_secret: String,
    /// VNPay payment page (`https://…/paymentv2/vpcpay.html`); empty uses the built-in
    /// sandbox gateway when it is on, and turns online payment off otherwise.
    #[serde(deserialize_with = "string_like")]
    pub vnpay_url: String,
    /// Where the gateway sends the applicant's browser back (`vnp_ReturnUrl`); empty means
    /// `<public_url>/api/v1/payments/vnpay/return`.
    #[serde(deserialize_with = "string_like")]
    pub vnpay_return_url: String,
    /// The IPN address registered with VNPay (informational for VNPay, which keeps it in
    /// the merchant's settings; the sandbox gateway calls it); empty means this server's
    /// `/api/v1/payments/vnpay/ipn`.
    #[serde(deserialize_with = "string_like")]
    pub vnpay_ipn_url: String,
    /// VNPay's merchant API (`https://…/merchant_webapi/api/transaction`), where payments
    /// are re-queried (`querydr`); empty means the one beside `vnpay_url`, or the sandbox
    /// gateway's on this server.
    #[serde(deserialize_with = "string_like")]
    pub vnpay_api_url: String,
    /// Minutes a payment order stays open (`vnp_ExpireDate`).
    pub payment_order_ttl_minutes: u64,
    /// The built-in sandbox gateway (`/sandbox/vnpay/…`), which signs as VNPay with the
    /// configured secret: on by default only with the demo and no real `vnpay_url`.
    #[serde(default)]
    pub sandbox_gateway: Option<bool>,
    /// The collecting agencies' bank accounts, for fees paid by bank transfer (VietQR):
    /// one `[[bank_accounts]]` table each. Empty: with the demo, a demo account collects
    /// for every agency ([`Config::bank_account`]); otherwise transfers are not offered.
    #[serde(default)]
    pub bank_accounts: Vec<BankAccount>,
    /// The bearer token `/metrics` asks for (`Authorization: Bearer …`, at least 16
    /// characters). Empty: `/metrics` answers only requests from a loopback address that
    /// came through no proxy.
    #[serde(default, deserialize_with = "string_like")]
    pub metrics_token: String,
    /// Where the audit chains' heads are written down outside the database (one line of
    /// JSON per anchor, appended), so that `motcua audit verify` detects deleted newest
    /// records and deleted chains; empty means `<data_dir>/audit-anchors.jsonl`. Put it on
    /// another disk or a mounted remote directory the database's users cannot write.
    #[serde(default)]
    pub audit_anchor_file: PathBuf,
    /// Minutes between two anchors written by the server (at start, then at this interval
    /// when anything was appended); 0 writes none (`motcua audit anchor` still does).
    #[serde(default = "default_anchor_minutes")]
    pub audit_anchor_minutes: u64,
    /// The agencies' signing keys in PKCS#11 tokens (issue 22): one `[[signing_keys]]`
    /// table each. Forms an agency issues are signed with its key (or the `*` key); with
    /// none, forms are issued unsigned.
    #[serde(default)]
    pub signing_keys: Vec<SigningKey>,
    /// A directory of root certificates (`.pem`, `.crt`, `.cer`, `.der`) that signatures on
    /// PDFs are checked against; empty means `<data_dir>/trust-anchors`. Missing or empty:
    /// every signature is of an unknown issuer.
    #[serde(default)]
    pub trust_anchors_dir: PathBuf,
    /// An RFC 3161 time-stamp authority (`http://…` or `https://…`): when set, every
    /// signature gets a signature time-stamp (PAdES B-T); a document whose time-stamp cannot
    /// be had is not issued until it can. Empty: signatures are PAdES B-B.
    #[serde(default)]
    pub tsa_url: String,
    /// The time-stamp authority's user (HTTP basic authentication), when it wants one.
    #[serde(default, deserialize_with = "string_like")]
    pub tsa_username: String,
    /// Its password.
    #[serde(default, deserialize_with = "string_like")]
    pub tsa_password: String,
}

/// An agency's signing key in a PKCS#11 token (issue 22). The PIN is never written here:
/// `pin_env` names the environment variable that holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningKey {
    /// The agency whose documents it signs (`000.00.16.H43`), or `*` for every agency
    /// without a key of its own. With `user`, the agency the leader's key signs for
    /// (empty: any).
    #[serde(default)]
    pub agency: String,
    /// A leader's own key instead of an agency's: their username (`ld.xaydung`). The results
    /// of the dossiers they finish carry their signature, then the agency's.
    #[serde(default)]
    pub user: String,
    /// The token's PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label (or give `slot`).
    #[serde(default)]
    pub token_label: String,
    /// The slot number, when the token is chosen by slot.
    #[serde(default)]
    pub slot: Option<u64>,
    /// The private key's label (CKA_LABEL); the certificate on the token has the same label.
    pub key_label: String,
    /// The environment variable holding the token's user PIN.
    pub pin_env: String,
    /// A PEM file with the certificate and its intermediates, when they are not (all) on
    /// the token.
    #[serde(default)]
    pub certificate_file: PathBuf,
}

/// A collecting agency's bank account (issue 24): where fees paid by bank transfer go,
/// printed in VietQR codes and matched against the bank's statements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankAccount {
    /// The agency it collects for (`000.00.16.H43`), or `*` for every agency without one.
    pub agency: String,
    /// The bank's BIN (six digits, NAPAS's list: Vietcombank `970436`, VietinBank `970415`…).
    pub bin: String,
    /// The bank's name as people know it, printed beside the code.
    #[serde(default)]
    pub bank: String,
    /// The account number.
    pub account: String,
    /// The account holder's name, as the bank shows it to the payer.
    pub name: String,
}

impl BankAccount {
    /// The demo's account: a made-up number at Vietcombank's BIN, named as a demo so that
    /// nobody takes it for a real one.
    pub fn demo() -> Self {
        Self {
            agency: "*".to_owned(),
            bin: "970436".to_owned(),
            bank: "Vietcombank (tài khoản thử nghiệm)".to_owned(),
            account: "0071000123456".to_owned(),
            name: "TRUNG TAM PHUC VU HANH CHINH CONG (DEMO)".to_owned(),
        }
    }
}

fn default_anchor_minutes() -> u64 {
    60
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            max_connections: 16,
            demo: true,
            demo_map: DemoMap::default(),
            default_province: String::new(),
            log_format: "pretty".to_owned(),
            session_idle_minutes: 30,
            session_max_hours: 12,
            login_max_failures: 5,
            lockout_minutes: 15,
            login_rate_per_minute: 20,
            secure_cookies: false,
            trusted_proxies: String::new(),
            public_url: String::new(),
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
            object_store: "local".to_owned(),
            objects_dir: PathBuf::new(),
            s3_endpoint: String::new(),
            s3_bucket: String::new(),
            s3_region: "us-east-1".to_owned(),
            s3_access_key: String::new(),
            s3_secret_key: String::new(),
            s3_path_style: true,
            max_upload_bytes: 20 * 1024 * 1024,
            max_dossier_upload_bytes: 100 * 1024 * 1024,
            upload_ttl_hours: 24,
            max_upload_bytes_in_flight: 256 * 1024 * 1024,
            upload_wait_ms: 10_000,
            max_staged_upload_bytes_per_account: 200 * 1024 * 1024,
            max_staged_uploads_per_account: 100,
            delay_min_notice_working_days: 1,
            delay_max_extensions: 1,
            supplement_wait_working_days: 30,
            tracking_rate_per_minute: 30,
            tracking_cache_mb: 64,
            tracking_cache_ttl_ms: 300_000,
            outbox_max_attempts: 10,
            outbox_backoff_seconds: 5,
            outbox_backoff_max_seconds: 3600,
            outbox_lease_seconds: 120,
            outbox_poll_millis: 1000,
            notify_citizens: true,
            portal_url: String::new(),
            portal_token: String::new(),
            portal_username: String::new(),
            portal_password: String::new(),
            forms_dir: PathBuf::new(),
            vnpay_tmn_code: String::new(),
            vnpay_hash_secret: String::new(),
            vnpay_url: String::new(),
            vnpay_return_url: String::new(),
            vnpay_ipn_url: String::new(),
            vnpay_api_url: String::new(),
            payment_order_ttl_minutes: 15,
            sandbox_gateway: None,
            bank_accounts: Vec::new(),
            metrics_token: String::new(),
            audit_anchor_file: PathBuf::new(),
            audit_anchor_minutes: default_anchor_minutes(),
            signing_keys: Vec::new(),
            trust_anchors_dir: PathBuf::new(),
            tsa_url: String::new(),
            tsa_username: String::new(),
            tsa_password: String::new(),
        }
    }
}

impl Config {
    /// Loads the configuration: defaults ← the file ← `MOTCUA_*` variables, then checks it.
    /// `file` must exist when given; without it, `./motcua.toml` is read if present.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut given = Figment::new();
        match file {
            Some(f) if !f.is_file() => return Err(format!("configuration file {} not found", f.display())),
            Some(f) => given = given.merge(Toml::file_exact(f)),
            None if Path::new("motcua.toml").is_file() => given = given.merge(Toml::file_exact("motcua.toml")),
            None => {}
        }
        // Only the variables that name a setting: other MOTCUA_* variables (the test
        // harness's, a developer's) are reported by `unknown_env_vars`, not fatal.
        let given =
            given.merge(Env::prefixed("MOTCUA_").filter(|k| KEYS.contains(&k.as_str().to_ascii_lowercase().as_str())));
        Self::from_given(given)
    }

    /// The configuration from what the file and the environment `given` say, over the
    /// defaults; then checked. Settings whose default depends on another are decided here,
    /// where it is known whether they were given.
    fn from_given(given: Figment) -> Result<Self, String> {
        let secure_cookies_given = given.find_value("secure_cookies").is_ok();
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(given)
            .extract()
            .map_err(|e| e.to_string())?;
        if !secure_cookies_given && config.served_over_https() {
            config.secure_cookies = true;
        }
        config.validate()?;
        Ok(config)
    }

    /// Whether people reach motcua over HTTPS (`public_url` is `https://…`).
    fn served_over_https(&self) -> bool {
        self.public_url
            .trim()
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }

    /// The address people reach motcua at, without a trailing `/`: `public_url`, else
    /// this server's listening address (an unspecified address as loopback).
    pub fn public_base(&self) -> String {
        let public = self.public_url.trim().trim_end_matches('/');
        if public.is_empty() {
            format!("http://{}", self.own_address())
        } else {
            public.to_owned()
        }
    }

    /// The address at which this process reaches itself: `listen`, with `0.0.0.0` or `::`
    /// as the loopback address of the same family.
    pub fn own_address(&self) -> SocketAddr {
        let mut addr = self.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr.ip() {
                std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        addr
    }

    /// The parsed `trusted_proxies`.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, String> {
        self.trusted_proxies
            .split([',', ' ', '\t', '\n'])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("trusted_proxies: «{s}» is not an address or a network (10.0.0.0/8)"))
            })
            .collect()
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        self.trusted_proxy_nets()?;
        if self.public_url.trim().is_empty() && !self.listen.ip().is_loopback() {
            return Err(format!(
                "public_url must be set when listen ({}) is not a loopback address: it is the \
                 address printed in receipts' QR codes and sent in emails",
                self.listen
            ));
        }
        if self.served_over_https() && !self.secure_cookies {
            // Over HTTPS a cookie without `Secure` would still be sent over plain HTTP
            // whenever a link, a redirect or an attacker downgrades a request.
            return Err(format!(
                "secure_cookies cannot be false when public_url ({}) is https://: the session \
                 cookie would also be sent over plain HTTP",
                self.public_url.trim()
            ));
        }
        if !self.metrics_token.is_empty() && self.metrics_token.chars().count() < 16 {
            return Err("metrics_token must be at least 16 characters (or empty)".to_owned());
        }
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
        if self.max_upload_bytes == 0 || self.max_dossier_upload_bytes == 0 {
            return Err("max_upload_bytes and max_dossier_upload_bytes must be at least 1".to_owned());
        }
        if self.max_dossier_upload_bytes < self.max_upload_bytes {
            return Err(format!(
                "max_dossier_upload_bytes ({}) must be at least max_upload_bytes ({})",
                self.max_dossier_upload_bytes, self.max_upload_bytes
            ));
        }
        self.validate_upload_limits()?;
        if [
            self.upload_ttl_hours,
            u64::from(self.delay_min_notice_working_days),
            u64::from(self.delay_max_extensions),
            u64::from(self.tracking_rate_per_minute),
        ]
        .contains(&0)
        {
            return Err(
                "upload_ttl_hours, delay_min_notice_working_days, delay_max_extensions and \
                 tracking_rate_per_minute must be at least 1"
                    .to_owned(),
            );
        }
        self.validate_outbox()?;
        self.validate_signing_keys()?;
        self.validate_payments()?;
        self.validate_object_store()
    }

    /// Each `[[signing_keys]]` table names whose key it is: an agency (or `*`), or a user.
    fn validate_signing_keys(&self) -> Result<(), String> {
        for k in &self.signing_keys {
            if k.agency.trim().is_empty() && k.user.trim().is_empty() {
                return Err(format!(
                    "signing_keys: the key labelled \"{}\" must name an agency (or \"*\") or a user",
                    k.key_label
                ));
            }
            if k.user.trim().is_empty() || k.agency.trim() != "*" {
                continue;
            }
            return Err(format!(
                "signing_keys: the key of user \"{}\" names agency \"*\"; leave agency out to let it sign for any",
                k.user.trim()
            ));
        }
        Ok(())
    }

    /// The bounds on uploads in flight and kept unattached: each must let one upload of
    /// `max_upload_bytes` through.
    fn validate_upload_limits(&self) -> Result<(), String> {
        if self.max_upload_bytes_in_flight < self.max_upload_bytes {
            return Err(format!(
                "max_upload_bytes_in_flight ({}) must be at least max_upload_bytes ({})",
                self.max_upload_bytes_in_flight, self.max_upload_bytes
            ));
        }
        // The reservation counts KiB in a semaphore of at most u32::MAX permits.
        if self.max_upload_bytes_in_flight / 1024 > u32::MAX as usize {
            return Err("max_upload_bytes_in_flight must be below 4 TiB".to_owned());
        }
        if self.max_staged_upload_bytes_per_account < self.max_upload_bytes as u64 {
            return Err(format!(
                "max_staged_upload_bytes_per_account ({}) must be at least max_upload_bytes ({})",
                self.max_staged_upload_bytes_per_account, self.max_upload_bytes
            ));
        }
        if self.max_staged_uploads_per_account == 0 || self.upload_wait_ms == 0 {
            return Err("max_staged_uploads_per_account and upload_wait_ms must be at least 1".to_owned());
        }
        Ok(())
    }

    /// Whether the built-in sandbox gateway is on: as configured, else with the demo
    /// when no real VNPay URL is set.
    pub fn sandbox_gateway_enabled(&self) -> bool {
        self.sandbox_gateway
            .unwrap_or(self.demo && self.vnpay_url.trim().is_empty())
    }

    /// The bank account that collects transfers for `agency` (an agency code): the entry
    /// naming it, else the one for every agency (`agency = "*"`); with the demo and no
    /// account configured, [`BankAccount::demo`].
    pub fn bank_account(&self, agency: &str) -> Option<BankAccount> {
        if self.bank_accounts.is_empty() {
            return self.demo.then(BankAccount::demo);
        }
        let by_agency = |a: &str| self.bank_accounts.iter().find(|b| b.agency.trim() == a);
        by_agency(agency).or_else(|| by_agency("*")).cloned()
    }

    /// The payment settings: one gateway, complete, and orders that can live.
    fn validate_payments(&self) -> Result<(), String> {
        for b in &self.bank_accounts {
            if b.agency.trim().is_empty()
                || !motcua_core::vietqr::is_bin(&b.bin)
                || !motcua_core::vietqr::is_account(&b.account)
                || b.name.trim().is_empty()
            {
                return Err(format!(
                    "bank_accounts: «{}» needs agency (a code or *), bin (6 digits), account (1-19 letters or digits) \
                     and name",
                    b.agency
                ));
            }
        }
        if self.payment_order_ttl_minutes == 0 || self.payment_order_ttl_minutes > 7 * 24 * 60 {
            return Err("payment_order_ttl_minutes must be between 1 and 10080".to_owned());
        }
        let api = self.vnpay_api_url.trim();
        if !(api.is_empty() || api.starts_with("https://") || api.starts_with("http://")) {
            return Err("vnpay_api_url must start with https:// or http://".to_owned());
        }
        let url = self.vnpay_url.trim();
        if self.sandbox_gateway == Some(true) && !url.is_empty() {
            // The sandbox signs with the configured secret: beside a real terminal it
            // would let anyone mark orders paid.
            return Err("sandbox_gateway cannot be on together with a real vnpay_url".to_owned());
        }
        if !url.is_empty() {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("vnpay_url must start with https:// or http://".to_owned());
            }
            if self.vnpay_tmn_code.trim().is_empty() || self.vnpay_hash_secret.is_empty() {
                return Err("vnpay_url needs vnpay_tmn_code and vnpay_hash_secret".to_owned());
            }
        }
        Ok(())
    }

    /// The delivery settings: attempts, backoff and lease that can work, and one way to
    /// reach the portal.
    fn validate_outbox(&self) -> Result<(), String> {
        if self.outbox_max_attempts == 0 || self.outbox_backoff_seconds == 0 || self.outbox_poll_millis == 0 {
            return Err(
                "outbox_max_attempts, outbox_backoff_seconds and outbox_poll_millis must be at least 1".to_owned(),
            );
        }
        if self.outbox_backoff_max_seconds < self.outbox_backoff_seconds {
            return Err(format!(
                "outbox_backoff_max_seconds ({}) must be at least outbox_backoff_seconds ({})",
                self.outbox_backoff_max_seconds, self.outbox_backoff_seconds
            ));
        }
        if self.outbox_lease_seconds < 2 {
            return Err("outbox_lease_seconds must be at least 2".to_owned());
        }
        let url = self.portal_url.trim();
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            return Err("portal_url must start with https:// or http://".to_owned());
        }
        if !self.portal_token.is_empty() && !self.portal_username.is_empty() {
            return Err("set either portal_token or portal_username/portal_password, not both".to_owned());
        }
        Ok(())
    }

    /// The object store settings: a known backend, and for S3 everything it needs.
    fn validate_object_store(&self) -> Result<(), String> {
        match self.object_store.as_str() {
            "local" => Ok(()),
            "s3" => {
                if self.s3_endpoint.trim().is_empty() {
                    return Err("object_store = \"s3\" needs s3_endpoint (https://host[:port])".to_owned());
                }
                crate::objects::parse_endpoint(&self.s3_endpoint)?;
                let missing: Vec<&str> = [
                    ("s3_bucket", &self.s3_bucket),
                    ("s3_region", &self.s3_region),
                    ("s3_access_key", &self.s3_access_key),
                    ("s3_secret_key", &self.s3_secret_key),
                ]
                .into_iter()
                .filter(|(_, value)| value.trim().is_empty())
                .map(|(name, _)| name)
                .collect();
                if !missing.is_empty() {
                    return Err(format!("object_store = \"s3\" needs {}", missing.join(", ")));
                }
                // The full check (bucket name, style against the endpoint): build the store.
                crate::objects::ObjectStore::from_config(self)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            other => Err(format!("object_store must be \"local\" or \"s3\", not \"{other}\"")),
        }
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

    /// The audit anchor file: `audit_anchor_file`, or `<data_dir>/audit-anchors.jsonl`.
    pub fn audit_anchor_path(&self) -> PathBuf {
        if self.audit_anchor_file.as_os_str().is_empty() {
            self.data_dir.join("audit-anchors.jsonl")
        } else {
            self.audit_anchor_file.clone()
        }
    }

    /// The trust anchors' directory: `trust_anchors_dir`, or `<data_dir>/trust-anchors`.
    pub fn trust_anchors_path(&self) -> PathBuf {
        if self.trust_anchors_dir.as_os_str().is_empty() {
            self.data_dir.join("trust-anchors")
        } else {
            self.trust_anchors_dir.clone()
        }
    }

    /// The directory of uploaded files with the local object store: `objects_dir`, or
    /// `<data_dir>/objects` when it is empty.
    pub fn objects_root(&self) -> PathBuf {
        if self.objects_dir.as_os_str().is_empty() {
            self.data_dir.join("objects")
        } else {
            self.objects_dir.clone()
        }
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

    /// The configuration a file holding `toml` (and no environment) gives.
    fn from_file(toml: &str) -> Result<Config, String> {
        Config::from_given(Figment::new().merge(Toml::string(toml)))
    }

    #[test]
    fn https_turns_secure_cookies_on_and_refuses_them_off() {
        let https = from_file("public_url = \"https://motcua.example.gov.vn\"").expect("config");
        assert!(https.secure_cookies, "on by default when people come over HTTPS");
        let off =
            from_file("public_url = \"https://motcua.example.gov.vn\"\nsecure_cookies = false").expect_err("refused");
        assert!(off.contains("secure_cookies"), "{off}");
        assert!(
            from_file("public_url = \" HTTPS://motcua.example.gov.vn/\"\nsecure_cookies = false").is_err(),
            "whatever the scheme's case"
        );
        let on = from_file("public_url = \"https://motcua.example.gov.vn\"\nsecure_cookies = true").expect("config");
        assert!(on.secure_cookies);
        let plain = from_file("listen = \"0.0.0.0:8080\"\npublic_url = \"http://10.0.0.5:8080\"").expect("config");
        assert!(!plain.secure_cookies, "plain HTTP keeps the default");
        assert!(!from_file("").expect("defaults").secure_cookies);
        // A configuration made in code is held to the same rule.
        let made = Config {
            public_url: "https://motcua.example.gov.vn".to_owned(),
            ..Config::default()
        };
        assert!(made.validate().is_err());
        assert!(
            Config {
                secure_cookies: true,
                ..made
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn a_listening_address_others_can_reach_needs_public_url() {
        for listen in ["0.0.0.0:8080", "10.0.0.5:8080", "[::]:8080"] {
            let open = Config {
                listen: listen.parse().expect("address"),
                ..Config::default()
            };
            let e = open.validate().expect_err("refused");
            assert!(e.contains("public_url"), "{listen}: {e}");
            let named = Config {
                public_url: "http://motcua.h43.test/".to_owned(),
                ..open
            };
            assert!(named.validate().is_ok(), "{listen}");
            assert_eq!(named.public_base(), "http://motcua.h43.test");
        }
        for listen in ["127.0.0.1:8080", "[::1]:9000"] {
            let local = Config {
                listen: listen.parse().expect("address"),
                ..Config::default()
            };
            assert!(local.validate().is_ok(), "{listen}");
            assert_eq!(local.public_base(), format!("http://{listen}"));
        }
        let unspecified = Config {
            listen: "0.0.0.0:8080".parse().expect("address"),
            ..Config::default()
        };
        assert_eq!(unspecified.own_address().to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn a_metrics_token_is_long_enough_or_absent() {
        assert!(from_file("metrics_token = \"0123456789abcdef\"").is_ok());
        assert!(from_file("metrics_token = \"short\"").is_err());
        assert_eq!(from_file("").expect("defaults").metrics_token, "");
    }

    #[test]
    fn the_sandbox_gateway_is_for_the_demo_and_never_beside_a_real_terminal() {
        let demo = Config::default();
        assert!(demo.sandbox_gateway_enabled(), "on with the demo");
        let production = Config {
            demo: false,
            ..Config::default()
        };
        assert!(!production.sandbox_gateway_enabled(), "off without it");
        let real = Config {
            vnpay_url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into(),
            vnpay_tmn_code: "ABCD1234".into(),
            vnpay_hash_secret: "SECRET".into(),
            ..Config::default()
        };
        assert!(real.validate().is_ok());
        assert!(!real.sandbox_gateway_enabled(), "a real terminal turns the default off");
        let both = Config {
            sandbox_gateway: Some(true),
            ..real.clone()
        };
        assert!(both.validate().is_err());
        let incomplete = Config {
            vnpay_hash_secret: String::new(),
            ..real
        };
        assert!(incomplete.validate().is_err());
        let never = Config {
            payment_order_ttl_minutes: 0,
            ..Config::default()
        };
        assert!(never.validate().is_err());
    }

    #[test]
    fn upload_and_object_store_settings() {
        let c = Config::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.object_store, "local");
        assert_eq!(c.objects_root(), PathBuf::from("data/objects"));
        assert_eq!(c.max_upload_bytes, 20 * 1024 * 1024);
        assert_eq!(c.max_dossier_upload_bytes, 100 * 1024 * 1024);
        assert_eq!(c.max_upload_bytes_in_flight, 256 * 1024 * 1024);
        assert_eq!(c.max_staged_upload_bytes_per_account, 200 * 1024 * 1024);
        for bad in [
            Config {
                max_upload_bytes_in_flight: 20 * 1024 * 1024 - 1,
                ..Config::default()
            },
            Config {
                max_staged_upload_bytes_per_account: 1024,
                ..Config::default()
            },
            Config {
                max_staged_uploads_per_account: 0,
                ..Config::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
        let elsewhere = Config {
            objects_dir: PathBuf::from("/srv/motcua/files"),
            ..Config::default()
        };
        assert_eq!(elsewhere.objects_root(), PathBuf::from("/srv/motcua/files"));

        let s3: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(
                "object_store = \"s3\"\ns3_endpoint = \"http://127.0.0.1:9000\"\ns3_bucket = \"motcua\"\n\
                 s3_access_key = \"AKID\"\ns3_secret_key = 12345",
            ))
            .extract()
            .expect("config");
        assert!(s3.validate().is_ok(), "{:?}", s3.validate());
        assert_eq!(s3.s3_secret_key, "12345", "a numeric secret is accepted as text");
        assert!(s3.s3_path_style && s3.s3_region == "us-east-1");

        let refused = [
            Config {
                object_store: "ftp".to_owned(),
                ..Config::default()
            },
            Config {
                s3_endpoint: String::new(),
                ..s3.clone()
            },
            Config {
                s3_endpoint: "s3.example.gov.vn".to_owned(),
                ..s3.clone()
            },
            Config {
                s3_bucket: String::new(),
                ..s3.clone()
            },
            Config {
                s3_secret_key: String::new(),
                ..s3.clone()
            },
            Config {
                s3_path_style: false,
                ..s3.clone()
            },
            Config {
                max_upload_bytes: 0,
                ..Config::default()
            },
            Config {
                max_dossier_upload_bytes: 10 * 1024 * 1024,
                ..Config::default()
            },
            Config {
                upload_ttl_hours: 0,
                ..Config::default()
            },
            Config {
                delay_min_notice_working_days: 0,
                ..Config::default()
            },
            Config {
                delay_max_extensions: 0,
                ..Config::default()
            },
            Config {
                tracking_rate_per_minute: 0,
                ..Config::default()
            },
            Config {
                outbox_max_attempts: 0,
                ..Config::default()
            },
            Config {
                outbox_backoff_max_seconds: 1,
                ..Config::default()
            },
            Config {
                outbox_lease_seconds: 1,
                ..Config::default()
            },
            Config {
                portal_url: "ftp://portal.example.vn".to_owned(),
                ..Config::default()
            },
            Config {
                portal_token: "t".to_owned(),
                portal_username: "u".to_owned(),
                ..Config::default()
            },
        ];
        for c in refused {
            assert!(c.validate().is_err(), "{c:?}");
        }
        let secret = Config {
            s3_secret_key: String::new(),
            ..s3
        }
        .validate()
        .expect_err("refused");
        assert!(secret.contains("s3_secret_key"), "{secret}");
    }
}
