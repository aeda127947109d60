//! Payment gateways (docs/rules.md §5): what motcua needs from one, and the VNPay 2.1.0
//! protocol. The national portal's payment platform or PayGov fit behind the same
//! [`Gateway`] trait later.
//!
//! A gateway signs what it sends and checks what it receives; it never decides whether
//! an order is paid. That is `crate::api::payments`, which trusts only a verified,
//! server-to-server notification for the exact amount of an open order.

pub mod sandbox;
pub mod statement;
pub mod vnpay;

use time::OffsetDateTime;

/// What a payment page needs to send the applicant to the gateway.
#[derive(Debug, Clone)]
pub struct PayRequest<'a> {
    /// The merchant reference (the order's id).
    pub order_id: &'a str,
    /// Whole đồng.
    pub amount: u64,
    /// What is paid for (sent as plain ASCII: gateways refuse diacritics here).
    pub description: &'a str,
    /// The applicant's address.
    pub ip: &'a str,
    /// When the order was created.
    pub created_at: OffsetDateTime,
    /// When it can no longer be paid.
    pub expires_at: OffsetDateTime,
}

/// A notification (or browser return) whose signature verified: what the gateway says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The merchant reference it names.
    pub order_id: String,
    /// The amount in đồng; `None` when the gateway's figure is not a whole number of đồng.
    pub amount: Option<u64>,
    /// The gateway's transaction number.
    pub gateway_txn: String,
    /// The bank.
    pub bank_code: String,
    /// The gateway's response code (`00` = success).
    pub response_code: String,
    /// Whether the gateway says the money was taken (both codes `00` for VNPay).
    pub success: bool,
    /// The signed parameters, sorted by name (for the record).
    pub params: Vec<(String, String)>,
}

/// Why a message from a gateway was not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    /// No signature, or one that does not match the parameters and the secret.
    #[error("chữ ký không hợp lệ")]
    BadSignature,
    /// Signed, but incomplete or malformed (a missing field, another terminal).
    #[error("thông báo không hợp lệ: {0}")]
    Invalid(String),
}

/// A payment gateway as motcua uses it.
pub trait Gateway: Send + Sync {
    /// The method name stored on orders (`vnpay`).
    fn method(&self) -> &'static str;
    /// The URL to send the applicant's browser to.
    fn pay_url(&self, req: &PayRequest<'_>) -> String;
    /// Checks a notification (or browser return), given as its raw query string: parsed
    /// once, refused when any parameter could be read two ways, then its signature.
    fn verify(&self, raw_query: &str) -> Result<Notice, Untrusted>;
}

/// Vietnamese text as the plain ASCII gateways accept in free-text fields: folded
/// (diacritics removed, đ → d, lowercase) and anything but letters, digits, spaces and
/// `-_.:` dropped.
pub fn ascii_text(s: &str) -> String {
    motcua_core::text::fold(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | ':'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the built-in sandbox gateway takes payments.
pub const SANDBOX_PAY_PATH: &str = "/sandbox/vnpay/paymentv2/vpcpay.html";
/// The terminal code the sandbox uses when none is configured.
pub const SANDBOX_TMN_CODE: &str = "MOTCUA01";
/// The browser return handler.
pub const RETURN_PATH: &str = "/api/v1/payments/vnpay/return";
/// The IPN endpoint.
pub const IPN_PATH: &str = "/api/v1/payments/vnpay/ipn";

/// The secret the sandbox signs with when none is configured: random, for this process
/// only, so that no fixed secret exists anywhere.
fn sandbox_secret() -> String {
    static SECRET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| crate::auth::random_token(32)).clone()
}

/// The VNPay terminal as configured: the real one (`vnpay_url`), or the built-in sandbox
/// when it is on; `None` when online payment is not set up.
pub fn vnpay(config: &crate::Config) -> Option<vnpay::Vnpay> {
    let url = config.vnpay_url.trim();
    let sandbox = url.is_empty();
    if sandbox && !config.sandbox_gateway_enabled() {
        return None;
    }
    let configured_return = config.vnpay_return_url.trim();
    Some(vnpay::Vnpay {
        tmn_code: match config.vnpay_tmn_code.trim() {
            "" => SANDBOX_TMN_CODE.to_owned(),
            t => t.to_owned(),
        },
        secret: if config.vnpay_hash_secret.is_empty() {
            sandbox_secret()
        } else {
            config.vnpay_hash_secret.clone()
        },
        url: if sandbox {
            SANDBOX_PAY_PATH.to_owned()
        } else {
            url.to_owned()
        },
        return_url: if !configured_return.is_empty() {
            configured_return.to_owned()
        } else if sandbox {
            // The sandbox runs on this server: the browser comes back to wherever it is.
            RETURN_PATH.to_owned()
        } else {
            format!("{}{RETURN_PATH}", config.public_base())
        },
    })
}

/// Where the built-in sandbox gateway answers re-queries (`querydr`).
pub const SANDBOX_API_PATH: &str = "/sandbox/vnpay/merchant_webapi/api/transaction";

/// Where to re-query payments (`querydr`): `vnpay_api_url`; else VNPay's merchant API
/// beside the configured payment page (`…/paymentv2/vpcpay.html` →
/// `…/merchant_webapi/api/transaction`); else, with the sandbox gateway, the sandbox's on
/// this server, at its own listening address. Never an address taken from a request.
/// `None` when it cannot be known.
pub fn vnpay_api_url(config: &crate::Config) -> Option<String> {
    let configured = config.vnpay_api_url.trim();
    if !configured.is_empty() {
        return Some(configured.to_owned());
    }
    let url = config.vnpay_url.trim();
    if url.is_empty() {
        if !config.sandbox_gateway_enabled() {
            return None;
        }
        return Some(format!("http://{}{SANDBOX_API_PATH}", config.own_address()));
    }
    url.split('?')
        .next()
        .and_then(|u| u.strip_suffix("/paymentv2/vpcpay.html"))
        .map(|host| format!("{host}/merchant_webapi/api/transaction"))
}
