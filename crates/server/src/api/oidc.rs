//! Login through the national single sign-on with OpenID Connect: the authorization code
//! flow with PKCE.
//!
//! `GET /auth/sso/start` stores a login in progress (a random `state`, `nonce` and PKCE
//! verifier, for ten minutes) and sends the browser to the provider. The provider sends it
//! back to `GET /auth/sso/callback?code&state`; the callback takes the state (once), checks
//! that the browser is the one that started (a cookie holding the state), exchanges the code
//! at the token endpoint, verifies the ID token against the provider's published keys, finds
//! or creates the citizen account linked to the provider's `(issuer, sub)` and starts a
//! session exactly as a password login does.
//!
//! The provider's discovery document and keys are cached per router. An ID token signed
//! with a key the cache does not know triggers one fresh fetch of the keys, which is how a
//! key rotation at the provider is followed.
//!
//! The JWS itself (header, algorithm, signature) and the provider's keys (JWKS) are handled
//! by the `jsonwebtoken` crate; this module chooses the key, says which algorithms and
//! claims are acceptable, and checks what OpenID Connect adds (`azp`, `iat`, `nonce`, …).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, Validation};
use motcua_core::access::{Grant, Role};
use motcua_store::accounts::{self, NewUser, User, UserKind};
use motcua_store::sso;
use reqwest::Url;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit::{self, Actor, Event};
use crate::auth::{self, ClientIp, random_id, random_token, same_secret, secret_hash};
use crate::error::AppError;
use crate::extract::ApiQuery;
use crate::state::AppState;

/// Cookie that binds a login in progress to the browser that started it. It holds the
/// `state` value itself: a callback is accepted only from the browser that carries it, so
/// nobody can make a victim's browser finish a login the attacker started (login CSRF).
pub const STATE_COOKIE: &str = "motcua_sso_state";
/// Path of the start route.
pub const START_PATH: &str = "/auth/sso/start";
/// Path of the callback route, appended to `public_url` to form the redirect URI.
pub const CALLBACK_PATH: &str = "/auth/sso/callback";
/// Scopes asked of the provider.
pub const SCOPES: &str = "openid profile email";

/// How long a login may stay at the provider before its state is refused.
const STATE_TTL_MS: i64 = 10 * 60 * 1000;
/// Clock difference tolerated between the provider and us when checking `exp`, `nbf` and
/// `iat`.
const LEEWAY_S: f64 = 60.0;
/// An ID token issued longer ago than this is refused, whatever its `exp`: the token is
/// fetched seconds after it is issued, so an old one is a replay.
const MAX_TOKEN_AGE_S: f64 = 10.0 * 60.0;
/// How long the discovery document is trusted before it is fetched again.
const DISCOVERY_TTL: Duration = Duration::from_secs(24 * 3600);
/// An unknown key id makes us fetch the keys again, but not more often than this, so a
/// flood of forged tokens cannot turn us into a flood of requests to the provider.
const JWKS_REFETCH_MIN: Duration = Duration::from_secs(10);
/// Largest answer read from the provider.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Time allowed for one request to the provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Smallest RSA key accepted for ID token signatures.
const MIN_RSA_BITS: usize = 2048;
/// The only signature algorithms accepted: RSASSA-PKCS1-v1_5, which OpenID Connect requires
/// every provider to offer. Never `none` (which `jsonwebtoken` cannot even parse) and never
/// an HMAC, which a forger would key with our copy of the provider's public key
/// (algorithm confusion).
const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];

/// The SSO routes. They carry their own cache of the provider's metadata and keys, so each
/// router built (each test app) starts afresh.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
        .layer(Extension(Arc::new(ProviderCache::default())))
}

// ---------------------------------------------------------------------------------------
// The provider's metadata and keys
// ---------------------------------------------------------------------------------------

/// The parts of the provider's discovery document motcua uses.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    /// Absent means `client_secret_basic` (OpenID Connect Discovery 1.0, §3).
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

struct Cached<T> {
    /// What the entry was fetched for (the configured issuer, or the JWKS address), so a
    /// configuration change is never answered from a stale entry.
    source: String,
    fetched: Instant,
    /// Fetched again because a token named an unknown key (see [`JWKS_REFETCH_MIN`]).
    refreshed: bool,
    value: Arc<T>,
}

/// Discovery document and keys of the provider, and the HTTP client that fetches them.
#[derive(Default)]
struct ProviderCache {
    http: tokio::sync::OnceCell<reqwest::Client>,
    discovery: Mutex<Option<Cached<Discovery>>>,
    /// The provider's JWKS. Keys of types `jsonwebtoken` does not know are kept as
    /// `AlgorithmParameters::Other` and never chosen.
    jwks: Mutex<Option<Cached<JwkSet>>>,
}

fn unreachable_provider() -> AppError {
    AppError::Unavailable(
        "Không kết nối được với hệ thống định danh quốc gia. Vui lòng thử lại sau ít phút.".to_owned(),
    )
}

impl ProviderCache {
    async fn http(&self) -> Result<&reqwest::Client, AppError> {
        self.http
            .get_or_try_init(|| async {
                // No redirects: every address we call comes from configuration or the
                // discovery document, and a redirect could lead a request (with the client
                // secret) somewhere else.
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .timeout(PROVIDER_TIMEOUT)
                    .connect_timeout(PROVIDER_TIMEOUT)
                    .build()
                    .map_err(|e| AppError::Internal(format!("HTTP client for SSO: {e}")))
            })
            .await
    }

    /// The discovery document of `issuer`, fetched at most once a day.
    async fn discovery(&self, issuer: &str) -> Result<Arc<Discovery>, AppError> {
        if let Some(d) = self.discovery.lock().ok().and_then(|g| {
            g.as_ref()
                .filter(|c| c.source == issuer && c.fetched.elapsed() < DISCOVERY_TTL)
                .map(|c| c.value.clone())
        }) {
            return Ok(d);
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let url = parse_provider_url(&url).map_err(|e| {
            tracing::error!(error = %e, "oidc_issuer is not a usable address");
            unreachable_provider()
        })?;
        let doc: Discovery = get_json(self.http().await?, url, None).await.map_err(|e| {
            tracing::error!(error = %e, "fetching the OpenID Connect discovery document failed");
            unreachable_provider()
        })?;
        check_discovery(&doc, issuer).map_err(|e| {
            tracing::error!(error = %e, "the OpenID Connect discovery document is not acceptable");
            unreachable_provider()
        })?;
        let doc = Arc::new(doc);
        if let Ok(mut g) = self.discovery.lock() {
            *g = Some(Cached {
                source: issuer.to_owned(),
                fetched: Instant::now(),
                refreshed: false,
                value: doc.clone(),
            });
        }
        Ok(doc)
    }

    /// The provider's keys: from the cache, or fetched when there are none or `refresh`
    /// is asked. A refresh is skipped when the cached keys come from a refresh less than
    /// [`JWKS_REFETCH_MIN`] ago. The flag says whether the keys were fetched by this call.
    async fn keys(&self, jwks_uri: &str, refresh: bool) -> Result<(Arc<JwkSet>, bool), AppError> {
        let cached = self.jwks.lock().ok().and_then(|g| {
            g.as_ref()
                .filter(|c| c.source == jwks_uri)
                .map(|c| (c.value.clone(), c.refreshed && c.fetched.elapsed() < JWKS_REFETCH_MIN))
        });
        if let Some((keys, recently_refreshed)) = cached
            && (!refresh || recently_refreshed)
        {
            return Ok((keys, false));
        }
        let url = parse_provider_url(jwks_uri).map_err(|e| {
            tracing::error!(error = %e, "jwks_uri is not a usable address");
            unreachable_provider()
        })?;
        let jwks: JwkSet = get_json(self.http().await?, url, None).await.map_err(|e| {
            tracing::error!(error = %e, "fetching the provider's signing keys failed");
            unreachable_provider()
        })?;
        let keys = Arc::new(jwks);
        if let Ok(mut g) = self.jwks.lock() {
            *g = Some(Cached {
                source: jwks_uri.to_owned(),
                fetched: Instant::now(),
                refreshed: refresh,
                value: keys.clone(),
            });
        }
        Ok((keys, true))
    }

    /// Verifies an ID token against the provider's keys, fetching the keys again once when
    /// the token names a key we do not know (the provider rotated its keys).
    async fn verify(&self, jwks_uri: &str, token: &str, expected: &Expected<'_>) -> Result<IdClaims, AppError> {
        let (keys, fresh) = self.keys(jwks_uri, false).await?;
        let outcome = match verify_id_token(token, &keys.keys, expected) {
            Err(TokenError::UnknownKey) if !fresh => {
                let (keys, _) = self.keys(jwks_uri, true).await?;
                verify_id_token(token, &keys.keys, expected)
            }
            other => other,
        };
        outcome.map_err(|e| {
            tracing::warn!(error = %e, "ID token refused");
            AppError::Unauthorized(
                "Không xác minh được thông tin đăng nhập do hệ thống định danh quốc gia gửi về. Vui lòng đăng nhập lại."
                    .to_owned(),
            )
        })
    }
}

/// Addresses of the provider must be HTTPS; plain HTTP is accepted on the loopback
/// interface only (development and tests), where nothing travels over a network.
fn parse_provider_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("{s}: {e}"))?;
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(format!("{s}: only https addresses are accepted")),
    }
}

/// OpenID Connect Discovery §4.3: the document must name the issuer we asked for, or its
/// tokens could be passed off as another issuer's.
fn check_discovery(d: &Discovery, issuer: &str) -> Result<(), String> {
    if d.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "the document names issuer {:?}, but oidc_issuer is {issuer:?}",
            d.issuer
        ));
    }
    for endpoint in [&d.authorization_endpoint, &d.token_endpoint, &d.jwks_uri] {
        parse_provider_url(endpoint)?;
    }
    if let Some(u) = &d.userinfo_endpoint {
        parse_provider_url(u)?;
    }
    Ok(())
}

/// GETs a JSON document (optionally with a bearer token), refusing large answers.
async fn get_json<T: DeserializeOwned>(http: &reqwest::Client, url: Url, bearer: Option<&str>) -> Result<T, String> {
    let mut req = http.get(url.clone()).header("accept", "application/json");
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status();
    let body = crate::limits::read_limited(resp, MAX_RESPONSE_BYTES).await?;
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))
}

// ---------------------------------------------------------------------------------------
// ID token verification
// ---------------------------------------------------------------------------------------

/// What the ID token must say.
struct Expected<'a> {
    issuer: &'a str,
    client_id: &'a str,
    nonce: &'a str,
    /// Now, in seconds since the epoch.
    now_s: f64,
}

/// `aud` is one string or a list (RFC 7519 §4.1.3).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims motcua reads from an ID token (and, for the profile, from userinfo).
#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: f64,
    iat: f64,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(flatten)]
    profile: Profile,
}

/// Profile claims (OpenID Connect Core §5.1).
#[derive(Debug, Default, Clone, Deserialize)]
struct Profile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    given_name: Option<String>,
    #[serde(default)]
    family_name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean, though some providers send the string `"true"`.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

impl Profile {
    fn email_verified(&self) -> bool {
        match &self.email_verified {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        }
    }

    /// Fills what is missing here from `other`.
    fn fill_from(&mut self, other: Profile) {
        let Profile {
            name,
            given_name,
            family_name,
            email,
            email_verified,
        } = other;
        self.name = self.name.take().or(name);
        self.given_name = self.given_name.take().or(given_name);
        self.family_name = self.family_name.take().or(family_name);
        if self.email.is_none() {
            self.email = email;
            self.email_verified = email_verified;
        }
    }
}

/// Why an ID token was refused. `UnknownKey` is separate because it is answered by
/// fetching the keys again.
#[derive(Debug, PartialEq, Eq)]
enum TokenError {
    UnknownKey,
    Invalid(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::UnknownKey => f.write_str("signed with a key the provider does not publish"),
            TokenError::Invalid(why) => f.write_str(why),
        }
    }
}

fn invalid(why: impl Into<String>) -> TokenError {
    TokenError::Invalid(why.into())
}

/// Verifies a compact JWS ID token: signature (RS256, RS384 or RS512) by one of `keys`,
/// then `iss`, `aud`/`azp`, `exp`, `nbf`, `iat`, `nonce` and `sub` (OpenID Connect Core
/// §3.1.3.7). `jsonwebtoken` parses the token and the key and checks the signature over the
/// exact bytes received, the issuer and that the audience names us; the rest is checked
/// here. Only asymmetric algorithms are accepted, so `none` and an HMAC keyed with a public
/// key are refused before any key is looked at.
fn verify_id_token(token: &str, keys: &[Jwk], expected: &Expected<'_>) -> Result<IdClaims, TokenError> {
    if token.split('.').count() != 3 {
        return Err(invalid("not a compact JWS"));
    }
    // Read before the signature is checked, only to choose the key; `decode` reads it again.
    let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("header: {e}")))?;
    if header.crit.is_some() {
        // RFC 7515 §4.1.11: critical extensions we do not understand make the token invalid.
        // (`jsonwebtoken` understands `b64`; we need none.)
        return Err(invalid("critical header extensions are not supported"));
    }
    if !ALGORITHMS.contains(&header.alg) {
        return Err(invalid(format!("algorithm {:?} is not accepted", header.alg)));
    }
    let key = select_key(keys, header.alg, header.kid.as_deref())?;

    let mut validation = Validation::new(header.alg);
    validation.algorithms = ALGORITHMS.to_vec();
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    // The times are checked below, against the caller's clock and together with `iat`,
    // which the library does not know.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|e| library_refusal(&e, expected))?
        .claims;

    // `jsonwebtoken` has compared it already, but it also accepts a list of issuers that
    // contains ours; `IdClaims::iss` being a string is what refuses a list.
    if claims.iss != expected.issuer {
        return Err(invalid(format!("issuer {:?} is not {:?}", claims.iss, expected.issuer)));
    }
    let audiences: Vec<&str> = match &claims.aud {
        Audience::One(a) => vec![a.as_str()],
        Audience::Many(list) => list.iter().map(String::as_str).collect(),
    };
    // The token must be for us and for nobody else we do not know (Core §3.1.3.7, 3); the
    // library only checks that we are among the audiences.
    if !audiences.contains(&expected.client_id) || audiences.iter().any(|a| *a != expected.client_id) {
        return Err(invalid(format!("audience {audiences:?} is not this client")));
    }
    if claims.azp.as_deref().is_some_and(|azp| azp != expected.client_id) {
        return Err(invalid("authorized party is another client"));
    }
    if !claims.exp.is_finite() || claims.exp + LEEWAY_S <= expected.now_s {
        return Err(invalid("token has expired"));
    }
    if claims
        .nbf
        .is_some_and(|nbf| !nbf.is_finite() || nbf > expected.now_s + LEEWAY_S)
    {
        return Err(invalid("token is not valid yet"));
    }
    if !claims.iat.is_finite() || claims.iat > expected.now_s + LEEWAY_S {
        return Err(invalid("token is issued in the future"));
    }
    if claims.iat < expected.now_s - MAX_TOKEN_AGE_S - LEEWAY_S {
        return Err(invalid("token was issued too long ago"));
    }
    match claims.nonce.as_deref() {
        Some(n) if same_secret(n, expected.nonce) => {}
        _ => return Err(invalid("nonce does not match the login")),
    }
    if claims.sub.is_empty() || claims.sub.len() > 255 || claims.sub.chars().any(char::is_control) {
        return Err(invalid("subject is empty, too long or not text"));
    }
    Ok(claims)
}

/// Why `jsonwebtoken` refused a token, in the words the log and the tests use.
fn library_refusal(e: &jsonwebtoken::errors::Error, expected: &Expected<'_>) -> TokenError {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => invalid("signature does not verify"),
        ErrorKind::InvalidIssuer => invalid(format!("issuer is not {:?}", expected.issuer)),
        ErrorKind::InvalidAudience => invalid("audience is not this client"),
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => invalid("algorithm is not accepted"),
        ErrorKind::MissingRequiredClaim(claim) | ErrorKind::InvalidClaimFormat(claim) => {
            invalid(format!("claims: {claim} is missing or malformed"))
        }
        ErrorKind::Json(err) => invalid(format!("claims: {err}")),
        _ => invalid(format!("token: {e}")),
    }
}

/// The RSA key the header designates among the provider's signing keys: by `kid`, or the
/// only one when the header names none. Keys for encryption, for another algorithm or of
/// another type are never candidates.
fn select_key(keys: &[Jwk], alg: Algorithm, kid: Option<&str>) -> Result<DecodingKey, TokenError> {
    let candidates: Vec<&Jwk> = keys
        .iter()
        .filter(|k| matches!(k.algorithm, AlgorithmParameters::RSA(_)))
        .filter(|k| {
            k.common
                .public_key_use
                .as_ref()
                .is_none_or(|u| *u == PublicKeyUse::Signature)
        })
        .filter(|k| k.common.key_algorithm.is_none_or(|a| a == KeyAlgorithm::from(alg)))
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .collect();
    let jwk = match candidates.as_slice() {
        [one] => *one,
        [] => return Err(TokenError::UnknownKey),
        _ => return Err(invalid("several keys match the token")),
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| invalid(format!("the key's n or e is not usable: {e}")))?;
    let DecodingKeyKind::RsaModulusExponent { n, .. } = key.kind() else {
        return Err(invalid("the key is not an RSA key"));
    };
    let modulus_bytes = n.iter().skip_while(|b| **b == 0).count();
    if modulus_bytes * 8 < MIN_RSA_BITS {
        return Err(invalid(format!("the key has fewer than {MIN_RSA_BITS} bits")));
    }
    Ok(key)
}

// ---------------------------------------------------------------------------------------
// The routes
// ---------------------------------------------------------------------------------------

/// SSO settings in force, or 404 when SSO is off.
struct Settings<'a> {
    issuer: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    redirect_uri: String,
}

fn settings(state: &AppState) -> Result<Settings<'_>, AppError> {
    let c = &state.config;
    if c.oidc_issuer.trim().is_empty() {
        return Err(AppError::NotFound(
            "Đăng nhập bằng tài khoản định danh điện tử quốc gia (SSO) chưa được bật trên hệ thống này. \
             Vui lòng đăng nhập bằng tên đăng nhập và mật khẩu."
                .to_owned(),
        ));
    }
    if c.oidc_client_id.is_empty() {
        return Err(AppError::Internal(
            "oidc_issuer is set but oidc_client_id is empty".to_owned(),
        ));
    }
    Ok(Settings {
        issuer: c.oidc_issuer.trim(),
        client_id: &c.oidc_client_id,
        client_secret: &c.oidc_client_secret,
        redirect_uri: format!("{}{CALLBACK_PATH}", c.public_base()),
    })
}

/// Query of `GET /auth/sso/start`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartQuery {
    /// Local path to return to after login (default `/`).
    #[serde(default)]
    next: Option<String>,
}

/// A path on this site: starts with one `/` (not `//`, which browsers read as another
/// host), printable ASCII without backslashes (which some browsers read as `/`).
fn local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 512
        && next.chars().all(|c| c.is_ascii_graphic() && c != '\\')
}

fn cookie_attributes(state: &AppState, max_age: i64) -> String {
    let secure = if state.config.secure_cookies { "; Secure" } else { "" };
    // SameSite=Lax: the provider sends the browser back with a top-level GET, which Lax
    // cookies accompany; Path keeps it off every other request.
    format!("; Path=/auth/sso; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

fn header_value(s: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(s).map_err(|e| AppError::Internal(format!("header value: {e}")))
}

/// `GET /auth/sso/start`: sends the browser to the national SSO (303).
async fn start(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<ProviderCache>>,
    ClientIp(ip): ClientIp,
    ApiQuery(query): ApiQuery<StartQuery>,
) -> Result<Response, AppError> {
    let settings = settings(&state)?;
    // Each start writes a row, so anonymous starts share the login budget per address.
    crate::service::accounts::count_login(&state, &ip).await?;
    let next = query.next.filter(|n| !n.is_empty()).unwrap_or_else(|| "/".to_owned());
    if !local_path(&next) {
        return Err(AppError::bad(
            "invalid_parameter",
            "next",
            "Địa chỉ quay về sau khi đăng nhập phải là một đường dẫn trong hệ thống này.",
        ));
    }
    let discovery = cache.discovery(settings.issuer).await?;

    let state_value = random_token(32);
    let nonce = random_token(32);
    let verifier = random_token(32);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let now = crate::now_ms();
    let mut tx = state.db.begin_write().await?;
    sso::purge_states(&mut tx, now).await?;
    sso::create_state(
        &mut tx,
        &sso::SsoState {
            state_hash: secret_hash(&state_value),
            nonce: nonce.clone(),
            pkce_verifier: verifier,
            next_path: next,
            created_at: now,
            expires_at: now + STATE_TTL_MS,
        },
    )
    .await?;
    tx.commit().await?;

    let mut url = parse_provider_url(&discovery.authorization_endpoint).map_err(AppError::Internal)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", settings.client_id)
        .append_pair("redirect_uri", &settings.redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("state", &state_value)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    headers.insert(LOCATION, header_value(url.as_str())?);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        SET_COOKIE,
        header_value(&format!(
            "{STATE_COOKIE}={state_value}{}",
            cookie_attributes(&state, STATE_TTL_MS / 1000)
        ))?,
    );
    Ok(response)
}

/// Query of `GET /auth/sso/callback`: a code and the state, or an error, plus whatever
/// else the provider adds (`iss`, `session_state`, …).
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    /// The authorization code.
    #[serde(default)]
    code: Option<String>,
    /// The state given at start.
    #[serde(default)]
    state: Option<String>,
    /// The provider's error code, when the login did not happen.
    #[serde(default)]
    error: Option<String>,
    /// The issuer that answers (RFC 9207), when the provider sends it.
    #[serde(default)]
    iss: Option<String>,
}

/// `GET /auth/sso/callback`: finishes the login, starts a session and returns the browser
/// to where it started (303). The state cookie is removed whatever the outcome.
async fn callback(
    State(state): State<AppState>,
    Extension(cache): Extension<Arc<ProviderCache>>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Response {
    let mut response = callback_inner(&state, &cache, &ip, &headers, query)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    if let Ok(clear) = header_value(&format!("{STATE_COOKIE}={}", cookie_attributes(&state, 0))) {
        response.headers_mut().append(SET_COOKIE, clear);
    }
    response
}

fn bad_state() -> AppError {
    AppError::BadRequest {
        code: "invalid_state",
        message: "Phiên đăng nhập qua hệ thống định danh quốc gia không hợp lệ, đã được dùng hoặc đã hết hạn \
                  (10 phút). Vui lòng bấm đăng nhập lại."
            .to_owned(),
        field: Some("state".to_owned()),
    }
}

async fn callback_inner(
    state: &AppState,
    cache: &ProviderCache,
    ip: &str,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<Response, AppError> {
    let settings = settings(state)?;
    let now = crate::now_ms();

    // The state must be the one this browser started with, and is used up here whatever
    // follows, so a callback URL works once.
    let given = query.state.as_deref().unwrap_or_default();
    let cookie = auth::cookie(headers, STATE_COOKIE).unwrap_or_default();
    let login = if given.is_empty() || cookie.is_empty() || !same_secret(given, &cookie) {
        None
    } else {
        let mut tx = state.db.begin_write().await?;
        let taken = sso::take_state(&mut tx, &secret_hash(given), now).await?;
        tx.commit().await?;
        taken
    };

    if let Some(error) = query.error.as_deref() {
        return Err(provider_error(error));
    }
    let login = login.ok_or_else(bad_state)?;
    let discovery = cache.discovery(settings.issuer).await?;
    // RFC 9207: a provider that names itself must be the one we sent the browser to (an
    // answer from another provider would otherwise be mixed up with ours).
    if let Some(iss) = query.iss.as_deref()
        && iss != discovery.issuer
    {
        tracing::warn!(iss, "authorization response from an unexpected issuer");
        return Err(bad_state());
    }
    let code = query.code.filter(|c| !c.is_empty()).ok_or_else(|| {
        AppError::bad(
            "invalid_parameter",
            "code",
            "Hệ thống định danh quốc gia không gửi mã xác thực. Vui lòng đăng nhập lại.",
        )
    })?;

    let tokens = exchange_code(cache, &discovery, &settings, &code, &login.pkce_verifier).await?;
    let expected = Expected {
        issuer: &discovery.issuer,
        client_id: settings.client_id,
        nonce: &login.nonce,
        now_s: now as f64 / 1000.0,
    };
    let mut claims = cache.verify(&discovery.jwks_uri, &tokens.id_token, &expected).await?;
    if claims.profile.name.is_none() || claims.profile.email.is_none() {
        // Many providers put the profile only in userinfo (Core §5.4); it fills the gaps.
        if let (Some(endpoint), Some(access)) = (&discovery.userinfo_endpoint, &tokens.access_token) {
            match userinfo(cache, endpoint, access, &claims.sub).await {
                Ok(profile) => claims.profile.fill_from(profile),
                Err(e) => tracing::warn!(error = %e, "userinfo could not be read; using the ID token alone"),
            }
        }
    }

    // Two first logins of one person may race; the loser of the race finds the account
    // the winner created when it tries again.
    let mut attempt = 0;
    let (user, session) = loop {
        attempt += 1;
        match sign_in(state, &discovery.issuer, &claims, ip, headers, now).await {
            Err(AppError::Conflict(_)) if attempt < 2 => continue,
            other => break other?,
        }
    };
    tracing::info!(user = %user.id, "signed in through SSO");

    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    // The path was checked at start; check again, since the row could have been written
    // by an older version or by hand.
    let next = if local_path(&login.next_path) {
        login.next_path.as_str()
    } else {
        "/"
    };
    h.insert(LOCATION, header_value(next)?);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(SET_COOKIE, session.cookie(state)?);
    Ok(response)
}

/// A clear message for each error the provider can send back (RFC 6749 §4.1.2.1,
/// OpenID Connect Core §3.1.2.6). The provider's own description is logged, not shown:
/// it is in English at best and is not ours to vouch for.
fn provider_error(error: &str) -> AppError {
    let code: String = error
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    tracing::info!(error = %code, "the provider answered with an error");
    match code.as_str() {
        "access_denied" => AppError::Forbidden(
            "Bạn đã hủy hoặc không đồng ý chia sẻ thông tin tại hệ thống định danh quốc gia, nên chưa đăng nhập \
             được. Bạn có thể đăng nhập lại bất cứ lúc nào."
                .to_owned(),
        ),
        "login_required" | "interaction_required" | "consent_required" | "account_selection_required" => {
            AppError::Unauthorized(
                "Hệ thống định danh quốc gia cần bạn đăng nhập hoặc xác nhận thêm. Vui lòng đăng nhập lại.".to_owned(),
            )
        }
        "temporarily_unavailable" | "server_error" => AppError::Unavailable(
            "Hệ thống định danh quốc gia đang tạm thời gián đoạn. Vui lòng thử lại sau ít phút.".to_owned(),
        ),
        _ => AppError::BadRequest {
            code: "sso_error",
            message: format!(
                "Hệ thống định danh quốc gia từ chối yêu cầu đăng nhập (mã lỗi: {code}). Vui lòng thử lại hoặc \
                 liên hệ bộ phận hỗ trợ của trung tâm."
            ),
            field: None,
        },
    }
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenErrorResponse {
    #[serde(default)]
    error: String,
}

/// Exchanges the code at the token endpoint, authenticating the way the provider
/// publishes: `client_secret_basic` unless it offers only `client_secret_post`.
async fn exchange_code(
    cache: &ProviderCache,
    discovery: &Discovery,
    settings: &Settings<'_>,
    code: &str,
    verifier: &str,
) -> Result<TokenResponse, AppError> {
    let methods = &discovery.token_endpoint_auth_methods_supported;
    let basic = methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic");
    if !basic && !methods.iter().any(|m| m == "client_secret_post") {
        return Err(AppError::Internal(format!(
            "the provider supports neither client_secret_basic nor client_secret_post: {methods:?}"
        )));
    }
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", settings.redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    let url = parse_provider_url(&discovery.token_endpoint).map_err(AppError::Internal)?;
    let mut req = cache.http().await?.post(url).header("accept", "application/json");
    if basic {
        // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined, so a
        // secret containing `:` or `%` survives.
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = STANDARD.encode(format!("{}:{}", enc(settings.client_id), enc(settings.client_secret)));
        req = req.header("authorization", format!("Basic {credentials}"));
    } else {
        form.push(("client_id", settings.client_id));
        form.push(("client_secret", settings.client_secret));
    }
    let resp = req.form(&form).send().await.map_err(|e| {
        tracing::error!(error = %e, "the token endpoint could not be reached");
        unreachable_provider()
    })?;
    let status = resp.status();
    let body = crate::limits::read_limited(resp, MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "the token endpoint's answer could not be read");
            unreachable_provider()
        })?;
    if status.is_server_error() {
        tracing::error!(%status, "the token endpoint failed");
        return Err(unreachable_provider());
    }
    if !status.is_success() {
        let error = serde_json::from_slice::<TokenErrorResponse>(&body)
            .map(|e| e.error)
            .unwrap_or_default();
        tracing::warn!(%status, error = %error, "the token endpoint refused the code");
        if error == "invalid_client" || error == "unauthorized_client" {
            // Our registration with the provider is wrong: an operator must act.
            return Err(AppError::Internal(format!(
                "the provider refused this client ({error}); check oidc_client_id and oidc_client_secret"
            )));
        }
        return Err(AppError::Unauthorized(
            "Hệ thống định danh quốc gia không chấp nhận mã đăng nhập (mã đã hết hạn hoặc đã được dùng). \
             Vui lòng đăng nhập lại."
                .to_owned(),
        ));
    }
    serde_json::from_slice(&body).map_err(|e| {
        tracing::error!(error = %e, "the token endpoint's answer has no usable ID token");
        unreachable_provider()
    })
}

#[derive(Debug, Deserialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    profile: Profile,
}

/// The profile from the userinfo endpoint. Core §5.3.2: its `sub` must be the ID
/// token's, or the answer is about somebody else and is ignored.
async fn userinfo(cache: &ProviderCache, endpoint: &str, access_token: &str, sub: &str) -> Result<Profile, String> {
    let url = parse_provider_url(endpoint)?;
    let http = cache.http().await.map_err(|e| e.to_string())?;
    let info: UserInfo = get_json(http, url, Some(access_token)).await?;
    if info.sub != sub {
        return Err("userinfo is about another subject".to_owned());
    }
    Ok(info.profile)
}

/// One text field from the provider, in NFC, without control characters, bounded.
fn clean(s: &str, max_chars: usize) -> String {
    motcua_core::text::nfc(s.trim())
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect::<String>()
        .trim()
        .to_owned()
}

fn display_name(p: &Profile) -> String {
    let name = p.name.as_deref().map(|n| clean(n, 200)).unwrap_or_default();
    if !name.is_empty() {
        return name;
    }
    // Vietnamese names put the family name first.
    let joined = format!(
        "{} {}",
        p.family_name.as_deref().unwrap_or_default(),
        p.given_name.as_deref().unwrap_or_default()
    );
    let joined = clean(&joined, 200);
    if joined.is_empty() {
        "Công dân".to_owned()
    } else {
        joined
    }
}

/// A verified email address plausible enough to serve as a login name.
fn verified_email(p: &Profile) -> Option<String> {
    let email = p.email.as_deref().map(|e| clean(e, 254).to_lowercase())?;
    let (local, domain) = email.split_once('@')?;
    let plausible = p.email_verified()
        && !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace);
    plausible.then_some(email)
}

/// Finds or creates the account of this identity and starts its session, in one
/// transaction with the audit records.
async fn sign_in(
    state: &AppState,
    issuer: &str,
    claims: &IdClaims,
    ip: &str,
    headers: &HeaderMap,
    now_ms: i64,
) -> Result<(User, crate::service::accounts::NewSession), AppError> {
    let province = state.province(None).await?;
    let now = OffsetDateTime::now_utc();
    let mut tx = state.db.begin_write().await?;
    let linked = sso::user_for_identity(&mut tx, issuer, &claims.sub).await?;
    let (user, created) = match linked {
        Some(id) => {
            let user = accounts::user_by_id(&mut tx, &id)
                .await?
                .ok_or_else(|| AppError::Internal(format!("SSO identity linked to missing account {id}")))?;
            (user, false)
        }
        None => {
            let email = verified_email(&claims.profile);
            let username = choose_username(&mut tx, email.as_deref(), &claims.sub).await?;
            let name = display_name(&claims.profile);
            let id = random_id();
            let user = accounts::create_user(
                &mut tx,
                &NewUser {
                    id: &id,
                    // Citizens have no home province: they may file anywhere.
                    province: None,
                    kind: UserKind::Citizen,
                    username: &username,
                    display_name: &name,
                    email: email.as_deref().unwrap_or_default(),
                    phone: "",
                    citizen_id: "",
                    // No password: this account signs in through the provider only, and
                    // an empty hash never verifies.
                    password_hash: "",
                    must_change_password: false,
                },
                now,
            )
            .await?;
            sso::link_identity(&mut tx, issuer, &claims.sub, &user.id, now).await?;
            accounts::add_grant(
                &mut tx,
                &user.id,
                &Grant {
                    role: Role::Citizen,
                    province: province.clone(),
                    agency: province.as_agency().clone(),
                },
            )
            .await?;
            (user, true)
        }
    };
    if user.disabled || user.kind != UserKind::Citizen {
        // A disabled account stays out; and an identity of the citizens' provider never
        // opens a staff account, even if one was linked by hand.
        return Err(AppError::Forbidden(
            "Tài khoản gắn với danh tính này đã bị khóa hoặc không dùng được cho đăng nhập công dân. \
             Vui lòng liên hệ trung tâm phục vụ hành chính công."
                .to_owned(),
        ));
    }
    let actor = Actor {
        id: user.id.clone(),
        name: format!("{} ({})", user.display_name, user.username),
        ip,
    };
    // Citizens have no home province, so both records go to the system chain: one
    // transaction appends to one chain only.
    if created {
        audit::record(
            &mut tx,
            &actor,
            Event {
                action: "citizen.register_sso",
                object_type: "user",
                object_id: &user.id,
                province: None,
                before: None,
                after: Some(serde_json::json!({
                    "username": user.username,
                    "display_name": user.display_name,
                    "issuer": issuer,
                    "grant": { "role": Role::Citizen.as_str(), "province": province.as_str() },
                })),
            },
        )
        .await?;
    }
    let session = crate::service::accounts::start_session(
        state,
        &mut tx,
        &user.id,
        ip,
        &crate::auth::user_agent(headers),
        now_ms,
    )
    .await?;
    audit::record(
        &mut tx,
        &actor,
        Event {
            action: "auth.sso_login",
            object_type: "user",
            object_id: &user.id,
            province: user.province.as_deref(),
            before: None,
            after: Some(serde_json::json!({ "issuer": issuer })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((user, session))
}

/// The login name of a new account: the verified email when nobody uses it, else
/// `sso:` and the first 16 hex digits of a SHA-256 of the subject (never the subject itself,
/// which may be a citizen ID number), with a random suffix in the unlikely case that is
/// taken too. The `:` keeps these names apart from any a person can choose.
async fn choose_username(tx: &mut motcua_store::Tx, email: Option<&str>, sub: &str) -> Result<String, AppError> {
    if let Some(email) = email
        && accounts::user_by_username(tx, email).await?.is_none()
    {
        return Ok(email.to_owned());
    }
    // The national SSO may use the citizen ID number as `sub`: never show it as a username
    // (Decree 13/2023); a digest of it is stable and reveals nothing.
    let digest = crate::auth::secret_hash(&clean(sub, 255));
    let base = format!("sso:{}", &digest[..16]);
    if accounts::user_by_username(tx, &base).await?.is_none() {
        return Ok(base);
    }
    let suffix: String = random_id().chars().take(8).collect();
    Ok(format!("{base}:{suffix}"))
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use jsonwebtoken::EncodingKey;
    use serde_json::{Value, json};

    use super::*;

    const ISSUER: &str = "https://sso.example.vn";
    const CLIENT: &str = "motcua";
    const NONCE: &str = "nonce-123";
    const NOW: f64 = 1_750_000_000.0;

    /// Two 2048-bit RSA test keys (PKCS#1 DER, base64), made once with
    /// `openssl genrsa -traditional 2048`. Fixed keys keep the tests fast and need no RSA
    /// key generation code.
    /// Published as `k1` in most tests.
    const KEY_1: &str = concat!(
        "MIIEowIBAAKCAQEAtgjjX9ZltK2u2wuPO+973wZk41gAVgOXZuRxuXgK/3ke1Ahihepv5UszzDF8qOQNj/6GW8gO",
        "XgsdW5kDaz4M95JZep6WQL9L5O3Kf6hGFlwPzlmpd3R/+JpDuIhKdn3E0UG7+0Pq4R5DgOhQ0V5q3R8uzXLwD2Oq",
        "k/BfWoYHzSZ8DkQxo6+fm1V8WuX70ZNvDYLkFPM7+CzzR3syHsdDSMJOkGRFTViyOvoKlCPROC/RQ25OZNAyNDaY",
        "wEIL1FwcqIuN+PVYruji3HEGBo882SdNkhEFf/I7ey76UPBNLq77SvORaU/OpdU0M8XJhPXZyG8XqFeytF/SP7ee",
        "qByMdQIDAQABAoIBACpNp/uQcVvbBhjxF4Ub+0tB6uW7gH58wK1gdv5dY57pyKyJU04gRIdCogO412nPb8hwI8zG",
        "EfKwfg7YoScFyVEqgWFh4/ShkDNgQJBIrJsLI4A2rY+tcwT04rqKb9WYFkp0DonOx5Gv7QuS0Z9KZCbFlaSYqqnE",
        "5XISaTJ6FeuKeuURhFbmNvZMA7/SMIiEDNp9Sphc1KxxasBjbHMOwqk5n8I4TQaQ8PBtQWQBBRgBIkhBcqtdkktV",
        "ElaqQ/3OEjdjxv+RUvEoWwjEhkBanvrGYztQpQ6O0WSPQTuFrim8xB6++mqR0YTzqMGf/KjrWzaKkDcgu9aEKrWL",
        "C9BRsfECgYEA3rqJDMWHlJ5+TAbZI6BZZnLvqpIIGa8EiaeswLM4MgRrV4MzQAMxiGjScAgGN5y/7ey2HIp3wosY",
        "4930zTpYBu2IIzlOMAZzUY7vftghoPNgmirFm5zuAUoatsDNeicM4bLMRsbu7AWAEpHOImnciAMQ5lDX5tX+17gB",
        "CJfdgEUCgYEA0ToofGEXOVduY+d77l8/VJ23Q+NeJ6oFOYAI/YVFxy3JPj9I03RI0G9JgXByJVqaLZFPhBJFrvWc",
        "OxjcYmg1+yPPq1JafXzH+ilWQyNE9LH6dFv2oxqvRvbSdAA8Ak0kcwQkqqpgHE4K84e5mUyTLPyo2Sf7ZBZ8bGJc",
        "L/ydFnECgYBlwieXVC/rcLYXGhHeuwXdTqm87lcRFOsn0RmWOMt13psEMocZudvJjMqIMMJWaiEuHLXfOEwa794B",
        "TYjosr1A/QjzvtzACFJrcrhs5WYH2OnLxbreq8X5hNfLoy69nlW+UCgQNhc2chTfZwocou0EnxH7h/f8GM0D1adz",
        "O58RWQKBgQCpU8cWOkFgX9jwM5SB60XGxkleQPGfaiMGUQ91ldlOBEkc/nyC3VZckeRMRGOsxXGHtVVEDsGkghPp",
        "ZApf/fTKBkZ4YZLoggcZ90Bf33hcDHokl5S4lc0KwpC53sKyHhqElvLRyEc2QRbt1ocngOiPfP9tl8UFUIlr8gKn",
        "t2qukQKBgEpF+ZrA+24hN9eZuswBGkYVPUZERTllb+1ZQWkdoebkCxc94AZo2Gn3gny6D69nXRvigbJpcwUf+IZo",
        "cMEWOB/wjzG4GcUQTla9d9bkfASyVT24dYy8k8gF0wcM9Pk9SRqCfn0ZGs4jVp4nbKAKs69mvmPyYEA1+QWN8ay+",
        "SKvv",
    );
    /// Not published, or published as `k2`.
    const KEY_2: &str = concat!(
        "MIIEpAIBAAKCAQEAmq9N8F8450gG5Fz6z70qsNO6uUjlZN7ROvJYFtWGKhC2sr0CGoYBsYs9G1VaXnqM6VLIZKtY",
        "iOMrgR0A39BMq0oCvkuIUHGZEavnQ1bxPB3wVht49eXx9i0Vf+cUrE2Jx2+1317htAIh0dLzi+nYelpSFy1bR/Kg",
        "J/8U29wOXf6utT9B0WygasVCRRSLyojTZF5tfTkNXzo9dGP0O+AHjZwZXE5xs6uADXeoHZ1eJysNEi4a01p0bVkg",
        "gwVsSWjlxYB8poxvEz2v7twv+PMsmXTZ9TKMhT757KqJkjNhqF4qO9qfSN/CAYwu5NGWxajR98Y4UL7aqU0p0cz/",
        "aolWkwIDAQABAoIBAEPTGhmLpyfCLUN0gYUVLOLb88PKcssH6DYwjO92MJ3BNlqpBYMbvyJaKzEQ+87xbVfhNHzv",
        "pKJg+XJjhT6d1wBEM2+9LsgXB0b4WS7tsFjrx7X51c/8Q1vt6L9sU2Q5m3AXS2fl8pE7Xhjipmdy4bjEYbpH6P5j",
        "JFZlQoAkvSf5FNcdBBKnKmtKxRcvJO074gzEBwoX+4VpQuWAAFSG44tFZV20ghRaudph1AWNlUcv0kmHvAq5B00L",
        "tv2kHt+IXla7puNOoQzy9o0JqLM5hBKC/yNCxV0NfrpagmD1+D6atXRTIy0b5Y5c/YeS2Q92yyqBvUQ7iNzG8xuW",
        "OAo/FAECgYEA2r/ek/5f1Qfos3uSaFv49evXLYrbngDrgE/0exiqYFeBugyAXZrPKD/32KMjhvE7XMYxBpj7EDVR",
        "slA8QQXx/XYu54sFsSECq7r4KYEbHunUPLYmTSWoFyeAte/k1GxcwjZnr3X3/JFOwBYxHSI5+Pj7fdHjddk7adVh",
        "waYwtvsCgYEAtQabu6dVOvjoq5AHBPX3f1FrIr40VXMTXl1s2wV/Rh+AkSw5jggRz6HrugglN/PAtXzKSRaM1+gJ",
        "rNUJ6am+MictHRlWz2AXorS+fISnGPtlKSnvYLqldl7hci1+OGIJfrGPPDj4tarxfwQTWx1OHIwTWqf47N0KxD1V",
        "ZodrK0kCgYEAzLXwQwkzf7Y2E/lZqyYfF21M4sbm/beYrGymu6f6kcxyj7zxSCf/I4ixleAd+EO6rPigmq8BjUqI",
        "mNmzeZppuywlevREMF5XFIUVhinXSpfC0coYj+vkoT6LmjfVKuH58Jpfb/lzSL5nNyXNcpk8LX48RKPuPLQ9gK57",
        "HHE9d48CgYBhdhFaUpjciy4ZUA23agW6EkewCN98Mdx3razxrl/7jPJXNow2H7oXI4IaQlBnc2CJVYpDF1T02QR8",
        "fKY9mxm/PsBXLlFCjOWsv8relzyvgonQQ7eRSGvU8vhF1KBkEsQx5b7MGZAtnr8uNy+Emp53WCMDZ/Po8ojdZngY",
        "H0hfoQKBgQCGO257IPVBCfcklPWX2/tBZDH4lMS+GcR6X+s7QB1oCSAxVPNp3b+OKbwUrq99Go/6OUwMGPgrH9sm",
        "itvibrM59TznZm4e8Co5u3UeU/pUxG4sdKGuubUtSr5DHk/w/rXlBtAOYfdKN3/Cp9vHu2ZL5ZELUpRvBJeep/1/",
        "FGTwZQ==",
    );
    /// The public half of [`KEY_1`] as PEM (`openssl rsa -pubout`): what a forger would use
    /// as an HMAC secret.
    const KEY_1_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtgjjX9ZltK2u2wuPO+97\n\
3wZk41gAVgOXZuRxuXgK/3ke1Ahihepv5UszzDF8qOQNj/6GW8gOXgsdW5kDaz4M\n\
95JZep6WQL9L5O3Kf6hGFlwPzlmpd3R/+JpDuIhKdn3E0UG7+0Pq4R5DgOhQ0V5q\n\
3R8uzXLwD2Oqk/BfWoYHzSZ8DkQxo6+fm1V8WuX70ZNvDYLkFPM7+CzzR3syHsdD\n\
SMJOkGRFTViyOvoKlCPROC/RQ25OZNAyNDaYwEIL1FwcqIuN+PVYruji3HEGBo88\n\
2SdNkhEFf/I7ey76UPBNLq77SvORaU/OpdU0M8XJhPXZyG8XqFeytF/SP7eeqByM\n\
dQIDAQAB\n\
-----END PUBLIC KEY-----\n\
";

    fn keys() -> &'static [EncodingKey; 2] {
        static KEYS: OnceLock<[EncodingKey; 2]> = OnceLock::new();
        KEYS.get_or_init(|| {
            let key = |b64: &str| EncodingKey::from_rsa_der(&STANDARD.decode(b64).expect("base64"));
            [key(KEY_1), key(KEY_2)]
        })
    }

    fn jwk(key: &EncodingKey, kid: &str) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(key, Algorithm::RS256).expect("public JWK");
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk
    }

    fn jwk_json(key: &EncodingKey, kid: &str) -> Value {
        serde_json::to_value(jwk(key, kid)).expect("JWK as JSON")
    }

    /// Signs `header.claims` with the algorithm the header names (RS256 when it names none
    /// the library knows).
    fn sign(key: &EncodingKey, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let alg = serde_json::from_value(header["alg"].clone()).unwrap_or(Algorithm::RS256);
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("sign");
        format!("{input}.{signature}")
    }

    fn good_claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "citizen-001", "aud": CLIENT, "exp": NOW + 300.0, "iat": NOW - 5.0,
            "nonce": NONCE, "name": "Nguyễn Thị Hoa", "email": "hoa@example.vn", "email_verified": true,
        })
    }

    fn header(kid: &str) -> Value {
        json!({"alg": "RS256", "kid": kid, "typ": "JWT"})
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISSUER,
            client_id: CLIENT,
            nonce: NONCE,
            now_s: NOW,
        }
    }

    fn check(token: &str) -> Result<IdClaims, TokenError> {
        verify_id_token(token, &[jwk(&keys()[0], "k1")], &expected())
    }

    fn with(changes: Value) -> Value {
        let mut claims = good_claims();
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                claims.as_object_mut().expect("object").remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    }

    fn refused(result: Result<IdClaims, TokenError>) -> String {
        match result {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(TokenError::Invalid(why)) => why,
            Err(TokenError::UnknownKey) => "unknown key".to_owned(),
        }
    }

    #[test]
    fn a_good_token_verifies_and_yields_the_profile() {
        let claims = check(&sign(&keys()[0], &header("k1"), &good_claims())).expect("valid token");
        assert_eq!(claims.sub, "citizen-001");
        assert_eq!(claims.profile.name.as_deref(), Some("Nguyễn Thị Hoa"));
        assert!(claims.profile.email_verified());
        // A list audience holding only us, a matching azp, and a clock slightly off are fine.
        let ok = with(json!({
            "aud": [CLIENT], "azp": CLIENT, "iat": NOW + 30.0, "nbf": NOW + 30.0, "exp": NOW - 30.0,
        }));
        assert!(check(&sign(&keys()[0], &header("k1"), &ok)).is_ok());
        // Without a kid, the only signing key is used.
        assert!(check(&sign(&keys()[0], &json!({"alg": "RS256"}), &good_claims())).is_ok());
    }

    #[test]
    fn wrong_audience_or_authorized_party_is_refused() {
        for changes in [
            json!({"aud": "another-client"}),
            json!({"aud": ["another-client"]}),
            json!({"aud": [CLIENT, "another-client"]}),
            json!({"aud": []}),
            json!({"azp": "another-client"}),
        ] {
            let why = refused(check(&sign(&keys()[0], &header("k1"), &with(changes.clone()))));
            assert!(
                why.contains("audience") || why.contains("authorized party"),
                "{changes}: {why}"
            );
        }
    }

    #[test]
    fn a_bad_signature_is_refused() {
        // Signed by another key under the name of the published one.
        let forged = sign(&keys()[1], &header("k1"), &good_claims());
        assert_eq!(refused(check(&forged)), "signature does not verify");
        // A genuine token whose claims were edited afterwards.
        let genuine = sign(&keys()[0], &header("k1"), &good_claims());
        let parts: Vec<&str> = genuine.split('.').collect();
        let edited = URL_SAFE_NO_PAD.encode(with(json!({"sub": "someone-else"})).to_string());
        let tampered = format!("{}.{edited}.{}", parts[0], parts[2]);
        assert_eq!(refused(check(&tampered)), "signature does not verify");
        // A truncated signature, and garbage.
        let truncated = &genuine[..genuine.len() - 8];
        assert!(check(truncated).is_err());
        assert!(check("not.a.jwt").is_err());
        assert!(check("").is_err());
        assert!(check(&format!("{genuine}.extra")).is_err());
    }

    #[test]
    fn only_rsa_signatures_are_accepted() {
        let claims = URL_SAFE_NO_PAD.encode(good_claims().to_string());
        for alg in ["none", "None", "NONE", "HS256", "ES256", "PS256", "EdDSA", ""] {
            let h = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": "k1"}).to_string());
            let why = refused(check(&format!("{h}.{claims}.")));
            assert!(why.contains("not accepted") || why.contains("header"), "{alg}: {why}");
            // With a genuine RS256 signature of the same claims appended, still refused.
            let genuine = sign(&keys()[0], &header("k1"), &good_claims());
            let signature = genuine.rsplit('.').next().expect("signature");
            assert!(check(&format!("{h}.{claims}.{signature}")).is_err(), "{alg}");
        }
        // `alg` missing altogether.
        let h = URL_SAFE_NO_PAD.encode(json!({"kid": "k1"}).to_string());
        assert!(refused(check(&format!("{h}.{claims}."))).contains("header"));
        for crit in [json!(["exp"]), json!(["b64"]), json!([])] {
            let token = sign(
                &keys()[0],
                &json!({"alg": "RS256", "kid": "k1", "crit": crit, "b64": true}),
                &good_claims(),
            );
            assert!(refused(check(&token)).contains("critical"), "{crit}");
        }
    }

    #[test]
    fn issuer_times_nonce_and_subject_are_checked() {
        let cases = [
            (json!({"iss": "https://evil.example"}), "issuer"),
            (json!({"iss": "https://sso.example.vn/"}), "issuer"),
            (json!({"iss": null}), "claims"),
            (json!({"iss": ["https://sso.example.vn"]}), "claims"),
            (json!({"iss": [ISSUER, "https://evil.example"]}), "claims"),
            (json!({"exp": NOW - 61.0}), "expired"),
            (json!({"exp": null}), "claims"),
            (json!({"exp": "soon"}), "claims"),
            (json!({"nbf": NOW + 120.0}), "not valid yet"),
            (json!({"iat": NOW + 120.0}), "future"),
            (json!({"iat": NOW - 3600.0}), "too long ago"),
            (json!({"nonce": "another"}), "nonce"),
            (json!({"nonce": null}), "nonce"),
            (json!({"nonce": NONCE.to_uppercase()}), "nonce"),
            (json!({"nonce": format!("{NONCE} ")}), "nonce"),
            (json!({"sub": ""}), "subject"),
            (json!({"sub": "x".repeat(256)}), "subject"),
            (json!({"sub": "citizen\n001"}), "subject"),
            (json!({"sub": 1}), "claims"),
        ];
        for (changes, expected_reason) in cases {
            let why = refused(check(&sign(&keys()[0], &header("k1"), &with(changes.clone()))));
            assert!(why.contains(expected_reason), "{changes}: {why}");
        }
    }

    #[test]
    fn an_unknown_key_is_reported_as_such_so_the_keys_are_fetched_again() {
        let token = sign(&keys()[1], &header("k2"), &good_claims());
        assert_eq!(check(&token).err(), Some(TokenError::UnknownKey));
        // A published encryption key, or one for another algorithm, is not a signing key.
        let mut enc = jwk(&keys()[1], "k2");
        enc.common.public_key_use = Some(PublicKeyUse::Encryption);
        assert_eq!(
            verify_id_token(&token, &[enc], &expected()).err(),
            Some(TokenError::UnknownKey)
        );
        let mut other_alg = jwk(&keys()[1], "k2");
        other_alg.common.key_algorithm = Some(KeyAlgorithm::PS256);
        assert_eq!(
            verify_id_token(&token, &[other_alg], &expected()).err(),
            Some(TokenError::UnknownKey)
        );
        let mut small = jwk(&keys()[1], "k2");
        let AlgorithmParameters::RSA(rsa) = &mut small.algorithm else {
            panic!("an RSA key");
        };
        rsa.n = URL_SAFE_NO_PAD.encode([0xff_u8; 128]);
        assert!(refused(verify_id_token(&token, &[small], &expected())).contains("bits"));
        // A modulus of 2048 bits padded with a zero byte is still 2048 bits; one byte fewer
        // is too small.
        let mut padded = jwk(&keys()[1], "k2");
        let AlgorithmParameters::RSA(rsa) = &mut padded.algorithm else {
            panic!("an RSA key");
        };
        let n = URL_SAFE_NO_PAD.decode(&rsa.n).expect("n");
        rsa.n = URL_SAFE_NO_PAD.encode([&[0_u8][..], &n[..]].concat());
        assert!(verify_id_token(&token, &[padded], &expected()).is_ok());
        let mut short = jwk(&keys()[1], "k2");
        let AlgorithmParameters::RSA(rsa) = &mut short.algorithm else {
            panic!("an RSA key");
        };
        rsa.n = URL_SAFE_NO_PAD.encode([0_u8; 1].iter().chain(&n[1..]).copied().collect::<Vec<u8>>());
        assert!(refused(verify_id_token(&token, &[short], &expected())).contains("bits"));
    }

    #[test]
    fn the_key_is_chosen_by_kid_among_the_published_signing_keys() {
        let both = [jwk(&keys()[0], "k1"), jwk(&keys()[1], "k2")];
        let by_k2 = sign(&keys()[1], &header("k2"), &good_claims());
        assert!(verify_id_token(&by_k2, &both, &expected()).is_ok());
        // Signed by k2 but naming k1: checked against k1 only, so it fails.
        let mislabelled = sign(&keys()[1], &header("k1"), &good_claims());
        assert_eq!(
            refused(verify_id_token(&mislabelled, &both, &expected())),
            "signature does not verify"
        );
        // Without a kid and with two candidates, nothing is guessed.
        let no_kid = sign(&keys()[1], &json!({"alg": "RS256"}), &good_claims());
        assert!(refused(verify_id_token(&no_kid, &both, &expected())).contains("several keys"));
        // An HMAC key published in the set (kty "oct") is never a candidate for RS256.
        let oct: Jwk = serde_json::from_value(json!({
            "kty": "oct", "kid": "k1", "use": "sig", "k": URL_SAFE_NO_PAD.encode(KEY_1_PUBLIC_PEM),
        }))
        .expect("oct JWK");
        let token = sign(&keys()[0], &header("k1"), &good_claims());
        assert_eq!(
            verify_id_token(&token, &[oct], &expected()).err(),
            Some(TokenError::UnknownKey)
        );
        // A JWKS holding key types the library does not know still parses; they are skipped.
        let set: JwkSet = serde_json::from_value(json!({"keys": [
            {"kty": "OKP", "crv": "X25519", "kid": "x", "x": "AAAA"},
            {"kty": "ML-DSA", "kid": "pq", "pub": "AAAA"},
            jwk_json(&keys()[0], "k1"),
        ]}))
        .expect("JWKS");
        assert!(verify_id_token(&token, &set.keys, &expected()).is_ok());
    }

    #[test]
    fn a_token_signed_with_a_key_outside_the_published_set_is_refused() {
        let published = [jwk(&keys()[0], "k1")];
        // No kid: the one published key is used, and the signature by another key fails.
        let no_kid = sign(&keys()[1], &json!({"alg": "RS256"}), &good_claims());
        assert_eq!(
            refused(verify_id_token(&no_kid, &published, &expected())),
            "signature does not verify"
        );
        // The forger's own key carried in the header (`jwk`, `jku`, `x5u`) is never used.
        let carried = sign(
            &keys()[1],
            &json!({
                "alg": "RS256", "kid": "k1", "jwk": jwk_json(&keys()[1], "k1"),
                "jku": "https://evil.example/jwks", "x5u": "https://evil.example/cert",
            }),
            &good_claims(),
        );
        assert_eq!(
            refused(verify_id_token(&carried, &published, &expected())),
            "signature does not verify"
        );
        let carried_unknown = sign(
            &keys()[1],
            &json!({"alg": "RS256", "kid": "k9", "jwk": jwk_json(&keys()[1], "k9")}),
            &good_claims(),
        );
        assert_eq!(
            verify_id_token(&carried_unknown, &published, &expected()).err(),
            Some(TokenError::UnknownKey)
        );
    }

    #[test]
    fn an_hmac_keyed_with_the_providers_public_key_is_refused() {
        // Algorithm confusion: a verifier that let the header choose the algorithm would
        // check this HMAC with the public key as the secret, and the forger has that key.
        let k1 = jwk(&keys()[0], "k1");
        let AlgorithmParameters::RSA(rsa) = &k1.algorithm else {
            panic!("an RSA key");
        };
        let secrets: [Vec<u8>; 4] = [
            KEY_1_PUBLIC_PEM.as_bytes().to_vec(),
            KEY_1_PUBLIC_PEM.trim_end().as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(&rsa.n).expect("n"),
            serde_json::to_vec(&jwk_json(&keys()[0], "k1")).expect("JSON"),
        ];
        for secret in &secrets {
            for alg in ["HS256", "HS384", "HS512"] {
                let hmac = EncodingKey::from_secret(secret).expect("HMAC key");
                let forged = sign(&hmac, &json!({"alg": alg, "kid": "k1", "typ": "JWT"}), &good_claims());
                let why = refused(check(&forged));
                assert!(why.contains("not accepted"), "{alg}: {why}");
            }
        }
    }

    #[test]
    fn changing_any_byte_of_a_genuine_token_is_refused() {
        let genuine = sign(&keys()[0], &header("k1"), &good_claims());
        assert!(check(&genuine).is_ok());
        let signature_at = genuine.rfind('.').expect("two dots") + 1;
        for (i, c) in genuine.char_indices() {
            // Every byte of the header and the claims, and a sample of the signature.
            if c == '.' || (i > signature_at && i % 7 != 0) {
                continue;
            }
            let replacement = if c == 'A' { 'B' } else { 'A' };
            let mut edited = genuine.clone();
            edited.replace_range(i..i + 1, &replacement.to_string());
            assert!(check(&edited).is_err(), "byte {i} changed and still accepted");
        }
        // The same claims, serialised with other spacing, are other bytes.
        let parts: Vec<&str> = genuine.split('.').collect();
        let respaced = URL_SAFE_NO_PAD.encode(serde_json::to_string_pretty(&good_claims()).expect("JSON"));
        let tampered = format!("{}.{respaced}.{}", parts[0], parts[2]);
        assert_eq!(refused(check(&tampered)), "signature does not verify");
    }

    /// A JWKS endpoint on the loopback interface whose keys the test can change.
    async fn jwks_server(jwks: Arc<Mutex<Value>>) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        let app = Router::new().route(
            "/jwks",
            get(move || {
                let jwks = jwks.clone();
                let counter = counter.clone();
                async move {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = jwks.lock().expect("lock").clone();
                    axum::Json(body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, hits)
    }

    #[tokio::test]
    async fn a_rotated_key_is_fetched_once_and_forged_key_ids_do_not_flood_the_provider() {
        use std::sync::atomic::Ordering::SeqCst;
        let jwks = Arc::new(Mutex::new(json!({"keys": [jwk_json(&keys()[0], "k1")]})));
        let (url, hits) = jwks_server(jwks.clone()).await;
        let cache = ProviderCache::default();
        let now = crate::now_ms() as f64 / 1000.0;
        let claims = with(json!({"exp": now + 300.0, "iat": now}));
        let exp = Expected {
            now_s: now,
            ..expected()
        };

        let first = sign(&keys()[0], &header("k1"), &claims);
        cache.verify(&url, &first, &exp).await.expect("first key");
        cache.verify(&url, &first, &exp).await.expect("cached key");
        assert_eq!(hits.load(SeqCst), 1, "keys are cached");

        // The provider rotates to k2: the first token signed with it makes us fetch again.
        *jwks.lock().expect("lock") = json!({"keys": [jwk_json(&keys()[1], "k2")]});
        let rotated = sign(&keys()[1], &header("k2"), &claims);
        cache.verify(&url, &rotated, &exp).await.expect("rotated key");
        assert_eq!(hits.load(SeqCst), 2);

        // Unknown key ids right after that do not fetch again.
        for i in 0..5 {
            let forged = sign(&keys()[0], &header(&format!("forged-{i}")), &claims);
            let err = cache.verify(&url, &forged, &exp).await.expect_err("unknown key");
            assert!(matches!(err, AppError::Unauthorized(_)), "{err:?}");
        }
        assert_eq!(hits.load(SeqCst), 2, "refetches are throttled");
    }

    #[test]
    fn next_paths_stay_on_this_site() {
        for ok in ["/", "/thu-tuc", "/thu-tuc/1.900141?tab=2#x"] {
            assert!(local_path(ok), "{ok}");
        }
        for bad in [
            "",
            "thu-tuc",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "/a b",
            "/xin-chào",
            "/\r\nSet-Cookie:x=y",
        ] {
            assert!(!local_path(bad), "{bad:?}");
        }
        assert!(!local_path(&format!("/{}", "a".repeat(600))));
    }

    #[test]
    fn provider_addresses_must_be_https_except_on_loopback() {
        assert!(parse_provider_url("https://sso.dichvucong.gov.vn/auth").is_ok());
        assert!(parse_provider_url("http://127.0.0.1:8081/auth").is_ok());
        assert!(parse_provider_url("http://[::1]:8081/auth").is_ok());
        assert!(parse_provider_url("http://localhost/auth").is_ok());
        assert!(parse_provider_url("http://sso.example.vn/auth").is_err());
        assert!(parse_provider_url("http://10.0.0.1/auth").is_err());
        assert!(parse_provider_url("ftp://127.0.0.1/auth").is_err());
        assert!(parse_provider_url("not a url").is_err());
    }

    #[test]
    fn discovery_must_name_the_configured_issuer() {
        let d = |issuer: &str| Discovery {
            issuer: issuer.to_owned(),
            authorization_endpoint: format!("{issuer}/auth"),
            token_endpoint: format!("{issuer}/token"),
            jwks_uri: format!("{issuer}/jwks"),
            userinfo_endpoint: None,
            token_endpoint_auth_methods_supported: vec![],
        };
        assert!(check_discovery(&d(ISSUER), ISSUER).is_ok());
        assert!(check_discovery(&d(ISSUER), &format!("{ISSUER}/")).is_ok());
        assert!(check_discovery(&d("https://other.example.vn"), ISSUER).is_err());
        let mut plain = d(ISSUER);
        plain.token_endpoint = "http://sso.example.vn/token".to_owned();
        assert!(check_discovery(&plain, ISSUER).is_err());
    }

    #[test]
    fn provider_errors_get_clear_vietnamese_messages() {
        let (status, code, message, _) = provider_error("access_denied").parts();
        assert_eq!((status, code), (StatusCode::FORBIDDEN, "forbidden"));
        assert!(message.contains("không đồng ý"), "{message}");
        assert_eq!(provider_error("login_required").parts().0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            provider_error("temporarily_unavailable").parts().0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let (status, code, message, _) = provider_error("invalid_scope<script>").parts();
        assert_eq!((status, code), (StatusCode::BAD_REQUEST, "sso_error"));
        assert!(
            message.contains("invalid_scopescript") && !message.contains('<'),
            "{message}"
        );
    }

    #[test]
    fn names_and_emails_from_the_provider_are_cleaned() {
        let p = Profile {
            name: Some("  Nguye\u{0302}\u{0303}n Văn\u{0007} An ".to_owned()),
            ..Profile::default()
        };
        assert_eq!(display_name(&p), "Nguyễn Văn An");
        let p = Profile {
            family_name: Some("Trần".to_owned()),
            given_name: Some("Bình".to_owned()),
            ..Profile::default()
        };
        assert_eq!(display_name(&p), "Trần Bình");
        assert_eq!(display_name(&Profile::default()), "Công dân");

        let email = |e: &str, verified: Value| Profile {
            email: Some(e.to_owned()),
            email_verified: Some(verified),
            ..Profile::default()
        };
        assert_eq!(
            verified_email(&email("Hoa@Example.VN", json!(true))).as_deref(),
            Some("hoa@example.vn")
        );
        assert_eq!(
            verified_email(&email("hoa@example.vn", json!("true"))).as_deref(),
            Some("hoa@example.vn")
        );
        assert_eq!(verified_email(&email("hoa@example.vn", json!(false))), None);
        assert_eq!(verified_email(&email("hoa@localhost", json!(true))), None);
        assert_eq!(verified_email(&email("a@b@c.vn", json!(true))), None);
    }
}
