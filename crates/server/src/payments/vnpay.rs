//! VNPay 2.1.0 (DOMAIN.md §5; sandbox.vnpayment.vn/apis/docs/thanh-toan-pay/pay.html):
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
    crate::auth::hex_encode(&mac(secret, data).finalize().into_bytes())
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

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() != 128 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
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

    fn verify(&self, params: &[(String, String)]) -> Result<Notice, Untrusted> {
        let given = params
            .iter()
            .find(|(k, _)| k == SECURE_HASH)
            .map(|(_, v)| v.as_str())
            .ok_or(Untrusted::BadSignature)?;
        let signed = params
            .iter()
            .filter(|(k, _)| k.starts_with("vnp_"))
            .map(|(k, v)| (k.as_str(), v.as_str()));
        if !verify_signature(&self.secret, signed, given) {
            return Err(Untrusted::BadSignature);
        }
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if get("vnp_TmnCode") != self.tmn_code {
            return Err(Untrusted::Invalid("vnp_TmnCode của đơn vị khác".into()));
        }
        let order_id = get("vnp_TxnRef");
        if order_id.is_empty() {
            return Err(Untrusted::Invalid("thiếu vnp_TxnRef".into()));
        }
        let raw: u128 = get("vnp_Amount")
            .parse()
            .map_err(|_| Untrusted::Invalid("vnp_Amount không phải số".into()))?;
        let amount = raw.is_multiple_of(100).then(|| u64::try_from(raw / 100).ok()).flatten();
        let response_code = get("vnp_ResponseCode");
        let success = response_code == "00" && get("vnp_TransactionStatus") == "00";
        Ok(Notice {
            order_id,
            amount,
            gateway_txn: get("vnp_TransactionNo"),
            bank_code: get("vnp_BankCode"),
            response_code,
            success,
            params: params
                .iter()
                .filter(|(k, _)| k != SECURE_HASH && k != SECURE_HASH_TYPE)
                .cloned()
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let n = v.verify(&params).expect("verifies");
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
        let n = v.verify(&params).expect("good");
        assert!(n.success);
        assert_eq!(n.amount, Some(150_000));
        // Upper-case hex is the same signature.
        let mut upper = params.clone();
        upper.last_mut().expect("hash").1 = hash.to_uppercase();
        assert!(v.verify(&upper).is_ok());
        // Any change to a signed value breaks it.
        let mut tampered = params.clone();
        tampered[0].1 = "15000100".into();
        assert_eq!(v.verify(&tampered), Err(Untrusted::BadSignature));
        // Another secret, a truncated or missing signature.
        let other = Vnpay {
            secret: "OTHER".into(),
            ..v.clone()
        };
        assert_eq!(other.verify(&params), Err(Untrusted::BadSignature));
        let mut short = params.clone();
        short.last_mut().expect("hash").1.truncate(64);
        assert_eq!(v.verify(&short), Err(Untrusted::BadSignature));
        assert_eq!(v.verify(&params[..params.len() - 1]), Err(Untrusted::BadSignature));
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
}
