//! Request extractors shared by both skins, whose failures are [`AppError`]s naming the
//! field (the JSON skin answers them as JSON, the pages as pages).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body. Malformed JSON, a wrong type or an unknown field becomes a 400 that names
/// the field; a body over the route's limit becomes a 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(refused(
                "invalid_content_type",
                "Nội dung phải ở dạng JSON (Content-Type: application/json).",
            ));
        }
        let ApiBytes(bytes) = ApiBytes::from_request(req, state).await?;
        if has_nul_escape(&bytes) {
            return Err(refused("invalid_json", NUL_MESSAGE));
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// A 400 about the request as a whole, no field named.
fn refused(code: &'static str, message: &str) -> AppError {
    AppError::BadRequest {
        code,
        message: message.to_owned(),
        field: None,
    }
}

const NUL_MESSAGE: &str = "Nội dung gửi lên không được chứa ký tự NUL (U+0000).";

/// Whether JSON text `bytes` holds the escape `\u0000` in a string: a NUL, which no text
/// motcua keeps may contain (PostgreSQL cannot store it). An escaped backslash followed by
/// `u0000` is text, not a NUL: the backslashes before the `u` are counted.
fn has_nul_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(6)
        .enumerate()
        .any(|(i, w)| w == b"\\u0000" && bytes[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0)
}

/// Refuses a request whose address carries a NUL (`%00`) in its path or query string with
/// the API's 400: no code, id or filter motcua knows contains one, and PostgreSQL cannot
/// even compare text with it (it answered 500).
pub async fn refuse_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let uri = req.uri();
    let nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
    };
    if nul(uri.path()) || uri.query().is_some_and(nul) {
        let error = refused("invalid_parameter", "Địa chỉ yêu cầu không được chứa ký tự NUL (%00).");
        return axum::response::IntoResponse::into_response(error);
    }
    next.run(req).await
}

/// A raw body whose failures speak the API's error format: over the route's limit, a 413
/// that says the limit; unreadable, a 400.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let limit = req.extensions().get::<BodyLimit>().map_or(usize::MAX, |l| l.0);
        Bytes::from_request(req, state).await.map(ApiBytes).map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge(limit)
            } else {
                refused("invalid_body", "Không đọc được nội dung gửi lên.")
            }
        })
    }
}

/// The body limit of the current route, recorded so a 413 can say what the limit is.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Parses JSON, reporting the path of the first offending field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (code, message) = if inner.is_syntax() || inner.is_eof() {
            (
                "invalid_json",
                format!("JSON không hợp lệ ở dòng {}, cột {}.", inner.line(), inner.column()),
            )
        } else {
            ("invalid_field", field_message(&inner.to_string()))
        };
        AppError::BadRequest {
            code,
            message,
            field: (path != ".")
                .then_some(path)
                .or_else(|| unknown_field(&inner.to_string())),
        }
    })
}

/// Query-string parameters, with the same error format as [`ApiJson`].
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded(query));
        serde_path_to_error::deserialize(de).map(ApiQuery).map_err(|e| {
            let path = e.path().to_string();
            let msg = e.into_inner().to_string();
            AppError::BadRequest {
                code: "invalid_parameter",
                message: field_message(&msg),
                field: (path != ".").then_some(path).or_else(|| unknown_field(&msg)),
            }
        })
    }
}

fn form_urlencoded(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// serde names an unknown or missing field only in its message:
/// "unknown field `x`, expected …", "missing field `x`".
fn unknown_field(msg: &str) -> Option<String> {
    let rest = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.strip_prefix("missing field `"))?;
    rest.split('`').next().map(str::to_owned)
}

/// Turns serde's English into a Vietnamese message that still carries the detail.
fn field_message(msg: &str) -> String {
    if let Some(f) = msg.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        return format!("Thiếu trường bắt buộc «{f}».");
    }
    if let Some(f) = unknown_field(msg) {
        return format!("Trường «{f}» không được hỗ trợ.");
    }
    format!("Giá trị không hợp lệ: {msg}")
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn only_a_real_nul_escape_counts() {
        assert!(has_nul_escape(br#"{"a":"x\u0000y"}"#));
        assert!(
            has_nul_escape(br#"{"a":"\\\u0000"}"#),
            "an escaped backslash, then a NUL"
        );
        assert!(
            !has_nul_escape(br#"{"a":"\\u0000"}"#),
            "an escaped backslash, then text"
        );
        assert!(has_nul_escape(br#"{"a":"\u00001"}"#), "a NUL, then a digit");
        assert!(!has_nul_escape(br#"{"a":"u0000"}"#));
    }
}
