//! PAdES B-T time-stamps and revocation checking (issue 22) against services we did not
//! write: Certomancer (by pyHanko's author, from the venv scripts/deps.sh makes) builds a
//! test PKI from a YAML file and serves its time-stamp authority, OCSP responder and CRL
//! over HTTP on loopback; pyHanko validates what motcua signs and signs what motcua checks.
//!
//! - With `tsa_url` set, a receipt motcua signs carries a signature time-stamp: pyHanko
//!   finds it valid and trusted (and checks revocation itself), motcua reports it and takes
//!   its time as the signing time, and OCSP says the signer's certificate is good.
//! - A certificate revoked at the responder (OCSP) or in the CRL: motcua says revoked, in
//!   Vietnamese on `/xac-thuc`; a good one under a CRL only: good; a responder that is down:
//!   not checked, saying why.
//! - A time-stamp token of another signature put in place of the genuine one (what anyone
//!   holding two signed documents can do: unsigned attributes are outside the signature):
//!   the time-stamp is invalid, and so is the signature.
//! - The TSA down: the document is not issued (503, retried later), never issued without.
//!
//! The key is the test PKI's agency key on a SoftHSM2 token; Certomancer certifies that key
//! (several certificates for one key), so the test runs as a child with the token's
//! environment like `signatures.rs`.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::api::code_of;
use common::files::{download, issued_forms};
use common::intake::file_at_counter;
use common::signing::{in_child, pyhanko, pyhanko_sign, pyhanko_sign_with, venv_bin, verify_api, verify_page};
use common::{CENTRE, LLTP, sign_in, spawn_app_at_with};
use motcua_server::config::SigningKey;
use motcua_sign::testing::{Party, Pki, SOFTHSM_MODULE, TOKEN_LABEL};
use reqwest::StatusCode;
use time::macros::datetime;

const CHILD: &str = "MOTCUA_SIGNATURES_BT_TEST_DIR";
const PIN_ENV: &str = "MOTCUA_TEST_CENTRE_PIN";
/// When every certificate revoked here was revoked.
const REVOKED_SINCE: &str = "2021-06-01T00:00:00+0000";

/// The Certomancer configuration: a root, a TSA, and certificates for the agency's key:
/// good (OCSP and CRL), revoked (OCSP and CRL), revoked (CRL only), good (CRL only), and one
/// whose only source is OCSP, asked for the first time once the services are down.
fn certomancer_config(port: u16) -> String {
    let leaf = |name: &str, ocsp: bool, crl: bool, revoked: bool| {
        let mut s = format!(
            "      {name}:\n        subject: signer\n        subject-key: signer\n        issuer: root\n        validity: {{valid-from: \"2020-01-01T00:00:00+0000\", valid-to: \"2050-01-01T00:00:00+0000\"}}\n        extensions:\n          - id: key_usage\n            critical: true\n            smart-value: {{schema: key-usage, params: [digital_signature, non_repudiation]}}\n"
        );
        if crl {
            s.push_str("          - id: crl_distribution_points\n            smart-value: {schema: crl-dist-url, params: {crl-repo-names: [root]}}\n");
        }
        if ocsp {
            s.push_str("          - id: authority_information_access\n            smart-value: {schema: aia-urls, params: {ocsp-responder-names: [root]}}\n");
        }
        if revoked {
            s.push_str(&format!(
                "        revocation: {{revoked-since: \"{REVOKED_SINCE}\", reason: key_compromise}}\n"
            ));
        }
        s
    };
    format!(
        r#"external-url-prefix: "http://127.0.0.1:{port}"
keysets:
  motcua:
    path-prefix: .
    keys:
      root: {{path: root.key.pem}}
      tsa: {{path: tsa.key.pem}}
      signer: {{path: signer.key.pem}}
pki-architectures:
  motcua:
    keyset: motcua
    entity-defaults: {{country-name: VN, organization-name: "CA thử nghiệm Certomancer"}}
    entities:
      root: {{common-name: "Gốc thử nghiệm Certomancer"}}
      tsa: {{common-name: "Máy chủ dấu thời gian thử nghiệm"}}
      signer: {{common-name: "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận", organization-name: "UBND tỉnh Ninh Thuận"}}
    certs:
      root:
        subject: root
        issuer: root
        validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2050-01-01T00:00:00+0000"}}
        extensions:
          - {{id: basic_constraints, critical: true, value: {{ca: true}}}}
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature, key_cert_sign, crl_sign]}}
      tsa:
        issuer: root
        validity: {{valid-from: "2020-01-01T00:00:00+0000", valid-to: "2050-01-01T00:00:00+0000"}}
        extensions:
          - id: key_usage
            critical: true
            smart-value: {{schema: key-usage, params: [digital_signature]}}
          - {{id: extended_key_usage, critical: true, value: [time_stamping]}}
          - id: crl_distribution_points
            smart-value: {{schema: crl-dist-url, params: {{crl-repo-names: [root]}}}}
{good}{revoked}{crl_revoked}{crl_good}{late}    services:
      ocsp:
        root: {{for-issuer: root, responder-cert: root, signing-key: root}}
      crl-repo:
        root: {{for-issuer: root, signing-key: root, simulated-update-schedule: "P90D"}}
      time-stamping:
        tsa: {{signing-key: tsa, signing-cert: tsa}}
"#,
        good = leaf("signer", true, true, false),
        revoked = leaf("signer-revoked", true, true, true),
        crl_revoked = leaf("signer-crl-revoked", false, true, true),
        crl_good = leaf("signer-crl", false, true, false),
        late = leaf("signer-late", true, false, false),
    )
}

/// Certomancer's Animator on loopback, stopped when dropped.
struct Certomancer {
    child: Option<Child>,
    port: u16,
    /// Where the certificates are (`<name>.cert.pem`).
    certs: PathBuf,
}

impl Certomancer {
    /// Writes the configuration and keys in `dir` (the signer's key is `key`), dumps the
    /// certificates, and starts the services; waits until they answer.
    fn start(dir: &Path, key: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("dir");
        for name in ["root", "tsa"] {
            let status = Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                ])
                .arg(dir.join(format!("{name}.key.pem")))
                .stderr(Stdio::null())
                .status()
                .expect("openssl");
            assert!(status.success());
        }
        std::fs::copy(key, dir.join("signer.key.pem")).expect("key copied");
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("addr").port()
        };
        let config = dir.join("certomancer.yml");
        std::fs::write(&config, certomancer_config(port)).expect("config");
        let out = dir.join("certs");
        let status = Command::new(venv_bin("certomancer"))
            .arg("--config")
            .arg(&config)
            .args(["mass-summon", "motcua"])
            .arg(&out)
            .stderr(Stdio::null())
            .status()
            .expect("certomancer (scripts/deps.sh installs it)");
        assert!(status.success(), "certomancer mass-summon");
        let child = Command::new(venv_bin("certomancer"))
            .arg("--config")
            .arg(&config)
            .args(["animate", "--no-web-ui", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("certomancer animate");
        let me = Self {
            child: Some(child),
            port,
            certs: out.join("root"),
        };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return me;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("certomancer does not listen on {port}");
    }

    fn cert(&self, name: &str) -> PathBuf {
        self.certs.join(format!("{name}.cert.pem"))
    }

    fn tsa_url(&self) -> String {
        format!("http://127.0.0.1:{}/motcua/tsa/tsa", self.port)
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Certomancer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `victim` with the time-stamp token of `donor`'s signature in place of its own, by
/// asn1crypto (pyHanko's ASN.1 library): the signature bytes stay the same.
fn swap_timestamp(dir: &Path, victim: &[u8], donor: &[u8]) -> Vec<u8> {
    let (v, d, out) = (dir.join("victim.pdf"), dir.join("donor.pdf"), dir.join("forged.pdf"));
    std::fs::write(&v, victim).expect("write");
    std::fs::write(&d, donor).expect("write");
    // Each level is set again so that asn1crypto re-encodes only what changed: the signed
    // attributes keep their bytes, so the signature stays intact.
    let script = r#"
import binascii, re, sys
from asn1crypto import cms
def sig(pdf):
    m = re.search(rb'/Contents\s*<([0-9A-Fa-f]+)>', pdf)
    return m, cms.ContentInfo.load(binascii.unhexlify(m.group(1)), strict=False)
victim = open(sys.argv[1], 'rb').read()
donor = open(sys.argv[2], 'rb').read()
m, info = sig(victim)
_, other = sig(donor)
token = other['content']['signer_infos'][0]['unsigned_attrs'][0]['values'][0]
signed_data = info['content']
infos = signed_data['signer_infos']
signer = infos[0]
assert signer['unsigned_attrs'][0]['type'].native == 'signature_time_stamp_token'
before = signer['signed_attrs'].dump()
signer['unsigned_attrs'] = cms.CMSAttributes([
    cms.CMSAttribute({'type': 'signature_time_stamp_token', 'values': [token]})])
infos[0] = signer
signed_data['signer_infos'] = infos
info['content'] = signed_data
new = binascii.hexlify(info.dump()).upper()
assert signer['signed_attrs'].dump() == before
room = len(m.group(1))
assert len(new) <= room
forged = victim[:m.start(1)] + new + b'0' * (room - len(new)) + victim[m.end(1):]
assert forged != victim
open(sys.argv[3], 'wb').write(forged)
"#;
    let status = Command::new(venv_bin("python"))
        .args(["-c", script])
        .arg(&v)
        .arg(&d)
        .arg(&out)
        .status()
        .expect("python");
    assert!(status.success(), "the time-stamp swap");
    std::fs::read(&out).expect("read")
}

/// The receipt of a new dossier at the counter, once issued.
async fn receipt(app: &common::TestApp, counter: &common::Session) -> (String, Vec<u8>) {
    let filed = file_at_counter(app, counter, LLTP).await;
    let code = code_of(&filed);
    issued_forms(app, &code, "receipt", |r| r.kind == "receipt").await;
    let (status, _, pdf) = download(
        app,
        Some(counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    (code, pdf)
}

#[tokio::test]
async fn time_stamps_and_revocation_with_certomancer_services() {
    let Some(dir) = in_child("time_stamps_and_revocation_with_certomancer_services", CHILD, PIN_ENV) else {
        return;
    };
    let pki = Pki::load(&dir);
    let mut services = Certomancer::start(&dir.join("certomancer"), &pki.agency.key);
    let anchors = dir.join("certomancer-anchors");
    std::fs::create_dir_all(&anchors).expect("dir");
    std::fs::copy(services.cert("root"), anchors.join("root.pem")).expect("root");
    let (signer_cert, tsa_url) = (services.cert("signer"), services.tsa_url());
    let app = spawn_app_at_with(datetime!(2026-02-13 09:00 +07:00), move |c| {
        c.signing_keys = vec![SigningKey {
            agency: CENTRE.to_owned(),
            user: String::new(),
            module: PathBuf::from(SOFTHSM_MODULE),
            token_label: TOKEN_LABEL.to_owned(),
            slot: None,
            key_label: "agency".to_owned(),
            pin_env: PIN_ENV.to_owned(),
            certificate_file: signer_cert,
        }];
        c.trust_anchors_dir = anchors;
        c.tsa_url = tsa_url;
    })
    .await;
    let counter = sign_in(&app, "tiepnhan").await;

    // (a) B-T: a receipt signed with the TSA's time-stamp.
    let (_, pdf) = receipt(&app, &counter).await;
    let path = dir.join("receipt.pdf");
    std::fs::write(&path, &pdf).expect("written");
    let root = services.cert("root").display().to_string();
    // pyHanko, revocation included (it asks the same OCSP responder and CRL).
    let (ok, text) = pyhanko(
        &[
            "sign",
            "validate",
            "--pretty-print",
            "--trust-replace",
            "--trust",
            &root,
        ],
        &[&path],
    );
    assert!(ok, "pyHanko rejects the time-stamped receipt:\n{text}");
    for said in [
        "The signature is cryptographically sound.",
        "The signer's certificate is trusted.",
        "The signature is judged VALID.",
        "Signature timestamp token: ",
        "The timestamp token is cryptographically sound.",
        "TSA certificate subject: \"Common Name: Máy chủ dấu thời gian thử nghiệm",
        "The TSA certificate is trusted.",
        "The signature covers the entire file.",
    ] {
        assert!(text.contains(said), "pyHanko does not say {said:?}:\n{text}");
    }
    let v = verify_api(&app, &pdf).await;
    let sig = &v["signatures"][0];
    assert_eq!(sig["verdict"], "valid", "{v}");
    assert_eq!(sig["timestamp"]["valid"], true, "{v}");
    assert_eq!(sig["timestamp"]["trusted"], true, "{v}");
    assert_eq!(sig["timestamp"]["authority"], "Máy chủ dấu thời gian thử nghiệm", "{v}");
    // The signing time is the TSA's (the real clock), not the stamp's (the test's clock).
    assert_eq!(sig["signed_at"], sig["timestamp"]["time"], "{v}");
    assert!(
        !sig["signed_at"].as_str().is_some_and(|t| t.starts_with("2026-02-13")),
        "{v}"
    );
    assert_eq!(sig["revocation"], "good", "{v}");
    assert!(
        sig["summary"].as_str().is_some_and(|s| s
            .contains("(theo dấu thời gian của Máy chủ dấu thời gian thử nghiệm)")
            && s.contains("Chứng thư số chưa bị thu hồi (đã tra cứu OCSP).")),
        "{sig}"
    );
    let page = verify_page(&app, "f.pdf", &pdf).await.1;
    assert!(
        page.contains("Dấu thời gian hợp lệ của Máy chủ dấu thời gian thử nghiệm"),
        "{page}"
    );

    // (c) The token of another signature in place of this one's: the time-stamp is invalid.
    let (_, other) = receipt(&app, &counter).await;
    let forged = swap_timestamp(&dir, &pdf, &other);
    let v = verify_api(&app, &forged).await;
    let sig = &v["signatures"][0];
    assert_eq!(sig["intact"], true, "the signed bytes are untouched: {v}");
    assert_eq!(sig["timestamp"]["valid"], false, "{v}");
    assert_eq!(sig["verdict"], "invalid", "{v}");
    assert!(
        sig["reason"]
            .as_str()
            .is_some_and(|r| r.contains("dấu thời gian không phải của chữ ký này")),
        "{v}"
    );
    let page = verify_page(&app, "f.pdf", &forged).await.1;
    assert!(
        page.contains("Dấu thời gian không hợp lệ: dấu thời gian không phải của chữ ký này."),
        "{page}"
    );
    // pyHanko agrees: the signature is sound, its time-stamp is not.
    let forged_path = dir.join("forged-receipt.pdf");
    std::fs::write(&forged_path, &forged).expect("written");
    let (_, text) = pyhanko(
        &[
            "sign",
            "validate",
            "--pretty-print",
            "--trust-replace",
            "--trust",
            &root,
        ],
        &[&forged_path],
    );
    assert!(text.contains("The signature is cryptographically sound."), "{text}");
    assert!(
        text.contains("The timestamp token is cryptographically unsound."),
        "{text}"
    );

    // (b) Revocation, on documents pyHanko signs with the same key under other certificates.
    let unsigned = {
        let n = pdf
            .windows(5)
            .position(|w| w == b"%%EOF")
            .expect("the first revision ends");
        pdf[..n + 6].to_vec()
    };
    let certs = services.certs.clone();
    let party = |name: &str| Party {
        key: pki.agency.key.clone(),
        cert: certs.join(format!("{name}.cert.pem")),
        label: name.to_owned(),
        common_name: pki.agency.common_name.clone(),
        organisation: pki.agency.organisation.clone(),
    };
    for (cert, source) in [("signer-revoked", "OCSP"), ("signer-crl-revoked", "CRL")] {
        let signed = pyhanko_sign(&dir, &unsigned, &party(cert));
        let v = verify_api(&app, &signed).await;
        let sig = &v["signatures"][0];
        assert_eq!(sig["verdict"], "revoked", "{cert} ({source}): {v}");
        assert_eq!(sig["revocation"], "revoked", "{v}");
        assert_eq!(sig["revoked_at"], "2021-06-01T00:00:00Z", "{v}");
        let page = verify_page(&app, "f.pdf", &signed).await.1;
        assert!(page.contains("data-verdict=\"revoked\""), "{page}");
        assert!(
            page.contains("không còn giá trị: chứng thư số Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận đã bị thu hồi ngày 01/06/2021"),
            "{page}"
        );
    }
    // Signed and time-stamped by pyHanko (the same TSA), under a certificate with a CRL only:
    // motcua reads pyHanko's time-stamp and the CRL.
    let tsa = services.tsa_url();
    let signed = pyhanko_sign_with(&dir, &unsigned, &party("signer-crl"), &["--timestamp-url", &tsa]);
    let v = verify_api(&app, &signed).await;
    assert_eq!(v["signatures"][0]["verdict"], "valid", "{v}");
    assert_eq!(v["signatures"][0]["timestamp"]["valid"], true, "{v}");
    assert_eq!(v["signatures"][0]["timestamp"]["trusted"], true, "{v}");
    assert_eq!(v["signatures"][0]["revocation"], "good", "{v}");
    assert!(
        v["signatures"][0]["revocation_detail"]
            .as_str()
            .is_some_and(|d| d.contains("CRL")),
        "{v}"
    );
    let page = verify_page(&app, "f.pdf", &signed).await.1;
    assert!(
        page.contains("Chứng thư số chưa bị thu hồi (đã tra cứu CRL)."),
        "{page}"
    );

    // The services down: a certificate never asked about before is not checked, and says
    // why; the TSA is down too, so a new receipt is not issued (and not without its stamp).
    services.stop();
    let signed = pyhanko_sign(&dir, &unsigned, &party("signer-late"));
    let v = verify_api(&app, &signed).await;
    let sig = &v["signatures"][0];
    assert_eq!(sig["verdict"], "valid", "{v}");
    assert_eq!(sig["revocation"], "not_checked", "{v}");
    assert!(
        sig["revocation_detail"].as_str().is_some_and(|d| d
            .starts_with("Chưa kiểm tra được tình trạng thu hồi chứng thư số: ")
            && d.contains("không kết nối được tới http://127.0.0.1:")),
        "{v}"
    );
    let page = verify_page(&app, "f.pdf", &signed).await.1;
    assert!(
        page.contains("Chưa kiểm tra được tình trạng thu hồi chứng thư số"),
        "{page}"
    );

    let filed = file_at_counter(&app, &counter, LLTP).await;
    let code = code_of(&filed);
    let (status, _, body) = download(
        &app,
        Some(&counter),
        &format!("/api/v1/dossiers/{code}/forms/receipt.pdf"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        String::from_utf8_lossy(&body)
    );
}
