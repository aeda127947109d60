//! A throw-away PKI and SoftHSM2 token for tests (feature `testing`): a test CA, an agency
//! certificate (RSA) and a leader's certificate (ECDSA P-256) under it, a signer under an
//! unknown CA, and a token holding the agency's and leader's keys. Made with the `openssl`
//! and `softhsm2-util` commands (Debian's `openssl` and `softhsm2`), in a directory the
//! caller owns.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when the module is initialised, and the signer reads the
//! PIN from the environment: a test sets both for the process that signs (see
//! [`Pki::environment`]), e.g. by running itself again as a child with them set.

use std::path::{Path, PathBuf};
use std::process::Command;

use cryptoki::object::{Attribute, CertificateType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use der::{Decode, Encode};
use x509_cert::Certificate;

use crate::{SignError, TokenConfig};

/// Debian's SoftHSM2 module.
pub const SOFTHSM_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The label of the test token.
pub const TOKEN_LABEL: &str = "motcua-test";
/// The test token's user PIN.
pub const PIN: &str = "246810";
const SO_PIN: &str = "13579111";
/// Certificates are valid from this date, so that tests with a clock in the past still
/// sign within their validity.
const START: &str = "20200101000000Z";
const END: &str = "20451231000000Z";

/// The file name, CN and O of the agency, the leader and the stranger.
const PARTIES: [(&str, &str, &str); 3] = [
    (
        "agency",
        "Trung tâm Phục vụ hành chính công tỉnh Ninh Thuận",
        "UBND tỉnh Ninh Thuận",
    ),
    ("leader", "Nguyễn Thị Hường", "Sở Tư pháp tỉnh Ninh Thuận"),
    ("stranger", "Người lạ", "Tổ chức không rõ"),
];

/// One key holder: key, certificate and names.
#[derive(Debug, Clone)]
pub struct Party {
    /// The private key (PKCS#8 PEM).
    pub key: PathBuf,
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// The key's label on the token (when imported).
    pub label: String,
    /// The certificate's CN.
    pub common_name: String,
    /// The certificate's O.
    pub organisation: String,
}

/// The test PKI and token.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The directory everything lives in.
    pub dir: PathBuf,
    /// The test CA's certificate (PEM): the trust anchor.
    pub ca: PathBuf,
    /// The directory holding only the test CA: what a server is configured with.
    pub anchors: PathBuf,
    /// The agency (RSA 2048), key on the token.
    pub agency: Party,
    /// The leader (ECDSA P-256), key on the token.
    pub leader: Party,
    /// A signer under a CA nobody trusts (not on the token).
    pub stranger: Party,
    /// The SoftHSM2 configuration to put in `SOFTHSM2_CONF`.
    pub softhsm_conf: PathBuf,
}

fn run(cmd: &mut Command) -> Result<(), SignError> {
    let out = cmd
        .output()
        .map_err(|e| SignError::Token(format!("cannot run {:?}: {e}", cmd.get_program())))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(SignError::Token(format!(
            "{:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

fn ca_config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "[ca]\ndefault_ca = ca_default\n[ca_default]\ndir = {d}\ndatabase = {d}/index.txt\n\
         new_certs_dir = {d}/newcerts\nserial = {d}/serial\ndefault_md = sha256\npolicy = policy_any\n\
         unique_subject = no\nemail_in_dn = no\nutf8 = yes\nstring_mask = utf8only\n\
         [policy_any]\ncountryName = optional\norganizationName = optional\ncommonName = supplied\n\
         [req]\ndistinguished_name = dn\nutf8 = yes\nstring_mask = utf8only\n[dn]\n\
         [v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
         subjectKeyIdentifier = hash\n\
         [v3_leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n\
         subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
    )
}

/// A CA in `dir`: its configuration, key and self-signed certificate.
fn make_ca(dir: &Path, name: &str) -> Result<PathBuf, SignError> {
    std::fs::create_dir_all(dir.join("newcerts")).map_err(io)?;
    std::fs::write(dir.join("index.txt"), "").map_err(io)?;
    std::fs::write(dir.join("serial"), "1000\n").map_err(io)?;
    std::fs::write(dir.join("ca.cnf"), ca_config(dir)).map_err(io)?;
    let cnf = dir.join("ca.cnf");
    run(Command::new("openssl")
        .args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-utf8", "-config"])
        .arg(&cnf)
        .arg("-keyout")
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(dir.join("ca.csr"))
        .args(["-subj", &format!("/C=VN/O=motcua thử nghiệm/CN={name}")]))?;
    run(Command::new("openssl")
        .args(["ca", "-batch", "-notext", "-utf8", "-selfsign", "-config"])
        .arg(&cnf)
        .arg("-keyfile")
        .arg(dir.join("ca.key"))
        .arg("-in")
        .arg(dir.join("ca.csr"))
        .arg("-out")
        .arg(dir.join("ca.pem"))
        .args(["-startdate", START, "-enddate", END, "-extensions", "v3_ca"]))?;
    Ok(dir.join("ca.pem"))
}

/// A key and a certificate for `cn` of `o`, issued by the CA in `ca_dir`.
fn make_party(dir: &Path, ca_dir: &Path, file: &str, cn: &str, o: &str, ec: bool) -> Result<Party, SignError> {
    let key = dir.join(format!("{file}.key"));
    let csr = dir.join(format!("{file}.csr"));
    let cert = dir.join(format!("{file}.pem"));
    let mut req = Command::new("openssl");
    req.args(["req", "-new", "-nodes", "-utf8", "-config"])
        .arg(ca_dir.join("ca.cnf"));
    if ec {
        req.args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    } else {
        req.args(["-newkey", "rsa:2048"]);
    }
    run(req
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .args(["-subj", &format!("/C=VN/O={o}/CN={cn}")]))?;
    run(Command::new("openssl")
        .args(["ca", "-batch", "-notext", "-utf8", "-config"])
        .arg(ca_dir.join("ca.cnf"))
        .arg("-cert")
        .arg(ca_dir.join("ca.pem"))
        .arg("-keyfile")
        .arg(ca_dir.join("ca.key"))
        .arg("-in")
        .arg(&csr)
        .arg("-out")
        .arg(&cert)
        .args(["-startdate", START, "-enddate", END, "-extensions", "v3_leaf"]))?;
    Ok(Party {
        key,
        cert,
        label: file.to_owned(),
        common_name: cn.to_owned(),
        organisation: o.to_owned(),
    })
}

fn io(e: std::io::Error) -> SignError {
    SignError::Token(e.to_string())
}

impl Pki {
    /// Creates the PKI and the token in `dir` (which should be empty).
    pub fn create(dir: &Path) -> Result<Self, SignError> {
        let ca_dir = dir.join("ca");
        let ca = make_ca(&ca_dir, "CA thử nghiệm motcua")?;
        let unknown_dir = dir.join("unknown-ca");
        make_ca(&unknown_dir, "CA không ai tin")?;
        let [(a, a_cn, a_o), (l, l_cn, l_o), (s, s_cn, s_o)] = PARTIES;
        let agency = make_party(dir, &ca_dir, a, a_cn, a_o, false)?;
        let leader = make_party(dir, &ca_dir, l, l_cn, l_o, true)?;
        let stranger = make_party(dir, &unknown_dir, s, s_cn, s_o, false)?;
        let anchors = dir.join("anchors");
        std::fs::create_dir_all(&anchors).map_err(io)?;
        std::fs::copy(&ca, anchors.join("ca.pem")).map_err(io)?;

        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).map_err(io)?;
        let softhsm_conf = dir.join("softhsm2.conf");
        std::fs::write(
            &softhsm_conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .map_err(io)?;
        run(Command::new("softhsm2-util").env("SOFTHSM2_CONF", &softhsm_conf).args([
            "--init-token",
            "--free",
            "--label",
            TOKEN_LABEL,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ]))?;
        for (party, id) in [(&agency, "01"), (&leader, "02")] {
            run(Command::new("softhsm2-util")
                .env("SOFTHSM2_CONF", &softhsm_conf)
                .arg("--import")
                .arg(&party.key)
                .args([
                    "--token",
                    TOKEN_LABEL,
                    "--label",
                    &party.label,
                    "--id",
                    id,
                    "--pin",
                    PIN,
                ]))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
            ca,
            anchors,
            agency,
            leader,
            stranger,
            softhsm_conf,
        })
    }

    /// The PKI made by [`Pki::create`] in `dir`, for a child process.
    pub fn load(dir: &Path) -> Self {
        let party = |(file, cn, o): (&str, &str, &str)| Party {
            key: dir.join(format!("{file}.key")),
            cert: dir.join(format!("{file}.pem")),
            label: file.to_owned(),
            common_name: cn.to_owned(),
            organisation: o.to_owned(),
        };
        let [agency, leader, stranger] = PARTIES;
        Self {
            dir: dir.to_owned(),
            ca: dir.join("ca/ca.pem"),
            anchors: dir.join("anchors"),
            agency: party(agency),
            leader: party(leader),
            stranger: party(stranger),
            softhsm_conf: dir.join("softhsm2.conf"),
        }
    }

    /// The environment a signing process needs: `SOFTHSM2_CONF` and the PIN in `pin_env`.
    pub fn environment(&self, pin_env: &str) -> Vec<(String, String)> {
        vec![
            ("SOFTHSM2_CONF".to_owned(), self.softhsm_conf.display().to_string()),
            (pin_env.to_owned(), PIN.to_owned()),
        ]
    }

    /// The configuration of `party`'s key on the test token, the certificate read from the
    /// token (after [`Pki::put_certificate_on_token`]) or, with `from_file`, from its file.
    pub fn token_config(&self, party: &Party, pin_env: &str, from_file: bool) -> TokenConfig {
        TokenConfig {
            module: PathBuf::from(SOFTHSM_MODULE),
            token_label: Some(TOKEN_LABEL.to_owned()),
            slot: None,
            key_label: party.label.clone(),
            pin_env: pin_env.to_owned(),
            certificate_file: from_file.then(|| party.cert.clone()),
        }
    }

    /// Stores `party`'s certificate on the token under its key's label. Runs in the process
    /// that has `SOFTHSM2_CONF` set.
    pub fn put_certificate_on_token(&self, party: &Party) -> Result<(), SignError> {
        let ctx = crate::token::module(Path::new(SOFTHSM_MODULE))?;
        let slot = ctx
            .get_slots_with_token()
            .map_err(|e| SignError::Token(e.to_string()))?
            .into_iter()
            .find(|s| {
                ctx.get_token_info(*s)
                    .is_ok_and(|i| i.label().trim_end() == TOKEN_LABEL)
            })
            .ok_or_else(|| SignError::Token("no test token".to_owned()))?;
        let session = ctx.open_rw_session(slot).map_err(|e| SignError::Token(e.to_string()))?;
        session
            .login(UserType::User, Some(&AuthPin::from(PIN.to_owned())))
            .map_err(|e| SignError::Token(e.to_string()))?;
        let pem = std::fs::read(&party.cert).map_err(io)?;
        let cert = Certificate::load_pem_chain(&pem)?
            .into_iter()
            .next()
            .ok_or_else(|| SignError::Token("no certificate".to_owned()))?;
        let der = cert.to_der()?;
        let subject = cert.tbs_certificate().subject().to_der()?;
        session
            .create_object(&[
                Attribute::Class(ObjectClass::CERTIFICATE),
                Attribute::CertificateType(CertificateType::X_509),
                Attribute::Token(true),
                Attribute::Label(party.label.as_bytes().to_vec()),
                Attribute::Subject(subject),
                Attribute::Value(der),
            ])
            .map_err(|e| SignError::Token(e.to_string()))?;
        Ok(())
    }

    /// The test CA as trust anchors.
    pub fn trust_anchors(&self) -> Result<crate::TrustAnchors, SignError> {
        crate::TrustAnchors::load_dir(&self.anchors)
    }
}

/// Decodes one PEM certificate file (for assertions).
pub fn certificate(path: &Path) -> Result<Certificate, SignError> {
    let pem = std::fs::read(path).map_err(io)?;
    let mut all = Certificate::load_pem_chain(&pem)?;
    if all.is_empty() {
        return Err(SignError::Token("no certificate".to_owned()));
    }
    let first = all.remove(0);
    // Round-trip through DER so that a malformed file fails here, not in the test.
    Ok(Certificate::from_der(&first.to_der()?)?)
}

/// A PDF of `objects` (object `i + 1` is `objects[i]`, the first the catalog) with a
/// classic cross-reference table; `trailer` is added to the trailer dictionary (e.g. an
/// `/ID`). The small stand-in for a form that signing tests start from.
pub fn pdf_of_objects(objects: &[String], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<</Size {}/Root 1 0 R{trailer}>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}
