//! Forms the browser posts by itself, when the page's script is not running (switched off,
//! blocked, or not loaded yet on a slow network). Every form of the site posts
//! (`method="post"`), so nothing typed ever lands in an address; the routes that take
//! these posts read the body here (`application/x-www-form-urlencoded`, or
//! `multipart/form-data` for forms with files), check the session and its CSRF token the
//! way the JSON API does, and then call the same code the API calls.
//!
//! The CSRF token travels in a hidden `csrf_token` field (marked `data-skip`, so `app.js`
//! leaves it out of the JSON it builds; its requests carry the token in a header).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::{Frame, login_url, page};
use crate::auth::{CSRF_HEADER, MaybePrincipal, Principal};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::pages::PageError;

/// Where forms that only work with the page's script post when it is not running.
pub const NEEDS_SCRIPT: &str = "/can-javascript";

/// Parts of one multipart body at most: far more than any form of the site has.
const MAX_PARTS: usize = 1_000;

/// A file chosen in a form's `<input type="file">`.
#[derive(Debug, Clone)]
pub struct FormFile {
    /// The input's name.
    pub field: String,
    /// The file's name on the sender's device.
    pub name: String,
    /// Its content.
    pub bytes: Bytes,
}

/// A posted form: its text fields in order (a name may repeat) and its files.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    /// `(name, value)` of every text field sent.
    pub fields: Vec<(String, String)>,
    /// Every file sent (inputs left empty are not).
    pub files: Vec<FormFile>,
}

impl FormData {
    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of field `name`, empty when it was not sent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    /// Every value of field `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether field `name` was sent (a ticked checkbox, a pressed button).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

fn unreadable() -> AppError {
    AppError::bad(
        "invalid_form",
        "form",
        "Không đọc được biểu mẫu gửi lên. Hãy tải lại trang và thử lại.",
    )
}

/// Reads a form body of either encoding browsers use, as its `Content-Type` says.
pub fn parse(headers: &HeaderMap, body: &Bytes) -> Result<FormData, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut params = content_type.split(';').map(str::trim);
    let mime = params.next().unwrap_or_default().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-www-form-urlencoded" => Ok(FormData {
            fields: form_urlencoded::parse(body).into_owned().collect(),
            files: Vec::new(),
        }),
        "multipart/form-data" => {
            let boundary = params
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                .filter(|b| !b.is_empty() && b.len() <= 200)
                .ok_or_else(unreadable)?;
            parse_multipart(body, &boundary)
        }
        _ => Err(unreadable()),
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let last_start = haystack.len() - needle.len();
    let mut i = from;
    while i <= last_start {
        // Skip to the next candidate first byte; most positions fail there.
        match haystack[i..=last_start].iter().position(|b| *b == first) {
            Some(off) => i += off,
            None => return None,
        }
        if haystack[i..i + needle.len()] == *needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// A `Content-Disposition` parameter (`name="x"`), unquoted. Browsers percent-encode `"`,
/// CR and LF in names and file names, so a quoted value ends at the next quote.
fn disposition_param(value: &str, key: &str) -> Option<String> {
    let mut rest = value;
    while let Some(pos) = rest.find(';') {
        rest = rest[pos + 1..].trim_start();
        let Some((k, v)) = rest.split_once('=') else {
            continue;
        };
        if !k.trim().eq_ignore_ascii_case(key) {
            continue;
        }
        let v = v.trim_start();
        return Some(if let Some(q) = v.strip_prefix('"') {
            q.split('"').next().unwrap_or_default().to_owned()
        } else {
            v.split(';').next().unwrap_or_default().trim().to_owned()
        });
    }
    None
}

/// Reads a `multipart/form-data` body (RFC 7578) as browsers send it.
fn parse_multipart(body: &Bytes, boundary: &str) -> Result<FormData, AppError> {
    let delimiter = format!("--{boundary}");
    let between = format!("\r\n--{boundary}");
    let mut form = FormData::default();
    let mut pos = find(body, delimiter.as_bytes(), 0).ok_or_else(unreadable)? + delimiter.len();
    for _ in 0..MAX_PARTS {
        // After a delimiter: "--" closes the body, CRLF opens a part.
        if body.get(pos..pos + 2) == Some(&b"--"[..]) {
            return Ok(form);
        }
        if body.get(pos..pos + 2) != Some(&b"\r\n"[..]) {
            return Err(unreadable());
        }
        pos += 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or_else(unreadable)?;
        let head = String::from_utf8_lossy(&body[pos..head_end]);
        let content_start = head_end + 4;
        let content_end = find(body, between.as_bytes(), content_start).ok_or_else(unreadable)?;
        pos = content_end + between.len();
        let disposition = head
            .split("\r\n")
            .filter_map(|line| line.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
            .map(|(_, v)| v.trim().to_owned())
            .ok_or_else(unreadable)?;
        let Some(name) = disposition_param(&disposition, "name") else {
            continue;
        };
        let content = body.slice(content_start..content_end);
        match disposition_param(&disposition, "filename") {
            // An empty file input still sends a part, with no name and no content.
            Some(file) if file.is_empty() && content.is_empty() => {}
            Some(file) => form.files.push(FormFile {
                field: name,
                name: file,
                bytes: content,
            }),
            None => form.fields.push((name, String::from_utf8_lossy(&content).into_owned())),
        }
    }
    Err(AppError::bad(
        "invalid_form",
        "form",
        "Biểu mẫu có quá nhiều phần; hãy gửi ít tệp hơn mỗi lần.",
    ))
}

/// The signed-in person who posted `form`, authenticated exactly as an API call with a
/// session is: the session cookie, and the CSRF token bound to it, which a form carries
/// in its `csrf_token` field where a script would send the `X-CSRF-Token` header.
pub async fn principal(state: &AppState, parts: &mut Parts, form: &FormData) -> Result<Principal, AppError> {
    let token = HeaderValue::from_str(form.get("csrf_token").unwrap_or_default()).map_err(|_| {
        AppError::Forbidden(
            "Yêu cầu bị từ chối vì thiếu hoặc sai mã chống giả mạo (CSRF). Hãy tải lại trang.".to_owned(),
        )
    })?;
    parts.headers.insert(CSRF_HEADER, token);
    Principal::from_request_parts(parts, state).await
}

/// Refuses a form posted from another site, for the forms that come before any session
/// (login, registration and its code) and so carry no CSRF token: otherwise another site
/// could sign a visitor in to an account of its own (login CSRF), whose next online filing
/// it would then read. Browsers say where a post comes from: `Sec-Fetch-Site`, and
/// `Origin`, whose host must be the one the request was sent to (`Host`) or the host of
/// `public_url`. A request with neither header (not a browser) passes.
pub fn same_site(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let refused = || {
        AppError::Forbidden(
            "Biểu mẫu được gửi từ một trang web khác nên bị từ chối. Hãy mở trang đăng nhập của hệ thống và gửi lại."
                .to_owned(),
        )
    };
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return Err(refused());
    }
    let Some(origin) = text("origin") else {
        return Ok(());
    };
    let host_of = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_ascii_lowercase())
    };
    let Some(origin_host) = host_of(origin) else {
        // `Origin: null` (a sandboxed frame, a data: page) or garbage.
        return Err(refused());
    };
    let request_host = text("host").map(str::to_ascii_lowercase);
    let public_host = host_of(&state.config.public_base());
    if Some(&origin_host) == request_host.as_ref() || Some(&origin_host) == public_host.as_ref() {
        Ok(())
    } else {
        Err(refused())
    }
}

/// A form posted before any session (login, registration and its code), read once
/// [`same_site`] lets it through; with the browser's user agent, which a session it starts
/// records.
pub struct PreSessionForm {
    /// The form.
    pub form: FormData,
    /// The browser's `User-Agent` ([`crate::auth::user_agent`]).
    pub user_agent: String,
}

impl FromRequest<AppState> for PreSessionForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match same_site(state, &headers).and_then(|()| parse(&headers, &body)) {
            Ok(form) => Ok(PreSessionForm {
                form,
                user_agent: crate::auth::user_agent(&headers),
            }),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

/// Fails unless the request carries a live session (or API token), checked before a large
/// body is read: the CSRF token is inside the body, so [`principal`] can only check it
/// afterwards, but nobody without an account gets a multipart upload buffered. The full
/// check, CSRF token included, still follows.
pub async fn signed_in_before_body(state: &AppState, parts: &Parts) -> Result<(), AppError> {
    let mut probe = parts.clone();
    // As a read, so that the CSRF check (done later, with the body's token) is left out.
    probe.method = Method::GET;
    match MaybePrincipal::from_request_parts(&mut probe, state).await {
        Ok(MaybePrincipal(Some(_))) => Ok(()),
        Ok(MaybePrincipal(None)) => Err(AppError::Unauthorized(
            "Bạn cần đăng nhập để dùng chức năng này.".to_owned(),
        )),
        // A person who must change their password first: the full check says so.
        Err(AppError::ForbiddenCode { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The answer to a form post that failed before its own page could show the error: an
/// expired session goes to the login page (coming back to `back`), anything else is the
/// error page.
pub fn failed(e: AppError, back: &str) -> Response {
    match e {
        AppError::Unauthorized(_) => Redirect::to(&login_url(back)).into_response(),
        e => PageError::from(e).into_response(),
    }
}

/// A redirect after a successful post (303, so the browser follows with a GET), carrying
/// the cookie of the session just started.
pub fn redirect_setting_session(
    state: &AppState,
    to: &str,
    signed_in: &crate::service::accounts::SignedIn,
) -> Result<Response, AppError> {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, signed_in.session.cookie(state)?);
    Ok(r)
}

/// One problem of a form sent back: the field, its message, and the id of the control
/// the summary links to.
#[derive(Debug, Clone)]
pub struct Problem {
    /// The API's field name, e.g. `applicant.id_number` or `documents[2]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The id of the control on the page (`applicant-id`, `doc-2`).
    pub anchor: String,
}

/// Every problem of a refused form, for its error summary and its fields.
#[derive(Debug, Clone, Default)]
pub struct Problems {
    /// In the order of the fields.
    pub items: Vec<Problem>,
}

/// The id a dossier form gives the control of API field `field`: `applicant.id_number` →
/// `applicant-id`, `documents[2]` → `doc-2`, `submitter.authorisation` →
/// `submitter-authorisation`.
pub fn anchor(field: &str) -> String {
    if let Some(i) = field.strip_prefix("documents[").and_then(|r| r.strip_suffix(']')) {
        return format!("doc-{i}");
    }
    field.replace("id_number", "id").replace(['.', '_'], "-")
}

impl Problems {
    /// The problems `e` reports field by field.
    pub fn of(e: &AppError) -> Problems {
        Problems {
            items: e
                .field_errors()
                .into_iter()
                .map(|(field, message)| Problem {
                    anchor: anchor(&field),
                    field,
                    message,
                })
                .collect(),
        }
    }

    /// The message for `field`, if it has a problem.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|p| p.field == field).map(|p| p.message.as_str())
    }

    /// Whether `field` is the first with a problem (its control takes the focus).
    pub fn first(&self, field: &str) -> bool {
        self.items.first().is_some_and(|p| p.field == field)
    }
}

/// The status and message of a refused form, to send it back with; a server error is
/// the error page instead.
pub fn refusal(e: AppError) -> Result<(StatusCode, String), PageError> {
    let (status, _, message, _) = e.parts();
    if status.is_server_error() {
        return Err(e.into());
    }
    Ok((status, message))
}

/// A rendered page given the status of the error it shows (a form sent back with its
/// message); a page that failed to render keeps its own.
pub fn with_status(mut r: Response, status: StatusCode) -> Response {
    if r.status().is_success() {
        *r.status_mut() = status;
    }
    r
}

/// A page rendered with the status of the error it shows (a form sent back with its
/// message).
pub fn page_with_status(t: &impl Template, status: StatusCode) -> Response {
    with_status(page(t), status)
}

#[derive(Template)]
#[template(path = "web/needs_script.html")]
struct NeedsScriptPage {
    frame: Frame,
}

/// `POST /can-javascript`: where the forms that only work with the page's script post
/// when it is not running (administration, ratings, a dossier's actions): a clear answer
/// instead of a 405 or a form silently sent as a GET. Nothing is read or changed.
pub async fn needs_script(State(state): State<AppState>) -> Result<Response, PageError> {
    let frame = Frame::new(&state, None).await?;
    Ok(page_with_status(&NeedsScriptPage { frame }, StatusCode::BAD_REQUEST))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multipart(boundary: &str, body: &str) -> Result<FormData, AppError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&format!("multipart/form-data; boundary={boundary}")).expect("header"),
        );
        parse(&headers, &Bytes::from(body.replace('\n', "\r\n")))
    }

    #[test]
    fn reads_fields_and_files_as_chromium_sends_them() {
        let body = "------WebKitFormBoundaryX\n\
Content-Disposition: form-data; name=\"applicant.name\"\n\
\n\
Nguyễn Văn A\n\
------WebKitFormBoundaryX\n\
Content-Disposition: form-data; name=\"documents.0.file\"; filename=\"giấy tờ.pdf\"\n\
Content-Type: application/pdf\n\
\n\
%PDF-1.4\n\
line two\n\
------WebKitFormBoundaryX\n\
Content-Disposition: form-data; name=\"documents.1.file\"; filename=\"\"\n\
Content-Type: application/octet-stream\n\
\n\
\n\
------WebKitFormBoundaryX\n\
Content-Disposition: form-data; name=\"note\"\n\
\n\
\n\
------WebKitFormBoundaryX--\n";
        let form = multipart("----WebKitFormBoundaryX", body).expect("parsed");
        assert_eq!(form.get("applicant.name"), Some("Nguyễn Văn A"));
        assert_eq!(form.get("note"), Some(""));
        assert_eq!(form.files.len(), 1, "the empty file input sends nothing");
        assert_eq!(form.files[0].field, "documents.0.file");
        assert_eq!(form.files[0].name, "giấy tờ.pdf");
        assert_eq!(&form.files[0].bytes[..], b"%PDF-1.4\r\nline two");
    }

    #[test]
    fn refuses_truncated_or_foreign_bodies() {
        let truncated = "--b\nContent-Disposition: form-data; name=\"x\"\n\nvalue";
        assert!(multipart("b", truncated).is_err());
        assert!(multipart("b", "no delimiter here").is_err());
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(parse(&headers, &Bytes::from_static(b"a=b")).is_err());
    }

    #[test]
    fn reads_urlencoded_with_repeats() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let form = parse(&headers, &Bytes::from_static(b"a=1&b=x+y&a=%C4%91")).expect("parsed");
        assert_eq!(form.all("a").collect::<Vec<_>>(), ["1", "đ"]);
        assert_eq!(form.text("b"), "x y");
        assert!(!form.has("c"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Any bytes, as multipart (a genuine body with a byte changed, or garbage) or as a
        /// URL-encoded form: parsed or refused with a 4xx, never a panic; what is read never
        /// holds more than the body did.
        #[test]
        fn any_body_is_parsed_or_refused_never_a_panic(
            garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            at in proptest::prelude::any::<usize>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let genuine = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B\r\n\
                Content-Disposition: form-data; name=\"f\"; filename=\"t.pdf\"\r\n\r\n%PDF-1.4\r\n--B--\r\n";
            let mut edited = genuine.as_bytes().to_vec();
            let i = at % edited.len();
            edited[i] = byte;
            for (content_type, body) in [
                ("multipart/form-data; boundary=B", edited.clone()),
                ("multipart/form-data; boundary=B", garbage.clone()),
                ("application/x-www-form-urlencoded", garbage.clone()),
            ] {
                let mut headers = HeaderMap::new();
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
                let len = body.len();
                match parse(&headers, &Bytes::from(body)) {
                    Ok(form) => {
                        let read: usize = form.fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
                            + form.files.iter().map(|f| f.bytes.len()).sum::<usize>();
                        // Text may grow by replacement characters (3 bytes for 1), never more.
                        proptest::prop_assert!(read <= 3 * len, "{read} from {len}");
                    }
                    Err(e) => proptest::prop_assert!(e.parts().0.is_client_error(), "{e:?}"),
                }
            }
        }
    }
}
