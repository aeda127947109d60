//! Verifying the signatures of a PDF, whoever made it.
//!
//! Signatures are found by their `/ByteRange` in the file's bytes rather than through the
//! document's structure: a signature dictionary is never compressed (its `/Contents` must
//! be the one hole in the signed bytes), so this finds every signature even in a file whose
//! structure was damaged by tampering, and an attacker cannot hide one by breaking the xref.
//! For each: the hole must be exactly the `/Contents` hex string, the hash of the covered
//! bytes must match the signed message digest, the signature must verify under the signer's
//! certificate, and that certificate must chain to a trust anchor, every link valid at the
//! signing time. A signature time-stamp (PAdES B-T) is checked too: it must cover this
//! signature's value and be signed by a TSA whose certificate chains to a trust anchor;
//! then its time is the signing time. Revocation is left to [`crate::revocation`] (the
//! caller fetches): until then a report says it was not checked.
//!
//! A signature whose byte range ends before the file does is followed by later revisions:
//! when each of them only adds a signature ([`crate::revisions`]: covered by an intact
//! signature of its own, nothing else changed), it keeps its verdict and says so
//! ([`LaterChanges::SignaturesOnly`]); otherwise the file has content added after it.

use std::path::Path;

use der::Encode;
use time::OffsetDateTime;
use x509_cert::Certificate;

use crate::revisions::{LaterChanges, Revisions};
use crate::{SignError, cms_sig, common_name, organisation, pdf, tsp};

/// The root certificates an administrator trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustAnchors {
    roots: Vec<Certificate>,
}

impl TrustAnchors {
    /// Every certificate in the `.pem`, `.crt`, `.cer` and `.der` files of `dir` (PEM files may
    /// hold several). A missing directory gives no anchors: every signature is then of an
    /// unknown issuer.
    pub fn load_dir(dir: &Path) -> Result<Self, SignError> {
        let mut roots = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(SignError::File {
                    path: dir.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let known = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "pem" | "crt" | "cer" | "der"));
            if known {
                roots.extend(crate::token::read_certificates(&path)?);
            }
        }
        Ok(Self { roots })
    }

    /// Anchors from certificates already read.
    pub fn from_certificates(roots: Vec<Certificate>) -> Self {
        Self { roots }
    }

    /// How many anchors there are.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// The outcome for one signature, from best to worst.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Intact, covering the whole file or followed only by later signatures
    /// ([`LaterChanges::SignaturesOnly`]), by a certificate that chains to a trust anchor and
    /// was valid at the signing time.
    Valid,
    /// Intact and trusted, but the file has content added after this signature: a later
    /// incremental update that does more than add a signature, or that no intact signature
    /// covers ([`LaterChanges::Other`]).
    ChangedAfterSigning,
    /// The signed bytes do not match the signature: the document was altered after signing.
    Altered,
    /// Intact, but the signer's certificate does not chain to any trust anchor.
    UnknownIssuer,
    /// Intact and trusted, but a certificate of its chain is revoked, and no trusted
    /// time-stamp proves the signature was made before (see [`Revocation::Revoked`]).
    Revoked,
    /// Intact, but not acceptable for the stated reason (expired certificate, unknown
    /// algorithm, malformed signature, a time-stamp that does not hold).
    Invalid(String),
}

/// Whether the certificates of the chain are revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Not known, and why (in Vietnamese): no OCSP or CRL address, unreachable, an answer
    /// that does not count, or not asked.
    NotChecked(String),
    /// Every certificate of the chain is not revoked, by OCSP (all of them) or CRLs.
    Good {
        /// Where the answers came from (`Crl` when any came from a CRL).
        source: crate::revocation::Source,
    },
    /// A certificate of the chain is revoked.
    Revoked {
        /// The revoked certificate's name.
        certificate: String,
        /// Since when, if the answer said.
        at: Option<OffsetDateTime>,
        /// Whether a trusted time-stamp proves the signature was made before: it then
        /// keeps its verdict.
        proven_before: bool,
    },
}

/// A signature time-stamp (RFC 3161) found in a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampReport {
    /// The time it states.
    pub time: Option<OffsetDateTime>,
    /// The time-stamp authority's name.
    pub authority: Option<String>,
    /// Whether it covers this signature's value and its signature verifies.
    pub valid: bool,
    /// Whether the authority's certificate may stamp time and chains to a trust anchor,
    /// every link valid at the stated time.
    pub trusted: bool,
    /// Why it is not valid or not trusted (Vietnamese).
    pub problem: Option<String>,
}

/// What the verifier found about one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureReport {
    /// The verdict.
    pub verdict: Verdict,
    /// The signer's common name (CN), when the certificate is present.
    pub signer: Option<String>,
    /// The signer's organisation (O).
    pub organisation: Option<String>,
    /// The certificate's issuer (CN of the issuer name).
    pub issuer: Option<String>,
    /// The claimed signing time: the signed signing-time attribute, else `/M`.
    pub signed_at: Option<OffsetDateTime>,
    /// The byte range `[a, la, b, lb]`.
    pub byte_range: [usize; 4],
    /// Whether the covered bytes match the signed digest and the signature verifies.
    pub intact: bool,
    /// Whether the byte range covers the whole file but the `/Contents` hole.
    pub covers_whole_file: bool,
    /// What the file holds after the signed bytes: nothing (`covers_whole_file`), only later
    /// signatures, or other changes. Only an intact signature's later changes are examined:
    /// for any other that does not cover the whole file it is [`LaterChanges::Other`].
    pub later_changes: LaterChanges,
    /// Whether the certificate chains to a trust anchor.
    pub trusted: bool,
    /// `/SubFilter`, e.g. `ETSI.CAdES.detached`.
    pub sub_filter: Option<String>,
    /// Revocation status.
    pub revocation: Revocation,
    /// The signature time-stamp, when the signature has one.
    pub timestamp: Option<TimestampReport>,
    /// The chain from the signer's certificate to the trust anchor (both included); empty
    /// when the signature is not trusted.
    pub path: Vec<Certificate>,
}

/// Checks every signature of `pdf` against `anchors`; `now` is used when a signature
/// claims no time. An unsigned file gives an empty list.
///
/// A signature followed by later revisions that only add signatures (a leader's signature,
/// then the agency's) is [`Verdict::Valid`] with [`LaterChanges::SignaturesOnly`]; see
/// [`crate::revisions`] for what counts as only adding a signature.
pub fn verify_pdf(pdf: &[u8], anchors: &TrustAnchors, now: OffsetDateTime) -> Vec<SignatureReport> {
    let mut reports: Vec<SignatureReport> = find_byte_ranges(pdf)
        .into_iter()
        .map(|(range, dict)| check(pdf, range, &dict, anchors, now))
        .collect();
    if reports.iter().all(|r| r.covers_whole_file || !r.intact) {
        return reports;
    }
    // Each revision must end where an intact signature's byte range ends (`check` made sure
    // an intact one starts at 0 and lies within the file).
    let mut revisions = Revisions::new(
        pdf,
        reports.iter().filter(|r| r.intact).map(|r| signed_end(&r.byte_range)),
    );
    for report in reports.iter_mut().filter(|r| r.intact && !r.covers_whole_file) {
        report.later_changes = revisions.after(signed_end(&report.byte_range));
        if report.later_changes == LaterChanges::SignaturesOnly && report.verdict == Verdict::ChangedAfterSigning {
            report.verdict = Verdict::Valid;
        }
    }
    reports
}

/// Where the bytes a byte range covers end.
fn signed_end(range: &[usize; 4]) -> usize {
    range[2].saturating_add(range[3])
}

/// The SHA-256 of a document, hex: what motcua records when it issues one.
pub fn fingerprint(pdf: &[u8]) -> String {
    pdf::sha256_hex(pdf)
}

fn check(pdf: &[u8], range: [usize; 4], dict: &[u8], anchors: &TrustAnchors, now: OffsetDateTime) -> SignatureReport {
    let covers_whole_file = range[0] == 0 && range[2].checked_add(range[3]) == Some(pdf.len());
    let mut report = SignatureReport {
        verdict: Verdict::Altered,
        signer: None,
        organisation: None,
        issuer: None,
        signed_at: dict_date(dict),
        byte_range: range,
        intact: false,
        covers_whole_file,
        later_changes: if covers_whole_file {
            LaterChanges::None
        } else {
            LaterChanges::Other
        },
        trusted: false,
        sub_filter: dict_name(dict, b"/SubFilter"),
        revocation: Revocation::NotChecked("chưa tra cứu".to_owned()),
        timestamp: None,
        path: Vec::new(),
    };
    let Some(parts) = pdf::covered(pdf, &range) else {
        report.verdict = Verdict::Invalid("vùng ký nằm ngoài tệp".to_owned());
        return report;
    };
    // The hole between the two parts must be exactly `<hex>`: nothing else may go unsigned.
    let hole = &pdf[range[0] + range[1]..range[2]];
    let contents = match hole {
        [b'<', inner @ .., b'>'] if inner.iter().all(u8::is_ascii_hexdigit) => hex::decode(inner).ok(),
        _ => None,
    };
    let Some(contents) = contents.filter(|_| range[0] == 0 && range[1] < range[2]) else {
        report.verdict = Verdict::Invalid("vùng không được ký không phải là chữ ký".to_owned());
        return report;
    };
    let parsed = match cms_sig::parse(&contents) {
        Ok(p) => p,
        Err(e) => {
            report.verdict = Verdict::Invalid(format!("không đọc được chữ ký ({e})"));
            return report;
        }
    };
    if let Some(t) = cms_sig::signing_time_attribute(&parsed.signer) {
        report.signed_at = OffsetDateTime::from_unix_timestamp(t).ok().or(report.signed_at);
    }
    let Some(cert) = parsed.certificate.clone() else {
        report.verdict = Verdict::Invalid("chữ ký không kèm chứng thư số của người ký".to_owned());
        return report;
    };
    let tbs = cert.tbs_certificate();
    report.signer = common_name(tbs.subject());
    report.organisation = organisation(tbs.subject());
    report.issuer = common_name(tbs.issuer());

    // Integrity: the digest of the covered bytes, then the signature over the attributes.
    let digest_oid = parsed.signer.digest_alg.oid;
    let Some(digest) = cms_sig::digest(digest_oid, &parts) else {
        report.verdict = Verdict::Invalid(format!("thuật toán băm không hỗ trợ ({digest_oid})"));
        return report;
    };
    let signed_digest = cms_sig::signed_attribute(&parsed.signer, cms_sig::MESSAGE_DIGEST).and_then(cms_sig::octets);
    let Some(attrs) = parsed.signer.signed_attrs.as_ref() else {
        report.verdict = Verdict::Invalid("chữ ký không có thuộc tính được ký".to_owned());
        return report;
    };
    let Ok(attrs_der) = attrs.to_der() else {
        report.verdict = Verdict::Invalid("thuộc tính được ký không mã hoá được".to_owned());
        return report;
    };
    let signature_ok = cms_sig::verify_signature(
        tbs.subject_public_key_info(),
        parsed.signer.signature_algorithm.oid,
        digest_oid,
        &attrs_der,
        parsed.signer.signature.as_bytes(),
    );
    match signature_ok {
        Err(e) => {
            report.verdict = Verdict::Invalid(format!("thuật toán ký không hỗ trợ ({e})"));
            return report;
        }
        Ok(ok) => report.intact = ok && signed_digest.as_deref() == Some(&digest[..]),
    }
    if !report.intact {
        report.verdict = Verdict::Altered;
        return report;
    }

    // A signature time-stamp: when it holds and is trusted, its time is the signing time.
    let token = parsed
        .signer
        .unsigned_attrs
        .as_ref()
        .and_then(|attrs| attrs.iter().find(|a| a.oid == tsp::SIGNATURE_TIME_STAMP_TOKEN))
        .and_then(|a| a.values.iter().next())
        .map(|v| v.to_der());
    if let Some(token) = token {
        let ts = timestamp(token.ok().as_deref(), parsed.signer.signature.as_bytes(), anchors);
        if ts.valid && ts.trusted {
            report.signed_at = ts.time.or(report.signed_at);
        }
        report.timestamp = Some(ts);
    }

    // Trust: a path to an anchor through the certificates the signature carries.
    let at = report.signed_at.unwrap_or(now);
    let pool = cms_sig::certificates(&parsed.data);
    match chain(&cert, &pool, anchors) {
        None => report.verdict = Verdict::UnknownIssuer,
        Some(path) => {
            report.trusted = true;
            let expired = path.iter().find(|c| !valid_at(c, at));
            let bad_timestamp = report.timestamp.as_ref().filter(|t| !t.valid);
            report.verdict = match (expired, bad_timestamp) {
                (Some(c), _) => Verdict::Invalid(format!(
                    "chứng thư số {} không còn hiệu lực vào thời điểm ký",
                    common_name(c.tbs_certificate().subject()).unwrap_or_default()
                )),
                (None, Some(t)) => Verdict::Invalid(format!(
                    "dấu thời gian không hợp lệ ({})",
                    t.problem.as_deref().unwrap_or("không rõ lý do")
                )),
                (None, None) if report.covers_whole_file => Verdict::Valid,
                (None, None) => Verdict::ChangedAfterSigning,
            };
            report.path = path;
        }
    }
    if report.path.is_empty() {
        report.revocation = Revocation::NotChecked("chứng thư số không chuỗi tới gốc tin cậy".to_owned());
    }
    report
}

/// Checks the time-stamp token `der` (`None`: it could not be encoded) over `signature`.
fn timestamp(der: Option<&[u8]>, signature: &[u8], anchors: &TrustAnchors) -> TimestampReport {
    let Some(der) = der else {
        return TimestampReport {
            time: None,
            authority: None,
            valid: false,
            trusted: false,
            problem: Some("không đọc được dấu thời gian".to_owned()),
        };
    };
    let token = tsp::inspect(der, signature);
    let mut report = TimestampReport {
        time: token.time,
        authority: token.authority.clone(),
        valid: token.problem.is_none(),
        trusted: false,
        problem: token.problem.clone(),
    };
    if !report.valid {
        return report;
    }
    let (Some(cert), Some(at)) = (token.certificate.as_ref(), token.time) else {
        return report;
    };
    let why_not = if !tsp::may_time_stamp(cert) {
        Some("chứng thư số của tổ chức cấp dấu thời gian không dùng để cấp dấu thời gian")
    } else {
        match chain(cert, &token.pool, anchors) {
            None => Some("tổ chức cấp dấu thời gian không được tin cậy"),
            Some(path) if path.iter().any(|c| !valid_at(c, at)) => {
                Some("chứng thư số của tổ chức cấp dấu thời gian không còn hiệu lực")
            }
            Some(_) => None,
        }
    };
    report.trusted = why_not.is_none();
    report.problem = why_not.map(str::to_owned);
    report
}

/// The path from `cert` up to an anchor (both included), if there is one.
fn chain(cert: &Certificate, pool: &[Certificate], anchors: &TrustAnchors) -> Option<Vec<Certificate>> {
    let mut path = vec![cert.clone()];
    let mut current = cert.clone();
    for _ in 0..8 {
        if anchors.roots.iter().any(|root| cms_sig::same(root, &current)) {
            return Some(path);
        }
        let issuer_name = current.tbs_certificate().issuer();
        if let Some(root) = anchors
            .roots
            .iter()
            .find(|r| r.tbs_certificate().subject() == issuer_name && cms_sig::issued_by(&current, r))
        {
            path.push(root.clone());
            return Some(path);
        }
        let next = pool.iter().find(|c| {
            c.tbs_certificate().subject() == issuer_name
                && !cms_sig::same(c, &current)
                && cms_sig::issued_by(&current, c)
        })?;
        path.push(next.clone());
        current = next.clone();
    }
    None
}

fn valid_at(cert: &Certificate, at: OffsetDateTime) -> bool {
    let validity = cert.tbs_certificate().validity();
    let secs = |t: &x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let at = at.unix_timestamp();
    secs(&validity.not_before) <= at && at <= secs(&validity.not_after)
}

/// Every `/ByteRange [a b c d]` in the file, with the bytes of the dictionary around it.
fn find_byte_ranges(pdf: &[u8]) -> Vec<([usize; 4], Vec<u8>)> {
    const KEY: &[u8] = b"/ByteRange";
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = pdf[from..].windows(KEY.len()).position(|w| w == KEY) {
        let at = from + pos;
        from = at + KEY.len();
        let Some(range) = parse_range(&pdf[from..]) else {
            continue;
        };
        // The enclosing object: from the `obj` before to the `endobj` after the hole.
        let start = pdf[..at].windows(3).rposition(|w| w == b"obj").unwrap_or(0);
        let end_search = range[2].max(from).min(pdf.len());
        let end = pdf[end_search..]
            .windows(6)
            .position(|w| w == b"endobj")
            .map_or(pdf.len(), |p| end_search + p);
        // Leave out the hex of /Contents: the dictionary's other keys are what is read.
        let hole_start = range[1].clamp(start, end);
        let hole_end = range[2].clamp(hole_start, end);
        let mut dict = pdf[start..hole_start].to_vec();
        dict.extend_from_slice(&pdf[hole_end..end]);
        found.push((range, dict));
    }
    found
}

fn parse_range(rest: &[u8]) -> Option<[usize; 4]> {
    let end = rest.iter().take(100).position(|b| *b == b']')?;
    let text = std::str::from_utf8(&rest[..end]).ok()?;
    let inner = text.trim_start().strip_prefix('[')?;
    let nums: Vec<usize> = inner
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    <[usize; 4]>::try_from(nums).ok()
}

/// A name value in the dictionary's bytes, e.g. `/SubFilter /ETSI.CAdES.detached`.
fn dict_name(dict: &[u8], key: &[u8]) -> Option<String> {
    let at = dict.windows(key.len()).position(|w| w == key)? + key.len();
    let rest = &dict[at..];
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest[start..].strip_prefix(b"/")?;
    let end = rest
        .iter()
        .position(|b| b.is_ascii_whitespace() || b"/<>[]()".contains(b))
        .unwrap_or(rest.len());
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// `/M (D:YYYYMMDDHHmmSS+HH'mm')` from the dictionary's bytes.
fn dict_date(dict: &[u8]) -> Option<OffsetDateTime> {
    let at = dict.windows(2).enumerate().find_map(|(i, w)| {
        // `/M` followed by a delimiter, not `/MDP` or the like.
        (w == b"/M"
            && dict
                .get(i + 2)
                .is_some_and(|b| b.is_ascii_whitespace() || *b == b'(' || *b == b'<'))
        .then_some(i + 2)
    })?;
    let rest = &dict[at..];
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &rest[start..];
    let text = if rest.first() == Some(&b'(') {
        String::from_utf8_lossy(&literal_string(&rest[1..])?).into_owned()
    } else {
        let end = rest.iter().position(|b| *b == b'>')?;
        let bytes = hex::decode(&rest[1..end]).ok()?;
        if bytes.starts_with(&[0xfe, 0xff]) {
            let units: Vec<u16> = bytes[2..]
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    parse_pdf_date(&text)
}

/// The bytes of a literal string whose `(` has been read (PDF 32000-1 §7.3.4.2): balanced
/// parentheses, backslash escapes and octal codes (pyHanko writes the date's `:` as `\072`).
fn literal_string(rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < rest.len() {
        let b = rest[i];
        match b {
            b'\\' => {
                let next = *rest.get(i + 1)?;
                i += 2;
                match next {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(0x08),
                    b'f' => out.push(0x0c),
                    b'0'..=b'7' => {
                        let mut value = u32::from(next - b'0');
                        let mut digits = 1;
                        while digits < 3 && rest.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                            value = value * 8 + u32::from(rest[i] - b'0');
                            i += 1;
                            digits += 1;
                        }
                        out.push(u8::try_from(value & 0xff).unwrap_or(0));
                    }
                    // A backslash before an end of line continues the string.
                    b'\r' | b'\n' => {
                        if next == b'\r' && rest.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                    }
                    other => out.push(other),
                }
                continue;
            }
            b'(' => depth += 1,
            b')' if depth == 0 => return Some(out),
            b')' => depth -= 1,
            _ => {}
        }
        out.push(b);
        i += 1;
    }
    None
}

/// Parses `D:YYYYMMDDHHmmSSOHH'mm'` (the later parts optional, PDF 32000-1 §7.9.4).
fn parse_pdf_date(text: &str) -> Option<OffsetDateTime> {
    let s = text.strip_prefix("D:").unwrap_or(text);
    let digits = |from: usize, len: usize, default: u32| -> Option<u32> {
        match s.get(from..from + len) {
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
            _ => Some(default),
        }
    };
    let year = i32::try_from(digits(0, 4, 0)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4, 2, 1)?).ok()?).ok()?;
    let day = u8::try_from(digits(6, 2, 1)?).ok()?;
    let hour = u8::try_from(digits(8, 2, 0)?).ok()?;
    let minute = u8::try_from(digits(10, 2, 0)?).ok()?;
    let second = u8::try_from(digits(12, 2, 0)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let t = time::Time::from_hms(hour, minute, second).ok()?;
    let offset = match s.get(14..15) {
        Some(sign @ ("+" | "-")) => {
            let h = i8::try_from(digits(15, 2, 0)?).ok()?;
            let m = i8::try_from(digits(18, 2, 0)?).ok()?;
            let (h, m) = if sign == "-" { (-h, -m) } else { (h, m) };
            time::UtcOffset::from_hms(h, m, 0).ok()?
        }
        _ => time::UtcOffset::UTC,
    };
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_with_their_offset() {
        let t = parse_pdf_date("D:20261102083005+07'00'").expect("date");
        assert_eq!(t, time::macros::datetime!(2026-11-02 01:30:05 UTC));
        let z = parse_pdf_date("D:20261102083005Z").expect("date");
        assert_eq!(z, time::macros::datetime!(2026-11-02 08:30:05 UTC));
        assert!(parse_pdf_date("D:2026133").is_none());
        // pyHanko escapes the colon; parentheses nest.
        let dict = b"/M (D\\07220261207065459Z)/Name (a \\(b\\) (c))";
        assert_eq!(dict_date(dict), Some(time::macros::datetime!(2026-12-07 06:54:59 UTC)));
        assert_eq!(literal_string(b"a \\(b\\) (c))").as_deref(), Some(&b"a (b) (c)"[..]));
        assert_eq!(literal_string(b"\\101\\n)").as_deref(), Some(&b"A\n"[..]));
        assert!(literal_string(b"never closed").is_none());
    }

    #[test]
    fn byte_ranges_and_names_are_found_in_raw_bytes() {
        let head = "1 0 obj\n<</Type/Sig/SubFilter /ETSI.CAdES.detached/M(D:20260101000000Z)/ByteRange [0 AAA BBB CCC ]/Contents";
        let tail = ">>\nendobj\n";
        let (a, b) = (head.len(), head.len() + 4);
        let head = head
            .replace("AAA", &format!("{a:03}"))
            .replace("BBB", &format!("{b:03}"))
            .replace("CCC", &format!("{:03}", tail.len()));
        let pdf = format!("{head}<00>{tail}");
        let found = find_byte_ranges(pdf.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, [0, a, b, tail.len()]);
        assert_eq!(
            dict_name(&found[0].1, b"/SubFilter").as_deref(),
            Some("ETSI.CAdES.detached")
        );
        assert!(dict_date(&found[0].1).is_some());
    }

    #[test]
    fn an_unsigned_or_broken_file_has_no_valid_signature() {
        let anchors = TrustAnchors::default();
        assert!(verify_pdf(b"%PDF-1.7\n%%EOF\n", &anchors, OffsetDateTime::UNIX_EPOCH).is_empty());
        // A byte range whose hole is not a hex string: never valid.
        let pdf = b"%PDF-1.7\n1 0 obj<</ByteRange[0 10 20 5]/Contents<00>>>endobj\n%%EOF";
        let reports = verify_pdf(pdf, &anchors, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(reports.len(), 1);
        assert!(
            matches!(reports[0].verdict, Verdict::Invalid(_)),
            "{:?}",
            reports[0].verdict
        );
    }
}
