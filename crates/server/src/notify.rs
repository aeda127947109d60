//! Sending messages to people: email over SMTP ([`Mailer`]) and SMS through an HTTP
//! gateway ([`SmsSender`]).
//!
//! Both are built from the configuration and send one message per call, with a bounded
//! timeout so a stuck server cannot hold a request for long. Secrets (the SMTP password,
//! the gateway's `Authorization` value, one-time codes) never appear in errors or logs,
//! and recipients are logged masked (Decree 13/2023).

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use motcua_core::access::mask;

use crate::config::Config;

/// How long one delivery may take, connection included.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a message could not be sent. The text is for operators (logs); it names no secret.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The configuration cannot work (bad sender address, bad template, unknown mode).
    #[error("notification configuration: {0}")]
    Config(String),
    /// The recipient cannot receive (an address that does not parse).
    #[error("recipient refused: {0}")]
    Recipient(String),
    /// The SMTP server could not be reached or refused the message.
    #[error("email not delivered: {0}")]
    Email(String),
    /// The SMS gateway could not be reached or refused the message.
    #[error("SMS not delivered: {0}")]
    Sms(String),
}

/// An email with a plain-text and an HTML body (mail clients show the one they can).
#[derive(Debug, Clone)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line (any Unicode; encoded as the standard requires).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Sends email through the configured SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the credentials: show only where mail goes.
        f.debug_struct("Mailer")
            .field("host", &self.host)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// The mailer the configuration describes; `None` when `smtp_host` is empty (email off).
    pub fn from_config(config: &Config) -> Result<Option<Mailer>, NotifyError> {
        let host = config.smtp_host.trim();
        if host.is_empty() {
            return Ok(None);
        }
        let builder = match config.smtp_security.as_str() {
            // Plain SMTP, for a relay on the same host or a trusted network only.
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            // STARTTLS is required, never optional: a server that does not offer it fails
            // rather than receiving codes in clear.
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| NotifyError::Config(format!("smtp_host «{host}»: {e}")))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| NotifyError::Config(format!("smtp_host «{host}»: {e}")))?,
            other => {
                return Err(NotifyError::Config(format!(
                    "smtp_security must be none, starttls or tls, not «{other}»"
                )));
            }
        };
        let mut builder = builder.port(config.smtp_port).timeout(Some(SEND_TIMEOUT));
        if !config.smtp_username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.smtp_username.clone(),
                config.smtp_password.clone(),
            ));
        }
        let from: Mailbox = config
            .smtp_from
            .parse()
            .map_err(|e| NotifyError::Config(format!("smtp_from «{}»: {e}", config.smtp_from)))?;
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            host: host.to_owned(),
        }))
    }

    /// Sends one email and waits for the server to accept it.
    pub async fn send(&self, email: &Email) -> Result<(), NotifyError> {
        let masked = mask_email(&email.to);
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| NotifyError::Recipient(format!("{masked}: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| NotifyError::Recipient(format!("{masked}: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => {
                tracing::info!(to = %masked, "email sent");
                Ok(())
            }
            Err(e) => {
                // lettre's errors carry the server's answer, never the credentials; but an
                // answer may quote the recipient ("550 <a@b.vn>: unknown user"): mask it.
                let detail = e
                    .to_string()
                    .replace(&email.to, &masked)
                    .replace(&email.to.to_lowercase(), &masked);
                tracing::warn!(to = %masked, host = %self.host, error = %detail, "email not sent");
                Err(NotifyError::Email(format!("{}: {detail}", self.host)))
            }
        }
    }
}

/// Sends SMS through the configured HTTP gateway: a POST of the JSON body template.
#[derive(Clone)]
pub struct SmsSender {
    client: reqwest::Client,
    url: String,
    authorization: String,
    template: String,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the Authorization value; the URL may carry a key too, so only its host.
        f.debug_struct("SmsSender")
            .field("host", &url_host(&self.url))
            .finish_non_exhaustive()
    }
}

impl SmsSender {
    /// The sender the configuration describes; `None` when `sms_url` is empty (SMS off).
    pub fn from_config(config: &Config) -> Result<Option<SmsSender>, NotifyError> {
        let url = config.sms_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(NotifyError::Config(
                "sms_url must start with https:// or http://".to_owned(),
            ));
        }
        // Check the template once with sample values, so a broken template is reported
        // as configuration, not as a failed delivery to some citizen.
        render_sms_body(&config.sms_body_template, "0900000000", "kiểm tra \"mẫu\"")?;
        let client = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .build()
            .map_err(|e| NotifyError::Config(format!("HTTP client: {e}")))?;
        Ok(Some(SmsSender {
            client,
            url: url.to_owned(),
            authorization: config.sms_authorization.clone(),
            template: config.sms_body_template.clone(),
        }))
    }

    /// Sends `message` to `phone` and waits for the gateway to accept it (any 2xx).
    pub async fn send(&self, phone: &str, message: &str) -> Result<(), NotifyError> {
        let masked = mask(phone);
        let host = url_host(&self.url);
        let body = render_sms_body(&self.template, phone, message)?;
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if !self.authorization.is_empty() {
            request = request.header(reqwest::header::AUTHORIZATION, &self.authorization);
        }
        let response = request.send().await.map_err(|e| {
            // reqwest's error may repeat the URL, which may hold a key: report the host.
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            };
            tracing::warn!(to = %masked, host = %host, "SMS not sent: {kind}");
            NotifyError::Sms(format!("{host}: {kind}"))
        })?;
        let status = response.status();
        if status.is_success() {
            tracing::info!(to = %masked, "SMS sent");
            Ok(())
        } else {
            tracing::warn!(to = %masked, host = %host, status = status.as_u16(), "SMS gateway refused");
            Err(NotifyError::Sms(format!("{host} answered {status}")))
        }
    }
}

/// Fills the SMS body template: `{phone}` and `{message}` are replaced by the values,
/// JSON-escaped (the template puts them inside JSON strings). The result must be JSON.
pub fn render_sms_body(template: &str, phone: &str, message: &str) -> Result<String, NotifyError> {
    let mut out = String::with_capacity(template.len() + phone.len() + message.len() * 2);
    let mut rest = template;
    // One pass, so a placeholder inside a substituted value is never expanded again.
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{phone}") {
            out.push_str(&json_escape(phone));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{message}") {
            out.push_str(&json_escape(message));
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    serde_json::from_str::<serde_json::Value>(&out)
        .map_err(|e| NotifyError::Config(format!("sms_body_template does not give JSON: {e}")))?;
    Ok(out)
}

/// A string's JSON escaping, without the surrounding quotes.
fn json_escape(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

/// An email address for logs and answers: the mailbox masked, the domain kept, so a
/// person recognises their address and a log reader learns little (`n******a@example.vn`).
pub fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", mask(local)),
        None => mask(address),
    }
}

/// The host of a URL, for logs (the path and query may hold keys).
pub(crate) fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Drop any user:password@ part.
    authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_owned()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_template_escapes_values_and_expands_once() {
        let body = render_sms_body(
            r#"{"to":"{phone}","text":"{message}","brand":"UBND"}"#,
            "0912345678",
            "Mã \"123456\"\n{phone} \\ hết",
        )
        .expect("render");
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(v["to"], "0912345678");
        assert_eq!(v["text"], "Mã \"123456\"\n{phone} \\ hết");
        assert_eq!(v["brand"], "UBND");
        assert!(matches!(
            render_sms_body(r#"{"to": {phone}}"#, "0912345678", "x"),
            Err(NotifyError::Config(_))
        ));
    }

    #[test]
    fn masks_and_hosts_hide_personal_data_and_keys() {
        assert_eq!(mask_email("nguyenvana@example.vn"), "n********a@example.vn");
        assert_eq!(
            url_host("https://key:secret@sms.example.vn:8443/send?apikey=x"),
            "sms.example.vn:8443"
        );
        assert_eq!(
            html_escape("<b>Lê & \"Lý\"</b>"),
            "&lt;b&gt;Lê &amp; &quot;Lý&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn configuration_is_checked() {
        let off = Config::default();
        assert!(Mailer::from_config(&off).expect("off").is_none());
        assert!(SmsSender::from_config(&off).expect("off").is_none());
        let bad_from = Config {
            smtp_host: "127.0.0.1".to_owned(),
            smtp_from: "not an address".to_owned(),
            ..Config::default()
        };
        assert!(matches!(Mailer::from_config(&bad_from), Err(NotifyError::Config(_))));
        let bad_template = Config {
            sms_url: "http://127.0.0.1:9/send".to_owned(),
            sms_body_template: "to={phone}".to_owned(),
            ..Config::default()
        };
        assert!(matches!(
            SmsSender::from_config(&bad_template),
            Err(NotifyError::Config(_))
        ));
        let secret = Config {
            smtp_host: "mail.example.vn".to_owned(),
            smtp_username: "motcua".to_owned(),
            smtp_password: "very-secret".to_owned(),
            sms_url: "https://sms.example.vn/send?key=k3y".to_owned(),
            sms_authorization: "Bearer t0ken".to_owned(),
            ..Config::default()
        };
        let mailer = format!("{:?}", Mailer::from_config(&secret).expect("ok").expect("on"));
        let sms = format!("{:?}", SmsSender::from_config(&secret).expect("ok").expect("on"));
        for text in [&mailer, &sms] {
            assert!(
                !text.contains("very-secret") && !text.contains("t0ken") && !text.contains("k3y"),
                "{text}"
            );
        }
    }
}
