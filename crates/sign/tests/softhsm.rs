//! Signing with keys in a real PKCS#11 token (SoftHSM2) and checking the result with tools
//! we did not write: pyHanko (PyPI, in the test venv) and poppler's `pdfsig`. And the
//! reverse: PDFs signed by pyHanko, verified by us.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` at initialisation and the signer reads its PIN from the
//! environment; a process cannot safely set its own environment, so the test makes the
//! PKI and token, then runs itself again as a child with both set, and the child signs.

use std::path::{Path, PathBuf};
use std::process::Command;

use motcua_sign::testing::{Party, Pki};
use motcua_sign::{LaterChanges, SignOptions, Stamp, TokenSigner, TrustAnchors, Verdict, sign_pdf, verify_pdf};
use time::OffsetDateTime;

const CHILD: &str = "MOTCUA_SIGN_TEST_DIR";
const PIN_ENV: &str = "MOTCUA_TEST_TOKEN_PIN";

fn venv_bin(name: &str) -> PathBuf {
    let venv =
        std::env::var_os("MOTCUA_TEST_VENV").map_or_else(|| PathBuf::from("/var/tmp/motcua-venv"), PathBuf::from);
    venv.join("bin").join(name)
}

/// A one-page A5 PDF with a classic cross-reference table, as a small stand-in for a form.
fn minimal_pdf() -> Vec<u8> {
    let content = b"BT /F1 14 Tf 60 520 Td (GIAY TIEP NHAN HO SO) Tj ET";
    let objects = [
        "<</Type/Catalog/Pages 2 0 R>>".to_owned(),
        "<</Type/Pages/Kids[3 0 R]/Count 1>>".to_owned(),
        "<</Type/Page/Parent 2 0 R/MediaBox[0 0 419.528 595.276]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>"
            .to_owned(),
        format!(
            "<</Length {}>>\nstream\n{}\nendstream",
            content.len(),
            String::from_utf8_lossy(content)
        ),
        "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>".to_owned(),
    ];
    motcua_sign::testing::pdf_of_objects(
        &objects,
        "/ID[<0123456789ABCDEF0123456789ABCDEF><0123456789ABCDEF0123456789ABCDEF>]",
    )
}

fn stamp_for(party: &Party) -> SignOptions {
    SignOptions {
        stamp: Stamp {
            signer: party.common_name.clone(),
            organisation: party.organisation.clone(),
            time: OffsetDateTime::now_utc(),
        },
        reason: Some("Cơ quan cấp văn bản".to_owned()),
        location: Some("Ninh Thuận".to_owned()),
    }
}

/// `pyhanko sign validate` on `file` trusting only `ca`; its output.
fn pyhanko_validate(file: &Path, ca: &Path) -> (bool, String) {
    let out = Command::new(venv_bin("pyhanko"))
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust-replace",
            "--trust",
        ])
        .arg(ca)
        .arg(file)
        .output()
        .expect("pyhanko runs (scripts/deps.sh installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn pyhanko_sign(input: &Path, output: &Path, party: &Party) {
    let out = Command::new(venv_bin("pyhanko"))
        .args([
            "sign",
            "addsig",
            "--use-pades",
            "--field",
            "1/300,20,400,60/Sig1",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(&party.key)
        .arg("--cert")
        .arg(&party.cert)
        .arg(input)
        .arg(output)
        .output()
        .expect("pyhanko runs");
    assert!(
        out.status.success(),
        "pyhanko sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn signatures_made_with_a_pkcs11_token_are_accepted_by_pyhanko_and_pdfsig() {
    let Some(dir) = std::env::var_os(CHILD) else {
        let tmp = tempfile::tempdir().expect("temp dir");
        let pki = Pki::create(tmp.path()).expect("test PKI and token (openssl, softhsm2-util)");
        let status = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "signatures_made_with_a_pkcs11_token_are_accepted_by_pyhanko_and_pdfsig",
                "--nocapture",
                "--test-threads=1",
            ])
            .envs(pki.environment(PIN_ENV))
            .env(CHILD, tmp.path())
            .status()
            .expect("the test runs as a child");
        assert!(status.success(), "the signing child failed");
        return;
    };
    let dir = PathBuf::from(dir);
    let pki = Pki::load(&dir);
    let anchors = pki.trust_anchors().expect("anchors");
    assert_eq!(anchors.len(), 1);
    let now = OffsetDateTime::now_utc();

    // The agency's certificate is on the token; the leader's comes from a file.
    pki.put_certificate_on_token(&pki.agency).expect("certificate on token");
    let agency = TokenSigner::open(&pki.token_config(&pki.agency, PIN_ENV, false)).expect("agency key");
    let leader = TokenSigner::open(&pki.token_config(&pki.leader, PIN_ENV, true)).expect("leader key");
    assert_eq!(agency.algorithm(), motcua_sign::KeyAlgorithm::Rsa);
    assert_eq!(leader.algorithm(), motcua_sign::KeyAlgorithm::Ecdsa);
    // A wrong key label is refused when opening, not at the first document.
    let mut wrong = pki.token_config(&pki.agency, PIN_ENV, false);
    wrong.key_label = "nobody".to_owned();
    assert!(TokenSigner::open(&wrong).is_err());

    let original = minimal_pdf();
    let signed = sign_pdf(&original, &agency, &stamp_for(&pki.agency)).expect("signed");
    assert!(
        signed.starts_with(&original),
        "an incremental update keeps the original bytes"
    );
    let signed_path = dir.join("signed.pdf");
    std::fs::write(&signed_path, &signed).expect("written");

    // Ours.
    let reports = verify_pdf(&signed, &anchors, now);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r.verdict, Verdict::Valid, "{r:?}");
    assert!(r.intact && r.covers_whole_file && r.trusted);
    assert_eq!(r.signer.as_deref(), Some(pki.agency.common_name.as_str()));
    assert_eq!(r.organisation.as_deref(), Some("UBND tỉnh Ninh Thuận"));
    assert_eq!(r.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
    assert!(r.signed_at.is_some());
    // Unknown to a verifier that trusts nothing.
    assert_eq!(
        verify_pdf(&signed, &TrustAnchors::default(), now)[0].verdict,
        Verdict::UnknownIssuer
    );

    // pyHanko: intact, trusted under the test CA, and the signer named.
    let (ok, text) = pyhanko_validate(&signed_path, &pki.ca);
    assert!(ok, "pyHanko rejects our signature:\n{text}");
    for said in [
        "The signature is cryptographically sound.",
        "The signer's certificate is trusted.",
        "Trust anchor: \"Common Name: CA thử nghiệm motcua",
        "The signature covers the entire file.",
        "The signature is judged VALID.",
        "Common Name: Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
    ] {
        assert!(text.contains(said), "pyHanko does not say {said:?}:\n{text}");
    }

    // poppler's pdfsig lists it, with the signer.
    let out = Command::new("pdfsig")
        .arg(&signed_path)
        .output()
        .expect("pdfsig runs (poppler-utils)");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("Signature #1"), "{listing}");
    assert!(
        listing.contains("Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận"),
        "{listing}"
    );
    assert!(listing.contains("ETSI.CAdES.detached"), "{listing}");

    // One byte changed in the signed range: both say altered.
    let mut tampered = signed.clone();
    let at = original
        .windows(13)
        .position(|w| w == b"TIEP NHAN HO ")
        .expect("the text is in the content stream");
    tampered[at] = b'X';
    let tampered_path = dir.join("tampered.pdf");
    std::fs::write(&tampered_path, &tampered).expect("written");
    let reports = verify_pdf(&tampered, &anchors, now);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].verdict, Verdict::Altered);
    assert!(!reports[0].intact);
    let (ok, text) = pyhanko_validate(&tampered_path, &pki.ca);
    assert!(!ok, "pyHanko accepts a tampered file:\n{text}");
    assert!(text.contains("The signature is cryptographically unsound."), "{text}");
    assert!(text.contains("The signature is judged INVALID."), "{text}");

    // A second signature (the leader's, ECDSA) over the first: both verify, the first one
    // noting that only a signature was added after it.
    let twice = sign_pdf(&signed, &leader, &stamp_for(&pki.leader)).expect("signed twice");
    let twice_path = dir.join("twice.pdf");
    std::fs::write(&twice_path, &twice).expect("written");
    let reports = verify_pdf(&twice, &anchors, now);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
    assert!(!reports[0].covers_whole_file);
    assert_eq!(reports[0].later_changes, LaterChanges::SignaturesOnly);
    assert_eq!(reports[1].later_changes, LaterChanges::None);
    assert_eq!(reports[1].verdict, Verdict::Valid, "{:?}", reports[1]);
    assert_eq!(reports[1].signer.as_deref(), Some("Nguyễn Thị Hường"));
    let (ok, text) = pyhanko_validate(&twice_path, &pki.ca);
    assert!(ok, "pyHanko rejects the doubly signed file:\n{text}");
    assert!(text.contains("Nguyễn Thị Hường"), "{text}");
    let out = Command::new("pdfsig").arg(&twice_path).output().expect("pdfsig runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signature #2"));

    // The reverse: signed by pyHanko with the test CA's agency key, verified by us.
    let plain_path = dir.join("plain.pdf");
    std::fs::write(&plain_path, &original).expect("written");
    let by_pyhanko = dir.join("by-pyhanko.pdf");
    pyhanko_sign(&plain_path, &by_pyhanko, &pki.agency);
    let bytes = std::fs::read(&by_pyhanko).expect("read");
    let reports = verify_pdf(&bytes, &anchors, now);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
    assert_eq!(reports[0].signer.as_deref(), Some(pki.agency.common_name.as_str()));
    assert!(
        reports[0].signed_at.is_some(),
        "pyHanko's /M is read (its colon is escaped)"
    );

    // Signed elsewhere (pyHanko), then countersigned by us: pyHanko's signature stays valid.
    let countersigned = sign_pdf(&bytes, &leader, &stamp_for(&pki.leader)).expect("countersigned");
    let reports = verify_pdf(&countersigned, &anchors, now);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
    assert_eq!(reports[0].later_changes, LaterChanges::SignaturesOnly);
    assert_eq!(reports[1].verdict, Verdict::Valid, "{:?}", reports[1]);

    // Signed by us, then countersigned by pyHanko: ours stays valid.
    let by_us_then_pyhanko = dir.join("then-pyhanko.pdf");
    pyhanko_sign(&signed_path, &by_us_then_pyhanko, &pki.leader);
    let bytes = std::fs::read(&by_us_then_pyhanko).expect("read");
    let reports = verify_pdf(&bytes, &anchors, now);
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].verdict, Verdict::Valid, "{:?}", reports[0]);
    assert_eq!(reports[0].later_changes, LaterChanges::SignaturesOnly);
    assert_eq!(reports[1].verdict, Verdict::Valid, "{:?}", reports[1]);

    // And by a CA nobody configured: untrusted, though intact.
    let by_stranger = dir.join("by-stranger.pdf");
    pyhanko_sign(&plain_path, &by_stranger, &pki.stranger);
    let bytes = std::fs::read(&by_stranger).expect("read");
    let reports = verify_pdf(&bytes, &anchors, now);
    assert_eq!(reports.len(), 1);
    assert!(reports[0].intact);
    assert_eq!(reports[0].verdict, Verdict::UnknownIssuer);
    assert_eq!(reports[0].signer.as_deref(), Some("Người lạ"));
}
