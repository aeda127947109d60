//! Authentication: passwords (argon2id, hashed off the async runtime), database-backed
//! sessions with CSRF tokens, API tokens, and the [`Principal`] extractor every protected
//! handler takes.

use std::net::{IpAddr, SocketAddr};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use motcua_core::access::{Access, Grant, Role};
use motcua_core::codes::{AgencyCode, ProvinceCode};
use motcua_store::accounts::{self, User};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::AppError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "motcua_session";
/// Header that carries the CSRF token on state-changing API calls made with a session.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;
/// Longest password accepted (argon2 input is bounded to keep hashing time bounded).
pub const MAX_PASSWORD: usize = 128;

/// Scopes an API token may carry, and the role each stands for in the token's province.
pub const SCOPES: &[(&str, Role)] = &[
    ("catalogue:write", Role::CatalogueAdmin),
    ("admin", Role::SystemAdmin),
    ("dossiers:read", Role::CentreDirector),
    ("dossiers:counter", Role::CounterOfficer),
];

/// A random secret of `bytes` bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A random identifier (128 bits, hex).
pub fn random_id() -> String {
    let mut buf = [0u8; 16];
    OsRng.fill_bytes(&mut buf);
    hex_encode(buf)
}

/// Lowercase hex of `bytes` (the `hex` crate's).
pub use hex::encode as hex_encode;

/// SHA-256 of a secret, hex: what the database keeps instead of the secret.
pub fn secret_hash(secret: &str) -> String {
    hex_encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// Checks a new password against the policy.
pub fn check_password_policy(password: &str, username: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(AppError::bad(
            "weak_password",
            "new_password",
            format!("Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự."),
        ));
    }
    if n > MAX_PASSWORD {
        return Err(AppError::bad(
            "weak_password",
            "new_password",
            format!("Mật khẩu không được dài quá {MAX_PASSWORD} ký tự."),
        ));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(AppError::bad(
            "weak_password",
            "new_password",
            "Mật khẩu không được trùng tên đăng nhập.",
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id on the blocking pool, bounded by the CPU semaphore.
pub async fn hash_password(state: &AppState, password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    state.on_cpu(move || hash_password_now(&password)).await?
}

/// Hashes a password on the current thread (for the CLI and tests).
pub fn hash_password_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Verifies a password against a stored argon2 hash, off the async runtime.
pub async fn verify_password(state: &AppState, password: &str, hash: &str) -> Result<bool, AppError> {
    if hash.is_empty() {
        return Ok(false);
    }
    let (password, hash) = (password.to_owned(), hash.to_owned());
    state
        .on_cpu(move || {
            PasswordHash::new(&hash)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
}

/// How the request authenticated.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A browser session (cookie).
    Session {
        /// Hash of the cookie value.
        token_hash: String,
        /// The session's CSRF token.
        csrf_token: String,
    },
    /// An API token.
    ApiToken {
        /// The token's id.
        id: String,
        /// Its name.
        name: String,
    },
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The account, for sessions.
    pub user: Option<User>,
    /// What the caller may do.
    pub access: Access,
    /// How it authenticated.
    pub credential: Credential,
    /// Client address.
    pub ip: String,
}

impl Principal {
    /// Who to name in the audit trail: the account id, or `token:<id>`.
    pub fn actor(&self) -> String {
        match (&self.user, &self.credential) {
            (Some(u), _) => u.id.clone(),
            (None, Credential::ApiToken { id, .. }) => format!("token:{id}"),
            (None, Credential::Session { .. }) => "unknown".to_owned(),
        }
    }

    /// A readable name for the audit trail.
    pub fn actor_name(&self) -> String {
        match (&self.user, &self.credential) {
            (Some(u), _) => format!("{} ({})", u.display_name, u.username),
            (None, Credential::ApiToken { name, .. }) => format!("Mã truy cập API «{name}»"),
            (None, Credential::Session { .. }) => String::new(),
        }
    }

    /// Fails with 403 unless `allowed`.
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), AppError> {
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("Bạn không có quyền {what}.")))
        }
    }

    /// May edit the catalogue of `province`, or 403.
    pub fn require_catalogue(&self, province: &ProvinceCode) -> Result<(), AppError> {
        self.require(
            self.access.can_edit_catalogue(province),
            "sửa danh mục thủ tục của tỉnh này",
        )
    }

    /// May administer `province`, or 403.
    pub fn require_admin(&self, province: &ProvinceCode) -> Result<(), AppError> {
        self.require(self.access.can_administer(province), "quản trị hệ thống của tỉnh này")
    }
}

/// The client address: the connection's, or, when the connection comes from one of
/// `trusted` (reverse proxies), the last address of `X-Forwarded-For` that is not one of
/// them (each proxy appends the address it received the request from, so the addresses
/// to the left of the last untrusted one are the client's to write and are ignored).
pub fn client_ip(parts: &Parts, trusted: &[ipnet::IpNet]) -> String {
    let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        return "unknown".to_owned();
    };
    forwarded_client(peer, &parts.headers, trusted).to_string()
}

/// The client address behind `peer` as [`client_ip`] reads it.
pub fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |a: &IpAddr| trusted.iter().any(|n| n.contains(a));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An entry that is not an address (garbage, `unknown`) ends the chain of trust.
        let Ok(addr) = hop.parse::<IpAddr>() else {
            break;
        };
        client = addr;
        if !is_trusted(&addr) {
            break;
        }
    }
    client
}

/// The client address as an extractor (see [`client_ip`]).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &state.trusted_proxies)))
    }
}

/// The value of a request cookie, as the `cookie` crate parses `Cookie` headers (the
/// parser of axum-extra's jar). When a name is sent twice the *first* counts: browsers send
/// the cookie of the most specific path, then the oldest, first, so a cookie tossed in
/// later from a sibling domain cannot replace the session (axum-extra's `CookieJar` would
/// keep the last one, which is why it is not used as a jar here).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(axum_extra::extract::cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// Paths a user who must change their password may still use.
const PASSWORD_CHANGE_PATHS: &[&str] = &[
    "/api/v1/auth/password",
    "/api/v1/auth/me",
    "/api/v1/auth/logout",
    "/doi-mat-khau",
];

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        match authenticate(parts, state).await? {
            Some(p) => Ok(p),
            None => Err(AppError::Unauthorized(
                "Bạn cần đăng nhập để dùng chức năng này.".to_owned(),
            )),
        }
    }
}

/// The caller if authenticated, `None` if anonymous; a bad credential is still an error.
pub struct MaybePrincipal(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybePrincipal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(MaybePrincipal(authenticate(parts, state).await?))
    }
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Principal>, AppError> {
    let ip = client_ip(parts, &state.trusted_proxies);
    if let Some(auth) = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let token = auth
            .strip_prefix("Bearer ")
            .ok_or_else(|| AppError::Unauthorized("Tiêu đề Authorization phải có dạng «Bearer <mã>».".to_owned()))?;
        return api_token_principal(state, token, ip).await.map(Some);
    }
    let Some(raw) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let principal = session_principal(state, &raw, ip).await?;
    // State-changing calls made with a session cookie must prove they come from our own
    // pages: the CSRF token bound to the session, echoed in a header.
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        && let Credential::Session { csrf_token, .. } = &principal.credential
    {
        let given = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if given.is_empty() || !same_secret(given, csrf_token) {
            return Err(AppError::Forbidden(
                "Yêu cầu bị từ chối vì thiếu hoặc sai mã chống giả mạo (CSRF). Hãy tải lại trang.".to_owned(),
            ));
        }
    }
    if principal.user.as_ref().is_some_and(|u| u.must_change_password)
        && !PASSWORD_CHANGE_PATHS.contains(&parts.uri.path())
    {
        return Err(AppError::ForbiddenCode {
            code: "password_change_required",
            message: "Bạn phải đổi mật khẩu trước khi tiếp tục.".to_owned(),
        });
    }
    Ok(Some(principal))
}

/// How many makers deep a token made by a token (made by a token…) is followed before it is
/// refused: far more than anyone needs, and a bound on the reads one request makes.
const MAX_TOKEN_CHAIN: usize = 8;

/// Whether whoever made `token` still stands behind it at `now_ms`: the account that made
/// it is not disabled, and a token made by a token (`token:<id>`) was made by a live one
/// (not revoked, not expired) whose own maker stands behind it, and so on, at most
/// [`MAX_TOKEN_CHAIN`] deep. A maker that names no account is not checked further: the
/// administration API always names one (accounts are never deleted), so only a token
/// seeded directly into the database (a test harness's) has none.
async fn maker_stands_behind(
    tx: &mut motcua_store::Tx,
    token: &accounts::ApiToken,
    now_ms: i64,
) -> Result<bool, AppError> {
    let mut maker = token.created_by.clone();
    for _ in 0..MAX_TOKEN_CHAIN {
        match maker.strip_prefix("token:") {
            Some(id) => match accounts::api_token_by_id(tx, id, now_ms).await? {
                Some(parent) => maker = parent.created_by,
                None => return Ok(false),
            },
            None => return Ok(accounts::user_by_id(tx, &maker).await?.is_none_or(|u| !u.disabled)),
        }
    }
    Ok(false)
}

async fn api_token_principal(state: &AppState, token: &str, ip: String) -> Result<Principal, AppError> {
    let invalid = || AppError::Unauthorized("Mã truy cập API không hợp lệ, đã hết hạn hoặc đã bị thu hồi.".to_owned());
    let hash = secret_hash(token);
    let now = crate::now_ms();
    let mut tx = state.db.begin_read().await?;
    let found = accounts::api_token_by_hash(&mut tx, &hash, now)
        .await?
        .ok_or_else(invalid)?;
    if !maker_stands_behind(&mut tx, &found, now).await? {
        return Err(invalid());
    }
    drop(tx);
    let province = found
        .province_code
        .as_deref()
        .and_then(|p| ProvinceCode::parse(p).ok())
        .ok_or_else(invalid)?;
    let grants = found
        .scopes
        .split_whitespace()
        .filter_map(|s| SCOPES.iter().find(|(name, _)| *name == s))
        .map(|(_, role)| Grant {
            role: *role,
            province: province.clone(),
            agency: province.as_agency().clone(),
        })
        .collect();
    if found.last_used_at.is_none_or(|t| now - t > 60_000) {
        unless_disk_full(
            async {
                let mut tx = state.db.begin_write().await?;
                accounts::touch_api_token(&mut tx, &found.id, now).await?;
                tx.commit().await
            }
            .await,
        )?;
    }
    Ok(Principal {
        user: None,
        access: Access::new(grants),
        credential: Credential::ApiToken {
            id: found.id,
            name: found.name,
        },
        ip,
    })
}

/// The access `grants` give, each held at a commune centre scoped to that centre and its
/// commune (docs/map-2025.md §5; the province's tree from the cached directory).
pub async fn access_of(state: &AppState, grants: Vec<Grant>) -> Result<Access, AppError> {
    let mut communes: Vec<(ProvinceCode, AgencyCode, AgencyCode)> = Vec::new();
    for g in &grants {
        if matches!(g.role, Role::CentreDirector | Role::CounterOfficer) && &g.agency != g.province.as_agency() {
            let dir = crate::service::dossiers::directory(state, &g.province).await?;
            if let Some(commune) = dir.tree.commune_of(&g.agency) {
                communes.push((g.province.clone(), g.agency.clone(), commune.code.clone()));
            }
        }
    }
    Ok(Access::scoped(grants, |province, agency| {
        communes
            .iter()
            .find(|(p, a, _)| p == province && a == agency)
            .map(|(_, _, c)| c.clone())
    }))
}

/// The outcome of marking a session's or token's last use: a full disk does not fail the
/// request (the mark only bounds an idle timeout, to the minute, and reads must keep working
/// while an operator frees space); any other failure does.
fn unless_disk_full(marked: Result<(), motcua_store::StoreError>) -> Result<(), AppError> {
    match marked {
        Err(motcua_store::StoreError::Full(e)) => {
            tracing::warn!(error = %e, "disk full: the last use of a session or token was not recorded");
            Ok(())
        }
        other => Ok(other?),
    }
}

async fn session_principal(state: &AppState, raw: &str, ip: String) -> Result<Principal, AppError> {
    let expired = || AppError::Unauthorized("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.".to_owned());
    let hash = secret_hash(raw);
    let mut tx = state.db.begin_read().await?;
    let session = accounts::session(&mut tx, &hash).await?.ok_or_else(expired)?;
    let now = crate::now_ms();
    let idle_ms = i64::try_from(state.config.session_idle_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
    if session.expires_at <= now || session.last_seen_at + idle_ms <= now {
        drop(tx);
        let mut tx = state.db.begin_write().await?;
        accounts::delete_session(&mut tx, &hash).await?;
        tx.commit().await?;
        return Err(expired());
    }
    let user = accounts::user_by_id(&mut tx, &session.user_id)
        .await?
        .ok_or_else(expired)?;
    if user.disabled {
        return Err(expired());
    }
    let grants = accounts::grants(&mut tx, &user.id).await?;
    drop(tx);
    // Record activity at most once a minute: an idle timeout needs no finer grain, and
    // reads stay reads.
    if now - session.last_seen_at > 60_000 {
        unless_disk_full(
            async {
                let mut tx = state.db.begin_write().await?;
                accounts::touch_session(&mut tx, &hash, now).await?;
                tx.commit().await
            }
            .await,
        )?;
    }
    let access = access_of(state, grants).await?;
    Ok(Principal {
        user: Some(user),
        access,
        credential: Credential::Session {
            token_hash: hash,
            csrf_token: session.csrf_token,
        },
        ip,
    })
}

/// The `Set-Cookie` value that installs a session.
pub fn session_cookie(state: &AppState, token: &str) -> Result<HeaderValue, AppError> {
    let max_age = state.config.session_max_hours.saturating_mul(3600);
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("motcua_session=; Path=/; Max-Age=0"))
}

/// The browser's user agent, truncated.
pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// Milliseconds of an instant.
pub fn millis(t: OffsetDateTime) -> i64 {
    motcua_store::to_millis(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn cookies_are_read_by_the_cookie_parser_first_one_counting() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("a=1; motcua_session=first; junk; b=\"q\""),
        );
        h.append(COOKIE, HeaderValue::from_static("motcua_session=second"));
        assert_eq!(cookie(&h, "motcua_session").as_deref(), Some("first"));
        assert_eq!(cookie(&h, "a").as_deref(), Some("1"));
        assert_eq!(cookie(&h, "missing"), None);
        assert_eq!(cookie(&HeaderMap::new(), "a"), None);
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies_and_only_up_to_them() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().expect("net"), "127.0.0.1/32".parse().expect("net")];
        // Without trusted proxies, or from an untrusted peer, the header is ignored.
        assert_eq!(forwarded_client(ip("10.1.1.1"), &xff("1.2.3.4"), &[]), ip("10.1.1.1"));
        assert_eq!(
            forwarded_client(ip("8.8.8.8"), &xff("1.2.3.4"), &trusted),
            ip("8.8.8.8")
        );
        // From a trusted proxy: the last address that is not a trusted proxy.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &xff("1.2.3.4"), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &xff("1.2.3.4, 10.0.0.7"), &trusted),
            ip("1.2.3.4")
        );
        // What the client wrote itself (to the left) does not count.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &xff("6.6.6.6, 1.2.3.4"), &trusted),
            ip("1.2.3.4")
        );
        // Garbage ends the chain at the last good hop; no header: the proxy itself.
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &xff("unknown, 10.0.0.7"), &trusted),
            ip("10.0.0.7")
        );
        assert_eq!(
            forwarded_client(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }
}
