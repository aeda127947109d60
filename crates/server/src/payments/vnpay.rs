//! VNPay 2.1.0 (docs/rules.md §5; sandbox.vnpayment.vn/apis/docs/thanh-toan-pay/pay.html):
//! the payment URL, and the check of the browser return and the IPN.
//!
//! The signature is HMAC-SHA512 (lowercase hex) with the terminal's secret over the
//! parameters sorted by name, empty values dropped, `vnp_SecureHash` and
//! `vnp_SecureHashType` left out, each name and value URL-encoded and joined as a query
//! string. The encoding is the one VNPay's reference code uses (PHP `urlencode`, Java
//! `URLEncoder`, .NET `WebUtility.UrlEncode`): `application/x-www-form-urlencoded`, a
//! space as `+`, uppercase `%XX`. Values motcua sends are ASCII (the order
//! description is folded), where those three encoders agree byte for byte.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha512;
use time::OffsetDateTime;
use time::macros::format_description;

use super::{Gateway, Notice, PayRequest, Untrusted};

/// The protocol version.
pub const VERSION: &str = "2.1.0";
/// The signature parameter.
pub const SECURE_HASH: &str = "vnp_SecureHash";
/// The optional parameter naming the hash type (never signed).
pub const SECURE_HASH_TYPE: &str = "vnp_SecureHashType";

type HmacSha512 = Hmac<Sha512>;

/// The query string VNPay signs: the parameters sorted by name (as bytes), empty values
/// and the signature fields dropped, names and values form-URL-encoded.
pub fn hash_data<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let sorted: BTreeMap<&str, &str> = params
        .into_iter()
        .filter(|(k, v)| !v.is_empty() && *k != SECURE_HASH && *k != SECURE_HASH_TYPE)
        .collect();
    sorted
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// One name or value, encoded as VNPay's reference code does.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn mac(secret: &str, data: &str) -> HmacSha512 {
    // HMAC takes keys of any length; this cannot fail.
    let mut m = <HmacSha512 as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    m.update(data.as_bytes());
    m
}

/// HMAC-SHA512 of `data` with `secret`, lowercase hex.
pub fn hmac_hex(secret: &str, data: &str) -> String {
    crate::auth::hex_encode(mac(secret, data).finalize().into_bytes())
}

/// The signature of `params`.
pub fn sign<'a>(secret: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    hmac_hex(secret, &hash_data(params))
}

/// Whether `given` (hex, either case) is the signature of `params`, compared in
/// constant time (`Mac::verify_slice`).
pub fn verify_signature<'a>(secret: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>, given: &str) -> bool {
    let Some(bytes) = hex_decode(given) else {
        return false;
    };
    mac(secret, &hash_data(params)).verify_slice(&bytes).is_ok()
}

/// A SHA-512 HMAC in hex (either case): exactly 128 hex digits.
fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() != 128 {
        return None;
    }
    hex::decode(s).ok()
}

/// `yyyyMMddHHmmss` in Vietnam time, as VNPay writes instants.
pub fn timestamp(t: OffsetDateTime) -> String {
    t.to_offset(motcua_core::calendar::VIETNAM_OFFSET)
        .format(format_description!("[year][month][day][hour][minute][second]"))
        .unwrap_or_default()
}

/// The signed query string (with `vnp_SecureHash` last) of `params`.
pub fn signed_query(secret: &str, params: &[(&str, &str)]) -> String {
    let data = hash_data(params.iter().copied());
    format!("{data}&{SECURE_HASH}={}", hmac_hex(secret, &data))
}

/// A VNPay merchant terminal.
#[derive(Clone)]
pub struct Vnpay {
    /// `vnp_TmnCode`.
    pub tmn_code: String,
    /// The hash secret (never logged: `Debug` hides it).
    pub secret: String,
    /// The payment page (`…/paymentv2/vpcpay.html`).
    pub url: String,
    /// Where the browser comes back (`vnp_ReturnUrl`).
    pub return_url: String,
}

impl std::fmt::Debug for Vnpay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vnpay")
            .field("tmn_code", &self.tmn_code)
            .field("url", &self.url)
            .field("return_url", &self.return_url)
            .finish_non_exhaustive()
    }
}

impl Vnpay {
    /// The request parameters of a payment, unsigned.
    pub fn request_params(&self, req: &PayRequest<'_>) -> Vec<(String, String)> {
        vec![
            ("vnp_Version".into(), VERSION.into()),
            ("vnp_Command".into(), "pay".into()),
            ("vnp_TmnCode".into(), self.tmn_code.clone()),
            ("vnp_Amount".into(), (u128::from(req.amount) * 100).to_string()),
            ("vnp_CreateDate".into(), timestamp(req.created_at)),
            ("vnp_CurrCode".into(), "VND".into()),
            ("vnp_IpAddr".into(), req.ip.to_owned()),
            ("vnp_Locale".into(), "vn".into()),
            ("vnp_OrderInfo".into(), super::ascii_text(req.description)),
            // 250000 is VNPay's category for "bills and fees" (thanh toán hóa đơn, lệ phí).
            ("vnp_OrderType".into(), "250000".into()),
            ("vnp_ReturnUrl".into(), self.return_url.clone()),
            ("vnp_TxnRef".into(), req.order_id.to_owned()),
            ("vnp_ExpireDate".into(), timestamp(req.expires_at)),
        ]
    }
}

impl Gateway for Vnpay {
    fn method(&self) -> &'static str {
        "vnpay"
    }

    fn pay_url(&self, req: &PayRequest<'_>) -> String {
        let params = self.request_params(req);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.url, signed_query(&self.secret, &pairs))
    }

    fn verify(&self, raw_query: &str) -> Result<Notice, Untrusted> {
        let message = Message::parse_query(raw_query)?;
        if !message.signed_with(&self.secret) {
            return Err(Untrusted::BadSignature);
        }
        if message.get("vnp_TmnCode") != self.tmn_code {
            return Err(Untrusted::Invalid("vnp_TmnCode của đơn vị khác".into()));
        }
        let order_id = message.get("vnp_TxnRef");
        if order_id.is_empty() {
            return Err(Untrusted::Invalid("thiếu vnp_TxnRef".into()));
        }
        let raw: u128 = message
            .get("vnp_Amount")
            .parse()
            .map_err(|_| Untrusted::Invalid("vnp_Amount không phải số".into()))?;
        let amount = raw.is_multiple_of(100).then(|| u64::try_from(raw / 100).ok()).flatten();
        let response_code = message.get("vnp_ResponseCode");
        let success = response_code == "00" && message.get("vnp_TransactionStatus") == "00";
        Ok(Notice {
            order_id: order_id.to_owned(),
            amount,
            gateway_txn: message.get("vnp_TransactionNo").to_owned(),
            bank_code: message.get("vnp_BankCode").to_owned(),
            response_code: response_code.to_owned(),
            success,
            params: message.fields.into_iter().collect(),
        })
    }
}

/// A message from VNPay (an IPN or a browser return), parsed once: the signed fields by
/// name and the signature. The signature check and everything that reads the message use
/// this one map, so what is checked is what is believed.
///
/// The parse refuses anything whose meaning could differ between two readers: a repeated
/// parameter (in any position, with any value, empty or not), a `vnp_` name that differs
/// from another only by case, a name that contains `vnp` but is not written plainly as
/// `vnp_` followed by letters and digits (percent-encoded, `+`, other case, stray bytes),
/// and a `vnp_SecureHashType` other than HMAC-SHA512. Empty values are absent (VNPay
/// leaves them out of the signature); parameters whose names do not contain `vnp` are not
/// signed and are never read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The non-empty `vnp_` fields except the signature ones, sorted by name.
    fields: BTreeMap<String, String>,
    /// `vnp_SecureHash` as given.
    hash: String,
}

impl Message {
    /// Parses a raw query string (without the `?`).
    pub fn parse_query(raw: &str) -> Result<Self, Untrusted> {
        let mut fields = BTreeMap::new();
        let mut hash: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for segment in raw.split('&').filter(|s| !s.is_empty()) {
            let raw_key = segment.split_once('=').map_or(segment, |(k, _)| k);
            // One segment, decoded as application/x-www-form-urlencoded (`+` is a space).
            let Some((key, value)) = form_urlencoded::parse(segment.as_bytes()).next() else {
                continue;
            };
            if !key.to_ascii_lowercase().contains("vnp") {
                continue;
            }
            if key != raw_key || !is_plain_vnp_name(&key) {
                return Err(Untrusted::Invalid(format!(
                    "tham số «{}» không đúng dạng của VNPay",
                    printable(&key)
                )));
            }
            if !seen.insert(key.to_ascii_lowercase()) {
                return Err(Untrusted::Invalid(format!("tham số {key} lặp lại")));
            }
            match key.as_ref() {
                SECURE_HASH => hash = Some(value.into_owned()),
                SECURE_HASH_TYPE => {
                    if !value.is_empty()
                        && !value.eq_ignore_ascii_case("HmacSHA512")
                        && !value.eq_ignore_ascii_case("SHA512")
                    {
                        return Err(Untrusted::Invalid(format!(
                            "kiểu chữ ký «{}» không được chấp nhận",
                            printable(&value)
                        )));
                    }
                }
                _ if value.is_empty() => {}
                _ => {
                    fields.insert(key.into_owned(), value.into_owned());
                }
            }
        }
        let hash = hash.filter(|h| !h.is_empty()).ok_or(Untrusted::BadSignature)?;
        Ok(Self { fields, hash })
    }

    /// Whether the signature is that of the fields with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        verify_signature(
            secret,
            self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &self.hash,
        )
    }

    /// A signed field, empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// `vnp_` and then ASCII letters and digits only, as every VNPay parameter is named.
fn is_plain_vnp_name(name: &str) -> bool {
    name.strip_prefix("vnp_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A name as it may be quoted in a message and a log: control and format characters
/// escaped, at most 64 characters.
fn printable(s: &str) -> String {
    s.chars().take(64).flat_map(char::escape_debug).collect()
}

/// The fields of a `querydr` request, in the order VNPay joins them with `|` for its
/// checksum ("API querydr, refund", sandbox.vnpayment.vn/apis/docs/truy-van-hoan-tien/).
pub const QUERY_REQUEST_FIELDS: [&str; 9] = [
    "vnp_RequestId",
    "vnp_Version",
    "vnp_Command",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_TransactionDate",
    "vnp_CreateDate",
    "vnp_IpAddr",
    "vnp_OrderInfo",
];

/// The fields of a `querydr` answer, in the order VNPay joins them for its checksum.
pub const QUERY_RESPONSE_FIELDS: [&str; 15] = [
    "vnp_ResponseId",
    "vnp_Command",
    "vnp_ResponseCode",
    "vnp_Message",
    "vnp_TmnCode",
    "vnp_TxnRef",
    "vnp_Amount",
    "vnp_BankCode",
    "vnp_PayDate",
    "vnp_TransactionNo",
    "vnp_TransactionType",
    "vnp_TransactionStatus",
    "vnp_OrderInfo",
    "vnp_PromotionCode",
    "vnp_PromotionAmount",
];

/// The text a `querydr` message signs: the values of `fields` of the JSON object `msg`
/// (strings as they are, numbers in their JSON text, absent ones empty), joined with `|`.
pub fn pipe_data(fields: &[&str], msg: &serde_json::Map<String, serde_json::Value>) -> String {
    fields
        .iter()
        .map(|f| match msg.get(*f) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Whether `msg` carries a `vnp_SecureHash` that signs `fields` with `secret`.
pub fn verify_pipe(secret: &str, fields: &[&str], msg: &serde_json::Map<String, serde_json::Value>) -> bool {
    let Some(given) = msg.get(SECURE_HASH).and_then(|v| v.as_str()).and_then(hex_decode) else {
        return false;
    };
    mac(secret, &pipe_data(fields, msg)).verify_slice(&given).is_ok()
}

/// Adds `vnp_SecureHash` over `fields` to `msg`.
pub fn sign_pipe(secret: &str, fields: &[&str], msg: &mut serde_json::Map<String, serde_json::Value>) {
    let hash = hmac_hex(secret, &pipe_data(fields, msg));
    msg.insert(SECURE_HASH.to_owned(), serde_json::Value::String(hash));
}

/// What to re-query: one payment order.
#[derive(Debug, Clone)]
pub struct QueryRequest<'a> {
    /// The merchant reference (`vnp_TxnRef`).
    pub order_id: &'a str,
    /// When the order was created (`vnp_TransactionDate`: the `vnp_CreateDate` of the payment).
    pub order_created_at: OffsetDateTime,
    /// A reference unique to this query for the day (`vnp_RequestId`).
    pub request_id: &'a str,
    /// This server's address (`vnp_IpAddr`).
    pub ip: &'a str,
    /// Now (`vnp_CreateDate`).
    pub now: OffsetDateTime,
}

/// What the gateway answered to a re-query, its checksum verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    /// `vnp_ResponseCode` of the query itself (`00`: the transaction was found;
    /// `91`: no such transaction; `94`: duplicate request; `97`: bad checksum; `99`: other).
    pub response_code: String,
    /// `vnp_Message`.
    pub message: String,
    /// `vnp_TransactionStatus` of the payment (`00` paid, `01` not completed, `02` failed…),
    /// empty when the transaction was not found.
    pub transaction_status: String,
    /// The payment as a notice, when the transaction was found: `success` only when both
    /// codes are `00`. It goes through the same checks as an IPN.
    pub notice: Option<Notice>,
    /// `vnp_PayDate`, when given and well-formed.
    pub paid_at: Option<OffsetDateTime>,
}

/// Why a re-query came to nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The gateway could not be reached or answered with something other than JSON.
    #[error("không truy vấn được cổng thanh toán: {0}")]
    Transport(String),
    /// The answer's checksum is wrong or it is about another terminal or order.
    #[error("{0}")]
    Untrusted(Untrusted),
}

/// Parses `yyyyMMddHHmmss` in Vietnam time.
pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    let t = time::PrimitiveDateTime::parse(s, format_description!("[year][month][day][hour][minute][second]")).ok()?;
    Some(t.assume_offset(motcua_core::calendar::VIETNAM_OFFSET))
}

impl Vnpay {
    /// The signed JSON body of a `querydr` request (API 2.1.0).
    pub fn query_body(&self, q: &QueryRequest<'_>) -> serde_json::Map<String, serde_json::Value> {
        let mut msg = serde_json::Map::new();
        for (k, v) in [
            ("vnp_RequestId", q.request_id.to_owned()),
            ("vnp_Version", VERSION.to_owned()),
            ("vnp_Command", "querydr".to_owned()),
            ("vnp_TmnCode", self.tmn_code.clone()),
            ("vnp_TxnRef", q.order_id.to_owned()),
            ("vnp_TransactionDate", timestamp(q.order_created_at)),
            ("vnp_CreateDate", timestamp(q.now)),
            ("vnp_IpAddr", q.ip.to_owned()),
            (
                "vnp_OrderInfo",
                super::ascii_text(&format!("Truy van giao dich {}", q.order_id)),
            ),
        ] {
            msg.insert(k.to_owned(), serde_json::Value::String(v));
        }
        sign_pipe(&self.secret, &QUERY_REQUEST_FIELDS, &mut msg);
        msg
    }

    /// Checks a `querydr` answer about order `order_id`: the checksum over the documented
    /// fields, this terminal, the order asked about.
    pub fn check_query_answer(
        &self,
        order_id: &str,
        msg: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<QueryAnswer, Untrusted> {
        if !verify_pipe(&self.secret, &QUERY_RESPONSE_FIELDS, msg) {
            return Err(Untrusted::BadSignature);
        }
        let get = |name: &str| match msg.get(name) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let response_code = get("vnp_ResponseCode");
        let tmn = get("vnp_TmnCode");
        if !tmn.is_empty() && tmn != self.tmn_code {
            return Err(Untrusted::Invalid("vnp_TmnCode của đơn vị khác".into()));
        }
        let found = response_code == "00";
        if found && get("vnp_TxnRef") != order_id {
            return Err(Untrusted::Invalid("câu trả lời nói về một lệnh khác".into()));
        }
        let transaction_status = get("vnp_TransactionStatus");
        let notice = if found {
            let raw: u128 = get("vnp_Amount")
                .parse()
                .map_err(|_| Untrusted::Invalid("vnp_Amount không phải số".into()))?;
            Some(Notice {
                order_id: order_id.to_owned(),
                amount: raw.is_multiple_of(100).then(|| u64::try_from(raw / 100).ok()).flatten(),
                gateway_txn: get("vnp_TransactionNo"),
                bank_code: get("vnp_BankCode"),
                response_code: transaction_status.clone(),
                success: transaction_status == "00",
                params: msg
                    .iter()
                    .filter(|(k, _)| *k != SECURE_HASH)
                    .map(|(k, _)| (k.clone(), get(k)))
                    .collect(),
            })
        } else {
            None
        };
        Ok(QueryAnswer {
            message: get("vnp_Message"),
            paid_at: parse_timestamp(&get("vnp_PayDate")),
            response_code,
            transaction_status,
            notice,
        })
    }

    /// Asks the gateway at `api_url` (`…/merchant_webapi/api/transaction`) how payment
    /// `q` stands (`querydr`), and checks the answer.
    pub async fn query(
        &self,
        client: &reqwest::Client,
        api_url: &str,
        q: &QueryRequest<'_>,
    ) -> Result<QueryAnswer, QueryError> {
        let body = self.query_body(q);
        let response = client
            .post(api_url)
            .timeout(std::time::Duration::from_secs(20))
            .json(&body)
            .send()
            .await
            .map_err(|e| QueryError::Transport(e.without_url().to_string()))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| QueryError::Transport(format!("HTTP {status}: {}", e.without_url())))?;
        let msg = parse_json_message(&body).map_err(|e| match e {
            JsonMessageError::NotJson(why) => QueryError::Transport(format!("HTTP {status}: {why}")),
            JsonMessageError::Ambiguous(u) => QueryError::Untrusted(u),
        })?;
        self.check_query_answer(q.order_id, &msg).map_err(QueryError::Untrusted)
    }
}

/// Why a JSON message from the gateway was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonMessageError {
    /// Not a JSON object at all (a transport problem: an error page, a cut answer).
    NotJson(String),
    /// A JSON object that could be read two ways: a repeated name, or a `vnp` name that
    /// differs from another only by case or is not written plainly.
    Ambiguous(Untrusted),
}

/// Parses a `querydr` answer: one JSON object whose names are each given once. serde_json
/// keeps the last of two equal names; this refuses them, and the same variants of `vnp_`
/// names that [`Message::parse_query`] refuses, so that the checksum and the reading can
/// never see two different messages.
pub fn parse_json_message(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, JsonMessageError> {
    use serde::de::{Deserializer as _, Error as _, MapAccess, Visitor};

    struct Strict;
    impl<'de> Visitor<'de> for Strict {
        type Value = serde_json::Map<String, serde_json::Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = serde_json::Map::new();
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                let value: serde_json::Value = map.next_value()?;
                let folded = key.to_ascii_lowercase();
                if folded.contains("vnp") && !is_plain_vnp_name(&key) {
                    return Err(A::Error::custom(format!(
                        "tên «{}» không đúng dạng của VNPay",
                        printable(&key)
                    )));
                }
                if !seen.insert(folded) {
                    return Err(A::Error::custom(format!("tên «{}» lặp lại", printable(&key))));
                }
                out.insert(key, value);
            }
            Ok(out)
        }
    }
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(JsonMessageError::NotJson("không phải đối tượng JSON".to_owned()));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de.deserialize_map(Strict).and_then(|m| de.end().map(|()| m));
    parsed.map_err(|e| match e.classify() {
        serde_json::error::Category::Data => JsonMessageError::Ambiguous(Untrusted::Invalid(e.to_string())),
        _ => JsonMessageError::NotJson(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query string of `params`, in their order, form-URL-encoded.
    fn q(params: &[(String, String)]) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish()
    }

    /// VNPay's published example payment URL ("Hướng dẫn tích hợp Cổng thanh toán VNPAY",
    /// https://sandbox.vnpayment.vn/apis/docs/huong-dan-tich-hop/, section "Tạo URL Thanh
    /// toán"), without its signature. Our hash data must be this string byte for byte.
    const VNPAY_EXAMPLE_QUERY: &str = "vnp_Amount=1806000&vnp_Command=pay&vnp_CreateDate=20210801153333\
        &vnp_CurrCode=VND&vnp_IpAddr=127.0.0.1&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+don+hang+%3A5\
        &vnp_OrderType=other&vnp_ReturnUrl=https%3A%2F%2Fdomainmerchant.vn%2FReturnUrl&vnp_TmnCode=DEMOV210\
        &vnp_TxnRef=5&vnp_Version=2.1.0";

    fn example_params() -> Vec<(&'static str, &'static str)> {
        // In the order a merchant might build them, not sorted, plus an empty field.
        vec![
            ("vnp_Version", "2.1.0"),
            ("vnp_Command", "pay"),
            ("vnp_TmnCode", "DEMOV210"),
            ("vnp_Amount", "1806000"),
            ("vnp_BankCode", ""),
            ("vnp_CreateDate", "20210801153333"),
            ("vnp_CurrCode", "VND"),
            ("vnp_IpAddr", "127.0.0.1"),
            ("vnp_Locale", "vn"),
            ("vnp_OrderInfo", "Thanh toan don hang :5"),
            ("vnp_OrderType", "other"),
            ("vnp_ReturnUrl", "https://domainmerchant.vn/ReturnUrl"),
            ("vnp_TxnRef", "5"),
        ]
    }

    #[test]
    fn hash_data_is_vnpays_published_example_byte_for_byte() {
        assert_eq!(hash_data(example_params()), VNPAY_EXAMPLE_QUERY);
    }

    #[test]
    fn hmac_sha512_is_the_standard_one() {
        // RFC 4231, test case 2 (HMAC-SHA-512, key "Jefe").
        assert_eq!(
            hmac_hex("Jefe", "what do ya want for nothing?"),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
    }

    #[test]
    fn the_example_signs_as_an_independent_implementation_does() {
        // VNPay publishes the example URL above with its signature (3e0d61a0…) but not the
        // secret of the demo terminal DEMOV210, so that signature cannot be reproduced.
        // This vector was computed from the documented algorithm with Python's standard
        // library (hmac.new(b"SECRETKEYFORTESTONLY0123456789AB", query, hashlib.sha512)),
        // independently of this code.
        let secret = "SECRETKEYFORTESTONLY0123456789AB";
        assert_eq!(sign(secret, example_params()), EXAMPLE_SIGNATURE);
        let query = format!("{VNPAY_EXAMPLE_QUERY}&vnp_SecureHash={EXAMPLE_SIGNATURE}");
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let v = Vnpay {
            tmn_code: "DEMOV210".into(),
            secret: secret.into(),
            url: String::new(),
            return_url: String::new(),
        };
        // The example is a payment request, not a result: signature good, no success.
        let n = v.verify(&q(&params)).expect("verifies");
        assert_eq!(n.order_id, "5");
        assert_eq!(n.amount, Some(18_060));
        assert!(!n.success);
    }

    const EXAMPLE_SIGNATURE: &str = "ad7f27c7d981f14af5c48ff15e2ed60a86d0a279b6b4a7b0f42d66699c76d7ef79e78e7c1595ebc4e6c9004aba9d12302f44c58a545e151571a241e5c5d39e6a";

    #[test]
    fn a_tampered_or_foreign_message_never_verifies() {
        let secret = "S3CRET";
        let mut params: Vec<(String, String)> = vec![
            ("vnp_Amount".into(), "15000000".into()),
            ("vnp_TmnCode".into(), "MOTCUA01".into()),
            ("vnp_TxnRef".into(), "ABC".into()),
            ("vnp_ResponseCode".into(), "00".into()),
            ("vnp_TransactionStatus".into(), "00".into()),
            ("vnp_TransactionNo".into(), "14000001".into()),
        ];
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let hash = sign(secret, pairs);
        params.push((SECURE_HASH.into(), hash.clone()));
        let v = Vnpay {
            tmn_code: "MOTCUA01".into(),
            secret: secret.into(),
            url: String::new(),
            return_url: String::new(),
        };
        let n = v.verify(&q(&params)).expect("good");
        assert!(n.success);
        assert_eq!(n.amount, Some(150_000));
        // Upper-case hex is the same signature.
        let mut upper = params.clone();
        upper.last_mut().expect("hash").1 = hash.to_uppercase();
        assert!(v.verify(&q(&upper)).is_ok());
        // Any change to a signed value breaks it.
        let mut tampered = params.clone();
        tampered[0].1 = "15000100".into();
        assert_eq!(v.verify(&q(&tampered)), Err(Untrusted::BadSignature));
        // Another secret, a truncated or missing signature.
        let other = Vnpay {
            secret: "OTHER".into(),
            ..v.clone()
        };
        assert_eq!(other.verify(&q(&params)), Err(Untrusted::BadSignature));
        let mut short = params.clone();
        short.last_mut().expect("hash").1.truncate(64);
        assert_eq!(v.verify(&q(&short)), Err(Untrusted::BadSignature));
        assert_eq!(v.verify(&q(&params[..params.len() - 1])), Err(Untrusted::BadSignature));
    }

    #[test]
    fn a_payment_url_carries_the_amount_times_100_and_verifies() {
        let v = Vnpay {
            tmn_code: "MOTCUA01".into(),
            secret: "S3CRET".into(),
            url: "https://sandbox.vnpayment.vn/paymentv2/vpcpay.html".into(),
            return_url: "https://motcua.example.vn/api/v1/payments/vnpay/return".into(),
        };
        let t = time::macros::datetime!(2026-11-02 01:02:03 UTC);
        let url = v.pay_url(&PayRequest {
            order_id: "0A1B2C3D4E5F6071",
            amount: 150_000,
            description: "Thanh toán lệ phí hồ sơ 000.00.16.H43-261102-0001",
            ip: "127.0.0.1",
            created_at: t,
            expires_at: t + time::Duration::minutes(15),
        });
        let query = url.split_once('?').expect("query").1;
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        assert_eq!(get("vnp_Amount"), Some("15000000"));
        assert_eq!(get("vnp_CreateDate"), Some("20261102080203"), "UTC+7");
        assert_eq!(get("vnp_ExpireDate"), Some("20261102081703"));
        assert_eq!(
            get("vnp_OrderInfo"),
            Some("thanh toan le phi ho so 000.00.16.h43 261102 0001")
        );
        let pairs = params
            .iter()
            .filter(|(k, _)| k != SECURE_HASH)
            .map(|(k, v)| (k.as_str(), v.as_str()));
        assert!(verify_signature("S3CRET", pairs, get(SECURE_HASH).expect("hash")));
    }

    fn terminal() -> Vnpay {
        Vnpay {
            tmn_code: "MOTCUA01".into(),
            secret: "S3CRET".into(),
            url: String::new(),
            return_url: String::new(),
        }
    }

    #[test]
    fn a_querydr_request_signs_its_fields_joined_with_pipes_in_vnpays_order() {
        let t = time::macros::datetime!(2026-11-02 01:00:00 UTC);
        let body = terminal().query_body(&QueryRequest {
            order_id: "0A1B2C3D4E5F6071",
            order_created_at: t,
            request_id: "REQ0001",
            ip: "10.0.0.5",
            now: t + time::Duration::minutes(20),
        });
        let data = "REQ0001|2.1.0|querydr|MOTCUA01|0A1B2C3D4E5F6071|20261102080000|20261102082000|10.0.0.5|\
                    truy van giao dich 0a1b2c3d4e5f6071";
        assert_eq!(pipe_data(&QUERY_REQUEST_FIELDS, &body), data);
        assert_eq!(body[SECURE_HASH], hmac_hex("S3CRET", data));
        assert!(verify_pipe("S3CRET", &QUERY_REQUEST_FIELDS, &body));
        assert!(!verify_pipe("OTHER", &QUERY_REQUEST_FIELDS, &body));
    }

    fn answer(status: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (k, v) in [
            ("vnp_ResponseId", "R1"),
            ("vnp_Command", "querydr"),
            ("vnp_ResponseCode", "00"),
            ("vnp_Message", "QueryDR Success"),
            ("vnp_TmnCode", "MOTCUA01"),
            ("vnp_TxnRef", "ABC"),
            ("vnp_Amount", "15000000"),
            ("vnp_BankCode", "NCB"),
            ("vnp_PayDate", "20261102081000"),
            ("vnp_TransactionNo", "14000001"),
            ("vnp_TransactionType", "01"),
            ("vnp_TransactionStatus", status),
            ("vnp_OrderInfo", "thanh toan"),
        ] {
            m.insert(k.into(), serde_json::Value::String(v.into()));
        }
        sign_pipe("S3CRET", &QUERY_RESPONSE_FIELDS, &mut m);
        m
    }

    #[test]
    fn a_querydr_answer_is_believed_only_with_its_checksum_and_for_the_order_asked() {
        let g = terminal();
        // The checksum covers the documented fields in order, promotion fields empty.
        let m = answer("00");
        assert_eq!(
            pipe_data(&QUERY_RESPONSE_FIELDS, &m),
            "R1|querydr|00|QueryDR Success|MOTCUA01|ABC|15000000|NCB|20261102081000|14000001|01|00|thanh toan||"
        );
        let a = g.check_query_answer("ABC", &m).expect("good");
        let n = a.notice.expect("found");
        assert!(n.success);
        assert_eq!(n.amount, Some(150_000));
        assert_eq!(n.gateway_txn, "14000001");
        assert_eq!(a.paid_at, Some(time::macros::datetime!(2026-11-02 08:10:00 +07:00)));
        // Failed payments are found but not successful.
        let failed = g.check_query_answer("ABC", &answer("02")).expect("good");
        assert!(!failed.notice.expect("found").success);
        // Any changed field, another secret, a missing checksum: refused.
        for field in ["vnp_Amount", "vnp_TransactionStatus", "vnp_TxnRef", "vnp_ResponseCode"] {
            let mut t = m.clone();
            t.insert(field.into(), serde_json::Value::String("01".into()));
            assert_eq!(g.check_query_answer("ABC", &t), Err(Untrusted::BadSignature), "{field}");
        }
        let other = Vnpay {
            secret: "OTHER".into(),
            ..g.clone()
        };
        assert_eq!(other.check_query_answer("ABC", &m), Err(Untrusted::BadSignature));
        let mut unsigned = m.clone();
        unsigned.remove(SECURE_HASH);
        assert_eq!(g.check_query_answer("ABC", &unsigned), Err(Untrusted::BadSignature));
        // A good answer about another order is no answer about this one.
        assert!(matches!(g.check_query_answer("XYZ", &m), Err(Untrusted::Invalid(_))));
    }

    #[test]
    fn the_sandbox_answers_a_querydr_it_can_verify() {
        let g = terminal();
        let t = time::macros::datetime!(2026-11-02 01:00:00 UTC);
        let req = |order: &'static str| {
            g.query_body(&QueryRequest {
                order_id: order,
                order_created_at: t,
                request_id: "REQ1",
                ip: "127.0.0.1",
                now: t,
            })
        };
        // Unknown transaction: 91, signed.
        let unknown = crate::payments::sandbox::answer_query(&g, &req("SBXUNKNOWN"), "R1");
        let a = g.check_query_answer("SBXUNKNOWN", &unknown).expect("signed");
        assert_eq!(a.response_code, "91");
        assert!(a.notice.is_none());
        crate::payments::sandbox::record(
            "MOTCUA01",
            "SBXPAID",
            crate::payments::sandbox::Transaction {
                amount: "15000000".into(),
                transaction_no: "14000002".into(),
                bank_code: "NCB".into(),
                pay_date: "20261102081000".into(),
                status: "00".into(),
                order_info: "x".into(),
            },
        );
        let paid = crate::payments::sandbox::answer_query(&g, &req("SBXPAID"), "R2");
        let n = g
            .check_query_answer("SBXPAID", &paid)
            .expect("signed")
            .notice
            .expect("found");
        assert!(n.success);
        assert_eq!(n.amount, Some(150_000));
        // A request with a bad checksum gets 97.
        let mut forged = req("SBXPAID");
        forged.insert("vnp_TxnRef".into(), serde_json::Value::String("SBXOTHER".into()));
        let refused = crate::payments::sandbox::answer_query(&g, &forged, "R3");
        assert_eq!(
            g.check_query_answer("SBXOTHER", &refused)
                .expect("signed")
                .response_code,
            "97"
        );
    }

    #[test]
    fn a_published_return_signature_with_its_secret_reproduces() {
        // The test suite of the `vnpay` npm package (lehuygiang28/vnpay,
        // https://github.com/lehuygiang28/vnpay/blob/2925e99f0bf3d4d1a15cff103ba4e39b2effecee/test/verify-return-url.test.ts)
        // publishes this browser return with the secret `test_secret` and its signature,
        // and a second signature for the same return with vnp_ResponseCode=99. VNPay's
        // own documents publish signatures without secrets; this is the only example
        // found where both are public. Our code must reproduce both byte for byte.
        let base = [
            ("vnp_Amount", "1000000"),
            ("vnp_BankCode", "NCB"),
            ("vnp_BankTranNo", "VNP14422574"),
            ("vnp_CardType", "ATM"),
            ("vnp_OrderInfo", "Thanh toan don hang 2024-05-21T02:17:31.249Z"),
            ("vnp_PayDate", "20240521091806"),
            ("vnp_ResponseCode", "00"),
            ("vnp_TmnCode", "TEST_TMN_CODE"),
            ("vnp_TransactionNo", "14422574"),
            ("vnp_TransactionStatus", "00"),
            ("vnp_TxnRef", "1716257871703"),
        ];
        assert_eq!(
            sign("test_secret", base),
            "649982421beb422556a1374713c74e58e716ecbd05007c0c0e1f7effdfaf361dbf146889ca446139afe11b9954c4d5c486e99e3b86fcfab6957f29eb0be72895"
        );
        let mut failed = base;
        failed[6].1 = "99";
        assert_eq!(
            sign("test_secret", failed),
            "503194f6d93b57b357b2d1d09742565e67e86d771352c5dca4fc8d39df3d392c6b3809add9405f97cfb9631f445e36c80656cfbf47eac67d97fa165865c13e1b"
        );
        // And the whole check believes it (success) as the package's test expects.
        let mut params: Vec<(String, String)> = base.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        params.push((SECURE_HASH.into(), sign("test_secret", base)));
        let v = Vnpay {
            tmn_code: "TEST_TMN_CODE".into(),
            secret: "test_secret".into(),
            url: String::new(),
            return_url: String::new(),
        };
        let n = v.verify(&q(&params)).expect("verifies");
        assert!(n.success);
        assert_eq!(n.amount, Some(10_000));
    }

    /// The browser return of a payment the customer cancelled (`24`/`02`), genuinely
    /// signed: the one message any customer can get for their own order.
    fn cancelled_return() -> String {
        let params: Vec<(String, String)> = [
            ("vnp_Amount", "15000000"),
            ("vnp_BankCode", "NCB"),
            ("vnp_OrderInfo", "thanh toan le phi ho so"),
            ("vnp_PayDate", "20261102081000"),
            ("vnp_ResponseCode", "24"),
            ("vnp_TmnCode", "MOTCUA01"),
            ("vnp_TransactionStatus", "02"),
            ("vnp_TxnRef", "0A1B2C3D4E5F6071"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        signed_query("S3CRET", &pairs)
    }

    #[test]
    fn the_reported_forgery_is_refused() {
        let g = terminal();
        let genuine = cancelled_return();
        let n = g.verify(&genuine).expect("genuine");
        assert!(!n.success);
        assert_eq!(n.response_code, "24");
        // Issue 19: success codes put in front of a genuine unpaid message.
        let forged = format!("vnp_ResponseCode=00&vnp_TransactionStatus=00&vnp_TransactionNo=14000001&{genuine}");
        assert!(matches!(g.verify(&forged), Err(Untrusted::Invalid(_))), "{forged}");
        // Aimed at another order and amount as well.
        let aimed = format!("vnp_TxnRef=FFFF000011112222&vnp_Amount=99900&{forged}");
        assert!(matches!(g.verify(&aimed), Err(Untrusted::Invalid(_))));
        // Behind, instead of in front.
        let behind = format!("{genuine}&vnp_ResponseCode=00&vnp_TransactionStatus=00");
        assert!(matches!(g.verify(&behind), Err(Untrusted::Invalid(_))));
    }

    /// The segments of a query string.
    fn segments(query: &str) -> Vec<String> {
        query.split('&').map(str::to_owned).collect()
    }

    #[test]
    fn a_repeated_parameter_is_refused_in_every_position() {
        let g = terminal();
        let genuine = segments(&cancelled_return());
        for (i, seg) in genuine.iter().enumerate() {
            let (key, _) = seg.split_once('=').expect("pair");
            // The same pair again, another value, an empty value, in every position.
            for copy in [seg.clone(), format!("{key}=00"), format!("{key}="), key.to_owned()] {
                for at in 0..=genuine.len() {
                    let mut s = genuine.clone();
                    s.insert(at, copy.clone());
                    let query = s.join("&");
                    assert!(
                        matches!(g.verify(&query), Err(Untrusted::Invalid(_))),
                        "segment {i} copied as {copy} at {at}: {query}"
                    );
                }
            }
        }
    }

    #[test]
    fn encoded_and_case_variants_of_a_vnp_name_are_refused() {
        let g = terminal();
        let genuine = cancelled_return();
        for variant in [
            "VNP_RESPONSECODE=00",
            "vnp_responsecode=00",
            "Vnp_ResponseCode=00",
            "vnp%5FResponseCode=00",
            "%76np_ResponseCode=00",
            "vnp_Response%43ode=00",
            "vnp_ResponseCode%00=00",
            "vnp_ResponseCode+=00",
            "+vnp_ResponseCode=00",
            "vnp_ResponseCode%20=00",
            "vnp_Response-Code=00",
            "vnp_=00",
            "vnp_SecureHashType=SHA256",
            "vnp_securehash=00",
            // A new, unsigned vnp_ field: signed fields change, so the signature fails.
        ] {
            for query in [format!("{variant}&{genuine}"), format!("{genuine}&{variant}")] {
                assert!(
                    matches!(g.verify(&query), Err(Untrusted::Invalid(_))),
                    "{variant}: {:?}",
                    g.verify(&query)
                );
            }
        }
        // A vnp_ field the genuine message does not have is signed, so it breaks the hash.
        let added = format!("vnp_CardType=ATM&{genuine}");
        assert_eq!(g.verify(&added), Err(Untrusted::BadSignature));
        // Parameters that are not VNPay's are not signed and never read: the meaning stays.
        let extra = format!("utm_source=x&{genuine}&ResponseCode=00");
        assert_eq!(g.verify(&extra), g.verify(&genuine));
        // The accepted spellings of the hash type.
        for t in ["HmacSHA512", "SHA512", "hmacsha512"] {
            assert!(g.verify(&format!("{genuine}&vnp_SecureHashType={t}")).is_ok(), "{t}");
        }
    }

    #[test]
    fn a_strict_json_answer_refuses_repeated_and_variant_names() {
        let ok = parse_json_message(br#"{"vnp_ResponseCode":"00","vnp_Amount":15000000}"#).expect("ok");
        assert_eq!(ok["vnp_ResponseCode"], "00");
        for bad in [
            r#"{"vnp_TransactionStatus":"02","vnp_TransactionStatus":"00"}"#,
            r#"{"vnp_TransactionStatus":"02","VNP_TRANSACTIONSTATUS":"00"}"#,
            r#"{"vnp\u005fTransactionStatus":"00","vnp_TransactionStatus":"02"}"#,
            r#"{"vnp TransactionStatus":"00"}"#,
        ] {
            assert!(
                matches!(parse_json_message(bad.as_bytes()), Err(JsonMessageError::Ambiguous(_))),
                "{bad}"
            );
        }
        for not_json in ["<html>", "[1,2]", "", r#"{"a":1"#, r#"{"a":1} trailing"#] {
            assert!(
                matches!(
                    parse_json_message(not_json.as_bytes()),
                    Err(JsonMessageError::NotJson(_))
                ),
                "{not_json}"
            );
        }
    }

    /// One edit of a query string.
    #[derive(Debug, Clone)]
    enum Edit {
        /// Insert a `name=value` segment before segment `at`.
        Insert { at: usize, segment: String },
        /// Copy segment `from` (possibly with another value) before segment `at`.
        Duplicate {
            from: usize,
            at: usize,
            value: Option<String>,
        },
        /// Reorder the segments by this permutation seed.
        Reorder(u64),
        /// Set byte `at` to `byte`.
        Byte { at: usize, byte: u8 },
    }

    fn edit() -> impl proptest::strategy::Strategy<Value = Edit> {
        use proptest::prelude::*;
        let name = prop_oneof![
            Just("vnp_ResponseCode".to_owned()),
            Just("vnp_TransactionStatus".to_owned()),
            Just("vnp_TxnRef".to_owned()),
            Just("vnp_Amount".to_owned()),
            Just("vnp_SecureHash".to_owned()),
            Just("vnp_SecureHashType".to_owned()),
            Just("VNP_AMOUNT".to_owned()),
            Just("vnp%5FAmount".to_owned()),
            "[a-zA-Z_%0-9+]{0,12}",
        ];
        let value = prop_oneof![Just("00".to_owned()), Just(String::new()), "[a-zA-Z0-9%+&=]{0,10}"];
        prop_oneof![
            (0usize..20, name, value.clone()).prop_map(|(at, n, v)| Edit::Insert {
                at,
                segment: format!("{n}={v}")
            }),
            (0usize..20, 0usize..20, proptest::option::of(value)).prop_map(|(from, at, value)| Edit::Duplicate {
                from,
                at,
                value
            }),
            any::<u64>().prop_map(Edit::Reorder),
            (0usize..2000, any::<u8>()).prop_map(|(at, byte)| Edit::Byte { at, byte }),
        ]
    }

    fn apply(query: &str, e: &Edit) -> Vec<u8> {
        let mut segs: Vec<Vec<u8>> = query.split('&').map(|s| s.as_bytes().to_vec()).collect();
        match e {
            Edit::Insert { at, segment } => segs.insert(at % (segs.len() + 1), segment.as_bytes().to_vec()),
            Edit::Duplicate { from, at, value } => {
                let src = segs[from % segs.len()].clone();
                let copy = match value {
                    Some(v) => {
                        let key = src.split(|b| *b == b'=').next().unwrap_or_default().to_vec();
                        [key, b"=".to_vec(), v.as_bytes().to_vec()].concat()
                    }
                    None => src,
                };
                segs.insert(at % (segs.len() + 1), copy);
            }
            Edit::Reorder(seed) => {
                // Fisher–Yates with SplitMix64.
                let mut x = *seed;
                for i in (1..segs.len()).rev() {
                    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = x;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    z ^= z >> 31;
                    let j = usize::try_from(z % (i as u64 + 1)).unwrap_or(0);
                    segs.swap(i, j);
                }
            }
            Edit::Byte { .. } => {}
        }
        let mut bytes = segs.join(&b'&');
        if let Edit::Byte { at, byte } = e {
            let n = bytes.len();
            bytes[at % n] = *byte;
        }
        bytes
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Issue 19: for any genuine signed message and any edit of its query string, the
        /// outcome is exactly the genuine message's meaning or a refusal.
        #[test]
        fn an_edited_message_means_the_same_or_is_refused(
            amount in 1u64..10_000_000,
            order in "[0-9A-F]{16}",
            paid in proptest::bool::ANY,
            bank in proptest::option::of("[A-Z]{3,8}"),
            info in "[a-z0-9 ]{0,30}",
            edits in proptest::collection::vec(edit(), 1..4),
        ) {
            let amount = (amount * 100).to_string();
            let (code, status) = if paid { ("00", "00") } else { ("24", "02") };
            let mut params = vec![
                ("vnp_Amount", amount.as_str()),
                ("vnp_OrderInfo", info.as_str()),
                ("vnp_ResponseCode", code),
                ("vnp_TmnCode", "MOTCUA01"),
                ("vnp_TransactionNo", "14000001"),
                ("vnp_TransactionStatus", status),
                ("vnp_TxnRef", order.as_str()),
            ];
            if let Some(b) = &bank {
                params.push(("vnp_BankCode", b.as_str()));
            }
            let g = terminal();
            let genuine_query = signed_query("S3CRET", &params);
            let genuine = g.verify(&genuine_query).expect("genuine");
            let mut query = genuine_query.into_bytes();
            for e in &edits {
                let text = String::from_utf8_lossy(&query).into_owned();
                query = apply(&text, e);
            }
            // The server sees the query as bytes; anything not UTF-8 is not a query axum hands
            // over as text, and what is must be read the same or refused.
            if let Ok(text) = std::str::from_utf8(&query)
                && let Ok(n) = g.verify(text)
            {
                proptest::prop_assert_eq!(n, genuine.clone(), "{}", text);
            }
        }
    }
}
