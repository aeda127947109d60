//! The CMS SignedData (RFC 5652) inside a PAdES signature: built for signing, read and
//! checked for verifying. PAdES B-B (ETSI EN 319 142-1 §6.3) wants detached content, the
//! content-type, message-digest and signing-certificate-v2 attributes, and no signing-time
//! attribute (the claimed time is the signature dictionary's `/M`).

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use sha2_11::Digest;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

use crate::SignError;
use crate::token::KeyAlgorithm;

pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
pub(crate) const SIGNING_CERTIFICATE_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub(crate) const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(crate) const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(crate) const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
pub(crate) const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
pub(crate) const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
pub(crate) const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
pub(crate) const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
pub(crate) const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
pub(crate) const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// `ESSCertIDv2` (RFC 5035): the hash algorithm is left at its default, SHA-256.
#[derive(Clone, Debug, der::Sequence)]
struct EssCertIdV2 {
    cert_hash: OctetString,
    issuer_serial: IssuerSerial,
}

/// `IssuerSerial` (RFC 5035).
#[derive(Clone, Debug, der::Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

/// `SigningCertificateV2` (RFC 5035), without policies.
#[derive(Clone, Debug, der::Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn algorithm(oid: ObjectIdentifier, null_parameters: bool) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: null_parameters.then_some(Any::null()),
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute, SignError> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// The signed attributes of a signature over content whose SHA-256 is `digest`, by `cert`.
fn signed_attributes(digest: &[u8], cert: &Certificate) -> Result<SetOfVec<Attribute>, SignError> {
    let cert_hash = sha2_11::Sha256::digest(cert.to_der()?);
    let tbs = cert.tbs_certificate();
    let signing_certificate = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(cert_hash.to_vec())?,
            issuer_serial: IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer().clone())],
                serial_number: tbs.serial_number().clone(),
            },
        }],
    };
    let attrs = vec![
        attribute(CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
        attribute(MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest.to_vec())?)?)?,
        attribute(SIGNING_CERTIFICATE_V2, Any::encode_from(&signing_certificate)?)?,
    ];
    Ok(SetOfVec::try_from(attrs)?)
}

/// Turns a signature value into the DER of a time-stamp token over it (PAdES B-T).
pub(crate) type TimeStamper<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, SignError>;

/// The DER of a CMS `ContentInfo` holding a detached SignedData over content whose SHA-256
/// is `digest`. `sign` signs the DER of the signed attributes with the signer's key; with
/// `timestamp`, the signature value's time-stamp token is added as an unsigned attribute.
pub(crate) fn signed_data(
    digest: &[u8],
    cert: &Certificate,
    chain: &[Certificate],
    algorithm_of_key: KeyAlgorithm,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, SignError>,
    timestamp: Option<TimeStamper<'_>>,
) -> Result<Vec<u8>, SignError> {
    let attrs = signed_attributes(digest, cert)?;
    let signature = sign(&attrs.to_der()?)?;
    let unsigned_attrs = match timestamp {
        Some(stamp) => {
            let token = Any::from_der(&stamp(&signature)?)?;
            Some(SetOfVec::try_from(vec![attribute(
                crate::tsp::SIGNATURE_TIME_STAMP_TOKEN,
                token,
            )?])?)
        }
        None => None,
    };
    let signature_algorithm = match algorithm_of_key {
        KeyAlgorithm::Rsa => algorithm(SHA256_WITH_RSA, true),
        KeyAlgorithm::Ecdsa => algorithm(ECDSA_SHA256, false),
    };
    let tbs = cert.tbs_certificate();
    let signer = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: algorithm(SHA256, false),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let certificates = std::iter::once(cert)
        .chain(chain)
        .map(|c| CertificateChoices::Certificate(c.clone()))
        .collect::<Vec<_>>();
    let data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(SHA256, false)])?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer])?),
    };
    let info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&data)?,
    };
    Ok(info.to_der()?)
}

/// A signature read from a PDF's `/Contents`: its SignedData, first signer and the signer's
/// certificate (when the SignedData carries it).
pub(crate) struct ParsedSignature {
    pub data: SignedData,
    pub signer: SignerInfo,
    pub certificate: Option<Certificate>,
}

/// Reads the DER of a `ContentInfo`, ignoring the zero padding that follows it in `/Contents`.
pub(crate) fn parse(contents: &[u8]) -> Result<ParsedSignature, SignError> {
    let mut reader = der::SliceReader::new(contents)?;
    let info: ContentInfo = der::Decode::decode(&mut reader)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(SignError::Asn1(format!(
            "content type {} is not signed data",
            info.content_type
        )));
    }
    let data: SignedData = info.content.decode_as()?;
    let signer = data
        .signer_infos
        .0
        .iter()
        .next()
        .cloned()
        .ok_or_else(|| SignError::Asn1("no signer".to_owned()))?;
    let certificate = certificates(&data).into_iter().find(|c| identifies(&signer.sid, c));
    Ok(ParsedSignature {
        data,
        signer,
        certificate,
    })
}

/// The X.509 certificates a SignedData carries.
pub(crate) fn certificates(data: &SignedData) -> Vec<Certificate> {
    data.certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect()
}

fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = cert.tbs_certificate();
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            &isn.issuer == tbs.issuer() && &isn.serial_number == tbs.serial_number()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .get_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    }
}

/// The digest of `parts` with the algorithm `oid`, if it is one we know.
pub(crate) fn digest(oid: ObjectIdentifier, parts: &[&[u8]]) -> Option<Vec<u8>> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut d = D::new();
        for p in parts {
            d.update(p);
        }
        d.finalize().to_vec()
    }
    match oid {
        SHA256 => Some(run::<sha2_11::Sha256>(parts)),
        SHA384 => Some(run::<sha2_11::Sha384>(parts)),
        SHA512 => Some(run::<sha2_11::Sha512>(parts)),
        _ => None,
    }
}

/// The value of the signed attribute `oid`.
pub(crate) fn signed_attribute(signer: &SignerInfo, oid: ObjectIdentifier) -> Option<&Any> {
    signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| a.oid == oid)
        .and_then(|a| a.values.iter().next())
}

/// Whether `signature` over `message` verifies under `spki`, the signature algorithm being
/// `signature_oid` (or the plain key algorithm) with `digest_oid`. `Err` for an algorithm
/// this verifier does not know.
pub(crate) fn verify_signature(
    spki: &spki::SubjectPublicKeyInfoOwned,
    signature_oid: ObjectIdentifier,
    digest_oid: ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    let digest_oid = match signature_oid {
        SHA256_WITH_RSA | ECDSA_SHA256 => SHA256,
        SHA384_WITH_RSA | ECDSA_SHA384 => SHA384,
        SHA512_WITH_RSA | ECDSA_SHA512 => SHA512,
        _ => digest_oid,
    };
    let hash = digest(digest_oid, &[message]).ok_or_else(|| format!("unknown digest {digest_oid}"))?;
    let key_bytes = spki.subject_public_key.raw_bytes();
    match signature_oid {
        RSA_ENCRYPTION | SHA256_WITH_RSA | SHA384_WITH_RSA | SHA512_WITH_RSA => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let key = rsa::PublicKey::from_pkcs1_der(key_bytes).map_err(|e| format!("RSA key: {e}"))?;
            let scheme = match digest_oid {
                SHA256 => rsa::Pkcs1v15Sign::new::<sha2_11::Sha256>(),
                SHA384 => rsa::Pkcs1v15Sign::new::<sha2_11::Sha384>(),
                _ => rsa::Pkcs1v15Sign::new::<sha2_11::Sha512>(),
            };
            Ok(key.verify(scheme, &hash, signature).is_ok())
        }
        ECDSA_SHA256 | ECDSA_SHA384 | ECDSA_SHA512 => {
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or("an EC key without a named curve")?;
            match curve.to_string().as_str() {
                "1.2.840.10045.3.1.7" => {
                    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(|e| e.to_string())?;
                    let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                        return Ok(false);
                    };
                    Ok(key.verify_prehash(&hash, &sig).is_ok())
                }
                "1.3.132.0.34" => {
                    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).map_err(|e| e.to_string())?;
                    let Ok(sig) = p384::ecdsa::Signature::from_der(signature) else {
                        return Ok(false);
                    };
                    Ok(key.verify_prehash(&hash, &sig).is_ok())
                }
                other => Err(format!("unsupported curve {other}")),
            }
        }
        other => Err(format!("unsupported signature algorithm {other}")),
    }
}

/// Whether `cert` was signed by the key of `issuer`.
pub(crate) fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let Some(sig) = cert.signature().as_bytes() else {
        return false;
    };
    verify_signature(
        issuer.tbs_certificate().subject_public_key_info(),
        cert.signature_algorithm().oid,
        SHA256,
        &tbs,
        sig,
    )
    .unwrap_or(false)
}

/// The length of the DER of a signature with the same certificates and a `signature_len`-byte
/// signature value: how much room `/Contents` needs (ECDSA varies by a few bytes, callers
/// add a margin).
pub(crate) fn estimate(
    cert: &Certificate,
    chain: &[Certificate],
    algorithm_of_key: KeyAlgorithm,
) -> Result<usize, SignError> {
    let signature_len = match algorithm_of_key {
        KeyAlgorithm::Rsa => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::traits::PublicKeyParts;
            let key = rsa::PublicKey::from_pkcs1_der(
                cert.tbs_certificate()
                    .subject_public_key_info()
                    .subject_public_key
                    .raw_bytes(),
            )
            .map_err(|e| SignError::Asn1(format!("RSA key: {e}")))?;
            key.size()
        }
        // The largest DER of an ECDSA P-521 signature.
        KeyAlgorithm::Ecdsa => 139,
    };
    let digest = [0u8; 32];
    let der = signed_data(
        &digest,
        cert,
        chain,
        algorithm_of_key,
        |_| Ok(vec![0xff; signature_len]),
        None,
    )?;
    Ok(der.len())
}

/// Whether `a` DER-encodes to the same bytes as `b`.
pub(crate) fn same(a: &Certificate, b: &Certificate) -> bool {
    matches!((a.to_der(), b.to_der()), (Ok(x), Ok(y)) if x == y)
}

/// Reads a DER-encoded `Time` (signing-time attribute) as seconds since the epoch.
pub(crate) fn signing_time_attribute(signer: &SignerInfo) -> Option<i64> {
    let any = signed_attribute(signer, SIGNING_TIME)?;
    let t: x509_cert::time::Time = any.decode_as().ok()?;
    i64::try_from(t.to_unix_duration().as_secs()).ok()
}

/// Decodes `bytes` as a `T`, for the message-digest attribute.
pub(crate) fn octets(any: &Any) -> Option<Vec<u8>> {
    any.decode_as::<OctetString>().ok().map(|o| o.into_bytes().into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_digests_are_not_guessed() {
        assert!(digest(ObjectIdentifier::new_unwrap("1.2.3"), &[b"x"]).is_none());
        let d = digest(SHA256, &[b"ab", b"c"]).expect("sha256");
        assert_eq!(d, sha2_11::Sha256::digest(b"abc").to_vec());
    }

    #[test]
    fn garbage_is_not_a_signature() {
        assert!(parse(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
        assert!(parse(&[]).is_err());
    }
}
