//! Revocation of the certificates of a signature's chain: OCSP (RFC 6960) where the
//! certificate names a responder, else its CRLs (RFC 5280 §5). Each link of the chain (a
//! certificate and its issuer, up to the trust anchor) is checked on its own.
//!
//! The crate does no network I/O: [`links`] says what to ask where ([`Link::ocsp_url`],
//! [`Link::ocsp_request`], [`Link::crl_urls`]), the caller fetches, and [`Link::ocsp_status`]
//! or [`Link::crl_status`] read the answer; [`conclude`] puts the outcomes in the report.
//! An answer counts only when it is signed by the issuer (or, for OCSP, by a responder the
//! issuer delegated with `id-kp-OCSPSigning`) and is current.

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, OctetString};
use der::{Any, Decode, Encode, Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;
use time::{Duration, OffsetDateTime};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage};
use x509_cert::serial_number::SerialNumber;

use crate::verify::{Revocation, SignatureReport, Verdict};
use crate::{SignError, cms_sig, common_name, tsp};

const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const ID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
/// Clocks differ: an answer dated a little in the future, or just past its next update,
/// still counts.
const SKEW: Duration = Duration::minutes(5);

/// `CertID`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct CertId {
    hash_algorithm: AlgorithmIdentifierOwned,
    issuer_name_hash: OctetString,
    issuer_key_hash: OctetString,
    serial_number: SerialNumber,
}

/// `Request`, without extensions.
#[derive(Clone, Debug, Sequence)]
struct OcspSingleRequest {
    req_cert: CertId,
}

/// `TBSRequest`: version v1 (the default), no requestor name, no extensions.
#[derive(Clone, Debug, Sequence)]
struct TbsRequest {
    request_list: Vec<OcspSingleRequest>,
}

/// `OCSPRequest`, unsigned.
#[derive(Clone, Debug, Sequence)]
struct OcspRequest {
    tbs_request: TbsRequest,
}

/// `ResponseBytes`.
#[derive(Clone, Debug, Sequence)]
struct ResponseBytes {
    response_type: ObjectIdentifier,
    response: OctetString,
}

/// `OCSPResponse`; the status is an ENUMERATED, read from its byte.
#[derive(Clone, Debug, Sequence)]
struct OcspResponse {
    response_status: Any,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    response_bytes: Option<ResponseBytes>,
}

/// `BasicOCSPResponse`; the signed part is kept as it came, for the signature.
#[derive(Clone, Debug, Sequence)]
struct BasicOcspResponse {
    tbs_response_data: Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    certs: Option<Vec<Certificate>>,
}

/// `ResponseData`; times are read by hand (fractions of seconds).
#[derive(Clone, Debug, Sequence)]
struct ResponseData {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<Any>,
    responder_id: Any,
    produced_at: Any,
    responses: Vec<SingleResponse>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Any>,
}

/// `SingleResponse`; `certStatus` is a CHOICE of implicitly tagged values, read by tag.
#[derive(Clone, Debug, Sequence)]
struct SingleResponse {
    cert_id: CertId,
    cert_status: Any,
    this_update: Any,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    next_update: Option<Any>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Any>,
}

/// What an answer says about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not revoked.
    Good,
    /// Revoked, since when (when said).
    Revoked(Option<OffsetDateTime>),
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An OCSP responder.
    Ocsp,
    /// A CRL.
    Crl,
}

/// One certificate of a chain and the certificate that issued it.
#[derive(Debug, Clone)]
pub struct Link {
    certificate: Certificate,
    issuer: Certificate,
}

/// The links of the report's chain whose revocation can be asked: every certificate but
/// the trust anchor, with its issuer. Empty when the signature is not trusted.
pub fn links(report: &SignatureReport) -> Vec<Link> {
    report
        .path
        .windows(2)
        .map(|w| Link {
            certificate: w[0].clone(),
            issuer: w[1].clone(),
        })
        .collect()
}

/// Whether `url` is one to fetch: plain HTTP or HTTPS (not LDAP, not a file).
fn fetchable(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(u) => Some(u.as_str().to_owned()).filter(|u| fetchable(u)),
        _ => None,
    }
}

fn time_of(t: &x509_cert::time::Time) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(i64::try_from(t.to_unix_duration().as_secs()).ok()?).ok()
}

impl Link {
    /// The certificate's common name, for messages.
    pub fn name(&self) -> String {
        common_name(self.certificate.tbs_certificate().subject()).unwrap_or_else(|| "(không tên)".to_owned())
    }

    /// The OCSP responder the certificate names (authority information access), if any.
    pub fn ocsp_url(&self) -> Option<String> {
        let (_, aia) = self
            .certificate
            .tbs_certificate()
            .get_extension::<AuthorityInfoAccessSyntax>()
            .ok()
            .flatten()?;
        aia.0
            .iter()
            .filter(|d| d.access_method == ID_AD_OCSP)
            .find_map(|d| uri(&d.access_location))
    }

    /// The CRLs the certificate names (CRL distribution points, full names over HTTP).
    pub fn crl_urls(&self) -> Vec<String> {
        let Ok(Some((_, points))) = self
            .certificate
            .tbs_certificate()
            .get_extension::<CrlDistributionPoints>()
        else {
            return Vec::new();
        };
        points
            .0
            .iter()
            .filter_map(|p| match &p.distribution_point {
                Some(DistributionPointName::FullName(names)) => Some(names.iter().filter_map(uri).collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Our `CertID` of the certificate. SHA-256 (RFC 6960 allows any hash; responders
    /// match on the algorithm asked).
    fn cert_id(&self) -> Result<CertId, SignError> {
        let name = self.issuer.tbs_certificate().subject().to_der()?;
        let key = self
            .issuer
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes();
        let hash = |b: &[u8]| cms_sig::digest(cms_sig::SHA256, &[b]).unwrap_or_default();
        Ok(CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: cms_sig::SHA256,
                parameters: None,
            },
            issuer_name_hash: OctetString::new(hash(&name))?,
            issuer_key_hash: OctetString::new(hash(key))?,
            serial_number: self.certificate.tbs_certificate().serial_number().clone(),
        })
    }

    /// The DER of an OCSP request for the certificate (`application/ocsp-request`). It has
    /// no nonce, so that responders may answer from their cache and so may we.
    pub fn ocsp_request(&self) -> Result<Vec<u8>, SignError> {
        let req = OcspRequest {
            tbs_request: TbsRequest {
                request_list: vec![OcspSingleRequest {
                    req_cert: self.cert_id()?,
                }],
            },
        };
        Ok(req.to_der()?)
    }

    /// What the OCSP `response` says about the certificate at `now`. `Err` (in Vietnamese)
    /// when it says nothing that counts: not successful, not signed by the issuer or its
    /// delegated responder, out of date, or `unknown`.
    pub fn ocsp_status(&self, response: &[u8], now: OffsetDateTime) -> Result<Status, String> {
        let resp = OcspResponse::from_der(response).map_err(|e| format!("câu trả lời OCSP không đọc được ({e})"))?;
        if resp.response_status.value() != [0u8].as_slice() {
            return Err(format!(
                "máy chủ OCSP không trả lời được (mã {:?})",
                resp.response_status.value()
            ));
        }
        let bytes = resp.response_bytes.ok_or("câu trả lời OCSP rỗng")?;
        if bytes.response_type != ID_PKIX_OCSP_BASIC {
            return Err(format!("loại câu trả lời OCSP không hỗ trợ ({})", bytes.response_type));
        }
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
            .map_err(|e| format!("câu trả lời OCSP không đọc được ({e})"))?;
        let tbs = basic.tbs_response_data.to_der().map_err(|e| e.to_string())?;
        let data: ResponseData = basic
            .tbs_response_data
            .decode_as()
            .map_err(|e| format!("câu trả lời OCSP không đọc được ({e})"))?;
        let signature = basic.signature.as_bytes().ok_or("chữ ký OCSP không đọc được")?;
        // Signed by the issuer itself, or by a responder it certified for OCSP signing.
        let delegated = basic.certs.iter().flatten().filter(|c| {
            cms_sig::issued_by(c, &self.issuer)
                && c.tbs_certificate()
                    .get_extension::<ExtendedKeyUsage>()
                    .ok()
                    .flatten()
                    .is_some_and(|(_, eku)| eku.0.contains(&ID_KP_OCSP_SIGNING))
        });
        let signed = std::iter::once(&self.issuer).chain(delegated).any(|c| {
            cms_sig::verify_signature(
                c.tbs_certificate().subject_public_key_info(),
                basic.signature_algorithm.oid,
                cms_sig::SHA256,
                &tbs,
                signature,
            )
            .unwrap_or(false)
        });
        if !signed {
            return Err("câu trả lời OCSP không được tổ chức cấp chứng thư số ký".to_owned());
        }
        let ours = self.cert_id().map_err(|e| e.to_string())?;
        let single = data
            .responses
            .iter()
            .find(|r| r.cert_id == ours)
            .ok_or("câu trả lời OCSP không nói về chứng thư số này")?;
        let this_update = tsp::generalized_time(&single.this_update).ok_or("thời điểm OCSP không đọc được")?;
        if this_update > now + SKEW {
            return Err("câu trả lời OCSP ghi thời điểm trong tương lai".to_owned());
        }
        if let Some(next) = single.next_update.as_ref().and_then(tsp::generalized_time)
            && next + SKEW < now
        {
            return Err("câu trả lời OCSP đã hết hạn".to_owned());
        }
        let status = &single.cert_status;
        match status.tag() {
            der::Tag::ContextSpecific { number, .. } if number.0 == 0 => Ok(Status::Good),
            der::Tag::ContextSpecific { number, .. } if number.0 == 1 => {
                // RevokedInfo, implicitly tagged: its first element is the time (a reason may
                // follow).
                let at = der::SliceReader::new(status.value())
                    .ok()
                    .and_then(|mut r| Any::decode(&mut r).ok())
                    .and_then(|t| tsp::generalized_time(&t));
                Ok(Status::Revoked(at))
            }
            _ => Err("máy chủ OCSP không biết chứng thư số này".to_owned()),
        }
    }

    /// What the CRL `crl` (DER, or PEM) says about the certificate at `now`. `Err` when it
    /// is not the issuer's, not signed by it, or out of date.
    pub fn crl_status(&self, crl: &[u8], now: OffsetDateTime) -> Result<Status, String> {
        let list = if crl.starts_with(b"-----BEGIN") {
            use der::DecodePem;
            CertificateList::from_pem(crl)
        } else {
            CertificateList::from_der(crl)
        }
        .map_err(|e| format!("CRL không đọc được ({e})"))?;
        let tbs = &list.tbs_cert_list;
        if &tbs.issuer != self.certificate.tbs_certificate().issuer() {
            return Err("CRL không phải của tổ chức cấp chứng thư số".to_owned());
        }
        let signed = tbs
            .to_der()
            .ok()
            .zip(list.signature.as_bytes())
            .is_some_and(|(der, sig)| {
                cms_sig::verify_signature(
                    self.issuer.tbs_certificate().subject_public_key_info(),
                    list.signature_algorithm.oid,
                    cms_sig::SHA256,
                    &der,
                    sig,
                )
                .unwrap_or(false)
            });
        if !signed {
            return Err("CRL không được tổ chức cấp chứng thư số ký".to_owned());
        }
        if time_of(&tbs.this_update).is_none_or(|t| t > now + SKEW) {
            return Err("CRL ghi thời điểm trong tương lai".to_owned());
        }
        if tbs
            .next_update
            .as_ref()
            .and_then(time_of)
            .is_some_and(|next| next + SKEW < now)
        {
            return Err("CRL đã hết hạn".to_owned());
        }
        let serial = self.certificate.tbs_certificate().serial_number();
        let revoked = tbs
            .revoked_certificates
            .iter()
            .flatten()
            .find(|r| &r.serial_number == serial);
        Ok(match revoked {
            Some(r) => Status::Revoked(time_of(&r.revocation_date)),
            None => Status::Good,
        })
    }
}

/// The outcome of asking about one link: its certificate's name and what was learnt (or
/// why nothing was, in Vietnamese).
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The certificate's name.
    pub certificate: String,
    /// The status and where it came from, or why it is unknown.
    pub result: Result<(Status, Source), String>,
}

/// Sets `report.revocation` from the outcomes of its links (as [`links`] gave them). A
/// revoked certificate makes the signature [`Verdict::Revoked`], unless a trusted
/// time-stamp proves it was made before the revocation.
pub fn conclude(report: &mut SignatureReport, outcomes: &[Outcome]) {
    if report.path.is_empty() {
        return;
    }
    let proven_time = report
        .timestamp
        .as_ref()
        .filter(|t| t.valid && t.trusted)
        .and_then(|t| t.time);
    let (revocation, void) = decide(outcomes, proven_time);
    if void && matches!(report.verdict, Verdict::Valid | Verdict::ChangedAfterSigning) {
        report.verdict = Verdict::Revoked;
    }
    report.revocation = revocation;
}

/// The revocation status the outcomes give, and whether it voids the signature (revoked,
/// and not proven signed before by a trusted time-stamp of time `proven_time`).
fn decide(outcomes: &[Outcome], proven_time: Option<OffsetDateTime>) -> (Revocation, bool) {
    for o in outcomes {
        if let Ok((Status::Revoked(at), _)) = &o.result {
            let proven_before = matches!((proven_time, at), (Some(signed), Some(at)) if signed < *at);
            let revocation = Revocation::Revoked {
                certificate: o.certificate.clone(),
                at: *at,
                proven_before,
            };
            return (revocation, !proven_before);
        }
    }
    let unknown: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|why| format!("{}: {why}", o.certificate)))
        .collect();
    let revocation = if outcomes.is_empty() {
        Revocation::NotChecked("không có chứng thư số nào để tra cứu".to_owned())
    } else if unknown.is_empty() {
        let by_ocsp = outcomes.iter().all(|o| matches!(o.result, Ok((_, Source::Ocsp))));
        Revocation::Good {
            source: if by_ocsp { Source::Ocsp } else { Source::Crl },
        }
    } else {
        Revocation::NotChecked(unknown.join("; "))
    };
    (revocation, false)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn outcome(result: Result<(Status, Source), String>) -> Outcome {
        Outcome {
            certificate: "A".to_owned(),
            result,
        }
    }

    #[test]
    fn a_revocation_voids_a_signature_unless_a_time_stamp_proves_it_came_first() {
        let revoked = [
            outcome(Ok((Status::Good, Source::Ocsp))),
            outcome(Ok((Status::Revoked(Some(datetime!(2026-06-01 0:00 UTC))), Source::Crl))),
        ];
        let (r, void) = decide(&revoked, None);
        assert!(void);
        assert!(
            matches!(
                r,
                Revocation::Revoked {
                    proven_before: false,
                    ..
                }
            ),
            "{r:?}"
        );
        let (r, void) = decide(&revoked, Some(datetime!(2026-05-31 23:59 UTC)));
        assert!(!void);
        assert!(
            matches!(
                r,
                Revocation::Revoked {
                    proven_before: true,
                    ..
                }
            ),
            "{r:?}"
        );
        // A time-stamp after the revocation proves nothing; nor does an unknown date.
        assert!(decide(&revoked, Some(datetime!(2026-06-02 0:00 UTC))).1);
        let undated = [outcome(Ok((Status::Revoked(None), Source::Ocsp)))];
        assert!(decide(&undated, Some(datetime!(2020-01-01 0:00 UTC))).1);
    }

    #[test]
    fn good_only_when_every_link_answered_good() {
        let (r, void) = decide(&[outcome(Ok((Status::Good, Source::Ocsp)))], None);
        assert_eq!(r, Revocation::Good { source: Source::Ocsp });
        assert!(!void);
        let mixed = [
            outcome(Ok((Status::Good, Source::Ocsp))),
            outcome(Err("không kết nối được".to_owned())),
        ];
        let (r, void) = decide(&mixed, None);
        assert!(
            matches!(r, Revocation::NotChecked(ref why) if why.contains("không kết nối được")),
            "{r:?}"
        );
        assert!(!void);
        assert!(matches!(decide(&[], None).0, Revocation::NotChecked(_)));
    }
}
