//! Uploaded files, kept outside the database in an [`ObjectStore`]: a local directory
//! (the default, next to the SQLite database) or an S3-compatible bucket (several nodes,
//! or a provincial object storage service).
//!
//! The database holds the key of each object; the store holds the bytes under that key.
//! Keys are checked before any use ([`validate_key`]): ASCII letters, digits and
//! `/ . _ -`, no leading `/` and no `..`, so a key can never name a file outside the
//! store's directory.
//!
//! S3 requests are signed here with AWS Signature Version 4 over the payload's SHA-256
//! (never `UNSIGNED-PAYLOAD`), so the server refuses a body damaged on the way.

use std::fmt;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode, Url};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::config::Config;

/// Longest accepted key, in bytes (S3's own limit).
const MAX_KEY_LEN: usize = 1024;
/// How long one S3 request may take, transfer included (an upload is at most tens of MiB).
const S3_TIMEOUT: Duration = Duration::from_secs(120);
/// How long connecting to the S3 endpoint may take.
const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The signing service name of S3.
const SERVICE: &str = "s3";

/// What an object store operation can fail with. The text is for operators (logs); it
/// never contains a secret key or session token.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// The key (or list prefix) breaks the key rules; nothing was touched.
    #[error("object key «{0}» is not allowed (ASCII letters, digits and / . _ - only, no leading /, no ..)")]
    InvalidKey(String),
    /// The configuration cannot work (bad endpoint, missing bucket, unknown backend).
    #[error("object store configuration: {0}")]
    Config(String),
    /// The local file system refused.
    #[error("object store file {path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The S3 endpoint could not be reached, or did not answer in time.
    #[error("object store unreachable: {0}")]
    Unreachable(String),
    /// The S3 endpoint answered with an error.
    #[error("object store refused {operation} «{key}»: HTTP {status} {code}: {message}")]
    Refused {
        /// `PUT`, `GET`, `DELETE` or `LIST`.
        operation: &'static str,
        /// The key, or the prefix of a listing.
        key: String,
        /// The HTTP status.
        status: u16,
        /// S3's error code (`AccessDenied`, `NoSuchBucket`, `SignatureDoesNotMatch`, …).
        code: String,
        /// S3's error message.
        message: String,
    },
    /// The S3 endpoint answered something that is not a valid S3 response.
    #[error("object store answered unexpectedly: {0}")]
    Protocol(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ObjectError + '_ {
    move |source| ObjectError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Checks an object key: 1 to 1024 bytes of ASCII letters, digits and `/ . _ -`, not
/// starting or ending with `/`, with no empty segment (`//`), no `.` segment and no `..`
/// anywhere. Every operation checks its key this way first.
pub fn validate_key(key: &str) -> Result<(), ObjectError> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && !key.ends_with('/')
        && check_prefix(key)
        && key.split('/').all(|segment| !segment.is_empty() && segment != ".");
    if ok {
        Ok(())
    } else {
        Err(ObjectError::InvalidKey(key.chars().take(80).collect()))
    }
}

/// The rules a listing prefix follows: those of a key, except that it may be empty and
/// may end with `/`.
fn check_prefix(prefix: &str) -> bool {
    prefix.len() <= MAX_KEY_LEN
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
        && !prefix.starts_with('/')
        && !prefix.contains("..")
        && !prefix.contains("//")
}

fn validate_prefix(prefix: &str) -> Result<(), ObjectError> {
    if check_prefix(prefix) {
        Ok(())
    } else {
        Err(ObjectError::InvalidKey(prefix.chars().take(80).collect()))
    }
}

/// Where and how to reach an S3-compatible bucket.
#[derive(Clone)]
pub struct S3Settings {
    /// `https://host[:port]` (or `http://` for a service on a trusted network), with no
    /// path: e.g. `https://s3.example.gov.vn`, `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// The bucket's name.
    pub bucket: String,
    /// The signing region (`us-east-1` for most S3-compatible services).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Session token of temporary credentials, sent as `x-amz-security-token`.
    pub session_token: Option<String>,
    /// `true`: `endpoint/bucket/key` (MinIO, Ceph and most on-premises services);
    /// `false`: `bucket.endpoint/key` (virtual-hosted, AWS's preferred style).
    pub path_style: bool,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret key or the session token.
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

/// Checks an S3 endpoint: an `http://` or `https://` URL with a host, and nothing after
/// it but an optional `/` (no path, query or credentials).
pub fn parse_endpoint(endpoint: &str) -> Result<Url, String> {
    let url = Url::parse(endpoint.trim()).map_err(|e| format!("s3_endpoint «{endpoint}» is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("s3_endpoint «{endpoint}» must start with https:// or http://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("s3_endpoint «{endpoint}» has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("s3_endpoint must not contain credentials: use s3_access_key and s3_secret_key".to_owned());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "s3_endpoint «{endpoint}» must be only scheme, host and port (the bucket goes in s3_bucket)"
        ));
    }
    Ok(url)
}

/// Where uploaded files are kept. Cheap to clone: clones share one backend.
#[derive(Clone, Debug)]
pub struct ObjectStore {
    backend: Arc<Backend>,
    /// Where [`ObjectStore::spool`] files go with S3 (`data_dir`); `None`: the system's
    /// temporary directory. A local store spools in its own directory.
    spool_dir: Option<PathBuf>,
}

#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one per store, already behind an Arc")]
enum Backend {
    Local(LocalStore),
    S3(S3Store),
}

impl ObjectStore {
    /// A store in a local directory: the object `a/b.pdf` is the file `root/a/b.pdf`.
    /// The directory is created on the first write.
    pub fn local(root: PathBuf) -> Self {
        Self {
            backend: Arc::new(Backend::Local(LocalStore { root })),
            spool_dir: None,
        }
    }

    /// A store in an S3-compatible bucket. Checks the settings; contacts nothing.
    pub fn s3(settings: S3Settings) -> Result<Self, ObjectError> {
        Ok(Self {
            backend: Arc::new(Backend::S3(S3Store::new(settings)?)),
            spool_dir: None,
        })
    }

    /// The store the configuration names: `object_store = "local"` (in `objects_dir`,
    /// by default `<data_dir>/objects`) or `"s3"` (the `s3_*` settings).
    pub fn from_config(config: &Config) -> Result<Self, ObjectError> {
        match config.object_store.as_str() {
            "local" => Ok(Self::local(config.objects_root())),
            "s3" => Self::s3(S3Settings {
                endpoint: config.s3_endpoint.clone(),
                bucket: config.s3_bucket.clone(),
                region: config.s3_region.clone(),
                access_key: config.s3_access_key.clone(),
                secret_key: config.s3_secret_key.clone(),
                session_token: None,
                path_style: config.s3_path_style,
            })
            // Uploads on their way to the bucket wait on disk, not in a temporary
            // directory that may be memory (tmpfs).
            .map(|store| Self {
                spool_dir: Some(config.data_dir.clone()),
                ..store
            }),
            other => Err(ObjectError::Config(format!(
                "object_store must be \"local\" or \"s3\", not \"{other}\""
            ))),
        }
    }

    /// Stores `bytes` under `key`, replacing any object there. When it returns `Ok`, the
    /// object is durable: locally, the bytes went to a temporary file in the same
    /// directory, which was flushed to disk and then renamed over the key, and the
    /// directory was flushed too, so a crash leaves the old object or the new one, whole.
    /// On S3, the service confirmed the write. The bytes are taken by value: they move into
    /// the blocking write (local) or become the request body (S3) without a copy.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Local(local) => local.put(key, bytes).await,
            Backend::S3(s3) => s3.put(key, bytes).await,
        }
    }

    /// A new, empty temporary file to write an object's content to, before
    /// [`ObjectStore::put_file`] stores it. A local store makes it in its own directory, so
    /// that storing it is a rename on the same file system; with S3 it is made in
    /// `data_dir` (not the system's temporary directory, which may be memory). It is
    /// removed when dropped unless stored, and its name holds a `~`, which no key does, so
    /// it is never listed as an object.
    pub async fn spool(&self) -> Result<tempfile::NamedTempFile, ObjectError> {
        let dir = match (&*self.backend, &self.spool_dir) {
            (Backend::Local(local), _) => local.root.clone(),
            (Backend::S3(_), Some(dir)) => dir.clone(),
            (Backend::S3(_), None) => std::env::temp_dir(),
        };
        blocking(move || {
            std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
            tempfile::Builder::new()
                .prefix(".spool~")
                .tempfile_in(&dir)
                .map_err(io_error(&dir))
        })
        .await
    }

    /// Stores the content of `spool` (from [`ObjectStore::spool`], written and complete)
    /// under `key`, as durably as [`ObjectStore::put`]. Locally the file is flushed and
    /// renamed over the key: no copy, nothing in memory. The S3 client sends request
    /// bodies from memory, so the file is read back whole for the `PUT` (an upload is at
    /// most `max_upload_bytes`; callers bound how many are in flight).
    pub async fn put_file(&self, key: &str, spool: tempfile::NamedTempFile) -> Result<(), ObjectError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Local(local) => local.put_file(key, spool).await,
            Backend::S3(s3) => {
                let path = spool.path().to_owned();
                let bytes = blocking(move || {
                    let mut bytes = Vec::new();
                    let mut file = spool.as_file();
                    file.rewind()
                        .and_then(|()| file.read_to_end(&mut bytes))
                        .map_err(io_error(spool.path()))?;
                    Ok(bytes)
                })
                .await
                .map_err(|e| match e {
                    ObjectError::Io { source, .. } => ObjectError::Io { path, source },
                    other => other,
                })?;
                s3.put(key, bytes).await
            }
        }
    }

    /// The object under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Local(local) => local.get(key).await,
            Backend::S3(s3) => s3.get(key).await,
        }
    }

    /// Removes the object under `key`. Removing a key that holds nothing is not an error,
    /// so a retried or repeated clean-up succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Local(local) => local.delete(key).await,
            Backend::S3(s3) => s3.delete(key).await,
        }
    }

    /// Every key that starts with `prefix` (plain string prefix; `""` for all), sorted.
    /// For sweeping orphans: objects whose key no database row names. Only keys that pass
    /// [`validate_key`] are returned (a shared bucket's other objects, and local
    /// temporary files of interrupted writes, are left out).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        validate_prefix(prefix)?;
        let mut keys = match &*self.backend {
            Backend::Local(local) => local.list(prefix).await?,
            Backend::S3(s3) => s3.list(prefix).await?,
        };
        keys.retain(|k| validate_key(k).is_ok());
        keys.sort();
        Ok(keys)
    }

    /// Where the objects are, for logs: never a secret.
    pub fn describe(&self) -> String {
        match &*self.backend {
            Backend::Local(local) => format!("local directory {}", local.root.display()),
            Backend::S3(s3) => format!(
                "S3 bucket «{}» at {} ({}, region {})",
                s3.settings.bucket,
                s3.endpoint_origin(),
                if s3.settings.path_style {
                    "path-style"
                } else {
                    "virtual-hosted"
                },
                s3.settings.region
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Local directory

#[derive(Debug)]
struct LocalStore {
    root: PathBuf,
}

/// Makes temporary file names unique within this process (the process id separates
/// processes sharing a directory).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ObjectError> + Send + 'static,
) -> Result<T, ObjectError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ObjectError::Io {
        path: PathBuf::new(),
        source: std::io::Error::other(e.to_string()),
    })?
}

impl LocalStore {
    /// The file of a key. The key has been validated: it is relative, with no `..`.
    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        let root = self.root.clone();
        let path = self.path(key);
        blocking(move || write_durably(&root, &path, &mut bytes.as_slice())).await
    }

    async fn put_file(&self, key: &str, spool: tempfile::NamedTempFile) -> Result<(), ObjectError> {
        let root = self.root.clone();
        let path = self.path(key);
        blocking(move || {
            spool.as_file().sync_all().map_err(io_error(spool.path()))?;
            let dir = path.parent().unwrap_or(&root).to_owned();
            create_dirs_durably(&root, &dir)?;
            match spool.persist(&path) {
                Ok(_) => sync_dir(&dir),
                // Another file system under the root (a mounted year directory): copy.
                Err(e) => {
                    let mut spool = e.file;
                    spool.rewind().map_err(io_error(spool.path()))?;
                    write_durably(&root, &path, spool.as_file_mut())
                }
            }
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        let path = self.path(key);
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            // A directory is where keys under this one live, not an object.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let path = self.path(key);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let root = self.root.clone();
        // Only the directory the prefix's complete segments name can hold matches.
        let start = prefix.rfind('/').map_or("", |i| &prefix[..i]).to_owned();
        let prefix = prefix.to_owned();
        blocking(move || {
            let mut keys = Vec::new();
            let dir = if start.is_empty() {
                root.clone()
            } else {
                root.join(&start)
            };
            walk(&dir, &start, &mut keys)?;
            keys.retain(|k| k.starts_with(&prefix));
            Ok(keys)
        })
        .await
    }
}

/// Collects the files under `dir` as keys (`key_prefix/name`), not following symlinks.
fn walk(dir: &Path, key_prefix: &str, keys: &mut Vec<String>) -> Result<(), ObjectError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(());
        }
        Err(e) => return Err(io_error(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not UTF-8: not a key this store wrote
        };
        let key = if key_prefix.is_empty() {
            name
        } else {
            format!("{key_prefix}/{name}")
        };
        let kind = entry.file_type().map_err(io_error(&entry.path()))?;
        if kind.is_dir() {
            walk(&entry.path(), &key, keys)?;
        } else if kind.is_file() {
            keys.push(key);
        }
    }
    Ok(())
}

/// Writes what `content` reads to `path` so that it is on disk when this returns, and so
/// that readers and crashes see either the old content or the new, never a part.
fn write_durably(root: &Path, path: &Path, content: &mut impl Read) -> Result<(), ObjectError> {
    let dir = path.parent().unwrap_or(root);
    create_dirs_durably(root, dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
    // `~` never occurs in a key, so a temporary file is never listed as an object.
    let temp = dir.join(format!(
        "{name}~{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = std::fs::File::create_new(&temp).map_err(io_error(&temp))?;
        std::io::copy(content, &mut file).map_err(io_error(&temp))?;
        file.sync_all().map_err(io_error(&temp))?;
        drop(file);
        std::fs::rename(&temp, path).map_err(io_error(path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir)
}

/// Creates `dir` and its missing ancestors up to `root`, flushing each parent whose
/// entries changed, so the new file's directory survives a crash too.
fn create_dirs_durably(root: &Path, dir: &Path) -> Result<(), ObjectError> {
    if dir.is_dir() {
        return Ok(());
    }
    if !root.is_dir() {
        std::fs::create_dir_all(root).map_err(io_error(root))?;
        if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| *a != root && a.starts_with(root))
        .filter(|a| !a.is_dir())
        .collect();
    for created in missing.into_iter().rev() {
        match std::fs::create_dir(created) {
            Ok(()) => {}
            // Another writer created it meanwhile.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(created)(e)),
        }
        if let Some(parent) = created.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), ObjectError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

// ---------------------------------------------------------------------------------------
// S3

#[derive(Debug)]
struct S3Store {
    client: reqwest::Client,
    settings: S3Settings,
    /// `http` or `https`.
    scheme: String,
    /// The `Host` header: the bucket's host (with the bucket in front when virtual-hosted)
    /// and the port when it is not the scheme's default, exactly as the client sends it.
    host: String,
    /// The path before the key: `/bucket` (path-style) or empty (virtual-hosted).
    base_path: String,
}

impl S3Store {
    fn new(settings: S3Settings) -> Result<Self, ObjectError> {
        let url = parse_endpoint(&settings.endpoint).map_err(ObjectError::Config)?;
        if !valid_bucket(&settings.bucket) {
            return Err(ObjectError::Config(format!(
                "s3_bucket «{}» is not a bucket name (3 to 63 of a-z, 0-9, '.', '-')",
                settings.bucket
            )));
        }
        if settings.region.trim().is_empty() {
            return Err(ObjectError::Config("s3_region is empty".to_owned()));
        }
        if settings.access_key.is_empty() || settings.secret_key.is_empty() {
            return Err(ObjectError::Config(
                "s3_access_key and s3_secret_key are required".to_owned(),
            ));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let is_ip = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok();
        if !settings.path_style && is_ip {
            return Err(ObjectError::Config(
                "virtual-hosted style needs an endpoint with a DNS name: set s3_path_style = true for an IP address"
                    .to_owned(),
            ));
        }
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let (host, base_path) = if settings.path_style {
            (format!("{host}{port}"), format!("/{}", settings.bucket))
        } else {
            (format!("{}.{host}{port}", settings.bucket), String::new())
        };
        let client = reqwest::Client::builder()
            .timeout(S3_TIMEOUT)
            .connect_timeout(S3_CONNECT_TIMEOUT)
            // A redirect would be a misconfigured endpoint or region: report it instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ObjectError::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            scheme: url.scheme().to_owned(),
            host,
            base_path,
            settings,
        })
    }

    /// `scheme://host[:port]` of the endpoint, for logs.
    fn endpoint_origin(&self) -> String {
        parse_endpoint(&self.settings.endpoint)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// Signs and sends one request; `path` and `query` are already canonical (encoded), and
    /// `payload_hash` is the hex SHA-256 of `body` (of nothing when there is none).
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<Vec<u8>>,
        payload_hash: String,
    ) -> Result<reqwest::Response, ObjectError> {
        let now = OffsetDateTime::now_utc();
        let amz_date = now
            .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
            .map_err(|e| ObjectError::Protocol(format!("formatting the request time: {e}")))?;
        let mut headers: Vec<(&str, &str)> = vec![
            ("host", &self.host),
            ("x-amz-content-sha256", &payload_hash),
            ("x-amz-date", &amz_date),
        ];
        if let Some(token) = &self.settings.session_token {
            headers.push(("x-amz-security-token", token));
        }
        let request = SigningRequest {
            method: method.as_str(),
            path,
            query,
            headers: &headers,
            payload_hash: &payload_hash,
        };
        let credentials = Credentials {
            access_key: &self.settings.access_key,
            secret_key: &self.settings.secret_key,
            region: &self.settings.region,
        };
        let authorization = credentials.authorization(&amz_date, &request)?;
        let url = if query.is_empty() {
            format!("{}://{}{path}", self.scheme, self.host)
        } else {
            format!("{}://{}{path}?{query}", self.scheme, self.host)
        };
        let url = Url::parse(&url).map_err(|e| ObjectError::Config(format!("request URL: {e}")))?;
        let mut builder = self
            .client
            .request(method, url)
            .header("x-amz-content-sha256", &payload_hash)
            .header("x-amz-date", &amz_date)
            .header(reqwest::header::AUTHORIZATION, authorization);
        if let Some(token) = &self.settings.session_token {
            builder = builder.header("x-amz-security-token", token);
        }
        // A PUT always carries its body, even an empty one: S3 needs its Content-Length.
        // (The client leaves Content-Length out of an empty body, so it is set here.)
        if let Some(body) = body {
            builder = builder.header(reqwest::header::CONTENT_LENGTH, body.len()).body(body);
        }
        builder.send().await.map_err(|e| {
            // reqwest's message names the URL (host and key), never a header value.
            ObjectError::Unreachable(e.to_string())
        })
    }

    fn object_path(&self, key: &str) -> String {
        format!("{}/{}", self.base_path, uri_encode(key, false))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        // Hashing tens of MiB is CPU work: off the async threads.
        let (bytes, hash) = blocking(move || {
            let hash = sha256_hex(&bytes);
            Ok((bytes, hash))
        })
        .await?;
        let response = self
            .send(Method::PUT, &self.object_path(key), "", Some(bytes), hash)
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(refused("PUT", key, response).await)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        let response = self
            .send(Method::GET, &self.object_path(key), "", None, sha256_hex(b""))
            .await?;
        if response.status() == StatusCode::OK {
            let bytes = response
                .bytes()
                .await
                .map_err(|e| ObjectError::Unreachable(format!("reading «{key}»: {e}")))?;
            return Ok(Some(bytes.to_vec()));
        }
        match refused("GET", key, response).await {
            // NoSuchKey only: a missing bucket is a configuration fault, not an absence.
            ObjectError::Refused { status: 404, code, .. } if code == "NoSuchKey" => Ok(None),
            e => Err(e),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let response = self
            .send(Method::DELETE, &self.object_path(key), "", None, sha256_hex(b""))
            .await?;
        if response.status().is_success() {
            return Ok(());
        }
        match refused("DELETE", key, response).await {
            ObjectError::Refused { status: 404, code, .. } if code == "NoSuchKey" => Ok(()),
            e => Err(e),
        }
    }

    /// ListObjectsV2, page after page (1000 keys each) until the listing is complete.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let path = if self.base_path.is_empty() {
            "/".to_owned()
        } else {
            self.base_path.clone()
        };
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut params = vec![("list-type", "2"), ("prefix", prefix)];
            if let Some(t) = &token {
                params.push(("continuation-token", t));
            }
            let query = canonical_query(&params);
            let response = self.send(Method::GET, &path, &query, None, sha256_hex(b"")).await?;
            if response.status() != StatusCode::OK {
                return Err(refused("LIST", prefix, response).await);
            }
            let xml = response
                .text()
                .await
                .map_err(|e| ObjectError::Unreachable(format!("reading a listing: {e}")))?;
            if !xml.contains("<ListBucketResult") {
                return Err(ObjectError::Protocol("a listing without ListBucketResult".to_owned()));
            }
            for contents in xml_elements(&xml, "Contents") {
                if let Some(key) = xml_elements(contents, "Key").next() {
                    keys.push(xml_unescape(key));
                }
            }
            let truncated = xml_elements(&xml, "IsTruncated").next() == Some("true");
            let next = xml_elements(&xml, "NextContinuationToken").next().map(xml_unescape);
            match (truncated, next) {
                (false, _) => return Ok(keys),
                (true, Some(next)) if token.as_deref() != Some(next.as_str()) => token = Some(next),
                (true, _) => {
                    return Err(ObjectError::Protocol(
                        "a truncated listing without a new continuation token".to_owned(),
                    ));
                }
            }
        }
    }
}

/// A bucket name as S3 allows it (and as a DNS label needs it for virtual-hosted style).
fn valid_bucket(bucket: &str) -> bool {
    (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The error a non-success response carries: S3's `<Code>` and `<Message>` only (an
/// error body may quote the canonical request, which is not for logs).
async fn refused(operation: &'static str, key: &str, response: reqwest::Response) -> ObjectError {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let code = xml_elements(&body, "Code").next().map(xml_unescape);
    let message = xml_elements(&body, "Message").next().map(xml_unescape);
    ObjectError::Refused {
        operation,
        key: key.to_owned(),
        status,
        code: code.unwrap_or_else(|| "(no error code)".to_owned()),
        message: message.unwrap_or_default().chars().take(300).collect(),
    }
}

/// The text of each `<tag>…</tag>` in `xml`, in order. Enough for S3's flat responses,
/// whose elements carry no attributes and do not nest within themselves.
fn xml_elements<'a>(xml: &'a str, tag: &str) -> impl Iterator<Item = &'a str> + 'a {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let len = rest[start..].find(&close)?;
        let text = &rest[start..start + len];
        rest = &rest[start + len + close.len()..];
        Some(text)
    })
}

/// Resolves XML's predefined entities and character references.
fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------------------
// AWS Signature Version 4

type HmacSha256 = Hmac<Sha256>;

/// A request as Signature Version 4 sees it.
struct SigningRequest<'a> {
    method: &'a str,
    /// The canonical (URI-encoded) path.
    path: &'a str,
    /// The canonical query string (sorted, encoded), empty when there is none.
    query: &'a str,
    /// The headers to sign: lowercase names; every one of them must be sent as given.
    headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body.
    payload_hash: &'a str,
}

/// What signs: the keys and the region.
struct Credentials<'a> {
    access_key: &'a str,
    secret_key: &'a str,
    region: &'a str,
}

impl Credentials<'_> {
    /// The `Authorization` header for `request` sent at `amz_date` (`YYYYMMDDTHHMMSSZ`).
    fn authorization(&self, amz_date: &str, request: &SigningRequest<'_>) -> Result<String, ObjectError> {
        let date = amz_date.get(..8).unwrap_or(amz_date);
        let scope = format!("{date}/{}/{SERVICE}/aws4_request", self.region);
        let (canonical, signed_headers) = canonical_request(request);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let mut key = hmac(format!("AWS4{}", self.secret_key).as_bytes(), date.as_bytes())?;
        for part in [self.region, SERVICE, "aws4_request"] {
            key = hmac(&key, part.as_bytes())?;
        }
        let signature = hex(&hmac(&key, string_to_sign.as_bytes())?);
        Ok(format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope},SignedHeaders={signed_headers},Signature={signature}",
            self.access_key
        ))
    }
}

/// The canonical request and the signed header list.
fn canonical_request(request: &SigningRequest<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| {
            // Trimmed, with inner runs of spaces collapsed to one.
            let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
            (name.to_ascii_lowercase(), value)
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method, request.path, request.query, request.payload_hash
    );
    (canonical, signed_headers)
}

/// The canonical query string: each name and value URI-encoded, sorted by name then value.
fn canonical_query(params: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// URI encoding as Signature Version 4 defines it: everything but `A-Z a-z 0-9 - . _ ~`
/// as `%XX` (uppercase), and `/` too unless it separates path segments.
fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || (b == b'/' && !encode_slash) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, ObjectError> {
    // HMAC takes keys of any length (longer ones are hashed first), so this never fails.
    let mut mac = HmacSha256::new_from_slice(key)
        .map_err(|_| ObjectError::Config("the S3 signing key was refused".to_owned()))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked examples of Amazon S3's "Signature Calculations for the Authorization
    // Header" (API reference, sig-v4-header-based-auth): example credentials, us-east-1,
    // 24 May 2013 00:00:00 UTC, bucket `examplebucket` reached virtual-hosted.
    const EXAMPLE: Credentials<'static> = Credentials {
        access_key: "AKIAIOSFODNN7EXAMPLE",
        secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
    };
    const DATE: &str = "20130524T000000Z";
    const HOST: &str = "examplebucket.s3.amazonaws.com";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn the_documented_get_object_example() {
        let request = SigningRequest {
            method: "GET",
            path: "/test.txt",
            query: "",
            headers: &[
                ("Host", HOST),
                ("Range", "bytes=0-9"),
                ("x-amz-content-sha256", EMPTY),
                ("x-amz-date", DATE),
            ],
            payload_hash: EMPTY,
        };
        assert_eq!(sha256_hex(b""), EMPTY);
        let (canonical, _) = canonical_request(&request);
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
            "the hash in the documented string to sign"
        );
        assert_eq!(
            EXAMPLE.authorization(DATE, &request).expect("signed"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn the_documented_put_object_example() {
        let payload = sha256_hex(b"Welcome to Amazon S3.");
        assert_eq!(
            payload,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let path = format!("/{}", uri_encode("test$file.text", false));
        assert_eq!(path, "/test%24file.text");
        let request = SigningRequest {
            method: "PUT",
            path: &path,
            query: "",
            headers: &[
                ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                ("host", HOST),
                ("x-amz-content-sha256", &payload),
                ("x-amz-date", DATE),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payload_hash: &payload,
        };
        assert!(EXAMPLE.authorization(DATE, &request).expect("signed").ends_with(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,\
             Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        ));
    }

    #[test]
    fn the_documented_list_objects_example() {
        let query = canonical_query(&[("prefix", "J"), ("max-keys", "2")]);
        assert_eq!(query, "max-keys=2&prefix=J");
        let request = SigningRequest {
            method: "GET",
            path: "/",
            query: &query,
            headers: &[("host", HOST), ("x-amz-content-sha256", EMPTY), ("x-amz-date", DATE)],
            payload_hash: EMPTY,
        };
        assert!(
            EXAMPLE
                .authorization(DATE, &request)
                .expect("signed")
                .ends_with("Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        );
    }

    #[test]
    fn a_changed_payload_header_or_key_changes_the_signature() {
        let sign = |payload: &str, host: &str, secret: &str| {
            let request = SigningRequest {
                method: "PUT",
                path: "/a/b.pdf",
                query: "",
                headers: &[("host", host), ("x-amz-content-sha256", payload), ("x-amz-date", DATE)],
                payload_hash: payload,
            };
            Credentials {
                secret_key: secret,
                ..EXAMPLE
            }
            .authorization(DATE, &request)
            .expect("signed")
        };
        let base = sign(EMPTY, HOST, EXAMPLE.secret_key);
        assert_ne!(base, sign(&"0".repeat(64), HOST, EXAMPLE.secret_key));
        assert_ne!(base, sign(EMPTY, "other.example", EXAMPLE.secret_key));
        assert_ne!(base, sign(EMPTY, HOST, "another secret"));
        assert!(!base.contains(EXAMPLE.secret_key));
    }

    #[test]
    fn encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("a-b_c.d~e/f", false), "a-b_c.d~e/f");
        assert_eq!(uri_encode("a b/c+d=é", true), "a%20b%2Fc%2Bd%3D%C3%A9");
        assert_eq!(
            canonical_query(&[
                ("prefix", "hs/2025/"),
                ("list-type", "2"),
                ("continuation-token", "a+b=")
            ]),
            "continuation-token=a%2Bb%3D&list-type=2&prefix=hs%2F2025%2F"
        );
    }

    fn settings(endpoint: &str, path_style: bool) -> S3Settings {
        S3Settings {
            endpoint: endpoint.to_owned(),
            bucket: "motcua-h43".to_owned(),
            region: "us-east-1".to_owned(),
            access_key: "AKIDEXAMPLE".to_owned(),
            secret_key: "very-secret-key".to_owned(),
            session_token: Some("very-secret-token".to_owned()),
            path_style,
        }
    }

    #[test]
    fn path_style_and_virtual_hosted_addresses() {
        let path = S3Store::new(settings("http://127.0.0.1:9000/", true)).expect("path-style");
        assert_eq!(path.host, "127.0.0.1:9000");
        assert_eq!(path.object_path("hs/2025/a.pdf"), "/motcua-h43/hs/2025/a.pdf");
        let hosted = S3Store::new(settings("https://s3.example.gov.vn", false)).expect("virtual-hosted");
        assert_eq!(hosted.host, "motcua-h43.s3.example.gov.vn");
        assert_eq!(hosted.object_path("hs/2025/a.pdf"), "/hs/2025/a.pdf");
        let port = S3Store::new(settings("https://s3.example.gov.vn:8443", false)).expect("with port");
        assert_eq!(port.host, "motcua-h43.s3.example.gov.vn:8443");
        // The default port is not part of the Host header (the client leaves it out too).
        let default_port = S3Store::new(settings("https://s3.example.gov.vn:443", true)).expect("default port");
        assert_eq!(default_port.host, "s3.example.gov.vn");
    }

    #[test]
    fn bad_settings_are_refused_and_secrets_never_shown() {
        for endpoint in [
            "s3.example.gov.vn",
            "ftp://s3.example.gov.vn",
            "https://s3.example.gov.vn/bucket",
            "https://u:p@s3.example.gov.vn",
        ] {
            assert!(S3Store::new(settings(endpoint, true)).is_err(), "{endpoint}");
        }
        assert!(
            S3Store::new(settings("http://127.0.0.1:9000", false)).is_err(),
            "virtual-hosted on an IP"
        );
        let mut no_key = settings("http://127.0.0.1:9000", true);
        no_key.secret_key.clear();
        assert!(S3Store::new(no_key).is_err());
        let mut bad_bucket = settings("http://127.0.0.1:9000", true);
        bad_bucket.bucket = "Hồ_sơ".to_owned();
        assert!(S3Store::new(bad_bucket).is_err());

        let store = ObjectStore::s3(settings("https://s3.example.gov.vn", true)).expect("store");
        for shown in [store.describe(), format!("{store:?}")] {
            assert!(!shown.contains("very-secret"), "{shown}");
        }
        assert_eq!(
            store.describe(),
            "S3 bucket «motcua-h43» at https://s3.example.gov.vn (path-style, region us-east-1)"
        );
    }

    #[test]
    fn keys_cannot_leave_the_store() {
        for good in ["a", "hs/2025/01/x.pdf", "a.b-c_d/E9", ".hidden", "a/.b"] {
            assert!(validate_key(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/..",
            "..",
            "a//b",
            "a/",
            "a/./b",
            ".",
            "a\\b",
            "a b",
            "hồ-sơ",
            "a~1",
            "a%2e",
        ] {
            assert!(validate_key(bad).is_err(), "{bad}");
        }
        assert!(validate_key(&"a".repeat(1025)).is_err());
        assert!(validate_prefix("").is_ok());
        assert!(validate_prefix("hs/").is_ok());
        assert!(validate_prefix("/hs").is_err());
        assert!(validate_prefix("hs/..").is_err());
    }

    #[test]
    fn xml_answers_are_read() {
        let xml = "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>\
                   <Contents><Key>a&amp;b</Key><Size>1</Size></Contents>\
                   <Contents><Key>c&#x2F;d&#47;e</Key></Contents>\
                   <NextContinuationToken>t&lt;1&gt;</NextContinuationToken></ListBucketResult>";
        let keys: Vec<String> = xml_elements(xml, "Contents")
            .filter_map(|c| xml_elements(c, "Key").next())
            .map(xml_unescape)
            .collect();
        assert_eq!(keys, ["a&b", "c/d/e"]);
        assert_eq!(xml_elements(xml, "IsTruncated").next(), Some("true"));
        assert_eq!(
            xml_elements(xml, "NextContinuationToken")
                .next()
                .map(xml_unescape)
                .as_deref(),
            Some("t<1>")
        );
        assert_eq!(xml_unescape("a & b &bogus; c"), "a & b &bogus; c");
    }
}
