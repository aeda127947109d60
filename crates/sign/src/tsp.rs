//! RFC 3161 time-stamps, for PAdES B-T (ETSI EN 319 142-1 §6.3): a time-stamp authority
//! (TSA) signs the hash of a signature's value with the time, and the token goes into the
//! signature as the unsigned attribute `id-aa-signatureTimeStampToken` (RFC 3161 Appendix
//! A). It proves that the signature existed at that time, whatever clock the signer had.
//!
//! The types are the RFC's ASN.1, derived with `der` (RustCrypto's `x509-tsp` and
//! `x509-ocsp` are still on `der` 0.7, a second copy of the whole X.509 stack). The crate
//! does no network I/O: the caller posts the request ([`Request::der`]) and hands back the
//! answer.

use const_oid::ObjectIdentifier;
use der::asn1::{Int, OctetString, Uint};
use der::{Any, Decode, Encode, Sequence, Tagged};
use sha2_11::Digest;
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use crate::{SignError, cms_sig, common_name};

/// `id-ct-TSTInfo`: the content type of a time-stamp token's signed data.
pub(crate) const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// `id-aa-signatureTimeStampToken`: the unsigned attribute holding the token.
pub(crate) const SIGNATURE_TIME_STAMP_TOKEN: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.14");
/// `id-kp-timeStamping`: the extended key usage a TSA's certificate must have (RFC 3161 §2.3).
pub(crate) const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// `MessageImprint`: the hash the TSA signs.
#[derive(Clone, Debug, Sequence)]
struct MessageImprint {
    hash_algorithm: AlgorithmIdentifierOwned,
    hashed_message: OctetString,
}

/// `TimeStampReq`, without policy or extensions.
#[derive(Clone, Debug, Sequence)]
struct TimeStampReq {
    version: u8,
    message_imprint: MessageImprint,
    #[asn1(optional = "true")]
    nonce: Option<Uint>,
    #[asn1(default = "no")]
    cert_req: bool,
}

fn no() -> bool {
    false
}

/// `PKIStatusInfo`: the status, then a text and failure bits nobody acts on.
#[derive(Clone, Debug, Sequence)]
struct PkiStatusInfo {
    status: u32,
    #[asn1(optional = "true")]
    text: Option<Any>,
    #[asn1(optional = "true")]
    fail_info: Option<Any>,
}

/// `TimeStampResp`.
#[derive(Clone, Debug, Sequence)]
struct TimeStampResp {
    status: PkiStatusInfo,
    #[asn1(optional = "true")]
    time_stamp_token: Option<Any>,
}

/// `Accuracy`.
#[derive(Clone, Debug, Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

/// `TSTInfo`. `genTime` is read by hand: TSAs write fractions of a second, which `der`'s
/// `GeneralizedTime` refuses.
#[derive(Clone, Debug, Sequence)]
struct TstInfo {
    version: u8,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "no")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(
        context_specific = "1",
        tag_mode = "IMPLICIT",
        constructed = "true",
        optional = "true"
    )]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// A time-stamp request over one signature value, with its nonce.
#[derive(Debug, Clone)]
pub struct Request {
    der: Vec<u8>,
    nonce: Uint,
    message: Vec<u8>,
}

impl Request {
    /// A request for the SHA-256 of `signature_value`, with a fresh 64-bit nonce and the
    /// TSA's certificate asked for (so that anyone can check the token).
    pub fn new(signature_value: &[u8]) -> Result<Self, SignError> {
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| SignError::TimeStamp(format!("no randomness for a nonce: {e}")))?;
        let nonce = Uint::new(&nonce)?;
        let req = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: cms_sig::SHA256,
                    parameters: None,
                },
                hashed_message: OctetString::new(sha2_11::Sha256::digest(signature_value).to_vec())?,
            },
            nonce: Some(nonce.clone()),
            cert_req: true,
        };
        Ok(Self {
            der: req.to_der()?,
            nonce,
            message: signature_value.to_vec(),
        })
    }

    /// The DER to post (`Content-Type: application/timestamp-query`).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The token in the TSA's `response`, checked: status granted, our nonce, the imprint
    /// of our signature value, the TSA's signature valid under the certificate it sent.
    pub fn accept(&self, response: &[u8]) -> Result<Vec<u8>, SignError> {
        let fail = SignError::TimeStamp;
        let resp = TimeStampResp::from_der(response).map_err(|e| fail(format!("not a time-stamp response: {e}")))?;
        // 0 granted, 1 granted with modifications.
        if resp.status.status > 1 {
            return Err(fail(format!("the authority refused (status {})", resp.status.status)));
        }
        let token = resp
            .time_stamp_token
            .ok_or_else(|| fail("a granted response without a token".to_owned()))?
            .to_der()?;
        let checked = inspect(&token, &self.message);
        if let Some(problem) = checked.problem {
            return Err(fail(problem));
        }
        if checked.nonce.as_ref().map(Encode::to_der).transpose()? != Some(self.nonce.to_der()?) {
            return Err(fail("the token does not carry the request's nonce".to_owned()));
        }
        Ok(token)
    }
}

/// What a token says and whether it holds, before trust.
#[derive(Debug, Clone, Default)]
pub(crate) struct Token {
    /// `genTime`.
    pub time: Option<OffsetDateTime>,
    /// The TSA's name: its certificate's CN, else the `tsa` field's.
    pub authority: Option<String>,
    /// The TSA's certificate.
    pub certificate: Option<Certificate>,
    /// The certificates the token carries.
    pub pool: Vec<Certificate>,
    /// Why the token does not hold (Vietnamese), `None` when it does.
    pub problem: Option<String>,
    nonce: Option<Int>,
}

/// Reads the token `der` and checks it covers `message` (the signature value) and is
/// signed by the certificate it carries.
pub(crate) fn inspect(der: &[u8], message: &[u8]) -> Token {
    let mut token = Token::default();
    let problem = read(der, message, &mut token).err();
    token.problem = problem;
    token
}

fn read(der: &[u8], message: &[u8], token: &mut Token) -> Result<(), String> {
    let parsed = cms_sig::parse(der).map_err(|e| format!("không đọc được dấu thời gian ({e})"))?;
    if parsed.data.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err("dấu thời gian không chứa TSTInfo".to_owned());
    }
    let content = parsed
        .data
        .encap_content_info
        .econtent
        .as_ref()
        .and_then(|c| c.decode_as::<OctetString>().ok())
        .ok_or("dấu thời gian không có nội dung")?;
    let info = TstInfo::from_der(content.as_bytes()).map_err(|e| format!("TSTInfo không hợp lệ ({e})"))?;
    token.time = generalized_time(&info.gen_time);
    token.nonce = info.nonce.clone();
    token.pool = cms_sig::certificates(&parsed.data);
    token.certificate = parsed.certificate.clone();
    token.authority = parsed
        .certificate
        .as_ref()
        .and_then(|c| common_name(c.tbs_certificate().subject()))
        .or_else(|| match &info.tsa {
            Some(GeneralName::DirectoryName(n)) => common_name(n),
            _ => None,
        });
    if token.time.is_none() {
        return Err("thời điểm trong dấu thời gian không đọc được".to_owned());
    }
    let imprint = &info.message_imprint;
    let expected = cms_sig::digest(imprint.hash_algorithm.oid, &[message]).ok_or_else(|| {
        format!(
            "thuật toán băm của dấu thời gian không hỗ trợ ({})",
            imprint.hash_algorithm.oid
        )
    })?;
    if imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err("dấu thời gian không phải của chữ ký này".to_owned());
    }
    // The TSA's signature over its signed attributes, which bind the TSTInfo's digest.
    let cert = parsed
        .certificate
        .as_ref()
        .ok_or("dấu thời gian không kèm chứng thư số của tổ chức cấp")?;
    let signer = &parsed.signer;
    let content_type =
        cms_sig::signed_attribute(signer, cms_sig::CONTENT_TYPE).and_then(|a| a.decode_as::<ObjectIdentifier>().ok());
    let digest = cms_sig::digest(signer.digest_alg.oid, &[content.as_bytes()]);
    let signed_digest = cms_sig::signed_attribute(signer, cms_sig::MESSAGE_DIGEST).and_then(cms_sig::octets);
    let attrs = signer
        .signed_attrs
        .as_ref()
        .and_then(|a| a.to_der().ok())
        .ok_or("dấu thời gian không có thuộc tính được ký")?;
    let signature_ok = cms_sig::verify_signature(
        cert.tbs_certificate().subject_public_key_info(),
        signer.signature_algorithm.oid,
        signer.digest_alg.oid,
        &attrs,
        signer.signature.as_bytes(),
    )
    .map_err(|e| format!("thuật toán ký của dấu thời gian không hỗ trợ ({e})"))?;
    if content_type != Some(ID_CT_TST_INFO) || digest.is_none() || digest != signed_digest || !signature_ok {
        return Err("chữ ký của tổ chức cấp dấu thời gian không đúng".to_owned());
    }
    Ok(())
}

/// Whether `cert` may sign time-stamps: it has the `id-kp-timeStamping` extended key usage.
pub(crate) fn may_time_stamp(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::ExtendedKeyUsage>()
        .ok()
        .flatten()
        .is_some_and(|(_, eku)| eku.0.contains(&ID_KP_TIME_STAMPING))
}

/// A `GeneralizedTime` as DER-encoded by TSAs and OCSP responders: `YYYYMMDDHHMMSS`, an
/// optional fraction, `Z`. The fraction is dropped.
pub(crate) fn generalized_time(any: &Any) -> Option<OffsetDateTime> {
    if any.tag() != der::Tag::GeneralizedTime {
        return None;
    }
    let text = std::str::from_utf8(any.value()).ok()?;
    let text = text.strip_suffix('Z')?;
    let whole = text.split('.').next()?;
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |from: usize, len: usize| whole[from..from + len].parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        i32::try_from(n(0, 4)?).ok()?,
        time::Month::try_from(u8::try_from(n(4, 2)?).ok()?).ok()?,
        u8::try_from(n(6, 2)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(n(8, 2)?).ok()?,
        u8::try_from(n(10, 2)?).ok()?,
        u8::try_from(n(12, 2)?).ok()?,
    )
    .ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times_with_fractions_are_read() {
        let any = Any::new(der::Tag::GeneralizedTime, b"20261207115713.627052Z".to_vec()).expect("any");
        assert_eq!(
            generalized_time(&any),
            Some(time::macros::datetime!(2026-12-07 11:57:13 UTC))
        );
        let plain = Any::new(der::Tag::GeneralizedTime, b"20260101000000Z".to_vec()).expect("any");
        assert_eq!(
            generalized_time(&plain),
            Some(time::macros::datetime!(2026-01-01 0:00 UTC))
        );
        let local = Any::new(der::Tag::GeneralizedTime, b"20260101000000".to_vec()).expect("any");
        assert_eq!(generalized_time(&local), None);
    }

    #[test]
    fn a_request_carries_the_imprint_and_a_fresh_nonce() {
        let a = Request::new(b"signature").expect("request");
        let b = Request::new(b"signature").expect("request");
        assert_ne!(a.der(), b.der(), "nonces differ");
        let req = TimeStampReq::from_der(a.der()).expect("decodes");
        assert!(req.cert_req);
        assert_eq!(
            req.message_imprint.hashed_message.as_bytes(),
            sha2_11::Sha256::digest(b"signature").as_slice()
        );
        // A response that is not one, or refuses, gives no token.
        assert!(a.accept(b"\x30\x00").is_err());
        let refused = TimeStampResp {
            status: PkiStatusInfo {
                status: 2,
                text: None,
                fail_info: None,
            },
            time_stamp_token: None,
        };
        assert!(a.accept(&refused.to_der().expect("der")).is_err());
    }
}
