//! Uploaded files, kept outside the database in an [`ObjectStore`]: a local directory
//! (the default, next to the SQLite database) or an S3-compatible bucket (several nodes,
//! or a provincial object storage service).
//!
//! The database holds the key of each object; the store holds the bytes under that key.
//! Keys are checked before any use ([`validate_key`]): ASCII letters, digits and
//! `/ . _ -`, no leading `/` and no `..`, so a key can never name a file outside the
//! store's directory.
//!
//! The bucket is reached through the `object_store` crate's S3 client (Apache Arrow's),
//! which signs every request with AWS Signature Version 4 over the payload's SHA-256
//! (never `UNSIGNED-PAYLOAD`), so the service refuses a body damaged on the way; it retries
//! what is safe to retry and sends large files in parts as it reads them. The local
//! directory keeps its own code: `object_store`'s `LocalFileSystem` flushes neither files
//! nor directories to disk, so an upload it acknowledged could be lost in a power cut, and
//! it cannot store a spooled file by renaming it.

use std::fmt;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::TryStreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpClient, HttpConnector, HttpError};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore as _, ObjectStoreExt as _, PutPayload, RetryConfig, WriteMultipart,
};
use reqwest::Url;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::config::Config;

/// Longest accepted key, in bytes (S3's own limit).
const MAX_KEY_LEN: usize = 1024;
/// How long one S3 request may take, transfer included (an upload is at most tens of MiB).
const S3_TIMEOUT: Duration = Duration::from_secs(120);
/// How long connecting to the S3 endpoint may take.
const S3_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// The S3 endpoint could not be reached, or did not answer in time, even after the
    /// retries (3, within a minute, for connection failures and 5xx/429 answers).
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

impl ObjectError {
    /// Whether the local file system is full (`ENOSPC`, or `EDQUOT` past a quota): the
    /// write failed for want of space, not for a fault.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, ObjectError::Io { source, .. }
            if matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded))
    }
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
    /// renamed over the key: no copy, nothing in memory. To S3 the file is sent as it is
    /// read: in one `PUT` up to 8 MiB, else as a multipart upload of 8 MiB parts, at most
    /// two on their way at once, so an upload holds at most 24 MiB in memory whatever its
    /// size; a multipart upload that fails is aborted.
    pub async fn put_file(&self, key: &str, spool: tempfile::NamedTempFile) -> Result<(), ObjectError> {
        validate_key(key)?;
        match &*self.backend {
            Backend::Local(local) => local.put_file(key, spool).await,
            Backend::S3(s3) => s3.put_file(key, spool).await,
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

/// The size of one part of a multipart upload, and the largest spooled file sent in one
/// `PUT`. S3 wants parts of at least 5 MiB (the last one excepted).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts of one upload on their way at once: with the part being filled, an upload holds
/// at most `(PARTS_IN_FLIGHT + 1) × PART_SIZE` bytes in memory, whatever the file's size.
const PARTS_IN_FLIGHT: usize = 2;
/// How many times a failed request is sent again: connection failures, 5xx, 429 and (for
/// `GET`) timeouts, with exponential backoff from 100 ms.
const S3_RETRIES: usize = 3;
/// No request is retried once this long has passed since it was first sent.
const S3_RETRY_TIMEOUT: Duration = Duration::from_secs(60);

/// A bucket, reached through `object_store`'s S3 client, which signs every request with
/// AWS Signature Version 4 over the payload's SHA-256 (its default; never
/// `UNSIGNED-PAYLOAD`), so the service refuses a body damaged on the way.
#[derive(Debug)]
struct S3Store {
    /// Shows neither the secret key nor the session token (object_store redacts them).
    client: AmazonS3,
    settings: S3Settings,
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
        let host = url.host_str().unwrap_or_default();
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
        let endpoint = client_endpoint(&url, &settings);
        let https_only = url.scheme() == "https";
        let mut builder = AmazonS3Builder::new()
            .with_endpoint(&endpoint)
            .with_bucket_name(&settings.bucket)
            .with_region(settings.region.trim())
            .with_access_key_id(&settings.access_key)
            .with_secret_access_key(&settings.secret_key)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_allow_http(!https_only)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: S3_RETRIES,
                retry_timeout: S3_RETRY_TIMEOUT,
            })
            .with_http_connector(S3Connector { https_only });
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token);
        }
        let client = builder
            .build()
            .map_err(|e| ObjectError::Config(format!("S3 client: {e}")))?;
        Ok(Self { client, settings })
    }

    /// `scheme://host[:port]` of the endpoint, for logs.
    fn endpoint_origin(&self) -> String {
        parse_endpoint(&self.settings.endpoint)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        let path = object_path(key)?;
        self.client
            .put(&path, PutPayload::from(bytes))
            .await
            .map(drop)
            .map_err(|e| s3_error("PUT", key, e))
    }

    /// Sends the spooled file as it reads it: one `PUT` when it fits in a part, else a
    /// multipart upload of `PART_SIZE` parts, aborted if anything fails.
    async fn put_file(&self, key: &str, spool: tempfile::NamedTempFile) -> Result<(), ObjectError> {
        let path = object_path(key)?;
        let read_error = io_error(spool.path());
        let mut file = tokio::fs::File::from_std(spool.as_file().try_clone().map_err(io_error(spool.path()))?);
        file.rewind().await.map_err(io_error(spool.path()))?;
        let len = file.metadata().await.map_err(io_error(spool.path()))?.len();
        if len <= PART_SIZE as u64 {
            let mut bytes = Vec::with_capacity(PART_SIZE.min(usize::try_from(len).unwrap_or(PART_SIZE)));
            file.read_to_end(&mut bytes).await.map_err(read_error)?;
            return self.put(key, bytes).await;
        }
        let upload = self
            .client
            .put_multipart(&path)
            .await
            .map_err(|e| s3_error("PUT", key, e))?;
        let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match send_parts(&mut file, &mut parts, spool.path(), key).await {
            Ok(()) => parts.finish().await.map(drop).map_err(|e| s3_error("PUT", key, e)),
            Err(e) => {
                // Best effort: a bucket lifecycle rule removes what an abort leaves.
                let _ = parts.abort().await;
                Err(e)
            }
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        let path = object_path(key)?;
        let found = match self.client.get(&path).await {
            Ok(found) => found,
            Err(e) => {
                return match s3_error("GET", key, e) {
                    // NoSuchKey only: a missing bucket is a configuration fault, not an absence.
                    ObjectError::Refused { status: 404, code, .. } if code == "NoSuchKey" => Ok(None),
                    e => Err(e),
                };
            }
        };
        let bytes = found.bytes().await.map_err(|e| s3_error("GET", key, e))?;
        Ok(Some(bytes.into()))
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let path = object_path(key)?;
        match self.client.delete(&path).await {
            Ok(()) => Ok(()),
            Err(e) => match s3_error("DELETE", key, e) {
                ObjectError::Refused { status: 404, code, .. } if code == "NoSuchKey" => Ok(()),
                e => Err(e),
            },
        }
    }

    /// ListObjectsV2, page after page, until the listing is complete. object_store lists
    /// whole path segments, so the directory holding the prefix is listed and the keys are
    /// filtered by the plain string prefix here.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let dir = match prefix.rfind('/').map_or("", |i| &prefix[..i]) {
            "" => None,
            dir => {
                Some(ObjectPath::parse(dir).map_err(|_| ObjectError::InvalidKey(prefix.chars().take(80).collect()))?)
            }
        };
        let mut listing = self.client.list(dir.as_ref());
        let mut keys = Vec::new();
        while let Some(object) = listing.try_next().await.map_err(|e| s3_error("LIST", prefix, e))? {
            let key: &str = object.location.as_ref();
            if key.starts_with(prefix) {
                keys.push(key.to_owned());
            }
        }
        Ok(keys)
    }
}

/// What the client is given as its endpoint: the service's origin (path-style, where the
/// client adds `/bucket`) or the bucket's own origin (virtual-hosted). The URL leaves out
/// the scheme's default port, as the Host header does.
fn client_endpoint(url: &Url, settings: &S3Settings) -> String {
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    if settings.path_style {
        format!("{}://{host}{port}", url.scheme())
    } else {
        format!("{}://{}.{host}{port}", url.scheme(), settings.bucket)
    }
}

/// Reads `file` to its end into `parts`, waiting while `PARTS_IN_FLIGHT` parts are on
/// their way.
async fn send_parts(
    file: &mut tokio::fs::File,
    parts: &mut WriteMultipart,
    path: &Path,
    key: &str,
) -> Result<(), ObjectError> {
    let mut buffer = vec![0; 1024 * 1024];
    loop {
        let read = file.read(&mut buffer).await.map_err(io_error(path))?;
        if read == 0 {
            return Ok(());
        }
        parts
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|e| s3_error("PUT", key, e))?;
        parts.write(&buffer[..read]);
    }
}

/// The key as object_store's path. Validated keys always convert (no empty, `.` or `..`
/// segment, no character it would refuse).
fn object_path(key: &str) -> Result<ObjectPath, ObjectError> {
    ObjectPath::parse(key).map_err(|_| ObjectError::InvalidKey(key.chars().take(80).collect()))
}

/// Builds the HTTP client object_store sends with: its own but for redirects, which it
/// would follow, and which this store refuses (a redirect is a misconfigured endpoint or
/// region, and must not carry the session token to another host).
#[derive(Debug)]
struct S3Connector {
    https_only: bool,
}

impl HttpConnector for S3Connector {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("motcua/", env!("CARGO_PKG_VERSION")))
            .timeout(S3_TIMEOUT)
            .connect_timeout(S3_CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(self.https_only)
            .build()
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        Ok(HttpClient::new(client))
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

/// This module's error for what object_store reports. object_store keeps the HTTP status
/// and S3's error body only in its error's text (the types holding them are private), so
/// they are read back from there; the moto test fails if that text changes. Of the body,
/// only `<Code>` and `<Message>` are kept: an error body may quote the canonical request,
/// which is not for logs.
fn s3_error(operation: &'static str, key: &str, error: object_store::Error) -> ObjectError {
    let text = error.to_string();
    let status = match &error {
        object_store::Error::NotFound { .. } => Some(404),
        object_store::Error::PermissionDenied { .. } => Some(403),
        object_store::Error::Unauthenticated { .. } => Some(401),
        object_store::Error::AlreadyExists { .. } => Some(409),
        object_store::Error::Precondition { .. } => Some(412),
        _ => status_in(&text),
    };
    let code = element(&text, "Code");
    // S3 may also report a failure in the body of a 200 answer (CompleteMultipartUpload).
    let status = status.or(code.map(|_| 200));
    if let Some(status) = status {
        return ObjectError::Refused {
            operation,
            key: key.to_owned(),
            status,
            code: code.unwrap_or("(no error code)").to_owned(),
            message: element(&text, "Message")
                .unwrap_or_default()
                .chars()
                .take(300)
                .collect(),
        };
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = cause {
        if e.is::<HttpError>() {
            // The text names the method and URL (host and key), never a header value.
            return ObjectError::Unreachable(text);
        }
        cause = e.source();
    }
    ObjectError::Protocol(text.chars().take(500).collect())
}

/// The status in object_store's "Server returned non-2xx status code: 404 Not Found: …".
fn status_in(text: &str) -> Option<u16> {
    let (_, after) = text.split_once("status code: ")?;
    after.get(..3)?.parse().ok().filter(|s| (100..600).contains(s))
}

/// The text of the first `<tag>…</tag>` in `text` (S3's error elements hold plain text).
fn element<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let (_, after) = text.split_once(&format!("<{tag}>"))?;
    after.split_once(&format!("</{tag}>")).map(|(inner, _)| inner)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let endpoint = |endpoint: &str, path_style: bool| {
            let settings = settings(endpoint, path_style);
            S3Store::new(settings.clone()).expect("valid settings");
            client_endpoint(&parse_endpoint(endpoint).expect("endpoint"), &settings)
        };
        // Path-style: the client adds `/motcua-h43` before each key.
        assert_eq!(endpoint("http://127.0.0.1:9000/", true), "http://127.0.0.1:9000");
        assert_eq!(
            endpoint("https://s3.example.gov.vn", false),
            "https://motcua-h43.s3.example.gov.vn"
        );
        assert_eq!(
            endpoint("https://s3.example.gov.vn:8443", false),
            "https://motcua-h43.s3.example.gov.vn:8443"
        );
        // The default port is not part of the Host header (the client leaves it out too).
        assert_eq!(
            endpoint("https://s3.example.gov.vn:443", true),
            "https://s3.example.gov.vn"
        );
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
            assert!(object_path(good).is_ok(), "{good}");
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
    fn refusals_keep_the_code_and_message_only() {
        // The shape of object_store's text for a refused request.
        let text = "Error performing GET http://127.0.0.1:9000/b/k in 2ms - Server returned non-2xx \
                    status code: 403 Forbidden: <?xml version=\"1.0\"?><Error>\
                    <Code>SignatureDoesNotMatch</Code><Message>The signature does not match</Message>\
                    <CanonicalRequest>GET /b/k</CanonicalRequest></Error>";
        assert_eq!(status_in(text), Some(403));
        assert_eq!(element(text, "Code"), Some("SignatureDoesNotMatch"));
        assert_eq!(element(text, "Message"), Some("The signature does not match"));
        assert_eq!(element(text, "Key"), None);
        assert_eq!(status_in("status code: 4x"), None);
        let error = s3_error(
            "GET",
            "b/k",
            object_store::Error::Generic {
                store: "S3",
                source: text.into(),
            },
        );
        assert!(
            matches!(&error, ObjectError::Refused { status: 403, code, .. } if code == "SignatureDoesNotMatch"),
            "{error}"
        );
        assert!(!error.to_string().contains("CanonicalRequest"), "{error}");
    }
}
